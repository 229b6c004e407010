//! The README's boot command (`cargo xtask run --topology 4+2+2`, no
//! bootargs) as a newcomer uses it: it lands in the shell, and the shell
//! handles what a serial console sends.

use boot_tests::{assert_kernel_survived, preset_machine, session};
use std::time::Duration;
use xtask::qemu::Session;

const STEP: Duration = Duration::from_secs(60);
const PROMPT: &str = "mk> ";

/// The README's boot command's machine.
fn interactive() -> Session {
    let mut m = preset_machine("4+2+2", 3);
    m.append = String::new();
    let mut s = session(&m);
    expect(&mut s, "shell: type help for the commands\n");
    prompt(&mut s);
    // init says so when its spawn returns, which may be after the shell,
    // on another core, has printed its prompt.
    // Node 0 of 3 hands out pids 1, 4, 7, ...: init, then the shell.
    let started = "init: node 0 started shell (pid 4)";
    if !s.console().contains(started) {
        expect(&mut s, started);
    }
    s
}

fn expect(s: &mut Session, text: &str) -> String {
    s.expect(text, STEP).unwrap_or_else(|e| panic!("{e}"))
}

/// Waits for the prompt; returns what the console printed before it.
fn prompt(s: &mut Session) -> String {
    expect(s, PROMPT)
}

fn send(s: &mut Session, text: &str) {
    s.send(text).unwrap_or_else(|e| panic!("{e}"));
}

/// Types `line` and Enter; returns what it printed up to the next prompt.
fn command(s: &mut Session, line: &str) -> String {
    send(s, &format!("{line}\r"));
    prompt(s)
}

/// `poweroff` says who asked and QEMU exits cleanly.
fn power_off(mut s: Session) {
    send(&mut s, "poweroff\r");
    expect(&mut s, "poweroff: asked by pid 4 (shell)");
    let c = s.finish(STEP).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.exit_code, Some(0), "QEMU must power off; console:\n{}", c.console);
    assert_kernel_survived(&c.console);
}

#[test]
fn lands_in_the_shell_and_edits_lines() {
    let mut s = interactive();
    let help = command(&mut s, "help");
    for cmd in [
        "help",
        "ps",
        "nodes",
        "sysinfo",
        "run [-c CLASS] [-n NODE] PROGRAM",
        "kill PID",
        "migrate PID NODE",
        "poweroff",
        "exit",
    ] {
        assert!(help.lines().any(|l| l.trim_start().starts_with(cmd)), "help must list {cmd:?}:\n{help}");
    }
    // Backspace and DEL both erase.
    let nodes = command(&mut s, "nodz\x7fe\x08es");
    assert!(nodes.lines().any(|l| l == "3 nodes"), "an edited `nodes` runs:\n{nodes}");
    let unknown = command(&mut s, "frobnicate now");
    assert!(unknown.contains("unknown command: frobnicate"), "{unknown}");
    // Ctrl-C at the prompt drops the line.
    send(&mut s, "kill 1\x03");
    let after = command(&mut s, "");
    assert!(!after.contains("kill:"), "a cancelled line does not run:\n{after}");

    // 4 KiB without a line end: refused, and the shell still answers.
    send(&mut s, &"x".repeat(4096));
    expect(&mut s, "shell: line longer than 255 bytes: ignored up to its end");
    send(&mut s, "\r");
    prompt(&mut s);
    let help = command(&mut s, "help");
    assert!(help.contains("show this list"), "{help}");
    power_off(s);
}

#[test]
fn pasted_commands_all_run_in_order_whatever_their_line_ends() {
    let mut s = interactive();
    for end in ["\r", "\n", "\r\n"] {
        let commands = ["run exitcode 11", "nodes", "run exitcode 12", "sysinfo", "run exitcode 13"];
        let paste: String = commands.iter().map(|c| format!("{c}{end}")).collect();
        send(&mut s, &paste);
        let mut out = String::new();
        for _ in &commands {
            out += &prompt(&mut s);
        }
        let at = |what: &str| out.find(what).unwrap_or_else(|| panic!("{what:?} missing ({end:?}):\n{out}"));
        let order =
            [at("exited with 11"), at("3 nodes"), at("exited with 12"), at("console_dropped="), at("exited with 13")];
        assert!(order.windows(2).all(|w| w[0] < w[1]), "out of order with {end:?}:\n{out}");
        assert!(!out.contains("unknown command"), "no command lost a letter ({end:?}):\n{out}");
    }
    power_off(s);
}

