//! Host tests of the ring: empty and full, credits, wrap-around, batches,
//! opening a region, corruption, the wake handshake, and two-thread runs
//! with a polling and a blocking notifier. Property tests against a
//! `VecDeque` model are in `mod model` at the end.

#![cfg(not(loom))]

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, OnceLock};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use channel::{
    bytes_for, slots_in, Channel, Control, Full, Notifier, OpenError, Payload, Polling, RecvError, Slot, ARMED,
    CONTROL_LINES, LAYOUT_VERSION, LINE, MAGIC, PAYLOAD,
};

// ---------------------------------------------------------------- helpers

/// Message `n`: the counter in the first 8 bytes, then bytes that depend on
/// `n` and their place, so a torn or stale payload shows.
fn msg(n: u64) -> Payload {
    let mut p = [0u8; PAYLOAD];
    p[..8].copy_from_slice(&n.to_le_bytes());
    for (i, b) in p.iter_mut().enumerate().skip(8) {
        *b = (n as u8).wrapping_mul(31).wrapping_add(i as u8);
    }
    p
}

/// The counter of a payload made by [`msg`], after checking the rest of it.
fn count(p: &Payload) -> u64 {
    let n = u64::from_le_bytes(p[..8].try_into().expect("8 bytes"));
    assert_eq!(*p, msg(n), "payload of message {n} is torn");
    n
}

fn slots_vec(n: usize) -> Vec<Slot> {
    (0..n).map(|_| Slot::new()).collect()
}

/// Channel memory in the caller's hands: control lines and slots.
struct Mem {
    control: Control,
    slots: Vec<Slot>,
}

impl Mem {
    fn new(slots: usize) -> Self {
        Mem { control: Control::new(slots as u32, 1, 2), slots: slots_vec(slots) }
    }
    fn channel(&self) -> Channel<'_> {
        // SAFETY: each test makes one sender and one receiver of a ring.
        unsafe { Channel::new(&self.control, &self.slots) }.expect("a good channel")
    }
}

/// One cache line of a raw region.
#[repr(C, align(64))]
#[derive(Clone, Copy)]
struct Line([u8; LINE]);

/// A raw, cache-line aligned region of `lines` lines filled with `fill`,
/// leaked so channels over it may live as long as they like.
fn region(lines: usize, fill: u8) -> *mut u8 {
    let lines: &'static mut [Line] = Vec::leak(vec![Line([fill; LINE]); lines]);
    lines.as_mut_ptr().cast::<u8>()
}

/// A fresh channel of `slots` slots over a raw region, and the region.
fn raw_channel(slots: usize) -> (Channel<'static>, *mut u8) {
    let base = region(CONTROL_LINES + slots, 0xa5);
    // SAFETY: the region is fresh, aligned, of the size given, and leaked
    // (valid for ever); only this test uses it.
    let ch = unsafe { Channel::init(base, bytes_for(slots), 7, 9) }.expect("init");
    (ch, base)
}

/// The sequence word of slot `i` of a raw channel.
fn seq_word(base: *mut u8, i: usize) -> &'static AtomicU64 {
    // SAFETY: slot `i` of the region lies at line CONTROL_LINES + i, its
    // sequence word is the last 8 bytes, aligned; the region lives for ever
    // and the ring only accesses that word atomically.
    unsafe { &*base.add((CONTROL_LINES + i) * LINE + PAYLOAD).cast::<AtomicU64>() }
}

/// The receiver's `consumed` word (line 1, first word).
fn consumed_word(base: *mut u8) -> &'static AtomicU64 {
    // SAFETY: line 1 starts with `consumed`, aligned; accessed atomically only.
    unsafe { &*base.add(LINE).cast::<AtomicU64>() }
}

/// The receiver's doorbell (line 1, second word).
fn consumer_wake_word(base: *mut u8) -> &'static AtomicU64 {
    // SAFETY: as above, `wake` follows `consumed`.
    unsafe { &*base.add(LINE + 8).cast::<AtomicU64>() }
}

/// The sender's doorbell (line 2, first word).
fn producer_wake_word(base: *mut u8) -> &'static AtomicU64 {
    // SAFETY: line 2 starts with the sender's `wake`.
    unsafe { &*base.add(2 * LINE).cast::<AtomicU64>() }
}

/// Credits come back once this many are owed (or the ring is found empty).
fn batch_of(slots: usize) -> usize {
    (slots / 4).max(1)
}

/// A notifier that interrupts and records whom it rang (single thread).
struct Recorder {
    target: u64,
    rang: RefCell<Vec<u64>>,
}

impl Recorder {
    fn new(target: u64) -> Self {
        Recorder { target, rang: RefCell::new(Vec::new()) }
    }
    fn rang(&self) -> Vec<u64> {
        self.rang.borrow().clone()
    }
}

impl Notifier for Recorder {
    fn interrupts(&self) -> bool {
        true
    }
    fn target(&self) -> u64 {
        self.target
    }
    fn notify(&self, target: u64) {
        self.rang.borrow_mut().push(target);
    }
    fn wait(&self) {
        panic!("a single-threaded test must not sleep");
    }
}

// ---------------------------------------------------------------- basics

#[test]
fn layout_constants() {
    assert_eq!(std::mem::size_of::<Slot>(), LINE);
    assert_eq!(std::mem::align_of::<Slot>(), LINE);
    assert_eq!(std::mem::size_of::<Control>(), CONTROL_LINES * LINE);
    assert_eq!(bytes_for(5), 8 * LINE);
    assert_eq!(slots_in(8 * LINE), 5);
    assert_eq!(slots_in(8 * LINE + LINE - 1), 5);
    assert_eq!(slots_in(3 * LINE), 0);
    assert_eq!(slots_in(0), 0);
}

#[test]
fn empty_ring() {
    for slots in [1, 2, 3, 8] {
        let mem = Mem::new(slots);
        let ch = mem.channel();
        assert_eq!(ch.slots(), slots);
        assert_eq!(ch.header().slots as usize, slots);
        let mut rx = ch.receiver(Polling);
        let mut tx = ch.sender(Polling);
        assert!(!rx.has_pending());
        assert_eq!(rx.try_recv(), Err(RecvError::Empty));
        assert_eq!(rx.try_recv(), Err(RecvError::Empty));
        let mut out = [[0u8; PAYLOAD]; 4];
        assert_eq!(rx.recv_batch(&mut out), 0);
        assert_eq!(rx.recv_batch_with(3, |_| panic!("nothing to read")), 0);
        assert_eq!(rx.received(), 0);
        assert_eq!(rx.corrupt(), 0);
        assert_eq!(tx.free(), slots);
        assert_eq!(tx.sent(), 0);
    }
}

