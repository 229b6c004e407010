//! Which user translation root each core of the node has loaded, so that
//! an ended program's tables are freed only once no core can walk them
//! (each core's `loaded_root` in its context).

use core::sync::atomic::Ordering;

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

/// Loads `ttbr0` as this core's user half, unless it is loaded already.
/// The register changes first and the core's `loaded_root` after, so a core that sees a
/// root gone from every `loaded_root` knows no walk can start from it any more.
pub fn load(ttbr0: u64) {
    let me = &crate::kernel::ctx::this_core().loaded_root;
    if me.load(Ordering::Relaxed) != ttbr0 {
        crate::arch::cpu::set_ttbr0(ttbr0);
        me.store(ttbr0, Ordering::Release);
    }
}

/// Whether any core of the node still has the user half `ttbr0` loaded.
pub fn loaded_anywhere(ttbr0: u64) -> bool {
    crate::kernel::ctx::cores().iter().any(|c| c.loaded_root.load(Ordering::Acquire) == ttbr0)
}

/// Unloads the user half `ttbr0` from this core if it is loaded (its space
/// is about to be freed).
pub fn unload(ttbr0: u64) {
    if crate::kernel::ctx::this_core().loaded_root.load(Ordering::Relaxed) == ttbr0 {
        load(empty());
    }
}
