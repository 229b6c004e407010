//! Processes of the whole machine. A pid is unique across nodes (node `n`
//! of `N` hands out `n + 1`, `n + 1 + N`, ...), so `init` of node `n` is
//! pid `n + 1`. A call about a process or node elsewhere (spawn there,
//! kill, send to an endpoint) becomes a request message in the outbox; the
//! caller blocks until the [`message::Reply`] comes back through the
//! monitors, or fails with `Unreachable` after [`REMOTE_TIMEOUT_NS`]. A
//! child on another node is remembered by its parent's node, which gets
//! its exit status as a [`message::ChildExit`]: so `wait` works across
//! nodes as it does within one. The child's own node keeps no zombie.
//!
//! Nothing of another node is touched: requests and answers are messages,
//! validated on arrival like every other.

use crate::{Kernel, Platform, Slot, State, MAX_PROCS};
use message::le::{U16, U32, U64};
use message::{ChildExit, EndpointSend, KillRequest, Message, Reply, SpawnRequest};
use user_abi::{Error, ExitStatus, SpawnOptions, ARGS_BYTES, NAME_BYTES};

/// Messages the outbox holds for the monitor.
pub const OUTBOX: usize = 32;
/// Bytes that may go with one message (an argument string, an endpoint message).
pub const BYTES_MAX: usize = ARGS_BYTES;
/// The request number of a request nobody waits on.
const NO_ANSWER: u32 = 0;
/// How long a call to another node waits for its answer.
pub const REMOTE_TIMEOUT_NS: u64 = 2_000_000_000;

/// A message for another node's monitor, with the bytes that go first.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub to: u32,
    pub message: Message,
    pub bytes: heapless::Vec<u8, BYTES_MAX>,
}

/// What a process blocked on another node asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteCall {
    Spawn {
        node: u32,
        foreground: bool,
    },
    Kill,
    Send,
    /// Moving a process (answered when the move is over).
    Migrate,
}

/// A child that lives on another node, as its parent's node knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteChild {
    pub pid: u32,
    pub parent: u32,
    pub node: u32,
    /// Its exit status, once it ended (a zombie until the parent waits).
    pub status: Option<ExitStatus>,
}

/// A request passed on: its answer, from `via`, goes back to `origin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relay {
    pub request: u32,
    pub origin: u32,
    pub via: u32,
}

/// Requests passed on and not yet answered that a node remembers.
pub const RELAYS: usize = 16;

/// What arrived that this node could not use (counted for `sysinfo`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemoteCounts {
    /// Answers to requests no process waits for any more (it timed out).
    pub stale_replies: u64,
    /// Exit statuses for parents that are gone.
    pub orphan_exits: u64,
    /// Requests with bytes that did not match what they announced.
    pub bad_requests: u64,
}

fn name_bytes(name: &str) -> [u8; 24] {
    let mut out = [0u8; 24];
    let n = name.len().min(24);
    out[..n].copy_from_slice(&name.as_bytes()[..n]);
    out
}

/// The [`Reply`] carrying `result` for `request`.
pub(crate) fn reply(request: u32, result: Result<u64, Error>) -> Message {
    let (error, value) = match result {
        Ok(v) => (0, v),
        Err(e) => (e as u32, 0),
    };
    Message::Reply(Reply { request: U32::new(request), error: U32::new(error), value: U64::new(value) })
}

impl<P: Platform> Kernel<P> {
    /// The pid of this node's `init`.
    pub fn init_pid(&self) -> u32 {
        self.node.id + 1
    }

    /// Whether `pid` is some node's `init` (never killed).
    pub fn is_init(&self, pid: u32) -> bool {
        self.node.is_init(pid)
    }

    /// The node `pid` lives on: this one if it is here, else where the
    /// view last saw it, else the node that started it.
    pub fn node_of(&self, pid: u32) -> u32 {
        if self.slot_of(pid).is_some() {
            return self.node.id;
        }
        if let Some(&(_, n)) = self.forwards.iter().find(|&&(p, _)| p == pid) {
            return n;
        }
        if let Some(n) = self.views.node_holding(pid) {
            return n;
        }
        pid.saturating_sub(1) % self.node.count.max(1)
    }

    /// Whether messages wait for the monitor to send them.
    pub fn has_outgoing(&self) -> bool {
        !self.outbox.is_empty()
    }

    /// The next message for the monitor to send.
    pub fn take_outgoing(&mut self) -> Option<Outgoing> {
        self.pump_move();
        self.outbox.pop_front()
    }

