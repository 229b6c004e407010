//! Running the boot image under `qemu-system-aarch64 -M virt`.

use crate::Result;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Oldest QEMU with what we need (`cortex-a55`, `raspi4b`, a working `dumpdtb`).
pub const MIN_QEMU_MAJOR: u32 = 9;
/// The one command that installs it (from bookworm-backports on Debian 12);
/// `cargo xtask run` and `test` run it themselves when they can.
pub const INSTALL_HINT: &str = "sudo bash tools/install-packages.sh qemu";

/// The emulated machine.
#[derive(Debug, Clone)]
pub struct Machine {
    pub smp: usize,
    /// `-smp ...,clusters=C` (only when QEMU generates the device tree).
    pub clusters: Option<usize>,
    pub gic: u8,
    pub cpu: String,
    pub memory_mib: u32,
    pub dtb: Option<PathBuf>,
    pub append: String,
    /// Start at EL2 (PSCI over SMC).
    pub virtualization: bool,
    /// A TCG plugin and its arguments (`-plugin` value), e.g. the pacer.
    pub plugin: Option<String>,
    /// Start with the vCPUs stopped and the gdb stub on this port (`--gdb`).
    pub gdb_port: Option<u16>,
}

impl Default for Machine {
    fn default() -> Self {
        Machine {
            smp: 4,
            clusters: None,
            gic: 3,
            cpu: "cortex-a76".into(),
            memory_mib: 1024,
            dtb: None,
            append: String::new(),
            virtualization: false,
            plugin: None,
            gdb_port: None,
        }
    }
}

