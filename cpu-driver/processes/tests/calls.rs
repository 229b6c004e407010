//! Every system call's success and error paths, the orderings of wait,
//! exit and kill, endpoints full and empty, priorities and preemption, and
//! console input, on the host over a fake machine.

mod common;

use common::{Node, DATA};
use processes::{Next, Outcome, State};
use trace_ring::Kind;
use user_abi::{
    decode_result, Call, Error, ExitStatus, Fault, Id, NodeInfo, ProcessInfo, SpawnOptions, SysInfo, ENDPOINT_DEPTH,
    MAP_QUOTA, PROT_READ, PROT_WRITE, WAIT_INPUT, WAIT_NOHANG, WRITE_MAX,
};
use zerocopy::FromBytes;

/// `init` spawns `prog`; returns the child's pid and slot.
fn child(n: &mut Node, options: SpawnOptions) -> (u32, usize) {
    let init = n.init;
    let pid = n.spawn(init, 0, "prog", options).expect("spawns") as u32;
    (pid, n.slot(pid))
}

#[test]
fn spawn_exit_and_wait_in_either_order() {
    let mut n = Node::new(2, false);
    let init = n.run(0);
    assert_eq!(init, n.init);
    // The child exits first: a zombie until the parent waits.
    let (a, sa) = child(&mut n, SpawnOptions::default());
    assert_eq!(n.call(sa, 1, Call::Exit, [7, 0, 0, 0, 0]), Outcome::Exited);
    assert!(matches!(n.state(a), Some(State::Zombie(ExitStatus::Exited(7)))));
    let status_va = DATA + 512;
    assert_eq!(n.ret(init, 0, Call::Wait, [u64::from(a), status_va, 0, 0, 0]), Ok(u64::from(a)));
    let raw = u64::from_le_bytes(n.get(init, status_va, 8).try_into().expect("8 bytes"));
    assert_eq!(ExitStatus::decode(raw), Some(ExitStatus::Exited(7)));
    assert_eq!(n.state(a), None, "reaped");
    // The parent waits first: it blocks, and the exit completes its call.
    let (b, sb) = child(&mut n, SpawnOptions::default());
    assert_eq!(n.call(init, 0, Call::Wait, [0, status_va, 0, 0, 0]), Outcome::Blocked);
    assert!(matches!(n.state(1), Some(State::Waiting { pid: 0, .. })));
    n.call(sb, 1, Call::Exit, [u64::from(-3i32 as u32), 0, 0, 0, 0]);
    assert_eq!(n.result(n.init), Some(u64::from(b)));
    let raw = u64::from_le_bytes(n.get(init, status_va, 8).try_into().expect("8 bytes"));
    assert_eq!(ExitStatus::decode(raw), Some(ExitStatus::Exited(-3)));
    assert_eq!(n.state(1), Some(State::Ready), "woken");
    // Nothing left to wait for.
    let init = n.run(0);
    assert_eq!(n.ret(init, 0, Call::Wait, [0, 0, 0, 0, 0]), Err(Error::NoChild));
    assert_eq!(n.ret(init, 0, Call::Wait, [999, 0, 0, 0, 0]), Err(Error::NoSuchProcess));
    assert_eq!(n.ret(init, 0, Call::Wait, [0, 0, 4, 0, 0]), Err(Error::BadArgument), "unknown flag");
    assert_eq!(n.ret(init, 0, Call::Wait, [0, 0x10, 0, 0, 0]), Err(Error::BadPointer));
}

#[test]
fn waiting_without_hanging_and_for_input() {
    let mut n = Node::new(2, true);
    let init = n.run(0);
    let (a, sa) = child(&mut n, SpawnOptions::default());
    assert_eq!(n.ret(init, 0, Call::Wait, [0, 0, WAIT_NOHANG, 0, 0]), Err(Error::WouldBlock));
    // Input waiting ends a wait for input at once (0), a child's end too.
    n.fake().log.borrow_mut().input.push_back(b'x');
    assert_eq!(n.ret(init, 0, Call::Wait, [0, 0, WAIT_INPUT, 0, 0]), Ok(0));
    n.fake().log.borrow_mut().input.clear();
    assert_eq!(n.call(init, 0, Call::Wait, [0, 0, WAIT_INPUT, 0, 0]), Outcome::Blocked);
    n.call(sa, 1, Call::Exit, [0, 0, 0, 0, 0]);
    assert_eq!(n.result(init), Some(u64::from(a)));
    // With no child at all, a wait for input waits for input alone.
    let init = n.run(0);
    assert_eq!(n.call(init, 0, Call::Wait, [0, 0, WAIT_INPUT, 0, 0]), Outcome::Blocked);
    n.fake().log.borrow_mut().input.push_back(b'y');
    n.k.on_input();
    assert_eq!(n.result(init), Some(0));
    // Not on a node without the console.
    let mut other = Node::new(1, false);
    let i = other.run(0);
    assert_eq!(other.ret(i, 0, Call::Wait, [0, 0, WAIT_INPUT, 0, 0]), Err(Error::NotSupported));
}

