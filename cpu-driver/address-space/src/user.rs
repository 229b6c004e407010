//! The user half (TTBR0) of one program: 39-bit VA, 4 KiB pages, three
//! levels, every leaf non-global (tagged with the program's ASID), never
//! executable by the kernel (PXN), and writable or executable, never both.

use crate::{BadPointer, Frames, MapError, Memory, PAGE};

use handoff::paging::desc::{
    ADDR_MASK as ADDR, AF, AP_EL0 as AP_EL0_RW, AP_READ_ONLY, ATTR_NORMAL, NOT_GLOBAL, PXN, SH_INNER, TABLE_OR_PAGE,
    UXN, VALID,
};

const ENTRIES: u64 = 512;
/// End of the user half.
const USER_TOP: u64 = 1 << 39;

/// What a program may do with a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Perm {
    /// Read and execute.
    Code,
    /// Read only.
    ReadOnly,
    /// Read and write, never execute.
    ReadWrite,
}

impl Perm {
    fn bits(self) -> u64 {
        let common = VALID | TABLE_OR_PAGE | ATTR_NORMAL | SH_INNER | AF | NOT_GLOBAL | PXN;
        match self {
            Perm::Code => common | AP_EL0_RW | AP_READ_ONLY,
            Perm::ReadOnly => common | AP_EL0_RW | AP_READ_ONLY | UXN,
            Perm::ReadWrite => common | AP_EL0_RW | UXN,
        }
    }

    fn of(desc: u64) -> Perm {
        match (desc & AP_READ_ONLY != 0, desc & UXN != 0) {
            (true, false) => Perm::Code,
            (true, true) => Perm::ReadOnly,
            _ => Perm::ReadWrite,
        }
    }

    pub fn writable(self) -> bool {
        self == Perm::ReadWrite
    }
}

/// One program's user address space.
#[derive(Debug)]
pub struct UserSpace {
    root: u64,
    asid: u16,
}

fn index(va: u64, level: u32) -> u64 {
    (va >> (12 + 9 * (3 - level))) & (ENTRIES - 1)
}

fn entry(mem: &impl Memory, table: u64, i: u64) -> *mut u64 {
    // SAFETY (of the pointer arithmetic): `i` < 512, inside the table's frame.
    mem.frame(table).cast::<u64>().wrapping_add(i as usize)
}

fn read(mem: &impl Memory, table: u64, i: u64) -> u64 {
    // SAFETY: tables are frames this space owns; `i` < 512.
    unsafe { entry(mem, table, i).read_volatile() }
}

fn write(mem: &impl Memory, table: u64, i: u64, desc: u64) {
    // SAFETY: as in `read`; the caller holds the node's lock, so no one
    // else edits this space's tables.
    unsafe { entry(mem, table, i).write_volatile(desc) }
}

impl UserSpace {
    /// No space at all (what an ended process holds).
    pub const EMPTY: UserSpace = UserSpace { root: 0, asid: 0 };

    pub fn is_empty(&self) -> bool {
        self.root == 0
    }

    /// An empty space tagged `asid`.
    pub fn new(frames: &mut Frames, mem: &impl Memory, asid: u16) -> Result<Self, MapError> {
        let root = frames.alloc(mem).ok_or(MapError::NoMemory)?;
        Ok(UserSpace { root, asid })
    }

    /// TTBR0_EL1 for this space (ASID in bits 48..64).
    pub fn ttbr0(&self) -> u64 {
        (u64::from(self.asid) << 48) | self.root
    }

    pub fn asid(&self) -> u16 {
        self.asid
    }

    /// The last-level table covering `va`, made if `make` and absent.
    fn leaf_table(&self, frames: &mut Frames, mem: &impl Memory, va: u64, make: bool) -> Result<u64, MapError> {
        let mut table = self.root;
        for level in 1..3 {
            let i = index(va, level);
            let desc = read(mem, table, i);
            table = if desc & VALID != 0 {
                desc & ADDR
            } else if make {
                let new = frames.alloc(mem).ok_or(MapError::NoMemory)?;
                write(mem, table, i, new | VALID | TABLE_OR_PAGE);
                new
            } else {
                return Err(MapError::BadAddress);
            };
        }
        Ok(table)
    }

