//! The rows of the table, the acceptance ratios, the table and the JSON.

use channel::PAYLOAD;
use serde_json::{json, Value};

use crate::*;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Metric {
    /// One-way latency, ns: lower is better.
    Latency,
    /// Messages per second: higher is better.
    Throughput,
}

pub(crate) type Measure = fn(&Config, usize) -> Sample;

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

pub(crate) struct Row {
    pub(crate) contender: &'static str,
    pub(crate) metric: Metric,
    pub(crate) api: &'static str,
    pub(crate) slots: usize,
    pub(crate) measure: Measure,
    /// The figure of each run.
    pub(crate) runs: Vec<f64>,
    /// Measurements of each run, counting those taken again because other
    /// tasks disturbed them.
    pub(crate) attempts: Vec<usize>,
    /// Whether each run's kept measurement was disturbed (every attempt was).
    pub(crate) disturbed: Vec<bool>,
}

impl Row {
    pub(crate) fn new(
        contender: &'static str,
        metric: Metric,
        api: &'static str,
        slots: usize,
        measure: Measure,
    ) -> Self {
        Row { contender, metric, api, slots, measure, runs: Vec::new(), attempts: Vec::new(), disturbed: Vec::new() }
    }

    /// Measures once more, again while other tasks disturb the measurement.
    pub(crate) fn measure(&mut self, cfg: &Config) {
        let mut attempts = 0;
        let sample = loop {
            attempts += 1;
            let s = (self.measure)(cfg, self.slots);
            if !s.disturbed() || attempts == ATTEMPTS {
                break s;
            }
        };
        self.runs.push(sample.value);
        self.attempts.push(attempts);
        self.disturbed.push(sample.disturbed());
    }

    pub(crate) fn sorted(&self) -> Vec<f64> {
        let mut v = self.runs.clone();
        v.sort_by(f64::total_cmp);
        v
    }

    pub(crate) fn median(&self) -> f64 {
        median(self.runs.clone())
    }

    pub(crate) fn min(&self) -> f64 {
        self.sorted().first().copied().unwrap_or(f64::NAN)
    }

    pub(crate) fn max(&self) -> f64 {
        self.sorted().last().copied().unwrap_or(f64::NAN)
    }

    /// The row this one is compared with: the raw line for latency, rtrb
    /// with the same API style and capacity for throughput.
    pub(crate) fn baseline<'r>(&self, rows: &'r [Row]) -> Option<&'r Row> {
        rows.iter().find(|r| match self.metric {
            Metric::Latency => r.metric == Metric::Latency && r.contender == "raw line",
            Metric::Throughput => {
                let api = if self.api == "batched" { "batched" } else { "per-message" };
                r.metric == Metric::Throughput && r.contender == "rtrb" && r.api == api && r.slots == self.slots
            }
        })
    }

    pub(crate) fn ratio(&self, rows: &[Row]) -> Option<f64> {
        self.baseline(rows).map(|b| self.median() / b.median())
    }

    /// This row's figure over the baseline's, run by run (both measured in
    /// the same run, so under the same placement of the two cores).
    pub(crate) fn run_ratios(&self, rows: &[Row]) -> Option<Vec<f64>> {
        self.baseline(rows).map(|b| self.runs.iter().zip(&b.runs).map(|(x, y)| x / y).collect())
    }

    pub(crate) fn median_run_ratio(&self, rows: &[Row]) -> Option<f64> {
        self.run_ratios(rows).map(median)
    }

    pub(crate) fn metric_name(&self) -> &'static str {
        match self.metric {
            Metric::Latency => "latency",
            Metric::Throughput => "throughput",
        }
    }

    pub(crate) fn unit(&self) -> &'static str {
        match self.metric {
            Metric::Latency => "ns one-way",
            Metric::Throughput => "Mmsg/s",
        }
    }

    /// A figure in the table's unit.
    pub(crate) fn show(&self, v: f64) -> f64 {
        match self.metric {
            Metric::Latency => v,
            Metric::Throughput => v / 1e6,
        }
    }

    pub(crate) fn json(&self, rows: &[Row]) -> Value {
        let (unit, base) = match self.metric {
            Metric::Latency => ("ns (one-way)", "raw line"),
            Metric::Throughput => ("messages/s", "rtrb"),
        };
        json!({
            "contender": self.contender,
            "metric": self.metric_name(),
            "api": self.api,
            "slots": self.slots,
            "unit": unit,
            "runs": self.runs,
            "attempts": self.attempts,
            "disturbed": self.disturbed,
            "median": self.median(),
            "min": self.min(),
            "max": self.max(),
            "baseline": base,
            "ratio_to_baseline": self.ratio(rows),
            "run_ratios_to_baseline": self.run_ratios(rows),
            "median_of_run_ratios": self.median_run_ratio(rows),
        })
    }
}

