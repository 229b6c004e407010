//! `heavy [UNITS]`: a fixed amount of CPU-bound work (default 2000 units),
//! to load a core and measure how long the work took there.

#![no_std]
#![no_main]

use urt::println;
use user_programs::{us_between, work_unit};

fn main() -> i32 {
    let Some([units]) = user_programs::numbers("heavy", [2000]) else { return 2 };
    let start = urt::clock_ns();
    let mut x = start;
    for _ in 0..units {
        x = work_unit(x);
    }
    core::hint::black_box(x);
    let us = us_between(start, urt::clock_ns());
    println!("heavy: pid {} node {} core {}: {units} units in {us} us", urt::pid(), urt::node(), urt::core());
    0
}

urt::entry!(main);
