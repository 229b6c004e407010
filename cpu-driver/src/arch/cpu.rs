//! This core's own registers: its index in the node, its translation root,
//! TLB maintenance, its MPIDR.

/// This core's index in its node (the entry code keeps it in TPIDR_EL1).
pub fn this_core() -> usize {
    let core: u64;
    // SAFETY: reading TPIDR_EL1 has no side effects.
    unsafe { core::arch::asm!("mrs {}, tpidr_el1", out(reg) core, options(nomem, nostack, preserves_flags)) };
    core as usize
}

/// Loads `ttbr0` as this core's user half.
pub fn set_ttbr0(ttbr0: u64) {
    // SAFETY: `ttbr0` is the root of a live user address space with its own
    // ASID; the kernel half (TTBR1) is unchanged, so the kernel keeps running.
    unsafe { core::arch::asm!("msr ttbr0_el1, {}", "isb", in(reg) ttbr0, options(nostack)) };
}

/// Drops every stage-1 translation on every core of the node (so stale
/// ASIDs may be handed out again).
pub fn flush_user_tlb() {
    // SAFETY: TLB maintenance has no memory-safety effect beyond the
    // translations it drops; the kernel's are walked again from its tables.
    unsafe { core::arch::asm!("dsb ishst", "tlbi vmalle1is", "dsb ish", "isb", options(nostack)) };
}

/// Drops the TLB entries of one user page on every core (it was unmapped).
pub fn flush_page(asid: u16, va: u64) {
    let arg = (u64::from(asid) << 48) | ((va >> 12) & ((1 << 44) - 1));
    // SAFETY: as in `flush_asid`, for one page being unmapped.
    unsafe { core::arch::asm!("dsb ishst", "tlbi vae1is, {}", "dsb ish", "isb", in(reg) arg, options(nostack)) };
}

/// This core's MPIDR affinity, as a device tree's cpu `reg` writes it.
pub fn own_mpidr() -> u64 {
    cpu_start::current_mpidr().0
}