#[test]
fn full_after_exactly_slots_sends_and_credits_come_in_batches() {
    for slots in [1, 2, 3, 4, 7, 8, 9, 16, 61] {
        let mem = Mem::new(slots);
        let ch = mem.channel();
        let mut tx = ch.sender(Polling);
        let mut rx = ch.receiver(Polling);
        let batch = batch_of(slots);
        let mut next_send = 0u64;
        let mut next_recv = 0u64;
        for _lap in 0..3 {
            for _ in 0..slots {
                assert_eq!(tx.try_send(&msg(next_send)), Ok(()), "slots {slots}");
                next_send += 1;
            }
            assert_eq!(tx.try_send(&msg(next_send)), Err(Full), "slots {slots}: full after {slots} sends");
            assert_eq!(tx.free(), 0);
            // Receive one at a time: credits come back every `batch`.
            for i in 1..=slots {
                assert_eq!(count(&rx.try_recv().expect("a message")), next_recv);
                next_recv += 1;
                assert_eq!(tx.free(), i / batch * batch, "slots {slots}, {i} received");
            }
            // The ring is empty now; finding it so hands back the rest.
            assert_eq!(rx.try_recv(), Err(RecvError::Empty));
            assert_eq!(tx.free(), slots);
        }
        assert_eq!(tx.sent(), next_send);
        assert_eq!(rx.received(), next_recv);
    }
}

#[test]
fn full_ring_takes_sends_again_after_receives() {
    let mem = Mem::new(8); // batch 2
    let ch = mem.channel();
    let mut tx = ch.sender(Polling);
    let mut rx = ch.receiver(Polling);
    for n in 0..8 {
        tx.try_send(&msg(n)).expect("room");
    }
    assert_eq!(tx.try_send(&msg(8)), Err(Full));
    // One received: no credit returned yet (batch of 2).
    assert_eq!(count(&rx.try_recv().expect("message 0")), 0);
    assert_eq!(tx.try_send(&msg(8)), Err(Full));
    // Two received: two credits.
    assert_eq!(count(&rx.try_recv().expect("message 1")), 1);
    assert_eq!(tx.try_send(&msg(8)), Ok(()));
    assert_eq!(tx.try_send(&msg(9)), Ok(()));
    assert_eq!(tx.try_send(&msg(10)), Err(Full));
    for n in 2..10 {
        assert_eq!(count(&rx.try_recv().expect("a message")), n);
    }
    assert_eq!(rx.try_recv(), Err(RecvError::Empty));
    assert_eq!(tx.try_send(&msg(10)), Ok(()));
}

#[test]
fn fifo_order_with_in_place_fill_and_read() {
    let mem = Mem::new(5);
    let ch = mem.channel();
    let mut tx = ch.sender(Polling);
    let mut rx = ch.receiver(Polling);
    for n in 0..5u64 {
        tx.try_send_with(|p| *p = msg(n)).expect("room");
    }
    for n in 0..5u64 {
        assert_eq!(rx.try_recv_with(count), Ok(n));
    }
    assert_eq!(rx.try_recv_with(count), Err(RecvError::Empty));
}

#[test]
fn wrap_around_over_many_laps() {
    for slots in [1usize, 3, 7, 61, 253] {
        let mem = Mem::new(slots);
        let ch = mem.channel();
        let mut tx = ch.sender(Polling);
        let mut rx = ch.receiver(Polling);
        let (mut sent, mut got) = (0u64, 0u64);
        let total = (slots as u64) * 40 + 17;
        // Chunk sizes cycle through 1..=slots+2, so every phase of the ring
        // meets every fill level, and some chunks find it full.
        let mut step = 0usize;
        while got < total {
            step += 1;
            let want = step % (slots + 2) + 1;
            for _ in 0..want {
                if sent == total || tx.try_send(&msg(sent)).is_err() {
                    break;
                }
                sent += 1;
            }
            let take = (step * 7) % (slots + 2) + 1;
            for _ in 0..take {
                match rx.try_recv() {
                    Ok(p) => {
                        assert_eq!(count(&p), got, "slots {slots}");
                        got += 1;
                    }
                    Err(RecvError::Empty) => break,
                    Err(e) => panic!("slots {slots}: {e:?}"),
                }
            }
        }
        assert_eq!(sent, total);
        assert_eq!(rx.try_recv(), Err(RecvError::Empty));
        assert_eq!(rx.corrupt(), 0);
        assert_eq!(tx.corrupt(), 0);
        assert_eq!(tx.free(), slots);
    }
}

// ---------------------------------------------------------------- batches

#[test]
fn send_batch_boundaries() {
    let mem = Mem::new(7);
    let ch = mem.channel();
    let mut tx = ch.sender(Polling);
    let mut rx = ch.receiver(Polling);
    let msgs: Vec<Payload> = (0..20).map(msg).collect();

    assert_eq!(tx.send_batch(&[]), 0);
    assert_eq!(tx.send_batch_with(0, |_, _| panic!("nothing to fill")), 0);
    assert_eq!(tx.sent(), 0);
    // Exactly the free space.
    assert_eq!(tx.send_batch(&msgs[..7]), 7);
    assert_eq!(tx.send_batch(&msgs[7..]), 0, "a full ring takes nothing");
    for n in 0..7 {
        assert_eq!(count(&rx.try_recv().expect("a message")), n);
    }
    assert_eq!(rx.try_recv(), Err(RecvError::Empty));
    // Larger than the free space: as many as fit, in order.
    assert_eq!(tx.send_batch(&msgs[7..10]), 3);
    assert_eq!(tx.send_batch(&msgs[10..]), 4);
    assert_eq!(tx.sent(), 14);
    let mut got = Vec::new();
    assert_eq!(rx.recv_batch_with(100, |p| got.push(count(p))), 7);
    assert_eq!(got, (7..14).collect::<Vec<_>>());
    // The `_with` form gives each message its index within the batch.
    let mut seen = Vec::new();
    let n = tx.send_batch_with(10, |i, p| {
        seen.push(i);
        *p = msg(100 + i as u64);
    });
    assert_eq!(n, 7);
    assert_eq!(seen, (0..7).collect::<Vec<_>>());
    assert_eq!(tx.send_batch_with(1, |_, _| panic!("no room")), 0);
    let mut out = [[0u8; PAYLOAD]; 7];
    assert_eq!(rx.recv_batch(&mut out), 7);
    for (i, p) in out.iter().enumerate() {
        assert_eq!(count(p), 100 + i as u64);
    }
}

