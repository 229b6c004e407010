//! The system calls (numbers and meanings in `user_abi::Call`). Every
//! pointer and length is checked against the caller's own page tables
//! before a byte moves; a bad one is an error code, never a kernel fault.

use super::{Kernel, Mapping, Platform, Slot, State, MAX_MAPS};
use address_space::{Perm, PAGE};
use user_abi::{Call, Error, ExitStatus, Id, NodeInfo, ProcessInfo, SpawnOptions, SysInfo};

/// What the core does with the program after it stopped (a call, a trap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An interrupt stopped it: nothing to return, it goes on where it was.
    Interrupted,
    /// Return this to the caller.
    Return(Result<u64, Error>),
    /// The caller blocks; whoever wakes it sets its result.
    Blocked,
    /// The caller ended.
    Exited,
    /// Give the core to another program (the call returns 0; a trapped
    /// WFI goes on unchanged).
    Yield,
    /// Print these many bytes of the caller's write buffer, outside the
    /// lock, then return the count.
    Write(usize),
}

pub use user_abi::WRITE_MAX;

/// A system call as the caller's registers hold it: the number (`x8`)
/// and the arguments (`x0`..`x4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallArgs {
    pub number: u64,
    pub a: [u64; 5],
}

/// Handles the call `args` of `s`, which runs on `core`; `out` receives
/// what a `write` prints.
pub fn handle<P: Platform>(
    k: &mut Kernel<P>,
    s: Slot,
    core: usize,
    args: CallArgs,
    out: &mut [u8; WRITE_MAX],
) -> Outcome {
    k.stats.calls += 1;
    let outcome = match Call::from_number(args.number) {
        None => Outcome::Return(Err(Error::BadCall)),
        Some(call) => dispatch(k, s, core, call, args.a, out),
    };
    match outcome {
        Outcome::Return(Err(_)) => k.stats.failed_calls += 1,
        // `s` runs on this core, which owns its registers.
        Outcome::Yield => k.platform.set_result(s, 0),
        _ => {}
    }
    outcome
}

fn len_of(x: u64) -> Result<usize, Error> {
    usize::try_from(x).map_err(|_| Error::BadArgument)
}

