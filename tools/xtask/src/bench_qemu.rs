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
    crate::outln!("wrote {}", path.display());
    Ok(())
}

/// (min, median, max) of a non-empty sorted slice.
pub(crate) fn spread(sorted: &[u64]) -> (u64, u64, u64) {
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
    crate::outln!("boot time, QEMU TCG guest microseconds from boot-driver entry to last node up ({runs} boots each)");
    crate::outln!("{:<8} {:>4} {:>5} {:>10} {:>10} {:>10}", "topology", "gic", "cpus", "min", "median", "max");
    let mut out = Vec::new();
    for (name, gic, cpus, t) in &rows {
        let (min, med, max) = spread(t);
        crate::outln!("{name:<8} {gic:>4} {cpus:>5} {min:>10} {med:>10} {max:>10}");
        out.push(json!({"topology": name, "gic": gic, "cpus": cpus, "runs_us": t, "median_us": med,
            "unit": "guest microseconds (QEMU TCG emulator time)"}));
    }
    write_json("boot.json", &Value::Array(out))?;
    let m = dtb::machine(dtb::preset("4+2+2")?, Machine { gic: 3, append: "poweroff".into(), ..Machine::default() })?;
    traced_boot("boot", &m, image, Duration::from_secs(60))
}

/// The figure `key` of a benchmark line's `key=number` fields.
fn field(fields: &[(String, u64)], key: &str) -> Result<u64> {
    fields.iter().find(|(k, _)| k == key).map(|(_, v)| *v).ok_or(format!("no {key}"))
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
                let v = field(&fields, name)?;
                samples[pos].1[i].push(v);
            }
        }
    }
    crate::outln!("channel between two nodes (4+4, GICv3), QEMU TCG guest time, {runs} boots: min / median / max");
    crate::outln!("{:<6} {:>28} {:>28} {:>32}", "mode", "one-way ns", "round trip ns", "messages/s (56-byte)");
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
        crate::outln!("{mode:<6} {:>28} {:>28} {:>32}", cols[0], cols[1], cols[2]);
        obj.insert("mode".into(), json!(mode));
        obj.insert("unit".into(), json!("QEMU TCG guest time (emulator time, not hardware)"));
        out.push(Value::Object(obj));
    }
    let out = Value::Array(out);
    write_json("channel-qemu.json", &out)?;
    crate::charts::beside("channel-qemu.json", &out, crate::charts::channel_qemu)?;
    traced_boot("channel-qemu", &m, image, Duration::from_secs(120))
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
    crate::outln!(
        "system calls and context switches, QEMU TCG guest ns (emulator time), {runs} boots each with the bootarg \
         trace off and on, interleaved: min / median / max"
    );
    crate::outln!("{:<8} {:<6} {:<44} {:>24}", "topology", "trace", "what", "ns");
    for name in ["1x4", "4+2+2"] {
        let base = Machine { gic: 3, append: "poweroff run=sysbench".into(), ..Machine::default() };
        let m = dtb::machine(dtb::preset(name)?, base)?;
        let traced = Machine { append: format!("{} trace", m.append), ..m.clone() };
        let mut samples = [vec![Vec::new(); PROCESS_FIELDS.len()], vec![Vec::new(); PROCESS_FIELDS.len()]];
        for r in 0..runs {
            for (t, machine) in [&m, &traced].into_iter().enumerate() {
                let run = run_captured(machine, image, Duration::from_secs(120))?;
                let fields = run
                    .console
                    .lines()
                    .find_map(report::bench_processes_line)
                    .ok_or_else(|| format!("no `bench: processes` line; console:\n{}", run.console))?;
                for (i, (key, _)) in PROCESS_FIELDS.iter().enumerate() {
                    samples[t][i].push(field(&fields, key)?);
                }
                if t == 1 && r + 1 == runs {
                    write_trace(&format!("processes-{name}"), &run.console)?;
                }
            }
        }
        for (t, samples) in samples.iter_mut().enumerate() {
            let trace = if t == 1 { "on" } else { "off" };
            let mut obj = serde_json::Map::new();
            for (i, values) in samples.iter_mut().enumerate() {
                values.sort_unstable();
                let (min, med, max) = spread(values);
                let (key, what) = PROCESS_FIELDS[i];
                crate::outln!("{name:<8} {trace:<6} {what:<44} {:>24}", format!("{min} / {med} / {max}"));
                obj.insert(key.into(), json!({"runs": values, "median": med, "what": what}));
            }
            obj.insert("topology".into(), json!(name));
            obj.insert("trace".into(), json!(t == 1));
            obj.insert("unit".into(), json!("guest nanoseconds (QEMU TCG emulator time, not hardware)"));
            out.push(Value::Object(obj));
        }
    }
    let out = Value::Array(out);
    write_json("processes.json", &out)?;
    crate::charts::beside("processes.json", &out, crate::charts::processes)
}

/// Writes the trace in a benchmark run's console (booted with `trace`)
/// beside the benchmark's JSON, as `NAME-trace.json`.
fn write_trace(name: &str, console: &str) -> Result<()> {
    let path = crate::target_dir().join("bench").join(format!("{name}-trace.json"));
    crate::trace::write(console, &path)?;
    crate::outln!("wrote {}", path.display());
    Ok(())
}

/// One more boot of `m` with the bootarg `trace`, for the trace of a
/// benchmark that measures without it.
pub(crate) fn traced_boot(name: &str, m: &Machine, image: &std::path::Path, timeout: Duration) -> Result<()> {
    let m = Machine { append: format!("{} trace", m.append), ..m.clone() };
    write_trace(name, &run_captured(&m, image, timeout)?.console)
}

