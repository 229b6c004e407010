//! Host benchmarks: the message channel against a raw cache-line ping-pong,
//! `rtrb` and `crossbeam-channel` (the `channel-bench` crate).

use crate::build::{cargo, run};
use crate::{target_dir, Result};

/// Runs the channel host benchmark `runs` times (contenders interleaved in
/// each run, two threads pinned to cores 0 and 1); it prints its table and
/// writes `target/bench/channel-host.json`.
pub fn channel_host(runs: usize) -> Result<()> {
    if runs == 0 {
        return Err("the channel benchmark needs at least one run".into());
    }
    let dir = target_dir().join("bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let json = dir.join("channel-host.json");
    let mut cmd = cargo();
    cmd.args(["run", "--release", "--quiet", "-p", "channel-bench", "--", "--runs"])
        .arg(runs.to_string())
        .arg("--json")
        .arg(&json);
    run(cmd, "the channel host benchmark")?;
    crate::charts::beside("channel-host.json", &crate::plot::read_json(&json)?, crate::charts::channel_host)
}