#[test]
fn an_ended_parents_zombies_and_children_are_reaped_with_it() {
    let mut n = Node::new(2, false);
    let init = n.run(0);
    let (p, sp) = child(&mut n, SpawnOptions::default());
    // p's own children: one ends before p, one after.
    let early = n.spawn(sp, 1, "prog", SpawnOptions::default()).expect("spawn") as u32;
    let late = n.spawn(sp, 1, "other", SpawnOptions::default()).expect("spawn") as u32;
    let se = n.slot(early);
    n.call(se, 1, Call::Exit, [1, 0, 0, 0, 0]);
    assert!(matches!(n.state(early), Some(State::Zombie(_))));
    n.call(sp, 1, Call::Exit, [0, 0, 0, 0, 0]);
    assert_eq!(n.state(early), None, "a zombie of an ended parent goes with it");
    let sl = n.slot(late);
    assert_eq!(n.k.procs[sl].as_ref().map(|p| p.parent), Some(0), "orphaned");
    n.call(sl, 1, Call::Exit, [0, 0, 0, 0, 0]);
    assert_eq!(n.state(late), None, "an orphan is reaped when it ends");
    assert!(matches!(n.state(p), Some(State::Zombie(_))), "init has not waited yet");
    assert_eq!(n.ret(init, 0, Call::Wait, [0, 0, 0, 0, 0]), Ok(u64::from(p)));
    assert_eq!(n.k.live_processes(), 1);
}

#[test]
fn kill_ends_programs_in_every_state_but_init() {
    let mut n = Node::new(2, false);
    let init = n.run(0);
    // Ready: ends at once.
    let (a, _) = child(&mut n, SpawnOptions::default());
    assert_eq!(n.ret(init, 0, Call::Kill, [u64::from(a), 0, 0, 0, 0]), Ok(0));
    assert!(matches!(n.state(a), Some(State::Zombie(ExitStatus::Killed))));
    assert_eq!(n.ret(init, 0, Call::Kill, [u64::from(a), 0, 0, 0, 0]), Err(Error::NoSuchProcess), "a zombie");
    // Running on another core: asked to end, and that core is rung.
    let (b, sb) = child(&mut n, SpawnOptions::default());
    n.run_slot(1, sb);
    n.fake().core.set(0);
    n.fake().log.borrow_mut().rings.clear();
    assert_eq!(n.ret(init, 0, Call::Kill, [u64::from(b), 0, 0, 0, 0]), Ok(0));
    assert_eq!(n.fake().log.borrow().rings, [101]);
    assert_eq!(n.state(b), Some(State::Running), "it ends when its core next looks");
    assert!(n.k.more_urgent(1, sb));
    let next = n.k.stopped(1, sb, b, Outcome::Interrupted, false, false);
    assert_eq!(next, Next::Schedule);
    assert!(matches!(n.state(b), Some(State::Zombie(ExitStatus::Killed))));
    // Blocked in a sleep: ends at once.
    let (c, sc) = child(&mut n, SpawnOptions::default());
    n.run_slot(1, sc);
    assert_eq!(n.call(sc, 1, Call::Sleep, [1_000_000, 0, 0, 0, 0]), Outcome::Blocked);
    assert_eq!(n.ret(init, 0, Call::Kill, [u64::from(c), 0, 0, 0, 0]), Ok(0));
    assert!(matches!(n.state(c), Some(State::Zombie(ExitStatus::Killed))));
    // Never init, never what does not exist.
    assert_eq!(n.ret(init, 0, Call::Kill, [1, 0, 0, 0, 0]), Err(Error::NotPermitted));
    assert_eq!(n.ret(init, 0, Call::Kill, [12345, 0, 0, 0, 0]), Err(Error::NoSuchProcess));
    assert_eq!(n.ret(init, 0, Call::Kill, [u64::MAX, 0, 0, 0, 0]), Err(Error::NoSuchProcess));
}

#[test]
fn spawn_refuses_what_it_cannot_start_and_leaks_nothing() {
    let mut n = Node::new(2, false);
    let init = n.run(0);
    let free = n.free_pages();
    assert_eq!(n.spawn(init, 0, "nosuch", SpawnOptions::default()), Err(Error::NoSuchProgram));
    assert_eq!(n.spawn(init, 0, &"p".repeat(40), SpawnOptions::default()), Err(Error::TooBig));
    let pinned_far = SpawnOptions { core: Some(7), ..SpawnOptions::default() };
    assert_eq!(n.spawn(init, 0, "prog", pinned_far), Err(Error::BadArgument), "no core 7");
    let va = n.put(init, 0, b"prog");
    assert_eq!(n.ret(init, 0, Call::Spawn, [va, 4, va, 0, 1 << 20]), Err(Error::BadArgument), "unknown option bits");
    assert_eq!(n.ret(init, 0, Call::Spawn, [0x10, 4, va, 0, 0]), Err(Error::BadPointer));
    assert_eq!(n.ret(init, 0, Call::Spawn, [va, 4, va, 4096, 0]), Err(Error::TooBig), "arguments too long");
    assert_eq!(n.free_pages(), free);
    // The process table fills up, and says so.
    let mut pids = Vec::new();
    loop {
        match n.spawn(init, 0, "prog", SpawnOptions::default()) {
            Ok(pid) => pids.push(pid),
            Err(e) => {
                assert_eq!(e, Error::TooMany);
                break;
            }
        }
    }
    assert_eq!(pids.len(), processes::MAX_PROCS - 1);
    for pid in pids {
        assert_eq!(n.ret(init, 0, Call::Kill, [pid, 0, 0, 0, 0]), Ok(0));
        assert_eq!(n.ret(init, 0, Call::Wait, [pid, 0, 0, 0, 0]), Ok(pid));
    }
    n.k.reap_retired();
    assert_eq!(n.free_pages(), free, "every page back");
}

