//! Monitors of several nodes on host threads, over real channels: they
//! link, and the coordinator's channel tests and benchmark come out clean,
//! also when a peer sends garbage.

use channel::{Channel, Control, Polling, Slot};
use monitor::{Identity, Link, Mode, Monitor, Platform, INJECTED, MAX_NODES};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A message end as traced: (from, to, kind, seq, sent).
type Traced = (u32, u32, u8, u64, bool);

#[derive(Clone)]
struct Host {
    start: Instant,
    lines: Arc<Mutex<Vec<String>>>,
    node: u32,
    traced: Arc<Mutex<Vec<Traced>>>,
    status: Arc<Mutex<monitor::Status>>,
}

impl Platform for Host {
    type Notifier = Polling;
    fn notifier(&self) -> Polling {
        Polling
    }
    fn now(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }
    fn frequency(&self) -> u64 {
        1_000_000_000
    }
    fn print(&self, line: std::fmt::Arguments<'_>) {
        self.lines.lock().expect("lines").push(line.to_string());
    }
    fn sleep(&self, _mode: Mode, _deadline: u64) {
        std::thread::yield_now();
    }
    fn poll_spins(&self) -> u32 {
        64
    }
    fn trace_message(&self, sent: bool, peer: u32, kind: u8, seq: u64) {
        let (from, to) = if sent { (self.node, peer) } else { (peer, self.node) };
        self.traced.lock().expect("traced").push((from, to, kind, seq, sent));
    }
    fn publish_status(&self, status: &monitor::Status) {
        *self.status.lock().expect("status") = *status;
    }
    fn dump_trace(&self) -> (u64, u64) {
        self.print(format_args!("dumped node {}", self.node));
        (u64::from(self.node) + 1, 0)
    }
}

/// Channel memory for `n` nodes: `[from][to]`.
struct Fabric {
    controls: Vec<Vec<Control>>,
    slots: Vec<Vec<Vec<Slot>>>,
}

impl Fabric {
    fn new(n: usize, slots: usize) -> Fabric {
        let controls =
            (0..n).map(|f| (0..n).map(|t| Control::new(slots as u32, f as u32, t as u32)).collect()).collect();
        let slots = (0..n).map(|_| (0..n).map(|_| (0..slots).map(|_| Slot::new()).collect()).collect()).collect();
        Fabric { controls, slots }
    }
    fn channel(&self, from: usize, to: usize) -> Channel<'_> {
        // SAFETY: each channel gets one sender (node `from`) and one
        // receiver (node `to`).
        unsafe { Channel::new(&self.controls[from][to], &self.slots[from][to]) }.expect("channel")
    }
}

