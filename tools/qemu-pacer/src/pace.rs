//! The pacing rule, apart from QEMU so it is tested on the host.

/// One vCPU's budget: a virtual clock that advances by the host time its
/// executed instructions are worth at its rate; when it runs ahead of the
/// host clock, the vCPU sleeps the difference.
#[derive(Debug, Clone)]
pub struct Pacer {
    /// Guest instructions per host second.
    rate: u64,
    /// How far the virtual clock may lag the host clock (idle time turns
    /// into at most this much burst).
    credit_ns: u64,
    virtual_ns: u64,
}

impl Pacer {
    pub fn new(rate: u64, credit_ns: u64) -> Self {
        Pacer { rate: rate.max(1), credit_ns, virtual_ns: 0 }
    }

    /// Accounts `insns` instructions executed by host time `now_ns`;
    /// returns how long to sleep to stay on budget (0: on or behind it).
    pub fn account(&mut self, insns: u64, now_ns: u64) -> u64 {
        let worth = u64::try_from(u128::from(insns) * 1_000_000_000 / u128::from(self.rate)).unwrap_or(u64::MAX);
        self.virtual_ns = self.virtual_ns.max(now_ns.saturating_sub(self.credit_ns)).saturating_add(worth);
        self.virtual_ns.saturating_sub(now_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::Pacer;

    /// Runs a vCPU that executes `chunk` instructions per `step_ns` of host
    /// time when not sleeping; returns the instructions it got through in
    /// `total_ns`.
    fn simulate(rate: u64, chunk: u64, step_ns: u64, total_ns: u64) -> u64 {
        let mut p = Pacer::new(rate, 2_000_000);
        let (mut now, mut done) = (0, 0);
        while now < total_ns {
            now += step_ns;
            done += chunk;
            now += p.account(chunk, now);
        }
        done
    }

    #[test]
    fn a_fast_vcpu_is_held_to_its_rate() {
        // The host could run 1e9 insns/s; the budget is 1e8.
        let done = simulate(100_000_000, 10_000, 10_000, 1_000_000_000);
        assert!((99_000_000..=101_000_000).contains(&done), "{done}");
    }

    #[test]
    fn two_rates_keep_their_ratio() {
        let big = simulate(100_000_000, 10_000, 10_000, 1_000_000_000);
        let little = simulate(52_000_000, 10_000, 10_000, 1_000_000_000);
        let ratio = little as f64 / big as f64;
        assert!((0.51..0.53).contains(&ratio), "{ratio}");
    }

    #[test]
    fn a_slow_host_is_not_slowed_further() {
        // The host gives only 5e7 insns/s, below the budget: never sleep.
        let mut p = Pacer::new(100_000_000, 2_000_000);
        let mut now = 0;
        for _ in 0..1000 {
            now += 200_000;
            assert_eq!(p.account(10_000, now), 0);
        }
    }

    #[test]
    fn idle_time_buys_at_most_the_credit() {
        let mut p = Pacer::new(1_000_000_000, 2_000_000);
        // Idle for a second, then a burst: only 2 ms of it is free.
        let sleep = p.account(10_000_000, 1_000_000_000);
        assert_eq!(sleep, 10_000_000 - 2_000_000);
    }
}
