//! The run queues of one kernel node: for every core, one FIFO per
//! priority of the programs ready to run there. Higher priorities go first,
//! round robin within one. A core whose queues are empty takes the
//! longest-waiting unpinned program of the highest priority from a sibling
//! ("stealing"), so work moves to idle cores of the node; pinned programs
//! never move.
//!
//! Entries are slot numbers of the kernel's process table; what a slot
//! holds (its priority, whether it is pinned) is the kernel's, asked for
//! through closures, so there is one copy of each fact.

#![no_std]

use heapless::Deque;

/// The queues of `CORES` cores, `PRIOS` priorities (0 lowest), for up to
/// `SLOTS` programs.
pub struct RunQueues<const CORES: usize, const PRIOS: usize, const SLOTS: usize> {
    queues: [[Deque<usize, SLOTS>; PRIOS]; CORES],
}

impl<const CORES: usize, const PRIOS: usize, const SLOTS: usize> Default for RunQueues<CORES, PRIOS, SLOTS> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const CORES: usize, const PRIOS: usize, const SLOTS: usize> RunQueues<CORES, PRIOS, SLOTS> {
    pub const fn new() -> Self {
        RunQueues { queues: [const { [const { Deque::new() }; PRIOS] }; CORES] }
    }

    /// Queues `slot` on `core` at `prio`: at the back, or at the front (a
    /// program that was interrupted inside its time slice goes on first).
    /// Out-of-range cores and priorities are clamped; a full queue (more
    /// entries than slots, which a correct kernel never makes) drops it.
    pub fn push(&mut self, core: usize, prio: u8, slot: usize, front: bool) -> bool {
        let q = &mut self.queues[core.min(CORES - 1)][usize::from(prio).min(PRIOS - 1)];
        if front { q.push_front(slot) } else { q.push_back(slot) }.is_ok()
    }

    /// The next program for `core`: its own queues, highest priority first;
    /// else, among its first `cores` siblings, the longest-waiting program
    /// that `movable` allows, highest priority first. Returns the slot and
    /// the core it came from.
    pub fn pick(&mut self, core: usize, cores: usize, movable: impl Fn(usize) -> bool) -> Option<(usize, usize)> {
        let own = self.queues.get_mut(core)?;
        for q in own.iter_mut().rev() {
            if let Some(s) = q.pop_front() {
                return Some((s, core));
            }
        }
        for prio in (0..PRIOS).rev() {
            for other in (0..cores.min(CORES)).filter(|&c| c != core) {
                let q = &mut self.queues[other][prio];
                if let Some(i) = q.iter().position(|&s| movable(s)) {
                    return take(q, i).map(|s| (s, other));
                }
            }
        }
        None
    }

    /// Takes `slot` out of whatever queue holds it.
    pub fn remove(&mut self, slot: usize) {
        for q in self.queues.iter_mut().flatten() {
            if let Some(i) = q.iter().position(|&s| s == slot) {
                let _ = take(q, i);
            }
        }
    }

    /// Programs waiting for `core`.
    pub fn waiting(&self, core: usize) -> usize {
        self.queues.get(core).map_or(0, |qs| qs.iter().map(Deque::len).sum())
    }

    /// Whether a program of a priority above `prio` waits for `core`.
    pub fn higher_waiting(&self, core: usize, prio: u8) -> bool {
        self.queues.get(core).is_some_and(|qs| qs.iter().skip(usize::from(prio) + 1).any(|q| !q.is_empty()))
    }
}

/// Removes the `i`th entry of `q`, keeping the others in order.
fn take<const N: usize>(q: &mut Deque<usize, N>, i: usize) -> Option<usize> {
    let n = q.len();
    let mut found = None;
    for j in 0..n {
        let x = q.pop_front()?;
        if j == i {
            found = Some(x);
        } else {
            let _ = q.push_back(x);
        }
    }
    found
}
