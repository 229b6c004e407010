//! Host benchmark of the message channel (`monitor/channel`).
//!
//! Two threads pinned to cores 0 and 1 measure, for this ring and for the
//! same figures of a raw single-cache-line ping-pong (the physical floor),
//! `rtrb` and `crossbeam-channel` (bounded):
//!
//! * one-way latency: a ping-pong over two queues (A to B, B to A), busy
//!   polling on both sides; one-way = total time / round trips / 2;
//! * throughput: one producer, one consumer, 56-byte payloads carrying a
//!   counter (first 8 bytes) and its complement (last 8 bytes) that the
//!   consumer checks; per-message APIs and batched APIs as separate rows,
//!   every queue with the same capacity.
//!
//! The machine is shared and noisy, so the contenders are interleaved
//! within each run and the median (and min/max) over the runs is reported.
//!
//! ```text
//! cargo run --release -p channel-bench -- [--runs N] [--quick] [--json PATH]
//! ```

use std::hint::spin_loop;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use channel::{Channel, Control, Payload, Polling, RecvError, Slot, PAYLOAD};
use serde_json::{json, Value};

/// Slots of a 16 KiB kernel channel: 256 lines minus 3 control lines.
const KERNEL_SLOTS: usize = channel::slots_in(16 * 1024);
/// Capacities the throughput rows are measured at.
const CAPACITIES: [usize; 2] = [KERNEL_SLOTS, 1024];
/// Acceptance: ring one-way latency at most this times the raw line's.
const LATENCY_GOAL: f64 = 1.3;
/// Acceptance: ring throughput at least this times rtrb's.
const THROUGHPUT_GOAL: f64 = 1.0;
/// The cores the two threads are pinned to.
const CORE_A: usize = 0;
const CORE_B: usize = 1;

const USAGE: &str = "usage: channel-bench [--runs N] [--quick] [--json PATH] [--round-trips N] [--messages M]
  --runs N          runs, each measuring every contender once (default 5)
  --quick           smaller round-trip and message counts, for a smoke run
  --json PATH       where to write the figures (default <workspace>/target/bench/channel-host.json)
  --round-trips N   latency round trips per measurement (default 200000, quick 20000)
  --messages M      messages per throughput measurement (default 10000000, quick 500000)";

struct Config {
    runs: usize,
    round_trips: u64,
    warmup: u64,
    messages: u64,
    json: PathBuf,
}

fn parse_count(flag: &str, value: Option<String>) -> Result<u64, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a number"))?;
    let n: u64 = value.parse().map_err(|_| format!("{flag}: `{value}` is not a whole number"))?;
    if n == 0 {
        return Err(format!("{flag} must be at least 1"));
    }
    Ok(n)
}

fn parse_args() -> Result<Option<Config>, String> {
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

fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors().nth(2).map(PathBuf::from).unwrap_or(here)
}

/// Stops the benchmark: a contender delivered a wrong message, or a thread
/// could not be pinned. The other thread may be spinning, so exit outright.
fn fail(msg: &str) -> ! {
    eprintln!("channel-bench: {msg}");
    std::process::exit(1)
}

fn pin(core: usize) {
    if !core_affinity::set_for_current(core_affinity::CoreId { id: core }) {
        fail(&format!("cannot pin a thread to core {core}"));
    }
}

/// Nanoseconds this thread has spent runnable but waiting for its core
/// (Linux schedstat), or 0 where that is not known.
fn waited_ns() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    stat.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// One measurement: the figure, and how long the pinned threads waited
/// for their cores while taking it (another task ran there) against how
/// long it took.
#[derive(Clone, Copy)]
struct Sample {
    value: f64,
    waited_ns: u64,
    elapsed_ns: u64,
}

impl Sample {
    /// Whether other tasks took more than 1% of the measurement's time.
    fn disturbed(&self) -> bool {
        self.waited_ns.saturating_mul(100) > self.elapsed_ns
    }
}

/// A disturbed measurement is taken again, at most this many times in all.
const ATTEMPTS: usize = 3;

