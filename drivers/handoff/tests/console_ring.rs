//! The console rings in the shared region: lines in order, full rings drop
//! (never block), and a consumer never trusts what it reads.

use handoff::console::{node_console_offset, ConsoleRing, LINE_BYTES, RING_LINES};
use std::sync::Arc;

fn ring() -> Box<ConsoleRing> {
    // SAFETY: ConsoleRing is plain integers and bytes: all-zero is its initial state.
    unsafe { Box::new(std::mem::zeroed()) }
}

#[test]
fn lines_come_out_in_order_across_wrap_around() {
    let r = ring();
    let mut out = [0u8; LINE_BYTES];
    for round in 0..5 {
        for i in 0..RING_LINES - 1 {
            assert!(r.push(format!("line {round} {i}").as_bytes()));
        }
        for i in 0..RING_LINES - 1 {
            let n = r.pop(&mut out).expect("a line");
            assert_eq!(&out[..n], format!("line {round} {i}").as_bytes());
        }
        assert_eq!(r.pop(&mut out), None);
    }
    assert_eq!(r.dropped(), 0);
}

#[test]
fn a_full_ring_drops_and_counts() {
    let r = ring();
    for _ in 0..RING_LINES {
        assert!(r.push(b"x"));
    }
    assert!(!r.push(b"one too many"));
    assert_eq!(r.dropped(), 1);
}

#[test]
fn long_lines_are_cut_not_overflowed() {
    let r = ring();
    let long = vec![b'a'; LINE_BYTES * 3];
    assert!(r.push(&long));
    let mut out = [0u8; LINE_BYTES];
    assert_eq!(r.pop(&mut out), Some(LINE_BYTES));
}

#[test]
fn a_corrupt_producer_index_is_skipped_and_counted() {
    let r = ring();
    assert!(r.push(b"ok"));
    // Scribble over the producer's head, as a misbehaving node could.
    // SAFETY: the ring starts with the producer's cache line, whose first word is `head`.
    unsafe { (&*r as *const ConsoleRing as *mut u32).write(1000) };
    let mut out = [0u8; LINE_BYTES];
    assert_eq!(r.pop(&mut out), None);
    assert_eq!(r.corrupt(), 1);
}

#[test]
fn producer_and_consumer_on_two_threads_lose_nothing() {
    let r: Arc<ConsoleRing> = Arc::from(ring());
    let n = 20_000u32;
    let producer = {
        let r = Arc::clone(&r);
        std::thread::spawn(move || {
            for i in 0..n {
                while !r.push(&i.to_le_bytes()) {
                    std::thread::yield_now();
                }
            }
        })
    };
    let mut out = [0u8; LINE_BYTES];
    let mut next = 0u32;
    while next < n {
        if let Some(len) = r.pop(&mut out) {
            assert_eq!(len, 4);
            assert_eq!(u32::from_le_bytes([out[0], out[1], out[2], out[3]]), next);
            next += 1;
        }
    }
    producer.join().expect("producer");
    assert!(node_console_offset(handoff::MAX_NODES) <= handoff::console::CHANNELS_OFFSET);
}

#[test]
fn text_without_newline_keeps_its_flag() {
    let r = ring();
    let mut out = [0u8; LINE_BYTES];
    assert!(r.push_text(b"mk> ", false));
    assert!(r.push(b"line"));
    assert_eq!(r.pop_text(&mut out), Some((4, false)));
    assert_eq!(&out[..4], b"mk> ");
    assert_eq!(r.pop_text(&mut out), Some((4, true)));
}
