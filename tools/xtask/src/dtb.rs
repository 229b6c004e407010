//! Device trees for QEMU scenarios, made from QEMU's own `dumpdtb` so they
//! match the emulated hardware, then rewritten: clusters regrouped in
//! `/cpus/cpu-map` (QEMU's `-smp` cannot make unequal clusters), and
//! `capacity-dmips-mhz` and `compatible` set per cluster.

use crate::qemu::{self, Machine};
use crate::{target_dir, Result};
use fdt::parsing::{unaligned::UnalignedParser, NoPanic};
use std::path::PathBuf;
use std::process::Command;
use vm_fdt::FdtWriter;

type Node<'a> = fdt::nodes::Node<'a, (UnalignedParser<'a>, NoPanic)>;

/// One cluster of a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterSpec {
    pub cpus: usize,
    /// `capacity-dmips-mhz`, or none (all cores equal).
    pub capacity: Option<u32>,
    /// `compatible` of its cores, or QEMU's.
    pub compatible: Option<&'static str>,
    /// `dynamic-power-coefficient` and the operating points (Hz, uV) of
    /// its cores' `operating-points-v2` table, or none.
    pub energy: Option<(u32, &'static [(u64, u32)])>,
}

/// Cortex-A55 as mainline Linux's RK3588 tree has it: coefficient 228
/// (`rk3588-base.dtsi`), `opp-table-cluster0` of `rk3588-opp.dtsi`.
const A55: (u32, &[(u64, u32)]) = (
    228,
    &[
        (1_008_000_000, 675_000),
        (1_200_000_000, 712_500),
        (1_416_000_000, 762_500),
        (1_608_000_000, 850_000),
        (1_800_000_000, 950_000),
    ],
);
/// Cortex-A76, the same sources: coefficient 416, `opp-table-cluster1`.
const A76: (u32, &[(u64, u32)]) = (
    416,
    &[
        (1_200_000_000, 675_000),
        (1_416_000_000, 725_000),
        (1_608_000_000, 762_500),
        (1_800_000_000, 850_000),
        (2_016_000_000, 925_000),
        (2_208_000_000, 987_500),
        (2_400_000_000, 1_000_000),
    ],
);

/// A named topology the project provides.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    pub name: &'static str,
    pub about: &'static str,
    pub clusters: &'static [ClusterSpec],
}

const fn cluster(cpus: usize, capacity: Option<u32>, compatible: Option<&'static str>) -> ClusterSpec {
    ClusterSpec { cpus, capacity, compatible, energy: None }
}

const fn with_energy(c: ClusterSpec, energy: (u32, &'static [(u64, u32)])) -> ClusterSpec {
    ClusterSpec { energy: Some(energy), ..c }
}

/// The provided topologies.
pub const PRESETS: &[Preset] = &[
    Preset { name: "1x4", about: "one cluster of 4 equal cores", clusters: &[cluster(4, None, None)] },
    Preset {
        name: "4+4",
        about: "big cluster (1024) + LITTLE cluster (530)",
        clusters: &[
            with_energy(cluster(4, Some(1024), Some("arm,cortex-a76")), A76),
            with_energy(cluster(4, Some(530), Some("arm,cortex-a55")), A55),
        ],
    },
    Preset {
        name: "4+2+2",
        about: "RK3588 shape: 4 LITTLE (530) + 2 big + 2 big (1024)",
        clusters: &[
            with_energy(cluster(4, Some(530), Some("arm,cortex-a55")), A55),
            with_energy(cluster(2, Some(1024), Some("arm,cortex-a76")), A76),
            with_energy(cluster(2, Some(1024), Some("arm,cortex-a76")), A76),
        ],
    },
];

/// Looks a preset up by name.
pub fn preset(name: &str) -> Result<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name).ok_or_else(|| {
        let names: Vec<_> = PRESETS.iter().map(|p| p.name).collect();
        format!("unknown topology {name:?}; known: {}", names.join(", "))
    })
}

/// `m`'s device tree: its file, or the one QEMU builds for it.
pub fn of_machine(m: &Machine) -> Result<Vec<u8>> {
    match &m.dtb {
        Some(path) => std::fs::read(path).map_err(|e| format!("{}: {e}", path.display())),
        None => dump(m),
    }
}

/// QEMU's own device tree for `m`.
pub fn dump(m: &Machine) -> Result<Vec<u8>> {
    let dir = target_dir().join("dtb");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(format!("qemu-dump-{}.dtb", unique()));
    let mut cmd = Command::new(qemu::binary()?);
    cmd.args(qemu::machine_args(m, &format!(",dumpdtb={}", path.display())));
    cmd.args(["-display", "none", "-nodefaults"]);
    let out = cmd.output().map_err(|e| format!("cannot run QEMU: {e}"))?;
    let bytes = std::fs::read(&path)
        .map_err(|_| format!("QEMU did not dump a device tree: {}", String::from_utf8_lossy(&out.stderr).trim()))?;
    let _ = std::fs::remove_file(&path);
    Ok(bytes)
}

