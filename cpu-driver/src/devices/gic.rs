//! The per-core side of the GIC: this core's CPU interface (and GICv3
//! redistributor), doorbell SGIs, and acknowledging wake-up interrupts.
//!
//! The distributor belongs to the boot node; the boot driver set it up on
//! that node's behalf before any other node started. Every node touches
//! only banked, per-core state, with two exceptions: any node sends SGIs
//! (GICv2's write-only `GICD_SGIR`), and the boot node, as the console
//! owner, routes and enables the UART's SPI ([`route_uart_here`]).

use arm_gic::gicv2::{self, GicV2};
use arm_gic::gicv3::{GicCpuInterface, GicRedistributorIterator, SgiTarget, SgiTargetGroup};
use arm_gic::{IntId, InterruptGroup};
use core::cell::UnsafeCell;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU64, Ordering};
use handoff::{NodeBootInfo, MAX_NODE_CPUS};

/// The SGI that means "look at your rings / counters".
pub const DOORBELL_SGI: IntId = IntId::sgi(1);
/// Non-secure EL1 virtual timer PPI.
pub const VTIMER: IntId = IntId::ppi(11);

/// This core's GIC, built once by [`init_core`] and used by this core
/// alone: the GICv2 driver over the node's mappings of the distributor and
/// CPU interface, or GICv3's CPU interface (system registers: nothing to
/// hold).
enum CoreGic {
    Absent,
    V2(GicV2<'static>),
    V3,
}

struct CoreSlot(UnsafeCell<CoreGic>);

// SAFETY: slot `i` is touched only by core `i` (see `with_own`), and the
// kernel never nests on a core (interrupts are masked at EL1), so no two
// references to one slot are ever live at once.
unsafe impl Sync for CoreSlot {}

/// One handle per core. A `static` because the doorbell is rung from every
/// layer and context, faults included, with no context to be handed.
static CORES: [CoreSlot; MAX_NODE_CPUS] = [const { CoreSlot(UnsafeCell::new(CoreGic::Absent)) }; MAX_NODE_CPUS];

/// Runs `f` on this core's GIC handle. `f` must not come back here.
fn with_own<R>(f: impl FnOnce(&mut CoreGic) -> R) -> R {
    let core = crate::arch::cpu::this_core() % MAX_NODE_CPUS;
    // SAFETY: only this core uses its slot (see `CoreSlot`), and every `f`
    // in this module returns without calling `with_own` again.
    f(unsafe { &mut *CORES[core].0.get() })
}

const GICC_CTLR: usize = 0x0;
const GICC_PMR: usize = 0x4;
const GICD_ITARGETSR0: usize = 0x800;

/// Sets up this core's interface so doorbells and the timer can wake it.
/// Returns this core's doorbell target (see [`ring`]).
pub fn init_core(info: &NodeBootInfo) -> Result<u64, &'static str> {
    match info.gic_version {
        2 => {
            if info.gicd_va == 0 || info.gicc_va == 0 {
                return Err("GICv2 registers not mapped");
            }
            let base = info.gicc_va as *mut u32;
            // SAFETY: GICC is mapped device memory; CTLR and PMR are banked
            // per core, so this touches no other core's or node's state.
            unsafe {
                base.byte_add(GICC_PMR).write_volatile(0xff);
                base.byte_add(GICC_CTLR).write_volatile(1);
            }
            let gicd = info.gicd_va as *mut gicv2::registers::Gicd;
            let gicc = info.gicc_va as *mut gicv2::registers::Gicc;
            // SAFETY: the node's device mappings of the GICv2 distributor and
            // CPU interface; this core's handle uses only its banked
            // registers and the write-only GICD_SGIR (and, on the console
            // owner, the UART's routing).
            let mut gic = unsafe { GicV2::new(gicd, gicc) };
            // SGI enables are often fixed on; the PPI enable is banked per core.
            let _ = gic.enable_interrupt(DOORBELL_SGI, true);
            gic.enable_interrupt(VTIMER, true).map_err(|_| "cannot enable the timer PPI")?;
            // SAFETY: GICD_ITARGETSR0 is banked: it reads this core's own
            // CPU-interface bit, which is how GICv2 SGIs are addressed.
            let mask = unsafe { (info.gicd_va as *const u32).byte_add(GICD_ITARGETSR0).read_volatile() } & 0xff;
            if mask == 0 {
                return Err("GICv2 reports no CPU interface number for this core");
            }
            with_own(|own| *own = CoreGic::V2(gic));
            Ok(u64::from(mask))
        }
        3 => {
            let base = NonNull::new(info.gicr_va as *mut _).ok_or("GICv3 redistributors not mapped")?;
            let me = crate::arch::cpu::own_mpidr();
            // SAFETY: the node maps the whole redistributor region (up to the
            // frame with GICR_TYPER.Last); we only configure our own frame.
            let frames =
                unsafe { GicRedistributorIterator::new(base) }.map_err(|_| "bad GICv3 redistributor layout")?;
            let mut found = false;
            for mut frame in frames {
                if frame.typer().core_mpidr() & handoff::MPIDR_AFFINITY != me {
                    continue;
                }
                frame.mark_core_awake().map_err(|_| "redistributor did not wake")?;
                frame.configure_default_settings();
                frame.enable_interrupt(DOORBELL_SGI, true).map_err(|_| "cannot enable the doorbell SGI")?;
                frame.enable_interrupt(VTIMER, true).map_err(|_| "cannot enable the timer PPI")?;
                found = true;
                break;
            }
            if !found {
                return Err("no GICv3 redistributor for this core");
            }
            GicCpuInterface::enable_system_register_el1();
            GicCpuInterface::set_priority_mask(0xff);
            GicCpuInterface::enable_group1(true);
            with_own(|own| *own = CoreGic::V3);
            Ok(me)
        }
        _ => Err("unknown GIC version"),
    }
}

