//! Entering and leaving EL0.
//!
//! The CPU driver is event driven with one stack per core: a core's kernel
//! loop calls [`enter_user`] with a program's saved registers; the next
//! exception from EL0 saves them back and *returns* from `enter_user` with
//! what happened. So a program's state lives only in its [`UserFrame`], the
//! kernel never runs on a program's behalf outside its loop, and there are
//! no kernel threads to switch between.
//!
//! Exceptions from EL1 are kernel faults: reported, and the core parks.

/// Everything a program's core state holds, saved at every exception.
#[repr(C, align(16))]
#[derive(Clone, Copy)]
pub struct UserFrame {
    pub x: [u64; 31],
    pub sp: u64,
    pub elr: u64,
    pub spsr: u64,
    pub fpcr: u64,
    pub fpsr: u64,
    pub q: [u128; 32],
}

impl UserFrame {
    pub const ZERO: UserFrame = UserFrame { x: [0; 31], sp: 0, elr: 0, spsr: 0, fpcr: 0, fpsr: 0, q: [0; 32] };

    /// A program about to run its first instruction at `entry` with `sp`:
    /// EL0t, interrupts unmasked.
    pub fn start(entry: u64, sp: u64) -> UserFrame {
        UserFrame { elr: entry, sp, ..UserFrame::ZERO }
    }
}

const _: () = assert!(core::mem::offset_of!(UserFrame, sp) == 248);
const _: () = assert!(core::mem::offset_of!(UserFrame, elr) == 256);
const _: () = assert!(core::mem::offset_of!(UserFrame, fpcr) == 272);
const _: () = assert!(core::mem::offset_of!(UserFrame, q) == 288);

/// Why [`enter_user`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// A synchronous exception: a system call or a fault (see ESR_EL1).
    Sync,
    /// An interrupt (IRQ or FIQ).
    Interrupt,
    /// An SError, or anything from AArch32 state.
    Error,
}

/// Bytes of each core's fault stack (a kernel fault may come from a broken stack).
const FAULT_STACK: usize = 4096;

#[repr(C, align(16))]
struct FaultStacks([[u8; FAULT_STACK]; handoff::MAX_NODE_CPUS]);

/// A `static` because the vectors switch to it in assembly, with nothing
/// else to trust (the fault may be a stack overflow).
static mut FAULT_STACKS: FaultStacks = FaultStacks([[0; FAULT_STACK]; handoff::MAX_NODE_CPUS]);

macro_rules! el0_vector {
    ($kind:literal) => {
        concat!(".balign 128\n", "stp x0, x1, [sp, #-16]!\n", "mov x1, #", $kind, "\n", "b el0_exit\n")
    };
}