fn dispatch<P: Platform>(
    k: &mut Kernel<P>,
    s: Slot,
    core: usize,
    call: Call,
    a: [u64; 5],
    out: &mut [u8; WRITE_MAX],
) -> Outcome {
    use Outcome::Return;
    let now = k.platform.now();
    let Some(p) = k.procs[s].as_ref() else { return Outcome::Exited };
    match call {
        Call::Exit => {
            k.exit(s, ExitStatus::Exited(a[0] as i32));
            Outcome::Exited
        }
        Call::Yield => Outcome::Yield,
        Call::Sleep => {
            let deadline = now.saturating_add(k.platform.ticks_ns(a[0]));
            block(k, s, State::Sleeping { deadline })
        }
        Call::Clock => Return(Ok(k.platform.nanos(now))),
        Call::Write => {
            let n = len_of(a[1]).map(|n| n.min(WRITE_MAX));
            let r = n
                .and_then(|n| k.back_on_touch(s, a[0], n).and_then(|()| k.copy_in(s, a[0], &mut out[..n])).map(|()| n));
            match r {
                Ok(n) => Outcome::Write(n),
                Err(e) => Return(Err(e)),
            }
        }
        Call::Read => read(k, s, a[0], a[1]),
        Call::Spawn => spawn(k, s, a),
        Call::Wait => wait(k, s, a[0], a[1], a[2]),
        Call::Id => Return(match Id::from_number(a[0]) {
            Some(Id::Process) => Ok(u64::from(p.pid)),
            Some(Id::Node) => Ok(u64::from(k.node.id)),
            Some(Id::Core) => Ok(core as u64),
            Some(Id::Parent) => Ok(u64::from(p.parent)),
            None => Err(Error::BadArgument),
        }),
        Call::Map => Return(map(k, s, a[0], a[1])),
        Call::Unmap => Return(unmap(k, s, a[0], a[1])),
        Call::Send => send(k, s, a),
        Call::Recv => recv(k, s, a, now),
        Call::Kill => kill(k, s, a[0]),
        Call::Migrate => match (u32::try_from(a[0]), u32::try_from(a[1])) {
            (Ok(pid), Ok(node)) => remote(k.migrate_call(s, pid, node)),
            (Err(_), _) => Return(Err(Error::NoSuchProcess)),
            _ => Return(Err(Error::BadArgument)),
        },
        Call::Ps => Return(back_array::<_, ProcessInfo>(k, s, a[0], a[1]).and_then(|()| ps(k, s, a[0], a[1]))),
        Call::Nodes => Return(back_array::<_, NodeInfo>(k, s, a[0], a[1]).and_then(|()| nodes(k, s, a[0], a[1]))),
        Call::SysInfo => Return(back_array::<_, SysInfo>(k, s, a[0], 1).and_then(|()| sysinfo(k, s, a[0]))),
        Call::Trace => {
            let requested = k.platform.request_trace();
            if requested.is_ok() {
                // The monitor, on the node's first core, asks every node.
                k.platform.ring(k.bells[0]);
            }
            Return(requested.map(|()| 0))
        }
        Call::PowerOff => {
            let requested = k.platform.request_power_off(p.pid, &p.name);
            if requested.is_ok() {
                // The monitor, on the node's first core, switches off.
                k.platform.ring(k.bells[0]);
            }
            Return(requested.map(|()| 0))
        }
        Call::Args => Return(len_of(a[1]).and_then(|len| {
            let p = k.procs[s].as_ref().ok_or(Error::NoSuchProcess)?;
            // An init's arguments are the kernel command line.
            let init = k.node.is_init(p.pid);
            let longest =
                if init { k.platform.command_line().len().max(user_abi::ARGS_BYTES) } else { user_abi::ARGS_BYTES };
            // The whole buffer (up to the longest argument string) must be
            // the caller's to write, however long the string is.
            k.check_user(s, a[0], len.min(longest), true)?;
            let p = k.procs[s].as_ref().ok_or(Error::NoSuchProcess)?;
            let args = if init { k.platform.command_line() } else { &p.args[..p.args_len] };
            k.copy_out(s, a[0], &args[..len.min(args.len())])?;
            Ok(args.len() as u64)
        })),
    }
}

fn block<P: Platform>(k: &mut Kernel<P>, s: Slot, state: State) -> Outcome {
    if let Some(p) = k.procs[s].as_mut() {
        p.state = state;
    }
    Outcome::Blocked
}

fn read<P: Platform>(k: &mut Kernel<P>, s: Slot, va: u64, len: u64) -> Outcome {
    if !k.node.console_input {
        return Outcome::Return(Err(Error::NotSupported));
    }
    let len = match len_of(len) {
        Ok(0) => return Outcome::Return(Ok(0)),
        Ok(n) => n,
        Err(e) => return Outcome::Return(Err(e)),
    };
    if let Err(e) = k.check_user(s, va, len.min(256), true) {
        return Outcome::Return(Err(e));
    }
    if !k.platform.input_ready() {
        return block(k, s, State::Reading { va, len });
    }
    Outcome::Return(k.take_input(s, va, len))
}

/// Blocks `s` while another node works for it, or fails at once.
fn remote(r: Result<(), Error>) -> Outcome {
    match r {
        Ok(()) => Outcome::Blocked,
        Err(e) => Outcome::Return(Err(e)),
    }
}

