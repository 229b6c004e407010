//! The boot driver's console: direct PL011 writes (it runs alone, before
//! any node owns the UART).

use core::fmt;

/// A console for the boot core only.
pub struct Early(pl011::Pl011);

impl Early {
    pub fn new(uart: pl011::Pl011) -> Self {
        uart.enable();
        Early(uart)
    }

    /// Waits until everything written has left the UART.
    pub fn flush(&self) {
        self.0.flush();
    }
}

impl fmt::Write for Early {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.write_bytes(s.as_bytes());
        Ok(())
    }
}
