//! Turns the `trace:` lines of a console (bootarg `trace`) into Chrome
//! trace-event JSON, which Perfetto's UI (ui.perfetto.dev) and
//! `chrome://tracing` open: one process per node (named with its build and
//! capacity), one thread per core, one slice per stretch a program ran,
//! instants for wake-ups, spawns, exits and moves, and a flow arrow from
//! each message's send to its receipt.
//!
//! Process and thread ids start at 1 (node N is process N + 1, and cores
//! are threads numbered machine-wide from 1): Perfetto's JSON importer
//! takes id 0 for the idle task and drops thread instants on it. A flow
//! binds to the slice that encloses it, so every message end is a short
//! slice of its own (up to 1 us, never reaching the core's next event) with
//! the flow event in its middle.

use crate::Result;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A node's `trace: node N begin ...` line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeHeader {
    pub build: String,
    pub capacity: u32,
    pub cores: u32,
    pub hz: u64,
    pub mpidrs: Vec<String>,
}

/// One `trace: NODE CORE TIME KIND ...` line.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub node: u32,
    pub core: u32,
    pub time: u64,
    pub kind: String,
    pub args: Vec<String>,
}

/// Everything the console said about tracing.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    pub nodes: BTreeMap<u32, NodeHeader>,
    pub events: Vec<Event>,
    /// Events each node said it lost (overwritten before a dump).
    pub lost: BTreeMap<u32, u64>,
}

fn field<'a>(words: &[&'a str], key: &str) -> Option<&'a str> {
    words.iter().find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
}

/// Reads every `trace:` line of `console`; other lines are ignored. A
/// malformed trace line is an error naming it.
pub fn parse(console: &str) -> Result<Trace> {
    let mut t = Trace::default();
    for line in console.lines() {
        let Some(rest) = line.strip_prefix("trace: ") else { continue };
        let words: Vec<&str> = rest.split_whitespace().collect();
        let bad = || format!("bad trace line: {line:?}");
        match words.as_slice() {
            ["node", node, "begin", more @ ..] => {
                let node = node.parse().map_err(|_| bad())?;
                let number = |k| field(more, k).and_then(|v| v.parse().ok()).ok_or_else(bad);
                let header = NodeHeader {
                    build: field(more, "build").ok_or_else(bad)?.to_string(),
                    capacity: number("capacity")? as u32,
                    cores: number("cores")? as u32,
                    hz: number("hz")?,
                    mpidrs: field(more, "mpidr").unwrap_or("").split(',').map(str::to_string).collect(),
                };
                t.nodes.insert(node, header);
            }
            ["node", node, "end", more @ ..] => {
                let node = node.parse().map_err(|_| bad())?;
                let lost: u64 = field(more, "lost").and_then(|v| v.parse().ok()).ok_or_else(bad)?;
                *t.lost.entry(node).or_default() += lost;
            }
            ["done", ..] => {}
            [node, core, time, kind, args @ ..] => t.events.push(Event {
                node: node.parse().map_err(|_| bad())?,
                core: core.parse().map_err(|_| bad())?,
                time: time.parse().map_err(|_| bad())?,
                kind: kind.to_string(),
                args: args.iter().map(|a| a.to_string()).collect(),
            }),
            _ => return Err(bad()),
        }
    }
    if t.nodes.is_empty() {
        return Err(
            "the console has no trace (boot with the bootarg `trace`, and let it power off or run `trace`)".into()
        );
    }
    t.events.sort_by_key(|e| (e.node, e.core, e.time));
    Ok(t)
}

impl Trace {
    /// The thread id of `core` of `node`'s track: cores numbered in node
    /// order, machine-wide, from 1.
    pub fn tid(&self, node: u32, core: u32) -> u32 {
        self.nodes.range(..node).map(|(_, h)| h.cores).sum::<u32>() + core + 1
    }

    /// The process id of `node`'s tracks.
    pub fn pid(node: u32) -> u32 {
        node + 1
    }