/// The stack is backed on first touch: a program starts with its top page,
/// a touch below it (a fault, or a system call's buffer there) backs one
/// zeroed page, a touch outside the stack is still a fault, a node out of
/// frames says so, and every page comes back at exit.
#[test]
fn the_stack_is_backed_page_by_page_on_first_touch() {
    use processes::Touched;
    use user_abi::{STACK_GUARD, STACK_SIZE, STACK_TOP};
    const PAGE: u64 = 4096;
    let mut n = Node::with_pages(1, false, 256);
    let init = n.run(0);
    let free = n.free_pages();
    let (pid, s) = child(&mut n, SpawnOptions::default());
    let spawned = free - n.free_pages();
    assert!(spawned < 16, "a spawn takes {spawned} frames, not the 64 of a whole stack");
    // The program stores 10 pages down: one zeroed page is backed there.
    let deep = STACK_TOP - 10 * PAGE - 64;
    assert_eq!(n.k.first_touch(s, deep), Touched::Backed);
    assert_eq!(free - n.free_pages(), spawned + 1);
    assert_eq!(n.get(s, deep & !(PAGE - 1), PAGE as usize), vec![0; PAGE as usize]);
    assert_eq!(n.k.first_touch(s, deep), Touched::Elsewhere, "mapped now: a real fault if it faults again");
    // Below the stack (its guard) and above it are not the stack.
    assert_eq!(n.k.first_touch(s, STACK_TOP - STACK_SIZE - STACK_GUARD / 2), Touched::Elsewhere);
    assert_eq!(n.k.first_touch(s, STACK_TOP + PAGE), Touched::Elsewhere);
    // A system call's buffer 20 pages down, across two pages never touched.
    let buf = STACK_TOP - 20 * PAGE - 16;
    n.run_slot(0, s);
    let size = core::mem::size_of::<SysInfo>() as u64;
    assert_eq!(n.ret(s, 0, Call::SysInfo, [buf, 0, 0, 0, 0]), Ok(0));
    assert_eq!(free - n.free_pages(), spawned + 1 + (buf + size - 1) / PAGE - buf / PAGE + 1);
    // Out of frames: the touch says so (the kernel then ends the program).
    let mut others = Vec::new();
    while let Ok(other) = n.spawn(init, 0, "prog", SpawnOptions::default()) {
        others.push(other);
    }
    let touches: Vec<Touched> = (30..64).map(|i| n.k.first_touch(s, STACK_TOP - i * PAGE)).collect();
    let backed = touches.iter().take_while(|&&t| t == Touched::Backed).count();
    assert!(backed < touches.len() && touches[backed] == Touched::NoMemory, "{touches:?}");
    assert_eq!(n.call(s, 0, Call::Exit, [0, 0, 0, 0, 0]), Outcome::Exited);
    for other in others.into_iter().chain([u64::from(pid)]) {
        let _ = n.ret(init, 0, Call::Kill, [other, 0, 0, 0, 0]);
        assert_eq!(n.ret(init, 0, Call::Wait, [other, 0, 0, 0, 0]), Ok(other));
    }
    n.k.reap_retired();
    assert_eq!(n.free_pages(), free, "every page back");
}

#[test]
fn arguments_ids_and_the_clock() {
    let mut n = Node::new(2, false);
    let init = n.run(0);
    let name = n.put(init, 0, b"prog");
    let args = n.put(init, 64, b"one two");
    let pid = n.ret(init, 0, Call::Spawn, [name, 4, args, 7, 0]).expect("spawn");
    let s = n.slot(pid as u32);
    n.run_slot(1, s);
    assert_eq!(n.ret(s, 1, Call::Args, [DATA + 256, 64, 0, 0, 0]), Ok(7));
    assert_eq!(n.get(s, DATA + 256, 7), b"one two");
    assert_eq!(n.ret(s, 1, Call::Args, [DATA + 256, 3, 0, 0, 0]), Ok(7), "cut, and says how long");
    assert_eq!(n.ret(s, 1, Call::Args, [0x10, 3, 0, 0, 0]), Err(Error::BadPointer));
    // An init's arguments are the whole kernel command line, longer than
    // any spawned program's.
    let line = common::command_line();
    assert!(line.len() > user_abi::ARGS_BYTES);
    let buf = DATA + 1024;
    assert_eq!(n.ret(init, 0, Call::Args, [buf, 3072, 0, 0, 0]), Ok(line.len() as u64));
    assert_eq!(n.get(init, buf, line.len()), line, "nothing cut");
    assert_eq!(n.ret(s, 1, Call::Id, [Id::Process as u64, 0, 0, 0, 0]), Ok(pid));
    assert_eq!(n.ret(s, 1, Call::Id, [Id::Parent as u64, 0, 0, 0, 0]), Ok(1));
    assert_eq!(n.ret(s, 1, Call::Id, [Id::Node as u64, 0, 0, 0, 0]), Ok(0));
    assert_eq!(n.ret(s, 1, Call::Id, [Id::Core as u64, 0, 0, 0, 0]), Ok(1));
    assert_eq!(n.ret(s, 1, Call::Id, [9, 0, 0, 0, 0]), Err(Error::BadArgument));
    n.fake().now.set(5_000);
    assert_eq!(n.ret(s, 1, Call::Clock, [0; 5]), Ok(5_000));
    let mut out = [0u8; WRITE_MAX];
    let o = processes::handle(&mut n.k, s, 1, processes::CallArgs { number: 99, a: [0; 5] }, &mut out);
    assert_eq!(o, Outcome::Return(Err(Error::BadCall)));
}

