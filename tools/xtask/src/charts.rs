//! Charts beside the JSON of the benchmarks that compare things (`bench
//! capacity`, `bench channel`, `bench processes`, `bench migrate`): grouped bars with
//! min..max whiskers, made from the JSON value the benchmark wrote, so the
//! picture shows exactly what the file says.

use crate::plot::{colour, drawing, text_style, text_width, write_both, Legend, Mark, Picture, FAMILY};
use crate::Result;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use serde_json::Value;

/// A chart drawn from a benchmark's JSON.
pub type ChartOf = fn(&Value) -> Result<Chart>;

/// Draws `chart` of `value` as `target/bench/NAME` with .svg and .png for
/// .json, and prints both paths as the benchmark prints its JSON's.
pub fn beside(json_name: &str, value: &Value, chart: ChartOf) -> Result<()> {
    let prefix = crate::target_dir().join("bench").join(json_name.trim_end_matches(".json"));
    for path in write_both(&chart(value)?, &prefix)? {
        crate::outln!("wrote {}", path.display());
    }
    Ok(())
}

/// `capacity.json`: the LITTLE/big ratio per topology and pacer, idle and
/// busy, against the ratio expected.
pub fn capacity(value: &Value) -> Result<Chart> {
    let mut p = Panel::new("LITTLE/big work per guest second", "LITTLE/big ratio", false);
    p.expected_name = "expected: device tree ratio with the pacer, 1 without".into();
    let mut runs = 0;
    for e in entries(value, "capacity")? {
        let pacer = if e.get("pacer").and_then(Value::as_bool).unwrap_or(false) { "on" } else { "off" };
        let group = format!("{}, pacer {pacer}", text(e, "topology")?);
        let ratios = e.get("ratios");
        runs = runs.max(ratios.and_then(Value::as_array).map_or(0, Vec::len));
        p.put(&group, &text(e, "mode")?, bar(num(e, "median")?, ratios));
        p.expect(&group, num(e, "expected")?);
    }
    Ok(Chart::new(format!("bench capacity: QEMU TCG guest time, {runs} runs, median and min..max"), vec![p]))
}

/// `channel-host.json`: one-way latency per contender, and throughput per
/// contender and ring size.
pub fn channel_host(value: &Value) -> Result<Chart> {
    let rows = value.get("rows").ok_or("channel-host: no rows")?;
    let mut latency = Panel::new("one-way latency (ping-pong / 2)", "ns", false);
    let mut throughput = Panel::new("throughput of 56-byte messages", "million messages/s", false);
    for r in entries(rows, "channel-host rows")? {
        let (contender, api) = (text(r, "contender")?, text(r, "api")?);
        let median = num(r, "median")?;
        let b = Bar { value: median, min: num(r, "min").unwrap_or(median), max: num(r, "max").unwrap_or(median) };
        match r.get("metric").and_then(Value::as_str) {
            Some("latency") => latency.put(&format!("{contender}: {api}"), "median of the runs", b),
            Some("throughput") => {
                let slots = format!("{} slots", text(r, "slots")?);
                let per_million = Bar { value: b.value / 1e6, min: b.min / 1e6, max: b.max / 1e6 };
                throughput.put(&slots, &format!("{contender} {api}"), per_million);
            }
            _ => {}
        }
    }
    let runs = value.get("runs").map_or_else(String::new, |r| format!(", {r} runs"));
    Ok(Chart::new(format!("bench channel, host{runs}: median and min..max"), vec![latency, throughput]))
}

/// `channel-qemu.json`: latency and throughput per mode between two nodes.
pub fn channel_qemu(value: &Value) -> Result<Chart> {
    let mut latency = Panel::new("latency between node 0 and node 1", "guest ns", false);
    let mut throughput = Panel::new("throughput of 56-byte messages", "messages per guest second", false);
    let mut runs = 0;
    for e in entries(value, "channel-qemu")? {
        let mode = text(e, "mode")?;
        let figure = |key: &str| -> Result<Bar> {
            let f = e.get(key).ok_or(format!("channel-qemu: mode {mode} has no {key}"))?;
            Ok(bar(num(f, "median")?, f.get("runs")))
        };
        latency.put(&mode, "one-way", figure("one_way_ns")?);
        latency.put(&mode, "round trip (each boot's median)", figure("rtt_median_ns")?);
        throughput.put(&mode, "messages/s", figure("msgs_per_s")?);
        runs = runs.max(e.pointer("/one_way_ns/runs").and_then(Value::as_array).map_or(0, Vec::len));
    }
    Ok(Chart::new(
        format!("bench channel, QEMU 4+4: TCG guest time, {runs} boots, median and min..max"),
        vec![latency, throughput],
    ))
}

