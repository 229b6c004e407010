//! This core's own registers: its index in the node, its translation root,
//! TLB maintenance, its MPIDR; zeroing a page by cache blocks, copying and
//! checking a page 64 bytes at a time.

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

/// Makes this core's stores to translation tables (a page just mapped
/// where nothing was, which no TLB can hold) visible to its table walks
/// before the program touches the page again.
pub fn tables_written() {
    // SAFETY: barriers only order this core's memory accesses.
    unsafe { core::arch::asm!("dsb ishst", "isb", options(nostack, preserves_flags)) };
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

/// Copies the 4 KiB page at `src` to `dst` with SIMD pairs, 64 bytes per
/// six instructions (the generic `memcpy` of `compiler_builtins` takes
/// about five per 8 bytes, and a move copies each page twice: under the
/// pacer instructions are time).
///
/// # Safety
/// `src` and `dst` are 16-byte aligned, 4 KiB each, readable and writable
/// respectively, and do not overlap.
pub unsafe fn copy_page(dst: *mut u8, src: *const u8) {
    // SAFETY: by the caller's contract; v0-v3 are declared clobbered (the
    // kernel saves a program's SIMD registers whenever it leaves EL0).
    unsafe {
        core::arch::asm!(
            "2:",
            "ldp q0, q1, [{src}], #32",
            "ldp q2, q3, [{src}], #32",
            "stp q0, q1, [{dst}], #32",
            "stp q2, q3, [{dst}], #32",
            "subs {n}, {n}, #64",
            "b.ne 2b",
            src = inout(reg) src => _,
            dst = inout(reg) dst => _,
            n = inout(reg) 4096u64 => _,
            out("v0") _, out("v1") _, out("v2") _, out("v3") _,
            options(nostack),
        );
    }
}

/// Whether the 4 KiB page at `page` holds only zeros, read 64 bytes per
/// ten instructions, stopping at the first 64 bytes that are not.
///
/// # Safety
/// `page` is 16-byte aligned and 4 KiB of readable memory.
pub unsafe fn page_is_zero(page: *const u8) -> bool {
    let left: u64;
    // SAFETY: by the caller's contract; v0-v3 are declared clobbered.
    unsafe {
        core::arch::asm!(
            "2:",
            "ldp q0, q1, [{p}], #32",
            "ldp q2, q3, [{p}], #32",
            "orr v0.16b, v0.16b, v1.16b",
            "orr v2.16b, v2.16b, v3.16b",
            "orr v0.16b, v0.16b, v2.16b",
            "umaxp v0.4s, v0.4s, v0.4s",
            "fmov {t}, d0",
            "cbnz {t}, 3f",
            "subs {n}, {n}, #64",
            "b.ne 2b",
            "3:",
            p = inout(reg) page => _,
            t = out(reg) _,
            n = inout(reg) 4096u64 => left,
            out("v0") _, out("v1") _, out("v2") _, out("v3") _,
            options(nostack, readonly),
        );
    }
    left == 0
}
