//! `cargo xtask plot TRACE`: the schedule of a Chrome trace-event file (as
//! the kernel's trace converter writes it) as a picture: one row per core,
//! grouped by node; one colour per program; migrations and messages as thin
//! lines. Also what the benchmark charts share with it: the embedded font,
//! the palette, the legend and writing one picture as both SVG and PNG.

mod png;

use crate::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A trace as the picture needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// One per core, node 0's first, then by core index within the node.
    pub rows: Vec<Row>,
    /// One per program (node and pid), by node then pid.
    pub programs: Vec<Program>,
    /// Run slices, in the order of the file.
    pub slices: Vec<Slice>,
    /// A program's consecutive slices on two different cores.
    pub migrations: Vec<Link>,
    /// Message flows (`"s"` / `"f"` pairs) between two known cores.
    pub messages: Vec<Link>,
    /// The end of the last slice or message.
    pub end_ms: f64,
}

/// One core.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The node (the event's `pid`).
    pub node: u64,
    /// The machine-wide core number (the event's `tid`).
    pub tid: u64,
    /// E.g. "node 1 big cap 1024 / core 0".
    pub label: String,
}

/// One program: pids are per node, so the node is part of its name.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub node: u64,
    pub pid: u64,
    pub name: String,
    /// "heavy (pid 3)", with the node added where two nodes share that.
    pub label: String,
}

/// One run slice; times in guest milliseconds since the trace's first event.
#[derive(Debug, Clone, PartialEq)]
pub struct Slice {
    pub row: usize,
    pub program: usize,
    pub start_ms: f64,
    pub end_ms: f64,
}

/// A line from one row at one time to another row at another time.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// The program that moved, for a migration; `None` for a message.
    pub program: Option<usize>,
    pub from_row: usize,
    pub from_ms: f64,
    pub to_row: usize,
    pub to_ms: f64,
}

/// Reads a JSON file; the error says which file and what is wrong, on one line.
pub fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))
}

/// Reads and parses a trace file.
pub fn load(path: &Path) -> Result<Trace> {
    parse(&read_json(path)?).map_err(|e| format!("{}: {e}", path.display()))
}

/// `cargo xtask plot TRACE [--out PREFIX]`: writes PREFIX.svg and PREFIX.png
/// (PREFIX defaults to TRACE without its extension) and prints both paths.
pub fn command(trace: &Path, out: Option<&Path>) -> Result<()> {
    let model = load(trace)?;
    let prefix = out.map_or_else(|| trace.with_extension(""), Path::to_path_buf);
    let title = format!("{} (QEMU guest time)", trace.file_name().unwrap_or(trace.as_os_str()).to_string_lossy());
    for path in write_both(&Schedule::new(&model, &title), &prefix)? {
        crate::outln!("{}", path.display());
    }
    Ok(())
}

