//! Parsing what the kernel prints at boot (the formats are part of the
//! console contract in the README).

/// `node 0 up: build=little cpus=4 mpidr=0x0,0x1,0x2,0x3 capacity=530`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeLine {
    pub id: usize,
    pub build: String,
    pub cpus: usize,
    pub mpidrs: Vec<u64>,
    pub capacity: u32,
}

/// `boot: 3 nodes, 8 cpus up in 1234 us`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub nodes: usize,
    pub cpus: usize,
    pub micros: u64,
}

fn field<'a>(words: &[&'a str], key: &str) -> Option<&'a str> {
    words.iter().find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
}

fn hex(s: &str) -> Option<u64> {
    u64::from_str_radix(s.strip_prefix("0x")?, 16).ok()
}

/// Parses a node line.
pub fn node_line(line: &str) -> Option<NodeLine> {
    let rest = line.strip_prefix("node ")?;
    let (id, rest) = rest.split_once(" up: ")?;
    let words: Vec<&str> = rest.split_whitespace().collect();
    let mpidrs = field(&words, "mpidr")?.split(',').map(hex).collect::<Option<Vec<_>>>()?;
    Some(NodeLine {
        id: id.parse().ok()?,
        build: field(&words, "build")?.to_string(),
        cpus: field(&words, "cpus")?.parse().ok()?,
        mpidrs,
        capacity: field(&words, "capacity")?.parse().ok()?,
    })
}

/// Parses the summary line.
pub fn summary_line(line: &str) -> Option<Summary> {
    let rest = line.strip_prefix("boot: ")?;
    let (nodes, rest) = rest.split_once(" nodes, ")?;
    let (cpus, rest) = rest.split_once(" cpus up in ")?;
    let micros = rest.strip_suffix(" us")?;
    Some(Summary { nodes: nodes.parse().ok()?, cpus: cpus.parse().ok()?, micros: micros.parse().ok()? })
}

/// One KTAP result line: `ok 3 name` / `not ok 3 name # reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KtapResult {
    pub number: usize,
    pub ok: bool,
    pub name: String,
}

/// Parses a KTAP result line.
pub fn ktap_line(line: &str) -> Option<KtapResult> {
    let (ok, rest) = match line.strip_prefix("not ok ") {
        Some(rest) => (false, rest),
        None => (true, line.strip_prefix("ok ")?),
    };
    let (number, name) = rest.split_once(' ')?;
    let name = name.split(" # ").next().unwrap_or(name).trim().to_string();
    Some(KtapResult { number: number.parse().ok()?, ok, name })
}

/// `(passed, failed)` from a cargo test summary line
/// (`test result: ok. 34 passed; 0 failed; 0 ignored; ...`).
pub fn cargo_test_counts(line: &str) -> Option<(u64, u64)> {
    let rest = line.strip_prefix("test result: ")?;
    let mut counts = (0, 0);
    for part in rest.split(';') {
        let words: Vec<&str> = part.split_whitespace().collect();
        if let [.., n, key] = words.as_slice() {
            match *key {
                "passed" => counts.0 = n.parse().ok()?,
                "failed" => counts.1 = n.parse().ok()?,
                _ => {}
            }
        }
    }
    Some(counts)
}

/// One KTAP document: its plan and its results.
#[derive(Debug, Default, Clone)]
pub struct KtapBlock {
    /// The plan (`1..N`), once printed.
    pub plan: Option<usize>,
    pub results: Vec<KtapResult>,
}

/// `monitor: node 2 linked to 2 peers`: (node, peers).
pub fn linked_line(line: &str) -> Option<(usize, usize)> {
    let rest = line.strip_prefix("monitor: node ")?;
    let (node, rest) = rest.split_once(" linked to ")?;
    let peers = rest.strip_suffix(" peers")?;
    Some((node.parse().ok()?, peers.parse().ok()?))
}

/// Every `key=number` of a benchmark line.
pub type BenchFields = Vec<(String, u64)>;

