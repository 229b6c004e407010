//! The message channel: a bounded single-producer single-consumer ring of
//! 64-byte, cache-line messages in memory the caller provides (URPC/UMP
//! style, after Barrelfish).
//!
//! # Layout
//!
//! ```text
//! line 0        Header: magic, layout version, slot count, sending and
//!               receiving node (written once, before either end opens it)
//! line 1        ConsumerLine: `consumed` (credits: messages the receiver has
//!               finished with) and `wake` (the receiver's doorbell while it
//!               sleeps). Written only by the receiver.
//! line 2        ProducerLine: `wake` (the sender's doorbell while it sleeps
//!               for credits). Written only by the sender.
//! line 3 ..     slots, one cache line each: 56 bytes of payload, then the
//!               8-byte sequence word
//! ```
//!
//! Message `n` (counting from 0) goes into slot `n % slots`. The sender writes
//! the payload, then stores `n + 1` into the slot's sequence word with
//! Release; the receiver, expecting message `n`, loads that word with
//! Acquire and owns the payload once it reads `n + 1`. It reads `n + 1 -
//! slots` (or 0 on the first lap) while the slot is still empty; anything
//! else is corruption, which it counts and skips, never trusts. (It then
//! stores `n + 1` there itself, so the slot reads as empty, not as garbage
//! again, on the next lap until the sender refills it: the only store the
//! receiver makes to a slot.) So a message costs one cache-line transfer;
//! the sender's and receiver's positions are private to each end and never
//! shared.
//!
//! Back-pressure: the sender may publish message `n` only while
//! `n < consumed + slots`. It caches `consumed` and reloads it only when its
//! cached credits run out; the receiver publishes `consumed` in batches (and
//! whenever it finds the ring empty), so the consumer line rarely moves.
//!
//! Notification is separate from transport ([`Notifier`]): a receiver that
//! wants to sleep stores its doorbell in `wake`, issues a full fence and
//! looks at the ring once more; a sender publishes, issues a full fence and
//! rings the doorbell if `wake` is armed. One of the two always sees the
//! other, so no wake-up is lost. The same handshake, mirrored, wakes a
//! sender waiting for credits.

#![no_std]
#![deny(clippy::undocumented_unsafe_blocks)]

mod notify;
mod receiver;
mod sender;
mod sync;

pub use notify::{Notifier, Polling};
pub use receiver::{Receiver, RecvError};
pub use sender::{Full, Sender};

use sync::{AtomicU64, UnsafeCell};

/// Bytes of a cache line, and of a slot.
pub const LINE: usize = 64;
/// Payload bytes of one message.
pub const PAYLOAD: usize = 56;
/// One message's payload.
pub type Payload = [u8; PAYLOAD];
/// Marks an initialised channel.
pub const MAGIC: u64 = u64::from_le_bytes(*b"MKCHAN01");
/// Version of the layout above; bumped on any change.
pub const LAYOUT_VERSION: u32 = 1;
/// Cache lines before the first slot.
pub const CONTROL_LINES: usize = 3;
/// Set in a `wake` word while its owner sleeps; the rest is the doorbell target.
pub const ARMED: u64 = 1 << 63;

/// Line 0: what the channel is. Written before either end opens it.
#[repr(C, align(64))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub magic: u64,
    pub version: u32,
    pub slots: u32,
    /// Node that sends on this channel.
    pub from: u32,
    /// Node that receives on it.
    pub to: u32,
}

/// Line 1: written only by the receiver.
#[repr(C, align(64))]
#[derive(Debug)]
pub struct ConsumerLine {
    consumed: AtomicU64,
    wake: AtomicU64,
}

/// Line 2: written only by the sender.
#[repr(C, align(64))]
#[derive(Debug)]
pub struct ProducerLine {
    wake: AtomicU64,
}

/// Lines 0 to 2 of a channel.
#[repr(C)]
#[derive(Debug)]
pub struct Control {
    header: Header,
    consumer: ConsumerLine,
    producer: ProducerLine,
}

/// One message slot: a cache line, payload first, sequence word last.
#[repr(C, align(64))]
#[derive(Debug)]
pub struct Slot {
    payload: UnsafeCell<Payload>,
    seq: AtomicU64,
}

