//! The user half of every address space, and the kernel's limits that a
//! program can see.
//!
//! ```text
//! 0x0000_0000_0000            unmapped (null pointers fault)
//! USER_IMAGE_BASE  (4 MiB)    the program: code (read, execute), then
//!                             read-only data, then data and BSS (read, write)
//! MAP_BASE         (64 GiB)   `map` areas, read/write, never executable
//! STACK_TOP - STACK_SIZE      the stack, read/write, never executable
//! below it, STACK_GUARD       unmapped: a push into it is a stack overflow
//! STACK_TOP        (256 GiB)
//! USER_TOP         (512 GiB)  end of the user half (39-bit TTBR0)
//! ```

/// Where programs are linked.
pub const USER_IMAGE_BASE: u64 = 0x40_0000;
/// First address `map` hands out.
pub const MAP_BASE: u64 = 0x10_0000_0000;
/// End of the `map` area.
pub const MAP_END: u64 = 0x30_0000_0000;
/// Top of the stack (exclusive); the initial `sp`.
pub const STACK_TOP: u64 = 0x40_0000_0000;
/// Bytes of stack every program gets.
pub const STACK_SIZE: u64 = 256 * 1024;
/// Unmapped bytes below the stack that are reported as a stack overflow
/// when touched.
pub const STACK_GUARD: u64 = 1024 * 1024;
/// End of the user half.
pub const USER_TOP: u64 = 1 << 39;
/// A page.
pub const PAGE_SIZE: u64 = 4096;

/// Bytes a program may have mapped with `map` at once.
pub const MAP_QUOTA: u64 = 64 * 1024 * 1024;
/// Bytes of a program name.
pub const NAME_BYTES: usize = 24;
/// Bytes of the argument string given to `spawn` (as long as a kernel
/// command line, which `init` gets).
pub const ARGS_BYTES: usize = 512;
/// Local endpoints per node, numbered from 0.
pub const ENDPOINTS: u64 = 16;
/// Bytes of one endpoint message.
pub const MESSAGE_BYTES: usize = 256;
/// Messages an endpoint queues.
pub const ENDPOINT_DEPTH: usize = 8;
/// Priorities: 0 (lowest) to `PRIORITIES - 1`; programs start at
/// [`DEFAULT_PRIORITY`].
pub const PRIORITIES: u8 = 4;
pub const DEFAULT_PRIORITY: u8 = 1;
