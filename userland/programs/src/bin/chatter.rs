//! `chatter [LINES] [LEN] [FAULTS]`: prints LINES checkable lines of LEN
//! payload bytes while FAULTS children of its own (`fault null`) die at
//! the same time, so the console tests can check that every line arrives
//! whole and every fault is reported. A line is
//! `chatter <node>.<pid> <seq> <payload> <sum>`: the payload is a pattern
//! of the pid and seq, and the sum (hex) covers it.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use urt::{println, SpawnOptions};

fn main() -> i32 {
    let Some([lines, len, faults]) = user_programs::numbers("chatter", [100, 600, 0]) else { return 2 };
    let (node, pid) = (urt::node(), urt::pid());
    let mut children = Vec::new();
    for _ in 0..faults {
        match urt::spawn("fault", "null", SpawnOptions::default()) {
            Ok(child) => children.push(child),
            Err(e) => println!("chatter: spawn: {e}"),
        }
    }
    let mut payload = String::with_capacity(len as usize);
    for seq in 0..lines {
        payload.clear();
        let mut sum = 0u32;
        for i in 0..len {
            let c = char::from(b'a' + ((u64::from(pid) * 7 + seq * 3 + i) % 26) as u8);
            sum = sum.wrapping_mul(31).wrapping_add(c as u32);
            payload.push(c);
        }
        println!("chatter {node}.{pid} {seq} {payload} {sum:08x}");
    }
    for child in children {
        let _ = urt::wait(child);
    }
    0
}

urt::entry!(main);