#[test]
fn writes_copy_what_the_program_gave_and_refuse_bad_pointers() {
    let mut n = Node::new(1, false);
    let init = n.run(0);
    let va = n.put(init, 0, b"hello\n");
    let mut out = [0u8; WRITE_MAX];
    let args = processes::CallArgs { number: Call::Write as u64, a: [va, 6, 0, 0, 0] };
    assert_eq!(processes::handle(&mut n.k, init, 0, args, &mut out), Outcome::Write(6));
    assert_eq!(&out[..6], b"hello\n");
    // The core prints it, then the call returns the count.
    let next = n.k.stopped(0, init, 1, Outcome::Write(6), false, false);
    assert_eq!(next, Next::Write { pid: 1, len: 6 });
    n.k.written(init, 6);
    assert_eq!(n.result(init), Some(6));
    let init = n.run(0);
    assert_eq!(n.ret(init, 0, Call::Write, [0x10, 6, 0, 0, 0]), Err(Error::BadPointer));
    assert_eq!(n.ret(init, 0, Call::Write, [DATA + 4090, 100, 0, 0, 0]), Err(Error::BadPointer), "runs off the page");
}

#[test]
fn map_and_unmap_give_every_page_back_and_keep_to_the_quota() {
    let mut n = Node::new(1, false);
    let init = n.run(0);
    let rw = PROT_READ | PROT_WRITE;
    // The first area's first touch also makes the tables that map it, which
    // stay with the program until it ends.
    let warm = n.ret(init, 0, Call::Map, [4096, rw, 0, 0, 0]).expect("map");
    assert_eq!(n.k.first_touch(init, warm), processes::Touched::Backed);
    assert_eq!(n.ret(init, 0, Call::Unmap, [warm, 4096, 0, 0, 0]), Ok(0));
    let free = n.free_pages();
    let a = n.ret(init, 0, Call::Map, [3 * 4096 + 1, rw, 0, 0, 0]).expect("map");
    assert_eq!(n.free_pages(), free, "reserved, backed on first touch");
    assert!(n.k.copy_out(init, a + 4096, &[1]).is_err(), "not backed yet");
    assert_eq!(n.k.first_touch(init, a + 4096 + 8), processes::Touched::Backed);
    assert_eq!(n.free_pages(), free - 1, "one page backed");
    n.k.copy_out(init, a + 4096, &[1; 100]).expect("backed and writable");
    assert_eq!(n.k.first_touch(init, a + 4096), processes::Touched::Elsewhere, "backed already");
    assert_eq!(n.k.first_touch(init, a + 4 * 4096), processes::Touched::Elsewhere, "the gap after the area");
    let b = n.ret(init, 0, Call::Map, [4096, PROT_READ, 0, 0, 0]).expect("read-only map");
    assert_eq!(n.k.first_touch(init, b), processes::Touched::Backed);
    assert_eq!(n.get(init, b, 8), vec![0; 8], "zeroed");
    assert!(n.k.copy_out(init, b, &[1]).is_err(), "read-only, backed or not");
    let huge = n.free_pages() * 4096 + 4096;
    if huge <= MAP_QUOTA {
        assert_eq!(n.ret(init, 0, Call::Map, [huge, rw, 0, 0, 0]), Err(Error::NoMemory), "more than the node has");
    }
    assert_eq!(n.ret(init, 0, Call::Map, [0, rw, 0, 0, 0]), Err(Error::BadArgument));
    assert_eq!(n.ret(init, 0, Call::Map, [4096, PROT_WRITE, 0, 0, 0]), Err(Error::BadArgument), "write-only");
    assert_eq!(n.ret(init, 0, Call::Map, [4096, 8, 0, 0, 0]), Err(Error::BadArgument), "executable");
    assert_eq!(n.ret(init, 0, Call::Map, [MAP_QUOTA + 1, rw, 0, 0, 0]), Err(Error::NoMemory));
    assert_eq!(n.ret(init, 0, Call::Unmap, [a, 4096, 0, 0, 0]), Err(Error::BadArgument), "not the whole area");
    assert_eq!(n.ret(init, 0, Call::Unmap, [a + 4096, 4096, 0, 0, 0]), Err(Error::BadArgument), "not an area's start");
    assert_eq!(n.ret(init, 0, Call::Unmap, [a, 3 * 4096 + 1, 0, 0, 0]), Ok(0));
    assert!(n.k.copy_out(init, a, &[1]).is_err(), "gone");
    assert_eq!(n.ret(init, 0, Call::Unmap, [b, 4096, 0, 0, 0]), Ok(0));
    assert_eq!(n.free_pages(), free);
    // And all of it, tables too, once the program ends.
    let (c, sc) = child(&mut n, SpawnOptions::default());
    let before = n.free_pages();
    let m = n.ret(sc, 0, Call::Map, [64 * 4096, rw, 0, 0, 0]).expect("map");
    for page in 0..64 {
        assert_eq!(n.k.first_touch(sc, m + page * 4096), processes::Touched::Backed);
    }
    n.call(sc, 0, Call::Exit, [0; 5]);
    assert_eq!(n.ret(init, 0, Call::Wait, [u64::from(c), 0, 0, 0, 0]), Ok(u64::from(c)));
    n.k.reap_retired();
    assert!(n.free_pages() > before, "the child's image, stack and tables came back too");
}