fn spawn<P: Platform>(k: &mut Kernel<P>, s: Slot, a: [u64; 5]) -> Outcome {
    let mut name = [0u8; user_abi::NAME_BYTES];
    let mut args = [0u8; user_abi::ARGS_BYTES];
    let read = || -> Result<(usize, usize, SpawnOptions), Error> {
        let (name_len, args_len) = (len_of(a[1])?, len_of(a[3])?);
        if name_len >= name.len() || args_len > args.len() {
            return Err(Error::TooBig);
        }
        let options = SpawnOptions::decode(a[4]).ok_or(Error::BadArgument)?;
        Ok((name_len, args_len, options))
    };
    let (name_len, args_len, options) = match read() {
        Ok(r) => r,
        Err(e) => return Outcome::Return(Err(e)),
    };
    let copied = k
        .back_on_touch(s, a[0], name_len)
        .and_then(|()| k.back_on_touch(s, a[2], args_len))
        .and_then(|()| k.copy_in(s, a[0], &mut name[..name_len]))
        .and_then(|()| k.copy_in(s, a[2], &mut args[..args_len]));
    let name = copied.and_then(|()| core::str::from_utf8(&name[..name_len]).map_err(|_| Error::NoSuchProgram));
    let Ok(name) = name else { return Outcome::Return(name.map(|_| 0)) };
    let parent = k.procs[s].as_ref().map_or(0, |p| p.pid);
    let me = k.node.id;
    let target = match options.node {
        Some(n) if u32::from(n) >= k.node.count => return Outcome::Return(Err(Error::BadArgument)),
        Some(n) => u32::from(n),
        // A core is a core of this node.
        None if options.core.is_some() => me,
        None => k.place(options.class).unwrap_or(me),
    };
    if target == me {
        Outcome::Return(k.spawn(name, &args[..args_len], parent, options).map(u64::from))
    } else {
        remote(k.spawn_remote(s, target, name, &args[..args_len], options))
    }
}

fn kill<P: Platform>(k: &mut Kernel<P>, s: Slot, pid: u64) -> Outcome {
    let Ok(pid) = u32::try_from(pid) else { return Outcome::Return(Err(Error::NoSuchProcess)) };
    if k.slot_of(pid).is_some() || k.is_init(pid) {
        return Outcome::Return(k.kill(pid).map(|()| 0));
    }
    remote(k.kill_remote(s, pid))
}

fn wait<P: Platform>(k: &mut Kernel<P>, s: Slot, pid: u64, status_va: u64, flags: u64) -> Outcome {
    use user_abi::{WAIT_INPUT, WAIT_NOHANG};
    use Outcome::Return;
    let Ok(pid) = u32::try_from(pid) else { return Return(Err(Error::NoSuchProcess)) };
    if flags & !(WAIT_NOHANG | WAIT_INPUT) != 0 {
        return Return(Err(Error::BadArgument));
    }
    let input = flags & WAIT_INPUT != 0;
    if input && !k.node.console_input {
        return Return(Err(Error::NotSupported));
    }
    let me = k.procs[s].as_ref().map_or(0, |p| p.pid);
    if status_va != 0 {
        if let Err(e) = k.check_user(s, status_va, 8, true) {
            return Return(Err(e));
        }
    }
    let children =
        || k.procs.iter().enumerate().filter_map(|(i, p)| p.as_ref().map(|p| (i, p))).filter(|(_, p)| p.parent == me);
    let mut any = false;
    let mut zombie = None;
    for (i, c) in children() {
        if pid == 0 || c.pid == pid {
            any = true;
            if let State::Zombie(status) = c.state {
                zombie = Some((i, c.pid, status));
                break;
            }
        }
    }
    if let Some((i, child, status)) = zombie {
        k.procs[i] = None;
        return Return(k.write_status(s, status_va, status).map(|()| u64::from(child)));
    }
    // Children on other nodes: their statuses are kept here.
    let elsewhere = k.remote_children.iter().enumerate().filter(|(_, c)| c.parent == me && (pid == 0 || c.pid == pid));
    let mut ended = None;
    for (i, c) in elsewhere {
        any = true;
        if let Some(status) = c.status {
            ended = Some((i, c.pid, status));
            break;
        }
    }
    if let Some((i, child, status)) = ended {
        k.remote_children.swap_remove(i);
        return Return(k.write_status(s, status_va, status).map(|()| u64::from(child)));
    }
    if input && k.platform.input_ready() {
        return Return(Ok(0));
    }
    // With input, a wait for any child can wait for input alone.
    let can_wait = any || (input && pid == 0);
    match (can_wait, pid) {
        (true, _) if flags & WAIT_NOHANG != 0 => Return(Err(Error::WouldBlock)),
        (true, _) => block(k, s, State::Waiting { pid, status_va, input }),
        (false, 0) => Return(Err(Error::NoChild)),
        (false, _) => Return(Err(Error::NoSuchProcess)),
    }
}

