//! Topology of trees shaped like the ones mainline Linux publishes for real
//! boards (see `common/mod.rs` for the file each builder follows).

mod common;

use common::*;
use topology::{
    ClusterSource, Cpu, EnableMethod, Gic, Hints, PsciConduit, Range, Topology, Uart, UartKind, FULL_CAPACITY,
};

fn parse(blob: &[u8]) -> Topology<'_> {
    Topology::parse(blob, Hints::default()).expect("tree parses")
}

fn r(start: u64, size: u64) -> Range {
    Range { start, size }
}

fn psci_cpu(mpidr: u64, compatible: &str, dmips: Option<u32>, capacity: u32) -> Cpu<'_> {
    Cpu { mpidr, compatible, dmips_mhz: dmips, capacity, enable_method: EnableMethod::Psci, energy: None }
}

/// Cluster membership as plain index lists.
fn clusters(t: &Topology<'_>) -> Vec<Vec<u8>> {
    t.clusters.iter().map(|c| c.cpus.to_vec()).collect()
}

fn cluster_mpidrs(t: &Topology<'_>, i: usize) -> Vec<u64> {
    t.cluster_cpus(i).map(|c| c.mpidr).collect()
}

// --- Radxa ROCK 5B (RK3588) -----------------------------------------------

#[test]
fn rock5b_cpus() {
    let blob = rock5b();
    let t = parse(&blob);
    let a55 = |m| psci_cpu(m, "arm,cortex-a55", Some(530), 530);
    let a76 = |m| psci_cpu(m, "arm,cortex-a76", Some(1024), 1024);
    let want = [a55(0x000), a55(0x100), a55(0x200), a55(0x300), a76(0x400), a76(0x500), a76(0x600), a76(0x700)];
    assert_eq!(t.cpus.as_slice(), &want);
    assert!(!t.capacity_partial);
}

#[test]
fn rock5b_clusters_come_from_cpu_map() {
    let blob = rock5b();
    let t = parse(&blob);
    assert_eq!(t.cluster_source, ClusterSource::CpuMap);
    assert_eq!(clusters(&t), vec![vec![0, 1, 2, 3], vec![4, 5], vec![6, 7]]);
    assert_eq!(cluster_mpidrs(&t, 0), [0x000, 0x100, 0x200, 0x300]);
    assert_eq!(cluster_mpidrs(&t, 1), [0x400, 0x500]);
    assert_eq!(cluster_mpidrs(&t, 2), [0x600, 0x700]);
    assert_eq!(cluster_mpidrs(&t, 3), Vec::<u64>::new());
    assert_eq!(t.cluster_of(0x000), Some(0));
    assert_eq!(t.cluster_of(0x300), Some(0));
    assert_eq!(t.cluster_of(0x500), Some(1));
    assert_eq!(t.cluster_of(0x600), Some(2));
    assert_eq!(t.cluster_of(0x800), None);
    assert_eq!(t.cluster_of(0x1), None);
}

#[test]
fn rock5b_devices() {
    let blob = rock5b();
    let t = parse(&blob);
    assert_eq!(t.psci, Some(PsciConduit::Smc));
    assert_eq!(
        t.gic,
        Some(Gic::V3 { distributor: r(0xfe60_0000, 0x1_0000), redistributors: r(0xfe68_0000, 0x10_0000) })
    );
    // stdout-path "serial2:1500000n8" -> alias serial2 -> /serial@feb50000;
    // uart0 (fd890000) and uart1 (feb40000) are disabled.
    assert_eq!(
        t.uart,
        Some(Uart {
            kind: UartKind::Ns16550 { reg_shift: 2, io_width: 4 },
            regs: r(0xfeb5_0000, 0x100),
            irq: Some(365)
        })
    );
    assert_eq!(t.memory.as_slice(), &[r(0x20_0000, 0xf000_0000 - 0x20_0000), r(0x1_0000_0000, 0x1_0000_0000)]);
    assert!(t.reserved.is_empty());
    assert_eq!(t.bootargs, "");
    assert_eq!(t.boot_cpuid, 0);
}