#[test]
fn background_jobs_are_reaped() {
    let mut s = interactive();
    const JOBS: usize = 200;
    let exits = |text: &str| text.matches("] exited with 0").count();
    // Reports come as jobs end (with a new prompt) or before the next
    // prompt: count them wherever they are.
    let mut seen = 0;
    for _ in 0..JOBS {
        send(&mut s, "run exitcode 0 &\r");
        seen += exits(&expect(&mut s, "] started\n"));
    }
    while seen < JOBS {
        seen += exits(&s.expect(|l: &str| l.ends_with("] exited with 0"), STEP).unwrap_or_else(|e| panic!("{e}"))) + 1;
    }
    send(&mut s, "\r");
    prompt(&mut s);
    let ps = command(&mut s, "ps");
    assert!(!ps.contains("zombie"), "every job was reaped:\n{ps}");
    assert_eq!(ps.lines().filter(|l| l.trim_end().ends_with("exitcode")).count(), 0, "{ps}");
    power_off(s);
}

#[test]
fn foreground_jobs_stop_on_ctrl_c_and_typeahead_waits() {
    let mut s = interactive();
    // Typed while a job runs: kept, and run once it ends.
    send(&mut s, "run heavy 20000\r");
    expect(&mut s, "run heavy 20000\n");
    send(&mut s, "nodes\r");
    let out = prompt(&mut s);
    assert!(out.contains("exited with 0"), "{out}");
    let out = prompt(&mut s);
    assert!(out.contains("3 nodes"), "the typeahead ran after the job:\n{out}");

    // Ctrl-C ends the foreground job, not the shell.
    send(&mut s, "run heavy 100000000\r");
    expect(&mut s, "run heavy 100000000\n");
    std::thread::sleep(Duration::from_millis(500));
    send(&mut s, "\x03");
    let out = prompt(&mut s);
    assert!(out.contains("] killed"), "Ctrl-C stops the job:\n{out}");

    // Typeahead beyond its size is refused with a message, never merged.
    send(&mut s, "run heavy 200000\r");
    expect(&mut s, "run heavy 200000\n");
    send(&mut s, &format!("{}\r", "y".repeat(5000)));
    let out = expect(&mut s, "input was dropped; the line in progress is discarded");
    assert!(out.contains("exited with 0"), "{out}");
    prompt(&mut s);
    let out = command(&mut s, "sysinfo");
    let dropped = out
        .split_whitespace()
        .find_map(|w| w.strip_prefix("input_dropped=")?.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("sysinfo has input_dropped:\n{out}"));
    assert!(dropped > 0, "{out}");
    assert!(!out.contains("unknown command"), "{out}");

    let out = command(&mut s, "kill 1");
    assert!(out.contains("kill: 1 is init: it cannot be killed"), "{out}");
    let ps = command(&mut s, "ps");
    assert!(ps.lines().any(|l| l.trim_end().ends_with(" init")), "init still runs:\n{ps}");
    power_off(s);
}

#[test]
fn classes_given_and_measured_show_in_ps() {
    let mut s = interactive();
    let out = command(&mut s, "run -c light heavy 100000000 &");
    let light: u32 = pid_started(&out);
    let out = command(&mut s, "run heavy 100000000 &");
    let auto: u32 = pid_started(&out);
    // Give the auto one time to fill its core (75% takes about 66 ms).
    std::thread::sleep(Duration::from_millis(1500));
    let ps = command(&mut s, "ps");
    let row = |pid: u32| {
        ps.lines()
            .find(|l| l.split_whitespace().next() == Some(&pid.to_string()))
            .unwrap_or_else(|| panic!("pid {pid} in ps:\n{ps}"))
            .to_string()
    };
    assert!(row(light).contains(" light "), "given light, stays light: {}", row(light));
    assert!(row(auto).contains(" auto:heavy "), "busy all the time, counts as heavy: {}", row(auto));
    let init = row(1);
    assert!(init.contains(" light "), "init is class light: {init}");
    assert!(row(auto).split_whitespace().nth(2) != Some("0"), "busy auto work left the LITTLE node: {}", row(auto));
    let out = command(&mut s, "run -c big heavy");
    assert!(out.contains("run: no class big"), "{out}");
    for pid in [light, auto] {
        command(&mut s, &format!("kill {pid}"));
    }
    power_off(s);
}