#[cfg(not(loom))]
const _: () = {
    assert!(core::mem::size_of::<Slot>() == LINE);
    assert!(core::mem::size_of::<Control>() == CONTROL_LINES * LINE);
};

// SAFETY: a slot's payload is written only by the one sender while the slot
// is free (credits prove the receiver is done with it) and read only by the
// one receiver after the Acquire load of `seq` that pairs with the sender's
// Release store; the ends are `!Sync`, so each side is one thread at a time.
unsafe impl Sync for Slot {}

impl Slot {
    /// An empty slot.
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Slot { payload: UnsafeCell::new([0; PAYLOAD]), seq: AtomicU64::new(0) }
    }
    /// An empty slot.
    #[cfg(loom)]
    pub fn new() -> Self {
        Slot { payload: UnsafeCell::new([0; PAYLOAD]), seq: AtomicU64::new(0) }
    }
}

impl Default for Slot {
    fn default() -> Self {
        Slot::new()
    }
}

impl Control {
    /// Control lines of an empty channel of `slots` slots from `from` to `to`.
    pub fn new(slots: u32, from: u32, to: u32) -> Self {
        Control {
            header: Header { magic: MAGIC, version: LAYOUT_VERSION, slots, from, to },
            consumer: ConsumerLine { consumed: AtomicU64::new(0), wake: AtomicU64::new(0) },
            producer: ProducerLine { wake: AtomicU64::new(0) },
        }
    }

    /// The header as written.
    pub fn header(&self) -> Header {
        self.header
    }
}

/// Why a region is not a usable channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenError {
    /// The region is not cache-line aligned.
    Misaligned,
    /// The region cannot hold the control lines and one slot.
    TooSmall { bytes: usize },
    /// The header's magic is wrong: not initialised, or overwritten.
    BadMagic { found: u64 },
    /// The header speaks another layout version.
    BadVersion { found: u32 },
    /// The header's slot count does not fit the region.
    BadSlots { header: u32, fit: usize },
}

impl core::fmt::Display for OpenError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            OpenError::Misaligned => write!(f, "channel region is not cache-line aligned"),
            OpenError::TooSmall { bytes } => write!(f, "channel region of {bytes} bytes holds no slot"),
            OpenError::BadMagic { found } => write!(f, "channel header has a bad magic {found:#x}"),
            OpenError::BadVersion { found } => {
                write!(f, "channel layout version {found}, this side speaks {LAYOUT_VERSION}")
            }
            OpenError::BadSlots { header, fit } => {
                write!(f, "channel header says {header} slots, the region holds {fit}")
            }
        }
    }
}

/// Slots a region of `bytes` holds.
pub const fn slots_in(bytes: usize) -> usize {
    (bytes / LINE).saturating_sub(CONTROL_LINES)
}

/// Bytes a channel of `slots` slots occupies.
pub const fn bytes_for(slots: usize) -> usize {
    (CONTROL_LINES + slots) * LINE
}

/// Both ends' view of one channel: its control lines and its slots.
#[derive(Debug, Clone, Copy)]
pub struct Channel<'a> {
    control: &'a Control,
    slots: &'a [Slot],
}

impl<'a> Channel<'a> {
    /// A channel over memory the caller owns (tests, host benchmarks).
    ///
    /// # Safety
    /// At most one [`Sender`] and one [`Receiver`] may ever be made from
    /// the channels over this memory (a `Channel` is `Copy`): two senders or
    /// two receivers would race on the slots.
    pub unsafe fn new(control: &'a Control, slots: &'a [Slot]) -> Result<Self, OpenError> {
        let header = control.header;
        Self::validate(header)?;
        if header.slots as usize != slots.len() || slots.is_empty() {
            return Err(OpenError::BadSlots { header: header.slots, fit: slots.len() });
        }
        Ok(Channel { control, slots })
    }

    /// Checks what the header says the region is, before trusting any of
    /// its sizes: an uninitialised (say all-zero) region is `BadMagic`.
    fn validate(header: Header) -> Result<(), OpenError> {
        if header.magic != MAGIC {
            return Err(OpenError::BadMagic { found: header.magic });
        }
        if header.version != LAYOUT_VERSION {
            return Err(OpenError::BadVersion { found: header.version });
        }
        Ok(())
    }

