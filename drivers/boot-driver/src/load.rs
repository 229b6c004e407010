//! Placing each node in its RAM and starting it (MMU off: physical
//! addresses are used directly).

use crate::Board;
use boot_plan::{BootPlan, Build, NodePlan};
use core::fmt;
use handoff::bootinfo::{self, CoreEntry, CoreStart, NodeBootInfo, BOOT_INFO_MAGIC};
use handoff::console::{mapped_consoles, node_console_offset, NodeConsole, NODE_FAILED};
use handoff::layout::{NodeLayout, TABLE_PAGES};
use handoff::paging::{self, Tables};
use handoff::{ImageHeader, PhysRange, MAX_NODES, MAX_NODE_CPUS, PAGE};
use topology::{EnableMethod, Gic, PsciConduit, UartKind};

/// Why a node could not be loaded or started.
pub enum LoadError {
    Image(handoff::ImageError),
    Layout(handoff::layout::LayoutError),
    Map(paging::MapError),
    Start(cpu_start::StartError),
    TooManyCpus,
    /// The plan gave a node no cpu, or one the topology does not have.
    NoCpu,
    NoGic,
    NoPsci,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Image(e) => write!(f, "{e}"),
            LoadError::Layout(e) => write!(f, "{e}"),
            LoadError::Map(e) => write!(f, "{e}"),
            LoadError::Start(e) => write!(f, "{e}"),
            LoadError::TooManyCpus => write!(f, "more than {MAX_NODE_CPUS} cpus in one cluster"),
            LoadError::NoCpu => write!(f, "the node has no cpu the device tree describes"),
            LoadError::NoGic => write!(f, "device tree has no supported GIC (need GICv2 or GICv3)"),
            LoadError::NoPsci => write!(f, "core needs PSCI but the device tree has no /psci"),
        }
    }
}

fn range(r: topology::Range) -> PhysRange {
    PhysRange { start: r.start, size: r.size }
}

/// Enables the GIC distributor, on behalf of the boot node that owns it,
/// before any other node exists.
pub fn init_gic_distributor(plan: &BootPlan<'_>) -> Result<(), LoadError> {
    match plan.topology.gic.ok_or(LoadError::NoGic)? {
        Gic::V2 { distributor, cpu_interface } => {
            // SAFETY: addresses from the device tree's GICv2 node; MMU off, so
            // they are the registers themselves; nothing else uses them yet.
            let mut gic =
                unsafe { arm_gic::gicv2::GicV2::new(distributor.start as *mut _, cpu_interface.start as *mut _) };
            gic.setup();
        }
        Gic::V3 { distributor, .. } => {
            let ptr = core::ptr::NonNull::new(distributor.start as *mut _).ok_or(LoadError::NoGic)?;
            // SAFETY: the device tree's GICv3 distributor, MMU off, not yet
            // used by anyone else.
            let regs = unsafe { arm_gic::UniqueMmioPointer::new(ptr) };
            arm_gic::gicv3::GicDistributor::new(regs).configure_default_settings();
        }
    }
    Ok(())
}

/// Zeroes every node's console and writes every channel's header.
pub fn init_shared(plan: &BootPlan<'_>) {
    let area = plan.shared.start as *mut u8;
    // SAFETY: the shared region is RAM the plan gave to no node, and its
    // console area holds MAX_NODES consoles (handoff checks); MMU off.
    unsafe { core::ptr::write_bytes(area, 0, node_console_offset(plan.nodes.len()) as usize) };
    let map = &plan.channels;
    for from in 0..map.nodes {
        for to in 0..map.nodes {
            let Some(r) = map.range(from, to) else { continue };
            // SAFETY: the plan put this channel inside the shared region,
            // page-aligned and apart from every other; no node runs yet.
            // It cannot fail: the region is aligned and holds slots.
            // The transfer area after the ring needs no header: the move
            // protocol says which of its pages hold what.
            let _ =
                unsafe { channel::Channel::init(r.start as *mut u8, map.ring_bytes as usize, from as u32, to as u32) };
        }
    }
}

