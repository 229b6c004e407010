//! Random machines and programs: what every policy must hold whatever the
//! view, and that `capacity` settles (a round carried out leaves nothing
//! more to do until work changes).

use placement::{by_name, Class, Move, NewProgram, NodeView, Policy, ProgramView, View};
use proptest::prelude::*;

fn machine() -> impl Strategy<Value = (Vec<NodeView>, Vec<ProgramView>)> {
    let nodes = prop::collection::vec((prop::sample::select(vec![256u32, 530, 1024]), 0u32..5), 1..16);
    nodes.prop_flat_map(|spec| {
        let count = spec.len() as u32;
        let nodes: Vec<NodeView> = spec
            .iter()
            .enumerate()
            .map(|(i, &(capacity, cores))| NodeView { node: i as u32, capacity, measured: 0, cores })
            .collect();
        let class = prop::sample::select(vec![Class::Heavy, Class::Light, Class::Unknown]);
        let program =
            (0..count, class, 0u32..1024, 0u64..1_000_000, prop::bool::weighted(0.1), prop::bool::weighted(0.8));
        prop::collection::vec(program, 0..40).prop_map(move |ps| {
            let programs = ps
                .into_iter()
                .enumerate()
                .map(|(i, (node, class, util, work, pinned, runnable))| ProgramView {
                    pid: i as u32 + 1,
                    node,
                    class,
                    util,
                    work,
                    pinned,
                    runnable,
                })
                .collect();
            (nodes.clone(), programs)
        })
    })
}

fn all_moves(policy: &dyn Policy, view: &View<'_>) -> Vec<Move> {
    view.nodes.iter().flat_map(|n| policy.rebalance(view, n.node)).collect()
}

fn apply(programs: &[ProgramView], moves: &[Move]) -> Vec<ProgramView> {
    let mut out = programs.to_vec();
    for m in moves {
        if let Some(p) = out.iter_mut().find(|p| p.pid == m.pid) {
            p.node = m.to;
        }
    }
    out
}

proptest! {
    #[test]
    fn decisions_are_well_formed((nodes, programs) in machine()) {
        let view = View { nodes: &nodes, programs: &programs };
        let online = |n: u32| nodes.iter().any(|v| v.node == n && v.cores > 0);
        for name in placement::NAMES {
            let policy = by_name(name).expect("a policy");
            for class in [Class::Heavy, Class::Light, Class::Unknown] {
                match policy.place(&view, &NewProgram { class }) {
                    Some(n) => prop_assert!(online(n), "{name} placed on node {n}, which has no core online"),
                    None => prop_assert!(nodes.iter().all(|n| n.cores == 0)),
                }
            }
            let mut seen = Vec::new();
            for n in &nodes {
                for m in policy.rebalance(&view, n.node) {
                    let p = programs.iter().find(|p| p.pid == m.pid).expect("a live program");
                    prop_assert_eq!(m.from, n.node, "{} decided for another node's program", name);
                    prop_assert_eq!(p.node, n.node);
                    prop_assert!(!p.pinned, "{} moved pinned pid {}", name, p.pid);
                    prop_assert!(m.to != m.from && online(m.to), "{} sent pid {} to node {}", name, p.pid, m.to);
                    prop_assert!(!seen.contains(&m.pid), "{} moved pid {} twice", name, m.pid);
                    seen.push(m.pid);
                }
            }
        }
    }

    #[test]
    fn capacity_heavies_settle_in_a_round_per_tier((nodes, programs) in machine()) {
        // Only heavy programs: where light ones go depends on room that
        // moves of several nodes at once can use up, and is settled by
        // later rounds.
        let programs: Vec<_> = programs.into_iter().filter(|p| p.class == Class::Heavy).collect();
        let policy = by_name("capacity").expect("capacity");
        // A round per tier of capacity: in a swap the one going down waits
        // until the one coming up has arrived, a tier at a time.
        let mut tiers: Vec<u32> = nodes.iter().map(|n| n.capacity).collect();
        tiers.sort_unstable();
        tiers.dedup();
        let mut after = programs.clone();
        for _ in 0..tiers.len() {
            let view = View { nodes: &nodes, programs: &after };
            after = apply(&after, &all_moves(&policy, &view));
        }
        let view = View { nodes: &nodes, programs: &after };
        let again = all_moves(&policy, &view);
        prop_assert!(again.is_empty(), "second round: {:?}\nnodes {:?}\nprograms {:?}", again, nodes.iter().map(|n| (n.node, n.capacity, n.cores)).collect::<Vec<_>>(), programs.iter().map(|p| (p.pid, p.node, p.work, p.pinned as u8, p.runnable as u8)).collect::<Vec<_>>());
    }

    #[test]
    fn blind_never_raises_the_peak_load((nodes, programs) in machine()) {
        let peak = |ps: &[ProgramView]| {
            nodes
                .iter()
                .filter(|n| n.cores > 0)
                .map(|n| ps.iter().filter(|p| p.node == n.node && p.runnable).count() as u64 * 1024 / u64::from(n.cores))
                .max()
                .unwrap_or(0)
        };
        // Programs on offline nodes are sent away first; the peak is about the others.
        prop_assume!(programs.iter().all(|p| nodes[p.node as usize].cores > 0));
        let policy = by_name("blind").expect("blind");
        let view = View { nodes: &nodes, programs: &programs };
        let moves = all_moves(&policy, &view);
        let after = apply(&programs, &moves);
        // Each node's moves lower the peak it sees; several sending to one
        // node at once can overshoot by one program per sender.
        let senders = nodes.iter().filter(|n| moves.iter().any(|m| m.from == n.node)).count() as u64;
        let slack = senders * 1024;
        prop_assert!(peak(&after) <= peak(&programs) + slack);
    }
}
