//! Moving a process between nodes over the channels: the source sends its
//! description and then each page as a [`MigratePart`], then a
//! [`MigrateEnd`]; the destination builds it as the parts come and answers
//! [`MigrateDone`]. Where the channel has a transfer area, the description
//! and each page are put in one of its pages and announced by one part;
//! the destination copies them out and, every half area, tells the source
//! which pages it may fill again ([`MigrateCredit`]). Without one, each
//! goes as parts of up to 512 bytes, each preceded by its bytes as chunks.
//! A run of pages of zeros goes as one part without bytes.
//! The source produces parts only while its outbox has room, so a move
//! never crowds other messages out; one move at a time leaves a node, and
//! one arrives. A running program is parked at its next stop. A move whose
//! sending takes longer than [`MOVE_TIMEOUT_NS`] is given up on both
//! sides, and the program goes on where it was; once all is sent, the
//! source waits for the destination's verdict (the channels lose nothing;
//! a node that goes away is the hot-plug work's to handle).

use crate::migrate::{Migrant, PageData};
use crate::remote::{reply, RemoteCall, BYTES_MAX, OUTBOX};
use crate::{Kernel, Platform, Slot, State};
use address_space::PAGE;
use message::le::{U32, U64};
use message::{
    Message, MigrateCredit, MigrateDone, MigrateEnd, MigratePart, MigrateRequest, PART_AREA_HEADER, PART_AREA_PAGE,
    PART_HEADER, PART_PAGE, PART_ZERO,
};
use trace_ring::Kind;
use user_abi::Error;
use zerocopy::{FromBytes, IntoBytes};

/// How long a move may take to send (its verdict may take longer).
pub const MOVE_TIMEOUT_NS: u64 = 10_000_000_000;
/// Outbox entries a move's parts leave free.
const RESERVED_FOR_ANSWERS: usize = 4;
const HEADER: usize = core::mem::size_of::<Migrant>();
const _: () = assert!(HEADER <= PAGE as usize, "the description fits one page of the transfer area");
/// Most pages of zeros one part stands for.
const MAX_ZERO_RUN: u32 = 4096;

/// Who asked for a move, to be answered when it is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asker {
    /// A process of this node, blocked in the call.
    Local { slot: Slot, request: u32 },
    /// Another node's request.
    Remote { node: u32, request: u32 },
    /// This node's placement policy (see [`crate::rebalance`]).
    Policy,
}

/// The move leaving this node.
pub struct Outbound {
    pid: u32,
    to: u32,
    asker: Asker,
    deadline: u64,
    /// Described (it was parked): the description, how much of it went.
    migrant: Option<Migrant>,
    header_sent: usize,
    /// The page being sent, its address and permission, how much went.
    page: [u8; PAGE as usize],
    page_at: Option<(u64, u8)>,
    page_sent: usize,
    next_va: u64,
    pages: u32,
    ended: bool,
    /// Pages of zeros not yet announced: the first's address and
    /// permission, and how many.
    zeros: Option<(u64, u8, u32)>,
    /// The transfer area's pages (0: none), how many the move filled and
    /// how many of those the destination copied out.
    area: u32,
    area_used: u32,
    area_copied: u32,
}

impl Outbound {
    /// The transfer-area page to fill next, if the destination copied it out.
    fn area_page(&self) -> Option<u32> {
        (self.area > 0 && self.area_used < self.area_copied + self.area).then(|| self.area_used % self.area)
    }
}

/// The move arriving here.
pub struct Inbound {
    from: u32,
    pid: u32,
    deadline: u64,
    header: [u8; HEADER],
    header_len: usize,
    slot: Option<Slot>,
    page: [u8; PAGE as usize],
    page_len: usize,
    pages: u32,
    /// Transfer-area pages copied out.
    area_read: u32,
}