/// Writes the device tree of `preset` for GIC version `gic` and CPU model
/// `cpu`; returns its path (under `target/dtb/`).
pub fn preset_dtb(preset: &Preset, gic: u8, cpu: &str, memory_mib: u32) -> Result<PathBuf> {
    let smp = preset.clusters.iter().map(|c| c.cpus).sum();
    let m = Machine { smp, gic, cpu: cpu.into(), memory_mib, ..Machine::default() };
    let blob = rewrite(&dump(&m)?, preset.clusters)?;
    let path = target_dir().join("dtb").join(format!("{}-gicv{gic}-{cpu}-{memory_mib}M.dtb", preset.name));
    // Write then rename, so concurrent runs never read a half-written tree.
    let tmp = path.with_extension(format!("tmp{}", unique()));
    std::fs::write(&tmp, blob).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// A name no other thread or process of this machine is using.
fn unique() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{n}", std::process::id())
}

/// `base` shaped as `preset`: its core count, and the preset's device tree
/// for `base`'s GIC version, CPU model and memory size.
pub fn machine(preset: &Preset, base: Machine) -> Result<Machine> {
    let smp = preset.clusters.iter().map(|c| c.cpus).sum();
    let dtb = preset_dtb(preset, base.gic, &base.cpu, base.memory_mib)?;
    Ok(Machine { smp, dtb: Some(dtb), ..base })
}

fn fdt_err(e: fdt::FdtError) -> String {
    format!("cannot read QEMU's device tree: {e}")
}

/// Rewrites `blob` so `/cpus` holds `clusters` (cores in MPIDR order).
pub fn rewrite(blob: &[u8], clusters: &[ClusterSpec]) -> Result<Vec<u8>> {
    rewrite_without(blob, clusters, &[])
}

/// Like [`rewrite`], also leaving out the top-level nodes named in `drop`
/// (for example `psci`): how tests make trees the kernel must refuse.
pub fn rewrite_without(blob: &[u8], clusters: &[ClusterSpec], drop: &[&str]) -> Result<Vec<u8>> {
    let fdt = fdt::Fdt::new_unaligned_fallible(blob).map_err(fdt_err)?;
    let root = fdt.root().map_err(fdt_err)?;
    let cpus = root.find_node("/cpus").map_err(fdt_err)?.ok_or("QEMU's device tree has no /cpus")?;

    // Cores by MPIDR, each with its phandle (made up where QEMU gave none).
    let mut max_phandle = 0u32;
    for node in root.all_nodes().map_err(fdt_err)? {
        let (_, node) = node.map_err(fdt_err)?;
        if let Some(p) = node.raw_property("phandle").map_err(fdt_err)? {
            max_phandle = max_phandle.max(be32(p.value));
        }
    }
    let mut cores = Vec::new();
    for child in cpus.children().map_err(fdt_err)?.iter() {
        let child = child.map_err(fdt_err)?;
        let name = child.name().map_err(fdt_err)?;
        if name.name != "cpu" {
            continue;
        }
        let reg = child.raw_property("reg").map_err(fdt_err)?.map(|p| p.value.to_vec()).unwrap_or_default();
        let phandle = match child.raw_property("phandle").map_err(fdt_err)? {
            Some(p) => be32(p.value),
            None => {
                max_phandle += 1;
                max_phandle
            }
        };
        cores.push((reg, phandle, name.unit_address.unwrap_or("").to_string()));
    }
    cores.sort();
    let wanted: usize = clusters.iter().map(|c| c.cpus).sum();
    if wanted != cores.len() {
        return Err(format!("topology has {wanted} cores but QEMU made {}", cores.len()));
    }
    // Which cluster each core (by unit address) falls in.
    let mut cluster_of = std::collections::HashMap::new();
    let mut it = cores.iter();
    for (ci, c) in clusters.iter().enumerate() {
        for core in it.by_ref().take(c.cpus) {
            cluster_of.insert(core.2.clone(), (ci, core.1));
        }
    }

    // One operating-point table per cluster that has energy facts.
    let opp_phandles: Vec<u32> = (0..clusters.len()).map(|i| max_phandle + 1 + i as u32).collect();
    let mut w = FdtWriter::new().map_err(|e| e.to_string())?;
    let ctx = Rewrite { clusters, cluster_of: &cluster_of, cores: &cores, drop, opp_phandles: &opp_phandles };
    ctx.node(&mut w, &root.find_node("/").map_err(fdt_err)?.ok_or("no root node")?, 0, false)?;
    w.finish().map_err(|e| e.to_string())
}

fn be32(v: &[u8]) -> u32 {
    v.get(..4).map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

struct Rewrite<'c> {
    clusters: &'c [ClusterSpec],
    cluster_of: &'c std::collections::HashMap<String, (usize, u32)>,
    cores: &'c [(Vec<u8>, u32, String)],
    drop: &'c [&'c str],
    opp_phandles: &'c [u32],
}

