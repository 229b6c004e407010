//! `shell`: the interactive shell on the serial console (only the console
//! node has input). The line discipline is `line_edit`'s; typed and pasted
//! text is kept until every line of it has run. A program runs in the
//! foreground (Ctrl-C ends it; what is typed meanwhile waits, up to the
//! kernel's typeahead) or, with `&`, in the background, and is reported
//! when it ends.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use line_edit::{Action, LineEditor};
use urt::{print, println, Error, NodeInfo, ProcessInfo, ProcessState, SpawnOptions};
use user_abi::Class;
use user_abi::{TYPEAHEAD_BYTES, WAIT_INPUT, WAIT_NOHANG};

const PROMPT: &str = "mk> ";
/// Longest command line.
const LINE_BYTES: usize = 255;
const MAX_PROCESSES: usize = 64;
const MAX_NODES: usize = 64;

const HELP: &[(&str, &str)] = &[
    ("help", "show this list"),
    ("ps", "list the processes of this node"),
    ("nodes", "list the nodes of the machine"),
    ("sysinfo", "this node's memory, calls, faults and console drops"),
    (
        "run [-c CLASS] [-n NODE] PROGRAM [ARGS...] [&]",
        "start a program (on NODE, or where the policy says) and wait for it (Ctrl-C ends it; & : don't wait)",
    ),
    ("kill PID", "end a process (of any node)"),
    ("migrate PID NODE", "move a process, with everything it has, to another node"),
    ("trace", "every node prints its trace since the last one (bootarg trace)"),
    ("poweroff", "switch the machine off"),
    ("exit", "leave the shell"),
];

/// Console input: what was read and not yet edited, and the editor.
struct Input {
    pending: VecDeque<u8>,
    editor: LineEditor<LINE_BYTES>,
}

impl Input {
    /// The next command line, echoing it as it is edited. While nothing
    /// is typed, background jobs that end are reported.
    fn next_line(&mut self) -> Result<String, Error> {
        let mut echo = Vec::new();
        loop {
            while let Some(b) = self.pending.pop_front() {
                let action = self.editor.feed(b, &mut |e| echo.extend_from_slice(e));
                match action {
                    Some(Action::Line) => {
                        flush(&mut echo);
                        return Ok(String::from(self.editor.line()));
                    }
                    Some(Action::Cancel) => {
                        flush(&mut echo);
                        print!("{PROMPT}");
                    }
                    Some(Action::TooLong) => {
                        flush(&mut echo);
                        println!("shell: line longer than {LINE_BYTES} bytes: ignored up to its end");
                    }
                    Some(Action::TooLongEnded) => {
                        flush(&mut echo);
                        print!("{PROMPT}");
                    }
                    None => {}
                }
            }
            flush(&mut echo);
            self.fill()?;
        }
    }

