//! Address-space IDs without a TLB flush per program. An ended program's
//! ASID is not handed out again until every core's TLB has been rid of
//! every user translation, which happens once, when only such stale ASIDs
//! are left: one broadcast invalidation per 255 programs instead of two per
//! program (under QEMU a broadcast stops every vCPU, and costs
//! milliseconds on a busy machine).

/// The ASIDs of one node (8-bit: 255 for programs, 0 is the kernel's).
#[derive(Debug, Clone, Copy)]
pub struct Asids {
    /// Taken: by a live space, or stale (ended, maybe still in a TLB).
    taken: [u64; 4],
    stale: [u64; 4],
    /// Broadcast flushes so far.
    pub flushes: u64,
}

impl Asids {
    pub const fn new() -> Self {
        Asids { taken: [1, 0, 0, 0], stale: [0; 4], flushes: 0 }
    }

    /// A fresh ASID (no TLB holds anything of it); when none is left but
    /// stale ones, `flush_all` rids every core's TLB of every user
    /// translation first and the stale ones are fresh again.
    pub fn take(&mut self, flush_all: impl FnOnce()) -> Option<u16> {
        if let Some(a) = first_clear(&mut self.taken) {
            return Some(a);
        }
        if self.stale == [0; 4] {
            return None;
        }
        flush_all();
        self.flushes += 1;
        for (t, s) in self.taken.iter_mut().zip(self.stale.iter_mut()) {
            *t &= !*s;
            *s = 0;
        }
        first_clear(&mut self.taken)
    }

    /// `asid`'s space ended: its translations may linger in TLBs until the
    /// next flush, so it stays taken until then.
    pub fn retire(&mut self, asid: u16) {
        let (w, bit) = (usize::from(asid / 64) % 4, asid % 64);
        if self.taken[w] & (1 << bit) != 0 && asid != 0 {
            self.stale[w] |= 1 << bit;
        }
    }

    /// `asid` was taken but never loaded by any core: fresh again at once.
    pub fn give_back(&mut self, asid: u16) {
        if asid != 0 {
            self.taken[usize::from(asid / 64) % 4] &= !(1 << (asid % 64));
        }
    }

    /// ASIDs taken, stale ones included.
    pub fn taken(&self) -> u32 {
        self.taken.iter().map(|w| w.count_ones()).sum()
    }
}

impl Default for Asids {
    fn default() -> Self {
        Self::new()
    }
}

fn first_clear(words: &mut [u64; 4]) -> Option<u16> {
    for (w, word) in words.iter_mut().enumerate() {
        if *word != u64::MAX {
            let bit = (!*word).trailing_zeros();
            *word |= 1 << bit;
            return Some((w * 64) as u16 + bit as u16);
        }
    }
    None
}