/// A job's status line: in `out` already (it came before the prompt) or later.
fn reported(s: &mut Session, out: &str, line: &str) {
    if !out.contains(line) {
        expect(s, line);
    }
}

/// `ps`'s row of `pid`, split in columns (PID PPID NODE STATE ...).
fn ps_row(s: &mut Session, pid: u32) -> Vec<String> {
    let ps = command(s, "ps");
    let row = ps.lines().find(|l| l.split_whitespace().next() == Some(&pid.to_string()));
    row.unwrap_or_else(|| panic!("pid {pid} in ps:\n{ps}")).split_whitespace().map(String::from).collect()
}

#[test]
fn programs_on_other_nodes_are_started_waited_for_listed_and_killed() {
    let mut s = interactive();
    // The shell (node 0) starts a child on node 1 and gets its exit code.
    let out = command(&mut s, "run -n 1 exitcode 5");
    assert!(out.contains("exited with 5"), "{out}");
    let out = command(&mut s, "run -n 1 nonesuch");
    assert!(out.contains("run: nonesuch: no such program"), "node 1's error comes back:\n{out}");
    // One on node 2, in the background: ps here lists it there.
    let out = command(&mut s, "run -n 2 heavy 100000000 &");
    let far = pid_started(&out);
    std::thread::sleep(Duration::from_millis(500));
    let row = ps_row(&mut s, far);
    assert_eq!((row[1].as_str(), row[2].as_str()), ("4", "2"), "parent the shell, on node 2: {row:?}");
    assert!(row.last().is_some_and(|n| n == "heavy"), "{row:?}");
    // Killed from here; its status comes back to the shell.
    let out = command(&mut s, &format!("kill {far}"));
    assert!(out.contains(&format!("killed {far}")), "{out}");
    reported(&mut s, &out, &format!("[pid {far}] killed"));
    // The other nodes' inits cannot be killed either.
    for pid in [2, 3] {
        let out = command(&mut s, &format!("kill {pid}"));
        assert!(out.contains(&format!("kill: {pid} is init")), "{out}");
    }
    // Moved by hand: to node 1, where ps then finds it.
    let out = command(&mut s, "run -n 2 heavy 100000000 &");
    let moved = pid_started(&out);
    let out = command(&mut s, &format!("migrate {moved} 1"));
    assert!(out.contains(&format!("migrated {moved} to node 1")), "{out}");
    std::thread::sleep(Duration::from_millis(300));
    let row = ps_row(&mut s, moved);
    assert_eq!(row[2], "1", "on node 1 now: {row:?}");
    let out = command(&mut s, "migrate 1 2");
    assert!(out.contains("migrate: 1 to node 2: not permitted"), "an init stays: {out}");
    let out = command(&mut s, &format!("kill {moved}"));
    reported(&mut s, &out, &format!("[pid {moved}] killed"));
    // Placed by the policy: heavy work from the LITTLE node 0 goes to a big node.
    let out = command(&mut s, "run -c heavy heavy 100000000 &");
    let placed = pid_started(&out);
    std::thread::sleep(Duration::from_millis(500));
    let row = ps_row(&mut s, placed);
    assert!(row[2] == "1" || row[2] == "2", "on a big node: {row:?}");
    let out = command(&mut s, &format!("kill {placed}"));
    reported(&mut s, &out, &format!("[pid {placed}] killed"));
    power_off(s);
}

/// The pid in a `[pid N] started` line.
fn pid_started(out: &str) -> u32 {
    out.lines()
        .find_map(|l| l.strip_prefix("[pid ")?.strip_suffix("] started")?.parse().ok())
        .unwrap_or_else(|| panic!("no start line:\n{out}"))
}
