//! The CPU driver: the kernel that runs on every core of one node.
//!
//! Built twice from this source (`big` and `little` features, different
//! `target-cpu`); the boot driver copies the build its plan chose into each
//! node's private RAM. See `entry.rs` for how a core gets from PSCI to
//! [`cpu_main`].

#![no_std]
#![no_main]

mod arch;
mod config;
mod devices;
mod kernel;
mod node;

use core::sync::atomic::{AtomicU32, Ordering};
use devices::wait;
use handoff::CoreStart;

/// Kernel faults reported so far (a fault while reporting one must not recurse).
static FAULTS: AtomicU32 = AtomicU32::new(0);

/// Rust entry of every core, MMU and caches on, on its own stack.
#[no_mangle]
extern "C" fn cpu_main(core: &'static CoreStart) -> ! {
    arch::trap::install();
    node::bringup::start(core)
}

/// The exception vectors' report of a fault in the kernel itself (they
/// call it by name): one line, then this core stops.
extern "C" fn kernel_fault(vector: u64, esr: u64, far: u64, elr: u64) -> ! {
    let node = crate::kernel::ctx::get().map_or(u32::MAX, |n| n.info.node_id);
    let core: u64;
    // SAFETY: reading TPIDR_EL1 (the core index the entry code put there) has no side effects.
    unsafe { core::arch::asm!("mrs {}, tpidr_el1", out(reg) core, options(nomem, nostack)) };
    // A fault while reporting a fault: stop before recursing.
    if FAULTS.fetch_add(1, Ordering::Relaxed) < 8 {
        let fault = cpu_start::Fault { vector, esr, far, elr };
        match crate::devices::uart::console() {
            // The console owner prints directly: it may be its own drainer that faulted.
            Some(mut uart) => {
                use core::fmt::Write;
                let _ = writeln!(uart, "kernel fault: node {node} core {core}: {fault}");
            }
            None => crate::println!("kernel fault: node {node} core {core}: {fault}"),
        }
    }
    crate::devices::wait::idle()
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let node = crate::kernel::ctx::get().map_or(u32::MAX, |n| n.info.node_id);
    match crate::devices::uart::console() {
        // The boot node prints directly: its own drain loop may be what panicked.
        Some(mut uart) => {
            use core::fmt::Write;
            let _ = writeln!(uart, "kernel panic: node {node}: {info}");
        }
        None => println!("kernel panic: node {node}: {info}"),
    }
    wait::idle()
}
