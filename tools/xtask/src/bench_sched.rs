//! `bench sched`: how well each placement policy schedules heavy and light
//! work on big and LITTLE cores, on the 4+4 and 4+2+2 machines with the
//! pacer on (`--asym`), every policy and mix in the same run. Each boot is
//! traced; everything is read from its trace and its programs' lines:
//! makespan (first spawn to last exit), the lower bound (Gonzalez–Sahni,
//! and no less than each program's own clock allows),
//! light wake-up latency, moves between nodes and between cores, the
//! estimated energy (busy time times each node's power from the device
//! tree) and, in `m3`, how soon a program that turns heavy gets a big core.
//! All times are QEMU TCG guest time.

use crate::qemu::{run_captured, Machine};
use crate::trace::{self, Trace};
use crate::{asym, dtb, Result};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// One program of a mix: its `run=` spec, its work in units, and what its
/// clock decides: its last timed wake-up comes `paced_ms` after its start
/// whatever the cores, and `tail_units` of its work come after it.
#[derive(Debug, Clone, Copy)]
struct Program {
    spec: &'static str,
    units: f64,
    count: usize,
    paced_ms: f64,
    tail_units: f64,
}

/// `m2`'s light programs: 200 wake-ups of 1000 iterations, a tenth of a
/// unit each, the last 2 s after its start.
const M2_LIGHT: Program = Program { spec: "light:10:200", units: 20.0, count: 6, paced_ms: 2000.0, tail_units: 0.1 };

/// The mixes: name and programs (all `auto`, placed by the policy).
const MIXES: [(&str, &[Program]); 3] = [
    ("m1-equal-heavy", &[Program { spec: "heavy:1000", units: 1000.0, count: 8, paced_ms: 0.0, tail_units: 1000.0 }]),
    (
        "m2-heavy-light",
        &[Program { spec: "heavy:2000", units: 2000.0, count: 2, paced_ms: 0.0, tail_units: 2000.0 }, M2_LIGHT],
    ),
    (
        "m3-phase",
        &[
            // 100 wake-ups of a tenth of a unit, the last 1 s after its
            // start, then 500 units.
            Program { spec: "phase:1000:10:1000:500", units: 510.0, count: 4, paced_ms: 1000.0, tail_units: 500.1 },
            Program { spec: "heavy:1000", units: 1000.0, count: 4, paced_ms: 0.0, tail_units: 1000.0 },
        ],
    ),
];

/// What each mix's boot runs first, to its end: a small program moved
/// twice round the nodes. QEMU translates the code of each node's kernel
/// copy the first time it runs, and a node's first move and first arrival
/// took 10 to 30 ms more than the next ones, with the node's lock held (a
/// cost of the emulator, not of the kernel: a core runs its code at once).
/// Not part of the figures ([`workload`], and energy counts from the mix's
/// first spawn).
const WARM_UP: &str = "first@0=mover:6:5:memsum:400:4";

/// The policies compared.
const POLICIES: [&str; 3] = ["capacity", "blind", "static"];
/// Longest a benchmark boot may take (host time).
const BOOT_TIMEOUT: Duration = Duration::from_secs(300);

/// The optimal preemptive makespan of jobs of `work` on machines of speed
/// `speeds` (Gonzalez and Sahni, 1978): the largest of the `k` longest
/// jobs over the `k` fastest machines, for every `k` below the number of
/// jobs or machines, and of all the work over the `min(jobs, machines)`
/// fastest machines.
pub fn lower_bound(work: &[f64], speeds: &[f64]) -> f64 {
    let mut p = work.to_vec();
    let mut s = speeds.to_vec();
    p.sort_by(|a, b| b.total_cmp(a));
    s.sort_by(|a, b| b.total_cmp(a));
    let m = p.len().min(s.len());
    if m == 0 {
        return 0.0;
    }
    let prefix = |v: &[f64], k: usize| v[..k].iter().sum::<f64>();
    let mut bound = p.iter().sum::<f64>() / prefix(&s, m);
    for k in 1..m {
        bound = bound.max(prefix(&p, k) / prefix(&s, k));
    }
    bound
}

