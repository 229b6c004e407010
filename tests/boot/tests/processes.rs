//! Real processes: the user-space test suite (`run=utest`) on the console
//! node and on another node, and the shell typed at over the serial console.

use boot_tests::{boot_with_timeout, preset_machine, session, Expect};
use std::time::Duration;
use xtask::qemu::Session;

/// The suite spawns, sleeps, faults and fuzzes under TCG: generous.
const UTEST_TIMEOUT: Duration = Duration::from_secs(180);

const RK3588_SHAPE: [Expect; 3] = [
    Expect { build: "little", mpidrs: &[0, 1, 2, 3], capacity: 530 },
    Expect { build: "big", mpidrs: &[4, 5], capacity: 1024 },
    Expect { build: "big", mpidrs: &[6, 7], capacity: 1024 },
];

#[test]
fn one_cluster_user_tests() {
    let mut m = preset_machine("1x4", 3);
    m.append = "poweroff ktest=boot run=utest".into();
    let b = boot_with_timeout(&m, UTEST_TIMEOUT);
    let nodes = [Expect { build: "big", mpidrs: &[0, 1, 2, 3], capacity: 1024 }];
    // What `assert_nodes` checks, except that the console now rightly has
    // "fault" and "error" in it (user faults, test names).
    b.assert_node_lines(&nodes);
    b.assert_ktap(nodes.len());
    b.assert_linked(nodes.len());
    let index = b.assert_utest(0);
    assert_eq!(index, 1, "the suite's KTAP block follows the boot checks; console:\n{}", b.captured.console);
}

/// The suite on node `node` of the RK3588-shaped machine (`run` says where).
fn rk3588_user_tests(gic: u8, run: &str, node: usize) {
    let mut m = preset_machine("4+2+2", gic);
    m.append = format!("poweroff {run}");
    let b = boot_with_timeout(&m, UTEST_TIMEOUT);
    b.assert_node_lines(&RK3588_SHAPE);
    b.assert_linked(RK3588_SHAPE.len());
    b.assert_utest(node);
}

#[test]
fn three_clusters_user_tests_on_a_big_node() {
    rk3588_user_tests(3, "run@1=utest", 1);
}

#[test]
fn three_clusters_user_tests_on_the_little_boot_node() {
    rk3588_user_tests(2, "run@0=utest", 0);
}

/// Booting, and each command's answer.
const STEP: Duration = Duration::from_secs(60);
const PROMPT: &str = "mk> ";

/// Waits for the prompt; returns what the console printed before it.
fn prompt(s: &mut Session) -> String {
    s.expect(PROMPT, STEP).unwrap_or_else(|e| panic!("{e}"))
}

/// Types `line` and Enter.
fn type_line(s: &mut Session, line: &str) {
    s.send(&format!("{line}\r")).unwrap_or_else(|e| panic!("{e}"));
}

/// Types `line`; returns what it printed up to the next prompt. One line at
/// a time: the shell drops what follows the end of a line in the same read.
fn command(s: &mut Session, line: &str) -> String {
    type_line(s, line);
    prompt(s)
}

#[test]
fn shell_over_the_serial_console() {
    let mut m = preset_machine("4+2+2", 3);
    // The shell reads the console: it goes on the console node.
    m.append = "poweroff run@0=shell".into();
    let mut s = session(&m);
    prompt(&mut s);

    let help = command(&mut s, "help");
    for want in ["ps", "nodes", "run [-c CLASS] [-n NODE] PROGRAM", "kill PID"] {
        assert!(help.lines().any(|l| l.contains(want)), "help must list {want:?}:\n{help}");
    }

    let nodes = command(&mut s, "nodes");
    for want in [
        "node 0: build=little cpus=4 capacity=530",
        "node 1: build=big cpus=2 capacity=1024",
        "node 2: build=big cpus=2 capacity=1024",
    ] {
        assert!(nodes.lines().any(|l| l.contains(want)), "nodes must say {want:?}:\n{nodes}");
    }
    assert!(nodes.lines().any(|l| l.trim() == "3 nodes"), "{nodes}");

    let run = command(&mut s, "run exitcode 3");
    assert!(run.contains("exited with 3"), "{run}");

    let ps = command(&mut s, "ps");
    // The echoed command is the first line; the table follows.
    assert!(ps.lines().skip(1).any(|l| l.contains("shell")), "ps must list the shell:\n{ps}");

    type_line(&mut s, "exit");
    // init ends when the shell does; `poweroff` turns the machine off when
    // every node's init has ended.
    let c = s.finish(STEP).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.exit_code, Some(0), "QEMU must power off after `exit`; console:\n{}", c.console);
    boot_tests::assert_kernel_survived(&c.console);
}

/// `pingpong`'s line: (round trips, median, p99) from node `from` to `to`.
fn pingpong_line(console: &str, from: u32, to: u32) -> (u64, u64, u64) {
    let prefix = format!("pingpong: node {from} to node {to} ");
    let line = console.lines().find_map(|l| l.strip_prefix(&prefix));
    let line = line.unwrap_or_else(|| panic!("no pingpong line from node {from} to {to}:\n{console}"));
    let field = |key: &str| -> u64 {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
            .unwrap_or_else(|| panic!("{key} in {line:?}"))
    };
    (field("round_trips"), field("rtt_median_ns"), field("rtt_p99_ns"))
}

#[test]
fn endpoint_round_trips_within_a_node_and_across_nodes() {
    let mut m = preset_machine("4+2+2", 3);
    // Node 1 pings node 2 (another node) and, on other endpoints, itself.
    m.append = "poweroff run@1=pingpong:2:200 run@1=pingpong:1:200:12:13".into();
    let b = boot_with_timeout(&m, UTEST_TIMEOUT);
    let console = &b.captured.console;
    assert_eq!(b.captured.exit_code, Some(0), "{console}");
    boot_tests::assert_kernel_survived(console);
    let across = pingpong_line(console, 1, 2);
    let within = pingpong_line(console, 1, 1);
    assert_eq!((across.0, within.0), (200, 200), "every echo came back:\n{console}");
    let exits = console.lines().filter(|l| boot_tests::init_reported_exit(l, 1, "pingpong", 0)).count();
    assert_eq!(exits, 2, "both runs found every echo intact:\n{console}");
    // For the record (a benchmark, not a test, judges them).
    println!(
        "endpoint round trips (guest ns): across nodes median {} p99 {}; within a node median {} p99 {}",
        across.1, across.2, within.1, within.2
    );
}
