//! Hand-broken trees: each must be rejected with the right [`Error`], and
//! every error must render as one line.

mod common;

use common::*;
use topology::{Error, Hints, Topology, MAX_CPUS, MAX_RANGES};

fn parse_err(blob: &[u8]) -> Error {
    match Topology::parse(blob, Hints::default()) {
        Ok(t) => panic!("expected an error, parsed {} cpus", t.cpus.len()),
        Err(e) => e,
    }
}

// --- Header -----------------------------------------------------------------

#[test]
fn empty_blob() {
    assert_eq!(parse_err(&[]), Error::Empty);
}

#[test]
fn shorter_than_a_header() {
    let blob = qemu_1x4().build();
    for len in [1, 4, 8, 39] {
        assert_eq!(parse_err(&blob[..len]), Error::TooShort { len });
    }
}

#[test]
fn truncated_at_several_lengths() {
    let blob = qemu_1x4().build();
    let total = blob.len() as u32;
    let struct_off = be32(&blob, hdr::OFF_DT_STRUCT) as usize;
    for len in [40, 41, struct_off, struct_off + 4, blob.len() / 2, blob.len() - 4, blob.len() - 1] {
        assert_eq!(parse_err(&blob[..len]), Error::Truncated { total_size: total, len }, "cut at {len}");
    }
}

#[test]
fn bad_magic() {
    let blob = with_be32(&qemu_1x4().build(), hdr::MAGIC, 0xedfe_0dd0);
    assert_eq!(parse_err(&blob), Error::BadMagic { found: 0xedfe_0dd0 });
    let mut blob = qemu_1x4().build();
    blob[0] = 0;
    assert_eq!(parse_err(&blob), Error::BadMagic { found: 0x000d_feed });
}

#[test]
fn old_version() {
    let blob = with_be32(&qemu_1x4().build(), hdr::VERSION, 16);
    assert_eq!(parse_err(&blob), Error::UnsupportedVersion { version: 16 });
}

#[test]
fn corrupt_header_fields() {
    let blob = qemu_1x4().build();
    let total = blob.len() as u32;
    let cases: [(usize, u32, &str); 9] = [
        (hdr::TOTALSIZE, 39, "totalsize"),
        (hdr::OFF_DT_STRUCT, total, "structure block"),
        (hdr::OFF_DT_STRUCT, 8, "structure block"),
        (hdr::SIZE_DT_STRUCT, u32::MAX, "structure block"),
        (hdr::OFF_DT_STRINGS, total - 1, "strings block"),
        (hdr::SIZE_DT_STRINGS, total, "strings block"),
        (hdr::OFF_MEM_RSVMAP, 12, "memory reservation map"),
        (hdr::OFF_MEM_RSVMAP, 41, "memory reservation map"),
        (hdr::OFF_MEM_RSVMAP, total + 8, "memory reservation map"),
    ];
    for (at, v, field) in cases {
        assert_eq!(parse_err(&with_be32(&blob, at, v)), Error::BadHeader { field }, "header word {at:#x} = {v:#x}");
    }
}

#[test]
fn misaligned_structure_block() {
    let blob = qemu_1x4().build();
    let off = be32(&blob, hdr::OFF_DT_STRUCT);
    let size = be32(&blob, hdr::SIZE_DT_STRUCT);
    let blob = with_be32(&with_be32(&blob, hdr::OFF_DT_STRUCT, off + 2), hdr::SIZE_DT_STRUCT, size - 4);
    assert_eq!(parse_err(&blob), Error::BadHeader { field: "structure block alignment" });
}

#[test]
fn tiny_structure_block() {
    // `fdt` would underflow on a structure block shorter than 8 bytes.
    let blob = qemu_1x4().build();
    for size in [0, 4, 5, 7, 8, 15] {
        assert_eq!(
            parse_err(&with_be32(&blob, hdr::SIZE_DT_STRUCT, size)),
            Error::BadHeader { field: "structure block size" },
            "size_dt_struct = {size}"
        );
    }
}

#[test]
fn reservation_map_without_terminator() {
    // Point the map at the last 8 bytes: no room for a 16-byte entry.
    let blob = qemu_1x4().build();
    let at = (blob.len() as u32 - 8) & !7;
    let blob = with_be32(&blob, hdr::OFF_MEM_RSVMAP, at);
    assert_eq!(parse_err(&blob), Error::BadHeader { field: "memory reservation map terminator" });
}

