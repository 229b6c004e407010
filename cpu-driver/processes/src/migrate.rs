//! A process leaving for another node, and arriving: everything it has as
//! plain data ([`Migrant`]: its identity, arguments, state with the time
//! left on its deadline, utilization, work, mappings, every child wherever
//! it is, and its registers including FP/SIMD), then its pages one by one.
//!
//! The source parks the process ([`Kernel::export`]: it leaves its run
//! queue and its memory stops changing), hands out its pages in address
//! order ([`Kernel::export_page`]), and once the destination has it all,
//! frees every page and the slot ([`Kernel::export_done`]) and remembers
//! where it went, to forward what still arrives for it. The destination
//! builds it parked ([`Kernel::import`], [`Kernel::import_page`]) and lets
//! it go on ([`Kernel::import_finish`]). Either side can give up
//! ([`Kernel::export_abort`], [`Kernel::import_abort`]) and lose nothing.

use crate::remote::RemoteChild;
use crate::{Kernel, Mapping, Platform, Process, Slot, State, MAX_MAPS, MAX_NODE_CPUS, MAX_PROCS};
use address_space::{Memory, Perm, UserSpace, PAGE};
use trace_ring::Kind;
use user_abi::{Error, ExitStatus, ARGS_BYTES, NAME_BYTES};
use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout};

/// Bytes of a program's registers: x0..x30, sp, elr, spsr, fpcr, fpsr, q0..q31.
pub const REGISTER_BYTES: usize = 36 * 8 + 32 * 16;

/// `Migrant::state`.
const READY: u8 = 0;
const SLEEPING: u8 = 1;
const WAITING: u8 = 2;
const RECEIVING: u8 = 3;
/// `Migrant::flags`.
const HEAVY: u8 = 1;
const CORE_PINNED: u8 = 2;
const NODE_PINNED: u8 = 4;
const KILL_PENDING: u8 = 8;
/// A child record's status while the child lives.
const ALIVE: u64 = u64::MAX;

// One bit of `Migrant::read_only_maps` per `map` area.
const _: () = assert!(crate::MAX_MAPS <= 32);

/// Everything of a process but its pages.
#[derive(Clone, Copy, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct Migrant {
    /// The state's fields: sleeping (ns left); waiting (pid, status
    /// address, for input); receiving (endpoint, address, length, ns left
    /// or `u64::MAX`).
    pub state_args: [u64; 4],
    /// Its utilization's and demand's averages, its work, CPU time and
    /// age (ns).
    pub util: u64,
    pub demand: u64,
    pub work_ns: u64,
    pub cpu_ns: u64,
    pub age_ns: u64,
    pub mapped: u64,
    pub map_next: u64,
    /// `map` areas: address and pages.
    pub maps: [[u64; 2]; MAX_MAPS],
    /// Children: `pid | node << 32`, and the exit status (`u64::MAX`: alive).
    pub children: [[u64; 2]; MAX_PROCS],
    pub pid: u32,
    pub parent: u32,
    pub args_len: u32,
    pub core: u32,
    pub migrations: u32,
    pub moves: u32,
    pub maps_len: u32,
    pub children_len: u32,
    /// Pages that follow.
    pub pages: u32,
    /// Bit `i`: `map` area `i` is read-only (backed on first touch, an
    /// area keeps its permission for the pages not backed yet).
    pub read_only_maps: u32,
    pub name: [u8; NAME_BYTES],
    pub args: [u8; ARGS_BYTES],
    pub priority: u8,
    pub class: u8,
    pub flags: u8,
    pub state: u8,
    pub registers: [u8; REGISTER_BYTES],
    pub _pad: [u8; 4],
}

impl Migrant {
    /// The children it carries: pid, node and status (`None`: alive).
    pub fn children(&self) -> impl Iterator<Item = (u32, u32, Option<ExitStatus>)> + '_ {
        self.children[..(self.children_len as usize).min(MAX_PROCS)].iter().map(|&[who, status]| {
            let status = if status == ALIVE { None } else { ExitStatus::decode(status) };
            (who as u32, (who >> 32) as u32, status)
        })
    }
}

fn perm_code(p: Perm) -> u8 {
    match p {
        Perm::Code => 0,
        Perm::ReadOnly => 1,
        Perm::ReadWrite => 2,
    }
}