/// `processes.json`: each operation's cost per topology, on a log scale
/// (a function call and a context switch are 2000x apart).
pub fn processes(value: &Value) -> Result<Chart> {
    let list = entries(value, "processes")?;
    let mut p = Panel::new("cost of one operation", "guest ns (log scale)", true);
    // Operations from the cheapest, by the first topology's medians.
    let mut keys: Vec<(f64, &String)> = list
        .first()
        .and_then(Value::as_object)
        .map(|o| o.iter().filter_map(|(k, v)| Some((v.get("median")?.as_f64()?, k))).collect())
        .unwrap_or_default();
    keys.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut runs = 0;
    for e in list {
        let mut topology = text(e, "topology")?;
        if e.get("trace").and_then(Value::as_bool) == Some(true) {
            topology += " traced";
        }
        for (_, key) in &keys {
            let f = e.get(key.as_str()).ok_or(format!("processes: {topology} has no {key}"))?;
            let what = f.get("what").and_then(Value::as_str).unwrap_or(key);
            p.put(what, &topology, bar(num(f, "median")?, f.get("runs")));
            runs = runs.max(f.get("runs").and_then(Value::as_array).map_or(0, Vec::len));
        }
    }
    Ok(Chart::new(format!("bench processes: QEMU TCG guest time, {runs} boots, median and min..max"), vec![p]))
}

/// `migrate.json`: a move's time per resident size, and an endpoint round
/// trip within a node and across nodes.
pub fn migrate(value: &Value) -> Result<Chart> {
    let list = |key: &str| value.get(key).map_or(Err(format!("migrate: no {key}")), |v| entries(v, key));
    let mut moves = Panel::new("one move between nodes (median per boot)", "guest us", false);
    for e in list("moves")? {
        moves.put(&format!("{} KiB", text(e, "kib")?), "move", bar(num(e, "median_us")?, e.get("runs_us")));
    }
    let mut trips = Panel::new("endpoint round trip (median per boot)", "guest ns", false);
    for e in list("round_trips")? {
        trips.put(&text(e, "what")?, "round trip", bar(num(e, "median_ns")?, e.get("runs_ns")));
    }
    let runs = value.get("moves").and_then(Value::as_array).and_then(|m| m.first()).and_then(|e| e.get("runs_us"));
    let runs = runs.and_then(Value::as_array).map_or(0, Vec::len);
    Ok(Chart::new(
        format!("bench migrate: 4+2+2, QEMU TCG guest time, {runs} boots, median and min..max"),
        vec![moves, trips],
    ))
}

/// The array `value` should be.
fn entries<'v>(value: &'v Value, what: &str) -> Result<&'v [Value]> {
    match value.as_array() {
        Some(a) if !a.is_empty() => Ok(a),
        _ => Err(format!("{what}: expected a non-empty array")),
    }
}

fn num(v: &Value, key: &str) -> Result<f64> {
    v.get(key).and_then(Value::as_f64).ok_or(format!("no number {key} in {}", short_json(v)))
}

/// A string field, or any other field as its JSON text.
fn text(v: &Value, key: &str) -> Result<String> {
    match v.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Ok(other.to_string()),
        None => Err(format!("no {key} in {}", short_json(v))),
    }
}

/// The start of `v` for an error line.
fn short_json(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(80) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s,
    }
}

/// A bar at `median` whose whiskers span `runs`.
fn bar(median: f64, runs: Option<&Value>) -> Bar {
    let runs: Vec<f64> =
        runs.and_then(Value::as_array).map_or(Vec::new(), |r| r.iter().filter_map(Value::as_f64).collect());
    let min = runs.iter().copied().fold(median, f64::min);
    let max = runs.iter().copied().fold(median, f64::max);
    Bar { value: median, min, max }
}

/// One bar: a median and the spread of the runs it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    pub value: f64,
    pub min: f64,
    pub max: f64,
}

/// Grouped bars on a y axis of their own: groups along x, one colour per
/// series, and per group an optional expected value drawn as a line.
#[derive(Debug, Clone)]
pub struct Panel {
    pub title: String,
    pub y_desc: String,
    pub groups: Vec<String>,
    pub series: Vec<String>,
    /// `bars[group][series]`.
    pub bars: Vec<Vec<Option<Bar>>>,
    pub expected: Vec<Option<f64>>,
    /// The legend's name of the expected line.
    pub expected_name: String,
    pub log: bool,
}

impl Panel {
    pub fn new(title: &str, y_desc: &str, log: bool) -> Panel {
        Panel {
            title: title.into(),
            y_desc: y_desc.into(),
            groups: Vec::new(),
            series: Vec::new(),
            bars: Vec::new(),
            expected: Vec::new(),
            expected_name: "expected".into(),
            log,
        }
    }