#[test]
fn recv_batch_boundaries() {
    let mem = Mem::new(8); // batch of credits: 2
    let ch = mem.channel();
    let mut tx = ch.sender(Polling);
    let mut rx = ch.receiver(Polling);
    assert_eq!(tx.send_batch(&(0..8).map(msg).collect::<Vec<_>>()), 8);

    let mut out = [[0u8; PAYLOAD]; 12];
    assert_eq!(rx.recv_batch(&mut out[..0]), 0);
    assert_eq!(rx.recv_batch_with(0, |_| panic!("max 0")), 0);
    assert_eq!(rx.received(), 0);
    // Fewer than waiting; a batch always hands its credits back, even one
    // below the credit batch.
    assert_eq!(rx.recv_batch(&mut out[..1]), 1);
    assert_eq!(count(&out[0]), 0);
    assert_eq!(tx.free(), 1);
    assert_eq!(rx.recv_batch(&mut out[..3]), 3);
    assert_eq!(tx.free(), 4);
    // Exactly what is waiting.
    assert_eq!(rx.recv_batch(&mut out[..4]), 4);
    for (i, p) in out[..4].iter().enumerate() {
        assert_eq!(count(p), 4 + i as u64);
    }
    assert_eq!(tx.free(), 8);
    // More than waiting.
    assert_eq!(tx.send_batch(&(8..13).map(msg).collect::<Vec<_>>()), 5);
    assert_eq!(rx.recv_batch(&mut out), 5);
    for (i, p) in out[..5].iter().enumerate() {
        assert_eq!(count(p), 8 + i as u64);
    }
    assert_eq!(rx.recv_batch(&mut out), 0);
    assert_eq!(tx.free(), 8);
}

// ---------------------------------------------------------------- regions

#[test]
fn init_then_open_shares_one_ring() {
    let lines = CONTROL_LINES + 6;
    let base = region(lines, 0xff); // garbage that init must clear
                                    // SAFETY: fresh leaked region, aligned, `lines` lines long.
    let ch = unsafe { Channel::init(base, lines * LINE + 17, 3, 4) }.expect("init");
    assert_eq!(ch.slots(), 6, "every whole slot that fits");
    let h = ch.header();
    assert_eq!((h.magic, h.version, h.slots, h.from, h.to), (MAGIC, LAYOUT_VERSION, 6, 3, 4));
    // SAFETY: the region was initialised above and stays valid; one sender
    // (from `ch`) and one receiver (from `other`) use it.
    let other = unsafe { Channel::open(base, lines * LINE) }.expect("open");
    assert_eq!(other.header(), h);
    let mut tx = ch.sender(Polling);
    let mut rx = other.receiver(Polling);
    assert_eq!(rx.try_recv(), Err(RecvError::Empty));
    for n in 0..50 {
        tx.try_send(&msg(n)).expect("room");
        assert_eq!(count(&rx.try_recv().expect("a message")), n);
    }
    assert_eq!(rx.corrupt(), 0);
}

#[test]
fn open_errors() {
    let lines = CONTROL_LINES + 4;
    let (_, base) = raw_channel(4);
    let bytes = lines * LINE;
    // SAFETY: for every `open` below, `base` is a live, leaked region of
    // `bytes` bytes holding a channel, or is rejected before any access.
    let open = |base: *mut u8, bytes: usize| unsafe { Channel::open(base, bytes) }.map(|c| c.slots());

    assert_eq!(open(base, bytes), Ok(4));
    // SAFETY: one byte into the region, still inside it.
    assert_eq!(open(unsafe { base.add(1) }, bytes - 1), Err(OpenError::Misaligned));
    // SAFETY: half a line into the region.
    assert_eq!(open(unsafe { base.add(32) }, bytes - 32), Err(OpenError::Misaligned));
    assert_eq!(open(std::ptr::null_mut(), bytes), Err(OpenError::Misaligned));
    assert_eq!(open(base, CONTROL_LINES * LINE), Err(OpenError::TooSmall { bytes: CONTROL_LINES * LINE }));
    assert_eq!(open(base, bytes_for(1) - 1), Err(OpenError::TooSmall { bytes: bytes_for(1) - 1 }));
    assert_eq!(open(base, 0), Err(OpenError::TooSmall { bytes: 0 }));
    // Header slots larger than the region given.
    assert_eq!(open(base, bytes_for(2)), Err(OpenError::BadSlots { header: 4, fit: 2 }));
    assert_eq!(open(base, bytes_for(2) + LINE - 1), Err(OpenError::BadSlots { header: 4, fit: 2 }));
    // A larger region than the header's slots is fine: the header rules.
    let big = region(CONTROL_LINES + 10, 0);
    // SAFETY: fresh region of 13 lines; init uses 10 slots.
    unsafe { Channel::init(big, bytes_for(10), 0, 1) }.expect("init");
    // SAFETY: shrink the header's slot count to 3 inside the live region.
    unsafe { big.add(12).cast::<u32>().write(3) };
    assert_eq!(open(big, bytes_for(10)), Ok(3));
    // Zero slots in the header.
    // SAFETY: as above.
    unsafe { big.add(12).cast::<u32>().write(0) };
    assert_eq!(open(big, bytes_for(10)), Err(OpenError::BadSlots { header: 0, fit: 10 }));

    // Bad version.
    // SAFETY: the version is the u32 at byte 8 of the live region.
    unsafe { base.add(8).cast::<u32>().write(LAYOUT_VERSION + 1) };
    assert_eq!(open(base, bytes), Err(OpenError::BadVersion { found: LAYOUT_VERSION + 1 }));
    // Bad magic wins over a bad version.
    // SAFETY: the magic is the u64 at byte 0.
    unsafe { base.cast::<u64>().write(0x1234) };
    assert_eq!(open(base, bytes), Err(OpenError::BadMagic { found: 0x1234 }));
    // A region never initialised (all zero) is a bad magic, not bad slots.
    let zero = region(lines, 0);
    assert_eq!(open(zero, bytes), Err(OpenError::BadMagic { found: 0 }));
    // ... and so is garbage, whatever its slot count says.
    let junk = region(lines, 0xee);
    assert_eq!(open(junk, bytes), Err(OpenError::BadMagic { found: 0xeeee_eeee_eeee_eeee }));
}

