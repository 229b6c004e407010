//! `cargo xtask plot`: the trace model of small hand-written traces, the
//! pictures it draws, and the benchmark charts.

use serde_json::{json, Value};
use std::path::PathBuf;
use xtask::charts;
use xtask::plot::{self, write_both, Schedule};

/// Two nodes of two cores; node 1's core 1 runs nothing. `heavy` moves from
/// node 0 core 0 to core 1; both nodes have an `init` with pid 1; one
/// message from node 0 to node 1. Events are not in time order.
fn trace() -> Value {
    json!({
        "traceEvents": [
            {"ph":"M","name":"process_name","pid":1,"args":{"name":"node 1 LITTLE capacity=530"}},
            {"ph":"M","name":"thread_name","pid":1,"tid":4,"args":{"name":"core 0 mpidr=0x100"}},
            {"ph":"X","name":"heavy (pid 3)","cat":"run","pid":0,"tid":1,"ts":1500.0,"dur":2000.0,
             "args":{"pid":3,"program":"heavy","end":"exit"}},
            {"ph":"X","name":"heavy (pid 3)","cat":"run","pid":0,"tid":0,"ts":1000.0,"dur":400.0,
             "args":{"pid":3,"program":"heavy","end":"preempted"}},
            {"ph":"X","name":"init (pid 1)","cat":"run","pid":0,"tid":0,"ts":500.0,"dur":500.0,
             "args":{"pid":1,"program":"init","end":"blocked"}},
            {"ph":"X","name":"init (pid 1)","cat":"run","pid":1,"tid":4,"ts":600.0,"dur":300.0,
             "args":{"pid":1,"program":"init","end":"blocked"}},
            {"ph":"X","name":"light (pid 2)","cat":"run","pid":1,"tid":4,"ts":1000.0,"dur":1500.0,
             "args":{"pid":2,"program":"light","end":"exit"}},
            {"ph":"i","s":"t","name":"wake","cat":"wake","pid":0,"tid":0,"ts":990.0,"args":{"pid":3}},
            {"ph":"X","name":"irq","cat":"other","pid":0,"tid":0,"ts":100.0,"dur":1.0},
            {"ph":"s","id":17,"name":"Hello","cat":"message","pid":0,"tid":0,"ts":800.0},
            {"ph":"f","bp":"e","id":17,"name":"Hello","cat":"message","pid":1,"tid":4,"ts":850.0}
        ],
        "displayTimeUnit": "ns",
        "otherData": {"nodes": [
            {"node":1,"build":"little","capacity":530,"cores":[
                {"core":1,"tid":5,"mpidr":"0x101"},{"core":0,"tid":4,"mpidr":"0x100"}]},
            {"node":0,"build":"big","capacity":1024,"cores":[
                {"core":0,"tid":0,"mpidr":"0x0"},{"core":1,"tid":1,"mpidr":"0x1"}]}
        ], "dropped_events": 0}
    })
}

const LABELS: [&str; 4] = [
    "node 0 big cap 1024 / core 0",
    "node 0 big cap 1024 / core 1",
    "node 1 little cap 530 / core 0",
    "node 1 little cap 530 / core 1",
];

#[test]
fn rows_are_by_node_then_core_with_their_labels() {
    let t = plot::parse(&trace()).expect("trace");
    let labels: Vec<&str> = t.rows.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, LABELS);
    let cores: Vec<(u64, u64)> = t.rows.iter().map(|r| (r.node, r.tid)).collect();
    assert_eq!(cores, [(0, 0), (0, 1), (1, 4), (1, 5)]);
}

#[test]
fn slices_land_on_their_rows_in_ms_since_the_first_event() {
    let t = plot::parse(&trace()).expect("trace");
    let per_row: Vec<usize> = (0..t.rows.len()).map(|r| t.slices.iter().filter(|s| s.row == r).count()).collect();
    assert_eq!(per_row, [2, 1, 2, 0], "the core without slices keeps its row; cat other is no slice");
    // The first event is the "irq" at 100 us, so heavy's first slice is 0.9..1.3 ms.
    let heavy = t.programs.iter().position(|p| p.name == "heavy").expect("heavy");
    let mut own: Vec<(usize, f64, f64)> =
        t.slices.iter().filter(|s| s.program == heavy).map(|s| (s.row, s.start_ms, s.end_ms)).collect();
    own.sort_by(|a, b| a.1.total_cmp(&b.1));
    assert_eq!(own, [(0, 0.9, 1.3), (1, 1.4, 3.4)]);
    assert!((t.end_ms - 3.4).abs() < 1e-9, "{}", t.end_ms);
}

#[test]
fn programs_are_per_node_and_pid_with_unambiguous_labels() {
    let t = plot::parse(&trace()).expect("trace");
    let labels: Vec<&str> = t.programs.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(labels, ["init (pid 1, node 0)", "heavy (pid 3)", "init (pid 1, node 1)", "light (pid 2)"]);
}

