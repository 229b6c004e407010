//! `watch PID UNITS`: how much CPU time program PID gets while this one
//! does UNITS of busy work. Started on PID's core at a higher priority, it
//! must see none (strict priorities); at the same priority, about as much
//! as it uses itself. Exits with the microseconds PID ran (at most
//! `i32::MAX`), or -1 if PID is not there.

#![no_std]
#![no_main]

use urt::ProcessInfo;
use user_programs::work_unit;

fn cpu_ns(pid: u64) -> Option<u64> {
    let mut procs = [ProcessInfo::default(); 64];
    let n = urt::ps(&mut procs).ok()?;
    procs[..n].iter().find(|p| u64::from(p.pid) == pid).map(|p| p.cpu_ns)
}

fn main() -> i32 {
    let Some([pid, units]) = user_programs::numbers("watch", [0, 300]) else { return -1 };
    let Some(before) = cpu_ns(pid) else { return -1 };
    let mut x = 1;
    for _ in 0..units {
        x = work_unit(x);
    }
    core::hint::black_box(x);
    let Some(after) = cpu_ns(pid) else { return -1 };
    i32::try_from(after.saturating_sub(before) / 1000).unwrap_or(i32::MAX)
}

urt::entry!(main);
