//! A process moved to another node is rebuilt identical: every page of its
//! memory, its registers (FP/SIMD included), its state with the time left
//! on its deadline, its mappings and its children; the node it left has
//! every page and slot back. And what cannot move, does not.

mod common;

use common::{Node, DATA};
use processes::{Outcome, PageData, State};
use proptest::prelude::*;
use user_abi::{Call, Error, SpawnOptions, PAGE_SIZE, PROT_READ, PROT_WRITE};

/// What the test does to the process before it moves.
#[derive(Debug, Clone, Copy)]
enum Before {
    Ready,
    Sleeping(u64),
    Receiving(u64),
    Waiting,
}

fn before() -> impl Strategy<Value = Before> {
    prop_oneof![
        Just(Before::Ready),
        (1u64..1_000_000_000).prop_map(Before::Sleeping),
        (1u64..1_000_000_000).prop_map(Before::Receiving),
        Just(Before::Waiting),
    ]
}

/// Every page of `pid` on `n`: address and contents.
fn pages(n: &Node, pid: u32) -> Vec<(u64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut from = 0;
    let mut buf = [0u8; PAGE_SIZE as usize];
    while let Some((va, _)) = n.k.export_page(pid, from, &mut buf) {
        out.push((va, buf.to_vec()));
        from = va + PAGE_SIZE;
    }
    out
}

/// Node 0 and node 1 of a two-node machine, 4 MiB of program RAM each (the
/// fake's RAM lives as long as the test process, so every case keeps it small).
fn two_nodes() -> (Node, Node) {
    const SMALL: u64 = 1024;
    (Node::of_machine(0, 2, 2, false, SMALL), Node::of_machine(1, 2, 2, false, SMALL))
}

/// Moves `pid` from `a` to `b` as the monitors would; returns its new slot.
fn carry(a: &mut Node, b: &mut Node, pid: u32) -> usize {
    let m = a.k.export(pid).expect("exports");
    let s = b.k.import(&m).expect("imports");
    let mut from = 0;
    let mut buf = [0u8; PAGE_SIZE as usize];
    let mut sent = 0;
    while let Some((va, perm)) = a.k.export_page(pid, from, &mut buf) {
        b.k.import_page(s, va, perm, PageData::Bytes(&buf)).expect("a page");
        from = va + PAGE_SIZE;
        sent += 1;
    }
    assert_eq!(sent, m.pages, "as many pages as announced");
    b.k.import_finish(s, &m);
    a.k.export_done(pid, 1);
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_moved_process_is_rebuilt_identical(
        areas in prop::collection::vec(1u64..6, 0..4),
        seed in any::<u64>(),
        regs in prop::collection::vec(any::<u8>(), processes::REGISTER_BYTES),
        before in before(),
        children in 0usize..3,
        ended in 0usize..3,
    ) {
        let (mut a, mut b) = two_nodes();
        let (free_a, live_a) = (a.free_pages(), a.k.live_processes());
        let free_b = b.free_pages();
        let init = a.run(0);
        let pid = a.spawn(init, 0, "prog", SpawnOptions::default()).expect("spawns") as u32;
        let s = a.slot(pid);
        a.run_slot(1, s);
        // Its memory: mapped areas, most pages written with their own
        // bytes, some never touched (so never backed), and a read-only area
        // nothing has touched either.
        for &pages in &areas {
            let va = a.ret(s, 1, Call::Map, [pages * PAGE_SIZE, PROT_READ | PROT_WRITE, 0, 0, 0]).expect("maps");
            for p in (0..pages).filter(|p| (seed ^ p) % 5 != 0) {
                let bytes: Vec<u8> = (0..PAGE_SIZE).map(|i| (seed.rotate_left((i % 64) as u32) ^ (va + p * PAGE_SIZE + i)) as u8).collect();
                a.k.back_on_touch(s, va + p * PAGE_SIZE, bytes.len()).expect("backed");
                a.k.copy_out(s, va + p * PAGE_SIZE, &bytes).expect("writable");
            }
        }
        let read_only = a.ret(s, 1, Call::Map, [PAGE_SIZE, PROT_READ, 0, 0, 0]).expect("maps");
        a.k.copy_out(s, DATA, &seed.to_le_bytes()).expect("data page");
        // Children: some ended (zombies; each ends before the next starts,
        // so core 0 runs just that one), some still running here.
        let mut kids = Vec::new();
        for i in 0..children + ended {
            let va = a.put(s, 0, b"other");
            let c = a.ret(s, 1, Call::Spawn, [va, 5, va, 0, SpawnOptions::default().encode()]).expect("a child") as u32;
            if i < ended {
                let cs = a.slot(c);
                a.run_slot(0, cs);
                prop_assert_eq!(a.call(cs, 0, Call::Exit, [i as u64, 0, 0, 0, 0]), Outcome::Exited);
            }
            kids.push(c);
        }
        a.fake().log.borrow_mut().registers.insert(s, regs.clone().try_into().expect("800 bytes"));
        // Its state when it goes.
        let outcome = match before {
            Before::Ready => Outcome::Yield,
            Before::Sleeping(ns) => a.call(s, 1, Call::Sleep, [ns, 0, 0, 0, 0]),
            Before::Receiving(ns) => a.call(s, 1, Call::Recv, [3, DATA + 64, 64, ns, 0]),
            Before::Waiting => a.call(s, 1, Call::Wait, [0, DATA + 128, 0, 0, 0]),
        };
        let running_end = a.fake().now.get();
        a.k.stopped(1, s, pid, outcome, false, false);
        // A zombie child at once satisfies a wait: then it is reaped and ready.
        let state_there = a.state(pid).expect("alive");
        let memory = pages(&a, pid);
        let info = a.k.procs[s].as_ref().map(|p| (p.parent, p.name, p.priority, p.class)).expect("here");
        let _ = running_end;

        let bs = carry(&mut a, &mut b, pid);

        // Identical there, and what was not backed is backed there on first
        // touch with its area's permission.
        prop_assert_eq!(pages(&b, pid), memory);
        prop_assert_eq!(b.k.first_touch(bs, read_only), processes::Touched::Backed);
        prop_assert!(b.k.copy_out(bs, read_only, &[1]).is_err(), "read-only there too");
        let moved = b.k.procs[bs].as_ref().expect("there");
        prop_assert_eq!((moved.parent, moved.name, moved.priority, moved.class), info);
        prop_assert_eq!(moved.moves, 1);
        prop_assert_eq!(b.fake().log.borrow().registers.get(&bs).map(|r| r.to_vec()), Some(regs));
        match (state_there, moved.state) {
            (State::Sleeping { deadline: d1 }, State::Sleeping { deadline: d2 })
            | (State::Receiving { deadline: d1, .. }, State::Receiving { deadline: d2, .. }) => {
                // Both fakes' clocks read the same: the time left is kept exactly.
                prop_assert_eq!(d1, d2);
            }
            (x, y) => prop_assert_eq!(x, y),
        }
        // Its children are its children there, the ended ones with their statuses.
        let mut records: Vec<_> = b.k.remote_children().iter().map(|c| (c.pid, c.node, c.status.is_some())).collect();
        records.sort();
        let reaped = usize::from(matches!(before, Before::Waiting) && ended > 0);
        prop_assert_eq!(records.len(), children + ended - reaped);
        prop_assert!(records.iter().all(|&(_, node, _)| node == 0));
        prop_assert_eq!(records.iter().filter(|r| r.2).count(), ended - reaped);

        // Node 0 has every page and slot back once the children it still
        // runs end (their statuses go to node 1).
        for &c in &kids {
            if a.state(c).is_some() {
                a.k.kill(c).expect("a live child");
            }
        }
        prop_assert_eq!(a.state(pid), None);
        a.k.reap_retired();
        prop_assert_eq!((a.free_pages(), a.k.live_processes()), (free_a, live_a));
        // And node 1 gives back all it took when the program ends there.
        b.k.kill(pid).expect("there to kill");
        b.k.reap_retired();
        prop_assert_eq!(b.free_pages(), free_b);
    }
}

