//! Memory of one kernel node as its CPU driver manages it: the page frames
//! of the node's free RAM ([`Frames`]), the user half of each program's
//! address space ([`UserSpace`]), and a program's space built from its ELF
//! file ([`program::load`]).
//!
//! The kernel never dereferences a user virtual address. A system call's
//! pointer is translated through the caller's own tables ([`UserSpace::copy_in`],
//! [`UserSpace::copy_out`]) and the bytes are copied through the kernel's
//! map of the frame. So a bad pointer is an error code, never a kernel
//! fault, and PAN can stay on in the kernel all the time.
//!
//! Frames are reached through [`Memory`]: the kernel maps the node's RAM
//! linearly; the host tests use a plain buffer.

#![no_std]

mod frames;
#[cfg(feature = "host")]
pub mod host;
pub mod program;
mod user;

pub use frames::Frames;
pub use user::{Perm, UserSpace};

/// Bytes of a page (4 KiB granule).
pub const PAGE: u64 = 4096;

/// Physical memory as the kernel reaches it.
pub trait Memory {
    /// The kernel's pointer to the start of the page frame at `pa`. Only
    /// called with frames that [`Frames`] handed out (or is about to).
    fn frame(&self, pa: u64) -> *mut u8;
    /// Zeroes the frame at `pa`, one that [`Frames`] is handing out (so
    /// nothing else uses it). A kernel may do it faster than a byte loop
    /// (`DC ZVA`): every new program's stack and heap are zeroed pages.
    fn zero_frame(&self, pa: u64) {
        // SAFETY: by the contract above, the frame is whole and unused.
        unsafe { core::ptr::write_bytes(self.frame(pa), 0, PAGE as usize) };
    }
    /// Whether the frame at `pa` holds only zeros, read in place a word at
    /// a time (assembling words from bytes took 25 instructions a word: 25
    /// ms of a paced LITTLE core for a program's hundred pages of zeros).
    /// The caller keeps whoever owns the frame from writing it meanwhile
    /// (a parked process's page).
    fn frame_is_zero(&self, pa: u64) -> bool {
        // SAFETY: by the contract above, a whole frame reached through the
        // kernel's map, and nothing writes it while it is read.
        let page = unsafe { &*self.frame(pa).cast::<[u8; PAGE as usize]>() };
        // SAFETY: every bit pattern is a valid u64; `align_to` leaves any
        // unaligned bytes (a host test's buffer) in `head` and `tail`.
        let (head, words, tail) = unsafe { page.align_to::<u64>() };
        head.iter().chain(tail).all(|&b| b == 0) && words.iter().all(|&w| w == 0)
    }
    /// Copies the frame at `pa` into `out` (a page leaving in a move).
    /// The caller keeps whoever owns the frame from writing it meanwhile.
    fn copy_frame_out(&self, pa: u64, out: &mut [u8; PAGE as usize]) {
        // SAFETY: by the contract above, a whole frame that nothing writes
        // meanwhile; `out` is the caller's own page, not that frame.
        unsafe { core::ptr::copy_nonoverlapping(self.frame(pa).cast_const(), out.as_mut_ptr(), PAGE as usize) };
    }
}

/// Why a mapping could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapError {
    /// No frame left for a table or a page.
    NoMemory,
    /// The address is outside the user half or not page aligned.
    BadAddress,
    /// Something is mapped there already.
    Occupied,
}

/// A user pointer or length the program may not use that way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPointer;
