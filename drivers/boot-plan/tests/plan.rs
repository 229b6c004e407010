//! Boot plans for trees shaped like real boards' and QEMU's, checked field
//! by field, plus the invariants every plan must keep.

#[path = "../../topology/tests/common/mod.rs"]
mod common;
mod support;

use boot_plan::{
    BootPlan, Build, MpidrList, NodePlan, PlanConfig, PlanError, Range, StartMethod, UartName, REGION_ALIGN,
};
use common::*;
use support::check_invariants;
use topology::{Hints, Topology};

fn topo(blob: &[u8]) -> Topology<'_> {
    Topology::parse(blob, Hints::default()).expect("tree parses")
}

fn plan(blob: &[u8]) -> BootPlan<'_> {
    plan_with(blob, None, &PlanConfig::default())
}

fn plan_with<'a>(blob: &'a [u8], boot: Option<u64>, config: &PlanConfig) -> BootPlan<'a> {
    let p = BootPlan::new(topo(blob), boot, config).expect("plan");
    check_invariants(&p, config);
    p
}

fn r(start: u64, size: u64) -> Range {
    Range { start, size }
}

/// A node as plain values: (id, build, cpu indices, mpidrs, capacity, memory).
type NodeSummary = (usize, Build, Vec<u8>, Vec<u64>, u32, Range);

fn summary(n: &NodePlan) -> NodeSummary {
    (n.id, n.build, n.cpus.to_vec(), n.mpidrs.to_vec(), n.capacity, n.memory)
}

fn nodes(p: &BootPlan<'_>) -> Vec<NodeSummary> {
    p.nodes.iter().map(summary).collect()
}

// --- Radxa ROCK 5B (RK3588) -------------------------------------------------

#[test]
fn rock5b_three_nodes_little_big_big() {
    let blob = rock5b();
    let p = plan(&blob);
    // The largest free range is the bank above 4 GiB (4096 MiB); after the
    // 2 MiB channel region 4094 MiB are split three ways and rounded down
    // to 2 MiB: 1364 MiB each.
    let per = 1364 * MIB;
    assert_eq!(per, 0x5540_0000);
    assert_eq!(
        nodes(&p),
        vec![
            (0, Build::Little, vec![0, 1, 2, 3], vec![0x000, 0x100, 0x200, 0x300], 530, r(0x1_0020_0000, per)),
            (1, Build::Big, vec![4, 5], vec![0x400, 0x500], 1024, r(0x1_5560_0000, per)),
            (2, Build::Big, vec![6, 7], vec![0x600, 0x700], 1024, r(0x1_aaa0_0000, per)),
        ]
    );
    assert_eq!(p.shared, r(0x1_0000_0000, 2 * MIB));
    assert_eq!(p.boot_node, 0);
    assert_eq!(p.start_method, StartMethod::Psci);
    assert_eq!(p.cpu_count(), 8);
}

#[test]
fn rock5b_printed_plan() {
    let blob = rock5b();
    let p = plan(&blob);
    let want = "\
boot plan: 3 nodes, 8 cpus (clusters from cpu-map)
  node 0: build=little cpus=4 mpidr=0x0,0x100,0x200,0x300 capacity=530 mem=0x100200000+0x55400000 (1364 MiB) (boot node)
  node 1: build=big cpus=2 mpidr=0x400,0x500 capacity=1024 mem=0x155600000+0x55400000 (1364 MiB)
  node 2: build=big cpus=2 mpidr=0x600,0x700 capacity=1024 mem=0x1aaa00000+0x55400000 (1364 MiB)
  shared: 0x100000000+0x200000
  channels: 6, one per ordered pair of nodes, 16384 bytes (253 slots) each from 0x100040000, then a transfer area of 64 pages
  enable-method: psci, psci: smc
  gic: v3 distributor=0xfe600000 redistributors=0xfe680000
  uart: ns16550 (reg-shift 2) at 0xfeb50000
  bootargs: \"\"";
    assert_eq!(p.to_string(), want);
}

