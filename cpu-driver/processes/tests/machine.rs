//! Processes of the whole machine: fake nodes whose outboxes are carried to
//! each other as the monitors would carry them. Spawn, wait, kill and
//! endpoints across nodes, answers that never come, the replicated view
//! and placement by the policy.

mod common;

use common::{Node, DATA, PAGES};
use message::Message as user_abi_message;
use processes::Outcome;
use user_abi::{Call, Class, Error, ExitStatus, NodeInfo, ProcessInfo, SpawnOptions};
use zerocopy::FromBytes;

/// A machine of `count` nodes of 2 cores, every one linked to every other;
/// node `n`'s capacity is `capacity[n]`.
fn machine(capacity: &[u32]) -> Vec<Node> {
    let count = capacity.len() as u32;
    let mut nodes: Vec<Node> = (0..count).map(|id| Node::of_machine(id, count, 2, id == 0, PAGES)).collect();
    for n in nodes.iter_mut() {
        n.k.node.capacity = capacity[n.k.node.id as usize];
        for (peer, &cap) in capacity.iter().enumerate() {
            n.k.nodes[peer] = Some(NodeInfo {
                id: peer as u32,
                build: 1,
                capacity: cap,
                cpus: 2,
                linked: 1,
                console: 0,
                ..NodeInfo::default()
            });
        }
    }
    nodes
}

/// Carries every queued message to its node until none is left; returns
/// how many were carried.
fn carry(nodes: &mut [Node]) -> usize {
    carry_frames(nodes).0
}

/// [`carry`], also counting the channel frames the messages take (each
/// message, and the chunks of its bytes).
fn carry_frames(nodes: &mut [Node]) -> (usize, usize) {
    let mut frames = 0;
    let mut carried = 0;
    loop {
        let mut batch = Vec::new();
        for n in nodes.iter_mut() {
            let from = n.k.node.id;
            while let Some(o) = n.k.take_outgoing() {
                batch.push((from, o));
            }
        }
        if batch.is_empty() {
            return (carried, frames);
        }
        for (from, o) in batch {
            carried += 1;
            frames += 1 + o.bytes.len().div_ceil(message::CHUNK_BYTES);
            let to = &mut nodes[o.to as usize];
            to.fake().core.set(1);
            assert!(to.k.on_message(from, &o.message, &o.bytes), "{:?} is about processes", o.message);
        }
    }
}

/// Sends every node's view to every other.
fn share_views(nodes: &mut [Node]) {
    let mut parts = Vec::new();
    for n in nodes.iter_mut() {
        let from = n.k.node.id;
        n.k.view_update(&mut |m| parts.push((from, *m)));
    }
    for (from, m) in parts {
        for n in nodes.iter_mut().filter(|n| n.k.node.id != from) {
            assert!(n.k.on_message(from, &m, &[]));
        }
    }
}

fn spawn_on(n: &mut Node, s: usize, name: &str, node: Option<u8>, class: Class) -> Outcome {
    let va = n.put(s, 0, name.as_bytes());
    let options = SpawnOptions { node, class, ..SpawnOptions::default() };
    n.call(s, 0, Call::Spawn, [va, name.len() as u64, va, 0, options.encode()])
}

#[test]
fn a_parent_spawns_on_another_node_and_gets_the_exit_status() {
    let mut m = machine(&[530, 1024]);
    let init = m[0].run(0);
    assert_eq!(spawn_on(&mut m[0], init, "prog", Some(1), Class::Auto), Outcome::Blocked);
    assert_eq!(carry(&mut m), 2, "the request and its answer");
    let child = m[0].result(init).expect("the spawn returned") as u32;
    assert_eq!(child % 2, 0, "a pid of node 1 (2, 4, ...): {child}");
    let cs = m[1].slot(child);
    assert_eq!(m[1].k.procs[cs].as_ref().map(|p| p.parent), Some(1));
    // The parent waits; the child ends on its node; the status comes back.
    let status = DATA + 64;
    assert_eq!(m[0].call(init, 0, Call::Wait, [0, status, 0, 0, 0]), Outcome::Blocked);
    let _ = m[1].run(0);
    assert_eq!(m[1].call(cs, 0, Call::Exit, [7, 0, 0, 0, 0]), Outcome::Exited);
    assert!(m[1].state(child).is_none(), "no zombie is kept on the child's node");
    assert_eq!(carry(&mut m), 1);
    assert_eq!(m[0].result(init), Some(u64::from(child)));
    let raw = m[0].get(init, status, 8);
    assert_eq!(ExitStatus::decode(u64::from_le_bytes(raw.try_into().expect("8 bytes"))), Some(ExitStatus::Exited(7)));
    assert!(m[0].k.remote_children().is_empty());
    // Nothing left to wait for.
    assert_eq!(m[0].ret(init, 0, Call::Wait, [0, 0, 0, 0, 0]), Err(Error::NoChild));
}

