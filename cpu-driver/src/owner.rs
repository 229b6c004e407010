//! Duties of the boot node: it owns the console UART. It drains every node's
//! console ring, prints the boot summary once all nodes have reported, and
//! powers off if the bootargs ask.

use crate::node::Node;
use crate::{config, time};
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use handoff::console::{Printer, DOORBELL_VALID, LINE_BYTES, NODE_STARTING, NODE_UP};
use pl011::Pl011;

/// The console UART's mapped address (0 until the boot node takes it).
static UART: AtomicU64 = AtomicU64::new(0);
/// The one reader of every ring, and what it remembers between drains.
/// Any core of the owner may drain; whoever holds this does.
static PRINTER: spin::Mutex<Printer> = spin::Mutex::new(Printer::new());

/// The console, if this node owns it.
pub fn uart() -> Option<Pl011> {
    let base = UART.load(Ordering::Acquire);
    // SAFETY: only the boot node stores here, the VA at which its tables map
    // the PL011 the device tree names as console.
    (base != 0).then(|| unsafe { Pl011::new(base as usize) })
}

/// Takes the UART and publishes how other nodes wake us.
pub fn take_console(node: &Node, bell: u64) {
    if node.info.uart_va != 0 {
        UART.store(node.info.uart_va, Ordering::Release);
        if let Some(u) = uart() {
            u.enable();
        }
    }
    for (_, console) in node.consoles() {
        console.owner.bell.store(bell | DOORBELL_VALID, Ordering::Release);
    }
    if let Some(u) = uart() {
        match crate::gic::route_uart_here(node.info, bell) {
            Ok(()) => u.enable_input(),
            Err(e) => crate::println!("console: no input: {e}"),
        }
    }
}

/// Prints everything waiting in every node's ring; returns true if there
/// was anything. Returns false at once if another core of the owner is
/// draining (each ring has one reader).
pub fn drain(node: &Node) -> bool {
    let Some(mut printer) = PRINTER.try_lock() else { return false };
    let uart = uart();
    printer.drain(node.consoles().map(|(id, c)| (id, &c.ring)), &mut |bytes| {
        if let Some(u) = &uart {
            u.write_bytes(bytes);
        }
    })
}

fn all_reported(node: &Node) -> bool {
    node.consoles().all(|(_, c)| c.status.state.load(Ordering::Acquire) != NODE_STARTING)
}

/// Waits for every node to report (or time out), then prints the boot
/// summary and, with `ktest=boot`, the self-checks.
pub fn report_boot(node: &Node) {
    let info = node.info;
    let deadline = info.boot_counter.saturating_add(time::ticks_us(config::BOOT_TIMEOUT_US));
    time::wait_until(|| all_reported(node) || time::now() >= deadline, None);
    drain(node);
    summary(node);
}

/// Prints every node's boot self-checks as one KTAP test plan.
fn ktap(node: &Node) {
    use crate::selftest::CHECKS;
    let count = node.info.node_count as usize;
    crate::println!("KTAP version 1");
    crate::println!("1..{}", count * CHECKS.len());
    for (id, s) in node.consoles().map(|(id, c)| (id, &c.status)) {
        let up = s.state.load(Ordering::Acquire) == NODE_UP;
        let passed = s.checks_passed.load(Ordering::Relaxed);
        for (i, name) in CHECKS.iter().enumerate() {
            let n = id * CHECKS.len() + i + 1;
            match (up, passed & (1 << i) != 0) {
                (true, true) => crate::println!("ok {n} node{id}_{name}"),
                (true, false) => crate::println!("not ok {n} node{id}_{name}"),
                (false, _) => crate::println!("not ok {n} node{id}_{name} # node did not come up"),
            }
        }
        // Keep the ring from overflowing: print as we go.
        drain(node);
    }
}

/// Measured capacities differing from the device tree's by more than
/// this (out of 1024) are reported.
const CAPACITY_TOLERANCE: u32 = 1024 * 15 / 100;

