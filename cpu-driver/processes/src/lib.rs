//! The processes of one node: one EL0 program each, in its own address
//! space. The process table, each process's state machine (ready, running,
//! blocked on sleep, wait, receive or read, zombie, reaped), spawn, exit,
//! wait and kill, the endpoints and the system calls; every state change is
//! made here. What only hardware does (time, doorbells, TLBs, translation
//! roots, registers, the console) it asks of its [`Platform`], so all of it
//! is tested on the host.
//!
//! The CPU driver keeps one [`Kernel`] per node behind the node's lock
//! (nodes share nothing, so this lock is never taken by another node's
//! cores). A program's registers stay with the CPU driver: the core that
//! runs a program owns them while it runs, without the lock.

#![no_std]

pub mod asid;
mod endpoint;
pub mod migrate;
pub mod moving;
pub mod place;
mod platform;
pub mod rebalance;
pub mod remote;
mod run;
pub mod syscall;
pub mod util;
pub mod view;

use address_space::{Frames, Perm, UserSpace};
use handoff::{MAX_NODES, MAX_NODE_CPUS};
use run_queues::RunQueues;
use trace_ring::{Event, Kind};
use user_abi::{ExitStatus, Fault, NodeInfo, ProcessState, ARGS_BYTES, NAME_BYTES, PRIORITIES};

pub use migrate::{Migrant, PageData, REGISTER_BYTES};
pub use platform::{InputLost, MessageCounts, NodeFacts, Platform};
pub use remote::{Outgoing, RemoteChild, RemoteCounts};
pub use run::Next;
pub use syscall::{handle, CallArgs, Outcome, WRITE_MAX};
pub use view::{ViewCounts, Views};

/// Most processes one node holds (zombies included).
pub const MAX_PROCS: usize = 64;
/// Mappings one process may hold.
const MAX_MAPS: usize = 32;

/// A process slot's index.
pub type Slot = usize;

/// What a process is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Ready,
    Running,
    Sleeping {
        deadline: u64,
    },
    /// In `wait` for `pid` (0: any child), status to `status_va`; with
    /// `input`, console input ends the wait too.
    Waiting {
        pid: u32,
        status_va: u64,
        input: bool,
    },
    Receiving {
        endpoint: usize,
        va: u64,
        len: usize,
        deadline: u64,
    },
    Reading {
        va: u64,
        len: usize,
    },
    /// Parked while it moves to or from another node (its state before
    /// is in `Process::parked`).
    Migrating,
    /// Waiting for another node to answer `request`.
    Remote {
        request: u32,
        call: remote::RemoteCall,
        deadline: u64,
    },
    Zombie(ExitStatus),
}

impl State {
    fn abi(self) -> ProcessState {
        match self {
            State::Ready => ProcessState::Ready,
            State::Running => ProcessState::Running,
            State::Sleeping { .. } => ProcessState::Sleeping,
            State::Waiting { .. } => ProcessState::Waiting,
            State::Receiving { .. } => ProcessState::Receiving,
            State::Reading { .. } => ProcessState::Reading,
            State::Remote { .. } | State::Migrating => ProcessState::Waiting,
            State::Zombie(_) => ProcessState::Zombie,
        }
    }

    /// The counter value at which a blocked process gives up, if any.
    pub(crate) fn deadline(self) -> Option<u64> {
        match self {
            State::Sleeping { deadline } | State::Receiving { deadline, .. } | State::Remote { deadline, .. } => {
                Some(deadline)
            }
            _ => None,
        }
    }
}

/// A program's stack, backed page by page on first touch
/// ([`Kernel::back_on_touch`]).
const STACK: core::ops::Range<u64> = user_abi::STACK_TOP - user_abi::STACK_SIZE..user_abi::STACK_TOP;

/// What a program's touch of an unmapped page was ([`Kernel::first_touch`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Touched {
    /// Neither its stack nor a `map` area: a fault.
    Elsewhere,
    /// A page of one, backed now.
    Backed,
    /// A page of one, but the node has no free frame for it.
    NoMemory,
}

/// One `map` area, backed page by page on first touch like the stack.
#[derive(Debug, Clone, Copy)]
struct Mapping {
    va: u64,
    pages: u64,
    writable: bool,
}

