//! What several programs share: the unit of CPU work and argument parsing.

#![no_std]

use core::hint::black_box;

/// Iterations of the mixing loop in one unit of work.
const UNIT_ITERATIONS: u32 = 10_000;

/// One unit of CPU-bound work: a fixed number of xorshift/multiply rounds
/// that the compiler cannot fold away, so a unit costs the same everywhere
/// it runs (up to the core's speed). Returns the mixed state so callers can
/// chain units.
#[inline(never)]
pub fn work_unit(seed: u64) -> u64 {
    work(seed, UNIT_ITERATIONS)
}

/// `iterations` rounds of the same mix as [`work_unit`].
#[inline(never)]
pub fn work(seed: u64, iterations: u32) -> u64 {
    let mut x = black_box(seed) | 1;
    for _ in 0..iterations {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x = x.wrapping_mul(0x2545_f491_4f6c_dd1d);
        x = black_box(x);
    }
    x
}

/// Bytes of argument string the programs read (the kernel's limit).
pub const ARGS_BYTES: usize = user_abi::ARGS_BYTES;

/// The `index`th space-separated word of `args` parsed as a number, or
/// `default` when it is missing; `Err(word)` when it is not a number.
pub fn arg_u64(args: &str, index: usize, default: u64) -> Result<u64, &str> {
    match args.split_whitespace().nth(index) {
        None => Ok(default),
        Some(w) => w.parse().map_err(|_| w),
    }
}

/// The program's numeric arguments, `defaults` where they are missing.
/// A word that is not a number is reported as `PROGRAM: not a number: W`,
/// and gives `None`.
pub fn numbers<const N: usize>(program: &str, defaults: [u64; N]) -> Option<[u64; N]> {
    let mut buf = [0u8; ARGS_BYTES];
    let args = urt::args(&mut buf).unwrap_or("");
    let mut out = defaults;
    for (i, v) in out.iter_mut().enumerate() {
        match arg_u64(args, i, defaults[i]) {
            Ok(n) => *v = n,
            Err(w) => {
                urt::println!("{program}: not a number: {w}");
                return None;
            }
        }
    }
    Some(out)
}

/// Runs `units` units of work flat out from `seed` and prints
/// `PROGRAM: pid P node N core C: UNITS units in US us` (the time since
/// `start_ns`, and the node and core it ended on).
pub fn flat_out(program: &str, units: u64, seed: u64, start_ns: u64) {
    let mut x = seed;
    for _ in 0..units {
        x = work_unit(x);
    }
    black_box(x);
    let us = us_between(start_ns, urt::clock_ns());
    urt::println!("{program}: pid {} node {} core {}: {units} units in {us} us", urt::pid(), urt::node(), urt::core());
}

/// Microseconds between two clock readings (0 if they went backwards).
pub fn us_between(start_ns: u64, end_ns: u64) -> u64 {
    end_ns.saturating_sub(start_ns) / 1000
}
