//! What a monitor needs from the kernel it runs on.

use crate::link::BYTES_MAX;
use core::fmt;
use message::Message;

/// How a monitor waits when it has nothing to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Arm every channel's doorbell and sleep until a peer rings.
    Interrupt,
    /// Arm nothing: look at the channels again after a short sleep.
    Polling,
}

impl Mode {
    /// The wire number ([`message::TestStart::mode`]).
    pub fn wire(self) -> u32 {
        match self {
            Mode::Interrupt => 0,
            Mode::Polling => 1,
        }
    }

    /// The mode numbered `n` on the wire.
    pub fn from_wire(n: u32) -> Option<Mode> {
        match n {
            0 => Some(Mode::Interrupt),
            1 => Some(Mode::Polling),
            _ => None,
        }
    }

    /// As printed in test names and benchmark lines.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Interrupt => "ipi",
            Mode::Polling => "poll",
        }
    }
}

/// The kernel below a monitor.
pub trait Platform {
    /// How the channel ends wake their peers.
    type Notifier: channel::Notifier;
    /// A notifier for one channel end.
    fn notifier(&self) -> Self::Notifier;
    /// A monotonic counter.
    fn now(&self) -> u64;
    /// Counter ticks per second.
    fn frequency(&self) -> u64;
    /// Prints one console line.
    fn print(&self, line: fmt::Arguments<'_>);
    /// Work the node does between monitor steps (the console owner drains
    /// the console rings). Returns true if there was any.
    fn service(&self) -> bool {
        false
    }
    /// Sleeps: in [`Mode::Interrupt`] until an interrupt or the counter
    /// reaches `deadline` (`u64::MAX`: no timeout); in [`Mode::Polling`] for
    /// a short poll period.
    fn sleep(&self, mode: Mode, deadline: u64);
    /// Polls before sleeping.
    fn poll_spins(&self) -> u32 {
        1024
    }
    /// Records a message sent (`sent`) to or received from `peer`: its
    /// kind byte and the channel's sequence number, the same at both ends.
    fn trace_message(&self, _sent: bool, _peer: u32, _kind: u8, _seq: u64) {}
    /// Records what the monitor counted, whenever it changes.
    fn publish_status(&self, _status: &crate::Status) {}
    /// Prints the node's trace; returns (events printed, events lost).
    fn dump_trace(&self) -> (u64, u64) {
        (0, 0)
    }
    /// Hands the kernel a message about processes from `from` (with the
    /// bytes that came before it); false if it is not one.
    fn deliver(&self, _from: u32, _m: &Message, _bytes: &[u8]) -> bool {
        false
    }
    /// The kernel's next message for another node, if `room(to, bytes)`
    /// says its link can take it now: the peer, the message, and the
    /// bytes (copied into `bytes`) that go first.
    fn take_outgoing(
        &self,
        _bytes: &mut [u8; BYTES_MAX],
        _room: &dyn Fn(u32, usize) -> bool,
    ) -> Option<(u32, Message, usize)> {
        None
    }
    /// Whether the kernel holds messages for other nodes. Asked before the
    /// monitor sleeps, and may wait for the kernel's lock: a step's
    /// [`Platform::take_outgoing`] does not, so a message posted while the
    /// lock was busy would otherwise wait for the next wake-up (its
    /// doorbell woke the step that could not take it).
    fn has_outgoing(&self) -> bool {
        false
    }
    /// Whether the node's view changed since its last update (or keeps
    /// changing: programs are running).
    fn view_due(&self) -> bool {
        false
    }
    /// Whether a core of the node was freed since the last update (a
    /// program ended or left): the next update goes sooner.
    fn view_urgent(&self) -> bool {
        false
    }
    /// The node's view update, through `emit`.
    fn view_update(&self, _emit: &mut dyn FnMut(&Message)) {}
    /// Lets the placement policy move the node's programs, if a round is
    /// due (the kernel keeps its period): whether it started a move, and
    /// the counter value at which the next round is due (the monitor
    /// sleeps no longer; `u64::MAX`: never).
    fn rebalance(&self) -> Round {
        Round { started: false, next_at: u64::MAX }
    }
}

/// What [`Platform::rebalance`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// It started a move.
    pub started: bool,
    /// The counter value at which the next round is due.
    pub next_at: u64,
}
