//! The monitor of one kernel node: the only code that sends and receives
//! messages between nodes.
//!
//! It opens the node's channels (one to and one from every peer), greets
//! every peer with a [`message::Hello`], and prints
//! `monitor: node N linked to M peers`. The boot node's monitor is the
//! coordinator: every other monitor tells it when it has linked, and it
//! starts the coordinated phases (the channel tests and benchmarks) with
//! [`message::TestStart`] and collects the verdicts.
//!
//! It is event driven: [`Monitor::step`] does whatever work is ready
//! without blocking; when there is none, the monitor polls briefly and then
//! sleeps ([`Platform::sleep`]) with every channel's doorbell armed, or, in
//! polling mode, for a short period. Every received frame is decoded and
//! validated; a bad one is counted on its link and dropped, and the monitor
//! goes on serving its other channels.

#![no_std]

mod coordinator;
mod link;
mod platform;
mod stream;

pub use link::{Link, BYTES_MAX};
pub use platform::{Mode, Platform, Round};
pub use stream::INJECTED;

use heapless::Vec;
use message::le::{U32, U64};
use message::{decode, Finished, Hello, Kind, Linked, Message, Payload, TestReport, TestStart, TraceDone, TraceDump};

pub use handoff::MAX_NODES;

/// `TestStart::test`: every node streams to every other.
pub const TEST_STREAMS: u32 = 1;
/// `TestStart::test`: the coordinator streams to one peer (throughput).
pub const BENCH_STREAM: u32 = 2;
/// `TestStart::test`: the coordinator pings one peer (round trip).
pub const BENCH_PING: u32 = 3;

/// What a monitor counted about its messages since boot, for the kernel to
/// report (`sysinfo`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Status {
    /// Control messages dropped because a link's outbox was full.
    pub dropped: u32,
    /// Frames that failed validation (checksum, version, kind, length...).
    pub rejected: u64,
    /// Valid messages that made no sense here (wrong sender, wrong time).
    pub unexpected: u64,
    /// Channel slots that were not even a message (overwritten sequence words).
    pub corrupt_slots: u64,
}

/// Who this node is.
#[derive(Debug, Clone, Copy)]
pub struct Identity {
    pub node: u32,
    pub nodes: u32,
    pub coordinator: u32,
    pub build: u32,
    pub capacity: u32,
    pub cpus: u32,
    /// This boot runs the coordinated channel phases (tests, benchmarks):
    /// then a node reads its non-coordinator peers' channels only in a
    /// phase, so stream data that overtakes its start message waits.
    pub channel_phases: bool,
}

/// The chunk stream whose bytes go with `m`, for the kinds that carry some.
fn stream_of(m: &Message) -> Option<u32> {
    match m {
        Message::SpawnRequest(r) => Some(r.request.get()),
        Message::EndpointSend(r) => Some(r.request.get()),
        Message::MigratePart(p) => Some(p.pid.get()),
        _ => None,
    }
}

/// How often a node sends its view to its peers, at most (microseconds):
/// a view is never older than this plus the channel's transit.
pub const VIEW_PERIOD_US: u64 = 10_000;
/// How soon after the last update one goes when the kernel says a core
/// of the node was freed (a program ended or left): the other nodes'
/// policies can fill it at once instead of up to a period later.
pub const VIEW_URGENT_US: u64 = 1_000;
/// Longest a monitor sleeps without looking at its channels (microseconds).
pub const IDLE_TICK_US: u64 = 10_000;
/// Longest a monitor polls its channels with nothing to do before it
/// sleeps and lets its core run programs (microseconds).
pub const POLL_US: u64 = 200;
/// Frames of a link's room a view update leaves to control messages.
const RESERVED_FRAMES: usize = 16;

/// The phase this node is running.
#[derive(Debug, Clone, Copy)]
struct Phase {
    test: u32,
    mode: Mode,
    deadline: u64,
}

