//! Bootarg `trace` on the RK3588 shape with heavy and light programs on
//! every node: the trace that comes out at power-off, converted as
//! `cargo xtask run --trace` does, has a track for every core, slices that
//! never overlap on a track, times that never go backwards, every program
//! that ran, both ends of every message flow, and its losses reported.

use boot_tests::{assert_kernel_survived, boot_with_timeout, preset_machine};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

#[test]
fn a_traced_run_converts_into_a_whole_consistent_trace() {
    let mut m = preset_machine("4+2+2", 3);
    m.append = "trace poweroff run=heavy:3000 run=light:5:40 run@1=heavy:4000 run@1=light:10:30 run@2=heavy:6000 \
                run@2=light:2:50"
        .into();
    let b = boot_with_timeout(&m, Duration::from_secs(180));
    let console = &b.captured.console;
    assert_eq!(b.captured.exit_code, Some(0), "{console}");
    assert_kernel_survived(console);

    // Raw lines: per core, in the order dumped, time never goes backwards.
    let mut last: BTreeMap<(u32, u32), u64> = BTreeMap::new();
    for l in console.lines().filter_map(|l| l.strip_prefix("trace: ")) {
        let w: Vec<&str> = l.split_whitespace().collect();
        let (Ok(node), Ok(core), Some(Ok(time))) = (w[0].parse(), w[1].parse(), w.get(2).map(|t| t.parse::<u64>()))
        else {
            continue;
        };
        let prev = last.insert((node, core), time);
        assert!(prev.is_none_or(|p| p <= time), "node {node} core {core} went back in time at {l:?}");
    }
    let done = console.lines().find(|l| l.starts_with("trace: done ")).unwrap_or_else(|| panic!("{console}"));
    assert!(done.contains("nodes=3") && done.contains("missing=0"), "{done}");

    let t = xtask::trace::parse(console).unwrap_or_else(|e| panic!("{e}"));
    let (doc, sum) = xtask::trace::chrome(&t);
    let events = doc["traceEvents"].as_array().expect("events");

    // A track per core of every node, named.
    let tracks: BTreeSet<(u64, u64)> = events
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .filter_map(|e| Some((e["pid"].as_u64()?, e["tid"].as_u64()?)))
        .collect();
    // Node N is process N + 1; cores are threads 1..8.
    let want: BTreeSet<(u64, u64)> = [(1, 1), (1, 2), (1, 3), (1, 4), (2, 5), (2, 6), (3, 7), (3, 8)].into();
    assert_eq!(tracks, want);
    let processes: Vec<&str> =
        events.iter().filter(|e| e["name"] == "process_name").filter_map(|e| e["args"]["name"].as_str()).collect();
    assert_eq!(processes, ["node 0 little capacity=530", "node 1 big capacity=1024", "node 2 big capacity=1024"]);

    // Run slices never overlap on one track.
    let mut runs: BTreeMap<u64, Vec<(f64, f64)>> = BTreeMap::new();
    let mut ran: BTreeSet<(u64, u64, String)> = BTreeSet::new();
    for e in events.iter().filter(|e| e["cat"] == "run") {
        let (ts, dur) = (e["ts"].as_f64().expect("ts"), e["dur"].as_f64().expect("dur"));
        assert!(dur >= 0.0, "{e}");
        runs.entry(e["tid"].as_u64().expect("tid")).or_default().push((ts, ts + dur));
        let program = e["args"]["program"].as_str().unwrap_or("?").to_string();
        let node = e["pid"].as_u64().expect("node") - 1;
        ran.insert((node, e["args"]["pid"].as_u64().expect("pid"), program));
    }
    for (tid, slices) in &mut runs {
        slices.sort_by(|a, b| a.0.total_cmp(&b.0));
        for w in slices.windows(2) {
            assert!(w[0].1 <= w[1].0, "core {tid}: slices {:?} and {:?} overlap", w[0], w[1]);
        }
    }
    // Every program init started appears under its name and pid (pids are
    // the machine's): on its init's node for `run@N=`, wherever the policy
    // put it for `run=`.
    let mut started = 0;
    for l in console.lines() {
        let Some(rest) = l.strip_prefix("init: node ") else { continue };
        let Some((node, rest)) = rest.split_once(" started ") else { continue };
        let Some((program, pid)) = rest.split_once(" (pid ") else { continue };
        let (node, pid): (u64, u64) = (node.parse().expect("node"), pid.trim_end_matches(')').parse().expect("pid"));
        let pinned = node != 0;
        let seen = |&(n, p, ref name): &(u64, u64, String)| p == pid && name == program && (!pinned || n == node);
        assert!(ran.iter().any(seen), "{program} (pid {pid}) started by node {node} ran: {ran:?}");
        started += 1;
    }
    assert_eq!(started, 6);
    assert!(ran.iter().filter(|r| r.2 == "init").count() == 3, "every node's init ran: {ran:?}");

    // Flows: every start has its end, and there are some (hellos, finishes).
    let ends = |ph: &str| -> BTreeSet<u64> {
        events.iter().filter(|e| e["ph"] == ph).filter_map(|e| e["id"].as_u64()).collect()
    };
    assert_eq!(ends("s"), ends("f"));
    assert!(sum.flows >= 3 * 2 + 2, "hellos and finishes at least: {sum:?}");
    assert_eq!(sum.unmatched_receipts, 0, "a receipt always has its send: {sum:?}");
    // Losses: what the nodes reported is what the trace says.
    let lost: u64 =
        done.split_whitespace().find_map(|w| w.strip_prefix("lost=")?.parse().ok()).unwrap_or_else(|| panic!("{done}"));
    assert_eq!(doc["otherData"]["dropped_events"].as_u64(), Some(lost));
    assert_eq!(sum.lost, lost);
}