#[test]
fn rock5b_without_cpu_map_groups_by_mpidr() {
    let blob = rock5b_without_cpu_map();
    // Every Aff0 is zero, so without a hint the layout is taken as
    // multi-threaded style (DynamIQ): Aff1 is the core, Aff2 the cluster,
    // and all eight cores share Aff2 = 0.
    let t = Topology::parse(&blob, Hints::default()).expect("parses");
    assert_eq!(t.cluster_source, ClusterSource::MpidrAff2);
    assert_eq!(clusters(&t), vec![vec![0, 1, 2, 3, 4, 5, 6, 7]]);

    let t = Topology::parse(&blob, Hints { mpidr_mt: Some(true) }).expect("parses");
    assert_eq!(t.cluster_source, ClusterSource::MpidrAff2);
    assert_eq!(clusters(&t), vec![vec![0, 1, 2, 3, 4, 5, 6, 7]]);

    // Told the core is not MT, Aff1 is the cluster: eight one-core clusters.
    let t = Topology::parse(&blob, Hints { mpidr_mt: Some(false) }).expect("parses");
    assert_eq!(t.cluster_source, ClusterSource::MpidrAff1);
    assert_eq!(clusters(&t), (0..8u8).map(|i| vec![i]).collect::<Vec<_>>());
    // The rest of the topology does not depend on the grouping.
    assert_eq!(t.cpus.len(), 8);
    assert_eq!(t.psci, Some(PsciConduit::Smc));
}

#[test]
fn rock5b_hints_do_not_override_cpu_map() {
    let blob = rock5b();
    for mt in [None, Some(true), Some(false)] {
        let t = Topology::parse(&blob, Hints { mpidr_mt: mt }).expect("parses");
        assert_eq!(t.cluster_source, ClusterSource::CpuMap);
        assert_eq!(t.clusters.len(), 3);
    }
}

// --- RK3399 ----------------------------------------------------------------

#[test]
fn rk3399_topology() {
    let blob = rk3399();
    let t = parse(&blob);
    let a53 = |m| psci_cpu(m, "arm,cortex-a53", Some(485), 485);
    let a72 = |m| psci_cpu(m, "arm,cortex-a72", Some(1024), 1024);
    // `/cpus` has #address-cells = <2>: reg <0x0 0x100> is MPIDR 0x100.
    let want = [a53(0x0), a53(0x1), a53(0x2), a53(0x3), a72(0x100), a72(0x101)];
    assert_eq!(t.cpus.as_slice(), &want);
    assert_eq!(t.cluster_source, ClusterSource::CpuMap);
    assert_eq!(clusters(&t), vec![vec![0, 1, 2, 3], vec![4, 5]]);
    assert_eq!(t.psci, Some(PsciConduit::Smc));
    // Five reg entries (GICD, GICR, GICC, GICH, GICV): the second is GICR.
    assert_eq!(
        t.gic,
        Some(Gic::V3 { distributor: r(0xfee0_0000, 0x1_0000), redistributors: r(0xfef0_0000, 0xc_0000) })
    );
    assert_eq!(
        t.uart,
        Some(Uart {
            kind: UartKind::Ns16550 { reg_shift: 2, io_width: 4 },
            regs: r(0xff1a_0000, 0x100),
            irq: Some(132)
        })
    );
    assert_eq!(t.memory.as_slice(), &[r(0x20_0000, 0xf800_0000 - 0x20_0000)]);
    assert!(t.reserved.is_empty());
    assert!(!t.capacity_partial);
}

// --- Arm Juno r2 -------------------------------------------------------------

