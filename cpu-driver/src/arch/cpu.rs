//! This core's own registers: its index in the node, its translation root,
//! TLB maintenance, its MPIDR; zeroing a page by cache blocks.

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

/// Zeroes the 4 KiB page at `page` a cache block at a time (`DC ZVA`, as
/// Linux's `clear_page` does: one instruction per 64 bytes on the cores
/// here), or with stores where DCZID_EL0 prohibits it.
///
/// # Safety
/// `page` is a page-aligned, writable 4 KiB of Normal memory that nothing
/// else uses.
pub unsafe fn zero_page(page: *mut u8) {
    const PAGE: usize = 4096;
    let dczid: u64;
    // SAFETY: reading DCZID_EL0 has no side effects.
    unsafe { core::arch::asm!("mrs {}, dczid_el0", out(reg) dczid, options(nomem, nostack, preserves_flags)) };
    // DZP (bit 4) set: DC ZVA prohibited; BS (bits 3:0): log2 of the block in words.
    if dczid & (1 << 4) != 0 {
        // SAFETY: by the caller's contract.
        unsafe { core::ptr::write_bytes(page, 0, PAGE) };
        return;
    }
    let block = 4usize << (dczid & 0xf);
    let mut at = page as usize;
    while at < page as usize + PAGE {
        // SAFETY: `at` is a block-aligned address inside the caller's page
        // (the page is aligned to any block size, at most 2 KiB).
        unsafe { core::arch::asm!("dc zva, {}", in(reg) at, options(nostack, preserves_flags)) };
        at += block;
    }
}