/// The pieces of the shared region node `id` maps: its console (every
/// node's, on the console owner) and the channels it sends or receives on,
/// nothing else.
fn shared_pieces(plan: &BootPlan<'_>, id: usize) -> ([PhysRange; 1 + 2 * MAX_NODES], usize) {
    let mut pieces = [PhysRange::default(); 1 + 2 * MAX_NODES];
    let (offset, size) = mapped_consoles(id, plan.nodes.len(), id == plan.boot_node);
    pieces[0] = PhysRange { start: plan.shared.start + offset, size };
    let mut n = 1;
    for peer in 0..plan.channels.nodes.min(MAX_NODES) {
        for r in [plan.channels.range(id, peer), plan.channels.range(peer, id)].into_iter().flatten() {
            pieces[n] = range(r);
            n += 1;
        }
    }
    (pieces, n)
}

/// Marks node `id` as failed so the boot node does not wait for it.
pub fn mark_failed(plan: &BootPlan<'_>, id: usize) {
    if id >= plan.nodes.len() {
        return;
    }
    // SAFETY: `init_shared` zeroed node `id`'s console, a valid NodeConsole
    // (atomics only), inside the shared region; MMU off.
    let console = unsafe { &*((plan.shared.start + node_console_offset(id)) as *const NodeConsole) };
    console.status.state.store(NODE_FAILED, core::sync::atomic::Ordering::Release);
}

/// The devices a node maps, in order, and which boot-info field each feeds.
struct Devices {
    list: [PhysRange; 4 + MAX_NODE_CPUS],
    len: usize,
}

impl Devices {
    fn push(&mut self, r: PhysRange) -> usize {
        let page = |x: u64| x & !(PAGE - 1);
        if let Some(i) = self.list[..self.len].iter().position(|d| page(d.start) == page(r.start)) {
            return i;
        }
        self.list[self.len] = r;
        self.len += 1;
        self.len - 1
    }
}

/// Copies the node's image, writes its boot info, start records and page tables.
pub fn load_node(
    plan: &BootPlan<'_>,
    node: &NodePlan,
    board: &Board,
    boot_counter: u64,
    flags: u32,
) -> Result<(), LoadError> {
    let loaded = copy_image(node, board)?;
    let layout = &loaded.layout;
    let devices = NodeDevices::new(plan, node)?;
    let (space, vas) = map_node(plan, node, layout, &devices)?;
    let mut info = boot_info(plan, node, &loaded, &devices, &vas, boot_counter, flags);
    write_core_starts(node, layout, &space, &devices, &vas, &mut info);
    // SAFETY: the boot info slot is the first bytes of the node's boot info page.
    unsafe { (layout.pa(layout.boot_info) as *mut NodeBootInfo).write(info) };
    Ok(())
}

/// A node's image in its RAM: where everything is, and which build it is.
struct Loaded {
    layout: NodeLayout,
    build: u32,
}

/// Copies the build the plan chose into the node's RAM and zeroes what
/// follows it up to the tables.
fn copy_image(node: &NodePlan, board: &Board) -> Result<Loaded, LoadError> {
    let (image, build) = match node.build {
        Build::Big => (board.big, handoff::BUILD_BIG),
        Build::Little => (board.little, handoff::BUILD_LITTLE),
    };
    let header = ImageHeader::parse(image, build).map_err(LoadError::Image)?;
    if node.cpus.len() > MAX_NODE_CPUS {
        return Err(LoadError::TooManyCpus);
    }
    let memory = range(node.memory);
    let layout = NodeLayout::new(memory, header.mem_size, node.cpus.len()).map_err(LoadError::Layout)?;
    let base = memory.start as *mut u8;
    // SAFETY: the plan gave this node `memory`, which nothing else uses and
    // which holds the layout (checked by NodeLayout::new); MMU off.
    unsafe {
        core::ptr::copy_nonoverlapping(image.as_ptr(), base, header.file_size as usize);
        // BSS and the boot info page; table pages are zeroed as they are handed out.
        core::ptr::write_bytes(base.add(header.file_size as usize), 0, (layout.tables - header.file_size) as usize);
    }
    Ok(Loaded { layout, build })
}

/// The devices a node maps, and where each of its parts is in the list.
struct NodeDevices {
    list: Devices,
    gic: Gic,
    gicd: Option<usize>,
    gicc: Option<usize>,
    gicr: Option<usize>,
    uart: Option<usize>,
    /// Per core: its spin-table release address and that page's entry.
    release: [Option<(u64, usize)>; MAX_NODE_CPUS],
}

