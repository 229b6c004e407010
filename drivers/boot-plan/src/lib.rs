//! The boot plan: how the machine is split into kernel nodes.
//!
//! One node per cluster. Nodes whose capacity is the machine's maximum run
//! the `big` CPU-driver build, the others `little`. Each node gets a private,
//! 2 MiB-aligned slice of RAM; one more region is reserved for the message
//! channels between nodes. The same code runs in the boot driver and in the
//! host `plan` command, so what the host prints is what the board boots.

#![no_std]

mod channels;
mod memory;
mod validate;

pub use channels::ChannelMap;
pub use validate::{DeviceName, Party};

use core::fmt;
use heapless::Vec;
pub use topology::{EnableMethod, Gic, PsciConduit, Range, Topology, Uart, UartKind};
use topology::{MAX_CLUSTERS, MAX_CPUS};

/// Granule of every region in the plan: one level-2 block.
pub const REGION_ALIGN: u64 = 2 << 20;

/// Which CPU-driver build a node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    Big,
    Little,
}

impl Build {
    /// `big` or `little`, as printed and as in the JSON.
    pub fn name(self) -> &'static str {
        match self {
            Build::Big => "big",
            Build::Little => "little",
        }
    }
}

/// Tunables of the plan that the device tree does not give.
#[derive(Debug, Clone, Copy)]
pub struct PlanConfig {
    /// Bytes at the bottom of the lowest memory range left to the loader and
    /// the boot driver (the boot image and its copy of the DTB live there).
    pub boot_reserve: u64,
    /// Size of the inter-node channel region.
    pub shared_size: u64,
    /// Smallest private region a node may get.
    pub min_node_memory: u64,
    /// Bytes at the start of the shared region kept for the console rings
    /// and node status words; the channels follow.
    pub console_area: u64,
    /// The boot core's physical address size in bits, when known (the
    /// boot driver reads it; `plan` on the host does not know the core).
    pub pa_bits: Option<u8>,
}

impl Default for PlanConfig {
    fn default() -> Self {
        PlanConfig {
            boot_reserve: 32 << 20,
            shared_size: 2 << 20,
            min_node_memory: 8 << 20,
            console_area: 256 << 10,
            pa_bits: None,
        }
    }
}

/// How the plan's cores are started, taken over all cores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartMethod {
    Psci,
    SpinTable,
    /// Some cores one way, some the other.
    Mixed,
}

impl StartMethod {
    pub fn name(self) -> &'static str {
        match self {
            StartMethod::Psci => "psci",
            StartMethod::SpinTable => "spin-table",
            StartMethod::Mixed => "mixed",
        }
    }
}

/// One kernel node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePlan {
    pub id: usize,
    pub build: Build,
    /// Indices into [`Topology::cpus`]; the first is the core the boot
    /// driver starts (the boot core itself for the boot node).
    pub cpus: Vec<u8, MAX_CPUS>,
    pub mpidrs: Vec<u64, MAX_CPUS>,
    /// Largest normalised capacity among the node's cores.
    pub capacity: u32,
    /// The node's private RAM.
    pub memory: Range,
    /// Its cores' energy facts (the most powerful core's), if the tree has them.
    pub energy: Option<topology::Energy>,
}

/// The whole plan.
#[derive(Debug, Clone)]
pub struct BootPlan<'a> {
    pub topology: Topology<'a>,
    pub nodes: Vec<NodePlan, MAX_CLUSTERS>,
    /// The node the boot core belongs to: it owns the GIC distributor and
    /// the console.
    pub boot_node: usize,
    /// Region for inter-node channels, outside every node's memory.
    pub shared: Range,
    /// One channel in each direction between every pair of nodes, in `shared`.
    pub channels: ChannelMap,
    pub start_method: StartMethod,
}

