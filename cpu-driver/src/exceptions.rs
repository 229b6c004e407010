//! Exception vectors. Nothing is expected to trap yet (interrupts are taken
//! by WFI wake-up, not vectors), so every exception is a kernel fault: it is
//! reported with its decoded syndrome and the core is parked.

use core::sync::atomic::{AtomicU32, Ordering};
use cpu_start::Fault;

/// Bytes of each core's fault stack (a fault may come from a broken stack).
const FAULT_STACK: usize = 4096;

#[repr(C, align(16))]
struct FaultStacks([[u8; FAULT_STACK]; handoff::MAX_NODE_CPUS]);

static mut FAULT_STACKS: FaultStacks = FaultStacks([[0; FAULT_STACK]; handoff::MAX_NODE_CPUS]);
static FAULTS: AtomicU32 = AtomicU32::new(0);

core::arch::global_asm!(
    cpu_start::exception_vectors_asm!("exception_vectors", "fault_entry"),
    // Switch to this core's fault stack (TPIDR_EL1 holds the core index),
    // keeping x0-x3 for the report.
    "fault_entry:",
    "   mrs     x9, tpidr_el1",
    "   and     x9, x9, #{mask}",
    "   add     x9, x9, #1",
    "   adrp    x10, {stacks}",
    "   add     x10, x10, :lo12:{stacks}",
    "   mov     x11, #{size}",
    "   madd    x10, x9, x11, x10",
    "   mov     sp, x10",
    "   bl      {report}",
    mask = const handoff::MAX_NODE_CPUS - 1,
    stacks = sym FAULT_STACKS,
    size = const FAULT_STACK,
    report = sym report,
);

extern "C" {
    static exception_vectors: u8;
}

/// Points VBAR_EL1 at the vectors above.
pub fn install() {
    // SAFETY: `exception_vectors` is the table the asm above defines, in this
    // image's code, mapped executable for the node's lifetime.
    unsafe { cpu_start::set_vector_base(&raw const exception_vectors as usize) };
}

extern "C" fn report(vector: u64, esr: u64, far: u64, elr: u64) -> ! {
    let node = crate::node::get().map_or(u32::MAX, |n| n.info.node_id);
    let core: u64;
    // SAFETY: reading TPIDR_EL1 (the core index the entry code put there) has no side effects.
    unsafe { core::arch::asm!("mrs {}, tpidr_el1", out(reg) core, options(nomem, nostack)) };
    // A fault while reporting a fault: stop before recursing.
    if FAULTS.fetch_add(1, Ordering::Relaxed) < 8 {
        crate::println!("kernel fault: node {node} core {core}: {}", Fault { vector, esr, far, elr });
    }
    crate::time::idle()
}
