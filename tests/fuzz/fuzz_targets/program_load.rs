//! A program file as the CPU driver's `spawn` takes it: any bytes through
//! `address_space::program::load` into a fresh address space. It may refuse
//! them, but must never panic, and must give back every frame it took,
//! whether it refuses or the space is destroyed after.
//!
//! Input: the file itself.

#![no_main]

use address_space::program::load;
use address_space::{Frames, Memory, PAGE};
use libfuzzer_sys::fuzz_target;

const BASE: u64 = 0x8000_0000;
const PAGES: u64 = 512;

struct Ram(Vec<u8>);

impl Memory for Ram {
    fn frame(&self, pa: u64) -> *mut u8 {
        let at = usize::try_from(pa - BASE).expect("frame in RAM");
        assert!(at + PAGE as usize <= self.0.len(), "frame {pa:#x} outside RAM");
        self.0.as_ptr().wrapping_add(at).cast_mut()
    }
}

fuzz_target!(|file: &[u8]| {
    let ram = Ram(vec![0; (PAGES * PAGE) as usize]);
    let mut frames = Frames::new(BASE, PAGES * PAGE);
    let before = frames.free_count();
    if let Ok(p) = load(&mut frames, &ram, 1, file) {
        p.space.destroy(&mut frames, &ram);
    }
    assert_eq!(frames.free_count(), before, "frames leaked");
});
