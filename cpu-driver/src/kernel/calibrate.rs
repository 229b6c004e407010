//! Each core measures its own speed at boot: a fixed integer workload timed
//! by the generic counter. The console owner normalises every core's figure
//! to the fastest core of the machine and checks it against the device
//! tree's `capacity-dmips-mhz` (see `owner::report_boot`).

use crate::devices::time;
use core::hint::black_box;

/// Loop iterations of one measurement: about 3 million instructions, 30 ms
/// of a big vCPU paced at the default rate; long enough that the pacer's
/// granularity (100,000 instructions) is noise below 1%.
const ITERATIONS: u64 = 500_000;
/// Measurements per core; the best counts (the least disturbed by the host).
const ROUNDS: usize = 3;

#[inline(never)]
fn work(iterations: u64) -> u64 {
    let mut x = black_box(0x9e37_79b9_7f4a_7c15u64);
    for _ in 0..iterations {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x = black_box(x);
    }
    x
}

/// This core's speed: loop iterations per second of the generic counter.
pub fn measure() -> u64 {
    // Once untimed, so translation (under QEMU) and caches are warm.
    black_box(work(ITERATIONS / 10));
    let freq = u128::from(time::frequency());
    let mut best = 0;
    for _ in 0..ROUNDS {
        let start = time::now();
        black_box(work(ITERATIONS));
        let ticks = time::now().saturating_sub(start).max(1);
        best = best.max(u64::try_from(u128::from(ITERATIONS) * freq / u128::from(ticks)).unwrap_or(u64::MAX));
    }
    best
}