/// Prints every node's line, with its measured capacity (its middle core's
/// calibration against the fastest core of the machine), each node's
/// per-core figures, and a warning where the device tree disagrees.
fn node_lines(node: &Node) {
    let up = |s: &handoff::console::NodeStatus| s.state.load(Ordering::Acquire) == NODE_UP;
    let fastest = node
        .consoles()
        .filter(|(_, c)| up(&c.status))
        .flat_map(|(_, c)| c.status.scores.iter().map(|s| s.load(Ordering::Relaxed)))
        .max()
        .unwrap_or(0)
        .max(1);
    let mut text = [0u8; LINE_BYTES];
    for (id, c) in node.consoles().filter(|(_, c)| up(&c.status)) {
        let mut measured = [0u32; handoff::MAX_NODE_CPUS];
        let mut n = 0;
        for s in c.status.scores.iter().map(|s| s.load(Ordering::Relaxed)).filter(|&s| s != 0) {
            measured[n] = u32::try_from(u128::from(s) * 1024 / u128::from(fastest)).unwrap_or(u32::MAX);
            n += 1;
        }
        let mut sorted = measured;
        sorted[..n].sort_unstable();
        let middle = if n == 0 { 0 } else { sorted[(n - 1) / 2] };
        let len = c.status.line(&mut text);
        let line = core::str::from_utf8(&text[..len]).unwrap_or("");
        crate::println!("{line} measured={middle}");
        let mut per_core = crate::console::Line::new();
        for (i, m) in measured[..n].iter().enumerate() {
            let _ = write!(per_core, "{}{m}", if i == 0 { "" } else { "," });
        }
        let per_core = core::str::from_utf8(per_core.as_bytes()).unwrap_or("");
        crate::println!("calibration: node {id} measured={per_core}");
        let dt = c.status.capacity.load(Ordering::Relaxed);
        if dt.abs_diff(middle) > CAPACITY_TOLERANCE {
            crate::println!("boot: warning: node {id} measured capacity {middle}, the device tree says {dt}");
        }
        drain(node);
    }
}

fn summary(node: &Node) {
    let info = node.info;
    node_lines(node);
    let (mut nodes, mut cpus, mut last) = (0u32, 0u32, info.boot_counter);
    for (id, s) in node.consoles().map(|(id, c)| (id, &c.status)) {
        if s.state.load(Ordering::Acquire) == NODE_UP {
            nodes += 1;
            cpus += s.cpus_up.load(Ordering::Relaxed);
            last = last.max(s.up_at.load(Ordering::Relaxed));
        } else {
            crate::println!("boot: node {id} did not come up");
        }
    }
    let us = time::micros(last.saturating_sub(info.boot_counter));
    crate::println!("boot: {nodes} nodes, {cpus} cpus up in {us} us");
    if info.flags & handoff::bootinfo::FLAG_KTEST_BOOT != 0 {
        ktap(node);
    }
    drain(node);
}

/// A program asked for every node's trace (the shell's `trace`).
static TRACE_REQUEST: AtomicBool = AtomicBool::new(false);

/// Records a program's request to print every node's trace (the console
/// owner only, where the coordinator runs; with bootarg `trace`).
pub fn request_trace(node: &Node) -> Result<(), user_abi::Error> {
    if uart().is_none() || node.info.flags & handoff::bootinfo::FLAG_TRACE == 0 {
        return Err(user_abi::Error::NotSupported);
    }
    TRACE_REQUEST.store(true, Ordering::Release);
    Ok(())
}

/// Whether a trace was asked for.
pub fn trace_requested() -> bool {
    TRACE_REQUEST.load(Ordering::Acquire)
}

/// Takes the request for a trace, if there was one.
pub fn take_trace_request() -> bool {
    TRACE_REQUEST.swap(false, Ordering::AcqRel)
}

/// A program's request to switch the machine off: its pid and name.
static POWER_OFF: spin::Mutex<Option<(u32, [u8; user_abi::NAME_BYTES])>> = spin::Mutex::new(None);

/// Records a program's request to switch off (the console owner only: it
/// is the node that can say so on the console first).
pub fn request_power_off(pid: u32, name: [u8; user_abi::NAME_BYTES]) -> Result<(), user_abi::Error> {
    if uart().is_none() {
        return Err(user_abi::Error::NotSupported);
    }
    POWER_OFF.lock().get_or_insert((pid, name));
    Ok(())
}

/// Who asked to switch off, if anyone did.
pub fn power_off_request() -> Option<(u32, [u8; user_abi::NAME_BYTES])> {
    *POWER_OFF.lock()
}

/// Says why, prints every waiting line, and switches the machine off
/// through PSCI `SYSTEM_OFF`.
pub fn power_off(node: &Node, why: core::fmt::Arguments<'_>) {
    crate::println!("poweroff: {why}");
    drain(node);
    if let Some(u) = uart() {
        u.flush();
    }
    match node.psci() {
        Some(conduit) => {
            let e = cpu_start::system_off(conduit);
            crate::println!("poweroff: PSCI SYSTEM_OFF failed: {e:?}");
        }
        None => crate::println!("poweroff: no PSCI on this machine; staying up"),
    }
    drain(node);
}
