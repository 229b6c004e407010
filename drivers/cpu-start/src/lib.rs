//! Starting a core the way the device tree says: PSCI `CPU_ON` through the
//! named conduit (HVC or SMC), or the spin-table protocol (write the entry
//! point to the core's release address, then `sev`). Used by the boot driver
//! for each node's first core and by each node for the rest of its cluster.
//!
//! It also holds what every core's first instructions share between the boot
//! image and the CPU driver: leaving EL2 ([`el2_to_el1_asm`]) and the
//! exception vector table ([`exception_vectors_asm`], [`Fault`]).

#![no_std]

mod fault;
pub use fault::{set_vector_base, Class, Fault};

use core::fmt;
use smccc::psci;
use smccc::{Hvc, Smc};

/// The instruction that reaches PSCI firmware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conduit {
    Hvc,
    Smc,
}

/// How to start one core.
#[derive(Debug, Clone, Copy)]
pub enum Method {
    Psci(Conduit),
    /// The core spins (MMU off) on this mapped 64-bit release word.
    SpinTable {
        release: *mut u64,
    },
}

/// Why a core did not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartError {
    Psci(psci::error::Error),
    /// Spin-table core whose release address is not mapped.
    NoReleaseAddress,
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Psci(e) => write!(f, "PSCI CPU_ON failed: {e:?}"),
            StartError::NoReleaseAddress => write!(f, "spin-table core has no mapped release address"),
        }
    }
}

/// This core's MPIDR_EL1 affinity fields (Aff3..Aff0, as a device tree's
/// cpu `reg` writes them) and its MT bit.
pub fn current_mpidr() -> (u64, bool) {
    let m: u64;
    // SAFETY: reading MPIDR_EL1 has no side effects.
    unsafe { core::arch::asm!("mrs {}, mpidr_el1", out(reg) m, options(nomem, nostack, preserves_flags)) };
    (m & handoff::MPIDR_AFFINITY, m & (1 << 24) != 0)
}

/// Starts core `mpidr` at physical `entry` with `context` in x0 (PSCI only;
/// spin-table cores enter with x0 = 0 and must find their context themselves).
pub fn start(method: Method, mpidr: u64, entry: u64, context: u64) -> Result<(), StartError> {
    match method {
        Method::Psci(Conduit::Hvc) => psci::cpu_on::<Hvc>(mpidr, entry, context).map_err(StartError::Psci),
        Method::Psci(Conduit::Smc) => psci::cpu_on::<Smc>(mpidr, entry, context).map_err(StartError::Psci),
        Method::SpinTable { release } => {
            if release.is_null() {
                return Err(StartError::NoReleaseAddress);
            }
            // SAFETY: the caller mapped `release` (device memory, so the write
            // reaches RAM where the spinning core, MMU off, reads it).
            unsafe { release.write_volatile(entry) };
            // SAFETY: barriers and SEV have no memory-safety preconditions.
            unsafe { core::arch::asm!("dsb sy", "sev", options(nostack, preserves_flags)) };
            Ok(())
        }
    }
}

/// Powers the machine off through PSCI `SYSTEM_OFF`; returns only on failure.
pub fn system_off(conduit: Conduit) -> psci::error::Error {
    let result = match conduit {
        Conduit::Hvc => psci::system_off::<Hvc>(),
        Conduit::Smc => psci::system_off::<Smc>(),
    };
    match result {
        Ok(()) => psci::error::Error::NotSupported,
        Err(e) => e,
    }
}

/// Assembly that brings a core entered at EL2 or EL1 to EL1 (AArch64,
/// interrupts masked, EL1 access to the counters and, where implemented,
/// the GICv3 system registers) with FP/SIMD usable (Rust code uses it), and
/// falls through. Uses x9 and local labels 7 and 8. Shared by the boot image
/// entry and the CPU-driver entry.
#[macro_export]
macro_rules! el2_to_el1_asm {
    () => {
        "
        mrs     x9, CurrentEL
        cmp     x9, #(2 << 2)
        b.ne    8f
        mov     x9, #(1 << 31)
        msr     hcr_el2, x9
        mrs     x9, cnthctl_el2
        orr     x9, x9, #3
        msr     cnthctl_el2, x9
        msr     cntvoff_el2, xzr
        mrs     x9, id_aa64pfr0_el1
        ubfx    x9, x9, #24, #4
        cbz     x9, 7f
        mov     x9, #0xf
        msr     icc_sre_el2, x9
        isb
7:
        mov     x9, #0x33ff
        msr     cptr_el2, x9
        mov     x9, #0x0800
        movk    x9, #0x30d0, lsl #16
        msr     sctlr_el1, x9
        mov     x9, #0x3c5
        msr     spsr_el2, x9
        adr     x9, 8f
        msr     elr_el2, x9
        eret
8:
        mov     x9, #(3 << 20)
        msr     cpacr_el1, x9
        isb
        "
    };
}