/// Why no plan could be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanError {
    /// Cores ask for PSCI but the tree has no `/psci` node.
    NoPsci,
    /// The boot core's MPIDR is not in the device tree.
    UnknownBootCpu { mpidr: u64 },
    /// No RAM left after the boot reserve and reservations.
    NoFreeMemory,
    /// RAM is too small to give each node its minimum.
    NotEnoughMemory { nodes: usize, per_node: u64, min: u64 },
    /// Internal table overflow.
    TooMany { what: &'static str },
    /// A `/memory` range holds an enabled device's registers.
    DeviceInRam { memory: Range, device: DeviceName, reg: Range },
    /// Two parties would use the same addresses (a release address and
    /// RAM the plan hands out).
    Overlap { what: Party, other: Party },
    /// The tree could not be read again (it was read once already).
    Tree(topology::Error),
    /// A device the kernel drives shares addresses with another device.
    DevicesOverlap { what: &'static str, reg: Range, device: DeviceName, other: Range },
    /// A device's `reg` smaller than the registers the kernel uses.
    DeviceTooSmall { what: &'static str, reg: Range, need: u64 },
    /// An address past the core's physical address size.
    BeyondPhysical { what: &'static str, range: Range, bits: u8 },
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PlanError::NoPsci => write!(f, "cpus use enable-method \"psci\" but the device tree has no /psci node"),
            PlanError::UnknownBootCpu { mpidr } => {
                write!(f, "boot cpu (MPIDR {mpidr:#x}) is not in the device tree's /cpus")
            }
            PlanError::NoFreeMemory => write!(f, "no free RAM after the boot reserve and reserved regions"),
            PlanError::NotEnoughMemory { nodes, per_node, min } => write!(
                f,
                "not enough RAM: {nodes} nodes would get {} MiB each, need at least {} MiB",
                per_node >> 20,
                min >> 20
            ),
            PlanError::TooMany { what } => write!(f, "too many {what} for the plan's tables"),
            PlanError::Overlap { what, other } => {
                write!(f, "{what} overlaps {other}: {}", validate::consequence(&what))
            }
            PlanError::DeviceInRam { memory, device, reg } => validate::device_in_ram(f, memory, &device, reg),
            PlanError::Tree(e) => write!(f, "{e}"),
            PlanError::DevicesOverlap { what, reg, device, other } => write!(
                f,
                "{what} at {:#x}+{:#x} overlaps device {} at {:#x}+{:#x}: two devices cannot share addresses",
                reg.start,
                reg.size,
                device.as_str(),
                other.start,
                other.size
            ),
            PlanError::DeviceTooSmall { what, reg, need } => {
                write!(f, "{what} at {:#x}+{:#x} is smaller than its {need:#x} bytes of registers", reg.start, reg.size)
            }
            PlanError::BeyondPhysical { what, range, bits } => write!(
                f,
                "{what} at {:#x}+{:#x} is beyond this core's {bits}-bit physical addresses \
                 (ID_AA64MMFR0_EL1.PARange)",
                range.start, range.size
            ),
        }
    }
}

impl<'a> BootPlan<'a> {
    /// Plans the machine. `boot_mpidr` is the boot core's MPIDR affinity
    /// (on the target, from MPIDR_EL1); `None` takes the header's
    /// `boot_cpuid_phys`, falling back to the first core.
    pub fn new(topology: Topology<'a>, boot_mpidr: Option<u64>, config: &PlanConfig) -> Result<Self, PlanError> {
        let boot_node = match boot_mpidr {
            Some(mpidr) => topology.cluster_of(mpidr).ok_or(PlanError::UnknownBootCpu { mpidr })?,
            None => topology.cluster_of(u64::from(topology.boot_cpuid)).unwrap_or(0),
        };
        let boot_mpidr = boot_mpidr.unwrap_or_else(|| {
            let header_cpu = u64::from(topology.boot_cpuid);
            match topology.cluster_of(header_cpu) {
                Some(_) => header_cpu,
                None => topology.cluster_cpus(0).next().map_or(0, |c| c.mpidr),
            }
        });
        let psci = |c: &&topology::Cpu<'_>| c.enable_method == EnableMethod::Psci;
        let wants_psci = topology.cpus.iter().any(|c| psci(&c));
        let spin = topology.cpus.iter().any(|c| matches!(c.enable_method, EnableMethod::SpinTable { .. }));
        // Only cores that must be started need PSCI now: the boot core is running.
        if topology.cpus.iter().filter(|c| c.mpidr != boot_mpidr).any(|c| psci(&c)) && topology.psci.is_none() {
            return Err(PlanError::NoPsci);
        }
        let start_method = match (wants_psci, spin) {
            (true, true) => StartMethod::Mixed,
            (false, true) => StartMethod::SpinTable,
            _ => StartMethod::Psci,
        };
        let max_capacity = topology.cpus.iter().map(|c| c.capacity).max().unwrap_or(0);

        if let Some(bits) = config.pa_bits {
            validate::within_physical(&topology, bits)?;
        }
        validate::memory_clear_of_devices(&topology)?;
        validate::gic_frames(&topology)?;
        validate::kernel_devices_apart(&topology)?;
        let count = topology.clusters.len();
        let (shared, memories) = memory::carve(&topology, count, config)?;
        let channels = ChannelMap::new(shared, config.console_area, count)?;
        let mut nodes = Vec::new();
        for (id, cluster) in topology.clusters.iter().enumerate() {
            let mut cpus: Vec<u8, MAX_CPUS> = cluster.cpus.clone();
            // The boot core leads its node; elsewhere the first core in the tree does.
            if let Some(pos) =
                cpus.iter().position(|&i| topology.cpus.get(usize::from(i)).is_some_and(|c| c.mpidr == boot_mpidr))
            {
                cpus[..=pos].rotate_right(1);
            }
            let mut mpidrs = Vec::new();
            let mut capacity = 0;
            let mut energy: Option<topology::Energy> = None;
            for &i in &cpus {
                let cpu = topology.cpus.get(usize::from(i)).ok_or(PlanError::TooMany { what: "cpus" })?;
                mpidrs.push(cpu.mpidr).map_err(|_| PlanError::TooMany { what: "cpus" })?;
                capacity = capacity.max(cpu.capacity);
                if let Some(e) = cpu.energy.filter(|e| energy.is_none_or(|have| e.power_uw() > have.power_uw())) {
                    energy = Some(e);
                }
            }
            let build = if capacity == max_capacity { Build::Big } else { Build::Little };
            let node = NodePlan { id, build, cpus, mpidrs, capacity, memory: memories[id], energy };
            nodes.push(node).map_err(|_| PlanError::TooMany { what: "nodes" })?;
        }
        let loader = memory::loader_region(&topology, config);
        validate::releases_clear(&topology, boot_mpidr, loader, shared, &nodes)?;
        Ok(BootPlan { topology, nodes, boot_node, shared, channels, start_method })
    }

    /// Total CPUs in the plan.
    pub fn cpu_count(&self) -> usize {
        self.nodes.iter().map(|n| n.cpus.len()).sum()
    }
}

/// Writes `0x0,0x100,...`.
pub struct MpidrList<'p>(pub &'p [u64]);

