//! Where programs run: a placement policy decides, from one node's view of
//! the machine, which node a new program starts on and which of the node's
//! own programs should move to another node. The kernels and monitors only
//! carry out what it says (a monitor sends the program away, the receiving
//! node's scheduler picks the core), so a policy is plain arithmetic over a
//! [`View`], tested on the host.
//!
//! Every monitor runs the same policy over its own replica of the view and
//! decides only for its own programs ([`Policy::rebalance`] gets `me`): a
//! swap between a big and a LITTLE node is two decisions, one on each side,
//! that agree because the rule is deterministic and the views are the same
//! up to their age. A decision taken on a stale view is corrected by the
//! next round.
//!
//! Adding a policy: one file with a type that implements [`Policy`], and
//! one line in [`by_name`].

#![no_std]

mod blind;
mod capacity;
mod fixed;
mod view;

pub use blind::Blind;
pub use capacity::Capacity;
pub use fixed::Static;
pub use view::{Class, NewProgram, NodeView, ProgramView, View};

/// A program should move from the node it is on to node `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    pub pid: u32,
    pub from: u32,
    pub to: u32,
}

/// Most nodes a view holds (as many as a machine has).
pub const MAX_VIEW_NODES: usize = 16;

/// Most moves one [`Policy::rebalance`] round asks for.
pub const MAX_MOVES: usize = 16;
/// The moves of one round.
pub type Moves = heapless::Vec<Move, MAX_MOVES>;

/// A placement policy.
pub trait Policy {
    /// Its name, as bootarg `sched=NAME` and the benchmark tables write it.
    fn name(&self) -> &'static str;
    /// The node a new program goes to. `None`: no node has a core online.
    fn place(&self, view: &View<'_>, program: &NewProgram) -> Option<u32>;
    /// Which programs of node `me` should move now, and where. Called by
    /// `me`'s monitor after its view changed, at most once per rebalance
    /// period; a pinned program is never moved.
    fn rebalance(&self, view: &View<'_>, me: u32) -> Moves;
}

/// The policies there are, by name: `capacity` (the default), `blind`
/// and `static`.
pub const NAMES: [&str; 3] = ["capacity", "blind", "static"];

/// A policy of [`NAMES`], chosen by bootarg `sched=NAME`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chosen {
    Capacity(Capacity),
    Blind(Blind),
    Static(Static),
}

/// The policy called `name`, if there is one.
pub fn by_name(name: &str) -> Option<Chosen> {
    match name {
        "capacity" => Some(Chosen::Capacity(Capacity::default())),
        "blind" => Some(Chosen::Blind(Blind)),
        "static" => Some(Chosen::Static(Static)),
        _ => None,
    }
}

impl Default for Chosen {
    fn default() -> Self {
        Chosen::Capacity(Capacity::default())
    }
}

impl Chosen {
    fn policy(&self) -> &dyn Policy {
        match self {
            Chosen::Capacity(p) => p,
            Chosen::Blind(p) => p,
            Chosen::Static(p) => p,
        }
    }
}

impl Policy for Chosen {
    fn name(&self) -> &'static str {
        self.policy().name()
    }
    fn place(&self, view: &View<'_>, program: &NewProgram) -> Option<u32> {
        self.policy().place(view, program)
    }
    fn rebalance(&self, view: &View<'_>, me: u32) -> Moves {
        self.policy().rebalance(view, me)
    }
}