pub struct Process {
    pub pid: u32,
    pub parent: u32,
    pub name: [u8; NAME_BYTES],
    args: [u8; ARGS_BYTES],
    args_len: usize,
    space: UserSpace,
    pub state: State,
    /// The core it runs on, is queued on or last ran on.
    pub core: usize,
    pub pinned: bool,
    pub priority: u8,
    /// CPU time used up to `running_since` (counter ticks).
    pub cpu_ticks: u64,
    /// While it runs: when its CPU time was last added up.
    pub running_since: u64,
    /// When its slice ends (counter ticks; 0: none begun). It survives a
    /// stop that leaves it at the head of its queue (an interrupt, say the
    /// monitor's turn on the core), so a program on the monitor's core
    /// does not start a fresh slice on every doorbell and starve the
    /// others queued there.
    pub slice_end: u64,
    /// Times another core of the node took it over.
    pub migrations: u32,
    /// How much of a core it uses (see [`util`]).
    pub util: util::Utilization,
    /// How much of the time it wants a core (ready or running, at 1024
    /// whatever the core): what its class is measured by, since a program
    /// that shares a core uses only part of it however much it wants.
    pub demand: util::Demand,
    /// The class it was spawned with, and whether it counts as heavy now.
    pub class: user_abi::Class,
    pub heavy: bool,
    /// Spawned for one node (`run@N=`, `run -n N`): never moved off it.
    pub node_pinned: bool,
    /// When it was spawned (ns).
    pub born_ns: u64,
    /// Its work: CPU time times the capacity it ran at, in ns of a 1024 core.
    pub work_ns: u64,
    /// Times it moved to another node.
    pub moves: u32,
    /// When it came to this node (spawned or moved in, ns).
    pub arrived_ns: u64,
    maps: heapless::Vec<Mapping, MAX_MAPS>,
    mapped: u64,
    map_next: u64,
    /// Another core asked for it to end while it ran.
    kill_pending: bool,
    /// While it migrates: the state it goes on in.
    parked: Option<State>,
    /// A move to another node waits for it to stop.
    move_pending: bool,
    /// A light program woke up on its core while it ran: it goes to the
    /// back of the queue at its next stop, which comes at once.
    yield_to_waker: bool,
}

impl Process {
    pub fn name(&self) -> &str {
        user_abi::name_str(&self.name)
    }

    /// Whether it was parked for a move from a state that takes a core
    /// (ready or running): where it goes, it takes one.
    pub(crate) fn parked_runnable(&self) -> bool {
        matches!(self.parked, Some(State::Ready | State::Running))
    }

    /// Whether it was asked to end while it ran (and has not yet).
    pub fn kill_pending(&self) -> bool {
        self.kill_pending
    }

    /// Whether its class is settled at `now_ns`: given at spawn, or `auto`
    /// and old enough (two of its demand's half-lives) for its demand to
    /// mean something.
    pub fn measured(&self, now_ns: u64) -> bool {
        self.class != user_abi::Class::Auto || now_ns.saturating_sub(self.born_ns) >= 2 * util::DEMAND_HALF_LIFE_NS
    }

    /// Whether it counts as heavy at `now_ns`: its demand as of now (a
    /// program blocked since its last stop has been wanting less ever
    /// since), with the hysteresis of [`util::classify`].
    pub fn heavy_now(&self, now_ns: u64) -> bool {
        let mut d = self.demand;
        d.update(now_ns, matches!(self.state, State::Ready | State::Running).then_some(util::FULL));
        util::classify(self.class, self.heavy, d.value())
    }

    /// Its utilization at `now_ns`: still rising while it runs (on a core
    /// of `capacity`), fading while not.
    pub fn util_now(&self, now_ns: u64, capacity: u32) -> u32 {
        let mut u = self.util;
        u.update(now_ns, (self.state == State::Running).then_some(capacity));
        u.value()
    }
}

/// Kernel-wide counters `sysinfo` reports.
#[derive(Default, Clone, Copy)]
pub struct Stats {
    pub calls: u64,
    pub failed_calls: u64,
    pub faults: u64,
}

