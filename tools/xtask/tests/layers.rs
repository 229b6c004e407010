//! The CPU driver's modules in layers: `arch`, then `devices`, `kernel`,
//! `node`. Each module may use only modules of its own layer or below, and
//! no two modules use each other, directly or through others. This test
//! reads every `crate::LAYER::MODULE` path in `cpu-driver/src` and fails,
//! naming the modules, on a call up a layer or an import cycle.
//! (`cargo test -p xtask --test layers` repeats the check.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const LAYERS: [&str; 4] = ["arch", "devices", "kernel", "node"];

/// `layer::module` of every module file under `src`, with its text.
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for layer in LAYERS {
        let dir = src.join(layer);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(module) = name.strip_suffix(".rs") else { continue };
            if module == "mod" {
                continue;
            }
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            out.insert(format!("{layer}::{module}"), text);
        }
    }
    out
}

/// The text without comments (`//` to the end of the line).
fn code(text: &str) -> String {
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// The modules `text` refers to: `crate::layer::module` paths, `use
/// crate::layer::{a, b}` lists, and `println!` (the kernel console's).
fn uses(text: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let text = code(text);
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        let Some((layer, rest)) = rest.split_once("::") else { continue };
        if !LAYERS.contains(&layer) {
            continue;
        }
        if let Some(list) = rest.strip_prefix('{') {
            let list = list.split('}').next().unwrap_or("");
            for item in list.split(',') {
                let m = item.trim().split("::").next().unwrap_or("").split(' ').next().unwrap_or("");
                out.insert(format!("{layer}::{m}"));
            }
        } else {
            let m: String = rest.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
            out.insert(format!("{layer}::{m}"));
        }
    }
    if text.contains("println!(") {
        out.insert("kernel::console".into());
    }
    out.retain(|m| known.contains(m));
    out
}

fn layer_of(module: &str) -> usize {
    LAYERS.iter().position(|l| module.starts_with(&format!("{l}::"))).unwrap_or(0)
}

/// A cycle through `start`, if there is one.
fn cycle_from(start: &str, graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_string(), vec![start.to_string()])];
    let mut seen = BTreeSet::new();
    while let Some((at, path)) = stack.pop() {
        for next in graph.get(&at).into_iter().flatten() {
            if next == start {
                return Some([path.clone(), vec![next.clone()]].concat());
            }
            if seen.insert(next.clone()) {
                stack.push((next.clone(), [path.clone(), vec![next.clone()]].concat()));
            }
        }
    }
    None
}

#[test]
fn the_cpu_driver_is_in_layers_without_cycles() {
    let src = xtask::root().join("cpu-driver/src");
    let mods = modules(&src);
    assert!(mods.len() >= 15, "found the modules: {:?}", mods.keys());
    let known: BTreeSet<String> = mods.keys().cloned().collect();
    let graph: BTreeMap<String, BTreeSet<String>> = mods
        .iter()
        .map(|(m, text)| {
            let mut u = uses(text, &known);
            u.remove(m);
            (m.clone(), u)
        })
        .collect();
    let up: Vec<String> = graph
        .iter()
        .flat_map(|(m, u)| u.iter().filter(|d| layer_of(d) > layer_of(m)).map(move |d| format!("{m} -> {d}")))
        .collect();
    assert!(up.is_empty(), "modules that call up a layer: {up:?}");
    for m in graph.keys() {
        if let Some(cycle) = cycle_from(m, &graph) {
            panic!("an import cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_checker_sees_calls_up_and_cycles() {
    let known: BTreeSet<String> =
        ["arch::cpu", "kernel::sched", "kernel::proc", "node::owner"].map(String::from).into();
    let u = uses("use crate::kernel::{sched, proc::Kernel};\n// crate::node::owner in a comment\nfn f() { crate::arch::cpu::x(); }", &known);
    assert_eq!(u, ["arch::cpu", "kernel::proc", "kernel::sched"].map(String::from).into());
    let mut graph = BTreeMap::new();
    graph.insert("kernel::sched".to_string(), ["kernel::proc".to_string()].into());
    graph.insert("kernel::proc".to_string(), ["kernel::sched".to_string()].into());
    assert!(cycle_from("kernel::sched", &graph).is_some());
    graph.insert("kernel::proc".to_string(), BTreeSet::new());
    assert!(cycle_from("kernel::sched", &graph).is_none());
    assert!(layer_of("node::owner") > layer_of("kernel::proc"));
}