fn check_cores() -> Result<(), String> {
    let ids = core_affinity::get_core_ids().ok_or("cannot read this process's CPU affinity")?;
    for core in [CORE_A, CORE_B] {
        if !ids.iter().any(|c| c.id == core) {
            return Err(format!("core {core} is not available to this process (have {:?})", ids));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Payloads

/// Message `i`: the counter in the first 8 bytes, its complement in the last 8.
#[inline(always)]
fn payload(i: u64) -> Payload {
    let mut p = [0u8; PAYLOAD];
    fill(&mut p, i);
    p
}

#[inline(always)]
fn fill(p: &mut Payload, i: u64) {
    p[..8].copy_from_slice(&i.to_le_bytes());
    p[PAYLOAD - 8..].copy_from_slice(&(!i).to_le_bytes());
}

#[inline(always)]
fn counter(p: &Payload) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&p[..8]);
    u64::from_le_bytes(b)
}

#[inline(always)]
fn is_message(p: &Payload, i: u64) -> bool {
    let mut b = [0u8; 8];
    b.copy_from_slice(&p[PAYLOAD - 8..]);
    counter(p) == i && u64::from_le_bytes(b) == !i
}

/// A ring of `slots` slots in host memory.
struct Ring {
    control: Control,
    slots: Vec<Slot>,
}

impl Ring {
    fn new(slots: usize) -> Self {
        let n = u32::try_from(slots).unwrap_or_else(|_| fail("slot count does not fit u32"));
        Ring { control: Control::new(n, 0, 1), slots: (0..slots).map(|_| Slot::new()).collect() }
    }

    /// The ring's two ends, borrowing it mutably so that no second pair can
    /// be made while they live.
    fn ends(&mut self) -> (channel::Sender<'_, Polling>, channel::Receiver<'_, Polling>) {
        // SAFETY: the one sender and the one receiver ever made over this
        // memory: `&mut self` keeps any other call out while they live, and
        // every caller makes a fresh `Ring` per measurement.
        let ch = unsafe { Channel::new(&self.control, &self.slots) }
            .unwrap_or_else(|e| fail(&format!("cannot open the ring: {e}")));
        (ch.sender(Polling), ch.receiver(Polling))
    }
}

// ---------------------------------------------------------------------------
// Latency: ping-pong

/// Runs `warmup + round_trips` round trips: thread A (core 0) runs `a(i)`
/// (send `i`, wait for the echo), thread B (core 1) runs `b(i)` (wait for a
/// message, echo it). Returns the one-way latency in nanoseconds.
fn ping_pong(cfg: &Config, mut a: impl FnMut(u64) + Send, mut b: impl FnMut(u64) + Send) -> Sample {
    let (warmup, n) = (cfg.warmup, cfg.round_trips);
    let (elapsed, total, waited_ns) = std::thread::scope(|s| {
        let echo = s.spawn(move || {
            pin(CORE_B);
            let before = waited_ns();
            for i in 0..warmup + n {
                b(i);
            }
            waited_ns() - before
        });
        let timed = s.spawn(move || {
            pin(CORE_A);
            let start = Instant::now();
            let before = waited_ns();
            for i in 0..warmup {
                a(i);
            }
            let t = Instant::now();
            for i in warmup..warmup + n {
                a(i);
            }
            (t.elapsed(), start.elapsed(), waited_ns() - before)
        });
        let (elapsed, total, a) = timed.join().unwrap_or_else(|_| fail("ping-pong thread panicked"));
        (elapsed, total, a + echo.join().unwrap_or_else(|_| fail("ping-pong thread panicked")))
    });
    let elapsed_ns = u64::try_from(total.as_nanos()).unwrap_or(u64::MAX);
    Sample { value: elapsed.as_nanos() as f64 / n as f64 / 2.0, waited_ns, elapsed_ns }
}

/// One 64-byte line holding the turn counter.
#[repr(C, align(64))]
struct Line(AtomicU64);

/// The floor: one cache line; A writes odd turns, B even ones, each
/// spinning until the line holds its turn.
fn latency_raw(cfg: &Config) -> Sample {
    let line = Line(AtomicU64::new(0));
    let line = &line;
    ping_pong(
        cfg,
        move |i| {
            line.0.store(2 * i + 1, Ordering::Release);
            while line.0.load(Ordering::Acquire) != 2 * i + 2 {
                spin_loop();
            }
        },
        move |i| {
            while line.0.load(Ordering::Acquire) != 2 * i + 1 {
                spin_loop();
            }
            line.0.store(2 * i + 2, Ordering::Release);
        },
    )
}

/// One line of a raw ring: the payload, then the sequence word.
#[repr(C, align(64))]
struct RawSlot {
    payload: [AtomicU64; 7],
    seq: AtomicU64,
}

impl RawSlot {
    fn new() -> Self {
        RawSlot { payload: Default::default(), seq: AtomicU64::new(0) }
    }

    fn write(&self, seq: u64, words: [u64; 7]) {
        for (w, v) in self.payload.iter().zip(words) {
            w.store(v, Ordering::Relaxed);
        }
        self.seq.store(seq, Ordering::Release);
    }

    fn wait(&self, seq: u64) -> [u64; 7] {
        while self.seq.load(Ordering::Acquire) != seq {
            spin_loop();
        }
        core::array::from_fn(|k| self.payload[k].load(Ordering::Relaxed))
    }
}

/// The floor of a ring of `slots` lines: the memory traffic of this ring's
/// ping-pong (message `i` in line `i % slots` of each direction, payload and
/// sequence word in one line) with no queue logic at all: no credits, no
/// checks, no copies beyond the line itself.
fn latency_raw_ring(cfg: &Config, slots: usize) -> Sample {
    let ab: Vec<RawSlot> = (0..slots).map(|_| RawSlot::new()).collect();
    let ba: Vec<RawSlot> = (0..slots).map(|_| RawSlot::new()).collect();
    let (ab, ba) = (&ab, &ba);
    let words = |i: u64| -> [u64; 7] { core::array::from_fn(|k| if k == 6 { !i } else { i }) };
    ping_pong(
        cfg,
        move |i| {
            let k = (i % slots as u64) as usize;
            ab[k].write(i + 1, words(i));
            if ba[k].wait(i + 1) != words(i) {
                fail("raw ring: wrong echo");
            }
        },
        move |i| {
            let k = (i % slots as u64) as usize;
            let w = ab[k].wait(i + 1);
            ba[k].write(i + 1, w);
        },
    )
}

fn ring_recv(rx: &mut channel::Receiver<'_, Polling>) -> Payload {
    ring_recv_with(rx, |p| *p)
}

fn latency_ring(cfg: &Config, slots: usize) -> Sample {
    let (mut ab, mut ba) = (Ring::new(slots), Ring::new(slots));
    let (mut tx_ab, mut rx_ab) = ab.ends();
    let (mut tx_ba, mut rx_ba) = ba.ends();
    ping_pong(
        cfg,
        move |i| {
            let p = payload(i);
            while tx_ab.try_send(&p).is_err() {
                spin_loop();
            }
            if !is_message(&ring_recv(&mut rx_ba), i) {
                fail("ring: wrong echo");
            }
        },
        move |_| {
            let p = ring_recv(&mut rx_ab);
            while tx_ba.try_send(&p).is_err() {
                spin_loop();
            }
        },
    )
}

/// Waits for the next message and hands it to `read` in place.
fn ring_recv_with<R>(rx: &mut channel::Receiver<'_, Polling>, mut read: impl FnMut(&Payload) -> R) -> R {
    loop {
        match rx.try_recv_with(&mut read) {
            Ok(r) => return r,
            Err(RecvError::Empty) => spin_loop(),
            Err(RecvError::Corrupt { expected, found }) => {
                fail(&format!("ring: corrupt slot, expected message {expected}, found {found}"))
            }
        }
    }
}

/// The ring's in-place API: the payload is written into and read from the
/// slot, never copied through the stack.
fn latency_ring_in_place(cfg: &Config, slots: usize) -> Sample {
    let (mut ab, mut ba) = (Ring::new(slots), Ring::new(slots));
    let (mut tx_ab, mut rx_ab) = ab.ends();
    let (mut tx_ba, mut rx_ba) = ba.ends();
    ping_pong(
        cfg,
        move |i| {
            while tx_ab.try_send_with(|p| fill(p, i)).is_err() {
                spin_loop();
            }
            if !ring_recv_with(&mut rx_ba, |p| is_message(p, i)) {
                fail("ring: wrong echo");
            }
        },
        move |_| {
            let i = ring_recv_with(&mut rx_ab, counter);
            while tx_ba.try_send_with(|p| fill(p, i)).is_err() {
                spin_loop();
            }
        },
    )
}

fn rtrb_pop(rx: &mut rtrb::Consumer<Payload>) -> Payload {
    loop {
        match rx.pop() {
            Ok(p) => return p,
            Err(_) => spin_loop(),
        }
    }
}

fn latency_rtrb(cfg: &Config, slots: usize) -> Sample {
    let (mut tx_ab, mut rx_ab) = rtrb::RingBuffer::<Payload>::new(slots);
    let (mut tx_ba, mut rx_ba) = rtrb::RingBuffer::<Payload>::new(slots);
    ping_pong(
        cfg,
        move |i| {
            let mut p = payload(i);
            while let Err(rtrb::PushError::Full(back)) = tx_ab.push(p) {
                p = back;
                spin_loop();
            }
            if !is_message(&rtrb_pop(&mut rx_ba), i) {
                fail("rtrb: wrong echo");
            }
        },
        move |_| {
            let mut p = rtrb_pop(&mut rx_ab);
            while let Err(rtrb::PushError::Full(back)) = tx_ba.push(p) {
                p = back;
                spin_loop();
            }
        },
    )
}

fn crossbeam_send(tx: &crossbeam_channel::Sender<Payload>, mut p: Payload) {
    loop {
        match tx.try_send(p) {
            Ok(()) => return,
            Err(crossbeam_channel::TrySendError::Full(back)) => {
                p = back;
                spin_loop();
            }
            Err(crossbeam_channel::TrySendError::Disconnected(_)) => fail("crossbeam: receiver gone"),
        }
    }
}

fn crossbeam_recv(rx: &crossbeam_channel::Receiver<Payload>) -> Payload {
    loop {
        match rx.try_recv() {
            Ok(p) => return p,
            Err(crossbeam_channel::TryRecvError::Empty) => spin_loop(),
            Err(crossbeam_channel::TryRecvError::Disconnected) => fail("crossbeam: sender gone"),
        }
    }
}

fn latency_crossbeam(cfg: &Config, slots: usize) -> Sample {
    let (tx_ab, rx_ab) = crossbeam_channel::bounded::<Payload>(slots);
    let (tx_ba, rx_ba) = crossbeam_channel::bounded::<Payload>(slots);
    ping_pong(
        cfg,
        move |i| {
            crossbeam_send(&tx_ab, payload(i));
            if !is_message(&crossbeam_recv(&rx_ba), i) {
                fail("crossbeam: wrong echo");
            }
        },
        move |_| crossbeam_send(&tx_ba, crossbeam_recv(&rx_ab)),
    )
}

// ---------------------------------------------------------------------------
// Throughput: one producer, one consumer

/// Runs `produce(m)` on core 0 and `consume(m)` on core 1, both released
/// by a barrier; `consume` returns how many messages were wrong. Returns
/// messages per second, from the earlier thread's start to the consumer's
/// last message.
fn stream(
    cfg: &Config,
    name: &str,
    produce: impl FnOnce(u64) + Send,
    consume: impl FnOnce(u64) -> u64 + Send,
) -> Sample {
    let m = cfg.messages;
    let barrier = Barrier::new(2);
    let barrier = &barrier;
    let ((start_p, pre_p), (start_c, end, bad, pre_c)) = std::thread::scope(|s| {
        let p = s.spawn(move || {
            pin(CORE_A);
            let before = waited_ns();
            barrier.wait();
            let t = Instant::now();
            produce(m);
            (t, waited_ns() - before)
        });
        let c = s.spawn(move || {
            pin(CORE_B);
            let before = waited_ns();
            barrier.wait();
            let t = Instant::now();
            let bad = consume(m);
            let end = Instant::now();
            (t, end, bad, waited_ns() - before)
        });
        let p = p.join().unwrap_or_else(|_| fail("producer thread panicked"));
        (p, c.join().unwrap_or_else(|_| fail("consumer thread panicked")))
    });
    if bad != 0 {
        fail(&format!("{name}: {bad} of {m} messages arrived wrong or out of order"));
    }
    let elapsed = end.duration_since(start_p.min(start_c)).max(Duration::from_nanos(1));
    let elapsed_ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
    Sample { value: m as f64 / elapsed.as_secs_f64(), waited_ns: pre_p + pre_c, elapsed_ns }
}

/// Receives message `0..m` with `is_ok(i)` (which receives message `i` and
/// checks it); returns how many were wrong.
fn count_bad(m: u64, mut is_ok: impl FnMut(u64) -> bool) -> u64 {
    (0..m).filter(|&i| !is_ok(i)).count() as u64
}

fn throughput_ring(cfg: &Config, slots: usize) -> Sample {
    let mut ring = Ring::new(slots);
    let (mut tx, mut rx) = ring.ends();
    stream(
        cfg,
        "ring",
        move |m| {
            for i in 0..m {
                let p = payload(i);
                while tx.try_send(&p).is_err() {
                    spin_loop();
                }
            }
        },
        move |m| count_bad(m, |i| is_message(&ring_recv(&mut rx), i)),
    )
}

fn throughput_ring_in_place(cfg: &Config, slots: usize) -> Sample {
    let mut ring = Ring::new(slots);
    let (mut tx, mut rx) = ring.ends();
    stream(
        cfg,
        "ring in place",
        move |m| {
            for i in 0..m {
                while tx.try_send_with(|p| fill(p, i)).is_err() {
                    spin_loop();
                }
            }
        },
        move |m| count_bad(m, |i| ring_recv_with(&mut rx, |p| is_message(p, i))),
    )
}

fn throughput_ring_batched(cfg: &Config, slots: usize) -> Sample {
    let mut ring = Ring::new(slots);
    let (mut tx, mut rx) = ring.ends();
    stream(
        cfg,
        "ring batched",
        move |m| {
            let mut sent = 0u64;
            while sent < m {
                let want = (m - sent).min(slots as u64) as usize;
                let base = sent;
                let k = tx.send_batch_with(want, |i, p| fill(p, base + i as u64));
                if k == 0 {
                    spin_loop();
                }
                sent += k as u64;
            }
        },
        move |m| {
            let (mut next, mut bad) = (0u64, 0u64);
            while next < m {
                let max = (m - next) as usize;
                let k = rx.recv_batch_with(max, |p| {
                    bad += u64::from(!is_message(p, next));
                    next += 1;
                });
                if k == 0 {
                    spin_loop();
                }
            }
            bad + rx.corrupt()
        },
    )
}

fn throughput_rtrb(cfg: &Config, slots: usize) -> Sample {
    let (mut tx, mut rx) = rtrb::RingBuffer::<Payload>::new(slots);
    stream(
        cfg,
        "rtrb",
        move |m| {
            for i in 0..m {
                let mut p = payload(i);
                while let Err(rtrb::PushError::Full(back)) = tx.push(p) {
                    p = back;
                    spin_loop();
                }
            }
        },
        move |m| count_bad(m, |i| is_message(&rtrb_pop(&mut rx), i)),
    )
}

fn throughput_rtrb_batched(cfg: &Config, slots: usize) -> Sample {
    let (mut tx, mut rx) = rtrb::RingBuffer::<Payload>::new(slots);
    stream(
        cfg,
        "rtrb batched",
        move |m| {
            let mut sent = 0u64;
            while sent < m {
                let want = (m - sent).min(tx.slots() as u64) as usize;
                match tx.write_chunk_uninit(want) {
                    Ok(chunk) if want > 0 => {
                        sent += chunk.fill_from_iter((sent..sent + want as u64).map(payload)) as u64
                    }
                    _ => spin_loop(),
                }
            }
        },
        move |m| {
            let (mut next, mut bad) = (0u64, 0u64);
            while next < m {
                let want = (m - next).min(rx.slots() as u64) as usize;
                match rx.read_chunk(want) {
                    Ok(chunk) if want > 0 => {
                        let (first, second) = chunk.as_slices();
                        for p in first.iter().chain(second) {
                            bad += u64::from(!is_message(p, next));
                            next += 1;
                        }
                        chunk.commit_all();
                    }
                    _ => spin_loop(),
                }
            }
            bad
        },
    )
}

fn throughput_crossbeam(cfg: &Config, slots: usize) -> Sample {
    let (tx, rx) = crossbeam_channel::bounded::<Payload>(slots);
    stream(
        cfg,
        "crossbeam",
        move |m| {
            for i in 0..m {
                crossbeam_send(&tx, payload(i));
            }
        },
        move |m| count_bad(m, |i| is_message(&crossbeam_recv(&rx), i)),
    )
}

// ---------------------------------------------------------------------------
// Rows, statistics, report

#[derive(Clone, Copy, PartialEq, Eq)]
enum Metric {
    /// One-way latency, ns: lower is better.
    Latency,
    /// Messages per second: higher is better.
    Throughput,
}

type Measure = fn(&Config, usize) -> Sample;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

struct Row {
    contender: &'static str,
    metric: Metric,
    api: &'static str,
    slots: usize,
    measure: Measure,
    /// The figure of each run.
    runs: Vec<f64>,
    /// Measurements of each run, counting those taken again because other
    /// tasks disturbed them.
    attempts: Vec<usize>,
    /// Whether each run's kept measurement was disturbed (every attempt was).
    disturbed: Vec<bool>,
}

impl Row {
    fn new(contender: &'static str, metric: Metric, api: &'static str, slots: usize, measure: Measure) -> Self {
        Row { contender, metric, api, slots, measure, runs: Vec::new(), attempts: Vec::new(), disturbed: Vec::new() }
    }

    /// Measures once more, again while other tasks disturb the measurement.
    fn measure(&mut self, cfg: &Config) {
        let mut attempts = 0;
        let sample = loop {
            attempts += 1;
            let s = (self.measure)(cfg, self.slots);
            if !s.disturbed() || attempts == ATTEMPTS {
                break s;
            }
        };
        self.runs.push(sample.value);
        self.attempts.push(attempts);
        self.disturbed.push(sample.disturbed());
    }

    fn sorted(&self) -> Vec<f64> {
        let mut v = self.runs.clone();
        v.sort_by(f64::total_cmp);
        v
    }

    fn median(&self) -> f64 {
        median(self.runs.clone())
    }

    fn min(&self) -> f64 {
        self.sorted().first().copied().unwrap_or(f64::NAN)
    }

    fn max(&self) -> f64 {
        self.sorted().last().copied().unwrap_or(f64::NAN)
    }

    /// The row this one is compared with: the raw line for latency, rtrb
    /// with the same API style and capacity for throughput.
    fn baseline<'r>(&self, rows: &'r [Row]) -> Option<&'r Row> {
        rows.iter().find(|r| match self.metric {
            Metric::Latency => r.metric == Metric::Latency && r.contender == "raw line",
            Metric::Throughput => {
                let api = if self.api == "batched" { "batched" } else { "per-message" };
                r.metric == Metric::Throughput && r.contender == "rtrb" && r.api == api && r.slots == self.slots
            }
        })
    }

    fn ratio(&self, rows: &[Row]) -> Option<f64> {
        self.baseline(rows).map(|b| self.median() / b.median())
    }

    /// This row's figure over the baseline's, run by run (both measured in
    /// the same run, so under the same placement of the two cores).
    fn run_ratios(&self, rows: &[Row]) -> Option<Vec<f64>> {
        self.baseline(rows).map(|b| self.runs.iter().zip(&b.runs).map(|(x, y)| x / y).collect())
    }

    fn median_run_ratio(&self, rows: &[Row]) -> Option<f64> {
        self.run_ratios(rows).map(median)
    }

    fn metric_name(&self) -> &'static str {
        match self.metric {
            Metric::Latency => "latency",
            Metric::Throughput => "throughput",
        }
    }

    fn unit(&self) -> &'static str {
        match self.metric {
            Metric::Latency => "ns one-way",
            Metric::Throughput => "Mmsg/s",
        }
    }

    /// A figure in the table's unit.
    fn show(&self, v: f64) -> f64 {
        match self.metric {
            Metric::Latency => v,
            Metric::Throughput => v / 1e6,
        }
    }

    fn json(&self, rows: &[Row]) -> Value {
        let (unit, base) = match self.metric {
            Metric::Latency => ("ns (one-way)", "raw line"),
            Metric::Throughput => ("messages/s", "rtrb"),
        };
        json!({
            "contender": self.contender,
            "metric": self.metric_name(),
            "api": self.api,
            "slots": self.slots,
            "unit": unit,
            "runs": self.runs,
            "attempts": self.attempts,
            "disturbed": self.disturbed,
            "median": self.median(),
            "min": self.min(),
            "max": self.max(),
            "baseline": base,
            "ratio_to_baseline": self.ratio(rows),
            "run_ratios_to_baseline": self.run_ratios(rows),
            "median_of_run_ratios": self.median_run_ratio(rows),
        })
    }
}