/// The trace model of a Chrome trace-event document (an object with
/// `traceEvents`, or the bare array). Events other than metadata, run
/// slices and message flows are ignored; a run slice without its figures
/// is refused, since the picture would silently lie.
pub fn parse(doc: &Value) -> Result<Trace> {
    let events = doc
        .get("traceEvents")
        .or(Some(doc))
        .and_then(Value::as_array)
        .ok_or("not a Chrome trace: no traceEvents array")?;
    let t0 = events
        .iter()
        .filter(|e| e.get("ph").and_then(Value::as_str) != Some("M"))
        .filter_map(|e| e.get("ts").and_then(Value::as_f64))
        .fold(f64::INFINITY, f64::min);

    // Rows: from otherData.nodes, the metadata, then any core that ran a slice.
    let mut rows: BTreeMap<(u64, u64), RowInfo> = BTreeMap::new();
    let mut process_names: BTreeMap<u64, String> = BTreeMap::new();
    // The node each process id stands for (the same number unless said).
    let mut node_of: BTreeMap<u64, u64> = BTreeMap::new();
    let nodes = doc.pointer("/otherData/nodes").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    for n in nodes {
        let Some(node) = n.get("node").and_then(Value::as_u64) else { continue };
        // Events name the node by their process id, which may differ.
        let pid = n.get("pid").and_then(Value::as_u64).unwrap_or(node);
        node_of.insert(pid, node);
        let mut name = format!("node {node}");
        if let Some(build) = n.get("build").and_then(Value::as_str) {
            name += &format!(" {build}");
        }
        if let Some(cap) = n.get("capacity").and_then(Value::as_u64) {
            name += &format!(" cap {cap}");
        }
        for c in n.get("cores").and_then(Value::as_array).map_or(&[][..], Vec::as_slice) {
            let Some(tid) = c.get("tid").and_then(Value::as_u64) else { continue };
            let core = c.get("core").and_then(Value::as_u64);
            let core_name = core.map_or_else(|| format!("tid {tid}"), |i| format!("core {i}"));
            let info = rows.entry((pid, tid)).or_default();
            info.core = core.or(info.core);
            info.label = Some(format!("{name} / {core_name}"));
        }
    }
    let mut runs = Vec::new();
    let mut flows = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let ph = e.get("ph").and_then(Value::as_str).unwrap_or("");
        let pid = e.get("pid").and_then(Value::as_u64);
        let tid = e.get("tid").and_then(Value::as_u64);
        let meta_name = || e.pointer("/args/name").and_then(Value::as_str).map(str::to_string);
        match (ph, e.get("name").and_then(Value::as_str)) {
            ("M", Some("process_name")) => {
                if let (Some(p), Some(n)) = (pid, meta_name()) {
                    process_names.insert(p, n);
                }
            }
            ("M", Some("thread_name")) => {
                if let (Some(p), Some(t), Some(n)) = (pid, tid, meta_name()) {
                    let info = rows.entry((p, t)).or_default();
                    info.core = info.core.or_else(|| core_index(&n));
                    info.thread = Some(n);
                }
            }
            ("X", _) if e.get("cat").and_then(Value::as_str) == Some("run") => {
                let run = run_slice(e, t0).map_err(|what| format!("event {i} (a run slice): {what}"))?;
                rows.entry((run.node, run.tid)).or_default();
                runs.push(run);
            }
            ("s" | "f", _) => {
                let id = e.get("id").map(Value::to_string);
                let ts = e.get("ts").and_then(Value::as_f64);
                if let (Some(p), Some(t), Some(id), Some(ts)) = (pid, tid, id, ts) {
                    let cat = e.get("cat").and_then(Value::as_str).unwrap_or("").to_string();
                    flows.push(((ts - t0) / 1000.0, ph == "s", (cat, id), (p, t)));
                }
            }
            _ => {}
        }
    }
    if runs.is_empty() {
        return Err("no run slices (events with \"ph\":\"X\" and \"cat\":\"run\")".into());
    }

    let mut order: Vec<((u64, u64), RowInfo)> = rows.into_iter().collect();
    order.sort_by_key(|((node, tid), info)| (*node, info.core.is_none(), info.core, *tid));
    let row_of: HashMap<(u64, u64), usize> = order.iter().enumerate().map(|(i, (k, _))| (*k, i)).collect();
    let rows: Vec<Row> = order
        .into_iter()
        .map(|((node, tid), info)| {
            let label = info.label.unwrap_or_else(|| {
                let node_name = process_names.get(&node).cloned().unwrap_or_else(|| format!("node {node}"));
                let core_name = info.thread.unwrap_or_else(|| format!("tid {tid}"));
                format!("{node_name} / {core_name}")
            });
            Row { node, tid, label }
        })
        .collect();

    let mut names: BTreeMap<(u64, u64), String> = BTreeMap::new();
    for r in &runs {
        names.entry((r.node, r.pid)).or_insert_with(|| r.program.clone());
    }
    let mut programs: Vec<Program> = names
        .into_iter()
        .map(|((node, pid), name)| Program { node, pid, label: format!("{name} (pid {pid})"), name })
        .collect();
    let labels: Vec<String> = programs.iter().map(|p| p.label.clone()).collect();
    for p in &mut programs {
        if labels.iter().filter(|l| **l == p.label).count() > 1 {
            let node = node_of.get(&p.node).copied().unwrap_or(p.node);
            p.label = format!("{} (pid {}, node {node})", p.name, p.pid);
        }
    }
    let program_of: HashMap<(u64, u64), usize> =
        programs.iter().enumerate().map(|(i, p)| ((p.node, p.pid), i)).collect();

    let slices: Vec<Slice> = runs
        .iter()
        .filter_map(|r| {
            Some(Slice {
                row: *row_of.get(&(r.node, r.tid))?,
                program: *program_of.get(&(r.node, r.pid))?,
                start_ms: r.start_ms,
                end_ms: r.end_ms,
            })
        })
        .collect();
    let migrations = migrations(&slices, programs.len());
    let messages = messages(flows, &row_of);
    let end_ms = slices.iter().map(|s| s.end_ms).chain(messages.iter().map(|m| m.to_ms)).fold(0.0, f64::max);
    Ok(Trace { rows, programs, slices, migrations, messages, end_ms })
}

