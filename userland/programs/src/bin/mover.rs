//! `mover COUNT PAUSE_MS PROG [ARGS...]`: starts PROG here and moves it to
//! the next node (round robin over all of them) COUNT times, PAUSE_MS
//! apart, while it runs; then waits for it. Prints
//! `mover: PROG moved=N refused=R move_us_median=M move_us_max=X
//! status=STATUS` (each move's time, guest us, from the call to the program
//! running on its new node), then `mover: free pages before=A,B,...
//! after=A,B,... processes before=P,Q,... after=P,Q,...` (every node's,
//! before PROG started and once it ended and the views settled) and exits
//! 0 if PROG
//! exited 0 and every move that was tried either happened or was refused
//! for a reason that leaves it where it was.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use urt::{println, Error, ExitStatus, SpawnOptions};

fn main() -> i32 {
    let mut buf = [0u8; user_programs::ARGS_BYTES];
    let args = urt::args(&mut buf).unwrap_or("");
    let words: Vec<&str> = args.split_whitespace().collect();
    let (Some(Ok(count)), Some(Ok(pause_ms)), Some(prog)) =
        (words.first().map(|w| w.parse::<u32>()), words.get(1).map(|w| w.parse::<u64>()), words.get(2))
    else {
        println!("mover: usage: mover COUNT PAUSE_MS PROG [ARGS...]");
        return 2;
    };
    let prog_args: String = words[3..].join(" ");
    let nodes = urt::sysinfo().map_or(1, |s| s.nodes);
    // Its own stack, backed on first touch, must not grow between the two
    // counts.
    urt::prefault_stack(64 * 1024);
    let before = free_pages();
    let here = urt::node();
    let options = SpawnOptions { node: Some(here as u8), ..SpawnOptions::default() };
    let pid = match urt::spawn(prog, &prog_args, options) {
        Ok(pid) => pid,
        Err(e) => {
            println!("mover: cannot start {prog}: {e}");
            return 1;
        }
    };
    let (mut moved, mut refused, mut target) = (0u32, 0u32, here);
    let mut bad = false;
    let mut took: Vec<u64> = Vec::new();
    while moved < count {
        let _ = urt::sleep_ns(pause_ms * 1_000_000);
        // The next node after the one it is on (a refused move leaves it there).
        let next = (target + 1) % nodes;
        let start = urt::clock_ns();
        match urt::migrate(pid, next) {
            Ok(()) => {
                target = next;
                moved += 1;
                took.push(urt::clock_ns() - start);
            }
            // Busy, or caught in a call it cannot leave: it stays; try
            // again, but not for ever.
            Err(Error::WouldBlock | Error::TooMany | Error::NotPermitted) if refused < MAX_REFUSED => refused += 1,
            // It ended before all the moves.
            Err(Error::NoSuchProcess) => break,
            Err(e) => {
                println!("mover: move {moved} of pid {pid} to node {next}: {e}");
                bad = true;
                break;
            }
        }
    }
    let status = urt::wait(pid);
    let shown = match status {
        Ok((_, s)) => alloc::format!("{s}"),
        Err(e) => alloc::format!("wait: {e}"),
    };
    took.sort_unstable();
    let median_us = took.get(took.len() / 2).copied().unwrap_or(0) / 1000;
    let max_us = took.last().copied().unwrap_or(0) / 1000;
    println!(
        "mover: {prog} moved={moved} refused={refused} move_us_median={median_us} move_us_max={max_us} status={shown}"
    );
    let after = free_pages();
    println!("mover: free pages before={} after={} processes before={} after={}", before.0, after.0, before.1, after.1);
    i32::from(bad || !matches!(status, Ok((_, ExitStatus::Exited(0)))))
}

urt::entry!(main);

/// Every node's free pages and processes, each comma-separated, once the
/// nodes' view updates had time to come (a few of their periods).
fn free_pages() -> (String, String) {
    let _ = urt::sleep_ns(VIEW_SETTLE_NS);
    let mut infos = [user_abi::NodeInfo::default(); 16];
    let n = urt::nodes(&mut infos).unwrap_or(0);
    let list = |f: fn(&user_abi::NodeInfo) -> u32| {
        infos[..n].iter().map(|i| alloc::format!("{}", f(i))).collect::<Vec<String>>().join(",")
    };
    (list(|i| i.free_pages), list(|i| i.processes))
}

/// Refusals in all after which a move is reported as failed.
const MAX_REFUSED: u32 = 1000;

/// Long enough for every node's view update to arrive (they go every 10 ms).
const VIEW_SETTLE_NS: u64 = 50_000_000;