#[test]
fn init_errors() {
    let base = region(CONTROL_LINES + 1, 0);
    // SAFETY: every call is rejected before touching memory (misaligned,
    // null, or too small), or given a fresh region of the size said.
    unsafe {
        assert_eq!(Channel::init(base.add(8), bytes_for(1) - 8, 0, 1).err(), Some(OpenError::Misaligned));
        assert_eq!(Channel::init(std::ptr::null_mut(), 4096, 0, 1).err(), Some(OpenError::Misaligned));
        assert_eq!(
            Channel::init(base, bytes_for(1) - 1, 0, 1).err(),
            Some(OpenError::TooSmall { bytes: bytes_for(1) - 1 })
        );
        assert_eq!(Channel::init(base, bytes_for(1), 0, 1).map(|c| c.slots()), Ok(1));
    }
}

#[test]
fn new_errors() {
    let control = Control::new(4, 0, 1);
    assert_eq!(control.header().slots, 4);
    let three = slots_vec(3);
    // SAFETY: no end is made from this channel.
    assert_eq!(unsafe { Channel::new(&control, &three) }.err(), Some(OpenError::BadSlots { header: 4, fit: 3 }));
    let zero = Control::new(0, 0, 1);
    // SAFETY: no end is made from this channel.
    assert_eq!(unsafe { Channel::new(&zero, &[]) }.err(), Some(OpenError::BadSlots { header: 0, fit: 0 }));
    let four = slots_vec(4);
    // SAFETY: no end is made from this channel.
    assert!(unsafe { Channel::new(&control, &four) }.is_ok());
}

#[test]
fn open_error_messages() {
    for e in [
        OpenError::Misaligned,
        OpenError::TooSmall { bytes: 5 },
        OpenError::BadMagic { found: 1 },
        OpenError::BadVersion { found: 9 },
        OpenError::BadSlots { header: 9, fit: 2 },
    ] {
        assert!(!e.to_string().is_empty());
    }
    assert!(OpenError::BadSlots { header: 9, fit: 2 }.to_string().contains('9'));
}

// ---------------------------------------------------------------- corruption

#[test]
fn corrupt_slot_is_reported_counted_skipped() {
    let (ch, base) = raw_channel(4);
    let mut tx = ch.sender(Polling);
    let mut rx = ch.receiver(Polling);
    for n in 0..4 {
        tx.try_send(&msg(n)).expect("room");
    }
    seq_word(base, 1).store(0xdead_beef, Ordering::Relaxed);
    assert_eq!(count(&rx.try_recv().expect("message 0")), 0);
    assert!(rx.has_pending(), "a corrupt slot is something pending");
    assert_eq!(rx.try_recv(), Err(RecvError::Corrupt { expected: 2, found: 0xdead_beef }));
    assert_eq!(rx.corrupt(), 1);
    assert_eq!(rx.received(), 2, "the corrupt slot counts as taken");
    assert_eq!(count(&rx.try_recv().expect("message 2")), 2);
    assert_eq!(count(&rx.try_recv().expect("message 3")), 3);
    assert_eq!(rx.try_recv(), Err(RecvError::Empty));
    // The skipped slot's credit came back.
    assert_eq!(tx.free(), 4);
    tx.try_send(&msg(4)).expect("room");
    assert_eq!(count(&rx.try_recv().expect("message 4")), 4);
    // The receiver is round at the slot it skipped before the sender has
    // refilled it: that slot is empty now, not garbage again.
    assert_eq!(rx.try_recv(), Err(RecvError::Empty));
    assert_eq!(rx.corrupt(), 1);
    // The stream goes on across later laps.
    for n in 5..40 {
        tx.try_send(&msg(n)).expect("room");
        assert_eq!(count(&rx.try_recv().expect("a message")), n);
        assert_eq!(rx.try_recv(), Err(RecvError::Empty));
    }
    assert_eq!(rx.corrupt(), 1);
    assert_eq!(tx.corrupt(), 0);
}

#[test]
fn corrupt_slot_in_recv_and_batches() {
    let (ch, base) = raw_channel(8);
    let mut tx = ch.sender(Polling);
    let mut rx = ch.receiver(Polling);
    assert_eq!(tx.send_batch(&(0..8).map(msg).collect::<Vec<_>>()), 8);
    // The number slot 0 holds one lap later is garbage now.
    seq_word(base, 0).store(1 + 8, Ordering::Relaxed);
    seq_word(base, 5).store(u64::MAX, Ordering::Relaxed);
    assert_eq!(rx.recv(1), Err(RecvError::Corrupt { expected: 1, found: 9 }));
    let mut got = Vec::new();
    // A batch skips the corrupt slot and goes on.
    assert_eq!(rx.recv_batch_with(6, |p| got.push(count(p))), 6);
    assert_eq!(got, [1, 2, 3, 4, 6, 7]);
    assert_eq!(rx.corrupt(), 2);
    // Slot 0 is empty, not message 8 with message 0's payload.
    assert_eq!(rx.recv_batch_with(6, |p| got.push(count(p))), 0);
    assert_eq!(rx.try_recv(), Err(RecvError::Empty));
    assert_eq!(tx.free(), 8);
    for n in 8..30 {
        tx.try_send(&msg(n)).expect("room");
        assert_eq!(count(&rx.recv(1).expect("a message")), n);
    }
    assert_eq!(rx.corrupt(), 2);
}

#[test]
fn ring_of_garbage_is_skipped_once() {
    let (ch, base) = raw_channel(4);
    let mut tx = ch.sender(Polling);
    let mut rx = ch.receiver(Polling);
    for i in 0..4 {
        seq_word(base, i).store(0x0bad_0bad_0bad_0bad, Ordering::Relaxed);
    }
    // One lap of garbage, then the slots read empty.
    for i in 0..4 {
        assert!(matches!(rx.try_recv(), Err(RecvError::Corrupt { .. })), "slot {i}");
    }
    assert_eq!(rx.try_recv(), Err(RecvError::Empty));
    assert_eq!(rx.recv_batch_with(100, |_| panic!("garbage read as a message")), 0);
    assert_eq!(rx.corrupt(), 4);
    // The receiver skipped four messages never sent: the sender's first
    // four land in slots it has passed, and the stream resumes after them.
    assert_eq!(tx.send_batch(&(0..12).map(msg).collect::<Vec<_>>()), 8);
    let mut got = Vec::new();
    assert_eq!(rx.recv_batch_with(100, |p| got.push(count(p))), 4);
    assert_eq!(got, [4, 5, 6, 7]);
    assert_eq!(rx.corrupt(), 4);
    for n in 8..20 {
        tx.try_send(&msg(n)).expect("room");
        assert_eq!(count(&rx.try_recv().expect("a message")), n);
    }
    assert_eq!(tx.corrupt(), 0);
}

