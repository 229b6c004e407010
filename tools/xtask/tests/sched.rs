//! `bench sched`'s arithmetic: the Gonzalez–Sahni lower bound, and the
//! figures read from a traced console.

use xtask::bench_sched::{figures, lower_bound, mix_bound};

#[test]
fn the_bound_is_the_tightest_of_the_longest_jobs_and_of_all_the_work() {
    // Equal jobs, as many as machines: each takes a machine, the slowest decides
    // nothing since they may share (all work over all speed).
    let b = lower_bound(&[1.0; 8], &[1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5]);
    assert!((b - 8.0 / 6.0).abs() < 1e-9, "{b}");
    // One long job bounds it by itself on the fastest machine.
    let b = lower_bound(&[10.0, 1.0, 1.0], &[2.0, 1.0, 1.0]);
    assert!((b - 5.0).abs() < 1e-9, "{b}");
    // More machines than jobs: only the fastest count.
    let b = lower_bound(&[3.0, 3.0], &[1.0, 1.0, 0.1, 0.1]);
    assert!((b - 3.0).abs() < 1e-9, "{b}");
    assert_eq!(lower_bound(&[], &[1.0]), 0.0);
}

#[test]
fn a_program_that_waits_for_its_clock_bounds_the_mix_by_itself() {
    let speeds = [1.0, 1.0, 0.5, 0.5];
    // Two heavy jobs of 1.6 s and a light one of 0.02 s that cannot end
    // before its last wake-up at 2 s: the clock decides, not the work.
    let b = mix_bound(&[1.6, 1.6, 0.02], &[1.6, 1.6, 2.0001], &speeds);
    assert!((b - 2.0001).abs() < 1e-9, "{b}");
    // When the work needs longer than any clock, the work decides.
    let b = mix_bound(&[3.0; 4], &[3.0, 3.0, 3.0, 1.0], &speeds);
    assert!((b - 4.0).abs() < 1e-9, "{b}");
}

/// A machine of a big node (1) and a LITTLE one (0): a heavy program runs
/// 1 s on LITTLE, moves, runs 1 s on big; a light one runs 0.1 s on LITTLE.
const CONSOLE: &str = "\
trace: node 0 begin build=little capacity=530 cores=1 hz=1000 mpidr=0x0
trace: 0 0 0 spawn 3 1 heavy
trace: 0 0 0 spawn 5 1 light
trace: 0 0 0 run 3
trace: 0 0 1000 stop 3 preempted
trace: 0 0 1000 run 5
trace: 0 0 1100 stop 5 exited
trace: 0 0 1100 exit 5 0x0
trace: 0 0 1200 leave 3 1
trace: 0 0 110 recv 1 17 4
trace: 0 0 650 recv 1 17 5
trace: node 0 end events=11 lost=0
trace: node 1 begin build=big capacity=1024 cores=1 hz=1000 mpidr=0x4
trace: 1 0 1150 arrive 3 0
trace: 1 0 1200 run 3
trace: 1 0 2200 stop 3 exited
trace: 1 0 2200 exit 3 0x0
trace: 1 0 100 send 0 17 4
trace: 1 0 600 send 0 17 5
trace: node 1 end events=6 lost=0
light: pid 5 node 0 core 0: 10 wakeups every 10 ms, latency median 40 us p99 900 us max 950 us
phase: pid 3 switched at_ns=1100000000
";

#[test]
fn figures_come_from_the_trace_and_the_programs_lines() {
    let f = figures(CONSOLE, &[0.5, 2.0]).expect("figures");
    assert!((f.makespan_s - 2.2).abs() < 1e-9, "{}", f.makespan_s);
    // LITTLE busy 1.1 s at 0.5 W, big 1 s at 2 W.
    assert!((f.energy_j - (1.1 * 0.5 + 2.0)).abs() < 1e-9, "{}", f.energy_j);
    assert_eq!((f.moves_across, f.moves_within), (1, 0));
    assert_eq!(f.light_latency_us, vec![(40, 900)]);
    assert!((f.big_share[&3].1 - 0.5).abs() < 1e-9);
    assert_eq!(f.big_share[&5].1, 0.0);
    // Switched at 1.1 s, first ran on the big node at 1.2 s.
    let s = f.switch_to_big_ms[0].expect("it got a big core");
    assert!((s - 100.0).abs() < 1e-6, "{s}");
    // The view of node 1 was 550 ms old when its second update came.
    assert_eq!(f.view_age_ms.len(), 1);
    assert!((f.view_age_ms[0] - 550.0).abs() < 1e-6, "{:?}", f.view_age_ms);
    // A trace that lost events gives no figures.
    let lossy = CONSOLE.replace("end events=6 lost=0", "end events=6 lost=3");
    assert!(figures(&lossy, &[0.5, 2.0]).is_err());
}

/// What `init` ran first (the warm-up) is not the mix: neither its time
/// nor its energy count.
#[test]
fn a_warm_up_is_not_part_of_the_figures() {
    let console = "\
trace: node 0 begin build=little capacity=530 cores=1 hz=1000 mpidr=0x0
trace: 0 0 0 spawn 7 1 mover
trace: 0 0 0 run 7
trace: 0 0 500 stop 7 exited
trace: 0 0 500 exit 7 0x0
trace: 0 0 600 spawn 9 1 heavy
trace: 0 0 600 run 9
trace: 0 0 1600 stop 9 exited
trace: 0 0 1600 exit 9 0x0
trace: node 0 end events=8 lost=0
init: node 0: first mover (pid 7) exited with 0
";
    let f = figures(console, &[0.5]).expect("figures");
    assert!((f.makespan_s - 1.0).abs() < 1e-9, "{}", f.makespan_s);
    assert!((f.energy_j - 0.5).abs() < 1e-9, "{}", f.energy_j);
    assert_eq!(f.big_share.keys().copied().collect::<Vec<_>>(), vec![9]);
}
