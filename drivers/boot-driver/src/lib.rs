//! The boot driver, step 2 to 4 of the boot flow (see `DESIGN.md`):
//!
//! 1. copy the loader's DTB into the boot image (the loader's copy may sit
//!    where a node's RAM will be) and read it into a [`Topology`];
//! 2. make the [`BootPlan`]: one node per cluster, its build, its RAM;
//! 3. set up the GIC distributor on behalf of the boot node, its owner, so
//!    every node's doorbells work from its first instruction;
//! 4. for each other node: copy its CPU-driver build into its RAM, write its
//!    boot info, core start records and page tables ([`load`]), and start its
//!    first core (PSCI `CPU_ON` or spin-table) at once;
//! 5. load the boot node the same way and jump into its CPU driver.
//!
//! It runs with the MMU off, once, on the boot core. Board crates call
//! [`boot`] with what only they know.

#![no_std]

mod console;
mod fault;
mod hw_check;
mod load;
mod probe;

pub use fault::panic;

use boot_plan::{BootPlan, PlanConfig};
use console::Early;
use core::fmt::Write;
use topology::{Hints, Topology};

/// What the board crate knows that the device tree does not.
pub struct Board {
    /// For messages printed before the device tree is read.
    pub early_uart: usize,
    /// The `big` and `little` CPU-driver images embedded in the boot image.
    pub big: &'static [u8],
    pub little: &'static [u8],
    /// Physical range of the running boot image (code, data, BSS).
    pub image: topology::Range,
    pub plan: PlanConfig,
}

/// A PL011's register frame (PrimeCell UART TRM: 4 KiB).
const PL011_BYTES: u64 = 0x1000;

/// Largest device tree the boot driver keeps a copy of.
const DTB_MAX: usize = 2 << 20;

#[repr(C, align(8))]
struct DtbCopy([u8; DTB_MAX]);

/// The boot driver's own copy of the device tree.
static mut DTB: DtbCopy = DtbCopy([0; DTB_MAX]);

fn counter() -> u64 {
    use tock_registers::interfaces::Readable;
    aarch64_cpu::registers::CNTVCT_EL0.get()
}

/// How a failed boot ends: parked, or, with `poweroff` in the bootargs and
/// PSCI in the tree, switched off, so that a scripted boot of a bad tree
/// ends too.
#[derive(Clone, Copy)]
pub(crate) struct OnError {
    /// `poweroff` is in the bootargs.
    asked: bool,
    off: Option<cpu_start::Conduit>,
}

impl OnError {
    const PARK: OnError = OnError { asked: false, off: None };

    fn from(bootargs: &str, psci: Option<topology::PsciConduit>) -> OnError {
        let asked = bootargs.split_ascii_whitespace().any(|w| w == "poweroff");
        OnError { asked, off: psci.filter(|_| asked).map(load::conduit) }
    }
}

/// Reports a fatal boot error and ends the boot.
fn fail(con: &mut Early, on: OnError, what: &str, err: &dyn core::fmt::Display) -> ! {
    let _ = writeln!(con, "boot: error: {what}: {err}");
    end(con, on)
}

/// Ends a failed boot as `on` says.
fn end(con: &mut Early, on: OnError) -> ! {
    if let Some(conduit) = on.off {
        let _ = writeln!(con, "poweroff: the boot failed (bootargs poweroff)");
        con.flush();
        let e = cpu_start::system_off(conduit);
        let _ = writeln!(con, "poweroff: PSCI SYSTEM_OFF failed: {e:?}");
    } else if on.asked {
        let _ = writeln!(con, "poweroff: the boot failed, but the device tree has no /psci to switch off with");
    }
    park()
}

/// Sleeps forever.
pub fn park() -> ! {
    loop {
        aarch64_cpu::asm::wfi();
    }
}