/// `bench: WHAT [mode=NAME] key=number ...`: the mode, if any, and every
/// `key=number`.
fn bench_line(line: &str, what: &str) -> Option<(Option<String>, BenchFields)> {
    let rest = line.strip_prefix("bench: ")?.strip_prefix(what)?.strip_prefix(' ')?;
    let mut mode = None;
    let mut fields = Vec::new();
    for word in rest.split_whitespace() {
        let (k, v) = word.split_once('=')?;
        match v.parse() {
            Ok(n) => fields.push((k.to_string(), n)),
            Err(_) if k == "mode" => mode = Some(v.to_string()),
            Err(_) => return None,
        }
    }
    Some((mode, fields))
}

/// Every `key=number` word of `rest` (other words are skipped).
fn numbers(rest: &str) -> BenchFields {
    rest.split_whitespace()
        .filter_map(|w| {
            let (k, v) = w.split_once('=')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

/// `mover: PROG moved=N refused=R move_us_median=M move_us_max=X
/// status=...`: PROG and every `key=number`.
pub fn mover_line(line: &str) -> Option<(String, BenchFields)> {
    let rest = line.strip_prefix("mover: ")?;
    let (prog, rest) = rest.split_once(' ')?;
    rest.starts_with("moved=").then(|| (prog.to_string(), numbers(rest)))
}

/// `pingpong: node A to node B round_trips=N rtt_median_ns=M
/// rtt_p99_ns=P`: (A, B) and every `key=number`.
pub fn pingpong_line(line: &str) -> Option<(u32, u32, BenchFields)> {
    let rest = line.strip_prefix("pingpong: node ")?;
    let (from, rest) = rest.split_once(" to node ")?;
    let (to, rest) = rest.split_once(' ')?;
    Some((from.parse().ok()?, to.parse().ok()?, numbers(rest)))
}

/// `bench: channel mode=ipi peer=1 ...`: the mode and every `key=number`.
pub fn bench_channel_line(line: &str) -> Option<(String, Vec<(String, u64)>)> {
    let (mode, fields) = bench_line(line, "channel")?;
    Some((mode?, fields))
}

/// `bench: processes call_ns=.. null_call_ns=.. ...`: every `key=number`.
pub fn bench_processes_line(line: &str) -> Option<Vec<(String, u64)>> {
    bench_line(line, "processes").map(|(_, fields)| fields)
}

/// `calibration: node 1 measured=488,487,484,484`: each core's measured
/// capacity (fastest core of the machine = 1024).
pub fn calibration_line(line: &str) -> Option<(usize, Vec<u32>)> {
    let rest = line.strip_prefix("calibration: node ")?;
    let (node, list) = rest.split_once(" measured=")?;
    let values = list.split(',').map(|v| v.parse().ok()).collect::<Option<Vec<u32>>>()?;
    Some((node.parse().ok()?, values))
}

/// `bench: capacity node N core C units=U us=T units_per_s=R`: (node,
/// core, units per second).
pub fn bench_capacity_line(line: &str) -> Option<(usize, usize, u64)> {
    let rest = line.strip_prefix("bench: capacity node ")?;
    let (node, rest) = rest.split_once(" core ")?;
    let (core, rest) = rest.split_once(' ')?;
    let rate = rest.split_whitespace().find_map(|w| w.strip_prefix("units_per_s="))?;
    Some((node.parse().ok()?, core.parse().ok()?, rate.parse().ok()?))
}

/// The kernel's report of a program it killed for a fault:
/// `user fault: node 1 core 2 pid 7 (fault): bad memory access at 0x0 (ESR 0x92000006) pc 0x400123; killed`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFault {
    pub node: usize,
    pub core: usize,
    pub pid: u64,
    /// The program's name.
    pub program: String,
    pub kind: user_abi::Fault,
    /// The faulting address (FAR_EL1).
    pub address: u64,
    pub esr: u64,
    pub pc: u64,
}

/// Parses a user-fault line (the kind is one of `user_abi::Fault::name()`).
pub fn user_fault_line(line: &str) -> Option<UserFault> {
    let rest = line.strip_prefix("user fault: node ")?;
    let (node, rest) = rest.split_once(" core ")?;
    let (core, rest) = rest.split_once(" pid ")?;
    let (pid, rest) = rest.split_once(" (")?;
    let (program, rest) = rest.split_once("): ")?;
    let (kind, rest) = rest.split_once(" at ")?;
    let (address, rest) = rest.split_once(" (ESR ")?;
    let (esr, rest) = rest.split_once(") pc ")?;
    let pc = rest.strip_suffix("; killed")?;
    Some(UserFault {
        node: node.parse().ok()?,
        core: core.parse().ok()?,
        pid: pid.parse().ok()?,
        program: program.to_string(),
        kind: user_abi::Fault::ALL.into_iter().find(|f| f.name() == kind)?,
        address: hex(address)?,
        esr: hex(esr)?,
        pc: hex(pc)?,
    })
}

/// Everything recognised in a console log.
#[derive(Debug, Default)]
pub struct BootReport {
    /// Every KTAP document, in the order printed (`KTAP version 1` starts one).
    pub ktap_blocks: Vec<KtapBlock>,
    /// Monitor lines: (node, peers linked).
    pub linked: Vec<(usize, usize)>,
    /// `bench: channel` lines: mode and fields.
    pub bench_channel: Vec<(String, Vec<(String, u64)>)>,
    /// `user fault:` lines, in order.
    pub user_faults: Vec<UserFault>,
    pub nodes: Vec<NodeLine>,
    pub summary: Option<Summary>,
    /// Lines after which the summary appeared (index into the log's lines).
    pub summary_index: Option<usize>,
    pub last_node_index: Option<usize>,
}

/// Reads node lines and the summary out of a console log.
pub fn parse(console: &str) -> BootReport {
    let mut r = BootReport::default();
    for (i, line) in console.lines().enumerate() {
        let line = line.trim();
        if line == "KTAP version 1" {
            r.ktap_blocks.push(KtapBlock::default());
        } else if let (Some(n), Some(b)) =
            (line.strip_prefix("1..").and_then(|n| n.parse().ok()), r.ktap_blocks.last_mut())
        {
            b.plan = Some(n);
        } else if let (Some(k), Some(b)) = (ktap_line(line), r.ktap_blocks.last_mut()) {
            b.results.push(k);
        } else if let Some(l) = linked_line(line) {
            r.linked.push(l);
        } else if let Some(b) = bench_channel_line(line) {
            r.bench_channel.push(b);
        } else if let Some(f) = user_fault_line(line) {
            r.user_faults.push(f);
        } else if let Some(n) = node_line(line) {
            r.nodes.push(n);
            r.last_node_index = Some(i);
        } else if let Some(s) = summary_line(line) {
            if r.summary.is_none() {
                r.summary = Some(s);
                r.summary_index = Some(i);
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_formats() {
        let n = node_line("node 0 up: build=little cpus=4 mpidr=0x0,0x1,0x2,0x3 capacity=530").expect("node line");
        assert_eq!(n, NodeLine { id: 0, build: "little".into(), cpus: 4, mpidrs: vec![0, 1, 2, 3], capacity: 530 });
        let s = summary_line("boot: 3 nodes, 8 cpus up in 1234 us").expect("summary");
        assert_eq!(s, Summary { nodes: 3, cpus: 8, micros: 1234 });
    }

    #[test]
    fn parses_ktap() {
        let r = parse("KTAP version 1\n1..2\nok 1 node0_a\nnot ok 2 node0_b # node did not come up\nKTAP version 1\n1..1\nok 1 x\n");
        assert_eq!(r.ktap_blocks.len(), 2);
        assert_eq!(r.ktap_blocks[0].plan, Some(2));
        assert_eq!(r.ktap_blocks[1].plan, Some(1));
        assert_eq!(r.ktap_blocks[1].results.len(), 1);
        assert_eq!(
            r.ktap_blocks[0].results,
            vec![
                KtapResult { number: 1, ok: true, name: "node0_a".into() },
                KtapResult { number: 2, ok: false, name: "node0_b".into() }
            ]
        );
    }

    #[test]
    fn parses_monitor_and_bench_lines() {
        assert_eq!(linked_line("monitor: node 2 linked to 1 peers"), Some((2, 1)));
        assert_eq!(linked_line("monitor: node 2: no hello from node 1"), None);
        let (mode, fields) = bench_channel_line("bench: channel mode=poll peer=1 rtt_median_ns=4608").expect("bench");
        assert_eq!(mode, "poll");
        assert_eq!(fields, vec![("peer".to_string(), 1), ("rtt_median_ns".to_string(), 4608)]);
        assert_eq!(bench_channel_line("bench: channel needs two nodes"), None);
        let p =
            bench_processes_line("bench: processes call_ns=9 null_call_ns=1312 switch_ns=19546").expect("processes");
        assert_eq!(p[1], ("null_call_ns".to_string(), 1312));
        assert_eq!(bench_processes_line("bench: processes null_call_ns=x"), None);
        assert_eq!(calibration_line("calibration: node 1 measured=488,1024"), Some((1, vec![488, 1024])));
        assert_eq!(calibration_line("calibration: node 1 measured="), None);
        assert_eq!(
            bench_capacity_line("bench: capacity node 1 core 3 units=1000 us=1607124 units_per_s=622"),
            Some((1, 3, 622))
        );
        assert_eq!(bench_capacity_line("bench: capacity node 1 core x units_per_s=1"), None);
    }

    #[test]
    fn parses_user_fault_lines() {
        let line = "user fault: node 1 core 3 pid 12 (fault): execute of non-executable memory at 0x4010a0 \
                    (ESR 0x8200000f) pc 0x4010a0; killed";
        assert_eq!(
            user_fault_line(line),
            Some(UserFault {
                node: 1,
                core: 3,
                pid: 12,
                program: "fault".into(),
                kind: user_abi::Fault::BadExecute,
                address: 0x4010a0,
                esr: 0x8200_000f,
                pc: 0x4010a0,
            })
        );
        for f in user_abi::Fault::ALL {
            let line =
                format!("user fault: node 0 core 0 pid 2 (a b): {} at 0x0 (ESR 0x0) pc 0xffff; killed", f.name());
            let got = user_fault_line(&line).expect("every kind parses");
            assert_eq!((got.kind, got.program.as_str(), got.pc), (f, "a b", 0xffff));
        }
        let r = parse("ok 1 x\nuser fault: node 2 core 0 pid 5 (fault): stack overflow at 0x7fff0 (ESR 0x92000047) pc 0x400200; killed\n");
        assert_eq!(r.user_faults.len(), 1);
        assert_eq!(r.user_faults[0].kind, user_abi::Fault::StackOverflow);
        // Near misses.
        let good =
            "user fault: node 0 core 1 pid 3 (fault): misaligned access at 0x1 (ESR 0x96000021) pc 0x400000; killed";
        assert!(user_fault_line(good).is_some());
        for bad in [
            good.replace("; killed", ""),
            good.replace("misaligned access", "misaligned"),
            good.replace("0x1 ", "1 "),
            good.replace("pid 3", "pid x"),
            good.replace("user fault", "kernel fault"),
            good.replace(" (fault)", " fault"),
        ] {
            assert!(user_fault_line(&bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn counts_cargo_test_results() {
        let line = "test result: ok. 34 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.03s";
        assert_eq!(cargo_test_counts(line), Some((34, 2)));
        assert_eq!(cargo_test_counts("running 3 tests"), None);
    }

    #[test]
    fn rejects_near_misses() {
        assert!(node_line("node 0 up: build=little cpus=x mpidr=0x0 capacity=530").is_none());
        assert!(node_line("node 0 up: build=big cpus=1 mpidr=0 capacity=1024").is_none());
        assert!(summary_line("boot: 3 nodes, 8 cpus up in 12 ms").is_none());
        assert!(summary_line("boot: error: bad device tree").is_none());
    }
}