#[test]
fn a_remote_child_that_ends_first_is_a_zombie_on_the_parents_node() {
    let mut m = machine(&[530, 1024]);
    let init = m[0].run(0);
    let _ = spawn_on(&mut m[0], init, "prog", Some(1), Class::Auto);
    carry(&mut m);
    let child = m[0].result(init).expect("spawned") as u32;
    let cs = m[1].slot(child);
    let _ = m[1].run(0);
    m[1].call(cs, 0, Call::Exit, [3, 0, 0, 0, 0]);
    carry(&mut m);
    assert_eq!(m[0].k.remote_children()[0].status, Some(ExitStatus::Exited(3)));
    assert_eq!(m[0].ret(init, 0, Call::Wait, [u64::from(child), 0, 0, 0, 0]), Ok(u64::from(child)));
}

#[test]
fn kill_reaches_other_nodes_but_never_an_init() {
    let mut m = machine(&[530, 1024, 1024]);
    let init = m[0].run(0);
    let _ = spawn_on(&mut m[0], init, "prog", Some(2), Class::Heavy);
    carry(&mut m);
    let child = m[0].result(init).expect("spawned") as u32;
    assert_eq!(m[0].call(init, 0, Call::Kill, [u64::from(child), 0, 0, 0, 0]), Outcome::Blocked);
    carry(&mut m);
    assert_eq!(m[0].result(init), Some(0));
    assert!(m[2].state(child).is_none());
    assert_eq!(m[0].ret(init, 0, Call::Wait, [0, DATA + 64, 0, 0, 0]), Ok(u64::from(child)));
    // Pids 1 to 3 are the nodes' inits.
    for pid in 1..=3 {
        assert_eq!(m[0].ret(init, 0, Call::Kill, [pid, 0, 0, 0, 0]), Err(Error::NotPermitted), "pid {pid}");
    }
    // A pid nobody has: its home node (302 is node 1's) answers that there
    // is no such process; one of this node's own is known here to be gone.
    assert_eq!(m[0].ret(init, 0, Call::Kill, [301, 0, 0, 0, 0]), Err(Error::NoSuchProcess));
    assert_eq!(m[0].call(init, 0, Call::Kill, [302, 0, 0, 0, 0]), Outcome::Blocked);
    carry(&mut m);
    assert_eq!(m[0].result(init), Some(Error::NoSuchProcess.to_result()));
}

#[test]
fn an_answer_that_never_comes_fails_the_call_and_a_late_one_is_dropped() {
    let mut m = machine(&[530, 1024]);
    let init = m[0].run(0);
    assert_eq!(spawn_on(&mut m[0], init, "prog", Some(1), Class::Auto), Outcome::Blocked);
    // The request is lost.
    let lost = m[0].k.take_outgoing().expect("the request");
    let now = m[0].fake().now.get();
    m[0].fake().now.set(now + processes::remote::REMOTE_TIMEOUT_NS + 1);
    m[0].k.wake_expired(now + processes::remote::REMOTE_TIMEOUT_NS + 1);
    assert_eq!(m[0].result(init), Some(Error::Unreachable.to_result()));
    // It arrives after all: node 1 spawns, its answer finds nobody waiting.
    assert!(m[1].k.on_message(0, &lost.message, &lost.bytes));
    carry(&mut m);
    assert_eq!(m[0].k.remote_counts.stale_replies, 1);
    // A node that is not linked cannot be asked at all; nor can one out of range.
    m[0].k.nodes[1] = None;
    assert_eq!(spawn_on(&mut m[0], init, "prog", Some(1), Class::Auto), Outcome::Return(Err(Error::Unreachable)));
    assert_eq!(spawn_on(&mut m[0], init, "prog", Some(9), Class::Auto), Outcome::Return(Err(Error::BadArgument)));
}

#[test]
fn a_remote_spawn_of_a_missing_program_fails_with_its_error() {
    let mut m = machine(&[530, 1024]);
    let init = m[0].run(0);
    assert_eq!(spawn_on(&mut m[0], init, "nonesuch", Some(1), Class::Auto), Outcome::Blocked);
    carry(&mut m);
    assert_eq!(m[0].result(init), Some(Error::NoSuchProgram.to_result()));
    assert!(m[0].k.remote_children().is_empty());
}

#[test]
fn endpoints_work_across_nodes_with_the_local_limits() {
    let mut m = machine(&[530, 1024]);
    let sender = m[0].run(0);
    let receiver = m[1].run(0);
    // Node 1's init waits on endpoint 3.
    let buf = DATA + 512;
    assert_eq!(m[1].call(receiver, 0, Call::Recv, [3, buf, 256, u64::MAX, 0]), Outcome::Blocked);
    let va = m[0].put(sender, 0, b"across");
    // To node 1 (node + 1 in the fourth argument).
    assert_eq!(m[0].call(sender, 0, Call::Send, [3, va, 6, 2, 0]), Outcome::Blocked);
    carry(&mut m);
    assert_eq!(m[0].result(sender), Some(0));
    assert_eq!(m[1].result(receiver), Some(6));
    assert_eq!(m[1].get(receiver, buf, 6), b"across");
    // By pid: node 1's init is pid 2. Fill its queue: the ninth is refused.
    for i in 0..user_abi::ENDPOINT_DEPTH {
        assert_eq!(m[0].call(sender, 0, Call::Send, [4, va, 6, 0, 2]), Outcome::Blocked, "message {i}");
        carry(&mut m);
        assert_eq!(m[0].result(sender), Some(0));
    }
    assert_eq!(m[0].call(sender, 0, Call::Send, [4, va, 6, 0, 2]), Outcome::Blocked);
    carry(&mut m);
    assert_eq!(m[0].result(sender), Some(Error::WouldBlock.to_result()));
    assert_eq!(m[0].ret(sender, 0, Call::Send, [99, va, 6, 2, 0]), Err(Error::BadArgument));
    assert_eq!(m[0].ret(sender, 0, Call::Send, [4, va, 6, 9, 0]), Err(Error::BadArgument));
}