#[test]
fn juno_r2_topology() {
    let blob = juno_r2();
    let t = parse(&blob);
    // juno-r2.dts lists the big A72 cluster first.
    let a72 = |m| psci_cpu(m, "arm,cortex-a72", Some(1024), 1024);
    let a53 = |m| psci_cpu(m, "arm,cortex-a53", Some(485), 485);
    let want = [a72(0x0), a72(0x1), a53(0x100), a53(0x101), a53(0x102), a53(0x103)];
    assert_eq!(t.cpus.as_slice(), &want);
    assert_eq!(t.cluster_source, ClusterSource::CpuMap);
    assert_eq!(clusters(&t), vec![vec![0, 1], vec![2, 3, 4, 5]]);
    assert_eq!(t.psci, Some(PsciConduit::Smc));
    // GIC-400: distributor and CPU interface are the first two reg entries;
    // the node's own `ranges` (for its v2m children) must not apply to them.
    assert_eq!(t.gic, Some(Gic::V2 { distributor: r(0x2c01_0000, 0x1000), cpu_interface: r(0x2c02_f000, 0x2000) }));
    assert_eq!(t.uart, Some(Uart { kind: UartKind::Pl011, regs: r(0x7ff8_0000, 0x1000), irq: Some(115) }));
    assert_eq!(t.memory.as_slice(), &[r(0x8000_0000, 0x7f00_0000), r(0x8_8000_0000, 0x1_8000_0000)]);
    assert!(t.reserved.is_empty());
}

#[test]
fn juno_r2_boot_cpuid_from_header() {
    let blob = juno_r2_with_boot_cpuid(0x101);
    let t = parse(&blob);
    assert_eq!(t.boot_cpuid, 0x101);
    assert_eq!(t.cluster_of(u64::from(t.boot_cpuid)), Some(1));
}

// --- Raspberry Pi 4 -----------------------------------------------------------

#[test]
fn rpi4_cpus_use_spin_table() {
    let blob = rpi4();
    let t = parse(&blob);
    let want: Vec<Cpu<'_>> = [0xd8u64, 0xe0, 0xe8, 0xf0]
        .iter()
        .enumerate()
        .map(|(i, &release_addr)| Cpu {
            mpidr: i as u64,
            compatible: "arm,cortex-a72",
            dmips_mhz: None,
            capacity: FULL_CAPACITY,
            enable_method: EnableMethod::SpinTable { release_addr },
            energy: None,
        })
        .collect();
    assert_eq!(t.cpus.as_slice(), want.as_slice());
    assert!(!t.capacity_partial);
    // No cpu-map; Aff0 differs, so Aff1 is the cluster: one cluster of four.
    assert_eq!(t.cluster_source, ClusterSource::MpidrAff1);
    assert_eq!(clusters(&t), vec![vec![0, 1, 2, 3]]);
    assert_eq!(t.psci, None);
}

#[test]
fn rpi4_addresses_are_translated_through_soc_ranges() {
    let blob = rpi4();
    let t = parse(&blob);
    // GIC-400 at bus address 0x40041000 -> 0xff841000 (third /soc range).
    assert_eq!(t.gic, Some(Gic::V2 { distributor: r(0xff84_1000, 0x1000), cpu_interface: r(0xff84_2000, 0x2000) }));
    // stdout-path "serial1:115200n8" is the mini UART (8250 aux), not the
    // PL011 that comes first in the tree: 0x7e215040 -> 0xfe215040.
    assert_eq!(
        t.uart,
        Some(Uart { kind: UartKind::Other("brcm,bcm2835-aux-uart"), regs: r(0xfe21_5040, 0x40), irq: Some(125) })
    );
}

#[test]
fn rpi4_memory_and_reservations() {
    let blob = rpi4();
    let t = parse(&blob);
    assert_eq!(t.memory.as_slice(), &[r(0x0, 0x3b40_0000), r(0x4000_0000, 0xbc00_0000)]);
    // `/memreserve/ 0x0 0x1000` (spin stubs) from the header, then the
    // `reserved-memory/nvram@0` placeholder `<0x0 0x0 0x0>`; `linux,cma`
    // has only a size and is not a fixed reservation.
    assert_eq!(t.reserved.as_slice(), &[r(0x0, 0x1000), r(0x0, 0x0)]);
}

#[test]
fn rpi4_stdout_serial0_is_the_pl011() {
    let blob = patched(&rpi4(), b"serial1:115200n8", b"serial0:115200n8");
    let t = parse(&blob);
    assert_eq!(t.uart, Some(Uart { kind: UartKind::Pl011, regs: r(0xfe20_1000, 0x200), irq: Some(153) }));
}

