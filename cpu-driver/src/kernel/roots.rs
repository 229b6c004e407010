//! Which user translation root each core of the node has loaded, so that
//! an ended program's tables are freed only once no core can walk them.

/// A user half with nothing mapped, for a core that runs no program, so an
/// idle core keeps no translation root an ended program's freed tables
/// could be walked through (speculatively, into TLB entries of an ASID that
/// will be reused). A core going back to the program it just ran keeps its
/// root: changing ASID is what costs (QEMU flushes its whole TLB on it).
#[repr(C, align(4096))]
struct EmptyRoot([u64; 512]);
/// A `static`: it must be page-aligned memory that never moves.
static EMPTY_ROOT: EmptyRoot = EmptyRoot([0; 512]);

/// TTBR0 of [`EMPTY_ROOT`] (ASID 0: no program's).
pub fn empty() -> u64 {
    let va = &raw const EMPTY_ROOT as u64;
    crate::kernel::ctx::get().map_or(0, |n| n.info.memory.start + (va - handoff::KERNEL_VA))
}

/// The user root each core has loaded (a `static`: each core writes its own
/// entry without the node lock, and the lock holder reads them all).
static LOADED: [core::sync::atomic::AtomicU64; handoff::MAX_NODE_CPUS] =
    [const { core::sync::atomic::AtomicU64::new(0) }; handoff::MAX_NODE_CPUS];

/// Loads `ttbr0` as this core's user half, unless it is loaded already.
/// The register changes first and [`LOADED`] after, so a core that sees a
/// root gone from [`LOADED`] knows no walk can start from it any more.
pub fn load(ttbr0: u64) {
    let core = crate::arch::cpu::this_core() % handoff::MAX_NODE_CPUS;
    if LOADED[core].load(core::sync::atomic::Ordering::Relaxed) != ttbr0 {
        crate::arch::cpu::set_ttbr0(ttbr0);
        LOADED[core].store(ttbr0, core::sync::atomic::Ordering::Release);
    }
}

/// Whether any core of the node still has the user half `ttbr0` loaded.
pub fn loaded_anywhere(ttbr0: u64) -> bool {
    LOADED.iter().any(|l| l.load(core::sync::atomic::Ordering::Acquire) == ttbr0)
}

/// Unloads the user half `ttbr0` from this core if it is loaded (its space
/// is about to be freed).
pub fn unload(ttbr0: u64) {
    let core = crate::arch::cpu::this_core() % handoff::MAX_NODE_CPUS;
    if LOADED[core].load(core::sync::atomic::Ordering::Relaxed) == ttbr0 {
        load(empty());
    }
}