/// What the metadata and otherData say of one core.
#[derive(Default)]
struct RowInfo {
    core: Option<u64>,
    /// The whole label, from otherData.
    label: Option<String>,
    /// The thread_name metadata.
    thread: Option<String>,
}

/// The core index in a thread name such as "core 2 mpidr=0x102".
fn core_index(name: &str) -> Option<u64> {
    name.strip_prefix("core ")?.split_whitespace().next()?.parse().ok()
}

/// One run slice as read.
struct Run {
    node: u64,
    tid: u64,
    pid: u64,
    program: String,
    start_ms: f64,
    end_ms: f64,
}

/// A run slice's figures, or what is missing.
fn run_slice(e: &Value, t0: f64) -> std::result::Result<Run, &'static str> {
    let node = e.get("pid").and_then(Value::as_u64).ok_or("no numeric pid (node)")?;
    let tid = e.get("tid").and_then(Value::as_u64).ok_or("no numeric tid (core)")?;
    let ts = e.get("ts").and_then(Value::as_f64).ok_or("no numeric ts")?;
    let dur = e.get("dur").and_then(Value::as_f64).ok_or("no numeric dur")?;
    if !(dur >= 0.0 && ts.is_finite() && dur.is_finite()) {
        return Err("ts or dur out of range");
    }
    let pid = e.pointer("/args/pid").and_then(Value::as_u64).ok_or("no numeric args.pid (the program)")?;
    let program = e.pointer("/args/program").or_else(|| e.get("name")).and_then(Value::as_str).unwrap_or("?");
    let start_ms = (ts - t0) / 1000.0;
    Ok(Run { node, tid, pid, program: program.to_string(), start_ms, end_ms: start_ms + dur / 1000.0 })
}

/// Each program's consecutive slices (by start) that are on different rows.
fn migrations(slices: &[Slice], programs: usize) -> Vec<Link> {
    let mut out = Vec::new();
    for p in 0..programs {
        let mut own: Vec<&Slice> = slices.iter().filter(|s| s.program == p).collect();
        own.sort_by(|a, b| a.start_ms.total_cmp(&b.start_ms));
        for w in own.windows(2) {
            if w[0].row != w[1].row {
                out.push(Link {
                    program: Some(p),
                    from_row: w[0].row,
                    from_ms: w[0].end_ms,
                    to_row: w[1].row,
                    to_ms: w[1].start_ms,
                });
            }
        }
    }
    out
}

/// A flow event: (ms, is start, (cat, id), (node, tid)).
type Flow = (f64, bool, (String, String), (u64, u64));

/// Pairs each flow finish with the latest start of the same cat and id.
fn messages(mut flows: Vec<Flow>, row_of: &HashMap<(u64, u64), usize>) -> Vec<Link> {
    flows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut open: HashMap<(String, String), (f64, usize)> = HashMap::new();
    let mut out = Vec::new();
    for (ms, start, key, core) in flows {
        let Some(&row) = row_of.get(&core) else { continue };
        if start {
            open.insert(key, (ms, row));
        } else if let Some((from_ms, from_row)) = open.remove(&key) {
            out.push(Link { program: None, from_row, from_ms, to_row: row, to_ms: ms });
        }
    }
    out
}

