//! Invariants every boot plan must keep, shared by the boot-plan tests.

#![allow(dead_code)]

use boot_plan::{BootPlan, Build, PlanConfig, Range, StartMethod, REGION_ALIGN};
use topology::EnableMethod;

fn aligned(r: &Range) -> bool {
    r.start.is_multiple_of(REGION_ALIGN) && r.size.is_multiple_of(REGION_ALIGN)
}

/// What every plan promises, whatever the tree.
pub fn check_invariants(p: &BootPlan<'_>, config: &PlanConfig) {
    check_plan(p, config);
    // The printed plan: a header, one line per node, six more lines, and
    // the capacity warning if any.
    let t = &p.topology;
    let text = p.to_string();
    assert_eq!(text.lines().count(), p.nodes.len() + 7 + usize::from(t.capacity_partial));
    assert_eq!(text.matches("(boot node)").count(), 1);
}

/// [`check_invariants`] without looking at the printed text (which may
/// hold arbitrary bootargs when the tree is corrupt).
pub fn check_plan(p: &BootPlan<'_>, config: &PlanConfig) {
    let t = &p.topology;
    assert_eq!(p.nodes.len(), t.clusters.len(), "one node per cluster");
    assert!(p.boot_node < p.nodes.len());
    let max_capacity = t.cpus.iter().map(|c| c.capacity).max().unwrap_or(0);
    // The boot reserve is at the bottom of the lowest bank.
    let lowest = t.memory.iter().map(|m| m.start).min().unwrap_or(0);
    let boot_reserve = Range { start: lowest, size: config.boot_reserve };
    let in_ram = |r: &Range| t.memory.iter().any(|m| m.contains(r));

    let mut all_cpus = Vec::new();
    for (i, n) in p.nodes.iter().enumerate() {
        assert_eq!(n.id, i);
        // The node's cores are its cluster's, possibly rotated.
        let mut mine = n.cpus.to_vec();
        let mut cluster = t.clusters[i].cpus.to_vec();
        mine.sort_unstable();
        cluster.sort_unstable();
        assert_eq!(mine, cluster, "node {i} cpus");
        assert_eq!(n.cpus.len(), n.mpidrs.len());
        for (&c, &m) in n.cpus.iter().zip(n.mpidrs.iter()) {
            assert_eq!(t.cpus[usize::from(c)].mpidr, m);
        }
        let cap = n.cpus.iter().map(|&c| t.cpus[usize::from(c)].capacity).max();
        assert_eq!(Some(n.capacity), cap);
        let want = if n.capacity == max_capacity { Build::Big } else { Build::Little };
        assert_eq!(n.build, want, "node {i} build");
        all_cpus.extend(n.cpus.iter().copied());

        let m = n.memory;
        assert!(aligned(&m), "node {i} memory {m:x?} not 2 MiB aligned");
        assert!(m.size >= config.min_node_memory, "node {i} memory too small");
        assert!(in_ram(&m), "node {i} memory {m:x?} outside RAM");
        assert!(!m.overlaps(&boot_reserve), "node {i} memory in the boot reserve");
        assert!(!m.overlaps(&p.shared), "node {i} memory overlaps the channels");
        for res in &t.reserved {
            assert!(!m.overlaps(res), "node {i} memory overlaps reservation {res:x?}");
        }
        for other in &p.nodes[i + 1..] {
            assert!(!m.overlaps(&other.memory), "nodes {i} and {} overlap", other.id);
        }
    }
    all_cpus.sort_unstable();
    assert_eq!(all_cpus, (0..t.cpus.len() as u8).collect::<Vec<_>>(), "every cpu in one node");
    assert_eq!(p.cpu_count(), t.cpus.len());

    let s = p.shared;
    assert!(aligned(&s) && s.size >= config.shared_size);
    assert!(in_ram(&s), "channels outside RAM");
    assert!(!s.overlaps(&boot_reserve), "channels in the boot reserve");
    for res in &t.reserved {
        assert!(!s.overlaps(res), "channels overlap reservation {res:x?}");
    }

    // Nothing the plan hands out holds a device's registers.
    t.each_device(&mut |d| {
        assert!(!t.memory.iter().any(|m| m.overlaps(&d.reg)), "device {d} ({:x?}) in RAM", d.reg);
    })
    .expect("a tree that planned walks again");

    let psci = t.cpus.iter().any(|c| c.enable_method == EnableMethod::Psci);
    let spin = t.cpus.iter().any(|c| matches!(c.enable_method, EnableMethod::SpinTable { .. }));
    let want = match (psci, spin) {
        (true, true) => StartMethod::Mixed,
        (false, true) => StartMethod::SpinTable,
        _ => StartMethod::Psci,
    };
    assert_eq!(p.start_method, want);
    // Only cores the boot driver must start need a PSCI conduit.
    let boot_mpidr = p.nodes[p.boot_node].mpidrs[0];
    if t.cpus.iter().any(|c| c.enable_method == EnableMethod::Psci && c.mpidr != boot_mpidr) {
        assert!(t.psci.is_some());
    }

    // One channel per ordered pair, inside the shared region, apart.
    let c = &p.channels;
    assert_eq!(c.nodes, p.nodes.len());
    let mut seen: Vec<Range> = Vec::new();
    for from in 0..c.nodes {
        for to in (0..c.nodes).filter(|&to| to != from) {
            let r = c.range(from, to).expect("a channel for every ordered pair");
            assert!(s.contains(&r), "channel {from}->{to} {r:x?} outside the shared region {s:x?}");
            assert!(seen.iter().all(|o| !o.overlaps(&r)), "channel {from}->{to} overlaps another");
            seen.push(r);
        }
    }
}
