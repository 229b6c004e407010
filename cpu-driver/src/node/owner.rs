//! Duties of the boot node: it owns the console UART. It drains every node's
//! console ring, prints the boot summary once all nodes have reported, and
//! powers off if the bootargs ask.

use crate::config;
use crate::devices::time;
use crate::devices::uart::{self, ConsoleDevice};
use crate::devices::wait;
use crate::kernel::console::drain;
use crate::kernel::ctx::Node;
use core::fmt::Write;
use core::sync::atomic::Ordering;
use handoff::console::{DOORBELL_VALID, LINE_BYTES, NODE_STARTING, NODE_UP};

/// Takes the UART and publishes how other nodes wake us.
pub fn take_console(node: &Node, bell: u64) {
    if node.info.uart_va != 0 {
        uart::take(node.info.uart_va);
        if let Some(u) = uart::console() {
            u.enable();
        }
    }
    for (_, console) in node.consoles() {
        console.owner.bell.store(bell | DOORBELL_VALID, Ordering::Release);
    }
    if let Some(u) = uart::console() {
        match crate::devices::gic::route_uart_here(node.info, bell) {
            Ok(()) => u.enable_input(),
            Err(e) => crate::println!("console: no input: {e}"),
        }
    }
}

fn all_reported(node: &Node) -> bool {
    node.consoles().all(|(_, c)| c.status.state.load(Ordering::Acquire) != NODE_STARTING)
}

/// Waits for every node to report (or time out), then prints the boot
/// summary and, with `ktest=boot`, the self-checks.
pub fn report_boot(node: &Node) {
    let info = node.info;
    let deadline = info.boot_counter.saturating_add(time::ticks_us(config::BOOT_TIMEOUT_US));
    wait::wait_until(|| all_reported(node), Some(deadline));
    drain(node);
    summary(node);
}

/// Prints every node's boot self-checks as one KTAP test plan.
fn ktap(node: &Node) {
    use crate::node::selftest::CHECKS;
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
        let mut per_core = crate::kernel::console::Line::new();
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

/// Says why, prints every waiting line, and switches the machine off
/// through PSCI `SYSTEM_OFF`.
pub fn power_off(node: &Node, why: core::fmt::Arguments<'_>) {
    crate::println!("poweroff: {why}");
    drain(node);
    if let Some(u) = uart::console() {
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
