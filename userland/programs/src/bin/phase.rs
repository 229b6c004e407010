//! `phase [LIGHT_MS] [PERIOD_MS] [ITERATIONS] [UNITS]`: a program that
//! changes its nature. For LIGHT_MS (default 1000) it behaves as `light`,
//! waking every PERIOD_MS (default 10) for ITERATIONS rounds of the work mix
//! (default 1000, a tenth of a unit); then it prints `phase: pid P switched
//! at_ns=T` (the clock, ns, the same on every core) and runs UNITS (default
//! 500) units flat out, and prints `phase: pid P node N core C: UNITS units
//! in US us`. The benchmark measures how soon after the switch the
//! placement policy gives it a big core.

#![no_std]
#![no_main]

use urt::println;
use user_programs::work;

fn main() -> i32 {
    let Some([light_ms, period_ms, iterations, units]) = user_programs::numbers("phase", [1000, 10, 1000, 500]) else {
        return 2;
    };
    let start = urt::clock_ns();
    let (period, light_ns) = (period_ms.max(1).saturating_mul(1_000_000), light_ms.saturating_mul(1_000_000));
    let iterations = u32::try_from(iterations).unwrap_or(u32::MAX);
    let mut x = start;
    let mut k = 1;
    loop {
        let deadline = start.saturating_add(period.saturating_mul(k));
        if deadline.saturating_sub(start) > light_ns {
            break;
        }
        let now = urt::clock_ns();
        if deadline > now {
            if let Err(e) = urt::sleep_ns(deadline - now) {
                println!("phase: sleep: {e}");
                return 2;
            }
        }
        x = work(x, iterations);
        k += 1;
    }
    let switched = urt::clock_ns();
    println!("phase: pid {} switched at_ns={switched}", urt::pid());
    user_programs::flat_out("phase", units, x, switched);
    0
}

urt::entry!(main);
