//! The node's processes as the CPU driver holds them: the `processes`
//! crate's [`processes::Kernel`] behind the node's lock, over this CPU driver as its
//! [`Platform`], and the programs' registers beside it.

use crate::arch::trap::UserFrame;
use crate::devices::wait::NodeLock;
use address_space::Memory;
use core::cell::UnsafeCell;
use handoff::MAX_NODES;
use processes::{InputLost, NodeFacts, Platform, Slot, MAX_PROCS};
use user_abi::{ExitStatus, NAME_BYTES};

pub use processes::{handle as handle_syscall, CallArgs, Next, Outcome, WRITE_MAX};

/// The node's process state, behind the node's lock (nodes share nothing,
/// so no other node's core ever takes it).
pub static KERNEL: NodeLock<processes::Kernel<Hw>> = NodeLock::new(processes::Kernel::new(Hw {
    ram: NodeRam { pa: 0, va: 0 },
    areas: TransferAreas { to: [0; MAX_NODES], from: [0; MAX_NODES], pages: 0 },
    command_line: "",
}));

/// A program's registers, owned by the core that runs it, or by the lock
/// holder while it does not run.
pub struct SlotState {
    pub frame: UserFrame,
}

struct SlotCell(UnsafeCell<SlotState>);

// SAFETY: a slot is touched only by the core running its process (state
// Running, set and cleared under the node lock) or, otherwise, by the
// holder of the node lock: never by two cores at once.
unsafe impl Sync for SlotCell {}

/// Kept apart from [`KERNEL`]: the core that runs a program uses its
/// registers without the lock.
static SLOTS: [SlotCell; MAX_PROCS] =
    [const { SlotCell(UnsafeCell::new(SlotState { frame: UserFrame::ZERO })) }; MAX_PROCS];

/// The registers of slot `s`.
///
/// # Safety
/// The caller must own the slot (see [`SlotCell`]) for as long as it uses
/// the reference, and hold no other reference to it.
#[allow(clippy::mut_from_ref)]
pub unsafe fn slot_state(s: Slot) -> &'static mut SlotState {
    // SAFETY: by the caller's contract, this is the only reference.
    unsafe { &mut *SLOTS[s].0.get() }
}

/// The node's RAM, reached through the kernel's linear map of it.
#[derive(Clone, Copy)]
pub struct NodeRam {
    pub pa: u64,
    pub va: u64,
}

impl Memory for NodeRam {
    fn frame(&self, pa: u64) -> *mut u8 {
        (self.va + (pa - self.pa)) as *mut u8
    }
    fn zero_frame(&self, pa: u64) {
        // SAFETY: `Frames` hands out this whole frame of node RAM (Normal,
        // cacheable, page-aligned in the linear map) and nothing uses it.
        unsafe { crate::arch::cpu::zero_page(self.frame(pa)) };
    }
    fn frame_is_zero(&self, pa: u64) -> bool {
        // SAFETY: a whole frame of node RAM, page-aligned in the linear
        // map; the caller keeps its owner from writing it meanwhile.
        unsafe { crate::arch::cpu::page_is_zero(self.frame(pa)) }
    }
    fn copy_frame_out(&self, pa: u64, out: &mut [u8; address_space::PAGE as usize]) {
        copy_page(out, self.frame(pa));
    }
}

/// Copies the 4 KiB at `src` (a frame or a transfer-area page, both
/// page-aligned, that nothing writes meanwhile) into `out`, 64 bytes at a
/// time when `out` is 16-byte aligned (a frame or an area page is).
fn copy_page(out: &mut [u8; address_space::PAGE as usize], src: *const u8) {
    if (out.as_ptr() as usize).is_multiple_of(16) {
        // SAFETY: both 16-byte aligned, 4 KiB, apart (`out` is the
        // caller's own page); nothing writes `src` meanwhile.
        unsafe { crate::arch::cpu::copy_page(out.as_mut_ptr(), src) };
    } else {
        // SAFETY: as above, without the alignment.
        unsafe { core::ptr::copy_nonoverlapping(src, out.as_mut_ptr(), out.len()) };
    }
}

/// The CPU driver as the process code's platform.
pub struct Hw {
    ram: NodeRam,
    areas: TransferAreas,
    /// The kernel command line (the boot info's), init's argument string.
    command_line: &'static str,
}

/// The transfer areas after the rings of this node's channels (the boot
/// plan's `ChannelMap`), as mapped here.
#[derive(Clone, Copy)]
struct TransferAreas {
    /// The area this node fills for node `i` (0: no channel).
    to: [u64; MAX_NODES],
    /// The area node `i` fills for this node (0: no channel).
    from: [u64; MAX_NODES],
    /// Pages of each.
    pages: usize,
}

impl TransferAreas {
    fn new(info: &handoff::NodeBootInfo) -> TransferAreas {
        let after_ring = |va: u64| if va == 0 || info.transfer_pages == 0 { 0 } else { va + info.channel_bytes };
        TransferAreas {
            to: info.tx_va.map(after_ring),
            from: info.rx_va.map(after_ring),
            pages: info.transfer_pages as usize,
        }
    }

