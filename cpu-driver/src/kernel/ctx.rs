//! The node context and the per-core contexts, as every layer above
//! `devices` reaches them: the node's boot info through [`get`], and what
//! each core records of itself through [`core`] (or [`this_core`]). They
//! are the `static`s that tie the node's code together: the node's is set
//! once by its first core, each core writes its own context (a core
//! records itself while coming up, before the node context exists), and any
//! core reads them. (Below this layer, the GIC keeps one handle per core of
//! its own.)

use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use handoff::bootinfo::{PSCI_HVC, PSCI_SMC};
use handoff::console::{mapped_consoles, node_console_offset, NodeConsole, NODE_CONSOLE_BYTES};
use handoff::{NodeBootInfo, MAX_NODE_CPUS};

/// The node as this image sees it (node-private: every node has its own copy).
pub struct Node {
    pub info: &'static NodeBootInfo,
}

/// Set once, by the node's first core, to its validated boot info.
static INFO: AtomicPtr<NodeBootInfo> = AtomicPtr::new(core::ptr::null_mut());

/// Makes `info` (validated, mapped for the node's lifetime) the node's context.
pub fn set(info: &'static NodeBootInfo) {
    INFO.store(core::ptr::from_ref(info).cast_mut(), Ordering::Release);
}

/// The node, once core 0 has validated its boot info.
pub fn get() -> Option<Node> {
    let p = INFO.load(Ordering::Acquire);
    // SAFETY: INFO is only ever set to the validated boot info page, which
    // stays mapped for the node's lifetime.
    (!p.is_null()).then(|| Node { info: unsafe { &*p } })
}

impl Node {
    /// Node `id`'s console, if this node maps it: its own, or any on the
    /// console owner.
    pub fn console(&self, id: usize) -> Option<&'static NodeConsole> {
        let info = self.info;
        let (first, size) = mapped_consoles(info.node_id as usize, info.node_count as usize, info.is_boot_node());
        let at = node_console_offset(id);
        let mapped = at >= first && at + NODE_CONSOLE_BYTES <= first + size;
        // SAFETY: the boot driver zeroed (a valid NodeConsole) and mapped,
        // at this offset of the shared region, this node's console and, on
        // the console owner, every node's.
        mapped.then(|| unsafe { &*((info.shared_va + node_console_offset(id)) as *const NodeConsole) })
    }

    /// This node's console.
    pub fn own_console(&self) -> Option<&'static NodeConsole> {
        self.console(self.info.node_id as usize)
    }

    /// Every node's console, on the console owner (none elsewhere).
    pub fn consoles(&self) -> impl Iterator<Item = (usize, &'static NodeConsole)> + '_ {
        let count = if self.info.is_boot_node() { self.info.node_count as usize } else { 0 };
        (0..count).filter_map(|id| self.console(id).map(|c| (id, c)))
    }

    pub fn psci(&self) -> Option<cpu_start::Conduit> {
        match self.info.psci {
            PSCI_HVC => Some(cpu_start::Conduit::Hvc),
            PSCI_SMC => Some(cpu_start::Conduit::Smc),
            _ => None,
        }
    }
}

/// What one core records of itself.
pub struct CoreCtx {
    /// Its MPIDR, as it read it from MPIDR_EL1.
    pub mpidr: AtomicU64,
    /// Its calibration figure (see [`crate::kernel::calibrate`]).
    pub score: AtomicU64,
    /// SCTLR_EL1 had the MMU and both caches on when it came up.
    pub caches_on: AtomicBool,
    /// The user translation root it has loaded (see [`crate::kernel::roots`]).
    pub loaded_root: AtomicU64,
}

static CORES: [CoreCtx; MAX_NODE_CPUS] = [const {
    CoreCtx {
        mpidr: AtomicU64::new(0),
        score: AtomicU64::new(0),
        caches_on: AtomicBool::new(false),
        loaded_root: AtomicU64::new(0),
    }
}; MAX_NODE_CPUS];

/// Core `index`'s context (core indices past the node's cores share the
/// last slot; the boot driver gives no node more than `MAX_NODE_CPUS`).
pub fn core(index: usize) -> &'static CoreCtx {
    &CORES[index.min(MAX_NODE_CPUS - 1)]
}

/// The calling core's context.
pub fn this_core() -> &'static CoreCtx {
    core(crate::arch::cpu::this_core())
}

/// Every core's context, by index.
pub fn cores() -> &'static [CoreCtx; MAX_NODE_CPUS] {
    &CORES
}
