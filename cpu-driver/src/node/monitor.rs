//! Runs this node's monitor on the node's first core: opens the channels the
//! boot info names, links with every peer, and (on the boot node, the
//! coordinator) runs the channel tests and benchmarks the bootargs ask for.

use crate::config;
use crate::devices::gic;
use crate::devices::time;
use crate::devices::wait;
use crate::kernel::ctx::Node;
use crate::node::owner;
use channel::Channel;
use handoff::bootinfo::{FLAG_BENCH_CHANNELS, FLAG_KTEST_CHANNELS, FLAG_TRACE};
use monitor::{Identity, Link, Mode, Monitor, Platform, MAX_NODES};

/// Messages per ordered pair of nodes and per mode in `ktest=channels`.
const TEST_MESSAGES: u64 = 100_000;
/// `bench=channels`: round trips, and messages streamed, per mode.
const BENCH_ROUND_TRIPS: usize = 1000;
const BENCH_MESSAGES: u64 = 100_000;
/// How long a monitor waits for its peers' greetings (TCG can be slow).
const LINK_TIMEOUT_S: u64 = 10;
/// The sleep of a polling wait.
const POLL_SLEEP_US: u64 = 20;

/// Doorbells are SGIs through the GIC (v2 or v3); the hardware-mailbox seam
/// (RK3588) is another implementation of [`channel::Notifier`].
#[derive(Debug, Clone, Copy)]
pub struct Sgi {
    own: u64,
}

impl channel::Notifier for Sgi {
    fn interrupts(&self) -> bool {
        true
    }
    fn target(&self) -> u64 {
        self.own
    }
    fn notify(&self, target: u64) {
        gic::ring(target);
    }
    fn wait(&self) {
        wait::nap(config::TICK_US);
    }
}

/// The CPU driver as the monitor's platform.
struct MonitorPlatform<'n> {
    node: &'n Node,
    bell: u64,
    owns_console: bool,
    /// The programs' `write` buffer while this core runs them
    /// ([`crate::kernel::sched::run`]).
    write_buf: core::cell::RefCell<[u8; crate::kernel::proc::WRITE_MAX]>,
}

impl Platform for MonitorPlatform<'_> {
    type Notifier = Sgi;

    fn notifier(&self) -> Sgi {
        Sgi { own: self.bell }
    }
    fn now(&self) -> u64 {
        time::now()
    }
    fn frequency(&self) -> u64 {
        time::frequency()
    }
    fn print(&self, line: core::fmt::Arguments<'_>) {
        crate::kernel::console::print_line(line);
        // The owner prints at once, so a burst (a KTAP block) never
        // overflows its own ring.
        if self.owns_console {
            crate::kernel::console::drain(self.node);
        }
    }
    fn service(&self) -> bool {
        self.owns_console && crate::kernel::console::drain(self.node)
    }
    fn sleep(&self, mode: Mode, deadline: u64) {
        match mode {
            // Programs get this core until a doorbell rings (every sender
            // rings an armed receiver) or the deadline.
            Mode::Interrupt => {
                crate::kernel::sched::run(Some(deadline), &mut self.write_buf.borrow_mut());
            }
            Mode::Polling => wait::nap(POLL_SLEEP_US),
        }
    }
    fn trace_message(&self, sent: bool, peer: u32, kind: u8, seq: u64) {
        crate::kernel::trace::message(sent, peer, kind, seq);
    }
    fn publish_status(&self, status: &monitor::Status) {
        crate::kernel::proc::KERNEL.lock().messages = processes::MessageCounts {
            dropped: status.dropped,
            rejected: status.rejected,
            unexpected: status.unexpected,
            corrupt_slots: status.corrupt_slots,
        };
    }
    fn dump_trace(&self) -> (u64, u64) {
        crate::kernel::trace::dump(self.node)
    }
    fn deliver(&self, from: u32, m: &message::Message, bytes: &[u8]) -> bool {
        crate::kernel::proc::KERNEL.lock().on_message(from, m, bytes)
    }
    fn take_outgoing(
        &self,
        bytes: &mut [u8; monitor::BYTES_MAX],
        room: &dyn Fn(u32, usize) -> bool,
    ) -> Option<(u32, message::Message, usize)> {
        // Asked on every step, also while polling: never wait for the lock
        // (a program's call holds it; what it posts rings this core).
        let o = crate::kernel::proc::KERNEL.try_lock()?.take_outgoing_if(room)?;
        let len = o.bytes.len().min(bytes.len());
        bytes[..len].copy_from_slice(&o.bytes[..len]);
        Some((o.to, o.message, len))
    }
    fn has_outgoing(&self) -> bool {
        crate::kernel::proc::KERNEL.lock().has_outgoing()
    }
    fn view_due(&self) -> bool {
        crate::kernel::proc::KERNEL.lock().view_due()
    }
    fn view_urgent(&self) -> bool {
        crate::kernel::proc::KERNEL.lock().view_urgent()
    }
    fn view_update(&self, emit: &mut dyn FnMut(&message::Message)) {
        crate::kernel::proc::KERNEL.lock().view_update(emit);
    }
    fn rebalance(&self) -> monitor::Round {
        let mut k = crate::kernel::proc::KERNEL.lock();
        let started = k.rebalance_round();
        monitor::Round { started, next_at: k.rebalance_due_at() }
    }
    fn poll_spins(&self) -> u32 {
        // Programs wait for this core: hand it to them at once rather than
        // poll the channels first (a doorbell brings the monitor back).
        // Asked on every poll, so never wait for the lock to answer.
        let programs_wait =
            crate::kernel::proc::KERNEL.try_lock().is_some_and(|k| k.waiting(crate::arch::cpu::this_core()));
        if programs_wait {
            1
        } else {
            config::POLL_SPINS
        }
    }
}

