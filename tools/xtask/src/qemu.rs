//! Running the boot image under `qemu-system-aarch64 -M virt`.

use crate::Result;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Oldest QEMU with what we need (`cortex-a55`, `raspi4b`, a working `dumpdtb`).
pub const MIN_QEMU_MAJOR: u32 = 9;
/// The one command that installs it (from bookworm-backports on Debian 12).
pub const INSTALL_HINT: &str = "bash tools/install-qemu.sh";

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

/// The full command that boots `kernel` on `m`, console on stdio.
pub fn command(m: &Machine, kernel: &Path) -> Result<Command> {
    let mut cmd = Command::new(binary()?);
    cmd.args(machine_args(m, ""));
    cmd.args(["-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot"]);
    cmd.arg("-kernel").arg(kernel);
    if let Some(dtb) = &m.dtb {
        cmd.arg("-dtb").arg(dtb);
    }
    if !m.append.is_empty() {
        cmd.args(["-append", &m.append]);
    }
    Ok(cmd)
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
    let start = Instant::now();
    let exit_code = loop {
        if let Some(status) = child.try_wait().map_err(|e| format!("waiting for QEMU: {e}"))? {
            break status.code();
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let bytes = reader.join().unwrap_or_default();
    Ok(Captured { console: String::from_utf8_lossy(&bytes).replace('\r', ""), exit_code })
}