/// Whether this core's interface is set up, so its timer can end a WFI.
pub fn ready() -> bool {
    with_own(|own| !matches!(own, CoreGic::Absent))
}

/// Sends the doorbell SGI to `target` (an MPIDR on GICv3, a CPU-interface
/// mask on GICv2).
pub fn ring(target: u64) {
    with_own(|own| match own {
        CoreGic::V2(gic) => gic.send_sgi(
            DOORBELL_SGI,
            gicv2::SgiTarget::List {
                target_list_filter: gicv2::SgiTargetListFilter::CPUTargetList,
                target_list: (target & 0xff) as u16,
            },
        ),
        CoreGic::V3 => {
            let aff0 = (target & 0xf) as u16;
            let sgi = SgiTarget::List {
                affinity3: (target >> 32) as u8,
                affinity2: (target >> 16) as u8,
                affinity1: (target >> 8) as u8,
                target_list: 1 << aff0,
            };
            let _ = GicCpuInterface::send_sgi(DOORBELL_SGI, sgi, SgiTargetGroup::CurrentGroup1);
        }
        CoreGic::Absent => {}
    })
}

/// The console UART's INTID on this core (0: none), for telling what fired.
static UART_IRQ: AtomicU64 = AtomicU64::new(0);

/// An interrupt this core takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Irq {
    /// The doorbell SGI: another core or node wants this one to look.
    Doorbell,
    /// This core's virtual timer.
    Timer,
    /// The console UART's receive interrupt.
    Uart,
}

/// Acknowledges and ends every pending interrupt, telling `fired` which
/// each was (they only announce; the state they announce is read from
/// memory or the device). The caller acts on them: this layer calls
/// nothing above it.
pub fn drain(mut fired: impl FnMut(Irq)) {
    let uart = UART_IRQ.load(Ordering::Relaxed);
    loop {
        let intid = with_own(|own| match own {
            // Non-secure software reads GICC_IAR, which the crate calls group 0.
            CoreGic::V2(gic) => gic.get_and_acknowledge_interrupt(InterruptGroup::Group0),
            CoreGic::V3 => GicCpuInterface::get_and_acknowledge_interrupt(InterruptGroup::Group1),
            CoreGic::Absent => None,
        });
        let Some(intid) = intid else { return };
        // GICv2 reports an SGI's source CPU in bits 10..13 of the ID (and
        // wants it back in EOIR): compare only the interrupt number.
        let id = u32::from(intid) & 0x3ff;
        if id == u32::from(VTIMER) {
            fired(Irq::Timer);
        } else if id == u32::from(DOORBELL_SGI) {
            fired(Irq::Doorbell);
        } else if uart != 0 && u64::from(id) == uart {
            fired(Irq::Uart);
        }
        // Told after it is acknowledged, ended after it is told: `fired`
        // runs with no handle borrowed.
        with_own(|own| match own {
            CoreGic::V2(gic) => gic.end_interrupt(intid, InterruptGroup::Group0),
            _ => GicCpuInterface::end_interrupt(intid, InterruptGroup::Group1),
        });
    }
}

/// Routes the console UART's shared interrupt to this core and enables it
/// (the boot node owns the distributor; only its first core calls this).
pub fn route_uart_here(info: &NodeBootInfo, bell: u64) -> Result<(), &'static str> {
    let intid = info.uart_irq;
    if !(32..1020).contains(&intid) {
        return Err("console UART has no usable interrupt in the device tree");
    }
    let id = IntId::spi(intid - 32);
    let routed = with_own(|own| match own {
        CoreGic::V2(gic) => {
            let base = info.gicd_va as *mut u8;
            if base.is_null() {
                return Err("GIC distributor not mapped");
            }
            // SAFETY: GICD_ITARGETSR<n> byte for this SPI, in the mapped
            // distributor this node owns; `bell` is this core's interface mask.
            unsafe { base.add(GICD_ITARGETSR0 + intid as usize).write_volatile(bell as u8) };
            gic.set_interrupt_priority(id, 0x80);
            gic.enable_interrupt(id, true).map_err(|_| "cannot enable the UART interrupt")
        }
        CoreGic::V3 => {
            let ptr = NonNull::new(info.gicd_va as *mut _).ok_or("GIC distributor not mapped")?;
            // SAFETY: the boot node's mapping of the distributor it owns; only
            // this core touches it after boot.
            let regs = unsafe { arm_gic::UniqueMmioPointer::new(ptr) };
            let mut d = arm_gic::gicv3::GicDistributor::new(regs);
            d.set_routing(id, Some(bell)).map_err(|_| "cannot route the UART interrupt")?;
            d.set_interrupt_priority(id, 0x80).map_err(|_| "cannot set the UART interrupt priority")?;
            d.enable_interrupt(id, true).map_err(|_| "cannot enable the UART interrupt")
        }
        CoreGic::Absent => Err("this core's GIC is not set up"),
    });
    routed?;
    UART_IRQ.store(u64::from(intid), Ordering::Relaxed);
    Ok(())
}