/// Everything the node knows about its processes.
pub struct Kernel<P: Platform> {
    platform: P,
    pub node: NodeFacts,
    pub frames: Option<Frames>,
    pub procs: [Option<Process>; MAX_PROCS],
    queues: RunQueues<MAX_NODE_CPUS, { PRIORITIES as usize }, MAX_PROCS>,
    pub running: [Option<Slot>; MAX_NODE_CPUS],
    /// Doorbell target of each core.
    pub bells: [u64; MAX_NODE_CPUS],
    /// Bit per core that is up and running its scheduler: the node's one
    /// bitmap of online cores.
    pub online: u32,
    pub cores: usize,
    pub asids: asid::Asids,
    next_pid: u32,
    endpoints: endpoint::Endpoints,
    /// The console's foreground program (Ctrl-C ends it).
    pub foreground: Option<u32>,
    /// What the node's monitor counted, as it last said.
    pub messages: MessageCounts,
    pub stats: Stats,
    /// Every node as the monitor learned it (this one included).
    pub nodes: [Option<NodeInfo>; MAX_NODES],
    /// Spaces of ended programs waiting for every core to unload them.
    retired: heapless::Vec<UserSpace, MAX_PROCS>,
    /// Messages for other nodes, for the monitor to send.
    outbox: heapless::Deque<remote::Outgoing, { remote::OUTBOX }>,
    request_seq: u32,
    remote_children: heapless::Vec<remote::RemoteChild, MAX_PROCS>,
    pub remote_counts: remote::RemoteCounts,
    /// Every other node as its monitor last told.
    pub views: view::Views,
    view_version: u32,
    /// The programs and states the last update described.
    view_digest: u64,
    /// A core was freed (a program ended or left) since the last update.
    core_freed: bool,
    /// The calibration scores (work per second) of this node's slowest and
    /// fastest core, as the view carries them to the other nodes (set once
    /// the cores are up; 0 until then).
    pub measured: (u32, u32),
    /// Where programs go (bootarg `sched=`).
    pub policy: placement::Chosen,
    /// The policy's view, rebuilt for each decision.
    pub scratch: place::Scratch,
    /// Programs this node started on others, until their updates show them.
    placed: place::Placed,
    /// Processes that left this node, and for where (the newest kept).
    forwards: heapless::Vec<(u32, u32), MAX_PROCS>,
    /// Requests passed on to where their process went.
    relays: heapless::Vec<remote::Relay, { remote::RELAYS }>,
    /// The move leaving this node, and the one arriving.
    outbound: Option<moving::Outbound>,
    inbound: Option<moving::Inbound>,
    /// The policy's moves: when it is next asked, what it did.
    pub rebalance: rebalance::Rebalance,
}

/// Why a spawn failed.
pub type SpawnError = user_abi::Error;

impl<P: Platform> Kernel<P> {
    /// An empty kernel (a `static`'s initial value), given RAM and cores by
    /// [`Kernel::init`].
    pub const fn new(platform: P) -> Self {
        Kernel {
            platform,
            node: NodeFacts { id: 0, count: 1, console_node: 0, console_input: false, capacity: 1024 },
            frames: None,
            procs: [const { None }; MAX_PROCS],
            queues: RunQueues::new(),
            running: [None; MAX_NODE_CPUS],
            bells: [0; MAX_NODE_CPUS],
            online: 0,
            cores: 1,
            asids: asid::Asids::new(),
            next_pid: 1,
            endpoints: endpoint::Endpoints::new(),
            foreground: None,
            messages: MessageCounts { dropped: 0, rejected: 0, unexpected: 0, corrupt_slots: 0 },
            stats: Stats { calls: 0, failed_calls: 0, faults: 0 },
            nodes: [None; MAX_NODES],
            retired: heapless::Vec::new(),
            outbox: heapless::Deque::new(),
            request_seq: 0,
            remote_children: heapless::Vec::new(),
            remote_counts: remote::RemoteCounts { stale_replies: 0, orphan_exits: 0, bad_requests: 0 },
            views: view::Views::new(),
            view_version: 0,
            view_digest: 0,
            core_freed: false,
            measured: (0, 0),
            placed: heapless::Vec::new(),
            policy: placement::Chosen::Capacity(placement::Capacity::DEFAULT),
            scratch: place::Scratch::new(),
            forwards: heapless::Vec::new(),
            relays: heapless::Vec::new(),
            outbound: None,
            inbound: None,
            rebalance: rebalance::Rebalance::new(),
        }
    }

