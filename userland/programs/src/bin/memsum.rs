//! `memsum [ROUNDS] [KIB]`: computes over its own memory while it runs, so
//! that a move between nodes that lost or changed a byte, a register or
//! its place would show: KIB KiB of mapped memory, its stack and its
//! registers (integer and FP/SIMD) take part in every round. Prints
//! `memsum: rounds=R kib=K sum=S` and exits 0; the sum depends only on
//! ROUNDS and KIB, wherever and however often it ran.

#![no_std]
#![no_main]

use urt::println;

fn main() -> i32 {
    let Some([rounds, kib]) = user_programs::numbers("memsum", [200, 256]) else { return 2 };
    let words = (kib as usize * 1024) / 8;
    let heap = match urt::map_slice(words * 8) {
        Ok(s) => s,
        Err(e) => {
            println!("memsum: map {kib} KiB: {e}");
            return 1;
        }
    };
    // Its stack holds part of the state too.
    let mut stack = [0u64; 512];
    for (i, w) in stack.iter_mut().enumerate() {
        *w = i as u64 * 0x9e37_79b9;
    }
    let mut acc = 0x1234_5678_9abc_def0u64;
    let mut f = 1.0f64;
    for round in 0..rounds {
        for i in 0..words {
            let at = i * 8;
            let mut w = [0u8; 8];
            w.copy_from_slice(&heap[at..at + 8]);
            let v = u64::from_le_bytes(w).rotate_left(7) ^ acc ^ (i as u64);
            heap[at..at + 8].copy_from_slice(&v.to_le_bytes());
            acc = acc.wrapping_mul(6364136223846793005).wrapping_add(v);
        }
        let s = &mut stack[round as usize % 512];
        *s ^= acc;
        acc ^= *s;
        // Floating point stays in the registers across the round.
        f = core::hint::black_box(f * 1.000_001 + (acc & 0xff) as f64 / 1e9);
    }
    let stack_sum = stack.iter().fold(0u64, |a, &w| a.rotate_left(3) ^ w);
    let sum = acc ^ stack_sum ^ f.to_bits();
    println!("memsum: rounds={rounds} kib={kib} sum={sum:016x}");
    0
}

urt::entry!(main);
