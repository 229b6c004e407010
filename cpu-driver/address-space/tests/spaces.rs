//! Frames and user spaces over a plain buffer standing in for node RAM.

use address_space::host::HostRam;
use address_space::{BadPointer, Frames, MapError, Memory, Perm, UserSpace, PAGE};

const BASE: u64 = 0x4000_0000;

fn ram(pages: u64) -> (HostRam, Frames) {
    // Garbage, so the tests see frames zeroed before use.
    HostRam::new(BASE, pages, 0xAA)
}

#[test]
fn frames_are_zeroed_reused_and_counted() {
    let (ram, mut frames) = ram(4);
    assert_eq!(frames.total(), 4);
    let a = frames.alloc(&ram).expect("frame");
    let b = frames.alloc(&ram).expect("frame");
    assert_ne!(a, b);
    assert_eq!(frames.free_count(), 2);
    // SAFETY: `a` is a frame of `ram`, owned by this test.
    unsafe { ram.frame(a).write_bytes(7, PAGE as usize) };
    frames.free(&ram, a);
    assert_eq!(frames.free_count(), 3);
    let again = frames.alloc(&ram).expect("frame");
    assert_eq!(again, a, "freed frames are reused first");
    // SAFETY: as above.
    let bytes = unsafe { std::slice::from_raw_parts(ram.frame(again), PAGE as usize) };
    assert!(bytes.iter().all(|&x| x == 0), "handed out zeroed");
    assert!(frames.alloc(&ram).is_some() && frames.alloc(&ram).is_some());
    assert_eq!(frames.alloc(&ram), None, "exhausted");
}

#[test]
fn unaligned_region_is_rounded_inwards() {
    let f = Frames::new(BASE + 1, 3 * PAGE);
    assert_eq!(f.total(), 2);
    assert_eq!(Frames::new(BASE, 100).total(), 0);
}

#[test]
fn map_translate_copy_and_destroy_return_every_frame() {
    let (ram, mut frames) = ram(64);
    let before = frames.free_count();
    let mut s = UserSpace::new(&mut frames, &ram, 5).expect("space");
    assert_eq!(s.ttbr0() >> 48, 5);
    let code = 0x40_0000;
    let data = 0x10_0000_0000;
    s.map_new(&mut frames, &ram, code, Perm::Code).expect("code");
    s.map_new(&mut frames, &ram, data, Perm::ReadWrite).expect("data");
    s.map_new(&mut frames, &ram, data + PAGE, Perm::ReadWrite).expect("data");
    assert_eq!(s.map_new(&mut frames, &ram, data, Perm::ReadWrite), Err(MapError::Occupied));
    assert_eq!(s.map_new(&mut frames, &ram, 1 << 39, Perm::ReadWrite), Err(MapError::BadAddress));
    assert_eq!(s.map_new(&mut frames, &ram, 0x123, Perm::ReadWrite), Err(MapError::BadAddress));
    assert_eq!(s.translate(&ram, code + 8).map(|t| t.1), Some(Perm::Code));
    assert_eq!(s.translate(&ram, code + PAGE), None);

    // A copy that crosses a page boundary.
    let msg: Vec<u8> = (0..100).collect();
    s.copy_out(&ram, data + PAGE - 50, &msg).expect("copy out");
    let mut back = vec![0; 100];
    s.copy_in(&ram, data + PAGE - 50, &mut back).expect("copy in");
    assert_eq!(back, msg);

    // Nothing is written unless all of it is valid.
    assert_eq!(s.copy_out(&ram, data + 2 * PAGE - 10, &msg), Err(BadPointer));
    s.copy_in(&ram, data + 2 * PAGE - 10, &mut back[..10]).expect("mapped tail");
    assert_eq!(back[..10], [0; 10], "the failed copy wrote nothing");
    assert_eq!(s.copy_out(&ram, code, b"x"), Err(BadPointer), "code is read-only");
    s.copy_in(&ram, code, &mut back[..1]).expect("code is readable");
    assert_eq!(s.copy_in(&ram, u64::MAX - 2, &mut back[..8]), Err(BadPointer), "wraps");
    assert_eq!(s.copy_in(&ram, 0xffff_ff80_0000_0000, &mut back[..8]), Err(BadPointer), "kernel half");
    assert_eq!(s.copy_in(&ram, 0, &mut back[..1]), Err(BadPointer), "null");
    s.copy_in(&ram, 0, &mut []).expect("an empty copy touches nothing");

    let pa = s.unmap(&ram, data).expect("was mapped");
    frames.free(&ram, pa);
    assert_eq!(s.unmap(&ram, data), None);
    assert_eq!(s.unmap(&ram, 0x7777_0000), None);
    assert_eq!(s.copy_in(&ram, data, &mut back[..1]), Err(BadPointer));
    s.destroy(&mut frames, &ram);
    assert_eq!(frames.free_count(), before, "every page and table came back");
}

