//! `sysfuzz [COUNT] [SEED]`: issues COUNT (default 100000) random system
//! calls with hostile arguments, to show the kernel answers every one with
//! a success or a known error and stays consistent (the caller compares
//! the node's state before and after).
//!
//! It never exits, kills, migrates or reads the console, and it bounds everything
//! that blocks, so it always finishes. It never lets `write` succeed (that
//! would print garbage) and it does not use the heap, which a random
//! `unmap` might take away.
//!
//! Exit codes: 0 all results valid; 3 a result that is neither a success
//! nor a known error; 4 a call wrote into the program's read-only code.

#![no_std]
#![no_main]

use urt::{println, Error};
use user_abi::{Call, MAP_QUOTA, PAGE_SIZE, PROT_READ, PROT_WRITE, STACK_SIZE, STACK_TOP, USER_TOP};

/// Call numbers drawn: all real calls and some beyond.
const MAX_CALL: u64 = 40;
const KERNEL_BASE: u64 = 0xffff_ff80_0000_0000;
/// Endpoints 0..=3 belong to `utest`.
const FIRST_ENDPOINT: u64 = 4;
const LAST_ENDPOINT: u64 = user_abi::ENDPOINTS - 1;
/// Successful maps remembered for the final unmap.
const MAX_MAPS: usize = 32;
/// The largest map length drawn below "huge": keeps the kernel's zeroing
/// affordable under emulation.
const MAX_MAP_LEN: u64 = 1024 * 1024;
/// Bytes of the buffer the kernel may legitimately write into.
const SCRATCH: usize = 16 * 1024;

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

/// What the pointer generators can point at.
struct Targets {
    scratch: u64,
    code: u64,
    stale: u64,
}

impl Targets {
    /// A pointer that is certainly not valid user memory to read or write.
    fn invalid(&self, r: &mut Rng) -> u64 {
        match r.below(7) {
            0 => 0,
            1 => r.below(USER_IMAGE_BASE_MINUS_PAGE) + 1,
            2 => KERNEL_BASE + r.below(1 << 38),
            3 => r.next() | (1 << 63),
            4 => USER_TOP + r.below(1 << 30),
            5 => STACK_TOP - STACK_SIZE - 1 - r.below(user_abi::STACK_GUARD),
            _ => STACK_TOP + r.below(1 << 20),
        }
    }

    /// Any pointer: invalid ones, the code (valid to read, not to write),
    /// the scratch buffer, and an unmapped page (maybe mapped again since).
    fn any(&self, r: &mut Rng) -> u64 {
        match r.below(10) {
            0..=3 => self.invalid(r),
            4 => r.next(),
            5 => self.code(r),
            6 => self.stale + r.below(PAGE_SIZE),
            _ => self.scratch + r.below(4096),
        }
    }

    /// Somewhere in the first kilobyte of `main`'s code.
    fn code(&self, r: &mut Rng) -> u64 {
        self.code + r.below(CODE_BYTES / 4) * 4
    }

    fn in_code(&self, p: u64) -> bool {
        (self.code..self.code + CODE_BYTES).contains(&p)
    }
}

/// Bytes of code the code pointers aim at.
const CODE_BYTES: u64 = 1024;
/// Below the image nothing is mapped.
const USER_IMAGE_BASE_MINUS_PAGE: u64 = user_abi::USER_IMAGE_BASE - PAGE_SIZE;

/// A length: 0, small, page-crossing from `ptr`, or huge.
fn length(r: &mut Rng, ptr: u64) -> u64 {
    match r.below(6) {
        0 => 0,
        1 | 2 => r.below(64) + 1,
        3 => PAGE_SIZE - (ptr % PAGE_SIZE) + r.below(64) + 1,
        4 => r.below(4096) + 1,
        _ => match r.below(4) {
            0 => u64::MAX,
            1 => u64::MAX - ptr + 1 + r.below(16),
            2 => 1 << (20 + r.below(44)),
            _ => r.next(),
        },
    }
}

fn endpoint(r: &mut Rng) -> u64 {
    if r.chance(4) {
        r.next()
    } else {
        FIRST_ENDPOINT + r.below(LAST_ENDPOINT - FIRST_ENDPOINT + 1)
    }
}

/// Whether call `n` with arguments `a` certainly writes into the memory
/// `a[0]` names (and so must fail when that is the read-only code): every
/// node has a node and a process to report.
fn writes_to_arg0(n: u64, a: &[u64; 6]) -> bool {
    match Call::from_number(n) {
        Some(Call::SysInfo) => true,
        Some(Call::Ps | Call::Nodes) => a[1] > 0,
        _ => false,
    }
}

