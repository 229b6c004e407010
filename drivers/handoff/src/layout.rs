//! Where things go inside a node's private RAM.
//!
//! ```text
//! +0            CPU-driver image (code, data, zeroed BSS)
//! image_end     boot info (BOOT_INFO_PAGES): NodeBootInfo, then one CoreStart per core
//! +2 pages      page tables (TABLE_PAGES pages)
//! stacks        per core: one unmapped guard page, then STACK_SIZE of stack
//! free          the rest: the node's own memory
//! ```

use crate::{page_up, CoreStart, NodeBootInfo, PhysRange, KERNEL_VA, MAX_NODE_CPUS, PAGE};

/// Pages of boot info: [`NodeBootInfo`] (2 KiB of it the command line)
/// and the cores' start records.
pub const BOOT_INFO_PAGES: u64 = 2;
/// Pages set aside for one node's page tables.
pub const TABLE_PAGES: u64 = 32;
/// Stack of each core. The first core's holds its monitor (about 100 KiB:
/// every link's outbox and reassembly buffers) under the monitor's calls.
pub const STACK_SIZE: u64 = 256 * 1024;

/// Offsets (from the node's RAM base) of everything the boot driver places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeLayout {
    pub memory: PhysRange,
    pub cpu_count: usize,
    pub image_size: u64,
    pub boot_info: u64,
    pub core_starts: u64,
    pub tables: u64,
    pub stacks: u64,
    pub free: u64,
}

/// The node's RAM cannot hold the layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayoutError {
    pub need: u64,
    pub have: u64,
}

impl core::fmt::Display for LayoutError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "node RAM too small: layout needs {:#x} bytes, region has {:#x}", self.need, self.have)
    }
}

impl NodeLayout {
    /// Lays out a node of `cpu_count` cores whose image needs `image_mem_size` bytes.
    pub fn new(memory: PhysRange, image_mem_size: u64, cpu_count: usize) -> Result<Self, LayoutError> {
        let cpu_count = cpu_count.min(MAX_NODE_CPUS);
        let image_size = page_up(image_mem_size);
        let boot_info = image_size;
        let core_starts = boot_info + (core::mem::size_of::<NodeBootInfo>() as u64).next_multiple_of(64);
        let tables = boot_info + BOOT_INFO_PAGES * PAGE;
        let stacks = tables + TABLE_PAGES * PAGE;
        let free = stacks + cpu_count as u64 * (PAGE + STACK_SIZE);
        if free > memory.size {
            return Err(LayoutError { need: free, have: memory.size });
        }
        Ok(NodeLayout { memory, cpu_count, image_size, boot_info, core_starts, tables, stacks, free })
    }

    /// Physical address of an offset.
    pub fn pa(&self, offset: u64) -> u64 {
        self.memory.start + offset
    }

    /// Virtual address of an offset, as the node sees it.
    pub fn va(&self, offset: u64) -> u64 {
        KERNEL_VA + offset
    }

    /// Offset of core `i`'s start record.
    pub fn core_start(&self, i: usize) -> u64 {
        self.core_starts + (i * core::mem::size_of::<CoreStart>()) as u64
    }

    /// Offsets `[bottom, top)` of core `i`'s stack (above its guard page).
    pub fn stack(&self, i: usize) -> (u64, u64) {
        let bottom = self.stacks + i as u64 * (PAGE + STACK_SIZE) + PAGE;
        (bottom, bottom + STACK_SIZE)
    }
}
