//! Carrying out the placement policy's moves. Every
//! [`REBALANCE_PERIOD_NS`], while this node has programs, its
//! monitor asks the policy which of the node's own programs should go
//! elsewhere ([`placement::Policy::rebalance`]) and starts the first move
//! it can. One move leaves a node at a time; when the round wanted more,
//! the next round is due as soon as that move is over, so moves the
//! policy wants together follow one another instead of a period apart.
//! The kernel keeps the period and says when the next round is due
//! ([`Kernel::rebalance_due_at`]): the monitor wakes for it. A program that
//! turns heavy, a core that comes free on another node and an arrival make
//! the next round due at once.
//!
//! Two rules keep decisions taken on views of different ages from
//! undoing each other:
//! - a moved program counts on its destination at once, until the
//!   destination's update shows it ([`crate::place::PLACED_NS`] at most),
//!   so the node's next decision counts it where it now is;
//! - a program stays at least [`STAY_NS`] where it arrived before the
//!   policy may move it on (the other nodes' views of it are that old).
//!
//! A sleeping program about to wake is not moved until it has woken and
//! slept again ([`WAKE_SLACK_NS`]): it would wake on the way, late.

use crate::moving::Asker;
use crate::{Kernel, Platform, State};
use placement::{Policy, View};
use user_abi::Error;

/// How often a node asks its policy: once per view update. What needs an
/// answer sooner makes a round due at once (a program that turns heavy, a
/// core that comes free elsewhere, an arrival). A round costs about 100 us of the
/// monitor core's time (`bench sched` m1 on 4+4 / 4+2+2, with 5 ms:
/// 1.137 / 1.163 s; with 10 ms: 1.131 / 1.150 s).
pub const REBALANCE_PERIOD_NS: u64 = 10_000_000;
/// Least time a program spends on a node before the policy moves it on.
pub const STAY_NS: u64 = 50_000_000;
/// A sleeping program whose deadline is nearer than this is not moved
/// yet: a move parks it for about 5 ms (`bench sched`, a light program
/// between nodes), and it would wake late. A light program sleeps most
/// of its period, so soon after its next wake-up it has the time.
pub const WAKE_SLACK_NS: u64 = 6_000_000;
/// How long after such a program's deadline the round is asked again
/// (it has run its wake-up and is asleep again by then).
pub const AFTER_WAKE_NS: u64 = 1_000_000;

/// What the policy's rounds did on this node.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RebalanceCounts {
    /// Rounds the policy was asked.
    pub rounds: u64,
    /// Moves started, and of those, the ones that ended on the other node.
    pub started: u64,
    pub moved: u64,
    /// Moves the policy asked for that could not start (the program was
    /// ending, caught in a call that cannot leave, or the peer was gone)
    /// or that the destination refused.
    pub refused: u64,
}

/// The rounds' state.
#[derive(Debug, Clone, Copy)]
pub struct Rebalance {
    /// Counter value before which no round runs.
    next: u64,
    /// The last round wanted more moves than the one it started.
    more: bool,
    pub counts: RebalanceCounts,
}

impl Rebalance {
    pub const fn new() -> Self {
        Rebalance { next: 0, more: false, counts: RebalanceCounts { rounds: 0, started: 0, moved: 0, refused: 0 } }
    }
}

impl Default for Rebalance {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Platform> Kernel<P> {
    /// One round of the policy, if one is due; true if it started a move.
    /// Called by the monitor when [`Kernel::rebalance_due_at`] has come,
    /// and after steps that handled messages.
    pub fn rebalance_round(&mut self) -> bool {
        let now = self.platform.now();
        if now < self.rebalance.next {
            return false;
        }
        self.rebalance.next = now.saturating_add(self.platform.ticks_ns(REBALANCE_PERIOD_NS));
        if !self.has_programs() {
            // Nothing to move, so the monitor need not wake for rounds: a
            // program that comes (spawned or moved here) stays STAY_NS
            // before a round may move it anyway.
            self.rebalance.next = now.saturating_add(self.platform.ticks_ns(STAY_NS));
            return false;
        }
        if self.outbound.is_some() {
            return false;
        }
        self.rebalance.counts.rounds += 1;
        self.fill_view();
        let me = self.node.id;
        let view = View { nodes: &self.scratch.nodes, programs: &self.scratch.programs };
        let moves = self.policy.rebalance(&view, me);
        let now_ns = self.platform.nanos(now);
        let settled = |k: &Self, pid: u32| {
            k.slot_of(pid)
                .and_then(|s| k.procs[s].as_ref())
                .filter(|p| now_ns.saturating_sub(p.arrived_ns) >= STAY_NS && !p.pinned && !p.node_pinned)
                .map(|p| p.state)
        };
        // The moves that may start, each with its program's state.
        let wanted: heapless::Vec<(placement::Move, State), { placement::MAX_MOVES }> = moves
            .iter()
            .filter(|m| m.from == me && m.to != me)
            .filter_map(|m| Some((*m, settled(self, m.pid)?)))
            .collect();
        let slack = self.platform.ticks_ns(WAKE_SLACK_NS);
        for (i, (m, state)) in wanted.iter().enumerate() {
            // About to wake: it would wake on the way, late. Asked again
            // once it has woken and gone back to sleep.
            match *state {
                State::Sleeping { deadline } if deadline.saturating_sub(now) < slack => {
                    let after = deadline.max(now).saturating_add(self.platform.ticks_ns(AFTER_WAKE_NS));
                    self.rebalance.next = self.rebalance.next.min(after);
                    continue;
                }
                _ => {}
            }
            match self.start_move(m.pid, m.to, Asker::Policy) {
                Ok(()) => {
                    self.rebalance.counts.started += 1;
                    self.rebalance.more = i + 1 < wanted.len();
                    return true;
                }
                Err(_) => self.rebalance.counts.refused += 1,
            }
        }
        false
    }

    /// A program of this node just turned heavy (at counter value `now`):
    /// the next round is due at once, and the monitor's core is woken for
    /// it, rather than the program waiting up to a period on a core that
    /// may be too small for it now. On the monitor's own core the bell is
    /// rung too: it ends the programs' turn there, as a peer's would.
    pub(crate) fn turned_heavy(&mut self, now: u64) {
        self.rebalance_now(now);
        self.platform.ring(self.bells[0]);
    }

    /// Makes the next round due at counter value `now`.
    pub(crate) fn rebalance_now(&mut self, now: u64) {
        self.rebalance.next = self.rebalance.next.min(now);
    }

    /// The counter value at which the next round is due (the monitor
    /// sleeps no longer than that; a round asked earlier does nothing).
    pub fn rebalance_due_at(&self) -> u64 {
        self.rebalance.next
    }

    /// Whether this node has a program the policy may move: one that lives
    /// (a sleeping one too: a light program sleeps most of its time), and
    /// is not an init.
    fn has_programs(&self) -> bool {
        self.procs.iter().flatten().any(|p| !self.is_init(p.pid) && !matches!(p.state, State::Zombie(_)))
    }

    /// A move the policy asked for is over.
    /// When its round wanted more, the next round is due at once.
    pub(crate) fn policy_move_over(&mut self, result: Result<(), Error>) {
        match result {
            Ok(()) => self.rebalance.counts.moved += 1,
            Err(_) => self.rebalance.counts.refused += 1,
        }
        if core::mem::take(&mut self.rebalance.more) {
            self.rebalance.next = 0;
        }
    }
}
