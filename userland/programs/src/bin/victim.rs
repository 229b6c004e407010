//! `victim OUT IN`: the target of the isolation test. It fills a page with
//! a pattern, tells its address (8 bytes, little endian) on endpoint OUT,
//! waits up to 20 s for any message on endpoint IN, and then checks the
//! page: exit 0 if intact, 1 if someone changed it, 2 on errors.

#![no_std]
#![no_main]

use urt::println;
use user_programs::arg_u64;

const PAGE: usize = user_abi::PAGE_SIZE as usize;
const TIMEOUT_NS: u64 = 20_000_000_000;

fn pattern(i: usize) -> u8 {
    (i as u8).wrapping_mul(31).wrapping_add(7)
}

fn main() -> i32 {
    let mut buf = [0u8; user_programs::ARGS_BYTES];
    let args = urt::args(&mut buf).unwrap_or("");
    let (Ok(out), Ok(inp)) = (arg_u64(args, 0, u64::MAX), arg_u64(args, 1, u64::MAX)) else {
        println!("victim: usage: victim OUT IN");
        return 2;
    };
    let page = match urt::map_slice(PAGE) {
        Ok(p) => p,
        Err(e) => {
            println!("victim: map: {e}");
            return 2;
        }
    };
    for (i, b) in page.iter_mut().enumerate() {
        *b = pattern(i);
    }
    if let Err(e) = urt::send(out, &(page.as_ptr() as u64).to_le_bytes()) {
        println!("victim: send: {e}");
        return 2;
    }
    let mut msg = [0u8; user_abi::MESSAGE_BYTES];
    if let Err(e) = urt::recv(inp, &mut msg, TIMEOUT_NS) {
        println!("victim: recv: {e}");
        return 2;
    }
    // Read through volatile loads: the compiler must not assume the page
    // still holds what this program wrote.
    let changed = (0..PAGE).filter(|&i| {
        // SAFETY: `i < PAGE`, inside the page `map_slice` returned.
        let b = unsafe { core::ptr::read_volatile(page.as_ptr().add(i)) };
        b != pattern(i)
    });
    match changed.count() {
        0 => 0,
        n => {
            println!("victim: {n} bytes of my page changed");
            1
        }
    }
}

urt::entry!(main);
