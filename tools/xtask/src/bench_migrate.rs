//! `bench migrate`: what a move between nodes costs for each resident
//! size, and an endpoint round trip within a node against one across
//! nodes, on the 4+2+2 machine without the pacer (a move's cost is not a
//! big/LITTLE claim). QEMU TCG guest time throughout.

use crate::bench_qemu::{spread, traced_boot, write_json};
use crate::qemu::{run_captured, Machine};
use crate::report::{mover_line, pingpong_line, BenchFields};
use crate::{dtb, Result};
use serde_json::json;
use std::time::Duration;

/// KiB `memsum` writes every round (its whole buffer, so every page of it
/// is data, none zeros), one boot each.
pub const SIZES_KIB: [u64; 4] = [4, 64, 256, 1024];
/// Moves per boot: `mover` takes the program round the three nodes.
pub const MOVES: u64 = 30;
/// Pause between moves (ms): the program runs, and dirties its pages, between them.
const PAUSE_MS: u64 = 20;
/// How long `memsum` should run (guest us): longer than the moves take
/// (about 1.5 s at worst), with room for a slow host.
const RUN_US: u64 = 4_000_000;
/// A `memsum` round costs about this (guest us, unpaced, measured here)
/// plus [`ROUND_US_PER_KIB`] per KiB.
const ROUND_US: u64 = 17;
const ROUND_US_PER_KIB: u64 = 5;
/// Endpoint round trips per `pingpong` boot.
const ROUND_TRIPS: u64 = 1000;
/// The node `pingpong` runs on, and the other node it pings.
const PING_NODE: u32 = 1;
const PONG_NODE: u32 = 2;

const TIMEOUT: Duration = Duration::from_secs(300);

/// The command line that moves a `memsum` of `kib` KiB [`MOVES`] times.
pub fn mover_args(kib: u64) -> String {
    let rounds = RUN_US / (ROUND_US + ROUND_US_PER_KIB * kib);
    format!("poweroff run@0=mover:{MOVES}:{PAUSE_MS}:memsum:{rounds}:{kib}")
}

/// The command line that pings node `to` from [`PING_NODE`] (on other
/// endpoints when it is the same node).
fn pingpong_args(to: u32) -> String {
    let endpoints = if to == PING_NODE { ":12:13" } else { "" };
    format!("poweroff run@{PING_NODE}=pingpong:{to}:{ROUND_TRIPS}{endpoints}")
}

fn figure(fields: &BenchFields, key: &str, line: &str) -> Result<u64> {
    fields.iter().find(|(k, _)| k == key).map(|&(_, v)| v).ok_or(format!("no {key} in {line:?}"))
}

/// One boot moving `memsum` of `kib` KiB: (median, worst) move in guest us.
fn moves(m: &Machine, image: &std::path::Path, kib: u64) -> Result<(u64, u64)> {
    let m = Machine { append: mover_args(kib), ..m.clone() };
    let run = run_captured(&m, image, TIMEOUT)?;
    let line = run.console.lines().find(|l| mover_line(l).is_some_and(|(p, _)| p == "memsum"));
    let line = line.ok_or_else(|| format!("no `mover: memsum` line; console:\n{}", run.console))?;
    let (_, fields) = mover_line(line).ok_or("unreadable mover line")?;
    let moved = figure(&fields, "moved", line)?;
    if moved != MOVES {
        return Err(format!("{kib} KiB: {moved} of {MOVES} moves happened: {line}"));
    }
    Ok((figure(&fields, "move_us_median", line)?, figure(&fields, "move_us_max", line)?))
}

/// One `pingpong` boot to node `to`: (median, p99) round trip in guest ns.
fn round_trips(m: &Machine, image: &std::path::Path, to: u32) -> Result<(u64, u64)> {
    let m = Machine { append: pingpong_args(to), ..m.clone() };
    let run = run_captured(&m, image, TIMEOUT)?;
    let found = run.console.lines().find_map(|l| pingpong_line(l).filter(|&(a, b, _)| (a, b) == (PING_NODE, to)));
    let (_, _, fields) = found.ok_or_else(|| format!("no pingpong line to node {to}; console:\n{}", run.console))?;
    let line = format!("pingpong to node {to}");
    if figure(&fields, "round_trips", &line)? != ROUND_TRIPS {
        return Err(format!("pingpong to node {to}: not every round trip came back"));
    }
    Ok((figure(&fields, "rtt_median_ns", &line)?, figure(&fields, "rtt_p99_ns", &line)?))
}

/// `bench migrate`: `runs` boots per size and per round trip, interleaved.
pub fn migrate(image: &std::path::Path, runs: usize) -> Result<()> {
    let base = Machine { gic: 3, ..Machine::default() };
    let m = dtb::machine(dtb::preset("4+2+2")?, base)?;
    let mut medians = vec![Vec::new(); SIZES_KIB.len()];
    let mut worst = vec![0u64; SIZES_KIB.len()];
    // Within the node, then across.
    let mut rtts = [Vec::new(), Vec::new()];
    let mut p99s = [Vec::new(), Vec::new()];
    for _ in 0..runs {
        for (i, &kib) in SIZES_KIB.iter().enumerate() {
            let (median, max) = moves(&m, image, kib)?;
            medians[i].push(median);
            worst[i] = worst[i].max(max);
        }
        for (i, to) in [PING_NODE, PONG_NODE].into_iter().enumerate() {
            let (median, p99) = round_trips(&m, image, to)?;
            rtts[i].push(median);
            p99s[i].push(p99);
        }
    }
    crate::outln!(
        "migration between nodes on 4+2+2 (pacer off), QEMU TCG guest time, {runs} boots of {MOVES} moves each: \
         the median move per boot, median (min..max) over boots, and the worst move of all"
    );
    crate::outln!("{:>10} {:>26} {:>14}", "memsum KiB", "move us", "worst move us");
    let mut sizes = Vec::new();
    for (i, &kib) in SIZES_KIB.iter().enumerate() {
        medians[i].sort_unstable();
        let (min, med, max) = spread(&medians[i]);
        crate::outln!("{kib:>10} {:>26} {:>14}", format!("{med} ({min}..{max})"), worst[i]);
        sizes.push(json!({"kib": kib, "runs_us": medians[i], "median_us": med, "worst_us": worst[i]}));
    }
    crate::outln!("endpoint round trip from node {PING_NODE}, {ROUND_TRIPS} per boot: median (min..max) over boots of each boot's median, and its p99");
    let mut trips = Vec::new();
    for (i, (what, to)) in [("within the node", PING_NODE), ("across nodes", PONG_NODE)].into_iter().enumerate() {
        rtts[i].sort_unstable();
        p99s[i].sort_unstable();
        let (min, med, max) = spread(&rtts[i]);
        let (_, p99, _) = spread(&p99s[i]);
        crate::outln!("{what:>16} to node {to}: {med} ns ({min}..{max}), p99 {p99} ns");
        trips.push(json!({"what": what, "to": to, "runs_ns": rtts[i], "median_ns": med, "p99_ns": p99s[i]}));
    }
    let out = json!({
        "topology": "4+2+2",
        "moves_per_boot": MOVES,
        "unit": "guest time (QEMU TCG emulator time, not hardware)",
        "moves": sizes,
        "round_trips": trips,
    });
    write_json("migrate.json", &out)?;
    crate::charts::beside("migrate.json", &out, crate::charts::migrate)?;
    let last = Machine { append: mover_args(SIZES_KIB[SIZES_KIB.len() - 1]), ..m };
    traced_boot("migrate", &last, image, TIMEOUT)
}
