//! `run --asym --profile FILE`: where the guest's instructions go. The
//! pacer plugin counts every executed block's instructions per vCPU and
//! writes `vcpu address instructions` lines at exit; this maps each address
//! to the function of the CPU-driver build that vCPU runs (from the boot
//! plan) and writes the functions that executed most, per build. Under the
//! pacer, instructions are what a vCPU's guest time is made of.

use crate::Result;
use object::{Object, ObjectSymbol, SymbolKind};
use std::collections::HashMap;
use std::path::Path;

/// Addresses at or above this are the kernel's (its link address).
pub const KERNEL_BASE: u64 = 0xffff_ff80_0000_0000;

/// Instructions one vCPU executed in blocks starting at one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub vcpu: usize,
    pub address: u64,
    pub instructions: u64,
}

/// Parses the plugin's dump; a line that is not `vcpu 0xaddress count` is
/// an error naming it.
pub fn parse(text: &str) -> Result<Vec<Sample>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut w = line.split_whitespace();
            let vcpu = w.next().and_then(|v| v.parse().ok());
            let address = w.next().and_then(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16).ok());
            let instructions = w.next().and_then(|n| n.parse().ok());
            match (vcpu, address, instructions, w.next()) {
                (Some(vcpu), Some(address), Some(instructions), None) => Ok(Sample { vcpu, address, instructions }),
                _ => Err(format!("profile: not `vcpu 0xaddress count`: {line:?}")),
            }
        })
        .collect()
}

/// A build's functions, by start address.
#[derive(Debug, Default)]
pub struct Symbols {
    /// (start, end, name), sorted by start.
    functions: Vec<(u64, u64, String)>,
}

impl Symbols {
    /// The function symbols of the ELF file at `path`, demangled.
    pub fn of_elf(path: &Path) -> Result<Symbols> {
        let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file = object::File::parse(&*data).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Symbols::new(file.symbols().filter(|s| s.kind() == SymbolKind::Text).filter_map(|s| {
            let name = s.name().ok()?;
            Some((s.address(), s.size(), rustc_demangle::demangle(name).to_string()))
        })))
    }

    /// From (start, size, name) triples.
    pub fn new(symbols: impl IntoIterator<Item = (u64, u64, String)>) -> Symbols {
        let mut functions: Vec<(u64, u64, String)> =
            symbols.into_iter().map(|(start, size, name)| (start, start + size.max(1), name)).collect();
        functions.sort_by_key(|f| f.0);
        Symbols { functions }
    }

    /// The function `address` is in.
    pub fn name_of(&self, address: u64) -> Option<&str> {
        let i = self.functions.partition_point(|f| f.0 <= address).checked_sub(1)?;
        let (start, end, name) = &self.functions[i];
        (*start <= address && address < *end).then_some(name.as_str())
    }
}

/// One build's totals: instructions in the kernel and in user programs,
/// and per kernel function, most first.
#[derive(Debug, Default, PartialEq)]
pub struct BuildProfile {
    pub kernel: u64,
    pub user: u64,
    pub functions: Vec<(String, u64)>,
}

/// Adds up `samples` per build: `build_of(vcpu)` names the build a vCPU
/// runs, `symbols` each build's functions.
pub fn by_build(
    samples: &[Sample],
    build_of: impl Fn(usize) -> Option<String>,
    symbols: &HashMap<String, Symbols>,
) -> Vec<(String, BuildProfile)> {
    let mut builds: HashMap<String, (BuildProfile, HashMap<String, u64>)> = HashMap::new();
    for s in samples {
        let Some(build) = build_of(s.vcpu) else { continue };
        let (profile, functions) = builds.entry(build.clone()).or_default();
        if s.address < KERNEL_BASE {
            profile.user += s.instructions;
            continue;
        }
        profile.kernel += s.instructions;
        let name = symbols.get(&build).and_then(|sym| sym.name_of(s.address)).unwrap_or("(no symbol)");
        *functions.entry(name.to_string()).or_default() += s.instructions;
    }
    let mut out: Vec<(String, BuildProfile)> = builds
        .into_iter()
        .map(|(build, (mut profile, functions))| {
            profile.functions = functions.into_iter().collect();
            profile.functions.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            (build, profile)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Each vCPU's build (by vCPU index, the device tree's CPU order), from
/// the plan of `blob`.
pub fn vcpu_builds(blob: &[u8]) -> Result<Vec<Option<String>>> {
    let p = crate::plan::plan(blob)?;
    let mut builds = vec![None; p.topology.cpus.len()];
    for node in &p.nodes {
        for &cpu in &node.cpus {
            if let Some(b) = builds.get_mut(usize::from(cpu)) {
                *b = Some(node.build.name().to_string());
            }
        }
    }
    Ok(builds)
}

/// Reads the plugin's dump at `raw`, writes the report (the `top`
/// functions per build) to `out` and returns it.
pub fn write(raw: &Path, blob: &[u8], out: &Path, top: usize) -> Result<String> {
    let text = std::fs::read_to_string(raw).map_err(|e| format!("{}: {e}", raw.display()))?;
    let samples = parse(&text)?;
    let builds = vcpu_builds(blob)?;
    let mut symbols = HashMap::new();
    for build in ["big", "little"] {
        symbols.insert(build.to_string(), Symbols::of_elf(&crate::build::cpu_driver_elf(build))?);
    }
    let report = render(&by_build(&samples, |v| builds.get(v).cloned().flatten(), &symbols), top);
    std::fs::write(out, &report).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(report)
}

/// The report: per build, the kernel/user split and the `top` functions.
pub fn render(profiles: &[(String, BuildProfile)], top: usize) -> String {
    let mut out = String::new();
    for (build, p) in profiles {
        let all = (p.kernel + p.user).max(1);
        out += &format!(
            "profile: build={build} instructions={} kernel={} ({:.1}%) user={}\n",
            p.kernel + p.user,
            p.kernel,
            100.0 * p.kernel as f64 / all as f64,
            p.user
        );
        for (name, n) in p.functions.iter().take(top) {
            out += &format!("  {n:>14} {:5.1}% of kernel  {name}\n", 100.0 * *n as f64 / p.kernel.max(1) as f64);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dump_is_summed_per_build_and_function() {
        let dump = "0 0xffffff8000001000 500\n0 0xffffff8000001010 100\n1 0xffffff8000001000 7\n0 0x400000 50\n";
        let samples = parse(dump).expect("well formed");
        let symbols: HashMap<String, Symbols> = [
            ("big".to_string(), Symbols::new([(KERNEL_BASE + 0x1000, 0x20, "hot".to_string())])),
            ("little".to_string(), Symbols::new([])),
        ]
        .into_iter()
        .collect();
        let build_of = |v: usize| Some(if v == 0 { "big" } else { "little" }.to_string());
        let p = by_build(&samples, build_of, &symbols);
        assert_eq!(p[0].0, "big");
        assert_eq!(p[0].1, BuildProfile { kernel: 600, user: 50, functions: vec![("hot".into(), 600)] });
        assert_eq!(p[1].1.functions, vec![("(no symbol)".to_string(), 7)]);
        assert!(render(&p, 5).contains("profile: build=big instructions=650 kernel=600 (92.3%) user=50"));
    }

    #[test]
    fn a_bad_line_is_named() {
        let e = parse("0 0x10 5\nnonsense\n").expect_err("bad line");
        assert!(e.contains("nonsense"), "{e}");
        assert!(Symbols::new([(0x10, 0x10, "f".into())]).name_of(0x20).is_none());
    }
}
