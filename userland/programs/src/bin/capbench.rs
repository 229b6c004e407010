//! `capbench MODE [UNITS]`: how fast each core of this node runs a fixed
//! amount of CPU work, for `cargo xtask bench capacity`.
//!
//! - `idle`: one core at a time, the node's other cores idle;
//! - `busy`: every core of the node at once.
//!
//! Prints `bench: capacity node N core C units=U us=T units_per_s=R` per
//! core (guest time). `capbench worker UNITS` is the pinned helper; it
//! exits with its elapsed guest microseconds.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::vec::Vec;
use urt::println;
use user_abi::{ExitStatus, SpawnOptions};
use user_programs::{us_between, work_unit};

const DEFAULT_UNITS: u64 = 1000;

fn worker(units: u64) -> i32 {
    let start = urt::clock_ns();
    let mut x = start;
    for _ in 0..units {
        x = work_unit(x);
    }
    core::hint::black_box(x);
    i32::try_from(us_between(start, urt::clock_ns())).unwrap_or(i32::MAX)
}

/// Starts a worker on each of `cores`; returns (core, elapsed us) per worker.
fn run_on(cores: &[u8], units: u64) -> Result<Vec<(u8, u64)>, &'static str> {
    let args = format!("worker {units}");
    let mut pids = Vec::new();
    for &core in cores {
        let options = SpawnOptions { core: Some(core), ..SpawnOptions::default() };
        pids.push((core, urt::spawn("capbench", &args, options).map_err(|_| "spawn failed")?));
    }
    let mut out = Vec::new();
    for (core, pid) in pids {
        match urt::wait(pid) {
            Ok((_, ExitStatus::Exited(us))) if us > 0 => out.push((core, us as u64)),
            _ => return Err("a worker failed"),
        }
    }
    Ok(out)
}

fn main() -> i32 {
    let mut buf = [0u8; user_programs::ARGS_BYTES];
    let args = urt::args(&mut buf).unwrap_or("");
    let mode = args.split_whitespace().next().unwrap_or("");
    let Ok(units) = user_programs::arg_u64(args, 1, DEFAULT_UNITS) else {
        println!("capbench: UNITS is not a number");
        return 2;
    };
    let info = match urt::sysinfo() {
        Ok(i) => i,
        Err(e) => {
            println!("capbench: sysinfo: {e}");
            return 1;
        }
    };
    let cores: Vec<u8> = (0..info.cores.min(255) as u8).collect();
    let results = match mode {
        "worker" => return worker(units),
        "busy" => run_on(&cores, units),
        "idle" => cores.iter().try_fold(Vec::new(), |mut all, &c| {
            all.extend(run_on(&[c], units)?);
            Ok(all)
        }),
        _ => {
            println!("capbench: usage: capbench idle|busy [UNITS]");
            return 2;
        }
    };
    match results {
        Ok(results) => {
            for (core, us) in results {
                let rate = units * 1_000_000 / us.max(1);
                println!("bench: capacity node {} core {core} units={units} us={us} units_per_s={rate}", info.node);
            }
            0
        }
        Err(e) => {
            println!("capbench: {e}");
            1
        }
    }
}

urt::entry!(main);