fn map<P: Platform>(k: &mut Kernel<P>, s: Slot, len: u64, prot: u64) -> Result<u64, Error> {
    use user_abi::{MAP_END, MAP_QUOTA, PROT_READ, PROT_WRITE};
    if len == 0 || prot & !(PROT_READ | PROT_WRITE) != 0 || prot & PROT_READ == 0 {
        return Err(Error::BadArgument);
    }
    let perm = if prot & PROT_WRITE != 0 { Perm::ReadWrite } else { Perm::ReadOnly };
    let bytes = len.checked_next_multiple_of(PAGE).ok_or(Error::NoMemory)?;
    let (Some(p), Some(frames)) = (k.procs[s].as_mut(), k.frames.as_mut()) else { return Err(Error::NoMemory) };
    if p.mapped.saturating_add(bytes) > MAP_QUOTA {
        return Err(Error::NoMemory);
    }
    if p.maps.len() >= MAX_MAPS {
        return Err(Error::TooMany);
    }
    let va = p.map_next;
    if va.saturating_add(bytes) > MAP_END {
        return Err(Error::NoMemory);
    }
    let pages = bytes / PAGE;
    // Reserved, not backed: each page gets a zeroed frame when it is first
    // touched (`Kernel::back_on_touch`). An area the node could not back
    // even now is refused at once.
    if frames.free_count() < pages {
        return Err(Error::NoMemory);
    }
    // A page of distance between areas: running off one faults.
    p.map_next = va + bytes + PAGE;
    p.mapped += bytes;
    let _ = p.maps.push(Mapping { va, pages, writable: perm == Perm::ReadWrite });
    Ok(va)
}

fn unmap<P: Platform>(k: &mut Kernel<P>, s: Slot, va: u64, len: u64) -> Result<u64, Error> {
    let (platform, ram) = (&k.platform, k.platform.memory());
    let (Some(p), Some(frames)) = (k.procs[s].as_mut(), k.frames.as_mut()) else { return Err(Error::BadArgument) };
    let i = p.maps.iter().position(|m| m.va == va).ok_or(Error::BadArgument)?;
    let m = p.maps[i];
    if len.checked_next_multiple_of(PAGE) != Some(m.pages * PAGE) {
        return Err(Error::BadArgument);
    }
    let asid = p.space.asid();
    for page in 0..m.pages {
        if let Some(pa) = p.space.unmap(ram, m.va + page * PAGE) {
            platform.flush_page(asid, m.va + page * PAGE);
            frames.free(ram, pa);
        }
    }
    p.maps.swap_remove(i);
    p.mapped -= m.pages * PAGE;
    Ok(0)
}

/// `send(endpoint, va, len, node + 1 or 0, pid or 0)`: to an endpoint of
/// this node, of node `node`, or of the node `pid` lives on.
fn send<P: Platform>(k: &mut Kernel<P>, s: Slot, a: [u64; 5]) -> Outcome {
    let mut bytes = [0; user_abi::MESSAGE_BYTES];
    let read = |k: &Kernel<P>, bytes: &mut [u8; user_abi::MESSAGE_BYTES]| -> Result<(u32, usize, u32), Error> {
        let ep = u32::try_from(a[0]).ok().filter(|&e| u64::from(e) < user_abi::ENDPOINTS).ok_or(Error::BadArgument)?;
        let len = len_of(a[2])?;
        if len > user_abi::MESSAGE_BYTES {
            return Err(Error::TooBig);
        }
        k.copy_in(s, a[1], &mut bytes[..len])?;
        let to = match (a[3], u32::try_from(a[4]).map_err(|_| Error::NoSuchProcess)?) {
            (0, 0) => k.node.id,
            (n, 0) => u32::try_from(n - 1).ok().filter(|&n| n < k.node.count).ok_or(Error::BadArgument)?,
            (_, pid) => k.node_of(pid),
        };
        Ok((ep, len, to))
    };
    let backed = len_of(a[2]).and_then(|len| k.back_on_touch(s, a[1], len.min(user_abi::MESSAGE_BYTES)));
    match backed.and_then(|()| read(k, &mut bytes)) {
        Err(e) => Outcome::Return(Err(e)),
        Ok((ep, len, to)) if to == k.node.id => Outcome::Return(k.deliver(ep as usize, &bytes[..len]).map(|()| 0)),
        Ok((ep, len, to)) => remote(k.send_remote(s, to, ep, &bytes[..len])),
    }
}

