//! `cargo xtask`: build, run, test, plan, dtb, bench. See the README.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use xtask::{build, dtb, plan, qemu, Result};

const TARGET: &str = "aarch64-unknown-none";

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Build, boot and test the multikernel")]
struct Cli {
    /// The board crate (`boards/NAME`) to build the boot image of.
    #[arg(long, global = true, default_value = build::DEFAULT_BOARD)]
    board: String,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args, Clone)]
struct MachineArgs {
    /// Number of cores (default: from --topology or --dtb, else 4).
    #[arg(long)]
    smp: Option<usize>,
    /// Equal clusters of QEMU's own device tree (-smp N,clusters=C).
    #[arg(long)]
    clusters: Option<usize>,
    /// A provided topology: 1x4, 4+4 (1024/530), 4+2+2 (RK3588 shape).
    #[arg(long)]
    topology: Option<String>,
    /// GIC version, 2 or 3 (default: from --dtb, else 3).
    #[arg(long)]
    gic: Option<u8>,
    /// QEMU CPU model.
    #[arg(long, default_value = "cortex-a76")]
    cpu: String,
    /// Any device tree for the machine (QEMU still builds the hardware from the other flags).
    #[arg(long)]
    dtb: Option<PathBuf>,
    /// Kernel command line (/chosen/bootargs), e.g. "poweroff".
    #[arg(long, default_value = "")]
    append: String,
    /// RAM in MiB.
    #[arg(long, default_value_t = 1024)]
    memory: u32,
    /// Boot at EL2 (virtualization=on; PSCI then goes over SMC).
    #[arg(long)]
    virt: bool,
    /// Make the machine really big.LITTLE: the qemu-pacer plugin slows each
    /// vCPU to its node's capacity / 1024 (from the boot plan of the DTB).
    #[arg(long)]
    asym: bool,
    /// With --asym: guest instructions per host second at capacity 1024.
    #[arg(long, default_value_t = xtask::asym::DEFAULT_RATE)]
    rate: u64,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build both CPU-driver builds and the boot image.
    Build,
    /// Boot under QEMU with the console on this terminal (Ctrl-C goes to
    /// the guest; Ctrl-A X quits QEMU).
    Run {
        #[command(flatten)]
        machine: MachineArgs,
        /// Start with the vCPUs stopped and QEMU's gdb stub listening; print
        /// the gdb command line that attaches with every symbol file.
        #[arg(long)]
        gdb: bool,
        /// The gdb stub's TCP port (on 127.0.0.1).
        #[arg(long, default_value_t = xtask::gdb::DEFAULT_PORT, requires = "gdb")]
        gdb_port: u16,
        /// Boot with the bootarg `trace` and write every node's trace, as it
        /// comes out (at power-off, or the shell's `trace`), to this file as
        /// Chrome trace JSON (Perfetto opens it).
        #[arg(long)]
        trace: Option<PathBuf>,
        /// With --asym: count the instructions every vCPU executes and, at
        /// power-off, write the kernel functions that executed most, per
        /// CPU-driver build, to this file (and the console).
        #[arg(long, requires = "asym")]
        profile: Option<PathBuf>,
    },
    /// Print the boot plan of a device tree.
    Plan {
        #[arg(long)]
        dtb: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Write the provided device trees to target/dtb/.
    Dtb,
    /// Run the fuzz targets (message decoder, DTB to plan, channel
    /// receive, program load) for `--seconds`; or `fuzz boot`: boot
    /// `--boots` mutated device trees under QEMU from `--seed`.
    Fuzz {
        /// One target, or `boot` (default: every target, not `boot`).
        target: Option<String>,
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// `fuzz boot`: how many boots.
        #[arg(long, default_value_t = 100)]
        boots: usize,
        /// `fuzz boot`: the seed (default: from the clock; printed).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Run every test: lints, host unit tests, QEMU boot tests.
    Test,
    /// Benchmarks: `bench boot` (boot time per topology), `bench channel`
    /// (the message channel on the host against its floor and rivals, then
    /// between two nodes under QEMU), `bench processes` (system call and
    /// context switch under QEMU), `bench capacity` (LITTLE/big throughput
    /// with the pacer plugin on and off), `bench sched` (the placement
    /// policies on heavy and light mixes, pacer on; `--runs 3` as the
    /// README's figures), `bench migrate` (a move between nodes per
    /// resident size, endpoint round trips within and across nodes).
    Bench {
        #[arg(default_value = "boot")]
        what: String,
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// `bench sched` only: the rows whose "TREE POLICY MIX" holds
        /// every word of this (say `--only "4+4 capacity m1"`).
        #[arg(long, default_value = "")]
        only: String,
    },
    /// Draw the schedule of a Chrome trace-event file: PREFIX.svg and PREFIX.png.
    Plot {
        /// The trace (`traceEvents` with run slices, metadata, message flows).
        trace: PathBuf,
        /// Output path without extension (default: TRACE without its extension).
        #[arg(long, value_name = "PREFIX")]
        out: Option<PathBuf>,
    },
}

fn machine(a: &MachineArgs) -> Result<qemu::Machine> {
    let mut m = qemu::Machine {
        cpu: a.cpu.clone(),
        memory_mib: a.memory,
        append: a.append.clone(),
        virtualization: a.virt,
        ..qemu::Machine::default()
    };
    if let Some(path) = &a.dtb {
        // Size the machine from the device tree unless told: with both
        // given, a tree the kernel refuses boots too (to see it refused).
        if a.smp.is_none() || a.gic.is_none() {
            let blob = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let t = topology::Topology::parse(&blob, topology::Hints::default()).map_err(|e| {
                format!("{}: {e} (give --smp and --gic to boot it anyway and see the kernel refuse it)", path.display())
            })?;
            m.smp = t.cpus.len();
            m.gic = t.gic.map_or(3, |g| g.version());
        }
        m.dtb = Some(path.clone());
    }
    if let Some(g) = a.gic {
        m.gic = g;
    }
    if let Some(name) = &a.topology {
        m = dtb::machine(dtb::preset(name)?, m)?;
    }
    if let Some(n) = a.smp {
        m.smp = n;
    }
    m.clusters = a.clusters;
    if m.clusters.is_some() && m.dtb.is_some() {
        return Err("--clusters shapes QEMU's own device tree; it cannot be combined with --dtb or --topology".into());
    }
    if a.asym {
        xtask::asym::apply(&mut m, a.rate)?;
    }
    Ok(m)
}

fn cargo(args: &[&str]) -> Result<()> {
    let mut cmd = build::cargo();
    cmd.args(args);
    build::run(cmd, &format!("`cargo {}`", args.join(" ")))
}

/// Seconds each fuzz target runs in `cargo xtask test`.
const FUZZ_SECONDS_IN_TEST: u64 = 20;

fn test(board: &str) -> Result<()> {
    xtask::setup::toolchain()?;
    xtask::setup::qemu()?;
    // For the gdb boot test.
    xtask::setup::gdb()?;
    cargo(&["fmt", "--all", "--check"])?;
    // Every package that builds for the host (the others say in their
    // Cargo.toml that they only build for the board).
    let host = build::host_packages(&build::metadata()?)?;
    let mut clippy = vec!["clippy", "--quiet", "--all-targets"];
    for c in &host {
        clippy.extend(["-p", c.as_str()]);
    }
    clippy.extend(["--", "-D", "warnings"]);
    cargo(&clippy)?;
    cargo(&["clippy", "--quiet", "-p", "urt", "-p", "user-programs", "--target", TARGET, "--", "-D", "warnings"])?;
    // The CPU driver includes the program archive, so it must exist first.
    let programs = build::user_programs()?;
    for (build, _) in build::CPU_DRIVER_BUILDS {
        let args =
            ["clippy", "--quiet", "-p", "cpu-driver", "--target", TARGET, "--features", build, "--", "-D", "warnings"];
        let mut cmd = build::cargo();
        cmd.args(args).env(build::USER_PROGRAMS_ENV, &programs);
        build::run(cmd, &format!("`cargo {}`", args.join(" ")))?;
    }
    cargo(&["clippy", "--quiet", "-p", board, "--target", TARGET, "--", "-D", "warnings"])?;
    // Host unit tests of the hardware-neutral crates (the default members),
    // then the QEMU boot tests.
    let mut total = cargo_test(&["test"])?;
    let loom = xtask::loom::run()?;
    total = (total.0 + loom.0, total.1 + loom.1);
    // Each fuzz target counts as one test: it passes if no input crashes it.
    xtask::fuzz::run_all(FUZZ_SECONDS_IN_TEST)?;
    total.0 += xtask::fuzz::TARGETS.len() as u64;
    let image = build::boot_image(board)?;
    let boot = cargo_test(&["test", "-p", "boot-tests"])?;
    total = (total.0 + boot.0, total.1 + boot.1);
    // Each fuzzed boot counts as one test: it fails if any boot fails.
    xtask::fuzz_boot::run(&image, FUZZ_BOOTS_IN_TEST, FUZZ_BOOT_SEED_IN_TEST)?;
    total.0 += FUZZ_BOOTS_IN_TEST as u64;
    xtask::outln!("{} passed, {} failed", total.0, total.1);
    Ok(())
}

/// `fuzz boot`: the boot image, then the boots.
fn fuzz_boot(board: &str, boots: usize, seed: Option<u64>) -> Result<()> {
    xtask::setup::toolchain()?;
    xtask::setup::qemu()?;
    let image = build::boot_image(board)?;
    let clock = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    xtask::fuzz_boot::run(&image, boots, seed.unwrap_or_else(clock)).map(|_| ())
}

/// Boots `cargo xtask test` fuzzes, from a fixed seed (a failure there is
/// the same on every machine; other seeds are for `cargo xtask fuzz boot`).
const FUZZ_BOOTS_IN_TEST: usize = 50;
const FUZZ_BOOT_SEED_IN_TEST: u64 = 1;

/// Runs `cargo test ...` and adds up its results: (passed, failed).
fn cargo_test(args: &[&str]) -> Result<(u64, u64)> {
    let mut cmd = build::cargo();
    cmd.args(args);
    build::cargo_test(cmd, &format!("`cargo {}`", args.join(" ")))
}

/// `plan`: exit code 2, and one line on stderr, for any unusable device tree.
fn plan_command(dtb: &std::path::Path, json: bool) -> ExitCode {
    let result = std::fs::read(dtb).map_err(|e| e.to_string()).and_then(|blob| {
        let p = plan::plan(&blob)?;
        Ok(if json { format!("{:#}", plan::json(&p)) } else { plan::text(&p) })
    });
    match result {
        Ok(text) => {
            xtask::outln!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("plan: {}: {e}", dtb.display());
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let board = cli.board;
    let result = match cli.cmd {
        Cmd::Build => {
            xtask::setup::toolchain().and_then(|()| build::boot_image(&board)).map(|p| xtask::outln!("{}", p.display()))
        }
        Cmd::Run { machine: a, gdb, gdb_port, trace, profile } => (|| {
            xtask::setup::toolchain()?;
            xtask::setup::qemu()?;
            if gdb {
                xtask::setup::gdb()?;
            }
            let mut m = machine(&a)?;
            let image = build::boot_image(&board)?;
            if gdb {
                xtask::gdb::listen(&mut m, &board, gdb_port)?;
            }
            if trace.is_some() {
                m.append = format!("{} trace", m.append).trim().to_string();
            }
            // The device tree before the plugin counts: `dump` runs QEMU too.
            let profiled = match &profile {
                Some(out) => {
                    let blob = xtask::dtb::of_machine(&m)?;
                    let raw = out.with_extension("raw");
                    xtask::asym::profile_to(&mut m, &raw)?;
                    Some((out, raw, blob))
                }
                None => None,
            };
            qemu::run_at_terminal(&m, &image, trace.as_deref())?;
            if let Some((out, raw, blob)) = profiled {
                xtask::out!("{}", xtask::profile::write(&raw, &blob, out, 40)?);
            }
            Ok(())
        })(),
        Cmd::Plan { dtb, json } => return plan_command(&dtb, json),
        Cmd::Dtb => (|| {
            xtask::setup::qemu()?;
            for p in dtb::PRESETS {
                for gic in [2, 3] {
                    xtask::outln!("{}", dtb::preset_dtb(p, gic, "cortex-a76", 1024)?.display());
                }
            }
            Ok(())
        })(),
        Cmd::Test => test(&board),
        Cmd::Fuzz { target, seconds, boots, seed } => match target {
            Some(t) if t == "boot" => fuzz_boot(&board, boots, seed),
            Some(t) => xtask::fuzz::run(&t, seconds),
            None => xtask::fuzz::run_all(seconds),
        },
        Cmd::Bench { what, runs, only } => match xtask::setup::toolchain().and_then(|()| xtask::setup::qemu()) {
            Err(e) => Err(e),
            Ok(_) => match what.as_str() {
                "boot" => build::boot_image(&board).and_then(|img| xtask::bench_qemu::boot(&img, runs.max(1))),
                "channel" => xtask::bench_host::channel_host(runs.max(1)).and_then(|()| {
                    let img = build::boot_image(&board)?;
                    xtask::bench_qemu::channel(&img, runs.max(1))
                }),
                "processes" => {
                    build::boot_image(&board).and_then(|img| xtask::bench_qemu::processes(&img, runs.max(1)))
                }
                "capacity" => build::boot_image(&board).and_then(|img| xtask::bench_qemu::capacity(&img, runs.max(1))),
                "sched" => {
                    build::boot_image(&board).and_then(|img| xtask::bench_sched::sched(&img, runs.max(1), &only))
                }
                "migrate" => build::boot_image(&board).and_then(|img| xtask::bench_migrate::migrate(&img, runs.max(1))),
                other => Err(format!(
                    "unknown benchmark {other:?} (known: boot, channel, processes, capacity, sched, migrate)"
                )),
            },
        },
        Cmd::Plot { trace, out } => xtask::plot::command(&trace, out.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
