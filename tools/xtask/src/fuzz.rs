//! Coverage-guided fuzzing of the parsers that take untrusted input (the
//! `fuzz-targets` crate, `tests/fuzz`), for a bounded time, on stable Rust
//! and without cargo-fuzz: the targets link libFuzzer through
//! `libfuzzer-sys` and are built with the SanitizerCoverage instrumentation
//! cargo-fuzz passes, minus the address sanitizer (nightly-only, and the
//! code fuzzed is safe Rust: panics and aborts are what is caught).
//!
//! Everything goes under `target/fuzz/`: the instrumented build (its own
//! target directory, so the normal build is not invalidated), the corpus
//! the fuzzer grows (`corpus/<target>`; the committed seeds in
//! `tests/fuzz/corpus/<target>` are only read), crash artifacts
//! (`artifacts/<target>/`) and the full libFuzzer log (`logs/<target>.log`).

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The fuzz targets, as `tests/fuzz` names its binaries.
pub const TARGETS: [&str; 4] = ["message_decode", "dtb_plan", "channel_recv", "program_load"];

/// `RUSTFLAGS` of the instrumented build: what cargo-fuzz passes (without
/// `-Zsanitizer`), all stable `-C` options.
pub const RUSTFLAGS: &str = "--cfg fuzzing \
    -Cpasses=sancov-module \
    -Cllvm-args=-sanitizer-coverage-level=4 \
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
    -Cllvm-args=-sanitizer-coverage-pc-table \
    -Cllvm-args=-sanitizer-coverage-trace-compares \
    -Cdebug-assertions \
    -Coverflow-checks";

/// The workspace's release profile is tuned for the kernel (size, fat LTO,
/// one codegen unit); the fuzz build wants speed and a short build, and
/// line tables for panic backtraces. Set for this cargo invocation only.
const PROFILE: [(&str, &str); 4] = [
    ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "3"),
    ("CARGO_PROFILE_RELEASE_LTO", "false"),
    ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16"),
    ("CARGO_PROFILE_RELEASE_DEBUG", "line-tables-only"),
];

/// Seconds one input may run before libFuzzer calls it a hang.
const TIMEOUT_SECS: u32 = 10;

/// Longest input worth mutating, where the target reads only a prefix:
/// one 56-byte payload; a channel region (704 bytes) plus a script.
/// Others take libFuzzer's default (the largest seed, at least 4096).
fn max_len(target: &str) -> Option<usize> {
    match target {
        "message_decode" => Some(56),
        "channel_recv" => Some(2048),
        _ => None,
    }
}

/// `target/fuzz`: the instrumented build and everything the fuzzer writes.
pub fn dir() -> PathBuf {
    crate::target_dir().join("fuzz")
}

/// The committed seed inputs of `target`.
pub fn seeds(target: &str) -> PathBuf {
    crate::root().join("tests/fuzz/corpus").join(target)
}