#[test]
fn rock5b_booted_on_a_big_core() {
    let blob = rock5b();
    // Booting on cpu_b1 (0x500): node 1 is the boot node and 0x500 leads it.
    let p = plan_with(&blob, Some(0x500), &PlanConfig::default());
    assert_eq!(p.boot_node, 1);
    assert_eq!(p.nodes[1].mpidrs.as_slice(), &[0x500, 0x400]);
    assert_eq!(p.nodes[1].cpus.as_slice(), &[5, 4]);
    // Other nodes keep tree order.
    assert_eq!(p.nodes[0].mpidrs.as_slice(), &[0x000, 0x100, 0x200, 0x300]);
    assert_eq!(p.nodes[2].mpidrs.as_slice(), &[0x600, 0x700]);
    // Memory does not depend on the boot core.
    assert_eq!(p.nodes[1].memory, r(0x1_5560_0000, 1364 * MIB));
    let text = p.to_string();
    assert!(text.contains("  node 1: build=big cpus=2 mpidr=0x500,0x400 capacity=1024"));
    assert!(text.lines().nth(2).expect("node 1 line").ends_with("(boot node)"));

    let p = plan_with(&blob, Some(0x200), &PlanConfig::default());
    assert_eq!(p.boot_node, 0);
    assert_eq!(p.nodes[0].mpidrs.as_slice(), &[0x200, 0x000, 0x100, 0x300]);
}

#[test]
fn rock5b_unknown_boot_core() {
    let blob = rock5b();
    let err = BootPlan::new(topo(&blob), Some(0x800), &PlanConfig::default()).err();
    assert_eq!(err, Some(PlanError::UnknownBootCpu { mpidr: 0x800 }));
}

#[test]
fn rock5b_without_cpu_map_is_one_node() {
    let blob = rock5b_without_cpu_map();
    let p = plan(&blob);
    assert_eq!(p.nodes.len(), 1);
    // Mixed capacities in one node: the node's capacity is its largest.
    assert_eq!(p.nodes[0].capacity, 1024);
    assert_eq!(p.nodes[0].build, Build::Big);
    assert_eq!(p.nodes[0].memory, r(0x1_0020_0000, 4094 * MIB));
    assert!(p.to_string().starts_with("boot plan: 1 nodes, 8 cpus (clusters from MPIDR Aff2)\n"));
}

// --- RK3399 ---------------------------------------------------------------------

#[test]
fn rk3399_two_nodes_little_big() {
    let blob = rk3399();
    let p = plan(&blob);
    // One bank 0x20_0000..0xf800_0000; the boot reserve takes its first
    // 32 MiB: 3934 MiB free, 2 for channels, 1966 MiB per node.
    let per = 1966 * MIB;
    assert_eq!(
        nodes(&p),
        vec![
            (0, Build::Little, vec![0, 1, 2, 3], vec![0, 1, 2, 3], 485, r(0x240_0000, per)),
            (1, Build::Big, vec![4, 5], vec![0x100, 0x101], 1024, r(0x7d20_0000, per)),
        ]
    );
    assert_eq!(p.shared, r(0x220_0000, 2 * MIB));
    assert_eq!(p.nodes[1].memory.end(), 0xf800_0000);
    assert_eq!(p.start_method, StartMethod::Psci);
}

// --- Arm Juno r2 --------------------------------------------------------------------

