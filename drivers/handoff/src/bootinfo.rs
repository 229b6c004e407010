//! Boot info and core start records, written by the boot driver into node
//! RAM and read by the CPU driver.

use crate::{PhysRange, MAX_NODES, MAX_NODE_CPUS};

/// Marks a valid [`NodeBootInfo`].
pub const BOOT_INFO_MAGIC: u64 = u64::from_le_bytes(*b"MKNODEv1");

/// `flags`: this node owns the console and the GIC distributor.
pub const FLAG_BOOT_NODE: u32 = 1 << 0;
/// `flags`: power the machine off once every node is up (`poweroff` in bootargs).
pub const FLAG_POWEROFF: u32 = 1 << 1;

/// `flags`: run the boot self-checks and report them in KTAP (`ktest=boot`).
pub const FLAG_KTEST_BOOT: u32 = 1 << 2;

/// `flags`: run the channel tests and report them in KTAP (`ktest=channels`).
pub const FLAG_KTEST_CHANNELS: u32 = 1 << 3;
/// `flags`: measure the channels between the first two nodes (`bench=channels`).
pub const FLAG_BENCH_CHANNELS: u32 = 1 << 4;
/// `flags`: every core records scheduling and message events (`trace`).
pub const FLAG_TRACE: u32 = 1 << 5;

/// `enable` of a [`CoreEntry`].
pub const ENABLE_PSCI: u32 = 0;
/// `enable` of a [`CoreEntry`].
pub const ENABLE_SPIN_TABLE: u32 = 1;

/// `psci` of [`NodeBootInfo`].
pub const PSCI_NONE: u32 = 0;
pub const PSCI_HVC: u32 = 1;
pub const PSCI_SMC: u32 = 2;

/// One core of the node.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct CoreEntry {
    /// MPIDR affinity from the device tree.
    pub mpidr: u64,
    /// Physical address of this core's [`CoreStart`] (the PSCI context id).
    pub start_record_pa: u64,
    /// [`ENABLE_PSCI`] or [`ENABLE_SPIN_TABLE`].
    pub enable: u32,
    pub _reserved: u32,
    /// Spin-table release address (physical), when `enable` says so.
    pub release_pa: u64,
    /// The same, as mapped in the node (0 when not mapped).
    pub release_va: u64,
}

/// Everything a node is told about itself and the machine.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct NodeBootInfo {
    pub magic: u64,
    pub abi_version: u32,
    pub node_id: u32,
    pub node_count: u32,
    /// Id of the node that owns the console and the GIC distributor.
    pub boot_node: u32,
    /// Build the plan chose ([`crate::BUILD_BIG`] / [`crate::BUILD_LITTLE`]).
    pub build: u32,
    /// Node capacity (fastest core = 1024).
    pub capacity: u32,
    pub cpu_count: u32,
    pub flags: u32,
    /// Generic counter at boot-driver entry: the zero of boot timings.
    pub boot_counter: u64,
    /// Node private RAM.
    pub memory: PhysRange,
    /// Node RAM after image, boot info, tables and stacks (virtual address).
    pub free_va: u64,
    pub free_size: u64,
    /// The shared inter-node region.
    pub shared: PhysRange,
    pub shared_va: u64,
    /// [`PSCI_NONE`], [`PSCI_HVC`] or [`PSCI_SMC`].
    pub psci: u32,
    /// 2 or 3.
    pub gic_version: u32,
    /// GIC distributor, mapped only where this node may touch it (0 otherwise).
    pub gicd_va: u64,
    /// GICv2 CPU interface (0 on v3).
    pub gicc_va: u64,
    /// GICv3 redistributor frames (0 on v2).
    pub gicr_va: u64,
    pub gicr_size: u64,
    /// Console PL011, mapped only in the boot node (0 elsewhere).
    pub uart_va: u64,
    /// Bytes of each channel's ring.
    pub channel_bytes: u64,
    /// Pages of the transfer area after each channel's ring.
    pub transfer_pages: u64,
    /// Channel on which this node sends to node `i` (virtual; 0: none).
    pub tx_va: [u64; MAX_NODES],
    /// Channel on which node `i` sends to this node (virtual; 0: none).
    pub rx_va: [u64; MAX_NODES],
    pub cpus: [CoreEntry; MAX_NODE_CPUS],
    /// GIC INTID of the console UART (0: unknown), for console input on the
    /// boot node.
    pub uart_irq: u32,
    /// Bytes of `bootargs` used.
    pub bootargs_len: u32,
    /// The kernel command line (`/chosen/bootargs`, at most
    /// [`BOOTARGS_BYTES`]): every node's `init` reads it.
    pub bootargs: [u8; BOOTARGS_BYTES],
}

/// Bytes of the command line a node is given: Linux's arm64
/// `COMMAND_LINE_SIZE`. A longer `/chosen/bootargs` is a boot error, never
/// cut.
pub const BOOTARGS_BYTES: usize = 2048;

/// Per-core start record. The CPU-driver entry code reads it with the MMU
/// off, at the physical address PSCI passed as context id; its field
/// offsets are used from assembly, so only append fields.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct CoreStart {
    pub mair: u64,
    pub tcr: u64,
    pub ttbr0: u64,
    pub ttbr1: u64,
    /// Top of this core's stack (virtual).
    pub stack_top: u64,
    /// [`NodeBootInfo`] (virtual).
    pub boot_info: u64,
    /// This record (virtual): passed to the Rust entry.
    pub this: u64,
    /// Index of the core in its node (0 leads).
    pub core_index: u64,
}

const _: () = assert!(
    core::mem::size_of::<NodeBootInfo>() + MAX_NODE_CPUS * core::mem::size_of::<CoreStart>()
        <= (crate::layout::BOOT_INFO_PAGES * crate::PAGE) as usize
);

impl NodeBootInfo {
    /// Checks the fields a CPU driver relies on before trusting the rest.
    pub fn validate(&self) -> Result<(), &'static str> {
        if self.magic != BOOT_INFO_MAGIC {
            return Err("boot info has a bad magic");
        }
        if self.abi_version != crate::ABI_VERSION {
            return Err("boot info ABI version differs from the CPU driver's");
        }
        if self.cpu_count == 0 || self.cpu_count as usize > MAX_NODE_CPUS {
            return Err("boot info cpu count out of range");
        }
        if self.node_id >= self.node_count || self.boot_node >= self.node_count {
            return Err("boot info node id out of range");
        }
        Ok(())
    }

    /// The node's cores.
    pub fn cores(&self) -> &[CoreEntry] {
        &self.cpus[..(self.cpu_count as usize).min(MAX_NODE_CPUS)]
    }

    /// The command line (empty if it is not valid UTF-8).
    pub fn bootargs(&self) -> &str {
        let len = (self.bootargs_len as usize).min(BOOTARGS_BYTES);
        core::str::from_utf8(&self.bootargs[..len]).unwrap_or("")
    }

    pub fn is_boot_node(&self) -> bool {
        self.flags & FLAG_BOOT_NODE != 0
    }
}