    /// Waits for input (reporting background jobs that end meanwhile) and
    /// reads what there is.
    fn fill(&mut self) -> Result<(), Error> {
        while let Some((pid, status)) = urt::wait_with(0, WAIT_INPUT)? {
            println!("\n[pid {pid}] {status}");
            print!("{PROMPT}{}", self.editor.typed());
        }
        let mut buf = [0u8; 256];
        match urt::read(&mut buf) {
            Ok(n) => self.pending.extend(&buf[..n]),
            Err(Error::InputLost) => {
                self.editor.discard();
                println!("\nshell: typeahead over {TYPEAHEAD_BYTES} bytes: input was dropped; the line in progress is discarded");
                print!("{PROMPT}");
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }
}

fn flush(echo: &mut Vec<u8>) {
    if !echo.is_empty() {
        let _ = urt::write(echo);
        echo.clear();
    }
}

fn main() -> i32 {
    let info = match urt::sysinfo() {
        Ok(i) => i,
        Err(e) => {
            println!("shell: sysinfo: {e}");
            return 1;
        }
    };
    if info.console_node != info.node {
        let (here, console) = (info.node, info.console_node);
        println!("shell: node {here} has no console input (it is on node {console}): start the shell there (run@{console}=shell)");
        return 1;
    }
    println!("shell: type help for the commands");
    let mut input = Input { pending: VecDeque::new(), editor: LineEditor::new() };
    loop {
        reap_background();
        print!("{PROMPT}");
        let line = match input.next_line() {
            Ok(l) => l,
            Err(e) => {
                println!("shell: read: {e}");
                return 1;
            }
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => {}
            ["help", ..] => help(),
            ["ps", ..] => ps(),
            ["nodes", ..] => nodes(),
            ["sysinfo", ..] => sysinfo(),
            ["run", rest @ ..] => run(rest),
            ["kill", rest @ ..] => kill(rest),
            ["migrate", rest @ ..] => migrate(rest),
            ["trace", ..] => {
                if let Err(e) = urt::trace() {
                    println!("trace: {e} (boot with the bootarg trace)");
                }
            }
            ["poweroff", ..] => {
                if let Err(e) = urt::poweroff() {
                    println!("poweroff: {e}");
                }
                // The machine is going off; nothing more to read.
                let _ = urt::sleep_ns(u64::MAX);
            }
            ["exit", ..] => return 0,
            [other, ..] => println!("unknown command: {other} (try help)"),
        }
    }
}

/// Reports every background job that has ended.
fn reap_background() {
    while let Ok(Some((pid, status))) = urt::wait_with(0, WAIT_NOHANG) {
        println!("[pid {pid}] {status}");
    }
}

fn help() {
    for (cmd, what) in HELP {
        println!("  {cmd:<37} {what}");
    }
}

fn ps() {
    let mut procs = [ProcessInfo::default(); MAX_PROCESSES];
    let n = match urt::ps(&mut procs) {
        Ok(n) => n,
        Err(e) => return println!("ps: {e}"),
    };
    println!("  PID  PPID NODE STATE     CORE PRI CPU_MS UTIL CLASS      NAME");
    for p in &procs[..n] {
        let state = ProcessState::from_number(p.state).map_or("?", |s| s.name());
        // A '*' after the core marks a program pinned to it.
        let pin = if p.pinned != 0 { '*' } else { ' ' };
        println!(
            "{:>5} {:>5} {:>4} {:<9} {:>3}{pin} {:>3} {:>6} {:>4} {:<10} {}",
            p.pid,
            p.parent,
            p.node,
            state,
            p.core,
            p.priority,
            p.cpu_ns / 1_000_000,
            p.util,
            class_of(p),
            p.name()
        );
    }
}

/// The class `ps` shows: as spawned, and for `auto` what it counts as now.
fn class_of(p: &ProcessInfo) -> &'static str {
    match (Class::from_number(p.class), p.heavy != 0) {
        (Some(Class::Heavy), _) => "heavy",
        (Some(Class::Light), _) => "light",
        (_, true) => "auto:heavy",
        (_, false) => "auto:light",
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

fn sysinfo() {
    let s = match urt::sysinfo() {
        Ok(s) => s,
        Err(e) => return println!("sysinfo: {e}"),
    };
    println!(
        "node {} of {}: cores={} processes={} free_pages={}/{} calls={} failed_calls={} faults={} console_dropped={} input_dropped={} messages_dropped={} messages_rejected={} messages_unexpected={} channel_corrupt={}",
        s.node,
        s.nodes,
        s.cores,
        s.processes,
        s.free_pages,
        s.total_pages,
        s.calls,
        s.failed_calls,
        s.faults,
        s.console_dropped,
        s.input_dropped,
        s.messages_dropped,
        s.messages_rejected,
        s.messages_unexpected,
        s.channel_corrupt
    );
}

fn run(words: &[&str]) {
    let (background, words) = match words {
        [rest @ .., "&"] => (true, rest),
        _ => (false, words),
    };
    let mut words = words;
    let mut options = SpawnOptions { foreground: !background, ..SpawnOptions::default() };
    loop {
        match words {
            ["-c", name, rest @ ..] => match Class::from_name(name) {
                Some(c) => (options.class, words) = (c, rest),
                None => return println!("run: no class {name} (heavy, light or auto)"),
            },
            ["-n", node, rest @ ..] => match node.parse::<u8>() {
                Ok(n) => (options.node, words) = (Some(n), rest),
                Err(_) => return println!("run: no node {node}"),
            },
            _ => break,
        }
    }
    let [prog, args @ ..] = words else {
        return println!("run: usage: run [-c heavy|light|auto] [-n NODE] PROGRAM [ARGS...] [&]");
    };
    let args = args.join(" ");
    let pid = match urt::spawn(prog, &args, options) {
        Ok(pid) => pid,
        Err(e) => return println!("run: {prog}: {e}"),
    };
    if background {
        return println!("[pid {pid}] started");
    }
    match urt::wait(pid) {
        Ok((_, status)) => println!("[pid {pid}] {status}"),
        Err(e) => println!("run: {e}"),
    }
}

fn migrate(words: &[&str]) {
    let [Ok(pid), Ok(node)] = [0, 1].map(|i| words.get(i).map_or(Err(()), |w| w.parse::<u32>().map_err(drop))) else {
        return println!("migrate: usage: migrate PID NODE");
    };
    match urt::migrate(pid, node) {
        Ok(()) => println!("migrated {pid} to node {node}"),
        Err(e) => println!("migrate: {pid} to node {node}: {e}"),
    }
}

fn kill(words: &[&str]) {
    let Some(Ok(pid)) = words.first().map(|w| w.parse()) else {
        return println!("kill: usage: kill PID");
    };
    match urt::kill(pid) {
        Ok(()) => println!("killed {pid}"),
        Err(Error::NotPermitted) => println!("kill: {pid} is init: it cannot be killed"),
        Err(e) => println!("kill: {pid}: {e}"),
    }
}

urt::entry!(main);