fn rows() -> Vec<Row> {
    let mut rows = vec![
        Row::new("raw line", Metric::Latency, "spin on one line", 1, |c, _| latency_raw(c)),
        // Two fixed lines, one per direction: the floor of any pair of
        // one-way channels, which a ping-pong needs.
        Row::new("raw ring", Metric::Latency, "two fixed lines", 1, latency_raw_ring),
        Row::new("raw ring", Metric::Latency, "lines, no queue", KERNEL_SLOTS, latency_raw_ring),
        Row::new("ring", Metric::Latency, "try_send/try_recv", KERNEL_SLOTS, latency_ring),
        Row::new("ring", Metric::Latency, "in place (_with)", KERNEL_SLOTS, latency_ring_in_place),
        Row::new("rtrb", Metric::Latency, "push/pop", KERNEL_SLOTS, latency_rtrb),
        Row::new("crossbeam", Metric::Latency, "try_send/try_recv", KERNEL_SLOTS, latency_crossbeam),
    ];
    for slots in CAPACITIES {
        rows.extend([
            Row::new("ring", Metric::Throughput, "per-message", slots, throughput_ring),
            Row::new("ring", Metric::Throughput, "in place (_with)", slots, throughput_ring_in_place),
            Row::new("rtrb", Metric::Throughput, "per-message", slots, throughput_rtrb),
            Row::new("crossbeam", Metric::Throughput, "per-message", slots, throughput_crossbeam),
            Row::new("ring", Metric::Throughput, "batched", slots, throughput_ring_batched),
            Row::new("rtrb", Metric::Throughput, "batched", slots, throughput_rtrb_batched),
        ]);
    }
    rows
}