#[test]
fn reservation_map_terminator_overwritten() {
    // With the terminator gone, the reader walks on into the structure
    // block, reading tokens as (address, size) pairs, until the table of
    // reservations is full.
    let mut q = qemu_1x4();
    q.memreserve = vec![(0x4800_0000, 0x1000)];
    let mut blob = q.build();
    let rsv = be32(&blob, hdr::OFF_MEM_RSVMAP) as usize;
    for b in &mut blob[rsv + 16..rsv + 32] {
        *b = 0xff;
    }
    assert_eq!(parse_err(&blob), Error::TooMany { what: "reserved memory ranges", max: MAX_RANGES });
}

#[test]
fn too_many_memreserve_entries() {
    let mut q = qemu_1x4();
    q.memreserve = (0..=MAX_RANGES as u64).map(|i| (0x4800_0000 + i * 0x10_0000, 0x1000)).collect();
    assert_eq!(parse_err(&q.build()), Error::TooMany { what: "reserved memory ranges", max: MAX_RANGES });
}

// --- /cpus ----------------------------------------------------------------------

#[test]
fn missing_cpus_node() {
    let mut q = qemu_1x4();
    q.cpus_node = false;
    assert_eq!(parse_err(&q.build()), Error::MissingNode { path: "/cpus" });
}

#[test]
fn cpus_without_cpu_children() {
    let blob = tree_with_cpus(|d| {
        d.node("idle-states", |d| d.str("entry-method", "psci"));
        d.node("l2-cache0", |d| d.str("compatible", "cache"));
    });
    assert_eq!(parse_err(&blob), Error::NoCpus);
    assert_eq!(parse_err(&tree_with_cpus(|_| {})), Error::NoCpus);
    // A cpu-map with no CPUs to point at changes nothing.
    let blob = tree_with_cpus(|d| cpu_map(d, &[&[]]));
    assert_eq!(parse_err(&blob), Error::NoCpus);
}

#[test]
fn cpu_map_points_at_a_non_cpu_phandle() {
    // Phandle 9 is the L2 cache node, not a CPU.
    let blob = tree_with_cpus(|d| {
        cpu_map(d, &[&[1, 9]]);
        cpu_node(d, 0, Some(1), |_| {});
        cpu_node(d, 1, Some(2), |_| {});
        d.node("l2-cache0", |d| {
            d.str("compatible", "cache");
            d.phandle(9);
        });
    });
    assert_eq!(parse_err(&blob), Error::CpuMapUnknownCpu { phandle: 9 });
}

#[test]
fn cpu_map_points_at_a_cpu_without_phandle() {
    let blob = tree_with_cpus(|d| {
        cpu_map(d, &[&[1, 2]]);
        cpu_node(d, 0, Some(1), |_| {});
        cpu_node(d, 1, None, |_| {});
    });
    assert_eq!(parse_err(&blob), Error::CpuMapUnknownCpu { phandle: 2 });
}

#[test]
fn cpu_listed_twice_in_cpu_map() {
    let blob = tree_with_cpus(|d| {
        cpu_map(d, &[&[1, 2], &[3, 2]]);
        cpu_node(d, 0x0, Some(1), |_| {});
        cpu_node(d, 0x1, Some(2), |_| {});
        cpu_node(d, 0x100, Some(3), |_| {});
    });
    assert_eq!(parse_err(&blob), Error::CpuMapDuplicateCpu { mpidr: 0x1 });
}

#[test]
fn cpu_missing_from_cpu_map() {
    let blob = tree_with_cpus(|d| {
        cpu_map(d, &[&[1, 2], &[3]]);
        cpu_node(d, 0x0, Some(1), |_| {});
        cpu_node(d, 0x1, Some(2), |_| {});
        cpu_node(d, 0x100, Some(3), |_| {});
        cpu_node(d, 0x101, Some(4), |_| {});
    });
    assert_eq!(parse_err(&blob), Error::CpuMapMissingCpu { mpidr: 0x101 });
}

#[test]
fn linux_phandle_is_accepted_in_cpu_map() {
    // Old trees use `linux,phandle`.
    let blob = tree_with_cpus(|d| {
        cpu_map(d, &[&[7], &[8]]);
        cpu_node(d, 0x0, None, |d| d.u32("linux,phandle", 7));
        cpu_node(d, 0x100, None, |d| d.u32("linux,phandle", 8));
    });
    let t = Topology::parse(&blob, Hints::default()).expect("parses");
    assert_eq!(t.clusters.len(), 2);
}

