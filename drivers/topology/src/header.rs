//! Checks the FDT header before the parser sees the blob.
//!
//! The `fdt` crate trusts header offsets enough to slice with them; checking
//! them here first is what lets a corrupt blob become an error, not a panic.

use crate::Error;

/// Size of the FDT header (version 17).
pub const HEADER_LEN: usize = 40;
/// The first word of every flattened device tree.
pub const DTB_MAGIC: u32 = 0xd00d_feed;
const MIN_STRUCT_LEN: usize = 16;

/// The header fields the topology reader needs, already bounds-checked.
#[derive(Debug, Clone, Copy)]
pub struct Header {
    pub total_size: usize,
    pub mem_rsvmap_offset: usize,
    pub boot_cpuid: u32,
}

fn be32(blob: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&blob[at..at + 4]);
    u32::from_be_bytes(w)
}

/// Validates the header of `blob` and returns the fields we use.
pub fn check(blob: &[u8]) -> Result<Header, Error> {
    if blob.is_empty() {
        return Err(Error::Empty);
    }
    if blob.len() < HEADER_LEN {
        return Err(Error::TooShort { len: blob.len() });
    }
    let magic = be32(blob, 0);
    if magic != DTB_MAGIC {
        return Err(Error::BadMagic { found: magic });
    }
    let total_size = be32(blob, 4);
    if total_size as usize > blob.len() {
        return Err(Error::Truncated { total_size, len: blob.len() });
    }
    let total = total_size as usize;
    if total < HEADER_LEN {
        return Err(Error::BadHeader { field: "totalsize" });
    }
    let version = be32(blob, 20);
    if version < 17 {
        return Err(Error::UnsupportedVersion { version });
    }
    let block = |offset: usize, size: usize, field| {
        let end = (be32(blob, offset) as usize).checked_add(be32(blob, size) as usize);
        match end {
            Some(end) if end <= total && be32(blob, offset) as usize >= HEADER_LEN => Ok(()),
            _ => Err(Error::BadHeader { field }),
        }
    };
    block(8, 36, "structure block")?;
    block(12, 32, "strings block")?;
    if !be32(blob, 8).is_multiple_of(4) {
        return Err(Error::BadHeader { field: "structure block alignment" });
    }
    // The smallest structure block (BEGIN_NODE, empty root name, END_NODE,
    // END) is 16 bytes; `fdt` underflows (panics in debug builds) on one
    // shorter than 8.
    if (be32(blob, 36) as usize) < MIN_STRUCT_LEN {
        return Err(Error::BadHeader { field: "structure block size" });
    }
    let mem_rsvmap_offset = be32(blob, 16) as usize;
    if mem_rsvmap_offset < HEADER_LEN || mem_rsvmap_offset > total || !mem_rsvmap_offset.is_multiple_of(8) {
        return Err(Error::BadHeader { field: "memory reservation map" });
    }
    Ok(Header { total_size: total, mem_rsvmap_offset, boot_cpuid: be32(blob, 28) })
}

/// Iterates the `/memreserve/` entries, stopping at the terminator or at the
/// end of the blob (a missing terminator is reported as an error).
pub fn mem_reservations<'a>(blob: &'a [u8], header: &Header) -> impl Iterator<Item = Result<(u64, u64), Error>> + 'a {
    let mut next = Some(header.mem_rsvmap_offset);
    let end = header.total_size;
    core::iter::from_fn(move || {
        let at = next.take()?;
        if at + 16 > end {
            return Some(Err(Error::BadHeader { field: "memory reservation map terminator" }));
        }
        let word = |o: usize| (u64::from(be32(blob, o)) << 32) | u64::from(be32(blob, o + 4));
        let (addr, size) = (word(at), word(at + 8));
        if addr == 0 && size == 0 {
            return None;
        }
        next = Some(at + 16);
        Some(Ok((addr, size)))
    })
}