#[test]
fn what_cannot_move_stays_and_a_move_given_up_loses_nothing() {
    let (mut a, mut b) = two_nodes();
    let init = a.run(0);
    assert_eq!(a.k.export(1).err(), Some(Error::NotPermitted), "init stays");
    let pid = a.spawn(init, 0, "prog", SpawnOptions::default()).expect("spawns") as u32;
    let s = a.slot(pid);
    a.run_slot(1, s);
    assert_eq!(a.k.export(pid).err(), Some(Error::WouldBlock), "a running program stops first");
    a.k.stopped(1, s, pid, Outcome::Yield, false, false);
    assert_eq!(a.k.export(77).err(), Some(Error::NoSuchProcess));
    // Given up by the source: ready and queued again, as it was.
    let m = a.k.export(pid).expect("exports");
    assert_eq!(a.state(pid), Some(State::Migrating));
    a.k.export_abort(pid);
    assert_eq!(a.state(pid), Some(State::Ready));
    assert_eq!(a.run(1), s, "it runs again");
    // Given up by the destination: every page back.
    let free_b = b.free_pages();
    let t = b.k.import(&m).expect("imports");
    let buf = [7u8; PAGE_SIZE as usize];
    b.k.import_page(t, 0x40_0000, 0, PageData::Bytes(&buf)).expect("a page");
    assert_eq!(b.k.import_page(t, 0x40_1000, 9, PageData::Bytes(&buf)), Err(Error::BadArgument), "no permission 9");
    assert_eq!(b.k.import_page(t, 1 << 40, 2, PageData::Zeros), Err(Error::BadArgument), "above the user half");
    assert_eq!(b.k.import(&m).err(), Some(Error::BadArgument), "that pid is here already");
    b.k.import_abort(t);
    b.k.reap_retired();
    assert_eq!(b.free_pages(), free_b);
    // A description that makes no sense is refused.
    let mut bad = m;
    bad.state = 9;
    assert_eq!(b.k.import(&bad).err(), Some(Error::BadArgument));
    bad = m;
    bad.maps_len = 1000;
    assert_eq!(b.k.import(&bad).err(), Some(Error::BadArgument));
    // Map areas are backed on first touch from what the description says:
    // one outside the map range, or more than the quota, is refused.
    let base = user_abi::MAP_BASE;
    for (va, pages) in
        [(0x40_0000, 1), (base + 1, 1), (base, u64::MAX / 2), (base, user_abi::MAP_QUOTA / PAGE_SIZE + 1)]
    {
        bad = m;
        bad.maps_len = 1;
        bad.maps[0] = [va, pages];
        assert_eq!(b.k.import(&bad).err(), Some(Error::BadArgument), "area {va:#x} of {pages} pages");
    }
    bad = m;
    bad.maps_len = 1;
    bad.maps[0] = [base, 4];
    let t = b.k.import(&bad).expect("a sound area");
    b.k.import_abort(t);
}
