//! `init CMDLINE`: the first program of every node. Its arguments are the
//! kernel command line; it starts the programs the `run=` words ask for on
//! this node, then waits for all of them and reports how each ended.
//!
//! `run=PROG[:ARG...]` is started by the console node's `init` where the
//! placement policy (bootarg `sched=`) says, and may move;
//! `run@N=PROG[:ARG...]` is started by node N's `init` and stays on node N.
//! The ARGs become PROG's argument string, joined by spaces. A class
//! follows the key after a dot: `run.heavy=PROG`, `run@1.light=PROG`
//! (`auto` otherwise). `first=` and `first@N=` words are the same, but
//! their `init` waits for each to end before it starts its `run=` words
//! (a setup, or a benchmark's warm-up).
//! When the command line asks for nothing on the console node and is not
//! a scripted boot (`poweroff`, `ktest=`, `bench=`), the console node's
//! `init` starts the shell, so an interactive boot ends at a prompt.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use urt::{println, Error, Pid, SpawnOptions};
use user_abi::cmdline::RunWord;
use user_abi::Class;

/// Bytes of command line read: the kernel's limit (2,048) and more.
const CMDLINE_BYTES: usize = 4096;

fn main() -> i32 {
    let mut buf = [0u8; CMDLINE_BYTES];
    let cmdline = urt::args(&mut buf).unwrap_or("");
    let node = urt::node();
    let console = match urt::sysinfo() {
        Ok(s) => s.console_node,
        Err(e) => {
            println!("init: node {node}: sysinfo: {e}");
            0
        }
    };
    let mut children: Vec<(Pid, &str)> = Vec::new();
    let mut start = |prog, args: &str, class, pinned: bool| {
        let options = SpawnOptions { class, node: pinned.then_some(node as u8), ..SpawnOptions::default() };
        match urt::spawn(prog, args, options) {
            Ok(pid) => {
                println!("init: node {node} started {prog} (pid {pid})");
                children.push((pid, prog));
            }
            Err(e) => println!("init: node {node} cannot start {prog}: {e}"),
        }
    };
    let mut asked = false;
    let mine = |target: Option<u32>| target.unwrap_or(console) == node;
    for RunWord { node: target, class, spec } in cmdline.split_whitespace().filter_map(|w| run_word(w, "first")) {
        if !mine(target) {
            continue;
        }
        let mut parts = spec.split(':');
        let prog = parts.next().unwrap_or("");
        let args: String = parts.collect::<Vec<_>>().join(" ");
        let options = SpawnOptions { class, node: target.map(|_| node as u8), ..SpawnOptions::default() };
        match urt::spawn(prog, &args, options).and_then(|pid| Ok((pid, urt::wait(pid)?))) {
            Ok((pid, (_, status))) => println!("init: node {node}: first {prog} (pid {pid}) {status}"),
            Err(e) => println!("init: node {node}: first {prog}: {e}"),
        }
    }
    for word in cmdline.split_whitespace() {
        let Some(RunWord { node: target, class, spec }) = run_word(word, "run") else { continue };
        if !mine(target) {
            continue;
        }
        asked = true;
        let mut parts = spec.split(':');
        let prog = parts.next().unwrap_or("");
        let args: String = parts.collect::<Vec<_>>().join(" ");
        start(prog, &args, class, target.is_some());
    }
    if node == console && !asked && !scripted(cmdline) {
        // The shell reads the console: it stays on the console node.
        start("shell", "", Class::Auto, true);
    }
    loop {
        match urt::wait(0) {
            Ok((pid, status)) => {
                let prog = children.iter().find(|(p, _)| *p == pid).map_or("?", |(_, n)| n);
                println!("init: node {node}: {prog} (pid {pid}) {status}");
            }
            Err(Error::NoChild) => break,
            Err(e) => {
                println!("init: node {node}: wait: {e}");
                break;
            }
        }
    }
    0
}

/// Whether the command line runs a script to its end (no shell wanted).
fn scripted(cmdline: &str) -> bool {
    cmdline.split_whitespace().any(|w| w == "poweroff" || w.starts_with("ktest=") || w.starts_with("bench="))
}

/// The `name` word `word` is (`NAME[@N][.CLASS]=PROG[:ARG...]`, see
/// `user_abi::cmdline`), if it is one. The boot driver refused the boot on
/// a bad one, so an error cannot happen here; it is skipped.
fn run_word<'a>(word: &'a str, name: &str) -> Option<RunWord<'a>> {
    user_abi::cmdline::run_word(word, name).ok()?
}

urt::entry!(main);
