//! Stage-1 translation tables for a node: 4 KiB granule, 39-bit VA, three
//! levels (1 GiB, 2 MiB, 4 KiB). Built by the boot driver into the node's
//! table pages, walked by host tests and by the kernel's self-checks.

use crate::{layout::NodeLayout, PhysRange, DEVICE_VA, KERNEL_VA, PAGE, SHARED_VA};

const ENTRIES: usize = 512;
const BLOCK_2M: u64 = 2 << 20;
use desc::*;

/// Bits of a stage-1 descriptor (4 KiB granule), shared by the node
/// tables here and the programs' user tables (`address-space`).
pub mod desc {
    pub const VALID: u64 = 1;
    /// A table (levels 1, 2) or a page (level 3), not a block.
    pub const TABLE_OR_PAGE: u64 = 1 << 1;
    /// MAIR index 0: Device-nGnRE.
    pub const ATTR_DEVICE: u64 = 0 << 2;
    /// MAIR index 1: Normal write-back.
    pub const ATTR_NORMAL: u64 = 1 << 2;
    /// AP[1]: EL0 may access.
    pub const AP_EL0: u64 = 1 << 6;
    /// AP[2]: read-only.
    pub const AP_READ_ONLY: u64 = 1 << 7;
    pub const SH_INNER: u64 = 3 << 8;
    /// Access flag (set, so no access faults).
    pub const AF: u64 = 1 << 10;
    /// Not global: tagged with the ASID.
    pub const NOT_GLOBAL: u64 = 1 << 11;
    /// Never executed at EL1.
    pub const PXN: u64 = 1 << 53;
    /// Never executed at EL0.
    pub const UXN: u64 = 1 << 54;
    /// The output address.
    pub const ADDR_MASK: u64 = 0x0000_FFFF_FFFF_F000;
}

/// MAIR_EL1: index 0 Device-nGnRE, index 1 Normal write-back.
pub const MAIR: u64 = 0x04 | (0xFF << 8);

/// What a mapping is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attr {
    /// Normal memory, EL1 read/write/execute.
    KernelCode,
    /// Normal memory, EL1 read/write, never executed.
    KernelData,
    /// Device-nGnRE, never executed.
    Device,
}

impl Attr {
    fn bits(self) -> u64 {
        match self {
            Attr::KernelCode => ATTR_NORMAL | SH_INNER | AF | UXN,
            Attr::KernelData => ATTR_NORMAL | SH_INNER | AF | UXN | PXN,
            Attr::Device => ATTR_DEVICE | AF | UXN | PXN,
        }
    }

    /// Classifies a leaf descriptor.
    pub fn of(desc: u64) -> Attr {
        if desc & (7 << 2) == ATTR_DEVICE {
            Attr::Device
        } else if desc & PXN != 0 {
            Attr::KernelData
        } else {
            Attr::KernelCode
        }
    }
}

/// TCR_EL1 for both halves: 39-bit VA, 4 KiB granule, inner-shareable
/// write-back walks; `pa_range` is ID_AA64MMFR0_EL1.PARange (used as IPS).
pub fn tcr(pa_range: u64) -> u64 {
    let t0sz = 25;
    let t1sz = 25 << 16;
    let walk0 = (1 << 8) | (1 << 10) | (3 << 12); // IRGN0, ORGN0 WBWA; SH0 inner
    let walk1 = (1 << 24) | (1 << 26) | (3 << 28); // IRGN1, ORGN1 WBWA; SH1 inner
    let tg1_4k = 2 << 30;
    let ips = (pa_range.min(6)) << 32;
    t0sz | t1sz | walk0 | walk1 | tg1_4k | ips
}

/// Why a mapping could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapError {
    /// The table pages ran out.
    OutOfTables,
    /// Something is already mapped there.
    Overlap { va: u64 },
    /// Addresses or size not page aligned.
    Unaligned,
}