#[test]
fn migrations_and_messages_are_found() {
    let t = plot::parse(&trace()).expect("trace");
    assert_eq!(t.migrations.len(), 1, "{:?}", t.migrations);
    let m = &t.migrations[0];
    assert_eq!((m.from_row, m.to_row), (0, 1));
    assert!((m.from_ms - 1.3).abs() < 1e-9 && (m.to_ms - 1.4).abs() < 1e-9);
    assert_eq!(t.programs[m.program.expect("a program")].name, "heavy");
    assert_eq!(t.messages.len(), 1);
    assert_eq!((t.messages[0].from_row, t.messages[0].to_row), (0, 2));
    assert!((t.messages[0].from_ms - 0.7).abs() < 1e-9 && (t.messages[0].to_ms - 0.75).abs() < 1e-9);
}

#[test]
fn labels_come_from_the_metadata_without_other_data_else_from_the_numbers() {
    let mut doc = trace();
    doc.as_object_mut().expect("object").remove("otherData");
    let t = plot::parse(&doc).expect("trace");
    let labels: Vec<&str> = t.rows.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["node 0 / tid 0", "node 0 / tid 1", "node 1 LITTLE capacity=530 / core 0 mpidr=0x100"]);
    // The bare array form has no metadata at all here but the slices.
    let bare = json!([{"ph":"X","cat":"run","pid":2,"tid":7,"ts":5.0,"dur":1.0,"args":{"pid":4}}]);
    let t = plot::parse(&bare).expect("bare array");
    assert_eq!(t.rows[0].label, "node 2 / tid 7");
    assert_eq!(t.programs[0].label, "? (pid 4)");
}

#[test]
fn bad_input_is_refused_in_one_line() {
    let cases = [
        (json!({"foo": 1}), "no traceEvents"),
        (json!({"traceEvents": []}), "no run slices"),
        (
            json!({"traceEvents": [{"ph":"M","name":"thread_name","pid":0,"tid":0,"args":{"name":"core 0"}}]}),
            "no run slices",
        ),
        (
            json!({"traceEvents": [{"ph":"X","cat":"run","pid":0,"tid":0,"dur":1.0,"args":{"pid":1}}]}),
            "event 0 (a run slice): no numeric ts",
        ),
        (
            json!({"traceEvents": [{"ph":"X","cat":"run","pid":0,"tid":0,"ts":0.0,"dur":-1.0,"args":{"pid":1}}]}),
            "out of range",
        ),
        (json!({"traceEvents": [{"ph":"X","cat":"run","pid":0,"tid":0,"ts":0.0,"dur":1.0}]}), "args.pid"),
    ];
    for (doc, want) in cases {
        let e = plot::parse(&doc).expect_err("refused");
        assert!(e.contains(want) && !e.contains('\n'), "{doc}: {e}");
    }
    let dir = out_dir();
    let missing = plot::load(&dir.join("no-such-trace.json")).expect_err("missing file");
    assert!(missing.contains("no-such-trace.json") && !missing.contains('\n'), "{missing}");
    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, "{\"traceEvents\": [").expect("write");
    let e = plot::load(&garbage).expect_err("not JSON");
    assert!(e.contains("garbage.json: not JSON") && !e.contains('\n'), "{e}");
}

fn out_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plot");
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir
}

/// Reads both files of `paths` and checks each is what its name says.
fn check_pictures(paths: &[PathBuf; 2], texts: &[&str]) {
    let svg = std::fs::read_to_string(&paths[0]).expect("svg");
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{}", paths[0].display());
    for t in texts {
        assert!(svg.contains(t), "{} lacks {t:?}", paths[0].display());
    }
    let png = std::fs::read(&paths[1]).expect("png");
    assert!(png.len() > 1000 && png.starts_with(b"\x89PNG\r\n\x1a\n"), "{}", paths[1].display());
}

#[test]
fn the_schedule_is_drawn_as_svg_and_png() {
    let t = plot::parse(&trace()).expect("trace");
    let prefix = out_dir().join("schedule");
    let paths = write_both(&Schedule::new(&t, "test trace"), &prefix).expect("drawn");
    assert_eq!(paths[0], out_dir().join("schedule.svg"));
    assert_eq!(paths[1], out_dir().join("schedule.png"));
    let mut texts = LABELS.to_vec();
    texts.extend(["heavy (pid 3)", "light (pid 2)", "guest ms"]);
    check_pictures(&paths, &texts);
}

#[test]
fn the_command_writes_beside_the_trace_unless_told() {
    let dir = out_dir();
    let file = dir.join("cmd.trace.json");
    std::fs::write(&file, trace().to_string()).expect("write");
    plot::command(&file, None).expect("plot");
    assert!(dir.join("cmd.trace.svg").is_file() && dir.join("cmd.trace.png").is_file());
    plot::command(&file, Some(&dir.join("sub").join("other"))).expect("plot --out");
    assert!(dir.join("sub").join("other.png").is_file());
}