#[test]
fn endpoints_queue_whole_messages_full_and_empty() {
    let mut n = Node::new(2, false);
    let init = n.run(0);
    let msg = n.put(init, 0, b"ping");
    for i in 0..ENDPOINT_DEPTH {
        assert_eq!(n.ret(init, 0, Call::Send, [3, msg, 4, 0, 0]), Ok(0), "message {i}");
    }
    assert_eq!(n.ret(init, 0, Call::Send, [3, msg, 4, 0, 0]), Err(Error::WouldBlock), "full");
    assert_eq!(n.ret(init, 0, Call::Send, [16, msg, 4, 0, 0]), Err(Error::BadArgument), "no endpoint 16");
    assert_eq!(n.ret(init, 0, Call::Send, [3, msg, 257, 0, 0]), Err(Error::TooBig));
    let buf = DATA + 1024;
    assert_eq!(n.ret(init, 0, Call::Recv, [3, buf, 2, 0, 0]), Err(Error::TooBig), "does not fit: stays queued");
    for _ in 0..ENDPOINT_DEPTH {
        assert_eq!(n.ret(init, 0, Call::Recv, [3, buf, 256, 0, 0]), Ok(4));
    }
    assert_eq!(n.get(init, buf, 4), b"ping");
    assert_eq!(n.ret(init, 0, Call::Recv, [3, buf, 256, 0, 0]), Err(Error::WouldBlock), "empty, no wait");
    // A waiting receiver gets the next message directly.
    let (_, s) = child(&mut n, SpawnOptions::default());
    n.run_slot(1, s);
    assert_eq!(n.call(s, 1, Call::Recv, [5, buf, 256, u64::MAX, 0]), Outcome::Blocked);
    let long = n.put(init, 100, b"pong!");
    n.fake().core.set(0);
    assert_eq!(n.ret(init, 0, Call::Send, [5, long, 5, 0, 0]), Ok(0));
    assert_eq!(n.result(s), Some(5));
    assert_eq!(n.get(s, buf, 5), b"pong!");
    // A receive with a timeout ends with TimedOut.
    let s = n.run(1);
    assert_eq!(n.call(s, 1, Call::Recv, [6, buf, 256, 1_000, 0]), Outcome::Blocked);
    let deadline = n.k.next_deadline(1);
    n.k.wake_expired(deadline - 1);
    assert_eq!(n.result(s), Some(5), "not yet");
    n.k.wake_expired(deadline);
    assert_eq!(n.result(s).map(decode_result), Some(Err(Error::TimedOut)));
}

#[test]
fn sleep_ends_at_its_deadline() {
    let mut n = Node::new(1, false);
    let init = n.run(0);
    n.fake().now.set(10_000);
    assert_eq!(n.call(init, 0, Call::Sleep, [2_500, 0, 0, 0, 0]), Outcome::Blocked);
    assert_eq!(n.k.next_deadline(0), 12_500);
    n.k.wake_expired(12_499);
    assert!(matches!(n.state(1), Some(State::Sleeping { .. })));
    n.k.wake_expired(12_500);
    assert_eq!(n.state(1), Some(State::Ready));
    assert_eq!(n.result(init), Some(0));
    assert!(n.fake().log.borrow().events.iter().any(|e| e.kind == Kind::Wake as u8 && e.pid == 1));
}

#[test]
fn priorities_decide_who_runs_and_who_is_preempted() {
    let mut n = Node::new(1, false);
    let init = n.run(0);
    let low = SpawnOptions { priority: Some(0), ..SpawnOptions::default() };
    let high = SpawnOptions { priority: Some(3), ..SpawnOptions::default() };
    let (l, _) = child(&mut n, low);
    let (h, _) = child(&mut n, high);
    n.k.stopped(0, init, 1, Outcome::Yield, false, false);
    let first = n.run(0);
    assert_eq!(n.k.procs[first].as_ref().map(|p| p.pid), Some(h), "the highest priority first");
    n.k.stopped(0, first, h, Outcome::Interrupted, false, true);
    let second = n.run(0);
    assert_eq!(n.k.procs[second].as_ref().map(|p| p.pid), Some(h), "again: nothing else of its priority");
    n.k.stopped(0, second, h, Outcome::Blocked, false, false);
    let third = n.run(0);
    assert_eq!(n.k.procs[third].as_ref().map(|p| p.pid), Some(1), "then the default priority");
    assert!(!n.k.more_urgent(0, third));
    // A high-priority program woken while a lower one runs preempts it.
    let hs = n.slot(h);
    n.k.resume(hs, Ok(0));
    assert!(n.k.more_urgent(0, third));
    let _ = l;
}