    /// Gives the kernel its platform, the node's facts, the physical range
    /// of RAM its programs' pages come from, and its number of cores.
    pub fn init(&mut self, platform: P, node: NodeFacts, ram_pa: u64, ram_size: u64, cores: usize) {
        self.platform = platform;
        self.node = node;
        self.cores = cores.clamp(1, MAX_NODE_CPUS);
        self.frames = Some(Frames::new(ram_pa, ram_size));
        // Pids are the machine's: node n of N hands out n+1, n+1+N, ...
        self.next_pid = node.id + 1;
        self.measured = (0, 0);
    }

    pub fn platform(&self) -> &P {
        &self.platform
    }

    /// Records a trace event of `kind` for `pid`, stamped now.
    fn trace(&self, kind: Kind, pid: u32, fill: impl FnOnce(&mut Event)) {
        let mut e = Event::new(kind, self.platform.now(), pid);
        fill(&mut e);
        self.platform.trace(e);
    }

    fn slot_of(&self, pid: u32) -> Option<Slot> {
        self.procs.iter().position(|p| p.as_ref().is_some_and(|p| p.pid == pid))
    }

    pub fn live_processes(&self) -> usize {
        self.procs.iter().filter(|p| p.is_some()).count()
    }

    /// Starts program `name` of the boot image as a child of `parent`.
    pub fn spawn(
        &mut self,
        name: &str,
        args: &[u8],
        parent: u32,
        options: user_abi::SpawnOptions,
    ) -> Result<u32, SpawnError> {
        use user_abi::Error;
        let file = self.platform.program(name).ok_or(Error::NoSuchProgram)?;
        if name.len() >= NAME_BYTES {
            return Err(Error::TooBig);
        }
        if args.len() > ARGS_BYTES {
            return Err(Error::TooBig);
        }
        if options.core.is_some_and(|c| usize::from(c) >= self.cores.min(32) || self.online & (1 << c) == 0) {
            return Err(Error::BadArgument);
        }
        let slot = self.procs.iter().position(Option::is_none).ok_or(Error::TooMany)?;
        let platform = &self.platform;
        let asid = self.asids.take(|| platform.flush_all_asids()).ok_or(Error::TooMany)?;
        let Some(frames) = self.frames.as_mut() else { return Err(Error::NoMemory) };
        let loaded = match address_space::program::load(frames, self.platform.memory(), asid, file) {
            Ok(l) => l,
            Err(e) => {
                self.asids.give_back(asid);
                return Err(match e {
                    address_space::program::LoadError::NoMemory => Error::NoMemory,
                    address_space::program::LoadError::BadFile(_) => Error::NoSuchProgram,
                });
            }
        };
        let pid = self.next_pid;
        self.next_pid = match self.next_pid.checked_add(self.node.count.max(1)) {
            Some(next) => next,
            None => self.node.id + 1,
        };
        self.trace(Kind::Spawn, pid, |e| {
            e.arg = u64::from(parent);
            let n = name.len().min(trace_ring::NAME_BYTES);
            e.name[..n].copy_from_slice(&name.as_bytes()[..n]);
        });
        let mut p = Process {
            pid,
            parent,
            name: [0; NAME_BYTES],
            args: [0; ARGS_BYTES],
            args_len: args.len(),
            space: loaded.space,
            state: State::Ready,
            core: 0,
            pinned: options.core.is_some(),
            priority: options.priority.unwrap_or(user_abi::DEFAULT_PRIORITY),
            cpu_ticks: 0,
            running_since: 0,
            slice_end: 0,
            migrations: 0,
            util: util::Utilization::new(self.platform.nanos(self.platform.now())),
            demand: util::Demand::new(self.platform.nanos(self.platform.now())),
            class: options.class,
            heavy: options.class == user_abi::Class::Heavy,
            node_pinned: options.node.is_some(),
            born_ns: self.platform.nanos(self.platform.now()),
            work_ns: 0,
            moves: 0,
            arrived_ns: self.platform.nanos(self.platform.now()),
            yield_to_waker: false,
            maps: heapless::Vec::new(),
            mapped: 0,
            map_next: user_abi::MAP_BASE,
            kill_pending: false,
            parked: None,
            move_pending: false,
        };
        p.name[..name.len()].copy_from_slice(name.as_bytes());
        p.args[..args.len()].copy_from_slice(args);
        p.core = match options.core {
            Some(c) => usize::from(c),
            None => self.least_loaded_core(),
        };
        // The slot is free (no process), so no core runs it.
        self.platform.start(slot, loaded.entry, user_abi::STACK_TOP);
        self.procs[slot] = Some(p);
        if options.foreground {
            self.foreground = Some(pid);
        }
        self.make_ready(slot, false);
        Ok(pid)
    }