core::arch::global_asm!(
    ".section .text.vectors, \"ax\"",
    ".balign 2048",
    ".global exception_vectors",
    "exception_vectors:",
    // Current EL (SP0 and SPx): kernel faults.
    ".set vector_index, 0",
    ".rept 8",
    ".balign 128",
    "mov x0, #vector_index",
    "mrs x1, esr_el1",
    "mrs x2, far_el1",
    "mrs x3, elr_el1",
    "b kernel_fault_entry",
    ".set vector_index, vector_index + 1",
    ".endr",
    // Lower EL, AArch64: sync, IRQ, FIQ, SError; then AArch32.
    el0_vector!("0"),
    el0_vector!("1"),
    el0_vector!("1"),
    el0_vector!("2"),
    el0_vector!("2"),
    el0_vector!("2"),
    el0_vector!("2"),
    el0_vector!("2"),
    ".text",
    // enter_user(frame: *mut UserFrame) -> u64
    ".global enter_user",
    "enter_user:",
    "   sub     sp, sp, #112",
    "   stp     x19, x20, [sp, #16]",
    "   stp     x21, x22, [sp, #32]",
    "   stp     x23, x24, [sp, #48]",
    "   stp     x25, x26, [sp, #64]",
    "   stp     x27, x28, [sp, #80]",
    "   stp     x29, x30, [sp, #96]",
    "   str     x0, [sp]",
    "   ldp     x1, x2, [x0, #256]",
    "   msr     elr_el1, x1",
    "   msr     spsr_el1, x2",
    "   ldr     x1, [x0, #248]",
    "   msr     sp_el0, x1",
    "   ldp     x1, x2, [x0, #272]",
    "   msr     fpcr, x1",
    "   msr     fpsr, x2",
    "   add     x1, x0, #288",
    "   ldp     q0, q1, [x1, #0]",
    "   ldp     q2, q3, [x1, #32]",
    "   ldp     q4, q5, [x1, #64]",
    "   ldp     q6, q7, [x1, #96]",
    "   ldp     q8, q9, [x1, #128]",
    "   ldp     q10, q11, [x1, #160]",
    "   ldp     q12, q13, [x1, #192]",
    "   ldp     q14, q15, [x1, #224]",
    "   ldp     q16, q17, [x1, #256]",
    "   ldp     q18, q19, [x1, #288]",
    "   ldp     q20, q21, [x1, #320]",
    "   ldp     q22, q23, [x1, #352]",
    "   ldp     q24, q25, [x1, #384]",
    "   ldp     q26, q27, [x1, #416]",
    "   ldp     q28, q29, [x1, #448]",
    "   ldp     q30, q31, [x1, #480]",
    "   ldp     x2, x3, [x0, #16]",
    "   ldp     x4, x5, [x0, #32]",
    "   ldp     x6, x7, [x0, #48]",
    "   ldp     x8, x9, [x0, #64]",
    "   ldp     x10, x11, [x0, #80]",
    "   ldp     x12, x13, [x0, #96]",
    "   ldp     x14, x15, [x0, #112]",
    "   ldp     x16, x17, [x0, #128]",
    "   ldp     x18, x19, [x0, #144]",
    "   ldp     x20, x21, [x0, #160]",
    "   ldp     x22, x23, [x0, #176]",
    "   ldp     x24, x25, [x0, #192]",
    "   ldp     x26, x27, [x0, #208]",
    "   ldp     x28, x29, [x0, #224]",
    "   ldr     x30, [x0, #240]",
    "   ldp     x0, x1, [x0]",
    "   eret",
    // From an EL0 vector: the program's x0, x1 pushed, x1 = exit kind. The
    // frame pointer enter_user stored is just above that push.
    "el0_exit:",
    "   ldr     x0, [sp, #16]",
    "   stp     x2, x3, [x0, #16]",
    "   stp     x4, x5, [x0, #32]",
    "   stp     x6, x7, [x0, #48]",
    "   stp     x8, x9, [x0, #64]",
    "   stp     x10, x11, [x0, #80]",
    "   stp     x12, x13, [x0, #96]",
    "   stp     x14, x15, [x0, #112]",
    "   stp     x16, x17, [x0, #128]",
    "   stp     x18, x19, [x0, #144]",
    "   stp     x20, x21, [x0, #160]",
    "   stp     x22, x23, [x0, #176]",
    "   stp     x24, x25, [x0, #192]",
    "   stp     x26, x27, [x0, #208]",
    "   stp     x28, x29, [x0, #224]",
    "   str     x30, [x0, #240]",
    "   ldp     x2, x3, [sp], #16",
    "   stp     x2, x3, [x0]",
    "   mrs     x2, elr_el1",
    "   mrs     x3, spsr_el1",
    "   stp     x2, x3, [x0, #256]",
    "   mrs     x2, sp_el0",
    "   str     x2, [x0, #248]",
    "   mrs     x2, fpcr",
    "   mrs     x3, fpsr",
    "   stp     x2, x3, [x0, #272]",
    "   add     x2, x0, #288",
    "   stp     q0, q1, [x2, #0]",
    "   stp     q2, q3, [x2, #32]",
    "   stp     q4, q5, [x2, #64]",
    "   stp     q6, q7, [x2, #96]",
    "   stp     q8, q9, [x2, #128]",
    "   stp     q10, q11, [x2, #160]",
    "   stp     q12, q13, [x2, #192]",
    "   stp     q14, q15, [x2, #224]",
    "   stp     q16, q17, [x2, #256]",
    "   stp     q18, q19, [x2, #288]",
    "   stp     q20, q21, [x2, #320]",
    "   stp     q22, q23, [x2, #352]",
    "   stp     q24, q25, [x2, #384]",
    "   stp     q26, q27, [x2, #416]",
    "   stp     q28, q29, [x2, #448]",
    "   stp     q30, q31, [x2, #480]",
    "   mov     x0, x1",
    "   ldp     x19, x20, [sp, #16]",
    "   ldp     x21, x22, [sp, #32]",
    "   ldp     x23, x24, [sp, #48]",
    "   ldp     x25, x26, [sp, #64]",
    "   ldp     x27, x28, [sp, #80]",
    "   ldp     x29, x30, [sp, #96]",
    "   add     sp, sp, #112",
    "   ret",
    // Kernel faults: switch to this core's fault stack (TPIDR_EL1 holds the
    // core index), keeping x0-x3 for the report.
    "kernel_fault_entry:",
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
    report = sym crate::kernel_fault,
);