impl<P: Platform> Kernel<P> {
    /// Puts a message in endpoint `ep` of this node (or straight into a
    /// receiver waiting there): for local and remote senders alike.
    pub(crate) fn deliver(&mut self, ep: usize, bytes: &[u8]) -> Result<(), Error> {
        let len = bytes.len();
        if ep as u64 >= user_abi::ENDPOINTS {
            return Err(Error::BadArgument);
        }
        if len > user_abi::MESSAGE_BYTES {
            return Err(Error::TooBig);
        }
        let mut msg = super::endpoint::Message { len, bytes: [0; user_abi::MESSAGE_BYTES] };
        msg.bytes[..len].copy_from_slice(bytes);
        // A receiver already waiting takes it directly.
        let receiver = (0..super::MAX_PROCS).find(|&r| {
            matches!(self.procs[r].as_ref().map(|p| p.state), Some(State::Receiving { endpoint, len: room, .. }) if endpoint == ep && room >= len)
        });
        if let Some(r) = receiver {
            if let Some(State::Receiving { va, .. }) = self.procs[r].as_ref().map(|p| p.state) {
                let result = self.copy_out(r, va, &msg.bytes[..len]).map(|()| len as u64);
                self.resume(r, result);
                return Ok(());
            }
        }
        let q = self.endpoints.queue(ep).ok_or(Error::BadArgument)?;
        q.push_back(msg).map_err(|_| Error::WouldBlock)?;
        Ok(())
    }
}

fn recv<P: Platform>(k: &mut Kernel<P>, s: Slot, a: [u64; 5], now: u64) -> Outcome {
    use Outcome::Return;
    let Some(ep) = usize::try_from(a[0]).ok().filter(|&e| (e as u64) < user_abi::ENDPOINTS) else {
        return Return(Err(Error::BadArgument));
    };
    let (va, timeout) = (a[1], a[3]);
    let len = match len_of(a[2]) {
        Ok(n) => n,
        Err(e) => return Return(Err(e)),
    };
    if let Err(e) = k.check_user(s, va, len.min(user_abi::MESSAGE_BYTES), true) {
        return Return(Err(e));
    }
    let front = k.endpoints.queue(ep).and_then(|q| q.front().copied());
    if let Some(msg) = front {
        if msg.len > len {
            return Return(Err(Error::TooBig));
        }
        let r = k.copy_out(s, va, &msg.bytes[..msg.len]).map(|()| msg.len as u64);
        if r.is_ok() {
            k.endpoints.queue(ep).and_then(|q| q.pop_front());
        }
        return Return(r);
    }
    if timeout == 0 {
        return Return(Err(Error::WouldBlock));
    }
    let deadline = if timeout == u64::MAX { u64::MAX } else { now.saturating_add(k.platform.ticks_ns(timeout)) };
    block(k, s, State::Receiving { endpoint: ep, va, len, deadline })
}

/// Backs the pages of the caller's stack or `map` areas under its array of
/// up to `max` `T`s at `va` ([`Kernel::back_on_touch`]), before
/// [`copy_array`] fills it.
fn back_array<P: Platform, T>(k: &mut Kernel<P>, s: Slot, va: u64, max: u64) -> Result<(), Error> {
    let len = usize::try_from(max).unwrap_or(usize::MAX).saturating_mul(core::mem::size_of::<T>());
    k.back_on_touch(s, va, len)
}

/// Copies `items` to the caller's array at `va` of up to `max` entries.
/// Only plain-data ABI structs without padding qualify (`IntoBytes`), so no
/// byte of kernel memory beyond their fields can reach the program.
fn copy_array<P: Platform, T: zerocopy::IntoBytes + zerocopy::Immutable>(
    k: &Kernel<P>,
    s: Slot,
    va: u64,
    max: u64,
    items: impl Iterator<Item = T>,
) -> Result<u64, Error> {
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    let size = core::mem::size_of::<T>();
    let mut n = 0usize;
    for item in items.take(max) {
        k.copy_out(s, va.wrapping_add((n * size) as u64), item.as_bytes())?;
        n += 1;
    }
    Ok(n as u64)
}