/// The lower bound of a mix whose programs also wait for their clocks:
/// [`lower_bound`] of their `work`, and no less than the longest of their
/// own `floors` (seconds no schedule can end that program before: its last
/// timed wake-up, then the work after it on the fastest core). A `light`
/// program that wakes every 10 ms 200 times cannot end before 2 s, however
/// little it computes.
pub fn mix_bound(work: &[f64], floors: &[f64], speeds: &[f64]) -> f64 {
    floors.iter().fold(lower_bound(work, speeds), |b, &f| b.max(f))
}

/// What one traced run of a mix shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFigures {
    /// First spawn to last exit of the mix's programs, seconds.
    pub makespan_s: f64,
    /// Busy time of each node's cores times the node's power, joules.
    pub energy_j: f64,
    /// Moves between nodes and between the cores of a node.
    pub moves_across: u64,
    pub moves_within: u64,
    /// Per program: the share of its CPU time on the biggest cores.
    pub big_share: BTreeMap<u32, (String, f64)>,
    /// `light` programs' own median and p99 wake-up latency (us).
    pub light_latency_us: Vec<(u64, u64)>,
    /// `m3`: for each `phase` program, ms from its switch to its first run
    /// on a biggest core (`None`: never).
    pub switch_to_big_ms: Vec<Option<f64>>,
    /// How old each node's view of another was just before an update
    /// replaced it: the receipt of each update (its `NodeState` head) less
    /// the sending of the one before, ms.
    pub view_age_ms: Vec<f64>,
}

/// `message::Kind::NodeState`, the head of a view update.
const NODE_STATE: u8 = 17;

/// [`RunFigures::view_age_ms`] of a run's events.
fn view_ages(events: &[trace::Event], hz: f64) -> Vec<f64> {
    // (from, to, seq) -> send time; (from, to) -> receipts (time, seq).
    let mut sent = BTreeMap::new();
    let mut received: BTreeMap<(u32, u32), Vec<(u64, u64)>> = BTreeMap::new();
    for e in events.iter().filter(|e| e.kind == "send" || e.kind == "recv") {
        let arg = |i: usize| e.args.get(i).and_then(|a| a.parse::<u64>().ok());
        let (Some(peer), Some(kind), Some(seq)) = (arg(0), arg(1), arg(2)) else { continue };
        if kind != u64::from(NODE_STATE) {
            continue;
        }
        if e.kind == "send" {
            sent.insert((e.node, peer as u32, seq), e.time);
        } else {
            received.entry((peer as u32, e.node)).or_default().push((e.time, seq));
        }
    }
    let mut ages = Vec::new();
    for ((from, to), mut r) in received {
        r.sort_unstable();
        for pair in r.windows(2) {
            if let Some(&before) = sent.get(&(from, to, pair[0].1)) {
                ages.push(pair[1].0.saturating_sub(before) as f64 / hz * 1e3);
            }
        }
    }
    ages
}

/// The mix's programs in a traced console: spawned by an `init` (pid at
/// most the node count), not the shell, and not what `init` ran first
/// (`init: node N: first PROG (pid P) ...`: the warm-up).
fn workload(t: &Trace, console: &str) -> BTreeMap<u32, String> {
    let nodes = t.nodes.len() as u32;
    let first: Vec<u32> = console.lines().filter_map(first_pid).collect();
    t.events
        .iter()
        .filter(|e| e.kind == "spawn")
        .filter_map(|e| {
            let pid: u32 = e.args.first()?.parse().ok()?;
            let parent: u32 = e.args.get(1)?.parse().ok()?;
            let name = e.args.get(2)?;
            let mix = parent >= 1 && parent <= nodes && pid > nodes && name != "shell" && !first.contains(&pid);
            mix.then(|| (pid, name.clone()))
        })
        .collect()
}

/// `init: node N: first PROG (pid P) STATUS`: P.
fn first_pid(line: &str) -> Option<u32> {
    let rest = line.strip_prefix("init: node ")?;
    let (_, rest) = rest.split_once(": first ")?;
    let (_, rest) = rest.split_once("(pid ")?;
    rest.split_once(')')?.0.parse().ok()
}

