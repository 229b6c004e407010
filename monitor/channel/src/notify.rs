//! Notification: how one end wakes the other. Separate from the transport,
//! so a ring works the same whether its receiver is woken by an
//! inter-processor interrupt, a hardware mailbox or nobody (polling).

/// A way to wake the other end of a channel and to sleep until woken.
///
/// Both ends of a channel must agree: if the receiver sleeps in
/// [`Notifier::wait`] expecting to be woken, the sender's notifier must
/// [`Notifier::interrupts`]; otherwise the receiver's `wait` must return by
/// itself (a timer, or at once).
pub trait Notifier {
    /// Whether this end arms its doorbell before sleeping and rings its
    /// peer's. False for pure polling: then no fence or doorbell is spent.
    fn interrupts(&self) -> bool;
    /// This core's doorbell target, published (with [`crate::ARMED`] clear)
    /// for the peer to pass to [`Notifier::notify`].
    fn target(&self) -> u64;
    /// Rings the doorbell `target` that the peer published.
    fn notify(&self, target: u64);
    /// Sleeps until notified or some other event; may return spuriously.
    fn wait(&self);
}

/// No interrupts: the ends find messages and credits by polling.
#[derive(Debug, Clone, Copy, Default)]
pub struct Polling;

impl Notifier for Polling {
    #[inline]
    fn interrupts(&self) -> bool {
        false
    }
    #[inline]
    fn target(&self) -> u64 {
        0
    }
    #[inline]
    fn notify(&self, _target: u64) {}
    #[inline]
    fn wait(&self) {
        core::hint::spin_loop();
    }
}

impl<N: Notifier + ?Sized> Notifier for &N {
    fn interrupts(&self) -> bool {
        (**self).interrupts()
    }
    fn target(&self) -> u64 {
        (**self).target()
    }
    fn notify(&self, target: u64) {
        (**self).notify(target)
    }
    fn wait(&self) {
        (**self).wait()
    }
}