    /// Index of `name` in `list`, added at the end if new.
    fn index(list: &mut Vec<String>, name: &str) -> usize {
        list.iter().position(|n| n == name).unwrap_or_else(|| {
            list.push(name.into());
            list.len() - 1
        })
    }

    fn group(&mut self, name: &str) -> usize {
        let g = Self::index(&mut self.groups, name);
        self.bars.resize(self.groups.len(), Vec::new());
        self.expected.resize(self.groups.len(), None);
        g
    }

    /// Sets the bar of `series` in `group`; both keep the order they first came in.
    pub fn put(&mut self, group: &str, series: &str, bar: Bar) {
        let g = self.group(group);
        let s = Self::index(&mut self.series, series);
        if let Some(row) = self.bars.get_mut(g) {
            row.resize(row.len().max(s + 1), None);
            row[s] = Some(bar);
        }
    }

    pub fn expect(&mut self, group: &str, value: f64) {
        let g = self.group(group);
        self.expected[g] = Some(value);
    }

    /// Every value the y axis must hold: bars, whiskers, expected lines.
    fn values(&self) -> impl Iterator<Item = f64> + '_ {
        let bars = self.bars.iter().flatten().flatten().flat_map(|b| [b.min, b.value, b.max]);
        bars.chain(self.expected.iter().flatten().copied()).filter(|v| v.is_finite())
    }
}

/// Panels stacked under a title, each with its legend.
pub struct Chart {
    pub title: String,
    pub panels: Vec<Panel>,
    legends: Vec<Legend>,
    /// Per panel, its group labels broken into lines that fit a group.
    labels: Vec<Vec<Vec<String>>>,
}

const WIDTH: u32 = 1200;
const MARGIN: u32 = 16;
const TITLE: u32 = 40;
const PLOT: u32 = 340;
const Y_LABELS: u32 = 80;
const GROUP_TEXT: u32 = 13;
const GROUP_LINE: u32 = 16;

impl Chart {
    pub fn new(title: String, panels: Vec<Panel>) -> Chart {
        let plot_width = WIDTH - 2 * MARGIN - Y_LABELS;
        let legends = panels
            .iter()
            .map(|p| {
                let mut entries: Vec<(String, RGBColor, Mark)> =
                    p.series.iter().enumerate().map(|(i, s)| (s.clone(), colour(i), Mark::Fill)).collect();
                if p.expected.iter().any(Option::is_some) {
                    entries.push((p.expected_name.clone(), BLACK, Mark::Line));
                }
                entries.push(("whiskers: min..max of the runs".into(), RGBColor(60, 60, 60), Mark::Line));
                Legend::new(entries, plot_width)
            })
            .collect();
        let labels = panels
            .iter()
            .map(|p| {
                let room = (plot_width / p.groups.len().max(1) as u32).saturating_sub(20);
                p.groups.iter().map(|g| wrap(g, room, GROUP_TEXT)).collect()
            })
            .collect();
        Chart { title, panels, legends, labels }
    }

    /// Height of panel `i`: its plot, its group labels, its legend.
    fn panel_height(&self, i: usize) -> u32 {
        let lines = self.labels[i].iter().map(Vec::len).max().unwrap_or(1) as u32;
        PLOT + lines * GROUP_LINE + 48 + self.legends[i].height()
    }
}

impl Picture for Chart {
    fn size(&self) -> (u32, u32) {
        (WIDTH, TITLE + (0..self.panels.len()).map(|i| self.panel_height(i)).sum::<u32>() + MARGIN)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        root.draw(&Text::new(self.title.clone(), (WIDTH as i32 / 2, 14), text_style(18, HPos::Center, VPos::Top)))
            .map_err(drawing)?;
        let mut rest = root.split_vertically(TITLE).1;
        for (i, panel) in self.panels.iter().enumerate() {
            let (area, below) = rest.split_vertically(self.panel_height(i));
            rest = below;
            let values: Vec<f64> = panel.values().collect();
            let max = values.iter().copied().fold(0.0, f64::max);
            let min_positive = values.iter().copied().filter(|&v| v > 0.0).fold(f64::INFINITY, f64::min);
            let (lines, legend) = (&self.labels[i], &self.legends[i]);
            if panel.log && min_positive.is_finite() {
                // A decade under the smallest, so that it still has a bar.
                let lo = 10f64.powf((min_positive * 0.5).log10().floor());
                let hi = 10f64.powf((max * 1.5).log10().ceil());
                draw_panel(&area, panel, lines, legend, (lo..hi).log_scale(), lo)?;
            } else {
                let hi = if max > 0.0 { max * 1.15 } else { 1.0 };
                draw_panel(&area, panel, lines, legend, 0.0..hi, 0.0)?;
            }
        }
        Ok(())
    }
}

