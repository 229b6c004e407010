//! Waits that poll briefly, then sleep in WFI.
//!
//! Interrupts stay masked at the core (PSTATE.I); a pending doorbell SGI or
//! timer PPI still ends a WFI, and [`crate::devices::irq::handle`] acknowledges it.

use crate::config;
use crate::devices::gic;
use crate::devices::irq;
use crate::devices::time;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, Ordering};

/// Sleeps in WFI until an interrupt or for at most `us` microseconds.
pub fn nap(us: u64) {
    sleep_until_interrupt_or(time::now().saturating_add(time::ticks_us(us)));
}

/// Sleeps in WFI until an interrupt or the counter reaches `deadline`
/// (`u64::MAX`: no timer at all, so an idle core has no periodic wake-up).
/// Returns whether a doorbell rang.
pub fn sleep_until_interrupt_or(deadline: u64) -> bool {
    time::arm(deadline);
    aarch64_cpu::asm::wfi();
    time::disarm();
    irq::handle()
}

/// Waits until `cond` holds or `timeout_us` passes (`None`: forever).
/// Polls [`config::POLL_SPINS`] times, then sleeps in WFI, woken by a
/// doorbell or by a [`config::TICK_US`] timer in case a doorbell was missed.
pub fn wait_until(mut cond: impl FnMut() -> bool, timeout_us: Option<u64>) -> bool {
    for _ in 0..config::POLL_SPINS {
        if cond() {
            return true;
        }
        core::hint::spin_loop();
    }
    let deadline = timeout_us.map(|us| time::now().saturating_add(time::ticks_us(us)));
    loop {
        if cond() {
            return true;
        }
        let t = time::now();
        if deadline.is_some_and(|d| t >= d) {
            return false;
        }
        let tick = t.saturating_add(time::ticks_us(config::TICK_US));
        sleep_until_interrupt_or(deadline.map_or(tick, |d| d.min(tick)));
    }
}

/// Sleeps until an interrupt (no timer): the idle loop of a core with nothing to do.
pub fn idle() -> ! {
    loop {
        aarch64_cpu::asm::wfi();
        irq::handle();
    }
}

/// How long a core spins for a held [`NodeLock`] before it dozes.
const LOCK_SPIN_US: u64 = 20;
/// How long each doze lasts for the waiter next in line ...
const LOCK_NEXT_DOZE_US: u64 = 10;
/// ... and for those behind it.
const LOCK_DOZE_US: u64 = 50;

/// The node's lock: a ticket lock, so cores take it in the order they
/// asked (a core that releases it and asks again at once, as `init`
/// spawning one program after another does, queues behind the cores
/// waiting to run what it spawned). Waiters spin briefly, then doze in
/// WFI and look again: the one next in line often, the others less.
/// Under an emulator a spinning vCPU takes host time from the one that
/// holds the lock (held through a spawn or a page copy for
/// milliseconds); on a board a dozing core saves power. A waiter wakes
/// for any interrupt or when its doze ends: no one has to ring it, so a
/// release costs one store.
pub struct NodeLock<T> {
    /// The next ticket to hand out, and the ticket that holds the lock.
    next: AtomicU32,
    serving: AtomicU32,
    value: UnsafeCell<T>,
}

// SAFETY: the value is reached only through a guard, and one guard exists
// at a time (the holder of the ticket being served), as with a mutex.
unsafe impl<T: Send> Sync for NodeLock<T> {}

/// The lock, held: the value, until it is dropped.
pub struct NodeGuard<'a, T> {
    lock: &'a NodeLock<T>,
}

impl<T> NodeLock<T> {
    pub const fn new(value: T) -> Self {
        NodeLock { next: AtomicU32::new(0), serving: AtomicU32::new(0), value: UnsafeCell::new(value) }
    }

    /// Takes the lock, in turn, spinning then dozing until it is ours.
    pub fn lock(&self) -> NodeGuard<'_, T> {
        let mine = self.next.fetch_add(1, Ordering::Relaxed);
        let mut start = None;
        loop {
            for _ in 0..64 {
                if self.serving.load(Ordering::Acquire) == mine {
                    return NodeGuard { lock: self };
                }
                core::hint::spin_loop();
            }
            let now = time::now();
            let since = *start.get_or_insert(now);
            // Before this core's GIC is up its timer cannot end a WFI.
            if now.wrapping_sub(since) >= time::ticks_us(LOCK_SPIN_US) && gic::ready() {
                let ahead = mine.wrapping_sub(self.serving.load(Ordering::Relaxed));
                time::doze(if ahead <= 1 { LOCK_NEXT_DOZE_US } else { LOCK_DOZE_US });
            }
        }
    }

    /// Takes the lock if no one holds it or waits for it.
    pub fn try_lock(&self) -> Option<NodeGuard<'_, T>> {
        let serving = self.serving.load(Ordering::Acquire);
        self.next
            .compare_exchange(serving, serving.wrapping_add(1), Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| NodeGuard { lock: self })
    }
}

impl<T> core::ops::Deref for NodeGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the ticket being served: no other
        // reference to the value exists while it lives.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> core::ops::DerefMut for NodeGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`, and `&mut self` makes this the only one.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for NodeGuard<'_, T> {
    fn drop(&mut self) {
        // Only the holder moves `serving`: the next ticket holds it now,
        // and sees everything written under the lock (release).
        self.lock.serving.fetch_add(1, Ordering::Release);
    }
}