#[test]
fn juno_r2_two_nodes_big_little() {
    let blob = juno_r2();
    let p = plan(&blob);
    let per = 3070 * MIB;
    assert_eq!(per, 0xbfe0_0000);
    assert_eq!(
        nodes(&p),
        vec![
            (0, Build::Big, vec![0, 1], vec![0x0, 0x1], 1024, r(0x8_8020_0000, per)),
            (1, Build::Little, vec![2, 3, 4, 5], vec![0x100, 0x101, 0x102, 0x103], 485, r(0x9_4000_0000, per)),
        ]
    );
    assert_eq!(p.shared, r(0x8_8000_0000, 2 * MIB));
    assert_eq!(p.boot_node, 0);
    let text = p.to_string();
    assert!(text.contains("\n  gic: v2 distributor=0x2c010000 cpu-interface=0x2c02f000\n"));
    assert!(text.contains("\n  uart: pl011 at 0x7ff80000\n"));
}

#[test]
fn juno_r2_boot_core_from_the_header() {
    // No MPIDR from the running core: boot_cpuid_phys decides.
    let blob = juno_r2_with_boot_cpuid(0x102);
    let p = plan(&blob);
    assert_eq!(p.boot_node, 1);
    assert_eq!(p.nodes[1].mpidrs.as_slice(), &[0x102, 0x100, 0x101, 0x103]);
    assert_eq!(p.nodes[0].mpidrs.as_slice(), &[0x0, 0x1]);

    // A header boot CPU that is not in the tree falls back to node 0.
    let blob = juno_r2_with_boot_cpuid(0x7);
    let p = plan(&blob);
    assert_eq!(p.boot_node, 0);
    assert_eq!(p.nodes[0].mpidrs.as_slice(), &[0x0, 0x1]);

    // An explicit MPIDR wins over the header.
    let blob = juno_r2_with_boot_cpuid(0x102);
    let p = plan_with(&blob, Some(0x1), &PlanConfig::default());
    assert_eq!(p.boot_node, 0);
    assert_eq!(p.nodes[0].mpidrs.as_slice(), &[0x1, 0x0]);
    assert_eq!(p.nodes[1].mpidrs.as_slice(), &[0x100, 0x101, 0x102, 0x103]);
}

// --- Raspberry Pi 4 -------------------------------------------------------------------

#[test]
fn rpi4_one_big_node_started_by_spin_table() {
    let blob = rpi4();
    let p = plan(&blob);
    // Largest free range: 0x4000_0000..0xfc00_0000 (3008 MiB).
    assert_eq!(nodes(&p), vec![(0, Build::Big, vec![0, 1, 2, 3], vec![0, 1, 2, 3], 1024, r(0x4020_0000, 3006 * MIB))]);
    assert_eq!(p.shared, r(0x4000_0000, 2 * MIB));
    assert_eq!(p.start_method, StartMethod::SpinTable);
    assert_eq!(p.topology.psci, None);
}

#[test]
fn rpi4_printed_plan() {
    let blob = rpi4();
    let p = plan(&blob);
    let want = "\
boot plan: 1 nodes, 4 cpus (clusters from MPIDR Aff1)
  node 0: build=big cpus=4 mpidr=0x0,0x1,0x2,0x3 capacity=1024 mem=0x40200000+0xbbe00000 (3006 MiB) (boot node)
  shared: 0x40000000+0x200000
  channels: none (one node)
  enable-method: spin-table, psci: none
  gic: v2 distributor=0xff841000 cpu-interface=0xff842000
  uart: unsupported (brcm,bcm2835-aux-uart) at 0xfe215040
  bootargs: \"\"";
    assert_eq!(p.to_string(), want);
}

// --- Arm FVP Base RevC ----------------------------------------------------------------

#[test]
fn fvp_two_big_nodes() {
    let blob = fvp_base_revc();
    let p = plan(&blob);
    let per = 1022 * MIB;
    assert_eq!(
        nodes(&p),
        vec![
            (0, Build::Big, vec![0, 1, 2, 3], vec![0x0, 0x100, 0x200, 0x300], 1024, r(0x8_8020_0000, per)),
            (1, Build::Big, vec![4, 5, 6, 7], vec![0x10000, 0x10100, 0x10200, 0x10300], 1024, r(0x8_c000_0000, per)),
        ]
    );
    assert_eq!(p.shared, r(0x8_8000_0000, 2 * MIB));
    assert!(p.to_string().contains("\n  uart: pl011 at 0x1c090000\n"));
}