    fn least_loaded_core(&self) -> usize {
        (0..self.cores.clamp(1, MAX_NODE_CPUS))
            .filter(|&c| self.online & (1 << c) != 0)
            .min_by_key(|&c| self.queues.waiting(c) + usize::from(self.running[c].is_some()))
            .unwrap_or(0)
    }

    /// Queues a process on its core and wakes that core.
    pub fn make_ready(&mut self, s: Slot, at_head: bool) {
        let now_ns = self.platform.nanos(self.platform.now());
        let Some(p) = self.procs[s].as_mut() else { return };
        // Until now it was blocked (or was just stopped and accounted).
        p.demand.update(now_ns, None);
        p.state = State::Ready;
        let (mut core, pinned, priority) = (p.core.min(MAX_NODE_CPUS - 1), p.pinned, p.priority);
        // It would wait (its core runs or has queued another): an idle
        // core of the node takes it now, rather than when it next wakes up
        // for something else (an idle core sleeps until rung).
        if !pinned && (self.running[core].is_some() || self.queues.waiting(core) > 0) {
            let idle = (0..self.cores.min(MAX_NODE_CPUS))
                .find(|&c| self.online & (1 << c) != 0 && self.running[c].is_none() && self.queues.waiting(c) == 0);
            if let Some(idle) = idle {
                self.move_to(s, idle);
                core = idle;
            }
        }
        self.queues.push(core, priority, s, at_head);
        if core != self.platform.this_core() {
            self.platform.ring(self.bells[core]);
        }
    }

    /// Moves `s` to core `to` of the node, counting and tracing the move.
    fn move_to(&mut self, s: Slot, to: usize) {
        let Some(p) = self.procs[s].as_mut() else { return };
        let (pid, from) = (p.pid, p.core);
        p.core = to;
        p.migrations = p.migrations.saturating_add(1);
        self.trace(Kind::Move, pid, |e| {
            e.arg = from as u64;
            e.peer = to as u16;
        });
    }

    /// The next process for `core`: its own queues by priority, else one
    /// taken from another core of the node (never a pinned one).
    pub fn pick(&mut self, core: usize) -> Option<Slot> {
        let procs = &self.procs;
        let (s, from) = self.queues.pick(core, self.cores, |s| procs[s].as_ref().is_some_and(|p| !p.pinned))?;
        if from != core {
            self.move_to(s, core);
        }
        Some(s)
    }

    /// Whether a program waits to run on `core` (its own queue; a sibling's
    /// unpinned ones would be taken too, but those cores are busy anyway).
    pub fn waiting(&self, core: usize) -> bool {
        self.queues.waiting(core) > 0
    }

    /// Whether `core` should stop running `s` at its next chance: it was
    /// asked to end, or a program of higher priority waits for the core.
    pub fn more_urgent(&self, core: usize, s: Slot) -> bool {
        let Some(p) = self.procs[s].as_ref() else { return true };
        p.kill_pending
            || p.move_pending
            || p.yield_to_waker
            || p.state != State::Running
            || self.queues.higher_waiting(core, p.priority)
    }

    /// Removes `s` from whatever run queue holds it.
    fn unqueue(&mut self, s: Slot) {
        self.queues.remove(s);
    }

    /// Wakes every blocked process whose deadline passed (and gives up
    /// moves past theirs).
    pub fn wake_expired(&mut self, now: u64) {
        self.expire_moves(now);
        for s in 0..MAX_PROCS {
            let Some(p) = self.procs[s].as_ref() else { continue };
            match p.state {
                State::Sleeping { deadline } if now >= deadline => self.resume(s, Ok(0)),
                State::Receiving { deadline, .. } if now >= deadline => self.resume(s, Err(user_abi::Error::TimedOut)),
                State::Remote { deadline, .. } if now >= deadline => self.resume(s, Err(user_abi::Error::Unreachable)),
                _ => {}
            }
        }
    }