/// Finds `qemu-system-aarch64` and checks its version.
pub fn binary() -> Result<PathBuf> {
    let bin = PathBuf::from("qemu-system-aarch64");
    let out = Command::new(&bin)
        .arg("--version")
        .output()
        .map_err(|_| format!("qemu-system-aarch64 not found; install it with: {INSTALL_HINT}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let major = text
        .split_whitespace()
        .skip_while(|w| *w != "version")
        .nth(1)
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse::<u32>().ok())
        .ok_or_else(|| format!("cannot read the QEMU version from: {}", text.trim()))?;
    if major < MIN_QEMU_MAJOR {
        return Err(format!("QEMU {major} is too old (need {MIN_QEMU_MAJOR}+); install with: {INSTALL_HINT}"));
    }
    Ok(bin)
}

/// The machine part of the command line (shared by `run` and `dumpdtb`).
pub fn machine_args(m: &Machine, extra_machine: &str) -> Vec<String> {
    let mut machine = format!("virt,gic-version={}", m.gic);
    if m.virtualization {
        machine.push_str(",virtualization=on");
    }
    machine.push_str(extra_machine);
    let smp = match m.clusters {
        Some(c) => format!("{},clusters={c}", m.smp),
        None => m.smp.to_string(),
    };
    vec![
        "-M".into(),
        machine,
        "-cpu".into(),
        m.cpu.clone(),
        "-smp".into(),
        smp,
        "-m".into(),
        format!("{}M", m.memory_mib),
    ]
}

/// The full command that boots `kernel` on `m`, console on stdio (for
/// programs that drive the console: tests, benchmarks).
pub fn command(m: &Machine, kernel: &Path) -> Result<Command> {
    command_with(m, kernel, &["-serial", "stdio", "-monitor", "none"])
}

/// The command for a person at a terminal: Ctrl-C goes to the guest (the
/// shell stops its foreground program), and QEMU's own keys are behind
/// Ctrl-A (Ctrl-A X quits, Ctrl-A C is QEMU's monitor).
pub fn interactive_command(m: &Machine, kernel: &Path) -> Result<Command> {
    let console = ["-chardev", "stdio,id=console,mux=on,signal=off", "-serial", "chardev:console", "-mon", "console"];
    command_with(m, kernel, &console)
}

fn command_with(m: &Machine, kernel: &Path, console: &[&str]) -> Result<Command> {
    let mut cmd = Command::new(binary()?);
    cmd.args(machine_args(m, ""));
    cmd.args(["-display", "none"]).args(console).arg("-no-reboot");
    cmd.arg("-kernel").arg(kernel);
    if let Some(dtb) = &m.dtb {
        cmd.arg("-dtb").arg(dtb);
    }
    if !m.append.is_empty() {
        cmd.args(["-append", &m.append]);
    }
    if let Some(plugin) = &m.plugin {
        cmd.args(["-plugin", plugin]);
    }
    if let Some(port) = m.gdb_port {
        cmd.args(crate::gdb::qemu_args(port));
    }
    Ok(cmd)
}

/// Runs QEMU at this terminal (stdin is the guest's console input) until
/// it exits; with `trace`, also collects the console's `trace:` lines and
/// writes them to that file as Chrome trace JSON. A console that showed a
/// `boot: error:` line makes the run fail, even when the machine then
/// powered itself off.
pub fn run_at_terminal(m: &Machine, kernel: &Path, trace: Option<&Path>) -> Result<()> {
    let mut cmd = interactive_command(m, kernel)?;
    cmd.stdout(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot start QEMU: {e}"))?;
    let mut stdout = child.stdout.take().ok_or("no QEMU stdout")?;
    // Everything still goes to the terminal as it comes; a copy is kept.
    let mut console = Output::default();
    let mut buf = [0u8; 4096];
    let mut out = std::io::stdout();
    loop {
        let n = stdout.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        let _ = out.write_all(&buf[..n]).and_then(|()| out.flush());
        console.push(&buf[..n]);
    }
    let status = child.wait().map_err(|e| format!("waiting for QEMU: {e}"))?;
    if let Some(path) = trace {
        let sum = crate::trace::write(&console.text, path)?;
        crate::outln!(
            "xtask: trace written to {} ({} slices, {} message flows, {} events lost); open it in https://ui.perfetto.dev, draw it with cargo xtask plot {}",
            path.display(),
            sum.slices,
            sum.flows,
            sum.lost,
            path.display()
        );
    }
    if let Some(line) = console.text.lines().find(|l| l.starts_with("boot: error:")) {
        return Err(format!("the boot failed: {line}"));
    }
    status.success().then_some(()).ok_or_else(|| format!("QEMU exited with {status}"))
}

/// What a captured run produced.
#[derive(Debug)]
pub struct Captured {
    pub console: String,
    /// QEMU's exit code, `None` if it was killed at the timeout.
    pub exit_code: Option<i32>,
}

/// Boots and captures the console until QEMU exits or `timeout` passes.
pub fn run_captured(m: &Machine, kernel: &Path, timeout: Duration) -> Result<Captured> {
    let mut cmd = command(m, kernel)?;
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = cmd.spawn().map_err(|e| format!("cannot start QEMU: {e}"))?;
    let mut stdout = child.stdout.take().ok_or("no QEMU stdout")?;
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let exit_code = wait_or_kill(&mut child, timeout)?;
    let bytes = reader.join().unwrap_or_default();
    Ok(Captured { console: String::from_utf8_lossy(&bytes).replace('\r', ""), exit_code })
}

/// Waits for `child` to exit, killing it after `timeout`; its exit code, or
/// `None` if it had to be killed.
fn wait_or_kill(child: &mut Child, timeout: Duration) -> Result<Option<i32>> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| format!("waiting for QEMU: {e}"))? {
            return Ok(status.code());
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What the reader thread has collected: the console so far (UTF-8, `\r`
/// removed) and whether QEMU closed its output.
#[derive(Default)]
struct Output {
    text: String,
    /// Bytes of an incomplete UTF-8 sequence at the end of the last read.
    partial: Vec<u8>,
    closed: bool,
}

impl Output {
    fn push(&mut self, bytes: &[u8]) {
        self.partial.extend(bytes.iter().copied().filter(|&b| b != b'\r'));
        let mut rest: &[u8] = &self.partial;
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    self.text.push_str(s);
                    rest = &[];
                    break;
                }
                Err(e) => {
                    let (good, bad) = rest.split_at(e.valid_up_to());
                    self.text.push_str(std::str::from_utf8(good).unwrap_or_default());
                    match e.error_len() {
                        Some(n) => {
                            self.text.push(char::REPLACEMENT_CHARACTER);
                            rest = &bad[n..];
                        }
                        // Incomplete at the end: wait for the next read.
                        None => {
                            rest = bad;
                            break;
                        }
                    }
                }
            }
        }
        self.partial = rest.to_vec();
    }
}

type Shared = Arc<(Mutex<Output>, Condvar)>;

/// What [`Session::expect`] waits for.
pub trait Pattern {
    /// Where the first match in `text` starts and ends (byte offsets).
    fn find_in(&self, text: &str) -> Option<(usize, usize)>;
    /// For error messages.
    fn describe(&self) -> String;
}

/// Text: its first occurrence.
impl Pattern for &str {
    fn find_in(&self, text: &str) -> Option<(usize, usize)> {
        text.find(*self).map(|at| (at, at + self.len()))
    }
    fn describe(&self) -> String {
        format!("{self:?}")
    }
}

