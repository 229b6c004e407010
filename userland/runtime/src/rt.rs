//! What runs around `main`: the heap, the exit, the panic handler.

use core::panic::PanicInfo;

use embedded_alloc::LlffHeap;

/// Bytes of heap, mapped once at start-up. Every program pays for it (the
/// kernel zeroes it at spawn, frees it at exit, and a move between nodes
/// carries it), so it is kept small; a program with more data maps it
/// itself (`urt::map_slice`).
const HEAP_BYTES: usize = 128 * 1024;

#[global_allocator]
static HEAP: LlffHeap = LlffHeap::empty();

/// Runs `main` and exits with its code; called by the `_start` that
/// [`entry!`](crate::entry) defines.
pub fn start(main: fn() -> i32) -> ! {
    // Without a heap the program still runs; its first allocation then
    // fails and panics, which reports why.
    if let Ok(p) = crate::map(HEAP_BYTES, user_abi::PROT_READ | user_abi::PROT_WRITE) {
        // SAFETY: `map` just gave this process HEAP_BYTES of fresh writable
        // memory that nothing else uses, and this is the only `init` call.
        unsafe { HEAP.init(p as usize, HEAP_BYTES) };
    }
    crate::exit(main())
}

/// A critical section that does nothing.
struct SingleThread;

critical_section::set_impl!(SingleThread);

// SAFETY: a process has exactly one thread, and the kernel never runs user
// code asynchronously (no signals or upcalls), so code inside a critical
// section can never be re-entered or raced; there is nothing to mask.
unsafe impl critical_section::Impl for SingleThread {
    unsafe fn acquire() -> critical_section::RawRestoreState {}

    unsafe fn release(_: critical_section::RawRestoreState) {}
}

/// Reports the panic and exits with 101, like a hosted Rust program.
#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    crate::println!("panic: {info}");
    crate::exit(101)
}

/// Backs the next `bytes` of the stack below where it is now. The kernel
/// backs stack pages on first touch, so a program that measures the
/// machine's free memory before and after some work (as `mover` does)
/// calls this first, and its own stack growing does not count.
pub fn prefault_stack(bytes: usize) {
    const PAGE: usize = 4096;
    let sp: usize;
    // SAFETY: reads the stack pointer, nothing else.
    unsafe { core::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags)) };
    let bottom = (user_abi::STACK_TOP - user_abi::STACK_SIZE) as usize;
    let mut at = sp & !(PAGE - 1);
    while at >= bottom && sp - at <= bytes {
        // SAFETY: a byte load from this program's own stack area (between
        // its bottom and the stack pointer), which is mapped or backed on
        // the load; the asm touches no Rust object.
        unsafe {
            core::arch::asm!("ldrb {t:w}, [{at}]", at = in(reg) at, t = out(reg) _, options(nostack, readonly, preserves_flags))
        };
        at -= PAGE;
    }
}