/// Copies the loader's DTB at `dtb_pa` into the boot image.
fn copy_dtb(dtb_pa: usize) -> Result<&'static [u8], topology::Error> {
    if dtb_pa == 0 || !dtb_pa.is_multiple_of(8) {
        return Err(topology::Error::BadAddress { addr: dtb_pa as u64 });
    }
    let head = dtb_pa as *const u32;
    // SAFETY: the boot protocol hands us the DTB's physical address in x0 and
    // the MMU is off, so the first 8 bytes (magic and size) are readable.
    let (magic, size) = unsafe { (u32::from_be(head.read_volatile()), u32::from_be(head.add(1).read_volatile())) };
    if magic != topology::DTB_MAGIC {
        return Err(topology::Error::BadMagic { found: magic });
    }
    let size = size as usize;
    if size > DTB_MAX {
        return Err(topology::Error::TooMany { what: "bytes of device tree for the boot driver's copy", max: DTB_MAX });
    }
    // SAFETY: DTB is only touched here, once, on the boot core before any
    // other core runs; the loader's blob is `size` bytes long per its header.
    unsafe {
        let dst = &raw mut DTB;
        core::ptr::copy_nonoverlapping(dtb_pa as *const u8, dst.cast::<u8>(), size);
        Ok(core::slice::from_raw_parts(dst.cast::<u8>(), size))
    }
}

