//! Node RAM stood in for by a heap buffer, and ELF files built by hand, for
//! host tests and fuzzing (feature `host`): one definition instead of one
//! per test file.

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

/// One `PT_LOAD` of [`elf_file`]: address, flags (R=4, W=2, X=1), file
/// bytes, size in memory.
pub struct Segment {
    pub va: u64,
    pub flags: u32,
    pub data: Vec<u8>,
    pub memsz: u64,
}

/// ELF's number for AArch64 (`e_machine`).
pub const EM_AARCH64: u16 = 183;

/// A little-endian ELF64 executable for `machine` with `segments` and `entry`.
pub fn elf_file(machine: u16, entry: u64, segments: &[Segment]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    out.extend_from_slice(&machine.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&entry.to_le_bytes());
    out.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
    out.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    out.extend_from_slice(&0u32.to_le_bytes());
    for v in [64u16, 56, segments.len() as u16, 64, 0, 0] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    let mut offset = 64 + 56 * segments.len() as u64;
    for s in segments {
        out.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
        out.extend_from_slice(&s.flags.to_le_bytes());
        for v in [offset, s.va, s.va, s.data.len() as u64, s.memsz, PAGE] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        offset += s.data.len() as u64;
    }
    for s in segments {
        out.extend_from_slice(&s.data);
    }
    out
}
