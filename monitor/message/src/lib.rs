//! Messages between monitors: typed, fixed-layout and versioned, each framed
//! in one 56-byte channel payload.
//!
//! | bytes  | field                                                    |
//! |--------|----------------------------------------------------------|
//! | 0      | frame version, [`VERSION`]                                |
//! | 1      | kind ([`Kind`])                                           |
//! | 2      | body length: exactly the kind's body size                 |
//! | 3      | flags: zero (none defined yet)                            |
//! | 4..8   | CRC-32C (Castagnoli), little-endian, of bytes 0..4 and the body |
//! | 8..56  | body, little-endian fields; bytes past the length are zero |
//!
//! [`decode`] trusts nothing: a wrong version, a bad checksum, flags set,
//! an unknown kind, a wrong length or non-zero padding each give their own
//! [`DecodeError`], and [`Rejects`] counts them. Encoding is canonical, so
//! `decode(p)` succeeding implies `decode(p)?.encode() == p`.

#![no_std]

mod bodies;

pub use bodies::*;

use zerocopy::{FromBytes, IntoBytes};

/// A channel payload.
pub type Payload = [u8; PAYLOAD];
/// Bytes of a payload (the channel's slot minus its sequence word).
pub const PAYLOAD: usize = 56;
/// Bytes before the body.
pub const HEADER: usize = 8;
/// Largest body.
pub const BODY_MAX: usize = PAYLOAD - HEADER;
/// The frame version this code speaks.
pub const VERSION: u8 = 1;

const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);

/// Why a payload is not a valid message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// Another frame version: nothing else in it can be read.
    Version { found: u8 },
    /// The checksum does not match the frame.
    Checksum { found: u32, computed: u32 },
    /// Flag bits this version does not define.
    Flags { found: u8 },
    /// No such message kind.
    UnknownKind { found: u8 },
    /// The body length is not the kind's.
    Length { kind: Kind, found: u8, expected: u8 },
    /// Bytes after the body are not zero.
    Padding,
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            DecodeError::Version { found } => write!(f, "frame version {found}, expected {VERSION}"),
            DecodeError::Checksum { found, computed } => {
                write!(f, "checksum {found:#010x}, frame sums to {computed:#010x}")
            }
            DecodeError::Flags { found } => write!(f, "unknown flags {found:#04x}"),
            DecodeError::UnknownKind { found } => write!(f, "unknown message kind {found}"),
            DecodeError::Length { kind, found, expected } => {
                write!(f, "{kind:?} body of {found} bytes, expected {expected}")
            }
            DecodeError::Padding => write!(f, "non-zero bytes after the body"),
        }
    }
}

/// Rejected frames, counted by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rejects {
    pub version: u32,
    pub checksum: u32,
    pub flags: u32,
    pub kind: u32,
    pub length: u32,
    pub padding: u32,
}

impl Rejects {
    /// Counts one rejected frame.
    pub fn record(&mut self, e: &DecodeError) {
        let n = match e {
            DecodeError::Version { .. } => &mut self.version,
            DecodeError::Checksum { .. } => &mut self.checksum,
            DecodeError::Flags { .. } => &mut self.flags,
            DecodeError::UnknownKind { .. } => &mut self.kind,
            DecodeError::Length { .. } => &mut self.length,
            DecodeError::Padding => &mut self.padding,
        };
        *n = n.saturating_add(1);
    }

    /// All rejected frames.
    pub fn total(&self) -> u32 {
        [self.version, self.checksum, self.flags, self.kind, self.length, self.padding]
            .iter()
            .fold(0u32, |a, &b| a.saturating_add(b))
    }
}

/// A frame's fields before sealing: how [`Message::encode`] builds frames,
/// and how tests forge bad ones on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    pub version: u8,
    pub kind: u8,
    pub len: u8,
    pub flags: u8,
    pub body: [u8; BODY_MAX],
}

impl Frame {
    /// A current-version frame of `kind` around `body`.
    pub fn new(kind: Kind, body: &[u8]) -> Frame {
        let mut b = [0; BODY_MAX];
        let len = body.len().min(BODY_MAX);
        b[..len].copy_from_slice(&body[..len]);
        Frame { version: VERSION, kind: kind as u8, len: len as u8, flags: 0, body: b }
    }

    /// The payload, with the checksum the fields call for.
    pub fn seal(&self) -> Payload {
        let mut p = [0; PAYLOAD];
        p[..4].copy_from_slice(&[self.version, self.kind, self.len, self.flags]);
        p[HEADER..].copy_from_slice(&self.body);
        let sum = checksum(&p);
        p[4..8].copy_from_slice(&sum.to_le_bytes());
        p
    }
}

/// CRC-32C over the first four bytes and the body (as long as the length
/// byte says, clamped to the body).
fn checksum(p: &Payload) -> u32 {
    let len = usize::from(p[2]).min(BODY_MAX);
    let mut digest = CRC.digest();
    digest.update(&p[..4]);
    digest.update(&p[HEADER..HEADER + len]);
    digest.finalize()
}

/// Validates and decodes a received payload.
pub fn decode(p: &Payload) -> Result<Message, DecodeError> {
    if p[0] != VERSION {
        return Err(DecodeError::Version { found: p[0] });
    }
    let found = u32::from_le_bytes([p[4], p[5], p[6], p[7]]);
    let computed = checksum(p);
    if found != computed {
        return Err(DecodeError::Checksum { found, computed });
    }
    if p[3] != 0 {
        return Err(DecodeError::Flags { found: p[3] });
    }
    let kind = Kind::from_u8(p[1]).ok_or(DecodeError::UnknownKind { found: p[1] })?;
    let expected = kind.body_len() as u8;
    if p[2] != expected {
        return Err(DecodeError::Length { kind, found: p[2], expected });
    }
    let body = &p[HEADER..HEADER + usize::from(expected)];
    if p[HEADER + usize::from(expected)..].iter().any(|&b| b != 0) {
        return Err(DecodeError::Padding);
    }
    Ok(Message::read(kind, body))
}

fn read_body<T: FromBytes>(body: &[u8]) -> T {
    // Lengths were checked against the kind, so this cannot fail; a zeroed
    // body is the harmless answer if it ever did.
    T::read_from_bytes(body).unwrap_or_else(|_| T::new_zeroed())
}

/// The body of a frame, as bytes.
fn body_bytes<T: IntoBytes + zerocopy::Immutable>(b: &T) -> &[u8] {
    b.as_bytes()
}

/// The little-endian field types message bodies are made of.
pub mod le {
    pub use zerocopy::little_endian::{U16, U32, U64};
}
