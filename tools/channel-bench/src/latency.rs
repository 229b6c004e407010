//! One-way latency: a ping-pong between the two pinned threads, for each
//! contender.

use std::hint::spin_loop;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use channel::{Payload, Polling, RecvError};

use crate::*;

/// Runs `warmup + round_trips` round trips: thread A (core 0) runs `a(i)`
/// (send `i`, wait for the echo), thread B (core 1) runs `b(i)` (wait for a
/// message, echo it). Returns the one-way latency in nanoseconds.
pub(crate) fn ping_pong(cfg: &Config, mut a: impl FnMut(u64) + Send, mut b: impl FnMut(u64) + Send) -> Sample {
    let (warmup, n) = (cfg.warmup, cfg.round_trips);
    let (elapsed, total, waited_ns) = std::thread::scope(|s| {
        let echo = s.spawn(move || {
            pin(CORE_B);
            let before = waited_ns();
            for i in 0..warmup + n {
                b(i);
            }
            waited_ns() - before
        });
        let timed = s.spawn(move || {
            pin(CORE_A);
            let start = Instant::now();
            let before = waited_ns();
            for i in 0..warmup {
                a(i);
            }
            let t = Instant::now();
            for i in warmup..warmup + n {
                a(i);
            }
            (t.elapsed(), start.elapsed(), waited_ns() - before)
        });
        let (elapsed, total, a) = timed.join().unwrap_or_else(|_| fail("ping-pong thread panicked"));
        (elapsed, total, a + echo.join().unwrap_or_else(|_| fail("ping-pong thread panicked")))
    });
    let elapsed_ns = u64::try_from(total.as_nanos()).unwrap_or(u64::MAX);
    Sample { value: elapsed.as_nanos() as f64 / n as f64 / 2.0, waited_ns, elapsed_ns }
}

/// One 64-byte line holding the turn counter.
#[repr(C, align(64))]
pub(crate) struct Line(AtomicU64);

/// The floor: one cache line; A writes odd turns, B even ones, each
/// spinning until the line holds its turn.
pub(crate) fn latency_raw(cfg: &Config) -> Sample {
    let line = Line(AtomicU64::new(0));
    let line = &line;
    ping_pong(
        cfg,
        move |i| {
            line.0.store(2 * i + 1, Ordering::Release);
            while line.0.load(Ordering::Acquire) != 2 * i + 2 {
                spin_loop();
            }
        },
        move |i| {
            while line.0.load(Ordering::Acquire) != 2 * i + 1 {
                spin_loop();
            }
            line.0.store(2 * i + 2, Ordering::Release);
        },
    )
}

/// One line of a raw ring: the payload, then the sequence word.
#[repr(C, align(64))]
pub(crate) struct RawSlot {
    pub(crate) payload: [AtomicU64; 7],
    pub(crate) seq: AtomicU64,
}

impl RawSlot {
    pub(crate) fn new() -> Self {
        RawSlot { payload: Default::default(), seq: AtomicU64::new(0) }
    }

    pub(crate) fn write(&self, seq: u64, words: [u64; 7]) {
        for (w, v) in self.payload.iter().zip(words) {
            w.store(v, Ordering::Relaxed);
        }
        self.seq.store(seq, Ordering::Release);
    }

    pub(crate) fn wait(&self, seq: u64) -> [u64; 7] {
        while self.seq.load(Ordering::Acquire) != seq {
            spin_loop();
        }
        core::array::from_fn(|k| self.payload[k].load(Ordering::Relaxed))
    }
}

/// The floor of a ring of `slots` lines: the memory traffic of this ring's
/// ping-pong (message `i` in line `i % slots` of each direction, payload and
/// sequence word in one line) with no queue logic at all: no credits, no
/// checks, no copies beyond the line itself.
pub(crate) fn latency_raw_ring(cfg: &Config, slots: usize) -> Sample {
    let ab: Vec<RawSlot> = (0..slots).map(|_| RawSlot::new()).collect();
    let ba: Vec<RawSlot> = (0..slots).map(|_| RawSlot::new()).collect();
    let (ab, ba) = (&ab, &ba);
    let words = |i: u64| -> [u64; 7] { core::array::from_fn(|k| if k == 6 { !i } else { i }) };
    ping_pong(
        cfg,
        move |i| {
            let k = (i % slots as u64) as usize;
            ab[k].write(i + 1, words(i));
            if ba[k].wait(i + 1) != words(i) {
                fail("raw ring: wrong echo");
            }
        },
        move |i| {
            let k = (i % slots as u64) as usize;
            let w = ab[k].wait(i + 1);
            ba[k].write(i + 1, w);
        },
    )
}

/// The per-message API: waits for the next message and copies it into
/// the caller's buffer (`recv_into`).
pub(crate) fn ring_recv(rx: &mut channel::Receiver<'_, Polling>) -> Payload {
    let mut out = [0u8; channel::PAYLOAD];
    ring_wait(rx, |rx| rx.recv_into(&mut out));
    out
}