impl<P: Platform> Kernel<P> {
    /// Starts moving `pid` (of this node) to node `to` for `asker`.
    // Its buffers (a page, a description) stay in its own frame, not
    // in the frames of the monitor loops that call it.
    #[inline(never)]
    pub(crate) fn start_move(&mut self, pid: u32, to: u32, asker: Asker) -> Result<(), Error> {
        let s = self.slot_of(pid).ok_or(Error::NoSuchProcess)?;
        if to == self.node.id {
            return Err(Error::BadArgument);
        }
        if !self.reachable(to) {
            return Err(Error::Unreachable);
        }
        if self.is_init(pid) {
            return Err(Error::NotPermitted);
        }
        if self.outbound.is_some() {
            return Err(Error::TooMany);
        }
        let p = self.procs[s].as_mut().ok_or(Error::NoSuchProcess)?;
        // An ended program waits only for its parent: there is nothing left
        // to move (and a caller that retries a refusal would retry for ever).
        if matches!(p.state, State::Zombie(_)) {
            return Err(Error::NoSuchProcess);
        }
        if !matches!(
            p.state,
            State::Ready | State::Running | State::Sleeping { .. } | State::Waiting { .. } | State::Receiving { .. }
        ) {
            return Err(Error::NotPermitted);
        }
        // A running program parks at its next stop.
        p.move_pending = true;
        if p.state == State::Running && p.core != self.platform.this_core() {
            self.platform.ring(self.bells[p.core]);
        }
        self.trace(Kind::Depart, pid, |e| e.peer = to as u16);
        let deadline = self.platform.now().saturating_add(self.platform.ticks_ns(MOVE_TIMEOUT_NS));
        self.outbound = Some(Outbound {
            pid,
            to,
            asker,
            deadline,
            migrant: None,
            header_sent: 0,
            page: [0; PAGE as usize],
            page_at: None,
            page_sent: 0,
            next_va: 0,
            pages: 0,
            ended: false,
            zeros: None,
            area: self.platform.transfer_pages(to).min(u32::MAX as usize) as u32,
            area_used: 0,
            area_copied: 0,
        });
        self.pump_move();
        Ok(())
    }

