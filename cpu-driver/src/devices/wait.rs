//! Waits that poll briefly, then sleep in WFI.
//!
//! Interrupts stay masked at the core (PSTATE.I); a pending doorbell SGI or
//! timer PPI still ends a WFI, and [`crate::devices::irq::handle`] acknowledges it.

use crate::config;
use crate::devices::gic;
use crate::devices::irq;
use crate::devices::time;

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

/// Waits until `cond` holds or the counter reaches `deadline` (`None`:
/// forever; absolute, so that deadlines nest). Polls
/// [`config::POLL_SPINS`] times, then sleeps in WFI, woken by a doorbell or
/// by a [`config::TICK_US`] timer in case a doorbell was missed.
pub fn wait_until(mut cond: impl FnMut() -> bool, deadline: Option<u64>) -> bool {
    for _ in 0..config::POLL_SPINS {
        if cond() {
            return true;
        }
        core::hint::spin_loop();
    }
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
/// How long each doze lasts while the lock stays held.
const LOCK_DOZE_US: u64 = 50;

/// A spin lock whose waiters spin briefly, then doze in WFI and look
/// again. Under an emulator a spinning vCPU takes host time from the one
/// that holds the lock (the node's lock is held through a spawn or a
/// page copy for milliseconds); on a board a dozing core saves power.
/// A waiter wakes for any interrupt, or after [`LOCK_DOZE_US`]: no one
/// has to ring it, so a release costs nothing.
pub struct NodeLock<T> {
    inner: spin::Mutex<T>,
}

impl<T> NodeLock<T> {
    pub const fn new(value: T) -> Self {
        NodeLock { inner: spin::Mutex::new(value) }
    }

    /// Takes the lock, spinning then dozing until it is free.
    pub fn lock(&self) -> spin::MutexGuard<'_, T> {
        if let Some(g) = self.inner.try_lock() {
            return g;
        }
        let start = time::now();
        let spin_for = time::ticks_us(LOCK_SPIN_US);
        loop {
            for _ in 0..64 {
                if let Some(g) = self.inner.try_lock() {
                    return g;
                }
                core::hint::spin_loop();
            }
            // Before this core's GIC is up its timer cannot end a WFI.
            if time::now().wrapping_sub(start) >= spin_for && gic::ready() {
                time::doze(LOCK_DOZE_US);
            }
        }
    }

    /// Takes the lock if it is free.
    pub fn try_lock(&self) -> Option<spin::MutexGuard<'_, T>> {
        self.inner.try_lock()
    }
}
