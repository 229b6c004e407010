//! Helpers for the QEMU boot tests in `tests/`: boot a machine once, parse
//! the console, and compare it with the boot plan of the same device tree.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;
use xtask::qemu::{Captured, Machine, Session};
use xtask::report::{self, BootReport};

pub use user_abi::Fault;
pub use xtask::report::UserFault;

/// Power off after the summary, and run the kernel's boot self-checks.
pub const BOOTARGS: &str = "poweroff ktest=boot";

/// The kernel's boot self-checks, per node (see `cpu-driver/src/selftest.rs`).
pub const KTAP_CHECKS: [&str; 4] = ["mmu_and_caches_on", "all_cores_up", "build_matches_plan", "maps_only_own_memory"];

/// Generous: a boot takes well under a second of host time.
pub const TIMEOUT: Duration = Duration::from_secs(90);

/// The boot image, built once per test process.
pub fn image() -> PathBuf {
    static IMAGE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match IMAGE.get_or_init(|| xtask::build::boot_image(xtask::build::DEFAULT_BOARD)) {
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

/// Boots `m` interactively: the console's input is the test's to type.
pub fn session(m: &Machine) -> Session {
    Session::start(m, &image()).unwrap_or_else(|e| panic!("cannot run QEMU: {e}"))
}

/// The user-space test suite (`run=utest`), in the order it reports.
pub const UTESTS: [&str; 20] = [
    "spawn_exit_wait",
    "pinned_cpu_bound_both_progress",
    "sleep_wakes_within_a_tick",
    "fault_bad_pointer_contained",
    "fault_undefined_instruction_contained",
    "fault_stack_overflow_contained",
    "fault_misaligned_contained",
    "fault_execute_data_contained",
    "runs_programs_after_faults",
    "wfi_at_el0_is_not_fatal",
    "isolation_other_program_memory",
    "isolation_kernel_memory",
    "bad_pointers_are_errors",
    "endpoints_carry_messages",
    "map_and_unmap",
    "kill_ends_a_program",
    "priorities_prefer_higher",
    "work_moves_between_cores",
    "syscall_fuzzer_leaves_kernel_consistent",
    "light_and_heavy_run",
];

/// The faults the `fault` program provokes during the suite, with how many
/// times each must be reported at least (bad memory access: null, peek,
/// kernel address; misaligned: two ways).
pub const UTEST_FAULTS: [(Fault, usize); 5] = [
    (Fault::BadAccess, 3),
    (Fault::UndefinedInstruction, 1),
    (Fault::StackOverflow, 1),
    (Fault::Misaligned, 2),
    (Fault::BadExecute, 1),
];

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
        self.assert_node_lines(expected);
        assert!(!console.contains("error") && !console.contains("fault") && !console.contains("panic"), "{console}");
        self.assert_ktap(expected.len());
        self.assert_linked(expected.len());
    }

    /// Asserts a clean power-off, exactly the `expected` node lines (by id)
    /// and one summary after them that adds up.
    pub fn assert_node_lines(&self, expected: &[Expect]) {
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
    }

    /// Asserts the kernel itself never faulted or panicked (programs may
    /// have: their faults are `user fault:` lines).
    pub fn assert_kernel_survived(&self) {
        assert_kernel_survived(&self.captured.console);
    }

    /// The index of the KTAP block whose first result is `first`.
    pub fn ktap_block_starting_with(&self, first: &str) -> Option<usize> {
        self.report.ktap_blocks.iter().position(|b| b.results.first().is_some_and(|r| r.name == first))
    }

    /// Asserts `run=utest` (or `run@N=utest`) ran on `node` and passed:
    /// its KTAP block lists every one of [`UTESTS`] in order, all `ok`;
    /// every fault the suite provokes was reported on `node` and killed only
    /// the program; the suite's summary, and init's report that it exited
    /// with 0. Returns the index of the suite's KTAP block.
    pub fn assert_utest(&self, node: usize) -> usize {
        let console = &self.captured.console;
        let index = self
            .ktap_block_starting_with(UTESTS[0])
            .unwrap_or_else(|| panic!("no KTAP block starts with {}; console:\n{console}", UTESTS[0]));
        let names = self.assert_ktap_block(index, UTESTS.len());
        assert_eq!(names, UTESTS, "utest names and order; console:\n{console}");
        self.assert_user_faults(node, &UTEST_FAULTS);
        self.assert_kernel_survived();
        let summary = format!("utest: {} passed, 0 failed", UTESTS.len());
        assert!(console.lines().any(|l| l.trim() == summary), "no {summary:?} line; console:\n{console}");
        assert!(
            console.lines().any(|l| init_reported_exit(l.trim(), node, "utest", 0)),
            "no `init: node {node}: utest (pid P) exited with 0` line; console:\n{console}"
        );
        index
    }

    /// Asserts every `user fault:` line parses and names `node`, and that
    /// the `fault` program was killed for each kind at least the given
    /// number of times.
    pub fn assert_user_faults(&self, node: usize, want: &[(Fault, usize)]) {
        let console = &self.captured.console;
        let faults = &self.report.user_faults;
        let lines = console.lines().filter(|l| l.trim().starts_with("user fault:")).count();
        assert_eq!(lines, faults.len(), "every `user fault:` line must follow the format; console:\n{console}");
        for f in faults {
            assert_eq!(f.node, node, "fault reported on the wrong node: {f:?}; console:\n{console}");
        }
        for &(kind, at_least) in want {
            let n = faults.iter().filter(|f| f.program == "fault" && f.kind == kind).count();
            assert!(
                n >= at_least,
                "want {at_least}+ `user fault: ... (fault): {}` lines, got {n}; console:\n{console}",
                kind.name()
            );
        }
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

/// Asserts no line of `console` says the kernel faulted or panicked.
pub fn assert_kernel_survived(console: &str) {
    for line in console.lines() {
        assert!(
            !line.contains("kernel fault") && !line.contains("kernel panic") && !line.contains("panic:"),
            "the kernel failed: {line:?}; console:\n{console}"
        );
    }
}

/// Whether `line` is init's report that `program` on `node` exited with
/// `code`: `init: node N: PROGRAM (pid P) exited with CODE`.
pub fn init_reported_exit(line: &str, node: usize, program: &str, code: i32) -> bool {
    let Some(rest) = line.strip_prefix(&format!("init: node {node}: {program} (pid ")) else { return false };
    match rest.split_once(") exited with ") {
        Some((pid, got)) => pid.parse::<u64>().is_ok() && got == code.to_string(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_inits_exit_reports() {
        assert!(init_reported_exit("init: node 0: utest (pid 3) exited with 0", 0, "utest", 0));
        assert!(!init_reported_exit("init: node 1: utest (pid 3) exited with 0", 0, "utest", 0));
        assert!(!init_reported_exit("init: node 0: utest (pid 3) exited with 1", 0, "utest", 0));
        assert!(!init_reported_exit("init: node 0: utest (pid 3) exited with 00", 0, "utest", 0));
        assert!(!init_reported_exit("init: node 0: utest (pid x) exited with 0", 0, "utest", 0));
        assert!(!init_reported_exit("init: node 0: utest (pid 3) killed", 0, "utest", 0));
    }
}
