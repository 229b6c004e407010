//! The plan's address checks: RAM against every enabled device, and
//! spin-table release addresses against what the plan hands out. Each bad
//! tree is refused with one line naming both parties; trees that only
//! look alike (a disabled device, one on a bus that numbers its children,
//! a reserved release address) still plan.

#[path = "../../topology/tests/common/mod.rs"]
mod common;
mod support;

use boot_plan::{BootPlan, Party, PlanConfig, PlanError, Range};
use common::*;
use topology::{Hints, Topology};

fn plan_result(blob: &[u8]) -> Result<(), PlanError> {
    let t = Topology::parse(blob, Hints::default()).expect("tree parses");
    let config = PlanConfig::default();
    BootPlan::new(t, None, &config).map(|p| support::check_invariants(&p, &config))
}

fn plan_err(blob: &[u8]) -> PlanError {
    plan_result(blob).expect_err("the plan must refuse this tree")
}

/// [`minimal_tree`] (1 GiB at 0x4000_0000, one PSCI core) with `extra`
/// written in the root.
fn tree(extra: impl FnOnce(&mut Dt)) -> Vec<u8> {
    minimal_tree(extra)
}

fn pl011(d: &mut Dt, at: u64) {
    d.node(&format!("pl011@{at:x}"), |d| {
        d.strs("compatible", &["arm,pl011", "arm,primecell"]);
        d.cells("reg", &reg22(at, 0x1000));
    });
}

#[test]
fn a_device_inside_ram_is_refused_naming_both() {
    let e = plan_err(&tree(|d| pl011(d, 0x4020_0000)));
    assert_eq!(
        e.to_string(),
        "memory 0x40000000+0x40000000 overlaps device pl011@40200000 at 0x40200000+0x1000: \
         RAM and a device cannot share addresses"
    );
    let PlanError::DeviceInRam { device, .. } = e else { panic!("{e:?}") };
    assert_eq!(device.as_str(), "pl011@40200000");
}

#[test]
fn memory_reaching_over_qemus_devices_is_refused() {
    // The tree: `/memory reg = <0 0x9000000 0 0x40000000>` on
    // `virt` covers its PL011, GIC redistributors, RTC and virtio-mmio.
    let mut q = qemu_1x4();
    q.memory = vec![(0x900_0000, GIB)];
    let e = plan_err(&q.build());
    let PlanError::DeviceInRam { memory: m, reg, .. } = e else { panic!("{e:?}") };
    assert_eq!(m, Range { start: 0x900_0000, size: GIB });
    assert!(m.overlaps(&reg), "{e}");
}

#[test]
fn a_device_on_a_bus_that_maps_it_into_ram_is_refused() {
    // `/soc` maps its 0x0 to 0x4000_0000: its child at 0x1000 is in RAM.
    let blob = tree(|d| {
        d.node("soc", |d| {
            d.str("compatible", "simple-bus");
            d.u32("#address-cells", 1);
            d.u32("#size-cells", 1);
            d.cells("ranges", &[0x0, 0x0, 0x4000_0000, 0x1000_0000]);
            d.node("serial@1000", |d| {
                d.str("compatible", "ns16550a");
                d.cells("reg", &[0x1000, 0x100]);
            });
        });
    });
    let e = plan_err(&blob);
    assert!(e.to_string().contains("overlaps device serial@1000 at 0x40001000+0x100"), "{e}");
}

