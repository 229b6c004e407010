//! `fault KIND [ADDR]`: commits one kind of fault so the tests can check the
//! kernel ends the program with the right report and nothing else:
//! `null`, `undef`, `stack`, `misalign`, `misalign-exclusive`, `kernel`,
//! `exec`, or `peek ADDR` (hex). Exits 1 if the fault did not end it.
//! `wfi` is the exception: waiting for an interrupt at EL0 must not be
//! fatal (it exits 0).

#![no_std]
#![no_main]

use core::arch::asm;
use core::hint::black_box;

use urt::println;

/// A kernel address (the bottom of the TTBR1 half with 39-bit VAs).
const KERNEL_ADDR: u64 = 0xffff_ff80_0000_0000;

fn main() -> i32 {
    let mut buf = [0u8; user_programs::ARGS_BYTES];
    let args = urt::args(&mut buf).unwrap_or("");
    let mut words = args.split_whitespace();
    let kind = words.next().unwrap_or("");
    match kind {
        "null" => {
            println!("fault: null");
            store(8);
        }
        // Not a fault: WFI at EL0 traps, and the kernel treats it as a yield.
        "wfi" => {
            for i in 0..3u64 {
                let kept: u64;
                // SAFETY: WFI has no memory effects; the kernel traps it
                // and must hand every register back unchanged.
                unsafe { asm!("wfi", inout("x0") i + 40 => kept, options(nomem, nostack)) };
                if kept != i + 40 {
                    println!("fault: wfi changed x0 to {kept}");
                    return 3;
                }
            }
            return 0;
        }
        "undef" => {
            println!("fault: undef");
            // SAFETY: traps; if it did not, `udf` has no other effect.
            unsafe { asm!("udf #0", options(nomem, nostack)) };
        }
        "stack" => {
            println!("fault: stack");
            black_box(recurse(0));
        }
        "misalign" => {
            println!("fault: misalign");
            misaligned_pc();
        }
        "misalign-exclusive" => {
            println!("fault: misalign-exclusive");
            let words = [0u64; 4];
            let addr = black_box(words.as_ptr() as u64 + 1);
            let v: u64;
            // SAFETY: reads inside `words`, which lives across the asm; only
            // the (faulting) alignment is unusual.
            unsafe { asm!("ldxr {v}, [{a}]", "clrex", a = in(reg) addr, v = out(reg) v, options(nostack)) };
            black_box(v);
        }
        "kernel" => {
            println!("fault: kernel");
            black_box(load(KERNEL_ADDR));
        }
        "exec" => {
            println!("fault: exec");
            execute_stack();
        }
        "peek" => {
            let Some(addr) = words.next().and_then(parse_hex) else {
                println!("fault: usage: fault peek ADDR");
                return 2;
            };
            println!("fault: peek {addr:#x}");
            let v = load(addr);
            println!("fault: survived (read {v:#x})");
            return 1;
        }
        _ => {
            println!("fault: usage: fault null|undef|stack|misalign|misalign-exclusive|kernel|exec|peek ADDR");
            return 2;
        }
    }
    println!("fault: survived");
    1
}

/// Hex with or without `0x`.
fn parse_hex(s: &str) -> Option<u64> {
    let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).unwrap_or(s);
    u64::from_str_radix(digits, 16).ok()
}

/// Loads a u64 from `addr` in assembly, so Rust's rules about which
/// addresses are valid do not apply: only the hardware decides.
fn load(addr: u64) -> u64 {
    let v: u64;
    // SAFETY: a read; the worst it can do is fault, which is the point.
    unsafe { asm!("ldr {v}, [{a}]", a = in(reg) addr, v = out(reg) v, options(nostack, readonly)) };
    v
}

/// Stores to `addr` in assembly (see [`load`]).
fn store(addr: u64) {
    // SAFETY: only ever called with addresses that are not mapped, so it
    // faults instead of changing anything.
    unsafe { asm!("str {v}, [{a}]", a = in(reg) addr, v = in(reg) 0x5au64, options(nostack)) };
}

/// Recurses with a kilobyte of stack per frame until the guard below the
/// stack stops it. `black_box` keeps each frame's buffer real and the
/// recursion a real call chain.
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    let mut frame = [0u8; 1024];
    frame[(depth % 1024) as usize] = depth as u8;
    black_box(&mut frame);
    if depth == u64::MAX {
        return 0;
    }
    recurse(depth + 1).wrapping_add(u64::from(frame[(depth % 7) as usize]))
}

/// Moves sp to 8 mod 16 and loads through it: with SP alignment checking
/// at EL0 (SCTLR_EL1.SA0) that traps.
fn misaligned_pc() {
    // SAFETY: branches to two bytes past a valid instruction: the branch
    // target's misalignment traps (a PC alignment fault) before anything
    // runs there. (A misaligned SP would trap on hardware with
    // SCTLR_EL1.SA0, which the kernel sets, but QEMU does not model it.)
    unsafe {
        asm!(
            "adr {t}, 2f",
            "add {t}, {t}, #2",
            "br {t}",
            "2:",
            "nop",
            "nop",
            t = out(reg) _,
        )
    };
}

/// Calls into a stack buffer holding a `ret`: the stack is never
/// executable, so the call traps (and would return at once if it did not).
fn execute_stack() {
    const RET: u32 = 0xd65f_03c0;
    let code = [RET; 4];
    let addr = black_box(code.as_ptr() as u64);
    // SAFETY: the buffer holds only `ret`, so even if it ran it would come
    // straight back; every caller-saved register is declared clobbered.
    unsafe { asm!("blr {a}", a = in(reg) addr, clobber_abi("C")) };
    black_box(&code);
}

urt::entry!(main);
