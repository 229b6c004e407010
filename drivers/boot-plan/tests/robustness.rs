//! Corrupt trees through the whole pipeline: parse, then plan. Neither may
//! panic, and any plan that comes out must keep every invariant (nodes
//! inside RAM, outside the boot reserve and every reservation, aligned,
//! disjoint). Deterministic (xorshift), a few seconds in a debug build.

#[path = "../../topology/tests/common/mod.rs"]
mod common;
mod support;

use boot_plan::{BootPlan, PlanConfig};
use common::*;
use support::check_plan;
use topology::{Hints, Topology};

/// Parses and plans `blob`; checks the plan if there is one. Returns
/// whether a plan came out.
fn plan_any(blob: &[u8], config: &PlanConfig) -> bool {
    let Ok(t) = Topology::parse(blob, Hints::default()) else {
        return false;
    };
    let mpidrs: Vec<u64> = t.cpus.iter().map(|c| c.mpidr).collect();
    // Plan with the header's boot CPU, and booted on the last core.
    let mut planned = false;
    for boot in [None, mpidrs.last().copied()] {
        match BootPlan::new(t.clone(), boot, config) {
            Ok(p) => {
                check_plan(&p, config);
                if let Some(m) = boot {
                    assert_eq!(p.nodes[p.boot_node].mpidrs[0], m);
                }
                let _ = p.to_string();
                planned = true;
            }
            Err(e) => assert!(!e.to_string().contains('\n'), "{e:?}"),
        }
    }
    planned
}

fn trees() -> Vec<(&'static str, Vec<u8>)> {
    let mut q = qemu_4_2_2();
    q.memreserve = vec![(0x4400_0000, 0x1000)];
    q.reserved = vec![(0x5000_0000, 0x100_0000)];
    vec![
        ("qemu-4-2-2-reserved", q.build()),
        ("rock5b", rock5b()),
        ("juno-r2", juno_r2()),
        ("rpi4", rpi4()),
        ("fvp", fvp_base_revc()),
        ("qemu-fixture", QEMU_GICV3_2X4_DTB.to_vec()),
    ]
}

#[test]
fn every_tree_plans_whole() {
    for (name, blob) in trees() {
        assert!(plan_any(&blob, &PlanConfig::default()), "{name}");
    }
}

#[test]
fn random_byte_corruptions_plan_or_fail_cleanly() {
    let mut rng = XorShift(0xd1b5_4a32_d192_ed03);
    let config = PlanConfig::default();
    for (name, blob) in trees() {
        let end = (be32(&blob, hdr::OFF_DT_STRINGS) + be32(&blob, hdr::SIZE_DT_STRINGS)) as usize;
        let mut planned = 0;
        for i in 0..400 {
            let mut c = blob.clone();
            // Mostly one byte, sometimes a few.
            let count = if i % 4 == 0 { 2 + rng.below(6) } else { 1 };
            for _ in 0..count {
                let at = rng.below(end);
                c[at] = match rng.below(3) {
                    0 => c[at] ^ (1 << rng.below(8)),
                    1 => rng.next() as u8,
                    _ => [0x00, 0xff, 0x01, 0x80][rng.below(4)],
                };
            }
            planned += usize::from(plan_any(&c, &config));
        }
        assert!(planned > 0, "{name}: no corrupted tree planned");
    }
}

#[test]
fn corrupted_memory_and_reservations_keep_plans_valid() {
    // Rewrite the memory, /memreserve/ and reserved-memory values with
    // random addresses and sizes: every plan that comes out must still
    // keep clear of every reservation and stay inside RAM.
    let mut rng = XorShift(0x94d0_49bb_1331_11eb);
    let config = PlanConfig::default();
    let mut planned = 0;
    fn region(rng: &mut XorShift) -> (u64, u64) {
        let start = rng.next() % (8 * GIB);
        let size = 1 + rng.next() % (2 * GIB);
        (start, size)
    }
    for _ in 0..150 {
        let mut q = qemu_4_2_2();
        let n = 1 + rng.below(3);
        q.memory = (0..n).map(|_| region(&mut rng)).collect();
        let n = rng.below(3);
        q.memreserve = (0..n).map(|_| region(&mut rng)).collect();
        let n = rng.below(4);
        q.reserved = (0..n).map(|_| region(&mut rng)).collect();
        // vm-fdt refuses overlapping /memreserve/ entries.
        q.memreserve.sort_unstable();
        q.memreserve.dedup_by(|b, a| a.0 + a.1 > b.0);
        planned += usize::from(plan_any(&q.build(), &config));
    }
    assert!(planned > 100, "only {planned} of 150 random layouts planned");
}

#[test]
fn corrupted_cells_and_truncated_headers() {
    let config = PlanConfig::default();
    for (_, blob) in trees().into_iter().take(3) {
        // Every aligned word of the first 512 bytes of the structure block
        // replaced with structure tokens.
        let start = be32(&blob, hdr::OFF_DT_STRUCT) as usize;
        for at in (start..start + 512).step_by(4) {
            for w in [1, 2, 3, 4, 9] {
                plan_any(&with_be32(&blob, at, w), &config);
            }
        }
    }
}

#[test]
fn odd_configs_never_panic() {
    let blob = rock5b();
    let configs = [
        PlanConfig { boot_reserve: 0, shared_size: 0, min_node_memory: 0, console_area: 256 << 10, pa_bits: None },
        PlanConfig {
            boot_reserve: u64::MAX,
            shared_size: 2 << 20,
            min_node_memory: 8 << 20,
            console_area: 256 << 10,
            pa_bits: None,
        },
        PlanConfig {
            boot_reserve: 32 << 20,
            shared_size: u64::MAX,
            min_node_memory: 8 << 20,
            console_area: 256 << 10,
            pa_bits: None,
        },
        PlanConfig {
            boot_reserve: 32 << 20,
            shared_size: 2 << 20,
            min_node_memory: u64::MAX,
            console_area: 256 << 10,
            pa_bits: None,
        },
    ];
    for config in configs {
        let t = Topology::parse(&blob, Hints::default()).expect("parses");
        if let Ok(p) = BootPlan::new(t, None, &config) {
            check_plan(&p, &config);
        }
    }
}