/// A light program that wakes on a core a heavy one holds runs next, not
/// after the heavy one's slice; a heavy one that wakes waits its turn.
#[test]
fn a_light_program_that_wakes_takes_its_core_back_at_once() {
    let mut n = Node::new(1, false);
    let init = n.run(0);
    let heavy = SpawnOptions { class: user_abi::Class::Heavy, ..SpawnOptions::default() };
    let (h, hs) = child(&mut n, heavy);
    let (l, ls) = child(&mut n, SpawnOptions { class: user_abi::Class::Light, ..SpawnOptions::default() });
    n.k.stopped(0, init, 1, Outcome::Blocked, false, false);
    // The light one sleeps; the heavy one runs.
    assert_eq!(n.run(0), hs);
    n.k.stopped(0, hs, h, Outcome::Interrupted, false, true);
    assert_eq!(n.run(0), ls);
    assert_eq!(n.call(ls, 0, Call::Sleep, [1_000, 0, 0, 0, 0]), Outcome::Blocked);
    n.k.stopped(0, ls, l, Outcome::Blocked, false, false);
    assert_eq!(n.run(0), hs);
    // It wakes while the heavy one is in the middle of its slice.
    n.fake().now.set(n.fake().now.get() + 1_000);
    n.k.wake_expired(n.fake().now.get());
    assert!(n.k.more_urgent(0, hs), "the heavy one is asked to stop");
    n.k.stopped(0, hs, h, Outcome::Interrupted, false, false);
    assert_eq!(n.run(0), ls, "the light one runs first");
    // A heavy one woken while another runs is not hurried.
    assert_eq!(n.call(ls, 0, Call::Exit, [0, 0, 0, 0, 0]), Outcome::Exited);
    assert_eq!(n.run(0), hs);
    assert!(!n.k.more_urgent(0, hs));
}

#[test]
fn an_idle_core_takes_waiting_work_and_never_a_pinned_program() {
    let mut n = Node::new(2, false);
    let _init = n.run(0);
    // Spawned onto the least busy core: idle core 1.
    let (a, sa) = child(&mut n, SpawnOptions::default());
    assert_eq!(n.k.procs[sa].as_ref().map(|p| p.core), Some(1));
    n.run_slot(1, sa);
    // Both cores busy: the next waits on core 0, a pinned one too.
    let (c, sc) = child(&mut n, SpawnOptions::default());
    let (_, sp) = child(&mut n, SpawnOptions { core: Some(0), ..SpawnOptions::default() });
    assert_eq!(n.k.procs[sc].as_ref().map(|p| p.core), Some(0));
    // Core 1 goes idle: it takes c from core 0 (a move, traced), not the
    // pinned one.
    n.k.stopped(1, sa, a, Outcome::Blocked, false, false);
    let s = n.run(1);
    assert_eq!(s, sc);
    assert_eq!(n.k.procs[sc].as_ref().map(|p| (p.core, p.migrations)), Some((1, 1)));
    let moved = n.fake().log.borrow().events.iter().any(|e| e.kind == Kind::Move as u8 && e.pid == c);
    assert!(moved, "the move is traced");
    n.k.stopped(1, s, c, Outcome::Exited, false, false);
    assert!(n.k.pick(1).is_none(), "the pinned one stays with core 0");
    assert_eq!(n.k.procs[sp].as_ref().map(|p| p.core), Some(0));
}

#[test]
fn faults_are_reported_and_end_only_the_program() {
    let mut n = Node::new(1, false);
    let init = n.run(0);
    let (c, sc) = child(&mut n, SpawnOptions::default());
    n.k.stopped(0, init, 1, Outcome::Blocked, false, false);
    n.run_slot(0, sc);
    n.k.fault(sc, 0, Fault::BadAccess, 0x9200_0046, 0x8, 0x40_0010);
    let next = n.k.stopped(0, sc, c, Outcome::Exited, true, false);
    assert_eq!(next, Next::Schedule);
    let reports = n.fake().log.borrow().reports.clone();
    assert_eq!(reports.len(), 1);
    assert!(reports[0].starts_with(&format!("user fault: node 0 core 0 pid {c} (prog): bad memory access at 0x8")));
    assert!(matches!(n.state(c), Some(State::Zombie(ExitStatus::Faulted(Fault::BadAccess)))));
    let stop = n.fake().log.borrow().events.iter().rev().find(|e| e.kind == Kind::Stop as u8).copied();
    assert_eq!(stop.map(|e| e.reason), Some(trace_ring::StopReason::Faulted as u8));
}

