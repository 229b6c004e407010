//! Exception vectors. Nothing is expected to trap yet (interrupts are taken
//! by WFI wake-up, not vectors), so every exception is a kernel fault: it is
//! reported with its decoded syndrome and the core is parked.

use core::sync::atomic::{AtomicU32, Ordering};

/// Bytes of each core's fault stack (a fault may come from a broken stack).
const FAULT_STACK: usize = 4096;

#[repr(C, align(16))]
struct FaultStacks([[u8; FAULT_STACK]; handoff::MAX_NODE_CPUS]);

static mut FAULT_STACKS: FaultStacks = FaultStacks([[0; FAULT_STACK]; handoff::MAX_NODE_CPUS]);
static FAULTS: AtomicU32 = AtomicU32::new(0);

core::arch::global_asm!(
    ".section .text.vectors, \"ax\"",
    ".balign 2048",
    ".global exception_vectors",
    "exception_vectors:",
    ".set kind, 0",
    ".rept 16",
    ".balign 128",
    // Switch to this core's fault stack (TPIDR_EL1 holds the core index).
    "   mrs     x9, tpidr_el1",
    "   and     x9, x9, #0xf",
    "   add     x9, x9, #1",
    "   adrp    x10, {stacks}",
    "   add     x10, x10, :lo12:{stacks}",
    "   mov     x11, #{size}",
    "   madd    x10, x9, x11, x10",
    "   mov     sp, x10",
    "   mov     x0, #kind",
    "   mrs     x1, esr_el1",
    "   mrs     x2, far_el1",
    "   mrs     x3, elr_el1",
    "   bl      {report}",
    ".set kind, kind + 1",
    ".endr",
    stacks = sym FAULT_STACKS,
    size = const FAULT_STACK,
    report = sym report,
);

/// Points VBAR_EL1 at the vectors above.
pub fn install() {
    // SAFETY: `exception_vectors` is a 2 KiB-aligned vector table in this
    // image's code, mapped executable for the node's lifetime.
    unsafe {
        core::arch::asm!(
            "adrp {t}, exception_vectors",
            "add {t}, {t}, :lo12:exception_vectors",
            "msr vbar_el1, {t}",
            "isb",
            t = out(reg) _,
            options(nostack)
        )
    };
}

fn class(esr: u64) -> &'static str {
    match (esr >> 26) & 0x3f {
        0x00 => "unknown",
        0x0e => "illegal execution state",
        0x15 => "SVC",
        0x18 => "system register trap",
        0x20 | 0x21 => "instruction abort",
        0x22 => "PC alignment",
        0x24 | 0x25 => "data abort",
        0x26 => "SP alignment",
        0x2f => "SError",
        0x3c => "BRK",
        _ => "other",
    }
}

const KINDS: [&str; 4] = ["synchronous", "IRQ", "FIQ", "SError"];

extern "C" fn report(kind: u64, esr: u64, far: u64, elr: u64) -> ! {
    let node = crate::node::get().map_or(u32::MAX, |n| n.info.node_id);
    let core: u64;
    // SAFETY: reading TPIDR_EL1 (the core index the entry code put there) has no side effects.
    unsafe { core::arch::asm!("mrs {}, tpidr_el1", out(reg) core, options(nomem, nostack)) };
    // A fault while reporting a fault: stop before recursing.
    if FAULTS.fetch_add(1, Ordering::Relaxed) < 8 {
        let from = ["EL1 SP0", "EL1", "EL0 AArch64", "EL0 AArch32"][(kind as usize / 4) % 4];
        crate::println!(
            "kernel fault: node {node} core {core}: {} from {from}: {} (ESR {esr:#x}) FAR {far:#x} ELR {elr:#x}",
            KINDS[kind as usize % 4],
            class(esr)
        );
    }
    crate::time::idle()
}