/// Why a channel to or from a peer could not be used.
enum LinkError {
    Open(channel::OpenError),
    /// The header names other nodes than the boot info says.
    WrongEnds {
        from: u32,
        to: u32,
    },
}

impl core::fmt::Display for LinkError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LinkError::Open(e) => write!(f, "{e}"),
            LinkError::WrongEnds { from, to } => write!(f, "channel header says node {from} to node {to}"),
        }
    }
}

/// Opens the channels to and from `peer`, checking their headers.
fn open_link<'a>(node: &Node, peer: usize, sgi: Sgi) -> Result<Link<'a, Sgi>, LinkError> {
    let info = node.info;
    let bytes = info.channel_bytes as usize;
    let me = info.node_id;
    let open = |va: u64, from: u32, to: u32| {
        // SAFETY: the boot driver initialised this channel at this address in
        // the shared region and mapped it into exactly its two nodes; this
        // node is its only sender (tx) or only receiver (rx).
        let ch = unsafe { Channel::open(va as *mut u8, bytes) }.map_err(LinkError::Open)?;
        let h = ch.header();
        if (h.from, h.to) != (from, to) {
            return Err(LinkError::WrongEnds { from: h.from, to: h.to });
        }
        Ok(ch)
    };
    let tx = open(info.tx_va[peer], me, peer as u32)?;
    let rx = open(info.rx_va[peer], peer as u32, me)?;
    Ok(Link::new(peer as u32, tx, rx, sgi, sgi))
}

/// Tells the kernel every node the monitor knows (for the `nodes` call).
fn publish_nodes(node: &Node, monitor: &Monitor<'_, MonitorPlatform<'_>>) {
    let info = node.info;
    let mut k = crate::kernel::proc::KERNEL.lock();
    let me = user_abi::NodeInfo {
        id: info.node_id,
        build: info.build,
        capacity: info.capacity,
        cpus: info.cpu_count,
        linked: 1,
        console: u32::from(info.is_boot_node()),
        ..user_abi::NodeInfo::default()
    };
    if let Some(slot) = k.nodes.get_mut(info.node_id as usize) {
        *slot = Some(me);
    }
    for l in monitor.links() {
        let Some(h) = l.hello else { continue };
        if let Some(slot) = k.nodes.get_mut(l.peer as usize) {
            *slot = Some(user_abi::NodeInfo {
                id: l.peer,
                build: h.build.get(),
                capacity: h.capacity.get(),
                cpus: h.cpus.get(),
                linked: 1,
                console: u32::from(l.peer == info.boot_node),
                ..user_abi::NodeInfo::default()
            });
        }
    }
}

