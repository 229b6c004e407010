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
        stdout = match dt::prop_str(&chosen, "stdout-path", "/chosen")? {
            Some(path) => Some(path),
            None => dt::prop_str(&chosen, "linux,stdout-path", "/chosen")?,
        };
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

/// The properties the walk looks at, read in one pass over a node (each
/// lookup by name would rescan the node and its string table).
#[derive(Default)]
struct Props<'a> {
    compatible: Option<&'a [u8]>,
    device_type: Option<&'a [u8]>,
    status: Option<&'a [u8]>,
    reg: Option<&'a [u8]>,
    ranges: Option<&'a [u8]>,
    address_cells: Option<&'a [u8]>,
    size_cells: Option<&'a [u8]>,
    method: Option<&'a [u8]>,
    reg_shift: Option<&'a [u8]>,
    reg_io_width: Option<&'a [u8]>,
}

impl<'a> Props<'a> {
    fn read(node: &Node<'a>) -> Result<Self, Error> {
        let mut p = Props::default();
        for prop in node.properties()?.iter() {
            let prop = prop?;
            let slot = match prop.name {
                "compatible" => &mut p.compatible,
                "device_type" => &mut p.device_type,
                "status" => &mut p.status,
                "reg" => &mut p.reg,
                "ranges" => &mut p.ranges,
                "#address-cells" => &mut p.address_cells,
                "#size-cells" => &mut p.size_cells,
                "method" => &mut p.method,
                "reg-shift" => &mut p.reg_shift,
                "reg-io-width" => &mut p.reg_io_width,
                _ => continue,
            };
            *slot = Some(prop.value);
        }
        Ok(p)
    }

    fn compatible_with(&self, wanted: &[&str]) -> bool {
        self.compatible.is_some_and(|v| wanted.iter().any(|w| dt::list_contains(v, w)))
    }

    /// `status` is absent, "okay" or "ok".
    fn enabled(&self) -> bool {
        self.status.is_none_or(|v| matches!(dt::first_string(v), Some("okay" | "ok")))
    }

    fn is_memory(&self, name: &str) -> bool {
        match self.device_type {
            Some(t) => dt::first_string(t) == Some("memory"),
            None => name == "memory",
        }
    }

    fn u32(value: Option<&[u8]>, node: &'static str, property: &'static str) -> Result<Option<u32>, Error> {
        match value {
            None => Ok(None),
            Some(v) if v.len() == 4 => Ok(Some(dt::be(v))),
            Some(_) => Err(Error::BadProperty { node, property }),
        }
    }

    /// Cell sizes this node declares for its children (spec defaults otherwise).
    fn cells(&self) -> Result<Cells, Error> {
        let address = Self::u32(self.address_cells, "bus", "#address-cells")?.unwrap_or(Cells::DEFAULT.address);
        let size = Self::u32(self.size_cells, "bus", "#size-cells")?.unwrap_or(Cells::DEFAULT.size);
        if address > 4 || size > 4 {
            return Err(Error::BadProperty { node: "bus", property: "#address-cells" });
        }
        Ok(Cells { address, size })
    }

    fn ranges(&self, parent: Cells) -> Ranges<'a> {
        match self.ranges {
            None => Ranges::Untranslatable,
            Some([]) => Ranges::Identity,
            Some(entries) => Ranges::Map { entries, parent_address_cells: parent.address },
        }
    }
}

impl<'a> Walk<'_, 'a> {
    fn children(&mut self, node: &Node<'a>, buses: &mut [Bus<'a>; MAX_DEPTH], depth: usize) -> Result<(), Error> {
        for child in node.children()?.iter() {
            if depth >= MAX_DEPTH {
                return Err(Error::Malformed { detail: "nodes nested too deep" });
            }
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
            let props = Props::read(&child)?;
            self.visit(name.name, &props, &buses[..depth], depth)?;
            buses[depth] = Bus { cells: props.cells()?, ranges: props.ranges(buses[depth - 1].cells) };
            self.children(&child, buses, depth + 1)?;
            self.path.truncate(saved);
        }
        Ok(())
    }

    fn visit(&mut self, name: &str, props: &Props<'a>, buses: &[Bus<'a>], depth: usize) -> Result<(), Error> {
        let parent = buses[buses.len() - 1];
        if depth == 1 && props.is_memory(name) {
            // Like Linux (early_init_dt_scan_memory), a disabled bank is not RAM.
            if !props.enabled() {
                return Ok(());
            }
            if let Some(reg) = props.reg {
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
            self.topo.psci = match props.method.and_then(dt::first_string) {
                Some("hvc") => Some(PsciConduit::Hvc),
                Some("smc") => Some(PsciConduit::Smc),
                _ => return Err(Error::BadProperty { node: "/psci", property: "method" }),
            };
            return Ok(());
        }
        if props.compatible.is_none() || !props.enabled() {
            return Ok(());
        }
        let v2 = props.compatible_with(GIC_V2);
        if (v2 || props.compatible_with(GIC_V3)) && self.topo.gic.is_none() {
            const AT: &str = "GIC";
            let mut regs = RegIter::new(props.reg.unwrap_or(&[]), parent.cells);
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
        let kind = if props.compatible_with(PL011) {
            Some(UartKind::Pl011)
        } else if props.compatible_with(NS16550) {
            Some(UartKind::Ns16550 {
                reg_shift: Props::u32(props.reg_shift, "UART", "reg-shift")?.unwrap_or(0),
                io_width: Props::u32(props.reg_io_width, "UART", "reg-io-width")?.unwrap_or(1),
            })
        } else if props.compatible_with(OTHER_UART) {
            props.compatible.and_then(dt::first_string).map(UartKind::Other)
        } else {
            None
        };
        if let Some(kind) = kind {
            let reg = props.reg.unwrap_or(&[]);
            // A UART we cannot address is no console candidate; it does not
            // make the whole tree unusable.
            let Some(regs) = RegIter::new(reg, parent.cells).next().flatten().and_then(|r| translate(buses, r)) else {
                return Ok(());
            };
            let path = self.path.clone();
            // Beyond MAX_UARTS we keep the first ones; the console is among them on real boards.
            let _ = self.uarts.push(Candidate { path, uart: Uart { kind, regs } });
        }
        Ok(())
    }
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
