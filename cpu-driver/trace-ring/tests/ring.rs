//! The per-core trace ring: order, overwrite of the oldest with the count,
//! dumps that resume where the last ended, a writer racing the dumper, and
//! the console line of every kind.

use trace_ring::{write_line, CoreRing, Dumped, Event, Kind, StopReason, EVENTS_PER_CORE};

fn ring() -> Box<CoreRing> {
    // Zeroed on the heap: a ring is too big to build on a test's stack.
    let layout = std::alloc::Layout::new::<CoreRing>();
    // SAFETY: the layout is a CoreRing's (not zero-sized); a CoreRing is
    // plain atomics and integers, so all-zero bytes are a valid, empty one,
    // and the Box owns the allocation made with that layout.
    unsafe {
        let p = std::alloc::alloc_zeroed(layout).cast::<CoreRing>();
        assert!(!p.is_null(), "out of memory");
        Box::from_raw(p)
    }
}

fn times(r: &CoreRing) -> (Vec<u64>, Dumped) {
    let mut t = Vec::new();
    let d = r.dump(|e| t.push(e.time));
    (t, d)
}

#[test]
fn events_come_out_oldest_first_and_once() {
    let r = ring();
    for t in 0..10 {
        r.record(Event::new(Kind::Run, t, 3));
    }
    assert_eq!(times(&r), ((0..10).collect(), Dumped { events: 10, lost: 0 }));
    assert_eq!(times(&r), (vec![], Dumped::default()));
    r.record(Event::new(Kind::Wake, 10, 3));
    assert_eq!(times(&r).0, [10]);
}

#[test]
fn a_full_ring_keeps_the_newest_and_counts_the_rest() {
    let r = ring();
    let n = EVENTS_PER_CORE as u64 * 3 + 5;
    for t in 0..n {
        r.record(Event::new(Kind::Run, t, 1));
    }
    let (t, d) = times(&r);
    assert_eq!(d, Dumped { events: EVENTS_PER_CORE as u64, lost: n - EVENTS_PER_CORE as u64 });
    assert_eq!(t.first(), Some(&(n - EVENTS_PER_CORE as u64)));
    assert_eq!(t.last(), Some(&(n - 1)));
}

#[test]
fn a_dump_while_the_core_records_never_reads_a_torn_event() {
    let r: std::sync::Arc<CoreRing> = std::sync::Arc::from(ring());
    let total = 200_000u64;
    let writer = {
        let r = std::sync::Arc::clone(&r);
        std::thread::spawn(move || {
            for t in 0..total {
                // Every field derived from t: a torn read would mix two.
                let mut e = Event::new(Kind::Send, t, t as u32);
                e.arg = t.wrapping_mul(3);
                e.peer = t as u16;
                r.record(e);
            }
        })
    };
    let (mut seen, mut lost, mut last) = (0u64, 0u64, None);
    loop {
        let done = writer.is_finished();
        let d = r.dump(|e| {
            assert_eq!((e.pid, e.arg, e.peer), (e.time as u32, e.time.wrapping_mul(3), e.time as u16), "torn: {e:?}");
            assert!(last.is_none_or(|l| e.time > l), "out of order");
            last = Some(e.time);
        });
        seen += d.events;
        lost += d.lost;
        if done {
            break;
        }
    }
    writer.join().expect("writer");
    assert_eq!(seen + lost, total, "every event is either dumped or counted lost");
}

#[test]
fn every_kind_has_its_line() {
    let mut spawn = Event::new(Kind::Spawn, 5, 7);
    spawn.arg = 2;
    spawn.name[..5].copy_from_slice(b"heavy");
    let mut stop = Event::new(Kind::Stop, 6, 7);
    stop.reason = StopReason::Preempted as u8;
    let mut mv = Event::new(Kind::Move, 7, 7);
    (mv.arg, mv.peer) = (0, 3);
    let mut send = Event::new(Kind::Send, 8, 0);
    (send.peer, send.reason, send.arg) = (2, 8, 41);
    let mut exit = Event::new(Kind::Exit, 9, 7);
    exit.arg = 0x100;
    let cases = [
        (spawn, "trace: 1 0 5 spawn 7 2 heavy"),
        (Event::new(Kind::Run, 5, 7), "trace: 1 0 5 run 7"),
        (stop, "trace: 1 0 6 stop 7 preempted"),
        (Event::new(Kind::Wake, 6, 7), "trace: 1 0 6 wake 7"),
        (mv, "trace: 1 0 7 move 7 0 3"),
        (send, "trace: 1 0 8 send 2 8 41"),
        (exit, "trace: 1 0 9 exit 7 0x100"),
    ];
    for (e, want) in cases {
        let mut line = String::new();
        write_line(&mut line, 1, 0, &e).expect("fmt");
        assert_eq!(line, want);
    }
    let mut line = String::new();
    write_line(&mut line, 1, 0, &Event { kind: 99, ..Event::default() }).expect("fmt");
    assert_eq!(line, "trace: 1 0 0 unknown 99");
}

#[test]
fn kinds_and_reasons_round_trip_with_distinct_words() {
    for k in Kind::ALL {
        assert_eq!(Kind::from_u8(*k as u8), Some(*k));
        assert_eq!(Kind::ALL.iter().filter(|o| o.name() == k.name()).count(), 1);
    }
    for r in StopReason::ALL {
        assert_eq!(StopReason::from_u8(*r as u8), Some(*r));
        assert_eq!(StopReason::ALL.iter().filter(|o| o.name() == r.name()).count(), 1);
    }
    assert_eq!((Kind::from_u8(0), StopReason::from_u8(0)), (None, None));
}
