//! The hardware checked against the device tree and the builds before
//! either is trusted: the GIC the tree names must be the one there, and
//! the boot core must have the instructions the CPU-driver builds use.
//! A mismatch is one `boot: error:` line; before, the boot hung in the
//! GIC's set-up or in a fault reporter that itself used a missing
//! instruction. Only ARMv8.0 instructions run here (this crate is built
//! for the baseline).

use core::fmt;
use topology::Gic;

/// `GICD_PIDR2` (GICv3: 0xffe8) and `GICD_ICPIDR2` (GICv2: 0xfe8): bits
/// [7:4] are the architecture revision (GIC architecture specification,
/// "ArchRev").
const PIDR2_V3: usize = 0xffe8;
const PIDR2_V2: usize = 0xfe8;

/// Why the machine is not what the tree or the builds expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    /// The tree says GICv3, but the core has no GIC system-register
    /// interface (`ID_AA64PFR0_EL1.GIC` is 0: a GICv2 machine).
    NoGicv3CpuInterface { distributor: u64 },
    /// The distributor's ID register gives another architecture revision.
    GicRevision { tree: u8, distributor: u64, arch_rev: u32 },
    /// The tree's console PL011 does not identify as one.
    NotPl011 { at: u64, id: [u8; 8] },
    /// The boot core lacks what the builds are compiled to use.
    CpuFeatures { mpidr: u64, atomic: u64, lrcpc: u64 },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Mismatch::NoGicv3CpuInterface { distributor } => write!(
                f,
                "the device tree's GIC at {distributor:#x} is a GICv3, but this core has no GICv3 CPU interface \
                 (ID_AA64PFR0_EL1.GIC = 0): the machine's GIC is older"
            ),
            Mismatch::GicRevision { tree, distributor, arch_rev } => write!(
                f,
                "the device tree's GIC at {distributor:#x} is a GICv{tree}, but its distributor reads as \
                 architecture revision {arch_rev}"
            ),
            Mismatch::NotPl011 { at, id } => write!(
                f,
                "the device tree's console PL011 at {at:#x} reads as peripheral ID {:02x}{:02x}{:02x}{:02x}, \
                 PrimeCell ID {:02x}{:02x}{:02x}{:02x}: not a PL011 (part 0x011, designer 0x41, PrimeCell b105f00d)",
                id[3], id[2], id[1], id[0], id[7], id[6], id[5], id[4]
            ),
            Mismatch::CpuFeatures { mpidr, atomic, lrcpc } => write!(
                f,
                "cpu {mpidr:#x} lacks what the CPU-driver builds use (they are built for Cortex-A76 and A55, \
                 ARMv8.2): LSE atomics need ID_AA64ISAR0_EL1.Atomic >= 2 (it is {atomic}), LDAPR needs \
                 ID_AA64ISAR1_EL1.LRCPC >= 1 (it is {lrcpc})"
            ),
        }
    }
}

/// The GIC is the one the tree names.
pub fn gic(gic: Gic) -> Result<(), Mismatch> {
    let distributor = gic.distributor().start;
    let (tree, want, pidr2) = match gic {
        Gic::V2 { .. } => (2, 1..=2, PIDR2_V2),
        Gic::V3 { .. } => {
            if pfr0_gic() == 0 {
                return Err(Mismatch::NoGicv3CpuInterface { distributor });
            }
            (3, 3..=4, PIDR2_V3)
        }
    };
    // SAFETY: the device tree's distributor, MMU off (so device memory);
    // the ID registers are read-only and inside the distributor's frame of
    // either version.
    let id = unsafe { ((distributor as usize + pidr2) as *const u32).read_volatile() };
    let arch_rev = (id >> 4) & 0xf;
    if !want.contains(&arch_rev) {
        return Err(Mismatch::GicRevision { tree, distributor, arch_rev });
    }
    Ok(())
}

/// The boot core has the instructions the builds use: LSE atomics
/// (`casa`, `ldadd`, `swp`) and LRCPC (`ldapr`), as the disassembly of
/// both builds shows.
pub fn cpu_features(mpidr: u64) -> Result<(), Mismatch> {
    let (isar0, isar1): (u64, u64);
    // SAFETY: reading ID registers has no side effects; both exist on
    // every ARMv8.0 core.
    unsafe {
        core::arch::asm!("mrs {}, ID_AA64ISAR0_EL1", out(reg) isar0, options(nomem, nostack, preserves_flags));
        core::arch::asm!("mrs {}, ID_AA64ISAR1_EL1", out(reg) isar1, options(nomem, nostack, preserves_flags));
    }
    features(mpidr, isar0, isar1)
}

/// Core `mpidr`, whose ID registers read `isar0` and `isar1`, has what
/// the builds use.
pub fn features(mpidr: u64, isar0: u64, isar1: u64) -> Result<(), Mismatch> {
    let (atomic, lrcpc) = ((isar0 >> 20) & 0xf, (isar1 >> 20) & 0xf);
    if atomic < 2 || lrcpc < 1 {
        return Err(Mismatch::CpuFeatures { mpidr, atomic, lrcpc });
    }
    Ok(())
}

/// The PL011 at `base` identifies as one (its ID registers).
pub fn pl011(base: u64) -> Result<(), Mismatch> {
    let mut id = [0u8; 8];
    for (i, b) in id.iter_mut().enumerate() {
        // SAFETY: the plan checked `base` is not RAM, is inside the physical
        // address range and its reg covers the 4 KiB frame; MMU off, so
        // device memory; ID registers are read-only.
        let word = unsafe { ((base as usize + pl011::PERIPH_ID_OFFSET + 4 * i) as *const u32).read_volatile() };
        *b = word as u8;
    }
    if pl011::is_pl011_id(id) {
        Ok(())
    } else {
        Err(Mismatch::NotPl011 { at: base, id })
    }
}

/// The boot core's physical address size in bits
/// (`ID_AA64MMFR0_EL1.PARange`; a value the architecture does not define
/// counts as the smallest, 32).
pub fn pa_bits() -> u8 {
    let mmfr0: u64;
    // SAFETY: reading an ID register has no side effects.
    unsafe { core::arch::asm!("mrs {}, ID_AA64MMFR0_EL1", out(reg) mmfr0, options(nomem, nostack, preserves_flags)) };
    match mmfr0 & 0xf {
        1 => 36,
        2 => 40,
        3 => 42,
        4 => 44,
        5 => 48,
        6 => 52,
        7 => 56,
        _ => 32,
    }
}

/// `ID_AA64PFR0_EL1.GIC`: whether the GIC system registers are there.
fn pfr0_gic() -> u64 {
    let pfr0: u64;
    // SAFETY: reading an ID register has no side effects.
    unsafe { core::arch::asm!("mrs {}, ID_AA64PFR0_EL1", out(reg) pfr0, options(nomem, nostack, preserves_flags)) };
    (pfr0 >> 24) & 0xf
}