#[test]
fn console_input_feeds_readers_and_ctrl_c_stops_the_foreground() {
    let mut n = Node::new(2, true);
    let init = n.run(0);
    let buf = DATA + 2048;
    assert_eq!(n.call(init, 0, Call::Read, [buf, 16, 0, 0, 0]), Outcome::Blocked);
    n.fake().log.borrow_mut().input.extend(b"ls\r");
    n.k.on_input();
    assert_eq!(n.result(init), Some(3));
    assert_eq!(n.get(init, buf, 3), b"ls\r");
    // A foreground program: Ctrl-C ends it and is not read.
    let init = n.run(0);
    let (f, _) = child(&mut n, SpawnOptions { foreground: true, ..SpawnOptions::default() });
    assert_eq!(n.k.foreground, Some(f));
    n.fake().log.borrow_mut().input.extend(b"a\x03b");
    n.k.on_input();
    assert!(matches!(n.state(f), Some(State::Zombie(ExitStatus::Killed))));
    assert_eq!(n.k.foreground, None);
    assert_eq!(n.ret(init, 0, Call::Read, [buf, 16, 0, 0, 0]), Ok(2));
    assert_eq!(n.get(init, buf, 2), b"ab");
    // Lost input is said once, where it was lost.
    n.fake().log.borrow_mut().lost = true;
    assert_eq!(n.ret(init, 0, Call::Read, [buf, 16, 0, 0, 0]), Err(Error::InputLost));
    assert_eq!(n.ret(init, 0, Call::Read, [buf, 0, 0, 0, 0]), Ok(0));
    assert_eq!(n.ret(init, 0, Call::Read, [0x10, 16, 0, 0, 0]), Err(Error::BadPointer));
    // No console here: not supported.
    let mut other = Node::new(1, false);
    let i = other.run(0);
    assert_eq!(other.ret(i, 0, Call::Read, [buf, 16, 0, 0, 0]), Err(Error::NotSupported));
}

#[test]
fn ps_nodes_and_sysinfo_describe_the_node() {
    let mut n = Node::of_machine(2, 3, 2, true, common::PAGES);
    let init = n.run(0);
    let (c, _) = child(&mut n, SpawnOptions::default());
    let buf = DATA + 256;
    assert_eq!(n.ret(init, 0, Call::Ps, [buf, 8, 0, 0, 0]), Ok(2));
    let size = std::mem::size_of::<ProcessInfo>();
    let raw = n.get(init, buf, 2 * size);
    let second = ProcessInfo::read_from_bytes(&raw[size..]).expect("a ProcessInfo");
    assert_eq!((second.pid, second.parent, second.name(), second.node), (c, 3, "prog", 2));
    assert_eq!(c, 6, "node 2 of 3 hands out pids 3, 6, 9, ...");
    assert_eq!(n.ret(init, 0, Call::Ps, [buf, 1, 0, 0, 0]), Ok(1), "as many as asked");
    assert_eq!(n.ret(init, 0, Call::Ps, [0x10, 8, 0, 0, 0]), Err(Error::BadPointer));
    n.k.nodes[1] =
        Some(NodeInfo { id: 1, build: 1, capacity: 1024, cpus: 2, linked: 1, console: 0, ..NodeInfo::default() });
    assert_eq!(n.ret(init, 0, Call::Nodes, [buf, 8, 0, 0, 0]), Ok(3));
    let size = std::mem::size_of::<NodeInfo>();
    let raw = n.get(init, buf, 3 * size);
    let one = NodeInfo::read_from_bytes(&raw[size..2 * size]).expect("a NodeInfo");
    assert_eq!((one.id, one.capacity), (1, 1024));
    let unknown = NodeInfo::read_from_bytes(&raw[..size]).expect("a NodeInfo");
    assert_eq!((unknown.id, unknown.linked), (0, 0), "a node the monitor has not heard of");
    assert_eq!(n.ret(init, 0, Call::SysInfo, [buf, 0, 0, 0, 0]), Ok(0));
    let si = SysInfo::read_from_bytes(&n.get(init, buf, std::mem::size_of::<SysInfo>())).expect("a SysInfo");
    assert_eq!((si.node, si.nodes, si.cores, si.processes, si.console_node), (2, 3, 2, 2, 2));
    assert!(si.calls >= 4 && si.failed_calls >= 1, "{si:?}");
    assert_eq!(si.free_pages, n.free_pages());
    assert_eq!(n.ret(init, 0, Call::Nodes, [0x10, 8, 0, 0, 0]), Err(Error::BadPointer));
    assert_eq!(n.ret(init, 0, Call::SysInfo, [0x10, 0, 0, 0, 0]), Err(Error::BadPointer));
    assert_eq!(n.ret(init, 0, Call::SysInfo, [DATA + 4090, 0, 0, 0, 0]), Err(Error::BadPointer), "runs off the page");
}