#[test]
fn cpu_map_with_threads_and_nested_clusters() {
    // core0 has two threads; the outer cluster holds two inner clusters.
    let blob = tree_with_cpus(|d| {
        d.node("cpu-map", |d| {
            d.node("socket0", |d| {
                d.node("cluster0", |d| {
                    d.node("cluster0", |d| {
                        d.node("core0", |d| {
                            d.node("thread0", |d| d.u32("cpu", 1));
                            d.node("thread1", |d| d.u32("cpu", 2));
                        });
                    });
                    d.node("cluster1", |d| {
                        d.node("core0", |d| d.u32("cpu", 3));
                    });
                });
            });
        });
        cpu_node(d, 0x0, Some(1), |_| {});
        cpu_node(d, 0x1, Some(2), |_| {});
        cpu_node(d, 0x100, Some(3), |_| {});
    });
    let t = Topology::parse(&blob, Hints::default()).expect("parses");
    let clusters: Vec<Vec<u8>> = t.clusters.iter().map(|c| c.cpus.to_vec()).collect();
    assert_eq!(clusters, vec![vec![0, 1], vec![2]]);
}

#[test]
fn thread_without_cpu_property() {
    let blob = tree_with_cpus(|d| {
        d.node("cpu-map", |d| {
            d.node("cluster0", |d| {
                d.node("core0", |d| d.node("thread0", |_| {}));
            });
        });
        cpu_node(d, 0x0, Some(1), |_| {});
    });
    assert_eq!(parse_err(&blob), Error::MissingProperty { node: "/cpus/cpu-map core", property: "cpu" });
}

#[test]
fn cpu_map_nested_too_deep() {
    let blob = tree_with_cpus(|d| {
        fn nest(d: &mut Dt, depth: usize) {
            if depth == 0 {
                d.node("core0", |d| d.u32("cpu", 1));
            } else {
                d.node("cluster0", |d| nest(d, depth - 1));
            }
        }
        d.node("cpu-map", |d| nest(d, 12));
        cpu_node(d, 0x0, Some(1), |_| {});
    });
    assert_eq!(parse_err(&blob), Error::Malformed { detail: "/cpus/cpu-map nested too deep" });
}

#[test]
fn duplicate_mpidr() {
    let blob = tree_with_cpus(|d| {
        cpu_node(d, 0x100, None, |_| {});
        d.node("cpu@100,1", |d| {
            d.str("device_type", "cpu");
            d.u32("reg", 0x100);
        });
    });
    assert_eq!(parse_err(&blob), Error::DuplicateMpidr { mpidr: 0x100 });
}

#[test]
fn cpu_without_reg() {
    let blob = tree_with_cpus(|d| {
        d.node("cpu@0", |d| d.str("device_type", "cpu"));
    });
    assert_eq!(parse_err(&blob), Error::MissingProperty { node: "/cpus/cpu", property: "reg" });
}

#[test]
fn cpu_reg_too_short() {
    let blob = tree_with_cpus(|d| {
        d.node("cpu@0", |d| {
            d.str("device_type", "cpu");
            d.bytes("reg", &[0, 0]);
        });
    });
    assert_eq!(parse_err(&blob), Error::BadProperty { node: "/cpus/cpu", property: "reg" });
}

#[test]
fn cpus_with_zero_address_cells() {
    let blob = tree22(|d| {
        one_gib_of_memory(d);
        d.node("cpus", |d| {
            d.u32("#address-cells", 0);
            d.u32("#size-cells", 0);
            d.node("cpu@0", |d| {
                d.str("device_type", "cpu");
                d.u32("reg", 0);
            });
        });
    });
    assert_eq!(parse_err(&blob), Error::BadProperty { node: "/cpus", property: "#address-cells" });
}

#[test]
fn cpu_nodes_found_by_name_without_device_type() {
    let blob = tree_with_cpus(|d| {
        d.node("cpu@0", |d| d.u32("reg", 0));
        d.node("cpu@1", |d| d.u32("reg", 1));
        // device_type wins over the name: this is no CPU.
        d.node("cpu@2", |d| {
            d.str("device_type", "cache");
            d.u32("reg", 2);
        });
    });
    let t = Topology::parse(&blob, Hints::default()).expect("parses");
    let mpidrs: Vec<u64> = t.cpus.iter().map(|c| c.mpidr).collect();
    assert_eq!(mpidrs, [0, 1]);
    assert_eq!(t.cpus[0].compatible, "");
}

