//! Loading programs from ELF files: each segment with exactly its
//! permissions, W^X enforced, every bad file refused with its reason, and
//! not a frame lost on any path.

use address_space::host::{elf_file as elf, HostRam, Segment as Seg, EM_AARCH64};
use address_space::program::{load, LoadError};
use address_space::{Frames, Perm, PAGE};

const BASE: u64 = 0x8000_0000;

fn ram(pages: u64) -> (HostRam, Frames) {
    HostRam::new(BASE, pages, 0)
}

const AARCH64: u16 = EM_AARCH64;
const CODE: u64 = 0x40_0000;

fn good() -> Vec<u8> {
    elf(
        AARCH64,
        CODE + 4,
        &[
            Seg { va: CODE, flags: 4 | 1, data: vec![0xd5; 100], memsz: 100 },
            Seg { va: CODE + PAGE, flags: 4, data: b"constant".to_vec(), memsz: 8 },
            Seg { va: CODE + 2 * PAGE, flags: 4 | 2, data: vec![7; 10], memsz: 3 * PAGE },
        ],
    )
}

#[test]
fn a_program_gets_each_segment_with_its_permissions_and_the_top_of_its_stack() {
    let (ram, mut frames) = ram(256);
    let before = frames.free_count();
    let p = load(&mut frames, &ram, 3, &good()).expect("loads");
    assert_eq!(p.entry, CODE + 4);
    let perm = |va| p.space.translate(&ram, va).map(|t| t.1);
    assert_eq!(perm(CODE), Some(Perm::Code));
    assert_eq!(perm(CODE + PAGE), Some(Perm::ReadOnly));
    assert_eq!(perm(CODE + 4 * PAGE), Some(Perm::ReadWrite));
    assert_eq!(perm(CODE + 5 * PAGE), None);
    assert_eq!(perm(user_abi::STACK_TOP - 8), Some(Perm::ReadWrite));
    assert_eq!(perm(user_abi::STACK_TOP - PAGE - 8), None, "the rest of the stack is backed on first touch");
    assert_eq!(perm(user_abi::STACK_TOP - user_abi::STACK_SIZE - 8), None, "guard below the stack");
    let mut buf = [0u8; 12];
    p.space.copy_in(&ram, CODE + PAGE, &mut buf[..8]).expect("rodata");
    assert_eq!(&buf[..8], b"constant");
    p.space.copy_in(&ram, CODE + 2 * PAGE + 8, &mut buf).expect("data then bss");
    assert_eq!(buf, [7, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    p.space.destroy(&mut frames, &ram);
    assert_eq!(frames.free_count(), before);
}

#[test]
fn bad_files_are_refused_with_their_reason_and_leak_nothing() {
    let seg = |va, flags| Seg { va, flags, data: vec![1; 16], memsz: 16 };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (elf(AARCH64, CODE, &[seg(CODE, 4 | 2 | 1)]), "segment both writable and executable"),
        (elf(AARCH64, CODE + PAGE, &[seg(CODE, 4 | 1)]), "entry point not in an executable segment"),
        (elf(AARCH64, CODE, &[seg(CODE, 4 | 2)]), "entry point not in an executable segment"),
        (elf(AARCH64, 0x1000, &[seg(0x1000, 4 | 1)]), "segment outside the program area"),
        (elf(AARCH64, CODE, &[seg(CODE, 5), seg(CODE + 8, 4)]), "segments overlap"),
        (elf(62, CODE, &[seg(CODE, 4 | 1)]), "not an AArch64 program"),
        (
            elf(AARCH64, CODE, &[Seg { va: CODE, flags: 5, data: vec![1; 64], memsz: 8 }]),
            "segment holds more than its size",
        ),
        (b"\x7fELF".to_vec(), "not an ELF64 file"),
        (Vec::new(), "not an ELF64 file"),
    ];
    let (ram, mut frames) = ram(256);
    let before = frames.free_count();
    for (file, reason) in cases {
        let got = load(&mut frames, &ram, 1, &file).map(|p| p.entry);
        assert_eq!(got, Err(LoadError::BadFile(reason)));
        assert_eq!(frames.free_count(), before, "{reason}: frames given back");
    }
}

#[test]
fn running_out_of_frames_is_an_error_and_leaks_nothing() {
    let (ram, mut frames) = ram(8);
    let before = frames.free_count();
    assert_eq!(load(&mut frames, &ram, 1, &good()).map(|p| p.entry), Err(LoadError::NoMemory));
    assert_eq!(frames.free_count(), before);
}

#[test]
fn no_truncation_or_bit_flip_panics_or_leaks() {
    let file = good();
    let (ram, mut frames) = ram(256);
    let before = frames.free_count();
    let mut check = |bytes: &[u8]| {
        if let Ok(p) = load(&mut frames, &ram, 1, bytes) {
            p.space.destroy(&mut frames, &ram);
        }
        assert_eq!(frames.free_count(), before);
    };
    for len in 0..file.len() {
        check(&file[..len]);
    }
    for i in 0..64 + 56 * 3 {
        for bit in 0..8 {
            let mut b = file.clone();
            b[i] ^= 1 << bit;
            check(&b);
        }
    }
}
