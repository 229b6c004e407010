//! Memory, reservations, PSCI, GIC, console UART and bootargs.
//!
//! Devices are found by a depth-first walk that keeps each bus's `ranges`,
//! so a `reg` under a translated bus (Raspberry Pi 4's `/soc` maps
//! `0x7e00_0000` to `0xfe00_0000`) comes out as a CPU physical address.

use crate::dt::{self, Cells, Node};
use crate::{push, Error, Gic, PsciConduit, Range, Topology, Uart, UartKind};
use fdt::parsing::{unaligned::UnalignedParser, NoPanic};
use heapless::{String, Vec};

type Root<'a> = fdt::nodes::root::Root<'a, (UnalignedParser<'a>, NoPanic)>;

/// Deeper trees are rejected instead of risking the stack on hostile input.
const MAX_DEPTH: usize = 16;
const MAX_PATH: usize = 192;
const MAX_UARTS: usize = 16;

const GIC_V2: &[&str] =
    &["arm,gic-400", "arm,cortex-a15-gic", "arm,cortex-a9-gic", "arm,cortex-a7-gic", "arm,arm11mp-gic"];
const GIC_V3: &[&str] = &["arm,gic-v3"];
const PL011: &[&str] = &["arm,pl011"];
const NS16550: &[&str] = &["snps,dw-apb-uart", "ns16550a", "ns16550"];
const OTHER_UART: &[&str] = &["brcm,bcm2835-aux-uart"];

/// How a bus maps its children's addresses to its parent's.
#[derive(Clone, Copy)]
enum Ranges<'a> {
    Identity,
    Untranslatable,
    Map { entries: &'a [u8], parent_address_cells: u32 },
}

#[derive(Clone, Copy)]
struct Bus<'a> {
    cells: Cells,
    ranges: Ranges<'a>,
}

struct Candidate<'a> {
    path: String<MAX_PATH>,
    uart: Uart<'a>,
}

struct Walk<'t, 'a> {
    topo: &'t mut Topology<'a>,
    uarts: Vec<Candidate<'a>, MAX_UARTS>,
    path: String<MAX_PATH>,
}

/// Fills the device fields of `topo`.
pub fn read<'a>(root: &Root<'a>, topo: &mut Topology<'a>) -> Result<(), Error> {
    let root_node = root.find_node("/")?.ok_or(Error::MissingNode { path: "/" })?;
    let root_bus = Bus { cells: Cells::of(&root_node, "/")?, ranges: Ranges::Identity };
    let mut walk = Walk { topo, uarts: Vec::new(), path: String::new() };
    let mut buses = [root_bus; MAX_DEPTH];
    walk.children(&root_node, &mut buses, 1)?;

    let chosen = root.find_node("/chosen")?;
    let mut stdout = None;
    if let Some(chosen) = chosen {
        walk.topo.bootargs = dt::prop_str(&chosen, "bootargs", "/chosen")?.unwrap_or("");
        stdout = dt::prop_str(&chosen, "stdout-path", "/chosen")?;
    }
    let stdout = match stdout.map(|s| s.split(':').next().unwrap_or(s)) {
        Some(alias) if !alias.starts_with('/') => match root.find_node("/aliases")? {
            Some(aliases) => dt::prop(&aliases, alias)?.and_then(dt::first_string),
            None => None,
        },
        other => other,
    };
    walk.topo.uart = pick_console(&walk.uarts, stdout);

    if let Some(rm) = root.find_node("/reserved-memory")? {
        let cells = Cells::of(&rm, "/reserved-memory")?;
        for child in rm.children()?.iter() {
            let child = child?;
            if let Some(reg) = dt::prop(&child, "reg")? {
                for r in RegIter::new(reg, cells) {
                    let r = r.ok_or(Error::BadProperty { node: "/reserved-memory", property: "reg" })?;
                    push(&mut walk.topo.reserved, r, "reserved memory ranges")?;
                }
            }
        }
    }
    Ok(())
}

/// The UART `stdout-path` names, else the first PL011, else the first 16550.
fn pick_console<'a>(uarts: &[Candidate<'a>], stdout: Option<&str>) -> Option<Uart<'a>> {
    if let Some(path) = stdout {
        if let Some(c) = uarts.iter().find(|c| c.path.as_str() == path) {
            return Some(c.uart);
        }
    }
    let first = |want: fn(&UartKind<'_>) -> bool| uarts.iter().find(|c| want(&c.uart.kind)).map(|c| c.uart);
    first(|k| matches!(k, UartKind::Pl011)).or_else(|| first(|k| matches!(k, UartKind::Ns16550 { .. })))
}

