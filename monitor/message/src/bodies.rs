//! The message kinds and their bodies. Adding a kind: one body struct and
//! one line in `messages!`; numbers are never reused.

use crate::{body_bytes, read_body, Frame, Payload};
use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// A monitor introduces itself to a peer: the first message on a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub struct Hello {
    pub node: U32,
    /// CPU-driver build id (`handoff::BUILD_BIG` / `BUILD_LITTLE`).
    pub build: U32,
    pub capacity: U32,
    pub cpus: U32,
}

/// A monitor tells the coordinator (the boot node) it has heard from `peers` peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub struct Linked {
    pub node: U32,
    pub peers: U32,
}

/// A monitor tells the coordinator its node's `init` ended: the node has
/// finished what the command line asked of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub struct Finished {
    pub node: U32,
    /// `init`'s exit status, as `user_abi::ExitStatus::encode`.
    pub status: U64,
}

/// The coordinator asks a monitor to print its node's trace (bootarg
/// `trace`) through its console, before power-off or on a shell command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub struct TraceDump {
    /// Which request this is, echoed in [`TraceDone`].
    pub request: U32,
}

/// A monitor tells the coordinator its trace is out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub struct TraceDone {
    pub node: U32,
    pub request: U32,
    /// Events printed, and events lost (overwritten or caught being written).
    pub events: U64,
    pub lost: U64,
}

/// The coordinator starts a test or benchmark phase on every node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub struct TestStart {
    /// What to run (the monitor's phase number).
    pub test: U32,
    /// How receivers wait: 0 doorbell interrupts, 1 polling.
    pub mode: U32,
    /// Messages per stream (or round trips).
    pub count: U64,
    /// Sequence number of each stream's first message in this phase.
    pub first_seq: U64,
}

/// One message of a test stream: its place in the stream and data derived
/// from it, so loss, duplication, reordering and damage all show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub struct StreamData {
    pub seq: U64,
    pub from: U32,
    pub to: U32,
    pub data: [U64; 4],
}

impl StreamData {
    /// Stream message `seq` from node `from` to node `to`.
    pub fn new(seq: u64, from: u32, to: u32) -> StreamData {
        let mut data = [U64::new(0); 4];
        for (i, d) in data.iter_mut().enumerate() {
            *d = U64::new(pattern(seq, from, to, i as u64));
        }
        StreamData { seq: U64::new(seq), from: U32::new(from), to: U32::new(to), data }
    }

    /// Whether the data is what `new` writes for this message's fields.
    pub fn data_ok(&self) -> bool {
        *self == StreamData::new(self.seq.get(), self.from.get(), self.to.get())
    }
}

/// A 64-bit mix (splitmix64's finaliser) of the stream coordinates.
fn pattern(seq: u64, from: u32, to: u32, i: u64) -> u64 {
    let mut z = seq ^ (u64::from(from) << 40) ^ (u64::from(to) << 48) ^ (i << 56);
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A receiver's verdict on one stream, sent to the coordinator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub struct TestReport {
    pub test: U32,
    pub mode: U32,
    pub from: U32,
    pub to: U32,
    /// Stream messages accepted, in order.
    pub received: U32,
    /// Sequence numbers skipped.
    pub lost: U32,
    /// Sequence numbers seen again.
    pub duplicated: U32,
    /// Messages that arrived after a later one.
    pub reordered: U32,
    /// Frames the decoder rejected on this channel.
    pub rejected: U32,
    /// Stream messages whose data did not match their sequence number.
    pub bad_data: U32,
    /// Generic-counter ticks from the first to the last message.
    pub elapsed_ticks: U64,
}

/// A round-trip probe; the peer answers with a [`Pong`] of the same fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub struct Ping {
    pub seq: U64,
    pub stamp: U64,
}

/// The answer to a [`Ping`].
pub type Pong = Ping;

/// Bytes of a [`Chunk`]'s data.
pub const CHUNK_BYTES: usize = 40;

/// Bytes that go with the next request on the same channel (a spawn's
/// argument string, an endpoint message): sent before it, in order, from
/// offset 0; the request names the stream and the total length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub struct Chunk {
    pub stream: U32,
    pub offset: U16,
    pub len: U16,
    pub data: [u8; CHUNK_BYTES],
}

