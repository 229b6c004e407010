//! The console UART: one device for the whole machine, driven only by the
//! node that owns the console (the boot node), which takes it at boot.
//! Other code reaches it as a [`ConsoleDevice`], so the PL011 of today and a
//! 16550 (RK3588) are two implementations of one trait.

use core::sync::atomic::{AtomicU64, Ordering};
use pl011::Pl011;

/// What the kernel does with a console UART.
pub trait ConsoleDevice: core::fmt::Write {
    /// Turns the device and its transmitter on, if the firmware left them off.
    fn enable(&self);
    /// Turns the receiver and its interrupt on.
    fn enable_input(&self);
    /// Writes bytes, waiting while the transmit FIFO is full.
    fn write_bytes(&self, bytes: &[u8]);
    /// The next received byte, and whether input was lost before it.
    fn receive(&self) -> Option<(u8, bool)>;
    /// Waits until everything written has left the device.
    fn flush(&self);
}

impl ConsoleDevice for Pl011 {
    fn enable(&self) {
        Pl011::enable(self);
    }
    fn enable_input(&self) {
        Pl011::enable_input(self);
    }
    fn write_bytes(&self, bytes: &[u8]) {
        Pl011::write_bytes(self, bytes);
    }
    fn receive(&self) -> Option<(u8, bool)> {
        Pl011::receive(self)
    }
    fn flush(&self) {
        Pl011::flush(self);
    }
}

/// The console UART's mapped address (0 until the boot node takes it). A
/// `static` because the fault and panic paths must reach it with nothing
/// else working.
static UART: AtomicU64 = AtomicU64::new(0);

/// The boot node takes the UART mapped at `va` as its console.
pub fn take(va: u64) {
    UART.store(va, Ordering::Release);
}

/// The console, if this node owns it.
pub fn console() -> Option<impl ConsoleDevice> {
    let base = UART.load(Ordering::Acquire);
    // SAFETY: only the boot node stores here, the VA at which its tables map
    // the PL011 the device tree names as console.
    (base != 0).then(|| unsafe { Pl011::new(base as usize) })
}
