//! The loom model check of the message channel: every interleaving of its
//! sender and receiver (see `monitor/channel/tests/loom.rs`).

/// Runs the channel's loom tests in release mode, in their own target
/// directory (`--cfg loom` changes every crate's build); returns the tests
/// passed and failed.
pub fn run() -> crate::Result<(u64, u64)> {
    let mut cmd = crate::build::cargo();
    cmd.args(["test", "-p", "channel", "--release", "--test", "loom"])
        .env("RUSTFLAGS", "--cfg loom")
        // Would override RUSTFLAGS if inherited.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("CARGO_TARGET_DIR", crate::target_dir().join("loom"));
    crate::build::cargo_test(cmd, "the loom model check of the channel")
}