fn find<'r>(rows: &'r [Row], contender: &str, metric: Metric, api: &str, slots: usize) -> Option<&'r Row> {
    rows.iter().find(|r| {
        r.contender == contender && r.metric == metric && r.slots == slots && (api.is_empty() || r.api == api)
    })
}

fn acceptance(rows: &[Row]) -> Value {
    let ring = find(rows, "ring", Metric::Latency, "try_send/try_recv", KERNEL_SLOTS);
    let latency = ring.and_then(|r| r.ratio(rows));
    let latency_runs = ring.and_then(|r| r.median_run_ratio(rows));
    let raw_ring = find(rows, "raw ring", Metric::Latency, "", KERNEL_SLOTS);
    let vs_raw_ring = ring.zip(raw_ring).map(|(r, b)| r.median() / b.median());
    let in_place = find(rows, "ring", Metric::Latency, "in place (_with)", KERNEL_SLOTS).and_then(|r| r.ratio(rows));
    let pair_floor = find(rows, "raw ring", Metric::Latency, "two fixed lines", 1).and_then(|r| r.ratio(rows));
    let mut throughput = serde_json::Map::new();
    let mut all = latency.is_some_and(|r| r <= LATENCY_GOAL);
    for api in ["per-message", "batched"] {
        let mut by_slots = serde_json::Map::new();
        for slots in CAPACITIES {
            let row = find(rows, "ring", Metric::Throughput, api, slots);
            let ratio = row.and_then(|r| r.ratio(rows));
            let runs = row.and_then(|r| r.median_run_ratio(rows));
            if slots == KERNEL_SLOTS {
                all &= ratio.is_some_and(|r| r >= THROUGHPUT_GOAL);
            }
            by_slots.insert(
                slots.to_string(),
                json!({
                    "ratio": ratio,
                    "met": ratio.is_some_and(|r| r >= THROUGHPUT_GOAL),
                    "median_of_run_ratios": runs,
                }),
            );
        }
        throughput.insert(api.to_string(), Value::Object(by_slots));
    }
    json!({
        "latency_ratio_vs_raw": latency,
        "latency_goal": format!("<= {LATENCY_GOAL}"),
        "latency_met": latency.is_some_and(|r| r <= LATENCY_GOAL),
        "latency_median_of_run_ratios": latency_runs,
        "informative": {
            "latency_ratio_vs_raw_ring": vs_raw_ring,
            "latency_ratio_vs_raw_ring_means": format!("ring (try_send/try_recv) / raw ring of {KERNEL_SLOTS} lines per direction: the same memory traffic without queue logic"),
            "latency_in_place_ratio_vs_raw": in_place,
            "two_fixed_lines_ratio_vs_raw": pair_floor,
            "two_fixed_lines_means": "raw ping-pong over two fixed lines, one per direction: the floor of any pair of one-way channels",
        },
        "throughput_ratio_vs_rtrb": throughput,
        "throughput_goal": format!(">= {THROUGHPUT_GOAL}"),
        "statistic": "ratio of the medians over runs (as the goal is worded); median_of_run_ratios pairs each run's figures, which is steadier when the cores' placement changes between runs",
        "all_met": all,
        "all_met_means": format!("latency goal, and both throughput goals at {KERNEL_SLOTS} slots (the kernel's 16 KiB channel)"),
    })
}

