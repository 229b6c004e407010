//! The energy model's facts: each core's `dynamic-power-coefficient` and
//! the highest point of its `operating-points-v2` table, read as Linux
//! reads them, and every way such a table can be broken.

mod common;

use common::{cpu_node, one_gib_of_memory, tree22, Dt};
use topology::{Energy, Error, Hints, Topology};

/// An `operating-points-v2` table with phandle `ph` and the points given
/// as (`opp-hz` bytes, `opp-microvolt` cells).
fn opp_table(d: &mut Dt, ph: u32, points: &[(Vec<u8>, Vec<u32>)]) {
    d.node(&format!("opp-table-{ph}"), |d| {
        d.str("compatible", "operating-points-v2");
        d.null("opp-shared");
        d.phandle(ph);
        for (i, (hz, uv)) in points.iter().enumerate() {
            d.node(&format!("opp-{i}"), |d| {
                d.bytes("opp-hz", hz);
                d.cells("opp-microvolt", uv);
            });
        }
    });
}

fn hz64(hz: u64) -> Vec<u8> {
    hz.to_be_bytes().to_vec()
}

/// Two cores: an A55 (coefficient 228) and an A76 (416), with mainline
/// RK3588's highest points, unsorted, and `extra` in the root.
fn rk3588_like(a76_table: impl FnOnce(&mut Dt)) -> Vec<u8> {
    tree22(|d| {
        d.node("cpus", |d| {
            d.u32("#address-cells", 1);
            d.u32("#size-cells", 0);
            cpu_node(d, 0, None, |d| {
                d.u32("dynamic-power-coefficient", 228);
                d.u32("operating-points-v2", 10);
            });
            cpu_node(d, 0x400, None, |d| {
                d.u32("dynamic-power-coefficient", 416);
                d.u32("operating-points-v2", 11);
            });
        });
        one_gib_of_memory(d);
        opp_table(
            d,
            10,
            &[
                (hz64(1_800_000_000), vec![950_000, 950_000, 950_000]),
                (hz64(408_000_000), vec![675_000, 675_000, 950_000]),
            ],
        );
        a76_table(d);
    })
}

fn a76_ok(d: &mut Dt) {
    opp_table(d, 11, &[(hz64(2_400_000_000), vec![1_000_000]), (hz64(1_008_000_000), vec![675_000])]);
}

#[test]
fn each_core_gets_its_highest_point_and_linux_power() {
    let blob = rk3588_like(a76_ok);
    let t = Topology::parse(&blob, Hints::default()).expect("parses");
    let a55 = t.cpus[0].energy.expect("A55 facts");
    let a76 = t.cpus[1].energy.expect("A76 facts");
    assert_eq!(a55, Energy { coefficient: 228, hz: 1_800_000_000, microvolt: 950_000 });
    assert_eq!(a76, Energy { coefficient: 416, hz: 2_400_000_000, microvolt: 1_000_000 });
    // C x MHz x mV^2 / 10^6 uW: 228 x 1800 x 950^2 and 416 x 2400 x 1000^2.
    assert_eq!(a55.power_uw(), 370_386);
    assert_eq!(a76.power_uw(), 998_400);
}

#[test]
fn without_both_facts_there_is_no_energy() {
    let blob = tree22(|d| {
        d.node("cpus", |d| {
            d.u32("#address-cells", 1);
            d.u32("#size-cells", 0);
            cpu_node(d, 0, None, |d| d.u32("dynamic-power-coefficient", 228));
            cpu_node(d, 1, None, |d| d.u32("operating-points-v2", 11));
        });
        one_gib_of_memory(d);
        a76_ok(d);
    });
    let t = Topology::parse(&blob, Hints::default()).expect("parses");
    assert!(t.cpus.iter().all(|c| c.energy.is_none()));
}

#[test]
fn broken_tables_are_refused_with_the_property() {
    let bad = |property| Error::BadProperty { node: "operating-points-v2 table", property };
    type Table = Box<dyn Fn(&mut Dt)>;
    let cases: Vec<(&str, Table, Error)> = vec![
        (
            "no such phandle",
            Box::new(|d: &mut Dt| opp_table(d, 12, &[(hz64(1), vec![1])])),
            Error::BadProperty { node: "/cpus/cpu", property: "operating-points-v2" },
        ),
        ("opp-hz of 3 bytes", Box::new(|d: &mut Dt| opp_table(d, 11, &[(vec![1, 2, 3], vec![1])])), bad("opp-hz")),
        ("two voltages", Box::new(|d: &mut Dt| opp_table(d, 11, &[(hz64(5), vec![1, 2])])), bad("opp-microvolt")),
        ("an empty table", Box::new(|d: &mut Dt| opp_table(d, 11, &[])), bad("opp-hz")),
        ("0 Hz", Box::new(|d: &mut Dt| opp_table(d, 11, &[(hz64(0), vec![900_000])])), bad("opp-hz")),
    ];
    for (what, table, want) in cases {
        let blob = rk3588_like(|d| table(d));
        assert_eq!(Topology::parse(&blob, Hints::default()).err(), Some(want), "{what}");
    }
}
