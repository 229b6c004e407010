//! QEMU `virt` trees: the builders (checked against `-M virt,dumpdtb=`) and
//! one real QEMU 10 blob, `tests/data/qemu-virt-gicv3-2x4.dtb`.

mod common;

use common::*;
use topology::{
    ClusterSource, Cpu, EnableMethod, Error, Gic, Hints, PsciConduit, Range, Topology, Uart, UartKind, FULL_CAPACITY,
    MAX_DMIPS_MHZ,
};

fn parse(blob: &[u8]) -> Topology<'_> {
    Topology::parse(blob, Hints::default()).expect("tree parses")
}

fn r(start: u64, size: u64) -> Range {
    Range { start, size }
}

fn clusters(t: &Topology<'_>) -> Vec<Vec<u8>> {
    t.clusters.iter().map(|c| c.cpus.to_vec()).collect()
}

fn a55(mpidr: u64, dmips_mhz: Option<u32>, capacity: u32) -> Cpu<'static> {
    Cpu { mpidr, compatible: "arm,cortex-a55", dmips_mhz, capacity, enable_method: EnableMethod::Psci, energy: None }
}

const GICV2: Gic = Gic::V2 {
    distributor: Range { start: 0x800_0000, size: 0x1_0000 },
    cpu_interface: Range { start: 0x801_0000, size: 0x1_0000 },
};

const GICV3: Gic = Gic::V3 {
    distributor: Range { start: 0x800_0000, size: 0x1_0000 },
    redistributors: Range { start: 0x80a_0000, size: 0xf6_0000 },
};

/// `interrupts = <0x00 0x01 0x04>`: SPI 1, INTID 33.
const PL011: Uart<'static> =
    Uart { kind: UartKind::Pl011, regs: Range { start: 0x900_0000, size: 0x1000 }, irq: Some(33) };

/// What every QEMU virt tree with the default machine options shares.
fn assert_virt_devices(t: &Topology<'_>, gic: Gic) {
    assert_eq!(t.psci, Some(PsciConduit::Hvc));
    assert_eq!(t.gic, Some(gic));
    assert_eq!(t.uart, Some(PL011));
    assert_eq!(t.memory.as_slice(), &[r(0x4000_0000, GIB)]);
    assert!(t.reserved.is_empty());
    assert_eq!(t.boot_cpuid, 0);
}

#[test]
fn one_cluster_of_four() {
    let blob = qemu_1x4().build();
    let t = parse(&blob);
    let want: Vec<_> = (0..4).map(|m| a55(m, None, FULL_CAPACITY)).collect();
    assert_eq!(t.cpus.as_slice(), want.as_slice());
    assert_eq!(t.cluster_source, ClusterSource::CpuMap);
    assert_eq!(clusters(&t), vec![vec![0, 1, 2, 3]]);
    assert!(!t.capacity_partial);
    assert_virt_devices(&t, GICV2);
    assert_eq!(t.bootargs, "");
}

#[test]
fn two_clusters_big_then_little() {
    let blob = qemu_2x4_big_little().build();
    let t = parse(&blob);
    let want: Vec<_> = (0..8).map(|m| if m < 4 { a55(m, Some(1024), 1024) } else { a55(m, Some(530), 530) }).collect();
    assert_eq!(t.cpus.as_slice(), want.as_slice());
    assert_eq!(t.cluster_source, ClusterSource::CpuMap);
    assert_eq!(clusters(&t), vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7]]);
    assert_virt_devices(&t, GICV2);
}

#[test]
fn three_clusters_4_2_2() {
    let blob = qemu_4_2_2().build();
    let t = parse(&blob);
    let caps: Vec<u32> = t.cpus.iter().map(|c| c.capacity).collect();
    assert_eq!(caps, [530, 530, 530, 530, 1024, 1024, 1024, 1024]);
    assert_eq!(clusters(&t), vec![vec![0, 1, 2, 3], vec![4, 5], vec![6, 7]]);
    assert_eq!(t.cluster_of(5), Some(1));
    assert_eq!(t.cluster_of(6), Some(2));
    assert_virt_devices(&t, GICV2);
}

