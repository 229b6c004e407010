//! Console input on the console owner: the UART's receive interrupt empties
//! the UART's FIFO into the typeahead queue right away (the interrupt is
//! level triggered: it stays asserted until the FIFO is read), and the
//! scheduler later hands the bytes to programs blocked in `read` or in a
//! `wait` for input, or, for Ctrl-C, ends the console's foreground program.

use crate::devices::uart::ConsoleDevice;
use core::sync::atomic::{AtomicBool, Ordering};
use handoff::console::{InputQueue, Lost};
use user_abi::TYPEAHEAD_BYTES;

/// Ctrl-C.
pub const INTERRUPT: u8 = 0x03;

/// Bytes received and not yet read. Taken by the owner's first core from
/// its interrupt path (never nested) and by readers under the node lock.
static TYPEAHEAD: spin::Mutex<InputQueue<TYPEAHEAD_BYTES>> = spin::Mutex::new(InputQueue::new());
/// Set when input arrived that the scheduler has not looked at yet. Both
/// `static`s: the interrupt path has no context to be handed.
static ARRIVED: AtomicBool = AtomicBool::new(false);

/// The UART interrupted: take everything it holds.
pub fn on_interrupt() {
    let Some(uart) = crate::devices::uart::console() else { return };
    let mut queue = TYPEAHEAD.lock();
    while let Some((b, overrun)) = uart.receive() {
        if overrun {
            queue.record_overrun();
        }
        queue.push(b);
    }
    ARRIVED.store(true, Ordering::Release);
}

/// Whether input arrived since the last call (for the scheduler).
pub fn take_arrival() -> bool {
    ARRIVED.swap(false, Ordering::Acquire)
}

/// Whether a reader would get something now.
pub fn ready() -> bool {
    TYPEAHEAD.lock().ready()
}

/// Takes waiting Ctrl-Cs out of the input; whether there was one.
pub fn take_interrupts() -> bool {
    TYPEAHEAD.lock().remove_all(INTERRUPT)
}

/// Reads input into `out`: bytes, or the notice that input was lost here.
pub fn read(out: &mut [u8]) -> Result<usize, Lost> {
    TYPEAHEAD.lock().take(out)
}

/// Input bytes refused since boot.
pub fn dropped() -> u64 {
    TYPEAHEAD.lock().dropped()
}
