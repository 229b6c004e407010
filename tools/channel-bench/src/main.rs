//! Host benchmark of the message channel (`monitor/channel`).
//!
//! Two threads pinned to cores 0 and 1 measure, for this ring and for the
//! same figures of a raw single-cache-line ping-pong (the physical floor),
//! `rtrb` and `crossbeam-channel` (bounded):
//!
//! * one-way latency: a ping-pong over two queues (A to B, B to A), busy
//!   polling on both sides; one-way = total time / round trips / 2;
//! * throughput: one producer, one consumer, 56-byte payloads carrying a
//!   counter (first 8 bytes) and its complement (last 8 bytes) that the
//!   consumer checks; per-message APIs and batched APIs as separate rows,
//!   every queue with the same capacity.
//!
//! The machine is shared and noisy, so the contenders are interleaved
//! within each run and the median (and min/max) over the runs is reported.
//!
//! ```text
//! cargo run --release -p channel-bench -- [--runs N] [--quick] [--json PATH]
//! ```

mod config;
mod harness;
mod latency;
mod report;
mod throughput;

use std::process::ExitCode;
use std::time::Instant;

pub(crate) use config::*;
pub(crate) use harness::*;
pub(crate) use latency::*;
pub(crate) use report::*;
pub(crate) use throughput::*;

/// Slots of a 16 KiB kernel channel: 256 lines minus 3 control lines.
pub(crate) const KERNEL_SLOTS: usize = channel::slots_in(16 * 1024);
/// Capacities the throughput rows are measured at.
pub(crate) const CAPACITIES: [usize; 2] = [KERNEL_SLOTS, 1024];
/// Acceptance: ring one-way latency at most this times the raw line's.
pub(crate) const LATENCY_GOAL: f64 = 1.3;
/// Acceptance: ring throughput at least this times rtrb's.
pub(crate) const THROUGHPUT_GOAL: f64 = 1.0;
/// The cores the two threads are pinned to.
pub(crate) const CORE_A: usize = 0;
pub(crate) const CORE_B: usize = 1;

fn main() -> ExitCode {
    let cfg = match parse_args() {
        Ok(Some(cfg)) => cfg,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("channel-bench: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = check_cores() {
        eprintln!("channel-bench: {e}");
        return ExitCode::FAILURE;
    }
    let mut rows = rows();
    eprintln!(
        "channel-bench: {} runs; latency {} round trips (+{} warm-up); throughput {} messages; slots {:?}",
        cfg.runs, cfg.round_trips, cfg.warmup, cfg.messages, CAPACITIES
    );
    // The raw line again at the end of each run: the hypervisor may move
    // the two vCPUs (same core's threads, same cache complex, another die)
    // in the middle of a run, which changes every figure after the move.
    let mut raw_at_end = Vec::new();
    for run in 0..cfg.runs {
        let t = Instant::now();
        for r in rows.iter_mut() {
            r.measure(&cfg);
        }
        raw_at_end.push(latency_raw(&cfg).value);
        eprintln!("channel-bench: run {}/{} done in {:.1} s", run + 1, cfg.runs, t.elapsed().as_secs_f64());
    }
    print_table(&rows, cfg.runs);
    let moved = placement_changes(&rows, &raw_at_end);
    if !moved.is_empty() {
        println!(
            "warning: the raw line changed by more than 1.5x within run(s) {moved:?}: the cores' placement moved mid-run, \
             so those runs' ratios mix two placements"
        );
    }
    let acc = acceptance(&rows);
    print_acceptance(&acc);
    if let Err(e) = write_json(&cfg, &rows, acc, &raw_at_end, &moved) {
        eprintln!("channel-bench: {e}");
        return ExitCode::FAILURE;
    }
    println!("wrote {}", cfg.json.display());
    ExitCode::SUCCESS
}
