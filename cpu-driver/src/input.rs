//! Console input on the console owner: the UART's receive interrupt empties
//! the UART's FIFO into a buffer right away (the interrupt is level
//! triggered: it stays asserted until the FIFO is read), and the scheduler
//! later moves the bytes to programs blocked in `read`.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use heapless::Deque;

/// Bytes received and not yet handed to the kernel's input buffer. Only the
/// owner's first core touches it, with interrupts masked, never nested.
static RECEIVED: spin::Mutex<Deque<u8, 256>> = spin::Mutex::new(Deque::new());
/// Set when bytes wait in [`RECEIVED`].
static WAITING: AtomicBool = AtomicBool::new(false);
/// Bytes dropped because nobody read them in time.
pub static DROPPED: AtomicU64 = AtomicU64::new(0);

/// The UART interrupted: take everything it holds.
pub fn on_interrupt() {
    let Some(uart) = crate::owner::uart() else { return };
    let mut received = RECEIVED.lock();
    while let Some(b) = uart.read_byte() {
        if received.push_back(b).is_err() {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
    }
    WAITING.store(true, Ordering::Release);
}

/// Whether bytes wait to be taken.
pub fn waiting() -> bool {
    WAITING.load(Ordering::Acquire)
}

/// Moves received bytes to `to` (the kernel's input buffer); returns
/// whether there were any.
pub fn take(to: &mut Deque<u8, 1024>) -> bool {
    if !WAITING.swap(false, Ordering::Acquire) {
        return false;
    }
    let mut received = RECEIVED.lock();
    while let Some(b) = received.pop_front() {
        if to.push_back(b).is_err() {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
    }
    true
}
