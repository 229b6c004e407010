//! A monitor with nothing to do polls briefly, then sleeps (its core runs
//! programs while it sleeps): bounded in time, not only in spins, so a
//! platform whose spin budget outlasts the gaps between messages still
//! gets its core back.

use channel::Polling;
use monitor::{Identity, Mode, Monitor, Platform, POLL_US};
use std::cell::Cell;
use std::time::Instant;

struct Clocked {
    start: Instant,
    sleeps: Cell<u32>,
}

impl Platform for Clocked {
    type Notifier = Polling;
    fn notifier(&self) -> Polling {
        Polling
    }
    fn now(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }
    fn frequency(&self) -> u64 {
        1_000_000_000
    }
    fn print(&self, _line: std::fmt::Arguments<'_>) {}
    fn sleep(&self, _mode: Mode, _deadline: u64) {
        self.sleeps.set(self.sleeps.get() + 1);
    }
    /// A budget no poll would ever spend.
    fn poll_spins(&self) -> u32 {
        u32::MAX
    }
}

#[test]
fn an_idle_monitor_sleeps_within_its_poll_time_whatever_its_spin_budget() {
    let platform = Clocked { start: Instant::now(), sleeps: Cell::new(0) };
    let me = Identity { node: 0, nodes: 1, coordinator: 0, build: 1, capacity: 1024, cpus: 1, channel_phases: false };
    let mut m = Monitor::new(platform, me, heapless::Vec::new());
    let until = m.platform().now() + 50 * POLL_US * 1000;
    assert!(!m.run_until(until, |_| false), "nothing to wait for: the deadline passes");
    let sleeps = m.platform().sleeps.get();
    assert!(sleeps >= 10, "{sleeps} sleeps in 50 poll periods");
}
