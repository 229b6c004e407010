//! The page tables the boot driver builds: each node maps its own RAM, the
//! shared region and its devices, and nothing of any other node.

use handoff::layout::{NodeLayout, STACK_SIZE, TABLE_PAGES};
use handoff::paging::{build_node_space, Attr, MapError, NodeSpace, TableView, Tables, TTBR1_TOP};
use handoff::{PhysRange, KERNEL_VA, PAGE, SHARED_VA};

const MIB: u64 = 1 << 20;

struct Built {
    words: Vec<u64>,
    base: u64,
    space: NodeSpace,
    device_vas: Vec<u64>,
    layout: NodeLayout,
}

fn build(memory: PhysRange, shared: PhysRange, devices: &[PhysRange], image: u64, cpus: usize) -> Built {
    let layout = NodeLayout::new(memory, image, cpus).expect("layout fits");
    let base = layout.pa(layout.tables);
    // Garbage, as RAM may hold at boot: pages must be zeroed as they are handed out.
    let mut words = vec![u64::MAX; (TABLE_PAGES * PAGE / 8) as usize];
    let mut vas = vec![0u64; devices.len()];
    let space = {
        let mut t = Tables::new(&mut words, base);
        build_node_space(&mut t, &layout, shared.start, &[shared], devices, &mut vas).expect("map")
    };
    Built { words, base, space, device_vas: vas, layout }
}

/// Every leaf of both halves: (va, pa, size, attr).
fn leaves(b: &Built) -> Vec<(u64, u64, u64, Attr)> {
    let mut out = Vec::new();
    let t = TableView { words: &b.words, base_pa: b.base };
    t.walk(b.space.ttbr0, 0, &mut |va, pa, size, attr| out.push((va, pa, size, attr)));
    t.walk(b.space.ttbr1, TTBR1_TOP, &mut |va, pa, size, attr| out.push((va, pa, size, attr)));
    out
}

fn translate(leaves: &[(u64, u64, u64, Attr)], va: u64) -> Option<(u64, Attr)> {
    leaves.iter().find(|l| va >= l.0 && va - l.0 < l.2).map(|l| (l.1 + (va - l.0), l.3))
}

fn three_nodes() -> (Vec<PhysRange>, PhysRange, Vec<PhysRange>) {
    let shared = PhysRange { start: 0x4200_0000, size: 2 * MIB };
    let nodes = (0..3).map(|i| PhysRange { start: 0x4220_0000 + i * 330 * MIB, size: 330 * MIB }).collect();
    let devices = vec![
        PhysRange { start: 0x0800_0000, size: 0x1_0000 },  // GICD
        PhysRange { start: 0x080a_0000, size: 0xf6_0000 }, // GICR
        PhysRange { start: 0x0900_0000, size: 0x1000 },    // PL011
    ];
    (nodes, shared, devices)
}

#[test]
fn no_node_maps_another_nodes_ram() {
    let (nodes, shared, devices) = three_nodes();
    for (i, &mem) in nodes.iter().enumerate() {
        let b = build(mem, shared, &devices, 0x16000, 4);
        for (va, pa, size, attr) in leaves(&b) {
            let end = pa + size;
            let in_own = pa >= mem.start && end <= mem.end();
            let in_shared = pa >= shared.start && end <= shared.end();
            let in_device =
                devices.iter().any(|d| pa >= d.start & !(PAGE - 1) && end <= d.end().next_multiple_of(PAGE));
            assert!(in_own || in_shared || in_device, "node {i}: va {va:#x} maps foreign pa {pa:#x}+{size:#x}");
            for (j, other) in nodes.iter().enumerate().filter(|(j, _)| *j != i) {
                assert!(end <= other.start || pa >= other.end(), "node {i} maps node {j}'s RAM at va {va:#x}");
            }
            assert_eq!(attr == Attr::Device, in_device, "node {i}: va {va:#x} has the wrong memory type");
        }
    }
}

#[test]
fn kernel_image_stacks_and_shared_region_land_where_the_contract_says() {
    let (nodes, shared, devices) = three_nodes();
    let mem = nodes[1];
    let b = build(mem, shared, &devices, 0x16000, 2);
    let layout = b.layout;
    let l = leaves(&b);
    assert_eq!(translate(&l, KERNEL_VA), Some((mem.start, Attr::KernelCode)));
    assert_eq!(translate(&l, KERNEL_VA + 0x15ff8), Some((mem.start + 0x15ff8, Attr::KernelCode)));
    assert_eq!(translate(&l, layout.va(layout.boot_info)), Some((layout.pa(layout.boot_info), Attr::KernelData)));
    assert_eq!(translate(&l, SHARED_VA), Some((shared.start, Attr::KernelData)));
    assert_eq!(translate(&l, SHARED_VA + shared.size), None, "nothing past the shared region");
    // Identity map of the image only.
    assert_eq!(translate(&l, mem.start), Some((mem.start, Attr::KernelCode)));
    assert_eq!(translate(&l, mem.start + layout.image_size), None, "TTBR0 maps only the image");
    // Devices keep their offset within the page.
    assert_eq!(translate(&l, b.device_vas[2]), Some((0x0900_0000, Attr::Device)));
    for core in 0..2 {
        let (bottom, top) = layout.stack(core);
        assert_eq!(top - bottom, STACK_SIZE);
        assert!(translate(&l, layout.va(bottom)).is_some());
        assert!(translate(&l, layout.va(top) - 8).is_some());
        assert_eq!(translate(&l, layout.va(bottom) - 8), None, "core {core}: guard page below the stack");
    }
    // Free RAM runs to the end of the node and is never executable.
    assert_eq!(translate(&l, KERNEL_VA + mem.size - 8), Some((mem.end() - 8, Attr::KernelData)));
    assert_eq!(translate(&l, KERNEL_VA + mem.size), None);
}

#[test]
fn tiny_nodes_are_refused_not_overrun() {
    let mem = PhysRange { start: 0x4000_0000, size: 64 * 1024 };
    assert!(NodeLayout::new(mem, 0x16000, 4).is_err());
}

#[test]
fn running_out_of_table_pages_is_an_error() {
    let mut words = vec![0u64; 512 * 2];
    let mut t = Tables::new(&mut words, 0x1000_0000);
    let root = t.alloc().expect("root");
    // 4 KiB pages spread over many 2 MiB regions need more tables than two pages.
    let r = (0..8).try_for_each(|i| {
        t.map(root, KERNEL_VA + i * 2 * MIB + PAGE, 0x8000_0000 + i * 2 * MIB, PAGE, Attr::KernelData)
    });
    assert_eq!(r, Err(MapError::OutOfTables));
}

#[test]
fn double_mapping_and_misalignment_are_errors() {
    let mut words = vec![0u64; 512 * 8];
    let mut t = Tables::new(&mut words, 0x1000_0000);
    let root = t.alloc().expect("root");
    t.map(root, KERNEL_VA, 0x8000_0000, 2 * MIB, Attr::KernelData).expect("first");
    assert!(matches!(
        t.map(root, KERNEL_VA + PAGE, 0x9000_0000, PAGE, Attr::KernelData),
        Err(MapError::Overlap { .. })
    ));
    assert_eq!(t.map(root, KERNEL_VA + 4 * MIB + 8, 0x9000_0000, PAGE, Attr::KernelData), Err(MapError::Unaligned));
}