/// The figures of one run: its console (booted with `trace`) and the power
/// of each node's busy core in watts.
pub fn figures(console: &str, power_w: &[f64]) -> Result<RunFigures> {
    let t = trace::parse(console)?;
    let lost: u64 = t.lost.values().sum();
    if lost > 0 {
        return Err(format!("the trace lost {lost} events: the figures would be wrong"));
    }
    let hz = t.nodes.values().map(|n| n.hz).next().filter(|&hz| hz > 0).ok_or("no trace header")? as f64;
    let programs = workload(&t, console);
    if programs.is_empty() {
        return Err(format!("no program of the mix was spawned; console:\n{console}"));
    }
    let biggest = t.nodes.values().map(|n| n.capacity).max().unwrap_or(0);
    let big_node = |n: u32| t.nodes.get(&n).is_some_and(|h| h.capacity == biggest);
    let mut events = t.events.clone();
    events.sort_by_key(|e| e.time);
    let pid_of = |e: &trace::Event| e.args.first().and_then(|a| a.parse::<u32>().ok());
    let mut f = RunFigures::default();
    let (mut first, mut last) = (u64::MAX, 0);
    let mut running: BTreeMap<(u32, u32), (u32, u64)> = BTreeMap::new();
    let mut cpu: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
    // Every core's busy stretches: (node, start, end), for the energy.
    let mut slices: Vec<(u32, u64, u64)> = Vec::new();
    for e in &events {
        let Some(pid) = pid_of(e) else { continue };
        let ours = programs.contains_key(&pid);
        match e.kind.as_str() {
            "spawn" if ours => first = first.min(e.time),
            "exit" if ours => last = last.max(e.time),
            "leave" if ours => f.moves_across += 1,
            "move" if ours => f.moves_within += 1,
            "run" => {
                running.insert((e.node, e.core), (pid, e.time));
            }
            "stop" => {
                if let Some((p, start)) = running.remove(&(e.node, e.core)) {
                    let ticks = e.time.saturating_sub(start);
                    slices.push((e.node, start, e.time));
                    let c = cpu.entry(p).or_default();
                    c.0 += ticks;
                    if big_node(e.node) {
                        c.1 += ticks;
                    }
                }
            }
            _ => {}
        }
    }
    if last < first {
        return Err("the mix's programs did not all exit".into());
    }
    f.makespan_s = (last - first) as f64 / hz;
    // The machine's energy while the mix ran (a warm-up before it, or
    // what runs after, is not the mix's).
    f.energy_j = slices
        .iter()
        .map(|&(node, start, end)| {
            let busy = end.min(last).saturating_sub(start.max(first));
            busy as f64 / hz * power_w.get(node as usize).copied().unwrap_or(0.0)
        })
        .sum();
    for (pid, name) in &programs {
        let (all, big) = cpu.get(pid).copied().unwrap_or((0, 0));
        f.big_share.insert(*pid, (name.clone(), if all == 0 { 0.0 } else { big as f64 / all as f64 }));
    }
    f.light_latency_us = console.lines().filter_map(light_latency).collect();
    f.view_age_ms = view_ages(&events, hz);
    for (pid, at_ns) in console.lines().filter_map(phase_switch) {
        let at = (at_ns as f64 * hz / 1e9) as u64;
        let mine = |e: &&trace::Event| pid_of(e) == Some(pid) && matches!(e.kind.as_str(), "run" | "stop");
        let before = events.iter().filter(mine).take_while(|e| e.time <= at).last();
        let on_big_then = before.is_some_and(|e| e.kind == "run" && big_node(e.node));
        let first_big = events.iter().filter(mine).find(|e| e.time > at && e.kind == "run" && big_node(e.node));
        f.switch_to_big_ms.push(if on_big_then {
            Some(0.0)
        } else {
            first_big.map(|e| (e.time - at) as f64 / hz * 1e3)
        });
    }
    Ok(f)
}

/// One run's light programs, from each one's (median, p99) in us: the
/// median of their medians and the worst of their p99s (NaN: none).
fn light_summary(latency: &[(u64, u64)]) -> (f64, f64) {
    let median = spread(&latency.iter().map(|l| l.0 as f64).collect::<Vec<_>>()).1;
    (median, latency.iter().map(|l| l.1 as f64).fold(f64::NAN, f64::max))
}

/// `light: ... latency median M us p99 Q us ...`: (M, Q).
fn light_latency(line: &str) -> Option<(u64, u64)> {
    let rest = line.strip_prefix("light: ")?;
    let words: Vec<&str> = rest.split_whitespace().collect();
    let after = |key: &str| words.iter().position(|w| *w == key).and_then(|i| words.get(i + 1)?.parse().ok());
    Some((after("median")?, after("p99")?))
}

