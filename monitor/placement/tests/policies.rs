//! The policies over hand-made views: placements, misfits, turns on the big
//! cores, light work going down, ties, a machine that is all busy, one node
//! and sixteen.

use placement::{by_name, Blind, Capacity, Class, Move, NewProgram, NodeView, Policy, ProgramView, Static, View};

fn node(node: u32, capacity: u32, cores: u32) -> NodeView {
    NodeView { node, capacity, measured: capacity, cores }
}

fn prog(pid: u32, node: u32, class: Class, util: u32, work: u64) -> ProgramView {
    ProgramView { pid, node, class, util, work, pinned: false, runnable: true }
}

/// 4 big cores (node 0) and 4 LITTLE ones (node 1).
fn four_four() -> Vec<NodeView> {
    vec![node(0, 1024, 4), node(1, 530, 4)]
}

/// RK3588 as its mainline tree has it: 4 LITTLE, then 2 + 2 big.
fn four_two_two() -> Vec<NodeView> {
    vec![node(0, 530, 4), node(1, 1024, 2), node(2, 1024, 2)]
}

/// Every node's decisions for `view`.
fn all_moves(policy: &dyn Policy, view: &View<'_>) -> Vec<Move> {
    view.nodes.iter().flat_map(|n| policy.rebalance(view, n.node)).collect()
}

/// The programs after the moves are carried out.
fn apply(programs: &[ProgramView], moves: &[Move]) -> Vec<ProgramView> {
    let mut out = programs.to_vec();
    for m in moves {
        let p = out.iter_mut().find(|p| p.pid == m.pid).expect("moves name live programs");
        assert_eq!(p.node, m.from, "a move starts where the program is");
        p.node = m.to;
    }
    out
}

fn heavy_count(programs: &[ProgramView], node: u32) -> usize {
    programs.iter().filter(|p| p.node == node && p.class == Class::Heavy).count()
}

#[test]
fn names_select_the_policies() {
    for name in placement::NAMES {
        assert_eq!(by_name(name).map(|p| p.name()), Some(name));
    }
    assert!(by_name("fair").is_none());
    assert_eq!(placement::Chosen::default().name(), "capacity");
}

#[test]
fn capacity_places_heavy_on_free_big_cores_and_light_on_little() {
    let nodes = four_four();
    let programs = vec![prog(1, 0, Class::Heavy, 1000, 0), prog(2, 0, Class::Heavy, 1000, 0)];
    let view = View { nodes: &nodes, programs: &programs };
    let c = Capacity::default();
    assert_eq!(c.place(&view, &NewProgram { class: Class::Heavy }), Some(0));
    assert_eq!(c.place(&view, &NewProgram { class: Class::Unknown }), Some(0));
    assert_eq!(c.place(&view, &NewProgram { class: Class::Light }), Some(1));
    // Big cores all taken: the next heavy goes to a free LITTLE core.
    let programs: Vec<_> = (1..=4).map(|pid| prog(pid, 0, Class::Heavy, 1000, 0)).collect();
    let view = View { nodes: &nodes, programs: &programs };
    assert_eq!(c.place(&view, &NewProgram { class: Class::Heavy }), Some(1));
}

#[test]
fn capacity_breaks_ties_by_lower_node_and_lighter_load() {
    let nodes = four_two_two();
    let c = Capacity::default();
    let view = View { nodes: &nodes, programs: &[] };
    assert_eq!(c.place(&view, &NewProgram { class: Class::Heavy }), Some(1));
    let programs = vec![prog(1, 1, Class::Heavy, 1000, 0)];
    let view = View { nodes: &nodes, programs: &programs };
    assert_eq!(c.place(&view, &NewProgram { class: Class::Heavy }), Some(2), "the emptier of two equal nodes");
}

#[test]
fn capacity_with_every_core_busy_gives_the_most_capacity_per_program() {
    let nodes = four_four();
    let mut programs: Vec<_> = (1..=4).map(|pid| prog(pid, 0, Class::Heavy, 1000, 0)).collect();
    programs.extend((5..=8).map(|pid| prog(pid, 1, Class::Heavy, 530, 0)));
    let view = View { nodes: &nodes, programs: &programs };
    // 4096 / 5 on the big node beats 2120 / 5 on the LITTLE one.
    assert_eq!(Capacity::default().place(&view, &NewProgram { class: Class::Heavy }), Some(0));
}

