//! The message kinds and their bodies. Adding a kind: one body struct and
//! one line in `messages!`; numbers are never reused.

use crate::{body_bytes, read_body, Frame, Payload};
use zerocopy::little_endian::{U32, U64};
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
}
