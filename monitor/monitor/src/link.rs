//! One peer as a monitor sees it: the channel pair, an outbox for control
//! messages that found the ring full, and the state of the test streams.

use crate::stream::{StreamRx, StreamTx};
use channel::{Channel, Notifier, Receiver, Sender};
use heapless::Deque;
use message::{Hello, Message, Payload, Rejects};

/// Control messages a link holds while its ring is full: room for the
/// largest request with its bytes.
const OUTBOX: usize = 32;
/// Most bytes that go before one request ([`message::Chunk`]s).
pub const BYTES_MAX: usize = 512;
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
    /// The bytes of the request being received.
    pub(crate) chunks: Chunks,
    /// Frames the next kernel message for this peer needs and does not
    /// have yet (0: none waits).
    pub(crate) waiting_for: usize,
}

/// A request's bytes as its [`message::Chunk`]s arrive: in order, from
/// offset 0, one stream at a time.
pub(crate) struct Chunks {
    pub stream: u32,
    pub len: usize,
    pub bytes: [u8; BYTES_MAX],
}

impl Chunks {
    /// Takes one chunk; false (and the stream dropped) if it does not
    /// follow the ones before.
    pub fn take(&mut self, c: &message::Chunk) -> bool {
        let (offset, len) = (usize::from(c.offset.get()), usize::from(c.len.get()));
        if offset == 0 {
            self.stream = c.stream.get();
            self.len = 0;
        }
        let fits = len <= c.data.len() && offset + len <= BYTES_MAX;
        if c.stream.get() != self.stream || offset != self.len || !fits {
            self.len = 0;
            self.stream = u32::MAX;
            return false;
        }
        self.bytes[offset..offset + len].copy_from_slice(&c.data[..len]);
        self.len += len;
        true
    }

    /// The bytes of `stream`, handed over once: empty if they are another
    /// stream's.
    pub fn finish(&mut self, stream: u32) -> &[u8] {
        let len = if self.stream == stream { core::mem::take(&mut self.len) } else { 0 };
        self.stream = u32::MAX;
        &self.bytes[..len]
    }
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
            chunks: Chunks { stream: u32::MAX, len: 0, bytes: [0; BYTES_MAX] },
            waiting_for: 0,
        }
    }

    /// Frames that can be queued now without a drop: the ring's room and the outbox's.
    pub fn room(&mut self) -> usize {
        self.tx.free() + (OUTBOX - self.outbox.len())
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
        // What waits goes first: credits may have come back since, and a
        // full outbox must not refuse a frame the ring has room for.
        self.flush();
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

    /// Whether this link waits for the peer to return credits: for what
    /// it holds, or for room for the kernel's next message.
    pub fn blocked(&mut self) -> bool {
        let free = self.tx.free();
        ((!self.outbox.is_empty() || !self.stream_tx.done()) && free == 0) || self.room() < self.waiting_for
    }

    /// Frames on this link's channel that were not even a slot (overwritten
    /// sequence words), as the channel counted them.
    pub fn corrupt_slots(&self) -> u64 {
        self.rx.corrupt()
    }
}

#[cfg(test)]
mod tests {
    use super::{Chunks, BYTES_MAX};
    use message::le::{U16, U32};
    use message::{Chunk, CHUNK_BYTES};

    fn chunk(stream: u32, offset: usize, bytes: &[u8]) -> Chunk {
        let mut data = [0; CHUNK_BYTES];
        data[..bytes.len()].copy_from_slice(bytes);
        Chunk { stream: U32::new(stream), offset: U16::new(offset as u16), len: U16::new(bytes.len() as u16), data }
    }

    fn empty() -> Chunks {
        Chunks { stream: u32::MAX, len: 0, bytes: [0; BYTES_MAX] }
    }

    #[test]
    fn chunks_in_order_make_the_bytes_once() {
        let text: [u8; 100] = core::array::from_fn(|i| i as u8);
        let mut c = empty();
        for (i, part) in text.chunks(CHUNK_BYTES).enumerate() {
            assert!(c.take(&chunk(7, i * CHUNK_BYTES, part)));
        }
        assert_eq!(c.finish(8), b"", "another request's bytes are not handed over");
        for (i, part) in text.chunks(CHUNK_BYTES).enumerate() {
            assert!(c.take(&chunk(7, i * CHUNK_BYTES, part)));
        }
        assert_eq!(c.finish(7), &text[..]);
        assert_eq!(c.finish(7), b"", "handed over once");
    }

    #[test]
    fn a_gap_another_stream_or_an_overflow_drops_the_stream() {
        let mut c = empty();
        assert!(c.take(&chunk(1, 0, &[1; CHUNK_BYTES])));
        assert!(!c.take(&chunk(1, 2 * CHUNK_BYTES, &[1; 4])), "a gap");
        assert_eq!(c.finish(1), b"");
        assert!(c.take(&chunk(2, 0, &[1; 4])));
        assert!(!c.take(&chunk(3, 4, &[1; 4])), "another stream cuts in");
        assert!(c.take(&chunk(4, 0, &[1; CHUNK_BYTES])));
        let mut bad = chunk(4, CHUNK_BYTES, &[1; 4]);
        bad.len = U16::new(CHUNK_BYTES as u16 + 1);
        assert!(!c.take(&bad), "longer than a chunk holds");
        let mut c = empty();
        for i in 0..BYTES_MAX / CHUNK_BYTES {
            assert!(c.take(&chunk(5, i * CHUNK_BYTES, &[2; CHUNK_BYTES])));
        }
        let at = BYTES_MAX / CHUNK_BYTES * CHUNK_BYTES;
        assert!(!c.take(&chunk(5, at, &[2; CHUNK_BYTES])), "past the largest request");
    }
}
