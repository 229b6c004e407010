//! Memory, reservations, PSCI, GIC, console UART and bootargs.
//!
//! Devices are found by a depth-first walk that keeps each bus's `ranges`,
//! so a `reg` under a translated bus (Raspberry Pi 4's `/soc` maps
//! `0x7e00_0000` to `0xfe00_0000`) comes out as a CPU physical address.
//!
//! The walk also follows the interrupt tree far enough to give the console
//! UART its GIC interrupt: a node's interrupt parent is its own
//! `interrupt-parent`, else the nearest ancestor that is an interrupt domain
//! (`#interrupt-cells`), else the nearest ancestor's `interrupt-parent` (as
//! Linux's `of_irq_find_parent` walks it). Only a parent that is the GIC is
//! decoded; nexus nodes (`interrupt-map`) and other controllers are not
//! followed, and anything malformed just leaves the interrupt unknown.

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

/// The interrupt parent of a node, as far as this walk follows it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IrqParent {
    /// None found, or one that cannot be named (malformed, no phandle).
    Unknown,
    /// The node with this phandle.
    Phandle(u32),
}

#[derive(Clone, Copy)]
struct Bus<'a> {
    cells: Cells,
    ranges: Ranges<'a>,
    /// The interrupt parent of this node's children (when they name none).
    irq_parent: IrqParent,
}

/// A device's first interrupt, undecoded: its parent and specifier cells.
#[derive(Clone, Copy)]
struct IrqSpec<'a> {
    parent: IrqParent,
    /// `interrupts` (whole specifiers), or what follows the phandle of the
    /// first `interrupts-extended` entry (`exact` false: more may follow).
    cells: &'a [u8],
    exact: bool,
}

struct Candidate<'a> {
    path: String<MAX_PATH>,
    uart: Uart<'a>,
    irq: Option<IrqSpec<'a>>,
}

/// The GIC as an interrupt parent: its phandle and `#interrupt-cells`.
#[derive(Clone, Copy)]
struct GicDomain {
    phandle: Option<u32>,
    cells: Option<u32>,
}

struct Walk<'t, 'a> {
    topo: &'t mut Topology<'a>,
    uarts: Vec<Candidate<'a>, MAX_UARTS>,
    gic: GicDomain,
}

/// One node as the walk meets it: its name and properties, the buses
/// above it (the root first, its parent last), and its path.
struct Visit<'v, 'a> {
    name: fdt::nodes::NodeName<'a>,
    props: &'v Props<'a>,
    buses: &'v [Bus<'a>],
    path: &'v str,
}

impl<'a> Visit<'_, 'a> {
    fn depth(&self) -> usize {
        self.buses.len()
    }
    fn parent(&self) -> Bus<'a> {
        self.buses[self.buses.len() - 1]
    }
}

/// A device's register range, as the CPU addresses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Device<'a> {
    /// The node's name, without its unit address.
    pub name: &'a str,
    pub unit: Option<&'a str>,
    pub reg: Range,
}

impl core::fmt::Display for Device<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.unit {
            Some(unit) => write!(f, "{}@{unit}", self.name),
            None => f.write_str(self.name),
        }
    }
}

/// Walks every node below the root, depth first, calling `visit` on each;
/// `visit` returns whether to go into the node's children.
fn walk_tree<'a>(root: &Root<'a>, visit: &mut dyn FnMut(&Visit<'_, 'a>) -> Result<bool, Error>) -> Result<(), Error> {
    let root_node = root.find_node("/")?.ok_or(Error::MissingNode { path: "/" })?;
    let root_props = Props::read(&root_node)?;
    let root_bus = Bus {
        cells: Cells::of(&root_node, "/")?,
        ranges: Ranges::Identity,
        irq_parent: root_props.children_irq_parent(IrqParent::Unknown),
    };
    let mut buses = [root_bus; MAX_DEPTH];
    children(&root_node, &mut buses, 1, &mut String::new(), visit)
}

