//! A program's address space from its ELF file: every `PT_LOAD` segment at
//! its address with exactly its permissions (a segment both writable and
//! executable is refused: W^X), and the stack's top page (the kernel backs
//! the rest on first touch). Everything in the file is
//! checked; a bad file is an error, never a panic.

use crate::{Frames, MapError, Memory, Perm, UserSpace, PAGE};
use object::elf::{FileHeader64, EM_AARCH64, PF_W, PF_X, PT_LOAD};
use object::read::elf::{FileHeader, ProgramHeader};
use object::Endianness;
use user_abi::{MAP_BASE, STACK_TOP, USER_IMAGE_BASE};

/// Why a program could not be loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadError {
    /// Not enough free frames.
    NoMemory,
    /// The file is not a program this kernel runs; says why.
    BadFile(&'static str),
}

impl From<MapError> for LoadError {
    fn from(e: MapError) -> Self {
        match e {
            MapError::NoMemory => LoadError::NoMemory,
            MapError::BadAddress => LoadError::BadFile("segment at a bad address"),
            MapError::Occupied => LoadError::BadFile("segments overlap"),
        }
    }
}

/// A loaded program: its space and where it starts.
#[derive(Debug)]
pub struct Program {
    pub space: UserSpace,
    pub entry: u64,
}

/// Builds a new space tagged `asid` holding the program `file`; on any
/// error every frame taken is given back.
pub fn load(frames: &mut Frames, mem: &impl Memory, asid: u16, file: &[u8]) -> Result<Program, LoadError> {
    let mut space = UserSpace::new(frames, mem, asid)?;
    match fill(&mut space, frames, mem, file) {
        Ok(entry) => Ok(Program { space, entry }),
        Err(e) => {
            space.destroy(frames, mem);
            Err(e)
        }
    }
}

fn fill(space: &mut UserSpace, frames: &mut Frames, mem: &impl Memory, file: &[u8]) -> Result<u64, LoadError> {
    let bad = LoadError::BadFile;
    let header = FileHeader64::<Endianness>::parse(file).map_err(|_| bad("not an ELF64 file"))?;
    let endian = header.endian().map_err(|_| bad("unknown byte order"))?;
    if header.e_machine(endian) != EM_AARCH64 {
        return Err(bad("not an AArch64 program"));
    }
    let entry = header.e_entry(endian);
    let mut entry_in_code = false;
    for ph in header.program_headers(endian, file).map_err(|_| bad("bad program headers"))? {
        if ph.p_type(endian) != PT_LOAD {
            continue;
        }
        let (va, memsz, flags) = (ph.p_vaddr(endian), ph.p_memsz(endian), ph.p_flags(endian));
        let data = ph.data(endian, file).map_err(|_| bad("segment outside the file"))?;
        let end = va.checked_add(memsz).ok_or(bad("segment wraps around"))?;
        if va < USER_IMAGE_BASE || end > MAP_BASE {
            return Err(bad("segment outside the program area"));
        }
        if data.len() as u64 > memsz {
            return Err(bad("segment holds more than its size"));
        }
        let perm = match (flags & PF_W != 0, flags & PF_X != 0) {
            (true, true) => return Err(bad("segment both writable and executable")),
            (true, false) => Perm::ReadWrite,
            (false, true) => Perm::Code,
            (false, false) => Perm::ReadOnly,
        };
        let mut page = va & !(PAGE - 1);
        while page < end {
            space.map_new(frames, mem, page, perm)?;
            page += PAGE;
        }
        space.load(mem, va, data).map_err(|_| bad("segment data does not fit"))?;
        entry_in_code |= perm == Perm::Code && (va..end).contains(&entry);
    }
    if !entry_in_code {
        return Err(bad("entry point not in an executable segment"));
    }
    // Only the stack's top page: the kernel backs the rest on first touch
    // (`processes::Kernel::first_touch`).
    space.map_new(frames, mem, STACK_TOP - PAGE, Perm::ReadWrite)?;
    Ok(entry)
}
