//! Node bring-up: the leader core starts the rest of its cluster, waits for
//! them, and reports the node up; every other core then runs programs
//! (see [`crate::sched`]), and the leader runs the monitor.

use crate::{config, gic, println, time};
use core::fmt::Write;
use core::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use handoff::bootinfo::{ENABLE_SPIN_TABLE, PSCI_HVC, PSCI_SMC};
use handoff::console::{mapped_consoles, node_console_offset, NodeConsole, NODE_CONSOLE_BYTES, NODE_FAILED, NODE_UP};
use handoff::{CoreStart, NodeBootInfo, MAX_NODE_CPUS};

/// The node as this image sees it (node-private: every node has its own copy).
pub struct Node {
    pub info: &'static NodeBootInfo,
}

static INFO: AtomicPtr<NodeBootInfo> = AtomicPtr::new(core::ptr::null_mut());
/// MPIDR each core read from its own MPIDR_EL1.
static MPIDRS: [AtomicU64; MAX_NODE_CPUS] = [const { AtomicU64::new(0) }; MAX_NODE_CPUS];
/// Each core's calibration figure (see [`crate::calibrate`]).
static SCORES: [AtomicU64; MAX_NODE_CPUS] = [const { AtomicU64::new(0) }; MAX_NODE_CPUS];
/// Doorbell target of core 0, for the others to announce themselves.
static LEADER_BELL: AtomicU64 = AtomicU64::new(0);

/// The node, once core 0 has validated its boot info.
pub fn get() -> Option<Node> {
    let p = INFO.load(Ordering::Acquire);
    // SAFETY: INFO is only ever set to the validated boot info page, which
    // stays mapped for the node's lifetime.
    (!p.is_null()).then(|| Node { info: unsafe { &*p } })
}

impl Node {
    /// Node `id`'s console, if this node maps it: its own, or any on the
    /// console owner.
    pub fn console(&self, id: usize) -> Option<&'static NodeConsole> {
        let info = self.info;
        let (first, size) = mapped_consoles(info.node_id as usize, info.node_count as usize, info.is_boot_node());
        let at = node_console_offset(id);
        let mapped = at >= first && at + NODE_CONSOLE_BYTES <= first + size;
        // SAFETY: the boot driver zeroed (a valid NodeConsole) and mapped,
        // at this offset of the shared region, this node's console and, on
        // the console owner, every node's.
        mapped.then(|| unsafe { &*((info.shared_va + node_console_offset(id)) as *const NodeConsole) })
    }

    /// This node's console.
    pub fn own_console(&self) -> Option<&'static NodeConsole> {
        self.console(self.info.node_id as usize)
    }

    /// Every node's console, on the console owner (none elsewhere).
    pub fn consoles(&self) -> impl Iterator<Item = (usize, &'static NodeConsole)> + '_ {
        let count = if self.info.is_boot_node() { self.info.node_count as usize } else { 0 };
        (0..count).filter_map(|id| self.console(id).map(|c| (id, c)))
    }

    pub fn psci(&self) -> Option<cpu_start::Conduit> {
        match self.info.psci {
            PSCI_HVC => Some(cpu_start::Conduit::Hvc),
            PSCI_SMC => Some(cpu_start::Conduit::Smc),
            _ => None,
        }
    }
}

/// Entry of every core once the MMU is on.
pub fn start(core: &'static CoreStart) -> ! {
    // SAFETY: the boot driver wrote `boot_info` as the VA of this node's boot
    // info page, mapped by the tables we are running on.
    let info: &'static NodeBootInfo = unsafe { &*(core.boot_info as *const NodeBootInfo) };
    let index = core.core_index as usize;
    if index == 0 {
        if info.validate().is_err() {
            // Without valid boot info there is no console to report on.
            time::idle();
        }
        crate::heap::init();
        crate::proc::init(info);
        INFO.store(core::ptr::from_ref(info).cast_mut(), Ordering::Release);
    }
    let bell = match gic::init_core(info) {
        Ok(bell) => bell,
        Err(e) => {
            println!("node {} core {index}: interrupt controller: {e}", info.node_id);
            time::idle();
        }
    };
    {
        let mut k = crate::proc::KERNEL.lock();
        if let Some(b) = k.bells.get_mut(index) {
            *b = bell;
        }
    }
    if let Some(slot) = SCORES.get(index) {
        slot.store(crate::calibrate::measure(), Ordering::Relaxed);
    }
    crate::selftest::record_core(index);
    if let Some(slot) = MPIDRS.get(index) {
        slot.store(gic::own_mpidr(), Ordering::Relaxed);
    }
    if index != 0 {
        mark_online(index);
        gic::ring(LEADER_BELL.load(Ordering::Acquire));
        crate::sched::run(None);
        time::idle();
    }
    LEADER_BELL.store(bell, Ordering::Release);
    mark_online(0);
    let Some(node) = get() else { time::idle() };
    if info.is_boot_node() {
        crate::owner::take_console(&node, bell);
    }
    lead(&node, core);
    if info.is_boot_node() {
        crate::owner::report_boot(&node);
    }
    crate::monitor::run(&node, bell)
}

