//! The console rings in the shared region and the owner's printer: units
//! come out whole and in order, kernel text has its reserve, full rings
//! refuse (never block), drops are reported, interrupted lines are marked,
//! and a consumer never trusts what it reads. And the input queue.

use handoff::console::{
    node_console_offset, ConsoleRing, End, InputQueue, Lost, Printer, Priority, CONTINUATION, KERNEL_RESERVE,
    RING_SLOTS, SLOT_BYTES,
};
use std::sync::Arc;

fn ring() -> Box<ConsoleRing> {
    // SAFETY: ConsoleRing is plain integers and bytes: all-zero is its initial state.
    unsafe { Box::new(std::mem::zeroed()) }
}

/// Everything the printer prints from `rings` (node ids in order).
fn print(printer: &mut Printer, rings: &[&ConsoleRing]) -> String {
    let mut out = Vec::new();
    printer.drain(rings.iter().copied().enumerate(), &mut |b| out.extend_from_slice(b));
    String::from_utf8(out).expect("utf-8")
}

fn line(r: &ConsoleRing, source: u32, text: &str) {
    assert!(r.push(source, text.as_bytes(), End::Newline, Priority::Program), "room for {text:?}");
}

#[test]
fn lines_come_out_in_order_across_wrap_around() {
    let r = ring();
    let mut p = Printer::new();
    for round in 0..5 {
        let mut want = String::new();
        for i in 0..RING_SLOTS - KERNEL_RESERVE {
            line(&r, 7, &format!("line {round} {i}"));
            want += &format!("line {round} {i}\n");
        }
        assert_eq!(print(&mut p, &[&r]), want);
        assert_eq!(print(&mut p, &[&r]), "");
    }
    assert_eq!(r.dropped(), 0);
}

#[test]
fn long_units_come_out_whole() {
    let r = ring();
    let long: String = (0..SLOT_BYTES * 5 + 17).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    assert!(r.push(3, long.as_bytes(), End::Newline, Priority::Program));
    // Another writer's line after it cannot land inside it.
    line(&r, 4, "other");
    assert_eq!(print(&mut Printer::new(), &[&r]), format!("{long}\nother\n"));
    let too_long = vec![b'x'; Priority::Program.max_push() + 1];
    assert!(!r.push(3, &too_long, End::Newline, Priority::Program));
    assert!(r.push(3, &too_long[..Priority::Program.max_push()], End::Newline, Priority::Program));
}

#[test]
fn program_text_leaves_the_kernel_its_reserve() {
    let r = ring();
    for _ in 0..RING_SLOTS - KERNEL_RESERVE {
        line(&r, 5, "x");
    }
    assert!(!r.push(5, b"one too many", End::Newline, Priority::Program));
    for i in 0..KERNEL_RESERVE {
        assert!(r.push(0, format!("user fault: {i}").as_bytes(), End::Newline, Priority::Kernel));
    }
    assert!(!r.push(0, b"full", End::Newline, Priority::Kernel));
    assert_eq!(r.dropped(), 0, "a refused push is not a drop until the producer gives up");
    r.record_drop();
    let text = print(&mut Printer::new(), &[&r]);
    assert!(text.starts_with("console: node 0 dropped 1 lines (1 in all)\n"), "{text}");
    assert_eq!(text.matches("user fault:").count(), KERNEL_RESERVE);
}

#[test]
fn drops_are_reported_once_per_increase() {
    let (a, b) = (ring(), ring());
    let mut p = Printer::new();
    b.record_drop();
    b.record_drop();
    assert_eq!(print(&mut p, &[&a, &b]), "console: node 1 dropped 2 lines (2 in all)\n");
    assert_eq!(print(&mut p, &[&a, &b]), "");
    b.record_drop();
    assert_eq!(print(&mut p, &[&a, &b]), "console: node 1 dropped 1 lines (3 in all)\n");
}