fn print_table(rows: &[Row], runs: usize) {
    println!();
    println!("channel host benchmark: cores {CORE_A} and {CORE_B}, median/min/max over {runs} runs");
    println!(
        "{:<10} {:<11} {:<18} {:>5} {:>11} {:>10} {:>10} {:>10} {:>11} {:>8}",
        "contender", "metric", "api", "slots", "unit", "median", "min", "max", "ratio", "retries"
    );
    let mut disturbed = 0;
    for r in rows {
        let ratio = r.ratio(rows).map_or_else(|| "-".to_string(), |x| format!("{x:.3}"));
        let base = match r.metric {
            Metric::Latency => "/raw",
            Metric::Throughput => "/rtrb",
        };
        let retries: usize = r.attempts.iter().map(|a| a - 1).sum();
        disturbed += r.disturbed.iter().filter(|&&d| d).count();
        println!(
            "{:<10} {:<11} {:<18} {:>5} {:>11} {:>10.2} {:>10.2} {:>10.2} {:>11} {:>8}",
            r.contender,
            r.metric_name(),
            r.api,
            r.slots,
            r.unit(),
            r.show(r.median()),
            r.show(r.min()),
            r.show(r.max()),
            format!("{ratio}{base}"),
            retries,
        );
    }
    println!("(retries: measurements taken again because other tasks held a pinned thread's core >1% of the time)");
    if disturbed > 0 {
        println!(
            "warning: {disturbed} kept measurements were disturbed in all {ATTEMPTS} attempts: the machine was busy"
        );
    }
}