/// The host's target triple. The build names it explicitly so that
/// `RUSTFLAGS` reach only the target's crates, not build scripts and
/// proc macros (which would then need libFuzzer's coverage hooks).
fn host_triple() -> crate::Result<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(&rustc)
        .arg("-vV")
        .current_dir(crate::root())
        .output()
        .map_err(|e| format!("cannot run `{rustc} -vV`: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|h| h.trim().to_string())
        .ok_or_else(|| format!("`{rustc} -vV` names no host"))
}

/// Builds `target` instrumented; returns the binary.
pub fn build(target: &str) -> crate::Result<PathBuf> {
    if !TARGETS.contains(&target) {
        return Err(format!("unknown fuzz target {target:?}; known: {}", TARGETS.join(", ")));
    }
    let host = host_triple()?;
    let mut cmd = crate::build::cargo();
    cmd.args(["build", "--release", "-p", "fuzz-targets", "--bin", target, "--target", &host])
        .current_dir(crate::root())
        .env("CARGO_TARGET_DIR", dir())
        .env("RUSTFLAGS", RUSTFLAGS)
        // Would override RUSTFLAGS if inherited.
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    for (k, v) in PROFILE {
        cmd.env(k, v);
    }
    let started = Instant::now();
    crate::build::run(cmd, &format!("instrumented build of fuzz target {target}"))?;
    crate::outln!("fuzz: built {target} in {:.1} s", started.elapsed().as_secs_f64());
    Ok(dir().join(&host).join("release").join(target))
}

fn create_dir(d: &Path) -> crate::Result<()> {
    std::fs::create_dir_all(d).map_err(|e| format!("cannot create {}: {e}", d.display()))
}

/// Whether a libFuzzer line is worth showing: the summary (`INITED`,
/// `DONE`, `Done N runs`, `stat::`), and everything that is not routine
/// (a panic message and backtrace, the crash report, unexpected warnings).
/// Not: progress (`#N NEW ...`), `INFO:`, newly covered functions, the
/// recommended dictionary, or the warnings that the sanitizer runtime
/// (not linked: no sanitizer) is missing.
fn shown(line: &str) -> bool {
    if let Some(rest) = line.strip_prefix('#') {
        return rest.contains("INITED") || rest.contains("DONE");
    }
    !(line.trim().is_empty()
        || line.starts_with("INFO:")
        || line.trim_start().starts_with("NEW_FUNC")
        || line.starts_with("WARNING: Failed to find function \"__sanitizer_")
        || (line.starts_with('"') && line.contains("# Uses:")))
}

/// Builds `target`, fuzzes it for `seconds`, prints libFuzzer's summary.
/// A crash, hang or out-of-memory is an error naming the input that
/// caused it.
pub fn run(target: &str, seconds: u64) -> crate::Result<()> {
    let binary = build(target)?;
    let corpus = dir().join("corpus").join(target);
    let artifacts = dir().join("artifacts").join(target);
    let logs = dir().join("logs");
    for d in [&corpus, &artifacts, &logs] {
        create_dir(d)?;
    }
    let seeds = seeds(target);
    if !seeds.is_dir() {
        return Err(format!("no seed corpus at {}", seeds.display()));
    }
    let log_path = logs.join(format!("{target}.log"));
    let mut log = File::create(&log_path).map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;

    let mut cmd = Command::new(&binary);
    cmd.arg(format!("-max_total_time={seconds}"))
        .arg("-rss_limit_mb=2048")
        .arg(format!("-timeout={TIMEOUT_SECS}"))
        .arg("-print_final_stats=1")
        // libFuzzer needs the trailing separator: it prepends the prefix
        // to `crash-<sha1>`.
        .arg(format!("-artifact_prefix={}/", artifacts.display()));
    if let Some(n) = max_len(target) {
        cmd.arg(format!("-max_len={n}"));
    }
    // New inputs go to the first directory; the seeds are only read.
    cmd.arg(&corpus).arg(&seeds).current_dir(crate::root()).stdout(Stdio::null()).stderr(Stdio::piped());
    if std::env::var_os("RUST_BACKTRACE").is_none() {
        cmd.env("RUST_BACKTRACE", "1");
    }
    crate::outln!("fuzz: running {target} for {seconds} s (log: {})", log_path.display());
    let mut child = cmd.spawn().map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    let stderr = child.stderr.take().ok_or("no fuzzer stderr")?;
    let mut artifact = None;
    for line in BufReader::new(stderr).lines() {
        let line = line.map_err(|e| format!("reading {target}'s output: {e}"))?;
        writeln!(log, "{line}").map_err(|e| format!("cannot write {}: {e}", log_path.display()))?;
        if let Some((_, path)) = line.split_once("Test unit written to ") {
            artifact = Some(path.trim().to_string());
        }
        if shown(&line) {
            crate::outln!("  {target}: {line}");
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        return Ok(());
    }
    let found = match artifact {
        Some(a) => format!("input saved as {a}; reproduce with `{} {a}`", binary.display()),
        None => "no input saved".to_string(),
    };
    Err(format!("fuzz target {target} failed ({status}): {found}; full log in {}", log_path.display()))
}

/// Fuzzes every target for `seconds_each`, one after another; runs them
/// all even if one fails, then reports every failure.
pub fn run_all(seconds_each: u64) -> crate::Result<()> {
    let failures: Vec<String> = TARGETS.iter().filter_map(|t| run(t, seconds_each).err()).collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}
