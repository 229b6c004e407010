//! Pinned threads, disturbed measurements taken again, the checked
//! payloads, and this ring in host memory.

use channel::{Channel, Control, Payload, Polling, Slot, PAYLOAD};

use crate::*;

/// Stops the benchmark: a contender delivered a wrong message, or a thread
/// could not be pinned. The other thread may be spinning, so exit outright.
pub(crate) fn fail(msg: &str) -> ! {
    eprintln!("channel-bench: {msg}");
    std::process::exit(1)
}

pub(crate) fn pin(core: usize) {
    if !core_affinity::set_for_current(core_affinity::CoreId { id: core }) {
        fail(&format!("cannot pin a thread to core {core}"));
    }
}

/// Nanoseconds this thread has spent runnable but waiting for its core
/// (Linux schedstat), or 0 where that is not known.
pub(crate) fn waited_ns() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    stat.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// One measurement: the figure, and how long the pinned threads waited
/// for their cores while taking it (another task ran there) against how
/// long it took.
#[derive(Clone, Copy)]
pub(crate) struct Sample {
    pub(crate) value: f64,
    pub(crate) waited_ns: u64,
    pub(crate) elapsed_ns: u64,
}

impl Sample {
    /// Whether other tasks took more than 1% of the measurement's time.
    pub(crate) fn disturbed(&self) -> bool {
        self.waited_ns.saturating_mul(100) > self.elapsed_ns
    }
}

/// A disturbed measurement is taken again, at most this many times in all.
pub(crate) const ATTEMPTS: usize = 3;

pub(crate) fn check_cores() -> Result<(), String> {
    let ids = core_affinity::get_core_ids().ok_or("cannot read this process's CPU affinity")?;
    for core in [CORE_A, CORE_B] {
        if !ids.iter().any(|c| c.id == core) {
            return Err(format!("core {core} is not available to this process (have {:?})", ids));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Payloads

/// Message `i`: the counter in the first 8 bytes, its complement in the last 8.
#[inline(always)]
pub(crate) fn payload(i: u64) -> Payload {
    let mut p = [0u8; PAYLOAD];
    fill(&mut p, i);
    p
}

#[inline(always)]
pub(crate) fn fill(p: &mut Payload, i: u64) {
    p[..8].copy_from_slice(&i.to_le_bytes());
    p[PAYLOAD - 8..].copy_from_slice(&(!i).to_le_bytes());
}

#[inline(always)]
pub(crate) fn counter(p: &Payload) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&p[..8]);
    u64::from_le_bytes(b)
}

#[inline(always)]
pub(crate) fn is_message(p: &Payload, i: u64) -> bool {
    let mut b = [0u8; 8];
    b.copy_from_slice(&p[PAYLOAD - 8..]);
    counter(p) == i && u64::from_le_bytes(b) == !i
}

/// A ring of `slots` slots in host memory.
pub(crate) struct Ring {
    pub(crate) control: Control,
    pub(crate) slots: Vec<Slot>,
}

impl Ring {
    pub(crate) fn new(slots: usize) -> Self {
        let n = u32::try_from(slots).unwrap_or_else(|_| fail("slot count does not fit u32"));
        Ring { control: Control::new(n, 0, 1), slots: (0..slots).map(|_| Slot::new()).collect() }
    }

    /// The ring's two ends, borrowing it mutably so that no second pair can
    /// be made while they live.
    pub(crate) fn ends(&mut self) -> (channel::Sender<'_, Polling>, channel::Receiver<'_, Polling>) {
        // SAFETY: the one sender and the one receiver ever made over this
        // memory: `&mut self` keeps any other call out while they live, and
        // every caller makes a fresh `Ring` per measurement.
        let ch = unsafe { Channel::new(&self.control, &self.slots) }
            .unwrap_or_else(|e| fail(&format!("cannot open the ring: {e}")));
        (ch.sender(Polling), ch.receiver(Polling))
    }
}

// ---------------------------------------------------------------------------
// Latency: ping-pong
