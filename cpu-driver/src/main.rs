//! The CPU driver: the kernel that runs on every core of one node.
//!
//! Built twice from this source (`big` and `little` features, different
//! `target-cpu`); the boot driver copies the build its plan chose into each
//! node's private RAM. See `entry.rs` for how a core gets from PSCI to
//! [`cpu_main`].

#![no_std]
#![no_main]

mod calibrate;
mod config;
mod console;
mod entry;
mod gic;
mod heap;
mod input;
mod monitor;
mod node;
mod owner;
mod proc;
mod programs;
mod sched;
mod selftest;
mod time;
mod trace;
mod trap;

use handoff::CoreStart;

/// Rust entry of every core, MMU and caches on, on its own stack.
#[no_mangle]
extern "C" fn cpu_main(core: &'static CoreStart) -> ! {
    trap::install();
    node::start(core)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let node = node::get().map_or(u32::MAX, |n| n.info.node_id);
    match owner::uart() {
        // The boot node prints directly: its own drain loop may be what panicked.
        Some(mut uart) => {
            use core::fmt::Write;
            let _ = writeln!(uart, "kernel panic: node {node}: {info}");
        }
        None => println!("kernel panic: node {node}: {info}"),
    }
    time::idle()
}