#[test]
fn garbage_in_an_empty_slot_loses_the_message_sent_there() {
    let (ch, base) = raw_channel(4);
    let mut tx = ch.sender(Polling);
    let mut rx = ch.receiver(Polling);
    for n in 0..2 {
        tx.try_send(&msg(n)).expect("room");
        assert_eq!(count(&rx.try_recv().expect("a message")), n);
    }
    seq_word(base, 2).store(77, Ordering::Relaxed);
    assert_eq!(rx.try_recv(), Err(RecvError::Corrupt { expected: 3, found: 77 }));
    assert_eq!(rx.try_recv(), Err(RecvError::Empty));
    // Credits for three messages came back, two of them sent: room up to
    // message 6.
    assert_eq!(tx.send_batch(&(2..20).map(msg).collect::<Vec<_>>()), 5);
    let mut got = Vec::new();
    rx.recv_batch_with(100, |p| got.push(count(p)));
    assert_eq!(got, [3, 4, 5, 6], "message 2 went to the skipped slot");
    assert_eq!(tx.send_batch(&(7..20).map(msg).collect::<Vec<_>>()), 4);
    rx.recv_batch_with(100, |p| got.push(count(p)));
    assert_eq!(got, (3..11).collect::<Vec<_>>());
    assert_eq!(rx.corrupt(), 1);
    assert_eq!(tx.corrupt(), 0);
}

#[test]
fn corrupt_credits_are_counted_and_ignored() {
    let (ch, base) = raw_channel(4);
    let mut tx = ch.sender(Polling);
    let mut rx = ch.receiver(Polling);
    for n in 0..4 {
        tx.try_send(&msg(n)).expect("room");
    }
    // More consumed than ever sent: would let the sender overwrite all
    // four unread slots.
    consumed_word(base).store(u64::MAX, Ordering::Relaxed);
    assert_eq!(tx.try_send(&msg(99)), Err(Full));
    assert_eq!(tx.corrupt(), 1);
    consumed_word(base).store(5, Ordering::Relaxed);
    assert_eq!(tx.free(), 0);
    assert_eq!(tx.corrupt(), 2);
    assert_eq!(tx.send_batch(&[msg(99), msg(99)]), 0);
    // Nothing unread was overwritten.
    for n in 0..4 {
        assert_eq!(count(&rx.try_recv().expect("a message")), n);
    }
    assert_eq!(rx.try_recv(), Err(RecvError::Empty));
    // The receiver's true value replaces the garbage.
    assert_eq!(tx.free(), 4);
    let before = tx.corrupt();
    assert_eq!(before, 3, "each reload of garbage counts");
    for n in 4..8 {
        tx.try_send(&msg(n)).expect("room");
    }
    // Now 4 unread again; a value far behind (more than a ring) is garbage.
    consumed_word(base).store(0, Ordering::Relaxed);
    assert_eq!(tx.try_send(&msg(99)), Err(Full));
    assert_eq!(tx.corrupt(), before + 1);
    for n in 4..8 {
        assert_eq!(count(&rx.try_recv().expect("a message")), n);
    }
    assert_eq!(rx.try_recv(), Err(RecvError::Empty));
    assert_eq!(tx.corrupt(), before + 1);
}

#[test]
fn credits_never_go_back() {
    let (ch, base) = raw_channel(4);
    let mut tx = ch.sender(Polling);
    let mut rx = ch.receiver(Polling);
    for n in 0..4 {
        tx.try_send(&msg(n)).expect("room");
        assert_eq!(count(&rx.try_recv().expect("a message")), n);
    }
    assert_eq!(rx.try_recv(), Err(RecvError::Empty));
    assert_eq!(tx.free(), 4); // accepted consumed = 4
                              // A value within a ring of `sent` but below one already accepted: the
                              // receiver never un-consumes, so it is garbage. Trusting it would leave
                              // the sender short of credits the receiver will never hand back again
                              // (it has returned all it owes), a deadlock.
    consumed_word(base).store(1, Ordering::Relaxed);
    assert_eq!(tx.free(), 4);
    assert_eq!(tx.corrupt(), 1);
    for n in 4..8 {
        tx.try_send(&msg(n)).expect("room");
    }
    for n in 4..8 {
        assert_eq!(count(&rx.try_recv().expect("a message")), n);
    }
    assert_eq!(rx.try_recv(), Err(RecvError::Empty));
    assert_eq!(tx.free(), 4);
}

// ---------------------------------------------------------------- wake handshake

#[test]
fn receiver_doorbell() {
    let (ch, base) = raw_channel(4);
    let tx_n = Recorder::new(0x11);
    let rx_n = Recorder::new(ARMED | 0x22); // the ARMED bit is not the target's
    let mut tx = ch.sender(&tx_n);
    let mut rx = ch.receiver(&rx_n);

    tx.try_send(&msg(0)).expect("room");
    assert!(tx_n.rang().is_empty(), "nobody armed, nobody rung");
    assert!(rx.arm(), "a message waits: do not sleep");
    rx.disarm();
    rx.try_recv().expect("message 0");

    assert!(!rx.arm(), "empty: sleep");
    assert_eq!(consumer_wake_word(base).load(Ordering::Relaxed), ARMED | 0x22);
    tx.try_send(&msg(1)).expect("room");
    assert_eq!(tx_n.rang(), [0x22]);
    // Each publish rings while armed; a batch rings once.
    assert_eq!(tx.send_batch(&[msg(2), msg(3)]), 2);
    assert_eq!(tx_n.rang(), [0x22, 0x22]);
    rx.disarm();
    assert_eq!(consumer_wake_word(base).load(Ordering::Relaxed), 0);
    assert_eq!(rx.recv_batch(&mut [[0; PAYLOAD]; 1]), 1);
    tx.try_send(&msg(4)).expect("room");
    assert_eq!(tx_n.rang().len(), 2, "disarmed: no ring");
    assert_eq!(tx.send_batch(&[]), 0);
    assert_eq!(tx_n.rang().len(), 2);
    assert!(rx_n.rang().is_empty(), "the sender never slept");
}

