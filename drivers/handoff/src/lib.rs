//! The contract between the boot driver and the CPU driver.
//!
//! The boot driver writes, into each node's private RAM, the CPU-driver image,
//! a [`NodeBootInfo`], one [`CoreStart`] record per core and the node's page
//! tables, all at the offsets [`NodeLayout`] gives. The CPU driver reads them
//! after its MMU is on. Both sides are built from this crate, and the layout
//! and page tables are tested on the host.
//!
//! Virtual memory of every node (39-bit, TTBR1):
//!
//! | VA                      | maps                                     |
//! |-------------------------|------------------------------------------|
//! | [`KERNEL_VA`]           | the node's private RAM (image first)     |
//! | [`SHARED_VA`]           | the inter-node region (consoles, channels) |
//! | [`DEVICE_VA`]           | the devices this node may touch          |
//!
//! TTBR0 identity-maps only the node's image, for the instant the MMU turns
//! on. Nothing maps another node's private RAM.

#![no_std]

pub mod bootinfo;
pub mod console;
pub mod layout;
pub mod paging;

pub use bootinfo::{CoreEntry, CoreStart, NodeBootInfo};
pub use layout::NodeLayout;

/// Where a node's private RAM appears in its own address space.
pub const KERNEL_VA: u64 = 0xFFFF_FF80_0000_0000;
/// Where the shared inter-node region appears.
pub const SHARED_VA: u64 = 0xFFFF_FFC0_0000_0000;
/// Where device registers appear.
pub const DEVICE_VA: u64 = 0xFFFF_FFE0_0000_0000;
/// Most cores one node has.
pub const MAX_NODE_CPUS: usize = 16;
/// Most nodes a machine has.
pub const MAX_NODES: usize = 16;
/// Size of a page.
pub const PAGE: u64 = 4096;

/// The CPU-driver image header, at offset 8 of every CPU-driver image.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageHeader {
    /// [`IMAGE_MAGIC`].
    pub magic: [u8; 8],
    /// ABI version: must equal [`ABI_VERSION`].
    pub abi_version: u32,
    /// [`BUILD_BIG`] or [`BUILD_LITTLE`].
    pub build: u32,
    /// Bytes to copy from the image file.
    pub file_size: u64,
    /// Bytes the image occupies in memory (file plus zeroed BSS).
    pub mem_size: u64,
}

/// Identifies a CPU-driver image.
pub const IMAGE_MAGIC: [u8; 8] = *b"MKCPUDRV";
/// Offset of [`ImageHeader`] in the image (after the branch at offset 0).
pub const IMAGE_HEADER_OFFSET: usize = 8;
/// Bumped whenever any structure in this crate changes layout.
pub const ABI_VERSION: u32 = 6;
/// The affinity fields of MPIDR_EL1 (Aff3, Aff2, Aff1, Aff0), as a device
/// tree's cpu `reg` holds them: everything but the MT and U bits.
pub const MPIDR_AFFINITY: u64 = 0xff_00ff_ffff;
/// Build id of the `big` CPU driver.
pub const BUILD_BIG: u32 = 1;
/// Build id of the `little` CPU driver.
pub const BUILD_LITTLE: u32 = 2;

/// Why an embedded CPU-driver image was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageError {
    Missing,
    BadMagic,
    AbiMismatch { found: u32 },
    WrongBuild { found: u32 },
    BadSize,
}

impl core::fmt::Display for ImageError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            ImageError::Missing => write!(f, "no CPU-driver image embedded (build with `cargo xtask build`)"),
            ImageError::BadMagic => write!(f, "embedded CPU-driver image has a bad header"),
            ImageError::AbiMismatch { found } => {
                write!(f, "CPU-driver image speaks handoff ABI {found}, boot driver {ABI_VERSION}")
            }
            ImageError::WrongBuild { found } => {
                write!(f, "CPU-driver image has build id {found}, not the one asked for")
            }
            ImageError::BadSize => write!(f, "CPU-driver image sizes are inconsistent"),
        }
    }
}

impl ImageHeader {
    /// Reads and checks the header of `image`, expecting build `build`.
    pub fn parse(image: &[u8], build: u32) -> Result<ImageHeader, ImageError> {
        let h = image
            .get(IMAGE_HEADER_OFFSET..IMAGE_HEADER_OFFSET + core::mem::size_of::<ImageHeader>())
            .ok_or(ImageError::Missing)?;
        let word = |at: usize| u32::from_le_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]);
        let dword = |at: usize| u64::from(word(at)) | (u64::from(word(at + 4)) << 32);
        let mut magic = [0u8; 8];
        magic.copy_from_slice(&h[..8]);
        let header =
            ImageHeader { magic, abi_version: word(8), build: word(12), file_size: dword(16), mem_size: dword(24) };
        if header.magic != IMAGE_MAGIC {
            return Err(ImageError::BadMagic);
        }
        if header.abi_version != ABI_VERSION {
            return Err(ImageError::AbiMismatch { found: header.abi_version });
        }
        if header.build != build {
            return Err(ImageError::WrongBuild { found: header.build });
        }
        if header.file_size > image.len() as u64 || header.mem_size < header.file_size {
            return Err(ImageError::BadSize);
        }
        Ok(header)
    }
}

/// A physical range, page-granular where it matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct PhysRange {
    pub start: u64,
    pub size: u64,
}

impl PhysRange {
    pub fn end(&self) -> u64 {
        self.start.saturating_add(self.size)
    }
    pub fn contains(&self, pa: u64) -> bool {
        pa >= self.start && pa < self.end()
    }
}

/// Rounds up to a page.
pub const fn page_up(x: u64) -> u64 {
    (x + PAGE - 1) & !(PAGE - 1)
}
