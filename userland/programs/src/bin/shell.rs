//! `shell`: the interactive shell on the serial console (only the console
//! node has input). Line editing is the minimum a serial terminal needs:
//! echo, backspace, and CR, LF or CR LF ending a line.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use urt::{print, println, NodeInfo, ProcessInfo, ProcessState, SpawnOptions};

const PROMPT: &str = "mk> ";
/// Longest command line kept; further characters are dropped (not echoed).
const LINE_BYTES: usize = 256;
const MAX_PROCESSES: usize = 64;
const MAX_NODES: usize = 64;

const HELP: &[(&str, &str)] = &[
    ("help", "show this list"),
    ("ps", "list the processes of this node"),
    ("nodes", "list the nodes of the machine"),
    ("run PROGRAM [ARGS...] [&]", "start a program and wait for it (& : don't wait)"),
    ("kill PID", "end a process of this node"),
    ("exit", "leave the shell"),
];

fn main() -> i32 {
    let info = match urt::sysinfo() {
        Ok(i) => i,
        Err(e) => {
            println!("shell: sysinfo: {e}");
            return 1;
        }
    };
    if info.console_node != info.node {
        println!("shell: node {} has no console input (it is on node {})", info.node, info.console_node);
        return 1;
    }
    let mut line = String::new();
    loop {
        print!("{PROMPT}");
        if let Err(e) = read_line(&mut line) {
            println!("shell: read: {e}");
            return 1;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => {}
            ["help", ..] => help(),
            ["ps", ..] => ps(),
            ["nodes", ..] => nodes(),
            ["run", rest @ ..] => run(rest),
            ["kill", rest @ ..] => kill(rest),
            ["exit", ..] => return 0,
            [other, ..] => println!("unknown command: {other} (try help)"),
        }
    }
}

/// Reads one line into `line`, echoing it.
fn read_line(line: &mut String) -> Result<(), urt::Error> {
    line.clear();
    // A CR ends the line; an LF right after it belongs to the same end.
    let mut after_cr = false;
    let mut buf = [0u8; 64];
    loop {
        let n = urt::read(&mut buf)?;
        for &b in &buf[..n] {
            let was_cr = core::mem::replace(&mut after_cr, b == b'\r');
            match b {
                b'\n' if was_cr => {}
                b'\r' | b'\n' => {
                    print!("\n");
                    // Bytes after the end of line in this read are dropped:
                    // a human types one line at a time.
                    return Ok(());
                }
                0x7f | 0x08 if !line.is_empty() => {
                    line.pop();
                    print!("\x08 \x08");
                }
                0x20..=0x7e if line.len() < LINE_BYTES => {
                    line.push(b as char);
                    let echo = [b];
                    let _ = urt::write(&echo);
                }
                _ => {}
            }
        }
    }
}

fn help() {
    for (cmd, what) in HELP {
        println!("  {cmd:<26} {what}");
    }
}

fn ps() {
    let mut procs = [ProcessInfo::default(); MAX_PROCESSES];
    let n = match urt::ps(&mut procs) {
        Ok(n) => n,
        Err(e) => return println!("ps: {e}"),
    };
    println!("  PID  PPID STATE     CORE PRI CPU_MS NAME");
    for p in &procs[..n] {
        let state = ProcessState::from_number(p.state).map_or("?", |s| s.name());
        // A '*' after the core marks a program pinned to it.
        let pin = if p.pinned != 0 { '*' } else { ' ' };
        println!(
            "{:>5} {:>5} {:<9} {:>3}{pin} {:>3} {:>6} {}",
            p.pid,
            p.parent,
            state,
            p.core,
            p.priority,
            p.cpu_ns / 1_000_000,
            p.name()
        );
    }
}

fn nodes() {
    let mut list = [NodeInfo::default(); MAX_NODES];
    let n = match urt::nodes(&mut list) {
        Ok(n) => n,
        Err(e) => return println!("nodes: {e}"),
    };
    for i in &list[..n] {
        let linked = if i.linked != 0 { "linked" } else { "unlinked" };
        let console = if i.console != 0 { " console" } else { "" };
        println!("node {}: build={} cpus={} capacity={} {linked}{console}", i.id, i.build_name(), i.cpus, i.capacity);
    }
    println!("{n} nodes");
}

fn run(words: &[&str]) {
    let (background, words) = match words {
        [rest @ .., "&"] => (true, rest),
        _ => (false, words),
    };
    let [prog, args @ ..] = words else {
        return println!("run: usage: run PROGRAM [ARGS...] [&]");
    };
    let args = args.join(" ");
    let pid = match urt::spawn(prog, &args, SpawnOptions::default()) {
        Ok(pid) => pid,
        Err(e) => return println!("run: {e}"),
    };
    if background {
        return println!("[pid {pid}] started");
    }
    match urt::wait(pid) {
        Ok((_, status)) => println!("[pid {pid}] {status}"),
        Err(e) => println!("run: {e}"),
    }
}

fn kill(words: &[&str]) {
    let Some(Ok(pid)) = words.first().map(|w| w.parse()) else {
        return println!("kill: usage: kill PID");
    };
    match urt::kill(pid) {
        Ok(()) => println!("killed {pid}"),
        Err(e) => println!("kill: {e}"),
    }
}

urt::entry!(main);