/// Runs `n` nodes (node 0 coordinates); `coordinate` runs on node 0 after
/// linking, `garbage` on node `n - 1` before it serves. Returns the lines.
fn run_nodes(
    n: usize,
    coordinate: impl FnOnce(&mut Monitor<'_, Host>) + Send,
    garbage: impl FnOnce(&mut Monitor<'_, Host>) + Send,
) -> Vec<String> {
    let fabric = Fabric::new(n, 61);
    let host = Host {
        start: Instant::now(),
        lines: Arc::new(Mutex::new(Vec::new())),
        node: 0,
        traced: Arc::new(Mutex::new(Vec::new())),
        status: Arc::default(),
    };
    let mut coordinate = Some(coordinate);
    let mut garbage = Some(garbage);
    std::thread::scope(|s| {
        let mut handles = Vec::new();
        for me in 0..n {
            let mut links = heapless::Vec::<_, MAX_NODES>::new();
            for peer in (0..n).filter(|&p| p != me) {
                let link = Link::new(peer as u32, fabric.channel(me, peer), fabric.channel(peer, me), Polling, Polling);
                assert!(links.push(link).is_ok());
            }
            let id = Identity {
                node: me as u32,
                nodes: n as u32,
                coordinator: 0,
                build: 1,
                capacity: 1024,
                cpus: 1,
                channel_phases: true,
            };
            let mut m = Monitor::new(Host { node: me as u32, status: Arc::default(), ..host.clone() }, id, links);
            if me == 0 {
                let c = coordinate.take().expect("one coordinator");
                handles.push(s.spawn(move || {
                    m.link(10);
                    c(&mut m);
                }));
            } else {
                let g = if me == n - 1 { garbage.take() } else { None };
                // Peers serve until the coordinator is done.
                handles.push(s.spawn(move || {
                    m.link(10);
                    if let Some(g) = g {
                        g(&mut m);
                    }
                    let deadline = m.platform().now() + 30_000_000_000;
                    m.run_until(deadline, |m| m.platform().lines.lock().expect("lines").iter().any(|l| l == "done"));
                }));
            }
        }
        let coordinator = handles.remove(0);
        coordinator.join().expect("coordinator");
        host.print(format_args!("done"));
    });
    Arc::try_unwrap(host.lines).expect("lines").into_inner().expect("lines")
}

fn assert_all_ok(lines: &[String], tests: usize) {
    let results: Vec<&String> = lines.iter().filter(|l| l.starts_with("ok ") || l.starts_with("not ok ")).collect();
    assert_eq!(results.len(), tests, "{lines:#?}");
    assert!(results.iter().all(|l| l.starts_with("ok ")), "{lines:#?}");
}

#[test]
fn three_nodes_link_and_stream_cleanly_in_both_modes() {
    let lines = run_nodes(
        3,
        |m| {
            let all = m.wait_all_linked(10);
            m.channel_tests(5_000, all);
        },
        |_| {},
    );
    for node in 0..3 {
        assert!(lines.contains(&format!("monitor: node {node} linked to 2 peers")), "{lines:#?}");
    }
    assert_all_ok(&lines, 1 + 2 * 6 * 2);
    assert!(lines
        .iter()
        .any(|l| l
            == &format!("ok 3 channels_ipi_node0_to_node1_rejects_corrupt # rejected={INJECTED} injected={INJECTED}")));
}

#[test]
fn garbage_on_one_channel_is_rejected_and_the_others_keep_working() {
    let lines = run_nodes(
        3,
        |m| {
            let all = m.wait_all_linked(10);
            // Let node 2's garbage reach us before the tests start.
            let deadline = m.platform().now() + 2_000_000_000;
            m.run_until(deadline, |m| m.links()[1].rejects.total() >= 4);
            let rejects = m.links()[1].rejects;
            m.platform().print(format_args!("garbage rejected: {}", rejects.total()));
            m.channel_tests(2_000, all);
            // The monitor's own status counts them since boot (the links'
            // counts restart with each phase), and hands it to the platform.
            let status = m.status();
            assert!(status.rejected >= 4 + 2 * 4 * 2, "the 4 garbage frames and the tests' forged ones: {status:?}");
            assert_eq!(*m.platform().status.lock().expect("status"), status);
        },
        |m| {
            // Node 2 feeds node 0 garbage: random bytes, another version,
            // all ones, all zeros.
            let mut random = [0u8; message::PAYLOAD];
            for (i, b) in random.iter_mut().enumerate() {
                *b = (i as u8).wrapping_mul(151).wrapping_add(7);
            }
            let mut future = message::Message::Linked(message::Linked {
                node: message::le::U32::new(2),
                peers: message::le::U32::new(2),
            })
            .encode();
            future[0] = message::VERSION + 1;
            for p in [random, future, [0xff; message::PAYLOAD], [0; message::PAYLOAD]] {
                m.send_raw(0, &p);
            }
        },
    );
    assert!(lines.iter().any(|l| l.starts_with("garbage rejected")), "{lines:#?}");
    assert_all_ok(&lines, 1 + 2 * 6 * 2);
}

#[test]
fn bench_reports_round_trips_and_throughput() {
    let lines = run_nodes(
        2,
        |m| {
            m.wait_all_linked(10);
            m.bench(200, 10_000);
        },
        |_| {},
    );
    let bench: Vec<&String> = lines.iter().filter(|l| l.starts_with("bench: channel")).collect();
    assert_eq!(bench.len(), 2, "{lines:#?}");
    for l in bench {
        assert!(l.contains("round_trips=200") && l.contains("stream=10000"), "{l}");
    }
}

#[test]
fn the_coordinator_knows_when_every_node_has_finished() {
    let lines = run_nodes(
        2,
        |m| {
            m.wait_all_linked(10);
            m.finished(0);
            let deadline = m.platform().now() + 10_000_000_000;
            let all = m.run_until(deadline, |m| m.all_finished());
            m.platform().print(format_args!("all finished: {all}"));
        },
        |m| m.finished(7),
    );
    assert!(lines.contains(&"all finished: true".to_string()), "{lines:#?}");
}

#[test]
fn a_node_that_never_finishes_holds_the_machine_up() {
    // Node 2 reports; node 1 never does.
    let lines = run_nodes(
        3,
        |m| {
            m.wait_all_linked(10);
            m.finished(0);
            let deadline = m.platform().now() + 500_000_000;
            let all = m.run_until(deadline, |m| m.all_finished());
            m.platform().print(format_args!("all finished: {all}"));
        },
        |m| m.finished(0),
    );
    assert!(lines.contains(&"all finished: false".to_string()), "{lines:#?}");
}

#[test]
fn traces_are_collected_from_every_node_and_message_ends_pair_up() {
    let host_traced = std::sync::OnceLock::new();
    let lines = run_nodes(
        3,
        |m| {
            m.wait_all_linked(10);
            m.collect_traces(10);
            let _ = host_traced.set(Arc::clone(&m.platform().traced));
        },
        |_| {},
    );
    for node in 0..3 {
        assert!(lines.iter().any(|l| *l == format!("dumped node {node}")), "{lines:#?}");
    }
    assert!(lines.iter().any(|l| l == "trace: done nodes=3 events=6 lost=0 missing=0"), "{lines:#?}");
    let traced = host_traced.get().expect("ran").lock().expect("traced").clone();
    let received: Vec<&Traced> = traced.iter().filter(|t| !t.4).collect();
    assert!(received.len() >= 3 * 2 + 2 * 2, "hellos, links, dumps and dones: {traced:?}");
    for r in received {
        assert!(
            traced.iter().any(|s| s.4 && (s.0, s.1, s.2, s.3) == (r.0, r.1, r.2, r.3)),
            "received {r:?} was never sent: {traced:?}"
        );
    }
}