fn print_acceptance(acc: &Value) {
    let ratio = |v: &Value| v.as_f64().map_or_else(|| "-".to_string(), |x| format!("{x:.3}"));
    let met = |b: bool| if b { "met" } else { "MISSED" };
    println!();
    println!(
        "acceptance: ring latency / raw line = {} (goal <= {LATENCY_GOAL}): {}  [median of run ratios {}]",
        ratio(&acc["latency_ratio_vs_raw"]),
        met(acc["latency_met"].as_bool().unwrap_or(false)),
        ratio(&acc["latency_median_of_run_ratios"]),
    );
    let info = &acc["informative"];
    println!(
        "  (ring / raw ring of {KERNEL_SLOTS} lines = {}; in-place ring / raw line = {}; two fixed lines / raw line = {})",
        ratio(&info["latency_ratio_vs_raw_ring"]),
        ratio(&info["latency_in_place_ratio_vs_raw"]),
        ratio(&info["two_fixed_lines_ratio_vs_raw"])
    );
    for api in ["per-message", "batched"] {
        for slots in CAPACITIES {
            let e = &acc["throughput_ratio_vs_rtrb"][api][slots.to_string()];
            println!(
                "acceptance: ring {api} throughput / rtrb, {slots} slots = {} (goal >= {THROUGHPUT_GOAL}): {}  [median of run ratios {}]",
                ratio(&e["ratio"]),
                met(e["met"].as_bool().unwrap_or(false)),
                ratio(&e["median_of_run_ratios"]),
            );
        }
    }
}

