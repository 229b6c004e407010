//! Machine topology from a flattened device tree.
//!
//! [`Topology::parse`] reads what the boot plan needs: the CPU clusters (from
//! `/cpus/cpu-map`, else from MPIDR affinity), each core's MPIDR, compatible,
//! capacity and enable method, the PSCI conduit, memory and reservations, the
//! GIC, the console UART and `/chosen/bootargs`.
//!
//! The same code runs in the boot driver on the target and in the host `plan`
//! command, so it is `no_std`, allocation-free (fixed-capacity tables) and
//! never panics on bad input: every malformed tree is an [`Error`].

#![no_std]

mod cpus;
mod devices;
mod dt;
mod energy;
mod error;
mod header;

pub use devices::Device;
pub use energy::Energy;
pub use error::Error;
pub use header::DTB_MAGIC;
use heapless::Vec;

/// Most CPUs a topology holds.
pub const MAX_CPUS: usize = 64;
/// Most clusters (and so kernel nodes).
pub const MAX_CLUSTERS: usize = 16;
/// Most memory ranges (memory or reserved) kept.
pub const MAX_RANGES: usize = 16;
/// Capacity of the fastest core after normalisation.
pub const FULL_CAPACITY: u32 = 1024;
/// Largest `capacity-dmips-mhz` taken as a real core's. Mainline trees go
/// up to 1894 (Qualcomm SM8650's Cortex-X4), and a proposed rescaling of
/// that tree to 3591; 8192 leaves room for faster cores while refusing
/// values that are no DMIPS/MHz figure at all (`0xffffffff`).
pub const MAX_DMIPS_MHZ: u32 = 8192;

/// A physical address range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub start: u64,
    pub size: u64,
}

impl Range {
    /// One past the last byte (saturating, so a corrupt size cannot wrap).
    pub fn end(&self) -> u64 {
        self.start.saturating_add(self.size)
    }
    /// Whether the two ranges share a byte.
    pub fn overlaps(&self, other: &Range) -> bool {
        self.start < other.end() && other.start < self.end()
    }
    /// Whether `other` lies inside `self`.
    pub fn contains(&self, other: &Range) -> bool {
        other.start >= self.start && other.end() <= self.end()
    }
}

/// How a core is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnableMethod {
    /// PSCI `CPU_ON`.
    Psci,
    /// Write the entry point to `release_addr` and `sev`.
    SpinTable { release_addr: u64 },
}

impl EnableMethod {
    /// The device-tree spelling.
    pub fn name(&self) -> &'static str {
        match self {
            EnableMethod::Psci => "psci",
            EnableMethod::SpinTable { .. } => "spin-table",
        }
    }
}

/// The instruction that reaches PSCI firmware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PsciConduit {
    Hvc,
    Smc,
}

impl PsciConduit {
    /// Reads the `/psci` `method` spelling.
    pub fn from_method(method: &str) -> Option<PsciConduit> {
        [PsciConduit::Hvc, PsciConduit::Smc].into_iter().find(|c| c.name() == method)
    }

    /// The device-tree spelling.
    pub fn name(&self) -> &'static str {
        match self {
            PsciConduit::Hvc => "hvc",
            PsciConduit::Smc => "smc",
        }
    }
}

/// One core as the device tree describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cpu<'a> {
    /// Affinity fields of MPIDR_EL1 (the node's `reg`).
    pub mpidr: u64,
    /// First `compatible` string, e.g. `arm,cortex-a55`.
    pub compatible: &'a str,
    /// `capacity-dmips-mhz` as written, if present.
    pub dmips_mhz: Option<u32>,
    /// Capacity normalised so the fastest core is [`FULL_CAPACITY`].
    pub capacity: u32,
    pub enable_method: EnableMethod,
    /// Power at its highest operating point, if the tree says
    /// (`dynamic-power-coefficient` and `operating-points-v2`).
    pub energy: Option<Energy>,
}

/// Where the cluster grouping came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterSource {
    /// `/cpus/cpu-map`.
    CpuMap,
    /// MPIDR Aff2 (multi-threaded affinity layout, e.g. DynamIQ).
    MpidrAff2,
    /// MPIDR Aff1.
    MpidrAff1,
}

/// Cores that share a cache: one kernel node each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// Indices into [`Topology::cpus`].
    pub cpus: Vec<u8, MAX_CPUS>,
}

/// GIC version and register bases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gic {
    V2 { distributor: Range, cpu_interface: Range },
    V3 { distributor: Range, redistributors: Range },
}

impl Gic {
    /// 2 or 3.
    pub fn version(&self) -> u8 {
        match self {
            Gic::V2 { .. } => 2,
            Gic::V3 { .. } => 3,
        }
    }
    /// The distributor registers.
    pub fn distributor(&self) -> Range {
        match *self {
            Gic::V2 { distributor, .. } | Gic::V3 { distributor, .. } => distributor,
        }
    }
}

/// The register interface of a UART.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UartKind<'a> {
    /// Arm PL011.
    Pl011,
    /// 16550-compatible (e.g. DesignWare APB UART), registers `1 << reg_shift` apart.
    Ns16550 { reg_shift: u32, io_width: u32 },
    /// A UART this system has no driver for, by its compatible string.
    Other(&'a str),
}

