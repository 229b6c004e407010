//! The message channel over memory another node wrote: the receiving and
//! sending ends must survive any header, any sequence words and any
//! credits, never panic and never loop, and with a consistent region and
//! no interference they must deliver exactly what was sent.
//!
//! Input: the first [`REGION`] bytes are the channel region as it lies in
//! memory (header, consumer and producer lines, [`MAX_SLOTS`] slots),
//! zero-padded if shorter. The rest is a script run by one receiver and
//! one sender over that region, with a hostile peer's writes in between
//! (see [`Op`]); after it both ends drain the ring.

#![no_main]

use channel::{bytes_for, Channel, Polling, Receiver, RecvError, Sender, CONTROL_LINES, LINE, PAYLOAD};
use core::sync::atomic::{AtomicU64, Ordering};
use libfuzzer_sys::fuzz_target;
use message::{Message, StreamData};

/// Slots the region has room for (the header picks how many are used).
const MAX_SLOTS: usize = 8;
/// Bytes of the region.
const REGION: usize = bytes_for(MAX_SLOTS);
/// Most script steps run.
const MAX_OPS: usize = 512;
/// Byte offset of the consumer line's `consumed` and `wake` words, and of
/// the producer line's `wake` word.
const CONSUMED: usize = LINE;
const CONSUMER_WAKE: usize = LINE + 8;
const PRODUCER_WAKE: usize = 2 * LINE;

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u8; LINE]);

/// Byte offset of slot `i`'s sequence word.
fn seq_at(i: usize) -> usize {
    (CONTROL_LINES + i) * LINE + PAYLOAD
}

fn le64(b: &[u8], at: usize) -> u64 {
    let mut w = [0; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// Script bytes, read as needed; zeros once they run out.
struct Script<'d>(&'d [u8]);

impl Script<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn u64(&mut self) -> u64 {
        let mut w = [0; 8];
        for b in &mut w {
            *b = self.byte();
        }
        u64::from_le_bytes(w)
    }
}

/// One script step.
enum Op {
    /// `try_recv` once.
    Recv,
    /// `recv_batch` of 1 to 16.
    RecvBatch(usize),
    /// `try_send` the next stream message.
    Send,
    /// `send_batch` of 1 to 16 stream messages.
    SendBatch(usize),
    /// `free`, `has_pending`, `arm` and `disarm` on both ends.
    Query,
    /// The peer overwrites a slot's sequence word.
    PokeSeq { slot: usize, value: Poke },
    /// The peer overwrites `consumed`.
    PokeConsumed(Poke),
    /// The peer overwrites one payload byte.
    PokePayload { slot: usize, offset: usize, value: u8 },
    /// The peer overwrites a `wake` word.
    PokeWake { producer: bool, value: u64 },
}

/// A value the peer writes, relative to where the ends are so that the
/// plausible-but-wrong values the checks must catch are easy to reach.
#[derive(Clone, Copy)]
enum Poke {
    /// The receiver's next expected sequence number plus a small offset
    /// (in slots or single steps), or the sender's count plus one.
    Relative {
        laps: u8,
        step: i8,
    },
    Absolute(u64),
}

impl Op {
    fn read(s: &mut Script<'_>, slots: usize) -> Op {
        match s.byte() % 9 {
            0 => Op::Recv,
            1 => Op::RecvBatch(usize::from(s.byte() % 16) + 1),
            2 => Op::Send,
            3 => Op::SendBatch(usize::from(s.byte() % 16) + 1),
            4 => Op::Query,
            5 => Op::PokeSeq { slot: usize::from(s.byte()) % slots, value: Poke::read(s) },
            6 => Op::PokeConsumed(Poke::read(s)),
            7 => Op::PokePayload {
                slot: usize::from(s.byte()) % slots,
                offset: usize::from(s.byte()) % PAYLOAD,
                value: s.byte(),
            },
            _ => Op::PokeWake { producer: s.byte() & 1 != 0, value: s.u64() },
        }
    }
}