#[test]
fn what_only_looks_like_a_device_in_ram_still_plans() {
    let blob = tree(|d| {
        // Disabled: nothing drives it.
        d.node("pl011@40200000", |d| {
            d.str("compatible", "arm,pl011");
            d.cells("reg", &reg22(0x4020_0000, 0x1000));
            d.str("status", "disabled");
        });
        // Under a disabled bus.
        d.node("bus@40300000", |d| {
            d.str("compatible", "simple-bus");
            d.str("status", "disabled");
            d.u32("#address-cells", 2);
            d.u32("#size-cells", 2);
            d.null("ranges");
            pl011(d, 0x4030_0000);
        });
        // An I2C bus numbers its children (`#size-cells = <0>`).
        d.node("i2c@9100000", |d| {
            d.str("compatible", "snps,designware-i2c");
            d.cells("reg", &reg22(0x910_0000, 0x1000));
            d.u32("#address-cells", 1);
            d.u32("#size-cells", 0);
            d.node("rtc@40000000", |d| {
                d.str("compatible", "nxp,pcf8563");
                d.u32("reg", 0x4000_0000);
            });
        });
        // Reserved memory is RAM set aside, not a device.
        d.node("reserved-memory", |d| {
            d.u32("#address-cells", 2);
            d.u32("#size-cells", 2);
            d.null("ranges");
            d.node("framebuffer@7f000000", |d| d.cells("reg", &reg22(0x7f00_0000, 0x80_0000)));
        });
        // So is a firmware framebuffer in /chosen.
        d.node("chosen", |d| {
            d.node("framebuffer@7f000000", |d| {
                d.str("compatible", "simple-framebuffer");
                d.cells("reg", &reg22(0x7f00_0000, 0x80_0000));
            });
        });
    });
    plan_result(&blob).expect("plans");
}

/// [`minimal_tree`] with a second core started by spin-table from `release`,
/// and the header's `/memreserve/` entries.
fn spin_tree(release: u64, memreserve: &[(u64, u64)]) -> Vec<u8> {
    let mut d = Dt::with_memreserve(memreserve);
    d.node("", |d| {
        d.u32("#address-cells", 2);
        d.u32("#size-cells", 2);
        d.node("psci", |d| {
            d.str("compatible", "arm,psci-1.0");
            d.str("method", "hvc");
        });
        d.node("cpus", |d| {
            d.u32("#address-cells", 1);
            d.u32("#size-cells", 0);
            cpu_node(d, 0, None, |_| {});
            d.node("cpu@1", |d| {
                d.str("device_type", "cpu");
                d.str("compatible", "arm,cortex-a53");
                d.u32("reg", 1);
                d.str("enable-method", "spin-table");
                d.cells("cpu-release-addr", &c64(release));
            });
        });
        one_gib_of_memory(d);
    });
    d.finish()
}

#[test]
fn a_release_address_in_a_nodes_ram_is_refused() {
    let e = plan_err(&spin_tree(0x6000_0000, &[]));
    let PlanError::Overlap {
        what: Party::Release { mpidr: 1, addr: 0x6000_0000 },
        other: Party::NodeRam { node: 0, .. },
    } = e
    else {
        panic!("{e:?}")
    };
    let line = e.to_string();
    assert_eq!(
        line,
        "cpu 0x1's spin-table release address 0x60000000 overlaps node 0's RAM 0x42200000+0x3de00000: \
         releasing the core would write there"
    );
}

#[test]
fn a_release_address_in_the_loaders_region_is_refused_unless_reserved() {
    let e = plan_err(&spin_tree(0x4000_0fff & !7, &[]));
    assert!(matches!(e, PlanError::Overlap { what: Party::Release { .. }, other: Party::Loader(_) }), "{e:?}");
    assert!(e.to_string().contains("overlaps the loader's region 0x40000000+0x2000000"), "{e}");
    // Reserved (as the Raspberry Pi's firmware reserves its stubs): fine.
    plan_result(&spin_tree(0x4000_0ff8, &[(0x4000_0000, 0x1000)])).expect("plans");
    // Outside RAM altogether (an SRAM): fine.
    plan_result(&spin_tree(0x3f00_0ff8, &[])).expect("plans");
}

#[test]
fn the_raspberry_pi_4_tree_with_its_reserved_stubs_plans() {
    plan_result(&rpi4()).expect("plans");
}

