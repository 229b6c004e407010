//! A device tree from the boot loader, end to end as the boot driver and the
//! host `plan` command take it: `Topology::parse`, `BootPlan::new`, and the
//! printed plan. None of it may panic on any blob, and every plan made must
//! keep the promises the boot-plan tests check (`drivers/boot-plan/tests/
//! support`): one node per cluster, every core in exactly one node, node
//! and channel memory aligned, in RAM and clear of each other, the boot
//! reserve and every reservation.
//!
//! Input: the blob itself.

#![no_main]

use boot_plan::{BootPlan, Build, PlanConfig, Range, StartMethod, REGION_ALIGN};
use libfuzzer_sys::fuzz_target;
use topology::{EnableMethod, Hints, Topology};

fuzz_target!(|data: &[u8]| {
    let t = match Topology::parse(data, Hints::default()) {
        Ok(t) => t,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let config = PlanConfig::default();
    // As the host `plan` command plans it (boot core from the header), then
    // as the boot driver would on the tree's last core.
    let last = t.cpus.last().map(|c| c.mpidr);
    for boot in [None, last] {
        match BootPlan::new(t.clone(), boot, &config) {
            Ok(plan) => {
                check_plan(&plan, &config);
                if let Some(m) = boot {
                    assert_eq!(plan.nodes[plan.boot_node].mpidrs[0], m, "the boot core does not lead its node");
                }
                let text = format!("{plan}");
                assert!(text.starts_with("boot plan: "));
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
});

fn aligned(r: &Range) -> bool {
    r.start.is_multiple_of(REGION_ALIGN) && r.size.is_multiple_of(REGION_ALIGN)
}

/// What every plan promises, whatever the tree.
fn check_plan(p: &BootPlan<'_>, config: &PlanConfig) {
    let t = &p.topology;
    assert_eq!(p.nodes.len(), t.clusters.len(), "one node per cluster");
    assert!(p.boot_node < p.nodes.len(), "boot node {} of {}", p.boot_node, p.nodes.len());
    let max_capacity = t.cpus.iter().map(|c| c.capacity).max().unwrap_or(0);
    let lowest = t.memory.iter().map(|m| m.start).min().unwrap_or(0);
    let boot_reserve = Range { start: lowest, size: config.boot_reserve };
    let in_ram = |r: &Range| t.memory.iter().any(|m| m.contains(r));

    let mut all_cpus = Vec::new();
    for (i, n) in p.nodes.iter().enumerate() {
        assert_eq!(n.id, i);
        let mut mine = n.cpus.to_vec();
        let mut cluster = t.clusters[i].cpus.to_vec();
        mine.sort_unstable();
        cluster.sort_unstable();
        assert_eq!(mine, cluster, "node {i} cpus are not its cluster's");
        assert_eq!(n.cpus.len(), n.mpidrs.len());
        for (&c, &m) in n.cpus.iter().zip(n.mpidrs.iter()) {
            assert_eq!(t.cpus[usize::from(c)].mpidr, m, "node {i} mpidr of cpu {c}");
        }
        let cap = n.cpus.iter().map(|&c| t.cpus[usize::from(c)].capacity).max();
        assert_eq!(Some(n.capacity), cap, "node {i} capacity");
        let want = if n.capacity == max_capacity { Build::Big } else { Build::Little };
        assert_eq!(n.build, want, "node {i} build");
        all_cpus.extend(n.cpus.iter().copied());

        let m = n.memory;
        assert!(aligned(&m), "node {i} memory {m:x?} not 2 MiB aligned");
        assert!(m.size >= config.min_node_memory, "node {i} memory {m:x?} too small");
        assert!(in_ram(&m), "node {i} memory {m:x?} outside RAM {:x?}", t.memory);
        assert!(!m.overlaps(&boot_reserve), "node {i} memory {m:x?} in the boot reserve");
        assert!(!m.overlaps(&p.shared), "node {i} memory {m:x?} overlaps the channels {:x?}", p.shared);
        for res in &t.reserved {
            assert!(!m.overlaps(res), "node {i} memory {m:x?} overlaps reservation {res:x?}");
        }
        for other in &p.nodes[i + 1..] {
            assert!(!m.overlaps(&other.memory), "nodes {i} and {} overlap", other.id);
        }
    }
    all_cpus.sort_unstable();
    let every: Vec<u8> = (0..t.cpus.len()).map(|i| i as u8).collect();
    assert_eq!(all_cpus, every, "every cpu in exactly one node");
    assert_eq!(p.cpu_count(), t.cpus.len());

    let s = p.shared;
    assert!(aligned(&s) && s.size >= config.shared_size, "channels {s:x?}");
    assert!(in_ram(&s), "channels {s:x?} outside RAM {:x?}", t.memory);
    assert!(!s.overlaps(&boot_reserve), "channels {s:x?} in the boot reserve");
    for res in &t.reserved {
        assert!(!s.overlaps(res), "channels {s:x?} overlap reservation {res:x?}");
    }

    let psci = t.cpus.iter().any(|c| c.enable_method == EnableMethod::Psci);
    let spin = t.cpus.iter().any(|c| matches!(c.enable_method, EnableMethod::SpinTable { .. }));
    let want = match (psci, spin) {
        (true, true) => StartMethod::Mixed,
        (false, true) => StartMethod::SpinTable,
        _ => StartMethod::Psci,
    };
    assert_eq!(p.start_method, want);
}