/// What a page arriving for [`Kernel::import_page`] holds.
#[derive(Clone, Copy)]
pub enum PageData<'a> {
    /// Zeros (a run of them crosses as one part).
    Zeros,
    /// These bytes (a page that came in chunks).
    Bytes(&'a [u8; PAGE as usize]),
    /// Page `index` of the transfer area node `from` sends through, copied
    /// from there into the new frame.
    Area { from: u32, index: usize },
}

/// A page permission as [`Kernel::export_page`] numbers it.
pub fn perm_of(code: u8) -> Option<Perm> {
    [Perm::Code, Perm::ReadOnly, Perm::ReadWrite].get(usize::from(code)).copied()
}

impl<P: Platform> Kernel<P> {
    /// Parks `pid` for moving and describes it. A running program must
    /// stop first (`WouldBlock`); one reading the console or waiting for
    /// another node cannot move now (`NotPermitted`), nor can an `init`.
    #[inline(never)]
    pub fn export(&mut self, pid: u32) -> Result<Migrant, Error> {
        let s = self.slot_of(pid).ok_or(Error::NoSuchProcess)?;
        if self.is_init(pid) {
            return Err(Error::NotPermitted);
        }
        let now = self.platform.now();
        let left = |deadline: u64| match deadline {
            u64::MAX => u64::MAX,
            d => self.platform.nanos(d.saturating_sub(now)),
        };
        let p = self.procs[s].as_ref().ok_or(Error::NoSuchProcess)?;
        // Parked at its last stop for a move that waited for it.
        let parked_for_move = p.state == State::Migrating && p.move_pending;
        let current = if parked_for_move { p.parked.unwrap_or(State::Ready) } else { p.state };
        let (state, state_args) = match current {
            State::Ready => (READY, [0; 4]),
            State::Sleeping { deadline } => (SLEEPING, [left(deadline), 0, 0, 0]),
            State::Waiting { pid, status_va, input } => (WAITING, [u64::from(pid), status_va, u64::from(input), 0]),
            State::Receiving { endpoint, va, len, deadline } => {
                (RECEIVING, [endpoint as u64, va, len as u64, left(deadline)])
            }
            State::Running => return Err(Error::WouldBlock),
            _ => return Err(Error::NotPermitted),
        };
        let now_ns = self.platform.nanos(now);
        let flags =
            [(p.heavy, HEAVY), (p.pinned, CORE_PINNED), (p.node_pinned, NODE_PINNED), (p.kill_pending, KILL_PENDING)]
                .iter()
                .fold(0, |f, &(on, bit)| if on { f | bit } else { f });
        let mut m = Migrant::new_zeroed();
        m.state_args = state_args;
        m.util = p.util.carried(now_ns);
        m.demand = p.demand.carried(now_ns);
        m.work_ns = p.work_ns;
        m.cpu_ns = self.platform.nanos(p.cpu_ticks);
        m.age_ns = now_ns.saturating_sub(p.born_ns);
        m.mapped = p.mapped;
        m.map_next = p.map_next;
        for (i, (slot, map)) in m.maps.iter_mut().zip(p.maps.iter()).enumerate() {
            *slot = [map.va, map.pages];
            if !map.writable {
                m.read_only_maps |= 1 << i;
            }
        }
        m.maps_len = p.maps.len() as u32;
        m.pid = p.pid;
        m.parent = p.parent;
        m.args_len = p.args_len as u32;
        m.core = p.core as u32;
        m.migrations = p.migrations;
        m.moves = p.moves;
        m.name = p.name;
        m.args = p.args;
        m.priority = p.priority;
        m.class = p.class as u8;
        m.flags = flags;
        m.state = state;
        let mut pages = 0u32;
        let mut va = 0;
        while let Some((at, _, _)) = p.space.next_page(self.platform.memory(), va) {
            pages += 1;
            va = at + PAGE;
        }
        m.pages = pages;
        // Its children: here (alive or ended), and on other nodes.
        let me = self.node.id;
        let here = self.procs.iter().flatten().filter(|c| c.parent == pid).map(|c| {
            let status = match c.state {
                State::Zombie(st) => st.encode(),
                _ => ALIVE,
            };
            [u64::from(c.pid) | u64::from(me) << 32, status]
        });
        let away = self
            .remote_children
            .iter()
            .filter(|c| c.parent == pid)
            .map(|c| [u64::from(c.pid) | u64::from(c.node) << 32, c.status.map_or(ALIVE, ExitStatus::encode)]);
        for (slot, child) in m.children.iter_mut().zip(here.chain(away)) {
            *slot = child;
            m.children_len += 1;
        }
        self.platform.save_registers(s, &mut m.registers);
        // Parked: off its queue, not runnable, its memory unchanging.
        self.unqueue(s);
        if let Some(p) = self.procs[s].as_mut() {
            if !parked_for_move {
                p.parked = Some(p.state);
                p.state = State::Migrating;
            }
            p.move_pending = false;
        }
        Ok(m)
    }

