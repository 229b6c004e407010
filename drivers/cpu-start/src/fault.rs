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

impl Fault {
    /// Exception class name from ESR_EL1.EC.
    pub fn class(&self) -> &'static str {
        match (self.esr >> 26) & 0x3f {
            0x00 => "unknown reason",
            0x07 => "FP/SIMD access trap",
            0x0e => "illegal execution state",
            0x15 => "SVC",
            0x18 => "system register trap",
            0x20 | 0x21 => "instruction abort",
            0x22 => "PC alignment fault",
            0x24 | 0x25 => "data abort",
            0x26 => "SP alignment fault",
            0x2f => "SError",
            0x3c => "BRK",
            _ => "other exception",
        }
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