impl<'a> Walk<'_, 'a> {
    fn children(&mut self, node: &Node<'a>, buses: &mut [Bus<'a>; MAX_DEPTH], depth: usize) -> Result<(), Error> {
        if depth >= MAX_DEPTH {
            return Err(Error::Malformed { detail: "nodes nested too deep" });
        }
        for child in node.children()?.iter() {
            let child = child?;
            let name = child.name()?;
            let saved = self.path.len();
            // Over-long paths are truncated; they only serve to match stdout-path.
            let _ = self.path.push('/');
            let _ = self.path.push_str(name.name);
            if let Some(unit) = name.unit_address {
                let _ = self.path.push('@');
                let _ = self.path.push_str(unit);
            }
            self.visit(&child, &buses[..depth], depth)?;
            if child.children()?.iter().next().is_some() {
                buses[depth] =
                    Bus { cells: Cells::of(&child, "bus")?, ranges: ranges_of(&child, buses[depth - 1].cells)? };
                self.children(&child, buses, depth + 1)?;
            }
            self.path.truncate(saved);
        }
        Ok(())
    }

    fn visit(&mut self, node: &Node<'a>, buses: &[Bus<'a>], depth: usize) -> Result<(), Error> {
        let parent = buses[buses.len() - 1];
        let name = dt::base_name(node)?;
        if depth == 1 && is_memory(node, name)? {
            // Like Linux (early_init_dt_scan_memory), a disabled bank is not RAM.
            if !dt::is_enabled(node)? {
                return Ok(());
            }
            if let Some(reg) = dt::prop(node, "reg")? {
                for r in RegIter::new(reg, parent.cells) {
                    let r = r.ok_or(Error::BadProperty { node: "/memory", property: "reg" })?;
                    if r.size > 0 {
                        push(&mut self.topo.memory, r, "memory ranges")?;
                    }
                }
            }
            return Ok(());
        }
        if depth == 1 && name == "psci" {
            self.topo.psci = match dt::prop_str(node, "method", "/psci")? {
                Some("hvc") => Some(PsciConduit::Hvc),
                Some("smc") => Some(PsciConduit::Smc),
                _ => return Err(Error::BadProperty { node: "/psci", property: "method" }),
            };
            return Ok(());
        }
        if !dt::is_enabled(node)? {
            return Ok(());
        }
        let v2 = dt::compatible_with(node, GIC_V2)?;
        if (v2 || dt::compatible_with(node, GIC_V3)?) && self.topo.gic.is_none() {
            const AT: &str = "GIC";
            let mut regs = RegIter::new(dt::prop(node, "reg")?.unwrap_or(&[]), parent.cells);
            let mut next = || -> Result<Range, Error> {
                let r = regs.next().flatten().ok_or(Error::BadProperty { node: AT, property: "reg" })?;
                translate(buses, r).ok_or(Error::BadProperty { node: AT, property: "reg (untranslatable)" })
            };
            let (first, second) = (next()?, next()?);
            self.topo.gic = Some(if v2 {
                Gic::V2 { distributor: first, cpu_interface: second }
            } else {
                Gic::V3 { distributor: first, redistributors: second }
            });
            return Ok(());
        }
        let kind = if dt::compatible_with(node, PL011)? {
            Some(UartKind::Pl011)
        } else if dt::compatible_with(node, NS16550)? {
            Some(UartKind::Ns16550 {
                reg_shift: dt::prop_u32(node, "reg-shift", "UART")?.unwrap_or(0),
                io_width: dt::prop_u32(node, "reg-io-width", "UART")?.unwrap_or(1),
            })
        } else if dt::compatible_with(node, OTHER_UART)? {
            dt::prop_str(node, "compatible", "UART")?.map(UartKind::Other)
        } else {
            None
        };
        if let Some(kind) = kind {
            let reg = dt::prop(node, "reg")?.unwrap_or(&[]);
            let regs = RegIter::new(reg, parent.cells)
                .next()
                .flatten()
                .and_then(|r| translate(buses, r))
                .ok_or(Error::BadProperty { node: "UART", property: "reg" })?;
            let path = self.path.clone();
            // Beyond MAX_UARTS we keep the first ones; the console is among them on real boards.
            let _ = self.uarts.push(Candidate { path, uart: Uart { kind, regs } });
        }
        Ok(())
    }
}

fn is_memory(node: &Node<'_>, name: &str) -> Result<bool, Error> {
    Ok(match dt::prop_str(node, "device_type", "/memory")? {
        Some(t) => t == "memory",
        None => name == "memory",
    })
}

fn ranges_of<'a>(node: &Node<'a>, parent: Cells) -> Result<Ranges<'a>, Error> {
    Ok(match dt::prop(node, "ranges")? {
        None => Ranges::Untranslatable,
        Some([]) => Ranges::Identity,
        Some(entries) => Ranges::Map { entries, parent_address_cells: parent.address },
    })
}

/// Translates a child-bus range to a CPU physical range through every
/// enclosing bus (innermost first). `None` if some bus does not map it.
fn translate(buses: &[Bus<'_>], r: Range) -> Option<Range> {
    let mut addr = r.start;
    // buses[0] is the root, whose addresses are physical.
    for bus in buses.iter().skip(1).rev() {
        match bus.ranges {
            Ranges::Identity => {}
            Ranges::Untranslatable => return None,
            Ranges::Map { mut entries, parent_address_cells } => {
                let mut hit = None;
                while !entries.is_empty() {
                    let child = dt::take_cells(&mut entries, bus.cells.address)?;
                    let parent = dt::take_cells(&mut entries, parent_address_cells)?;
                    let size = dt::take_cells(&mut entries, bus.cells.size)?;
                    if addr >= child && addr - child < size {
                        hit = parent.checked_add(addr - child);
                        break;
                    }
                }
                addr = hit?;
            }
        }
    }
    Some(Range { start: addr, size: r.size })
}

/// `(address, size)` pairs of a `reg` property; `None` items mark bad data.
struct RegIter<'a> {
    rest: &'a [u8],
    cells: Cells,
}

impl<'a> RegIter<'a> {
    fn new(rest: &'a [u8], cells: Cells) -> Self {
        RegIter { rest, cells }
    }
}

impl Iterator for RegIter<'_> {
    type Item = Option<Range>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let start = dt::take_cells(&mut self.rest, self.cells.address);
        let size = dt::take_cells(&mut self.rest, self.cells.size);
        match (start, size) {
            (Some(start), Some(size)) if self.cells.address > 0 => Some(Some(Range { start, size })),
            _ => {
                self.rest = &[];
                Some(None)
            }
        }
    }
}