    /// Writes an empty channel from `from` to `to` over `bytes` at `base`,
    /// using every slot that fits.
    ///
    /// # Safety
    /// `base..base + bytes` must be memory nobody else uses until this
    /// returns, and that stays valid for `'a`.
    #[cfg(not(loom))]
    pub unsafe fn init(base: *mut u8, bytes: usize, from: u32, to: u32) -> Result<Self, OpenError> {
        let slots = Self::check_region(base, bytes)?;
        // SAFETY: the caller gives us the region exclusively; it is aligned
        // and holds the control lines and `slots` slots (checked above), and
        // all-zero bytes are valid atomics and payloads.
        unsafe {
            core::ptr::write_bytes(base, 0, bytes_for(slots));
            base.cast::<Control>().write(Control::new(slots as u32, from, to));
            Self::open(base, bytes)
        }
    }

    /// Opens a channel that [`Channel::init`] wrote, checking its header.
    /// The header is read once, here; later changes to it are ignored.
    ///
    /// # Safety
    /// `base..base + bytes` must stay mapped and used only as this channel
    /// for `'a`, and as for [`Channel::new`], at most one sender and one
    /// receiver may be made from it.
    #[cfg(not(loom))]
    pub unsafe fn open(base: *mut u8, bytes: usize) -> Result<Self, OpenError> {
        let fit = Self::check_region(base, bytes)?;
        // SAFETY: aligned and large enough (checked); the caller promises the
        // region is this channel's, and any bit pattern is a valid Control
        // (integers and atomics only).
        let control = unsafe { &*base.cast::<Control>() };
        // SAFETY: the header is plain data; read it once, volatile, since
        // another node wrote it.
        let header = unsafe { core::ptr::read_volatile(&raw const control.header) };
        Self::validate(header)?;
        if header.slots as usize > fit || header.slots == 0 {
            return Err(OpenError::BadSlots { header: header.slots, fit });
        }
        // SAFETY: `header.slots` slots follow the control lines inside the
        // region (checked just above); any bit pattern is a valid Slot.
        let slots = unsafe {
            core::slice::from_raw_parts(base.add(CONTROL_LINES * LINE).cast::<Slot>(), header.slots as usize)
        };
        Ok(Channel { control, slots })
    }

    #[cfg(not(loom))]
    fn check_region(base: *mut u8, bytes: usize) -> Result<usize, OpenError> {
        if !(base as usize).is_multiple_of(LINE) || base.is_null() {
            return Err(OpenError::Misaligned);
        }
        match slots_in(bytes) {
            0 => Err(OpenError::TooSmall { bytes }),
            n => Ok(n.min(u32::MAX as usize)),
        }
    }

    /// The header as it was when the channel was opened.
    pub fn header(&self) -> Header {
        self.control.header
    }

    /// Slots in the ring.
    #[inline]
    pub fn slots(&self) -> usize {
        self.slots.len()
    }

    /// The sending end, notifying through `notifier`.
    pub fn sender<N: Notifier>(self, notifier: N) -> Sender<'a, N> {
        Sender::new(self, notifier)
    }

    /// The receiving end, notifying through `notifier`.
    pub fn receiver<N: Notifier>(self, notifier: N) -> Receiver<'a, N> {
        Receiver::new(self, notifier)
    }
}

/// The sleeping side of the wake handshake: publish the doorbell, then a
/// full fence; the caller looks at the ring again before it sleeps.
fn arm_wake(wake: &AtomicU64, target: u64) {
    wake.store(ARMED | (target & !ARMED), sync::Ordering::Relaxed);
    sync::fence(sync::Ordering::SeqCst);
}

fn disarm_wake(wake: &AtomicU64) {
    wake.store(0, sync::Ordering::Relaxed);
}

/// The waking side: after publishing, a full fence, then ring the doorbell
/// if the other end armed it.
fn ring_if_armed<N: Notifier>(wake: &AtomicU64, notifier: &N) {
    sync::fence(sync::Ordering::SeqCst);
    let w = wake.load(sync::Ordering::Relaxed);
    if w & ARMED != 0 {
        notifier.notify(w & !ARMED);
    }
}