#[test]
fn spin_table_without_release_address() {
    let blob = tree_with_cpus(|d| {
        d.node("cpu@0", |d| {
            d.str("device_type", "cpu");
            d.u32("reg", 0);
            d.str("enable-method", "spin-table");
        });
    });
    assert_eq!(parse_err(&blob), Error::MissingProperty { node: "/cpus/cpu", property: "cpu-release-addr" });
}

#[test]
fn spin_table_release_address_sizes() {
    let with_release = |v: &[u8]| {
        let v = v.to_vec();
        tree_with_cpus(move |d| {
            d.node("cpu@0", |d| {
                d.str("device_type", "cpu");
                d.u32("reg", 0);
                d.str("enable-method", "spin-table");
                d.bytes("cpu-release-addr", &v);
            });
        })
    };
    // 32-bit and 64-bit forms are both accepted.
    for (v, want) in [(vec![0, 0, 0, 0xd8], 0xd8u64), (vec![0, 0, 0, 1, 0, 0, 0, 0xe0], 0x1_0000_00e0)] {
        let blob = with_release(&v);
        let t = Topology::parse(&blob, Hints::default()).expect("parses");
        assert_eq!(t.cpus[0].enable_method, topology::EnableMethod::SpinTable { release_addr: want });
    }
    for v in [vec![], vec![0, 0, 0xd8], vec![0; 12]] {
        assert_eq!(
            parse_err(&with_release(&v)),
            Error::BadProperty { node: "/cpus/cpu", property: "cpu-release-addr" },
            "{v:?}"
        );
    }
}

#[test]
fn unknown_enable_method() {
    let blob = tree_with_cpus(|d| {
        d.node("cpu@0", |d| {
            d.str("device_type", "cpu");
            d.u32("reg", 0);
            d.str("enable-method", "brcm,bcm2836-smp");
        });
    });
    assert_eq!(parse_err(&blob), Error::BadProperty { node: "/cpus/cpu", property: "enable-method" });
}

#[test]
fn capacity_of_the_wrong_size() {
    let blob = tree_with_cpus(|d| cpu_node(d, 0, None, |d| d.cells("capacity-dmips-mhz", &[0, 530])));
    assert_eq!(parse_err(&blob), Error::BadProperty { node: "/cpus/cpu", property: "capacity-dmips-mhz" });
}

#[test]
fn too_many_cpus() {
    let blob = tree_with_cpus(|d| {
        for i in 0..=MAX_CPUS as u32 {
            cpu_node(d, ((i / 16) << 8) | (i % 16), None, |_| {});
        }
    });
    assert_eq!(parse_err(&blob), Error::TooMany { what: "cpus", max: MAX_CPUS });
}

#[test]
fn max_cpus_is_accepted() {
    let blob = tree_with_cpus(|d| {
        for i in 0..MAX_CPUS as u32 {
            cpu_node(d, ((i / 16) << 8) | (i % 16), None, |_| {});
        }
    });
    let t = Topology::parse(&blob, Hints::default()).expect("64 cpus parse");
    assert_eq!(t.cpus.len(), MAX_CPUS);
    // Aff1 grouping: four clusters of sixteen.
    assert_eq!(t.clusters.len(), 4);
    assert!(t.clusters.iter().all(|c| c.cpus.len() == 16));
}

// --- Devices ----------------------------------------------------------------------

#[test]
fn no_memory_node() {
    let mut q = qemu_1x4();
    q.memory.clear();
    assert_eq!(parse_err(&q.build()), Error::NoMemory);
}

#[test]
fn zero_sized_memory() {
    let mut q = qemu_1x4();
    q.memory = vec![(0x4000_0000, 0)];
    assert_eq!(parse_err(&q.build()), Error::NoMemory);
}

#[test]
fn disabled_memory_node_is_not_ram() {
    // Linux skips a memory node whose status is not "okay".
    let blob = tree22(|d| {
        one_cpu(d);
        d.node("psci", |d| d.str("method", "hvc"));
        d.node("memory@40000000", |d| {
            d.str("device_type", "memory");
            d.cells("reg", &reg22(0x4000_0000, GIB));
            d.str("status", "disabled");
        });
    });
    assert_eq!(parse_err(&blob), Error::NoMemory);
}