/// One node's monitor.
pub struct Monitor<'a, P: Platform> {
    pub(crate) platform: P,
    pub(crate) me: Identity,
    pub(crate) links: Vec<Link<'a, P::Notifier>, MAX_NODES>,
    mode: Mode,
    phase: Option<Phase>,
    linked: bool,
    /// Coordinator: peers each node said it linked to.
    pub(crate) linked_reports: [Option<u32>; MAX_NODES],
    /// Coordinator: stream verdicts of the current round.
    pub(crate) reports: Vec<TestReport, { MAX_NODES * (MAX_NODES - 1) }>,
    /// The last pong's sequence number.
    pub(crate) pong: Option<u64>,
    /// Control messages dropped because a link's outbox was full.
    pub dropped: u32,
    /// Coordinator: first sequence number of the next phase's streams.
    pub(crate) next_seq: u64,
    /// Pings still to answer before a [`BENCH_PING`] phase ends.
    pings_left: u64,
    /// Coordinator: each node's finished status, once it reported.
    pub(crate) finished: [Option<u64>; MAX_NODES],
    /// Frames rejected since boot (each link's `rejects` restarts per phase).
    rejected: u64,
    /// The status last handed to the platform.
    published: Status,
    /// Coordinator: the last trace request, and who has answered it.
    trace_request: u32,
    traces_done: [Option<(u64, u64)>; MAX_NODES],
    /// When the last view update went (`None`: none yet).
    view_sent: Option<u64>,
    /// View updates not sent to a peer whose link was too full.
    pub views_skipped: u32,
    /// When the kernel said its next placement round is due.
    rebalance_next: u64,
    /// Where a step reads a batch of messages (a field, not a local: a
    /// step that finds nothing must not zero a kilobyte each time, and
    /// the monitor polls).
    frames: [[u8; message::PAYLOAD]; 16],
}

/// How long a phase may take before its streams are reported as they are.
const PHASE_TIMEOUT_S: u64 = 120;

impl<'a, P: Platform> Monitor<'a, P> {
    /// A monitor for `me` over `links` (one per peer that has channels).
    pub fn new(platform: P, me: Identity, links: Vec<Link<'a, P::Notifier>, MAX_NODES>) -> Self {
        Monitor {
            platform,
            me,
            links,
            mode: Mode::Interrupt,
            phase: None,
            linked: false,
            linked_reports: [None; MAX_NODES],
            reports: Vec::new(),
            pong: None,
            dropped: 0,
            next_seq: 0,
            pings_left: 0,
            finished: [None; MAX_NODES],
            rejected: 0,
            published: Status::default(),
            trace_request: 0,
            traces_done: [None; MAX_NODES],
            view_sent: None,
            views_skipped: 0,
            rebalance_next: u64::MAX,
            frames: [[0; message::PAYLOAD]; 16],
        }
    }

    /// The platform.
    pub fn platform(&self) -> &P {
        &self.platform
    }

    /// The links, one per peer.
    pub fn links(&self) -> &[Link<'a, P::Notifier>] {
        &self.links
    }

    /// Peers that have greeted us.
    pub fn peers_linked(&self) -> u32 {
        self.links.iter().filter(|l| l.hello.is_some()).count() as u32
    }

    pub(crate) fn is_coordinator(&self) -> bool {
        self.me.node == self.me.coordinator
    }

    pub(crate) fn ticks(&self, seconds: u64) -> u64 {
        self.platform.frequency().saturating_mul(seconds)
    }

    /// Sends `m` to `peer` (through the outbox if its ring is full).
    pub(crate) fn send(&mut self, peer: u32, m: &Message) {
        self.send_raw(peer, &m.encode());
    }

