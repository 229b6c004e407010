//! The whole-boot fuzzer (`cargo xtask fuzz boot`): the provided device
//! trees, mutated property by property as a person editing them with `dtc`
//! would get them wrong (values, lengths, phandles, addresses, strings,
//! removed and duplicated properties and nodes), each booted under QEMU
//! with `poweroff` and a deadline, and each boot classified:
//!
//! - **booted**: the summary line, no `boot: error:`, and the machine
//!   switched itself off (or said why it could not: no PSCI);
//! - **refused**: exactly one `boot: error:` line, then the power-off (or
//!   the line saying the tree leaves no way to power off);
//! - **failed**: anything else: a hang, a kernel or boot-driver fault, two
//!   errors, an error and then a node up.
//!
//! Failures are kept under `target/fuzz/boot/` as the tree and a text file
//! with the mutations, the console and the command that boots it again.
//! Boot `i` of seed `S` mutates with a generator seeded from `S` and `i`
//! alone, so a run reproduces exactly.

use crate::dt_tree::{cells, string, DtNode, Tree};
use crate::dtb;
use crate::qemu::{self, Machine};
use crate::Result;
use rand::{RngExt, SeedableRng};
use rand_xorshift::XorShiftRng;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Wall time a boot may take before it counts as a hang: the kernel's own
/// deadlines end by 2 s of guest time; QEMU on a shared host is slower.
const BOOT_DEADLINE: Duration = Duration::from_secs(40);

/// How a boot ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Booted; `degraded` when some core or node did not come up (what
    /// the mutation asked for, and said on the console).
    Booted { degraded: bool },
    /// Refused with this one `boot: error:` line.
    Refused(String),
    /// QEMU's own loader refused the tree (it writes `/chosen`): not the
    /// kernel's business, counted apart.
    QemuRefused(String),
    /// Anything else, with why.
    Failed(String),
}

/// `target/fuzz/boot`.
pub fn dir() -> PathBuf {
    crate::fuzz::dir().join("boot")
}

/// Classifies a finished boot from its console and QEMU's exit code
/// (`None`: killed at the deadline).
pub fn classify(console: &str, exit_code: Option<i32>) -> Outcome {
    const FAULTS: [&str; 4] =
        ["kernel fault:", "boot: error: fault in the boot driver", "boot driver panic", "panicked"];
    if let Some(f) = FAULTS.iter().find(|f| console.contains(*f)) {
        let line = console.lines().find(|l| l.contains(f)).unwrap_or(f);
        return Outcome::Failed(format!("fault: {line}"));
    }
    if console.trim().is_empty() {
        if let Some(code) = exit_code.filter(|&c| c != 0) {
            return Outcome::QemuRefused(format!("QEMU exited with {code} before the kernel printed anything"));
        }
    }
    let errors: Vec<&str> = console.lines().filter(|l| l.starts_with("boot: error:")).collect();
    let poweroff: Vec<&str> = console.lines().filter(|l| l.starts_with("poweroff: ")).collect();
    let ended = match poweroff.as_slice() {
        [] => false,
        // Switched off: QEMU exits 0. Or says it cannot, and parks.
        [.., last] => exit_code == Some(0) || last.contains("no PSCI") || last.contains("no /psci"),
    };
    if !ended {
        return Outcome::Failed(match exit_code {
            None => format!("hang: no power-off within {}s", BOOT_DEADLINE.as_secs()),
            Some(0) => "QEMU exited without a power-off line".into(),
            Some(c) => format!("QEMU exited with {c} without a power-off line"),
        });
    }
    let came_up = console.lines().any(|l| l.starts_with("node ") && l.contains(" up: "));
    match errors.as_slice() {
        [] if console.lines().any(|l| l.starts_with("boot: ") && l.contains(" cpus up in ")) => {
            let degraded = console.contains("did not come up")
                || console.contains("cpus came up")
                || console.contains("did not start")
                || console.contains("wants PSCI")
                || console.contains("not started");
            Outcome::Booted { degraded }
        }
        [] => Outcome::Failed("powered off without a boot summary".into()),
        [one] if !came_up => Outcome::Refused(one.to_string()),
        [_] => Outcome::Failed("a boot: error: and a node up".into()),
        many => Outcome::Failed(format!("{} boot: error: lines", many.len())),
    }
}

/// A provided tree to start from, and the machine it is made for.
struct Seed {
    name: String,
    machine: Machine,
    tree: Tree,
}