/// A program asks another node to start a program as its child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub struct SpawnRequest {
    /// The asking node's number for this request, echoed in [`Reply`];
    /// also the [`Chunk`] stream of the argument string.
    pub request: U32,
    pub parent: U32,
    /// `user_abi::SpawnOptions::encode` (its node is the receiver).
    pub options: U64,
    pub args_len: U16,
    pub name: [u8; 24],
    pub _pad: [u8; 2],
}

/// The answer to a request: a value, or a `user_abi::Error` number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub struct Reply {
    pub request: U32,
    /// 0: `value` is the result; else the error number.
    pub error: U32,
    pub value: U64,
}

/// A program asks the node holding `pid` to end it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub struct KillRequest {
    pub request: U32,
    pub pid: U32,
    /// Who asks.
    pub by: U32,
}

/// A program whose parent lives on another node ended: to the parent's node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub struct ChildExit {
    pub child: U32,
    pub parent: U32,
    /// `user_abi::ExitStatus::encode`.
    pub status: U64,
}

/// A program sends to endpoint `endpoint` of node `node` (the message's
/// bytes came before it as a [`Chunk`] stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub struct EndpointSend {
    pub request: U32,
    pub endpoint: U32,
    pub len: U32,
    pub from: U32,
}

/// The head of one node's view update: what it is now. The programs follow
/// as `programs` [`ProgramState`] messages of the same version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub struct NodeState {
    pub node: U32,
    /// Rises with every update the node sends; an older one is stale.
    pub version: U32,
    /// Bit per core online.
    pub online: U32,
    /// The device tree's capacity of its cores.
    pub capacity: U32,
    /// The calibration scores (work per second, measured at boot) of its
    /// slowest and fastest core: a receiver turns them into capacities
    /// against the fastest score it knows.
    pub measured_min: U32,
    pub measured_max: U32,
    pub runnable: U32,
    pub programs: U32,
    /// Summed utilization of its programs.
    pub util: U32,
    pub free_pages: U32,
    /// When it was sent (the generic counter, which all cores share).
    pub stamp: U64,
}

/// One program of a node's view update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub struct ProgramState {
    pub node: U32,
    pub version: U32,
    pub pid: U32,
    pub parent: U32,
    /// Bits 0..3 `user_abi::ProcessState`, 3..5 class, 5 heavy, 6 pinned
    /// to its core, 7 pinned to its node, 8..13 core, 13 measured (an
    /// `auto` program old enough to be classified), 14..16 priority.
    pub flags: U32,
    pub util: U32,
    /// Work done: CPU time at capacity, in microseconds of a 1024 core.
    pub work: U64,
    pub cpu_ns: U64,
    /// Moves within its node, and between nodes.
    pub migrations: U32,
    pub moves: U32,
}

/// A program's name, sent once with its first [`ProgramState`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub struct ProgramName {
    pub node: U32,
    pub pid: U32,
    pub name: [u8; 24],
}

/// Someone asks the node that holds `pid` to move it to node `to`;
/// answered by a [`Reply`] once the move is over (or failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub struct MigrateRequest {
    pub request: U32,
    pub pid: U32,
    pub to: U32,
}

/// `MigratePart::what`: a piece of the process's description.
pub const PART_HEADER: u32 = 0;
/// `MigratePart::what`: a piece of one of its pages.
pub const PART_PAGE: u32 = 1;
/// `MigratePart::what`: `offset` pages of zeros from `va` on (no bytes sent).
pub const PART_ZERO: u32 = 2;
/// `MigratePart::what`: the whole description, in page `offset` of the
/// channel's transfer area.
pub const PART_AREA_HEADER: u32 = 3;
/// `MigratePart::what`: the whole page at `va`, in page `offset` of the
/// channel's transfer area.
pub const PART_AREA_PAGE: u32 = 4;

/// A piece of a process moving here: of its description, or of its page
/// at `va`. Its bytes came before it as [`Chunk`]s of stream `pid`, or
/// wait in the channel's transfer area (`PART_AREA_*`), or there are none
/// (`PART_ZERO`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub struct MigratePart {
    pub pid: U32,
    pub what: U32,
    pub va: U64,
    /// The page's permission (`processes::migrate::perm_of`).
    pub perm: U32,
    /// Where the bytes go in the description or the page; for `PART_ZERO`,
    /// how many pages; for `PART_AREA_*`, which page of the transfer area.
    pub offset: U32,
}

