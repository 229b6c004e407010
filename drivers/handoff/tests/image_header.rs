//! The boot driver refuses CPU-driver images it cannot run.

use handoff::{ImageError, ImageHeader, ABI_VERSION, BUILD_BIG, BUILD_LITTLE, IMAGE_MAGIC};

fn image(abi: u32, build: u32, file: u64, mem: u64, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    v[8..16].copy_from_slice(&IMAGE_MAGIC);
    v[16..20].copy_from_slice(&abi.to_le_bytes());
    v[20..24].copy_from_slice(&build.to_le_bytes());
    v[24..32].copy_from_slice(&file.to_le_bytes());
    v[32..40].copy_from_slice(&mem.to_le_bytes());
    v
}

#[test]
fn a_good_header_is_read() {
    let h = ImageHeader::parse(&image(ABI_VERSION, BUILD_BIG, 100, 4096, 100), BUILD_BIG).expect("valid");
    assert_eq!((h.file_size, h.mem_size), (100, 4096));
}

#[test]
fn bad_images_are_refused_with_the_reason() {
    assert_eq!(ImageHeader::parse(&[], BUILD_BIG), Err(ImageError::Missing));
    let mut bad = image(ABI_VERSION, BUILD_BIG, 100, 4096, 100);
    bad[8] = b'X';
    assert_eq!(ImageHeader::parse(&bad, BUILD_BIG), Err(ImageError::BadMagic));
    let old = image(ABI_VERSION + 1, BUILD_BIG, 100, 4096, 100);
    assert_eq!(ImageHeader::parse(&old, BUILD_BIG), Err(ImageError::AbiMismatch { found: ABI_VERSION + 1 }));
    let little = image(ABI_VERSION, BUILD_LITTLE, 100, 4096, 100);
    assert_eq!(ImageHeader::parse(&little, BUILD_BIG), Err(ImageError::WrongBuild { found: BUILD_LITTLE }));
    let short = image(ABI_VERSION, BUILD_BIG, 200, 4096, 100);
    assert_eq!(ImageHeader::parse(&short, BUILD_BIG), Err(ImageError::BadSize));
    let shrunk = image(ABI_VERSION, BUILD_BIG, 100, 50, 100);
    assert_eq!(ImageHeader::parse(&shrunk, BUILD_BIG), Err(ImageError::BadSize));
}