pub(crate) fn latency_ring(cfg: &Config, slots: usize) -> Sample {
    let (mut ab, mut ba) = (Ring::new(slots), Ring::new(slots));
    let (mut tx_ab, mut rx_ab) = ab.ends();
    let (mut tx_ba, mut rx_ba) = ba.ends();
    ping_pong(
        cfg,
        move |i| {
            let p = payload(i);
            while tx_ab.try_send(&p).is_err() {
                spin_loop();
            }
            if !is_message(&ring_recv(&mut rx_ba), i) {
                fail("ring: wrong echo");
            }
        },
        move |_| {
            let p = ring_recv(&mut rx_ab);
            while tx_ba.try_send(&p).is_err() {
                spin_loop();
            }
        },
    )
}

/// Waits for the next message and hands it to `read` in place.
pub(crate) fn ring_recv_with<R>(rx: &mut channel::Receiver<'_, Polling>, mut read: impl FnMut(&Payload) -> R) -> R {
    ring_wait(rx, |rx| rx.try_recv_with(&mut read))
}

/// Retries `attempt` until it takes a message; a corrupt slot stops the run.
fn ring_wait<R>(
    rx: &mut channel::Receiver<'_, Polling>,
    mut attempt: impl FnMut(&mut channel::Receiver<'_, Polling>) -> Result<R, RecvError>,
) -> R {
    loop {
        match attempt(rx) {
            Ok(r) => return r,
            Err(RecvError::Empty) => spin_loop(),
            Err(RecvError::Corrupt { expected, found }) => {
                fail(&format!("ring: corrupt slot, expected message {expected}, found {found}"))
            }
        }
    }
}

/// The ring's in-place API: the payload is written into and read from the
/// slot, never copied through the stack.
pub(crate) fn latency_ring_in_place(cfg: &Config, slots: usize) -> Sample {
    let (mut ab, mut ba) = (Ring::new(slots), Ring::new(slots));
    let (mut tx_ab, mut rx_ab) = ab.ends();
    let (mut tx_ba, mut rx_ba) = ba.ends();
    ping_pong(
        cfg,
        move |i| {
            while tx_ab.try_send_with(|p| fill(p, i)).is_err() {
                spin_loop();
            }
            if !ring_recv_with(&mut rx_ba, |p| is_message(p, i)) {
                fail("ring: wrong echo");
            }
        },
        move |_| {
            let i = ring_recv_with(&mut rx_ab, counter);
            while tx_ba.try_send_with(|p| fill(p, i)).is_err() {
                spin_loop();
            }
        },
    )
}

pub(crate) fn rtrb_pop(rx: &mut rtrb::Consumer<Payload>) -> Payload {
    loop {
        match rx.pop() {
            Ok(p) => return p,
            Err(_) => spin_loop(),
        }
    }
}

pub(crate) fn latency_rtrb(cfg: &Config, slots: usize) -> Sample {
    let (mut tx_ab, mut rx_ab) = rtrb::RingBuffer::<Payload>::new(slots);
    let (mut tx_ba, mut rx_ba) = rtrb::RingBuffer::<Payload>::new(slots);
    ping_pong(
        cfg,
        move |i| {
            let mut p = payload(i);
            while let Err(rtrb::PushError::Full(back)) = tx_ab.push(p) {
                p = back;
                spin_loop();
            }
            if !is_message(&rtrb_pop(&mut rx_ba), i) {
                fail("rtrb: wrong echo");
            }
        },
        move |_| {
            let mut p = rtrb_pop(&mut rx_ab);
            while let Err(rtrb::PushError::Full(back)) = tx_ba.push(p) {
                p = back;
                spin_loop();
            }
        },
    )
}

pub(crate) fn crossbeam_send(tx: &crossbeam_channel::Sender<Payload>, mut p: Payload) {
    loop {
        match tx.try_send(p) {
            Ok(()) => return,
            Err(crossbeam_channel::TrySendError::Full(back)) => {
                p = back;
                spin_loop();
            }
            Err(crossbeam_channel::TrySendError::Disconnected(_)) => fail("crossbeam: receiver gone"),
        }
    }
}

pub(crate) fn crossbeam_recv(rx: &crossbeam_channel::Receiver<Payload>) -> Payload {
    loop {
        match rx.try_recv() {
            Ok(p) => return p,
            Err(crossbeam_channel::TryRecvError::Empty) => spin_loop(),
            Err(crossbeam_channel::TryRecvError::Disconnected) => fail("crossbeam: sender gone"),
        }
    }
}

pub(crate) fn latency_crossbeam(cfg: &Config, slots: usize) -> Sample {
    let (tx_ab, rx_ab) = crossbeam_channel::bounded::<Payload>(slots);
    let (tx_ba, rx_ba) = crossbeam_channel::bounded::<Payload>(slots);
    ping_pong(
        cfg,
        move |i| {
            crossbeam_send(&tx_ab, payload(i));
            if !is_message(&crossbeam_recv(&rx_ba), i) {
                fail("crossbeam: wrong echo");
            }
        },
        move |_| crossbeam_send(&tx_ba, crossbeam_recv(&rx_ab)),
    )
}

// ---------------------------------------------------------------------------
// Throughput: one producer, one consumer