fn children<'a>(
    node: &Node<'a>,
    buses: &mut [Bus<'a>; MAX_DEPTH],
    depth: usize,
    path: &mut String<MAX_PATH>,
    visit: &mut dyn FnMut(&Visit<'_, 'a>) -> Result<bool, Error>,
) -> Result<(), Error> {
    for child in node.children()?.iter() {
        if depth >= MAX_DEPTH {
            return Err(Error::Malformed { detail: "nodes nested too deep" });
        }
        let child = child?;
        let name = child.name()?;
        let saved = path.len();
        // Over-long paths are truncated; they only serve to match stdout-path.
        let _ = path.push('/');
        let _ = path.push_str(name.name);
        if let Some(unit) = name.unit_address {
            let _ = path.push('@');
            let _ = path.push_str(unit);
        }
        let props = Props::read(&child)?;
        let descend = visit(&Visit { name, props: &props, buses: &buses[..depth], path })?;
        if descend {
            let parent = buses[depth - 1];
            buses[depth] = Bus {
                cells: props.cells()?,
                ranges: props.ranges(parent.cells),
                irq_parent: props.children_irq_parent(parent.irq_parent),
            };
            children(&child, buses, depth + 1, path, visit)?;
        }
        path.truncate(saved);
    }
    Ok(())
}

/// Calls `f` with each register range of every enabled device that the
/// CPU addresses directly: nodes with `reg` on a bus whose `ranges` reach
/// the root, not under a disabled node, and not RAM (`/memory`,
/// `/reserved-memory`), cores (`/cpus`) or `/chosen`.
pub fn each_device<'a>(root: &Root<'a>, f: &mut dyn FnMut(Device<'a>)) -> Result<(), Error> {
    const NOT_DEVICES: &[&str] = &["reserved-memory", "chosen", "cpus", "aliases", "__symbols__"];
    walk_tree(root, &mut |v| {
        if v.depth() == 1 && (v.props.is_memory(v.name.name) || NOT_DEVICES.contains(&v.name.name)) {
            return Ok(false);
        }
        if !v.props.enabled() {
            return Ok(false);
        }
        let parent = v.parent();
        // A bus with `#size-cells = <0>` (I2C, SPI, MDIO) numbers its
        // children; it does not map them.
        if let Some(reg) = v.props.reg.filter(|_| parent.cells.size > 0) {
            for r in RegIter::new(reg, parent.cells) {
                // Bad cells end the list: they are no range to check.
                let Some(r) = r else { break };
                if let Some(reg) = translate(v.buses, r).filter(|t| t.size > 0) {
                    f(Device { name: v.name.name, unit: v.name.unit_address, reg });
                }
            }
        }
        Ok(true)
    })
}