    /// Produces the next parts of the move leaving, while the outbox has room.
    // Its buffers (a page, a description) stay in its own frame, not
    // in the frames of the monitor loops that call it.
    #[inline(never)]
    pub(crate) fn pump_move(&mut self) {
        // Room is left for answers (a move's own verdict among them).
        while self.outbox.len() + RESERVED_FOR_ANSWERS < OUTBOX {
            let Some(out) = self.outbound.as_mut() else { return };
            if out.ended {
                return;
            }
            let (pid, to) = (out.pid, out.to);
            if out.migrant.is_none() {
                match self.export(pid) {
                    Ok(m) => {
                        if let Some(out) = self.outbound.as_mut() {
                            out.migrant = Some(m);
                        }
                    }
                    // Still running: parked at its next stop.
                    Err(Error::WouldBlock) => return,
                    Err(e) => return self.finish_move(Err(e)),
                }
                continue;
            }
            let Some(out) = self.outbound.as_mut() else { return };
            let Some(m) = out.migrant.as_ref() else { return };
            if out.header_sent < HEADER {
                let at = out.header_sent;
                if out.area > 0 {
                    let Some(index) = out.area_page() else { return };
                    self.platform.transfer_put(to, index as usize, &mut |page| {
                        page[..HEADER].copy_from_slice(m.as_bytes());
                        page[HEADER..].fill(0);
                    });
                    let Some(out) = self.outbound.as_mut() else { return };
                    out.header_sent = HEADER;
                    out.area_used += 1;
                    self.post_part(to, pid, PART_AREA_HEADER, 0, 0, index as usize, &[]);
                    continue;
                }
                let len = (HEADER - at).min(BYTES_MAX);
                let mut bytes = [0u8; BYTES_MAX];
                bytes[..len].copy_from_slice(&m.as_bytes()[at..at + len]);
                out.header_sent += len;
                self.post_part(to, pid, PART_HEADER, 0, 0, at, &bytes[..len]);
                continue;
            }
            if out.page_at.is_none() {
                let from = out.next_va;
                let next = self.next_export_page(pid, from);
                let Some(out) = self.outbound.as_mut() else { return };
                // A page of zeros that follows the run joins it; anything
                // else announces the run first (and is looked at again).
                match (next, out.zeros) {
                    (Some((va, perm, true)), Some((run_va, run_perm, n)))
                        if perm == run_perm && va == run_va + u64::from(n) * PAGE && n < MAX_ZERO_RUN =>
                    {
                        out.zeros = Some((run_va, run_perm, n + 1));
                        out.next_va = va + PAGE;
                        out.pages += 1;
                    }
                    (_, Some((run_va, run_perm, n))) => {
                        out.zeros = None;
                        self.post_part(to, pid, PART_ZERO, run_va, run_perm, n as usize, &[]);
                    }
                    (Some((va, perm, true)), None) => {
                        out.zeros = Some((va, perm, 1));
                        out.next_va = va + PAGE;
                        out.pages += 1;
                    }
                    (Some((va, perm, false)), None) if out.area > 0 => {
                        // Waits for the destination to copy a page out.
                        let Some(index) = out.area_page() else { return };
                        out.area_used += 1;
                        out.next_va = va + PAGE;
                        out.pages += 1;
                        // From its frame straight into the area (never an
                        // earlier move's bytes, should the page be gone).
                        self.platform.transfer_put(to, index as usize, &mut |page| {
                            if self.copy_export_page(pid, va, page).is_none() {
                                page.fill(0);
                            }
                        });
                        self.post_part(to, pid, PART_AREA_PAGE, va, perm, index as usize, &[]);
                    }
                    (Some((va, perm, false)), None) => {
                        let mut page = [0u8; PAGE as usize];
                        let _ = self.copy_export_page(pid, va, &mut page);
                        let Some(out) = self.outbound.as_mut() else { return };
                        out.page = page;
                        out.page_at = Some((va, perm));
                        out.page_sent = 0;
                    }
                    (None, None) => {
                        out.ended = true;
                        let end = MigrateEnd { pid: U32::new(pid), pages: U32::new(out.pages) };
                        let _ = self.post(to, Message::MigrateEnd(end), &[]);
                        return;
                    }
                }
                continue;
            }
            let Some((va, perm)) = out.page_at else { return };
            let at = out.page_sent;
            let len = (PAGE as usize - at).min(BYTES_MAX);
            let mut bytes = [0u8; BYTES_MAX];
            bytes[..len].copy_from_slice(&out.page[at..at + len]);
            out.page_sent += len;
            if out.page_sent == PAGE as usize {
                out.page_at = None;
                out.next_va = va + PAGE;
                out.pages += 1;
            }
            self.post_part(to, pid, PART_PAGE, va, perm, at, &bytes[..len]);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn post_part(&mut self, to: u32, pid: u32, what: u32, va: u64, perm: u8, offset: usize, bytes: &[u8]) {
        let part = MigratePart {
            pid: U32::new(pid),
            what: U32::new(what),
            va: U64::new(va),
            perm: U32::new(u32::from(perm)),
            offset: U32::new(offset as u32),
        };
        let _ = self.post(to, Message::MigratePart(part), bytes);
    }

    /// Ends the move leaving (done, or given up), and answers who asked.
    fn finish_move(&mut self, result: Result<(), Error>) {
        let Some(out) = self.outbound.take() else { return };
        if out.migrant.is_some() {
            match result {
                Ok(()) => {
                    // It counts where it went at once, as it was here.
                    let now_ns = self.platform.nanos(self.platform.now());
                    let view = self.slot_of(out.pid).and_then(|s| self.procs[s].as_ref()).map(|p| {
                        let mut v = self.program_view(p, now_ns);
                        (v.node, v.runnable) = (out.to, p.parked_runnable());
                        v
                    });
                    if let Some(v) = view {
                        self.placed_on(v);
                    }
                    self.export_done(out.pid, out.to)
                }
                Err(_) => self.export_abort(out.pid),
            }
        } else if let Some(p) = self.slot_of(out.pid).and_then(|s| self.procs[s].as_mut()) {
            p.move_pending = false;
        }
        let answer = result.map(|()| 0);
        match out.asker {
            Asker::Local { slot, request } => {
                let waiting = matches!(self.procs[slot].as_ref().map(|p| p.state), Some(State::Remote { request: r, .. }) if r == request);
                if waiting {
                    self.resume(slot, answer);
                }
            }
            Asker::Remote { node, request } => {
                let _ = self.post(node, reply(request, answer), &[]);
            }
            Asker::Policy => self.policy_move_over(result),
        }
    }

    /// `migrate(pid, node)` of process `s`: here, or asked of the node
    /// that holds `pid`; `s` blocks until the move is over.
    pub(crate) fn migrate_call(&mut self, s: Slot, pid: u32, to: u32) -> Result<(), Error> {
        let me = self.procs[s].as_ref().map_or(0, |p| p.pid);
        if pid == me {
            return Err(Error::NotPermitted);
        }
        if to >= self.node.count {
            return Err(Error::BadArgument);
        }
        let holder = self.node_of(pid);
        if holder != self.node.id {
            return self.call_remote(s, holder, RemoteCall::Migrate, &[], |request| {
                Message::MigrateRequest(MigrateRequest {
                    request: U32::new(request),
                    pid: U32::new(pid),
                    to: U32::new(to),
                })
            });
        }
        if self.slot_of(pid).is_none() {
            return Err(Error::NoSuchProcess);
        }
        let request = self.new_request(s);
        self.start_move(pid, to, Asker::Local { slot: s, request })?;
        let deadline = self.platform.now().saturating_add(self.platform.ticks_ns(MOVE_TIMEOUT_NS * 2));
        if let Some(p) = self.procs[s].as_mut() {
            p.state = State::Remote { request, call: RemoteCall::Migrate, deadline };
        }
        Ok(())
    }

    /// Handles the move messages; false for others.
    // Its buffers (a page, a description) stay in its own frame, not
    // in the frames of the monitor loops that call it.
    #[inline(never)]
    pub(crate) fn on_move_message(&mut self, from: u32, m: &Message, bytes: &[u8]) -> bool {
        match *m {
            Message::MigrateRequest(r) if self.relay(from, r.pid.get(), r.request.get(), m) => {}
            Message::MigrateRequest(r) => {
                let asker = Asker::Remote { node: from, request: r.request.get() };
                if let Err(e) = self.start_move(r.pid.get(), r.to.get(), asker) {
                    let _ = self.post(from, reply(r.request.get(), Err(e)), &[]);
                }
            }
            Message::MigratePart(p) => self.on_part(from, &p, bytes),
            Message::MigrateCredit(c) => {
                match self.outbound.as_mut().filter(|o| o.pid == c.pid.get() && o.to == from) {
                    Some(out) => out.area_copied = out.area_copied.max(c.copied.get().min(out.area_used)),
                    None => self.remote_counts.stale_replies += 1,
                }
                self.pump_move();
            }
            Message::MigrateEnd(e) => self.on_end(from, e.pid.get(), e.pages.get()),
            Message::MigrateDone(d) => {
                // A refusal may come before the end; success only after it.
                let ours = self
                    .outbound
                    .as_ref()
                    .is_some_and(|o| o.pid == d.pid.get() && o.to == from && (o.ended || d.error.get() != 0));
                if ours {
                    let result = match d.error.get() {
                        0 => Ok(()),
                        e => Err(Error::from_number(u64::from(e)).unwrap_or(Error::Unreachable)),
                    };
                    self.finish_move(result);
                } else {
                    self.remote_counts.stale_replies += 1;
                }
            }
            _ => return false,
        }
        true
    }

    fn refuse_move(&mut self, from: u32, pid: u32, e: Error) {
        let me = self.node.id;
        self.platform.report(format_args!("migrate: node {me} refused pid {pid} from node {from}: {e}"));
        if let Some(slot) = self.inbound.as_ref().filter(|i| i.pid == pid && i.from == from).and_then(|i| i.slot) {
            self.import_abort(slot);
        }
        if self.inbound.as_ref().is_some_and(|i| i.pid == pid && i.from == from) {
            self.inbound = None;
        }
        let done = MigrateDone { pid: U32::new(pid), error: U32::new(e as u32) };
        let _ = self.post(from, Message::MigrateDone(done), &[]);
    }

    // Its buffers (a page, a description) stay in its own frame, not
    // in the frames of the monitor loops that call it.
    #[inline(never)]
    fn on_part(&mut self, from: u32, p: &MigratePart, bytes: &[u8]) {
        let (pid, offset, what) = (p.pid.get(), p.offset.get() as usize, p.what.get());
        let fresh = (what == PART_HEADER && offset == 0) || what == PART_AREA_HEADER;
        if fresh {
            if self.inbound.as_ref().is_some_and(|i| i.from != from || i.pid != pid) {
                return self.refuse_move(from, pid, Error::TooMany);
            }
            // The same move started over: what was built goes first.
            if let Some(slot) = self.inbound.take().and_then(|i| i.slot) {
                self.import_abort(slot);
            }
            let deadline = self.platform.now().saturating_add(self.platform.ticks_ns(MOVE_TIMEOUT_NS));
            self.inbound = Some(Inbound {
                from,
                pid,
                deadline,
                header: [0; HEADER],
                header_len: 0,
                slot: None,
                page: [0; PAGE as usize],
                page_len: 0,
                pages: 0,
                area_read: 0,
            });
        }
        let area = self.platform.transfer_pages(from).min(u32::MAX as usize) as u32;
        let Some(inb) = self.inbound.as_mut().filter(|i| i.from == from && i.pid == pid) else {
            self.remote_counts.bad_requests += 1;
            return;
        };
        // The transfer-area page a `PART_AREA_*` part must name.
        let area_next = (area > 0).then(|| (inb.area_read % area) as usize);
        match what {
            PART_HEADER if offset == inb.header_len && offset + bytes.len() <= HEADER => {
                inb.header[offset..offset + bytes.len()].copy_from_slice(bytes);
                inb.header_len += bytes.len();
                if inb.header_len == HEADER {
                    self.described(from, pid);
                }
            }
            PART_AREA_HEADER if inb.header_len == 0 && area_next == Some(offset) => {
                self.platform.transfer_get(from, offset, &mut inb.page);
                inb.header.copy_from_slice(&inb.page[..HEADER]);
                inb.header_len = HEADER;
                self.area_copied(from, pid, area);
                self.described(from, pid);
            }
            PART_PAGE if inb.slot.is_some() && offset == inb.page_len && offset + bytes.len() <= PAGE as usize => {
                inb.page[offset..offset + bytes.len()].copy_from_slice(bytes);
                inb.page_len += bytes.len();
                if inb.page_len == PAGE as usize {
                    inb.page_len = 0;
                    let page = inb.page;
                    self.page_came(from, p, PageData::Bytes(&page));
                }
            }
            PART_AREA_PAGE if inb.slot.is_some() && inb.page_len == 0 && area_next == Some(offset) => {
                // From the area straight into its new frame, then the area
                // page is free again.
                self.page_came(from, p, PageData::Area { from, index: offset });
                self.area_copied(from, pid, area);
            }
            PART_ZERO
                if inb.slot.is_some()
                    && inb.page_len == 0
                    && bytes.is_empty()
                    && (1..=MAX_ZERO_RUN as usize).contains(&offset) =>
            {
                self.page_came(from, p, PageData::Zeros);
            }
            what => {
                let (have, page) = (inb.header_len, inb.page_len);
                self.platform.report(format_args!(
                    "migrate: part {what} at {offset} of {} bytes does not follow ({have} of the description, {page} of a page)",
                    bytes.len()
                ));
                self.refuse_move(from, pid, Error::BadArgument)
            }
        }
    }

    /// The arriving move's description is complete: the process is built
    /// from it (parked), or the move refused.
    fn described(&mut self, from: u32, pid: u32) {
        let Some(inb) = self.inbound.as_ref() else { return };
        let imported =
            Migrant::read_from_bytes(&inb.header).map_err(|_| Error::BadArgument).and_then(|m| self.import(&m));
        match imported {
            Ok(slot) => {
                if let Some(inb) = self.inbound.as_mut() {
                    inb.slot = Some(slot);
                }
            }
            Err(e) => {
                self.platform.report(format_args!("migrate: import: {e}"));
                self.refuse_move(from, pid, e)
            }
        }
    }

    /// Part `p` brought a page (`data`), or a run of pages of zeros: they
    /// go into the process being built.
    fn page_came(&mut self, from: u32, p: &MigratePart, data: PageData<'_>) {
        let Some(inb) = self.inbound.as_mut() else { return };
        let Some(slot) = inb.slot else { return };
        let (va, perm) = (p.va.get(), p.perm.get() as u8);
        let count = if matches!(data, PageData::Zeros) { p.offset.get() } else { 1 };
        inb.pages = inb.pages.saturating_add(count);
        for i in 0..u64::from(count) {
            let at = va.saturating_add(i * PAGE);
            if let Err(e) = self.import_page(slot, at, perm, data) {
                self.platform.report(format_args!("migrate: page {at:#x}: {e}"));
                return self.refuse_move(from, p.pid.get(), e);
            }
        }
    }

    /// One more page of the transfer area was copied out: every half area,
    /// the source hears it may fill them again.
    fn area_copied(&mut self, from: u32, pid: u32, area: u32) {
        let Some(inb) = self.inbound.as_mut() else { return };
        inb.area_read += 1;
        if inb.area_read % (area / 2).max(1) == 0 {
            let credit = MigrateCredit { pid: U32::new(pid), copied: U32::new(inb.area_read) };
            let _ = self.post(from, Message::MigrateCredit(credit), &[]);
        }
    }

    // Its buffers (a page, a description) stay in its own frame, not
    // in the frames of the monitor loops that call it.
    #[inline(never)]
    fn on_end(&mut self, from: u32, pid: u32, pages: u32) {
        let Some(inb) = self.inbound.take_if(|i| i.from == from && i.pid == pid) else {
            self.remote_counts.bad_requests += 1;
            return;
        };
        let m = Migrant::read_from_bytes(&inb.header);
        match (inb.slot, m) {
            (Some(slot), Ok(m)) if inb.pages == pages && inb.page_len == 0 => {
                self.import_finish(slot, &m);
                self.trace(Kind::Arrive, pid, |e| e.peer = from as u16);
                // A turn's swap waits for this arrival to send the program
                // going down: the round that does it is due now, not a
                // period later (the source's core idles meanwhile).
                let now = self.platform.now();
                self.rebalance_now(now);
                let done = MigrateDone { pid: U32::new(pid), error: U32::new(0) };
                let _ = self.post(from, Message::MigrateDone(done), &[]);
            }
            (slot, _) => {
                if let Some(slot) = slot {
                    self.import_abort(slot);
                }
                let (me, got) = (self.node.id, inb.pages);
                self.platform.report(format_args!(
                    "migrate: node {me} refused pid {pid} from node {from}: {got} of {pages} pages came"
                ));
                let done = MigrateDone { pid: U32::new(pid), error: U32::new(Error::BadArgument as u32) };
                let _ = self.post(from, Message::MigrateDone(done), &[]);
            }
        }
    }

    /// Gives up moves past their deadline, on either side. Once the source
    /// has sent everything it waits for the verdict however long it takes:
    /// giving up then could leave the program running on both nodes.
    pub(crate) fn expire_moves(&mut self, now: u64) {
        if self.outbound.as_ref().is_some_and(|o| now >= o.deadline && !o.ended) {
            self.finish_move(Err(Error::Unreachable));
        }
        if let Some(inb) = self.inbound.take_if(|i| now >= i.deadline) {
            if let Some(slot) = inb.slot {
                self.import_abort(slot);
            }
        }
    }

    /// The program being moved here, if one is.
    pub(crate) fn inbound_pid(&self) -> Option<u32> {
        self.inbound.as_ref().map(|i| i.pid)
    }

    /// Whether a move is under way (leaving or arriving).
    pub fn moving(&self) -> bool {
        self.outbound.is_some() || self.inbound.is_some()
    }
}
