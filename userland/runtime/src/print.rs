//! Console output: `print!`/`println!` format into a buffer on the stack
//! and hand it to the kernel in as few `write` calls as possible, because
//! the kernel prints each call's lines whole and interleaves programs only
//! between calls.

use core::fmt;

/// Bytes formatted before a `write` is forced; longer output is written in
/// several calls.
const BUFFER: usize = user_abi::WRITE_MAX;

/// A formatting buffer that writes itself to the console when full and when
/// dropped.
pub struct Console {
    buf: [u8; BUFFER],
    len: usize,
}

impl Console {
    pub const fn new() -> Self {
        Console { buf: [0; BUFFER], len: 0 }
    }

    /// Writes what is buffered. Console errors are dropped: there is nowhere
    /// else to report them.
    pub fn flush(&mut self) {
        let mut done = 0;
        while done < self.len {
            match crate::write(&self.buf[done..self.len]) {
                Ok(0) | Err(_) => break,
                Ok(n) => done += n,
            }
        }
        self.len = 0;
    }
}

impl Default for Console {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s.as_bytes();
        while !rest.is_empty() {
            if self.len == BUFFER {
                self.flush();
            }
            let n = rest.len().min(BUFFER - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&rest[..n]);
            self.len += n;
            rest = &rest[n..];
        }
        Ok(())
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        self.flush();
    }
}

/// What `print!` expands to.
#[doc(hidden)]
pub fn _print(args: fmt::Arguments<'_>) {
    let mut console = Console::new();
    let _ = fmt::Write::write_fmt(&mut console, args);
}

/// Prints to the console with one `write` (for up to `WRITE_MAX` bytes).
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::_print(format_args!($($arg)*))
    };
}

/// Prints a line to the console with one `write` (for up to `WRITE_MAX` bytes).
#[macro_export]
macro_rules! println {
    () => {
        $crate::_print(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::_print(format_args!("{}\n", format_args!($($arg)*)))
    };
}