/// The console UART.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uart<'a> {
    pub kind: UartKind<'a>,
    pub regs: Range,
    /// The GIC INTID of its (first) interrupt: the `interrupts` (or
    /// `interrupts-extended`) specifier decoded for the GIC (SPI `n` is
    /// `n + 32`, PPI `n` is `n + 16`), when its interrupt parent is the GIC.
    /// `None` when the tree gives no interrupt, or one this code cannot
    /// resolve (another controller, an interrupt nexus, malformed cells).
    pub irq: Option<u32>,
}

/// Hints the device tree cannot give but the running core can.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hints {
    /// MPIDR_EL1.MT of the boot core, when known. Without it, a layout whose
    /// every Aff0 is zero is taken to be multi-threaded style.
    pub mpidr_mt: Option<bool>,
}

/// Everything the boot plan needs to know about the machine.
#[derive(Debug, Clone)]
pub struct Topology<'a> {
    /// CPUs in device-tree order (which is also QEMU's vCPU order).
    pub cpus: Vec<Cpu<'a>, MAX_CPUS>,
    /// Clusters in cpu-map (or affinity) order.
    pub clusters: Vec<Cluster, MAX_CLUSTERS>,
    pub cluster_source: ClusterSource,
    /// True when only some CPUs give `capacity-dmips-mhz`: like Linux, all
    /// are then treated as equal.
    pub capacity_partial: bool,
    pub psci: Option<PsciConduit>,
    pub memory: Vec<Range, MAX_RANGES>,
    /// `/memreserve/` entries and `/reserved-memory` children.
    pub reserved: Vec<Range, MAX_RANGES>,
    pub gic: Option<Gic>,
    pub uart: Option<Uart<'a>>,
    pub bootargs: &'a str,
    /// `boot_cpuid_phys` from the header.
    pub boot_cpuid: u32,
    /// The tree itself (up to its header's `totalsize`), for
    /// [`Topology::each_device`].
    blob: &'a [u8],
}

impl<'a> Topology<'a> {
    /// Reads `blob` (a complete FDT) into a topology.
    pub fn parse(blob: &'a [u8], hints: Hints) -> Result<Self, Error> {
        let header = header::check(blob)?;
        let blob = &blob[..header.total_size];
        let fdt = fdt::Fdt::new_unaligned_fallible(blob)?;
        let root = fdt.root()?;

        let (cpus, clusters, cluster_source, capacity_partial) = cpus::read(&root, hints)?;

        let mut topo = Topology {
            cpus,
            clusters,
            cluster_source,
            capacity_partial,
            psci: None,
            memory: Vec::new(),
            reserved: Vec::new(),
            gic: None,
            uart: None,
            bootargs: "",
            boot_cpuid: header.boot_cpuid,
            blob,
        };
        for r in header::mem_reservations(blob, &header) {
            let (start, size) = r?;
            push(&mut topo.reserved, Range { start, size }, "reserved memory ranges")?;
        }
        devices::read(&root, &mut topo)?;
        if topo.memory.is_empty() {
            return Err(Error::NoMemory);
        }
        Ok(topo)
    }

    /// Calls `f` with each register range of every enabled device the CPU
    /// addresses (see [`Device`]): what RAM and the plan must stay clear of.
    pub fn each_device(&self, f: &mut dyn FnMut(Device<'a>)) -> Result<(), Error> {
        let fdt = fdt::Fdt::new_unaligned_fallible(self.blob)?;
        devices::each_device(&fdt.root()?, f)
    }

    /// The CPUs of cluster `index`.
    pub fn cluster_cpus(&self, index: usize) -> impl Iterator<Item = &Cpu<'a>> + '_ {
        self.clusters.get(index).into_iter().flat_map(|c| c.cpus.iter()).filter_map(|&i| self.cpus.get(usize::from(i)))
    }

    /// Index of the cluster holding the CPU whose MPIDR is `mpidr`.
    pub fn cluster_of(&self, mpidr: u64) -> Option<usize> {
        self.clusters
            .iter()
            .position(|c| c.cpus.iter().any(|&i| self.cpus.get(usize::from(i)).is_some_and(|cpu| cpu.mpidr == mpidr)))
    }
}

/// What a tree [`Topology::parse`] refused may still say, read directly
/// and best effort: `/chosen/bootargs` and the `/psci` conduit. So a boot
/// that fails on its tree can still end as its command line asks.
pub fn salvage(blob: &[u8]) -> (&str, Option<PsciConduit>) {
    let read = || -> Option<(&str, Option<PsciConduit>)> {
        let header = header::check(blob).ok()?;
        let fdt = fdt::Fdt::new_unaligned_fallible(blob.get(..header.total_size)?).ok()?;
        let root = fdt.root().ok()?;
        let node_str = |path: &str, name: &'static str| -> Option<&str> {
            let node = root.find_node(path).ok()??;
            dt::prop_str(&node, name, "/").ok()?
        };
        let psci = node_str("/psci", "method").and_then(PsciConduit::from_method);
        Some((node_str("/chosen", "bootargs").unwrap_or(""), psci))
    };
    read().unwrap_or(("", None))
}

/// Pushes onto a fixed table, reporting overflow as an error.
pub(crate) fn push<T, const N: usize>(v: &mut Vec<T, N>, item: T, what: &'static str) -> Result<(), Error> {
    v.push(item).map_err(|_| Error::TooMany { what, max: N })
}
