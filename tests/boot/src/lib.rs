//! Helpers for the QEMU boot tests in `tests/`: boot a machine once, parse
//! the console, and compare it with the boot plan of the same device tree.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;
use xtask::qemu::{Captured, Machine};
use xtask::report::{self, BootReport};

/// Power off after the summary, and run the kernel's boot self-checks.
pub const BOOTARGS: &str = "poweroff ktest=boot";

/// The kernel's boot self-checks, per node (see `cpu-driver/src/selftest.rs`).
pub const KTAP_CHECKS: [&str; 4] = ["mmu_and_caches_on", "all_cores_up", "build_matches_plan", "maps_only_own_memory"];

/// Generous: a boot takes well under a second of host time.
pub const TIMEOUT: Duration = Duration::from_secs(90);

/// The boot image, built once per test process.
pub fn image() -> PathBuf {
    static IMAGE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match IMAGE.get_or_init(|| xtask::build::boot_image("qemu-virt")) {
        Ok(p) => p.clone(),
        Err(e) => panic!("cannot build the boot image: {e}"),
    }
}

/// A machine booted with `poweroff`, its console and what it reported.
pub struct Boot {
    pub captured: Captured,
    pub report: BootReport,
}

/// Boots `m` and returns the parsed console.
pub fn boot(m: &Machine) -> Boot {
    boot_with_timeout(m, TIMEOUT)
}

/// Boots `m`, killing QEMU after `timeout`, and returns the parsed console.
pub fn boot_with_timeout(m: &Machine, timeout: Duration) -> Boot {
    let captured = match xtask::qemu::run_captured(m, &image(), timeout) {
        Ok(c) => c,
        Err(e) => panic!("cannot run QEMU: {e}"),
    };
    let report = report::parse(&captured.console);
    Boot { captured, report }
}

/// A provided topology's machine booted with [`BOOTARGS`].
pub fn preset_machine(name: &str, gic: u8) -> Machine {
    let base = Machine { gic, append: BOOTARGS.into(), ..Machine::default() };
    xtask::dtb::preset(name).and_then(|p| xtask::dtb::machine(p, base)).unwrap_or_else(|e| panic!("{e}"))
}

/// One expected node line.
pub struct Expect {
    pub build: &'static str,
    pub mpidrs: &'static [u64],
    pub capacity: u32,
}

impl Boot {
    /// Asserts a clean power-off, exactly the `expected` node lines (by id),
    /// one summary after them that adds up, and every self-check passed
    /// (the machine must have booted with [`BOOTARGS`]).
    pub fn assert_nodes(&self, expected: &[Expect]) {
        let console = &self.captured.console;
        assert_eq!(self.captured.exit_code, Some(0), "QEMU did not power off cleanly; console:\n{console}");
        let r = &self.report;
        assert_eq!(r.nodes.len(), expected.len(), "node lines; console:\n{console}");
        for (id, want) in expected.iter().enumerate() {
            let got: Vec<_> = r.nodes.iter().filter(|n| n.id == id).collect();
            assert_eq!(got.len(), 1, "node {id} must report exactly once; console:\n{console}");
            let n = got[0];
            assert_eq!(n.build, want.build, "node {id} build; console:\n{console}");
            assert_eq!(n.mpidrs, want.mpidrs, "node {id} cores; console:\n{console}");
            assert_eq!(n.cpus, want.mpidrs.len(), "node {id} cpu count; console:\n{console}");
            assert_eq!(n.capacity, want.capacity, "node {id} capacity; console:\n{console}");
        }
        let s = r.summary.unwrap_or_else(|| panic!("no boot summary; console:\n{console}"));
        assert_eq!(s.nodes, expected.len(), "summary nodes; console:\n{console}");
        assert_eq!(s.cpus, expected.iter().map(|e| e.mpidrs.len()).sum::<usize>(), "summary cpus");
        assert!(s.micros > 0, "boot time must be measured");
        assert!(r.summary_index > r.last_node_index, "summary must follow every node line:\n{console}");
        assert!(!console.contains("error") && !console.contains("fault") && !console.contains("panic"), "{console}");
        self.assert_ktap(expected.len());
        self.assert_linked(expected.len());
    }

    /// Asserts every node's monitor linked to every other node, once.
    pub fn assert_linked(&self, nodes: usize) {
        let console = &self.captured.console;
        let mut linked = self.report.linked.clone();
        linked.sort_unstable();
        let want: Vec<(usize, usize)> = (0..nodes).map(|n| (n, nodes - 1)).collect();
        assert_eq!(linked, want, "monitor lines; console:\n{console}");
    }

    /// Asserts a KTAP block (the `index`-th printed) with `count` results,
    /// numbered in order, all `ok`; returns the results' names.
    pub fn assert_ktap_block(&self, index: usize, count: usize) -> Vec<String> {
        let console = &self.captured.console;
        let block = self.report.ktap_blocks.get(index).unwrap_or_else(|| panic!("no KTAP block {index}:\n{console}"));
        assert_eq!(block.plan, Some(count), "KTAP plan; console:\n{console}");
        assert_eq!(block.results.len(), count, "KTAP results; console:\n{console}");
        for (i, r) in block.results.iter().enumerate() {
            assert_eq!(r.number, i + 1, "KTAP numbering; console:\n{console}");
            assert!(r.ok, "not ok: {}; console:\n{console}", r.name);
        }
        block.results.iter().map(|r| r.name.clone()).collect()
    }

    /// Asserts the KTAP block: every check of every node, numbered in
    /// order, all `ok`.
    pub fn assert_ktap(&self, nodes: usize) {
        let console = &self.captured.console;
        let names = self.assert_ktap_block(0, nodes * KTAP_CHECKS.len());
        for (i, got) in names.iter().enumerate() {
            let name = format!("node{}_{}", i / KTAP_CHECKS.len(), KTAP_CHECKS[i % KTAP_CHECKS.len()]);
            assert_eq!(got, &name, "KTAP order; console:\n{console}");
        }
    }

    /// Asserts the node lines agree with the host `plan` of the machine's DTB.
    pub fn assert_matches_plan(&self, m: &Machine) {
        let dtb = m.dtb.as_ref().expect("machine has a DTB");
        let blob = std::fs::read(dtb).expect("read DTB");
        let plan = xtask::plan::plan(&blob).unwrap_or_else(|e| panic!("host plan: {e}"));
        assert_eq!(self.report.nodes.len(), plan.nodes.len());
        for n in &plan.nodes {
            let line = self.report.nodes.iter().find(|l| l.id == n.id).expect("node line for planned node");
            assert_eq!(line.build, n.build.name());
            assert_eq!(line.mpidrs.as_slice(), n.mpidrs.as_slice());
            assert_eq!(line.capacity, n.capacity);
        }
    }
}
