//! Every PSCI core's ID registers, read on that core before any core
//! enters a CPU-driver build: each is started (PSCI `CPU_ON`) into a few
//! ARMv8.0 instructions that record its `MIDR_EL1`, `ID_AA64ISAR0_EL1`,
//! `ID_AA64ISAR1_EL1` and `ID_AA64MMFR0_EL1` and switch it off again
//! (`CPU_OFF`); the boot driver checks each against what the builds use
//! and waits (`AFFINITY_INFO`) until the core is off before the real start.
//! A core that does not answer is left to its node, which reports it
//! missing. Spin-table cores cannot be started twice, so they are not
//! probed here: the CPU driver's entry parks them if they lack a feature.

use crate::hw_check::{self, Mismatch};
use cpu_start::Conduit;
use smccc::psci::{self, AffinityState, LowestAffinityLevel};
use smccc::{Hvc, Smc};
use topology::{EnableMethod, Topology, MAX_CPUS};

/// What a probed core writes, MMU and caches off (so the boot core, MMU
/// off too, reads what reached memory).
#[repr(C)]
#[derive(Clone, Copy)]
struct Record {
    midr: u64,
    isar0: u64,
    isar1: u64,
    mmfr0: u64,
    /// Written last, 1, once the others are.
    done: u64,
    /// Read by the core: 1 for SMC, 0 for HVC.
    smc: u64,
}

const EMPTY: Record = Record { midr: 0, isar0: 0, isar1: 0, mmfr0: 0, done: 0, smc: 0 };

/// One record per core of the tree.
static mut RECORDS: [Record; MAX_CPUS] = [EMPTY; MAX_CPUS];

core::arch::global_asm!(
    ".section .text, \"ax\"",
    ".balign 8",
    ".global boot_core_probe",
    "boot_core_probe:",
    "   msr     daifset, #0xf",
    "   mrs     x1, midr_el1",
    "   str     x1, [x0]",
    "   mrs     x1, id_aa64isar0_el1",
    "   str     x1, [x0, #8]",
    "   mrs     x1, id_aa64isar1_el1",
    "   str     x1, [x0, #16]",
    "   mrs     x1, id_aa64mmfr0_el1",
    "   str     x1, [x0, #24]",
    "   ldr     x2, [x0, #40]",
    "   dsb     sy",
    "   mov     x1, #1",
    "   str     x1, [x0, #32]",
    "   dsb     sy",
    "   movz    w0, #0x0002",
    "   movk    w0, #0x8400, lsl #16",
    "   cbnz    x2, 1f",
    "   hvc     #0",
    "   b       2f",
    "1: smc     #0",
    // CPU_OFF returned: it failed; sleep.
    "2: wfi",
    "   b       2b",
);

extern "C" {
    fn boot_core_probe();
}

/// Microseconds of counter.
fn after_us(us: u64) -> u64 {
    use tock_registers::interfaces::Readable;
    let hz = aarch64_cpu::registers::CNTFRQ_EL0.get().max(1);
    crate::counter().saturating_add(hz / 1_000_000 * us)
}

/// How long a probed core may take to answer, and then to be off again.
const ANSWER_US: u64 = 200_000;

fn affinity_off(conduit: Conduit, mpidr: u64) -> bool {
    let state = match conduit {
        Conduit::Hvc => psci::affinity_info::<Hvc>(mpidr, LowestAffinityLevel::All),
        Conduit::Smc => psci::affinity_info::<Smc>(mpidr, LowestAffinityLevel::All),
    };
    matches!(state, Ok(AffinityState::Off))
}

/// Probes every PSCI core but `boot_mpidr`; the number of cores checked,
/// or the first that lacks what the builds use.
pub fn check_cores(t: &Topology<'_>, boot_mpidr: u64, conduit: Conduit) -> Result<usize, Mismatch> {
    let records = &raw mut RECORDS;
    let wanted = |c: &&topology::Cpu<'_>| c.mpidr != boot_mpidr && c.enable_method == EnableMethod::Psci;
    let mut started = [false; MAX_CPUS];
    for (i, c) in t.cpus.iter().enumerate().filter(|(_, c)| wanted(c)).take(MAX_CPUS) {
        let smc = u64::from(conduit == Conduit::Smc);
        // SAFETY: the boot core alone touches RECORDS while no probed
        // core runs (the core for record `i` starts below).
        let record = unsafe {
            let r = (records as *mut Record).add(i);
            r.write_volatile(Record { smc, ..EMPTY });
            r
        };
        let entry = boot_core_probe as *const () as u64;
        started[i] = cpu_start::start(cpu_start::Method::Psci(conduit), c.mpidr, entry, record as u64).is_ok();
    }
    let deadline = after_us(ANSWER_US);
    let mut checked = 0;
    for (i, c) in t.cpus.iter().enumerate().take(MAX_CPUS).filter(|&(i, _)| started[i]) {
        // SAFETY: record `i` is in RECORDS; the probed core writes it with
        // plain stores, read here volatile.
        let read = || unsafe { ((records as *const Record).add(i)).read_volatile() };
        while read().done == 0 && crate::counter() < deadline {
            core::hint::spin_loop();
        }
        let r = read();
        if r.done == 0 {
            continue;
        }
        hw_check::features(c.mpidr, r.isar0, r.isar1)?;
        checked += 1;
        // The real start must find the core off (QEMU answers a core
        // still in CPU_OFF with ALREADY_ON).
        let off_by = after_us(ANSWER_US);
        while !affinity_off(conduit, c.mpidr) && crate::counter() < off_by {
            core::hint::spin_loop();
        }
    }
    Ok(checked)
}
