//! The receiving end.

use crate::sync::Ordering;
use crate::{arm_wake, disarm_wake, ring_if_armed, Channel, Notifier, Payload};

/// Why [`Receiver::try_recv`] returned no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// No message is waiting.
    Empty,
    /// The next slot's sequence word is neither the message expected nor
    /// the empty slot's: it was overwritten. The slot is skipped and counted.
    Corrupt { expected: u64, found: u64 },
}

/// What the next slot holds.
enum Next {
    Ready,
    Empty,
    Corrupt(u64),
}

/// The one receiving end of a channel. Its position is private to it.
#[derive(Debug)]
pub struct Receiver<'a, N: Notifier> {
    ch: Channel<'a>,
    /// Messages taken (or skipped as corrupt) so far.
    received: u64,
    /// `received % slots`.
    index: usize,
    /// `consumed` as last published to the sender.
    returned: u64,
    /// Credits are returned once this many are owed (or the ring is empty).
    batch: u64,
    corrupt: u64,
    notifier: N,
}

impl<'a, N: Notifier> Receiver<'a, N> {
    pub(crate) fn new(ch: Channel<'a>, notifier: N) -> Self {
        let batch = (ch.slots() as u64 / 4).max(1);
        Receiver { ch, received: 0, index: 0, returned: 0, batch, corrupt: 0, notifier }
    }

    #[inline]
    fn next(&self) -> Next {
        let seq = self.ch.slots[self.index].seq.load(Ordering::Acquire);
        let expected = self.received + 1;
        // Before the slot's first use it holds 0; after, the previous lap's number.
        let empty = expected.saturating_sub(self.ch.slots() as u64);
        if seq == expected {
            Next::Ready
        } else if seq == empty {
            Next::Empty
        } else {
            Next::Corrupt(seq)
        }
    }

    #[inline]
    fn advance(&mut self) {
        self.received += 1;
        self.index += 1;
        if self.index == self.ch.slots() {
            self.index = 0;
        }
    }

    /// Publishes `consumed` and wakes a sender waiting for credits.
    #[inline]
    fn return_credits(&mut self) {
        if self.returned == self.received {
            return;
        }
        self.returned = self.received;
        self.ch.control.consumer.consumed.store(self.received, Ordering::Release);
        if self.notifier.interrupts() {
            ring_if_armed(&self.ch.control.producer.wake, &self.notifier);
        }
    }

    /// Takes the next message, or says why there is none.
    #[inline]
    pub fn try_recv(&mut self) -> Result<Payload, RecvError> {
        self.try_recv_with(|p| *p)
    }

    /// Copies the next message into `out` (the caller's buffer, so no
    /// 56-byte value travels through the return), or says why there is none.
    #[inline]
    pub fn recv_into(&mut self, out: &mut Payload) -> Result<(), RecvError> {
        self.try_recv_with(|p| *out = *p)
    }

    /// Reads the next message in place with `read`, or says why there is none.
    #[inline]
    pub fn try_recv_with<R>(&mut self, read: impl FnOnce(&Payload) -> R) -> Result<R, RecvError> {
        match self.next() {
            Next::Ready => {
                let slot = &self.ch.slots[self.index];
                // SAFETY: the Acquire load in `next` saw this message's
                // sequence number, so the sender's payload writes happen
                // before this read; the sender will not write the slot again
                // until the credits returned after it cover it.
                let r = slot.payload.with(|p| read(unsafe { &*p }));
                self.advance();
                if self.received - self.returned >= self.batch {
                    self.return_credits();
                }
                Ok(r)
            }
            Next::Empty => {
                // Nothing more to read now: hand back every credit owed, so
                // a sender never waits on credits we sit on.
                self.return_credits();
                Err(RecvError::Empty)
            }
            Next::Corrupt(found) => {
                let expected = self.received + 1;
                self.corrupt += 1;
                // Put back the number the sender would have stored, so the
                // slot reads as empty, not as garbage again, when this end
                // comes round to it on the next lap before the sender has
                // refilled it. Otherwise each lap would skip (and lose) one
                // more message there, run this end ahead of the sender and
                // leave it credits it must reject. The sender stores into
                // this word again only for message `expected - 1 + slots`,
                // which needs the credit for this slot, published after this
                // store with Release: its store comes later and wins.
                self.ch.slots[self.index].seq.store(expected, Ordering::Relaxed);
                self.advance();
                Err(RecvError::Corrupt { expected, found })
            }
        }
    }

    /// Takes up to `out.len()` messages in order; returns how many. Corrupt
    /// slots are skipped and counted ([`Receiver::corrupt`]).
    #[inline]
    pub fn recv_batch(&mut self, out: &mut [Payload]) -> usize {
        let mut n = 0;
        self.recv_batch_with(out.len(), |p| {
            out[n] = *p;
            n += 1;
        })
    }

    /// Reads up to `max` messages in order, each in place with `read`;
    /// returns how many. Corrupt slots are skipped and counted.
    #[inline]
    pub fn recv_batch_with(&mut self, max: usize, mut read: impl FnMut(&Payload)) -> usize {
        let mut n = 0;
        while n < max {
            match self.try_recv_with(&mut read) {
                Ok(()) => n += 1,
                Err(RecvError::Empty) => break,
                Err(RecvError::Corrupt { .. }) => {}
            }
        }
        self.return_credits();
        n
    }

    /// Waits for the next message: polls `spins` times, then sleeps on the
    /// notifier until the sender rings. Returns a corrupt slot as an error.
    pub fn recv(&mut self, spins: u32) -> Result<Payload, RecvError> {
        loop {
            for _ in 0..spins.max(1) {
                match self.try_recv() {
                    Err(RecvError::Empty) => core::hint::spin_loop(),
                    other => return other,
                }
            }
            if !self.arm() {
                self.notifier.wait();
            }
            self.disarm();
        }
    }

    /// Publishes this end's doorbell for the sender to ring on the next
    /// message. Returns true if something is waiting already (do not sleep).
    pub fn arm(&mut self) -> bool {
        if self.notifier.interrupts() {
            arm_wake(&self.ch.control.consumer.wake, self.notifier.target());
        }
        self.has_pending()
    }

    /// Withdraws the doorbell published by [`Receiver::arm`].
    pub fn disarm(&self) {
        if self.notifier.interrupts() {
            disarm_wake(&self.ch.control.consumer.wake);
        }
    }

    /// Whether the next slot holds something (a message or corruption).
    pub fn has_pending(&self) -> bool {
        !matches!(self.next(), Next::Empty)
    }

    /// Messages taken (including skipped corrupt slots) so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Corrupt slots skipped so far.
    pub fn corrupt(&self) -> u64 {
        self.corrupt
    }

    /// The notifier, e.g. to change how this end waits.
    pub fn notifier_mut(&mut self) -> &mut N {
        &mut self.notifier
    }
}
