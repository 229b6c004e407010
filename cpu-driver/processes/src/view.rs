//! The replicated view: what this node knows of every other node (cores
//! online, capacity, load, which programs live there), as their monitors
//! last said, and the updates it sends of itself.
//!
//! An update is a [`NodeState`] head and one [`ProgramState`] (followed by
//! its [`ProgramName`]) per program, all of one version. It is staged until
//! every program it announced has arrived, then replaces the node's view
//! at once; a version no newer than the one held is stale and dropped, and
//! an update cut short by a newer one is counted and dropped. A view is as
//! old as the sender's update period plus the channel's transit.

use crate::{Kernel, Platform, State, MAX_PROCS};
use handoff::MAX_NODES;
use message::le::{U32, U64};
use message::{Message, NodeState, ProgramName, ProgramState};

/// One program of another node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteProgram {
    pub state: ProgramState,
    pub name: [u8; 24],
}

/// Another node as its last complete update described it.
#[derive(Debug, Clone)]
pub struct RemoteNode {
    pub head: NodeState,
    pub programs: heapless::Vec<RemoteProgram, MAX_PROCS>,
    /// When the update was complete here (the generic counter).
    pub received: u64,
}

/// What the view dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ViewCounts {
    pub updates: u64,
    /// Updates no newer than the view held.
    pub stale: u64,
    /// Updates a newer one overtook before they were complete.
    pub incomplete: u64,
    /// Parts that named another node than their sender, or no update.
    pub bad: u64,
}

/// Bits of [`ProgramState::flags`].
pub mod flags {
    pub const STATE_MASK: u32 = 0b111;
    pub const CLASS_SHIFT: u32 = 3;
    pub const HEAVY: u32 = 1 << 5;
    pub const CORE_PINNED: u32 = 1 << 6;
    pub const NODE_PINNED: u32 = 1 << 7;
    pub const CORE_SHIFT: u32 = 8;
    /// An `auto` program old enough for its utilization to mean something.
    pub const MEASURED: u32 = 1 << 13;
    pub const PRIORITY_SHIFT: u32 = 14;
    /// Being moved to the node, and ready once there: it takes a core.
    pub const ARRIVING: u32 = 1 << 16;
}

/// Every other node's view.
pub struct Views {
    committed: [Option<RemoteNode>; MAX_NODES],
    staging: [Option<RemoteNode>; MAX_NODES],
    pub counts: ViewCounts,
}

impl Default for Views {
    fn default() -> Self {
        Self::new()
    }
}

impl Views {
    pub const fn new() -> Self {
        Views {
            committed: [const { None }; MAX_NODES],
            staging: [const { None }; MAX_NODES],
            counts: ViewCounts { updates: 0, stale: 0, incomplete: 0, bad: 0 },
        }
    }

    /// Node `n` as last seen.
    pub fn node(&self, n: u32) -> Option<&RemoteNode> {
        self.committed.get(n as usize).and_then(Option::as_ref)
    }

    /// The node whose last view holds `pid`.
    pub fn node_holding(&self, pid: u32) -> Option<u32> {
        self.committed
            .iter()
            .flatten()
            .find(|n| n.programs.iter().any(|p| p.state.pid.get() == pid))
            .map(|n| n.head.node.get())
    }

    /// Every other node's programs, with their node.
    pub fn programs(&self) -> impl Iterator<Item = (u32, &RemoteProgram)> + '_ {
        self.committed.iter().flatten().flat_map(|n| n.programs.iter().map(move |p| (n.head.node.get(), p)))
    }

    /// Takes one part of an update from node `from`; true when it
    /// completed an update (the node's view changed).
    pub fn receive(&mut self, from: u32, m: &Message, now: u64) -> bool {
        let i = from as usize;
        if i >= MAX_NODES {
            self.counts.bad += 1;
            return false;
        }
        match *m {
            Message::NodeState(h) if h.node.get() == from => {
                let held = self.committed[i].as_ref().map(|n| n.head.version.get());
                if held.is_some_and(|v| h.version.get() <= v) {
                    self.counts.stale += 1;
                    return false;
                }
                if self.staging[i].take().is_some() {
                    self.counts.incomplete += 1;
                }
                self.staging[i] = Some(RemoteNode { head: h, programs: heapless::Vec::new(), received: now });
                self.commit_if_complete(i, now)
            }
            Message::ProgramState(p) if p.node.get() == from => {
                let held = self.committed[i].as_ref().map_or(0, |n| n.head.version.get());
                let staged = self.staging[i].as_mut().filter(|n| n.head.version == p.version);
                let Some(n) = staged else {
                    // Part of an update already dropped as stale, or of none.
                    if p.version.get() > held {
                        self.counts.bad += 1;
                    }
                    return false;
                };
                if n.programs.push(RemoteProgram { state: p, name: [0; 24] }).is_err() {
                    self.counts.bad += 1;
                }
                false
            }
            Message::ProgramName(p) if p.node.get() == from => {
                let Some(staged) = self.staging[i].as_mut() else { return false };
                let last = staged.programs.last_mut().filter(|l| l.state.pid == p.pid);
                let Some(last) = last else {
                    self.counts.bad += 1;
                    return false;
                };
                last.name = p.name;
                self.commit_if_complete(i, now)
            }
            _ => {
                self.counts.bad += 1;
                false
            }
        }
    }

    fn commit_if_complete(&mut self, i: usize, now: u64) -> bool {
        let done = self.staging[i].as_ref().is_some_and(|n| n.programs.len() as u32 >= n.head.programs.get());
        if !done {
            return false;
        }
        let Some(mut n) = self.staging[i].take() else { return false };
        n.received = now;
        self.committed[i] = Some(n);
        self.counts.updates += 1;
        true
    }

    /// Cores of node `n` with nothing runnable for them, as last seen.
    pub fn free_cores(&self, n: u32) -> u32 {
        self.node(n).map_or(0, |n| n.head.online.get().count_ones().saturating_sub(n.head.runnable.get()))
    }
}