    /// Maps the page at `va` to frame `pa`.
    pub fn map(
        &mut self,
        frames: &mut Frames,
        mem: &impl Memory,
        va: u64,
        pa: u64,
        perm: Perm,
    ) -> Result<(), MapError> {
        if !va.is_multiple_of(PAGE) || va >= USER_TOP || !pa.is_multiple_of(PAGE) {
            return Err(MapError::BadAddress);
        }
        let table = self.leaf_table(frames, mem, va, true)?;
        let i = index(va, 3);
        if read(mem, table, i) & VALID != 0 {
            return Err(MapError::Occupied);
        }
        write(mem, table, i, pa | perm.bits());
        Ok(())
    }

    /// Maps a fresh zeroed frame at `va`; returns it.
    pub fn map_new(&mut self, frames: &mut Frames, mem: &impl Memory, va: u64, perm: Perm) -> Result<u64, MapError> {
        let pa = frames.alloc(mem).ok_or(MapError::NoMemory)?;
        self.map_or_free(frames, mem, va, pa, perm)
    }

    /// Maps a fresh frame at `va` that `fill` wrote whole before it is
    /// mapped ([`Frames::alloc_filled`]); returns it.
    pub fn map_new_filled(
        &mut self,
        frames: &mut Frames,
        mem: &impl Memory,
        va: u64,
        perm: Perm,
        fill: impl FnOnce(&mut [u8; PAGE as usize]),
    ) -> Result<u64, MapError> {
        let pa = frames.alloc_filled(mem, fill).ok_or(MapError::NoMemory)?;
        self.map_or_free(frames, mem, va, pa, perm)
    }

    /// Maps the fresh frame `pa` at `va`, or gives it back.
    fn map_or_free(
        &mut self,
        frames: &mut Frames,
        mem: &impl Memory,
        va: u64,
        pa: u64,
        perm: Perm,
    ) -> Result<u64, MapError> {
        match self.map(frames, mem, va, pa, perm) {
            Ok(()) => Ok(pa),
            Err(e) => {
                frames.free(mem, pa);
                Err(e)
            }
        }
    }

    /// Unmaps the page at `va` and returns its frame (the caller frees it
    /// once the TLB no longer holds it).
    pub fn unmap(&mut self, mem: &impl Memory, va: u64) -> Option<u64> {
        let mut table = self.root;
        for level in 1..3 {
            let desc = read(mem, table, index(va, level));
            if desc & VALID == 0 || va >= USER_TOP {
                return None;
            }
            table = desc & ADDR;
        }
        let i = index(va, 3);
        let desc = read(mem, table, i);
        if desc & VALID == 0 {
            return None;
        }
        write(mem, table, i, 0);
        Some(desc & ADDR)
    }

    /// The frame and permission of the page holding `va`.
    pub fn translate(&self, mem: &impl Memory, va: u64) -> Option<(u64, Perm)> {
        if va >= USER_TOP {
            return None;
        }
        let mut table = self.root;
        for level in 1..4 {
            let desc = read(mem, table, index(va, level));
            if desc & VALID == 0 {
                return None;
            }
            if level == 3 {
                return Some(((desc & ADDR) + (va % PAGE), Perm::of(desc)));
            }
            table = desc & ADDR;
        }
        None
    }

    /// Calls `f(kernel_ptr, len)` for each piece of `[va, va + len)`, page
    /// by page, after checking the whole range is mapped (and writable if
    /// `write`): nothing is touched unless all of it is valid.
    fn for_each_piece(
        &self,
        mem: &impl Memory,
        va: u64,
        len: usize,
        write: bool,
        mut f: impl FnMut(*mut u8, usize, usize),
    ) -> Result<(), BadPointer> {
        let end = va.checked_add(len as u64).ok_or(BadPointer)?;
        if end > USER_TOP {
            return Err(BadPointer);
        }
        for pass in 0..2 {
            let (mut at, mut done) = (va, 0usize);
            while at < end {
                let (pa, perm) = self.translate(mem, at).ok_or(BadPointer)?;
                if write && !perm.writable() {
                    return Err(BadPointer);
                }
                let n = ((PAGE - at % PAGE).min(end - at)) as usize;
                if pass == 1 {
                    f(mem.frame(pa & !(PAGE - 1)).wrapping_add((pa % PAGE) as usize), n, done);
                }
                at += n as u64;
                done += n;
            }
        }
        Ok(())
    }

    /// Checks that `[va, va + len)` is mapped (and writable if `write`).
    pub fn check(&self, mem: &impl Memory, va: u64, len: usize, write: bool) -> Result<(), BadPointer> {
        self.for_each_piece(mem, va, len, write, |_, _, _| {})
    }