#[test]
fn ps_lists_every_nodes_programs_from_the_view() {
    let mut m = machine(&[530, 1024]);
    let init = m[0].run(0);
    let _ = spawn_on(&mut m[0], init, "other", Some(1), Class::Light);
    carry(&mut m);
    share_views(&mut m);
    let buf = DATA + 256;
    assert_eq!(m[0].ret(init, 0, Call::Ps, [buf, 8, 0, 0, 0]), Ok(3));
    let size = std::mem::size_of::<ProcessInfo>();
    let raw = m[0].get(init, buf, 3 * size);
    let infos: Vec<_> = raw.chunks(size).map(|c| ProcessInfo::read_from_bytes(c).expect("info")).collect();
    let rows: Vec<_> = infos.iter().map(|p| (p.pid, p.node, p.name().to_string(), p.class)).collect();
    assert!(rows.contains(&(1, 0, "prog".into(), 0)), "{rows:?}");
    assert!(rows.contains(&(2, 1, "prog".into(), 0)), "{rows:?}");
    assert!(rows.contains(&(4, 1, "other".into(), Class::Light as u32)), "{rows:?}");
    assert_eq!(m[0].k.node_of(4), 1);
}

#[test]
fn stale_and_overtaken_view_updates_are_dropped() {
    let mut m = machine(&[530, 1024]);
    let mut first = Vec::new();
    m[1].k.view_update(&mut |p| first.push(*p));
    let mut second = Vec::new();
    m[1].k.view_update(&mut |p| second.push(*p));
    // The second arrives first; the first is then stale.
    for p in second.iter().chain(first.iter()) {
        m[0].k.on_message(1, p, &[]);
    }
    let counts = m[0].k.views.counts;
    assert_eq!((counts.updates, counts.stale), (1, 1), "{counts:?}");
    assert_eq!(m[0].k.views.node(1).map(|n| n.head.version.get()), Some(2));
    // A third cut short by a fourth: the third is counted incomplete.
    let mut third = Vec::new();
    m[1].k.view_update(&mut |p| third.push(*p));
    let mut fourth = Vec::new();
    m[1].k.view_update(&mut |p| fourth.push(*p));
    m[0].k.on_message(1, &third[0], &[]);
    for p in &fourth {
        m[0].k.on_message(1, p, &[]);
    }
    let counts = m[0].k.views.counts;
    assert_eq!((counts.updates, counts.incomplete), (2, 1), "{counts:?}");
    // Parts that claim another node, or belong to no update, are refused.
    let bad = m[0].k.views.counts.bad;
    m[0].k.on_message(0, &fourth[0], &[]);
    let mut forged = fourth[1];
    if let user_abi_message::ProgramState(p) = &mut forged {
        p.version = message::le::U32::new(99);
    }
    m[0].k.on_message(1, &forged, &[]);
    assert_eq!(m[0].k.views.counts.bad, bad + 2);
}

/// A burst of spawns is spread by what was placed, not by views that have
/// not caught up: each big node of 2 cores gets 2 of 4 unmeasured programs.
#[test]
fn a_spawn_burst_counts_what_it_placed_before_the_views_show_it() {
    let mut m = machine(&[530, 1024, 1024]);
    let init = m[0].run(0);
    share_views(&mut m);
    let mut on = [0usize; 3];
    for _ in 0..4 {
        assert_eq!(spawn_on(&mut m[0], init, "prog", None, Class::Auto), Outcome::Blocked, "to a big node");
        carry(&mut m);
        let child = m[0].result(init).expect("spawned") as u32;
        let node = (0..3).find(|&n| m[n].state(child).is_some()).expect("somewhere");
        on[node] += 1;
    }
    assert_eq!(on, [0, 2, 2], "no view update came in between");
}

