//! `/cpus`: cores, capacities, enable methods and the cluster grouping.

use crate::dt::{self, Cells, Node};
use crate::{
    push, Cluster, ClusterSource, Cpu, EnableMethod, Error, Hints, FULL_CAPACITY, MAX_CLUSTERS, MAX_CPUS, MAX_DMIPS_MHZ,
};
use fdt::parsing::{unaligned::UnalignedParser, NoPanic};
use heapless::Vec;

type Root<'a> = fdt::nodes::root::Root<'a, (UnalignedParser<'a>, NoPanic)>;
type Cpus<'a> = Vec<Cpu<'a>, MAX_CPUS>;
type Clusters = Vec<Cluster, MAX_CLUSTERS>;

/// cpu-map nesting deeper than this is rejected rather than recursed into.
const MAX_MAP_DEPTH: usize = 8;
const AT: &str = "/cpus";

/// Reads the CPUs and groups them into clusters.
pub fn read<'a>(root: &Root<'a>, hints: Hints) -> Result<(Cpus<'a>, Clusters, ClusterSource, bool), Error> {
    let cpus_node = root.find_node("/cpus")?.ok_or(Error::MissingNode { path: "/cpus" })?;
    let cells = Cells::of(&cpus_node, AT)?;
    let mut cpus = Cpus::new();
    // phandle of each CPU, same order as `cpus`.
    let mut phandles: Vec<Option<u32>, MAX_CPUS> = Vec::new();

    for child in cpus_node.children()?.iter() {
        let child = child?;
        let is_cpu = match dt::prop_str(&child, "device_type", "/cpus/cpu")? {
            Some(t) => t == "cpu",
            None => dt::base_name(&child)? == "cpu",
        };
        if !is_cpu {
            continue;
        }
        let cpu = read_cpu(root, &child, cells)?;
        if cpus.iter().any(|c: &Cpu<'_>| c.mpidr == cpu.mpidr) {
            return Err(Error::DuplicateMpidr { mpidr: cpu.mpidr });
        }
        let phandle = match dt::prop_u32(&child, "phandle", "/cpus/cpu")? {
            Some(p) => Some(p),
            None => dt::prop_u32(&child, "linux,phandle", "/cpus/cpu")?,
        };
        push(&mut cpus, cpu, "cpus")?;
        push(&mut phandles, phandle, "cpus")?;
    }
    if cpus.is_empty() {
        return Err(Error::NoCpus);
    }
    let partial = normalise_capacities(&mut cpus)?;

    let map = cpus_node.children()?.find("cpu-map")?;
    let mut clusters = Clusters::new();
    if let Some(map) = map {
        let mut seen: Vec<bool, MAX_CPUS> = Vec::new();
        for _ in 0..cpus.len() {
            push(&mut seen, false, "cpus")?;
        }
        let mut ctx = MapCtx { cpus: &cpus, phandles: &phandles, seen, clusters: &mut clusters };
        ctx.walk(&map, 0)?;
        let seen = ctx.seen;
        if !clusters.is_empty() {
            if let Some(i) = seen.iter().position(|s| !s) {
                return Err(Error::CpuMapMissingCpu { mpidr: cpus[i].mpidr });
            }
            return Ok((cpus, clusters, ClusterSource::CpuMap, partial));
        }
    }
    let source = group_by_affinity(&cpus, hints, &mut clusters)?;
    Ok((cpus, clusters, source, partial))
}

fn read_cpu<'a>(root: &Root<'a>, node: &Node<'a>, cells: Cells) -> Result<Cpu<'a>, Error> {
    const AT: &str = "/cpus/cpu";
    let mut reg = dt::prop(node, "reg")?.ok_or(Error::MissingProperty { node: AT, property: "reg" })?;
    if cells.address == 0 {
        return Err(Error::BadProperty { node: "/cpus", property: "#address-cells" });
    }
    let mpidr = dt::take_cells(&mut reg, cells.address).ok_or(Error::BadProperty { node: AT, property: "reg" })?;
    let compatible = dt::prop_str(node, "compatible", AT)?.unwrap_or("");
    let dmips_mhz = dt::prop_u32(node, "capacity-dmips-mhz", AT)?;
    let enable_method = match dt::prop_str(node, "enable-method", AT)? {
        Some("spin-table") => {
            let mut v = dt::prop(node, "cpu-release-addr")?
                .ok_or(Error::MissingProperty { node: AT, property: "cpu-release-addr" })?;
            let cells = match v.len() {
                4 => 1,
                8 => 2,
                _ => return Err(Error::BadProperty { node: AT, property: "cpu-release-addr" }),
            };
            let release_addr =
                dt::take_cells(&mut v, cells).ok_or(Error::BadProperty { node: AT, property: "cpu-release-addr" })?;
            EnableMethod::SpinTable { release_addr }
        }
        // A core without an enable method (often the boot core) and one that
        // names PSCI are both started through PSCI.
        Some("psci") | None => EnableMethod::Psci,
        Some(_) => return Err(Error::BadProperty { node: AT, property: "enable-method" }),
    };
    let energy = crate::energy::read(root, node)?;
    Ok(Cpu { mpidr, compatible, dmips_mhz, capacity: FULL_CAPACITY, enable_method, energy })
}

