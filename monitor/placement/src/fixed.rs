//! `static`: the class decides the node once, at spawn (heavy to the
//! biggest cores, light to the smallest, a program not yet measured to the
//! node with the fewest runnable programs per core); nothing ever moves.

use crate::{Class, Moves, NewProgram, Policy, View};

/// The spawn-time-only policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Static;

impl Policy for Static {
    fn name(&self) -> &'static str {
        "static"
    }

    fn place(&self, view: &View<'_>, program: &NewProgram) -> Option<u32> {
        let load = |n: &crate::NodeView| u64::from(view.runnable_on(n.node) + 1) * 1024 / u64::from(n.cores.max(1));
        let pick = |capacity: Option<u32>| {
            view.online()
                .filter(|n| capacity.is_none_or(|c| n.capacity == c))
                .min_by_key(|n| (load(n), n.node))
                .map(|n| n.node)
        };
        match program.class {
            Class::Heavy => pick(Some(view.max_capacity())),
            Class::Light => pick(Some(view.min_capacity())),
            Class::Unknown => pick(None),
        }
    }

    fn rebalance(&self, _view: &View<'_>, _me: u32) -> Moves {
        Moves::new()
    }
}
