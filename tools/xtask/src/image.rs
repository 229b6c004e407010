//! ELF to flat binary: what a loader copies to memory.

use crate::Result;
use object::{Object, ObjectSegment};

/// Lays the loadable bytes of `elf` out from its lowest segment address.
/// BSS (memory without file bytes) is not included: the images carry their
/// in-memory size in their headers.
pub fn flatten(elf: &[u8]) -> Result<Vec<u8>> {
    let file = object::File::parse(elf).map_err(|e| format!("not an ELF file: {e}"))?;
    let mut parts = Vec::new();
    for seg in file.segments() {
        let data = seg.data().map_err(|e| format!("bad ELF segment: {e}"))?;
        if !data.is_empty() {
            parts.push((seg.address(), data));
        }
    }
    let base = parts.iter().map(|p| p.0).min().ok_or("ELF has no loadable segments")?;
    let end = parts.iter().map(|p| p.0 + p.1.len() as u64).max().unwrap_or(base);
    let mut out = vec![0u8; (end - base) as usize];
    for (addr, data) in parts {
        let at = (addr - base) as usize;
        out[at..at + data.len()].copy_from_slice(data);
    }
    Ok(out)
}