#[test]
fn sender_doorbell() {
    let (ch, base) = raw_channel(2); // credit batch 1
    let tx_n = Recorder::new(0x33);
    let rx_n = Recorder::new(0x44);
    let mut tx = ch.sender(&tx_n);
    let mut rx = ch.receiver(&rx_n);
    assert!(tx.arm(), "room: do not sleep");
    tx.disarm();
    tx.try_send(&msg(0)).expect("room");
    tx.try_send(&msg(1)).expect("room");
    assert!(!tx.arm(), "full: sleep");
    assert_eq!(producer_wake_word(base).load(Ordering::Relaxed), ARMED | 0x33);
    rx.try_recv().expect("message 0");
    assert_eq!(rx_n.rang(), [0x33], "credits returned wake the sender");
    tx.disarm();
    assert_eq!(producer_wake_word(base).load(Ordering::Relaxed), 0);
    rx.try_recv().expect("message 1");
    assert_eq!(rx_n.rang(), [0x33], "disarmed: no ring");
    // Credits returned while the sender was not looking are found on
    // arming: do not sleep.
    assert!(tx.arm());
    tx.disarm();
    assert_eq!(tx.free(), 2);
    assert_eq!(rx.try_recv(), Err(RecvError::Empty));
    assert_eq!(rx_n.rang(), [0x33], "nothing owed: nobody rung");
}

#[test]
fn polling_never_touches_the_doorbells() {
    let (ch, base) = raw_channel(1);
    let mut tx = ch.sender(Polling);
    let mut rx = ch.receiver(Polling);
    assert!(!rx.arm());
    tx.try_send(&msg(0)).expect("room");
    assert!(!tx.arm());
    assert!(rx.arm());
    assert_eq!(consumer_wake_word(base).load(Ordering::Relaxed), 0);
    assert_eq!(producer_wake_word(base).load(Ordering::Relaxed), 0);
    *tx.notifier_mut() = Polling;
    *rx.notifier_mut() = Polling;
}

// ---------------------------------------------------------------- two threads

/// Deadline for two-thread tests; a lost wake-up fails instead of hanging.
const GUARD: Duration = Duration::from_secs(60);

/// Joins `handle`, failing if it does not finish by `deadline`.
fn join_by<T>(handle: thread::JoinHandle<T>, deadline: Instant, what: &str) -> T {
    while !handle.is_finished() {
        assert!(Instant::now() < deadline, "{what} did not finish in time: lost wake-up or livelock");
        thread::sleep(Duration::from_millis(5));
    }
    handle.join().unwrap_or_else(|_| panic!("{what} panicked"))
}

#[test]
fn two_threads_polling_million() {
    const N: u64 = 1_000_000;
    let mem = Arc::new(Mem::new(61));
    let deadline = Instant::now() + GUARD;
    let m = Arc::clone(&mem);
    let sender = thread::spawn(move || {
        let mut tx = m.channel().sender(Polling);
        for n in 0..N {
            tx.send(&msg(n), 64);
        }
        tx.corrupt()
    });
    let m = Arc::clone(&mem);
    let receiver = thread::spawn(move || {
        let mut rx = m.channel().receiver(Polling);
        for n in 0..N {
            let p = rx.recv(64).expect("no corruption");
            assert_eq!(u64::from_le_bytes(p[..8].try_into().expect("8 bytes")), n, "order");
            if n % 4096 == 0 {
                assert_eq!(count(&p), n);
            }
        }
        assert_eq!(rx.try_recv(), Err(RecvError::Empty));
        rx.corrupt()
    });
    assert_eq!(join_by(sender, deadline, "sender"), 0);
    assert_eq!(join_by(receiver, deadline, "receiver"), 0);
}

/// The doorbells of two threads: `notify(t)` leaves a token for end `t`
/// and unparks its thread; `wait` sleeps until its token is there.
struct Board {
    threads: [OnceLock<Thread>; 2],
    token: [AtomicBool; 2],
    notifies: AtomicU64,
    sleeps: AtomicU64,
}

impl Board {
    fn new() -> Arc<Self> {
        Arc::new(Board {
            threads: [OnceLock::new(), OnceLock::new()],
            token: [AtomicBool::new(false), AtomicBool::new(false)],
            notifies: AtomicU64::new(0),
            sleeps: AtomicU64::new(0),
        })
    }
}

/// A blocking notifier for the ends thread `me` (0 or 1) holds.
#[derive(Clone)]
struct Park {
    me: usize,
    board: Arc<Board>,
    /// How long one wait may last before the wake-up counts as lost.
    patience: Duration,
}

impl Notifier for Park {
    fn interrupts(&self) -> bool {
        true
    }
    fn target(&self) -> u64 {
        self.me as u64
    }
    fn notify(&self, target: u64) {
        let t = target as usize;
        self.board.notifies.fetch_add(1, Ordering::Relaxed);
        self.board.token[t].store(true, Ordering::SeqCst);
        self.board.threads[t].get().expect("peer registered").unpark();
    }
    fn wait(&self) {
        self.board.sleeps.fetch_add(1, Ordering::Relaxed);
        let deadline = Instant::now() + self.patience;
        while !self.board.token[self.me].swap(false, Ordering::SeqCst) {
            let now = Instant::now();
            assert!(now < deadline, "end {} slept {:?} without a wake-up: lost", self.me, self.patience);
            thread::park_timeout(deadline - now);
        }
    }
}

#[test]
fn two_threads_blocking_no_lost_wake_up() {
    const N: u64 = 200_000;
    let mem = Arc::new(Mem::new(3));
    let board = Board::new();
    let ready = Arc::new(Barrier::new(2));
    let deadline = Instant::now() + GUARD;
    let patience = Duration::from_secs(20);

    let (m, b, r) = (Arc::clone(&mem), Arc::clone(&board), Arc::clone(&ready));
    let sender = thread::spawn(move || {
        b.threads[0].set(thread::current()).expect("once");
        r.wait();
        let mut tx = m.channel().sender(Park { me: 0, board: b, patience });
        for n in 0..N {
            // Few spins: make the ends sleep often.
            tx.send(&msg(n), 2);
        }
    });
    let (m, b, r) = (Arc::clone(&mem), Arc::clone(&board), Arc::clone(&ready));
    let receiver = thread::spawn(move || {
        b.threads[1].set(thread::current()).expect("once");
        r.wait();
        let mut rx = m.channel().receiver(Park { me: 1, board: b, patience });
        for n in 0..N {
            assert_eq!(count(&rx.recv(2).expect("no corruption")), n);
        }
        assert_eq!(rx.try_recv(), Err(RecvError::Empty));
    });
    join_by(sender, deadline, "sender");
    join_by(receiver, deadline, "receiver");
    let sleeps = board.sleeps.load(Ordering::Relaxed);
    let notifies = board.notifies.load(Ordering::Relaxed);
    eprintln!("blocking: {N} messages, {sleeps} sleeps, {notifies} notifies");
    assert!(sleeps > 0 && notifies > 0, "the ends never slept: the test proved nothing");
}

