//! Printing from a node: lines go into the node's console ring in the shared
//! region; the boot node drains every ring to the UART (see [`crate::owner`]).
//!
//! Every core of the node produces into the one ring, so producers take the
//! node's console lock. Kernel lines never wait (a full ring drops them and
//! counts it); a program's output waits for room, so it is never lost.

use crate::{gic, node, time};
use core::fmt::{self, Write};
use core::sync::atomic::Ordering;
use handoff::console::{DOORBELL_VALID, LINE_BYTES};

/// Serialises the node's cores as producers of its one console ring.
static PRODUCER: spin::Mutex<()> = spin::Mutex::new(());

/// A line being formatted; overflow is cut, never an error.
pub struct Line {
    buf: [u8; LINE_BYTES],
    len: usize,
}

impl Line {
    pub const fn new() -> Self {
        Line { buf: [0; LINE_BYTES], len: 0 }
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
    fn clear(&mut self) {
        self.len = 0;
    }
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(LINE_BYTES - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Formats one line, queues it on this node's ring and rings the console owner.
pub fn print_line(args: fmt::Arguments<'_>) {
    let mut line = Line::new();
    let _ = line.write_fmt(args);
    emit(&line);
}

/// Queues an already formatted kernel line and rings the console owner.
pub fn emit(line: &Line) {
    emit_text(line.as_bytes(), true, false);
}

/// Queues text (followed by a newline when printed, or not); with `wait`,
/// waits for room rather than dropping it.
fn emit_text(bytes: &[u8], newline: bool, wait: bool) {
    let Some(node) = node::get() else { return };
    let Some(console) = node.own_console() else { return };
    loop {
        let done = {
            let _producer = PRODUCER.lock();
            if wait && console.ring.is_full() {
                false
            } else {
                console.ring.push_text(bytes, newline);
                true
            }
        };
        ring_owner(&node);
        if done {
            return;
        }
        // The owner's first core drains the rings itself; anyone else
        // waits for it (a doorbell woke it above).
        if node.info.is_boot_node() && crate::sched::this_core() == 0 {
            crate::owner::drain(&node);
        } else {
            time::nap(50);
        }
    }
}

/// A program's `write`: whole lines are queued as they end; the bytes of a
/// line not yet ended stay in `line` until [`flush_partial`].
pub fn write_user(line: &mut Line, bytes: &[u8]) {
    for &b in bytes {
        if b == b'\n' {
            emit_text(line.as_bytes(), true, true);
            line.clear();
            continue;
        }
        if line.len == LINE_BYTES {
            emit_text(line.as_bytes(), false, true);
            line.clear();
        }
        line.buf[line.len] = b;
        line.len += 1;
    }
    flush_partial(line, true);
}

/// Queues the unended part of a program's line, without a newline (a
/// prompt, an echoed key). Without `wait` (the program is ending, under
/// the node lock) a full ring drops it.
pub fn flush_partial(line: &mut Line, wait: bool) {
    if line.len > 0 {
        emit_text(line.as_bytes(), false, wait);
        line.clear();
    }
}

/// Wakes the console owner, once it has published its doorbell.
pub fn ring_owner(node: &node::Node) {
    let bell = node.own_console().map_or(0, |c| c.owner.bell.load(Ordering::Acquire));
    if bell & DOORBELL_VALID != 0 {
        gic::ring(bell & !DOORBELL_VALID);
    }
}

/// `println!` for kernel code: one console line per call.
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => { $crate::console::print_line(format_args!($($arg)*)) };
}
