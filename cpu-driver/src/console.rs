//! Printing from a node: lines go into the node's console ring in the shared
//! region; the boot node drains every ring to the UART (see [`crate::owner`]).

use crate::{gic, node};
use core::fmt::{self, Write};
use core::sync::atomic::Ordering;
use handoff::console::{DOORBELL_VALID, LINE_BYTES};

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

/// Queues an already formatted line and rings the console owner.
pub fn emit(line: &Line) {
    let Some(node) = node::get() else { return };
    if let Some(console) = node.own_console() {
        console.ring.push(line.as_bytes());
    }
    ring_owner(&node);
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
