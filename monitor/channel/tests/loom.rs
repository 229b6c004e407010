//! Model checks of the ring under loom: every interleaving of one sender
//! and one receiver (within a preemption bound for the largest model).
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p channel --release --test loom`.

#![cfg(loom)]

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

use channel::{Channel, Control, Notifier, Payload, RecvError, Slot, PAYLOAD};

/// Channel memory shared by the model's threads.
struct Mem {
    control: Control,
    slots: Vec<Slot>,
}

impl Mem {
    fn new(slots: usize) -> Arc<Self> {
        Arc::new(Mem { control: Control::new(slots as u32, 0, 1), slots: (0..slots).map(|_| Slot::new()).collect() })
    }
    fn channel(&self) -> Channel<'_> {
        // SAFETY: each test makes one sender and one receiver of a ring.
        unsafe { Channel::new(&self.control, &self.slots) }.expect("a good channel")
    }
}

/// Message `n`: every byte depends on `n` and its place, so a payload read
/// while being written, or a stale one, shows.
fn msg(n: u8) -> Payload {
    let mut p = [0u8; PAYLOAD];
    for (i, b) in p.iter_mut().enumerate() {
        *b = n.wrapping_mul(37).wrapping_add(i as u8);
    }
    p
}

/// A doorbell that counts its rings. (A flag the sleeper clears with
/// `swap` would be simpler, but loom 0.7 mis-models a `swap(false)` spin
/// against a `store(true)`: the store is lost and the model never ends.)
#[derive(Clone)]
struct Bell {
    rings: Arc<AtomicUsize>,
}

impl Bell {
    fn new() -> Self {
        Bell { rings: Arc::new(AtomicUsize::new(0)) }
    }
    fn rings(&self) -> usize {
        self.rings.load(Ordering::SeqCst)
    }
    fn rung(&self) -> bool {
        self.rings() > 0
    }
    /// Sleeps until rung more than `seen` times.
    fn sleep(&self, seen: usize) {
        while self.rings() == seen {
            thread::yield_now();
        }
    }
}

impl Notifier for Bell {
    fn interrupts(&self) -> bool {
        true
    }
    fn target(&self) -> u64 {
        7
    }
    fn notify(&self, target: u64) {
        assert_eq!(target, 7);
        self.rings.fetch_add(1, Ordering::SeqCst);
    }
    fn wait(&self) {
        unreachable!("the models decide to sleep, they do not sleep");
    }
}

/// A notifier for spinning ends: `wait` yields to the model.
struct Yield;

impl Notifier for Yield {
    fn interrupts(&self) -> bool {
        false
    }
    fn target(&self) -> u64 {
        0
    }
    fn notify(&self, _: u64) {}
    fn wait(&self) {
        thread::yield_now();
    }
}

/// Every interleaving, unless `LOOM_MAX_PREEMPTIONS` bounds them.
fn model(f: impl Fn() + Sync + Send + 'static) {
    loom::model::Builder::new().check(f);
}

/// Interleavings with at most `bound` preemptions (or `LOOM_MAX_PREEMPTIONS`),
/// for a model too large to explore whole in a few seconds.
fn model_bounded(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = b.preemption_bound.or(Some(bound));
    b.check(f);
}

/// Two slots, four messages: every slot is reused, two messages are in
/// flight at once, and credits flow back while the sender waits. Loom's
/// cell checks catch any payload access the sequence words and credits do
/// not order.
#[test]
fn four_messages_through_two_slots() {
    model(|| {
        let mem = Mem::new(2);
        let m = Arc::clone(&mem);
        let sender = thread::spawn(move || {
            let mut tx = m.channel().sender(Yield);
            for n in 0..4 {
                while tx.try_send(&msg(n)).is_err() {
                    thread::yield_now();
                }
            }
        });
        let mut rx = mem.channel().receiver(Yield);
        for n in 0..4 {
            let p = loop {
                match rx.try_recv() {
                    Ok(p) => break p,
                    Err(RecvError::Empty) => thread::yield_now(),
                    Err(e) => panic!("{e:?}"),
                }
            };
            assert_eq!(p, msg(n), "message {n}");
        }
        assert_eq!(rx.try_recv(), Err(RecvError::Empty));
        sender.join().expect("sender");
        assert_eq!(rx.corrupt(), 0);
    });
}

/// The same through the batch calls.
#[test]
fn batches_through_two_slots() {
    model(|| {
        let mem = Mem::new(2);
        let m = Arc::clone(&mem);
        let sender = thread::spawn(move || {
            let mut tx = m.channel().sender(Yield);
            let all = [msg(0), msg(1), msg(2)];
            let mut sent = 0;
            while sent < all.len() {
                sent += tx.send_batch(&all[sent..]);
                thread::yield_now();
            }
        });
        let mut rx = mem.channel().receiver(Yield);
        let mut out = [[0u8; PAYLOAD]; 3];
        let mut got = 0;
        while got < 3 {
            got += rx.recv_batch(&mut out[got..]);
            thread::yield_now();
        }
        for (n, p) in out.iter().enumerate() {
            assert_eq!(*p, msg(n as u8));
        }
        sender.join().expect("sender");
    });
}

/// The same through the waiting `send` and `recv` loops (whose notifier
/// yields to the model instead of sleeping).
#[test]
fn send_and_recv_loops_through_two_slots() {
    model(|| {
        let mem = Mem::new(2);
        let m = Arc::clone(&mem);
        let sender = thread::spawn(move || {
            let mut tx = m.channel().sender(Yield);
            for n in 0..3 {
                tx.send(&msg(n), 1);
            }
        });
        let mut rx = mem.channel().receiver(Yield);
        for n in 0..3 {
            assert_eq!(rx.recv(1), Ok(msg(n)));
        }
        sender.join().expect("sender");
    });
}

/// The receiver's side of the wake handshake: it arms and, finding the
/// ring empty, would sleep; the sender publishes and rings if armed. It
/// must never happen that the receiver decided to sleep and the sender did
/// not ring it.
#[test]
fn receiver_wake_is_never_lost() {
    model(|| {
        let mem = Mem::new(2);
        let ring = Bell::new();
        let m = Arc::clone(&mem);
        let r = ring.clone();
        let sender = thread::spawn(move || {
            let mut tx = m.channel().sender(r);
            tx.try_send(&msg(1)).expect("room");
        });
        let mut rx = mem.channel().receiver(Bell::new());
        let first = rx.try_recv();
        let sleeps = first == Err(RecvError::Empty) && !rx.arm();
        sender.join().expect("sender");
        // Not (decided to sleep and not rung).
        assert!(!sleeps || ring.rung(), "the receiver sleeps and nobody rang it");
        if !sleeps {
            rx.disarm();
        }
        // Whatever happened, the message arrives (the join orders it).
        let got = if first.is_ok() { first } else { rx.try_recv() };
        assert_eq!(got, Ok(msg(1)));
    });
}

/// The mirror: a full ring of one slot; the sender arms and, finding no
/// credit, would sleep; the receiver takes the message, returns the credit
/// and rings if armed.
#[test]
fn sender_wake_is_never_lost() {
    model(|| {
        let mem = Mem::new(1);
        let mut tx = mem.channel().sender(Bell::new());
        tx.try_send(&msg(0)).expect("room");
        let ring = Bell::new();
        let m = Arc::clone(&mem);
        let r = ring.clone();
        let receiver = thread::spawn(move || {
            let mut rx = m.channel().receiver(r);
            assert_eq!(rx.try_recv(), Ok(msg(0)));
        });
        let sleeps = tx.try_send(&msg(1)).is_err() && !tx.arm();
        receiver.join().expect("receiver");
        // Not (decided to sleep and not rung).
        assert!(!sleeps || ring.rung(), "the sender sleeps and nobody rang it");
        if !sleeps {
            tx.disarm();
        }
    });
}

/// Both handshakes at once on a ring of one slot: the sender sends two
/// messages and the receiver takes two, each arming before it would sleep
/// and then sleeping until its bell rings. A lost wake-up leaves both
/// asleep: the model does not end, and loom fails it.
#[test]
fn both_ends_sleeping_and_waking() {
    // Whole, this model takes over a minute; four preemptions, a second.
    model_bounded(4, || {
        let mem = Mem::new(1);
        let tx_bell = Bell::new(); // rung by the receiver for the sender
        let rx_bell = Bell::new(); // rung by the sender for the receiver
        let m = Arc::clone(&mem);
        let (tb, rb) = (tx_bell.clone(), rx_bell.clone());
        let sender = thread::spawn(move || {
            let mut tx = m.channel().sender(rb);
            for n in 0..2 {
                while tx.try_send(&msg(n)).is_err() {
                    let seen = tb.rings();
                    if !tx.arm() {
                        tb.sleep(seen);
                    }
                    tx.disarm();
                }
            }
        });
        let mut rx = mem.channel().receiver(tx_bell);
        for n in 0..2 {
            let p = loop {
                match rx.try_recv() {
                    Ok(p) => break p,
                    Err(RecvError::Empty) => {}
                    Err(e) => panic!("{e:?}"),
                }
                let seen = rx_bell.rings();
                if !rx.arm() {
                    rx_bell.sleep(seen);
                }
                rx.disarm();
            };
            assert_eq!(p, msg(n));
        }
        sender.join().expect("sender");
    });
}