pub(crate) fn rows() -> Vec<Row> {
    let mut rows = vec![
        Row::new("raw line", Metric::Latency, "spin on one line", 1, |c, _| latency_raw(c)),
        // Two fixed lines, one per direction: the floor of any pair of
        // one-way channels, which a ping-pong needs.
        Row::new("raw ring", Metric::Latency, "two fixed lines", 1, latency_raw_ring),
        Row::new("raw ring", Metric::Latency, "lines, no queue", KERNEL_SLOTS, latency_raw_ring),
        Row::new("ring", Metric::Latency, "try_send/try_recv", KERNEL_SLOTS, latency_ring),
        Row::new("ring", Metric::Latency, "in place (_with)", KERNEL_SLOTS, latency_ring_in_place),
        Row::new("rtrb", Metric::Latency, "push/pop", KERNEL_SLOTS, latency_rtrb),
        Row::new("crossbeam", Metric::Latency, "try_send/try_recv", KERNEL_SLOTS, latency_crossbeam),
    ];
    for slots in CAPACITIES {
        rows.extend([
            Row::new("ring", Metric::Throughput, "per-message", slots, throughput_ring),
            Row::new("ring", Metric::Throughput, "in place (_with)", slots, throughput_ring_in_place),
            Row::new("rtrb", Metric::Throughput, "per-message", slots, throughput_rtrb),
            Row::new("crossbeam", Metric::Throughput, "per-message", slots, throughput_crossbeam),
            Row::new("ring", Metric::Throughput, "batched", slots, throughput_ring_batched),
            Row::new("rtrb", Metric::Throughput, "batched", slots, throughput_rtrb_batched),
        ]);
    }
    rows
}

pub(crate) fn find<'r>(rows: &'r [Row], contender: &str, metric: Metric, api: &str, slots: usize) -> Option<&'r Row> {
    rows.iter().find(|r| {
        r.contender == contender && r.metric == metric && r.slots == slots && (api.is_empty() || r.api == api)
    })
}

pub(crate) fn acceptance(rows: &[Row]) -> Value {
    let ring = find(rows, "ring", Metric::Latency, "try_send/try_recv", KERNEL_SLOTS);
    let latency = ring.and_then(|r| r.ratio(rows));
    let latency_runs = ring.and_then(|r| r.median_run_ratio(rows));
    let raw_ring = find(rows, "raw ring", Metric::Latency, "", KERNEL_SLOTS);
    let vs_raw_ring = ring.zip(raw_ring).map(|(r, b)| r.median() / b.median());
    let in_place = find(rows, "ring", Metric::Latency, "in place (_with)", KERNEL_SLOTS).and_then(|r| r.ratio(rows));
    let pair_floor = find(rows, "raw ring", Metric::Latency, "two fixed lines", 1).and_then(|r| r.ratio(rows));
    let mut throughput = serde_json::Map::new();
    let mut all = latency.is_some_and(|r| r <= LATENCY_GOAL);
    for api in ["per-message", "batched"] {
        let mut by_slots = serde_json::Map::new();
        for slots in CAPACITIES {
            let row = find(rows, "ring", Metric::Throughput, api, slots);
            let ratio = row.and_then(|r| r.ratio(rows));
            let runs = row.and_then(|r| r.median_run_ratio(rows));
            if slots == KERNEL_SLOTS {
                all &= ratio.is_some_and(|r| r >= THROUGHPUT_GOAL);
            }
            by_slots.insert(
                slots.to_string(),
                json!({
                    "ratio": ratio,
                    "met": ratio.is_some_and(|r| r >= THROUGHPUT_GOAL),
                    "median_of_run_ratios": runs,
                }),
            );
        }
        throughput.insert(api.to_string(), Value::Object(by_slots));
    }
    json!({
        "latency_ratio_vs_raw": latency,
        "latency_goal": format!("<= {LATENCY_GOAL}"),
        "latency_met": latency.is_some_and(|r| r <= LATENCY_GOAL),
        "latency_median_of_run_ratios": latency_runs,
        "informative": {
            "latency_ratio_vs_raw_ring": vs_raw_ring,
            "latency_ratio_vs_raw_ring_means": format!("ring (try_send/try_recv) / raw ring of {KERNEL_SLOTS} lines per direction: the same memory traffic without queue logic"),
            "latency_in_place_ratio_vs_raw": in_place,
            "two_fixed_lines_ratio_vs_raw": pair_floor,
            "two_fixed_lines_means": "raw ping-pong over two fixed lines, one per direction: the floor of any pair of one-way channels",
        },
        "throughput_ratio_vs_rtrb": throughput,
        "throughput_goal": format!(">= {THROUGHPUT_GOAL}"),
        "statistic": "ratio of the medians over runs (as the goal is worded); median_of_run_ratios pairs each run's figures, which is steadier when the cores' placement changes between runs",
        "all_met": all,
        "all_met_means": format!("latency goal, and both throughput goals at {KERNEL_SLOTS} slots (the kernel's 16 KiB channel)"),
    })
}

