//! The provided topologies, made from a QEMU `virt` tree with eight cores
//! as `cargo xtask run --topology` makes them: their clusters, capacities
//! and energy facts (mainline RK3588's: Cortex-A55 coefficient 228 at
//! 1.8 GHz / 950 mV, Cortex-A76 416 at 2.4 GHz / 1,000 mV) as the boot
//! plan reads them back.

use topology::Energy;

const A55: Energy = Energy { coefficient: 228, hz: 1_800_000_000, microvolt: 950_000 };
const A76: Energy = Energy { coefficient: 416, hz: 2_400_000_000, microvolt: 1_000_000 };

/// QEMU's own tree of a `virt` machine with eight cores, rewritten for `name`.
fn preset_tree(name: &str) -> Vec<u8> {
    let preset = xtask::dtb::preset(name).expect("a preset");
    xtask::dtb::rewrite(&qemu_tree(), preset.clusters).expect("rewritten")
}

fn qemu_tree() -> Vec<u8> {
    std::fs::read(xtask::root().join("drivers/topology/tests/data/qemu-virt-gicv3-2x4.dtb")).expect("fixture")
}

fn preset_plan_nodes(name: &str) -> Vec<(usize, u32, Option<Energy>)> {
    let blob = preset_tree(name);
    let plan = xtask::plan::plan(&blob).expect("a plan");
    plan.nodes.iter().map(|n| (n.cpus.len(), n.capacity, n.energy)).collect()
}

#[test]
fn four_plus_four_carries_the_rk3588_energy_figures() {
    assert_eq!(preset_plan_nodes("4+4"), vec![(4, 1024, Some(A76)), (4, 530, Some(A55))]);
}

#[test]
fn four_two_two_carries_them_per_cluster() {
    assert_eq!(preset_plan_nodes("4+2+2"), vec![(4, 530, Some(A55)), (2, 1024, Some(A76)), (2, 1024, Some(A76))]);
    // The plan says it, as `plan --dtb` prints it.
    let blob = preset_tree("4+2+2");
    let text = xtask::plan::text(&xtask::plan::plan(&blob).expect("plan"));
    assert!(
        text.contains("energy: dynamic-power-coefficient=228 opp=1800 MHz at 950 mV power=370 mW per busy core"),
        "{text}"
    );
    assert!(
        text.contains("energy: dynamic-power-coefficient=416 opp=2400 MHz at 1000 mV power=998 mW per busy core"),
        "{text}"
    );
}

#[test]
fn one_cluster_has_no_energy_facts() {
    let spec = [xtask::dtb::ClusterSpec { cpus: 8, capacity: None, compatible: None, energy: None }];
    let blob = xtask::dtb::rewrite(&qemu_tree(), &spec).expect("rewritten");
    assert!(xtask::plan::plan(&blob).expect("plan").nodes.iter().all(|n| n.energy.is_none()));
}