/// Runs (counting from 1) whose raw line at the end differs from the one at
/// the start by more than 1.5x either way.
fn placement_changes(rows: &[Row], raw_at_end: &[f64]) -> Vec<usize> {
    let Some(start) = find(rows, "raw line", Metric::Latency, "", 1) else { return Vec::new() };
    start
        .runs
        .iter()
        .zip(raw_at_end)
        .enumerate()
        .filter(|(_, (a, b))| a.max(**b) > 1.5 * a.min(**b))
        .map(|(i, _)| i + 1)
        .collect()
}

fn write_json(cfg: &Config, rows: &[Row], acc: Value, raw_at_end: &[f64], moved: &[usize]) -> Result<(), String> {
    let doc = json!({
        "benchmark": "channel-host",
        "cores": [CORE_A, CORE_B],
        "runs": cfg.runs,
        "latency_round_trips": cfg.round_trips,
        "latency_warmup_round_trips": cfg.warmup,
        "throughput_messages": cfg.messages,
        "payload_bytes": PAYLOAD,
        "kernel_slots": KERNEL_SLOTS,
        "profile": if cfg!(debug_assertions) { "debug" } else { "release (workspace profile)" },
        "method": "contenders interleaved within each run; latency = ping-pong over two queues, busy polling, total / round trips / 2; throughput = one producer (core 0), one consumer (core 1) checking each message's counter",
        "rows": rows.iter().map(|r| r.json(rows)).collect::<Vec<_>>(),
        "acceptance": acc,
        "raw_line_at_run_end_ns": raw_at_end,
        "runs_with_placement_change": moved,
    });
    if let Some(dir) = cfg.json.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(&doc).map_err(|e| format!("cannot encode the figures: {e}"))?;
    std::fs::write(&cfg.json, text + "\n").map_err(|e| format!("cannot write {}: {e}", cfg.json.display()))
}

