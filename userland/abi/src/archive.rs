//! The program archive: every user program, as an ELF file, packed into the
//! CPU-driver image by `cargo xtask build`.
//!
//! ```text
//! 0    magic "MKUPROGS"
//! 8    count: u32 (little endian), then 4 zero bytes
//! 16   count entries of 32 bytes: name (NUL-padded, NAME_BYTES),
//!      offset: u32, size: u32 (from the archive's start)
//! ...  the files, each 8-byte aligned
//! ```

use crate::NAME_BYTES;

pub const MAGIC: [u8; 8] = *b"MKUPROGS";
const HEADER: usize = 16;
const ENTRY: usize = NAME_BYTES + 8;
/// Most programs one archive holds.
pub const MAX_PROGRAMS: usize = 64;

/// Why an archive was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveError {
    BadMagic,
    Truncated,
    TooMany,
    /// Entry `index` points outside the archive.
    BadEntry {
        index: usize,
    },
}

impl core::fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ArchiveError::BadMagic => write!(f, "program archive has a bad magic"),
            ArchiveError::Truncated => write!(f, "program archive is truncated"),
            ArchiveError::TooMany => write!(f, "program archive lists more than {MAX_PROGRAMS} programs"),
            ArchiveError::BadEntry { index } => write!(f, "program archive entry {index} points outside it"),
        }
    }
}

/// A checked archive.
#[derive(Debug, Clone, Copy)]
pub struct Archive<'a> {
    bytes: &'a [u8],
    count: usize,
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

impl<'a> Archive<'a> {
    /// Checks the header and that every entry lies inside `bytes`.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ArchiveError> {
        if bytes.len() < HEADER {
            return Err(ArchiveError::Truncated);
        }
        if bytes[..8] != MAGIC {
            return Err(ArchiveError::BadMagic);
        }
        let count = u32_at(bytes, 8).ok_or(ArchiveError::Truncated)? as usize;
        if count > MAX_PROGRAMS {
            return Err(ArchiveError::TooMany);
        }
        if bytes.len() < HEADER + count * ENTRY {
            return Err(ArchiveError::Truncated);
        }
        let archive = Archive { bytes, count };
        for index in 0..count {
            archive.entry(index).ok_or(ArchiveError::BadEntry { index })?;
        }
        Ok(archive)
    }

    /// Number of programs.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Program `index`: its name and file.
    pub fn entry(&self, index: usize) -> Option<(&'a str, &'a [u8])> {
        if index >= self.count {
            return None;
        }
        let at = HEADER + index * ENTRY;
        let name = crate::name_str(self.bytes.get(at..at + NAME_BYTES)?);
        let offset = u32_at(self.bytes, at + NAME_BYTES)? as usize;
        let size = u32_at(self.bytes, at + NAME_BYTES + 4)? as usize;
        let file = self.bytes.get(offset..offset.checked_add(size)?)?;
        Some((name, file))
    }

    /// The file of the program called `name`.
    pub fn find(&self, name: &str) -> Option<&'a [u8]> {
        (0..self.count).filter_map(|i| self.entry(i)).find(|(n, _)| *n == name).map(|(_, f)| f)
    }

    /// Every program's name and file.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + '_ {
        (0..self.count).filter_map(|i| self.entry(i))
    }
}

/// Lays out an archive of `programs` (name, file) into `out`, which must
/// hold [`packed_size`] bytes. Returns the bytes used. For the build tool.
pub fn pack(programs: &[(&str, &[u8])], out: &mut [u8]) -> Result<usize, ArchiveError> {
    if programs.len() > MAX_PROGRAMS {
        return Err(ArchiveError::TooMany);
    }
    let size = packed_size(programs);
    let out = out.get_mut(..size).ok_or(ArchiveError::Truncated)?;
    out.fill(0);
    out[..8].copy_from_slice(&MAGIC);
    out[8..12].copy_from_slice(&(programs.len() as u32).to_le_bytes());
    let mut data = HEADER + programs.len() * ENTRY;
    for (i, (name, file)) in programs.iter().enumerate() {
        if name.len() >= NAME_BYTES {
            return Err(ArchiveError::BadEntry { index: i });
        }
        data = data.next_multiple_of(8);
        let at = HEADER + i * ENTRY;
        out[at..at + name.len()].copy_from_slice(name.as_bytes());
        out[at + NAME_BYTES..at + NAME_BYTES + 4].copy_from_slice(&(data as u32).to_le_bytes());
        out[at + NAME_BYTES + 4..at + ENTRY].copy_from_slice(&(file.len() as u32).to_le_bytes());
        out[data..data + file.len()].copy_from_slice(file);
        data += file.len();
    }
    Ok(size)
}

/// Bytes [`pack`] needs.
pub fn packed_size(programs: &[(&str, &[u8])]) -> usize {
    programs.iter().fold(HEADER + programs.len() * ENTRY, |at, (_, f)| at.next_multiple_of(8) + f.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec;

    fn packed(programs: &[(&str, &[u8])]) -> std::vec::Vec<u8> {
        let mut out = vec![0u8; packed_size(programs)];
        let n = pack(programs, &mut out).expect("pack");
        assert_eq!(n, out.len());
        out
    }

    #[test]
    fn packs_and_finds() {
        let bytes = packed(&[("init", b"\x7fELF-init"), ("shell", b"sh"), ("empty", b"")]);
        let a = Archive::parse(&bytes).expect("parse");
        assert_eq!(a.len(), 3);
        assert_eq!(a.find("init"), Some(&b"\x7fELF-init"[..]));
        assert_eq!(a.find("shell"), Some(&b"sh"[..]));
        assert_eq!(a.find("empty"), Some(&b""[..]));
        assert_eq!(a.find("nope"), None);
        assert_eq!(a.iter().map(|(n, _)| n).collect::<std::vec::Vec<_>>(), ["init", "shell", "empty"]);
    }

    #[test]
    fn refuses_broken_archives() {
        let good = packed(&[("a", b"12345678")]);
        assert_eq!(Archive::parse(&good[..10]).err(), Some(ArchiveError::Truncated));
        let mut bad = good.clone();
        bad[0] = b'X';
        assert_eq!(Archive::parse(&bad).err(), Some(ArchiveError::BadMagic));
        let mut bad = good.clone();
        bad[16 + NAME_BYTES + 4] = 0xff; // size beyond the end
        assert_eq!(Archive::parse(&bad).err(), Some(ArchiveError::BadEntry { index: 0 }));
        let mut bad = good.clone();
        bad[8] = 200;
        assert_eq!(Archive::parse(&bad).err(), Some(ArchiveError::TooMany));
        let mut bad = good;
        bad[8] = 60;
        assert_eq!(Archive::parse(&bad).err(), Some(ArchiveError::Truncated));
        let long = "x".repeat(NAME_BYTES);
        let mut out = vec![0u8; 256];
        assert!(pack(&[(&long, b"")], &mut out).is_err());
    }

    #[test]
    fn never_panics_on_garbage() {
        let good = packed(&[("a", b"12345678"), ("b", b"xyz")]);
        for i in 0..good.len() {
            for bit in 0..8 {
                let mut b = good.clone();
                b[i] ^= 1 << bit;
                if let Ok(a) = Archive::parse(&b) {
                    for (_, f) in a.iter() {
                        assert!(f.len() <= b.len());
                    }
                }
            }
        }
    }
}
