//! `blind`: what a symmetric scheduler does. It ignores capacity and
//! balances the count of runnable programs per core across the machine.

use crate::{Move, Moves, NewProgram, Policy, View, MAX_VIEW_NODES};

/// The capacity-unaware policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Blind;

/// `programs` per core of a node with `cores` online, in 1024ths (so nodes
/// of different sizes compare); a node with no core online is full.
fn per_core(programs: u32, cores: u32) -> u64 {
    match cores {
        0 => u64::MAX,
        c => u64::from(programs) * 1024 / u64::from(c),
    }
}

impl Policy for Blind {
    fn name(&self) -> &'static str {
        "blind"
    }

    fn place(&self, view: &View<'_>, _program: &NewProgram) -> Option<u32> {
        view.online().min_by_key(|n| (per_core(view.runnable_on(n.node) + 1, n.cores), n.node)).map(|n| n.node)
    }

    /// Sends runnable programs of `me` to the least loaded node as long as
    /// each move lowers the higher of the two loads.
    fn rebalance(&self, view: &View<'_>, me: u32) -> Moves {
        let mut moves = Moves::new();
        let Some(mine) = view.node(me).copied() else { return moves };
        let mut runnable = view.runnable_on(me);
        // Programs this round sends to each node (by index in the view).
        let mut sent = [0u32; MAX_VIEW_NODES];
        for p in view.on(me).filter(|p| p.runnable && !p.pinned) {
            let others = view.nodes.iter().take(MAX_VIEW_NODES).enumerate();
            let best = others
                .filter(|(_, n)| n.node != me && n.cores > 0)
                .map(|(i, n)| (i, n, view.runnable_on(n.node) + sent[i]))
                .min_by_key(|&(_, n, count)| (per_core(count + 1, n.cores), n.node));
            let Some((i, to, theirs)) = best else { break };
            let before = per_core(runnable, mine.cores).max(per_core(theirs, to.cores));
            let after = per_core(runnable - 1, mine.cores).max(per_core(theirs + 1, to.cores));
            if after >= before || moves.push(Move { pid: p.pid, from: me, to: to.node }).is_err() {
                break;
            }
            runnable -= 1;
            sent[i] += 1;
        }
        moves
    }
}
