//! `sysbench`: what a system call and a context switch cost, in guest
//! nanoseconds, against a plain function call measured in the same run.
//! Prints one line for `cargo xtask bench processes`:
//! `bench: processes call_ns=.. null_call_ns=.. yield_ns=.. switch_ns=..`.
//!
//! `sysbench yield N` (a helper it spawns): N yields, exits with the
//! nanoseconds per yield.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use core::hint::black_box;
use urt::println;
use user_abi::{ExitStatus, Id, SpawnOptions};

/// Calls per measurement.
const CALLS: u64 = 100_000;
/// Yields per helper.
const YIELDS: u64 = 20_000;

#[inline(never)]
fn plain_call(x: u64) -> u64 {
    black_box(x) + 1
}

/// Nanoseconds per iteration of `f`, over `n` iterations.
fn per_op(n: u64, mut f: impl FnMut(u64)) -> u64 {
    let start = urt::clock_ns();
    for i in 0..n {
        f(i);
    }
    (urt::clock_ns() - start) / n.max(1)
}

/// Helper: N yields; the exit code is ns per yield.
fn yielder(n: u64) -> i32 {
    let ns = per_op(n, |_| {
        let _ = urt::yield_now();
    });
    i32::try_from(ns).unwrap_or(i32::MAX)
}

/// Starts `count` yielders pinned to `core` at once; returns the slowest's
/// ns per yield.
fn yielders(count: usize, core: u8) -> Result<u64, &'static str> {
    let args = format!("yield {YIELDS}");
    let options = SpawnOptions { core: Some(core), ..SpawnOptions::default() };
    let mut pids = [0; 2];
    for pid in pids.iter_mut().take(count) {
        *pid = urt::spawn("sysbench", &args, options).map_err(|_| "spawn failed")?;
    }
    let mut slowest = 0;
    for &pid in pids.iter().take(count) {
        match urt::wait(pid) {
            Ok((_, ExitStatus::Exited(ns))) if ns >= 0 => slowest = slowest.max(ns as u64),
            _ => return Err("a yielder failed"),
        }
    }
    Ok(slowest)
}

fn main() -> i32 {
    let mut buf = [0u8; user_programs::ARGS_BYTES];
    let args = urt::args(&mut buf).unwrap_or("");
    if args.split_whitespace().next() == Some("yield") {
        return match user_programs::arg_u64(args, 1, YIELDS) {
            Ok(n) => yielder(n),
            Err(w) => {
                println!("sysbench: not a number: {w}");
                -1
            }
        };
    }
    let call_ns = per_op(CALLS, |i| {
        black_box(plain_call(i));
    });
    let null_call_ns = per_op(CALLS, |_| {
        black_box(urt::id(Id::Process).ok());
    });
    let core = (urt::sysinfo().map_or(1, |s| s.cores).max(1) - 1) as u8;
    // One yielder alone: the call and the scheduler's pass, no switch. Two
    // on one core: every yield switches to the other.
    let (yield_ns, switch_ns) = match (yielders(1, core), yielders(2, core)) {
        (Ok(alone), Ok(pair)) => (alone, pair / 2),
        (Err(e), _) | (_, Err(e)) => {
            println!("sysbench: {e}");
            return 1;
        }
    };
    println!(
        "bench: processes call_ns={call_ns} null_call_ns={null_call_ns} yield_ns={yield_ns} switch_ns={switch_ns} core={core}"
    );
    0
}

urt::entry!(main);
