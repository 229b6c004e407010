//! `cargo xtask run --gdb`: gdb-multiarch, attached to QEMU's stub with the
//! script xtask writes, sees every vCPU as a thread, stops in CPU-driver
//! code on a core of a big node, and reads that node's own statics there
//! (each node maps its own copy of the CPU driver at the same addresses).

use boot_tests::{image, preset_machine, session, Boot, Expect};
use std::io::Read;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use xtask::gdb::{self, Symbols};

/// gdb's whole session, boot included; a hung gdb is killed after it.
const GDB_TIMEOUT: Duration = Duration::from_secs(120);
/// The boot's end, once gdb has let go.
const BOOT_TIMEOUT: Duration = Duration::from_secs(90);

/// The vCPUs of the big nodes of 4+2+2 (node 1: 4-5, node 2: 6-7).
const BIG_VCPUS: std::ops::RangeInclusive<usize> = 4..=7;

/// `handoff::KERNEL_VA` and `handoff::SHARED_VA`: a node's private RAM, where
/// its boot info page lies, is between them.
const KERNEL_VA: u64 = 0xffff_ff80_0000_0000;
const SHARED_VA: u64 = 0xffff_ffc0_0000_0000;
/// `handoff::BUILD_BIG` and `handoff::BUILD_LITTLE`.
const BUILD_BIG: u64 = 1;
const BUILD_LITTLE: u64 = 2;

/// Run by every node's first core once its node is up; never returns.
const BREAK_AT: &str = "cpu_driver::node::monitor::run";
/// Where each node's monitor starts the node's `init`, after every peer's
/// monitor has said hello.
const LITTLE_BREAK_AT: &str = "processes::Kernel<cpu_driver::kernel::proc::Hw>::spawn<cpu_driver::kernel::proc::Hw>";
/// The node's boot info, through the node's own `INFO` pointer.
const BOOT_INFO: &str = "(*cpu_driver::kernel::ctx::INFO.p.value)";

const RK3588_SHAPE: [Expect; 3] = [
    Expect { build: "little", mpidrs: &[0, 1, 2, 3], capacity: 530 },
    Expect { build: "big", mpidrs: &[4, 5], capacity: 1024 },
    Expect { build: "big", mpidrs: &[6, 7], capacity: 1024 },
];

/// A loopback port free a moment ago (tests run in parallel: not 1234).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local address").port()
}

/// gdb, killed if the test ends before it does.
struct Gdb {
    child: Child,
    readers: Vec<JoinHandle<String>>,
}

impl Drop for Gdb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn reader(mut from: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = from.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Runs gdb to its end or `timeout`: (exited by itself, stdout, stderr).
fn run_gdb(args: &[String], timeout: Duration) -> (bool, String, String) {
    let mut child = Command::new(gdb::GDB)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", gdb::GDB));
    let out = child.stdout.take().map(reader);
    let err = child.stderr.take().map(reader);
    let mut g = Gdb { child, readers: out.into_iter().chain(err).collect() };
    let start = Instant::now();
    let exited = loop {
        if matches!(g.child.try_wait(), Ok(Some(_))) {
            break true;
        }
        if start.elapsed() > timeout {
            break false;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // Kill before joining: a hung gdb's pipes only close when it dies.
    let _ = g.child.kill();
    let _ = g.child.wait();
    let mut texts = g.readers.drain(..).map(|r| r.join().unwrap_or_default());
    let (stdout, stderr) = (texts.next().unwrap_or_default(), texts.next().unwrap_or_default());
    (exited, stdout, stderr)
}

/// gdb's output between `@name` and the next `@` marker line.
fn section<'a>(out: &'a str, name: &str) -> &'a str {
    let marker = format!("@{name}\n");
    let Some(at) = out.find(&marker) else { return "" };
    let rest = &out[at + marker.len()..];
    rest.find("\n@").map_or(rest, |end| &rest[..=end])
}

/// The value of the one `$N = VALUE` line of a section.
fn printed(text: &str) -> Option<&str> {
    text.lines().find_map(|l| l.strip_prefix('$')?.split_once(" = ").map(|(_, v)| v.trim()))
}

fn number(v: &str) -> Option<u64> {
    // A pointer prints as `(*mut T) 0x...` or `0x... <symbol>`.
    let word = v.split_whitespace().find(|w| w.starts_with("0x") || w.starts_with(|c: char| c.is_ascii_digit()))?;
    match word.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => word.parse().ok(),
    }
}

