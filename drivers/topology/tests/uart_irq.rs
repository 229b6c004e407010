//! The console UART's interrupt: the GIC INTID its `interrupts` (or
//! `interrupts-extended`) specifier names, through `interrupt-parent`.
//! Anything this code cannot resolve is `None`, never an error.

mod common;

use common::*;
use topology::{Hints, Topology};

fn irq(blob: &[u8]) -> Option<u32> {
    let t = Topology::parse(blob, Hints::default()).expect("the tree parses whatever its interrupts say");
    t.uart.expect("the tree has a console UART").irq
}

#[test]
fn qemu_virt_pl011_is_spi_1() {
    // pl011@9000000: `interrupts = <0x00 0x01 0x04>`.
    assert_eq!(irq(QEMU_GICV3_2X4_DTB), Some(33), "the real QEMU 10 blob");
    assert_eq!(irq(&qemu_1x4().build()), Some(33), "GICv2");
    assert_eq!(irq(&QemuVirt::new(QemuGic::V3, &[(4, None)]).build()), Some(33), "GICv3");
}

#[test]
fn board_trees() {
    // bcm2711.dtsi: uart0 `<GIC_SPI 121 IRQ_TYPE_LEVEL_HIGH>`, uart1 (aux) `<GIC_SPI 93 ...>`.
    assert_eq!(irq(&patched(&rpi4(), b"serial1:115200n8", b"serial0:115200n8")), Some(153));
    assert_eq!(irq(&rpi4()), Some(125));
    // rk3588-base.dtsi: uart2 `<GIC_SPI 333 IRQ_TYPE_LEVEL_HIGH 0>`, #interrupt-cells = <4>.
    assert_eq!(irq(&rock5b()), Some(365));
    assert_eq!(irq(&rock5b_without_cpu_map()), Some(365));
    // rk3399.dtsi: uart2 `<GIC_SPI 100 IRQ_TYPE_LEVEL_HIGH 0>`.
    assert_eq!(irq(&rk3399()), Some(132));
    // juno-base.dtsi: soc_uart0 `<GIC_SPI 83 IRQ_TYPE_LEVEL_HIGH>`.
    assert_eq!(irq(&juno_r2()), Some(115));
    // FVP: the motherboard UARTs go through an interrupt nexus
    // (`interrupt-map` on bus@8000000), which is not followed.
    assert_eq!(irq(&fvp_base_revc()), None);
}

const GIC: u32 = 1;

/// [`minimal_tree`] with a GICv3 (phandle 1, `#interrupt-cells = <cells>`
/// unless `None`) and whatever `rest` adds; the root says nothing about
/// interrupt parents.
fn tree_with_gic(cells: Option<u32>, rest: impl FnOnce(&mut Dt)) -> Vec<u8> {
    tree_with_gic_and_root_parent(cells, None, rest)
}

/// [`tree_with_gic`] whose root says `interrupt-parent = <root_parent>`.
fn tree_with_gic_and_root_parent(cells: Option<u32>, root_parent: Option<u32>, rest: impl FnOnce(&mut Dt)) -> Vec<u8> {
    tree22(|d| {
        if let Some(p) = root_parent {
            d.u32("interrupt-parent", p);
        }
        one_cpu(d);
        one_gib_of_memory(d);
        d.node("interrupt-controller@8000000", |d| {
            d.str("compatible", "arm,gic-v3");
            let mut reg = reg22(0x800_0000, 0x1_0000).to_vec();
            reg.extend(reg22(0x80a_0000, 0xf6_0000));
            d.cells("reg", &reg);
            d.null("interrupt-controller");
            if let Some(c) = cells {
                d.u32("#interrupt-cells", c);
            }
            d.phandle(GIC);
        });
        rest(d);
    })
}

/// A PL011 at 0x9000000 with the properties `props` writes.
fn pl011(d: &mut Dt, props: impl FnOnce(&mut Dt)) {
    d.node("pl011@9000000", |d| {
        d.str("compatible", "arm,pl011");
        d.cells("reg", &reg22(0x900_0000, 0x1000));
        props(d);
    });
}

/// The UART's irq with `interrupts = <spec>` and its own `interrupt-parent = <&gic>`.
fn with_spec(spec: &[u32]) -> Option<u32> {
    irq(&tree_with_gic(Some(3), |d| {
        pl011(d, |d| {
            d.u32("interrupt-parent", GIC);
            d.cells("interrupts", spec);
        })
    }))
}

#[test]
fn specifier_types() {
    assert_eq!(with_spec(&[GIC_SPI, 0, IRQ_TYPE_LEVEL_HIGH]), Some(32));
    assert_eq!(with_spec(&[GIC_SPI, 987, IRQ_TYPE_LEVEL_HIGH]), Some(1019));
    assert_eq!(with_spec(&[GIC_PPI, 5, IRQ_TYPE_LEVEL_HIGH]), Some(21));
    assert_eq!(with_spec(&[2, 5, IRQ_TYPE_LEVEL_HIGH]), Some(4101), "extended SPI");
    assert_eq!(with_spec(&[3, 1, IRQ_TYPE_LEVEL_HIGH]), Some(1057), "extended PPI");
    // The first of several specifiers.
    assert_eq!(with_spec(&[GIC_SPI, 10, 4, GIC_SPI, 11, 4]), Some(42));
}