impl<P: Platform> Kernel<P> {
    /// Whether an update should go: a program is runnable (its utilization
    /// and work keep changing), or the set of programs and their states
    /// changed since the last update.
    pub fn view_due(&self) -> bool {
        let runnable = self.procs.iter().flatten().any(|p| self.takes_core(p));
        runnable || self.state_digest() != self.view_digest
    }

    /// Whether a core was freed since the last update (a program ended or
    /// left): the monitor sends the next one sooner.
    pub fn view_urgent(&self) -> bool {
        self.core_freed
    }

    /// A program ended or left: the other nodes hear of the free core
    /// soon, and the monitor's core is woken to tell them (the program
    /// may have ended on another core).
    pub(crate) fn freed_core(&mut self) {
        self.core_freed = true;
        self.platform.ring(self.bells[0]);
    }

    /// A digest of which programs there are, their states, and the free
    /// pages (so pages an ended program gave back are told too).
    fn state_digest(&self) -> u64 {
        let mix = |d: u64, p: &crate::Process| d.rotate_left(7) ^ u64::from(p.pid) ^ ((p.state.abi() as u64) << 32);
        let free = self.frames.as_ref().map_or(0, |f| f.free_count());
        self.procs.iter().flatten().fold(0, mix) ^ free.rotate_left(40)
    }

    /// This node's update for its peers: the head, then each program and
    /// its name, through `emit`.
    pub fn view_update(&mut self, emit: &mut dyn FnMut(&Message)) {
        // Pages no core can reach any more count as free.
        self.reap_retired();
        self.view_version = self.view_version.wrapping_add(1);
        self.view_digest = self.state_digest();
        self.core_freed = false;
        let (version, node) = (U32::new(self.view_version), U32::new(self.node.id));
        let now = self.platform.now();
        let now_ns = self.platform.nanos(now);
        let capacity = self.node.capacity;
        let runnable = self.procs.iter().flatten().filter(|p| self.takes_core(p)).count();
        let util: u32 = self.procs.iter().flatten().map(|p| p.util_now(now_ns, capacity)).sum();
        let count = self.procs.iter().flatten().count();
        emit(&Message::NodeState(NodeState {
            node,
            version,
            online: U32::new(self.online),
            capacity: U32::new(capacity),
            measured_min: U32::new(self.measured.0),
            measured_max: U32::new(self.measured.1),
            runnable: U32::new(runnable as u32),
            programs: U32::new(count as u32),
            util: U32::new(util),
            free_pages: U32::new(self.frames.as_ref().map_or(0, |f| f.free_count() as u32)),
            stamp: U64::new(now),
        }));
        for p in self.procs.iter().flatten() {
            let measured = p.measured(now_ns);
            let f = (p.state.abi() as u32 & flags::STATE_MASK)
                | ((p.class as u32) << flags::CLASS_SHIFT)
                | if p.heavy_now(now_ns) { flags::HEAVY } else { 0 }
                | if p.pinned { flags::CORE_PINNED } else { 0 }
                | if p.node_pinned { flags::NODE_PINNED } else { 0 }
                | ((p.core as u32 & 0x1f) << flags::CORE_SHIFT)
                | if measured { flags::MEASURED } else { 0 }
                | ((u32::from(p.priority) & 3) << flags::PRIORITY_SHIFT)
                | if p.state == State::Migrating && self.takes_core(p) { flags::ARRIVING } else { 0 };
            let running = if p.state == State::Running { now.saturating_sub(p.running_since) } else { 0 };
            emit(&Message::ProgramState(ProgramState {
                node,
                version,
                pid: U32::new(p.pid),
                parent: U32::new(p.parent),
                flags: U32::new(f),
                util: U32::new(p.util_now(now_ns, capacity)),
                work: U64::new(p.work_ns / 1000),
                cpu_ns: U64::new(self.platform.nanos(p.cpu_ticks + running)),
                migrations: U32::new(p.migrations),
                moves: U32::new(p.moves),
            }));
            emit(&Message::ProgramName(ProgramName { node, pid: U32::new(p.pid), name: p.name }));
        }
    }
}