#[test]
fn the_policy_sends_heavy_work_to_the_big_node() {
    let mut m = machine(&[530, 1024]);
    let init = m[0].run(0);
    share_views(&mut m);
    // Unpinned and heavy: capacity puts it on the idle big node.
    assert_eq!(spawn_on(&mut m[0], init, "prog", None, Class::Heavy), Outcome::Blocked);
    carry(&mut m);
    let child = m[0].result(init).expect("spawned") as u32;
    assert!(m[1].state(child).is_some(), "pid {child} runs on node 1");
    let placed = m[1].k.procs[m[1].slot(child)].as_ref().expect("there");
    assert!(!placed.node_pinned, "the policy's choice leaves it free to move");
    // Light work stays on the LITTLE node.
    for _ in 0..2 {
        assert!(matches!(spawn_on(&mut m[0], init, "prog", None, Class::Light), Outcome::Return(Ok(_))));
    }
    // Blind balances counts: 2 runnable here (init holds no core), 1 there.
    m[0].k.policy = placement::by_name("blind").expect("blind");
    share_views(&mut m);
    assert!(matches!(spawn_on(&mut m[0], init, "prog", None, Class::Light), Outcome::Blocked), "node 1 has fewer");
}

/// Moves a program from node 0 to node 1 (through transfer areas of
/// `area_pages` pages, or chunks if 0), checking what it carried, freed and
/// answered; returns how many channel frames the move took.
fn move_one(area_pages: usize) -> usize {
    let mut m = machine(&[530, 1024]);
    if area_pages > 0 {
        let areas = common::TransferAreas::new(area_pages);
        for n in &m {
            *n.fake().areas.borrow_mut() = Some((n.k.node.id, areas.clone()));
        }
    }
    let init = m[0].run(0);
    let free = m[0].free_pages();
    let Outcome::Return(Ok(pid)) = spawn_on(&mut m[0], init, "prog", Some(0), Class::Auto) else {
        panic!("spawns here")
    };
    let pid = pid as u32;
    let s = m[0].slot(pid);
    m[0].k.copy_out(s, DATA + 256, b"carried along").expect("its data page");
    // It runs on core 1: the move waits for it to stop.
    m[0].run_slot(1, s);
    m[0].fake().core.set(0);
    assert_eq!(m[0].call(init, 0, Call::Migrate, [u64::from(pid), 1, 0, 0, 0]), Outcome::Blocked);
    carry(&mut m);
    assert!(m[0].state(pid).is_some() && m[1].state(pid).is_none(), "still here while it runs");
    m[0].fake().core.set(1);
    m[0].k.stopped(1, s, pid, Outcome::Interrupted, false, true);
    let (_, carried) = carry_frames(&mut m);
    assert_eq!(m[0].result(init), Some(0), "the caller hears it is done");
    assert!(m[0].state(pid).is_none());
    let t = m[1].slot(pid);
    assert_eq!(m[1].get(t, DATA + 256, 13), b"carried along");
    assert_eq!(m[1].state(pid), Some(processes::State::Ready));
    m[0].k.reap_retired();
    assert_eq!(m[0].free_pages(), free, "node 0 has all its pages back");
    // Its exit status still reaches its parent, through the moves.
    assert_eq!(m[1].call(t, 0, Call::Exit, [9, 0, 0, 0, 0]), Outcome::Exited);
    carry(&mut m);
    assert_eq!(m[0].ret(init, 0, Call::Wait, [u64::from(pid), 0, 0, 0, 0]), Ok(u64::from(pid)));
    carried
}

#[test]
fn a_process_moves_to_another_node_with_its_memory_and_the_caller_hears_when() {
    let carried = move_one(0);
    assert!(carried > 100, "its description and pages go as chunks: {carried} frames");
}

/// Through a transfer area of 2 pages the move must wait for the
/// destination's credit again and again; each page is one message.
#[test]
fn through_a_transfer_area_a_move_takes_a_message_per_page() {
    let chunked = move_one(0);
    for pages in [1, 2, 64] {
        let carried = move_one(pages);
        assert!(carried * 5 < chunked, "{pages}-page area: {carried} frames, chunks {chunked}");
    }
}