    /// The earliest deadline of a process blocked on `core`.
    pub fn next_deadline(&self, core: usize) -> u64 {
        self.procs
            .iter()
            .flatten()
            .filter(|p| p.core == core)
            .filter_map(|p| p.state.deadline())
            .min()
            .unwrap_or(u64::MAX)
    }

    /// Ends a blocked call of `s` with `result` and makes it ready.
    pub fn resume(&mut self, s: Slot, result: Result<u64, user_abi::Error>) {
        // `s` is blocked (not Running): no core runs it.
        self.platform.set_result(s, user_abi::encode_result(result));
        if let Some(p) = self.procs[s].as_ref() {
            self.trace(Kind::Wake, p.pid, |_| {});
        }
        // A light program gets its core back at once when it wakes: it
        // uses little of it, and its latency is what it is measured by.
        let light = self.procs[s].as_ref().is_some_and(|p| !p.heavy);
        self.make_ready(s, light);
        let core = self.procs[s].as_ref().map_or(0, |p| p.core);
        let running = self.running.get(core).copied().flatten().filter(|&r| r != s);
        if let Some(p) = running.filter(|_| light).and_then(|r| self.procs[r].as_mut()) {
            p.yield_to_waker = true;
        }
    }

    /// Ends process `s` with `status`: frees its memory, hands its status
    /// to a waiting parent or keeps it as a zombie.
    pub fn exit(&mut self, s: Slot, status: ExitStatus) {
        let Some(p) = self.procs[s].as_mut() else { return };
        let (pid, parent) = (p.pid, p.parent);
        self.trace(Kind::Exit, pid, |e| e.arg = status.encode());
        self.unqueue(s);
        self.release_memory(s);
        if self.foreground == Some(pid) {
            self.foreground = None;
        }
        // Orphans: nobody will wait for them, so they are reaped when they
        // end, and those that already ended are reaped now.
        for c in self.procs.iter_mut().filter(|c| c.as_ref().is_some_and(|c| c.parent == pid)) {
            if matches!(c.as_ref().map(|c| c.state), Some(State::Zombie(_))) {
                *c = None;
            } else if let Some(c) = c.as_mut() {
                c.parent = 0;
            }
        }
        self.drop_remote_children(pid);
        self.freed_core();
        if pid == self.init_pid() {
            self.platform.init_ended(status);
            // The node's first core runs the monitor, which reports it.
            self.platform.ring(self.bells[0]);
        }
        let parent_slot = self.slot_of(parent);
        let waiting = |w: Slot| matches!(self.procs[w].as_ref().map(|p| p.state), Some(State::Waiting { pid: want, .. }) if want == 0 || want == pid);
        if let Some(w) = parent_slot.filter(|&w| waiting(w)) {
            self.procs[s] = None;
            self.deliver_status(w, pid, status);
        } else if parent_slot.is_some() {
            if let Some(p) = self.procs[s].as_mut() {
                p.state = State::Zombie(status);
            }
        } else {
            // A parent on another node keeps the zombie there.
            self.procs[s] = None;
            self.report_exit(pid, parent, status);
        }
    }

    /// Completes a parent's `wait` with its child's status.
    fn deliver_status(&mut self, parent: Slot, child: u32, status: ExitStatus) {
        let Some(State::Waiting { status_va, .. }) = self.procs[parent].as_ref().map(|p| p.state) else { return };
        let result = self.write_status(parent, status_va, status).map(|()| u64::from(child));
        self.resume(parent, result);
    }

    fn write_status(&self, s: Slot, va: u64, status: ExitStatus) -> Result<(), user_abi::Error> {
        if va == 0 {
            return Ok(());
        }
        self.copy_out(s, va, &status.encode().to_le_bytes())
    }

    fn space_of(&self, s: Slot) -> Result<&UserSpace, user_abi::Error> {
        self.procs[s].as_ref().map(|p| &p.space).ok_or(user_abi::Error::NoSuchProcess)
    }

