//! The kernel heap: a small `embedded-alloc` heap in the node's image. The
//! kernel itself allocates nothing on its paths; the ELF reader it uses
//! (`object`) links `alloc`, so a correct allocator must exist.
//!
//! `embedded-alloc` guards its state with `critical-section`, and a node's
//! cores share this heap, so the critical section here is SMP-correct: a
//! node-wide lock (taken with interrupts masked, as the kernel always runs)
//! that the core holding it may enter again without deadlocking.

use core::sync::atomic::{AtomicUsize, Ordering};
use embedded_alloc::LlffHeap;

const HEAP_BYTES: usize = 64 * 1024;

/// `#[global_allocator]` must be a `static`; its arena, this image's BSS.
#[global_allocator]
static HEAP: LlffHeap = LlffHeap::empty();

#[repr(C, align(16))]
struct Arena([u8; HEAP_BYTES]);
static mut ARENA: Arena = Arena([0; HEAP_BYTES]);

/// Gives the heap its arena (the node's first core, before any other runs).
pub fn init() {
    // SAFETY: called once per node, before any allocation; the arena is this
    // image's own BSS, used for nothing else.
    unsafe { HEAP.init((&raw mut ARENA).cast::<u8>() as usize, HEAP_BYTES) }
}

/// Which core holds the critical section (`FREE` if none): `critical-section`
/// calls us with no context to pass, so a `static`.
static OWNER: AtomicUsize = AtomicUsize::new(FREE);
const FREE: usize = usize::MAX;

struct NodeCriticalSection;
critical_section::set_impl!(NodeCriticalSection);

// SAFETY: `acquire` returns only once this core holds OWNER (spinning while
// another core does), so no two cores are ever inside at once; a nested
// acquire on the holding core returns `true` and its release leaves the
// lock held, so the outermost release frees it. Interrupts are masked in
// the kernel at all times, so nothing on this core preempts the holder.
unsafe impl critical_section::Impl for NodeCriticalSection {
    unsafe fn acquire() -> bool {
        let me = crate::arch::cpu::this_core();
        if OWNER.load(Ordering::Relaxed) == me {
            return true;
        }
        while OWNER.compare_exchange_weak(FREE, me, Ordering::Acquire, Ordering::Relaxed).is_err() {
            core::hint::spin_loop();
        }
        false
    }

    unsafe fn release(nested: bool) {
        if !nested {
            OWNER.store(FREE, Ordering::Release);
        }
    }
}
