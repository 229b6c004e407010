//! Tracing (bootarg `trace`): every core records its scheduling events and
//! its monitor's messages into a ring of its own, in the node's private
//! RAM, stamped by the generic counter (see `trace_ring`). The rings leave
//! the machine through the node's console ring: the monitor prints them
//! when the coordinator asks (before power-off, and on the shell's `trace`).
//! Without `trace` every hook is one load and a branch.

use crate::kernel::ctx::Node;
use core::fmt::Write;
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use trace_ring::{CoreRing, Event, Kind};

/// The node's rings (null: tracing is off), one per core. `static`s so a
/// hook costs one load when tracing is off, and takes no lock when on.
static AREA: AtomicPtr<CoreRing> = AtomicPtr::new(core::ptr::null_mut());
static CORES: AtomicUsize = AtomicUsize::new(0);

/// Bytes the rings of `cores` cores take.
pub fn area_bytes(cores: usize) -> u64 {
    trace_ring::area_bytes(cores) as u64
}

/// Turns tracing on, with the rings at `va` (mapped node RAM of
/// [`area_bytes`], used for nothing else); the node's first core, once.
pub fn init(va: u64, cores: usize) {
    // SAFETY: the caller gives this range of the node's own RAM to the
    // rings alone; all-zero bytes are empty rings.
    unsafe { core::ptr::write_bytes(va as *mut u8, 0, trace_ring::area_bytes(cores)) };
    CORES.store(cores, Ordering::Relaxed);
    AREA.store(va as *mut CoreRing, Ordering::Release);
}

fn ring(core: usize) -> Option<&'static CoreRing> {
    let area = AREA.load(Ordering::Acquire);
    if area.is_null() || core >= CORES.load(Ordering::Relaxed) {
        return None;
    }
    // SAFETY: `init` placed `CORES` rings at `area`, which stay for the
    // node's lifetime.
    Some(unsafe { &*area.add(core) })
}

/// Records `event` on this core's ring (the process code stamps and fills
/// its own; the monitor's come through [`message`]).
pub fn record(event: Event) {
    if let Some(r) = ring(crate::arch::cpu::this_core()) {
        r.record(event);
    }
}

/// The monitor sent (or received) message `seq` of `kind` to (from) `peer`.
pub fn message(sent: bool, peer: u32, kind: u8, seq: u64) {
    if AREA.load(Ordering::Relaxed).is_null() {
        return;
    }
    let what = if sent { Kind::Send } else { Kind::Recv };
    let mut e = Event::new(what, crate::devices::time::now(), 0);
    (e.peer, e.reason, e.arg) = (peer as u16, kind, seq);
    record(e);
}

/// Prints every core's events since the last dump through the console,
/// between a `begin` and an `end` line; returns (events, lost).
pub fn dump(node: &Node) -> (u64, u64) {
    let info = node.info;
    let id = info.node_id;
    let cores = CORES.load(Ordering::Relaxed);
    if AREA.load(Ordering::Acquire).is_null() {
        return (0, 0);
    }
    let mut line = crate::kernel::console::Line::new();
    let _ = write!(
        line,
        "trace: node {id} begin build={} capacity={} cores={cores} hz={} mpidr=",
        crate::config::NAME,
        info.capacity,
        crate::devices::time::frequency()
    );
    for (i, c) in info.cores().iter().enumerate() {
        let _ = write!(line, "{}{:#x}", if i == 0 { "" } else { "," }, c.mpidr);
    }
    crate::kernel::console::emit_bulk(&line);
    let (mut events, mut lost) = (0, 0);
    for core in 0..cores {
        let Some(r) = ring(core) else { continue };
        let d = r.dump(|e| {
            let mut line = crate::kernel::console::Line::new();
            let _ = trace_ring::write_line(&mut line, id, core as u32, e);
            crate::kernel::console::emit_bulk(&line);
        });
        events += d.events;
        lost += d.lost;
    }
    crate::println!("trace: node {id} end events={events} lost={lost}");
    (events, lost)
}