    /// Copies `out.len()` bytes from address `va` of program `s`.
    pub fn copy_in(&self, s: Slot, va: u64, out: &mut [u8]) -> Result<(), user_abi::Error> {
        self.space_of(s)?.copy_in(self.platform.memory(), va, out).map_err(|_| user_abi::Error::BadPointer)
    }

    /// Copies `bytes` to address `va` of program `s`, which must be writable.
    pub fn copy_out(&self, s: Slot, va: u64, bytes: &[u8]) -> Result<(), user_abi::Error> {
        self.space_of(s)?.copy_out(self.platform.memory(), va, bytes).map_err(|_| user_abi::Error::BadPointer)
    }

    /// Checks that program `s` maps `[va, va + len)` (writable if `write`),
    /// backing what it may back first ([`Kernel::back_on_touch`]).
    pub fn check_user(&mut self, s: Slot, va: u64, len: usize, write: bool) -> Result<(), user_abi::Error> {
        self.back_on_touch(s, va, len)?;
        self.space_of(s)?.check(self.platform.memory(), va, len, write).map_err(|_| user_abi::Error::BadPointer)
    }

    /// Backs with zeroed frames the pages of program `s`'s stack and `map`
    /// areas that `[va, va + len)` covers and nothing backs yet. Both are
    /// backed on first touch (the loader maps only the stack's top page,
    /// `map` only reserves): a program uses a few of its stack's 64 pages
    /// and of its heap's 32, and each unbacked page is a frame less to
    /// take and zero at spawn, to free at exit and to walk when the program
    /// moves. A system call backs the buffers it is given before it reads
    /// or writes them, as the program's own first touch would
    /// ([`Kernel::first_touch`]); outside those areas this does nothing.
    pub fn back_on_touch(&mut self, s: Slot, va: u64, len: usize) -> Result<(), user_abi::Error> {
        self.back(s, va, len).map(|_| ())
    }

    /// [`Kernel::back_on_touch`]; returns how many pages it backed.
    fn back(&mut self, s: Slot, va: u64, len: usize) -> Result<u64, user_abi::Error> {
        const PAGE: u64 = address_space::PAGE;
        let end = va.saturating_add(len as u64);
        let mem = self.platform.memory();
        let (Some(p), Some(frames)) = (self.procs[s].as_mut(), self.frames.as_mut()) else {
            return Err(user_abi::Error::NoSuchProcess);
        };
        // The areas `[va, end)` overlaps, each with its permission.
        let stack = (STACK.start, STACK.end, Perm::ReadWrite);
        let maps = p.maps.iter().map(|m| {
            let perm = if m.writable { Perm::ReadWrite } else { Perm::ReadOnly };
            (m.va, m.va.saturating_add(m.pages.saturating_mul(PAGE)), perm)
        });
        let mut backed = 0;
        for (start, stop, perm) in maps.chain(core::iter::once(stack)) {
            let mut page = va.max(start) & !(PAGE - 1);
            while page < end.min(stop) {
                if p.space.translate(mem, page).is_none() {
                    p.space.map_new(frames, mem, page, perm).map_err(|_| user_abi::Error::NoMemory)?;
                    backed += 1;
                }
                page += PAGE;
            }
        }
        Ok(backed)
    }

    /// Program `s` touched `far` and found no page there: whether it was
    /// a page of its stack or of a `map` area, now backed by a zeroed frame
    /// (the program goes on at the same instruction).
    pub fn first_touch(&mut self, s: Slot, far: u64) -> Touched {
        match self.back(s, far, 1) {
            Ok(0) => Touched::Elsewhere,
            Ok(_) => Touched::Backed,
            Err(_) => Touched::NoMemory,
        }
    }

    /// Frees the address space, its ASID and TLB entries.
    fn release_memory(&mut self, s: Slot) {
        let Some(p) = self.procs[s].as_mut() else { return };
        let space = core::mem::replace(&mut p.space, UserSpace::EMPTY);
        if space.is_empty() {
            return;
        }
        self.platform.unload_root(space.ttbr0());
        match self.retired.push(space) {
            Ok(()) => self.reap_retired(),
            // Cannot happen (there are never more spaces than processes);
            // free it now rather than leak it.
            Err(space) => self.free_space(space),
        }
    }

