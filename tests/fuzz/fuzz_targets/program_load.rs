//! A program file as the CPU driver's `spawn` takes it: any bytes through
//! `address_space::program::load` into a fresh address space. It may refuse
//! them, but must never panic, and must give back every frame it took,
//! whether it refuses or the space is destroyed after.
//!
//! Input: the file itself.

#![no_main]

use address_space::host::HostRam;
use address_space::program::load;
use libfuzzer_sys::fuzz_target;

const BASE: u64 = 0x8000_0000;
const PAGES: u64 = 512;

fuzz_target!(|file: &[u8]| {
    let (ram, mut frames) = HostRam::new(BASE, PAGES, 0);
    let before = frames.free_count();
    if let Ok(p) = load(&mut frames, &ram, 1, file) {
        p.space.destroy(&mut frames, &ram);
    }
    assert_eq!(frames.free_count(), before, "frames leaked");
});
