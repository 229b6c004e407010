//! Carves RAM into the channel region and one private region per node.

use crate::{PlanConfig, PlanError, Range, REGION_ALIGN};
use heapless::Vec;
use topology::{Topology, MAX_CLUSTERS};

const MAX_FREE: usize = 32;

/// Returns the channel region and each node's region: all taken from the
/// largest free range (RAM minus the boot reserve and reservations), the
/// channel region first, then equal 2 MiB-aligned slices.
pub fn carve(
    topology: &Topology<'_>,
    nodes: usize,
    config: &PlanConfig,
) -> Result<(Range, Vec<Range, MAX_CLUSTERS>), PlanError> {
    let mut free: Vec<Range, MAX_FREE> = Vec::new();
    for r in &topology.memory {
        free.push(*r).map_err(|_| PlanError::TooMany { what: "memory ranges" })?;
    }
    subtract(&mut free, loader_region(topology, config))?;
    for r in &topology.reserved {
        subtract(&mut free, *r)?;
    }
    let best = free
        .iter()
        .map(|r| {
            let start = align_up(r.start);
            let end = r.end() & !(REGION_ALIGN - 1);
            Range { start, size: end.saturating_sub(start) }
        })
        .max_by_key(|r| r.size)
        .filter(|r| r.size > 0)
        .ok_or(PlanError::NoFreeMemory)?;

    let shared_size = align_up(config.shared_size);
    let shared = Range { start: best.start, size: shared_size };
    let rest = best.size.saturating_sub(shared_size);
    let per_node = (rest / nodes.max(1) as u64) & !(REGION_ALIGN - 1);
    if per_node < config.min_node_memory || nodes == 0 {
        return Err(PlanError::NotEnoughMemory { nodes, per_node, min: config.min_node_memory });
    }
    let mut regions = Vec::new();
    for i in 0..nodes as u64 {
        let region = Range { start: shared.end() + i * per_node, size: per_node };
        regions.push(region).map_err(|_| PlanError::TooMany { what: "nodes" })?;
    }
    Ok((shared, regions))
}

/// The loader's region: its image sits at the bottom of RAM, of the lowest
/// bank, not the first listed (QEMU lists NUMA banks highest first).
pub fn loader_region(topology: &Topology<'_>, config: &PlanConfig) -> Range {
    let start = topology.memory.iter().map(|r| r.start).min().unwrap_or(0);
    Range { start, size: if topology.memory.is_empty() { 0 } else { config.boot_reserve } }
}

fn align_up(x: u64) -> u64 {
    x.saturating_add(REGION_ALIGN - 1) & !(REGION_ALIGN - 1)
}

/// Removes `hole` from every range in `free`, splitting where needed.
fn subtract(free: &mut Vec<Range, MAX_FREE>, hole: Range) -> Result<(), PlanError> {
    let mut out: Vec<Range, MAX_FREE> = Vec::new();
    for r in free.iter() {
        if !r.overlaps(&hole) {
            out.push(*r).map_err(|_| PlanError::TooMany { what: "free ranges" })?;
            continue;
        }
        if r.start < hole.start {
            let below = Range { start: r.start, size: hole.start - r.start };
            out.push(below).map_err(|_| PlanError::TooMany { what: "free ranges" })?;
        }
        if hole.end() < r.end() {
            let above = Range { start: hole.end(), size: r.end() - hole.end() };
            out.push(above).map_err(|_| PlanError::TooMany { what: "free ranges" })?;
        }
    }
    *free = out;
    Ok(())
}