#[test]
fn capacities_are_normalised_to_the_largest() {
    // Neither cluster says 1024: the largest becomes FULL_CAPACITY.
    let blob = QemuVirt::new(QemuGic::V2, &[(2, Some(578)), (2, Some(1156))]).build();
    let t = parse(&blob);
    let caps: Vec<(Option<u32>, u32)> = t.cpus.iter().map(|c| (c.dmips_mhz, c.capacity)).collect();
    assert_eq!(caps, [(Some(578), 512), (Some(578), 512), (Some(1156), 1024), (Some(1156), 1024)]);
    assert!(!t.capacity_partial);
}

#[test]
fn capacities_given_by_only_some_cpus_are_ignored() {
    let blob = QemuVirt::new(QemuGic::V2, &[(2, Some(530)), (2, None)]).build();
    let t = parse(&blob);
    assert!(t.capacity_partial);
    let caps: Vec<(Option<u32>, u32)> = t.cpus.iter().map(|c| (c.dmips_mhz, c.capacity)).collect();
    assert_eq!(caps, [(Some(530), 1024), (Some(530), 1024), (None, 1024), (None, 1024)]);
}

#[test]
fn capacities_no_real_core_has_are_refused_naming_the_core() {
    let err = |clusters: &[(usize, Option<u32>)]| {
        Topology::parse(&QemuVirt::new(QemuGic::V2, clusters).build(), Hints::default())
            .map(|_| ())
            .expect_err("the tree must be refused")
    };
    // The trees: 0xffffffff on the LITTLE cores, and 0.
    let e = err(&[(2, Some(1024)), (2, Some(u32::MAX))]);
    assert_eq!(e, Error::BadCapacity { mpidr: 0x2, raw: u32::MAX, largest: None });
    assert_eq!(
        e.to_string(),
        "cpu 0x2 has capacity-dmips-mhz 4294967295 (0xffffffff), which no real core has (must be 1 to 8192)"
    );
    assert_eq!(err(&[(2, Some(0)), (2, Some(0))]), Error::BadCapacity { mpidr: 0, raw: 0, largest: None });
    // Zero is refused even where only some cores give the property.
    assert_eq!(err(&[(2, Some(0)), (2, None)]), Error::BadCapacity { mpidr: 0, raw: 0, largest: None });
    assert_eq!(err(&[(2, Some(530)), (2, Some(MAX_DMIPS_MHZ + 1))]).to_string().matches("8193").count(), 1);
    // In range, but it would scale to 0 next to the largest.
    let e = err(&[(2, Some(7)), (2, Some(8000))]);
    assert_eq!(e, Error::BadCapacity { mpidr: 0, raw: 7, largest: Some(8000) });
    assert_eq!(
        e.to_string(),
        "cpu 0x0 has capacity-dmips-mhz 7, under 1/1024 of the tree's largest (8000): its capacity would be 0"
    );
    // The bounds themselves are real capacities.
    let blob = QemuVirt::new(QemuGic::V2, &[(2, Some(8)), (2, Some(MAX_DMIPS_MHZ))]).build();
    let t = parse(&blob);
    assert_eq!(t.cpus.iter().map(|c| c.capacity).collect::<Vec<_>>(), [1, 1, 1024, 1024]);
}

#[test]
fn without_cpu_map_qemu_mpidrs_make_one_cluster() {
    // QEMU puts vCPUs 0..7 in Aff1 = 0 (8 per Aff1 for GICv2) whatever
    // `-smp clusters=` says, so MPIDR grouping yields a single cluster.
    let mut q = QemuVirt::new(QemuGic::V2, &[(4, None), (4, None)]);
    q.cpu_map = false;
    let blob = q.build();
    let t = parse(&blob);
    assert_eq!(t.cluster_source, ClusterSource::MpidrAff1);
    assert_eq!(clusters(&t), vec![vec![0, 1, 2, 3, 4, 5, 6, 7]]);
    let mpidrs: Vec<u64> = t.cpus.iter().map(|c| c.mpidr).collect();
    assert_eq!(mpidrs, [0, 1, 2, 3, 4, 5, 6, 7]);
}