/// The destination of a move copied the first `copied` pages the move put
/// in the transfer area out of it: the source may fill them again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub struct MigrateCredit {
    pub pid: U32,
    pub copied: U32,
}

/// Everything of `pid` was sent: `pages` pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub struct MigrateEnd {
    pub pid: U32,
    pub pages: U32,
}

/// The destination's verdict on a move: it runs `pid` now (error 0), or
/// gave up (a `user_abi::Error` number) and the source keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub struct MigrateDone {
    pub pid: U32,
    pub error: U32,
}

macro_rules! messages {
    ($($(#[$doc:meta])* $kind:ident($body:ty) = $n:literal,)*) => {
        /// Message kinds, as numbered on the wire.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u8)]
        pub enum Kind {
            $($(#[$doc])* $kind = $n,)*
        }

        impl Kind {
            /// The kind numbered `b`, if there is one.
            pub fn from_u8(b: u8) -> Option<Kind> {
                match b {
                    $($n => Some(Kind::$kind),)*
                    _ => None,
                }
            }

            /// Whether the trace records messages of this kind: all but the
            /// bulk ones (stream data, the chunks before a request, the
            /// per-program records of a view update, whose `NodeState` head
            /// stands for it), which would crowd the programs' events out
            /// of the monitor core's ring.
            pub fn traced(self) -> bool {
                !matches!(self, Kind::StreamData | Kind::Chunk | Kind::ProgramState | Kind::ProgramName)
            }

            /// Bytes of this kind's body.
            pub fn body_len(self) -> usize {
                match self {
                    $(Kind::$kind => core::mem::size_of::<$body>(),)*
                }
            }
        }

        /// A decoded message.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Message {
            $($(#[$doc])* $kind($body),)*
        }

        impl Message {
            pub(crate) fn read(kind: Kind, body: &[u8]) -> Message {
                match kind {
                    $(Kind::$kind => Message::$kind(read_body(body)),)*
                }
            }

            /// The message's kind.
            pub fn kind(&self) -> Kind {
                match self {
                    $(Message::$kind(_) => Kind::$kind,)*
                }
            }

            /// The sealed frame.
            pub fn encode(&self) -> Payload {
                match self {
                    $(Message::$kind(b) => Frame::new(Kind::$kind, body_bytes(b)).seal(),)*
                }
            }
        }

        const _: () = { $(assert!(core::mem::size_of::<$body>() <= crate::BODY_MAX);)* };
    };
}

messages! {
    /// See [`Hello`].
    Hello(Hello) = 1,
    /// See [`Linked`].
    Linked(Linked) = 2,
    /// See [`TestStart`].
    TestStart(TestStart) = 3,
    /// See [`StreamData`].
    StreamData(StreamData) = 4,
    /// See [`TestReport`].
    TestReport(TestReport) = 5,
    /// See [`Ping`].
    Ping(Ping) = 6,
    /// See [`Pong`].
    Pong(Pong) = 7,
    /// See [`Finished`].
    Finished(Finished) = 8,
    /// See [`TraceDump`].
    TraceDump(TraceDump) = 9,
    /// See [`TraceDone`].
    TraceDone(TraceDone) = 10,
    /// See [`Chunk`].
    Chunk(Chunk) = 11,
    /// See [`SpawnRequest`].
    SpawnRequest(SpawnRequest) = 12,
    /// See [`Reply`].
    Reply(Reply) = 13,
    /// See [`KillRequest`].
    KillRequest(KillRequest) = 14,
    /// See [`ChildExit`].
    ChildExit(ChildExit) = 15,
    /// See [`EndpointSend`].
    EndpointSend(EndpointSend) = 16,
    /// See [`NodeState`].
    NodeState(NodeState) = 17,
    /// See [`ProgramState`].
    ProgramState(ProgramState) = 18,
    /// See [`ProgramName`].
    ProgramName(ProgramName) = 19,
    /// See [`MigrateRequest`].
    MigrateRequest(MigrateRequest) = 20,
    /// See [`MigratePart`].
    MigratePart(MigratePart) = 21,
    /// See [`MigrateEnd`].
    MigrateEnd(MigrateEnd) = 22,
    /// See [`MigrateDone`].
    MigrateDone(MigrateDone) = 23,
    /// See [`MigrateCredit`].
    MigrateCredit(MigrateCredit) = 24,
}