/// The one drawing of grouped bars, on a linear or a log y axis; `base` is
/// where bars start.
fn draw_panel<DB, Y>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    labels: &[Vec<String>],
    legend: &Legend,
    y: Y,
    base: f64,
) -> Result<()>
where
    DB: DrawingBackend,
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let (_, h) = area.dim_in_pixel();
    let (plot, legend_area) = area.split_vertically(h - legend.height());
    let lines = labels.iter().map(Vec::len).max().unwrap_or(1) as u32;
    let groups = panel.groups.len().max(1);
    let mut chart = ChartBuilder::on(&plot)
        .margin_left(MARGIN)
        .margin_right(MARGIN)
        .margin_top(4)
        .caption(&panel.title, (FAMILY, 16))
        .x_label_area_size(lines * GROUP_LINE + 10)
        .y_label_area_size(Y_LABELS)
        .build_cartesian_2d(0.0..groups as f64, y)
        .map_err(drawing)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc(panel.y_desc.as_str())
        .y_label_formatter(&|v| figure(*v))
        .y_max_light_lines(if panel.log { 9 } else { 1 })
        .label_style((FAMILY, 13))
        .draw()
        .map_err(drawing)?;
    let area = chart.plotting_area();
    let series = panel.series.len().max(1);
    let width = 0.8 / series as f64;
    let pixels = |x0: f64, x1: f64| chart.backend_coord(&(x1, base)).0 - chart.backend_coord(&(x0, base)).0;
    for (g, row) in panel.bars.iter().enumerate() {
        for (s, b) in row.iter().enumerate() {
            let Some(b) = b else { continue };
            let x0 = g as f64 + 0.1 + s as f64 * width;
            let (x1, xc) = (x0 + width * 0.9, x0 + width * 0.45);
            area.draw(&Rectangle::new([(x0, base), (x1, b.value.max(base))], colour(s).filled())).map_err(drawing)?;
            let whisker = RGBColor(60, 60, 60).stroke_width(1);
            let cap = width * 0.2;
            for path in [
                [(xc, b.min.max(base)), (xc, b.max)],
                [(xc - cap, b.min.max(base)), (xc + cap, b.min.max(base))],
                [(xc - cap, b.max), (xc + cap, b.max)],
            ] {
                area.draw(&PathElement::new(path, whisker)).map_err(drawing)?;
            }
            let text = figure(b.value);
            if text_width(&text, 11) as i32 <= pixels(x0, x1) + 6 {
                let (x, y) = chart.backend_coord(&(xc, b.max));
                area.use_screen_coord()
                    .draw(&Text::new(text, (x, y - 3), text_style(11, HPos::Center, VPos::Bottom)))
                    .map_err(drawing)?;
            }
        }
        if let Some(Some(e)) = panel.expected.get(g) {
            let line = [(g as f64 + 0.05, *e), (g as f64 + 0.95, *e)];
            area.draw(&PathElement::new(line, BLACK.stroke_width(2))).map_err(drawing)?;
        }
    }
    for (g, text) in labels.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(g as f64 + 0.5, base));
        for (n, line) in text.iter().enumerate() {
            let at = (x, y + 8 + n as i32 * GROUP_LINE as i32);
            plot.use_screen_coord()
                .draw(&Text::new(line.clone(), at, text_style(GROUP_TEXT, HPos::Center, VPos::Top)))
                .map_err(drawing)?;
        }
    }
    legend.draw(&legend_area.margin(0, 0, MARGIN + Y_LABELS, MARGIN))
}

/// A figure with three significant digits or so, without trailing zeros.
fn figure(v: f64) -> String {
    let s = match v.abs() {
        a if a >= 100.0 => return format!("{v:.0}"),
        a if a >= 10.0 => format!("{v:.1}"),
        _ => format!("{v:.3}"),
    };
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `text` broken at spaces into lines at most `room` pixels wide (a word
/// longer than that gets a line of its own).
fn wrap(text: &str, room: u32, size: u32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if text_width(&format!("{line} {word}"), size) <= room => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::{figure, wrap};

    #[test]
    fn figures_keep_three_digits_or_so() {
        assert_eq!(figure(20071.4), "20071");
        assert_eq!(figure(45.0), "45");
        assert_eq!(figure(12.34), "12.3");
        assert_eq!(figure(0.516), "0.516");
        assert_eq!(figure(0.9), "0.9");
        assert_eq!(figure(0.0), "0");
    }

    #[test]
    fn labels_wrap_at_spaces_to_the_room() {
        assert_eq!(wrap("context switch", 1000, 13), ["context switch"]);
        assert_eq!(wrap("context switch", 60, 13), ["context", "switch"]);
        assert_eq!(wrap("", 60, 13), [""]);
    }
}
