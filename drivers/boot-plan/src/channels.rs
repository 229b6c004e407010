//! Where the channels between nodes live in the shared region.
//!
//! After the console area come `n * (n - 1)` channels, one per ordered pair
//! of nodes, each a whole number of pages so that a node's page tables can
//! map exactly the channels it is an end of and nothing else. A channel is
//! its ring of message slots, then its transfer area: pages the sender
//! fills and the receiver copies out, so that bulk data (a migrating
//! program's memory) crosses as whole pages announced by one message each,
//! not cut into messages.

use crate::{PlanError, Range};

/// Page size the channels are aligned to.
const PAGE: u64 = 4096;
/// Most pages one channel's ring takes (4 pages: 253 slots).
const MAX_RING_PAGES: u64 = 4;
/// Most pages of one channel's transfer area (256 KiB).
const MAX_TRANSFER_PAGES: u64 = 64;

/// The channel of every ordered pair of nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelMap {
    /// Physical address of the first channel.
    pub base: u64,
    /// Bytes of each channel, ring and transfer area (a multiple of the
    /// page size).
    pub bytes: u64,
    /// Bytes of its ring, at its start.
    pub ring_bytes: u64,
    /// Nodes connected.
    pub nodes: usize,
}

impl ChannelMap {
    /// Lays out the channels of `nodes` nodes in `shared` after `console_area` bytes.
    pub fn new(shared: Range, console_area: u64, nodes: usize) -> Result<Self, PlanError> {
        let base = shared.start.saturating_add(console_area.next_multiple_of(PAGE));
        let pairs = (nodes * nodes.saturating_sub(1)) as u64;
        if pairs == 0 {
            return Ok(ChannelMap { base, bytes: 0, ring_bytes: 0, nodes });
        }
        let room = shared.end().saturating_sub(base);
        let pages = (room / PAGE / pairs).min(MAX_RING_PAGES + MAX_TRANSFER_PAGES);
        if pages == 0 {
            return Err(PlanError::TooMany { what: "channels for the shared region" });
        }
        let ring = pages.min(MAX_RING_PAGES);
        Ok(ChannelMap { base, bytes: pages * PAGE, ring_bytes: ring * PAGE, nodes })
    }

    /// Number of channels.
    pub fn count(&self) -> usize {
        self.nodes * self.nodes.saturating_sub(1)
    }

    /// Slots of each channel's ring.
    pub fn slots(&self) -> usize {
        channel::slots_in(self.ring_bytes as usize)
    }

    /// Pages of each channel's transfer area (0: none fits).
    pub fn transfer_pages(&self) -> u64 {
        (self.bytes - self.ring_bytes) / PAGE
    }

    /// The channel on which `from` sends to `to`: its ring, then its
    /// transfer area.
    pub fn range(&self, from: usize, to: usize) -> Option<Range> {
        if from == to || from >= self.nodes || to >= self.nodes {
            return None;
        }
        let index = from * (self.nodes - 1) + if to < from { to } else { to - 1 };
        Some(Range { start: self.base + index as u64 * self.bytes, size: self.bytes })
    }
}