/// A predicate: the first complete line (ending in a newline) it accepts;
/// the match covers the line and its newline.
impl<F: Fn(&str) -> bool> Pattern for F {
    fn find_in(&self, text: &str) -> Option<(usize, usize)> {
        let mut at = 0;
        while let Some(len) = text[at..].find('\n') {
            if self(&text[at..at + len]) {
                return Some((at, at + len + 1));
            }
            at += len + 1;
        }
        None
    }
    fn describe(&self) -> String {
        "a line matching the predicate".into()
    }
}

/// An interactive QEMU run: the same machine as [`run_captured`], with the
/// serial console's input on QEMU's stdin (`-serial stdio`, so what
/// [`send`](Session::send) writes reaches the PL011's receiver). QEMU is
/// killed if the session is dropped before it exits.
pub struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    shared: Shared,
    reader: Option<JoinHandle<()>>,
    /// Byte offset into the console up to which `expect` has read.
    position: usize,
}

impl Session {
    /// Boots `m` with `kernel`.
    pub fn start(m: &Machine, kernel: &Path) -> Result<Session> {
        let mut cmd = command(m, kernel)?;
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = cmd.spawn().map_err(|e| format!("cannot start QEMU: {e}"))?;
        let stdin = child.stdin.take();
        let Some(mut stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err("no QEMU stdout".into());
        };
        let shared: Shared = Arc::default();
        let theirs = Arc::clone(&shared);
        let reader = std::thread::spawn(move || {
            let (lock, cond) = &*theirs;
            let mut buf = [0u8; 4096];
            loop {
                let n = stdout.read(&mut buf).unwrap_or(0);
                let mut out = lock.lock().unwrap_or_else(|e| e.into_inner());
                if n == 0 {
                    out.closed = true;
                    cond.notify_all();
                    return;
                }
                out.push(&buf[..n]);
                cond.notify_all();
            }
        });
        Ok(Session { child, stdin, shared, reader: Some(reader), position: 0 })
    }

    fn output(&self) -> MutexGuard<'_, Output> {
        self.shared.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Everything the console has printed so far.
    pub fn console(&self) -> String {
        self.output().text.clone()
    }

    /// Waits until the console, after the read position, holds `pattern`;
    /// returns the text between the read position and the match, and moves
    /// the read position past the match. Fails at `timeout`, or as soon as
    /// QEMU has exited without printing it.
    pub fn expect(&mut self, pattern: impl Pattern, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        let (lock, cond) = &*self.shared;
        let mut out = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let text = out.text.get(self.position..).unwrap_or("");
            if let Some((start, end)) = pattern.find_in(text) {
                let before = text[..start].to_string();
                self.position += end;
                return Ok(before);
            }
            let now = Instant::now();
            if out.closed || now >= deadline {
                let why = if out.closed { "QEMU exited".to_string() } else { format!("{timeout:?} passed") };
                return Err(format!("{why} before the console showed {}; console:\n{}", pattern.describe(), out.text));
            }
            out = cond.wait_timeout(out, deadline - now).map(|(g, _)| g).unwrap_or_else(|e| e.into_inner().0);
        }
    }

    /// Types `text` on the serial console.
    pub fn send(&mut self, text: &str) -> Result<()> {
        let stdin = self.stdin.as_mut().ok_or("QEMU's stdin is closed")?;
        stdin.write_all(text.as_bytes()).and_then(|()| stdin.flush()).map_err(|e| format!("writing to QEMU: {e}"))
    }

    /// Waits for QEMU to exit (killing it after `timeout`) and returns the
    /// whole console.
    pub fn finish(mut self, timeout: Duration) -> Result<Captured> {
        let exit_code = wait_or_kill(&mut self.child, timeout)?;
        self.stdin = None;
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        Ok(Captured { console: self.console(), exit_code })
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_text_drops_carriage_returns_and_survives_split_utf8() {
        let mut out = Output::default();
        out.push(b"mk> \r\nnode 0\xc3");
        assert_eq!(out.text, "mk> \nnode 0");
        out.push(b"\xa9 \xff!");
        assert_eq!(out.text, "mk> \nnode 0\u{e9} \u{fffd}!");
        assert!(out.partial.is_empty());
    }

    #[test]
    fn patterns_find_text_and_lines() {
        assert_eq!("mk> ".find_in("boot\nmk> "), Some((5, 9)));
        assert_eq!("mk> ".find_in("boot\n"), None);
        let exited = |l: &str| l.ends_with("exited with 3");
        assert_eq!(exited.find_in("a\n[pid 4] exited with 3\nb"), Some((2, 24)));
        // A line is only matched once complete.
        assert_eq!(exited.find_in("a\n[pid 4] exited with 3"), None);
    }
}