/// Fills the device fields of `topo`.
pub fn read<'a>(root: &Root<'a>, topo: &mut Topology<'a>) -> Result<(), Error> {
    let gic = GicDomain { phandle: None, cells: None };
    let mut walk = Walk { topo, uarts: Vec::new(), gic };
    walk_tree(root, &mut |v| walk.visit(v).map(|()| true))?;

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
    let gic = walk.gic;
    walk.topo.uart =
        pick_console(&walk.uarts, stdout).map(|c| Uart { irq: c.irq.and_then(|s| gic_intid(s, gic)), ..c.uart });

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
fn pick_console<'c, 'a>(uarts: &'c [Candidate<'a>], stdout: Option<&str>) -> Option<&'c Candidate<'a>> {
    if let Some(path) = stdout {
        if let Some(c) = uarts.iter().find(|c| c.path.as_str() == path) {
            return Some(c);
        }
    }
    let first = |want: fn(&UartKind<'_>) -> bool| uarts.iter().find(|c| want(&c.uart.kind));
    first(|k| matches!(k, UartKind::Pl011)).or_else(|| first(|k| matches!(k, UartKind::Ns16550 { .. })))
}

/// The GIC INTID of `spec` when its parent is `gic`: the first specifier's
/// type cell (0 SPI, 1 PPI, 2 extended SPI, 3 extended PPI) and number
/// (GIC binding, `#interrupt-cells` 3, or 4 with the PPI-partition cell).
fn gic_intid(spec: IrqSpec<'_>, gic: GicDomain) -> Option<u32> {
    let (phandle, cells) = (gic.phandle?, gic.cells?);
    if spec.parent != IrqParent::Phandle(phandle) || !(3..=4).contains(&cells) {
        return None;
    }
    let bytes = cells as usize * 4;
    if spec.cells.len() < bytes || (spec.exact && !spec.cells.len().is_multiple_of(bytes)) {
        return None;
    }
    let mut v = spec.cells;
    let kind = dt::take_cells(&mut v, 1)?;
    let number = u32::try_from(dt::take_cells(&mut v, 1)?).ok()?;
    match kind {
        0 if number < 988 => Some(number + 32),
        1 if number < 16 => Some(number + 16),
        2 if number < 1024 => Some(number + 4096),
        3 if number < 64 => Some(number + 1056),
        _ => None,
    }
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
    interrupt_parent: Option<&'a [u8]>,
    interrupt_cells: Option<&'a [u8]>,
    interrupts: Option<&'a [u8]>,
    interrupts_extended: Option<&'a [u8]>,
    phandle: Option<&'a [u8]>,
    linux_phandle: Option<&'a [u8]>,
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
                "interrupt-parent" => &mut p.interrupt_parent,
                "#interrupt-cells" => &mut p.interrupt_cells,
                "interrupts" => &mut p.interrupts,
                "interrupts-extended" => &mut p.interrupts_extended,
                "phandle" => &mut p.phandle,
                "linux,phandle" => &mut p.linux_phandle,
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

    /// A one-cell value; anything else is no value (never an error: the
    /// interrupt properties are optional extras here).
    fn cell(value: Option<&[u8]>) -> Option<u32> {
        value.filter(|v| v.len() == 4).map(dt::be)
    }

    /// This node's phandle, if it has one.
    fn phandle(&self) -> Option<u32> {
        Self::cell(self.phandle).or_else(|| Self::cell(self.linux_phandle))
    }

    /// The interrupt parent of this node itself, given what its tree parent
    /// passes down.
    fn irq_parent(&self, inherited: IrqParent) -> IrqParent {
        match self.interrupt_parent {
            None => inherited,
            Some(v) => Self::cell(Some(v)).map_or(IrqParent::Unknown, IrqParent::Phandle),
        }
    }

    /// The interrupt parent this node passes to children that name none:
    /// itself if it is an interrupt domain, else its own parent.
    fn children_irq_parent(&self, inherited: IrqParent) -> IrqParent {
        match self.interrupt_cells {
            Some(_) => self.phandle().map_or(IrqParent::Unknown, IrqParent::Phandle),
            None => self.irq_parent(inherited),
        }
    }

    /// The node's first interrupt, undecoded (`interrupts-extended` wins).
    fn irq(&self, inherited: IrqParent) -> Option<IrqSpec<'a>> {
        if let Some(mut v) = self.interrupts_extended {
            let parent = dt::take_cells(&mut v, 1).and_then(|p| u32::try_from(p).ok());
            return Some(IrqSpec {
                parent: parent.map_or(IrqParent::Unknown, IrqParent::Phandle),
                cells: v,
                exact: false,
            });
        }
        self.interrupts.map(|cells| IrqSpec { parent: self.irq_parent(inherited), cells, exact: true })
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
    fn visit(&mut self, v: &Visit<'_, 'a>) -> Result<(), Error> {
        let (name, props, buses, depth, parent) = (v.name.name, v.props, v.buses, v.depth(), v.parent());
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
            let method = props.method.and_then(dt::first_string).and_then(PsciConduit::from_method);
            self.topo.psci = Some(method.ok_or(Error::BadProperty { node: "/psci", property: "method" })?);
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
            self.gic = GicDomain { phandle: props.phandle(), cells: Props::cell(props.interrupt_cells) };
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
            let mut path = String::new();
            let _ = path.push_str(v.path);
            // Beyond MAX_UARTS we keep the first ones; the console is among them on real boards.
            let uart = Uart { kind, regs, irq: None };
            let _ = self.uarts.push(Candidate { path, uart, irq: props.irq(parent.irq_parent) });
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