// --- QEMU virt --------------------------------------------------------------------------

#[test]
fn qemu_one_cluster_of_four() {
    let blob = qemu_1x4().build();
    let p = plan(&blob);
    assert_eq!(nodes(&p), vec![(0, Build::Big, vec![0, 1, 2, 3], vec![0, 1, 2, 3], 1024, r(0x4220_0000, 990 * MIB))]);
    assert_eq!(p.shared, r(0x4200_0000, 2 * MIB));
    assert_eq!(p.start_method, StartMethod::Psci);
    let want = "\
boot plan: 1 nodes, 4 cpus (clusters from cpu-map)
  node 0: build=big cpus=4 mpidr=0x0,0x1,0x2,0x3 capacity=1024 mem=0x42200000+0x3de00000 (990 MiB) (boot node)
  shared: 0x42000000+0x200000
  channels: none (one node)
  enable-method: psci, psci: hvc
  gic: v2 distributor=0x8000000 cpu-interface=0x8010000
  uart: pl011 at 0x9000000
  bootargs: \"\"";
    assert_eq!(p.to_string(), want);
}

#[test]
fn qemu_two_clusters_big_little() {
    let blob = qemu_2x4_big_little().build();
    let p = plan(&blob);
    let per = 494 * MIB;
    assert_eq!(
        nodes(&p),
        vec![
            (0, Build::Big, vec![0, 1, 2, 3], vec![0, 1, 2, 3], 1024, r(0x4220_0000, per)),
            (1, Build::Little, vec![4, 5, 6, 7], vec![4, 5, 6, 7], 530, r(0x6100_0000, per)),
        ]
    );
}

#[test]
fn qemu_three_clusters_little_big_big() {
    let blob = qemu_4_2_2().build();
    let p = plan(&blob);
    let per = 330 * MIB;
    assert_eq!(
        nodes(&p),
        vec![
            (0, Build::Little, vec![0, 1, 2, 3], vec![0, 1, 2, 3], 530, r(0x4220_0000, per)),
            (1, Build::Big, vec![4, 5], vec![4, 5], 1024, r(0x56c0_0000, per)),
            (2, Build::Big, vec![6, 7], vec![6, 7], 1024, r(0x6b60_0000, per)),
        ]
    );
    // Booted on vCPU 6.
    let p = plan_with(&blob, Some(6), &PlanConfig::default());
    assert_eq!(p.boot_node, 2);
    assert_eq!(p.nodes[2].mpidrs.as_slice(), &[6, 7]);
    let p = plan_with(&blob, Some(7), &PlanConfig::default());
    assert_eq!(p.nodes[2].mpidrs.as_slice(), &[7, 6]);
}

