//! The node's free RAM as 4 KiB frames: a bump pointer over frames never
//! used, and a free list threaded through returned frames (each free frame
//! holds the address of the next), so there is no metadata to size.

use crate::{Memory, PAGE};

/// The frame allocator of one node (callers hold the node's lock).
#[derive(Debug)]
pub struct Frames {
    next: u64,
    end: u64,
    /// Head of the free list (0: empty).
    free_head: u64,
    free_listed: u64,
    total: u64,
}

impl Frames {
    /// Frames of `[start, start + size)`, rounded inwards to pages.
    pub fn new(start: u64, size: u64) -> Self {
        let next = start.next_multiple_of(PAGE);
        let end = start.saturating_add(size) & !(PAGE - 1);
        let end = end.max(next);
        Frames { next, end, free_head: 0, free_listed: 0, total: (end - next) / PAGE }
    }

    /// A zeroed frame.
    pub fn alloc(&mut self, mem: &impl Memory) -> Option<u64> {
        let pa = self.take(mem)?;
        mem.zero_frame(pa);
        Some(pa)
    }

    /// A frame `fill` wrote: it gets the frame as it was left (a freed
    /// frame's old bytes) and must write every byte, so a page arriving
    /// from elsewhere is written once, not zeroed first.
    pub fn alloc_filled(&mut self, mem: &impl Memory, fill: impl FnOnce(&mut [u8; PAGE as usize])) -> Option<u64> {
        let pa = self.take(mem)?;
        // SAFETY: `pa` is a whole, page-aligned frame that nothing else
        // uses now (just taken off the list or the unused range).
        fill(unsafe { &mut *mem.frame(pa).cast::<[u8; PAGE as usize]>() });
        Some(pa)
    }

    /// A frame off the free list, else one never used; its bytes as left.
    fn take(&mut self, mem: &impl Memory) -> Option<u64> {
        if self.free_head != 0 {
            let pa = self.free_head;
            // SAFETY: a listed frame is ours and holds the next list entry.
            self.free_head = unsafe { mem.frame(pa).cast::<u64>().read() };
            self.free_listed -= 1;
            Some(pa)
        } else if self.next < self.end {
            self.next += PAGE;
            Some(self.next - PAGE)
        } else {
            None
        }
    }

    /// Returns a frame that [`Frames::alloc`] handed out.
    pub fn free(&mut self, mem: &impl Memory, pa: u64) {
        // SAFETY: the caller gives back a frame it owned and no longer uses.
        unsafe { mem.frame(pa).cast::<u64>().write(self.free_head) };
        self.free_head = pa;
        self.free_listed += 1;
    }

    /// Frames that can still be handed out.
    pub fn free_count(&self) -> u64 {
        (self.end - self.next) / PAGE + self.free_listed
    }

    /// Frames managed in all.
    pub fn total(&self) -> u64 {
        self.total
    }
}