// ---- drawing pieces shared with the benchmark charts ----

/// The font of every picture, embedded so that PNG text needs no font on
/// the machine (see assets/README.md).
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans-subset.ttf");
/// The family every text asks for, the one plotters uses by default too.
pub(crate) const FAMILY: &str = "sans-serif";

/// Registers [`FONT`] with plotters (once): with the `ab_glyph` feature no
/// text can be measured or drawn before.
fn register_font() -> Result<()> {
    static OK: OnceLock<bool> = OnceLock::new();
    let ok = *OK.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    ok.then_some(()).ok_or_else(|| "the embedded font cannot be read".into())
}

/// Width in pixels of `text` at `size`.
pub(crate) fn text_width(text: &str, size: u32) -> u32 {
    let estimate = size * 6 / 10 * text.chars().count() as u32;
    if register_font().is_err() {
        return estimate;
    }
    (FAMILY, size).into_font().box_size(text).map_or(estimate, |(w, _)| w)
}

/// A text style of `size` pixels anchored at `h`, `v`.
pub(crate) fn text_style<'a>(size: u32, h: HPos, v: VPos) -> TextStyle<'a> {
    TextStyle::from((FAMILY, size).into_font()).pos(Pos::new(h, v))
}

/// The `i`th of a set of colours that stay apart (Tableau 10, then hues
/// spread by the golden angle).
pub(crate) fn colour(i: usize) -> RGBColor {
    const TAB10: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    match TAB10.get(i) {
        Some(&(r, g, b)) => RGBColor(r, g, b),
        None => {
            let c = HSLColor((i as f64 * 0.618_034).fract(), 0.65, 0.45).to_backend_color();
            RGBColor(c.rgb.0, c.rgb.1, c.rgb.2)
        }
    }
}

/// A plotters error as one line.
pub(crate) fn drawing(e: impl std::fmt::Display) -> String {
    format!("drawing failed: {e}")
}

/// How a legend entry is marked.
#[derive(Clone, Copy)]
pub(crate) enum Mark {
    Fill,
    Line,
}

/// Legend entries laid out in lines across a given width.
pub(crate) struct Legend {
    entries: Vec<(String, RGBColor, Mark)>,
    /// Per line, each entry's index and x offset.
    lines: Vec<Vec<(usize, i32)>>,
}

const LEGEND_TEXT: u32 = 14;
const LEGEND_LINE: u32 = 22;
const SWATCH: i32 = 14;

impl Legend {
    pub(crate) fn new(entries: Vec<(String, RGBColor, Mark)>, width: u32) -> Legend {
        let mut lines: Vec<Vec<(usize, i32)>> = vec![Vec::new()];
        let mut x = 0;
        for (i, (text, _, _)) in entries.iter().enumerate() {
            let w = SWATCH + 6 + text_width(text, LEGEND_TEXT) as i32 + 24;
            if x > 0 && x + w > width as i32 {
                lines.push(Vec::new());
                x = 0;
            }
            if let Some(line) = lines.last_mut() {
                line.push((i, x));
            }
            x += w;
        }
        Legend { entries, lines }
    }

    pub(crate) fn height(&self) -> u32 {
        self.lines.len() as u32 * LEGEND_LINE + 8
    }

    /// Draws from the top left of `area`.
    pub(crate) fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        let style = text_style(LEGEND_TEXT, HPos::Left, VPos::Center);
        for (n, line) in self.lines.iter().enumerate() {
            let y = 4 + n as i32 * LEGEND_LINE as i32 + LEGEND_LINE as i32 / 2;
            for &(i, x) in line {
                let Some((text, c, mark)) = self.entries.get(i) else { continue };
                match mark {
                    Mark::Fill => {
                        area.draw(&Rectangle::new([(x, y - SWATCH / 2), (x + SWATCH, y + SWATCH / 2)], c.filled()))
                    }
                    Mark::Line => area.draw(&PathElement::new([(x, y), (x + SWATCH, y)], c.stroke_width(3))),
                }
                .map_err(drawing)?;
                area.draw(&Text::new(text.clone(), (x + SWATCH + 6, y), style.clone())).map_err(drawing)?;
            }
        }
        Ok(())
    }
}