/// Every node's programs: this node's as they are now, the others' as
/// the view last had them.
fn ps<P: Platform>(k: &Kernel<P>, s: Slot, va: u64, max: u64) -> Result<u64, Error> {
    use crate::view::flags;
    let now = k.platform.now();
    // A running program's time includes the stretch it is in now.
    let used = |p: &super::Process| {
        p.cpu_ticks + if p.state == State::Running { now.saturating_sub(p.running_since) } else { 0 }
    };
    let (now_ns, capacity, me) = (k.platform.nanos(now), k.node.capacity, k.node.id);
    let local = k.procs.iter().flatten().map(|p| ProcessInfo {
        pid: p.pid,
        parent: p.parent,
        state: p.state.abi() as u32,
        core: p.core as u32,
        priority: u32::from(p.priority),
        pinned: u32::from(p.pinned),
        migrations: p.migrations,
        node: me,
        moves: p.moves,
        util: p.util_now(now_ns, capacity),
        class: p.class as u32,
        heavy: u32::from(p.heavy_now(now_ns)),
        cpu_ns: k.platform.nanos(used(p)),
        name: p.name,
    });
    let elsewhere = k.views.programs().map(|(node, r)| {
        let f = r.state.flags.get();
        ProcessInfo {
            pid: r.state.pid.get(),
            parent: r.state.parent.get(),
            state: f & flags::STATE_MASK,
            core: (f >> flags::CORE_SHIFT) & 0x1f,
            priority: (f >> flags::PRIORITY_SHIFT) & 3,
            pinned: u32::from(f & flags::CORE_PINNED != 0),
            migrations: r.state.migrations.get(),
            node,
            moves: r.state.moves.get(),
            util: r.state.util.get(),
            class: (f >> flags::CLASS_SHIFT) & 3,
            heavy: u32::from(f & flags::HEAVY != 0),
            cpu_ns: r.state.cpu_ns.get(),
            name: r.name,
        }
    });
    copy_array(k, s, va, max, local.chain(elsewhere))
}

fn nodes<P: Platform>(k: &mut Kernel<P>, s: Slot, va: u64, max: u64) -> Result<u64, Error> {
    // This node's free pages as `sysinfo` counts them.
    k.reap_retired();
    let count = k.node.count as usize;
    let k = &*k;
    let infos = (0..count).map(|id| {
        let mut info = k.nodes.get(id).copied().flatten().unwrap_or(NodeInfo { id: id as u32, ..NodeInfo::default() });
        if id as u32 == k.node.id {
            info.free_pages = k.frames.as_ref().map_or(0, |f| f.free_count()) as u32;
            info.processes = k.live_processes() as u32;
        } else if let Some(v) = k.views.node(id as u32) {
            info.free_pages = v.head.free_pages.get();
            info.processes = v.head.programs.get();
        }
        info
    });
    copy_array(k, s, va, max, infos)
}

fn sysinfo<P: Platform>(k: &mut Kernel<P>, s: Slot, va: u64) -> Result<u64, Error> {
    // Free pages count what ended programs gave back, not what a core may
    // still be about to unload.
    k.reap_retired();
    let frames = k.frames.as_ref();
    let si = SysInfo {
        node: k.node.id,
        nodes: k.node.count,
        cores: k.cores as u32,
        processes: k.live_processes() as u32,
        console_node: k.node.console_node,
        _reserved: 0,
        free_pages: frames.map_or(0, |f| f.free_count()),
        total_pages: frames.map_or(0, |f| f.total()),
        calls: k.stats.calls,
        failed_calls: k.stats.failed_calls,
        faults: k.stats.faults,
        counter_hz: k.platform.frequency(),
        console_dropped: k.platform.console_dropped(),
        input_dropped: k.platform.input_dropped(),
        messages_dropped: u64::from(k.messages.dropped),
        messages_rejected: k.messages.rejected,
        messages_unexpected: k.messages.unexpected,
        channel_corrupt: k.messages.corrupt_slots,
    };
    copy_array(k, s, va, 1, core::iter::once(si)).map(|_| 0)
}
