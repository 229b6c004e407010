//! The generic timer: the counter, its conversions, and this core's timer.
use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::{CNTFRQ_EL0, CNTVCT_EL0, CNTV_CTL_EL0, CNTV_CVAL_EL0};
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::LocalRegisterCopy;

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

/// Sleeps in WFI until any interrupt or at most `us` microseconds, and
/// leaves this core's timer as it found it: a deadline that passed
/// meanwhile still fires, one that did not is still pending. For waits
/// inside the kernel, which must not lose the program's slice timer.
/// The caller makes sure the timer can end a WFI (the GIC is set up).
pub fn doze(us: u64) {
    let (ctl, cval) = (CNTV_CTL_EL0.get(), CNTV_CVAL_EL0.get());
    let was = LocalRegisterCopy::<u64, CNTV_CTL_EL0::Register>::new(ctl);
    let armed = was.is_set(CNTV_CTL_EL0::ENABLE) && !was.is_set(CNTV_CTL_EL0::IMASK);
    let wake = now().saturating_add(ticks_us(us));
    arm(if armed { cval.min(wake) } else { wake });
    aarch64_cpu::asm::wfi();
    CNTV_CVAL_EL0.set(cval);
    CNTV_CTL_EL0.set(ctl);
}
