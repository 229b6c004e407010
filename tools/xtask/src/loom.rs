//! The loom model check of the message channel: every interleaving of its
//! sender and receiver (see `monitor/channel/tests/loom.rs`).

use std::io::{BufRead, BufReader};
use std::process::Stdio;

/// The command run, for the error message.
const COMMAND: &str =
    "RUSTFLAGS=\"--cfg loom\" CARGO_TARGET_DIR=target/loom cargo test -p channel --release --test loom";

/// Runs the channel's loom tests in release mode, in their own target
/// directory (`--cfg loom` changes every crate's build); prints cargo's
/// output through and returns the tests passed and failed.
pub fn run() -> crate::Result<(u64, u64)> {
    let mut child = crate::build::cargo()
        .args(["test", "-p", "channel", "--release", "--test", "loom"])
        .current_dir(crate::root())
        .env("RUSTFLAGS", "--cfg loom")
        // Would override RUSTFLAGS if inherited.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("CARGO_TARGET_DIR", crate::target_dir().join("loom"))
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("`{COMMAND}`: cannot run cargo: {e}"))?;
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
    if status.success() {
        Ok(counts)
    } else {
        Err(format!("`{COMMAND}` failed ({status})"))
    }
}
