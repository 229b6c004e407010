//! The command line.

use std::path::PathBuf;

pub(crate) const USAGE: &str =
    "usage: channel-bench [--runs N] [--quick] [--json PATH] [--round-trips N] [--messages M]
  --runs N          runs, each measuring every contender once (default 5)
  --quick           smaller round-trip and message counts, for a smoke run
  --json PATH       where to write the figures (default <workspace>/target/bench/channel-host.json)
  --round-trips N   latency round trips per measurement (default 200000, quick 20000)
  --messages M      messages per throughput measurement (default 10000000, quick 500000)";

pub(crate) struct Config {
    pub(crate) runs: usize,
    pub(crate) round_trips: u64,
    pub(crate) warmup: u64,
    pub(crate) messages: u64,
    pub(crate) json: PathBuf,
}

pub(crate) fn parse_count(flag: &str, value: Option<String>) -> Result<u64, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a number"))?;
    let n: u64 = value.parse().map_err(|_| format!("{flag}: `{value}` is not a whole number"))?;
    if n == 0 {
        return Err(format!("{flag} must be at least 1"));
    }
    Ok(n)
}

pub(crate) fn parse_args() -> Result<Option<Config>, String> {
    let mut runs = 5u64;
    let mut quick = false;
    let mut json = None;
    let mut round_trips = None;
    let mut messages = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => runs = parse_count("--runs", args.next())?,
            "--quick" => quick = true,
            "--json" => json = Some(PathBuf::from(args.next().ok_or("--json needs a path")?)),
            "--round-trips" => round_trips = Some(parse_count("--round-trips", args.next())?),
            "--messages" => messages = Some(parse_count("--messages", args.next())?),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    let round_trips = round_trips.unwrap_or(if quick { 20_000 } else { 200_000 });
    let json = json.unwrap_or_else(|| workspace_root().join("target").join("bench").join("channel-host.json"));
    Ok(Some(Config {
        runs: usize::try_from(runs).map_err(|_| "--runs is too large".to_string())?,
        round_trips,
        warmup: (round_trips / 10).max(1_000),
        messages: messages.unwrap_or(if quick { 500_000 } else { 10_000_000 }),
        json,
    }))
}

pub(crate) fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors().nth(2).map(PathBuf::from).unwrap_or(here)
}
