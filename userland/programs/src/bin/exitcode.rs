//! `exitcode [CODE]`: exits with CODE (default 0), so tests can check that
//! exit codes, negative ones included, reach the parent intact.

#![no_std]
#![no_main]

use urt::println;

fn main() -> i32 {
    let mut buf = [0u8; user_programs::ARGS_BYTES];
    let args = urt::args(&mut buf).unwrap_or("");
    match args.split_whitespace().next() {
        None => 0,
        Some(w) => w.parse().unwrap_or_else(|_| {
            println!("exitcode: not a number: {w}");
            2
        }),
    }
}

urt::entry!(main);