#[test]
fn every_policy_on_one_node_and_on_none() {
    let nodes = vec![node(0, 1024, 4)];
    let programs: Vec<_> = (1..=9).map(|pid| prog(pid, 0, Class::Heavy, 1000, u64::from(pid) * 1000)).collect();
    let view = View { nodes: &nodes, programs: &programs };
    for name in placement::NAMES {
        let p = by_name(name).expect("a policy");
        for class in [Class::Heavy, Class::Light, Class::Unknown] {
            assert_eq!(p.place(&view, &NewProgram { class }), Some(0), "{name}");
        }
        assert!(p.rebalance(&view, 0).is_empty(), "{name}: nowhere to go");
    }
    let offline = vec![node(0, 1024, 0)];
    let view = View { nodes: &offline, programs: &[] };
    for name in placement::NAMES {
        assert_eq!(by_name(name).expect("a policy").place(&view, &NewProgram { class: Class::Heavy }), None);
    }
}

#[test]
fn a_misfit_moves_up_when_a_big_core_is_free() {
    let nodes = four_four();
    let programs = vec![prog(1, 0, Class::Heavy, 1000, 500), prog(2, 1, Class::Heavy, 520, 100)];
    let view = View { nodes: &nodes, programs: &programs };
    let c = Capacity::default();
    assert_eq!(c.rebalance(&view, 1).as_slice(), &[Move { pid: 2, from: 1, to: 0 }]);
    assert!(c.rebalance(&view, 0).is_empty());
}

#[test]
fn a_light_program_on_a_big_core_moves_down_when_little_has_room() {
    let nodes = four_four();
    let programs = vec![prog(1, 0, Class::Light, 40, 0), prog(2, 1, Class::Light, 40, 0)];
    let view = View { nodes: &nodes, programs: &programs };
    let c = Capacity::default();
    assert_eq!(c.rebalance(&view, 0).as_slice(), &[Move { pid: 1, from: 0, to: 1 }]);
    assert!(c.rebalance(&view, 1).is_empty(), "it stays on LITTLE");
    // A full LITTLE node keeps it up.
    let mut busy = programs.clone();
    busy.extend((10..14).map(|pid| prog(pid, 1, Class::Heavy, 530, 0)));
    let view = View { nodes: &nodes, programs: &busy };
    assert!(c.rebalance(&view, 0).is_empty());
}

#[test]
fn heavy_programs_take_turns_on_big_cores() {
    let nodes = four_four();
    let c = Capacity::default();
    let (base, turn) = (1_000_000, c.share_us);
    // Eight equal programs, the big ones ahead by less than a turn: nothing moves.
    let mut programs: Vec<_> = (1..=4).map(|pid| prog(pid, 0, Class::Heavy, 1000, base + turn / 2)).collect();
    programs.extend((5..=8).map(|pid| prog(pid, 1, Class::Heavy, 530, base)));
    let view = View { nodes: &nodes, programs: &programs };
    assert!(all_moves(&c, &view).is_empty());
    // Two big ones get a full turn ahead: they swap with the two furthest behind.
    programs[0].work = base + turn + turn / 4;
    programs[1].work = base + turn + turn / 2;
    programs[4].work = base - turn / 10;
    let view = View { nodes: &nodes, programs: &programs };
    let moves = all_moves(&c, &view);
    assert_eq!(
        moves,
        vec![Move { pid: 5, from: 1, to: 0 }, Move { pid: 6, from: 1, to: 0 }],
        "those coming up go first: the big cores stay busy"
    );
    let between = apply(&programs, &moves);
    let view = View { nodes: &nodes, programs: &between };
    let moves = all_moves(&c, &view);
    assert_eq!(
        moves,
        vec![Move { pid: 1, from: 0, to: 1 }, Move { pid: 2, from: 0, to: 1 }],
        "once they are there, those going down go"
    );
    let after = apply(&between, &moves);
    assert_eq!((heavy_count(&after, 0), heavy_count(&after, 1)), (4, 4));
    let view = View { nodes: &nodes, programs: &after };
    assert!(all_moves(&c, &view).is_empty(), "a swap is stable until the next turn is due");
}

#[test]
fn fewer_heavies_than_big_cores_all_go_up_across_equal_big_nodes() {
    let nodes = four_two_two();
    let programs: Vec<_> = (1..=4).map(|pid| prog(pid, 0, Class::Heavy, 520, 0)).collect();
    let view = View { nodes: &nodes, programs: &programs };
    let c = Capacity::default();
    let moves = all_moves(&c, &view);
    let after = apply(&programs, &moves);
    assert_eq!((heavy_count(&after, 0), heavy_count(&after, 1), heavy_count(&after, 2)), (0, 2, 2));
}

