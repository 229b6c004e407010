//! A monitor with nothing to do polls briefly, then sleeps (its core runs
//! programs while it sleeps): bounded in time, not only in spins, so a
//! platform whose spin budget outlasts the gaps between messages still
//! gets its core back; and it never sleeps on a message the kernel queued.

use channel::Polling;
use monitor::{Identity, Mode, Monitor, Platform, POLL_US};
use std::cell::Cell;
use std::time::Instant;

/// A platform on the host clock. Its kernel may hold one message for
/// another node, behind a lock that is busy for its first few looks.
struct Clocked {
    start: Instant,
    spins: u32,
    sleeps: Cell<u32>,
    /// Looks at the outbox that find the lock busy, still to come.
    busy_looks: Cell<u32>,
    queued: Cell<bool>,
    /// Sleeps with the message still queued.
    slept_with_message: Cell<u32>,
}

impl Clocked {
    fn new(spins: u32, queued: bool, busy_looks: u32) -> Clocked {
        Clocked {
            start: Instant::now(),
            spins,
            sleeps: Cell::new(0),
            busy_looks: Cell::new(busy_looks),
            queued: Cell::new(queued),
            slept_with_message: Cell::new(0),
        }
    }
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
        if self.queued.get() {
            self.slept_with_message.set(self.slept_with_message.get() + 1);
        }
    }
    fn poll_spins(&self) -> u32 {
        self.spins
    }
    fn take_outgoing(
        &self,
        _bytes: &mut [u8; monitor::BYTES_MAX],
        _room: &dyn Fn(u32, usize) -> bool,
    ) -> Option<(u32, message::Message, usize)> {
        if self.busy_looks.get() > 0 {
            self.busy_looks.set(self.busy_looks.get() - 1);
            return None;
        }
        let linked = message::Linked { node: 0.into(), peers: 0.into() };
        self.queued.replace(false).then_some((1, message::Message::Linked(linked), 0))
    }
    fn has_outgoing(&self) -> bool {
        self.queued.get()
    }
}

fn identity(nodes: u32) -> Identity {
    Identity { node: 0, nodes, coordinator: 0, build: 1, capacity: 1024, cpus: 1, channel_phases: false }
}

#[test]
fn an_idle_monitor_sleeps_within_its_poll_time_whatever_its_spin_budget() {
    // A budget no poll would ever spend.
    let mut m = Monitor::new(Clocked::new(u32::MAX, false, 0), identity(1), heapless::Vec::new());
    let until = m.platform().now() + 50 * POLL_US * 1000;
    assert!(!m.run_until(until, |_| false), "nothing to wait for: the deadline passes");
    let sleeps = m.platform().sleeps.get();
    assert!(sleeps >= 10, "{sleeps} sleeps in 50 poll periods");
}

/// A kernel whose lock is busy for the monitor's first few looks: what it
/// queued meanwhile is taken before the monitor sleeps, not at its next
/// wake-up (the doorbell that announced it woke the step that could not
/// take it).
#[test]
fn a_message_queued_while_the_kernel_was_busy_goes_before_the_monitor_sleeps() {
    let mut m = Monitor::new(Clocked::new(1, true, 3), identity(2), heapless::Vec::new());
    let until = m.platform().now() + 20 * POLL_US * 1000;
    m.run_until(until, |_| false);
    let p = m.platform();
    assert!(!p.queued.get(), "it was taken");
    assert!(p.sleeps.get() > 0, "and then the monitor slept");
    assert_eq!(p.slept_with_message.get(), 0, "never with the message still queued");
}
