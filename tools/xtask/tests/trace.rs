//! The trace converter on lines written by the kernel's own encoder
//! (`trace_ring::write_line`): tracks per node and core, slices from run to
//! stop, names from spawns, flows from send to receipt, losses reported.

use trace_ring::{write_line, Event, Kind, StopReason};
use xtask::trace::{chrome, parse};

fn line(node: u32, core: u32, e: Event) -> String {
    let mut s = String::new();
    write_line(&mut s, node, core, &e).expect("fmt");
    s + "\n"
}

fn ev(kind: Kind, time: u64, pid: u32) -> Event {
    Event::new(kind, time, pid)
}

fn console() -> String {
    let mut c = String::from("boot: 2 nodes\n");
    c += "trace: node 0 begin build=little capacity=530 cores=2 hz=1000000 mpidr=0x0,0x1\n";
    c += "trace: node 1 begin build=big capacity=1024 cores=1 hz=1000000 mpidr=0x100\n";
    let mut spawn = ev(Kind::Spawn, 10, 3);
    spawn.name[..5].copy_from_slice(b"heavy");
    spawn.arg = 1;
    c += &line(0, 0, spawn);
    c += &line(0, 0, ev(Kind::Run, 20, 3));
    let mut stop = ev(Kind::Stop, 30, 3);
    stop.reason = StopReason::Preempted as u8;
    c += &line(0, 0, stop);
    let mut mv = ev(Kind::Move, 31, 3);
    (mv.arg, mv.peer) = (0, 1);
    c += &line(0, 1, mv);
    c += &line(0, 1, ev(Kind::Run, 32, 3));
    let mut send = ev(Kind::Send, 40, 0);
    (send.peer, send.reason, send.arg) = (1, 8, 5);
    c += &line(0, 0, send);
    let mut recv = ev(Kind::Recv, 45, 0);
    (recv.peer, recv.reason, recv.arg) = (0, 8, 5);
    c += &line(1, 0, recv);
    let mut in_flight = ev(Kind::Send, 50, 0);
    (in_flight.peer, in_flight.reason, in_flight.arg) = (1, 8, 6);
    c += &line(0, 0, in_flight);
    c += "user fault: unrelated line\n";
    c += "trace: node 0 end events=7 lost=2\n";
    c += "trace: node 1 end events=1 lost=0\n";
    c += "trace: done nodes=2 events=8 lost=2 missing=0\n";
    c
}

#[test]
fn converts_a_trace_into_tracks_slices_and_flows() {
    let t = parse(&console()).expect("parses");
    assert_eq!(t.nodes.len(), 2);
    assert_eq!(t.tid(1, 0), 3, "cores are numbered machine-wide in node order, from 1");
    let (doc, sum) = chrome(&t);
    assert_eq!((sum.slices, sum.flows, sum.unmatched_sends, sum.unmatched_receipts, sum.lost), (2, 1, 1, 0, 2));
    let events = doc["traceEvents"].as_array().expect("events");
    let threads: Vec<&str> =
        events.iter().filter(|e| e["name"] == "thread_name").filter_map(|e| e["args"]["name"].as_str()).collect();
    assert_eq!(threads, ["core 0 mpidr=0x0", "core 1 mpidr=0x1", "core 0 mpidr=0x100"]);
    let runs: Vec<&serde_json::Value> = events.iter().filter(|e| e["cat"] == "run").collect();
    assert_eq!(runs[0]["name"], "heavy (pid 3)");
    assert_eq!((runs[0]["ts"].as_f64(), runs[0]["dur"].as_f64()), (Some(20.0), Some(10.0)));
    assert_eq!(runs[0]["args"]["end"], "preempted");
    assert_eq!(runs[1]["args"]["end"], "still running", "a run with no stop ends at the end of the trace");
    assert_eq!(runs[1]["tid"], 2);
    let flow: Vec<&serde_json::Value> = events.iter().filter(|e| e["ph"] == "s" || e["ph"] == "f").collect();
    assert_eq!(flow.len(), 2);
    assert_eq!(flow[0]["id"], flow[1]["id"]);
    assert_eq!((flow[0]["pid"].as_u64(), flow[1]["pid"].as_u64()), (Some(1), Some(2)), "node N is process N + 1");
    // Each flow end sits inside its message slice (which Perfetto binds it to).
    for f in &flow {
        let inside = events.iter().any(|e| {
            let (ts, dur) = (e["ts"].as_f64().unwrap_or(-1.0), e["dur"].as_f64().unwrap_or(-1.0));
            e["cat"] == "message" && e["ph"] == "X" && e["tid"] == f["tid"] && {
                let at = f["ts"].as_f64().unwrap_or(-1.0);
                ts < at && at < ts + dur
            }
        });
        assert!(inside, "{f} lies in no message slice");
    }
    assert_eq!(flow[0]["name"], "Finished");
    assert!(events.iter().any(|e| e["cat"] == "migrate" && e["tid"] == 2));
    assert_eq!(doc["otherData"]["dropped_events"], 2);
    assert_eq!(doc["otherData"]["nodes"][1]["capacity"], 1024);
}

#[test]
fn refuses_consoles_without_a_trace_or_with_bad_lines() {
    assert!(parse("boot: 1 nodes\n").is_err());
    let bad = "trace: node 0 begin build=big capacity=1024 cores=1 hz=1 mpidr=0x0\ntrace: 0 0 x run 3\n";
    assert!(parse(bad).expect_err("a bad time").contains("trace: 0 0 x run 3"));
    assert!(parse("trace: node 0 begin build=big\n").is_err());
}
