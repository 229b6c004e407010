//! Where the channels between nodes live in the shared region.
//!
//! After the console area come `n * (n - 1)` channels, one per ordered pair
//! of nodes, each a whole number of pages so that a node's page tables can
//! map exactly the channels it is an end of and nothing else.

use crate::{PlanError, Range};

/// Page size the channels are aligned to.
const PAGE: u64 = 4096;
/// Most pages one channel takes (4 pages: 253 slots).
const MAX_CHANNEL_PAGES: u64 = 4;

/// The channel of every ordered pair of nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelMap {
    /// Physical address of the first channel.
    pub base: u64,
    /// Bytes of each channel (a multiple of the page size).
    pub bytes: u64,
    /// Nodes connected.
    pub nodes: usize,
}

impl ChannelMap {
    /// Lays out the channels of `nodes` nodes in `shared` after `console_area` bytes.
    pub fn new(shared: Range, console_area: u64, nodes: usize) -> Result<Self, PlanError> {
        let base = shared.start.saturating_add(console_area.next_multiple_of(PAGE));
        let pairs = (nodes * nodes.saturating_sub(1)) as u64;
        if pairs == 0 {
            return Ok(ChannelMap { base, bytes: 0, nodes });
        }
        let room = shared.end().saturating_sub(base);
        let pages = (room / PAGE / pairs).min(MAX_CHANNEL_PAGES);
        if pages == 0 {
            return Err(PlanError::TooMany { what: "channels for the shared region" });
        }
        Ok(ChannelMap { base, bytes: pages * PAGE, nodes })
    }

    /// Number of channels.
    pub fn count(&self) -> usize {
        self.nodes * self.nodes.saturating_sub(1)
    }

    /// Slots of each channel.
    pub fn slots(&self) -> usize {
        channel::slots_in(self.bytes as usize)
    }

    /// The channel on which `from` sends to `to`.
    pub fn range(&self, from: usize, to: usize) -> Option<Range> {
        if from == to || from >= self.nodes || to >= self.nodes {
            return None;
        }
        let index = from * (self.nodes - 1) + if to < from { to } else { to - 1 };
        Some(Range { start: self.base + index as u64 * self.bytes, size: self.bytes })
    }
}
