//! The plan's check of every address the system will touch against the
//! device tree: RAM against every enabled device, and each spin-table
//! release address against the memory the plan hands out. A clash is a
//! [`PlanError::Overlap`] naming both parties, so `plan` and the boot say
//! the same thing about the same tree.

use crate::{NodePlan, PlanError, Range};
use core::fmt;
use topology::{Device, EnableMethod, Topology};

/// Longest device name an error keeps (longer ones are cut).
const NAME_BYTES: usize = 48;

/// A device's node name, kept in the error (which outlives no tree).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DeviceName {
    bytes: [u8; NAME_BYTES],
    len: u8,
}

impl DeviceName {
    fn of(d: &Device<'_>) -> Self {
        let mut n = DeviceName { bytes: [0; NAME_BYTES], len: 0 };
        let _ = fmt::write(&mut n, format_args!("{d}"));
        n
    }

    pub fn as_str(&self) -> &str {
        // Only whole characters are ever copied in (see `write_str`).
        core::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("?")
    }
}

impl fmt::Write for DeviceName {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            let mut buf = [0; 4];
            let c = c.encode_utf8(&mut buf).as_bytes();
            let at = usize::from(self.len);
            let Some(room) = self.bytes.get_mut(at..at + c.len()) else { return Ok(()) };
            room.copy_from_slice(c);
            self.len += c.len() as u8;
        }
        Ok(())
    }
}

impl fmt::Debug for DeviceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

/// Something that owns, or will write, a range of physical addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// A `/memory` range.
    Memory(Range),
    /// The bottom of RAM kept for the loader and the boot driver.
    Loader(Range),
    /// The channel region shared by the nodes.
    Shared(Range),
    /// A node's private RAM.
    NodeRam { node: usize, range: Range },
    /// The 8 bytes a core's spin-table release writes.
    Release { mpidr: u64, addr: u64 },
}

/// `start+size`, in hex.
struct Span(Range);

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}+{:#x}", self.0.start, self.0.size)
    }
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Party::Memory(r) => write!(f, "memory {}", Span(r)),
            Party::Loader(r) => write!(f, "the loader's region {}", Span(r)),
            Party::Shared(r) => write!(f, "the channel region {}", Span(r)),
            Party::NodeRam { node, range } => write!(f, "node {node}'s RAM {}", Span(range)),
            Party::Release { mpidr, addr } => write!(f, "cpu {mpidr:#x}'s spin-table release address {addr:#x}"),
        }
    }
}

/// What goes wrong when the two meet, for the end of the error line.
pub(crate) fn consequence(what: &Party) -> &'static str {
    match what {
        Party::Release { .. } => "releasing the core would write there",
        _ => "the plan would hand out the same addresses twice",
    }
}

/// The end of a [`PlanError::DeviceInRam`] line.
pub(crate) fn device_in_ram(f: &mut fmt::Formatter<'_>, memory: Range, device: &DeviceName, reg: Range) -> fmt::Result {
    write!(
        f,
        "memory {} overlaps device {} at {}: RAM and a device cannot share addresses",
        Span(memory),
        device.as_str(),
        Span(reg)
    )
}

/// RAM must not overlap any enabled device's registers.
pub(crate) fn memory_clear_of_devices(t: &Topology<'_>) -> Result<(), PlanError> {
    let mut clash = None;
    t.each_device(&mut |d| {
        if let Some(m) = t.memory.iter().find(|m| m.overlaps(&d.reg)).filter(|_| clash.is_none()) {
            clash = Some(PlanError::DeviceInRam { memory: *m, device: DeviceName::of(&d), reg: d.reg });
        }
    })
    .map_err(PlanError::Tree)?;
    clash.map_or(Ok(()), Err)
}

/// No core other than the boot core (which is never released) may have
/// its release address in memory the plan gives to a node, the channels
/// or the loader, unless a reservation keeps it out of the plan (the
/// Raspberry Pi's firmware stubs at 0xd8 are under `/memreserve/ 0 0x1000`).
pub(crate) fn releases_clear(
    t: &Topology<'_>,
    boot_mpidr: u64,
    loader: Range,
    shared: Range,
    nodes: &[NodePlan],
) -> Result<(), PlanError> {
    for c in t.cpus.iter().filter(|c| c.mpidr != boot_mpidr) {
        let EnableMethod::SpinTable { release_addr } = c.enable_method else { continue };
        let at = Range { start: release_addr, size: 8 };
        if t.reserved.iter().any(|r| r.contains(&at)) {
            continue;
        }
        let owner = nodes
            .iter()
            .find(|n| n.memory.overlaps(&at))
            .map(|n| Party::NodeRam { node: n.id, range: n.memory })
            .or_else(|| shared.overlaps(&at).then_some(Party::Shared(shared)))
            .or_else(|| loader.overlaps(&at).then_some(Party::Loader(loader)));
        if let Some(other) = owner {
            return Err(PlanError::Overlap { what: Party::Release { mpidr: c.mpidr, addr: release_addr }, other });
        }
    }
    Ok(())
}