#[test]
fn an_open_line_goes_on_for_its_writer_and_is_never_spliced() {
    let (a, b) = (ring(), ring());
    let mut p = Printer::new();
    // The shell's prompt and echo: one open line from one writer.
    assert!(a.push(2, b"mk> ", End::Open, Priority::Program));
    assert!(a.push(2, b"p", End::Open, Priority::Program));
    assert_eq!(print(&mut p, &[&a, &b]), "mk> p");
    // Another node prints: the open line is closed first.
    line(&b, 9, "heavy: done");
    assert!(a.push(2, b"s", End::Newline, Priority::Program));
    let cont = std::str::from_utf8(CONTINUATION).expect("ascii");
    // (node 1's ring drained before node 0's)
    let mut out = Vec::new();
    p.drain([(1, &*b), (0, &*a)].into_iter(), &mut |t| out.extend_from_slice(t));
    assert_eq!(String::from_utf8(out).expect("utf-8"), format!("\nheavy: done\n{cont}s\n"));
    // Same ring, another program: also closed and marked.
    assert!(a.push(2, b"mk> ", End::Open, Priority::Program));
    line(&a, 3, "from pid 3");
    assert!(a.push(2, b"ps", End::Newline, Priority::Program));
    assert_eq!(print(&mut p, &[&a]), format!("mk> \nfrom pid 3\n{cont}ps\n"));
}

#[test]
fn a_corrupt_producer_index_is_skipped_and_counted() {
    let r = ring();
    line(&r, 1, "ok");
    // Scribble over the producer's head, as a misbehaving node could.
    // SAFETY: the ring starts with the producer's cache line, whose first word is `head`.
    unsafe { (&*r as *const ConsoleRing as *mut u32).write(1000) };
    let mut out = [0u8; SLOT_BYTES];
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
                // Every 100th unit spans three slots.
                let text = if i % 100 == 0 { format!("{i:0>700}") } else { i.to_string() };
                while !r.push(1, text.as_bytes(), End::Newline, Priority::Program) {
                    std::thread::yield_now();
                }
            }
        })
    };
    let mut printer = Printer::new();
    let mut text = Vec::new();
    let mut lines = 0;
    while lines < n {
        printer.drain(std::iter::once((0, &*r)), &mut |b| text.extend_from_slice(b));
        lines = text.iter().filter(|&&b| b == b'\n').count() as u32;
    }
    producer.join().expect("producer");
    let text = String::from_utf8(text).expect("utf-8");
    for (i, l) in text.lines().enumerate() {
        let want = if i % 100 == 0 { format!("{i:0>700}") } else { i.to_string() };
        assert_eq!(l, want);
    }
    assert!(node_console_offset(handoff::MAX_NODES) <= handoff::console::CHANNELS_OFFSET);
}

#[test]
fn typeahead_is_kept_up_to_its_size_then_refused_in_place() {
    let mut q = InputQueue::<8>::new();
    for b in b"ab\ncdefgh" {
        q.push(*b);
    }
    assert_eq!(q.dropped(), 1, "the ninth byte does not fit");
    assert!(!q.push(b'x'), "nothing is kept until the reader reaches the loss");
    let mut out = [0u8; 5];
    assert_eq!(q.take(&mut out), Ok(5));
    assert_eq!(&out, b"ab\ncd");
    assert!(!q.push(b'y'));
    assert_eq!(q.take(&mut out), Ok(3));
    assert_eq!(&out[..3], b"efg");
    assert!(q.ready());
    assert_eq!(q.take(&mut out), Err(Lost));
    assert!(!q.ready());
    assert!(q.push(b'z'));
    assert_eq!(q.take(&mut out), Ok(1));
    assert_eq!(out[0], b'z');
    assert_eq!(q.dropped(), 3);
}

#[test]
fn ctrl_c_is_taken_out_of_typeahead() {
    let mut q = InputQueue::<16>::new();
    for b in b"ps\x03\nno\x03des\n" {
        q.push(*b);
    }
    assert!(q.remove_all(0x03));
    assert!(!q.remove_all(0x03));
    let mut out = [0u8; 16];
    let n = q.take(&mut out).expect("bytes");
    assert_eq!(&out[..n], b"ps\nnodes\n");
    // With a loss pending, the loss point moves with the bytes removed before it.
    let mut q = InputQueue::<4>::new();
    for b in b"a\x03bcd" {
        q.push(*b);
    }
    assert!(q.remove_all(0x03));
    assert_eq!(q.take(&mut out), Ok(3));
    assert_eq!(&out[..3], b"abc");
    assert_eq!(q.take(&mut out), Err(Lost));
}
