//! `light [PERIOD_MS] [COUNT]`: a periodic task (default every 10 ms, 50
//! times) that measures how late each wake-up is relative to its absolute
//! deadline, and prints `light: pid P node N core C: COUNT wakeups every
//! PERIOD_MS ms, latency median M us p99 Q us max X us`. Exits 1 if any
//! wake-up came early, which `sleep` forbids.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use urt::println;
use user_programs::work;

fn main() -> i32 {
    let Some([period_ms, count]) = user_programs::numbers("light", [10, 50]) else { return 2 };
    let period = period_ms.saturating_mul(1_000_000);
    let mut latencies: Vec<u64> = Vec::new();
    let mut early = false;
    let start = urt::clock_ns();
    let mut x = start;
    for k in 1..=count {
        // Absolute deadlines, so lateness does not accumulate.
        let deadline = start.saturating_add(period.saturating_mul(k));
        let now = urt::clock_ns();
        if deadline > now {
            if let Err(e) = urt::sleep_ns(deadline - now) {
                println!("light: sleep: {e}");
                return 2;
            }
        }
        let woke = urt::clock_ns();
        early |= woke < deadline;
        latencies.push(woke.saturating_sub(deadline));
        x = work(x, 1000);
    }
    core::hint::black_box(x);
    latencies.sort_unstable();
    let at = |share: usize| latencies.get(latencies.len() * share / 100).copied().unwrap_or(0) / 1000;
    let (median, p99) = (at(50), at(99));
    let max = latencies.last().copied().unwrap_or(0) / 1000;
    println!(
        "light: pid {} node {} core {}: {count} wakeups every {period_ms} ms, latency median {median} us p99 {p99} us max {max} us",
        urt::pid(),
        urt::node(),
        urt::core()
    );
    if early {
        println!("light: woke before a deadline");
        return 1;
    }
    0
}

urt::entry!(main);