#[test]
fn memory_found_by_name_or_device_type() {
    for (name, device_type) in [("memory", None), ("ram@80000000", Some("memory")), ("memory@80000000", Some("memory"))]
    {
        let blob = tree22(|d| {
            one_cpu(d);
            d.node(name, |d| {
                if let Some(t) = device_type {
                    d.str("device_type", t);
                }
                d.cells("reg", &reg22(0x8000_0000, GIB));
            });
        });
        let t = Topology::parse(&blob, Hints::default()).expect("parses");
        assert_eq!(t.memory.as_slice(), &[topology::Range { start: 0x8000_0000, size: GIB }], "{name}");
    }
}

#[test]
fn memory_reg_with_a_partial_entry() {
    let blob = tree22(|d| {
        one_cpu(d);
        d.node("memory@40000000", |d| {
            d.str("device_type", "memory");
            d.cells("reg", &[0, 0x4000_0000, 0, 0x4000_0000, 0, 0x8000_0000]);
        });
    });
    assert_eq!(parse_err(&blob), Error::BadProperty { node: "/memory", property: "reg" });
}

#[test]
fn too_many_memory_ranges() {
    let mut q = qemu_1x4();
    q.memory = (0..=MAX_RANGES as u64).map(|i| (0x4000_0000 + i * GIB, 0x1000_0000)).collect();
    assert_eq!(parse_err(&q.build()), Error::TooMany { what: "memory ranges", max: MAX_RANGES });
}

#[test]
fn psci_with_a_bad_method() {
    for method in [Some("svc"), Some(""), None] {
        let blob = tree22(|d| {
            one_cpu(d);
            d.node("psci", |d| {
                d.str("compatible", "arm,psci-1.0");
                if let Some(m) = method {
                    d.str("method", m);
                }
            });
            one_gib_of_memory(d);
        });
        assert_eq!(parse_err(&blob), Error::BadProperty { node: "/psci", property: "method" }, "method {method:?}");
    }
}

#[test]
fn psci_cpus_without_psci_node_parse() {
    // The topology just reports no conduit; the boot plan rejects it.
    let mut q = qemu_1x4();
    q.psci = None;
    let blob = q.build();
    let t = Topology::parse(&blob, Hints::default()).expect("parses");
    assert_eq!(t.psci, None);
    assert!(t.cpus.iter().all(|c| c.enable_method == topology::EnableMethod::Psci));
}

#[test]
fn gic_with_one_reg_entry() {
    let blob = minimal_tree(|d| {
        d.node("intc@8000000", |d| {
            d.str("compatible", "arm,gic-v3");
            d.cells("reg", &reg22(0x800_0000, 0x1_0000));
        });
    });
    assert_eq!(parse_err(&blob), Error::BadProperty { node: "GIC", property: "reg" });
}

#[test]
fn disabled_gic_and_uart_are_skipped() {
    let blob = minimal_tree(|d| {
        d.node("intc@1000000", |d| {
            d.str("compatible", "arm,gic-400");
            d.str("status", "disabled");
        });
        d.node("intc@8000000", |d| {
            d.str("compatible", "arm,gic-400");
            let mut reg = reg22(0x800_0000, 0x1000).to_vec();
            reg.extend(reg22(0x801_0000, 0x2000));
            d.cells("reg", &reg);
            d.str("status", "okay");
        });
        d.node("serial@1000", |d| {
            d.str("compatible", "arm,pl011");
            d.str("status", "fail");
        });
        d.node("serial@2000", |d| {
            d.str("compatible", "ns16550a");
            d.cells("reg", &reg22(0x2000, 0x100));
            d.str("status", "ok");
        });
    });
    let t = Topology::parse(&blob, Hints::default()).expect("parses");
    assert_eq!(
        t.gic,
        Some(topology::Gic::V2 {
            distributor: topology::Range { start: 0x800_0000, size: 0x1000 },
            cpu_interface: topology::Range { start: 0x801_0000, size: 0x2000 },
        })
    );
    // No PL011 is enabled: the first 16550 is the console, with defaults.
    assert_eq!(
        t.uart,
        Some(topology::Uart {
            kind: topology::UartKind::Ns16550 { reg_shift: 0, io_width: 1 },
            regs: topology::Range { start: 0x2000, size: 0x100 },
            irq: None,
        })
    );
}

