//! The start of the shared region: one [`NodeConsole`] per node (its
//! status words, the console owner's doorbell, its console ring), each on
//! pages of its own, so that a node maps its own and the console owner
//! (the boot node) maps them all: a console is a channel from its node to
//! the owner, and shared with no one else.
//!
//! Only the boot node drives the UART. Every node (the boot node too) writes
//! its lines into its own ring; the boot node drains the rings to the UART.
//! Each ring is single-producer (its node) single-consumer (the boot node),
//! producer and consumer indices on separate cache lines; a line is
//! published by a Release store of `head` and consumed after an Acquire load
//! of it. Nothing in a ring is trusted by the reader: lengths are clamped
//! and impossible indices are counted as corruption and skipped.

mod input;
mod printer;
mod ring;

pub use input::{InputQueue, Lost};
pub use printer::{Printer, CONTINUATION};
pub use ring::{ConsoleRing, End, Piece, Priority, KERNEL_RESERVE, RING_SLOTS, SLOT_BYTES};

use crate::{MAX_NODES, MAX_NODE_CPUS};
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};

/// Bytes of a node's status line.
pub const LINE_BYTES: usize = 252;
/// Offset in the shared region where inter-node channels may start: the
/// boot plan's default console area (`boot_plan::PlanConfig::console_area`);
/// the boot driver checks the plan's against the consoles it lays out.
pub const CHANNELS_OFFSET: u64 = 256 * 1024;

/// `NodeStatus::state` values.
pub const NODE_STARTING: u32 = 0;
pub const NODE_UP: u32 = 1;
pub const NODE_FAILED: u32 = 2;

/// One node's progress, written only by that node.
#[repr(C, align(64))]
pub struct NodeStatus {
    pub state: AtomicU32,
    pub cpus_up: AtomicU32,
    /// Generic counter when the node's last core came up.
    pub up_at: AtomicU64,
    /// Bit per boot self-check that passed (with `ktest=boot`).
    pub checks_passed: AtomicU32,
    /// The node's capacity from the device tree (normalised to 1024), for
    /// the owner to compare with what the cores measured.
    pub capacity: AtomicU32,
    /// Each core's calibration: work units per second of the generic
    /// counter, by core index (0: not measured).
    pub scores: [AtomicU64; MAX_NODE_CPUS],
    /// The node's `node N up: ...` line, which the console owner prints
    /// (with every core's measured capacity, which only it can normalise)
    /// once every node has reported.
    pub line_len: AtomicU32,
    pub line: [AtomicU8; LINE_BYTES],
}

impl NodeStatus {
    /// Stores the node's line (cut to [`LINE_BYTES`]); publish it with `state`.
    pub fn set_line(&self, text: &[u8]) {
        let n = text.len().min(LINE_BYTES);
        for (slot, &b) in self.line.iter().zip(&text[..n]) {
            slot.store(b, Ordering::Relaxed);
        }
        self.line_len.store(n as u32, Ordering::Relaxed);
    }

    /// Copies the node's line into `out`; returns its length (never more
    /// than [`LINE_BYTES`], whatever the node wrote).
    pub fn line(&self, out: &mut [u8; LINE_BYTES]) -> usize {
        let n = (self.line_len.load(Ordering::Relaxed) as usize).min(LINE_BYTES);
        for (o, slot) in out.iter_mut().zip(&self.line[..n]) {
            *o = slot.load(Ordering::Relaxed);
        }
        n
    }
}

/// The console owner's doorbell, as one node reads it.
#[repr(C, align(64))]
pub struct OwnerDoorbell {
    /// How to interrupt the console owner: `DOORBELL_VALID | target`, where
    /// target is the MPIDR (GICv3) or CPU-interface bit mask (GICv2). Zero
    /// until the owner has published it (into every node's console).
    pub bell: AtomicU64,
}

/// One node's console: written by that node (status, ring) and by the
/// console owner (its doorbell, the ring's consumer side).
#[repr(C, align(4096))]
pub struct NodeConsole {
    pub status: NodeStatus,
    pub owner: OwnerDoorbell,
    pub ring: ConsoleRing,
}

/// Set in a published doorbell.
pub const DOORBELL_VALID: u64 = 1 << 63;

/// Bytes of one node's console (whole pages).
pub const NODE_CONSOLE_BYTES: u64 = core::mem::size_of::<NodeConsole>() as u64;

const _: () = assert!(NODE_CONSOLE_BYTES.is_multiple_of(crate::PAGE));
const _: () = assert!(MAX_NODES as u64 * NODE_CONSOLE_BYTES <= CHANNELS_OFFSET);

/// Offset of node `i`'s console in the shared region.
pub const fn node_console_offset(i: usize) -> u64 {
    i as u64 * NODE_CONSOLE_BYTES
}

/// The consoles node `id` of `nodes` maps, as (offset in the shared region,
/// bytes): its own, or every node's on the console owner.
pub const fn mapped_consoles(id: usize, nodes: usize, console_owner: bool) -> (u64, u64) {
    if console_owner {
        (0, node_console_offset(nodes))
    } else {
        (node_console_offset(id), NODE_CONSOLE_BYTES)
    }
}
