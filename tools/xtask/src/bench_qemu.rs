//! QEMU benchmarks: the boot, and the channels between two nodes. Every
//! figure is QEMU TCG guest time (the generic counter), emulator time and
//! not hardware time, and is labelled so.

use crate::qemu::{run_captured, Machine};
use crate::{dtb, report, Result};
use serde_json::{json, Value};
use std::time::Duration;

/// Writes `value` to `target/bench/NAME` and says where.
pub fn write_json(name: &str, value: &Value) -> Result<()> {
    let dir = crate::target_dir().join("bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(name);
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

/// (min, median, max) of a non-empty sorted slice.
fn spread(sorted: &[u64]) -> (u64, u64, u64) {
    (sorted[0], sorted[sorted.len() / 2], sorted[sorted.len() - 1])
}

/// `bench boot`: boot time of each provided topology, `runs` boots each.
pub fn boot(image: &std::path::Path, runs: usize) -> Result<()> {
    let mut rows = Vec::new();
    for (name, gic) in [("1x4", 3), ("4+4", 3), ("4+2+2", 3), ("4+2+2", 2)] {
        let base = Machine { gic, append: "poweroff".into(), ..Machine::default() };
        let m = dtb::machine(dtb::preset(name)?, base)?;
        let mut times = Vec::new();
        for _ in 0..runs {
            let out = run_captured(&m, image, Duration::from_secs(60))?;
            let s = report::parse(&out.console).summary.ok_or("no boot summary printed")?;
            times.push(s.micros);
        }
        times.sort_unstable();
        rows.push((name, gic, m.smp, times));
    }
    println!("boot time, QEMU TCG guest microseconds from boot-driver entry to last node up ({runs} boots each)");
    println!("{:<8} {:>4} {:>5} {:>10} {:>10} {:>10}", "topology", "gic", "cpus", "min", "median", "max");
    let mut out = Vec::new();
    for (name, gic, cpus, t) in &rows {
        let (min, med, max) = spread(t);
        println!("{name:<8} {gic:>4} {cpus:>5} {min:>10} {med:>10} {max:>10}");
        out.push(json!({"topology": name, "gic": gic, "cpus": cpus, "runs_us": t, "median_us": med,
            "unit": "guest microseconds (QEMU TCG emulator time)"}));
    }
    write_json("boot.json", &Value::Array(out))
}

/// The figures of one `bench: channel` line.
const FIELDS: [&str; 3] = ["one_way_ns", "rtt_median_ns", "msgs_per_s"];

/// `bench channel`, QEMU part: round trip and throughput between the first
/// two nodes of the 4+4 topology (GICv3), with doorbell SGIs and polling,
/// `runs` boots.
pub fn channel(image: &std::path::Path, runs: usize) -> Result<()> {
    let base = Machine { gic: 3, append: "poweroff bench=channels".into(), ..Machine::default() };
    let m = dtb::machine(dtb::preset("4+4")?, base)?;
    // mode -> field -> samples
    let mut samples: Vec<(String, Vec<Vec<u64>>)> = Vec::new();
    for _ in 0..runs {
        let out = run_captured(&m, image, Duration::from_secs(120))?;
        let lines = report::parse(&out.console).bench_channel;
        if lines.is_empty() {
            return Err(format!("no `bench: channel` line; console:\n{}", out.console));
        }
        for (mode, fields) in lines {
            let pos = match samples.iter().position(|(m, _)| *m == mode) {
                Some(p) => p,
                None => {
                    samples.push((mode.clone(), vec![Vec::new(); FIELDS.len()]));
                    samples.len() - 1
                }
            };
            for (i, name) in FIELDS.iter().enumerate() {
                let v = fields.iter().find(|(k, _)| k == name).map(|(_, v)| *v).ok_or(format!("no {name}"))?;
                samples[pos].1[i].push(v);
            }
        }
    }
    println!("channel between two nodes (4+4, GICv3), QEMU TCG guest time, {runs} boots: min / median / max");
    println!("{:<6} {:>28} {:>28} {:>32}", "mode", "one-way ns", "round trip ns", "messages/s (56-byte)");
    let mut out = Vec::new();
    for (mode, fields) in &mut samples {
        let mut cols = Vec::new();
        let mut obj = serde_json::Map::new();
        for (i, values) in fields.iter_mut().enumerate() {
            values.sort_unstable();
            let (min, med, max) = spread(values);
            cols.push(format!("{min} / {med} / {max}"));
            obj.insert(FIELDS[i].into(), json!({"runs": values, "median": med}));
        }
        println!("{mode:<6} {:>28} {:>28} {:>32}", cols[0], cols[1], cols[2]);
        obj.insert("mode".into(), json!(mode));
        obj.insert("unit".into(), json!("QEMU TCG guest time (emulator time, not hardware)"));
        out.push(Value::Object(obj));
    }
    write_json("channel-qemu.json", &Value::Array(out))
}

/// The figures of the `bench: processes` line, with what each means.
const PROCESS_FIELDS: [(&str, &str); 4] = [
    ("call_ns", "plain function call (baseline)"),
    ("null_call_ns", "null system call round trip"),
    ("yield_ns", "yield, nothing else to run"),
    ("switch_ns", "context switch (yield to another program)"),
];

/// `bench processes`: the `sysbench` program on the one-cluster and the
/// RK3588-shaped machines, `runs` boots each: a null system call and a
/// context switch against a plain function call measured in the same run.
pub fn processes(image: &std::path::Path, runs: usize) -> Result<()> {
    let mut out = Vec::new();
    println!("system calls and context switches, QEMU TCG guest ns (emulator time), {runs} boots: min / median / max");
    println!("{:<8} {:<44} {:>24}", "topology", "what", "ns");
    for name in ["1x4", "4+2+2"] {
        let base = Machine { gic: 3, append: "poweroff run=sysbench".into(), ..Machine::default() };
        let m = dtb::machine(dtb::preset(name)?, base)?;
        let mut samples = vec![Vec::new(); PROCESS_FIELDS.len()];
        for _ in 0..runs {
            let run = run_captured(&m, image, Duration::from_secs(120))?;
            let fields = run
                .console
                .lines()
                .find_map(report::bench_processes_line)
                .ok_or_else(|| format!("no `bench: processes` line; console:\n{}", run.console))?;
            for (i, (key, _)) in PROCESS_FIELDS.iter().enumerate() {
                let v = fields.iter().find(|(k, _)| k == key).map(|(_, v)| *v).ok_or(format!("no {key}"))?;
                samples[i].push(v);
            }
        }
        let mut obj = serde_json::Map::new();
        for (i, values) in samples.iter_mut().enumerate() {
            values.sort_unstable();
            let (min, med, max) = spread(values);
            let (key, what) = PROCESS_FIELDS[i];
            println!("{name:<8} {what:<44} {:>24}", format!("{min} / {med} / {max}"));
            obj.insert(key.into(), json!({"runs": values, "median": med, "what": what}));
        }
        obj.insert("topology".into(), json!(name));
        obj.insert("unit".into(), json!("guest nanoseconds (QEMU TCG emulator time, not hardware)"));
        out.push(Value::Object(obj));
    }
    write_json("processes.json", &Value::Array(out))
}