fn seeds() -> Result<Vec<Seed>> {
    let mut out = Vec::new();
    for p in dtb::PRESETS {
        for gic in [2, 3] {
            let base = Machine { gic, append: "poweroff".into(), ..Machine::default() };
            let machine = dtb::machine(p, base)?;
            let tree = Tree::parse(&dtb::of_machine(&machine)?)?;
            out.push(Seed { name: format!("{}-gicv{gic}", p.name), machine, tree });
        }
    }
    Ok(out)
}

/// Nodes the kernel reads; most mutations aim at them.
const READ_BY_KERNEL: [&str; 10] =
    ["/cpus", "/memory", "/psci", "/intc", "/pl011", "/chosen", "/timer", "/cluster", "/reserved-memory", "/"];

fn pick_node(tree: &Tree, rng: &mut XorShiftRng) -> String {
    let paths = tree.paths();
    let aimed: Vec<&String> =
        paths.iter().filter(|p| READ_BY_KERNEL[..9].iter().any(|k| p.starts_with(k)) || p.as_str() == "/").collect();
    let pool: Vec<&String> = if rng.random_bool(0.75) && !aimed.is_empty() { aimed } else { paths.iter().collect() };
    pool[rng.random_range(0..pool.len())].clone()
}

fn pick<'a, T>(items: &'a [T], rng: &mut XorShiftRng) -> Option<&'a T> {
    (!items.is_empty()).then(|| &items[rng.random_range(0..items.len())])
}