#[test]
fn qemu_without_cpu_map_is_one_node() {
    let mut q = QemuVirt::new(QemuGic::V2, &[(4, None), (4, None)]);
    q.cpu_map = false;
    let blob = q.build();
    let p = plan(&blob);
    assert_eq!(p.nodes.len(), 1);
    assert_eq!(p.nodes[0].mpidrs.as_slice(), &[0, 1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(p.nodes[0].memory, r(0x4220_0000, 990 * MIB));
}

#[test]
fn qemu_gicv3_printed_line() {
    let blob = QemuVirt::new(QemuGic::V3, &[(4, None), (4, None)]).build();
    let p = plan(&blob);
    assert!(p.to_string().contains("\n  gic: v3 distributor=0x8000000 redistributors=0x80a0000\n"));
}

#[test]
fn qemu_fixture_plan() {
    let p = plan(QEMU_GICV3_2X4_DTB);
    let per = 494 * MIB;
    assert_eq!(
        nodes(&p),
        vec![
            (0, Build::Big, vec![0, 1, 2, 3], vec![0, 1, 2, 3], 1024, r(0x4220_0000, per)),
            (1, Build::Big, vec![4, 5, 6, 7], vec![4, 5, 6, 7], 1024, r(0x6100_0000, per)),
        ]
    );
    assert_eq!(p.shared, r(0x4200_0000, 2 * MIB));
    assert_eq!(p.start_method, StartMethod::Psci);
    let want = "\
boot plan: 2 nodes, 8 cpus (clusters from cpu-map)
  node 0: build=big cpus=4 mpidr=0x0,0x1,0x2,0x3 capacity=1024 mem=0x42200000+0x1ee00000 (494 MiB) (boot node)
  node 1: build=big cpus=4 mpidr=0x4,0x5,0x6,0x7 capacity=1024 mem=0x61000000+0x1ee00000 (494 MiB)
  shared: 0x42000000+0x200000
  channels: 2, one per ordered pair of nodes, 16384 bytes (253 slots) each from 0x42040000, then a transfer area of 64 pages
  enable-method: psci, psci: hvc
  gic: v3 distributor=0x8000000 redistributors=0x80a0000
  uart: pl011 at 0x9000000
  bootargs: \"console=ttyAMA0 earlycon\"";
    assert_eq!(p.to_string(), want);
}

#[test]
fn partial_capacities_print_a_warning() {
    let blob = QemuVirt::new(QemuGic::V2, &[(2, Some(530)), (2, None)]).build();
    let p = plan(&blob);
    assert!(p.nodes.iter().all(|n| n.build == Build::Big && n.capacity == 1024));
    assert!(p.to_string().contains("\n  warning: only some cpus give capacity-dmips-mhz; all treated as equal\n"));
}

// --- Memory carving --------------------------------------------------------------------

#[test]
fn reservations_split_ram_and_the_largest_piece_wins() {
    let mut q = qemu_4_2_2();
    // A reservation at 0x5000_0000 leaves 256 - 32 = 224 MiB below it and
    // 0x5100_0000..0x8000_0000 = 752 MiB above it.
    q.reserved = vec![(0x5000_0000, 0x100_0000)];
    q.memreserve = vec![(0x4000_0000, 0x1_0000)];
    let blob = q.build();
    let p = plan(&blob);
    assert_eq!(p.shared, r(0x5100_0000, 2 * MIB));
    // (752 - 2) / 3 = 250 MiB.
    let per = 250 * MIB;
    let got: Vec<Range> = p.nodes.iter().map(|n| n.memory).collect();
    assert_eq!(got, [r(0x5120_0000, per), r(0x5120_0000 + per, per), r(0x5120_0000 + 2 * per, per)]);
}

#[test]
fn unaligned_ram_and_reservations_are_rounded_inwards() {
    let mut q = qemu_1x4();
    q.memory = vec![(0x4010_0000, GIB - 0x30_0000)];
    q.memreserve = vec![(0x7000_1000, 0x1000)];
    let blob = q.build();
    let p = plan(&blob);
    // Boot reserve 0x4010_0000..0x4210_0000; free below the reservation:
    // 0x4210_0000..0x7000_1000 -> aligned 0x4220_0000..0x7000_0000.
    assert_eq!(p.shared, r(0x4220_0000, 2 * MIB));
    assert_eq!(p.nodes[0].memory, r(0x4240_0000, 0x7000_0000 - 0x4240_0000));
}

#[test]
fn boot_reserve_is_in_the_lowest_bank_whatever_the_order() {
    // QEMU 10 with `-numa node,... -numa node,...` writes memory@60000000
    // before memory@40000000 (libfdt inserts each new node first). The
    // loader's image sits at the bottom of RAM (0x4020_0000 on virt), so
    // the boot reserve must be at 0x4000_0000, not at the first-listed bank.
    let mut q = qemu_2x4_big_little();
    q.memory = vec![(0x6000_0000, 512 * MIB), (0x4000_0000, 512 * MIB)];
    let blob = q.build();
    let p = plan(&blob);
    let image = r(0x4020_0000, 4 * MIB);
    assert!(!p.shared.overlaps(&image));
    assert!(p.nodes.iter().all(|n| !n.memory.overlaps(&image)));
    // 0x4200_0000..0x6000_0000 (480 MiB) loses to 0x6000_0000..0x8000_0000.
    assert_eq!(p.shared, r(0x6000_0000, 2 * MIB));
    assert_eq!(p.nodes[0].memory, r(0x6020_0000, 254 * MIB));
    assert_eq!(p.nodes[1].memory, r(0x7000_0000, 254 * MIB));
}

#[test]
fn several_banks_take_the_largest() {
    let mut q = qemu_2x4_big_little();
    q.memory = vec![(0x4000_0000, GIB), (0x1_0000_0000, 3 * GIB), (0x2_0000_0000, 2 * GIB)];
    let blob = q.build();
    let p = plan(&blob);
    assert_eq!(p.shared, r(0x1_0000_0000, 2 * MIB));
    let per = ((3 * GIB - 2 * MIB) / 2) & !(REGION_ALIGN - 1);
    assert_eq!(p.nodes[0].memory, r(0x1_0020_0000, per));
    assert_eq!(p.nodes[1].memory, r(0x1_0020_0000 + per, per));
}

#[test]
fn custom_config() {
    let blob = qemu_1x4().build();
    let config = PlanConfig { boot_reserve: 0, shared_size: 1, min_node_memory: 0, console_area: 0, pa_bits: None };
    let p = plan_with(&blob, None, &config);
    // The channel size rounds up to one 2 MiB block.
    assert_eq!(p.shared, r(0x4000_0000, 2 * MIB));
    assert_eq!(p.nodes[0].memory, r(0x4020_0000, GIB - 2 * MIB));

    let config = PlanConfig {
        boot_reserve: 64 * MIB,
        shared_size: 8 * MIB,
        min_node_memory: 16 * MIB,
        console_area: 256 << 10,
        pa_bits: None,
    };
    let p = plan_with(&blob, None, &config);
    assert_eq!(p.shared, r(0x4400_0000, 8 * MIB));
    assert_eq!(p.nodes[0].memory, r(0x4480_0000, GIB - 72 * MIB));
}

#[test]
fn smallest_memory_that_fits_three_nodes() {
    // 32 MiB boot reserve + 2 MiB channels + 3 x 8 MiB.
    let mut q = qemu_4_2_2();
    q.memory = vec![(0x4000_0000, 58 * MIB)];
    let blob = q.build();
    let p = plan(&blob);
    assert!(p.nodes.iter().all(|n| n.memory.size == 8 * MIB));
    assert_eq!(p.nodes[2].memory.end(), 0x4000_0000 + 58 * MIB);
}

// --- Errors --------------------------------------------------------------------------------

#[test]
fn psci_cpus_without_psci_node() {
    let mut q = qemu_2x4_big_little();
    q.psci = None;
    let blob = q.build();
    let err = BootPlan::new(topo(&blob), None, &PlanConfig::default()).err();
    assert_eq!(err, Some(PlanError::NoPsci));
}

#[test]
fn a_single_core_needs_no_psci() {
    // Nothing is started but the boot core, which is already running.
    let mut q = QemuVirt::new(QemuGic::V3, &[(1, None)]);
    q.psci = None;
    let blob = q.build();
    let p = BootPlan::new(topo(&blob), None, &PlanConfig::default()).expect("a plan without PSCI");
    assert_eq!(p.nodes.len(), 1);
    assert_eq!(p.topology.psci, None);
}

#[test]
fn qemu_secure_on_has_no_psci_for_the_normal_world() {
    // With `secure=on` QEMU leaves PSCI to the EL3 firmware and writes no
    // `/psci`; the CPUs still say enable-method "psci".
    let mut q = QemuVirt::new(QemuGic::V3, &[(4, None)]);
    q.secure = true;
    q.psci = None;
    let blob = q.build();
    let err = BootPlan::new(topo(&blob), None, &PlanConfig::default()).err();
    assert_eq!(err, Some(PlanError::NoPsci));
    // Once firmware adds `/psci`, the plan uses only normal-world RAM.
    q.psci = Some("smc");
    let blob = q.build();
    let p = plan(&blob);
    assert_eq!(p.shared, r(0x4200_0000, 2 * MIB));
    assert_eq!(p.nodes[0].memory, r(0x4220_0000, 990 * MIB));
}

#[test]
fn too_little_memory_for_the_node_count() {
    let mut q = qemu_4_2_2();
    // 40 MiB: 8 MiB after the boot reserve, 6 after the channels, 2 each.
    q.memory = vec![(0x4000_0000, 40 * MIB)];
    let blob = q.build();
    let err = BootPlan::new(topo(&blob), None, &PlanConfig::default()).err();
    assert_eq!(err, Some(PlanError::NotEnoughMemory { nodes: 3, per_node: 2 * MIB, min: 8 * MIB }));
    // One 2 MiB block short of the minimum.
    q.memory = vec![(0x4000_0000, 56 * MIB)];
    let blob = q.build();
    let err = BootPlan::new(topo(&blob), None, &PlanConfig::default()).err();
    assert_eq!(err, Some(PlanError::NotEnoughMemory { nodes: 3, per_node: 6 * MIB, min: 8 * MIB }));
}

#[test]
fn no_free_memory() {
    // All of RAM is the boot reserve.
    let mut q = qemu_1x4();
    q.memory = vec![(0x4000_0000, 32 * MIB)];
    let blob = q.build();
    let err = BootPlan::new(topo(&blob), None, &PlanConfig::default()).err();
    assert_eq!(err, Some(PlanError::NoFreeMemory));

    // Everything after the boot reserve is reserved.
    let mut q = qemu_1x4();
    q.reserved = vec![(0x4200_0000, GIB - 32 * MIB)];
    let blob = q.build();
    let err = BootPlan::new(topo(&blob), None, &PlanConfig::default()).err();
    assert_eq!(err, Some(PlanError::NoFreeMemory));

    // Less than one aligned 2 MiB block is left.
    let mut q = qemu_1x4();
    q.memory = vec![(0x4000_0000, 32 * MIB + 0x1f_f000)];
    let blob = q.build();
    let err = BootPlan::new(topo(&blob), None, &PlanConfig::default()).err();
    assert_eq!(err, Some(PlanError::NoFreeMemory));
}

#[test]
fn channels_only_leave_nothing_for_nodes() {
    let mut q = qemu_1x4();
    q.memory = vec![(0x4000_0000, 34 * MIB)];
    let blob = q.build();
    let err = BootPlan::new(topo(&blob), None, &PlanConfig::default()).err();
    assert_eq!(err, Some(PlanError::NotEnoughMemory { nodes: 1, per_node: 0, min: 8 * MIB }));
}

#[test]
fn mixed_start_methods() {
    let blob = tree_with_cpus(|d| {
        cpu_node(d, 0, None, |_| {});
        d.node("cpu@1", |d| {
            d.str("device_type", "cpu");
            d.u32("reg", 1);
            d.str("enable-method", "spin-table");
            // Outside RAM (an SRAM, say): releasing writes nothing the plan hands out.
            d.cells("cpu-release-addr", &[0, 0x3f00_0ff8]);
        });
    });
    let p = plan(&blob);
    assert_eq!(p.start_method, StartMethod::Mixed);
    assert!(p.to_string().contains("\n  enable-method: mixed, psci: hvc\n"));
}

#[test]
fn spin_table_without_psci_node_is_fine() {
    // The Raspberry Pi has no /psci at all.
    let blob = rpi4();
    let t = topo(&blob);
    assert_eq!(t.psci, None);
    assert!(BootPlan::new(t, None, &PlanConfig::default()).is_ok());
}

#[test]
fn every_plan_error_renders_as_one_line() {
    let all = [
        PlanError::NoPsci,
        PlanError::UnknownBootCpu { mpidr: 0x800 },
        PlanError::NoFreeMemory,
        PlanError::NotEnoughMemory { nodes: 3, per_node: 2 * MIB, min: 8 * MIB },
        PlanError::TooMany { what: "nodes" },
    ];
    for e in all {
        let s = e.to_string();
        assert!(!s.is_empty());
        assert!(!s.contains('\n'), "{e:?} renders as {s:?}");
    }
    assert_eq!(
        PlanError::NotEnoughMemory { nodes: 3, per_node: 2 * MIB, min: 8 * MIB }.to_string(),
        "not enough RAM: 3 nodes would get 2 MiB each, need at least 8 MiB"
    );
    assert_eq!(PlanError::NoPsci.to_string(), "cpus use enable-method \"psci\" but the device tree has no /psci node");
    assert_eq!(
        PlanError::UnknownBootCpu { mpidr: 0x800 }.to_string(),
        "boot cpu (MPIDR 0x800) is not in the device tree's /cpus"
    );
}

// --- Small helpers --------------------------------------------------------------------------

#[test]
fn names_and_lists() {
    assert_eq!(Build::Big.name(), "big");
    assert_eq!(Build::Little.name(), "little");
    assert_eq!(StartMethod::Psci.name(), "psci");
    assert_eq!(StartMethod::SpinTable.name(), "spin-table");
    assert_eq!(StartMethod::Mixed.name(), "mixed");
    assert_eq!(MpidrList(&[]).to_string(), "");
    assert_eq!(MpidrList(&[0x0, 0x100, 0x1_0000]).to_string(), "0x0,0x100,0x10000");
    assert_eq!(UartName(boot_plan::UartKind::Pl011).to_string(), "pl011");
    assert_eq!(
        UartName(boot_plan::UartKind::Ns16550 { reg_shift: 2, io_width: 4 }).to_string(),
        "ns16550 (reg-shift 2)"
    );
    assert_eq!(
        UartName(boot_plan::UartKind::Other("brcm,bcm2835-aux-uart")).to_string(),
        "unsupported (brcm,bcm2835-aux-uart)"
    );
}

/// One channel per ordered pair, page-aligned, disjoint, inside the shared
/// region after the console area and outside every node's RAM.
#[test]
fn channels_one_per_ordered_pair_disjoint_and_in_the_shared_region() {
    for n in 1..=16usize {
        let shared = boot_plan::Range { start: 0x4000_0000, size: 2 << 20 };
        let map = boot_plan::ChannelMap::new(shared, 256 << 10, n).expect("channel map");
        assert_eq!(map.count(), n * (n - 1));
        let mut seen: Vec<boot_plan::Range> = Vec::new();
        for from in 0..n {
            assert_eq!(map.range(from, from), None, "no channel to oneself");
            for to in (0..n).filter(|&t| t != from) {
                let r = map.range(from, to).expect("channel for every ordered pair");
                assert_eq!(r.start % 4096, 0);
                assert_eq!(r.size % 4096, 0);
                assert!(r.start >= shared.start + (256 << 10) && r.end() <= shared.end(), "{r:?}");
                assert!(seen.iter().all(|s| !s.overlaps(&r)), "channels overlap");
                seen.push(r);
            }
        }
        assert_eq!(map.range(n, 0), None);
        if n > 1 {
            assert!(map.slots() >= 61, "{n} nodes: {} slots", map.slots());
        }
    }
    let tiny = boot_plan::Range { start: 0, size: 260 << 10 };
    assert!(boot_plan::ChannelMap::new(tiny, 256 << 10, 3).is_err(), "no room is an error, not a panic");
}