fn main() -> ExitCode {
    let cfg = match parse_args() {
        Ok(Some(cfg)) => cfg,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("channel-bench: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = check_cores() {
        eprintln!("channel-bench: {e}");
        return ExitCode::FAILURE;
    }
    let mut rows = rows();
    eprintln!(
        "channel-bench: {} runs; latency {} round trips (+{} warm-up); throughput {} messages; slots {:?}",
        cfg.runs, cfg.round_trips, cfg.warmup, cfg.messages, CAPACITIES
    );
    // The raw line again at the end of each run: the hypervisor may move
    // the two vCPUs (same core's threads, same cache complex, another die)
    // in the middle of a run, which changes every figure after the move.
    let mut raw_at_end = Vec::new();
    for run in 0..cfg.runs {
        let t = Instant::now();
        for r in rows.iter_mut() {
            r.measure(&cfg);
        }
        raw_at_end.push(latency_raw(&cfg).value);
        eprintln!("channel-bench: run {}/{} done in {:.1} s", run + 1, cfg.runs, t.elapsed().as_secs_f64());
    }
    print_table(&rows, cfg.runs);
    let moved = placement_changes(&rows, &raw_at_end);
    if !moved.is_empty() {
        println!(
            "warning: the raw line changed by more than 1.5x within run(s) {moved:?}: the cores' placement moved mid-run, \
             so those runs' ratios mix two placements"
        );
    }
    let acc = acceptance(&rows);
    print_acceptance(&acc);
    if let Err(e) = write_json(&cfg, &rows, acc, &raw_at_end, &moved) {
        eprintln!("channel-bench: {e}");
        return ExitCode::FAILURE;
    }
    println!("wrote {}", cfg.json.display());
    ExitCode::SUCCESS
}