#[test]
fn out_of_memory_is_an_error_and_leaks_nothing() {
    let (ram, mut frames) = ram(6);
    let mut s = UserSpace::new(&mut frames, &ram, 1).expect("space");
    let mut mapped = 0;
    loop {
        match s.map_new(&mut frames, &ram, 0x10_0000_0000 + mapped * PAGE, Perm::ReadWrite) {
            Ok(_) => mapped += 1,
            Err(e) => {
                assert_eq!(e, MapError::NoMemory);
                break;
            }
        }
    }
    assert_eq!(mapped, 3, "root + L2 + L3 + 3 pages = 6 frames");
    s.destroy(&mut frames, &ram);
    assert_eq!(frames.free_count(), 6);
}

#[test]
fn leaves_are_non_global_user_and_never_writable_and_executable() {
    let (ram, mut frames) = ram(16);
    let mut s = UserSpace::new(&mut frames, &ram, 2).expect("space");
    for (i, perm) in [Perm::Code, Perm::ReadOnly, Perm::ReadWrite].into_iter().enumerate() {
        let pa = s.map_new(&mut frames, &ram, 0x40_0000 + i as u64 * PAGE, perm).expect("map");
        let _ = pa;
    }
    // Walk to the leaf table by hand: root[0] -> L2[2] -> L3[0..3].
    let word = |table: u64, i: usize| {
        // SAFETY: tables are frames of `ram`; i < 512.
        unsafe { ram.frame(table).cast::<u64>().add(i).read() }
    };
    let l2 = word(s.ttbr0() & 0xffff_ffff_f000, 0) & 0xffff_ffff_f000;
    let l3 = word(l2, 2) & 0xffff_ffff_f000;
    for i in 0..3 {
        let d = word(l3, i);
        assert_ne!(d & (1 << 11), 0, "nG");
        assert_ne!(d & (1 << 6), 0, "EL0 access");
        assert_ne!(d & (1 << 53), 0, "PXN");
        let writable = d & (1 << 7) == 0;
        let executable = d & (1 << 54) == 0;
        assert!(!(writable && executable), "W^X");
    }
}

#[test]
fn a_filled_page_is_written_once_and_zero_pages_are_seen_in_place() {
    let (ram, mut frames) = ram(16);
    let mut s = UserSpace::new(&mut frames, &ram, 1).expect("space");
    let (data, zeros) = (0x10_0000_0000, 0x10_0000_1000);
    // `fill` sees the frame as it was (the RAM's garbage), not zeroed first.
    let mut seen = 0;
    s.map_new_filled(&mut frames, &ram, data, Perm::ReadWrite, |page| {
        seen = page[100];
        page.fill(3);
    })
    .expect("filled");
    assert_eq!(seen, 0xAA, "no zeroing before the fill");
    let mut back = [0u8; PAGE as usize];
    s.copy_in(&ram, data, &mut back).expect("copy in");
    assert!(back.iter().all(|&b| b == 3), "what the fill wrote is mapped");
    s.map_new(&mut frames, &ram, zeros, Perm::ReadWrite).expect("zeros");
    assert_eq!(s.page_is_zero(&ram, zeros), Some(true));
    assert_eq!(s.page_is_zero(&ram, data + 8), Some(false), "any address in the page");
    s.copy_out(&ram, zeros + PAGE - 1, &[1]).expect("last byte");
    assert_eq!(s.page_is_zero(&ram, zeros), Some(false), "a non-zero last byte counts");
    assert_eq!(s.page_is_zero(&ram, zeros + PAGE), None, "nothing mapped");
}

/// `next_page` finds exactly the mapped pages, in order, from anywhere:
/// pages at the ends of their tables, alone in a gigabyte, at the top of
/// the user half.
#[test]
fn the_next_mapped_page_is_found_from_anywhere() {
    let (ram, mut frames) = ram(64);
    let mut space = UserSpace::new(&mut frames, &ram, 1).expect("space");
    let top = 1u64 << 39;
    let pages = [0x40_0000, 0x40_1000, 0x5f_f000, 0x60_0000, 0x3fff_f000, 0x4000_0000, 0x7f_ffff_e000, top - PAGE];
    for &va in &pages {
        space.map_new(&mut frames, &ram, va, Perm::ReadWrite).expect("mapped");
    }
    let mut walked = Vec::new();
    let mut from = 0;
    while let Some((va, pa, perm)) = space.next_page(&ram, from) {
        assert_eq!(space.translate(&ram, va), Some((pa, perm)));
        walked.push(va);
        from = va + PAGE;
    }
    assert_eq!(walked, pages);
    for &from in &[0x40_0800, 0x40_2000, 0x7f_ffff, 0x3fff_f001, 0x4000_1000, top - 2 * PAGE, top - 1] {
        let want = pages.iter().copied().find(|&va| va + PAGE > from);
        assert_eq!(space.next_page(&ram, from).map(|p| p.0), want, "from {from:#x}");
    }
    assert_eq!(space.next_page(&ram, top), None);
    space.destroy(&mut frames, &ram);
}