    /// Writes `data` at `va` whatever the pages' permissions: how the
    /// kernel fills a program's code and read-only data.
    pub fn load(&self, mem: &impl Memory, va: u64, data: &[u8]) -> Result<(), BadPointer> {
        self.for_each_piece(mem, va, data.len(), false, |dst, n, done| {
            // SAFETY: `dst..dst+n` lies in one mapped user frame (checked).
            unsafe { core::ptr::copy_nonoverlapping(data[done..].as_ptr(), dst, n) }
        })
    }

    /// Copies `out.len()` bytes from user address `va`.
    pub fn copy_in(&self, mem: &impl Memory, va: u64, out: &mut [u8]) -> Result<(), BadPointer> {
        self.for_each_piece(mem, va, out.len(), false, |src, n, done| {
            // SAFETY: `src..src+n` lies in one mapped user frame (checked),
            // reached through the kernel's map; `out` is kernel memory.
            unsafe { core::ptr::copy_nonoverlapping(src, out[done..].as_mut_ptr(), n) }
        })
    }

    /// Copies `data` to user address `va`, which must be writable.
    pub fn copy_out(&self, mem: &impl Memory, va: u64, data: &[u8]) -> Result<(), BadPointer> {
        self.for_each_piece(mem, va, data.len(), true, |dst, n, done| {
            // SAFETY: `dst..dst+n` lies in one writable user frame (checked).
            unsafe { core::ptr::copy_nonoverlapping(data[done..].as_ptr(), dst, n) }
        })
    }

    /// Copies the page mapped at `va` into `out` ([`Memory::copy_frame_out`];
    /// `None`: nothing mapped there). The caller keeps the space's programs
    /// from running meanwhile (a parked process).
    pub fn copy_page_out(&self, mem: &impl Memory, va: u64, out: &mut [u8; PAGE as usize]) -> Option<()> {
        let (pa, _) = self.translate(mem, va & !(PAGE - 1))?;
        mem.copy_frame_out(pa, out);
        Some(())
    }

    /// Whether the page mapped at `va` holds only zeros (`None`: nothing
    /// mapped there), read in place ([`Memory::frame_is_zero`]): a page of
    /// zeros need not be copied to be known. The caller keeps the space's
    /// programs from running meanwhile (a parked process).
    pub fn page_is_zero(&self, mem: &impl Memory, va: u64) -> Option<bool> {
        let (pa, _) = self.translate(mem, va & !(PAGE - 1))?;
        Some(mem.frame_is_zero(pa))
    }

    /// The first page mapped at or after `from`: its address, frame and
    /// permission. Each table is scanned from the entry `from` falls in,
    /// and empty entries are skipped whole: a walk over a space costs its
    /// tables' entries, not a walk from the root per empty page (a move's
    /// export spent most of its instructions stepping through the unmapped
    /// ends of its stack's and heap's tables that way).
    pub fn next_page(&self, mem: &impl Memory, from: u64) -> Option<(u64, u64, Perm)> {
        if self.is_empty() || from >= USER_TOP {
            return None;
        }
        next_in(mem, self.root, 1, from & !(PAGE - 1))
    }

    /// Frees every page and table of the space.
    pub fn destroy(self, frames: &mut Frames, mem: &impl Memory) {
        if self.is_empty() {
            return;
        }
        free_level(frames, mem, self.root, 1);
    }
}

/// The first page mapped at or after `from` under `table`, a table of
/// `level` (1 to 3) whose range holds `from`.
fn next_in(mem: &impl Memory, table: u64, level: u32, from: u64) -> Option<(u64, u64, Perm)> {
    let span = 1u64 << (12 + 9 * (3 - level));
    let base = from & !(span * ENTRIES - 1);
    for i in index(from, level)..ENTRIES {
        let desc = read(mem, table, i);
        if desc & VALID == 0 {
            continue;
        }
        let va = base + i * span;
        if level == 3 {
            return Some((va, desc & ADDR, Perm::of(desc)));
        }
        if let Some(found) = next_in(mem, desc & ADDR, level + 1, va.max(from)) {
            return Some(found);
        }
    }
    None
}

fn free_level(frames: &mut Frames, mem: &impl Memory, table: u64, level: u32) {
    for i in 0..ENTRIES {
        let desc = read(mem, table, i);
        if desc & VALID == 0 {
            continue;
        }
        if level < 3 {
            free_level(frames, mem, desc & ADDR, level + 1);
        } else {
            frames.free(mem, desc & ADDR);
        }
    }
    frames.free(mem, table);
}