pub(crate) fn print_table(rows: &[Row], runs: usize) {
    println!();
    println!("channel host benchmark: cores {CORE_A} and {CORE_B}, median/min/max over {runs} runs");
    println!(
        "{:<10} {:<11} {:<18} {:>5} {:>11} {:>10} {:>10} {:>10} {:>11} {:>8}",
        "contender", "metric", "api", "slots", "unit", "median", "min", "max", "ratio", "retries"
    );
    let mut disturbed = 0;
    for r in rows {
        let ratio = r.ratio(rows).map_or_else(|| "-".to_string(), |x| format!("{x:.3}"));
        let base = match r.metric {
            Metric::Latency => "/raw",
            Metric::Throughput => "/rtrb",
        };
        let retries: usize = r.attempts.iter().map(|a| a - 1).sum();
        disturbed += r.disturbed.iter().filter(|&&d| d).count();
        println!(
            "{:<10} {:<11} {:<18} {:>5} {:>11} {:>10.2} {:>10.2} {:>10.2} {:>11} {:>8}",
            r.contender,
            r.metric_name(),
            r.api,
            r.slots,
            r.unit(),
            r.show(r.median()),
            r.show(r.min()),
            r.show(r.max()),
            format!("{ratio}{base}"),
            retries,
        );
    }
    println!("(retries: measurements taken again because other tasks held a pinned thread's core >1% of the time)");
    if disturbed > 0 {
        println!(
            "warning: {disturbed} kept measurements were disturbed in all {ATTEMPTS} attempts: the machine was busy"
        );
    }
}

pub(crate) fn print_acceptance(acc: &Value) {
    let ratio = |v: &Value| v.as_f64().map_or_else(|| "-".to_string(), |x| format!("{x:.3}"));
    let met = |b: bool| if b { "met" } else { "MISSED" };
    println!();
    println!(
        "acceptance: ring latency / raw line = {} (goal <= {LATENCY_GOAL}): {}  [median of run ratios {}]",
        ratio(&acc["latency_ratio_vs_raw"]),
        met(acc["latency_met"].as_bool().unwrap_or(false)),
        ratio(&acc["latency_median_of_run_ratios"]),
    );
    let info = &acc["informative"];
    println!(
        "  (ring / raw ring of {KERNEL_SLOTS} lines = {}; in-place ring / raw line = {}; two fixed lines / raw line = {})",
        ratio(&info["latency_ratio_vs_raw_ring"]),
        ratio(&info["latency_in_place_ratio_vs_raw"]),
        ratio(&info["two_fixed_lines_ratio_vs_raw"])
    );
    for api in ["per-message", "batched"] {
        for slots in CAPACITIES {
            let e = &acc["throughput_ratio_vs_rtrb"][api][slots.to_string()];
            println!(
                "acceptance: ring {api} throughput / rtrb, {slots} slots = {} (goal >= {THROUGHPUT_GOAL}): {}  [median of run ratios {}]",
                ratio(&e["ratio"]),
                met(e["met"].as_bool().unwrap_or(false)),
                ratio(&e["median_of_run_ratios"]),
            );
        }
    }
}

/// Runs (counting from 1) whose raw line at the end differs from the one at
/// the start by more than 1.5x either way.
pub(crate) fn placement_changes(rows: &[Row], raw_at_end: &[f64]) -> Vec<usize> {
    let Some(start) = find(rows, "raw line", Metric::Latency, "", 1) else { return Vec::new() };
    start
        .runs
        .iter()
        .zip(raw_at_end)
        .enumerate()
        .filter(|(_, (a, b))| a.max(**b) > 1.5 * a.min(**b))
        .map(|(i, _)| i + 1)
        .collect()
}

pub(crate) fn write_json(
    cfg: &Config,
    rows: &[Row],
    acc: Value,
    raw_at_end: &[f64],
    moved: &[usize],
) -> Result<(), String> {
    let doc = json!({
        "benchmark": "channel-host",
        "cores": [CORE_A, CORE_B],
        "runs": cfg.runs,
        "latency_round_trips": cfg.round_trips,
        "latency_warmup_round_trips": cfg.warmup,
        "throughput_messages": cfg.messages,
        "payload_bytes": PAYLOAD,
        "kernel_slots": KERNEL_SLOTS,
        "profile": if cfg!(debug_assertions) { "debug" } else { "release (workspace profile)" },
        "method": "contenders interleaved within each run; latency = ping-pong over two queues, busy polling, total / round trips / 2; throughput = one producer (core 0), one consumer (core 1) checking each message's counter",
        "rows": rows.iter().map(|r| r.json(rows)).collect::<Vec<_>>(),
        "acceptance": acc,
        "raw_line_at_run_end_ns": raw_at_end,
        "runs_with_placement_change": moved,
    });
    if let Some(dir) = cfg.json.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(&doc).map_err(|e| format!("cannot encode the figures: {e}"))?;
    std::fs::write(&cfg.json, text + "\n").map_err(|e| format!("cannot write {}: {e}", cfg.json.display()))
}
