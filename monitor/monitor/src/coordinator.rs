//! The coordinator's side (the boot node's monitor): it waits for every
//! node to link, runs the coordinated phases and prints their verdicts.

use crate::{Message, Mode, Monitor, Platform, BENCH_PING, BENCH_STREAM, INJECTED, PHASE_TIMEOUT_S, TEST_STREAMS};
use message::le::U64;
use message::{Ping, TestReport};

/// Both ways of waiting, in the order the tests and benchmarks run them.
const MODES: [Mode; 2] = [Mode::Interrupt, Mode::Polling];

impl<P: Platform> Monitor<'_, P> {
    /// Waits up to `timeout_s` for every node to report it has linked;
    /// returns whether every node linked to every other.
    pub fn wait_all_linked(&mut self, timeout_s: u64) -> bool {
        let nodes = self.me.nodes as usize;
        let want = self.me.nodes.saturating_sub(1);
        let deadline = self.platform.now().saturating_add(self.ticks(timeout_s));
        self.run_until(deadline, |m| m.linked_reports.iter().take(nodes).all(Option::is_some));
        // Each node printed its linked line before it told us: print those
        // lines now, before anything of ours.
        self.platform.service();
        self.linked_reports.iter().take(nodes).all(|r| *r == Some(want))
    }

    /// Runs one phase on every node and collects its stream verdicts.
    fn round(&mut self, test: u32, mode: Mode, count: u64) -> usize {
        self.reports.clear();
        let start = Self::start_message(test, mode, count, self.next_seq);
        self.next_seq = self.next_seq.saturating_add(count);
        for peer in 0..self.me.nodes {
            if peer != self.me.node {
                self.send(peer, &Message::TestStart(start));
            }
        }
        self.begin_phase(&start);
        let nodes = self.me.nodes as usize;
        let expected = match test {
            TEST_STREAMS => nodes * nodes.saturating_sub(1),
            BENCH_STREAM => 1,
            _ => 0,
        };
        let deadline = self.platform.now().saturating_add(self.ticks(PHASE_TIMEOUT_S + 10));
        self.run_until(deadline, |m| !m.in_phase() && m.reports.len() >= expected);
        expected
    }

    /// `ktest=channels`: every ordered pair of nodes streams `count`
    /// messages (and [`INJECTED`] forged frames), once with doorbell
    /// interrupts and once polling; prints the verdicts in KTAP.
    pub fn channel_tests(&mut self, count: u64, all_linked: bool) {
        let nodes = self.me.nodes;
        let pairs = (nodes * nodes.saturating_sub(1)) as usize;
        let p = &self.platform;
        p.print(format_args!("KTAP version 1"));
        p.print(format_args!("1..{}", 1 + MODES.len() * pairs * 2));
        let verdict = if all_linked { "ok" } else { "not ok" };
        p.print(format_args!("{verdict} 1 channels_all_nodes_linked"));
        let mut n = 1;
        for mode in MODES {
            self.round(TEST_STREAMS, mode, count);
            let slowest = self.reports.iter().map(|r| r.elapsed_ticks.get()).max().unwrap_or(0);
            let freq = self.platform.frequency().max(1);
            self.platform.print(format_args!(
                "# channels {}: {pairs} streams of {count} messages, slowest {} us (guest time)",
                mode.name(),
                u128::from(slowest) * 1_000_000 / u128::from(freq)
            ));
            for from in 0..nodes {
                for to in (0..nodes).filter(|&t| t != from) {
                    let r = self.reports.iter().find(|r| r.from.get() == from && r.to.get() == to).copied();
                    self.print_stream(&mut n, mode, from, to, r, count);
                }
            }
        }
    }

    fn print_stream(&self, n: &mut usize, mode: Mode, from: u32, to: u32, r: Option<TestReport>, count: u64) {
        let p = &self.platform;
        let name = mode.name();
        let Some(r) = r else {
            *n += 1;
            p.print(format_args!("not ok {n} channels_{name}_node{from}_to_node{to}_stream # no report"));
            *n += 1;
            p.print(format_args!("not ok {n} channels_{name}_node{from}_to_node{to}_rejects_corrupt # no report"));
            return;
        };
        let clean = u64::from(r.received.get()) == count
            && r.lost.get() == 0
            && r.duplicated.get() == 0
            && r.reordered.get() == 0
            && r.bad_data.get() == 0;
        *n += 1;
        p.print(format_args!(
            "{} {n} channels_{name}_node{from}_to_node{to}_stream # received={} lost={} duplicated={} reordered={} bad_data={}",
            if clean { "ok" } else { "not ok" },
            r.received.get(),
            r.lost.get(),
            r.duplicated.get(),
            r.reordered.get(),
            r.bad_data.get()
        ));
        *n += 1;
        let rejected = r.rejected.get();
        p.print(format_args!(
            "{} {n} channels_{name}_node{from}_to_node{to}_rejects_corrupt # rejected={rejected} injected={INJECTED}",
            if rejected == INJECTED { "ok" } else { "not ok" },
        ));
    }

    /// `bench=channels`: round trip and throughput between the coordinator
    /// and the lowest-numbered other node, in both modes. Prints one
    /// `bench: channel ...` line per mode, in guest time.
    pub fn bench(&mut self, round_trips: usize, stream: u64) {
        let Some(peer) = self.bench_peer() else {
            self.platform.print(format_args!("bench: channel needs two nodes"));
            return;
        };
        let freq = self.platform.frequency().max(1);
        let ns = |ticks: u64| (u128::from(ticks) * 1_000_000_000 / u128::from(freq)) as u64;
        for mode in MODES {
            // The peer waits in `mode` until it has answered every ping.
            let mut samples = [0u64; 1024];
            let round_trips = round_trips.min(samples.len());
            self.round(BENCH_PING, mode, round_trips as u64);
            let mut done = 0;
            for seq in 0..round_trips as u64 {
                let t0 = self.platform.now();
                self.pong = None;
                self.send(peer, &Message::Ping(Ping { seq: U64::new(seq), stamp: U64::new(t0) }));
                let deadline = t0.saturating_add(self.ticks(5));
                let prev = self.mode;
                self.mode = mode;
                let ok = self.run_until(deadline, |m| m.pong == Some(seq));
                self.mode = prev;
                if !ok {
                    break;
                }
                samples[done] = self.platform.now() - t0;
                done += 1;
            }
            let rtt = &mut samples[..done];
            rtt.sort_unstable();
            let median = rtt.get(done / 2).copied().unwrap_or(0);
            self.round(BENCH_STREAM, mode, stream);
            let r = self.reports.first().copied();
            let (received, elapsed) = r.map_or((0, 0), |r| (r.received.get(), r.elapsed_ticks.get()));
            let per_s = if elapsed > 0 { u128::from(received) * u128::from(freq) / u128::from(elapsed) } else { 0 };
            self.platform.print(format_args!(
                "bench: channel mode={} peer={peer} round_trips={done} rtt_median_ns={} one_way_ns={} stream={received} stream_ns={} msgs_per_s={per_s}",
                mode.name(),
                ns(median),
                ns(median) / 2,
                ns(elapsed),
            ));
        }
    }
}