    /// The first page of parked `pid` at or after `from`, copied into
    /// `out`: its address and permission ([`perm_of`] numbering).
    pub fn export_page(&self, pid: u32, from: u64, out: &mut [u8; PAGE as usize]) -> Option<(u64, u8)> {
        let (va, perm, _) = self.next_export_page(pid, from)?;
        self.copy_export_page(pid, va, out)?;
        Some((va, perm))
    }

    /// The first page of parked `pid` at or after `from`, not copied: its
    /// address, permission, and whether it holds only zeros (read in place).
    #[inline(never)]
    pub fn next_export_page(&self, pid: u32, from: u64) -> Option<(u64, u8, bool)> {
        let p = self.procs[self.slot_of(pid)?].as_ref()?;
        let mem = self.platform.memory();
        // The walk found its frame: looked at where it is, not found again.
        let (va, pa, perm) = p.space.next_page(mem, from)?;
        Some((va, perm_code(perm), mem.frame_is_zero(pa)))
    }

    /// Copies the page of parked `pid` at `va` into `out` (a transfer-area
    /// page, or a buffer to send in chunks).
    pub fn copy_export_page(&self, pid: u32, va: u64, out: &mut [u8; PAGE as usize]) -> Option<()> {
        let p = self.procs[self.slot_of(pid)?].as_ref()?;
        p.space.copy_page_out(self.platform.memory(), va, out)
    }

    /// The destination has `pid`: free every page and the slot here, and
    /// remember that it lives on node `to` now.
    pub fn export_done(&mut self, pid: u32, to: u32) {
        let Some(s) = self.slot_of(pid) else { return };
        // Killed while it moved: it ends over there.
        if self.procs[s].as_ref().is_some_and(|p| p.kill_pending) {
            let m = message::KillRequest {
                request: message::le::U32::new(0),
                pid: message::le::U32::new(pid),
                by: message::le::U32::new(0),
            };
            let _ = self.post(to, message::Message::KillRequest(m), &[]);
        }
        // Its zombies here and its records of children elsewhere went with
        // it; statuses that came while it moved follow it.
        for i in 0..MAX_PROCS {
            let ended = self.procs[i].as_ref().and_then(|c| match c.state {
                State::Zombie(status) if c.parent == pid => Some((c.pid, status)),
                _ => None,
            });
            if let Some((child, status)) = ended {
                self.procs[i] = None;
                self.send_exit(to, child, pid, status);
            }
        }
        let mut i = 0;
        while i < self.remote_children.len() {
            let c = self.remote_children[i];
            if c.parent == pid {
                if let Some(status) = c.status {
                    self.send_exit(to, c.pid, pid, status);
                }
                self.remote_children.swap_remove(i);
            } else {
                i += 1;
            }
        }
        if self.foreground == Some(pid) {
            self.foreground = None;
        }
        // A parent here now has a child elsewhere.
        let parent = self.procs[s].as_ref().map_or(0, |p| p.parent);
        if self.slot_of(parent).is_some() {
            let _ = self.remote_children.push(RemoteChild { pid, parent, node: to, status: None });
        }
        self.release_memory(s);
        self.procs[s] = None;
        self.forward(pid, to);
        self.trace(Kind::Leave, pid, |e| e.peer = to as u16);
        self.freed_core();
    }

