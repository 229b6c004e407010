//! The console owner's side: turns every node's ring into one stream of
//! whole lines.
//!
//! A unit of text is printed as it was pushed, whatever its length. A line
//! left open (a prompt, or a line written in several calls) continues as
//! long as the same source (node and pid) writes next; if another source
//! writes first, the open line is closed with a newline and, when its
//! source goes on, the rest comes out on a new line that begins with
//! [`CONTINUATION`]. So no line is ever spliced into another. When a ring
//! reports units it had to drop, the owner says so in a line of its own:
//! `console: node N dropped K lines (T in all)`.

use super::ring::{ConsoleRing, End, SLOT_BYTES};
use crate::MAX_NODES;
use core::fmt::Write;

/// How the rest of an interrupted line begins.
pub const CONTINUATION: &[u8] = b"\\ ";

/// Interrupted lines remembered (older ones just lose their mark).
const BROKEN: usize = 8;

/// A writer: node and source (0: kernel, else pid).
type Writer = (usize, u32);

/// What the owner remembers between drains.
pub struct Printer {
    /// The writer whose line the console is in the middle of.
    open: Option<Writer>,
    /// Writers whose open line was closed for someone else's.
    broken: [Option<Writer>; BROKEN],
    next_broken: usize,
    /// Each ring's drop count as last reported.
    reported: [u32; MAX_NODES],
}

impl Default for Printer {
    fn default() -> Self {
        Printer::new()
    }
}

impl Printer {
    pub const fn new() -> Self {
        Printer { open: None, broken: [None; BROKEN], next_broken: 0, reported: [0; MAX_NODES] }
    }

    /// Prints everything `rings` (node id, ring) hold through `out`;
    /// returns whether there was anything.
    pub fn drain<'r>(
        &mut self,
        rings: impl Iterator<Item = (usize, &'r ConsoleRing)>,
        out: &mut impl FnMut(&[u8]),
    ) -> bool {
        let mut buf = [0u8; SLOT_BYTES];
        let mut any = false;
        for (node, ring) in rings {
            self.report_drops(node, ring, out);
            while let Some(piece) = ring.pop(&mut buf) {
                any = true;
                self.print(node, piece.source, &buf[..piece.len], piece.end, out);
            }
        }
        any
    }

    fn print(&mut self, node: usize, source: u32, text: &[u8], end: Option<End>, out: &mut impl FnMut(&[u8])) {
        let writer = (node, source);
        if self.open != Some(writer) {
            self.close(out);
            if self.take_broken(writer) {
                out(CONTINUATION);
            }
        }
        out(text);
        if end == Some(End::Newline) {
            out(b"\n");
            self.open = None;
        } else {
            // More of this unit follows, or the line stays open.
            self.open = Some(writer);
        }
    }

    /// Ends the open line, if any, remembering whose it was.
    fn close(&mut self, out: &mut impl FnMut(&[u8])) {
        if let Some(w) = self.open.take() {
            out(b"\n");
            if !self.broken.contains(&Some(w)) {
                self.broken[self.next_broken] = Some(w);
                self.next_broken = (self.next_broken + 1) % BROKEN;
            }
        }
    }

    fn take_broken(&mut self, writer: Writer) -> bool {
        match self.broken.iter_mut().find(|b| **b == Some(writer)) {
            Some(b) => {
                *b = None;
                true
            }
            None => false,
        }
    }

    fn report_drops(&mut self, node: usize, ring: &ConsoleRing, out: &mut impl FnMut(&[u8])) {
        let Some(seen) = self.reported.get_mut(node) else { return };
        let dropped = ring.dropped();
        if dropped == *seen {
            return;
        }
        let new = dropped.wrapping_sub(*seen);
        *seen = dropped;
        let mut line = LineBuf::default();
        let _ = write!(line, "console: node {node} dropped {new} lines ({dropped} in all)");
        self.print(usize::MAX, 0, line.as_bytes(), Some(End::Newline), out);
    }
}

/// A short formatted line.
struct LineBuf {
    buf: [u8; 96],
    len: usize,
}

impl Default for LineBuf {
    fn default() -> Self {
        LineBuf { buf: [0; 96], len: 0 }
    }
}

impl LineBuf {
    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Write for LineBuf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}