    /// The next message, if `fits(to, bytes)` says its link can take it
    /// now; otherwise it waits (and so do those behind it, keeping order).
    pub fn take_outgoing_if(&mut self, fits: impl Fn(u32, usize) -> bool) -> Option<Outgoing> {
        self.pump_move();
        let front = self.outbox.front()?;
        if !fits(front.to, front.bytes.len()) {
            return None;
        }
        self.outbox.pop_front()
    }

    /// Queues `message` for node `to` and wakes the monitor (on the
    /// node's first core: rung there too, since the monitor gets its core
    /// back from the programs only at a doorbell).
    pub(crate) fn post(&mut self, to: u32, message: Message, bytes: &[u8]) -> Result<(), Error> {
        let bytes = heapless::Vec::from_slice(bytes).map_err(|()| Error::TooBig)?;
        self.outbox.push_back(Outgoing { to, message, bytes }).map_err(|_| Error::TooMany)?;
        self.platform.ring(self.bells[0]);
        Ok(())
    }

    /// Whether node `to` exists and its monitor linked with this one.
    pub(crate) fn reachable(&self, to: u32) -> bool {
        to < self.node.count && self.nodes.get(to as usize).is_some_and(|n| n.is_some_and(|n| n.linked != 0))
    }

    /// A fresh request number for a call of slot `s`: the slot in the low
    /// byte (its answer finds the caller), a sequence above it, never 0
    /// ([`NO_ANSWER`]).
    pub(crate) fn new_request(&mut self, s: Slot) -> u32 {
        self.request_seq = (self.request_seq & 0x00ff_ffff) % 0x00ff_ffff + 1;
        (self.request_seq << 8) | s as u32
    }

    /// Sends `message` (made for the request number it is given) for `s`
    /// and blocks `s` until the answer, or fails at once.
    pub(crate) fn call_remote(
        &mut self,
        s: Slot,
        to: u32,
        call: RemoteCall,
        bytes: &[u8],
        message: impl FnOnce(u32) -> Message,
    ) -> Result<(), Error> {
        if !self.reachable(to) {
            return Err(Error::Unreachable);
        }
        let request = self.new_request(s);
        self.post(to, message(request), bytes)?;
        // A move takes as long as its pages do (and has its own deadline).
        let wait_ns = match call {
            RemoteCall::Migrate => 2 * crate::moving::MOVE_TIMEOUT_NS,
            _ => REMOTE_TIMEOUT_NS,
        };
        let deadline = self.platform.now().saturating_add(self.platform.ticks_ns(wait_ns));
        if let Some(p) = self.procs[s].as_mut() {
            p.state = State::Remote { request, call, deadline };
        }
        Ok(())
    }

    /// Spawns on node `to` for `s` (blocking it).
    pub(crate) fn spawn_remote(
        &mut self,
        s: Slot,
        to: u32,
        name: &str,
        args: &[u8],
        options: SpawnOptions,
    ) -> Result<(), Error> {
        let parent = self.procs[s].as_ref().ok_or(Error::NoSuchProcess)?.pid;
        if self.remote_children.is_full() {
            return Err(Error::TooMany);
        }
        if name.len() >= NAME_BYTES {
            return Err(Error::TooBig);
        }
        // Ctrl-C reaches a foreground program on another node by message.
        let foreground = options.foreground && self.node.console_input;
        let options = SpawnOptions { foreground: false, ..options };
        self.call_remote(s, to, RemoteCall::Spawn { node: to, foreground }, args, |request| {
            Message::SpawnRequest(SpawnRequest {
                request: U32::new(request),
                parent: U32::new(parent),
                options: U64::new(options.encode()),
                args_len: U16::new(args.len() as u16),
                name: name_bytes(name),
                _pad: [0; 2],
            })
        })
    }

    /// Asks the node of `pid` to end it, for `s` (blocking it).
    pub(crate) fn kill_remote(&mut self, s: Slot, pid: u32) -> Result<(), Error> {
        let by = self.procs[s].as_ref().ok_or(Error::NoSuchProcess)?.pid;
        let to = self.node_of(pid);
        if to == self.node.id {
            return Err(Error::NoSuchProcess);
        }
        self.call_remote(s, to, RemoteCall::Kill, &[], |request| {
            Message::KillRequest(KillRequest { request: U32::new(request), pid: U32::new(pid), by: U32::new(by) })
        })
    }