extern "C" {
    static exception_vectors: u8;
    fn enter_user(frame: *mut UserFrame) -> u64;
}

/// Points VBAR_EL1 at the vectors above, traps misaligned stack pointers at
/// EL0, and keeps the kernel out of user memory (PAN) where the core has it.
pub fn install() {
    // SAFETY: `exception_vectors` is the table the asm above defines, in this
    // image's code, mapped executable for the node's lifetime.
    unsafe { cpu_start::set_vector_base(&raw const exception_vectors as usize) };
    let (mut sctlr, mmfr1): (u64, u64);
    // SAFETY: reading ID and control registers has no side effects.
    unsafe {
        core::arch::asm!("mrs {}, sctlr_el1", out(reg) sctlr, options(nomem, nostack));
        core::arch::asm!("mrs {}, id_aa64mmfr1_el1", out(reg) mmfr1, options(nomem, nostack));
    }
    sctlr |= 1 << 4; // SA0: SP alignment check at EL0
    sctlr &= !(1 << 23); // SPAN clear: PAN is set on every exception to EL1
    sctlr &= !(1 << 9); // UMA clear: EL0 cannot mask interrupts
                        // SAFETY: the bits changed only affect EL0 and the kernel's own access
                        // to user memory, which the kernel never makes directly.
    unsafe { core::arch::asm!("msr sctlr_el1, {}", "isb", in(reg) sctlr, options(nostack)) };
    if (mmfr1 >> 20) & 0xf != 0 {
        // SAFETY: MSR PAN, #1 (encoded: older assemblers lack the name);
        // the core implements PAN (ID_AA64MMFR1_EL1.PAN != 0).
        unsafe { core::arch::asm!(".inst 0xd500419f", options(nomem, nostack)) };
    }
}

/// Runs the program whose registers are `frame` on this core until its
/// next exception; returns why it stopped (ESR_EL1/FAR_EL1 still describe a
/// synchronous one).
pub fn run(frame: &mut UserFrame) -> Exit {
    // SAFETY: `frame` is a valid, exclusive UserFrame; enter_user saves the
    // kernel's callee-saved registers, erets to EL0 with the frame's state
    // and comes back here (through el0_exit) at the next EL0 exception,
    // with the frame updated. The user address space (TTBR0) was set by
    // the caller.
    match unsafe { enter_user(frame) } {
        0 => Exit::Sync,
        1 => Exit::Interrupt,
        _ => Exit::Error,
    }
}

/// ESR_EL1 and FAR_EL1 of the exception just taken.
pub fn syndrome() -> (u64, u64) {
    let (esr, far): (u64, u64);
    // SAFETY: reading the syndrome registers has no side effects.
    unsafe {
        core::arch::asm!("mrs {}, esr_el1", out(reg) esr, options(nomem, nostack));
        core::arch::asm!("mrs {}, far_el1", out(reg) far, options(nomem, nostack));
    }
    (esr, far)
}