/// `info threads` rows: (gdb thread, vCPU, current), from
/// `* 5    Thread 1.5 (CPU#4 [running]) ...`.
fn threads(text: &str) -> Vec<(usize, usize, bool)> {
    text.lines()
        .filter_map(|l| {
            let current = l.starts_with('*');
            let mut words = l.trim_start_matches('*').split_whitespace();
            let id = words.next()?.parse().ok()?;
            let cpu = l.split_once("(CPU#")?.1.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()?;
            Some((id, cpu, current))
        })
        .collect()
}

/// The address of breakpoint 1 in an `info breakpoints` listing.
fn breakpoint_address(text: &str) -> Option<u64> {
    let row = text.lines().find(|l| l.starts_with("1 ") && l.contains(BREAK_AT))?;
    row.split_whitespace().find(|w| w.starts_with("0x")).and_then(number)
}

#[test]
fn gdb_stops_on_a_big_node_and_reads_its_statics() {
    xtask::setup::gdb().unwrap_or_else(|e| panic!("{e}"));
    // Building the image builds the ELF files gdb reads.
    image();
    let symbols = Symbols::of_board(xtask::build::DEFAULT_BOARD);
    symbols.check().unwrap_or_else(|e| panic!("{e}"));
    let script = gdb::write_script(xtask::build::DEFAULT_BOARD, &symbols).unwrap_or_else(|e| panic!("{e}"));

    let port = free_port();
    let mut m = preset_machine("4+2+2", 3);
    m.gdb_port = Some(port);
    let qemu = session(&m);

    let mut args: Vec<String> = ["-nx", "--batch"].map(String::from).to_vec();
    args.extend(gdb::args(&script, port));
    let steps = [
        "echo @threads\\n",
        "info threads",
        // gdb thread N is vCPU N-1: 5..8 are the big nodes' cores. Without
        // the condition the LITTLE node stops here too, on other code.
        &format!("break {BREAK_AT} if $_thread >= 5"),
        "echo @where\\n",
        "info breakpoints",
        "continue",
        "echo @stopped\\n",
        "info threads",
        "echo @pc\\n",
        "print/x $pc",
        "echo @info\\n",
        "print cpu_driver::kernel::ctx::INFO.p.value",
        "echo @node\\n",
        &format!("print {BOOT_INFO}.node_id"),
        "echo @count\\n",
        &format!("print {BOOT_INFO}.node_count"),
        "echo @build\\n",
        &format!("print {BOOT_INFO}.build"),
        // The LITTLE build's symbols: the stopped core's pc survives the
        // switch (without mk-forget-stop gdb 13 can die here, when the
        // LITTLE code at that address is inlined less deeply).
        "echo @little\\n",
        "mk-little",
        "info breakpoints",
        "echo @pc_little\\n",
        "print/x $pc",
        // The boot node, LITTLE, may not be up yet: stop it where it starts
        // `init`, which it does only once the big nodes' monitors (held
        // here) have greeted it, and read its statics with these symbols.
        "disable 1",
        &format!("break {LITTLE_BREAK_AT} if $_thread <= 4"),
        "continue",
        "echo @stopped0\\n",
        // The current thread only: unwinding every core's frame here is
        // where gdb 13 can fail an internal assertion and quit.
        "thread",
        "echo @node0\\n",
        &format!("print {BOOT_INFO}.node_id"),
        "echo @build0\\n",
        &format!("print {BOOT_INFO}.build"),
        "echo @big\\n",
        "mk-big",
        "info breakpoints",
        "echo @end\\n",
        "delete",
        "detach",
    ];
    for s in steps {
        args.extend(["-ex".to_string(), s.to_string()]);
    }
    let started = Instant::now();
    let (exited, out, err) = run_gdb(&args, GDB_TIMEOUT);
    let all = format!("gdb stdout:\n{out}\ngdb stderr:\n{err}\nconsole:\n{}", qemu.console());
    assert!(exited, "gdb did not finish within {GDB_TIMEOUT:?}; {all}");

    let listed = threads(section(&out, "threads"));
    let vcpus: Vec<usize> = listed.iter().map(|t| t.1).collect();
    assert_eq!(vcpus, (0..8).collect::<Vec<_>>(), "one gdb thread per vCPU; {all}");
    assert!(listed.iter().all(|&(id, cpu, _)| id == cpu + 1), "gdb thread N is vCPU N-1; {all}");

    let bp = breakpoint_address(section(&out, "where")).unwrap_or_else(|| panic!("no breakpoint 1; {all}"));
    assert!(bp >= KERNEL_VA, "{BREAK_AT} must be a kernel address, got {bp:#x}; {all}");

    let stopped = section(&out, "stopped");
    let current: Vec<_> = threads(stopped).into_iter().filter(|t| t.2).collect();
    let &[(thread, vcpu, _)] = current.as_slice() else { panic!("no one current thread after the stop; {all}") };
    assert!(BIG_VCPUS.contains(&vcpu), "stopped on vCPU {vcpu}, not on a big node's core; {all}");
    let hit = format!("Thread {thread} hit Breakpoint 1, {BREAK_AT} ");
    assert!(out.contains(&hit), "no {hit:?}; {all}");
    let pc = printed(section(&out, "pc")).and_then(number);
    assert_eq!(pc, Some(bp), "the stopped core's pc is the breakpoint; {all}");

    // Read through the stopped core's own tables: its node's boot info.
    let info = printed(section(&out, "info")).and_then(number).unwrap_or_else(|| panic!("no INFO; {all}"));
    assert!((KERNEL_VA..SHARED_VA).contains(&info), "INFO {info:#x} is not in the node's RAM; {all}");
    let value = |name: &str| printed(section(&out, name)).and_then(number);
    let node = if vcpu < 6 { 1 } else { 2 };
    assert_eq!(value("node"), Some(node), "vCPU {vcpu} is on node {node}; {all}");
    assert_eq!(value("count"), Some(3), "node_count; {all}");
    assert_eq!(value("build"), Some(BUILD_BIG), "the node's build; {all}");

    // The switch commands: the breakpoint moves with the symbols, and back.
    let little = section(&out, "little");
    assert!(little.contains("CPU-driver symbols: little"), "{all}");
    let moved = breakpoint_address(little).unwrap_or_else(|| panic!("no breakpoint after mk-little; {all}"));
    assert_ne!(moved, bp, "the LITTLE build's {BREAK_AT} is elsewhere; {all}");
    assert_eq!(value("pc_little"), Some(bp), "the switch leaves the stopped core's pc; {all}");
    // `[Current thread is 1 (Thread 1.1)]`: its vCPU from the first listing.
    let stopped0 = section(&out, "stopped0");
    let current: Option<usize> = stopped0
        .split_once("Current thread is ")
        .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok());
    let little_vcpu = current
        .and_then(|id| listed.iter().find(|t| t.0 == id).map(|t| t.1))
        .unwrap_or_else(|| panic!("no current thread at {LITTLE_BREAK_AT}; {all}"));
    assert!(little_vcpu < 4, "stopped on vCPU {little_vcpu}, not on the LITTLE node; {all}");
    assert!(out.contains(&format!("hit Breakpoint 2, {LITTLE_BREAK_AT} ")), "{all}");
    assert_eq!(value("node0"), Some(0), "vCPU {little_vcpu} is on node 0; {all}");
    assert_eq!(value("build0"), Some(BUILD_LITTLE), "node 0's build, by the LITTLE symbols; {all}");
    assert_eq!(breakpoint_address(section(&out, "big")), Some(bp), "mk-big restores it; {all}");
    // Shown with --nocapture.
    println!("{out}");
    println!("gdb session: {:?}, stopped on thread {thread} (vCPU {vcpu}, node {node})", started.elapsed());

    // Let go: the machine finishes its boot as if nobody had looked.
    let captured = qemu.finish(BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    let report = xtask::report::parse(&captured.console);
    Boot { captured, report }.assert_nodes(&RK3588_SHAPE);
}