/// The value of a `#address-cells`/`#size-cells` of the parent of `path`.
fn parent_cells(tree: &Tree, path: &str) -> (usize, usize) {
    let parent = path.rsplit_once('/').map_or("/", |(p, _)| if p.is_empty() { "/" } else { p });
    let n = tree.node(parent);
    let get = |name: &str, default: usize| {
        n.and_then(|n| n.prop(name))
            .and_then(|v| v.get(..4))
            .map_or(default, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    (get("#address-cells", 2), get("#size-cells", 1))
}

fn write_cells(value: u64, cells: usize) -> Vec<u8> {
    match cells {
        1 => (value as u32).to_be_bytes().to_vec(),
        2 => value.to_be_bytes().to_vec(),
        n => vec![0; n * 4],
    }
}

/// Addresses worth trying: RAM's edges and inside, the image, every
/// device's, nothing, the top of the address space.
fn addresses(tree: &Tree, rng: &mut XorShiftRng) -> u64 {
    let mut known: Vec<u64> = vec![0, 0x4000_0000, 0x4020_0000, 0x8000_0000, 0x1_0000_0000, !0xfff];
    known.push(0x4000_0000 + (rng.random_range(0..0x4_0000u64) << 12));
    for p in tree.paths() {
        if let Some(reg) = tree.node(&p).and_then(|n| n.prop("reg")) {
            let (ac, _) = parent_cells(tree, &p);
            if ac == 2 && reg.len() >= 8 {
                known.push(u64::from_be_bytes(reg[..8].try_into().unwrap_or_default()));
            }
        }
    }
    *pick(&known, rng).unwrap_or(&0)
}

/// One mutation of `tree` at a random place; a description, or `None`
/// where the place chosen had nothing to mutate (the caller tries again).
fn mutate_once(tree: &mut Tree, rng: &mut XorShiftRng) -> Option<String> {
    let path = pick_node(tree, rng);
    let kind = rng.random_range(0..100u32);
    let max_phandle = tree.max_phandle();
    let address = addresses(tree, rng);
    let (ac, sc) = parent_cells(tree, &path);
    let node = tree.node_mut(&path)?;
    let prop_names: Vec<String> = node.props.iter().map(|(n, _)| n.clone()).collect();
    let any_prop = |rng: &mut XorShiftRng| pick(&prop_names, rng).cloned();
    match kind {
        // A cell's value.
        0..30 => {
            let name = any_prop(rng)?;
            let v = node.props.iter_mut().find(|(n, _)| *n == name).map(|(_, v)| v)?;
            if v.len() < 4 {
                return None;
            }
            let at = rng.random_range(0..v.len() / 4) * 4;
            let old = u32::from_be_bytes([v[at], v[at + 1], v[at + 2], v[at + 3]]);
            let choices = [0, 1, 2, 3, 0xff, 0x100, 0xffff, 0x7fff_ffff, 0x8000_0000, u32::MAX, old.wrapping_add(1)];
            let new = match rng.random_range(0..14u32) {
                i @ 0..11 => choices[i as usize],
                11 => old.wrapping_sub(1),
                12 => old ^ (1 << rng.random_range(0..32)),
                _ => rng.random(),
            };
            v[at..at + 4].copy_from_slice(&new.to_be_bytes());
            Some(format!("{path}: {name} cell {}: {old:#x} -> {new:#x}", at / 4))
        }
        // A value's length.
        30..42 => {
            let name = any_prop(rng)?;
            let v = node.props.iter_mut().find(|(n, _)| *n == name).map(|(_, v)| v)?;
            let old = v.len();
            if rng.random_bool(0.5) && old > 0 {
                v.truncate(rng.random_range(0..old));
            } else {
                let extra = rng.random_range(1..=12usize);
                v.extend((0..extra).map(|_| rng.random::<u8>()));
            }
            Some(format!("{path}: {name} length {old} -> {}", v.len()))
        }
        // A reference to another node.
        42..52 => {
            const REFS: [&str; 8] = [
                "interrupt-parent",
                "cpu",
                "next-level-cache",
                "operating-points-v2",
                "clocks",
                "msi-parent",
                "phandle",
                "cpu-idle-states",
            ];
            let refs: Vec<&String> = prop_names.iter().filter(|n| REFS.contains(&n.as_str())).collect();
            let name = (*pick(&refs, rng)?).clone();
            let new = match rng.random_range(0..4u32) {
                0 => 0,
                1 => u32::MAX,
                2 => max_phandle.wrapping_add(1 + rng.random_range(0..4)),
                _ => rng.random_range(1..=max_phandle.max(1)),
            };
            node.set(&name, cells(&[new]));
            Some(format!("{path}: {name} = <{new:#x}>"))
        }
        // An address or a size.
        52..64 => {
            let reg = node.prop("reg")?.to_vec();
            let entry = (ac + sc) * 4;
            if entry == 0 || reg.len() < entry {
                return None;
            }
            let mut reg = reg;
            let at = rng.random_range(0..reg.len() / entry) * entry;
            let (what, bytes) = if rng.random_bool(0.6) {
                (format!("address {address:#x}"), write_cells(address, ac))
            } else {
                let size = *pick(&[0u64, 1, 0x1000, 1 << 40, u64::MAX, 0x4000_0000], rng)?;
                (format!("size {size:#x}"), write_cells(size, sc))
            };
            let start = if what.starts_with("address") { at } else { at + ac * 4 };
            reg[start..start + bytes.len()].copy_from_slice(&bytes);
            node.set("reg", reg);
            Some(format!("{path}: reg entry {}: {what}", at / entry))
        }
        // A string.
        64..74 => {
            const STRINGS: [&str; 7] =
                ["compatible", "status", "enable-method", "device_type", "method", "stdout-path", "clock-names"];
            const VALUES: [&str; 19] = [
                "disabled",
                "okay",
                "fail",
                "",
                "spin-table",
                "psci",
                "arm,cortex-a55",
                "arm,cortex-a76",
                "arm,cortex-a72",
                "arm,gic-v3",
                "arm,cortex-a15-gic",
                "arm,pl011",
                "arm,psci-1.0",
                "hvc",
                "smc",
                "memory",
                "cpu",
                "/pl011@9000000",
                "/no-such-node",
            ];
            let name = (*pick(&STRINGS, rng)?).to_string();
            let value = *pick(&VALUES, rng)?;
            let bytes = if rng.random_bool(0.1) { value.as_bytes().to_vec() } else { string(value) };
            node.set(&name, bytes);
            Some(format!("{path}: {name} = {value:?}"))
        }
        // A property gone.
        74..82 => {
            let name = any_prop(rng)?;
            node.remove(&name);
            Some(format!("{path}: {name} removed"))
        }
        // A property twice.
        82..86 => {
            let name = any_prop(rng)?;
            let value = node.prop(&name)?.to_vec();
            node.props.push((name.clone(), value));
            Some(format!("{path}: {name} duplicated"))
        }
        // A node gone.
        86..94 => tree.remove_node(&path).then(|| format!("{path} removed")),
        // A node twice (same name, or another unit address).
        _ if path != "/" => {
            let copy: DtNode = node.clone();
            let (parent, _) = path.rsplit_once('/')?;
            let parent = tree.node_mut(if parent.is_empty() { "/" } else { parent })?;
            let mut copy = copy;
            if rng.random_bool(0.5) {
                let base = copy.name.split('@').next().unwrap_or("").to_string();
                copy.name = format!("{base}@{:x}", rng.random_range(0..0x100u32));
            }
            let name = copy.name.clone();
            parent.children.push(copy);
            Some(format!("{path} duplicated as {name}"))
        }
        _ => None,
    }
}

/// 1 to 3 mutations of `tree`, described.
fn mutate(tree: &mut Tree, rng: &mut XorShiftRng) -> Vec<String> {
    let count = match rng.random_range(0..100u32) {
        0..60 => 1,
        60..85 => 2,
        _ => 3,
    };
    let mut done = Vec::new();
    for _ in 0..count * 20 {
        if done.len() == count {
            break;
        }
        // Only trees that can be written count (a node name the format
        // cannot hold is not a device tree at all).
        let mut next = tree.clone();
        if let Some(d) = mutate_once(&mut next, rng).filter(|_| next.to_blob().is_ok()) {
            *tree = next;
            done.push(d);
        }
    }
    done
}

/// Boots `m` until it powers off (or says it cannot), or the deadline.
fn boot(m: &Machine, image: &Path) -> Result<(String, Option<i32>)> {
    let mut s = qemu::Session::start(m, image)?;
    let ended = |l: &str| {
        l.starts_with("poweroff: ") && !l.starts_with("poweroff: PSCI SYSTEM_OFF failed")
            || l.contains("kernel fault:")
            || l.contains("fault in the boot driver")
    };
    let cannot = s.expect(ended, BOOT_DEADLINE).is_ok() && {
        let c = s.console();
        c.contains("poweroff: no PSCI") || c.contains("no /psci")
    };
    // Switched off: QEMU exits at once. Parked: nothing more will come.
    let c = s.finish(if cannot { Duration::from_millis(300) } else { Duration::from_secs(3) })?;
    let code = if cannot { Some(0) } else { c.exit_code };
    Ok((c.console, code))
}

/// Counts of one run.
#[derive(Debug, Default)]
pub struct Summary {
    pub booted: usize,
    pub degraded: usize,
    pub refused: usize,
    pub qemu_refused: usize,
    pub failed: Vec<String>,
}

/// Runs `boots` boots from `seed`; fails if any boot failed.
pub fn run(image: &Path, boots: usize, seed: u64) -> Result<Summary> {
    let out = dir();
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let seeds = seeds()?;
    let mut log = String::new();
    let mut summary = Summary::default();
    let start = Instant::now();
    crate::outln!("fuzz boot: {boots} boots from seed {seed}, {} provided trees", seeds.len());
    for i in 0..boots {
        let mut rng = XorShiftRng::seed_from_u64(seed ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let s = &seeds[rng.random_range(0..seeds.len())];
        let mut tree = s.tree.clone();
        let mutations = mutate(&mut tree, &mut rng);
        let path = out.join(format!("current-{}.dtb", std::process::id()));
        std::fs::write(&path, tree.to_blob()?).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let m = Machine { dtb: Some(path.clone()), ..s.machine.clone() };
        let (console, code) = boot(&m, image)?;
        let outcome = classify(&console, code);
        let what = match &outcome {
            Outcome::Booted { degraded: false } => {
                summary.booted += 1;
                "booted".to_string()
            }
            Outcome::Booted { degraded: true } => {
                summary.booted += 1;
                summary.degraded += 1;
                "booted, degraded".to_string()
            }
            Outcome::Refused(line) => {
                summary.refused += 1;
                format!("refused: {line}")
            }
            Outcome::QemuRefused(why) => {
                summary.qemu_refused += 1;
                format!("QEMU refused: {why}")
            }
            Outcome::Failed(why) => {
                let name = format!("fail-{seed}-{i}");
                let kept = out.join(format!("{name}.dtb"));
                std::fs::rename(&path, &kept).map_err(|e| format!("cannot keep {}: {e}", kept.display()))?;
                let mut text = format!(
                    "{why}\nseed {seed}, boot {i}, from {}\nmutations:\n  {}\nboot it again:\n  cargo xtask run --smp {} \
                     --gic {} --dtb {} --append poweroff\nconsole:\n{console}",
                    s.name,
                    mutations.join("\n  "),
                    m.smp,
                    m.gic,
                    kept.display()
                );
                text.push('\n');
                let txt = out.join(format!("{name}.txt"));
                std::fs::write(&txt, text).map_err(|e| format!("cannot write {}: {e}", txt.display()))?;
                summary.failed.push(format!("boot {i}: {why} (kept as {})", kept.display()));
                format!("FAILED: {why}")
            }
        };
        let _ = writeln!(log, "{i} {} [{}] {what}", s.name, mutations.join("; "));
        crate::outln!("fuzz boot {i}: {} [{}]: {what}", s.name, mutations.join("; "));
    }
    let log_path = out.join(format!("log-{seed}.txt"));
    std::fs::write(&log_path, log).map_err(|e| format!("cannot write {}: {e}", log_path.display()))?;
    crate::outln!(
        "fuzz boot: {boots} boots in {:.0} s: {} booted ({} degraded), {} refused, {} refused by QEMU, {} failed; log {}",
        start.elapsed().as_secs_f64(),
        summary.booted,
        summary.degraded,
        summary.refused,
        summary.qemu_refused,
        summary.failed.len(),
        log_path.display()
    );
    if summary.failed.is_empty() {
        Ok(summary)
    } else {
        Err(format!("fuzz boot: {} failed boots:\n  {}", summary.failed.len(), summary.failed.join("\n  ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUMMARY: &str = "boot: 2 nodes, 8 cpus up in 90000 us\n";

    #[test]
    fn boots_are_classified_by_their_console() {
        let booted = format!("node 0 up: build=big\n{SUMMARY}poweroff: every node's programs have ended\n");
        assert_eq!(classify(&booted, Some(0)), Outcome::Booted { degraded: false });
        let degraded = format!("node 1: only 3 of 4 cpus came up\n{booted}");
        assert_eq!(classify(&degraded, Some(0)), Outcome::Booted { degraded: true });
        let refused = "boot: error: bad device tree: x\npoweroff: the boot failed (bootargs poweroff)\n";
        assert_eq!(classify(refused, Some(0)), Outcome::Refused("boot: error: bad device tree: x".into()));
        let parked = "boot: error: x\npoweroff: the boot failed, but the device tree has no /psci to switch off with\n";
        assert_eq!(classify(parked, Some(0)), Outcome::Refused("boot: error: x".into()));
        assert!(matches!(classify("", Some(1)), Outcome::QemuRefused(_)));
    }

    #[test]
    fn hangs_faults_and_half_refusals_are_failures() {
        let failed = |c: &str, code| matches!(classify(c, code), Outcome::Failed(_));
        assert!(failed("boot: 1 nodes", None), "no power-off: a hang");
        assert!(failed("boot: error: x\n", None), "an error that never powers off");
        assert!(failed(&format!("{SUMMARY}kernel fault: node 0 core 1: x\npoweroff: y\n"), Some(0)));
        let two = "boot: error: a\nboot: error: b\npoweroff: the boot failed (bootargs poweroff)\n";
        assert!(failed(two, Some(0)));
        let and_up = "boot: error: a\nnode 1 up: x\npoweroff: the boot failed (bootargs poweroff)\n";
        assert!(failed(and_up, Some(0)));
        assert!(failed("poweroff: every node's programs have ended\n", Some(0)), "no summary");
        assert!(failed(&format!("{SUMMARY}poweroff: x\n"), Some(1)), "QEMU failed");
    }

    #[test]
    fn mutations_are_reproducible_from_the_seed_and_change_the_tree() {
        let cpu = DtNode {
            name: "cpu@0".into(),
            props: vec![("reg".into(), cells(&[0])), ("enable-method".into(), string("psci"))],
            children: vec![],
        };
        let cpus = DtNode {
            name: "cpus".into(),
            props: vec![("#address-cells".into(), cells(&[1])), ("#size-cells".into(), cells(&[0]))],
            children: vec![cpu],
        };
        let memory = DtNode {
            name: "memory@40000000".into(),
            props: vec![
                ("reg".into(), cells(&[0, 0x4000_0000, 0, 0x4000_0000])),
                ("device_type".into(), string("memory")),
            ],
            children: vec![],
        };
        let root = DtNode {
            name: String::new(),
            props: vec![("#address-cells".into(), cells(&[2])), ("#size-cells".into(), cells(&[2]))],
            children: vec![cpus, memory],
        };
        let tree = Tree { reservations: vec![], root };
        for seed in 0..50u64 {
            let run = || {
                let mut t = tree.clone();
                let d = mutate(&mut t, &mut XorShiftRng::seed_from_u64(seed));
                (t, d)
            };
            let (a, da) = run();
            let (b, db) = run();
            assert_eq!((&a, &da), (&b, &db), "seed {seed}");
            assert!(!da.is_empty(), "seed {seed}: no mutation");
            assert!(a.to_blob().is_ok(), "seed {seed}: {da:?}");
        }
    }
}