    /// Frees every ended program's space that no core has loaded any more.
    /// Until then its tables and ASID stay reserved: a core whose TTBR0
    /// still points at them may walk them (speculatively) into its TLB.
    pub fn reap_retired(&mut self) {
        let mut i = 0;
        while i < self.retired.len() {
            if self.platform.root_loaded(self.retired[i].ttbr0()) {
                i += 1;
            } else {
                let space = self.retired.swap_remove(i);
                self.free_space(space);
            }
        }
    }

    fn free_space(&mut self, space: UserSpace) {
        let asid = space.asid();
        if let Some(frames) = self.frames.as_mut() {
            space.destroy(frames, self.platform.memory());
        }
        // No core has its root loaded; its TLB entries may linger (of
        // freed frames) until the ASID is handed out again, after a flush.
        self.asids.retire(asid);
    }

    /// Kills process `s` for a fault, with the one-line report.
    pub fn fault(&mut self, s: Slot, core: usize, fault: Fault, esr: u64, far: u64, pc: u64) {
        self.stats.faults += 1;
        if let Some(p) = self.procs[s].as_ref() {
            let node = self.node.id;
            self.platform.report(format_args!(
                "user fault: node {node} core {core} pid {} ({}): {} at {far:#x} (ESR {esr:#x}) pc {pc:#x}; killed",
                p.pid,
                p.name(),
                fault.name()
            ));
        }
        self.exit(s, ExitStatus::Faulted(fault));
    }

    /// Ends process `pid` at another's request.
    pub fn kill(&mut self, pid: u32) -> Result<(), user_abi::Error> {
        if self.is_init(pid) {
            return Err(user_abi::Error::NotPermitted);
        }
        let s = self.slot_of(pid).ok_or(user_abi::Error::NoSuchProcess)?;
        let p = self.procs[s].as_mut().ok_or(user_abi::Error::NoSuchProcess)?;
        match p.state {
            State::Zombie(_) => Err(user_abi::Error::NoSuchProcess),
            // It ends where it arrives (the flag goes with it).
            State::Migrating => {
                p.kill_pending = true;
                Ok(())
            }
            State::Running => {
                p.kill_pending = true;
                let core = p.core;
                if core != self.platform.this_core() {
                    self.platform.ring(self.bells[core]);
                }
                Ok(())
            }
            _ => {
                self.exit(s, ExitStatus::Killed);
                Ok(())
            }
        }
    }

    /// Whether `s` was asked to end while it ran.
    pub fn take_kill(&mut self, s: Slot) -> bool {
        self.procs[s].as_mut().is_some_and(|p| core::mem::take(&mut p.kill_pending))
    }

    /// TTBR0 of process `s`.
    pub fn ttbr0(&self, s: Slot) -> u64 {
        self.procs[s].as_ref().map_or(0, |p| p.space.ttbr0())
    }

    /// Hands waiting console input to the programs blocked for it: a
    /// `read` gets the bytes, a `wait` for input returns 0.
    pub fn feed_readers(&mut self) {
        for s in 0..MAX_PROCS {
            if !self.platform.input_ready() {
                return;
            }
            match self.procs[s].as_ref().map(|p| p.state) {
                Some(State::Reading { va, len }) => {
                    let result = self.take_input(s, va, len);
                    self.resume(s, result);
                }
                Some(State::Waiting { input: true, .. }) => self.resume(s, Ok(0)),
                _ => {}
            }
        }
    }

    /// Copies up to `len` bytes of console input to `va` of process `s`.
    pub fn take_input(&mut self, s: Slot, va: u64, len: usize) -> Result<u64, user_abi::Error> {
        let mut buf = [0u8; 256];
        let n = len.min(buf.len());
        let n = self.platform.read_input(&mut buf[..n]).map_err(|_| user_abi::Error::InputLost)?;
        self.copy_out(s, va, &buf[..n])?;
        Ok(n as u64)
    }

    /// Console input arrived: Ctrl-C ends the foreground program (if there
    /// is one; otherwise it is input like any other), the rest goes to
    /// whoever waits for it.
    pub fn on_input(&mut self) {
        if let Some(fg) = self.foreground {
            if self.platform.take_interrupts() {
                self.kill_anywhere(fg);
                self.foreground = None;
            }
        }
        self.feed_readers();
    }
}
