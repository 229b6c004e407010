//! `spin [UNITS] [GAP_US]`: busy work (default 300 units) that notices
//! when it was preempted. Between units it reads the clock; two readings
//! more than GAP_US apart (default 2000) mean another program ran in
//! between. Exits with the number of such gaps (at most 255).

#![no_std]
#![no_main]

use user_programs::work_unit;

fn main() -> i32 {
    let Some([units, gap_us]) = user_programs::numbers("spin", [300, 2000]) else { return 255 };
    let gap_ns = gap_us.saturating_mul(1000);
    let mut gaps: u32 = 0;
    let mut x = 1;
    let mut last = urt::clock_ns();
    for _ in 0..units {
        x = work_unit(x);
        let now = urt::clock_ns();
        if now.saturating_sub(last) > gap_ns {
            gaps += 1;
        }
        last = now;
    }
    core::hint::black_box(x);
    gaps.min(255) as i32
}

urt::entry!(main);
