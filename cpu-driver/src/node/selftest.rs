//! Boot self-checks (`ktest=boot` in bootargs): each node checks, on the
//! running system, what the boot contract promises, and the boot node prints
//! every node's results in KTAP after the summary.

use crate::config;
use crate::kernel::ctx::Node;
use core::sync::atomic::Ordering;
use handoff::paging::{Attr, TableView, TTBR1_TOP};
use handoff::{layout::TABLE_PAGES, CoreStart, KERNEL_VA, PAGE};

/// The checks, in KTAP order; bit `i` of a node's result is check `i`.
pub const CHECKS: [&str; 4] = ["mmu_and_caches_on", "all_cores_up", "build_matches_plan", "maps_only_own_memory"];

/// Every core records its own translation and cache state.
pub fn record_core(index: usize) {
    let sctlr: u64;
    // SAFETY: reading SCTLR_EL1 has no side effects.
    unsafe { core::arch::asm!("mrs {}, sctlr_el1", out(reg) sctlr, options(nomem, nostack)) };
    const M_C_I: u64 = (1 << 0) | (1 << 2) | (1 << 12);
    if sctlr & M_C_I == M_C_I {
        crate::kernel::ctx::core(index).caches_on.store(true, Ordering::Release);
    }
}

/// Runs the checks on the node leader once `online` cores are up.
pub fn run(node: &Node, core: &CoreStart, online: u32) -> u32 {
    let info = node.info;
    let all = if info.cpu_count >= 32 { u32::MAX } else { (1u32 << info.cpu_count) - 1 };
    let mut passed = 0;
    // Only cores that came up can say: a missing one fails `all_cores_up`.
    let mut came_up = (0..info.cpu_count as usize).filter(|i| online & (1 << i) != 0);
    let on = came_up.all(|i| crate::kernel::ctx::core(i).caches_on.load(Ordering::Acquire));
    if on {
        passed |= 1 << 0;
    }
    if online & all == all {
        passed |= 1 << 1;
    }
    if info.build == config::BUILD {
        passed |= 1 << 2;
    }
    if maps_only_own_memory(node, core) {
        passed |= 1 << 3;
    }
    passed
}

/// The shared memory a node may map: its console (the console owner: every
/// node's), and the channels it sends or receives on.
fn shared_allowed(info: &handoff::NodeBootInfo) -> impl Iterator<Item = handoff::PhysRange> + '_ {
    let (offset, size) =
        handoff::console::mapped_consoles(info.node_id as usize, info.node_count as usize, info.is_boot_node());
    let console = handoff::PhysRange { start: info.shared.start + offset, size };
    let channel = move |va: u64| handoff::PhysRange {
        start: info.shared.start + va.saturating_sub(handoff::SHARED_VA),
        size: info.channel_bytes + info.transfer_pages * handoff::PAGE,
    };
    let own = info.tx_va.iter().chain(info.rx_va.iter()).filter(|&&va| va != 0).map(move |&va| channel(va));
    core::iter::once(console).chain(own)
}

/// Walks this node's live page tables: every normal-memory mapping must lie
/// in the node's own RAM, its console, or a channel this node is an end of;
/// so no node can even read another pair's channel or another's console.
fn maps_only_own_memory(node: &Node, core: &CoreStart) -> bool {
    let info = node.info;
    let mem = info.memory;
    // The table pages start at TTBR0's root (the first one allocated).
    let Some(offset) = core.ttbr0.checked_sub(mem.start) else { return false };
    if offset >= mem.size {
        return false;
    }
    let words = (TABLE_PAGES * PAGE / 8) as usize;
    // SAFETY: the boot driver put TABLE_PAGES table pages at this offset of
    // the node's RAM and maps them (as data) at KERNEL_VA + offset.
    let words = unsafe { core::slice::from_raw_parts((KERNEL_VA + offset) as *const u64, words) };
    let view = TableView { words, base_pa: core.ttbr0 };
    let mut ok = true;
    let mut leaves = 0;
    let mut check = |_va: u64, pa: u64, size: u64, attr: Attr| {
        leaves += 1;
        let end = pa.saturating_add(size);
        let inside = |r: handoff::PhysRange| pa >= r.start && end <= r.end();
        if attr != Attr::Device && !inside(mem) && !shared_allowed(info).any(inside) {
            ok = false;
        }
    };
    view.walk(core.ttbr0, 0, &mut check);
    view.walk(core.ttbr1, TTBR1_TOP, &mut check);
    ok && leaves > 0
}