    /// Sends `bytes` to endpoint `endpoint` of node `to`, for `s` (blocking it).
    pub(crate) fn send_remote(&mut self, s: Slot, to: u32, endpoint: u32, bytes: &[u8]) -> Result<(), Error> {
        let from = self.procs[s].as_ref().ok_or(Error::NoSuchProcess)?.pid;
        self.call_remote(s, to, RemoteCall::Send, bytes, |request| {
            Message::EndpointSend(EndpointSend {
                request: U32::new(request),
                endpoint: U32::new(endpoint),
                len: U32::new(bytes.len() as u32),
                from: U32::new(from),
            })
        })
    }

    /// Tells the node of `parent` that its child `child` ended.
    pub(crate) fn report_exit(&mut self, child: u32, parent: u32, status: ExitStatus) {
        let to = self.node_of(parent);
        if parent == 0 || to == self.node.id {
            return;
        }
        self.send_exit(to, child, parent, status);
    }

    /// Sends `child`'s exit status to node `to`, where `parent` is.
    pub(crate) fn send_exit(&mut self, to: u32, child: u32, parent: u32, status: ExitStatus) {
        let m = Message::ChildExit(ChildExit {
            child: U32::new(child),
            parent: U32::new(parent),
            status: U64::new(status.encode()),
        });
        // A full outbox would lose the status (the parent's wait would
        // hang): counted, so it shows.
        if self.post(to, m, &[]).is_err() {
            self.remote_counts.orphan_exits += 1;
        }
    }

    /// Handles a message from node `from`'s monitor (with the bytes that
    /// came before it). Returns false for a message that is not about
    /// processes.
    pub fn on_message(&mut self, from: u32, m: &Message, bytes: &[u8]) -> bool {
        match *m {
            Message::SpawnRequest(r) => {
                let result = self.serve_spawn(&r, bytes);
                let _ = self.post(from, reply(r.request.get(), result), &[]);
            }
            Message::KillRequest(r) if self.relay(from, r.pid.get(), r.request.get(), m) => {}
            Message::KillRequest(r) => {
                let pid = r.pid.get();
                let result = match self.slot_of(pid) {
                    Some(_) => self.kill(pid).map(|()| 0),
                    None => Err(Error::NoSuchProcess),
                };
                let _ = self.post(from, reply(r.request.get(), result), &[]);
            }
            Message::EndpointSend(r) => {
                let result = if bytes.len() != r.len.get() as usize {
                    self.remote_counts.bad_requests += 1;
                    Err(Error::BadArgument)
                } else {
                    self.deliver(r.endpoint.get() as usize, bytes).map(|()| 0)
                };
                let _ = self.post(from, reply(r.request.get(), result), &[]);
            }
            Message::Reply(r) => self.on_reply(from, &r),
            Message::ChildExit(c) => {
                let status = ExitStatus::decode(c.status.get()).unwrap_or(ExitStatus::Killed);
                self.on_child_exit(c.child.get(), c.parent.get(), status);
            }
            Message::NodeState(_) | Message::ProgramState(_) | Message::ProgramName(_) => {
                let now = self.platform.now();
                let free_before = self.views.free_cores(from);
                // A core that came free there may be for a program here:
                // the policy is asked at once.
                if self.views.receive(from, m, now) && self.views.free_cores(from) > free_before {
                    self.rebalance_now(now);
                }
            }
            _ => return self.on_move_message(from, m, bytes),
        }
        true
    }

    fn serve_spawn(&mut self, r: &SpawnRequest, bytes: &[u8]) -> Result<u64, Error> {
        if bytes.len() != usize::from(r.args_len.get()) {
            self.remote_counts.bad_requests += 1;
            return Err(Error::BadArgument);
        }
        let len = r.name.iter().position(|&b| b == 0).unwrap_or(r.name.len());
        let name = core::str::from_utf8(&r.name[..len]).map_err(|_| Error::NoSuchProgram)?;
        let options = SpawnOptions::decode(r.options.get()).ok_or(Error::BadArgument)?;
        // A node the caller named pins the program here; one the policy
        // chose (no node in the options) leaves it free to move.
        if options.node.is_some_and(|n| u32::from(n) != self.node.id) {
            self.remote_counts.bad_requests += 1;
            return Err(Error::BadArgument);
        }
        let options = SpawnOptions { foreground: false, ..options };
        self.spawn(name, bytes, r.parent.get(), options).map(u64::from)
    }

