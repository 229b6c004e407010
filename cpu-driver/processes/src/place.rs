//! The placement policy's view, built from this node's own programs (as
//! they are) and every other node's (as the replicated view has them),
//! and the spawn-time choice of node.

use crate::view::flags;
use crate::{Kernel, Platform, State, MAX_PROCS};
use handoff::MAX_NODES;
use placement::{Class, NewProgram, NodeView, Policy, ProgramView, View};

/// Room for every program of the machine.
pub const MAX_VIEW_PROGRAMS: usize = MAX_NODES * MAX_PROCS;

/// The policy's input, rebuilt for each decision.
pub struct Scratch {
    pub nodes: heapless::Vec<NodeView, MAX_NODES>,
    pub programs: heapless::Vec<ProgramView, MAX_VIEW_PROGRAMS>,
}

impl Scratch {
    pub const fn new() -> Self {
        Scratch { nodes: heapless::Vec::new(), programs: heapless::Vec::new() }
    }
}

impl Default for Scratch {
    fn default() -> Self {
        Self::new()
    }
}

/// How long a program started on another node counts there before that
/// node's update shows it (its updates come every 10 ms; a spawn burst
/// must not put every program on the node that looked free).
pub const PLACED_NS: u64 = 50_000_000;

/// Programs started on or moved to other nodes: each as it counts there,
/// and when (ns).
pub type Placed = heapless::Vec<(ProgramView, u64), 16>;

/// What a program counts as, from its spawn class, whether it is heavy now
/// and whether it has run long enough to be measured.
fn class_of(class: u32, heavy: bool, measured: bool) -> Class {
    match user_abi::Class::from_number(class) {
        Some(user_abi::Class::Heavy) => Class::Heavy,
        Some(user_abi::Class::Light) => Class::Light,
        _ if !measured => Class::Unknown,
        _ if heavy => Class::Heavy,
        _ => Class::Light,
    }
}

impl<P: Platform> Kernel<P> {
    /// `program` now lives on `program.node` (started or moved there by
    /// this node): it counts there until that node's update shows it.
    pub(crate) fn placed_on(&mut self, program: ProgramView) {
        let now_ns = self.platform.nanos(self.platform.now());
        self.placed.retain(|(p, _)| p.pid != program.pid);
        if self.placed.is_full() {
            self.placed.remove(0);
        }
        let _ = self.placed.push((program, now_ns));
    }

    /// Whether `p` takes a core of this node: it is ready or running, or it
    /// is being moved here and was ready when it left (it will be within
    /// milliseconds; counting it from the start keeps the other nodes from
    /// sending a program to the core it is coming for).
    pub(crate) fn takes_core(&self, p: &crate::Process) -> bool {
        matches!(p.state, State::Ready | State::Running)
            || p.state == State::Migrating && p.parked_runnable() && self.inbound_pid() == Some(p.pid)
    }

    /// What the policy sees of this node's process `p`.
    pub(crate) fn program_view(&self, p: &crate::Process, now_ns: u64) -> ProgramView {
        let measured = p.measured(now_ns);
        ProgramView {
            pid: p.pid,
            node: self.node.id,
            class: class_of(p.class as u32, p.heavy_now(now_ns), measured),
            util: p.util_now(now_ns, self.node.capacity),
            work: p.work_ns / 1000,
            // An init never moves, and holds no core against others:
            // it starts programs and waits for them.
            pinned: p.pinned || p.node_pinned || self.node.is_init(p.pid),
            runnable: self.takes_core(p) && !self.node.is_init(p.pid),
        }
    }

    /// Fills [`Kernel::scratch`] with the machine as this node sees it.
    pub fn fill_view(&mut self) {
        let now_ns = self.platform.nanos(self.platform.now());
        let (me, capacity) = (self.node.id, self.node.capacity);
        let scratch = &mut self.scratch;
        scratch.nodes.clear();
        scratch.programs.clear();
        let _ = scratch.nodes.push(NodeView {
            node: me,
            capacity,
            measured: self.measured.0,
            cores: self.online.count_ones(),
        });
        for p in self.procs.iter().flatten() {
            let _ = self.scratch.programs.push(self.program_view(p, now_ns));
        }
        // Started or moved elsewhere lately: counted until an update shows them.
        self.placed.retain(|&(_, at)| now_ns.saturating_sub(at) < PLACED_NS);
        let scratch = &mut self.scratch;
        for n in (0..self.node.count.min(MAX_NODES as u32)).filter(|&n| n != me) {
            if let Some(v) = self.views.node(n) {
                let _ = scratch.nodes.push(NodeView {
                    node: n,
                    capacity: v.head.capacity.get(),
                    measured: v.head.measured_min.get(),
                    cores: v.head.online.get().count_ones(),
                });
                // A program that just moved here may still be in its old
                // node's last update: it counts once, where it is.
                let here = |pid: u32| self.procs.iter().flatten().any(|p| p.pid == pid);
                for r in v.programs.iter().filter(|r| !here(r.state.pid.get())) {
                    let f = r.state.flags.get();
                    let state = f & flags::STATE_MASK;
                    let _ = scratch.programs.push(ProgramView {
                        pid: r.state.pid.get(),
                        node: n,
                        class: class_of((f >> flags::CLASS_SHIFT) & 3, f & flags::HEAVY != 0, f & flags::MEASURED != 0),
                        util: r.state.util.get(),
                        work: r.state.work.get(),
                        pinned: f & (flags::CORE_PINNED | flags::NODE_PINNED) != 0
                            || self.node.is_init(r.state.pid.get()),
                        runnable: (state == user_abi::ProcessState::Ready as u32
                            || state == user_abi::ProcessState::Running as u32
                            || f & flags::ARRIVING != 0)
                            && !self.node.is_init(r.state.pid.get()),
                    });
                }
                let shown = |pid: u32| v.programs.iter().any(|r| r.state.pid.get() == pid);
                for &(p, _) in self.placed.iter().filter(|(p, _)| p.node == n && !shown(p.pid) && !here(p.pid)) {
                    let _ = scratch.programs.push(p);
                }
            } else if let Some(info) = self.nodes.get(n as usize).copied().flatten().filter(|i| i.linked != 0) {
                // Linked, but no update yet: its cores, and nothing on them.
                let _ =
                    scratch.nodes.push(NodeView { node: n, capacity: info.capacity, measured: 0, cores: info.cpus });
            }
        }
        // Calibration scores to capacities: the fastest core seen is 1024.
        let top = self.node_scores_top();
        for n in self.scratch.nodes.iter_mut() {
            n.measured = u32::try_from(u64::from(n.measured) * 1024 / top.max(1)).unwrap_or(u32::MAX);
        }
    }

    /// The highest calibration score of this node and of every node in the view.
    fn node_scores_top(&self) -> u64 {
        let others = (0..self.node.count).filter_map(|n| self.views.node(n)).map(|v| v.head.measured_max.get());
        others.chain(core::iter::once(self.measured.1)).map(u64::from).max().unwrap_or(0)
    }

    /// The node the policy puts a new program of `class` on.
    pub fn place(&mut self, class: user_abi::Class) -> Option<u32> {
        self.fill_view();
        let class = match class {
            user_abi::Class::Heavy => Class::Heavy,
            user_abi::Class::Light => Class::Light,
            user_abi::Class::Auto => Class::Unknown,
        };
        let view = View { nodes: &self.scratch.nodes, programs: &self.scratch.programs };
        self.policy.place(&view, &NewProgram { class })
    }
}