#[test]
fn pinned_programs_stay_and_unmeasured_ones_stay_under_capacity() {
    let nodes = four_four();
    let mut programs: Vec<_> = (1..=4).map(|pid| prog(pid, 1, Class::Heavy, 530, 0)).collect();
    programs[0].pinned = true;
    programs[1].class = Class::Unknown;
    programs.push(ProgramView { pinned: true, ..prog(9, 0, Class::Heavy, 1000, 0) });
    let view = View { nodes: &nodes, programs: &programs };
    for name in placement::NAMES {
        let moves = all_moves(&by_name(name).expect("a policy"), &view);
        assert!(moves.iter().all(|m| m.pid != 1 && m.pid != 9), "{name}: {moves:?}");
    }
    // Capacity leaves the unmeasured one too (blind does not look at classes).
    let moves = all_moves(&Capacity::default(), &view);
    assert!(moves.iter().all(|m| m.pid != 2), "{moves:?}");
    assert_eq!(moves.len(), 2, "the two others go up: {moves:?}");
}

#[test]
fn sixteen_nodes_settle_in_one_round() {
    let nodes: Vec<_> = (0..16).map(|n| node(n, if n < 8 { 530 } else { 1024 }, 2)).collect();
    // 24 heavies, all on the LITTLE nodes; 16 big cores.
    let programs: Vec<_> = (0..24).map(|i| prog(i + 1, i % 8, Class::Heavy, 530, u64::from(i) * 10)).collect();
    let view = View { nodes: &nodes, programs: &programs };
    let c = Capacity::default();
    let moves = all_moves(&c, &view);
    let after = apply(&programs, &moves);
    for n in 8..16 {
        assert_eq!(heavy_count(&after, n), 2, "big node {n}");
    }
    assert_eq!((0..8).map(|n| heavy_count(&after, n)).sum::<usize>(), 8);
    // The sixteen furthest behind went up.
    let mut up: Vec<_> = after.iter().filter(|p| p.node >= 8).map(|p| p.pid).collect();
    up.sort();
    assert_eq!(up, (1..=16).collect::<Vec<_>>());
    let view = View { nodes: &nodes, programs: &after };
    assert!(all_moves(&c, &view).is_empty());
}

#[test]
fn blind_balances_counts_and_ignores_capacity() {
    let nodes = four_four();
    let programs: Vec<_> = (1..=6).map(|pid| prog(pid, 1, Class::Heavy, 530, 0)).collect();
    let view = View { nodes: &nodes, programs: &programs };
    let moves = all_moves(&Blind, &view);
    let after = apply(&programs, &moves);
    assert_eq!((heavy_count(&after, 0), heavy_count(&after, 1)), (3, 3));
    let view = View { nodes: &nodes, programs: &after };
    assert!(all_moves(&Blind, &view).is_empty(), "no ping-pong once even");
    // Light or heavy, it places by count: the LITTLE node when it is emptier.
    let programs = vec![prog(1, 0, Class::Heavy, 1000, 0)];
    let view = View { nodes: &nodes, programs: &programs };
    assert_eq!(Blind.place(&view, &NewProgram { class: Class::Heavy }), Some(1));
    // Uneven sizes: 5 on 4 cores against 2 on 2 stays (moving makes 3 on 2).
    let nodes = vec![node(0, 1024, 4), node(1, 1024, 2)];
    let mut programs: Vec<_> = (1..=5).map(|pid| prog(pid, 0, Class::Heavy, 1000, 0)).collect();
    programs.extend((6..=7).map(|pid| prog(pid, 1, Class::Heavy, 1000, 0)));
    let view = View { nodes: &nodes, programs: &programs };
    assert!(all_moves(&Blind, &view).is_empty());
}

#[test]
fn static_places_by_class_and_never_moves() {
    let nodes = four_two_two();
    let programs: Vec<_> = (1..=8).map(|pid| prog(pid, 0, Class::Heavy, 530, 0)).collect();
    let view = View { nodes: &nodes, programs: &programs };
    assert_eq!(Static.place(&view, &NewProgram { class: Class::Heavy }), Some(1));
    assert_eq!(Static.place(&view, &NewProgram { class: Class::Light }), Some(0));
    assert_eq!(Static.place(&view, &NewProgram { class: Class::Unknown }), Some(1));
    assert!(all_moves(&Static, &view).is_empty());
}

/// Programs just spawned (not measured yet, awake at that moment) on the
/// big node do not push a heavy program down: `bench sched`'s m2 sent a
/// heavy one to the LITTLE node and back while its light programs were new.
#[test]
fn unmeasured_programs_do_not_push_heavy_ones_off_big_cores() {
    let nodes = four_four();
    let mut programs = vec![prog(1, 0, Class::Heavy, 1000, 100), prog(2, 0, Class::Heavy, 1000, 90)];
    programs.extend((3..=6).map(|pid| prog(pid, 0, Class::Unknown, 0, 0)));
    let view = View { nodes: &nodes, programs: &programs };
    let moves = all_moves(&Capacity::default(), &view);
    assert!(moves.iter().all(|m| m.pid > 2), "the heavy ones stay up: {moves:?}");
}
