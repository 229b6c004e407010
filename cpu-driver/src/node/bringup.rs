//! Node bring-up: the leader core starts the rest of its cluster, waits for
//! them, and reports the node up; every other core then runs programs
//! (see [`crate::kernel::sched`]), and the leader runs the monitor.

use crate::config;
use crate::devices::gic;
use crate::devices::time;
use crate::devices::wait;
use crate::kernel::ctx::Node;
use crate::println;
use core::fmt::Write;
use core::sync::atomic::{AtomicU64, Ordering};
use handoff::bootinfo::ENABLE_SPIN_TABLE;
use handoff::console::{NODE_FAILED, NODE_UP};
use handoff::{CoreStart, NodeBootInfo, MAX_NODE_CPUS};

/// How the node's other cores announce themselves to core 0 (a `static`:
/// they do so before the node context exists).
static LEADER_BELL: AtomicU64 = AtomicU64::new(0);

/// Entry of every core once the MMU is on.
pub fn start(core: &'static CoreStart) -> ! {
    // SAFETY: the boot driver wrote `boot_info` as the VA of this node's boot
    // info page, mapped by the tables we are running on.
    let info: &'static NodeBootInfo = unsafe { &*(core.boot_info as *const NodeBootInfo) };
    let index = core.core_index as usize;
    if index == 0 {
        if info.validate().is_err() {
            // Without valid boot info there is no console to report on.
            wait::idle();
        }
        crate::kernel::heap::init();
        crate::kernel::proc::init(info);
        crate::kernel::ctx::set(info);
    }
    let bell = match gic::init_core(info) {
        Ok(bell) => bell,
        Err(e) => {
            println!("node {} core {index}: interrupt controller: {e}", info.node_id);
            wait::idle();
        }
    };
    {
        let mut k = crate::kernel::proc::KERNEL.lock();
        if let Some(b) = k.bells.get_mut(index) {
            *b = bell;
        }
    }
    let me = crate::kernel::ctx::core(index);
    me.score.store(crate::kernel::calibrate::measure(), Ordering::Relaxed);
    crate::node::selftest::record_core(index);
    me.mpidr.store(crate::arch::cpu::own_mpidr(), Ordering::Relaxed);
    if index != 0 {
        mark_online(index);
        gic::ring(LEADER_BELL.load(Ordering::Acquire));
        crate::kernel::sched::run(None, &mut [0; crate::kernel::proc::WRITE_MAX]);
        wait::idle();
    }
    LEADER_BELL.store(bell, Ordering::Release);
    mark_online(0);
    let Some(node) = crate::kernel::ctx::get() else { wait::idle() };
    if info.is_boot_node() {
        crate::node::owner::take_console(&node, bell);
    }
    lead(&node, core);
    if info.is_boot_node() {
        crate::node::owner::report_boot(&node);
    }
    crate::node::monitor::run(&node, bell)
}

/// Gives the kernel its online cores' calibration scores (slowest,
/// fastest), for the view its monitor sends.
fn publish_scores(online: u32) {
    let scores = crate::kernel::ctx::cores().iter().enumerate().filter(|(i, _)| online & (1 << i) != 0);
    let scores = scores.map(|(_, c)| u32::try_from(c.score.load(Ordering::Relaxed)).unwrap_or(u32::MAX));
    let (min, max) = scores.fold((u32::MAX, 0), |(lo, hi), s| (lo.min(s), hi.max(s)));
    crate::kernel::proc::KERNEL.lock().measured = (if max == 0 { 0 } else { min }, max);
}

/// Core `index` is up and runs its scheduler: work may be placed on it.
/// The kernel's `online` is the node's one bitmap of cores that are up.
fn mark_online(index: usize) {
    if index < MAX_NODE_CPUS {
        crate::kernel::proc::KERNEL.lock().online |= 1 << index;
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
    let online = || crate::kernel::proc::KERNEL.try_lock().map_or(0, |k| k.online);
    let deadline = info.boot_counter.saturating_add(time::ticks_us(config::CORES_TIMEOUT_US));
    let all = wait::wait_until(|| online() & expected == expected, Some(deadline));
    let online = crate::kernel::proc::KERNEL.lock().online;
    let up_at = time::now();
    if !all {
        let mut missing = crate::kernel::console::Line::new();
        for (_, cpu) in info.cores().iter().enumerate().filter(|(i, _)| online & (1 << i) == 0) {
            let _ = write!(missing, "{}{:#x}", if missing.as_bytes().is_empty() { "" } else { "," }, cpu.mpidr);
        }
        let missing = core::str::from_utf8(missing.as_bytes()).unwrap_or("");
        let ms = config::CORES_TIMEOUT_US / 1000;
        println!(
            "node {id}: only {} of {} cpus came up (missing {missing}; the deadline is {ms} ms after boot)",
            online.count_ones(),
            info.cpu_count
        );
    }

    let mut line = crate::kernel::console::Line::new();
    let _ = write!(line, "node {id} up: build={} cpus={} mpidr=", config::NAME, online.count_ones());
    let mut first = true;
    for (i, m) in crate::kernel::ctx::cores().iter().map(|c| &c.mpidr).enumerate() {
        if online & (1 << i) != 0 {
            let _ = write!(line, "{}{:#x}", if first { "" } else { "," }, m.load(Ordering::Relaxed));
            first = false;
        }
    }
    let _ = write!(line, " capacity={}", info.capacity);
    publish_scores(online);
    if let Some(status) = node.own_console().map(|c| &c.status) {
        status.cpus_up.store(online.count_ones(), Ordering::Relaxed);
        status.capacity.store(info.capacity, Ordering::Relaxed);
        status.up_at.store(up_at, Ordering::Relaxed);
        if info.flags & handoff::bootinfo::FLAG_KTEST_BOOT != 0 {
            status.checks_passed.store(crate::node::selftest::run(node, core, online), Ordering::Relaxed);
        }
        for (i, (out, score)) in
            status.scores.iter().zip(crate::kernel::ctx::cores().iter().map(|c| &c.score)).enumerate()
        {
            let up = online & (1 << i) != 0;
            out.store(if up { score.load(Ordering::Relaxed) } else { 0 }, Ordering::Relaxed);
        }
        // The console owner prints it, with the measured capacity.
        status.set_line(line.as_bytes());
        status.state.store(if online != 0 { NODE_UP } else { NODE_FAILED }, Ordering::Release);
    }
    // Again, now the state is published: the owner waits for it.
    crate::kernel::console::ring_owner(node);
}