#[test]
fn capacity_chart() {
    let runs = |m: f64| json!({"runs": [m * 0.9, m, m * 1.1], "median": m});
    let mut v = Vec::new();
    for topology in ["4+4", "4+2+2"] {
        for pacer in [false, true] {
            for mode in ["idle", "busy"] {
                let median = if pacer { 0.516 } else { 0.9 };
                v.push(json!({"topology": topology, "pacer": pacer, "mode": mode, "ratios": runs(median)["runs"],
                    "median": median, "expected": if pacer { 0.518 } else { 1.0 }, "off_by_percent": -0.3,
                    "device_tree_ratio": 0.518, "unit": "LITTLE/big"}));
            }
        }
    }
    let chart = charts::capacity(&Value::Array(v)).expect("chart");
    let paths = write_both(&chart, &out_dir().join("capacity")).expect("drawn");
    check_pictures(&paths, &["4+2+2, pacer on", "idle", "busy", "expected"]);
    assert!(charts::capacity(&json!({})).is_err());
    assert!(charts::capacity(&json!([{"topology": "4+4"}])).is_err());
}

#[test]
fn channel_charts() {
    let row = |contender: &str, metric: &str, api: &str, slots: u64, median: f64| {
        json!({"contender": contender, "metric": metric, "api": api, "slots": slots, "median": median,
            "min": median * 0.8, "max": median * 1.3, "unit": "x"})
    };
    // The rows channel-bench writes: 7 latency rows, 6 throughput rows per ring size.
    let mut rows = vec![
        row("raw line", "latency", "spin on one line", 1, 45.0),
        row("raw ring", "latency", "two fixed lines", 1, 50.0),
        row("raw ring", "latency", "lines, no queue", 255, 55.0),
        row("ring", "latency", "try_send/try_recv", 255, 60.0),
        row("ring", "latency", "in place (_with)", 255, 58.0),
        row("rtrb", "latency", "push/pop", 255, 70.0),
        row("crossbeam", "latency", "try_send/try_recv", 255, 120.0),
    ];
    for slots in [255, 1024] {
        for (i, (contender, api)) in [
            ("ring", "per-message"),
            ("ring", "in place (_with)"),
            ("rtrb", "per-message"),
            ("crossbeam", "per-message"),
            ("ring", "batched"),
            ("rtrb", "batched"),
        ]
        .into_iter()
        .enumerate()
        {
            rows.push(row(contender, "throughput", api, slots, (20 + 5 * i) as f64 * 1e6));
        }
    }
    let host = json!({"benchmark": "channel-host", "runs": 3, "rows": rows});
    let paths =
        write_both(&charts::channel_host(&host).expect("host chart"), &out_dir().join("channel-host")).expect("drawn");
    check_pictures(&paths, &["crossbeam:", "1024 slots", "rtrb batched", "million messages/s"]);

    let figure = |m: u64| json!({"runs": [m, m + m / 10, m - m / 10], "median": m});
    let qemu = json!([
        {"mode": "ipi", "one_way_ns": figure(9000), "rtt_median_ns": figure(18000), "msgs_per_s": figure(150000)},
        {"mode": "poll", "one_way_ns": figure(2300), "rtt_median_ns": figure(4608), "msgs_per_s": figure(400000)},
    ]);
    let paths =
        write_both(&charts::channel_qemu(&qemu).expect("qemu chart"), &out_dir().join("channel-qemu")).expect("drawn");
    check_pictures(&paths, &["ipi", "poll", "one-way", "messages/s"]);
    assert!(charts::channel_host(&json!({"rows": 3})).is_err());
    assert!(charts::channel_qemu(&json!([{"mode": "ipi"}])).is_err());
}

#[test]
fn processes_chart() {
    let figure = |m: u64, what: &str| json!({"runs": [m, m + 5, m + m / 8], "median": m, "what": what});
    let v = json!([
        {"topology": "1x4", "call_ns": figure(10, "plain function call (baseline)"),
         "null_call_ns": figure(1168, "null system call round trip"),
         "yield_ns": figure(4868, "yield, nothing else to run"),
         "switch_ns": figure(20071, "context switch (yield to another program)"), "unit": "ns"},
        {"topology": "4+2+2", "call_ns": figure(10, "plain function call (baseline)"),
         "null_call_ns": figure(1222, "null system call round trip"),
         "yield_ns": figure(5984, "yield, nothing else to run"),
         "switch_ns": figure(20906, "context switch (yield to another program)"), "unit": "ns"},
    ]);
    let chart = charts::processes(&v).expect("chart");
    // Cheapest first.
    assert_eq!(chart.panels[0].groups[0], "plain function call (baseline)");
    assert_eq!(chart.panels[0].groups[3], "context switch (yield to another program)");
    let paths = write_both(&chart, &out_dir().join("processes")).expect("drawn");
    check_pictures(&paths, &["1x4", "4+2+2", "null system call"]);
}
