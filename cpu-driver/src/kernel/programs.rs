//! The user programs this image carries (the archive `cargo xtask build`
//! packs; see `user_abi::archive`).

use user_abi::archive::Archive;

#[repr(C, align(8))]
struct Aligned<T: ?Sized>(T);

/// The archive is part of the image (`include_bytes!`): a `static`.
static ARCHIVE: &Aligned<[u8]> = &Aligned(*include_bytes!(env!("MK_USER_ARCHIVE")));

/// The ELF file of program `name`.
pub fn find(name: &str) -> Option<&'static [u8]> {
    Archive::parse(&ARCHIVE.0).ok()?.find(name)
}

/// How many programs there are (0 when the archive is missing or broken).
pub fn count() -> usize {
    Archive::parse(&ARCHIVE.0).map_or(0, |a| a.len())
}
