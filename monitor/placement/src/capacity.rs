//! `capacity`, this project's policy: heavy work where capacity is highest
//! and free, light work on the LITTLE cores.
//!
//! - A new program that may be heavy (spawned `heavy`, or `auto` and not
//!   yet measured) goes to the node with the biggest free core; a `light`
//!   one to the LITTLE node with the most room.
//! - Every round, the heavy programs of the whole machine are dealt to the
//!   cores, biggest first, in order of the work they have done (least
//!   first): so a misfit moves up as soon as a bigger core is free, and
//!   when heavy programs outnumber big cores they take turns on them, so
//!   that equal programs finish together (near the makespan bound for
//!   uniform machines) instead of the LITTLE ones finishing last. A program
//!   on a biggest core keeps it until another is [`Capacity::share_us`]
//!   behind it, so turns are not handed over on every round; and it goes
//!   down only once the program taking its turn has arrived, so the big
//!   core never idles through both moves.
//! - A light program on a bigger node moves to a LITTLE node that has room
//!   for it; a light one stays on its LITTLE node unless that node is
//!   loaded beyond its capacity.

use crate::{Class, Move, Moves, NewProgram, NodeView, Policy, ProgramView, View, MAX_VIEW_NODES};

/// The capacity-aware policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    /// How far (in microseconds of a 1024 core's work) a program must fall
    /// behind one on a biggest core to take its turn there.
    pub share_us: u64,
    /// A LITTLE node has room for a light program while its programs'
    /// utilization stays below this share (in 1024ths) of its capacity.
    pub room: u32,
}

impl Capacity {
    /// A turn is 50 ms of a big core's work: shorter turns cost more
    /// moves, longer ones leave equal programs further apart at the end.
    /// `bench sched --runs 3` m1 on 4+4 and 4+2+2, once a move took about
    /// 3 ms and a freed core was told at once: 1.150 and 1.165 s with
    /// 100 ms turns, 1.128 and 1.153 s with 50 ms, 1.132 and 1.151 s with
    /// 25 ms (and twice the moves). Room is up to 80% busy.
    pub const DEFAULT: Capacity = Capacity { share_us: 50_000, room: 820 };
}

impl Default for Capacity {
    fn default() -> Self {
        Capacity::DEFAULT
    }
}

/// Most heavy programs (and slots) one round deals out; the rest stay
/// where they are.
const MAX_DEALT: usize = 64;

/// Whether node `n` has room for `util` more at `share` 1024ths.
fn has_room(view: &View<'_>, n: &NodeView, util: u64, share: u32) -> bool {
    let total = u64::from(n.capacity) * u64::from(n.cores);
    view.util_on(n.node) + util <= total * u64::from(share) / 1024
}

/// Slots (cores) of each node that programs the policy does not deal
/// (pinned, runnable and not light) already take. A program not measured
/// yet takes none: it is measured within milliseconds, and counting the
/// light ones that happened to be awake pushed heavy programs off big
/// cores.
fn taken(view: &View<'_>, n: u32) -> u32 {
    view.on(n).filter(|p| p.runnable && p.pinned && p.class != Class::Light).count() as u32
}

impl Capacity {
    /// The node each movable heavy program should be on, in the order of
    /// `heavies`; `u32::MAX` where there is no slot at all.
    fn deal(&self, view: &View<'_>, heavies: &[ProgramView]) -> [u32; MAX_DEALT] {
        let nodes = &view.nodes[..view.nodes.len().min(MAX_VIEW_NODES)];
        let mut free = [0u32; MAX_VIEW_NODES];
        for (i, n) in nodes.iter().enumerate() {
            free[i] = n.cores.saturating_sub(taken(view, n.node));
        }
        // Slots, biggest first: node indices repeated once per free core.
        let mut slots: heapless::Vec<usize, { MAX_DEALT }> = heapless::Vec::new();
        let mut order: heapless::Vec<usize, MAX_VIEW_NODES> = (0..nodes.len()).collect();
        order.sort_unstable_by_key(|&i| (core::cmp::Reverse(nodes[i].capacity), nodes[i].node));
        // (`order` lists the nodes of each tier together, lowest first.)
        for &i in &order {
            for _ in 0..free[i] {
                let _ = slots.push(i);
            }
        }
        let mut target = [u32::MAX; MAX_DEALT];
        if slots.is_empty() {
            return target;
        }
        // Each slot's share of the programs (they take turns on it when
        // there are more programs than slots); a node's quota is its slots'.
        let (n, s) = (heavies.len(), slots.len());
        let mut quota = [0usize; MAX_VIEW_NODES];
        for (j, &i) in slots.iter().enumerate() {
            quota[i] += n / s + usize::from(j < n % s);
        }
        // Tier by tier, biggest first: the programs furthest behind, those
        // already on the tier with a head start (so its members stay until
        // another falls a turn behind). Those already on a node of the tier
        // with quota left keep it, the others fill what is left, lowest
        // node first.
        let mut dealt = [false; MAX_DEALT];
        let mut tiers = order.iter().map(|&i| nodes[i].capacity).peekable();
        while let Some(capacity) = tiers.next() {
            if tiers.peek() == Some(&capacity) {
                continue;
            }
            let in_tier = |i: usize| nodes[i].capacity == capacity;
            let on_tier = |p: &ProgramView| view.node(p.node).is_some_and(|n| n.capacity == capacity);
            let size: usize = (0..nodes.len()).filter(|&i| in_tier(i)).map(|i| quota[i]).sum();
            let mut members: heapless::Vec<usize, MAX_DEALT> = (0..n).filter(|&r| !dealt[r]).collect();
            members.sort_unstable_by_key(|&r| {
                let p = &heavies[r];
                (p.work.saturating_sub(if on_tier(p) { self.share_us } else { 0 }), p.pid)
            });
            members.truncate(size);
            for &r in &members {
                dealt[r] = true;
                let here = (0..nodes.len()).find(|&i| in_tier(i) && nodes[i].node == heavies[r].node);
                if let Some(i) = here.filter(|&i| quota[i] > 0) {
                    quota[i] -= 1;
                    target[r] = heavies[r].node;
                }
            }
            for &r in &members {
                if target[r] != u32::MAX {
                    continue;
                }
                if let Some(i) = (0..nodes.len()).find(|&i| in_tier(i) && quota[i] > 0) {
                    quota[i] -= 1;
                    target[r] = nodes[i].node;
                }
            }
        }
        target
    }
}