/// Core `index` is up and runs its scheduler: work may be placed on it.
/// The kernel's `online` is the node's one bitmap of cores that are up.
fn mark_online(index: usize) {
    if index < MAX_NODE_CPUS {
        crate::proc::KERNEL.lock().online |= 1 << index;
    }
}

/// Starts this node's `init` with the command line as its arguments.
pub fn start_init(node: &Node) {
    let args = node.info.bootargs().as_bytes();
    let args = &args[..args.len().min(user_abi::ARGS_BYTES)];
    let spawned = crate::proc::KERNEL.lock().spawn("init", args, 0, user_abi::SpawnOptions::default());
    if let Err(e) = spawned {
        println!(
            "node {}: cannot start init: {e} ({} programs in the image)",
            node.info.node_id,
            crate::programs::count()
        );
        // Nothing will run: the node has finished.
        crate::proc::INIT_STATUS.set(user_abi::ExitStatus::Exited(127));
    }
}

/// Core 0's work: start the siblings, wait for them, report the node.
fn lead(node: &Node, core: &CoreStart) {
    let info = node.info;
    let id = info.node_id;
    if info.build != config::BUILD {
        println!("node {id}: plan asked for build id {} but this is the {} build", info.build, config::NAME);
    }
    let mut expected = 1u32;
    for (i, cpu) in info.cores().iter().enumerate().skip(1) {
        let method = if cpu.enable == ENABLE_SPIN_TABLE {
            cpu_start::Method::SpinTable { release: cpu.release_va as *mut u64 }
        } else {
            match node.psci() {
                Some(conduit) => cpu_start::Method::Psci(conduit),
                None => {
                    println!("node {id}: cpu {:#x} wants PSCI but the machine has none", cpu.mpidr);
                    continue;
                }
            }
        };
        match cpu_start::start(method, cpu.mpidr, info.memory.start, cpu.start_record_pa) {
            Ok(()) => expected |= 1 << i,
            Err(e) => println!("node {id}: cpu {:#x} did not start: {e}", cpu.mpidr),
        }
    }
    // Never waits for the lock: a core coming up takes it to mark itself.
    let online = || crate::proc::KERNEL.try_lock().map_or(0, |k| k.online);
    let all = time::wait_until(|| online() & expected == expected, Some(config::BOOT_TIMEOUT_US));
    let online = crate::proc::KERNEL.lock().online;
    let up_at = time::now();
    if !all {
        println!("node {id}: only {} of {} cpus came up", online.count_ones(), info.cpu_count);
    }

    let mut line = crate::console::Line::new();
    let _ = write!(line, "node {id} up: build={} cpus={} mpidr=", config::NAME, online.count_ones());
    let mut first = true;
    for (i, m) in MPIDRS.iter().enumerate() {
        if online & (1 << i) != 0 {
            let _ = write!(line, "{}{:#x}", if first { "" } else { "," }, m.load(Ordering::Relaxed));
            first = false;
        }
    }
    let _ = write!(line, " capacity={}", info.capacity);
    if let Some(status) = node.own_console().map(|c| &c.status) {
        status.cpus_up.store(online.count_ones(), Ordering::Relaxed);
        status.capacity.store(info.capacity, Ordering::Relaxed);
        status.up_at.store(up_at, Ordering::Relaxed);
        if info.flags & handoff::bootinfo::FLAG_KTEST_BOOT != 0 {
            status.checks_passed.store(crate::selftest::run(node, core, online), Ordering::Relaxed);
        }
        for (i, (out, score)) in status.scores.iter().zip(SCORES.iter()).enumerate() {
            let up = online & (1 << i) != 0;
            out.store(if up { score.load(Ordering::Relaxed) } else { 0 }, Ordering::Relaxed);
        }
        // The console owner prints it, with the measured capacity.
        status.set_line(line.as_bytes());
        status.state.store(if online != 0 { NODE_UP } else { NODE_FAILED }, Ordering::Release);
    }
    // Again, now the state is published: the owner waits for it.
    crate::console::ring_owner(node);
}