/// A picture drawn the same way into SVG and PNG.
pub trait Picture {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws onto `root`, which is white.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>;
}

/// Writes `picture` as PREFIX.svg and PREFIX.png; returns both paths.
pub fn write_both(picture: &impl Picture, prefix: &Path) -> Result<[PathBuf; 2]> {
    register_font()?;
    if let Some(dir) = prefix.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let with = |ext: &str| {
        let mut s = OsString::from(prefix.as_os_str());
        s.push(".");
        s.push(ext);
        PathBuf::from(s)
    };
    let (svg, bitmap) = (with("svg"), with("png"));
    paint(&SVGBackend::new(&svg, picture.size()).into_drawing_area(), picture)
        .map_err(|e| format!("{}: {e}", svg.display()))?;
    paint(&png::Png(BitMapBackend::new(&bitmap, picture.size())).into_drawing_area(), picture)
        .map_err(|e| format!("{}: {e}", bitmap.display()))?;
    Ok([svg, bitmap])
}

fn paint<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, picture: &impl Picture) -> Result<()> {
    root.fill(&WHITE).map_err(drawing)?;
    picture.draw(root)?;
    root.present().map_err(drawing)
}

// ---- the schedule ----

/// The schedule picture of a trace.
pub struct Schedule<'t> {
    trace: &'t Trace,
    title: String,
    label_width: u32,
    legend: Legend,
}

const WIDTH: u32 = 1500;
const ROW: u32 = 26;
const LABEL_TEXT: u32 = 14;
const SLICE_TEXT: u32 = 12;
/// Caption and margins above the rows, axis below them.
const ABOVE: u32 = 50;
const BELOW: u32 = 56;