impl fmt::Display for MpidrList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{m:#x}")?;
        }
        Ok(())
    }
}

impl fmt::Display for BootPlan<'_> {
    /// The human-readable plan, as `plan --dtb` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.topology;
        let source = match t.cluster_source {
            topology::ClusterSource::CpuMap => "cpu-map",
            topology::ClusterSource::MpidrAff2 => "MPIDR Aff2",
            topology::ClusterSource::MpidrAff1 => "MPIDR Aff1",
        };
        writeln!(f, "boot plan: {} nodes, {} cpus (clusters from {source})", self.nodes.len(), self.cpu_count())?;
        for n in &self.nodes {
            let boot = if n.id == self.boot_node { " (boot node)" } else { "" };
            writeln!(
                f,
                "  node {}: build={} cpus={} mpidr={} capacity={} mem={:#x}+{:#x} ({} MiB){boot}",
                n.id,
                n.build.name(),
                n.cpus.len(),
                MpidrList(&n.mpidrs),
                n.capacity,
                n.memory.start,
                n.memory.size,
                n.memory.size >> 20
            )?;
            if let Some(e) = n.energy {
                writeln!(
                    f,
                    "    energy: dynamic-power-coefficient={} opp={} MHz at {} mV power={} mW per busy core",
                    e.coefficient,
                    e.hz / 1_000_000,
                    e.microvolt / 1000,
                    e.power_uw() / 1000
                )?;
            }
        }
        writeln!(f, "  shared: {:#x}+{:#x}", self.shared.start, self.shared.size)?;
        let c = &self.channels;
        match c.count() {
            0 => writeln!(f, "  channels: none (one node)")?,
            n => writeln!(
                f,
                "  channels: {n}, one per ordered pair of nodes, {} bytes ({} slots) each from {:#x}, \
                 then a transfer area of {} pages",
                c.ring_bytes,
                c.slots(),
                c.base,
                c.transfer_pages()
            )?,
        }
        write!(f, "  enable-method: {}", self.start_method.name())?;
        match t.psci {
            Some(c) => writeln!(f, ", psci: {}", c.name())?,
            None => writeln!(f, ", psci: none")?,
        }
        match t.gic {
            Some(Gic::V2 { distributor, cpu_interface }) => {
                writeln!(f, "  gic: v2 distributor={:#x} cpu-interface={:#x}", distributor.start, cpu_interface.start)?
            }
            Some(Gic::V3 { distributor, redistributors }) => writeln!(
                f,
                "  gic: v3 distributor={:#x} redistributors={:#x}",
                distributor.start, redistributors.start
            )?,
            None => writeln!(f, "  gic: none")?,
        }
        match t.uart {
            Some(u) => writeln!(f, "  uart: {} at {:#x}", UartName(u.kind), u.regs.start)?,
            None => writeln!(f, "  uart: none")?,
        }
        if t.capacity_partial {
            writeln!(f, "  warning: only some cpus give capacity-dmips-mhz; all treated as equal")?;
        }
        write!(f, "  bootargs: \"{}\"", t.bootargs)
    }
}

/// Names a UART kind for humans and JSON.
pub struct UartName<'a>(pub UartKind<'a>);

impl fmt::Display for UartName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            UartKind::Pl011 => f.write_str("pl011"),
            UartKind::Ns16550 { reg_shift, .. } => write!(f, "ns16550 (reg-shift {reg_shift})"),
            UartKind::Other(c) => write!(f, "unsupported ({c})"),
        }
    }
}
