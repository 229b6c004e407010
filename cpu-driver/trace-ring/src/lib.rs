//! Trace events of one node: what each core records (a program starts or
//! stops running, wakes, is spawned, exits, moves between cores; the
//! monitor sends or receives a message), the per-core ring that records
//! them, and the console line each event is dumped as.
//!
//! A core records into its own ring only, so recording takes no lock: it
//! never blocks, never allocates, and when the ring is full the oldest
//! event is overwritten and counted as lost when the ring is dumped. The
//! dumping core reads other cores' rings while they may still record: each
//! slot is a sequence lock, so a slot being written is skipped, never read
//! torn.

#![no_std]

use core::cell::UnsafeCell;
use core::fmt::{self, Write};
use core::sync::atomic::{fence, AtomicU64, Ordering};

/// Events one core's ring holds.
pub const EVENTS_PER_CORE: usize = 16384;
/// Bytes of a program's name kept in a spawn event.
pub const NAME_BYTES: usize = 16;

/// A `u8` enum with every value in `ALL`, `from_u8`, and the word it is
/// printed as in a console line.
macro_rules! words {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $v:ident = $n:literal => $word:literal,)* }) => {
        $(#[$doc])*
        #[repr(u8)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vdoc])* $v = $n,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v,)*];

            pub fn from_u8(n: u8) -> Option<$name> {
                $name::ALL.iter().copied().find(|k| *k as u8 == n)
            }

            /// The word in the console line.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$v => $word,)*
                }
            }
        }
    };
}

words! {
    /// What happened.
    Kind {
        /// `pid` starts running on the core.
        Run = 1 => "run",
        /// `pid` stops running; `reason` says why ([`StopReason`]).
        Stop = 2 => "stop",
        /// `pid` was woken (a sleep, wait, receive or read ended).
        Wake = 3 => "wake",
        /// `pid` was spawned; `arg` is its parent, `name` its program.
        Spawn = 4 => "spawn",
        /// `pid` ended; `arg` is its encoded exit status.
        Exit = 5 => "exit",
        /// `pid` moved from core `arg` to core `peer` of the node.
        Move = 6 => "move",
        /// The monitor sent message `arg` (the channel's sequence number) of
        /// kind `reason` to node `peer`.
        Send = 7 => "send",
        /// The monitor received message `arg` of kind `reason` from node `peer`.
        Recv = 8 => "recv",
        /// `pid` left the node for node `peer` (a move between nodes).
        Leave = 9 => "leave",
        /// `pid` arrived from node `peer` and may run here.
        Arrive = 10 => "arrive",
        /// A move of `pid` to node `peer` began (it ends with `leave`).
        Depart = 11 => "depart",
    }
}

words! {
    /// Why a program stopped running on a core.
    StopReason {
        /// Its slice ended or an interrupt came.
        Preempted = 1 => "preempted",
        /// It blocked (sleep, wait, receive, read).
        Blocked = 2 => "blocked",
        /// It gave the core away (`yield`, WFI).
        Yielded = 3 => "yielded",
        /// It ended.
        Exited = 4 => "exited",
        /// It faulted and was killed.
        Faulted = 5 => "faulted",
        /// It was killed.
        Killed = 6 => "killed",
        /// Its console output is being queued (it goes on right after).
        Wrote = 7 => "wrote",
    }
}

/// One event, stamped by the generic counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct Event {
    pub time: u64,
    pub arg: u64,
    pub pid: u32,
    pub peer: u16,
    pub kind: u8,
    pub reason: u8,
    pub name: [u8; NAME_BYTES],
}

impl Event {
    pub fn new(kind: Kind, time: u64, pid: u32) -> Event {
        Event { time, kind: kind as u8, pid, ..Event::default() }
    }
}

#[repr(C)]
struct Slot {
    /// 2n + 1 while event n is written, 2n + 2 once it is.
    seq: AtomicU64,
    event: UnsafeCell<Event>,
}

