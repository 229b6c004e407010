//! One peer as a monitor sees it: the channel pair, an outbox for control
//! messages that found the ring full, and the state of the test streams.

use crate::stream::{StreamRx, StreamTx};
use channel::{Channel, Notifier, Receiver, Sender};
use heapless::Deque;
use message::{Hello, Message, Payload, Rejects};

/// Control messages a link holds while its ring is full.
const OUTBOX: usize = 16;
/// Most stream frames sent in one step, so one busy link never starves the others.
const STREAM_BATCH: u64 = 32;

/// The monitor's end of the channels to and from one peer.
pub struct Link<'a, N: Notifier> {
    pub peer: u32,
    pub(crate) tx: Sender<'a, N>,
    pub(crate) rx: Receiver<'a, N>,
    outbox: Deque<Payload, OUTBOX>,
    /// The peer's greeting, once it came.
    pub hello: Option<Hello>,
    /// Frames rejected since the last phase report.
    pub rejects: Rejects,
    /// Valid messages that made no sense here (wrong sender, wrong time).
    pub unexpected: u32,
    pub(crate) stream_tx: StreamTx,
    pub(crate) stream_rx: StreamRx,
}

impl<'a, N: Notifier> Link<'a, N> {
    /// The link to `peer` over `tx` (we send) and `rx` (we receive).
    pub fn new(peer: u32, tx: Channel<'a>, rx: Channel<'a>, tx_notifier: N, rx_notifier: N) -> Self {
        Link {
            peer,
            tx: tx.sender(tx_notifier),
            rx: rx.receiver(rx_notifier),
            outbox: Deque::new(),
            hello: None,
            rejects: Rejects::default(),
            unexpected: 0,
            stream_tx: StreamTx::default(),
            stream_rx: StreamRx::default(),
        }
    }

    /// The channel sequence number the next queued message will have: the
    /// outbox drains in order, and stream frames go only when it is empty.
    pub fn next_seq(&self) -> u64 {
        self.tx.sent() + self.outbox.len() as u64
    }

    /// Queues a control message; it goes out now if the ring has room.
    /// Returns false if even the outbox is full (the message is dropped
    /// and the caller counts it).
    pub fn post(&mut self, m: &Message) -> bool {
        self.post_raw(&m.encode())
    }

    /// Queues a payload as it is (see [`Link::post`]).
    pub fn post_raw(&mut self, p: &Payload) -> bool {
        let queued = self.outbox.push_back(*p).is_ok();
        self.flush();
        queued
    }

    /// Sends what the outbox holds, then stream frames, while there is room.
    /// Returns true if anything was sent.
    pub fn flush(&mut self) -> bool {
        let mut sent = false;
        while let Some(p) = self.outbox.front() {
            if self.tx.try_send(p).is_err() {
                return sent;
            }
            self.outbox.pop_front();
            sent = true;
        }
        sent
    }

    /// Sends stream frames while there is room; `from` is this node.
    pub fn pump_stream(&mut self, from: u32) -> bool {
        if self.stream_tx.done() || !self.outbox.is_empty() {
            return false;
        }
        let (stream, peer) = (&mut self.stream_tx, self.peer);
        // Written in place; the sender asks for credits only when its cached
        // ones run out, so a step costs no look at the receiver's line.
        let count = stream.remaining().min(STREAM_BATCH) as usize;
        self.tx.send_batch_with(count, |_, p| {
            if let Some(frame) = stream.next_frame(from, peer) {
                *p = frame;
            }
        }) > 0
    }

    /// Whether this link waits for the peer to return credits.
    pub fn blocked(&mut self) -> bool {
        (!self.outbox.is_empty() || !self.stream_tx.done()) && self.tx.free() == 0
    }

    /// Frames on this link's channel that were not even a slot (overwritten
    /// sequence words), as the channel counted them.
    pub fn corrupt_slots(&self) -> u64 {
        self.rx.corrupt()
    }
}