    /// Page `index` of area `areas[peer]`, if there is one.
    fn page(&self, areas: &[u64; MAX_NODES], peer: u32, index: usize) -> Option<*mut u8> {
        let base = *areas.get(peer as usize)?;
        (base != 0 && index < self.pages).then(|| (base + index as u64 * address_space::PAGE) as *mut u8)
    }
}

/// Gives the node's kernel its free RAM (less the trace rings' share, with
/// `trace`) and its cores.
pub fn init(info: &'static handoff::NodeBootInfo) {
    let pa = info.memory.start + (info.free_va - handoff::KERNEL_VA);
    let cores = info.cpu_count as usize;
    let traced = info.flags & handoff::bootinfo::FLAG_TRACE != 0;
    let trace_bytes = if traced { crate::kernel::trace::area_bytes(cores) } else { 0 };
    let trace_bytes = trace_bytes.next_multiple_of(address_space::PAGE).min(info.free_size);
    let programs = info.free_size - trace_bytes;
    if trace_bytes != 0 {
        crate::kernel::trace::init(info.free_va + programs, cores);
    }
    let node = NodeFacts {
        id: info.node_id,
        count: info.node_count,
        console_node: info.boot_node,
        console_input: info.is_boot_node() && info.uart_va != 0,
        capacity: info.capacity,
    };
    let mut k = KERNEL.lock();
    let hw =
        Hw { ram: NodeRam { pa, va: info.free_va }, areas: TransferAreas::new(info), command_line: info.bootargs() };
    k.init(hw, node, pa, programs, cores);
    k.policy = policy(info);
}

/// The placement policy bootarg `sched=NAME` names (`capacity` if none;
/// an unknown name is reported and the default used).
fn policy(info: &handoff::NodeBootInfo) -> placement::Chosen {
    let asked = info.bootargs().split_whitespace().find_map(|w| w.strip_prefix("sched="));
    match asked.map(|name| (name, placement::by_name(name))) {
        None => placement::Chosen::default(),
        Some((_, Some(p))) => p,
        Some((name, None)) => {
            if info.is_boot_node() {
                crate::println!("sched: no policy {name:?} (there are {:?}); using capacity", placement::NAMES);
            }
            placement::Chosen::default()
        }
    }
}

impl Platform for Hw {
    type Memory = NodeRam;
    fn memory(&self) -> &NodeRam {
        &self.ram
    }
    fn now(&self) -> u64 {
        crate::devices::time::now()
    }
    fn frequency(&self) -> u64 {
        crate::devices::time::frequency()
    }
    fn ticks_ns(&self, ns: u64) -> u64 {
        crate::devices::time::ticks_ns(ns)
    }
    fn nanos(&self, ticks: u64) -> u64 {
        crate::devices::time::nanos(ticks)
    }
    fn this_core(&self) -> usize {
        crate::arch::cpu::this_core()
    }
    fn ring(&self, bell: u64) {
        crate::devices::gic::ring(bell);
    }
    fn flush_all_asids(&self) {
        crate::arch::cpu::flush_user_tlb();
    }
    fn transfer_pages(&self, peer: u32) -> usize {
        let both = self.areas.page(&self.areas.to, peer, 0).and(self.areas.page(&self.areas.from, peer, 0));
        if both.is_some() {
            self.areas.pages
        } else {
            0
        }
    }
    fn transfer_put(&self, peer: u32, index: usize, fill: &mut dyn FnMut(&mut [u8; address_space::PAGE as usize])) {
        let Some(at) = self.areas.page(&self.areas.to, peer, index) else { return };
        // SAFETY: the boot driver mapped this channel's transfer area into
        // this node and `peer` only, page-aligned; this node alone fills it,
        // and the move protocol fills a page only after `peer` said it
        // copied it out (`MigrateCredit`), so no one reads it meanwhile and
        // this is its only reference.
        fill(unsafe { &mut *at.cast::<[u8; address_space::PAGE as usize]>() });
    }
    fn transfer_get(&self, peer: u32, index: usize, out: &mut [u8; address_space::PAGE as usize]) {
        let Some(at) = self.areas.page(&self.areas.from, peer, index) else { return };
        // SAFETY: mapped into `peer` and this node only; `peer` filled this
        // page before it sent the part that names it (the channel's
        // release/acquire orders the two) and fills it again only after
        // this node's credit, which goes after this copy.
        copy_page(out, at.cast_const());
    }
    fn flush_page(&self, asid: u16, va: u64) {
        crate::arch::cpu::flush_page(asid, va);
    }
    fn unload_root(&self, ttbr0: u64) {
        crate::kernel::roots::unload(ttbr0);
    }
    fn root_loaded(&self, ttbr0: u64) -> bool {
        crate::kernel::roots::loaded_anywhere(ttbr0)
    }
    fn program(&self, name: &str) -> Option<&[u8]> {
        crate::kernel::programs::find(name)
    }
    fn command_line(&self) -> &[u8] {
        self.command_line.as_bytes()
    }
    fn start(&self, s: Slot, entry: u64, sp: u64) {
        // SAFETY: the process code starts only a slot no core runs, under
        // the node lock.
        unsafe { slot_state(s) }.frame = UserFrame::start(entry, sp);
    }
    fn save_registers(&self, s: Slot, out: &mut [u8; processes::REGISTER_BYTES]) {
        // SAFETY: the process code saves only a slot no core runs (parked).
        write_frame(&unsafe { slot_state(s) }.frame, out);
    }
    fn load_registers(&self, s: Slot, regs: &[u8; processes::REGISTER_BYTES]) {
        // SAFETY: the process code loads only a slot no core runs (parked).
        unsafe { slot_state(s) }.frame = read_frame(regs);
    }
    fn set_result(&self, s: Slot, x0: u64) {
        // SAFETY: the process code sets the result of a blocked program
        // (no core runs it; it holds the lock) or of the caller on its own
        // core, which owns the slot.
        unsafe { slot_state(s) }.frame.x[0] = x0;
    }
    fn report(&self, line: core::fmt::Arguments<'_>) {
        crate::kernel::console::print_line(line);
    }
    fn trace(&self, event: trace_ring::Event) {
        crate::kernel::trace::record(event);
    }
    fn init_ended(&self, status: ExitStatus) {
        crate::kernel::requests::INIT_STATUS.set(status);
    }
    fn input_ready(&self) -> bool {
        crate::devices::input::ready()
    }
    fn read_input(&self, out: &mut [u8]) -> Result<usize, InputLost> {
        crate::devices::input::read(out).map_err(|_| InputLost)
    }
    fn take_interrupts(&self) -> bool {
        crate::devices::input::take_interrupts()
    }
    fn input_dropped(&self) -> u64 {
        crate::devices::input::dropped()
    }
    fn console_dropped(&self) -> u64 {
        crate::kernel::console::dropped()
    }
    fn request_power_off(&self, pid: u32, name: &[u8; NAME_BYTES]) -> Result<(), user_abi::Error> {
        crate::kernel::requests::request_power_off(pid, *name)
    }
    fn request_trace(&self) -> Result<(), user_abi::Error> {
        crate::kernel::ctx::get()
            .ok_or(user_abi::Error::NotSupported)
            .and_then(|n| crate::kernel::requests::request_trace(&n))
    }
}