/// Work units per core in `bench capacity` (about a second per LITTLE core
/// with the pacer at its default rate).
const CAPACITY_UNITS: u64 = 600;

/// One boot of `m` with `args`; every `bench: capacity` figure, by node.
fn capacity_figures(m: &Machine, image: &std::path::Path, args: &str) -> Result<Vec<(usize, u64)>> {
    let mut m = m.clone();
    m.append = format!("poweroff {args}");
    let run = run_captured(&m, image, Duration::from_secs(300))?;
    let figures: Vec<(usize, u64)> =
        run.console.lines().filter_map(report::bench_capacity_line).map(|(node, _, rate)| (node, rate)).collect();
    if figures.is_empty() {
        return Err(format!("no `bench: capacity` line; console:\n{}", run.console));
    }
    Ok(figures)
}

/// Median of the LITTLE cores' rates over the big cores' (big: capacity 1024).
fn little_big_ratio(figures: &[(usize, u64)], capacity: &[u32]) -> Result<f64> {
    let median = |mut v: Vec<u64>| -> Option<f64> {
        v.sort_unstable();
        v.get(v.len() / 2).map(|&x| x as f64)
    };
    let of =
        |big: bool| figures.iter().filter(|(n, _)| (capacity.get(*n) == Some(&1024)) == big).map(|f| f.1).collect();
    match (median(of(false)), median(of(true))) {
        (Some(little), Some(big)) if big > 0.0 => Ok(little / big),
        _ => Err("the run has no LITTLE or no big figures".into()),
    }
}

/// `bench capacity`: per-core throughput of a fixed workload (`capbench`)
/// on the 4+4 (1024/530) and 4+2+2 machines, with the pacer plugin on and
/// off, each core measured alone (`idle`: one boot per node, its cores one
/// at a time) and with every core busy; the LITTLE/big ratio per run
/// against the device tree's.
pub fn capacity(image: &std::path::Path, runs: usize) -> Result<()> {
    let mut out = Vec::new();
    crate::outln!(
        "LITTLE/big throughput ratio, QEMU TCG guest time, {runs} runs: median (min..max); device tree ratio"
    );
    crate::outln!("{:<8} {:<7} {:<5} {:>26} {:>8} {:>10}", "topology", "pacer", "mode", "measured", "dt", "off by");
    for name in ["4+4", "4+2+2"] {
        let base = dtb::machine(dtb::preset(name)?, Machine { gic: 3, ..Machine::default() })?;
        let blob = std::fs::read(base.dtb.as_ref().ok_or("preset has no DTB")?).map_err(|e| e.to_string())?;
        let plan = crate::plan::plan(&blob)?;
        let capacity: Vec<u32> = plan.nodes.iter().map(|n| n.capacity).collect();
        let little = capacity.iter().copied().filter(|&c| c < 1024).min().ok_or("no LITTLE node")?;
        let dt_ratio = f64::from(little) / 1024.0;
        let all_nodes: Vec<String> =
            (0..capacity.len()).map(|n| format!("run@{n}=capbench:busy:{CAPACITY_UNITS}")).collect();
        for pacer in [false, true] {
            let mut m = base.clone();
            if pacer {
                crate::asym::apply(&mut m, crate::asym::DEFAULT_RATE)?;
            }
            for mode in ["idle", "busy"] {
                let mut ratios = Vec::new();
                for _ in 0..runs {
                    let figures = if mode == "busy" {
                        capacity_figures(&m, image, &all_nodes.join(" "))?
                    } else {
                        let mut all = Vec::new();
                        for n in 0..capacity.len() {
                            all.extend(capacity_figures(
                                &m,
                                image,
                                &format!("run@{n}=capbench:idle:{CAPACITY_UNITS}"),
                            )?);
                        }
                        all
                    };
                    ratios.push(little_big_ratio(&figures, &capacity)?);
                }
                ratios.sort_by(f64::total_cmp);
                let median = ratios[ratios.len() / 2];
                let want = if pacer { dt_ratio } else { 1.0 };
                let off = (median - want) / want * 100.0;
                let (min, max) = (ratios[0], ratios[ratios.len() - 1]);
                let pacer_name = if pacer { "on" } else { "off" };
                crate::outln!(
                    "{name:<8} {pacer_name:<7} {mode:<5} {:>26} {want:>8.3} {off:>+9.1}%",
                    format!("{median:.3} ({min:.3}..{max:.3})")
                );
                out.push(json!({"topology": name, "pacer": pacer, "mode": mode, "ratios": ratios,
                    "median": median, "expected": want, "off_by_percent": off, "device_tree_ratio": dt_ratio,
                    "unit": "LITTLE/big work per guest second (QEMU TCG guest time)"}));
            }
        }
    }
    let out = Value::Array(out);
    write_json("capacity.json", &out)?;
    crate::charts::beside("capacity.json", &out, crate::charts::capacity)?;
    // The schedule of one busy run on the really asymmetric RK3588 shape.
    let mut m = dtb::machine(dtb::preset("4+2+2")?, Machine { gic: 3, ..Machine::default() })?;
    crate::asym::apply(&mut m, crate::asym::DEFAULT_RATE)?;
    m.append = format!(
        "poweroff {}",
        (0..3).map(|n| format!("run@{n}=capbench:busy:{CAPACITY_UNITS}")).collect::<Vec<_>>().join(" ")
    );
    traced_boot("capacity", &m, image, Duration::from_secs(300))
}