/// Scales `capacity-dmips-mhz` so the largest is [`FULL_CAPACITY`]. Returns
/// true when only some CPUs give it (then, as Linux does, all stay equal).
/// A value outside `1..=`[`MAX_DMIPS_MHZ`], or one so small against the
/// largest that it would scale to 0, is an error naming the core.
fn normalise_capacities(cpus: &mut [Cpu<'_>]) -> Result<bool, Error> {
    for c in cpus.iter() {
        if let Some(raw) = c.dmips_mhz.filter(|r| !(1..=MAX_DMIPS_MHZ).contains(r)) {
            return Err(Error::BadCapacity { mpidr: c.mpidr, raw, largest: None });
        }
    }
    let given = cpus.iter().filter(|c| c.dmips_mhz.is_some()).count();
    let max = cpus.iter().filter_map(|c| c.dmips_mhz).max().unwrap_or(0);
    if given != cpus.len() || max == 0 {
        return Ok(given != 0);
    }
    for c in cpus.iter_mut() {
        let raw = c.dmips_mhz.unwrap_or(max);
        c.capacity = (u64::from(raw) * u64::from(FULL_CAPACITY) / u64::from(max)) as u32;
        if c.capacity == 0 {
            return Err(Error::BadCapacity { mpidr: c.mpidr, raw, largest: Some(max) });
        }
    }
    Ok(false)
}

struct MapCtx<'c, 'a> {
    cpus: &'c [Cpu<'a>],
    phandles: &'c [Option<u32>],
    seen: Vec<bool, MAX_CPUS>,
    clusters: &'c mut Clusters,
}

impl MapCtx<'_, '_> {
    /// Walks a cpu-map level. A node with `core*` children is a cluster (a
    /// socket with cores directly under it counts as one); `socket*` and
    /// nested `cluster*` nodes are walked through.
    fn walk(&mut self, node: &Node<'_>, depth: usize) -> Result<(), Error> {
        if depth > MAX_MAP_DEPTH {
            return Err(Error::Malformed { detail: "/cpus/cpu-map nested too deep" });
        }
        let mut cluster = Cluster { cpus: Vec::new() };
        for child in node.children()?.iter() {
            let child = child?;
            let name = dt::base_name(&child)?;
            if name.starts_with("core") {
                self.collect_core(&child, &mut cluster)?;
            } else if name.starts_with("cluster") || name.starts_with("socket") {
                self.walk(&child, depth + 1)?;
            }
        }
        if !cluster.cpus.is_empty() {
            push(self.clusters, cluster, "clusters")?;
        }
        Ok(())
    }

    /// Adds the CPU of a `core` node (or of each of its `thread` nodes).
    fn collect_core(&mut self, core: &Node<'_>, cluster: &mut Cluster) -> Result<(), Error> {
        const AT: &str = "/cpus/cpu-map core";
        if let Some(ph) = dt::prop_u32(core, "cpu", AT)? {
            return self.add(ph, cluster);
        }
        for thread in core.children()?.iter() {
            let thread = thread?;
            if dt::base_name(&thread)?.starts_with("thread") {
                let ph =
                    dt::prop_u32(&thread, "cpu", AT)?.ok_or(Error::MissingProperty { node: AT, property: "cpu" })?;
                self.add(ph, cluster)?;
            }
        }
        Ok(())
    }

    fn add(&mut self, phandle: u32, cluster: &mut Cluster) -> Result<(), Error> {
        let index =
            self.phandles.iter().position(|p| *p == Some(phandle)).ok_or(Error::CpuMapUnknownCpu { phandle })?;
        if self.seen[index] {
            return Err(Error::CpuMapDuplicateCpu { mpidr: self.cpus[index].mpidr });
        }
        self.seen[index] = true;
        push(&mut cluster.cpus, index as u8, "cpus in a cluster")
    }
}

/// MPIDR bits above the affinity level that defines a cluster.
fn cluster_key(mpidr: u64, mt: bool) -> u64 {
    let aff3 = (mpidr >> 32) & 0xff;
    let aff2 = (mpidr >> 16) & 0xff;
    let aff1 = (mpidr >> 8) & 0xff;
    if mt {
        (aff3 << 8) | aff2
    } else {
        (aff3 << 16) | (aff2 << 8) | aff1
    }
}

/// Without a cpu-map: cores whose affinity above the core level matches
/// share a cluster. With the MT layout (DynamIQ), Aff1 is the core number
/// and Aff2 the cluster; otherwise Aff1 is the cluster.
fn group_by_affinity(cpus: &[Cpu<'_>], hints: Hints, clusters: &mut Clusters) -> Result<ClusterSource, Error> {
    let mt = hints.mpidr_mt.unwrap_or_else(|| cpus.len() > 1 && cpus.iter().all(|c| c.mpidr & 0xff == 0));
    for (i, cpu) in cpus.iter().enumerate() {
        let key = cluster_key(cpu.mpidr, mt);
        let existing = clusters
            .iter()
            .position(|c| c.cpus.first().is_some_and(|&first| cluster_key(cpus[usize::from(first)].mpidr, mt) == key));
        match existing {
            Some(at) => push(&mut clusters[at].cpus, i as u8, "cpus in a cluster")?,
            None => {
                let mut cluster = Cluster { cpus: Vec::new() };
                push(&mut cluster.cpus, i as u8, "cpus in a cluster")?;
                push(clusters, cluster, "clusters")?;
            }
        }
    }
    Ok(if mt { ClusterSource::MpidrAff2 } else { ClusterSource::MpidrAff1 })
}