/// One core's ring. All-zero bytes are an empty ring.
#[repr(C)]
pub struct CoreRing {
    /// Events recorded (written by the core only).
    head: AtomicU64,
    /// Events up to here were dumped (written by the dumping core only).
    dumped: AtomicU64,
    slots: [Slot; EVENTS_PER_CORE],
}

// SAFETY: a slot's event is written only by the ring's own core, between
// the two stores of its sequence word, and read by the dumper only through
// the sequence check that discards any read that overlapped a write.
unsafe impl Sync for CoreRing {}

/// What one dump of a ring gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dumped {
    /// Events handed out.
    pub events: u64,
    /// Events lost since the last dump: overwritten before it, or caught
    /// being written.
    pub lost: u64,
}

impl CoreRing {
    /// Records `event` (the ring's own core only).
    pub fn record(&self, event: Event) {
        let n = self.head.load(Ordering::Relaxed);
        let slot = &self.slots[(n % EVENTS_PER_CORE as u64) as usize];
        slot.seq.store(2 * n + 1, Ordering::Relaxed);
        fence(Ordering::Release);
        // SAFETY: only this core writes the slot; a reader that overlaps
        // this write sees the odd or a changed sequence word and drops it.
        unsafe { slot.event.get().write_volatile(event) };
        slot.seq.store(2 * n + 2, Ordering::Release);
        self.head.store(n + 1, Ordering::Release);
    }

    /// Hands every event recorded since the last dump to `out`, oldest
    /// first (one dumper at a time).
    pub fn dump(&self, mut out: impl FnMut(&Event)) -> Dumped {
        let head = self.head.load(Ordering::Acquire);
        let since = self.dumped.load(Ordering::Relaxed).min(head);
        let first = since.max(head.saturating_sub(EVENTS_PER_CORE as u64));
        let mut d = Dumped { events: 0, lost: first - since };
        for n in first..head {
            let slot = &self.slots[(n % EVENTS_PER_CORE as u64) as usize];
            let before = slot.seq.load(Ordering::Acquire);
            // SAFETY: a plain copy of plain data; whether it is whole is
            // decided by the sequence word read again after it.
            let event = unsafe { slot.event.get().read_volatile() };
            fence(Ordering::Acquire);
            if before != 2 * n + 2 || slot.seq.load(Ordering::Relaxed) != before {
                d.lost += 1;
                continue;
            }
            out(&event);
            d.events += 1;
        }
        self.dumped.store(head, Ordering::Relaxed);
        d
    }
}

/// Bytes of a node's trace area for `cores` cores.
pub const fn area_bytes(cores: usize) -> usize {
    cores * core::mem::size_of::<CoreRing>()
}

/// Writes `event` of core `core` of node `node` as its console line:
/// `trace: NODE CORE TIME KIND ...` (the README's console formats).
pub fn write_line(w: &mut impl Write, node: u32, core: u32, e: &Event) -> fmt::Result {
    write!(w, "trace: {node} {core} {} ", e.time)?;
    let Some(kind) = Kind::from_u8(e.kind) else { return write!(w, "unknown {}", e.kind) };
    write!(w, "{}", kind.name())?;
    match kind {
        Kind::Run | Kind::Wake => write!(w, " {}", e.pid),
        Kind::Stop => {
            let why = StopReason::from_u8(e.reason).map_or("unknown", StopReason::name);
            write!(w, " {} {why}", e.pid)
        }
        Kind::Spawn => {
            let len = e.name.iter().position(|&b| b == 0).unwrap_or(NAME_BYTES);
            let name = core::str::from_utf8(&e.name[..len]).unwrap_or("?");
            // Names are program names of the boot image: no spaces.
            write!(w, " {} {} {name}", e.pid, e.arg)
        }
        Kind::Exit => write!(w, " {} {:#x}", e.pid, e.arg),
        Kind::Move => write!(w, " {} {} {}", e.pid, e.arg, e.peer),
        Kind::Send | Kind::Recv => write!(w, " {} {} {}", e.peer, e.reason, e.arg),
        Kind::Leave | Kind::Arrive | Kind::Depart => write!(w, " {} {}", e.pid, e.peer),
    }
}