#[test]
fn out_of_range_and_malformed_specifiers_are_none() {
    assert_eq!(with_spec(&[GIC_SPI, 988, 4]), None, "beyond the SPI range");
    assert_eq!(with_spec(&[GIC_PPI, 16, 4]), None, "beyond the PPI range");
    assert_eq!(with_spec(&[7, 1, 4]), None, "unknown type");
    assert_eq!(with_spec(&[GIC_SPI, 1]), None, "too few cells");
    assert_eq!(with_spec(&[GIC_SPI, 1, 4, 0]), None, "not a whole number of specifiers");
    assert_eq!(with_spec(&[]), None, "empty");
    let odd_bytes = tree_with_gic(Some(3), |d| {
        pl011(d, |d| {
            d.u32("interrupt-parent", GIC);
            d.bytes("interrupts", &[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
        })
    });
    assert_eq!(irq(&odd_bytes), None);
}

#[test]
fn four_cell_gic_has_a_partition_cell() {
    let blob = tree_with_gic_and_root_parent(Some(4), Some(GIC), |d| {
        pl011(d, |d| d.cells("interrupts", &[GIC_SPI, 333, IRQ_TYPE_LEVEL_HIGH, 0]));
    });
    assert_eq!(irq(&blob), Some(365));
    // A 3-cell specifier for a 4-cell parent is malformed.
    let blob = tree_with_gic_and_root_parent(Some(4), Some(GIC), |d| {
        pl011(d, |d| d.cells("interrupts", &[GIC_SPI, 333, IRQ_TYPE_LEVEL_HIGH]));
    });
    assert_eq!(irq(&blob), None);
}

#[test]
fn gic_cells_must_be_known_and_sane() {
    for cells in [None, Some(1), Some(2), Some(5)] {
        let blob = tree_with_gic(cells, |d| {
            pl011(d, |d| {
                d.u32("interrupt-parent", GIC);
                d.cells("interrupts", &[GIC_SPI, 1, 4, 0, 0]);
            })
        });
        assert_eq!(irq(&blob), None, "#interrupt-cells {cells:?}");
    }
}

#[test]
fn interrupt_parent_is_inherited_and_overridden() {
    // From the root.
    let blob = tree_with_gic_and_root_parent(Some(3), Some(GIC), |d| {
        pl011(d, |d| d.cells("interrupts", &[GIC_SPI, 1, 4]));
    });
    assert_eq!(irq(&blob), Some(33));
    // From an enclosing bus (with identity ranges).
    let blob = tree_with_gic(Some(3), |d| {
        d.node("soc", |d| {
            d.str("compatible", "simple-bus");
            d.u32("#address-cells", 2);
            d.u32("#size-cells", 2);
            d.null("ranges");
            d.u32("interrupt-parent", GIC);
            pl011(d, |d| d.cells("interrupts", &[GIC_SPI, 2, 4]));
        });
    });
    assert_eq!(irq(&blob), Some(34));
    // Nobody names a parent.
    let blob = tree_with_gic(Some(3), |d| pl011(d, |d| d.cells("interrupts", &[GIC_SPI, 1, 4])));
    assert_eq!(irq(&blob), None);
    // The UART's own parent is another controller.
    let blob = tree_with_gic_and_root_parent(Some(3), Some(GIC), |d| {
        d.node("gpio-intc", |d| {
            d.null("interrupt-controller");
            d.u32("#interrupt-cells", 3);
            d.phandle(2);
        });
        pl011(d, |d| {
            d.u32("interrupt-parent", 2);
            d.cells("interrupts", &[GIC_SPI, 1, 4]);
        });
    });
    assert_eq!(irq(&blob), None);
    // A parent phandle that names nothing, or is not one cell.
    for parent in [&[0x77u8, 0, 0, 0][..], &[0, 0, 0, 1, 0, 0, 0, 1], &[0, 1]] {
        let blob = tree_with_gic(Some(3), |d| {
            pl011(d, |d| {
                d.bytes("interrupt-parent", parent);
                d.cells("interrupts", &[GIC_SPI, 1, 4]);
            })
        });
        assert_eq!(irq(&blob), None, "interrupt-parent {parent:?}");
    }
}

#[test]
fn a_nearer_interrupt_domain_wins_over_the_roots_parent() {
    // Like Linux's of_irq_find_parent: a bus with #interrupt-cells (here a
    // nexus without a phandle) is the parent of its children.
    let blob = tree_with_gic_and_root_parent(Some(3), Some(GIC), |d| {
        d.node("bus", |d| {
            d.str("compatible", "simple-bus");
            d.u32("#address-cells", 2);
            d.u32("#size-cells", 2);
            d.null("ranges");
            d.u32("#interrupt-cells", 1);
            d.cells("interrupt-map-mask", &[0, 0, 7]);
            d.cells("interrupt-map", &[0, 0, 1, GIC, GIC_SPI, 1, 4]);
            pl011(d, |d| d.u32("interrupts", 1));
        });
    });
    assert_eq!(irq(&blob), None);
}

#[test]
fn interrupts_extended() {
    let ext = |cells: &[u32]| {
        irq(&tree_with_gic_and_root_parent(Some(3), Some(9), |d| {
            pl011(d, |d| {
                // Ignored: interrupts-extended wins.
                d.cells("interrupts", &[GIC_SPI, 50, 4]);
                d.cells("interrupts-extended", cells);
            })
        }))
    };
    assert_eq!(ext(&[GIC, GIC_SPI, 7, 4]), Some(39));
    assert_eq!(ext(&[GIC, GIC_PPI, 9, 4, 2, 1]), Some(25), "the first entry");
    assert_eq!(ext(&[2, GIC_SPI, 7, 4]), None, "another parent");
    assert_eq!(ext(&[GIC, GIC_SPI, 7]), None, "too short");
    assert_eq!(ext(&[]), None);
}

#[test]
fn no_interrupts_is_none() {
    let blob = tree_with_gic_and_root_parent(Some(3), Some(GIC), |d| {
        pl011(d, |_| {});
    });
    assert_eq!(irq(&blob), None);
}
