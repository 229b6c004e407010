//! Builds the two CPU-driver builds and a board's boot image.

use crate::{image, target_dir, Result};
use std::path::PathBuf;
use std::process::Command;

const TARGET: &str = "aarch64-unknown-none";

/// The two builds of the CPU driver, with the core each is tuned for.
pub const CPU_DRIVER_BUILDS: [(&str, &str); 2] = [("big", "cortex-a76"), ("little", "cortex-a55")];

/// The cargo that runs xtask (or the one on PATH).
pub fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Runs `cmd` from the workspace root; `what` names it in the error.
pub fn run(mut cmd: Command, what: &str) -> Result<()> {
    let status = cmd.current_dir(crate::root()).status().map_err(|e| format!("{what}: cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

fn images_dir() -> Result<PathBuf> {
    let dir = target_dir().join("images");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

fn flatten_to(elf: PathBuf, out: PathBuf) -> Result<PathBuf> {
    let bytes = std::fs::read(&elf).map_err(|e| format!("cannot read {}: {e}", elf.display()))?;
    std::fs::write(&out, image::flatten(&bytes)?).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    Ok(out)
}

/// Builds one CPU-driver build; returns its flat image.
pub fn cpu_driver(build: &str, cpu: &str) -> Result<PathBuf> {
    // Each build has its own target dir: different codegen flags.
    let dir = target_dir().join(format!("cpu-driver-{build}"));
    let mut cmd = cargo();
    cmd.args(["build", "--quiet", "--release", "-p", "cpu-driver", "--target", TARGET, "--features", build])
        .env("CARGO_TARGET_DIR", &dir)
        .env("CARGO_ENCODED_RUSTFLAGS", format!("-Ctarget-cpu={cpu}"));
    run(cmd, &format!("building the {build} CPU driver"))?;
    let elf = dir.join(TARGET).join("release").join("cpu-driver");
    flatten_to(elf, images_dir()?.join(format!("cpu-driver-{build}.bin")))
}

/// Builds both CPU drivers and the boot image of `board`; returns the image.
pub fn boot_image(board: &str) -> Result<PathBuf> {
    let mut drivers = Vec::new();
    for (build, cpu) in CPU_DRIVER_BUILDS {
        drivers.push(cpu_driver(build, cpu)?);
    }
    let dir = target_dir().join("boot");
    let mut cmd = cargo();
    cmd.args(["build", "--quiet", "--release", "-p", board, "--target", TARGET])
        .env("CARGO_TARGET_DIR", &dir)
        .env("CARGO_ENCODED_RUSTFLAGS", "")
        .env("MK_CPU_DRIVER_BIG", &drivers[0])
        .env("MK_CPU_DRIVER_LITTLE", &drivers[1]);
    run(cmd, &format!("building the {board} boot image"))?;
    let elf = dir.join(TARGET).join("release").join(board);
    flatten_to(elf, images_dir()?.join(format!("{board}.img")))
}

/// Runs a `cargo test` command from the workspace root, passing its output
/// through, and adds up its `test result:` lines: (passed, failed).
pub fn cargo_test(mut cmd: Command, what: &str) -> Result<(u64, u64)> {
    use std::io::{BufRead, BufReader};
    let mut child = cmd
        .current_dir(crate::root())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("{what}: cannot run cargo: {e}"))?;
    let stdout = child.stdout.take().ok_or("no cargo stdout")?;
    let mut counts = (0, 0);
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| e.to_string())?;
        println!("{line}");
        if let Some((passed, failed)) = crate::report::cargo_test_counts(&line) {
            counts = (counts.0 + passed, counts.1 + failed);
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    status.success().then_some(counts).ok_or_else(|| format!("{what} failed ({status})"))
}