#[test]
fn every_overlap_renders_as_one_line() {
    let r = Range { start: 0x4000_0000, size: 0x1000 };
    let parties = [
        Party::Memory(r),
        Party::Loader(r),
        Party::Shared(r),
        Party::NodeRam { node: 2, range: r },
        Party::Release { mpidr: 0x100, addr: 0xd8 },
    ];
    for what in parties {
        for other in parties {
            let s = PlanError::Overlap { what, other }.to_string();
            assert!(!s.contains('\n') && s.contains(" overlaps "), "{s}");
        }
    }
}

#[test]
fn addresses_past_the_cores_physical_size_are_refused() {
    let blob = tree(|_| {});
    let with_bits = |bits| {
        let t = Topology::parse(&blob, Hints::default()).expect("tree parses");
        BootPlan::new(t, None, &PlanConfig { pa_bits: bits, ..PlanConfig::default() }).map(|_| ())
    };
    assert_eq!(with_bits(None), Ok(()), "unknown: not checked");
    assert_eq!(with_bits(Some(40)), Ok(()));
    let e = with_bits(Some(30)).expect_err("1 GiB at 1 GiB ends past 30 bits");
    assert_eq!(
        e.to_string(),
        "memory at 0x40000000+0x40000000 is beyond this core's 30-bit physical addresses (ID_AA64MMFR0_EL1.PARange)"
    );
    assert_eq!(with_bits(Some(31)), Ok(()), "ends exactly at 2 GiB");
}

/// `blob` with the first `from` replaced by `to` (same length).
fn patch(blob: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = blob.windows(from.len()).position(|w| w == from).expect("pattern in the tree");
    let mut out = blob.to_vec();
    out[at..at + to.len()].copy_from_slice(to);
    out
}

#[test]
fn gic_registers_smaller_than_the_architecture_are_refused() {
    let reg = |a: u64, s: u64| reg22(a, s).iter().flat_map(|c| c.to_be_bytes()).collect::<Vec<u8>>();
    let v3 = QemuVirt::new(QemuGic::V3, &[(4, None)]).build();
    plan_result(&v3).expect("QEMU's own tree plans");
    let e = plan_err(&patch(&v3, &reg(0x800_0000, 0x1_0000), &reg(0x800_0000, 1)));
    assert_eq!(e.to_string(), "the GICv3 distributor at 0x8000000+0x1 is smaller than its 0x10000 bytes of registers");
    // One 128 KiB frame per core: three frames for four cores.
    let e = plan_err(&patch(&v3, &reg(0x80a_0000, 0xf6_0000), &reg(0x80a_0000, 0x6_0000)));
    assert_eq!(
        e.to_string(),
        "the GICv3 redistributor region at 0x80a0000+0x60000 is smaller than its 0x80000 bytes of registers"
    );
    let v2 = QemuVirt::new(QemuGic::V2, &[(2, None)]).build();
    plan_result(&v2).expect("QEMU's own tree plans");
    let e = plan_err(&patch(&v2, &reg(0x801_0000, 0x1_0000), &reg(0x801_0000, 0x1000)));
    assert_eq!(
        e.to_string(),
        "the GICv2 CPU interface at 0x8010000+0x1000 is smaller than its 0x2000 bytes of registers"
    );
}

#[test]
fn a_device_the_kernel_drives_laid_over_another_is_refused() {
    let reg = |a: u64, s: u64| reg22(a, s).iter().flat_map(|c| c.to_be_bytes()).collect::<Vec<u8>>();
    let v3 = QemuVirt::new(QemuGic::V3, &[(4, None)]).build();
    let e = plan_err(&patch(&v3, &reg(0x80a_0000, 0xf6_0000), &reg(0x900_0000, 0xf6_0000)));
    assert_eq!(
        e.to_string(),
        "the GIC redistributor region at 0x9000000+0xf60000 overlaps device fw-cfg@9020000 at 0x9020000+0x18: \
         two devices cannot share addresses"
    );
}