    /// Sends a raw payload to `peer`, valid or not: for tests that feed a
    /// peer garbage.
    pub fn send_raw(&mut self, peer: u32, p: &Payload) {
        let Some(link) = self.links.iter_mut().find(|l| l.peer == peer) else {
            self.dropped = self.dropped.saturating_add(1);
            return;
        };
        let seq = link.next_seq();
        if link.post_raw(p) {
            if Kind::from_u8(p[1]).is_none_or(Kind::traced) {
                self.platform.trace_message(true, peer, p[1], seq);
            }
        } else {
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    /// Coordinator: every node prints its trace (this one first), then the
    /// coordinator waits up to `timeout_s` seconds for every linked peer to
    /// say it is done, and prints one line with the totals.
    pub fn collect_traces(&mut self, timeout_s: u64) {
        self.trace_request = self.trace_request.wrapping_add(1);
        self.traces_done = [None; MAX_NODES];
        let ask = Message::TraceDump(TraceDump { request: U32::new(self.trace_request) });
        let peers: Vec<u32, MAX_NODES> = self.links.iter().filter(|l| l.hello.is_some()).map(|l| l.peer).collect();
        for &peer in &peers {
            self.send(peer, &ask);
        }
        let own = self.platform.dump_trace();
        if let Some(slot) = self.traces_done.get_mut(self.me.node as usize) {
            *slot = Some(own);
        }
        let deadline = self.platform.now().saturating_add(self.ticks(timeout_s));
        self.run_until(deadline, |m| peers.iter().all(|&p| m.traces_done.get(p as usize).is_some_and(Option::is_some)));
        let (mut nodes, mut events, mut lost) = (0, 0, 0);
        for (e, l) in self.traces_done.iter().flatten() {
            nodes += 1;
            events += e;
            lost += l;
        }
        let missing = peers.len() as u32 + 1 - nodes;
        self.platform.print(format_args!("trace: done nodes={nodes} events={events} lost={lost} missing={missing}"));
    }

    /// Greets every peer, waits up to `timeout_s` seconds for their
    /// greetings, prints the linked line and tells the coordinator.
    /// Returns the number of peers linked.
    pub fn link(&mut self, timeout_s: u64) -> u32 {
        let me = self.me;
        let hello = Message::Hello(Hello {
            node: U32::new(me.node),
            build: U32::new(me.build),
            capacity: U32::new(me.capacity),
            cpus: U32::new(me.cpus),
        });
        for i in 0..self.links.len() {
            let peer = self.links[i].peer;
            self.send(peer, &hello);
        }
        let deadline = self.platform.now().saturating_add(self.ticks(timeout_s));
        let all = self.links.len() as u32;
        self.run_until(deadline, |m| m.peers_linked() == all);
        self.linked = true;
        let peers = self.peers_linked();
        for l in self.links.iter().filter(|l| l.hello.is_none()) {
            self.platform.print(format_args!("monitor: node {}: no hello from node {}", me.node, l.peer));
        }
        self.platform.print(format_args!("monitor: node {} linked to {peers} peers", me.node));
        if self.is_coordinator() {
            if let Some(slot) = self.linked_reports.get_mut(me.node as usize) {
                *slot = Some(peers);
            }
        } else {
            let m = Message::Linked(Linked { node: U32::new(me.node), peers: U32::new(peers) });
            self.send(me.coordinator, &m);
        }
        peers
    }

    /// Reports that this node finished (its `init` ended with `status`) to
    /// the coordinator, or records it on the coordinator.
    pub fn finished(&mut self, status: u64) {
        let me = self.me;
        if self.is_coordinator() {
            if let Some(slot) = self.finished.get_mut(me.node as usize) {
                *slot = Some(status);
            }
        } else {
            let m = Message::Finished(Finished { node: U32::new(me.node), status: U64::new(status) });
            self.send(me.coordinator, &m);
        }
    }

    /// Coordinator: whether every node with a link (and this one) finished.
    pub fn all_finished(&self) -> bool {
        let me = self.me.node as usize;
        self.finished.get(me).is_some_and(Option::is_some)
            && self
                .links
                .iter()
                .all(|l| l.hello.is_none() || self.finished.get(l.peer as usize).is_some_and(Option::is_some))
    }

    /// Serves the channels for ever.
    pub fn serve(&mut self) -> ! {
        loop {
            // Sleep without a timer unless a phase has a deadline; start
            // over whenever a phase begins or ends.
            let phase = self.phase.map(|p| p.deadline);
            self.run_until(phase.unwrap_or(u64::MAX), |m| m.phase.map(|p| p.deadline) != phase);
        }
    }

    /// Runs until `done` holds or the counter passes `deadline`; returns
    /// whether `done` held.
    pub fn run_until(&mut self, deadline: u64, mut done: impl FnMut(&Self) -> bool) -> bool {
        let mut idle_spins = 0;
        // When the steps stopped finding work.
        let mut idle_since = None;
        let poll_ticks = self.platform.frequency() / 1_000_000 * POLL_US;
        loop {
            if done(self) {
                return true;
            }
            if self.step() {
                idle_spins = 0;
                idle_since = None;
                continue;
            }
            let now = self.platform.now();
            if now >= deadline {
                return false;
            }
            idle_spins += 1;
            // Poll briefly (in spins and in time: messages that come more
            // often than a spin budget must not keep the core from its
            // programs), then sleep.
            let since = *idle_since.get_or_insert(now);
            if idle_spins >= self.platform.poll_spins() || now.saturating_sub(since) >= poll_ticks {
                self.idle(deadline);
                idle_spins = 0;
                idle_since = None;
            } else {
                core::hint::spin_loop();
            }
        }
    }

    /// Sleeps until there may be work: every doorbell armed (or none, when
    /// polling), with a last look at the rings after arming.
    fn idle(&mut self, deadline: u64) {
        if self.mode == Mode::Polling {
            self.platform.sleep(Mode::Polling, deadline);
            return;
        }
        let mut pending = false;
        for i in 0..self.links.len() {
            // A channel this node is not reading yet (see `may_receive`)
            // neither wakes it nor keeps it awake.
            let reading = self.may_receive(i);
            let l = &mut self.links[i];
            if reading {
                pending |= l.rx.arm();
            }
            if l.blocked() {
                pending |= l.tx.arm();
            }
        }
        // Messages the kernel queued while a step could not take its lock:
        // sent now (those that wait for a link's room are woken by its
        // credits instead).
        if !self.links.iter().any(|l| l.waiting_for > 0) && self.platform.has_outgoing() {
            pending = true;
        }
        // A view update that is due wakes the node when it may go; and a
        // doorbell missed costs at most a tick, never a stalled link.
        // (Asked only when the update would come first: the kernel
        // computes whether its view changed.)
        let view_next = self.view_next();
        let deadline = if view_next < deadline && self.platform.view_due() { view_next } else { deadline };
        let deadline = deadline.min(self.rebalance_next);
        let tick = self.platform.now().saturating_add(self.platform.frequency() / 1_000_000 * IDLE_TICK_US);
        let deadline = deadline.min(tick);
        if !pending && !self.platform.service() {
            self.platform.sleep(Mode::Interrupt, deadline);
        }
        for l in self.links.iter() {
            l.rx.disarm();
            l.tx.disarm();
        }
    }

    /// Does all work that is ready; returns true if there was any.
    pub fn step(&mut self) -> bool {
        let mut busy = self.platform.service();
        let mut received = false;
        let me = self.me.node;
        for i in 0..self.links.len() {
            busy |= self.links[i].flush();
            busy |= self.links[i].pump_stream(me);
            if !self.may_receive(i) {
                continue;
            }
            // The channel's sequence numbers (exact unless a slot was
            // corrupt, which also takes a number).
            let first = self.links[i].rx.received();
            let n = self.links[i].rx.recv_batch(&mut self.frames);
            let peer = self.links[i].peer;
            for k in 0..n {
                let p = self.frames[k];
                if Kind::from_u8(p[1]).is_none_or(Kind::traced) {
                    self.platform.trace_message(false, peer, p[1], first + k as u64);
                }
                self.handle(i, &p);
            }
            received |= n > 0;
        }
        busy |= received;
        busy |= self.send_outgoing();
        busy |= self.send_view();
        busy |= self.rebalance(received);
        self.check_phase();
        // The counters move only when a step did something (a drop while
        // sending outside a step is published with the next busy one), so
        // an idle poll does not add them up.
        if busy {
            let status = self.status();
            if status != self.published {
                self.platform.publish_status(&status);
                self.published = status;
            }
        }
        busy
    }

    /// Sends the kernel's messages for other nodes, each with its bytes
    /// first as chunks, while their links have room.
    fn send_outgoing(&mut self) -> bool {
        let mut bytes = [0u8; BYTES_MAX];
        let mut sent = false;
        loop {
            let mut rooms = [usize::MAX; MAX_NODES];
            for l in self.links.iter_mut() {
                if let Some(r) = rooms.get_mut(l.peer as usize) {
                    *r = l.room();
                }
            }
            // No link: usize::MAX, so it is taken and dropped (counted) by
            // `send`, not left to block the rest.
            let refused = core::cell::Cell::new(None);
            let room = |to: u32, len: usize| {
                let frames = len.div_ceil(message::CHUNK_BYTES) + 1;
                let fits = rooms.get(to as usize).is_none_or(|&r| r >= frames);
                if !fits {
                    refused.set(Some((to, frames)));
                }
                fits
            };
            let taken = self.platform.take_outgoing(&mut bytes, &room);
            // The next message waits for room: that link's credits must
            // wake this monitor when they come back.
            for l in self.links.iter_mut() {
                l.waiting_for = match refused.get() {
                    Some((to, frames)) if to == l.peer => frames,
                    _ => 0,
                };
            }
            let Some((to, m, len)) = taken else { return sent };
            let stream = stream_of(&m).unwrap_or(0);
            for (i, part) in bytes[..len].chunks(message::CHUNK_BYTES).enumerate() {
                let mut data = [0u8; message::CHUNK_BYTES];
                data[..part.len()].copy_from_slice(part);
                let chunk = message::Chunk {
                    stream: U32::new(stream),
                    offset: message::le::U16::new((i * message::CHUNK_BYTES) as u16),
                    len: message::le::U16::new(part.len() as u16),
                    data,
                };
                self.send(to, &Message::Chunk(chunk));
            }
            self.send(to, &m);
            sent = true;
        }
    }

    /// Lets the kernel's placement policy move programs when the kernel
    /// said a round is due, or after messages came (one may have ended a
    /// move, or brought a program): not on every poll, the kernel's lock
    /// is its programs' too.
    fn rebalance(&mut self, received: bool) -> bool {
        if !self.linked || (!received && self.platform.now() < self.rebalance_next) {
            return false;
        }
        let round = self.platform.rebalance();
        self.rebalance_next = round.next_at;
        round.started
    }

    /// When the next view update may go: [`VIEW_PERIOD_US`] after the
    /// last, or [`VIEW_URGENT_US`] after it when a core was freed.
    fn view_next(&self) -> u64 {
        let Some(sent) = self.view_sent else { return 0 };
        let us = if self.platform.view_urgent() { VIEW_URGENT_US } else { VIEW_PERIOD_US };
        sent.saturating_add(self.platform.frequency() / 1_000_000 * us)
    }

    /// Whether a view update may go at `now` (see [`Monitor::view_next`]).
    /// Asked on every step, so the kernel (whose lock its programs take
    /// too) is asked only between the two times, where its answer counts.
    fn view_may_go(&self, now: u64) -> bool {
        let Some(sent) = self.view_sent else { return true };
        let after = |us: u64| sent.saturating_add(self.platform.frequency() / 1_000_000 * us);
        now >= after(VIEW_PERIOD_US) || (now >= after(VIEW_URGENT_US) && self.platform.view_urgent())
    }

    /// Sends this node's view to every linked peer, when it changed and
    /// the last update is old enough (see [`Monitor::view_next`]).
    fn send_view(&mut self) -> bool {
        let now = self.platform.now();
        if !self.view_may_go(now) || !self.linked || !self.platform.view_due() {
            return false;
        }
        self.view_sent = Some(now);
        let peers: Vec<u32, MAX_NODES> = self.links.iter().filter(|l| l.hello.is_some()).map(|l| l.peer).collect();
        // Encoded (and checksummed) once, for every peer.
        let mut parts: Vec<Payload, { 1 + 2 * 64 }> = Vec::new();
        self.platform.view_update(&mut |m| {
            let _ = parts.push(m.encode());
        });
        // An update that does not fit a link now is skipped for that peer
        // (the next one replaces it): it must never crowd control messages
        // out of the outbox.
        for &peer in &peers {
            let Some(link) = self.links.iter_mut().find(|l| l.peer == peer) else { continue };
            if link.room() < parts.len() + RESERVED_FRAMES {
                self.views_skipped = self.views_skipped.saturating_add(1);
                continue;
            }
            for p in &parts {
                self.send_raw(peer, p);
            }
        }
        true
    }

    /// What this monitor has counted since boot.
    pub fn status(&self) -> Status {
        Status {
            dropped: self.dropped,
            rejected: self.rejected,
            unexpected: self.links.iter().map(|l| u64::from(l.unexpected)).sum(),
            corrupt_slots: self.links.iter().map(Link::corrupt_slots).sum(),
        }
    }

    /// A node reads a peer's channel while linking, during a phase, or when
    /// the peer is the coordinator (or it is the coordinator itself): so
    /// stream data that overtakes this node's own start message waits in
    /// the ring instead of being judged against the previous phase.
    fn may_receive(&self, i: usize) -> bool {
        !self.me.channel_phases
            || !self.linked
            || self.phase.is_some()
            || self.is_coordinator()
            || self.links[i].peer == self.me.coordinator
    }

    fn handle(&mut self, i: usize, p: &Payload) {
        let m = match decode(p) {
            Ok(m) => m,
            Err(e) => {
                self.links[i].rejects.record(&e);
                self.rejected += 1;
                return;
            }
        };
        let peer = self.links[i].peer;
        let from_coordinator = peer == self.me.coordinator;
        match m {
            Message::Hello(h) if h.node.get() == peer => self.links[i].hello = Some(h),
            Message::Linked(l) if self.is_coordinator() && l.node.get() == peer => {
                if let Some(slot) = self.linked_reports.get_mut(peer as usize) {
                    *slot = Some(l.peers.get());
                }
            }
            Message::TestStart(s) if from_coordinator => self.begin_phase(&s),
            Message::StreamData(d) if self.links[i].stream_rx.active && d.from.get() == peer => {
                let now = self.platform.now();
                self.links[i].stream_rx.accept(&d, now);
            }
            Message::TestReport(r) if self.is_coordinator() && r.to.get() == peer => {
                if self.reports.push(r).is_err() {
                    self.dropped = self.dropped.saturating_add(1);
                }
            }
            Message::Ping(ping) => {
                self.pings_left = self.pings_left.saturating_sub(1);
                self.send(peer, &Message::Pong(ping));
            }
            Message::Pong(pong) if self.is_coordinator() => self.pong = Some(pong.seq.get()),
            Message::Finished(f) if self.is_coordinator() && f.node.get() == peer => {
                if let Some(slot) = self.finished.get_mut(peer as usize) {
                    *slot = Some(f.status.get());
                }
            }
            Message::TraceDump(t) if from_coordinator => {
                let (events, lost) = self.platform.dump_trace();
                let done = TraceDone {
                    node: U32::new(self.me.node),
                    request: t.request,
                    events: U64::new(events),
                    lost: U64::new(lost),
                };
                self.send(peer, &Message::TraceDone(done));
            }
            Message::TraceDone(d)
                if self.is_coordinator() && d.node.get() == peer && d.request.get() == self.trace_request =>
            {
                if let Some(slot) = self.traces_done.get_mut(peer as usize) {
                    *slot = Some((d.events.get(), d.lost.get()));
                }
            }
            Message::Chunk(c) => {
                if !self.links[i].chunks.take(&c) {
                    self.links[i].unexpected = self.links[i].unexpected.saturating_add(1);
                }
            }
            m => {
                let stream = stream_of(&m);
                let link = &mut self.links[i];
                let bytes = match stream {
                    Some(stream) => link.chunks.finish(stream),
                    None => &[],
                };
                if !self.platform.deliver(peer, &m, bytes) {
                    self.links[i].unexpected = self.links[i].unexpected.saturating_add(1);
                }
            }
        }
    }

    /// Which streams a test runs.
    fn streams(&self, test: u32, from: u32, to: u32) -> bool {
        let bench_peer = self.bench_peer();
        match test {
            TEST_STREAMS => from != to,
            BENCH_STREAM => from == self.me.coordinator && Some(to) == bench_peer,
            _ => false,
        }
    }

    /// The peer the benchmarks run against: the lowest-numbered other node.
    pub(crate) fn bench_peer(&self) -> Option<u32> {
        (0..self.me.nodes).find(|&n| n != self.me.coordinator)
    }

    /// Starts a phase on this node (the coordinator calls it for itself).
    pub(crate) fn begin_phase(&mut self, s: &TestStart) {
        let Some(mode) = Mode::from_wire(s.mode.get()) else {
            self.links.iter_mut().for_each(|l| l.unexpected = l.unexpected.saturating_add(1));
            return;
        };
        let (test, first, count) = (s.test.get(), s.first_seq.get(), s.count.get());
        let me = self.me.node;
        for i in 0..self.links.len() {
            let peer = self.links[i].peer;
            let (sends, receives) = (self.streams(test, me, peer), self.streams(test, peer, me));
            let l = &mut self.links[i];
            l.rejects = Default::default();
            l.stream_tx = if sends { stream::StreamTx::new(first, count) } else { stream::StreamTx::default() };
            l.stream_rx = if receives { stream::StreamRx::new(first, count) } else { stream::StreamRx::default() };
        }
        let pinged = test == BENCH_PING && Some(me) == self.bench_peer();
        self.pings_left = if pinged { count } else { 0 };
        self.mode = mode;
        let deadline = self.platform.now().saturating_add(self.ticks(PHASE_TIMEOUT_S));
        self.phase = Some(Phase { test, mode, deadline });
    }

    /// Ends the phase once every stream is sent and received (or it timed
    /// out), reporting each received stream to the coordinator.
    fn check_phase(&mut self) {
        let Some(phase) = self.phase else { return };
        let done = self.pings_left == 0 && self.links.iter().all(|l| l.stream_tx.done() && l.stream_rx.complete());
        if !done && self.platform.now() < phase.deadline {
            return;
        }
        let me = self.me.node;
        for i in 0..self.links.len() {
            let l = &self.links[i];
            if !l.stream_rx.active {
                continue;
            }
            let r = l.stream_rx.report(phase.test, phase.mode.wire(), l.peer, me, l.rejects.total());
            if self.is_coordinator() {
                if self.reports.push(r).is_err() {
                    self.dropped = self.dropped.saturating_add(1);
                }
            } else {
                self.send(self.me.coordinator, &Message::TestReport(r));
            }
        }
        for l in self.links.iter_mut() {
            l.stream_rx.active = false;
        }
        self.phase = None;
        self.mode = Mode::Interrupt;
    }

    pub(crate) fn in_phase(&self) -> bool {
        self.phase.is_some()
    }

    pub(crate) fn start_message(test: u32, mode: Mode, count: u64, first_seq: u64) -> TestStart {
        TestStart {
            test: U32::new(test),
            mode: U32::new(mode.wire()),
            count: U64::new(count),
            first_seq: U64::new(first_seq),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cell::Cell;

    /// A kernel whose view always changes, and that may say a core was freed.
    struct Views {
        urgent: Cell<bool>,
    }

    impl Platform for Views {
        type Notifier = channel::Polling;
        fn notifier(&self) -> channel::Polling {
            channel::Polling
        }
        fn now(&self) -> u64 {
            0
        }
        fn frequency(&self) -> u64 {
            1_000_000_000
        }
        fn print(&self, _line: core::fmt::Arguments<'_>) {}
        fn sleep(&self, _mode: Mode, _deadline: u64) {}
        fn view_due(&self) -> bool {
            true
        }
        fn view_urgent(&self) -> bool {
            self.urgent.get()
        }
    }

    #[test]
    fn a_freed_core_brings_the_next_view_update_forward() {
        let me =
            Identity { node: 0, nodes: 1, coordinator: 0, build: 1, capacity: 1024, cpus: 1, channel_phases: false };
        let mut m = Monitor::new(Views { urgent: Cell::new(false) }, me, Vec::new());
        assert_eq!(m.view_next(), 0, "the first update goes at once");
        m.view_sent = Some(5_000_000);
        assert_eq!(m.view_next(), 5_000_000 + VIEW_PERIOD_US * 1000, "a period after the last");
        assert!(!m.view_may_go(5_000_000 + VIEW_URGENT_US * 1000), "not before the period");
        assert!(m.view_may_go(5_000_000 + VIEW_PERIOD_US * 1000));
        m.platform().urgent.set(true);
        assert_eq!(m.view_next(), 5_000_000 + VIEW_URGENT_US * 1000, "sooner when a core was freed");
        assert!(!m.view_may_go(5_000_000 + VIEW_URGENT_US * 1000 - 1));
        assert!(m.view_may_go(5_000_000 + VIEW_URGENT_US * 1000));
    }
}
