//! Throughput: one producer, one consumer, checked payloads, for each
//! contender.

use std::hint::spin_loop;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use channel::Payload;

use crate::*;

/// Runs `produce(m)` on core 0 and `consume(m)` on core 1, both released
/// by a barrier; `consume` returns how many messages were wrong. Returns
/// messages per second, from the earlier thread's start to the consumer's
/// last message.
pub(crate) fn stream(
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
pub(crate) fn count_bad(m: u64, mut is_ok: impl FnMut(u64) -> bool) -> u64 {
    (0..m).filter(|&i| !is_ok(i)).count() as u64
}

pub(crate) fn throughput_ring(cfg: &Config, slots: usize) -> Sample {
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

pub(crate) fn throughput_ring_in_place(cfg: &Config, slots: usize) -> Sample {
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

pub(crate) fn throughput_ring_batched(cfg: &Config, slots: usize) -> Sample {
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

pub(crate) fn throughput_rtrb(cfg: &Config, slots: usize) -> Sample {
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

pub(crate) fn throughput_rtrb_batched(cfg: &Config, slots: usize) -> Sample {
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

pub(crate) fn throughput_crossbeam(cfg: &Config, slots: usize) -> Sample {
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