impl NodeDevices {
    fn new(plan: &BootPlan<'_>, node: &NodePlan) -> Result<NodeDevices, LoadError> {
        let boot_node = node.id == plan.boot_node;
        let gic = plan.topology.gic.ok_or(LoadError::NoGic)?;
        let mut list = Devices { list: [PhysRange::default(); 4 + MAX_NODE_CPUS], len: 0 };
        let (gicd, gicc, gicr) = match gic {
            // GICv2 SGIs are sent through GICD_SGIR, so every node maps the distributor.
            Gic::V2 { distributor, cpu_interface } => {
                (Some(list.push(range(distributor))), Some(list.push(range(cpu_interface))), None)
            }
            Gic::V3 { distributor, redistributors } => {
                let d = boot_node.then(|| list.push(range(distributor)));
                (d, None, Some(list.push(range(redistributors))))
            }
        };
        let uart = match plan.topology.uart {
            Some(u) if boot_node && u.kind == UartKind::Pl011 => Some(list.push(range(u.regs))),
            _ => None,
        };
        let mut release = [None; MAX_NODE_CPUS];
        for (slot, &cpu) in release.iter_mut().zip(node.cpus.iter()) {
            if let Some(c) = plan.topology.cpus.get(usize::from(cpu)) {
                if let EnableMethod::SpinTable { release_addr } = c.enable_method {
                    *slot = Some((release_addr, list.push(PhysRange { start: release_addr, size: 8 })));
                }
            }
        }
        Ok(NodeDevices { list, gic, gicd, gicc, gicr, uart, release })
    }
}

/// Builds the node's page tables; returns its translation roots and the
/// VA each device got.
fn map_node(
    plan: &BootPlan<'_>,
    node: &NodePlan,
    layout: &NodeLayout,
    devices: &NodeDevices,
) -> Result<(paging::NodeSpace, [u64; 4 + MAX_NODE_CPUS]), LoadError> {
    let tables_pa = layout.pa(layout.tables);
    // SAFETY: the table pages lie inside the node's RAM per the layout, are
    // u64-aligned (page aligned) and used by nothing else; MMU off.
    let words = unsafe { core::slice::from_raw_parts_mut(tables_pa as *mut u64, (TABLE_PAGES * PAGE / 8) as usize) };
    let mut tables = Tables::new(words, tables_pa);
    let mut vas = [0u64; 4 + MAX_NODE_CPUS];
    let (pieces, count) = shared_pieces(plan, node.id);
    let d = &devices.list;
    let space =
        paging::build_node_space(&mut tables, layout, plan.shared.start, &pieces[..count], &d.list[..d.len], &mut vas)
            .map_err(LoadError::Map)?;
    Ok((space, vas))
}

/// The node's boot info, without its cores' entries.
fn boot_info(
    plan: &BootPlan<'_>,
    node: &NodePlan,
    loaded: &Loaded,
    devices: &NodeDevices,
    vas: &[u64],
    boot_counter: u64,
    flags: u32,
) -> NodeBootInfo {
    let (layout, build) = (&loaded.layout, loaded.build);
    let boot_node = node.id == plan.boot_node;
    let memory = range(node.memory);
    let shared_va = |r: Option<topology::Range>| r.map_or(0, |r| handoff::SHARED_VA + (r.start - plan.shared.start));
    let mut tx_va = [0; MAX_NODES];
    let mut rx_va = [0; MAX_NODES];
    for peer in 0..plan.channels.nodes.min(MAX_NODES) {
        tx_va[peer] = shared_va(plan.channels.range(node.id, peer));
        rx_va[peer] = shared_va(plan.channels.range(peer, node.id));
    }
    let va_of = |i: Option<usize>| i.map_or(0, |i| vas[i]);
    let gic = devices.gic;
    let mut info = NodeBootInfo {
        magic: BOOT_INFO_MAGIC,
        abi_version: handoff::ABI_VERSION,
        node_id: node.id as u32,
        node_count: plan.nodes.len() as u32,
        boot_node: plan.boot_node as u32,
        build,
        capacity: node.capacity,
        cpu_count: node.cpus.len() as u32,
        flags: flags | if boot_node { bootinfo::FLAG_BOOT_NODE } else { 0 },
        boot_counter,
        memory,
        free_va: layout.va(layout.free),
        free_size: memory.size - layout.free,
        shared: range(plan.shared),
        shared_va: handoff::SHARED_VA,
        psci: match plan.topology.psci {
            None => bootinfo::PSCI_NONE,
            Some(PsciConduit::Hvc) => bootinfo::PSCI_HVC,
            Some(PsciConduit::Smc) => bootinfo::PSCI_SMC,
        },
        gic_version: u32::from(gic.version()),
        gicd_va: va_of(devices.gicd),
        gicc_va: va_of(devices.gicc),
        gicr_va: va_of(devices.gicr),
        gicr_size: match gic {
            Gic::V3 { redistributors, .. } => redistributors.size,
            Gic::V2 { .. } => 0,
        },
        uart_va: va_of(devices.uart),
        channel_bytes: plan.channels.ring_bytes,
        transfer_pages: plan.channels.transfer_pages(),
        tx_va,
        rx_va,
        cpus: [CoreEntry::default(); MAX_NODE_CPUS],
        uart_irq: match plan.topology.uart {
            Some(u) if boot_node => u.irq.unwrap_or(0),
            _ => 0,
        },
        bootargs_len: 0,
        bootargs: [0; bootinfo::BOOTARGS_BYTES],
    };
    let args = plan.topology.bootargs.as_bytes();
    let len = args.len().min(bootinfo::BOOTARGS_BYTES);
    info.bootargs[..len].copy_from_slice(&args[..len]);
    info.bootargs_len = len as u32;
    info
}

