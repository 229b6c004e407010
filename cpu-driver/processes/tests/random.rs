//! Random programs making random calls, scheduled on two cores as the CPU
//! driver does (pick, run, call, stop): whatever they do, once every
//! program has ended no page, process slot or ASID is lost.

mod common;

use common::{Node, DATA};
use processes::{Next, Outcome, MAX_PROCS};
use proptest::prelude::*;
use user_abi::{Call, SpawnOptions, PROT_READ, PROT_WRITE, WAIT_NOHANG};

#[derive(Debug, Clone)]
enum Op {
    Spawn { other: bool, priority: u8, pin: Option<u8> },
    Exit(i32),
    Kill(u8),
    Map(u8),
    Unmap,
    Wait { nohang: bool },
    Send(u8),
    Recv { endpoint: u8, timeout: bool },
    Sleep(u16),
    Yield,
    Tick(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<bool>(), 0..4u8, proptest::option::of(0..3u8)).prop_map(|(other, priority, pin)| Op::Spawn { other, priority, pin }),
        2 => any::<i32>().prop_map(Op::Exit),
        1 => any::<u8>().prop_map(Op::Kill),
        2 => (0..80u8).prop_map(Op::Map),
        1 => Just(Op::Unmap),
        2 => any::<bool>().prop_map(|nohang| Op::Wait { nohang }),
        2 => (0..17u8).prop_map(Op::Send),
        2 => (0..17u8, any::<bool>()).prop_map(|(endpoint, timeout)| Op::Recv { endpoint, timeout }),
        1 => any::<u16>().prop_map(Op::Sleep),
        1 => Just(Op::Yield),
        2 => any::<u16>().prop_map(Op::Tick),
    ]
}

/// The call `op` makes, with the caller's mapped areas (from their results).
fn call_of(op: &Op, pids: &[u32], maps: &[(u64, u64)]) -> (Call, [u64; 5]) {
    let name = DATA;
    match *op {
        Op::Spawn { other, priority, pin } => {
            let options = SpawnOptions { priority: Some(priority), core: pin, ..SpawnOptions::default() };
            let (va, len) = if other { (name, 5) } else { (name + 8, 4) };
            (Call::Spawn, [va, len, va, 0, options.encode()])
        }
        Op::Exit(code) => (Call::Exit, [code as u32 as u64, 0, 0, 0, 0]),
        Op::Kill(i) => {
            (Call::Kill, [u64::from(pids.get(usize::from(i) % pids.len().max(1)).copied().unwrap_or(0)), 0, 0, 0, 0])
        }
        Op::Map(pages) => (Call::Map, [u64::from(pages) * 4096 + 1, PROT_READ | PROT_WRITE, 0, 0, 0]),
        Op::Unmap => {
            let (va, len) = maps.last().copied().unwrap_or((0, 4096));
            (Call::Unmap, [va, len, 0, 0, 0])
        }
        Op::Wait { nohang } => (Call::Wait, [0, DATA + 512, if nohang { WAIT_NOHANG } else { 0 }, 0, 0]),
        Op::Send(ep) => (Call::Send, [u64::from(ep), DATA, 16, 0, 0]),
        Op::Recv { endpoint, timeout } => {
            (Call::Recv, [u64::from(endpoint), DATA + 1024, 256, if timeout { 5_000 } else { 0 }, 0])
        }
        Op::Sleep(ns) => (Call::Sleep, [u64::from(ns), 0, 0, 0, 0]),
        Op::Yield | Op::Tick(_) => (Call::Yield, [0; 5]),
    }
}

/// Runs `ops`; returns how many programs they spawned and how many areas
/// they unmapped.
fn run(ops: &[Op]) -> (usize, usize) {
    let mut unmapped = 0;
    let mut n = Node::with_pages(2, false, 8 * 1024);
    let total = n.k.frames.as_ref().map_or(0, |f| f.total());
    let mut maps: std::collections::HashMap<u32, Vec<(u64, u64)>> = Default::default();
    for (i, op) in ops.iter().enumerate() {
        let core = i % 2;
        if let Op::Tick(t) = op {
            let now = n.fake().now.get() + u64::from(*t) * 10;
            n.fake().now.set(now);
            n.k.wake_expired(now);
            continue;
        }
        n.fake().core.set(core);
        let Some(s) = n.k.pick(core) else {
            let now = n.fake().now.get() + 10_000;
            n.fake().now.set(now);
            n.k.wake_expired(now);
            continue;
        };
        let now = n.fake().now.get();
        n.k.start_running(core, s, now);
        let pid = n.k.procs[s].as_ref().map_or(0, |p| p.pid);
        // Every program's data page holds the programs' names.
        n.put(s, 0, b"other\0\0\0prog");
        let pids: Vec<u32> = n.k.procs.iter().flatten().map(|p| p.pid).collect();
        let (call, a) = call_of(op, &pids, maps.get(&pid).map_or(&[], Vec::as_slice));
        let outcome = n.call(s, core, call, a);
        if let (Call::Map, Outcome::Return(Ok(va))) = (call, outcome) {
            maps.entry(pid).or_default().push((va, a[0]));
        }
        if let (Call::Unmap, Outcome::Return(Ok(_))) = (call, outcome) {
            maps.entry(pid).or_default().pop();
            unmapped += 1;
        }
        if let Next::Write { len, .. } = n.k.stopped(core, s, pid, outcome, false, true) {
            n.k.written(s, len);
        }
        assert!(n.k.live_processes() <= MAX_PROCS);
    }
    // Programs spawned by the calls (init is not one).
    let spawned = n.fake().log.borrow().events.iter().filter(|e| e.kind == trace_ring::Kind::Spawn as u8).count() - 1;
    // Everything ends: init first (its zombies go with it, the rest are
    // orphaned), then every other program.
    let init = n.init;
    n.k.exit(init, user_abi::ExitStatus::Exited(0));
    let pids: Vec<u32> = n.k.procs.iter().flatten().map(|p| p.pid).collect();
    for pid in pids {
        // Ending one may have reaped others (zombies of an ended parent).
        if let Some(s) = n.k.procs.iter().position(|p| p.as_ref().is_some_and(|p| p.pid == pid)) {
            n.k.exit(s, user_abi::ExitStatus::Killed);
        }
    }
    n.k.reap_retired();
    assert_eq!(n.k.live_processes(), 0, "every process slot is free");
    assert_eq!(n.free_pages(), total, "every page is back");
    // And every slot and ASID can be used again.
    for i in 0..MAX_PROCS {
        assert!(n.k.spawn("prog", b"", 0, SpawnOptions::default()).is_ok(), "spawn {i} after the storm");
    }
    (spawned, unmapped)
}

#[test]
fn a_busy_sequence_spawns_maps_and_messages() {
    use Op::*;
    let ops = [
        Spawn { other: false, priority: 1, pin: None },
        Spawn { other: true, priority: 2, pin: Some(1) },
        Map(3),
        Send(2),
        Recv { endpoint: 2, timeout: true },
        Wait { nohang: false },
        Sleep(100),
        Tick(50),
        Exit(3),
        Unmap,
        Kill(1),
        Yield,
    ];
    let mut repeated = Vec::new();
    for _ in 0..10 {
        repeated.extend(ops.iter().cloned());
    }
    let (spawned, _) = run(&repeated);
    assert!(spawned >= 5, "the sequence spawns programs: {spawned}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_calls_never_lose_a_page_or_a_slot(ops in proptest::collection::vec(op(), 1..300)) {
        run(&ops);
    }
}