    /// The move of `pid` failed: it goes on here as it was.
    pub fn export_abort(&mut self, pid: u32) {
        let Some(s) = self.slot_of(pid) else { return };
        self.unpark(s);
    }

    /// Makes a parked process of `m` (its pages come next).
    #[inline(never)]
    pub fn import(&mut self, m: &Migrant) -> Result<Slot, Error> {
        if self.slot_of(m.pid).is_some() {
            return Err(Error::BadArgument);
        }
        let state = match m.state {
            READY => State::Ready,
            SLEEPING => State::Sleeping { deadline: 0 },
            WAITING => {
                State::Waiting { pid: m.state_args[0] as u32, status_va: m.state_args[1], input: m.state_args[2] != 0 }
            }
            RECEIVING => State::Receiving {
                endpoint: usize::try_from(m.state_args[0]).map_err(|_| Error::BadArgument)?,
                va: m.state_args[1],
                len: usize::try_from(m.state_args[2]).map_err(|_| Error::BadArgument)?,
                deadline: 0,
            },
            _ => return Err(Error::BadArgument),
        };
        let class = user_abi::Class::from_number(u32::from(m.class)).ok_or(Error::BadArgument)?;
        let maps_len = m.maps_len as usize;
        if maps_len > MAX_MAPS || m.args_len as usize > ARGS_BYTES || m.children_len as usize > MAX_PROCS {
            return Err(Error::BadArgument);
        }
        // Areas are backed on first touch from what is said here: each
        // must lie in the map range, and all of them within the quota.
        let in_range = |&[va, pages]: &[u64; 2]| {
            let end = pages.checked_mul(PAGE).and_then(|b| va.checked_add(b));
            va % PAGE == 0 && va >= user_abi::MAP_BASE && end.is_some_and(|e| e <= user_abi::MAP_END)
        };
        let total = m.maps[..maps_len].iter().try_fold(0u64, |t, &[_, pages]| t.checked_add(pages));
        let bytes = total.and_then(|t| t.checked_mul(PAGE));
        if !m.maps[..maps_len].iter().all(in_range) || bytes.is_none_or(|b| b > user_abi::MAP_QUOTA) {
            return Err(Error::BadArgument);
        }
        let children_away = m.children().filter(|&(_, node, _)| node != self.node.id).count();
        if self.remote_children.len() + children_away > MAX_PROCS {
            return Err(Error::TooMany);
        }
        let slot = self.procs.iter().position(Option::is_none).ok_or(Error::TooMany)?;
        let platform = &self.platform;
        let asid = self.asids.take(|| platform.flush_all_asids()).ok_or(Error::TooMany)?;
        let frames = self.frames.as_mut().ok_or(Error::NoMemory)?;
        let space = match UserSpace::new(frames, self.platform.memory(), asid) {
            Ok(space) => space,
            Err(_) => {
                self.asids.give_back(asid);
                return Err(Error::NoMemory);
            }
        };
        let now_ns = self.platform.nanos(self.platform.now());
        let mut maps = heapless::Vec::new();
        for (i, &[va, pages]) in m.maps[..maps_len].iter().enumerate() {
            let _ = maps.push(Mapping { va, pages, writable: m.read_only_maps & (1 << i) == 0 });
        }
        // A core index of the old node means nothing here, unless the
        // program is pinned to it.
        let core = if m.flags & CORE_PINNED != 0 {
            (m.core as usize).min(self.cores.saturating_sub(1))
        } else {
            self.least_loaded_core()
        };
        self.procs[slot] = Some(Process {
            pid: m.pid,
            parent: m.parent,
            name: m.name,
            args: m.args,
            args_len: m.args_len as usize,
            space,
            state: State::Migrating,
            core,
            pinned: m.flags & CORE_PINNED != 0,
            priority: m.priority.min(user_abi::PRIORITIES - 1),
            cpu_ticks: self.platform.ticks_ns(m.cpu_ns),
            running_since: 0,
            slice_end: 0,
            migrations: m.migrations,
            util: crate::util::Utilization::arrived(m.util, now_ns),
            demand: crate::util::Demand::arrived(m.demand, now_ns),
            class,
            heavy: m.flags & HEAVY != 0,
            node_pinned: m.flags & NODE_PINNED != 0,
            born_ns: now_ns.saturating_sub(m.age_ns),
            work_ns: m.work_ns,
            moves: m.moves.saturating_add(1),
            arrived_ns: now_ns,
            maps,
            mapped: m.mapped,
            map_next: m.map_next,
            kill_pending: m.flags & KILL_PENDING != 0,
            parked: Some(state),
            move_pending: false,
            yield_to_waker: false,
        });
        Ok(slot)
    }

