//! The node context: the node's boot info, as every layer above `devices`
//! reaches it, through [`get`]. It is the one `static` that ties the node's
//! code together: set once by the node's first core, read by all.

use core::sync::atomic::{AtomicPtr, Ordering};
use handoff::bootinfo::{PSCI_HVC, PSCI_SMC};
use handoff::console::{mapped_consoles, node_console_offset, NodeConsole, NODE_CONSOLE_BYTES};
use handoff::NodeBootInfo;

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
