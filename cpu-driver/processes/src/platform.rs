//! What the process code needs from the machine, and the facts of the node
//! it is given.

use crate::Slot;
use address_space::Memory;
use user_abi::{ExitStatus, NAME_BYTES};

/// The node, as the process code needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeFacts {
    pub id: u32,
    pub count: u32,
    /// The node that owns the console.
    pub console_node: u32,
    /// This node reads the console's input (it owns the UART).
    pub console_input: bool,
    /// Its cores' capacity (the device tree's, normalised to 1024).
    pub capacity: u32,
}

impl NodeFacts {
    /// Whether `pid` is one of the machine's inits (node n's is pid n + 1).
    pub fn is_init(&self, pid: u32) -> bool {
        pid >= 1 && pid <= self.count
    }
}

/// What the node's monitor counted, for `sysinfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MessageCounts {
    pub dropped: u32,
    pub rejected: u64,
    pub unexpected: u64,
    pub corrupt_slots: u64,
}

/// Console input is lost at this point (typeahead overflowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputLost;

/// The hardware below the process code: the CPU driver on a board, a fake
/// in the host tests.
pub trait Platform {
    /// How the node's RAM is reached (programs' pages and tables).
    type Memory: Memory;
    fn memory(&self) -> &Self::Memory;

    /// The generic counter, and its conversions.
    fn now(&self) -> u64;
    fn frequency(&self) -> u64;
    fn ticks_ns(&self, ns: u64) -> u64;
    fn nanos(&self, ticks: u64) -> u64;

    /// The index, in the node, of the core that is calling.
    fn this_core(&self) -> usize;
    /// Rings a core's doorbell (its bell as `Kernel::bells` holds it).
    fn ring(&self, bell: u64);
    /// Drops every user translation, of every ASID, from every core's TLB
    /// (before stale ASIDs are handed out again: see [`crate::asid`]).
    fn flush_all_asids(&self);
    /// Drops the TLB entries of one page of `asid` (it was unmapped).
    fn flush_page(&self, asid: u16, va: u64);
    /// Unloads the user half `ttbr0` from the calling core if it is loaded.
    fn unload_root(&self, ttbr0: u64);
    /// Whether any core of the node still has `ttbr0` loaded.
    fn root_loaded(&self, ttbr0: u64) -> bool;

    /// The ELF file of program `name` of the boot image.
    fn program(&self, name: &str) -> Option<&[u8]>;
    /// The kernel command line: every init's argument string (longer than
    /// a spawned program's may be).
    fn command_line(&self) -> &[u8] {
        &[]
    }
    /// Sets slot `s`'s registers to start a program at `entry` with stack
    /// pointer `sp`. Called only for a slot no core runs.
    fn start(&self, s: Slot, entry: u64, sp: u64);
    /// Copies slot `s`'s registers out, or in, as [`crate::REGISTER_BYTES`]
    /// bytes (x0..x30, sp, elr, spsr, fpcr, fpsr, then q0..q31, each
    /// little-endian): how a program moves between nodes. Called only for
    /// a slot no core runs.
    fn save_registers(&self, s: Slot, out: &mut [u8; crate::REGISTER_BYTES]);
    fn load_registers(&self, s: Slot, regs: &[u8; crate::REGISTER_BYTES]);
    /// Pages of the transfer area beside the channel to `peer` (the one back
    /// has as many); 0: none, and a move's pages go as chunks.
    fn transfer_pages(&self, _peer: u32) -> usize {
        0
    }
    /// Lets `fill` write page `index` of the transfer area this node sends
    /// to `peer` through (`index` below [`Platform::transfer_pages`]) in
    /// place: a page of a program goes from its frame to the area in one
    /// copy.
    fn transfer_put(&self, _peer: u32, _index: usize, _fill: &mut dyn FnMut(&mut [u8; address_space::PAGE as usize])) {}
    /// Copies page `index` of the transfer area `peer` sends to this node
    /// through into `out`.
    fn transfer_get(&self, _peer: u32, _index: usize, _out: &mut [u8; address_space::PAGE as usize]) {}
    /// Sets the result register (`x0`) of slot `s`: a blocked program's
    /// call ends, or the caller's own, on its core.
    fn set_result(&self, s: Slot, x0: u64);

    /// A kernel report on the console (a user fault).
    fn report(&self, line: core::fmt::Arguments<'_>);
    /// Records a trace event (bootarg `trace`; nothing otherwise).
    fn trace(&self, event: trace_ring::Event);
    /// This node's `init` ended.
    fn init_ended(&self, status: ExitStatus);

    /// Console input (the console node): whether a reader would get
    /// something, the bytes (or the loss), Ctrl-Cs taken out, and the
    /// count of bytes refused.
    fn input_ready(&self) -> bool;
    fn read_input(&self, out: &mut [u8]) -> Result<usize, InputLost>;
    fn take_interrupts(&self) -> bool;
    fn input_dropped(&self) -> u64;
    /// Console lines this node gave up on.
    fn console_dropped(&self) -> u64;

    /// A program asks to switch the machine off, or for every node's trace.
    fn request_power_off(&self, pid: u32, name: &[u8; NAME_BYTES]) -> Result<(), user_abi::Error>;
    fn request_trace(&self) -> Result<(), user_abi::Error>;
}