fn main() -> i32 {
    let Some([count, seed]) = user_programs::numbers("sysfuzz", [100_000, 1]) else { return 2 };
    let mut r = Rng(seed.max(1));
    let mut scratch = [0u8; SCRATCH];
    // Spawn names point here: 0xff is never part of a program name, so a
    // random spawn cannot start a real program (say, another fuzzer).
    let junk = [0xffu8; 64];

    // A page that was mapped and is no longer.
    let stale = match urt::map(PAGE_SIZE as usize, PROT_READ | PROT_WRITE) {
        Ok(p) => {
            // SAFETY: the page was just mapped and nothing refers to it.
            let _ = unsafe { urt::unmap(p, PAGE_SIZE as usize) };
            p as u64
        }
        Err(_) => KERNEL_BASE,
    };
    let t = Targets { scratch: scratch.as_mut_ptr() as u64, code: main as fn() -> i32 as usize as u64, stale };
    let mut maps = [(0u64, 0u64); MAX_MAPS];
    let mut live = 0;
    let mut errors = [0u64; Error::ALL.len()];
    let mut invalid = 0u64;
    let mut wrote_code = 0u64;

    for _ in 0..count {
        let n = loop {
            let n = r.below(MAX_CALL + 1);
            // Not the calls that act on other programs or end this one.
            let spared = [Call::Exit, Call::Kill, Call::Read, Call::PowerOff, Call::Migrate];
            if !spared.iter().any(|&c| c as u64 == n) {
                break n;
            }
        };
        let mut a = [0u64; 6];
        for x in a.iter_mut() {
            *x = if r.chance(2) { t.any(&mut r) } else { length(&mut r, 0) };
        }
        match Call::from_number(n) {
            Some(Call::Sleep) => a[0] = if r.chance(16) { r.below(100_001) } else { 0 },
            Some(Call::Write) => {
                // Only calls that must fail: a bad pointer, or nothing.
                if r.chance(8) {
                    a[1] = 0;
                } else {
                    a[0] = t.invalid(&mut r);
                    a[1] = length(&mut r, a[0]);
                }
            }
            Some(Call::Spawn) => {
                // Never the scratch buffer, which may hold real names (from
                // `ps`).
                a[0] = match r.below(3) {
                    0 => junk.as_ptr() as u64 + r.below(32),
                    1 => t.code(&mut r),
                    _ => t.invalid(&mut r),
                };
                a[1] = if r.chance(2) { r.below(40) } else { length(&mut r, a[0]) };
                a[3] = length(&mut r, a[2]);
                a[4] = if r.chance(2) { r.below(1 << 17) } else { r.next() };
            }
            Some(Call::Wait) => a[0] = 1_000_000 + r.below(u64::from(u32::MAX)),
            Some(Call::Map) => {
                a[0] = match r.below(4) {
                    0 => 0,
                    1 => r.below(MAX_MAP_LEN) + 1,
                    2 => r.below(4 * PAGE_SIZE) + 1,
                    _ => MAP_QUOTA + r.below(1 << 40),
                };
                a[1] = r.below(8);
            }
            Some(Call::Unmap) => {
                if live > 0 && r.chance(2) {
                    a[0] = maps[r.below(live as u64) as usize].0;
                }
                a[1] = length(&mut r, a[0]);
            }
            Some(Call::Send) => {
                a[0] = endpoint(&mut r);
                a[2] = length(&mut r, a[1]);
            }
            Some(Call::Recv) => {
                a[0] = endpoint(&mut r);
                a[2] = length(&mut r, a[1]);
                a[3] = 0;
            }
            Some(Call::Id) => a[0] = if r.chance(2) { r.below(6) } else { r.next() },
            Some(Call::Ps | Call::Nodes | Call::SysInfo | Call::Args) => a[1] = length(&mut r, a[0]),
            _ => {}
        }

        // SAFETY: the kernel may write only into memory this program may
        // write, and the only such memory the arguments name is the scratch
        // buffer (never read as data) or a stale or fuzzer-mapped page. Unmap is only ever aimed at
        // the fuzzer's own maps and invalid addresses, and the heap is not
        // used. Everything else must be refused, which is what is tested.
        let raw = unsafe { urt::syscall(n, a) };
        match user_abi::decode_result(raw) {
            Ok(v) => {
                if writes_to_arg0(n, &a) && t.in_code(a[0]) {
                    println!("sysfuzz: call {n} wrote into code at {:#x}", a[0]);
                    wrote_code += 1;
                }
                match Call::from_number(n) {
                    Some(Call::Map) if live < MAX_MAPS => {
                        maps[live] = (v, a[0]);
                        live += 1;
                    }
                    Some(Call::Map) => {
                        // SAFETY: just mapped and not used.
                        let _ = unsafe { urt::unmap(v as *mut u8, a[0] as usize) };
                    }
                    Some(Call::Spawn) => {
                        println!("sysfuzz: spawn succeeded (pid {v}), waiting for it");
                        let _ = urt::wait(v as u32);
                    }
                    _ => {}
                }
            }
            Err(_) => match Error::from_number(raw.wrapping_neg()) {
                Some(e) => errors[e as usize - 1] += 1,
                None => {
                    println!("sysfuzz: call {n} {a:x?} returned {raw:#x}, not an error number");
                    invalid += 1;
                }
            },
        }
    }

    for &(addr, len) in &maps[..live] {
        // SAFETY: fuzzer maps, never used as memory. A random unmap may have
        // removed one already; that error is expected.
        let _ = unsafe { urt::unmap(addr as *mut u8, len as usize) };
    }
    for ep in FIRST_ENDPOINT..=LAST_ENDPOINT {
        while urt::recv(ep, &mut scratch, 0).is_ok() {}
    }

    let total: u64 = errors.iter().sum::<u64>() + invalid;
    let mut out = urt::Console::new();
    let _ = core::fmt::Write::write_fmt(&mut out, format_args!("sysfuzz: {count} calls, {total} errors, by error:"));
    for (e, n) in Error::ALL.iter().zip(errors) {
        if n > 0 {
            let _ = core::fmt::Write::write_fmt(&mut out, format_args!(" {e:?}={n}"));
        }
    }
    if invalid > 0 {
        let _ = core::fmt::Write::write_fmt(&mut out, format_args!(" invalid={invalid}"));
    }
    let _ = core::fmt::Write::write_str(&mut out, "\n");
    drop(out);
    if invalid > 0 {
        3
    } else if wrote_code > 0 {
        4
    } else {
        0
    }
}

urt::entry!(main);
