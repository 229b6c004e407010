//! Live migration between nodes: a program that computes over its memory,
//! stack and registers is moved 100 times round the nodes of an RK3588-
//! shaped machine while it runs, and ends with the same result as its twin
//! that never moved; the shell moves one by hand.

use boot_tests::{assert_kernel_survived, boot_with_timeout, init_reported_exit, preset_machine};
use std::time::Duration;

/// `memsum`'s result line's sum, for the run started by node `node`'s init
/// or by `mover` (the first or second such line in order).
fn sums(console: &str) -> Vec<String> {
    console
        .lines()
        .filter_map(|l| l.strip_prefix("memsum: "))
        .filter_map(|l| l.split_whitespace().find_map(|w| w.strip_prefix("sum=")).map(String::from))
        .collect()
}

#[test]
fn a_program_moved_100_times_ends_as_one_never_moved() {
    let mut m = preset_machine("4+2+2", 3);
    // The twin stays on node 1; the mover's copy starts on node 0.
    m.append = "poweroff run@1=memsum:60000:64 run@0=mover:100:5:memsum:60000:64".into();
    let b = boot_with_timeout(&m, Duration::from_secs(300));
    let console = &b.captured.console;
    assert_eq!(b.captured.exit_code, Some(0), "{console}");
    assert_kernel_survived(console);
    let sums = sums(console);
    assert_eq!(sums.len(), 2, "both runs printed their sum:\n{console}");
    assert_eq!(sums[0], sums[1], "moved or not, the same result:\n{console}");
    let line = console.lines().find(|l| l.starts_with("mover: memsum ")).unwrap_or_else(|| panic!("{console}"));
    assert!(line.contains("moved=100 ") && line.contains("status=exited with 0"), "{line}");
    assert!(console.lines().any(|l| init_reported_exit(l, 0, "mover", 0)), "{console}");
    println!("{line}");
}

/// After 100 moves round every node, each node has all its pages and
/// process slots back (as `nodes` reports them: this node's own, the
/// others' from the view).
#[test]
fn after_100_moves_every_node_has_its_pages_and_slots_back() {
    let mut m = preset_machine("4+2+2", 3);
    m.append = "poweroff run@0=mover:100:5:memsum:20000:64".into();
    let b = boot_with_timeout(&m, Duration::from_secs(300));
    let console = &b.captured.console;
    assert_eq!(b.captured.exit_code, Some(0), "{console}");
    let line =
        console.lines().find_map(|l| l.strip_prefix("mover: free pages ")).unwrap_or_else(|| panic!("{console}"));
    let field = |key: &str, nth: usize| {
        line.split_whitespace().filter_map(|w| w.strip_prefix(key)).nth(nth).unwrap_or_else(|| panic!("{line}"))
    };
    let (pages_before, pages_after) = (field("before=", 0), field("after=", 0));
    let (procs_before, procs_after) = (field("before=", 1), field("after=", 1));
    assert_eq!(pages_before.split(',').count(), 3, "{line}");
    assert_eq!(pages_before, pages_after, "free pages of every node: {line}\n{console}");
    assert_eq!(procs_before, procs_after, "processes of every node: {line}\n{console}");
    assert!(console.lines().any(|l| l.starts_with("mover: memsum moved=100 ")), "{console}");
    println!("{line}");
}
