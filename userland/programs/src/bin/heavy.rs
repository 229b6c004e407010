//! `heavy [UNITS]`: a fixed amount of CPU-bound work (default 2000 units),
//! to load a core and measure how long the work took there.

#![no_std]
#![no_main]

fn main() -> i32 {
    let Some([units]) = user_programs::numbers("heavy", [2000]) else { return 2 };
    let start = urt::clock_ns();
    user_programs::flat_out("heavy", units, start, start);
    0
}

urt::entry!(main);