/// `phase: pid P switched at_ns=T`: (P, T).
fn phase_switch(line: &str) -> Option<(u32, u64)> {
    let rest = line.strip_prefix("phase: pid ")?;
    let (pid, rest) = rest.split_once(" switched at_ns=")?;
    Some((pid.parse().ok()?, rest.trim().parse().ok()?))
}

/// `heavy: ... UNITS units in US us`: seconds.
fn heavy_seconds(console: &str) -> Option<f64> {
    console.lines().filter_map(|l| l.strip_prefix("heavy: ")).find_map(|l| {
        let (_, rest) = l.split_once(" units in ")?;
        Some(rest.strip_suffix(" us")?.parse::<f64>().ok()? / 1e6)
    })
}

/// (min, median, max) of samples.
fn spread(v: &[f64]) -> (f64, f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => (f64::NAN, f64::NAN, f64::NAN),
        n => (s[0], s[n / 2], s[n - 1]),
    }
}

/// One machine: its paced QEMU, each node's capacity and power.
struct Tree {
    machine: Machine,
    capacity: Vec<u32>,
    power_w: Vec<f64>,
    cores: Vec<usize>,
}

fn tree(name: &'static str) -> Result<Tree> {
    let mut machine = dtb::machine(dtb::preset(name)?, Machine { gic: 3, ..Machine::default() })?;
    asym::apply(&mut machine, asym::DEFAULT_RATE)?;
    let blob = std::fs::read(machine.dtb.as_ref().ok_or("preset has no DTB")?).map_err(|e| e.to_string())?;
    let plan = crate::plan::plan(&blob)?;
    let power = |n: &boot_plan::NodePlan| n.energy.map_or(0.0, |e| e.power_uw() as f64 / 1e6);
    Ok(Tree {
        capacity: plan.nodes.iter().map(|n| n.capacity).collect(),
        power_w: plan.nodes.iter().map(power).collect(),
        cores: plan.nodes.iter().map(|n| n.cpus.len()).collect(),
        machine,
    })
}

fn boot(t: &Tree, image: &std::path::Path, args: &str) -> Result<String> {
    let m = Machine { append: format!("poweroff trace {args}"), ..t.machine.clone() };
    let out = run_captured(&m, image, BOOT_TIMEOUT)?;
    if out.exit_code != Some(0) {
        return Err(format!("`{args}` did not power off cleanly; console:\n{}", out.console));
    }
    Ok(out.console)
}

/// `solo`: one `heavy 1000` on a big node, then on a LITTLE one: W and the
/// measured LITTLE/big ratio (medians of `runs`).
fn solo(t: &Tree, image: &std::path::Path, runs: usize) -> Result<(f64, f64)> {
    let big = t.capacity.iter().position(|&c| c == 1024).ok_or("no big node")?;
    let little = (0..t.capacity.len()).min_by_key(|&n| t.capacity[n]).ok_or("no node")?;
    let mut times = [Vec::new(), Vec::new()];
    for _ in 0..runs {
        for (i, node) in [big, little].into_iter().enumerate() {
            let console = boot(t, image, &format!("run@{node}=heavy:1000"))?;
            times[i].push(heavy_seconds(&console).ok_or("no `heavy:` line")?);
        }
    }
    let (w_big, w_little) = (spread(&times[0]).1, spread(&times[1]).1);
    Ok((w_big, w_big / w_little))
}

/// The wake-up latency floor of the machine: `m2`'s light programs alone
/// (class `light`, so they start on the LITTLE cores and stay), median
/// and worst p99 in us (medians of `runs`). Under QEMU an idle vCPU wakes
/// for its timer late by the emulator's own delays (its main loop must
/// run the timer; a busy host makes that late): `m2`'s latencies are read
/// against this.
fn light_alone(t: &Tree, image: &std::path::Path, runs: usize) -> Result<(f64, f64)> {
    let words = vec![format!("run.light={}", M2_LIGHT.spec); M2_LIGHT.count];
    let (mut medians, mut worst) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let console = boot(t, image, &format!("sched=capacity {WARM_UP} {}", words.join(" ")))?;
        let latency: Vec<(u64, u64)> = console.lines().filter_map(light_latency).collect();
        if latency.len() != M2_LIGHT.count {
            return Err(format!("{} `light:` lines, not {}; console:\n{console}", latency.len(), M2_LIGHT.count));
        }
        let (median, p99) = light_summary(&latency);
        medians.push(median);
        worst.push(p99);
    }
    Ok((spread(&medians).1, spread(&worst).1))
}