/// Ping-pong over two channels: every message is the last one for a while
/// (its sender then waits for the answer), so a single lost wake-up of
/// either receiver leaves both threads asleep, and fails the test.
#[test]
fn ping_pong_blocking_no_lost_wake_up() {
    const N: u64 = 30_000;
    let there = Arc::new(Mem::new(1));
    let back = Arc::new(Mem::new(2));
    let board = Board::new();
    let ready = Arc::new(Barrier::new(2));
    let deadline = Instant::now() + GUARD;
    let patience = Duration::from_secs(20);

    let (t, b2, bd, r) = (Arc::clone(&there), Arc::clone(&back), Arc::clone(&board), Arc::clone(&ready));
    let ping = thread::spawn(move || {
        bd.threads[0].set(thread::current()).expect("once");
        r.wait();
        let park = Park { me: 0, board: bd, patience };
        let mut tx = t.channel().sender(park.clone());
        let mut rx = b2.channel().receiver(park);
        for n in 0..N {
            tx.send(&msg(n), 1);
            assert_eq!(count(&rx.recv(1).expect("no corruption")), n);
        }
    });
    let (t, b2, bd, r) = (Arc::clone(&there), Arc::clone(&back), Arc::clone(&board), Arc::clone(&ready));
    let pong = thread::spawn(move || {
        bd.threads[1].set(thread::current()).expect("once");
        r.wait();
        let park = Park { me: 1, board: bd, patience };
        let mut rx = t.channel().receiver(park.clone());
        let mut tx = b2.channel().sender(park);
        for _ in 0..N {
            let p = rx.recv(1).expect("no corruption");
            tx.send(&p, 1);
        }
    });
    join_by(ping, deadline, "ping");
    join_by(pong, deadline, "pong");
    let sleeps = board.sleeps.load(Ordering::Relaxed);
    eprintln!("ping-pong: {N} round trips, {sleeps} sleeps");
    assert!(sleeps > 0, "the ends never slept: the test proved nothing");
}

// ---------------------------------------------------------------- properties

mod model {
    //! The ring against a `VecDeque` of messages in flight, with the
    //! receiver's credit rule modelled exactly:
    //!
    //! * `returned` (the `consumed` the sender can see) becomes `received`
    //!   when a message taken leaves `batch = max(slots / 4, 1)` owed, when
    //!   `try_recv` finds the ring empty, and at the end of every batch
    //!   receive.
    //! * A send succeeds exactly when `sent - returned < slots` (the sender
    //!   reloads `consumed` when its cached credits run out), so never when
    //!   more than `slots - 1` are in flight; a batch send sends
    //!   `min(k, slots - (sent - returned))`.
    //! * `free()` is `slots - (sent - returned)`; after the receiver found
    //!   the ring empty that is `slots` minus the messages in flight.
    //! * Receives give the model's messages in order; `has_pending` says
    //!   whether any is in flight.

    use super::{count, msg, region, seq_word, Mem, RecvError};
    use channel::{bytes_for, Channel, Payload, Polling, CONTROL_LINES, PAYLOAD};
    use proptest::prelude::*;
    use std::collections::VecDeque;
    use std::sync::atomic::Ordering;

