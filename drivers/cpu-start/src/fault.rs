//! Exception vectors that report and stop: used while nothing is expected to
//! trap, so any exception is a fault worth a readable one-line report.

use core::fmt;

/// Assembly for a 2 KiB-aligned vector table named `$table` whose 16
/// entries each call `$entry` with x0 = entry index (0..16), x1 = ESR_EL1,
/// x2 = FAR_EL1, x3 = ELR_EL1. `$entry` must not return.
#[macro_export]
macro_rules! exception_vectors_asm {
    ($table:literal, $entry:literal) => {
        concat!(
            ".section .text.vectors, \"ax\"\n",
            ".balign 2048\n",
            ".global ",
            $table,
            "\n",
            $table,
            ":\n",
            ".set vector_index, 0\n",
            ".rept 16\n",
            ".balign 128\n",
            "mov x0, #vector_index\n",
            "mrs x1, esr_el1\n",
            "mrs x2, far_el1\n",
            "mrs x3, elr_el1\n",
            "b ",
            $entry,
            "\n",
            ".set vector_index, vector_index + 1\n",
            ".endr\n",
            ".text\n",
        )
    };
}

/// Points VBAR_EL1 at a table made by [`exception_vectors_asm`].
///
/// # Safety
/// `table` must be the address of such a table, mapped executable for as
/// long as exceptions can happen.
pub unsafe fn set_vector_base(table: usize) {
    // SAFETY: the caller vouches for the table; writing VBAR_EL1 has no other effect.
    unsafe { core::arch::asm!("msr vbar_el1, {}", "isb", in(reg) table, options(nostack)) };
}

/// A taken exception, as the vector entry saw it.
#[derive(Debug, Clone, Copy)]
pub struct Fault {
    /// Vector entry index (0..16).
    pub vector: u64,
    pub esr: u64,
    pub far: u64,
    pub elr: u64,
}

/// What an exception was, from ESR_EL1.EC (`aarch64-cpu`'s field values):
/// the one decoding of the syndrome, for the kernel's fault report and for
/// the scheduler's handling of a program's exceptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Unknown,
    /// A trapped WFI or WFE.
    Wait,
    FpAccess,
    IllegalState,
    /// `svc` from AArch64: a system call.
    Svc,
    SystemRegister,
    /// Instruction abort, from a lower EL (`lower`) or this one.
    InstructionAbort {
        lower: bool,
    },
    PcAlignment,
    /// Data abort, from a lower EL (`lower`) or this one; `alignment`: the
    /// fault status code says an alignment fault (DFSC 0b100001).
    DataAbort {
        lower: bool,
        alignment: bool,
    },
    SpAlignment,
    SError,
    Breakpoint,
    Other,
}

impl Class {
    pub fn of(esr: u64) -> Class {
        use aarch64_cpu::registers::ESR_EL1::{self, EC::Value as Ec};
        use tock_registers::LocalRegisterCopy;
        let r: LocalRegisterCopy<u64, ESR_EL1::Register> = LocalRegisterCopy::new(esr);
        let dfsc = esr & 0x3f;
        match r.read_as_enum(ESR_EL1::EC) {
            Some(Ec::Unknown) => Class::Unknown,
            Some(Ec::TrappedWFIorWFE) => Class::Wait,
            Some(Ec::TrappedFP) => Class::FpAccess,
            Some(Ec::IllegalExecutionState) => Class::IllegalState,
            Some(Ec::SVC64) => Class::Svc,
            Some(Ec::TrappedMsrMrs) => Class::SystemRegister,
            Some(Ec::InstrAbortLowerEL) => Class::InstructionAbort { lower: true },
            Some(Ec::InstrAbortCurrentEL) => Class::InstructionAbort { lower: false },
            Some(Ec::PCAlignmentFault) => Class::PcAlignment,
            Some(Ec::DataAbortLowerEL) => Class::DataAbort { lower: true, alignment: dfsc == 0x21 },
            Some(Ec::DataAbortCurrentEL) => Class::DataAbort { lower: false, alignment: dfsc == 0x21 },
            Some(Ec::SPAlignmentFault) => Class::SpAlignment,
            Some(Ec::SError) => Class::SError,
            Some(Ec::Brk64) => Class::Breakpoint,
            _ => Class::Other,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Class::Unknown => "unknown reason",
            Class::Wait => "WFI/WFE trap",
            Class::FpAccess => "FP/SIMD access trap",
            Class::IllegalState => "illegal execution state",
            Class::Svc => "SVC",
            Class::SystemRegister => "system register trap",
            Class::InstructionAbort { .. } => "instruction abort",
            Class::PcAlignment => "PC alignment fault",
            Class::DataAbort { .. } => "data abort",
            Class::SpAlignment => "SP alignment fault",
            Class::SError => "SError",
            Class::Breakpoint => "BRK",
            Class::Other => "other exception",
        }
    }
}

impl Fault {
    /// Exception class name from ESR_EL1.EC.
    pub fn class(&self) -> &'static str {
        Class::of(self.esr).name()
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = ["synchronous", "IRQ", "FIQ", "SError"][(self.vector % 4) as usize];
        let from = ["EL1 with SP0", "EL1", "EL0 AArch64", "EL0 AArch32"][((self.vector / 4) % 4) as usize];
        write!(
            f,
            "{kind} exception from {from}: {} (ESR {:#x}) FAR {:#x} ELR {:#x}",
            self.class(),
            self.esr,
            self.far,
            self.elr
        )
    }
}