#[test]
fn gicv3_24_cpus_cpu_map_wins_over_aff1() {
    // GICv3: 16 vCPUs per Aff1, so vCPU 16 has MPIDR 0x100. The cpu-map
    // says two clusters of 12; without it Aff1 gives 16 + 8.
    let mut q = QemuVirt::new(QemuGic::V3, &[(12, None), (12, None)]);
    let blob = q.build();
    let t = parse(&blob);
    assert_eq!(t.cpus.len(), 24);
    assert_eq!(t.cpus[15].mpidr, 0xf);
    assert_eq!(t.cpus[16].mpidr, 0x100);
    assert_eq!(t.cpus[23].mpidr, 0x107);
    assert_eq!(t.cluster_source, ClusterSource::CpuMap);
    assert_eq!(clusters(&t), vec![(0..12).collect::<Vec<u8>>(), (12..24).collect()]);
    assert_virt_devices(&t, GICV3);

    q.cpu_map = false;
    let blob = q.build();
    let t = parse(&blob);
    assert_eq!(t.cluster_source, ClusterSource::MpidrAff1);
    assert_eq!(clusters(&t), vec![(0..16).collect::<Vec<u8>>(), (16..24).collect()]);
}

#[test]
fn gicv3_variant() {
    let blob = QemuVirt::new(QemuGic::V3, &[(4, None), (4, None)]).build();
    let t = parse(&blob);
    assert_eq!(clusters(&t), vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7]]);
    assert_virt_devices(&t, GICV3);
}

#[test]
fn single_cpu_without_enable_method_is_psci() {
    // With -smp 1 QEMU writes no enable-method at all.
    let blob = QemuVirt::new(QemuGic::V2, &[(1, None)]).build();
    let t = parse(&blob);
    assert_eq!(t.cpus.as_slice(), &[a55(0, None, FULL_CAPACITY)]);
    assert_eq!(clusters(&t), vec![vec![0]]);
    assert_eq!(t.cluster_source, ClusterSource::CpuMap);
}

#[test]
fn bootargs_memreserve_and_reserved_memory() {
    let mut q = qemu_1x4();
    q.bootargs = Some("console=ttyAMA0 loglevel=8");
    q.memreserve = vec![(0x4800_0000, 0x1_0000), (0x7fff_0000, 0x1_0000)];
    q.reserved = vec![(0x5000_0000, 0x100_0000)];
    q.memory = vec![(0x4000_0000, GIB), (0x1_0000_0000, 2 * GIB)];
    let blob = q.build();
    let t = parse(&blob);
    assert_eq!(t.bootargs, "console=ttyAMA0 loglevel=8");
    assert_eq!(
        t.reserved.as_slice(),
        &[r(0x4800_0000, 0x1_0000), r(0x7fff_0000, 0x1_0000), r(0x5000_0000, 0x100_0000)]
    );
    assert_eq!(t.memory.as_slice(), &[r(0x4000_0000, GIB), r(0x1_0000_0000, 2 * GIB)]);
}

#[test]
fn secure_only_ram_and_uart_are_ignored() {
    // `-M virt,secure=on`: `secram@e000000` has device_type "memory" but
    // `status = "disabled"` (it is for the secure world only), like the
    // secure UART at 0x9040000. Neither is the normal world's.
    let mut q = QemuVirt::new(QemuGic::V3, &[(4, None)]);
    q.secure = true;
    q.psci = None;
    q.memory = vec![(0x4000_0000, 2 * GIB)];
    let blob = q.build();
    let t = parse(&blob);
    assert_eq!(t.memory.as_slice(), &[r(0x4000_0000, 2 * GIB)]);
    assert_eq!(t.uart, Some(PL011));
    assert_eq!(t.psci, None);
    assert_eq!(t.gic, Some(GICV3));
}

