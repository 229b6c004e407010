//! The utilization arithmetic: steady states at the core's capacity, the
//! half-life, decay while idle, a duty cycle, and updates in any slicing
//! giving the same average.

use processes::util::{Demand, Utilization, FULL, HALF_LIFE_NS};

const MS: u64 = 1_000_000;

/// Runs `ms` milliseconds in steps of `step_ms`, all running at `cap` (or idle).
fn run(u: &mut Utilization, from: u64, ms: u64, step_ms: u64, cap: Option<u32>) -> u64 {
    let mut t = from;
    while t < from + ms * MS {
        t += step_ms * MS;
        u.update(t, cap);
    }
    t
}

#[test]
fn a_program_busy_all_the_time_has_the_capacity_of_its_core() {
    for cap in [FULL, 530, 1] {
        let mut u = Utilization::new(0);
        run(&mut u, 0, 1000, 10, Some(cap));
        assert!(u.value().abs_diff(cap) <= 1, "cap {cap}: {}", u.value());
    }
    let mut u = Utilization::new(0);
    run(&mut u, 0, 1000, 10, Some(5000));
    assert_eq!(u.value(), FULL, "never above a full core");
}

#[test]
fn the_past_halves_every_half_life_and_fades_when_idle() {
    let mut u = Utilization::new(0);
    let t = run(&mut u, 0, 1000, 1, Some(FULL));
    u.update(t + HALF_LIFE_NS, None);
    assert!(u.value().abs_diff(512) <= 2, "{}", u.value());
    u.update(t + 2 * HALF_LIFE_NS, None);
    assert!(u.value().abs_diff(256) <= 2, "{}", u.value());
    u.update(t + 40 * HALF_LIFE_NS, None);
    assert_eq!(u.value(), 0);
    // And it rises as fast: half of full after one half-life of running.
    let mut u = Utilization::new(0);
    u.update(HALF_LIFE_NS, Some(FULL));
    assert!(u.value().abs_diff(512) <= 2, "{}", u.value());
}

#[test]
fn a_duty_cycle_averages_to_its_share() {
    let mut u = Utilization::new(0);
    let mut t = 0;
    for _ in 0..200 {
        t += 2 * MS;
        u.update(t, Some(FULL));
        t += 6 * MS;
        u.update(t, None);
    }
    // 25% of the time: about 256, give or take the ripple of one cycle.
    assert!((230..=290).contains(&u.value()), "{}", u.value());
}

#[test]
fn slicing_does_not_change_the_average() {
    let (mut coarse, mut fine) = (Utilization::new(0), Utilization::new(0));
    run(&mut coarse, 0, 64, 32, Some(700));
    run(&mut fine, 0, 64, 1, Some(700));
    assert!(coarse.value().abs_diff(fine.value()) <= 1, "{} vs {}", coarse.value(), fine.value());
    // Time that goes backwards changes nothing.
    let before = fine;
    fine.update(10, Some(700));
    assert_eq!(fine.value(), before.value());
}

#[test]
fn auto_programs_turn_heavy_when_they_want_a_whole_core_and_light_again_with_hysteresis() {
    use processes::util::classify;
    use user_abi::Class;
    // Heavy from 62.5% of the time (640), light again below 50% (512).
    assert!(!classify(Class::Auto, false, 639));
    assert!(classify(Class::Auto, false, 640));
    assert!(classify(Class::Auto, true, 600), "between the two it stays as it was");
    assert!(!classify(Class::Auto, false, 600));
    assert!(!classify(Class::Auto, true, 511));
    // A class given at spawn is kept whatever the demand.
    assert!(classify(Class::Heavy, false, 0));
    assert!(!classify(Class::Light, true, FULL));
}

/// Demand counts the time a program waits for its core as well as the time
/// it runs: two programs that share one LITTLE core flat out each use half
/// of it (utilization 265 of 530) and both want all of it (demand 1024).
#[test]
fn a_program_sharing_its_core_uses_part_of_it_and_wants_all_of_it() {
    let (mut util, mut demand) = (Utilization::new(0), Demand::new(0));
    let mut t = 0;
    for _ in 0..100 {
        // Runs one 10 ms slice, waits (ready) through the other's.
        t += 10 * MS;
        util.update(t, Some(530));
        demand.update(t, Some(FULL));
        t += 10 * MS;
        util.update(t, None);
        demand.update(t, Some(FULL));
    }
    assert!(util.value().abs_diff(265) <= 40, "{}", util.value());
    assert_eq!(demand.value(), FULL);
}

/// Demand reacts four times faster than utilization: a program that turns
/// from sleeping to flat out counts as heavy within 16 ms.
#[test]
fn demand_sees_a_program_turn_heavy_within_two_of_its_half_lives() {
    use processes::util::{classify, DEMAND_HALF_LIFE_NS};
    let (mut util, mut demand) = (Utilization::new(0), Demand::new(0));
    util.update(2 * DEMAND_HALF_LIFE_NS, Some(FULL));
    demand.update(2 * DEMAND_HALF_LIFE_NS, Some(FULL));
    assert!(classify(user_abi::Class::Auto, false, demand.value()), "demand {}", demand.value());
    assert!(util.value() < 512, "utilization is slower: {}", util.value());
}