#[test]
fn uart_outside_any_cpu_mapping_is_skipped_not_fatal() {
    // A bus with children but no `ranges` does not map them for the CPU: that
    // UART cannot be the console, but the rest of the tree is still usable.
    let blob = minimal_tree(|d| {
        d.node("bus", |d| {
            d.u32("#address-cells", 1);
            d.u32("#size-cells", 1);
            d.node("serial@1000", |d| {
                d.str("compatible", "arm,pl011");
                d.cells("reg", &[0x1000, 0x1000]);
            });
        });
    });
    let t = Topology::parse(&blob, Hints::default()).expect("the tree is usable without that UART");
    assert_eq!(t.uart, None);
    assert_eq!(t.cpus.len(), 1);
}

#[test]
fn nodes_nested_too_deep() {
    let blob = minimal_tree(|d| {
        fn nest(d: &mut Dt, depth: usize) {
            if depth > 0 {
                d.node("bus", |d| {
                    d.null("ranges");
                    nest(d, depth - 1);
                });
            }
        }
        nest(d, 20);
    });
    assert_eq!(parse_err(&blob), Error::Malformed { detail: "nodes nested too deep" });
}

// --- Display ----------------------------------------------------------------------

#[test]
fn every_error_renders_as_one_line() {
    let all = [
        Error::Empty,
        Error::TooShort { len: 12 },
        Error::BadMagic { found: 0x1234_5678 },
        Error::Truncated { total_size: 4096, len: 100 },
        Error::BadHeader { field: "structure block" },
        Error::UnsupportedVersion { version: 16 },
        Error::Malformed { detail: "unparsable token stream" },
        Error::MissingNode { path: "/cpus" },
        Error::MissingProperty { node: "/cpus/cpu", property: "reg" },
        Error::BadProperty { node: "/psci", property: "method" },
        Error::TooMany { what: "cpus", max: 64 },
        Error::NoCpus,
        Error::DuplicateMpidr { mpidr: 0x100 },
        Error::CpuMapUnknownCpu { phandle: 0x8009 },
        Error::CpuMapDuplicateCpu { mpidr: 0x1 },
        Error::CpuMapMissingCpu { mpidr: 0x101 },
        Error::NoMemory,
    ];
    for e in all {
        let s = e.to_string();
        assert!(!s.is_empty(), "{e:?}");
        assert!(!s.contains('\n') && !s.contains('\r'), "{e:?} renders as {s:?}");
        assert_eq!(s, s.trim(), "{e:?}");
    }
}

#[test]
fn error_messages() {
    let cases = [
        (Error::Empty, "device tree is empty"),
        (Error::TooShort { len: 12 }, "device tree is truncated: 12 bytes is shorter than the 40-byte FDT header"),
        (Error::BadMagic { found: 0xedfe0dd0 }, "not a device tree: bad magic 0xedfe0dd0 (expected 0xd00dfeed)"),
        (
            Error::Truncated { total_size: 4096, len: 100 },
            "device tree is truncated: header says 4096 bytes, only 100 present",
        ),
        (Error::MissingNode { path: "/cpus" }, "device tree has no /cpus node"),
        (
            Error::CpuMapUnknownCpu { phandle: 0x8009 },
            "/cpus/cpu-map refers to phandle 0x8009, which is not a cpu node",
        ),
        (Error::CpuMapDuplicateCpu { mpidr: 0x1 }, "/cpus/cpu-map lists cpu 0x1 twice"),
        (Error::CpuMapMissingCpu { mpidr: 0x101 }, "/cpus/cpu-map does not list cpu 0x101"),
        (Error::DuplicateMpidr { mpidr: 0x100 }, "device tree has two cpu nodes with reg (MPIDR) 0x100"),
        (Error::NoMemory, "device tree has no usable /memory node"),
    ];
    for (e, want) in cases {
        assert_eq!(e.to_string(), want);
    }
}

#[test]
fn errors_from_real_broken_trees_render_as_one_line() {
    let blob = qemu_1x4().build();
    let mut broken = vec![
        Vec::new(),
        blob[..20].to_vec(),
        blob[..blob.len() - 1].to_vec(),
        with_be32(&blob, hdr::MAGIC, 0),
        with_be32(&blob, hdr::VERSION, 2),
        with_be32(&blob, hdr::SIZE_DT_STRUCT, 4),
    ];
    let mut q = qemu_1x4();
    q.memory.clear();
    broken.push(q.build());
    for b in &broken {
        let e = parse_err(b);
        let s = e.to_string();
        assert!(!s.contains('\n'), "{e:?}");
    }
}