#[test]
fn builder_phandles_follow_qemu() {
    // -smp 8: cpu@0 gets 0x8008 ... cpu@7 0x8001, the GIC 0x8009.
    let q = QemuVirt::new(QemuGic::V2, &[(4, None), (4, None)]);
    assert_eq!(q.cpu_phandle(0), 0x8008);
    assert_eq!(q.cpu_phandle(7), 0x8001);
    assert_eq!(q.gic_phandle(), 0x8009);
    assert_eq!(q.mpidr(7), 7);
    let q3 = QemuVirt::new(QemuGic::V3, &[(20, None)]);
    assert_eq!(q3.mpidr(17), 0x101);
}

// --- The committed QEMU 10 blob -------------------------------------------------

#[test]
fn fixture_is_a_real_qemu_blob_with_nops() {
    let blob = QEMU_GICV3_2X4_DTB;
    assert_eq!(be32(blob, hdr::MAGIC), 0xd00d_feed);
    assert_eq!(be32(blob, hdr::TOTALSIZE) as usize, blob.len());
    assert_eq!(be32(blob, hdr::VERSION), 17);
    // QEMU's layout: reservation map right after the 40-byte header, and
    // free space after the strings block.
    assert_eq!(be32(blob, hdr::OFF_MEM_RSVMAP), 0x28);
    let strings_end = be32(blob, hdr::OFF_DT_STRINGS) + be32(blob, hdr::SIZE_DT_STRINGS);
    assert!((strings_end as usize) < blob.len());
    let (begin, end, _props, nops) = count_tokens(blob);
    assert_eq!(begin, end);
    assert_eq!(nops, 54, "the fixture must keep QEMU's FDT_NOP tags");
}

#[test]
fn fixture_topology() {
    let t = parse(QEMU_GICV3_2X4_DTB);
    let want: Vec<_> = (0..8).map(|m| a55(m, None, FULL_CAPACITY)).collect();
    assert_eq!(t.cpus.as_slice(), want.as_slice());
    assert_eq!(t.cluster_source, ClusterSource::CpuMap);
    assert_eq!(clusters(&t), vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7]]);
    assert!(!t.capacity_partial);
    assert_virt_devices(&t, GICV3);
    assert_eq!(t.bootargs, "console=ttyAMA0 earlycon");
}

#[test]
fn fixture_matches_the_builder() {
    let fixture = parse(QEMU_GICV3_2X4_DTB);
    let blob = QemuVirt::new(QemuGic::V3, &[(4, None), (4, None)]).build();
    let built = parse(&blob);
    assert_eq!(fixture.cpus, built.cpus);
    assert_eq!(fixture.clusters, built.clusters);
    assert_eq!(fixture.cluster_source, built.cluster_source);
    assert_eq!(fixture.psci, built.psci);
    assert_eq!(fixture.memory, built.memory);
    assert_eq!(fixture.reserved, built.reserved);
    assert_eq!(fixture.gic, built.gic);
    assert_eq!(fixture.uart, built.uart);
}

#[test]
fn builder_has_the_fixtures_structure() {
    // Same nodes, same paths, same property names in the same order as the
    // tree QEMU 10 really generated (`-M virt,gic-version=3 -smp
    // 8,clusters=2`). In the fixture the /memory node arm_load_dtb wrote
    // again is followed by the 54 FDT_NOPs it left of the old one; the
    // outline skips NOPs.
    let mut q = QemuVirt::new(QemuGic::V3, &[(4, None), (4, None)]);
    q.bootargs = Some("console=ttyAMA0 earlycon");
    assert_eq!(node_outline(&q.build()), node_outline(QEMU_GICV3_2X4_DTB));
}

#[test]
fn fixture_with_hints() {
    for mt in [None, Some(false), Some(true)] {
        let t = Topology::parse(QEMU_GICV3_2X4_DTB, Hints { mpidr_mt: mt }).expect("parses");
        assert_eq!(t.cluster_source, ClusterSource::CpuMap);
        assert_eq!(t.clusters.len(), 2);
    }
}

#[test]
fn fixture_with_trailing_bytes_parses() {
    // The boot driver may hand over a buffer longer than totalsize.
    let mut blob = QEMU_GICV3_2X4_DTB.to_vec();
    blob.extend_from_slice(&[0xa5; 4096]);
    let t = parse(&blob);
    assert_eq!(t.cpus.len(), 8);
}
