//! What each interrupt this core takes means, in one place: the GIC says
//! which fired, and this acts on it.

use crate::devices::gic::{self, Irq};
use crate::devices::input;
use crate::devices::time;

/// Acknowledges every pending interrupt and does what each asks; returns
/// whether a doorbell rang.
pub fn handle() -> bool {
    let mut doorbell = false;
    gic::drain(|irq| match irq {
        // Its level interrupt stays up until the timer is stopped.
        Irq::Timer => time::disarm(),
        Irq::Doorbell => doorbell = true,
        // Level triggered: empty the FIFO now, or it fires again at once.
        Irq::Uart => input::on_interrupt(),
    });
    doorbell
}
