//! First instructions of every core of a node, MMU off, at the physical
//! address the node's image was copied to.
//!
//! The core finds its own [`CoreStart`] record by MPIDR in the boot info page
//! that follows the image (so PSCI and spin-table entries work alike), loads
//! the node's translation tables, turns on the MMU and caches, switches to its
//! stack and jumps to [`crate::cpu_main`] at the kernel's virtual address.

use core::mem::{offset_of, size_of};
use handoff::{CoreEntry, CoreStart, NodeBootInfo, ABI_VERSION};

const BUILD_ID: u32 = crate::config::BUILD;

core::arch::global_asm!(
    ".section .text.entry, \"ax\"",
    ".global _start",
    "_start:",
    "   b       1f",
    "   .word   0",
    // handoff::ImageHeader, at handoff::IMAGE_HEADER_OFFSET.
    "   .ascii  \"MKCPUDRV\"",
    "   .word   {abi}",
    "   .word   {build}",
    "   .quad   __file_size",
    "   .quad   __mem_size",
    "1:",
    "   msr     daifset, #0xf",
    cpu_start::el2_to_el1_asm!(),
    // x1 = boot info (PA), x2 = own MPIDR affinity.
    "   adrp    x1, __image_end",
    "   mrs     x2, mpidr_el1",
    "   and     x3, x2, #0xffffff",
    "   ubfx    x4, x2, #32, #8",
    "   orr     x2, x3, x4, lsl #32",
    "   ldr     w3, [x1, #{count}]",
    "   cmp     w3, #{max_cpus}",
    "   b.hi    3f",
    "   add     x4, x1, #{cpus}",
    "2:",
    "   cbz     w3, 3f",
    "   ldr     x5, [x4, #{entry_mpidr}]",
    "   cmp     x5, x2",
    "   b.eq    4f",
    "   add     x4, x4, #{entry_size}",
    "   sub     w3, w3, #1",
    "   b       2b",
    // Not in this node's boot info, or without the instructions this build
    // uses: nothing safe to do but sleep (the leader reports the core missing).
    "3:",
    "   wfi",
    "   b       3b",
    // LSE atomics (ID_AA64ISAR0_EL1.Atomic >= 2) and LRCPC
    // (ID_AA64ISAR1_EL1.LRCPC >= 1): the boot driver checked PSCI cores on
    // themselves; a spin-table core is checked only here.
    "4:",
    "   mrs     x5, id_aa64isar0_el1",
    "   ubfx    x5, x5, #20, #4",
    "   cmp     x5, #2",
    "   b.lo    3b",
    "   mrs     x5, id_aa64isar1_el1",
    "   ubfx    x5, x5, #20, #4",
    "   cbz     x5, 3b",
    "   ldr     x0, [x4, #{entry_start}]",
    "   ic      iallu",
    "   tlbi    vmalle1",
    "   dsb     nsh",
    "   isb",
    "   ldr     x1, [x0, #{mair}]",
    "   msr     mair_el1, x1",
    "   ldr     x1, [x0, #{tcr}]",
    "   msr     tcr_el1, x1",
    "   ldr     x1, [x0, #{ttbr0}]",
    "   msr     ttbr0_el1, x1",
    "   ldr     x1, [x0, #{ttbr1}]",
    "   msr     ttbr1_el1, x1",
    "   isb",
    // Everything else the record holds, while its physical address still works.
    "   ldr     x2, [x0, #{stack}]",
    "   ldr     x3, [x0, #{index}]",
    "   ldr     x4, [x0, #{this}]",
    "   mrs     x1, sctlr_el1",
    "   orr     x1, x1, #(1 << 0)",  // M: MMU on
    "   orr     x1, x1, #(1 << 2)",  // C: data cache
    "   orr     x1, x1, #(1 << 12)", // I: instruction cache
    "   bic     x1, x1, #(1 << 1)",  // A: no alignment faults
    "   msr     sctlr_el1, x1",
    "   isb",
    "   mov     sp, x2",
    "   msr     tpidr_el1, x3",
    "   mov     x0, x4",
    "   ldr     x1, =cpu_main",
    "   br      x1",
    ".ltorg",
    abi = const ABI_VERSION,
    build = const BUILD_ID,
    count = const offset_of!(NodeBootInfo, cpu_count),
    cpus = const offset_of!(NodeBootInfo, cpus),
    max_cpus = const handoff::MAX_NODE_CPUS,
    entry_mpidr = const offset_of!(CoreEntry, mpidr),
    entry_start = const offset_of!(CoreEntry, start_record_pa),
    entry_size = const size_of::<CoreEntry>(),
    mair = const offset_of!(CoreStart, mair),
    tcr = const offset_of!(CoreStart, tcr),
    ttbr0 = const offset_of!(CoreStart, ttbr0),
    ttbr1 = const offset_of!(CoreStart, ttbr1),
    stack = const offset_of!(CoreStart, stack_top),
    index = const offset_of!(CoreStart, core_index),
    this = const offset_of!(CoreStart, this),
);