impl Policy for Capacity {
    fn name(&self) -> &'static str {
        "capacity"
    }

    fn place(&self, view: &View<'_>, program: &NewProgram) -> Option<u32> {
        match program.class {
            Class::Heavy | Class::Unknown => {
                // The biggest free core; with none free, the most capacity
                // per program.
                let free = |n: &&NodeView| view.runnable_on(n.node) < n.cores;
                let best_free = view.online().filter(free).max_by_key(|n| {
                    (n.capacity, core::cmp::Reverse(view.runnable_on(n.node)), core::cmp::Reverse(n.node))
                });
                best_free
                    .or_else(|| {
                        view.online().max_by_key(|n| {
                            let share = u64::from(n.capacity) * u64::from(n.cores) * 1024
                                / u64::from(view.runnable_on(n.node) + 1);
                            (share, core::cmp::Reverse(n.node))
                        })
                    })
                    .map(|n| n.node)
            }
            Class::Light => self.light_home(view, 0).or_else(|| most_room(view)),
        }
    }

    fn rebalance(&self, view: &View<'_>, me: u32) -> Moves {
        let mut moves = Moves::new();
        let Some(mine) = view.node(me).copied() else { return moves };
        let mut heavies: heapless::Vec<ProgramView, MAX_DEALT> = heapless::Vec::new();
        for p in view.programs.iter().filter(|p| p.runnable && !p.pinned && p.class == Class::Heavy) {
            if heavies.push(*p).is_err() {
                break;
            }
        }
        let target = self.deal(view, &heavies);
        // A turn's swap: the program going down waits until the one coming
        // up has arrived (this node has more runnable programs than cores),
        // so a big core never idles through both moves.
        let waiting = view.runnable_on(me) > mine.cores;
        for (p, &to) in heavies.iter().zip(target.iter()) {
            if p.node != me || to == me || to == u32::MAX {
                continue;
            }
            let down = view.node(to).is_some_and(|n| n.capacity < mine.capacity);
            if down && !waiting {
                continue;
            }
            if moves.push(Move { pid: p.pid, from: me, to }).is_err() {
                return moves;
            }
        }
        let little = view.min_capacity();
        let mut moved_util = 0u64;
        for p in view.on(me).filter(|p| !p.pinned && p.class == Class::Light) {
            let overloaded = view.util_on(me) > u64::from(mine.capacity) * u64::from(mine.cores);
            let to = if mine.capacity > little || mine.cores == 0 {
                self.light_home(view, u64::from(p.util) + moved_util)
            } else if overloaded {
                most_room(view).filter(|&n| n != me)
            } else {
                None
            };
            if let Some(to) = to.filter(|&n| n != me) {
                if moves.push(Move { pid: p.pid, from: me, to }).is_err() {
                    break;
                }
                moved_util += u64::from(p.util);
            }
        }
        moves
    }
}

impl Capacity {
    /// The LITTLE node with room for `util` more, the least used first.
    fn light_home(&self, view: &View<'_>, util: u64) -> Option<u32> {
        let little = view.min_capacity();
        view.online()
            .filter(|n| n.capacity == little && has_room(view, n, util, self.room))
            .min_by_key(|n| (view.util_on(n.node) * 1024 / (u64::from(n.capacity) * u64::from(n.cores)).max(1), n.node))
            .map(|n| n.node)
    }
}

/// The node with the most capacity its programs leave unused.
fn most_room(view: &View<'_>) -> Option<u32> {
    view.online()
        .max_by_key(|n| {
            let total = u64::from(n.capacity) * u64::from(n.cores);
            (total.saturating_sub(view.util_on(n.node)), core::cmp::Reverse(n.node))
        })
        .map(|n| n.node)
}