/// A program's registers as bytes, in field order, little-endian: how they
/// travel to another node.
fn write_frame(f: &UserFrame, out: &mut [u8; processes::REGISTER_BYTES]) {
    let specials = [f.sp, f.elr, f.spsr, f.fpcr, f.fpsr];
    let (head, tail) = out.split_at_mut(36 * 8);
    for (chunk, w) in head.chunks_exact_mut(8).zip(f.x.iter().chain(specials.iter())) {
        chunk.copy_from_slice(&w.to_le_bytes());
    }
    for (chunk, q) in tail.chunks_exact_mut(16).zip(f.q.iter()) {
        chunk.copy_from_slice(&q.to_le_bytes());
    }
}

/// SPSR bits a program's own state may hold: the NZCV flags (M[3:0] = 0
/// is EL0t, and DAIF clear leaves interrupts unmasked).
const SPSR_EL0_MASK: u64 = 0xf000_0000;

/// The registers [`write_frame`] wrote. The SPSR keeps only what EL0 may
/// hold, so bytes from another node can never return into the kernel's
/// exception level or mask its interrupts.
fn read_frame(b: &[u8; processes::REGISTER_BYTES]) -> UserFrame {
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i * 8..i * 8 + 8]);
        u64::from_le_bytes(w)
    };
    let mut f = UserFrame::ZERO;
    for (i, x) in f.x.iter_mut().enumerate() {
        *x = word(i);
    }
    (f.sp, f.elr, f.fpcr, f.fpsr) = (word(31), word(32), word(34), word(35));
    f.spsr = word(33) & SPSR_EL0_MASK;
    for (i, q) in f.q.iter_mut().enumerate() {
        let mut v = [0u8; 16];
        v.copy_from_slice(&b[36 * 8 + i * 16..36 * 8 + i * 16 + 16]);
        *q = u128::from_le_bytes(v);
    }
    f
}

const _: () = assert!(core::mem::size_of::<UserFrame>() == processes::REGISTER_BYTES);

/// Starts this node's `init` with the command line as its arguments.
pub fn start_init(node: &crate::kernel::ctx::Node) {
    // Class `light`: init mostly waits (for a reply, a child), and when it
    // wakes it is to start or reap a program, which should not wait for a
    // busy core's slice to end. Spawning does spend it bursts of kernel
    // time, which would make an `auto` init count as heavy.
    let options = user_abi::SpawnOptions { class: user_abi::Class::Light, ..Default::default() };
    // Its argument string is the whole command line (`Platform::command_line`).
    let spawned = KERNEL.lock().spawn("init", &[], 0, options);
    if let Err(e) = spawned {
        crate::println!(
            "node {}: cannot start init: {e} ({} programs in the image)",
            node.info.node_id,
            crate::kernel::programs::count()
        );
        // Nothing will run: the node has finished.
        crate::kernel::requests::INIT_STATUS.set(user_abi::ExitStatus::Exited(127));
    }
}