/// `bench sched`: every mix under every policy on both trees, `runs` boots
/// each; a table, `target/bench/sched.json`, and a trace and schedule
/// picture of the last run of each policy and mix. With `only`, the rows
/// it names alone (`sched-only.json`).
pub fn sched(image: &std::path::Path, runs: usize, only: &str) -> Result<()> {
    // Each word begins a word of the row ("m1" is "m1-equal-heavy").
    let chosen = |row: &str| only.split_whitespace().all(|w| row.split(' ').any(|r| r.starts_with(w)));
    crate::outln!(
        "scheduling big and LITTLE, QEMU TCG guest time, pacer on (--asym), {runs} boots each: median (min..max)"
    );
    crate::outln!(
        "{:<6} {:<9} {:<15} {:>22} {:>7} {:>9} {:>13} {:>9} {:>10} {:>11} {:>11}",
        "tree",
        "policy",
        "mix",
        "makespan s",
        "/bound",
        "energy J",
        "light us",
        "moves",
        "big share",
        "m3 to big",
        "view ms"
    );
    let mut out = Vec::new();
    for name in ["4+4", "4+2+2"] {
        if !MIXES.iter().any(|(mix, _)| POLICIES.iter().any(|p| chosen(&format!("{name} {p} {mix}")))) {
            continue;
        }
        let t = tree(name)?;
        let (w, ratio) = solo(&t, image, runs)?;
        crate::outln!("{name:<6} solo: W = {w:.3} s (1000 units on a big core), LITTLE/big = {ratio:.3}");
        // The floor is `m2`'s baseline: measured when an `m2` row is.
        let floor = if POLICIES.iter().any(|p| chosen(&format!("{name} {p} m2-heavy-light"))) {
            let (median, p99) = light_alone(&t, image, runs)?;
            crate::outln!(
                "{name:<6} light alone: m2's light programs, nothing else: latency median {median:.0} us, worst p99 {p99:.0} us"
            );
            json!({"median_us": median, "p99_us": p99})
        } else {
            Value::Null
        };
        // Speeds in big cores; each program's work in seconds of a big core.
        let speeds: Vec<f64> = t
            .capacity
            .iter()
            .zip(&t.cores)
            .flat_map(|(&c, &n)| std::iter::repeat_n(if c == 1024 { 1.0 } else { ratio }, n))
            .collect();
        let mut rows = Vec::new();
        for (mix, programs) in MIXES {
            let work: Vec<f64> =
                programs.iter().flat_map(|p| std::iter::repeat_n(p.units / 1000.0 * w, p.count)).collect();
            let fastest = speeds.iter().copied().fold(0.0, f64::max);
            let floors: Vec<f64> =
                programs.iter().map(|p| p.paced_ms / 1e3 + p.tail_units / 1000.0 * w / fastest).collect();
            let work_bound = lower_bound(&work, &speeds);
            let bound = mix_bound(&work, &floors, &speeds);
            let args: Vec<String> =
                programs.iter().flat_map(|p| std::iter::repeat_n(format!("run={}", p.spec), p.count)).collect();
            for policy in POLICIES.iter().filter(|p| chosen(&format!("{name} {p} {mix}"))) {
                let mut all = Vec::new();
                for r in 0..runs {
                    let console = boot(&t, image, &format!("sched={policy} {WARM_UP} {}", args.join(" ")))?;
                    all.push(figures(&console, &t.power_w)?);
                    if r + 1 == runs {
                        let stem = format!("sched-{name}-{policy}-{mix}");
                        let path = crate::target_dir().join("bench").join(format!("{stem}-trace.json"));
                        trace::write(&console, &path)?;
                        crate::plot::command(&path, None)?;
                    }
                }
                let row = summarise(name, policy, mix, (bound, work_bound), &all);
                rows.push(row);
            }
        }
        out.push(json!({
            "tree": name, "w_big_s": w, "little_big_ratio": ratio,
            "light_alone": floor, "rows": rows
        }));
    }
    // A chosen few do not overwrite the whole table's figures.
    let json = if only.trim().is_empty() { "sched.json" } else { "sched-only.json" };
    crate::bench_qemu::write_json(json, &Value::Array(out))
}