#[test]
fn rpi4_unknown_alias_falls_back_to_first_pl011() {
    let blob = patched(&rpi4(), b"serial1:115200n8", b"serial7:115200n8");
    let t = parse(&blob);
    assert_eq!(t.uart, Some(Uart { kind: UartKind::Pl011, regs: r(0xfe20_1000, 0x200), irq: Some(153) }));
}

#[test]
fn rpi4_as_linux_ships_it_has_no_memory() {
    // bcm2711-rpi.dtsi: `memory@0 { reg = <0 0 0>; }` "Will be filled by
    // the bootloader". A zero-sized bank is no RAM.
    let blob = rpi4_with_memory(&[0, 0, 0]);
    assert_eq!(Topology::parse(&blob, Hints::default()).err(), Some(topology::Error::NoMemory));
}

// --- Arm FVP Base RevC ---------------------------------------------------------

#[test]
fn fvp_groups_by_aff2_without_cpu_map() {
    let blob = fvp_base_revc();
    let t = parse(&blob);
    let want: Vec<Cpu<'_>> = FVP_MPIDRS.iter().map(|&m| psci_cpu(m, "arm,armv8", None, FULL_CAPACITY)).collect();
    assert_eq!(t.cpus.as_slice(), want.as_slice());
    assert_eq!(t.cluster_source, ClusterSource::MpidrAff2);
    assert_eq!(clusters(&t), vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7]]);
    assert_eq!(t.psci, Some(PsciConduit::Smc));
    assert_eq!(
        t.gic,
        Some(Gic::V3 { distributor: r(0x2f00_0000, 0x1_0000), redistributors: r(0x2f10_0000, 0x20_0000) })
    );
    assert_eq!(t.memory.as_slice(), &[r(0x8000_0000, 0x8000_0000), r(0x8_8000_0000, 0x8000_0000)]);
    assert_eq!(t.reserved.as_slice(), &[r(0x8000_0000, 0x1_0000), r(0x1800_0000, 0x80_0000)]);
}

#[test]
fn fvp_console_is_translated_through_three_buses() {
    // No stdout-path: the first PL011, serial@90000 on the IOFPGA
    // (chip select 3, offset 0x90000) -> bus@8000000 maps CS3 to 0x1c000000.
    let blob = fvp_base_revc();
    let t = parse(&blob);
    assert_eq!(t.uart, Some(Uart { kind: UartKind::Pl011, regs: r(0x1c09_0000, 0x1000), irq: None }));
}

#[test]
fn fvp_stdout_path_by_alias_and_by_path() {
    let cases = [
        (Some("serial2:115200n8"), 0x1c0b_0000),
        (Some("serial3"), 0x1c0c_0000),
        (Some("/bus@8000000/motherboard-bus/iofpga-bus@300000000/serial@a0000:38400n8"), 0x1c0a_0000),
        // An alias that does not exist, and a path that names no UART:
        // fall back to the first PL011.
        (Some("serial9:115200n8"), 0x1c09_0000),
        (Some("/bus@8000000"), 0x1c09_0000),
        (None, 0x1c09_0000),
    ];
    for (stdout, want) in cases {
        let blob = fvp_base_revc_with_stdout(stdout);
        let t = parse(&blob);
        assert_eq!(
            t.uart,
            Some(Uart { kind: UartKind::Pl011, regs: r(want, 0x1000), irq: None }),
            "stdout-path {stdout:?}"
        );
    }
}

#[test]
fn every_board_parses_with_every_hint() {
    for blob in [rock5b(), rock5b_without_cpu_map(), rk3399(), juno_r2(), rpi4(), fvp_base_revc()] {
        for mt in [None, Some(false), Some(true)] {
            let t = Topology::parse(&blob, Hints { mpidr_mt: mt }).expect("parses");
            // Every CPU is in exactly one cluster.
            let mut seen: Vec<u8> = t.clusters.iter().flat_map(|c| c.cpus.iter().copied()).collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..t.cpus.len() as u8).collect::<Vec<_>>());
            assert!(t.clusters.iter().all(|c| !c.cpus.is_empty()));
        }
    }
}