#[test]
fn a_third_node_can_ask_and_a_lost_move_is_given_up_without_loss() {
    let mut m = machine(&[530, 1024, 1024]);
    let init = m[0].run(0);
    let Outcome::Return(Ok(pid)) = spawn_on(&mut m[0], init, "prog", Some(0), Class::Auto) else { panic!("spawns") };
    let pid = pid as u32;
    // Node 2's init asks node 0 to move it to node 1.
    let far = m[2].run(0);
    assert_eq!(m[2].call(far, 0, Call::Migrate, [u64::from(pid), 1, 0, 0, 0]), Outcome::Blocked);
    carry(&mut m);
    assert_eq!(m[2].result(far), Some(0));
    assert!(m[1].state(pid).is_some());
    // Moving an init, itself, nowhere, or to where it is: refused.
    let one = m[1].init;
    assert_eq!(m[1].ret(one, 0, Call::Migrate, [2, 0, 0, 0, 0]), Err(Error::NotPermitted));
    assert_eq!(m[0].ret(init, 0, Call::Migrate, [1, 1, 0, 0, 0]), Err(Error::NotPermitted));
    assert_eq!(m[0].ret(init, 0, Call::Migrate, [u64::from(pid), 7, 0, 0, 0]), Err(Error::BadArgument));
    // Now node 1 moves it back, and the move stalls while it is sent (its
    // first messages are lost, the rest never go): given up, it goes on.
    // Memory of its own, not zeros: far more than the outbox holds at once.
    let t = m[1].slot(pid);
    let rw = user_abi::PROT_READ | user_abi::PROT_WRITE;
    let heap = m[1].ret(t, 0, Call::Map, [16 * 4096, rw, 0, 0, 0]).expect("map");
    m[1].k.back_on_touch(t, heap, 16 * 4096).expect("backed");
    m[1].k.copy_out(t, heap, &[7; 16 * 4096]).expect("its own pages");
    let home = one;
    assert_eq!(m[1].call(home, 0, Call::Migrate, [u64::from(pid), 0, 0, 0, 0]), Outcome::Blocked);
    for _ in 0..2 {
        let _ = m[1].k.take_outgoing();
    }
    let later = m[1].fake().now.get() + processes::moving::MOVE_TIMEOUT_NS + 1;
    m[1].fake().now.set(later);
    m[1].k.wake_expired(later);
    assert_eq!(m[1].result(home), Some(Error::Unreachable.to_result()));
    assert_eq!(m[1].state(pid), Some(processes::State::Ready), "it goes on where it was");
    // Once all of it is sent, the source waits for the verdict however
    // long it takes: giving up then could leave it running twice.
    assert_eq!(m[1].call(home, 0, Call::Migrate, [u64::from(pid), 0, 0, 0, 0]), Outcome::Blocked);
    let mut sent = Vec::new();
    while let Some(o) = m[1].k.take_outgoing() {
        sent.push(o);
    }
    let later = later + 2 * processes::moving::MOVE_TIMEOUT_NS;
    m[1].fake().now.set(later);
    m[1].k.wake_expired(later);
    assert_eq!(m[1].state(pid), Some(processes::State::Migrating), "parked, waiting for node 0");
    for o in sent {
        assert!(m[0].k.on_message(1, &o.message, &o.bytes));
    }
    carry(&mut m);
    assert!(m[0].state(pid).is_some() && m[1].state(pid).is_none(), "the late verdict completes the move");
}

/// `mover` retries a refused move: one that ended must be gone, not
/// refused, whether it ended on the caller's node or another.
#[test]
fn an_ended_program_is_no_longer_there_to_move() {
    let mut m = machine(&[530, 1024, 1024]);
    let init = m[0].run(0);
    let mut ended = Vec::new();
    for node in [0usize, 1] {
        let pid = match spawn_on(&mut m[0], init, "prog", Some(node as u8), Class::Auto) {
            Outcome::Return(Ok(pid)) => pid as u32,
            Outcome::Blocked => {
                carry(&mut m);
                m[0].result(init).expect("spawned there") as u32
            }
            other => panic!("spawn on node {node}: {other:?}"),
        };
        let s = m[node].slot(pid);
        assert_eq!(m[node].call(s, 0, Call::Exit, [3, 0, 0, 0, 0]), Outcome::Exited);
        carry(&mut m);
        ended.push(pid);
    }
    // The one that ended here is a zombie until its parent waits.
    assert_eq!(m[0].ret(init, 0, Call::Migrate, [u64::from(ended[0]), 2, 0, 0, 0]), Err(Error::NoSuchProcess));
    match m[0].call(init, 0, Call::Migrate, [u64::from(ended[1]), 2, 0, 0, 0]) {
        Outcome::Return(r) => assert_eq!(r, Err(Error::NoSuchProcess)),
        Outcome::Blocked => {
            carry(&mut m);
            assert_eq!(m[0].result(init), Some(Error::NoSuchProcess.to_result()), "node 1 says it is gone");
        }
        other => panic!("{other:?}"),
    }
    for pid in ended {
        assert_eq!(m[0].ret(init, 0, Call::Wait, [u64::from(pid), 0, 0, 0, 0]), Ok(u64::from(pid)));
    }
}

#[test]
fn requests_follow_a_process_that_moved_on_and_so_do_their_answers() {
    let mut m = machine(&[530, 1024, 1024]);
    let init = m[0].run(0);
    let Outcome::Return(Ok(pid)) = spawn_on(&mut m[0], init, "prog", Some(0), Class::Auto) else { panic!("spawns") };
    let pid = pid as u32;
    // Round the nodes: 0 to 1, 1 to 2 (node 0 still thinks it is on 1), and home.
    for to in [1u64, 2, 0] {
        assert_eq!(m[0].call(init, 0, Call::Migrate, [u64::from(pid), to, 0, 0, 0]), Outcome::Blocked);
        carry(&mut m);
        assert_eq!(m[0].result(init), Some(0), "moved to node {to}");
        assert!(m[to as usize].state(pid).is_some(), "on node {to}");
    }
    // Out again, then a kill through the stale forwarding reaches it.
    assert_eq!(m[0].call(init, 0, Call::Migrate, [u64::from(pid), 2, 0, 0, 0]), Outcome::Blocked);
    carry(&mut m);
    let two = m[2].init;
    assert_eq!(m[2].call(two, 0, Call::Migrate, [u64::from(pid), 1, 0, 0, 0]), Outcome::Blocked);
    carry(&mut m);
    assert!(m[1].state(pid).is_some());
    assert_eq!(m[0].call(init, 0, Call::Kill, [u64::from(pid), 0, 0, 0, 0]), Outcome::Blocked);
    carry(&mut m);
    assert_eq!(m[0].result(init), Some(0), "killed through node 2's forwarding");
    assert_eq!(m[0].ret(init, 0, Call::Wait, [u64::from(pid), 0, 0, 0, 0]), Ok(u64::from(pid)));
}

