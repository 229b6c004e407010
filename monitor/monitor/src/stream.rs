//! Test streams: what a sender puts on a channel during a phase, and how a
//! receiver judges what arrives.

use message::le::{U32, U64};
use message::{Frame, Kind, Message, Payload, StreamData, TestReport, VERSION};

/// Frames each stream sender forges on purpose, one of each kind of damage
/// (bad checksum, wrong version, unknown kind, wrong length); the receiver
/// must reject and count every one, and lose nothing else.
pub const INJECTED: u32 = 4;

/// The `i`-th forged frame of a stream (`i < INJECTED`).
pub fn forged(i: u32, seq: u64, from: u32, to: u32) -> Payload {
    let good = Message::StreamData(StreamData::new(seq, from, to)).encode();
    let mut f = Frame::new(Kind::StreamData, &good[message::HEADER..]);
    match i {
        0 => {
            let mut p = f.seal();
            p[message::HEADER + 3] ^= 0x5a; // damaged after sealing
            return p;
        }
        1 => f.version = VERSION.wrapping_add(1),
        2 => f.kind = 0xee,
        _ => f.len = 17,
    }
    f.seal()
}

/// The sending side of one stream in the current phase.
#[derive(Debug, Default, Clone, Copy)]
pub struct StreamTx {
    pub next: u64,
    pub end: u64,
    /// Forged frames sent so far; frame `i` goes before message `inject_at(i)`.
    pub injected: u32,
    first: u64,
}

impl StreamTx {
    /// A stream of `count` messages numbered from `first`.
    pub fn new(first: u64, count: u64) -> StreamTx {
        StreamTx { next: first, end: first.saturating_add(count), injected: 0, first }
    }

    fn inject_at(&self, i: u32) -> u64 {
        let count = u128::from(self.end - self.first);
        self.first + (count * u128::from(i + 1) / u128::from(INJECTED + 1)) as u64
    }

    /// Frames still to send, forged ones included.
    pub fn remaining(&self) -> u64 {
        let forged = if self.end == self.first { 0 } else { INJECTED - self.injected.min(INJECTED) };
        self.end.saturating_sub(self.next) + u64::from(forged)
    }

    /// Whether everything has been sent.
    pub fn done(&self) -> bool {
        self.next >= self.end && (self.injected >= INJECTED || self.end == self.first)
    }

    /// The next frame to send, if any, and advances.
    pub fn next_frame(&mut self, from: u32, to: u32) -> Option<Payload> {
        if self.done() {
            return None;
        }
        if self.injected < INJECTED && self.next >= self.inject_at(self.injected) {
            self.injected += 1;
            return Some(forged(self.injected - 1, self.next, from, to));
        }
        let p = Message::StreamData(StreamData::new(self.next, from, to)).encode();
        self.next += 1;
        Some(p)
    }
}

/// The receiving side of one stream in the current phase.
#[derive(Debug, Default, Clone, Copy)]
pub struct StreamRx {
    pub active: bool,
    first: u64,
    end: u64,
    expected: u64,
    pub received: u32,
    pub lost: u32,
    pub duplicated: u32,
    pub reordered: u32,
    pub bad_data: u32,
    pub first_at: u64,
    pub last_at: u64,
}

impl StreamRx {
    /// Expects `count` messages numbered from `first`.
    pub fn new(first: u64, count: u64) -> StreamRx {
        StreamRx { active: true, first, end: first.saturating_add(count), expected: first, ..StreamRx::default() }
    }

    /// Judges one stream message that arrived at counter value `now`.
    pub fn accept(&mut self, d: &StreamData, now: u64) {
        if self.received == 0 && self.lost == 0 {
            self.first_at = now;
        }
        self.last_at = now;
        let seq = d.seq.get();
        if !d.data_ok() || seq < self.first || seq >= self.end {
            self.bad_data = self.bad_data.saturating_add(1);
        } else if seq == self.expected {
            self.received = self.received.saturating_add(1);
            self.expected += 1;
        } else if seq > self.expected {
            self.lost = self.lost.saturating_add(u32::try_from(seq - self.expected).unwrap_or(u32::MAX));
            self.received = self.received.saturating_add(1);
            self.expected = seq + 1;
        } else if self.lost > 0 {
            // An earlier number after a later one: it was counted lost.
            self.lost -= 1;
            self.reordered = self.reordered.saturating_add(1);
            self.received = self.received.saturating_add(1);
        } else {
            self.duplicated = self.duplicated.saturating_add(1);
        }
    }

    /// Whether the whole stream has been seen (in whatever order).
    pub fn complete(&self) -> bool {
        !self.active || self.expected >= self.end
    }

    /// The verdict, for the coordinator.
    pub fn report(&self, test: u32, mode: u32, from: u32, to: u32, rejected: u32) -> TestReport {
        let missing = u32::try_from(self.end.saturating_sub(self.expected)).unwrap_or(u32::MAX);
        TestReport {
            test: U32::new(test),
            mode: U32::new(mode),
            from: U32::new(from),
            to: U32::new(to),
            received: U32::new(self.received),
            lost: U32::new(self.lost.saturating_add(missing)),
            duplicated: U32::new(self.duplicated),
            reordered: U32::new(self.reordered),
            rejected: U32::new(rejected),
            bad_data: U32::new(self.bad_data),
            elapsed_ticks: U64::new(self.last_at.saturating_sub(self.first_at)),
        }
    }
}