/// Writes each core's start record and its entry in the boot info.
fn write_core_starts(
    node: &NodePlan,
    layout: &NodeLayout,
    space: &paging::NodeSpace,
    devices: &NodeDevices,
    vas: &[u64],
    info: &mut NodeBootInfo,
) {
    let pa_range = {
        use tock_registers::interfaces::Readable;
        aarch64_cpu::registers::ID_AA64MMFR0_EL1.get() & 0xf
    };
    for (i, (&mpidr, rel)) in node.mpidrs.iter().zip(devices.release.iter()).enumerate() {
        let (_, stack_top) = layout.stack(i);
        let record = CoreStart {
            mair: paging::MAIR,
            tcr: paging::tcr(pa_range),
            ttbr0: space.ttbr0,
            ttbr1: space.ttbr1,
            stack_top: layout.va(stack_top),
            boot_info: layout.va(layout.boot_info),
            this: layout.va(layout.core_start(i)),
            core_index: i as u64,
        };
        // SAFETY: the record slot lies in the node's boot info page (layout),
        // CoreStart-aligned; MMU off.
        unsafe { (layout.pa(layout.core_start(i)) as *mut CoreStart).write(record) };
        info.cpus[i] = CoreEntry {
            mpidr,
            start_record_pa: layout.pa(layout.core_start(i)),
            enable: if rel.is_some() { bootinfo::ENABLE_SPIN_TABLE } else { bootinfo::ENABLE_PSCI },
            _reserved: 0,
            release_pa: rel.map_or(0, |(pa, _)| pa),
            release_va: rel.map_or(0, |(pa, dev)| vas[dev] + (pa - devices.list.list[dev].start)),
        };
    }
}

/// The conduit `cpu_start` calls PSCI through.
pub fn conduit(c: PsciConduit) -> cpu_start::Conduit {
    match c {
        PsciConduit::Hvc => cpu_start::Conduit::Hvc,
        PsciConduit::Smc => cpu_start::Conduit::Smc,
    }
}

/// Starts the first core of a non-boot node at its image.
pub fn start_leader(plan: &BootPlan<'_>, node: &NodePlan) -> Result<(), LoadError> {
    let &cpu = node.cpus.first().ok_or(LoadError::NoCpu)?;
    let Some(c) = plan.topology.cpus.get(usize::from(cpu)) else { return Err(LoadError::NoCpu) };
    let method = match c.enable_method {
        EnableMethod::SpinTable { release_addr } => cpu_start::Method::SpinTable { release: release_addr as *mut u64 },
        EnableMethod::Psci => cpu_start::Method::Psci(conduit(plan.topology.psci.ok_or(LoadError::NoPsci)?)),
    };
    // The CPU driver finds its start record by MPIDR (spin-table cores get no
    // context id), so the context id is unused.
    cpu_start::start(method, c.mpidr, node.memory.start, 0).map_err(LoadError::Start)
}

/// Enters the boot node's CPU driver on this core, like any other core.
pub fn join(entry: u64) -> ! {
    // SAFETY: `entry` is the boot node's freshly loaded CPU-driver image; its
    // entry code expects exactly this state (MMU off, EL1 or EL2) and never
    // returns. Barriers make the copied code visible to instruction fetch.
    unsafe {
        core::arch::asm!(
            "dsb sy",
            "ic iallu",
            "dsb sy",
            "isb",
            "mov x0, xzr",
            "br {entry}",
            entry = in(reg) entry,
            options(noreturn)
        )
    }
}
