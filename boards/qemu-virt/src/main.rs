//! The QEMU `virt` board: only what the device tree cannot say.
//!
//! - the image format: an arm64 Linux `Image` header, so QEMU's `-kernel`
//!   loads it at RAM base + 2 MiB and passes the DTB address in x0;
//! - the load address (in `link.ld`);
//! - the PL011 to use before the device tree is read.
//!
//! Everything else (cores, clusters, GIC, PSCI conduit, memory, console)
//! comes from the device tree through the boot driver.

#![no_std]
#![no_main]

use boot_driver::Board;

/// PL011 of QEMU `virt`, for errors before the device tree is read.
const EARLY_UART: usize = 0x0900_0000;

#[repr(C, align(8))]
struct Aligned<T: ?Sized>(T);

static BIG: &Aligned<[u8]> = &Aligned(*include_bytes!(env!("MK_CPU_DRIVER_BIG")));
static LITTLE: &Aligned<[u8]> = &Aligned(*include_bytes!(env!("MK_CPU_DRIVER_LITTLE")));

core::arch::global_asm!(
    ".section .text.head, \"ax\"",
    ".global _start",
    "_start:",
    // arm64 Image header (Linux Documentation/arch/arm64/booting.rst).
    "   b       1f",             // code0
    "   .word   0",              // code1
    "   .quad   0",              // text_offset
    "   .quad   __image_size",   // image_size, BSS included
    "   .quad   0xa",            // flags: little endian, 4K pages, anywhere
    "   .quad   0, 0, 0",        // res2-4
    "   .ascii  \"ARM\\x64\"",   // magic
    "   .word   0",              // res5
    "1:",
    "   msr     daifset, #0xf",
    "   mov     x19, x0",        // DTB
    cpu_start::el2_to_el1_asm!(),
    "   adrp    x0, __bss_start",
    "   add     x0, x0, :lo12:__bss_start",
    "   adrp    x1, __bss_end",
    "   add     x1, x1, :lo12:__bss_end",
    "2: cmp     x0, x1",
    "   b.hs    3f",
    "   stp     xzr, xzr, [x0], #16",
    "   b       2b",
    "3:",
    "   adrp    x0, __boot_stack_top",
    "   add     x0, x0, :lo12:__boot_stack_top",
    "   mov     sp, x0",
    "   mov     x0, x19",
    "   bl      {main}",
    "4: wfi",
    "   b       4b",
    main = sym board_main,
);

extern "C" {
    static __image_start: u8;
    static __image_end: u8;
}

extern "C" fn board_main(dtb: usize) -> ! {
    let (start, end) = (&raw const __image_start as u64, &raw const __image_end as u64);
    let board = Board {
        early_uart: EARLY_UART,
        big: &BIG.0,
        little: &LITTLE.0,
        image: topology::Range { start, size: end - start },
        plan: boot_plan::PlanConfig::default(),
    };
    boot_driver::boot(dtb, &board)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    boot_driver::panic(info)
}