    /// Ends `pid` wherever it is, for the kernel itself (Ctrl-C): no
    /// process waits for the answer.
    pub fn kill_anywhere(&mut self, pid: u32) {
        if self.slot_of(pid).is_some() {
            let _ = self.kill(pid);
            return;
        }
        let to = self.node_of(pid);
        if to != self.node.id {
            let m = KillRequest { request: U32::new(NO_ANSWER), pid: U32::new(pid), by: U32::new(0) };
            let _ = self.post(to, Message::KillRequest(m), &[]);
        }
    }

    /// Passes a request about `pid`, which left this node, on to where it
    /// went, and remembers to pass the answer back to `from`. False if
    /// `pid` is here or never left from here.
    pub(crate) fn relay(&mut self, from: u32, pid: u32, request: u32, m: &Message) -> bool {
        if self.slot_of(pid).is_some() {
            return false;
        }
        let Some(&(_, to)) = self.forwards.iter().find(|&&(p, _)| p == pid) else { return false };
        if to == from || self.post(to, *m, &[]).is_err() {
            return false;
        }
        if request != NO_ANSWER {
            if self.relays.is_full() {
                self.relays.remove(0);
            }
            let _ = self.relays.push(Relay { request, origin: from, via: to });
        }
        true
    }

    fn on_reply(&mut self, from: u32, r: &Reply) {
        let request = r.request.get();
        if request == NO_ANSWER {
            return;
        }
        // The answer to a request this node passed on.
        if let Some(i) = self.relays.iter().position(|x| x.request == request && x.via == from) {
            let relay = self.relays.remove(i);
            let _ = self.post(relay.origin, Message::Reply(*r), &[]);
            return;
        }
        let s = (request & 0xff) as Slot;
        let call = match self.procs.get(s).and_then(|p| p.as_ref()).map(|p| p.state) {
            Some(State::Remote { request: want, call, .. }) if want == request => call,
            _ => {
                self.remote_counts.stale_replies += 1;
                return;
            }
        };
        let result = match r.error.get() {
            0 => Ok(r.value.get()),
            e => Err(Error::from_number(u64::from(e)).unwrap_or(Error::Unreachable)),
        };
        if let (RemoteCall::Spawn { node, foreground }, Ok(pid)) = (call, result) {
            let parent = self.procs[s].as_ref().map_or(0, |p| p.pid);
            let child = RemoteChild { pid: pid as u32, parent, node, status: None };
            let _ = self.remote_children.push(child);
            // Not measured yet, and about to run.
            let program = placement::ProgramView {
                pid: pid as u32,
                node,
                class: placement::Class::Unknown,
                util: 0,
                work: 0,
                pinned: false,
                runnable: true,
            };
            self.placed_on(program);
            if foreground {
                self.foreground = Some(pid as u32);
            }
        }
        self.resume(s, result);
    }

    fn on_child_exit(&mut self, child: u32, parent: u32, status: ExitStatus) {
        if self.foreground == Some(child) {
            self.foreground = None;
        }
        // The parent moved on: the status follows it.
        if self.slot_of(parent).is_none() {
            if let Some(&(_, to)) = self.forwards.iter().find(|&&(p, _)| p == parent) {
                return self.send_exit(to, child, parent, status);
            }
        }
        let Some(i) = self.remote_children.iter().position(|c| c.pid == child && c.parent == parent) else {
            self.remote_counts.orphan_exits += 1;
            return;
        };
        let Some(w) = self.slot_of(parent) else {
            self.remote_children.swap_remove(i);
            self.remote_counts.orphan_exits += 1;
            return;
        };
        let waiting = matches!(self.procs[w].as_ref().map(|p| p.state), Some(State::Waiting { pid, .. }) if pid == 0 || pid == child);
        if waiting {
            self.remote_children.swap_remove(i);
            self.deliver_status(w, child, status);
        } else {
            self.remote_children[i].status = Some(status);
        }
    }

    /// Forgets the remote children of `pid`, which ended: their nodes'
    /// reports will find no parent.
    pub(crate) fn drop_remote_children(&mut self, pid: u32) {
        self.remote_children.retain(|c| c.parent != pid);
    }

    /// Live process slots plus the remote children known here: for tests
    /// that everything is given back.
    pub fn remote_children(&self) -> &[RemoteChild] {
        &self.remote_children
    }
}

const _: () = assert!(MAX_PROCS <= 256, "request numbers keep the slot in 8 bits");