impl<'t> Schedule<'t> {
    pub fn new(trace: &'t Trace, title: &str) -> Schedule<'t> {
        // Labels past half the width are cut rather than squeeze the rows away.
        let widest = trace.rows.iter().map(|r| text_width(&r.label, LABEL_TEXT)).max().unwrap_or(0);
        let label_width = (widest + 20).min(WIDTH / 2);
        let mut entries: Vec<(String, RGBColor, Mark)> =
            trace.programs.iter().enumerate().map(|(i, p)| (p.label.clone(), colour(i), Mark::Fill)).collect();
        if !trace.migrations.is_empty() {
            entries.push(("migration (program's colour)".into(), RGBColor(60, 60, 60), Mark::Line));
        }
        if !trace.messages.is_empty() {
            entries.push(("message".into(), MESSAGE, Mark::Line));
        }
        let legend = Legend::new(entries, WIDTH - 2 * MARGIN - label_width);
        let count = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        let title = format!(
            "{title}: {}, {}, {}, {}",
            count(trace.rows.len(), "core"),
            count(trace.programs.len(), "program"),
            count(trace.slices.len(), "slice"),
            count(trace.migrations.len(), "migration")
        );
        Schedule { trace, title, label_width, legend }
    }

    /// Row `i`'s band in chart y (row 0 at the top).
    fn band(&self, i: usize) -> (f64, f64) {
        let top = (self.trace.rows.len() - i) as f64;
        (top - 1.0, top)
    }

    fn centre(&self, i: usize) -> f64 {
        self.band(i).0 + 0.5
    }
}

const MARGIN: u32 = 16;
const MESSAGE: RGBColor = RGBColor(150, 150, 150);

impl Picture for Schedule<'_> {
    fn size(&self) -> (u32, u32) {
        (WIDTH, ABOVE + self.trace.rows.len() as u32 * ROW + BELOW + self.legend.height() + MARGIN)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let t = self.trace;
        let (_, h) = self.size();
        let (top, bottom) = root.split_vertically(h - self.legend.height() - MARGIN);
        let x_end = if t.end_ms > 0.0 { t.end_ms * 1.01 } else { 1.0 };
        let mut chart = ChartBuilder::on(&top)
            .margin(MARGIN)
            .caption(&self.title, (FAMILY, 18))
            .x_label_area_size(BELOW - MARGIN)
            .y_label_area_size(self.label_width)
            .build_cartesian_2d(0.0..x_end, 0.0..t.rows.len() as f64)
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc("guest ms since the first event")
            .label_style((FAMILY, 13))
            .draw()
            .map_err(drawing)?;
        let area = chart.plotting_area();
        // Nodes: every other one on a faint band, a faint line between two.
        let mut node_index = 0;
        for (i, r) in t.rows.iter().enumerate() {
            let (lo, hi) = self.band(i);
            if i > 0 && t.rows[i - 1].node != r.node {
                node_index += 1;
                area.draw(&PathElement::new([(0.0, hi), (x_end, hi)], RGBColor(120, 120, 120).mix(0.6)))
                    .map_err(drawing)?;
            }
            if node_index % 2 == 1 {
                area.draw(&Rectangle::new([(0.0, lo), (x_end, hi)], RGBColor(0, 0, 0).mix(0.04).filled()))
                    .map_err(drawing)?;
            }
            let (x, y) = chart.backend_coord(&(0.0, self.centre(i)));
            root.draw(&Text::new(r.label.clone(), (x - 10, y), text_style(LABEL_TEXT, HPos::Right, VPos::Center)))
                .map_err(drawing)?;
        }
        for s in &t.slices {
            let (lo, hi) = self.band(s.row);
            let c = colour(s.program);
            area.draw(&Rectangle::new([(s.start_ms, lo + 0.15), (s.end_ms, hi - 0.15)], c.filled()))
                .map_err(drawing)?;
            // A darker edge keeps back-to-back slices of one program apart.
            area.draw(&Rectangle::new([(s.start_ms, lo + 0.15), (s.end_ms, hi - 0.15)], darker(c).stroke_width(1)))
                .map_err(drawing)?;
            // The program's name where it fits.
            let name = &t.programs[s.program].name;
            let ((x0, y), (x1, _)) =
                (chart.backend_coord(&(s.start_ms, lo + 0.5)), chart.backend_coord(&(s.end_ms, lo)));
            if text_width(name, SLICE_TEXT) as i32 + 8 <= x1 - x0 {
                let ink = on(c);
                let style = text_style(SLICE_TEXT, HPos::Left, VPos::Center).color(&ink);
                root.draw(&Text::new(name.clone(), (x0 + 4, y), style)).map_err(drawing)?;
            }
        }
        for m in &t.migrations {
            let c = m.program.map_or(RGBColor(60, 60, 60), |p| darker(colour(p)));
            let path = [(m.from_ms, self.centre(m.from_row)), (m.to_ms, self.centre(m.to_row))];
            area.draw(&PathElement::new(path, c.stroke_width(2))).map_err(drawing)?;
        }
        for m in &t.messages {
            let (from, to) = ((m.from_ms, self.centre(m.from_row)), (m.to_ms, self.centre(m.to_row)));
            area.draw(&PathElement::new([from, to], MESSAGE.stroke_width(1))).map_err(drawing)?;
            area.draw(&Circle::new(to, 3, MESSAGE.filled())).map_err(drawing)?;
        }
        self.legend.draw(&bottom.margin(0, 0, MARGIN + self.label_width, MARGIN))
    }
}

/// Black or white, whichever reads better on `c`.
fn on(c: RGBColor) -> RGBColor {
    let luma = 0.299 * f64::from(c.0) + 0.587 * f64::from(c.1) + 0.114 * f64::from(c.2);
    if luma > 150.0 {
        BLACK
    } else {
        WHITE
    }
}

/// `c` at two thirds of its brightness.
fn darker(c: RGBColor) -> RGBColor {
    RGBColor((c.0 as u16 * 2 / 3) as u8, (c.1 as u16 * 2 / 3) as u8, (c.2 as u16 * 2 / 3) as u8)
}
