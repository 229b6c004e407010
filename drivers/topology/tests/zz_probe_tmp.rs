mod common;
use common::*;
use topology::{Hints, Topology};
#[test]
fn probe() {
    let blobs: Vec<(&str, Vec<u8>)> = vec![
        ("rock5b", rock5b()), ("rock5b-nomap", rock5b_without_cpu_map()), ("rk3399", rk3399()), ("juno", juno_r2()),
        ("rpi4", rpi4()), ("rpi4-linux", rpi4_with_memory(&[0,0,0])), ("fvp", fvp_base_revc()),
        ("q1x4", qemu_1x4().build()), ("q2x4", qemu_2x4_big_little().build()), ("q422", qemu_4_2_2().build()),
        ("fixture", QEMU_GICV3_2X4_DTB.to_vec()),
    ];
    for (name, b) in &blobs {
        match Topology::parse(b, Hints::default()) {
            Ok(t) => println!("{name}: {:#x?}", (t.cpus.iter().map(|c| (c.mpidr, c.compatible, c.capacity, c.enable_method)).collect::<Vec<_>>(), &t.clusters, t.cluster_source, t.capacity_partial, t.psci, &t.memory, &t.reserved, t.gic, t.uart, t.bootargs, t.boot_cpuid)),
            Err(e) => println!("{name}: ERR {e:?} / {e}"),
        }
    }
}