impl core::fmt::Display for MapError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            MapError::OutOfTables => write!(f, "node page-table pages exhausted"),
            MapError::Overlap { va } => write!(f, "virtual address {va:#x} mapped twice"),
            MapError::Unaligned => write!(f, "mapping not page aligned"),
        }
    }
}

/// Table pages of one node, seen as words, with their physical base.
pub struct Tables<'m> {
    words: &'m mut [u64],
    base_pa: u64,
    used: usize,
}

fn index(va: u64, level: u32) -> usize {
    ((va >> (12 + 9 * (3 - level))) & 0x1ff) as usize
}

impl<'m> Tables<'m> {
    /// Takes the table area `words`, found at `base_pa`. Pages are zeroed
    /// when handed out, so the area may start as garbage.
    pub fn new(words: &'m mut [u64], base_pa: u64) -> Self {
        Tables { words, base_pa, used: 0 }
    }

    /// A fresh zeroed table; returns its physical address.
    pub fn alloc(&mut self) -> Result<u64, MapError> {
        if (self.used + 1) * ENTRIES > self.words.len() {
            return Err(MapError::OutOfTables);
        }
        self.words[self.used * ENTRIES..(self.used + 1) * ENTRIES].fill(0);
        self.used += 1;
        Ok(self.base_pa + (self.used as u64 - 1) * PAGE)
    }

    fn slot(&self, table_pa: u64, i: usize) -> Option<usize> {
        self.view().slot(table_pa, i)
    }

    /// A read-only view of the tables, for walking.
    pub fn view(&self) -> TableView<'_> {
        TableView { words: self.words, base_pa: self.base_pa }
    }

    /// Maps `[va, va+size)` to `[pa, pa+size)` under `root`, with 2 MiB
    /// blocks where both sides align and 4 KiB pages elsewhere.
    pub fn map(&mut self, root: u64, va: u64, pa: u64, size: u64, attr: Attr) -> Result<(), MapError> {
        if (va | pa | size) & (PAGE - 1) != 0 {
            return Err(MapError::Unaligned);
        }
        let mut done = 0;
        while done < size {
            let (v, p) = (va + done, pa + done);
            let block = (v | p) & (BLOCK_2M - 1) == 0 && size - done >= BLOCK_2M;
            let l2 = self.next_table(root, v, 1)?;
            if block {
                self.set_leaf(l2, v, 2, p | attr.bits() | VALID)?;
                done += BLOCK_2M;
            } else {
                let l3 = self.next_table(l2, v, 2)?;
                self.set_leaf(l3, v, 3, p | attr.bits() | VALID | TABLE_OR_PAGE)?;
                done += PAGE;
            }
        }
        Ok(())
    }

    fn set_leaf(&mut self, table: u64, va: u64, level: u32, desc: u64) -> Result<(), MapError> {
        let at = self.slot(table, index(va, level)).ok_or(MapError::OutOfTables)?;
        if self.words[at] != 0 {
            return Err(MapError::Overlap { va });
        }
        self.words[at] = desc;
        Ok(())
    }

    /// The next-level table under entry `va` of `table` (at `level`), made if absent.
    fn next_table(&mut self, table: u64, va: u64, level: u32) -> Result<u64, MapError> {
        let at = self.slot(table, index(va, level)).ok_or(MapError::OutOfTables)?;
        let desc = self.words[at];
        if desc == 0 {
            let new = self.alloc()?;
            self.words[at] = new | VALID | TABLE_OR_PAGE;
            return Ok(new);
        }
        if desc & TABLE_OR_PAGE == 0 {
            return Err(MapError::Overlap { va });
        }
        Ok(desc & ADDR_MASK)
    }

    /// See [`TableView::walk`].
    pub fn walk(&self, root: u64, va_top: u64, f: &mut impl FnMut(u64, u64, u64, Attr)) {
        self.view().walk(root, va_top, f);
    }
}

/// Tables already built, read-only: what the host tests and the kernel's
/// self-checks walk.
#[derive(Clone, Copy)]
pub struct TableView<'m> {
    pub words: &'m [u64],
    pub base_pa: u64,
}

