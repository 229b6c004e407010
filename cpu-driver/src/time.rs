//! The generic timer: timestamps, and waits that poll briefly then sleep.
//!
//! Interrupts stay masked at the core (PSTATE.I); a pending doorbell SGI or
//! timer PPI still ends a WFI, and [`crate::gic::drain`] acknowledges it.

use crate::{config, gic};
use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::{CNTFRQ_EL0, CNTVCT_EL0, CNTV_CTL_EL0, CNTV_CVAL_EL0};
use tock_registers::interfaces::{Readable, Writeable};

/// Generic counter (virtual view).
pub fn now() -> u64 {
    barrier::isb(barrier::SY);
    CNTVCT_EL0.get()
}

/// Counter ticks in `us` microseconds.
pub fn ticks_us(us: u64) -> u64 {
    us.saturating_mul(frequency()) / 1_000_000
}

/// Microseconds in `ticks` counter ticks.
pub fn micros(ticks: u64) -> u64 {
    nanos(ticks) / 1000
}

/// Counter ticks per second.
pub fn frequency() -> u64 {
    CNTFRQ_EL0.get()
}

/// Counter ticks in `ns` nanoseconds (rounded up, so a sleep is never short).
pub fn ticks_ns(ns: u64) -> u64 {
    let t = u128::from(ns) * u128::from(frequency());
    u64::try_from(t.div_ceil(1_000_000_000)).unwrap_or(u64::MAX)
}

/// Nanoseconds in `ticks` counter ticks.
pub fn nanos(ticks: u64) -> u64 {
    let freq = frequency().max(1);
    u64::try_from(u128::from(ticks) * 1_000_000_000 / u128::from(freq)).unwrap_or(u64::MAX)
}

/// Arms this core's timer to interrupt at counter value `deadline`
/// (`u64::MAX`: not at all).
pub fn arm(deadline: u64) {
    if deadline == u64::MAX {
        disarm();
        return;
    }
    CNTV_CVAL_EL0.set(deadline);
    CNTV_CTL_EL0.write(CNTV_CTL_EL0::ENABLE::SET + CNTV_CTL_EL0::IMASK::CLEAR);
}

/// Stops the timer so its level interrupt drops.
pub fn disarm() {
    CNTV_CTL_EL0.write(CNTV_CTL_EL0::ENABLE::CLEAR + CNTV_CTL_EL0::IMASK::SET);
}

/// Sleeps in WFI until an interrupt or for at most `us` microseconds.
pub fn nap(us: u64) {
    sleep_until_interrupt_or(now().saturating_add(ticks_us(us)));
}

/// Sleeps in WFI until an interrupt or the counter reaches `deadline`
/// (`u64::MAX`: no timer at all, so an idle core has no periodic wake-up).
/// Returns whether a doorbell rang.
pub fn sleep_until_interrupt_or(deadline: u64) -> bool {
    arm(deadline);
    aarch64_cpu::asm::wfi();
    disarm();
    gic::drain()
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
    let deadline = timeout_us.map(|us| now().saturating_add(ticks_us(us)));
    loop {
        if cond() {
            return true;
        }
        let t = now();
        if deadline.is_some_and(|d| t >= d) {
            return false;
        }
        let tick = t.saturating_add(ticks_us(config::TICK_US));
        sleep_until_interrupt_or(deadline.map_or(tick, |d| d.min(tick)));
    }
}

/// Sleeps until an interrupt (no timer): the idle loop of a core with nothing to do.
pub fn idle() -> ! {
    loop {
        aarch64_cpu::asm::wfi();
        gic::drain();
    }
}
