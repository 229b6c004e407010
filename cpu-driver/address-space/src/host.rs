//! Node RAM stood in for by a heap buffer, for host tests and fuzzing
//! (feature `host`): one definition instead of one per test file.

extern crate alloc;

use crate::{Frames, Memory, PAGE};
use alloc::vec::Vec;

/// `pages` frames of RAM at physical address `base`, filled with `fill`
/// (garbage shows whether a frame is zeroed before use).
pub struct HostRam {
    bytes: Vec<u8>,
    ptr: *mut u8,
    base: u64,
}

impl HostRam {
    /// The RAM and the frame allocator over all of it.
    pub fn new(base: u64, pages: u64, fill: u8) -> (HostRam, Frames) {
        let mut bytes = alloc::vec![fill; (pages * PAGE) as usize];
        let ptr = bytes.as_mut_ptr();
        (HostRam { bytes, ptr, base }, Frames::new(base, pages * PAGE))
    }
}

impl Memory for HostRam {
    /// Panics on a frame outside the buffer: a test's way of catching a
    /// stray physical address.
    fn frame(&self, pa: u64) -> *mut u8 {
        let at = pa.checked_sub(self.base).and_then(|a| usize::try_from(a).ok()).expect("frame below RAM");
        assert!(at + PAGE as usize <= self.bytes.len(), "frame {pa:#x} outside RAM");
        // The pointer came from the buffer's own mutable pointer, so
        // writing through it is allowed; `at` is inside the buffer.
        self.ptr.wrapping_add(at)
    }
}