/// `count` heavy programs started by node 0's init on node 0, free to
/// move; their pids.
fn heavy_on_node_0(m: &mut [Node], count: usize) -> Vec<u32> {
    init_spawns(&mut m[0], SpawnOptions { class: Class::Heavy, ..SpawnOptions::default() }, count)
}

/// Runs node `n`'s init on core 0 and has it spawn `count` programs with
/// `options`; their pids.
fn init_spawns(n: &mut Node, options: SpawnOptions, count: usize) -> Vec<u32> {
    let init = n.run(0);
    let init_pid = n.k.procs[init].as_ref().expect("init").pid;
    (0..count).map(|_| n.k.spawn("prog", b"", init_pid, options).expect("spawns")).collect()
}

/// Every node's clock moves on by `ns`.
fn let_time_pass(m: &mut [Node], ns: u64) {
    for n in m.iter_mut() {
        n.fake().now.set(n.fake().now.get() + ns);
    }
}

#[test]
fn the_policy_moves_a_heavy_program_up_by_itself_once_it_settled() {
    use processes::rebalance::STAY_NS;
    let mut m = machine(&[530, 1024]);
    let pid = heavy_on_node_0(&mut m, 1)[0];
    share_views(&mut m);
    assert!(!m[0].k.rebalance_round(), "it just came: it stays a while");
    let_time_pass(&mut m, STAY_NS);
    share_views(&mut m);
    assert!(m[0].k.rebalance_round(), "the idle big node should have it");
    assert!(carry(&mut m) > 10, "its description and pages go");
    assert!(m[0].state(pid).is_none() && m[1].state(pid).is_some(), "pid {pid} is on node 1");
    assert_eq!(m[0].k.rebalance.counts.moved, 1);
    // On the biggest core with nothing else wanting it: it stays.
    let_time_pass(&mut m, 2 * STAY_NS);
    share_views(&mut m);
    assert!(!m[1].k.rebalance_round() && !m[0].k.rebalance_round());
}

/// An arrival makes the destination's next round due at once: in a
/// turn's swap the program going down waits for it.
#[test]
fn an_arrival_makes_the_destinations_round_due_at_once() {
    use processes::rebalance::STAY_NS;
    let mut m = machine(&[530, 1024]);
    heavy_on_node_0(&mut m, 1);
    let_time_pass(&mut m, STAY_NS / 2);
    // Node 1 has nothing to move: its next round is STAY_NS away, past
    // the arrival.
    assert!(!m[1].k.rebalance_round());
    let_time_pass(&mut m, STAY_NS / 2);
    share_views(&mut m);
    assert!(m[0].k.rebalance_round(), "the idle big node should have it");
    carry(&mut m);
    let now = m[1].fake().now.get();
    assert!(m[1].k.rebalance_due_at() <= now, "the round is due at once on arrival");
}

/// The view carries each node's calibration, as a capacity against the
/// fastest core any node reported, beside the device tree's.
#[test]
fn the_view_has_every_nodes_measured_capacity_beside_the_device_trees() {
    let mut m = machine(&[530, 1024]);
    m[0].k.measured = (500, 520);
    m[1].k.measured = (990, 1000);
    let init = m[0].run(0);
    let _ = spawn_on(&mut m[0], init, "prog", Some(0), Class::Heavy);
    share_views(&mut m);
    m[0].k.fill_view();
    let of = |n: u32| m[0].k.scratch.nodes.iter().find(|v| v.node == n).map(|v| (v.capacity, v.measured));
    assert_eq!(of(0), Some((530, 512)));
    assert_eq!(of(1), Some((1024, 1013)));
}

/// A moved program counts where it went at once: without an update from
/// the big node in between, the LITTLE node fills its two big cores with
/// two of its three heavy programs, one round after the other, and keeps
/// the third.
#[test]
fn a_moved_program_counts_on_its_destination_before_its_update_comes() {
    use processes::rebalance::{REBALANCE_PERIOD_NS, STAY_NS};
    let mut m = machine(&[530, 1024]);
    let pids = heavy_on_node_0(&mut m, 3);
    let_time_pass(&mut m, STAY_NS);
    share_views(&mut m);
    let mut up = 0;
    for round in 0..4 {
        let later = m[0].fake().now.get() + REBALANCE_PERIOD_NS;
        m[0].fake().now.set(later);
        if m[0].k.rebalance_round() {
            carry(&mut m);
            up += 1;
        }
        let there = pids.iter().filter(|&&p| m[1].state(p).is_some()).count();
        assert_eq!(there, up, "round {round}");
    }
    assert_eq!(up, 2, "two big cores, two programs up");
}

