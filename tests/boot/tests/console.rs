//! The console under load: programs on every node print lines longer than
//! a ring slot while programs on the same nodes fault. Every line must come
//! out whole, every `user fault:` report must come out, and anything
//! dropped must be reported with its count.

use boot_tests::{assert_kernel_survived, boot_with_timeout, init_reported_exit, preset_machine};
use std::collections::BTreeMap;
use std::time::Duration;

const LINES: u64 = 300;
const FAULTS: usize = 20;

/// The payload `chatter` prints for `pid`'s line `seq`, and its sum.
fn expected(pid: u64, seq: u64, len: u64) -> (String, u32) {
    let mut sum = 0u32;
    let payload: String = (0..len)
        .map(|i| {
            let c = char::from(b'a' + ((pid * 7 + seq * 3 + i) % 26) as u8);
            sum = sum.wrapping_mul(31).wrapping_add(c as u32);
            c
        })
        .collect();
    (payload, sum)
}

#[test]
fn long_lines_and_faults_on_every_node_all_arrive_whole() {
    let mut m = preset_machine("4+2+2", 3);
    // Three nodes, two printers on node 1, and faults beside each.
    let runs = [(0, 600), (1, 600), (2, 1000), (1, 300)];
    let mut append = String::from("poweroff");
    for (node, len) in runs {
        append += &format!(" run@{node}=chatter:{LINES}:{len}:{FAULTS}");
    }
    m.append = append;
    let b = boot_with_timeout(&m, Duration::from_secs(240));
    let console = &b.captured.console;
    assert_eq!(b.captured.exit_code, Some(0), "the machine powers off when all is done:\n{console}");
    assert_kernel_survived(console);

    // Every chatter line: whole, checked, once.
    let mut got: BTreeMap<(String, u64), usize> = BTreeMap::new();
    let mut lens = BTreeMap::new();
    for line in console.lines().filter(|l| l.contains("chatter ") && !l.starts_with("init:")) {
        let words: Vec<&str> = line.split(' ').collect();
        let [first, who, seq, payload, sum] = words[..] else { panic!("a spliced or cut line: {line:?}") };
        assert_eq!(first, "chatter", "a line spliced into another: {line:?}");
        let pid: u64 = who.split('.').nth(1).and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("{line:?}"));
        let seq: u64 = seq.parse().unwrap_or_else(|_| panic!("{line:?}"));
        let (want, want_sum) = expected(pid, seq, payload.len() as u64);
        assert_eq!(payload, want, "payload of {who} line {seq}");
        assert_eq!(sum, format!("{want_sum:08x}"), "sum of {who} line {seq}");
        *got.entry((who.to_string(), seq)).or_default() += 1;
        lens.insert(who.to_string(), payload.len());
    }
    let mut per_len: Vec<usize> = lens.values().copied().collect();
    per_len.sort_unstable();
    let mut want_len: Vec<usize> = runs.iter().map(|r| r.1).collect();
    want_len.sort_unstable();
    assert_eq!(per_len, want_len, "one printer per run, each with its length");
    for who in lens.keys() {
        for seq in 0..LINES {
            assert_eq!(got.get(&(who.clone(), seq)), Some(&1), "{who} line {seq} must arrive once");
        }
    }
    assert!(!console.lines().any(|l| l.starts_with("\\ ")), "no line was interrupted:\n{console}");

    // Every fault is reported, unless a drop is (with its count).
    let faults = console.lines().filter(|l| l.starts_with("user fault: ") && l.contains("(fault)")).count();
    let dropped: usize = console
        .lines()
        .filter_map(|l| l.strip_prefix("console: node ")?.split_whitespace().nth(2)?.parse::<usize>().ok())
        .sum();
    let others: Vec<&str> = console.lines().filter(|l| !l.starts_with("chatter ")).collect();
    assert_eq!(
        faults + dropped,
        runs.len() * FAULTS,
        "{faults} fault reports, {dropped} lines reported dropped; the console but the chatter lines:\n{}",
        others.join("\n")
    );
    assert_eq!(dropped, 0, "with a live console owner nothing is dropped");
    for (node, _) in runs {
        assert!(console.lines().any(|l| init_reported_exit(l, node, "chatter", 0)), "chatter on node {node}");
    }
}