    fn micros(&self, node: u32, time: u64) -> f64 {
        let hz = self.nodes.get(&node).map_or(1, |h| h.hz.max(1));
        time as f64 * 1e6 / hz as f64
    }
}

fn arg<T: std::str::FromStr>(e: &Event, i: usize) -> Option<T> {
    e.args.get(i)?.parse().ok()
}

/// The longest a message end's own slice lasts (guest microseconds).
const MESSAGE_US: f64 = 1.0;

/// What [`chrome`] saw while converting.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub slices: usize,
    pub flows: usize,
    /// Sends with no receipt in the trace (in flight when it was dumped).
    pub unmatched_sends: usize,
    pub unmatched_receipts: usize,
    pub lost: u64,
}

/// The Chrome trace-event JSON of `t`.
pub fn chrome(t: &Trace) -> (Value, Summary) {
    let mut out = Vec::new();
    let mut sum = Summary { lost: t.lost.values().sum(), ..Summary::default() };
    let mut nodes_meta = Vec::new();
    for (&node, h) in &t.nodes {
        let name = format!("node {node} {} capacity={}", h.build, h.capacity);
        let pid = Trace::pid(node);
        out.push(json!({"ph": "M", "name": "process_name", "pid": pid, "args": {"name": name}}));
        out.push(json!({"ph": "M", "name": "process_sort_index", "pid": pid, "args": {"sort_index": pid}}));
        let mut cores = Vec::new();
        for core in 0..h.cores {
            let tid = t.tid(node, core);
            let mpidr = h.mpidrs.get(core as usize).cloned().unwrap_or_default();
            let name = format!("core {core} mpidr={mpidr}");
            out.push(json!({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "args": {"name": name}}));
            out.push(
                json!({"ph": "M", "name": "thread_sort_index", "pid": pid, "tid": tid, "args": {"sort_index": tid}}),
            );
            cores.push(json!({"core": core, "tid": tid, "mpidr": mpidr}));
        }
        nodes_meta.push(json!({"node": node, "pid": pid, "build": h.build, "capacity": h.capacity, "cores": cores}));
    }
    // Program names by (node, pid), from spawn events.
    let mut names = BTreeMap::new();
    for e in t.events.iter().filter(|e| e.kind == "spawn") {
        if let (Some(pid), Some(name)) = (arg::<u32>(e, 0), e.args.get(2)) {
            names.insert((e.node, pid), name.clone());
        }
    }
    let program = |node: u32, pid: u32| names.get(&(node, pid)).cloned().unwrap_or_else(|| "?".into());
    let end_of_trace = t.events.iter().map(|e| t.micros(e.node, e.time)).fold(0.0, f64::max);
    // Slices: a run to the next stop on the same core.
    let mut open: BTreeMap<(u32, u32), (u32, f64)> = BTreeMap::new();
    let mut sends: BTreeMap<(u32, u32, u64), (f64, u32, String)> = BTreeMap::new();
    let mut receipts = Vec::new();
    for (i, e) in t.events.iter().enumerate() {
        let (ts, tid, pid) = (t.micros(e.node, e.time), t.tid(e.node, e.core), Trace::pid(e.node));
        // Up to the core's next event (events are sorted by node, core, time).
        let next = t.events.get(i + 1).filter(|n| (n.node, n.core) == (e.node, e.core));
        let room = next.map_or(MESSAGE_US, |n| (t.micros(n.node, n.time) - ts).clamp(0.0, MESSAGE_US));
        let slice = |out: &mut Vec<Value>, start: f64, prog: u32, end: &str, ts: f64| {
            let name = format!("{} (pid {prog})", program(e.node, prog));
            out.push(json!({"ph": "X", "cat": "run", "name": name, "pid": pid, "tid": tid, "ts": start,
                "dur": (ts - start).max(0.0), "args": {"pid": prog, "program": program(e.node, prog), "end": end}}));
        };
        let prog: u32 = arg(e, 0).unwrap_or(0);
        match e.kind.as_str() {
            "run" => {
                if let Some((before, start)) = open.insert((e.node, e.core), (prog, ts)) {
                    slice(&mut out, start, before, "unknown", ts);
                    sum.slices += 1;
                }
            }
            "stop" => {
                if let Some((running, start)) = open.remove(&(e.node, e.core)) {
                    let why = e.args.get(1).map_or("unknown", String::as_str);
                    slice(&mut out, start, running, why, ts);
                    sum.slices += 1;
                }
            }
            "wake" | "spawn" | "exit" | "move" | "leave" | "arrive" | "depart" => {
                let name = format!("{} {} (pid {prog})", e.kind, program(e.node, prog));
                let cat = if matches!(e.kind.as_str(), "move" | "leave" | "arrive" | "depart") {
                    "migrate"
                } else {
                    e.kind.as_str()
                };
                out.push(json!({"ph": "i", "s": "t", "cat": cat, "name": name, "pid": pid, "tid": tid, "ts": ts,
                    "args": {"pid": prog, "program": program(e.node, prog), "detail": e.args.join(" ")}}));
            }
            "send" | "recv" => {
                let (Some(peer), Some(kind), Some(seq)) = (arg::<u32>(e, 0), arg::<u8>(e, 1), arg::<u64>(e, 2)) else {
                    continue;
                };
                let name = message_name(kind);
                out.push(json!({"ph": "X", "cat": "message", "name": format!("{} {name}", e.kind), "pid": pid,
                    "tid": tid, "ts": ts, "dur": room, "args": {"peer": peer, "seq": seq}}));
                let at = ts + room / 2.0;
                if e.kind == "send" {
                    sends.insert((e.node, peer, seq), (at, tid, name));
                } else {
                    receipts.push(((peer, e.node, seq), at, tid, pid));
                }
            }
            _ => {}
        }
    }
    for ((node, core), (prog, start)) in open {
        let tid = t.tid(node, core);
        let name = format!("{} (pid {prog})", program(node, prog));
        out.push(json!({"ph": "X", "cat": "run", "name": name, "pid": Trace::pid(node), "tid": tid, "ts": start,
            "dur": (end_of_trace - start).max(0.0), "args": {"pid": prog, "program": program(node, prog), "end": "still running"}}));
        sum.slices += 1;
    }
    for (key, ts, tid, pid) in receipts {
        let Some((sent_at, from_tid, name)) = sends.remove(&key) else {
            sum.unmatched_receipts += 1;
            continue;
        };
        // Small numbers: JSON readers in JavaScript lose integers past 2^53.
        let id = sum.flows + 1;
        out.push(
            json!({"ph": "s", "cat": "message", "name": name, "id": id, "pid": Trace::pid(key.0), "tid": from_tid, "ts": sent_at}),
        );
        out.push(
            json!({"ph": "f", "bp": "e", "cat": "message", "name": name, "id": id, "pid": pid, "tid": tid, "ts": ts}),
        );
        sum.flows += 1;
    }
    sum.unmatched_sends = sends.len();
    let doc = json!({
        "traceEvents": out,
        "displayTimeUnit": "ns",
        "otherData": {
            "clock": "generic counter, guest microseconds since boot (QEMU TCG: emulator time)",
            "nodes": nodes_meta,
            "dropped_events": sum.lost,
            "lost_per_node": t.lost,
            "unmatched_sends": sum.unmatched_sends,
            "unmatched_receipts": sum.unmatched_receipts,
        },
    });
    (doc, sum)
}

/// The name of message kind `kind`, as the monitor's `message::Kind` says.
fn message_name(kind: u8) -> String {
    message::Kind::from_u8(kind).map_or_else(|| format!("kind {kind}"), |k| format!("{k:?}"))
}

/// Writes the trace of `console` to `path` as Chrome JSON; returns what it held.
pub fn write(console: &str, path: &std::path::Path) -> Result<Summary> {
    let t = parse(console)?;
    let (doc, sum) = chrome(&t);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, doc.to_string()).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(sum)
}