/// How long the coordinator waits for every node's trace.
const TRACE_TIMEOUT_S: u64 = 30;

/// The coordinator's loop: runs the monitor until `done`, and prints every
/// node's trace whenever a program asks (the shell's `trace`).
fn serve_until(
    monitor: &mut Monitor<'_, MonitorPlatform<'_>>,
    mut done: impl FnMut(&Monitor<'_, MonitorPlatform<'_>>) -> bool,
) {
    loop {
        monitor.run_until(u64::MAX, |m| done(m) || crate::kernel::requests::trace_requested());
        if !crate::kernel::requests::take_trace_request() {
            return;
        }
        monitor.collect_traces(TRACE_TIMEOUT_S);
    }
}

/// The node's first core from here on: never returns.
pub fn run(node: &Node, bell: u64) -> ! {
    let info = node.info;
    let platform = MonitorPlatform {
        node,
        bell,
        owns_console: info.is_boot_node(),
        write_buf: core::cell::RefCell::new([0; crate::kernel::proc::WRITE_MAX]),
    };
    let sgi = platform.notifier();
    let mut links = heapless::Vec::new();
    for peer in (0..(info.node_count as usize).min(MAX_NODES)).filter(|&p| p != info.node_id as usize) {
        if info.tx_va[peer] == 0 || info.rx_va[peer] == 0 {
            platform.print(format_args!("monitor: node {}: no channel to node {peer}", info.node_id));
            continue;
        }
        match open_link(node, peer, sgi) {
            Ok(link) => {
                let _ = links.push(link);
            }
            Err(e) => platform.print(format_args!("monitor: node {}: channel with node {peer}: {e}", info.node_id)),
        }
    }
    let me = Identity {
        node: info.node_id,
        nodes: info.node_count,
        coordinator: info.boot_node,
        build: info.build,
        capacity: info.capacity,
        cpus: info.cpu_count,
        channel_phases: info.flags & (FLAG_KTEST_CHANNELS | FLAG_BENCH_CHANNELS) != 0,
    };
    let mut monitor = Monitor::new(platform, me, links);
    monitor.link(LINK_TIMEOUT_S);
    publish_nodes(node, &monitor);
    // After linking: the boot node's summary and self-checks are out, so
    // programs' output never lands inside them.
    crate::kernel::proc::start_init(node);
    if info.is_boot_node() {
        let all_linked = monitor.wait_all_linked(LINK_TIMEOUT_S);
        if info.flags & FLAG_KTEST_CHANNELS != 0 {
            monitor.channel_tests(TEST_MESSAGES, all_linked);
        }
        if info.flags & FLAG_BENCH_CHANNELS != 0 {
            monitor.bench(BENCH_ROUND_TRIPS, BENCH_MESSAGES);
        }
    }
    let init_status = || crate::kernel::requests::INIT_STATUS.get();
    let asked = || crate::kernel::requests::power_off_request().is_some();
    serve_until(&mut monitor, |_| init_status().is_some() || asked());
    if let Some(status) = init_status() {
        monitor.finished(status);
    }
    if info.is_boot_node() {
        // The machine is done when every node's init is, or when a program
        // asks to switch off.
        serve_until(&mut monitor, |m| asked() || m.all_finished());
        let traced = info.flags & FLAG_TRACE != 0;
        let power_off = |monitor: &mut Monitor<'_, MonitorPlatform<'_>>, why: core::fmt::Arguments<'_>| {
            if traced {
                monitor.collect_traces(TRACE_TIMEOUT_S);
            }
            owner::power_off(node, why);
        };
        match crate::kernel::requests::power_off_request() {
            Some((pid, name)) => {
                power_off(&mut monitor, format_args!("asked by pid {pid} ({})", user_abi::name_str(&name)));
            }
            None if info.flags & handoff::bootinfo::FLAG_POWEROFF != 0 => {
                power_off(&mut monitor, format_args!("every node's programs have ended (bootarg poweroff)"));
            }
            None => monitor.platform().print(format_args!(
                "machine: every node's programs have ended; staying up (bootarg poweroff switches off)"
            )),
        }
        serve_until(&mut monitor, |_| false);
    }
    monitor.serve()
}
