//! Loading a program of the boot image: its ELF `PT_LOAD` segments, each
//! with exactly its permissions (never writable and executable), and its
//! stack. Everything in the file is checked; a bad file is an error.

use address_space::{Frames, Perm, UserSpace, PAGE};
use object::elf::{FileHeader64, EM_AARCH64, PF_W, PF_X, PT_LOAD};
use object::read::elf::{FileHeader, ProgramHeader};
use object::Endianness;
use user_abi::{Error, MAP_BASE, STACK_SIZE, STACK_TOP, USER_IMAGE_BASE};

use super::NodeRam;

pub struct Loaded {
    pub space: UserSpace,
    pub entry: u64,
}

/// Builds a new address space tagged `asid` holding the program `file`.
pub fn load(frames: &mut Frames, ram: &NodeRam, asid: u16, file: &[u8]) -> Result<Loaded, Error> {
    let mut space = UserSpace::new(frames, ram, asid).map_err(|_| Error::NoMemory)?;
    match fill(&mut space, frames, ram, file) {
        Ok(entry) => Ok(Loaded { space, entry }),
        Err(e) => {
            space.destroy(frames, ram);
            Err(e)
        }
    }
}

fn fill(space: &mut UserSpace, frames: &mut Frames, ram: &NodeRam, file: &[u8]) -> Result<u64, Error> {
    let header = FileHeader64::<Endianness>::parse(file).map_err(|_| Error::NoSuchProgram)?;
    let endian = header.endian().map_err(|_| Error::NoSuchProgram)?;
    if header.e_machine(endian) != EM_AARCH64 {
        return Err(Error::NoSuchProgram);
    }
    let entry = header.e_entry(endian);
    let mut entry_ok = false;
    for ph in header.program_headers(endian, file).map_err(|_| Error::NoSuchProgram)? {
        if ph.p_type(endian) != PT_LOAD {
            continue;
        }
        let (va, memsz, flags) = (ph.p_vaddr(endian), ph.p_memsz(endian), ph.p_flags(endian));
        let data = ph.data(endian, file).map_err(|_| Error::NoSuchProgram)?;
        let end = va.checked_add(memsz).ok_or(Error::NoSuchProgram)?;
        if va < USER_IMAGE_BASE || end > MAP_BASE || data.len() as u64 > memsz {
            return Err(Error::NoSuchProgram);
        }
        let perm = match (flags & PF_W != 0, flags & PF_X != 0) {
            (true, true) => return Err(Error::NoSuchProgram), // W^X
            (true, false) => Perm::ReadWrite,
            (false, true) => Perm::Code,
            (false, false) => Perm::ReadOnly,
        };
        let mut page = va & !(PAGE - 1);
        while page < end {
            space.map_new(frames, ram, page, perm).map_err(|_| Error::NoMemory)?;
            page += PAGE;
        }
        space.load(ram, va, data).map_err(|_| Error::NoMemory)?;
        entry_ok |= perm == Perm::Code && (va..end).contains(&entry);
    }
    if !entry_ok {
        return Err(Error::NoSuchProgram);
    }
    let mut page = STACK_TOP - STACK_SIZE;
    while page < STACK_TOP {
        space.map_new(frames, ram, page, Perm::ReadWrite).map_err(|_| Error::NoMemory)?;
        page += PAGE;
    }
    Ok(entry)
}
