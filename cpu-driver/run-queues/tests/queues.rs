//! Priorities, round robin, front pushes, stealing (never pinned work) and
//! removal.

use run_queues::RunQueues;

type Q = RunQueues<4, 4, 64>;

#[test]
fn higher_priorities_first_and_round_robin_within_one() {
    let mut q = Q::new();
    q.push(0, 1, 10, false);
    q.push(0, 1, 11, false);
    q.push(0, 3, 20, false);
    q.push(0, 0, 30, false);
    let order: Vec<usize> = std::iter::from_fn(|| q.pick(0, 1, |_| true).map(|p| p.0)).collect();
    assert_eq!(order, [20, 10, 11, 30]);
}

#[test]
fn a_front_push_goes_on_first() {
    let mut q = Q::new();
    q.push(1, 1, 10, false);
    q.push(1, 1, 11, true);
    assert_eq!(q.pick(1, 4, |_| true), Some((11, 1)));
    assert!(q.higher_waiting(1, 0));
    assert!(!q.higher_waiting(1, 1));
}

#[test]
fn an_idle_core_takes_movable_work_highest_priority_first_never_pinned() {
    let mut q = Q::new();
    let pinned = |s: usize| s >= 100;
    q.push(2, 3, 100, false); // pinned, high priority: stays
    q.push(2, 1, 5, false);
    q.push(2, 1, 6, false);
    q.push(3, 2, 7, false);
    assert_eq!(q.pick(0, 4, |s| !pinned(s)), Some((7, 3)), "highest movable priority first");
    assert_eq!(q.pick(0, 4, |s| !pinned(s)), Some((5, 2)), "then the longest waiting");
    assert_eq!(q.pick(0, 4, |s| !pinned(s)), Some((6, 2)));
    assert_eq!(q.pick(0, 4, |s| !pinned(s)), None, "pinned work never moves");
    assert_eq!(q.waiting(2), 1);
    assert_eq!(q.pick(2, 4, |s| !pinned(s)), Some((100, 2)));
}

#[test]
fn stealing_looks_only_at_cores_that_exist() {
    let mut q = Q::new();
    q.push(3, 1, 9, false);
    assert_eq!(q.pick(0, 3, |_| true), None, "core 3 is beyond the node's 3 cores");
    assert_eq!(q.pick(0, 4, |_| true), Some((9, 3)));
}

#[test]
fn removal_keeps_the_order_of_the_others() {
    let mut q = Q::new();
    for s in 1..=4 {
        q.push(1, 2, s, false);
    }
    q.remove(2);
    q.remove(99);
    let order: Vec<usize> = std::iter::from_fn(|| q.pick(1, 1, |_| true).map(|p| p.0)).collect();
    assert_eq!(order, [1, 3, 4]);
}

#[test]
fn out_of_range_arguments_are_clamped_not_panics() {
    let mut q = Q::new();
    assert!(q.push(99, 99, 1, false));
    assert_eq!(q.pick(3, 4, |_| true), Some((1, 3)));
    assert_eq!(q.pick(99, 4, |_| true), None);
    assert_eq!(q.waiting(99), 0);
    assert!(!q.higher_waiting(99, 0));
}
