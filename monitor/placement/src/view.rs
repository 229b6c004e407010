//! What a policy sees: every node (its cores' capacity and how many are
//! online) and every program (where it is, how big it is, how much work it
//! has done), as one monitor's replica has them.

/// What a program counts as for placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Fills a core (spawned `heavy`, or `auto` and measured so).
    Heavy,
    /// Uses little of a core (spawned `light`, or `auto` and measured so).
    Light,
    /// `auto`, too young to be measured: left where it was placed.
    Unknown,
}

/// One node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeView {
    pub node: u32,
    /// Capacity of each of its cores (1024: the machine's biggest kind),
    /// as the device tree says: what the policies go by.
    pub capacity: u32,
    /// Its slowest core's speed as calibrated at boot, against the fastest
    /// node's fastest core in the view (1024); 0: not known. (Under QEMU
    /// without the pacer every vCPU measures alike, so the policies keep
    /// to the device tree and this is for seeing the two side by side.)
    pub measured: u32,
    /// Its cores online.
    pub cores: u32,
}

/// One program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgramView {
    pub pid: u32,
    /// The node it is on.
    pub node: u32,
    pub class: Class,
    /// Its utilization, scaled by the capacity it ran at (0 to 1024).
    pub util: u32,
    /// The work it has done: CPU time times the capacity it ran at, in
    /// microseconds of a 1024 core.
    pub work: u64,
    /// Pinned to its node (and core) at spawn: never moved.
    pub pinned: bool,
    /// Ready or running (not blocked, not ended).
    pub runnable: bool,
}

/// A program about to be spawned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewProgram {
    pub class: Class,
}

/// The machine as one node sees it.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    pub nodes: &'a [NodeView],
    pub programs: &'a [ProgramView],
}

impl View<'_> {
    /// Node `id`, if it is in the view.
    pub fn node(&self, id: u32) -> Option<&NodeView> {
        self.nodes.iter().find(|n| n.node == id)
    }

    /// Nodes with a core online.
    pub fn online(&self) -> impl Iterator<Item = &NodeView> + '_ {
        self.nodes.iter().filter(|n| n.cores > 0)
    }

    /// Programs on node `id`.
    pub fn on(&self, id: u32) -> impl Iterator<Item = &ProgramView> + '_ {
        self.programs.iter().filter(move |p| p.node == id)
    }

    /// Runnable programs on node `id`.
    pub fn runnable_on(&self, id: u32) -> u32 {
        self.on(id).filter(|p| p.runnable).count() as u32
    }

    /// Summed utilization of node `id`'s programs.
    pub fn util_on(&self, id: u32) -> u64 {
        self.on(id).map(|p| u64::from(p.util)).sum()
    }

    /// The largest capacity of an online node, 0 if none is.
    pub fn max_capacity(&self) -> u32 {
        self.online().map(|n| n.capacity).max().unwrap_or(0)
    }

    /// The smallest capacity of an online node, 0 if none is.
    pub fn min_capacity(&self) -> u32 {
        self.online().map(|n| n.capacity).min().unwrap_or(0)
    }
}
