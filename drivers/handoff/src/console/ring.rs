//! A node's console ring: slots of text in the shared region, written by
//! the node, read by the console owner.
//!
//! Single producer (the node, its cores serialised by a lock of its own),
//! single consumer (the owner). A push is one unit of text from one source
//! (the kernel, or a program by pid): as many slots as it needs, published
//! by one Release store of `head`, so the owner always sees a unit whole and
//! prints it without anything else in between. The last [`KERNEL_RESERVE`]
//! free slots are the kernel's: program output never crowds out a
//! `user fault:` report. Nothing in a ring is trusted by the reader: lengths
//! are clamped and impossible indices are counted as corruption and skipped.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, Ordering};

/// Text bytes of one slot.
pub const SLOT_BYTES: usize = 248;
/// Slots a ring holds.
pub const RING_SLOTS: usize = 40;
/// Free slots only kernel text may take.
pub const KERNEL_RESERVE: usize = 8;

/// Who may use how much of the ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Kernel reports: every free slot.
    Kernel,
    /// Program output: all but the kernel's reserve.
    Program,
}

impl Priority {
    /// Slots this priority may leave in use at most.
    const fn limit(self) -> usize {
        match self {
            Priority::Kernel => RING_SLOTS,
            Priority::Program => RING_SLOTS - KERNEL_RESERVE,
        }
    }

    /// The most text one push of this priority can carry.
    pub const fn max_push(self) -> usize {
        self.limit() * SLOT_BYTES
    }
}

/// What follows a unit of text on the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// A newline: the line is complete.
    Newline,
    /// Nothing: the line stays open (a prompt, an echoed key, a long line
    /// written in several calls).
    Open,
}

/// What the consumer got from one slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub len: usize,
    /// 0: the kernel; else the pid of the program that wrote it.
    pub source: u32,
    /// Where the unit stands after this piece: `None` when more pieces of
    /// the same unit follow (already published), else how it ends.
    pub end: Option<End>,
}

/// `Slot::meta` bits above the length.
const MORE: u32 = 1 << 31;
const OPEN: u32 = 1 << 30;
const LEN_MASK: u32 = 0xffff;

#[repr(C)]
struct Slot {
    meta: u32,
    source: u32,
    bytes: [u8; SLOT_BYTES],
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

/// A node's console ring.
#[repr(C)]
pub struct ConsoleRing {
    producer: Producer,
    consumer: Consumer,
    slots: [UnsafeCell<Slot>; RING_SLOTS],
}

// SAFETY: the ring is single-producer single-consumer: a slot is written
// only by the producer while it is free (head - tail < RING_SLOTS) and read
// only by the consumer after the Release store of `head` that published it.
unsafe impl Sync for ConsoleRing {}

/// Slots `len` bytes of text take (an empty unit still takes one: it may
/// carry a newline).
pub const fn slots_for(len: usize) -> usize {
    if len == 0 {
        1
    } else {
        len.div_ceil(SLOT_BYTES)
    }
}

impl ConsoleRing {
    fn used(&self) -> usize {
        let head = self.producer.head.load(Ordering::Relaxed);
        head.wrapping_sub(self.consumer.tail.load(Ordering::Acquire)) as usize
    }

    /// Whether `len` bytes at `priority` fit now.
    pub fn has_room(&self, len: usize, priority: Priority) -> bool {
        self.used().saturating_add(slots_for(len)) <= priority.limit()
    }

    /// Producer: queues `text` from `source` as one unit, followed by
    /// `end`. Returns false, queuing nothing, when it does not fit now
    /// (the caller waits, or gives up and calls [`ConsoleRing::record_drop`]);
    /// text longer than [`Priority::max_push`] never fits.
    pub fn push(&self, source: u32, text: &[u8], end: End, priority: Priority) -> bool {
        if !self.has_room(text.len(), priority) {
            return false;
        }
        let head = self.producer.head.load(Ordering::Relaxed);
        let count = slots_for(text.len());
        for i in 0..count {
            let piece = text.get(i * SLOT_BYTES..).unwrap_or(&[]);
            let piece = &piece[..piece.len().min(SLOT_BYTES)];
            let slot = &self.slots[head.wrapping_add(i as u32) as usize % RING_SLOTS];
            let flags = if i + 1 < count {
                MORE
            } else if end == End::Open {
                OPEN
            } else {
                0
            };
            // SAFETY: the slot is free (room was checked above against the
            // consumer's Acquire-loaded tail) and only this producer writes it.
            unsafe {
                let s = &mut *slot.get();
                s.bytes[..piece.len()].copy_from_slice(piece);
                s.meta = piece.len() as u32 | flags;
                s.source = source;
            }
        }
        self.producer.head.store(head.wrapping_add(count as u32), Ordering::Release);
        true
    }

    /// Producer: counts a unit it had to give up on.
    pub fn record_drop(&self) {
        self.producer.dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// Consumer: copies the oldest slot's text into `out`.
    pub fn pop(&self, out: &mut [u8; SLOT_BYTES]) -> Option<Piece> {
        let tail = self.consumer.tail.load(Ordering::Relaxed);
        let head = self.producer.head.load(Ordering::Acquire);
        let pending = head.wrapping_sub(tail) as usize;
        if pending == 0 {
            return None;
        }
        if pending > RING_SLOTS {
            // The producer's index is impossible: skip to it rather than read garbage.
            self.consumer.corrupt.fetch_add(1, Ordering::Relaxed);
            self.consumer.tail.store(head, Ordering::Release);
            return None;
        }
        let slot = &self.slots[tail as usize % RING_SLOTS];
        // SAFETY: the Acquire load of `head` ordered this read after the
        // producer's writes to the slot; the producer will not touch it again
        // until our Release store of `tail` below frees it.
        let piece = unsafe {
            let s = &*slot.get();
            let len = ((s.meta & LEN_MASK) as usize).min(SLOT_BYTES);
            out[..len].copy_from_slice(&s.bytes[..len]);
            let end = if s.meta & MORE != 0 {
                None
            } else if s.meta & OPEN != 0 {
                Some(End::Open)
            } else {
                Some(End::Newline)
            };
            Piece { len, source: s.source, end }
        };
        self.consumer.tail.store(tail.wrapping_add(1), Ordering::Release);
        Some(piece)
    }

    /// Whether text is waiting (a hint for sleeping; [`ConsoleRing::pop`] decides).
    pub fn has_pending(&self) -> bool {
        self.producer.head.load(Ordering::Acquire) != self.consumer.tail.load(Ordering::Relaxed)
    }

    /// Units the producer had to give up on.
    pub fn dropped(&self) -> u32 {
        self.producer.dropped.load(Ordering::Relaxed)
    }

    /// Corrupt states the consumer skipped.
    pub fn corrupt(&self) -> u32 {
        self.consumer.corrupt.load(Ordering::Relaxed)
    }
}
