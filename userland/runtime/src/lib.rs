//! The runtime every user program links: its entry point, the system calls
//! of [`user_abi`] as safe functions, `print!`/`println!`, a heap and the
//! panic handler.
//!
//! A program is a `#![no_std]`, `#![no_main]` binary that ends with
//! `urt::entry!(main)` where `fn main() -> i32`; the value `main` returns is
//! its exit code.

#![no_std]

extern crate alloc;

mod print;
mod rt;
mod sys;

pub use print::{_print, Console};
pub use rt::{prefault_stack, start};
pub use sys::*;
pub use user_abi::{Error, ExitStatus, Fault, Id, NodeInfo, ProcessInfo, ProcessState, SpawnOptions, SysInfo};

/// Defines the program's entry point `_start`, which runs `$main` and exits
/// with the code it returns.
///
/// `_start` is emitted into the program's own crate (not the runtime's) so
/// the linker always sees it, whatever it keeps of the runtime.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[doc(hidden)]
        extern "C" fn __urt_entry() -> ! {
            let main: fn() -> i32 = $main;
            $crate::start(main)
        }

        // The kernel enters with sp = STACK_TOP (16-byte aligned) and every
        // other register zero, so x29/x30 = 0 already end the frame chain.
        core::arch::global_asm!(
            ".section .text._start, \"ax\", %progbits",
            ".global _start",
            ".type _start, %function",
            "_start:",
            "bl {entry}",
            "udf #0",
            ".size _start, . - _start",
            entry = sym __urt_entry,
        );
    };
}