/// A program that turns heavy makes its node's next round due at once and
/// wakes the monitor's core for it, instead of waiting up to a period.
#[test]
fn a_program_that_turns_heavy_is_asked_about_at_once() {
    use processes::rebalance::STAY_NS;
    // On the monitor's own core too: it rings itself, which ends the
    // programs' turn on that core at once (`sched::run` returns).
    for core in [1, 0] {
        let mut m = machine(&[530, 1024]);
        // Kept on node 0 (`run@0=`), so no round moves it meanwhile.
        let pid = init_spawns(&mut m[0], SpawnOptions { node: Some(0), ..SpawnOptions::default() }, 1)[0];
        let s = m[0].slot(pid);
        // Queued all that time (demand counts time ready), it is heavy at its
        // first stop.
        let_time_pass(&mut m, STAY_NS);
        assert!(!m[0].k.rebalance_round(), "nothing it may move");
        let due = m[0].k.rebalance_due_at();
        m[0].run_slot(core, s);
        m[0].fake().log.borrow_mut().rings.clear();
        let_time_pass(&mut m, 1_000_000);
        let now = m[0].fake().now.get();
        assert!(due > now, "a round came 1 ms ago: the next is a period away");
        m[0].k.account(s, now);
        assert!(m[0].k.procs[s].as_ref().is_some_and(|p| p.heavy), "heavy now");
        assert!(m[0].k.rebalance_due_at() <= now, "the next round is due at once (was {due})");
        let monitor = m[0].k.bells[0];
        assert!(m[0].fake().log.borrow().rings.contains(&monitor), "the monitor's core is woken (from core {core})");
        // Still heavy at its next stop: nothing more is asked.
        m[0].k.rebalance_round();
        let next = m[0].k.rebalance_due_at();
        m[0].k.account(s, now + 1_000);
        assert_eq!(m[0].k.rebalance_due_at(), next);
    }
}

/// Moves a round wants together follow one another: once the first is
/// over, the next round is due at once, not a period later; when a round
/// wanted no more, the period holds.
#[test]
fn the_moves_one_round_wants_follow_one_another() {
    use processes::rebalance::{REBALANCE_PERIOD_NS, STAY_NS};
    let mut m = machine(&[530, 1024]);
    let pids = heavy_on_node_0(&mut m, 3);
    let_time_pass(&mut m, STAY_NS);
    share_views(&mut m);
    assert!(m[0].k.rebalance_round(), "the first of two moves up starts");
    let asked = m[0].k.rebalance_due_at();
    assert!(asked > m[0].fake().now.get(), "while it goes, the next round waits");
    assert!(!m[0].k.rebalance_round());
    carry(&mut m);
    assert_eq!(m[0].k.rebalance_due_at(), 0, "it is over: the next round is due now");
    assert!(m[0].k.rebalance_round(), "the second move starts with no time passing");
    carry(&mut m);
    let there = pids.iter().filter(|&&p| m[1].state(p).is_some()).count();
    assert_eq!(there, 2, "two big cores, two programs up");
    assert!(m[0].k.rebalance_due_at() > m[0].fake().now.get(), "that round wanted no more: the period holds");
    let later = m[0].fake().now.get() + REBALANCE_PERIOD_NS;
    m[0].fake().now.set(later);
    assert!(!m[0].k.rebalance_round(), "the third stays: no big core is free");
}

/// A light program asleep on a big node moves down only while its next
/// wake-up is far enough away that it does not wake on the way: a round
/// that finds it about to wake asks again just after.
#[test]
fn a_sleeper_about_to_wake_moves_once_it_sleeps_again() {
    use processes::rebalance::{AFTER_WAKE_NS, STAY_NS, WAKE_SLACK_NS};
    let mut m = machine(&[530, 1024]);
    let pid = init_spawns(&mut m[1], SpawnOptions { class: Class::Light, ..SpawnOptions::default() }, 1)[0];
    let s = m[1].slot(pid);
    m[1].run_slot(1, s);
    let_time_pass(&mut m, STAY_NS);
    let nap = WAKE_SLACK_NS / 2;
    assert_eq!(m[1].call(s, 1, Call::Sleep, [nap, 0, 0, 0, 0]), Outcome::Blocked);
    share_views(&mut m);
    let now = m[1].fake().now.get();
    assert!(!m[1].k.rebalance_round(), "it wakes in {nap} ns: it stays for now");
    assert_eq!(m[1].k.rebalance_due_at(), now + nap + AFTER_WAKE_NS, "asked again just after it wakes");
    // It woke, ran, and sleeps a whole period.
    let woke = now + nap + AFTER_WAKE_NS;
    m[1].fake().now.set(woke);
    m[1].k.wake_expired(woke);
    m[1].run_slot(1, s);
    assert_eq!(m[1].call(s, 1, Call::Sleep, [10 * WAKE_SLACK_NS, 0, 0, 0, 0]), Outcome::Blocked);
    assert!(m[1].k.rebalance_round(), "now it has the time: it goes");
    carry(&mut m);
    assert!(m[0].state(pid).is_some(), "pid {pid} is on the LITTLE node");
}