#[test]
fn power_off_and_trace_are_asked_of_the_platform_and_init_ending_is_reported() {
    let mut n = Node::new(2, true);
    let init = n.run(0);
    n.fake().log.borrow_mut().rings.clear();
    assert_eq!(n.ret(init, 0, Call::Trace, [0; 5]), Ok(0));
    assert_eq!(n.ret(init, 0, Call::PowerOff, [0; 5]), Ok(0));
    let log = n.fake().log.borrow();
    assert!(log.trace_asked);
    assert_eq!(log.power_off, Some(1));
    assert_eq!(log.rings, [100, 100], "the monitor's core is rung each time");
    drop(log);
    assert_eq!(n.call(init, 0, Call::Exit, [4, 0, 0, 0, 0]), Outcome::Exited);
    assert_eq!(n.fake().log.borrow().init, Some(ExitStatus::Exited(4)));
}

#[test]
fn yield_returns_zero_and_goes_to_the_back() {
    let mut n = Node::new(1, false);
    let init = n.run(0);
    let (c, _) = child(&mut n, SpawnOptions::default());
    assert_eq!(n.call(init, 0, Call::Yield, [0; 5]), Outcome::Yield);
    assert_eq!(n.result(init), Some(0));
    n.k.stopped(0, init, 1, Outcome::Yield, false, false);
    let next = n.run(0);
    assert_eq!(n.k.procs[next].as_ref().map(|p| p.pid), Some(c), "the other program first");
}

#[test]
fn utilization_follows_running_time_at_the_nodes_capacity() {
    // The fake node's cores have capacity 530.
    let mut n = Node::new(1, false);
    let mut now = n.fake().now.get();
    for _ in 0..50 {
        let s = n.run(0);
        now += 10_000_000; // a 10 ms slice, all of it running
        n.fake().now.set(now);
        let pid = n.k.account(s, now);
        n.k.stopped(0, s, pid, Outcome::Interrupted, false, true);
    }
    let util = |n: &Node| n.k.procs[n.init].as_ref().map_or(0, |p| p.util.value());
    assert!(util(&n).abs_diff(530) <= 5, "busy all the time on a 530 core: {}", util(&n));
    assert_eq!(
        n.k.procs[n.init].as_ref().map(|p| (p.class, p.heavy)),
        Some((user_abi::Class::Auto, true)),
        "it fills its core"
    );
    // A second program asks ps while init has been asleep a second: ps
    // reports init's utilization as of now, faded.
    let init = n.init;
    let (c, sc) = {
        let s = n.run(0);
        let pid = n.spawn(s, 0, "prog", SpawnOptions::default()).expect("spawn") as u32;
        assert_eq!(n.call(s, 0, Call::Sleep, [u64::MAX, 0, 0, 0, 0]), Outcome::Blocked);
        n.k.stopped(0, s, 1, Outcome::Blocked, false, false);
        (pid, n.slot(pid))
    };
    now += 1_000_000_000;
    n.fake().now.set(now);
    n.run_slot(0, sc);
    let buf = DATA + 256;
    assert_eq!(n.ret(sc, 0, Call::Ps, [buf, 2, 0, 0, 0]), Ok(2));
    let size = std::mem::size_of::<ProcessInfo>();
    let raw = n.get(sc, buf, 2 * size);
    let first = ProcessInfo::read_from_bytes(&raw[..size]).expect("info");
    assert_eq!(first.pid, 1);
    assert!(first.util < 5, "init slept a second: {}", first.util);
    assert_eq!((first.class, first.heavy), (0, 0), "auto; asleep a second, it wants no core now");
    let second = ProcessInfo::read_from_bytes(&raw[size..]).expect("info");
    assert_eq!((second.pid, second.heavy), (c, 1), "ready a whole second before it ran: it wants a core");
    assert!(util(&n) > 500, "its stored average is only brought up to date when needed");
    let _ = (init, c);
}

/// A program stopped by an interrupt (the monitor's turn on its core)
/// goes on with what was left of its slice, not a fresh one: otherwise a
/// monitor that wakes more often than a slice lasts keeps it at the head of
/// the queue and starves the programs behind it.
#[test]
fn an_interrupted_slice_goes_on_and_a_new_one_begins_after_blocking() {
    let mut n = Node::new(2, false);
    let (a, s) = child(&mut n, SpawnOptions { core: Some(0), ..SpawnOptions::default() });
    let len = 10_000;
    let t0 = n.fake().now.get();
    n.run_slot(0, s);
    let end = n.k.slice_end(s, t0, len);
    assert_eq!(end, t0 + len, "a fresh slice");
    n.fake().now.set(t0 + 3_000);
    n.k.stopped(0, s, a, Outcome::Interrupted, false, false);
    n.run_slot(0, s);
    assert_eq!(n.k.slice_end(s, t0 + 3_000, len), end, "the rest of the same slice");
    // Over: the next one is fresh.
    n.fake().now.set(end);
    n.k.stopped(0, s, a, Outcome::Interrupted, false, true);
    n.run_slot(0, s);
    assert_eq!(n.k.slice_end(s, end, len), end + len);
    // After blocking, a fresh one too.
    n.fake().now.set(end + 10);
    assert_eq!(n.call(s, 0, Call::Sleep, [1, 0, 0, 0, 0]), Outcome::Blocked);
    n.k.stopped(0, s, a, Outcome::Blocked, false, false);
    n.k.wake_expired(end + 1_000_000);
    n.run_slot(0, s);
    assert_eq!(n.k.slice_end(s, end + 20, len), end + 20 + len);
}
