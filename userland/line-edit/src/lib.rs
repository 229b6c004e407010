//! The shell's line discipline: what a serial terminal sends, byte by byte,
//! turned into command lines and the echo that shows them being typed.
//!
//! A line ends at CR, LF or CR LF (the LF after a CR belongs to the same
//! end), so pasted text runs line by line whatever its line ends.
//! Backspace and DEL erase, Ctrl-C drops the line, ANSI escape sequences
//! (arrow keys) are skipped, tabs are spaces, other control bytes are
//! ignored. A line longer than `MAX` bytes is refused once, when it gets
//! too long, and what follows is ignored up to its end.

#![no_std]

/// Ctrl-C.
pub const INTERRUPT: u8 = 0x03;

/// What a byte completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A line ended; [`LineEditor::line`] holds it until the next byte.
    Line,
    /// Ctrl-C dropped the line being typed.
    Cancel,
    /// The line outgrew `MAX` bytes: it is dropped, and so is the rest of
    /// it up to its end.
    TooLong,
    /// A line that was refused as too long has ended.
    TooLongEnded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    None,
    /// After ESC.
    Started,
    /// After ESC [: parameters until a final byte.
    Sequence,
}

pub struct LineEditor<const MAX: usize> {
    buf: [u8; MAX],
    len: usize,
    /// The last byte was a CR: an LF now ends nothing.
    after_cr: bool,
    /// Skipping the rest of a line that was too long.
    skipping: bool,
    /// The line was handed out: the next byte starts a new one.
    done: bool,
    escape: Escape,
}

impl<const MAX: usize> Default for LineEditor<MAX> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const MAX: usize> LineEditor<MAX> {
    pub const fn new() -> Self {
        LineEditor { buf: [0; MAX], len: 0, after_cr: false, skipping: false, done: false, escape: Escape::None }
    }

    /// The line typed so far (or, after [`Action::Line`], the whole line).
    pub fn line(&self) -> &str {
        // Only printable ASCII is ever stored.
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }

    /// The line being typed ("" right after one ended): what to show again
    /// after other output.
    pub fn typed(&self) -> &str {
        if self.done {
            ""
        } else {
            self.line()
        }
    }

    /// Forgets the line being typed (input was lost in the middle of it).
    pub fn discard(&mut self) {
        self.len = 0;
        self.skipping = false;
        self.escape = Escape::None;
    }

    /// Takes one byte; `echo` receives what the terminal should show.
    pub fn feed(&mut self, b: u8, echo: &mut impl FnMut(&[u8])) -> Option<Action> {
        if core::mem::take(&mut self.done) {
            self.len = 0;
        }
        let after_cr = core::mem::replace(&mut self.after_cr, b == b'\r');
        match self.escape {
            Escape::Started => {
                self.escape = if b == b'[' { Escape::Sequence } else { Escape::None };
                return None;
            }
            Escape::Sequence => {
                if (0x40..=0x7e).contains(&b) {
                    self.escape = Escape::None;
                }
                return None;
            }
            Escape::None => {}
        }
        match b {
            b'\n' if after_cr => None,
            b'\r' | b'\n' => {
                echo(b"\n");
                if core::mem::take(&mut self.skipping) {
                    self.len = 0;
                    return Some(Action::TooLongEnded);
                }
                self.done = true;
                Some(Action::Line)
            }
            _ if self.skipping => None,
            0x7f | 0x08 => {
                if self.len > 0 {
                    self.len -= 1;
                    echo(b"\x08 \x08");
                }
                None
            }
            INTERRUPT => {
                self.len = 0;
                echo(b"^C\n");
                Some(Action::Cancel)
            }
            0x1b => {
                self.escape = Escape::Started;
                None
            }
            b'\t' | 0x20..=0x7e => {
                if self.len == MAX {
                    self.len = 0;
                    self.skipping = true;
                    echo(b"\n");
                    return Some(Action::TooLong);
                }
                let b = if b == b'\t' { b' ' } else { b };
                self.buf[self.len] = b;
                self.len += 1;
                echo(&[b]);
                None
            }
            _ => None,
        }
    }
}
