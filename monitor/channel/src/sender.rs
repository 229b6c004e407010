//! The sending end.

use crate::sync::Ordering;
use crate::{arm_wake, disarm_wake, ring_if_armed, Channel, Notifier, Payload};

/// The ring has no free slot: the receiver has not returned enough credits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// The one sending end of a channel. Its position is private to it.
#[derive(Debug)]
pub struct Sender<'a, N: Notifier> {
    ch: Channel<'a>,
    /// Messages published so far.
    sent: u64,
    /// `sent % slots`.
    index: usize,
    /// Messages may be published while `sent < limit` (consumed + slots).
    limit: u64,
    /// Impossible credit values seen (and ignored).
    corrupt: u64,
    notifier: N,
}

impl<'a, N: Notifier> Sender<'a, N> {
    pub(crate) fn new(ch: Channel<'a>, notifier: N) -> Self {
        Sender { ch, sent: 0, index: 0, limit: ch.slots() as u64, corrupt: 0, notifier }
    }

    /// Reloads the receiver's credits. An impossible value (more consumed
    /// than sent, more than a full ring behind, or less than a value seen
    /// before: `consumed` never goes back) is counted and ignored.
    #[inline]
    fn refresh(&mut self) {
        let consumed = self.ch.control.consumer.consumed.load(Ordering::Acquire);
        let slots = self.ch.slots() as u64;
        // `limit - slots` is the last `consumed` accepted (0 at first).
        if consumed > self.sent || self.sent - consumed > slots || consumed < self.limit - slots {
            self.corrupt += 1;
            return;
        }
        self.limit = consumed + slots;
    }

    #[inline]
    fn has_credit(&mut self) -> bool {
        if self.sent < self.limit {
            return true;
        }
        self.refresh();
        self.sent < self.limit
    }

    /// Fills the next slot and publishes it; the caller checked for credit.
    #[inline]
    fn publish(&mut self, fill: impl FnOnce(&mut Payload)) {
        let slot = &self.ch.slots[self.index];
        // SAFETY: credits prove the receiver is done with this slot, and this
        // end is the only writer of payloads; the Release store below
        // publishes the writes.
        slot.payload.with_mut(|p| fill(unsafe { &mut *p }));
        self.sent += 1;
        slot.seq.store(self.sent, Ordering::Release);
        self.index += 1;
        if self.index == self.ch.slots() {
            self.index = 0;
        }
    }

    /// Wakes the receiver if it sleeps.
    #[inline]
    fn ring(&self) {
        if self.notifier.interrupts() {
            ring_if_armed(&self.ch.control.consumer.wake, &self.notifier);
        }
    }

    /// Sends one message, or says the ring is full.
    #[inline]
    pub fn try_send(&mut self, payload: &Payload) -> Result<(), Full> {
        self.try_send_with(|p| *p = *payload)
    }

    /// Sends one message written in place by `fill`, or says the ring is full.
    #[inline]
    pub fn try_send_with(&mut self, fill: impl FnOnce(&mut Payload)) -> Result<(), Full> {
        if !self.has_credit() {
            return Err(Full);
        }
        self.publish(fill);
        self.ring();
        Ok(())
    }

    /// Sends as many of `messages` as there is room for, in order, and
    /// wakes the receiver once. Returns how many were sent.
    #[inline]
    pub fn send_batch(&mut self, messages: &[Payload]) -> usize {
        self.send_batch_with(messages.len(), |i, p| *p = messages[i])
    }

    /// Sends up to `count` messages, the `i`-th written in place by
    /// `fill(i, payload)`, as long as there is room; wakes the receiver
    /// once. Returns how many were sent.
    #[inline]
    pub fn send_batch_with(&mut self, count: usize, mut fill: impl FnMut(usize, &mut Payload)) -> usize {
        let mut done = 0;
        while done < count && self.has_credit() {
            self.publish(|p| fill(done, p));
            done += 1;
        }
        if done > 0 {
            self.ring();
        }
        done
    }

    /// Sends one message, waiting for credits if the ring is full: polls
    /// `spins` times, then sleeps on the notifier until the receiver returns
    /// credits.
    pub fn send(&mut self, payload: &Payload, spins: u32) {
        loop {
            for _ in 0..spins.max(1) {
                if self.try_send(payload).is_ok() {
                    return;
                }
                core::hint::spin_loop();
            }
            if !self.arm() {
                self.notifier.wait();
            }
            self.disarm();
        }
    }

    /// Publishes this end's doorbell for the receiver to ring when it
    /// returns credits. Returns true if there is room already (do not sleep).
    pub fn arm(&mut self) -> bool {
        if self.notifier.interrupts() {
            arm_wake(&self.ch.control.producer.wake, self.notifier.target());
        }
        self.has_credit()
    }

    /// Withdraws the doorbell published by [`Sender::arm`].
    pub fn disarm(&self) {
        if self.notifier.interrupts() {
            disarm_wake(&self.ch.control.producer.wake);
        }
    }

    /// Free slots, as far as this end knows after reloading credits.
    pub fn free(&mut self) -> usize {
        self.refresh();
        (self.limit - self.sent) as usize
    }

    /// Messages sent so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Impossible credit values the receiver's line held (each ignored).
    pub fn corrupt(&self) -> u64 {
        self.corrupt
    }

    /// The notifier, e.g. to change how this end waits.
    pub fn notifier_mut(&mut self) -> &mut N {
        &mut self.notifier
    }
}
