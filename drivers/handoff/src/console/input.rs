//! Console input waiting for a reader, on the console owner.
//!
//! Up to `N` bytes of typeahead are kept. Beyond that, input is refused:
//! the byte that does not fit, and every byte after it until the reader has
//! taken everything before it, is dropped and counted, and the reader is
//! told once, in the place of the lost bytes ([`Lost`]), so that what came
//! before and what comes after are never read as one line.

/// The reader's notice that input was dropped at this point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lost;

pub struct InputQueue<const N: usize> {
    bytes: [u8; N],
    head: usize,
    len: usize,
    /// Input was lost after the bytes waiting (nothing is kept after a
    /// loss, so the loss point is always the end of the queue).
    lost: bool,
    dropped: u64,
}

impl<const N: usize> Default for InputQueue<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> InputQueue<N> {
    pub const fn new() -> Self {
        InputQueue { bytes: [0; N], head: 0, len: 0, lost: false, dropped: 0 }
    }

    /// Keeps `b`, or drops it; returns whether it was kept.
    pub fn push(&mut self, b: u8) -> bool {
        if self.lost || self.len == N {
            self.record_overrun();
            return false;
        }
        self.bytes[(self.head + self.len) % N] = b;
        self.len += 1;
        true
    }

    /// Whether a reader would get something now (bytes, or the notice).
    pub fn ready(&self) -> bool {
        self.len > 0 || self.lost
    }

    /// Takes bytes up to the loss point into `out`; at the loss point, the
    /// notice (once).
    pub fn take(&mut self, out: &mut [u8]) -> Result<usize, Lost> {
        if self.len == 0 && self.lost {
            self.lost = false;
            return Err(Lost);
        }
        let n = out.len().min(self.len);
        for o in out.iter_mut().take(n) {
            *o = self.bytes[self.head];
            self.head = (self.head + 1) % N;
        }
        self.len -= n;
        Ok(n)
    }

    /// Removes every `byte` waiting (keeping the order of the rest);
    /// returns whether there was one. Ctrl-C is taken out this way when it
    /// stops a foreground program instead of being read.
    pub fn remove_all(&mut self, byte: u8) -> bool {
        let mut kept = 0;
        for i in 0..self.len {
            let b = self.bytes[(self.head + i) % N];
            if b != byte {
                self.bytes[(self.head + kept) % N] = b;
                kept += 1;
            }
        }
        let removed = kept < self.len;
        self.len = kept;
        removed
    }

    /// Bytes waiting.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes dropped since boot.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Counts a byte lost before it reached the queue (a UART overrun).
    pub fn record_overrun(&mut self) {
        self.dropped += 1;
        self.lost = true;
    }
}