impl Poke {
    fn read(s: &mut Script<'_>) -> Poke {
        let b = s.byte();
        if b & 0x80 != 0 {
            Poke::Absolute(s.u64())
        } else {
            Poke::Relative { laps: (b >> 4) & 0x7, step: (b & 0xf) as i8 - 8 }
        }
    }

    fn value(self, base: u64, slots: usize) -> u64 {
        match self {
            Poke::Relative { laps, step } => {
                base.wrapping_add(u64::from(laps).wrapping_mul(slots as u64)).wrapping_add_signed(i64::from(step))
            }
            Poke::Absolute(v) => v,
        }
    }
}

/// The two ends, the region under them and what a clean run must show.
struct Harness<'a> {
    base: *mut u8,
    rx: Receiver<'a, Polling>,
    tx: Sender<'a, Polling>,
    slots: usize,
    /// The region was consistent and nothing has interfered since: every
    /// message must arrive once, in order, intact.
    clean: bool,
    /// Stream messages the receiver accepted, if clean.
    delivered: u64,
}

impl Harness<'_> {
    /// A word of the region as the atomic the channel treats it as.
    fn word(&self, offset: usize) -> &AtomicU64 {
        debug_assert!(offset.is_multiple_of(8) && offset + 8 <= REGION);
        // SAFETY: `offset` is 8-aligned and inside the region (the region
        // is 64-aligned and REGION bytes); the channel only ever accesses
        // these words (sequence words, `consumed`, `wake`) atomically, and
        // everything here runs on one thread.
        unsafe { AtomicU64::from_ptr(self.base.add(offset).cast::<u64>()) }
    }

    fn message(seq: u64) -> message::Payload {
        Message::StreamData(StreamData::new(seq, 0, 1)).encode()
    }

    fn check_received(&mut self, p: &message::Payload) {
        let decoded = message::decode(p);
        if !self.clean {
            return;
        }
        match decoded {
            Ok(Message::StreamData(d)) => {
                assert_eq!(d.seq.get(), self.delivered, "clean channel delivered out of order");
                assert!(d.data_ok(), "clean channel damaged message {}", self.delivered);
                self.delivered += 1;
            }
            other => panic!("clean channel delivered {other:?} as message {}", self.delivered),
        }
    }

    fn recv(&mut self) {
        match self.rx.try_recv() {
            Ok(p) => self.check_received(&p),
            Err(RecvError::Empty) => self.check_credits(),
            Err(e @ RecvError::Corrupt { .. }) => assert!(!self.clean, "clean channel reported {e:?}"),
        }
    }

    fn recv_batch(&mut self, n: usize) {
        let mut out = [[0; PAYLOAD]; 16];
        let got = self.rx.recv_batch(&mut out[..n]);
        assert!(got <= n, "recv_batch took {got} of {n}");
        for p in &out[..got] {
            self.check_received(p);
        }
        // recv_batch always hands its credits back.
        self.check_credits();
    }

    fn send(&mut self) {
        let sent = self.tx.sent();
        if self.tx.try_send(&Self::message(sent)).is_ok() {
            assert_eq!(self.tx.sent(), sent + 1);
        } else {
            assert_eq!(self.tx.sent(), sent);
        }
    }

    fn send_batch(&mut self, n: usize) {
        let first = self.tx.sent();
        let done = self.tx.send_batch_with(n, |i, p| *p = Self::message(first + i as u64));
        assert!(done <= n);
        assert_eq!(self.tx.sent(), first + done as u64);
    }

    /// After the receiver returned every credit, the sender sees exactly
    /// the slots not holding unread messages.
    fn check_credits(&mut self) {
        let free = self.tx.free();
        assert!(free <= self.slots, "sender thinks {free} of {} slots are free", self.slots);
        if self.clean {
            let unread = self.tx.sent() - self.rx.received();
            assert_eq!(free as u64, self.slots as u64 - unread, "credits lost on a clean channel");
            assert_eq!(self.tx.corrupt() + self.rx.corrupt(), 0);
        }
    }

    fn step(&mut self, op: Op) {
        match op {
            Op::Recv => self.recv(),
            Op::RecvBatch(n) => self.recv_batch(n),
            Op::Send => self.send(),
            Op::SendBatch(n) => self.send_batch(n),
            Op::Query => {
                let free = self.tx.free();
                assert!(free <= self.slots);
                let _ = self.rx.has_pending();
                let _ = self.rx.arm();
                self.rx.disarm();
                let _ = self.tx.arm();
                self.tx.disarm();
            }
            Op::PokeSeq { slot, value } => {
                let v = value.value(self.rx.received() + 1, self.slots);
                self.word(seq_at(slot)).store(v, Ordering::Release);
                self.clean = false;
            }
            Op::PokeConsumed(value) => {
                let v = value.value(self.tx.sent() + 1, self.slots);
                self.word(CONSUMED).store(v, Ordering::Release);
                self.clean = false;
            }
            Op::PokePayload { slot, offset, value } => {
                // SAFETY: inside slot `slot`'s payload, which is inside the
                // region; payloads sit in an UnsafeCell and nothing borrows
                // one across this write (one thread).
                unsafe { self.base.add((CONTROL_LINES + slot) * LINE + offset).write_volatile(value) };
                self.clean = false;
            }
            Op::PokeWake { producer, value } => {
                // Polling ends never look at the doorbells; still the
                // peer's to scribble on.
                let at = if producer { PRODUCER_WAKE } else { CONSUMER_WAKE };
                self.word(at).store(value, Ordering::Relaxed);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (region, script) = data.split_at(data.len().min(REGION));
    let mut lines = Box::new([Line([0; LINE]); REGION / LINE]);
    for (line, chunk) in lines.iter_mut().zip(region.chunks(LINE)) {
        line.0[..chunk.len()].copy_from_slice(chunk);
    }
    // Consistent: no credits taken, every used slot never written.
    let bytes: Vec<u8> = lines.iter().flat_map(|l| l.0).collect();
    let header_slots = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]) as usize;
    let clean = le64(&bytes, CONSUMED) == 0 && (0..header_slots.min(MAX_SLOTS)).all(|i| le64(&bytes, seq_at(i)) == 0);

    // Every access below goes through `base`; `lines` is not touched again
    // until the channel is gone.
    let base = lines.as_mut_ptr().cast::<u8>();
    // SAFETY: `base` is 64-byte aligned (`Line`) and valid for REGION bytes
    // for as long as the channel lives (`lines` outlives it and is not used
    // meanwhile); this one thread is its only sender and receiver.
    let ch = match unsafe { Channel::open(base, REGION) } {
        Ok(ch) => ch,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let slots = ch.slots();
    assert!((1..=MAX_SLOTS).contains(&slots), "opened with {slots} slots");
    let mut h = Harness { base, rx: ch.receiver(Polling), tx: ch.sender(Polling), slots, clean, delivered: 0 };

    let mut s = Script(script);
    for _ in 0..MAX_OPS {
        if s.0.is_empty() {
            break;
        }
        let op = Op::read(&mut s, slots);
        h.step(op);
    }

    // Drain: everything still in the ring (and whatever garbage the region
    // holds) in at most four laps, then fill it and drain it again.
    for _ in 0..4 * slots {
        h.recv();
    }
    h.recv_batch(16);
    for _ in 0..=slots {
        h.send();
    }
    for _ in 0..2 {
        h.recv_batch(16);
    }
    if h.clean {
        assert_eq!(h.delivered, h.tx.sent(), "clean channel lost messages");
        assert!(!h.rx.has_pending());
    }
    // `h` (and the channel in it) goes out of scope before `lines`.
});