    /// One page of the process being built in `s`, written once, straight
    /// into its new frame.
    pub fn import_page(&mut self, s: Slot, va: u64, perm: u8, data: PageData<'_>) -> Result<(), Error> {
        let perm = perm_of(perm).ok_or(Error::BadArgument)?;
        let mem = self.platform.memory();
        let (Some(p), Some(frames)) = (self.procs[s].as_mut(), self.frames.as_mut()) else {
            return Err(Error::NoSuchProcess);
        };
        if p.state != State::Migrating || va >= user_abi::USER_TOP {
            return Err(Error::BadArgument);
        }
        let platform = &self.platform;
        let mapped = match data {
            PageData::Zeros => p.space.map_new(frames, mem, va, perm),
            PageData::Bytes(bytes) => p.space.map_new_filled(frames, mem, va, perm, |page| page.copy_from_slice(bytes)),
            PageData::Area { from, index } => {
                p.space.map_new_filled(frames, mem, va, perm, |page| platform.transfer_get(from, index, page))
            }
        };
        mapped.map(|_| ()).map_err(|e| match e {
            address_space::MapError::NoMemory => Error::NoMemory,
            _ => Error::BadArgument,
        })
    }

    /// The process in `s` has all it had: its registers (`m`'s), its
    /// deadlines from now, its children; it goes on.
    pub fn import_finish(&mut self, s: Slot, m: &Migrant) {
        let now = self.platform.now();
        let due = |left: u64| match left {
            u64::MAX => u64::MAX,
            ns => now.saturating_add(self.platform.ticks_ns(ns)),
        };
        let me = self.node.id;
        for (pid, node, status) in m.children() {
            if node != me {
                let _ = self.remote_children.push(RemoteChild { pid, parent: m.pid, node, status });
            }
        }
        self.forwards.retain(|&(pid, _)| pid != m.pid);
        // Back with its parent: a child here again, not elsewhere.
        self.remote_children.retain(|c| c.pid != m.pid);
        // The slot is parked: no core runs it.
        self.platform.load_registers(s, &m.registers);
        if let Some(p) = self.procs[s].as_mut() {
            p.parked = match p.parked {
                Some(State::Sleeping { .. }) => Some(State::Sleeping { deadline: due(m.state_args[0]) }),
                Some(State::Receiving { endpoint, va, len, .. }) => {
                    Some(State::Receiving { endpoint, va, len, deadline: due(m.state_args[3]) })
                }
                other => other,
            };
        }
        self.unpark(s);
    }

    /// Gives up on the process being built in `s`: every page and the slot back.
    pub fn import_abort(&mut self, s: Slot) {
        if self.procs[s].as_ref().is_some_and(|p| p.state == State::Migrating) {
            self.release_memory(s);
            self.procs[s] = None;
        }
    }

    /// Puts a parked process back in the state it was parked in. One that
    /// sleeps again (or waits with a deadline) is its core's to wake: that
    /// core is rung, so it sets its timer for the deadline (it may be idle,
    /// its timer set for its other programs only).
    fn unpark(&mut self, s: Slot) {
        let Some(p) = self.procs[s].as_mut() else { return };
        match p.parked.take() {
            Some(State::Ready) | None => self.make_ready(s, false),
            Some(state) => {
                p.state = state;
                let core = p.core.min(MAX_NODE_CPUS - 1);
                if state.deadline().is_some() && core != self.platform.this_core() {
                    self.platform.ring(self.bells[core]);
                }
            }
        }
    }

    /// Remembers that `pid` left for node `to`.
    fn forward(&mut self, pid: u32, to: u32) {
        self.forwards.retain(|&(p, _)| p != pid);
        if self.forwards.is_full() {
            self.forwards.remove(0);
        }
        let _ = self.forwards.push((pid, to));
    }
}