impl TableView<'_> {
    fn slot(&self, table_pa: u64, i: usize) -> Option<usize> {
        let page = table_pa.checked_sub(self.base_pa)? / PAGE;
        let at = (page as usize).checked_mul(ENTRIES)?.checked_add(i)?;
        (at < self.words.len()).then_some(at)
    }

    /// Calls `f(va, pa, size, attr)` for every leaf under `root`. `va_top`
    /// is OR-ed into virtual addresses (all ones above bit 38 for TTBR1).
    pub fn walk(&self, root: u64, va_top: u64, f: &mut impl FnMut(u64, u64, u64, Attr)) {
        self.walk_level(root, 1, va_top, f);
    }

    fn walk_level(&self, table: u64, level: u32, va_base: u64, f: &mut impl FnMut(u64, u64, u64, Attr)) {
        let span = 1u64 << (12 + 9 * (3 - level));
        for i in 0..ENTRIES {
            let Some(at) = self.slot(table, i) else { return };
            let desc = self.words[at];
            if desc & VALID == 0 {
                continue;
            }
            let va = va_base | (i as u64 * span);
            if level < 3 && desc & TABLE_OR_PAGE != 0 {
                self.walk_level(desc & ADDR_MASK, level + 1, va, f);
            } else {
                f(va, desc & ADDR_MASK, span, Attr::of(desc));
            }
        }
    }
}

/// VA bits above the 39-bit range for TTBR1 addresses.
pub const TTBR1_TOP: u64 = 0xFFFF_FF80_0000_0000;

/// The roots of a node's two halves and where its devices landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeSpace {
    pub ttbr0: u64,
    pub ttbr1: u64,
}

/// Builds a node's address space (see the crate docs for the map): the
/// pieces of the shared region this node may touch, `shared`, each at
/// [`SHARED_VA`] plus its offset from `shared_base` (the region's start), so
/// every node sees a shared page at the same address; `devices` are mapped
/// in order from [`DEVICE_VA`], and their virtual addresses are written to
/// `device_vas`.
pub fn build_node_space(
    tables: &mut Tables<'_>,
    layout: &NodeLayout,
    shared_base: u64,
    shared: &[PhysRange],
    devices: &[PhysRange],
    device_vas: &mut [u64],
) -> Result<NodeSpace, MapError> {
    let ttbr0 = tables.alloc()?;
    let ttbr1 = tables.alloc()?;
    let base = layout.memory.start;
    // Identity map of the image, only for the instruction that enables the MMU.
    tables.map(ttbr0, base, base, layout.image_size, Attr::KernelCode)?;

    tables.map(ttbr1, KERNEL_VA, base, layout.image_size, Attr::KernelCode)?;
    let data = layout.stacks - layout.boot_info;
    tables.map(ttbr1, layout.va(layout.boot_info), layout.pa(layout.boot_info), data, Attr::KernelData)?;
    for i in 0..layout.cpu_count {
        let (bottom, top) = layout.stack(i);
        tables.map(ttbr1, layout.va(bottom), layout.pa(bottom), top - bottom, Attr::KernelData)?;
    }
    let free = layout.memory.size - layout.free;
    tables.map(ttbr1, layout.va(layout.free), layout.pa(layout.free), free & !(PAGE - 1), Attr::KernelData)?;
    for piece in shared {
        let offset = piece.start.checked_sub(shared_base).ok_or(MapError::Unaligned)?;
        tables.map(ttbr1, SHARED_VA + offset, piece.start, piece.size, Attr::KernelData)?;
    }

    let mut next_va = DEVICE_VA;
    for (dev, out) in devices.iter().zip(device_vas.iter_mut()) {
        let start = dev.start & !(PAGE - 1);
        let size = crate::page_up(dev.end() - start);
        tables.map(ttbr1, next_va, start, size, Attr::Device)?;
        *out = next_va + (dev.start - start);
        next_va += size.next_multiple_of(BLOCK_2M);
    }
    Ok(NodeSpace { ttbr0, ttbr1 })
}