impl Rewrite<'_> {
    fn node(&self, w: &mut FdtWriter, node: &Node<'_>, depth: usize, in_cpus: bool) -> Result<()> {
        let name = node.name().map_err(fdt_err)?;
        let full = match (depth, name.unit_address) {
            (0, _) => String::new(),
            (_, Some(unit)) => format!("{}@{unit}", name.name),
            (_, None) => name.name.to_string(),
        };
        let core =
            if in_cpus && name.name == "cpu" { self.cluster_of.get(name.unit_address.unwrap_or("")) } else { None };
        let handle = w.begin_node(&full).map_err(|e| e.to_string())?;
        let mut has_phandle = false;
        for prop in node.properties().map_err(fdt_err)?.iter() {
            let prop = prop.map_err(fdt_err)?;
            if let Some(&(ci, _)) = core {
                let spec = self.clusters[ci];
                let energy = ["dynamic-power-coefficient", "operating-points-v2"];
                let replaced = prop.name == "capacity-dmips-mhz"
                    || (prop.name == "compatible" && spec.compatible.is_some())
                    || (spec.energy.is_some() && energy.contains(&prop.name));
                if replaced {
                    continue;
                }
            }
            has_phandle |= prop.name == "phandle";
            w.property(prop.name, prop.value).map_err(|e| e.to_string())?;
        }
        if let Some(&(ci, phandle)) = core {
            let spec = self.clusters[ci];
            if let Some(c) = spec.compatible {
                w.property_string("compatible", c).map_err(|e| e.to_string())?;
            }
            if let Some(cap) = spec.capacity {
                w.property_u32("capacity-dmips-mhz", cap).map_err(|e| e.to_string())?;
            }
            if let Some((coefficient, _)) = spec.energy {
                w.property_u32("dynamic-power-coefficient", coefficient).map_err(|e| e.to_string())?;
                w.property_u32("operating-points-v2", self.opp_phandles[ci]).map_err(|e| e.to_string())?;
            }
            if !has_phandle {
                w.property_u32("phandle", phandle).map_err(|e| e.to_string())?;
            }
        }
        let is_cpus = depth == 1 && name.name == "cpus";
        for child in node.children().map_err(fdt_err)?.iter() {
            let child = child.map_err(fdt_err)?;
            let child_name = child.name().map_err(fdt_err)?.name;
            if (is_cpus && child_name == "cpu-map") || (depth == 0 && self.drop.contains(&child_name)) {
                continue;
            }
            self.node(w, &child, depth + 1, is_cpus)?;
        }
        if is_cpus {
            self.cpu_map(w)?;
        }
        if depth == 0 {
            self.opp_tables(w)?;
        }
        w.end_node(handle).map_err(|e| e.to_string())
    }

    /// `/cluster<N>-opp-table` for each cluster with energy facts, shared
    /// by its cores, as mainline's RK3588 tree lays them out.
    fn opp_tables(&self, w: &mut FdtWriter) -> Result<()> {
        let e = |e: vm_fdt::Error| e.to_string();
        for (ci, spec) in self.clusters.iter().enumerate() {
            let Some((_, points)) = spec.energy else { continue };
            let table = w.begin_node(&format!("cluster{ci}-opp-table")).map_err(e)?;
            w.property_string("compatible", "operating-points-v2").map_err(e)?;
            w.property_null("opp-shared").map_err(e)?;
            w.property_u32("phandle", self.opp_phandles[ci]).map_err(e)?;
            let top = points.iter().map(|&(_, uv)| uv).max().unwrap_or(0);
            for &(hz, microvolt) in points {
                let opp = w.begin_node(&format!("opp-{hz}")).map_err(e)?;
                w.property_u64("opp-hz", hz).map_err(e)?;
                w.property_array_u32("opp-microvolt", &[microvolt, microvolt, top]).map_err(e)?;
                w.end_node(opp).map_err(e)?;
            }
            w.end_node(table).map_err(e)?;
        }
        Ok(())
    }

    fn cpu_map(&self, w: &mut FdtWriter) -> Result<()> {
        let e = |e: vm_fdt::Error| e.to_string();
        let map = w.begin_node("cpu-map").map_err(e)?;
        let socket = w.begin_node("socket0").map_err(e)?;
        let mut cores = self.cores.iter();
        for (ci, spec) in self.clusters.iter().enumerate() {
            let cluster = w.begin_node(&format!("cluster{ci}")).map_err(e)?;
            for (k, core) in cores.by_ref().take(spec.cpus).enumerate() {
                let n = w.begin_node(&format!("core{k}")).map_err(e)?;
                w.property_u32("cpu", core.1).map_err(e)?;
                w.end_node(n).map_err(e)?;
            }
            w.end_node(cluster).map_err(e)?;
        }
        w.end_node(socket).map_err(e)?;
        w.end_node(map).map_err(e)
    }
}