/// Prints one table row and returns its JSON. `bounds`: the mix's, and the work's alone ([`mix_bound`], [`lower_bound`]).
fn summarise(tree: &str, policy: &str, mix: &str, bounds: (f64, f64), all: &[RunFigures]) -> Value {
    let (bound, work_bound) = bounds;
    let of = |f: &dyn Fn(&RunFigures) -> f64| all.iter().map(f).collect::<Vec<f64>>();
    let makespan = of(&|r| r.makespan_s);
    let (lo, med, hi) = spread(&makespan);
    let energy = spread(&of(&|r| r.energy_j)).1;
    let light_med = spread(&of(&|r| light_summary(&r.light_latency_us).0)).1;
    let light_p99 = spread(&of(&|r| light_summary(&r.light_latency_us).1)).1;
    let across = spread(&of(&|r| r.moves_across as f64)).1;
    let within = spread(&of(&|r| r.moves_within as f64)).1;
    // The heavy programs' share of CPU time on the biggest cores, and the
    // light ones' (median over runs of the mean over programs).
    let share = |heavy: bool| {
        spread(&of(&|r| {
            let v: Vec<f64> = r.big_share.values().filter(|(n, _)| (n != "light") == heavy).map(|(_, s)| *s).collect();
            if v.is_empty() {
                f64::NAN
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            }
        }))
        .1
    };
    let ages: Vec<f64> = all.iter().flat_map(|r| r.view_age_ms.iter().copied()).collect();
    let mut sorted_ages = ages.clone();
    sorted_ages.sort_by(f64::total_cmp);
    let age_at = |q: f64| sorted_ages.get(((sorted_ages.len() as f64 - 1.0) * q) as usize).copied().unwrap_or(f64::NAN);
    let (age_median, age_p99) = (age_at(0.5), age_at(0.99));
    let switches: Vec<f64> =
        all.iter().flat_map(|r| r.switch_to_big_ms.iter().map(|s| s.unwrap_or(f64::INFINITY))).collect();
    let switch = spread(&switches).1;
    let show = |v: f64, digits: usize| if v.is_finite() { format!("{v:.digits$}") } else { "-".into() };
    crate::outln!(
        "{tree:<6} {policy:<9} {mix:<15} {:>22} {:>7} {:>9} {:>13} {:>9} {:>10} {:>11} {:>11}",
        format!("{med:.3} ({lo:.3}..{hi:.3})"),
        format!("{:.3}", med / bound),
        format!("{energy:.2}"),
        format!("{}/{}", show(light_med, 0), show(light_p99, 0)),
        format!("{across:.0}/{within:.0}"),
        format!("{}/{}", show(share(true), 2), show(share(false), 2)),
        match switch {
            _ if switches.is_empty() => "-".into(),
            // At least half of the programs never reached a big core.
            s if s.is_infinite() => "never".into(),
            s => format!("{s:.1} ms"),
        },
        format!("{}/{}", show(age_median, 1), show(age_p99, 1)),
    );
    json!({
        "tree": tree, "policy": policy, "mix": mix, "bound_s": bound, "work_bound_s": work_bound,
        "makespan_s": makespan, "makespan_median_s": med, "makespan_over_bound": med / bound,
        "energy_j": of(&|r| r.energy_j), "light_median_us": light_med, "light_p99_us": light_p99,
        "moves_across": of(&|r| r.moves_across as f64), "moves_within": of(&|r| r.moves_within as f64),
        "heavy_big_share": share(true), "light_big_share": share(false),
        "view_age_ms": {"median": age_median, "p99": age_p99, "samples": ages.len()},
        "switch_to_big_ms": switches.iter().map(|s| if s.is_finite() { json!(s) } else { Value::Null }).collect::<Vec<_>>(),
        "unit": "QEMU TCG guest time (emulator time, not hardware); energy estimated from the device tree"
    })
}