    #[derive(Debug, Clone)]
    enum Op {
        Send,
        SendWith,
        SendBatch(usize),
        SendBatchWith(usize),
        Recv,
        RecvWith,
        RecvBatch(usize),
        RecvBatchWith(usize),
        Free,
        Pending,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => Just(Op::Send),
            1 => Just(Op::SendWith),
            3 => (0..20usize).prop_map(Op::SendBatch),
            1 => (0..20usize).prop_map(Op::SendBatchWith),
            4 => Just(Op::Recv),
            1 => Just(Op::RecvWith),
            3 => (0..20usize).prop_map(Op::RecvBatch),
            1 => (0..20usize).prop_map(Op::RecvBatchWith),
            1 => Just(Op::Free),
            1 => Just(Op::Pending),
        ]
    }

    struct Model {
        slots: u64,
        batch: u64,
        queue: VecDeque<u64>,
        sent: u64,
        received: u64,
        returned: u64,
    }

    impl Model {
        fn room(&self) -> u64 {
            self.slots - (self.sent - self.returned)
        }
        fn send(&mut self) -> u64 {
            assert!(self.queue.len() < self.slots as usize, "a send into a full model");
            self.queue.push_back(self.sent);
            self.sent += 1;
            self.sent - 1
        }
        /// One message taken, `None` if empty (which returns credits).
        fn recv(&mut self) -> Option<u64> {
            match self.queue.pop_front() {
                Some(n) => {
                    self.received += 1;
                    if self.received - self.returned >= self.batch {
                        self.returned = self.received;
                    }
                    Some(n)
                }
                None => {
                    self.returned = self.received;
                    None
                }
            }
        }
    }

    fn check_recv(got: Result<Payload, RecvError>, want: Option<u64>) -> Result<(), TestCaseError> {
        match want {
            Some(n) => prop_assert_eq!(count(&got.map_err(|e| TestCaseError::fail(format!("{e:?}")))?), n),
            None => prop_assert_eq!(got, Err(RecvError::Empty)),
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 512,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn ring_follows_the_model(
            slots in prop::sample::select(vec![1usize, 2, 3, 4, 5, 7, 8, 9, 13, 16]),
            ops in prop::collection::vec(op(), 0..200),
        ) {
            let mem = Mem::new(slots);
            let ch = mem.channel();
            let mut tx = ch.sender(Polling);
            let mut rx = ch.receiver(Polling);
            let mut m = Model {
                slots: slots as u64,
                batch: (slots as u64 / 4).max(1),
                queue: VecDeque::new(),
                sent: 0,
                received: 0,
                returned: 0,
            };
            for op in ops {
                match op {
                    Op::Send | Op::SendWith => {
                        let ok = m.room() > 0;
                        let n = m.sent;
                        let r = if matches!(op, Op::Send) {
                            tx.try_send(&msg(n))
                        } else {
                            tx.try_send_with(|p| *p = msg(n))
                        };
                        prop_assert_eq!(r.is_ok(), ok, "send with {} in flight, {} returned", m.queue.len(), m.returned);
                        if ok {
                            m.send();
                        }
                    }
                    Op::SendBatch(k) | Op::SendBatchWith(k) => {
                        let want = (k as u64).min(m.room()) as usize;
                        let first = m.sent;
                        let done = if matches!(op, Op::SendBatch(_)) {
                            let msgs: Vec<Payload> = (0..k as u64).map(|i| msg(first + i)).collect();
                            tx.send_batch(&msgs)
                        } else {
                            tx.send_batch_with(k, |i, p| *p = msg(first + i as u64))
                        };
                        prop_assert_eq!(done, want);
                        for _ in 0..done {
                            m.send();
                        }
                    }
                    Op::Recv => {
                        let was_empty = m.queue.is_empty();
                        let want = m.recv();
                        check_recv(rx.try_recv(), want)?;
                        if was_empty {
                            // Credits flushed: the sender sees exactly the
                            // room the model has.
                            prop_assert_eq!(tx.free(), slots - m.queue.len());
                        }
                    }
                    Op::RecvWith => {
                        let want = m.recv();
                        let got = rx.try_recv_with(count);
                        match want {
                            Some(n) => prop_assert_eq!(got, Ok(n)),
                            None => prop_assert_eq!(got, Err(RecvError::Empty)),
                        }
                    }
                    Op::RecvBatch(k) | Op::RecvBatchWith(k) => {
                        let mut want = Vec::new();
                        while want.len() < k {
                            match m.queue.pop_front() {
                                Some(n) => want.push(n),
                                None => break,
                            }
                        }
                        m.received += want.len() as u64;
                        m.returned = m.received; // a batch always returns credits
                        let got: Vec<u64> = if matches!(op, Op::RecvBatch(_)) {
                            let mut out = vec![[0u8; PAYLOAD]; k];
                            let n = rx.recv_batch(&mut out);
                            out[..n].iter().map(count).collect()
                        } else {
                            let mut got = Vec::new();
                            rx.recv_batch_with(k, |p| got.push(count(p)));
                            got
                        };
                        prop_assert_eq!(got, want);
                        prop_assert_eq!(tx.free(), slots - m.queue.len());
                    }
                    Op::Free => {
                        prop_assert_eq!(tx.free() as u64, m.room());
                    }
                    Op::Pending => {
                        prop_assert_eq!(rx.has_pending(), !m.queue.is_empty());
                    }
                }
                prop_assert!(m.queue.len() <= slots);
                prop_assert!(m.sent - m.returned <= m.slots);
                prop_assert_eq!(tx.sent(), m.sent);
                prop_assert_eq!(rx.received(), m.received);
                prop_assert_eq!(tx.corrupt(), 0);
                prop_assert_eq!(rx.corrupt(), 0);
            }
            // Drain: everything in flight arrives, in order.
            while let Some(n) = m.recv() {
                check_recv(rx.try_recv(), Some(n))?;
            }
            prop_assert_eq!(rx.try_recv(), Err(RecvError::Empty));
            prop_assert_eq!(tx.free(), slots);
        }

        #[test]
        fn one_corrupt_slot_loses_one_message(
            slots in 1usize..12,
            // Messages sent before the corruption, and which unread one is hit.
            before in 0u64..40,
            hit in 0usize..12,
            garbage in any::<u64>(),
        ) {
            let base = region(CONTROL_LINES + slots, 0);
            // SAFETY: fresh leaked region of exactly that many lines.
            let ch = unsafe { Channel::init(base, bytes_for(slots), 0, 1) }.expect("init");
            let mut tx = ch.sender(Polling);
            let mut rx = ch.receiver(Polling);
            // Run the ring to an arbitrary phase, then fill it.
            for n in 0..before {
                tx.try_send(&msg(n)).expect("room");
                prop_assert_eq!(count(&rx.try_recv().expect("a message")), n);
            }
            prop_assert_eq!(rx.try_recv(), Err(RecvError::Empty));
            for n in before..before + slots as u64 {
                tx.try_send(&msg(n)).expect("room");
            }
            let lost = before + (hit % slots) as u64;
            let (expected, empty) = (lost + 1, (lost + 1).saturating_sub(slots as u64));
            prop_assume!(garbage != expected && garbage != empty);
            seq_word(base, (lost % slots as u64) as usize).store(garbage, Ordering::Relaxed);
            let mut got = Vec::new();
            let mut empty = false;
            // Bounded: a receiver that kept finding garbage fails, not hangs.
            for _ in 0..2 * slots + 2 {
                match rx.try_recv() {
                    Ok(p) => got.push(count(&p)),
                    Err(RecvError::Corrupt { expected: e, found }) => {
                        prop_assert_eq!((e, found), (expected, garbage));
                    }
                    Err(RecvError::Empty) => {
                        empty = true;
                        break;
                    }
                }
            }
            prop_assert!(empty, "the receiver never found the ring empty");
            let want: Vec<u64> = (before..before + slots as u64).filter(|&n| n != lost).collect();
            prop_assert_eq!(got, want);
            prop_assert_eq!(rx.corrupt(), 1);
            // The stream goes on.
            prop_assert_eq!(tx.free(), slots);
            for n in before + slots as u64..before + 3 * slots as u64 {
                tx.try_send(&msg(n)).expect("room");
                prop_assert_eq!(count(&rx.try_recv().expect("a message")), n);
            }
            prop_assert_eq!(tx.corrupt(), 0);
        }
    }
}

#[test]
fn recv_into_fills_the_callers_buffer_and_leaves_it_alone_when_empty() {
    let mem = Mem::new(4);
    let ch = mem.channel();
    let (mut tx, mut rx) = (ch.sender(Polling), ch.receiver(Polling));
    let mut out = [0xaau8; PAYLOAD];
    assert_eq!(rx.recv_into(&mut out), Err(RecvError::Empty));
    assert_eq!(out, [0xaa; PAYLOAD], "an empty ring writes nothing");
    for n in 0..10 {
        assert!(tx.try_send(&msg(n)).is_ok());
        assert_eq!(rx.recv_into(&mut out), Ok(()));
        assert_eq!(count(&out), n);
    }
}
