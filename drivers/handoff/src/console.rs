//! The start of the shared region: node status words and one console ring
//! per node.
//!
//! Only the boot node drives the UART. Every node (the boot node too) writes
//! its lines into its own ring; the boot node drains the rings to the UART.
//! Each ring is single-producer (its node) single-consumer (the boot node),
//! producer and consumer indices on separate cache lines; a line is
//! published by a Release store of `head` and consumed after an Acquire load
//! of it. Nothing in a ring is trusted by the reader: lengths are clamped
//! and impossible indices are counted as corruption and skipped.

use crate::MAX_NODES;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Bytes of one console line (longer lines are cut).
pub const LINE_BYTES: usize = 252;
/// Lines a ring holds.
pub const RING_LINES: usize = 16;
/// Marks an initialised [`SharedArea`].
pub const SHARED_MAGIC: u64 = u64::from_le_bytes(*b"MKSHARE1");
/// Offset in the shared region where inter-node channels may start.
pub const CHANNELS_OFFSET: u64 = 256 * 1024;

/// `NodeStatus::state` values.
pub const NODE_STARTING: u32 = 0;
pub const NODE_UP: u32 = 1;
pub const NODE_FAILED: u32 = 2;

/// One node's progress, written only by that node.
#[repr(C, align(64))]
pub struct NodeStatus {
    pub state: AtomicU32,
    pub cpus_up: AtomicU32,
    /// Generic counter when the node's last core came up.
    pub up_at: AtomicU64,
    /// Bit per boot self-check that passed (with `ktest=boot`).
    pub checks_passed: AtomicU32,
}

#[repr(C, align(64))]
struct Producer {
    head: AtomicU32,
    dropped: AtomicU32,
}

#[repr(C, align(64))]
struct Consumer {
    tail: AtomicU32,
    corrupt: AtomicU32,
}

#[repr(C)]
struct Line {
    len: u32,
    bytes: [u8; LINE_BYTES],
}

/// A node's console ring.
#[repr(C)]
pub struct ConsoleRing {
    producer: Producer,
    consumer: Consumer,
    lines: [UnsafeCell<Line>; RING_LINES],
}

// SAFETY: the ring is single-producer single-consumer: a line slot is written
// only by the producer while it is free (head - tail < RING_LINES) and read
// only by the consumer after the Release store of `head` that published it.
unsafe impl Sync for ConsoleRing {}

impl ConsoleRing {
    /// Producer: queues `line` (cut to [`LINE_BYTES`]). Returns false, and
    /// counts a drop, when the ring is full: a slow console never blocks a node.
    pub fn push(&self, line: &[u8]) -> bool {
        let head = self.producer.head.load(Ordering::Relaxed);
        let tail = self.consumer.tail.load(Ordering::Acquire);
        if head.wrapping_sub(tail) as usize >= RING_LINES {
            self.producer.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        let slot = &self.lines[head as usize % RING_LINES];
        let len = line.len().min(LINE_BYTES);
        // SAFETY: the slot is free (checked above against the consumer's
        // Acquire-loaded tail) and only this producer writes it.
        unsafe {
            let l = &mut *slot.get();
            l.bytes[..len].copy_from_slice(&line[..len]);
            l.len = len as u32;
        }
        self.producer.head.store(head.wrapping_add(1), Ordering::Release);
        true
    }

    /// Consumer: copies the oldest line into `out` and returns its length.
    pub fn pop(&self, out: &mut [u8; LINE_BYTES]) -> Option<usize> {
        let tail = self.consumer.tail.load(Ordering::Relaxed);
        let head = self.producer.head.load(Ordering::Acquire);
        let pending = head.wrapping_sub(tail) as usize;
        if pending == 0 {
            return None;
        }
        if pending > RING_LINES {
            // The producer's index is impossible: skip to it rather than read garbage.
            self.consumer.corrupt.fetch_add(1, Ordering::Relaxed);
            self.consumer.tail.store(head, Ordering::Release);
            return None;
        }
        let slot = &self.lines[tail as usize % RING_LINES];
        // SAFETY: the Acquire load of `head` ordered this read after the
        // producer's writes to the slot; the producer will not touch it again
        // until our Release store of `tail` below frees it.
        let len = unsafe {
            let l = &*slot.get();
            let len = (l.len as usize).min(LINE_BYTES);
            out[..len].copy_from_slice(&l.bytes[..len]);
            len
        };
        self.consumer.tail.store(tail.wrapping_add(1), Ordering::Release);
        Some(len)
    }

    /// Whether a line is waiting (a hint for sleeping; [`ConsoleRing::pop`] decides).
    pub fn has_pending(&self) -> bool {
        self.producer.head.load(Ordering::Acquire) != self.consumer.tail.load(Ordering::Relaxed)
    }

    /// Lines the producer had to drop.
    pub fn dropped(&self) -> u32 {
        self.producer.dropped.load(Ordering::Relaxed)
    }

    /// Corrupt states the consumer skipped.
    pub fn corrupt(&self) -> u32 {
        self.consumer.corrupt.load(Ordering::Relaxed)
    }
}

/// The head of the shared region.
#[repr(C)]
pub struct SharedArea {
    pub magic: u64,
    pub node_count: u32,
    pub _reserved: u32,
    /// How to interrupt the console owner: `DOORBELL_VALID | target`, where
    /// target is the MPIDR (GICv3) or CPU-interface bit mask (GICv2). Zero
    /// until the owner has published it.
    pub console_doorbell: AtomicU64,
    pub status: [NodeStatus; MAX_NODES],
    pub console: [ConsoleRing; MAX_NODES],
}

/// Set in a published doorbell.
pub const DOORBELL_VALID: u64 = 1 << 63;

const _: () = assert!(core::mem::size_of::<SharedArea>() as u64 <= CHANNELS_OFFSET);

impl SharedArea {
    /// Bytes the area occupies.
    pub const SIZE: usize = core::mem::size_of::<SharedArea>();
}