/// Boots the machine: never returns (the boot core ends in its node).
pub fn boot(dtb_pa: usize, board: &Board) -> ! {
    let boot_counter = counter();
    // SAFETY: the board promises `early_uart` is its PL011, reachable with the MMU off.
    let mut con = Early::new(unsafe { pl011::Pl011::new(board.early_uart) });
    fault::install(board.early_uart);

    let dtb = match copy_dtb(dtb_pa) {
        Ok(d) => d,
        Err(e) => fail(&mut con, OnError::PARK, "no usable device tree", &e),
    };
    let (boot_mpidr, mt) = cpu_start::current_mpidr();
    let mut topology = match Topology::parse(dtb, Hints { mpidr_mt: Some(mt) }) {
        Ok(t) => t,
        Err(e) => {
            let (bootargs, psci) = topology::salvage(dtb);
            fail(&mut con, OnError::from(bootargs, psci), "bad device tree", &e)
        }
    };
    let on_error = OnError::from(topology.bootargs, topology.psci);
    fault::set_on_fault(on_error);
    if let Err(e) = hw_check::cpu_features(boot_mpidr) {
        fail(&mut con, on_error, "cpu", &e);
    }
    // Every other core is checked too, before any enters a build.
    let mut checked = 1;
    if let Some(psci) = topology.psci {
        match probe::check_cores(&topology, boot_mpidr, load::conduit(psci)) {
            Ok(n) => checked += n,
            Err(e) => fail(&mut con, on_error, "cpu", &e),
        }
    }
    let bootargs = topology.bootargs;
    let args = |want: &str| topology.bootargs.split_ascii_whitespace().any(|w| w == want);
    let flags = if args("poweroff") { handoff::bootinfo::FLAG_POWEROFF } else { 0 }
        | if args("ktest=boot") { handoff::bootinfo::FLAG_KTEST_BOOT } else { 0 }
        | if args("ktest=channels") { handoff::bootinfo::FLAG_KTEST_CHANNELS } else { 0 }
        | if args("bench=channels") { handoff::bootinfo::FLAG_BENCH_CHANNELS } else { 0 }
        | if args("trace") { handoff::bootinfo::FLAG_TRACE } else { 0 };
    let show_plan = args("plan");
    // Without a console in the tree the nodes would run silent: keep the
    // board's, which the boot driver has been writing to all along.
    let why = match topology.uart {
        None => Some("none"),
        Some(u) => match u.kind {
            topology::UartKind::Pl011 if u.regs.size < pl011::REGISTER_BYTES => {
                Some("a PL011 whose reg does not reach the registers this kernel uses")
            }
            topology::UartKind::Pl011 => None,
            topology::UartKind::Other(c) => Some(c),
            topology::UartKind::Ns16550 { .. } => Some("a 16550, which this kernel has no driver for yet"),
        },
    };
    if let Some(why) = why {
        let _ = writeln!(
            con,
            "boot: warning: the device tree's console UART is {why:?}: the console stays on the board's PL011 at {:#x}, \
             output only",
            board.early_uart
        );
        let regs = topology::Range { start: board.early_uart as u64, size: PL011_BYTES };
        topology.uart = Some(topology::Uart { kind: topology::UartKind::Pl011, regs, irq: None });
    }
    let console_uart = topology.uart;
    let nodes = topology.clusters.len() as u32;
    if let Err(e) = user_abi::cmdline::check(bootargs, nodes) {
        fail(&mut con, on_error, "bootargs", &e);
    }
    // The plan checks the tree's UART against RAM: until it has, messages
    // go to the board's UART, not to an address that may be RAM.
    let config = PlanConfig { pa_bits: Some(hw_check::pa_bits()), ..board.plan };
    let gic = topology.gic;
    let plan = match BootPlan::new(topology, Some(boot_mpidr), &config) {
        Ok(p) => p,
        Err(e) => fail(&mut con, on_error, "no boot plan", &e),
    };
    // After the plan: it has checked the GIC's address is not RAM and is
    // inside the physical address range.
    if let Some(gic) = gic {
        if let Err(e) = hw_check::gic(gic) {
            fail(&mut con, on_error, "interrupt controller", &e);
        }
    }
    // A tree may name as its PL011 something else (another device, nothing):
    // its PrimeCell ID says, where the tree's reg reaches it.
    let console_uart = match console_uart {
        Some(u) if u.regs.size >= PL011_BYTES && u.regs.start != board.early_uart as u64 => {
            match hw_check::pl011(u.regs.start) {
                Ok(()) => Some(u),
                Err(e) => {
                    let _ = writeln!(
                        con,
                        "boot: warning: {e}: the console stays on the board's PL011 at {:#x}",
                        board.early_uart
                    );
                    None
                }
            }
        }
        other => other,
    };
    if let Some(uart) = console_uart.filter(|u| u.kind == topology::UartKind::Pl011) {
        // SAFETY: the device tree names this PL011 as the console, and the
        // plan found no RAM at its address; MMU off.
        con = Early::new(unsafe { pl011::Pl011::new(uart.regs.start as usize) });
        fault::set_console(uart.regs.start as usize);
    }
    if show_plan {
        let _ = writeln!(con, "{plan}");
        let cpus = plan.topology.cpus.len();
        let _ = writeln!(con, "boot: checked {checked} of {cpus} cpus on themselves: LSE atomics, LRCPC");
    }
    if let Some(n) = plan.nodes.iter().find(|n| n.memory.overlaps(&board.image)) {
        let _ = writeln!(con, "boot: error: node {} RAM overlaps the boot image", n.id);
        end(&mut con, on_error);
    }
    // The plan's console area (a board setting) must hold every node's console.
    let consoles = handoff::console::node_console_offset(plan.nodes.len());
    if plan.channels.base.saturating_sub(plan.shared.start) < consoles {
        let _ = writeln!(con, "boot: error: the plan's console area is smaller than {consoles} bytes");
        end(&mut con, on_error);
    }
    if let Err(e) = load::init_gic_distributor(&plan) {
        fail(&mut con, on_error, "interrupt controller", &e);
    }
    load::init_shared(&plan);
    // Each other node starts as soon as it is loaded, so its bring-up
    // overlaps loading the next; the boot node comes last, then we join it.
    for node in plan.nodes.iter().filter(|n| n.id != plan.boot_node) {
        let started =
            load::load_node(&plan, node, board, boot_counter, flags).and_then(|()| load::start_leader(&plan, node));
        if let Err(e) = started {
            // The boot goes on without it (the summary counts it out).
            let _ = writeln!(con, "boot: warning: node {} not started: {e}", node.id);
            load::mark_failed(&plan, node.id);
        }
    }
    let Some(own) = plan.nodes.get(plan.boot_node) else { park() };
    if let Err(e) = load::load_node(&plan, own, board, boot_counter, flags) {
        fail(&mut con, on_error, "boot node not loaded", &e);
    }
    load::join(own.memory.start)
}