/// A program that ends frees a core: its node's next update is urgent and
/// the monitor's core is woken to send it; a node that hears of the free
/// core asks its policy at once, not at its next period; an update that
/// frees nothing more does not.
#[test]
fn a_freed_core_is_told_and_acted_on_at_once() {
    use processes::rebalance::STAY_NS;
    let mut m = machine(&[530, 1024]);
    heavy_on_node_0(&mut m, 1);
    // With init running, both of node 1's cores are taken.
    let pid = init_spawns(&mut m[1], SpawnOptions { node: Some(1), ..SpawnOptions::default() }, 1)[0];
    let_time_pass(&mut m, STAY_NS);
    share_views(&mut m);
    assert!(!m[1].k.view_urgent(), "an update just went");
    m[0].k.rebalance_round();
    let due = m[0].k.rebalance_due_at();
    let now = m[0].fake().now.get();
    assert!(due > now, "the next round is a period away");
    let free = m[0].k.views.free_cores(1);

    m[1].fake().log.borrow_mut().rings.clear();
    let s = m[1].slot(pid);
    m[1].k.exit(s, ExitStatus::Exited(0));
    assert!(m[1].k.view_urgent(), "the free core is news");
    let monitor = m[1].k.bells[0];
    assert!(m[1].fake().log.borrow().rings.contains(&monitor), "the monitor's core is woken to tell it");
    let mut parts = Vec::new();
    m[1].k.view_update(&mut |msg| parts.push(*msg));
    assert!(!m[1].k.view_urgent(), "told");
    for p in &parts {
        assert!(m[0].k.on_message(1, p, &[]));
    }
    assert_eq!(m[0].k.views.free_cores(1), free + 1);
    assert!(m[0].k.rebalance_due_at() <= now, "node 0 asks its policy at once (was due at {due})");

    // The same again: nothing more came free, the period holds.
    m[0].k.rebalance_round();
    let due = m[0].k.rebalance_due_at();
    let mut parts = Vec::new();
    m[1].k.view_update(&mut |msg| parts.push(*msg));
    for p in &parts {
        assert!(m[0].k.on_message(1, p, &[]));
    }
    assert_eq!(m[0].k.rebalance_due_at(), due);
}

/// A program on its way to a node takes a core there from the moment its
/// slot is made, not only once all its pages have come: the node's own
/// rounds, its update's head and every other node's view count it. Else a
/// node that hears of the destination between the two sends another
/// program for the same core (a big node ran five heavy programs on four
/// cores while a LITTLE core idled for 43 ms of an `m1` run).
#[test]
fn a_program_on_its_way_takes_its_core_on_the_destination_at_once() {
    let update = |n: &mut Node| {
        let mut parts = Vec::new();
        n.k.view_update(&mut |msg| parts.push(*msg));
        parts
    };
    let runnable = |parts: &[user_abi_message]| {
        let head = parts.iter().find_map(|p| match p {
            user_abi_message::NodeState(h) => Some(h.runnable.get()),
            _ => None,
        });
        head.expect("a head")
    };
    let mut m = machine(&[530, 1024, 530]);
    let before = runnable(&update(&mut m[1]));
    let pid = heavy_on_node_0(&mut m, 1)[0];
    let init = m[0].k.procs.iter().position(|p| p.as_ref().is_some_and(|p| m[0].k.node.is_init(p.pid))).expect("init");
    assert_eq!(m[0].call(init, 0, Call::Migrate, [u64::from(pid), 1, 0, 0, 0]), Outcome::Blocked);
    // Carry one message at a time until node 1 holds the arriving slot.
    let mut arriving = false;
    while !arriving {
        let Some(o) = m[0].k.take_outgoing().or_else(|| m[1].k.take_outgoing()) else { break };
        let from = if o.to == 1 { 0 } else { 1 };
        m[o.to as usize].fake().core.set(1);
        assert!(m[o.to as usize].k.on_message(from, &o.message, &o.bytes));
        arriving = m[1].state(pid) == Some(processes::State::Migrating);
    }
    assert!(arriving, "the move ended without a moment in between");
    m[1].k.fill_view();
    let on_1 = m[1].k.scratch.programs.iter().find(|p| p.pid == pid).copied();
    assert!(on_1.is_some_and(|p| p.runnable && p.node == 1), "node 1's rounds count it: {on_1:?}");
    let parts = update(&mut m[1]);
    assert_eq!(runnable(&parts), before + 1, "its update's head counts it");
    for p in &parts {
        assert!(m[2].k.on_message(1, p, &[]));
    }
    m[2].k.fill_view();
    let seen = m[2].k.scratch.programs.iter().find(|p| p.pid == pid).copied();
    assert!(seen.is_some_and(|p| p.runnable && p.node == 1), "node 2 counts it on node 1: {seen:?}");
    // It still arrives whole, ready.
    carry(&mut m);
    assert_eq!(m[1].state(pid), Some(processes::State::Ready));
}