/// Every address the kernel will use lies below the boot core's physical
/// address limit (`ID_AA64MMFR0_EL1.PARange`): past it, the first access
/// faults (with the MMU off, an address size fault).
pub(crate) fn within_physical(t: &Topology<'_>, bits: u8) -> Result<(), PlanError> {
    let limit = 1u64.checked_shl(u32::from(bits)).unwrap_or(u64::MAX);
    let beyond = |what: &'static str, range: Range| {
        (range.end() > limit || range.end() < range.start).then_some(PlanError::BeyondPhysical { what, range, bits })
    };
    let gic = t.gic.into_iter().flat_map(|g| match g {
        topology::Gic::V2 { distributor, cpu_interface } => {
            [("the GIC distributor", distributor), ("the GIC CPU interface", cpu_interface)]
        }
        topology::Gic::V3 { distributor, redistributors } => {
            [("the GIC distributor", distributor), ("the GIC redistributors", redistributors)]
        }
    });
    let releases = t.cpus.iter().filter_map(|c| match c.enable_method {
        EnableMethod::SpinTable { release_addr } => {
            Some(("a spin-table release address", Range { start: release_addr, size: 8 }))
        }
        _ => None,
    });
    let memory = t.memory.iter().map(|&m| ("memory", m));
    let uart = t.uart.iter().map(|u| ("the console UART", u.regs));
    memory.chain(gic).chain(uart).chain(releases).find_map(|(what, r)| beyond(what, r)).map_or(Ok(()), Err)
}

/// The GIC's register frames as the architecture sizes them (GIC
/// architecture specification; GIC-400 TRM for the v2 CPU interface's two
/// pages): a smaller `reg` would leave registers the kernel uses unmapped.
/// Each core needs its own 128 KiB GICv3 redistributor frame (RD_base and
/// SGI_base), so the region must hold one per core of the tree.
pub(crate) fn gic_frames(t: &Topology<'_>) -> Result<(), PlanError> {
    let cpus = t.cpus.len() as u64;
    let frames: [(&'static str, Range, u64); 2] = match t.gic {
        None => return Ok(()),
        Some(topology::Gic::V2 { distributor, cpu_interface }) => {
            [("the GICv2 distributor", distributor, 0x1000), ("the GICv2 CPU interface", cpu_interface, 0x2000)]
        }
        Some(topology::Gic::V3 { distributor, redistributors }) => [
            ("the GICv3 distributor", distributor, 0x1_0000),
            ("the GICv3 redistributor region", redistributors, 0x2_0000 * cpus.max(1)),
        ],
    };
    match frames.into_iter().find(|&(_, reg, need)| reg.size < need) {
        Some((what, reg, need)) => Err(PlanError::DeviceTooSmall { what, reg, need }),
        None => Ok(()),
    }
}

/// The devices the kernel itself drives (the GIC's frames, the console
/// UART) share no address with another enabled device's `reg`: a GIC
/// redistributor region laid over the UART would be walked as if it were
/// redistributors.
pub(crate) fn kernel_devices_apart(t: &Topology<'_>) -> Result<(), PlanError> {
    let mut driven: [Option<(&'static str, Range)>; 3] = [None; 3];
    match t.gic {
        Some(topology::Gic::V2 { distributor, cpu_interface }) => {
            driven[0] = Some(("the GIC distributor", distributor));
            driven[1] = Some(("the GIC CPU interface", cpu_interface));
        }
        Some(topology::Gic::V3 { distributor, redistributors }) => {
            driven[0] = Some(("the GIC distributor", distributor));
            driven[1] = Some(("the GIC redistributor region", redistributors));
        }
        None => {}
    }
    driven[2] = t.uart.map(|u| ("the console UART", u.regs));
    let mut clash = None;
    t.each_device(&mut |d| {
        // Its own entry (the same range) is not a clash.
        let hit = driven.iter().flatten().find(|(_, r)| *r != d.reg && r.overlaps(&d.reg));
        if let Some(&(what, reg)) = hit.filter(|_| clash.is_none()) {
            clash = Some(PlanError::DevicesOverlap { what, reg, device: DeviceName::of(&d), other: d.reg });
        }
    })
    .map_err(PlanError::Tree)?;
    clash.map_or(Ok(()), Err)
}
