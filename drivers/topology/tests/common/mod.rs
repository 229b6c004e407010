//! Device-tree builders shared by the `topology` and `boot-plan` host tests.
//!
//! Each board builder reproduces the *structure* of the device tree that
//! mainline Linux publishes for that board (node names, `#address-cells` /
//! `#size-cells`, `reg` values, compatibles, `cpu-map`, PSCI, GIC, UARTs,
//! `/soc` `ranges`, aliases and `/chosen`), trimmed to the nodes that matter
//! for the topology plus enough unrelated nodes (buses with children, nodes
//! without `reg`, disabled devices) to exercise the walker. The comment on
//! each builder names the Linux file(s) it follows. Where Linux leaves a
//! value to the boot firmware (RAM size, some reservations) the builder
//! says what it assumes.
//!
//! The QEMU builders follow `qemu-system-aarch64 -M virt,dumpdtb=...`
//! (QEMU 10): node order, QEMU's phandle allocation (0x8000 upwards, CPUs
//! numbered from the highest phandle down) and `socket0/clusterN/coreM`.

#![allow(dead_code)]

use vm_fdt::{FdtReserveEntry, FdtWriter};

/// `dt-bindings/interrupt-controller/arm-gic.h`.
pub const GIC_SPI: u32 = 0;
pub const GIC_PPI: u32 = 1;
pub const IRQ_TYPE_LEVEL_HIGH: u32 = 4;

/// A thin wrapper over [`FdtWriter`] with nested-closure nodes.
pub struct Dt(FdtWriter);

impl Default for Dt {
    fn default() -> Self {
        Self::new()
    }
}

impl Dt {
    pub fn new() -> Self {
        Dt(FdtWriter::new().expect("FdtWriter::new"))
    }

    /// A tree whose header carries `/memreserve/` entries `(address, size)`.
    pub fn with_memreserve(entries: &[(u64, u64)]) -> Self {
        let entries: Vec<FdtReserveEntry> =
            entries.iter().map(|&(a, s)| FdtReserveEntry::new(a, s).expect("memreserve entry")).collect();
        Dt(FdtWriter::new_with_mem_reserv(&entries).expect("FdtWriter::new_with_mem_reserv"))
    }

    pub fn boot_cpuid(&mut self, id: u32) {
        self.0.set_boot_cpuid_phys(id);
    }

    /// Opens node `name`, lets `body` fill it, closes it.
    pub fn node(&mut self, name: &str, body: impl FnOnce(&mut Dt)) {
        let n = self.0.begin_node(name).expect("begin_node");
        body(self);
        self.0.end_node(n).expect("end_node");
    }

    pub fn u32(&mut self, name: &str, v: u32) {
        self.0.property_u32(name, v).expect("property_u32");
    }

    pub fn cells(&mut self, name: &str, v: &[u32]) {
        self.0.property_array_u32(name, v).expect("property_array_u32");
    }

    pub fn bytes(&mut self, name: &str, v: &[u8]) {
        self.0.property(name, v).expect("property");
    }

    pub fn str(&mut self, name: &str, v: &str) {
        self.0.property_string(name, v).expect("property_string");
    }

    pub fn strs(&mut self, name: &str, v: &[&str]) {
        let v = v.iter().map(|s| s.to_string()).collect();
        self.0.property_string_list(name, v).expect("property_string_list");
    }

    pub fn null(&mut self, name: &str) {
        self.0.property_null(name).expect("property_null");
    }

    pub fn phandle(&mut self, v: u32) {
        self.0.property_phandle(v).expect("property_phandle");
    }

    pub fn finish(self) -> Vec<u8> {
        self.0.finish().expect("finish")
    }
}

/// High and low 32-bit cells of a 64-bit number.
pub fn c64(v: u64) -> [u32; 2] {
    [(v >> 32) as u32, v as u32]
}

/// `reg` cells for `#address-cells = <2>; #size-cells = <2>`.
pub fn reg22(addr: u64, size: u64) -> [u32; 4] {
    let (a, s) = (c64(addr), c64(size));
    [a[0], a[1], s[0], s[1]]
}

pub const MIB: u64 = 1 << 20;
pub const GIB: u64 = 1 << 30;

// ---------------------------------------------------------------------------
// Radxa ROCK 5B (RK3588)
// ---------------------------------------------------------------------------

/// Radxa ROCK 5B: reproduces `arch/arm64/boot/dts/rockchip/rk3588-base.dtsi`
/// (root cells 2/2, aliases serialN, `/cpus` with `cpu-map` cluster0 = 4x
/// `arm,cortex-a55` capacity 530 at reg 0x000..0x300, cluster1/cluster2 =
/// 2x `arm,cortex-a76` capacity 1024 each at 0x400..0x700, `idle-states`,
/// `l2-cache-*`/`l3-cache` nodes, `/psci` method "smc", `/firmware/scmi`,
/// `sram@10f000` with translating `ranges`, GICv3 `interrupt-controller@fe600000`
/// with GICD 0xfe600000 / GICR 0xfe680000, `ranges;` and ITS children,
/// `serial@feb40000`/`serial@feb50000` `snps,dw-apb-uart` reg-shift 2
/// reg-io-width 4, disabled) and `arch/arm64/boot/dts/rockchip/rk3588-rock-5b.dts`
/// (aliases `serial2 = &uart2`, `stdout-path = "serial2:1500000n8"`, `&uart2`
/// okay). Linux has no `/memory` for this board: U-Boot adds a node named
/// plain `memory`; this assumes an 8 GiB board with TF-A's first 2 MiB
/// taken: banks 0x20_0000..0xf000_0000 and 0x1_0000_0000..0x2_0000_0000.
pub fn rock5b() -> Vec<u8> {
    rk3588_with(true)
}

/// [`rock5b`] without `/cpus/cpu-map` (the grouping then comes from MPIDR).
pub fn rock5b_without_cpu_map() -> Vec<u8> {
    rk3588_with(false)
}

fn rk3588_with(cpu_map: bool) -> Vec<u8> {
    const GIC: u32 = 1;
    let little = [(0x000, 2), (0x100, 3), (0x200, 4), (0x300, 5)];
    let big = [(0x400, 6), (0x500, 7), (0x600, 8), (0x700, 9)];
    let mut d = Dt::new();
    d.node("", |d| {
        d.strs("compatible", &["radxa,rock-5b", "rockchip,rk3588"]);
        d.str("model", "Radxa ROCK 5 Model B");
        d.u32("interrupt-parent", GIC);
        d.u32("#address-cells", 2);
        d.u32("#size-cells", 2);
        d.node("aliases", |d| {
            d.str("serial0", "/serial@fd890000");
            d.str("serial1", "/serial@feb40000");
            d.str("serial2", "/serial@feb50000");
        });
        d.node("chosen", |d| d.str("stdout-path", "serial2:1500000n8"));
        d.node("cpus", |d| {
            d.u32("#address-cells", 1);
            d.u32("#size-cells", 0);
            if cpu_map {
                d.node("cpu-map", |d| {
                    d.node("cluster0", |d| {
                        for (i, &(_, ph)) in little.iter().enumerate() {
                            d.node(&format!("core{i}"), |d| d.u32("cpu", ph));
                        }
                    });
                    for (c, pair) in big.chunks(2).enumerate() {
                        d.node(&format!("cluster{}", c + 1), |d| {
                            for (i, &(_, ph)) in pair.iter().enumerate() {
                                d.node(&format!("core{i}"), |d| d.u32("cpu", ph));
                            }
                        });
                    }
                });
            }
            for (i, &(reg, ph)) in little.iter().chain(big.iter()).enumerate() {
                let (compat, cap, l2) = if i < 4 {
                    ("arm,cortex-a55", 530, 20 + i as u32)
                } else {
                    ("arm,cortex-a76", 1024, 20 + i as u32)
                };
                d.node(&format!("cpu@{reg:x}"), |d| {
                    d.str("device_type", "cpu");
                    d.str("compatible", compat);
                    d.u32("reg", reg);
                    d.str("enable-method", "psci");
                    d.u32("capacity-dmips-mhz", cap);
                    d.cells("clocks", &[10, 0]);
                    d.u32("cpu-idle-states", 11);
                    d.u32("next-level-cache", l2);
                    d.u32("#cooling-cells", 2);
                    d.phandle(ph);
                });
            }
            d.node("idle-states", |d| {
                d.str("entry-method", "psci");
                d.node("cpu-sleep", |d| {
                    d.str("compatible", "arm,idle-state");
                    d.null("local-timer-stop");
                    d.u32("arm,psci-suspend-param", 0x0010000);
                    d.phandle(11);
                });
            });
            for (i, name) in ["l0", "l1", "l2", "l3", "b0", "b1", "b2", "b3"].iter().enumerate() {
                d.node(&format!("l2-cache-{name}"), |d| {
                    d.str("compatible", "cache");
                    d.u32("cache-level", 2);
                    d.null("cache-unified");
                    d.u32("next-level-cache", 30);
                    d.phandle(20 + i as u32);
                });
            }
            d.node("l3-cache", |d| {
                d.str("compatible", "cache");
                d.u32("cache-level", 3);
                d.phandle(30);
            });
        });
        d.node("firmware", |d| {
            d.node("scmi", |d| {
                d.str("compatible", "arm,scmi-smc");
                d.u32("#address-cells", 1);
                d.u32("#size-cells", 0);
                d.node("protocol@14", |d| {
                    d.u32("reg", 0x14);
                    d.u32("#clock-cells", 1);
                    d.phandle(10);
                });
            });
        });
        d.node("psci", |d| {
            d.str("compatible", "arm,psci-1.0");
            d.str("method", "smc");
        });
        d.node("timer", |d| d.str("compatible", "arm,armv8-timer"));
        d.node("sram@10f000", |d| {
            d.str("compatible", "mmio-sram");
            d.cells("reg", &reg22(0x10f000, 0x100));
            d.cells("ranges", &[0, 0x0, 0x0010_f000, 0x100]);
            d.u32("#address-cells", 1);
            d.u32("#size-cells", 1);
            d.node("sram@0", |d| {
                d.str("compatible", "arm,scmi-shmem");
                d.cells("reg", &[0x0, 0x100]);
            });
        });
        d.node("interrupt-controller@fe600000", |d| {
            d.str("compatible", "arm,gic-v3");
            let mut reg = reg22(0xfe60_0000, 0x10000).to_vec();
            reg.extend(reg22(0xfe68_0000, 0x100000));
            d.cells("reg", &reg);
            d.null("interrupt-controller");
            d.null("msi-controller");
            d.null("ranges");
            d.u32("#address-cells", 2);
            d.u32("#interrupt-cells", 4);
            d.u32("#size-cells", 2);
            d.phandle(GIC);
            for at in [0xfe64_0000u64, 0xfe66_0000] {
                d.node(&format!("msi-controller@{at:x}"), |d| {
                    d.str("compatible", "arm,gic-v3-its");
                    d.cells("reg", &reg22(at, 0x20000));
                    d.null("msi-controller");
                });
            }
            d.node("ppi-partitions", |d| {
                d.node("interrupt-partition-0", |d| d.cells("affinity", &[2, 3, 4, 5]));
                d.node("interrupt-partition-1", |d| d.cells("affinity", &[6, 7, 8, 9]));
            });
        });
        d.node("serial@fd890000", |d| {
            d.strs("compatible", &["rockchip,rk3588-uart", "snps,dw-apb-uart"]);
            d.cells("reg", &reg22(0xfd89_0000, 0x100));
            d.cells("interrupts", &[GIC_SPI, 331, IRQ_TYPE_LEVEL_HIGH, 0]);
            d.u32("reg-io-width", 4);
            d.u32("reg-shift", 2);
            d.str("status", "disabled");
        });
        for (at, spi, status) in [(0xfeb4_0000u64, 332, "disabled"), (0xfeb5_0000, 333, "okay")] {
            d.node(&format!("serial@{at:x}"), |d| {
                d.strs("compatible", &["rockchip,rk3588-uart", "snps,dw-apb-uart"]);
                d.cells("reg", &reg22(at, 0x100));
                d.cells("interrupts", &[GIC_SPI, spi, IRQ_TYPE_LEVEL_HIGH, 0]);
                d.strs("dma-names", &["tx", "rx"]);
                d.u32("reg-io-width", 4);
                d.u32("reg-shift", 2);
                d.str("status", status);
            });
        }
        d.node("memory", |d| {
            d.str("device_type", "memory");
            let mut reg = reg22(0x20_0000, 0xf000_0000 - 0x20_0000).to_vec();
            reg.extend(reg22(0x1_0000_0000, 0x1_0000_0000));
            d.cells("reg", &reg);
        });
    });
    d.finish()
}

// ---------------------------------------------------------------------------
// RK3399
// ---------------------------------------------------------------------------

/// RK3399 board: reproduces `arch/arm64/boot/dts/rockchip/rk3399.dtsi`
/// (root cells 2/2, `/cpus` with `#address-cells = <2>` and reg
/// `<0x0 0x0>`..`<0x0 0x3>` for 4x `arm,cortex-a53` capacity 485 and
/// `<0x0 0x100>`/`<0x0 0x101>` for 2x `arm,cortex-a72` capacity 1024,
/// cpu-map cluster0/cluster1, `/psci` "smc", `amba` simple-bus with
/// `ranges;`, `pcie@f8000000` with `#address-cells = <3>` and an
/// `interrupt-controller` child of `#address-cells = <0>`, GICv3
/// `interrupt-controller@fee00000` with five reg entries (GICD 0xfee00000,
/// GICR 0xfef00000, GICC, GICH, GICV) and an ITS child, `serial@ff1a0000`
/// `snps,dw-apb-uart` reg-shift 2) plus the usual board file
/// (`stdout-path = "serial2:1500000n8"`, `&uart2` okay). Memory is what
/// U-Boot reports on a 4 GiB board: one bank 0x20_0000..0xf800_0000.
pub fn rk3399() -> Vec<u8> {
    const GIC: u32 = 1;
    let cpus: [(u32, &str, u32, u32); 6] = [
        (0x0, "arm,cortex-a53", 485, 2),
        (0x1, "arm,cortex-a53", 485, 3),
        (0x2, "arm,cortex-a53", 485, 4),
        (0x3, "arm,cortex-a53", 485, 5),
        (0x100, "arm,cortex-a72", 1024, 6),
        (0x101, "arm,cortex-a72", 1024, 7),
    ];
    let mut d = Dt::new();
    d.node("", |d| {
        d.str("compatible", "rockchip,rk3399");
        d.u32("interrupt-parent", GIC);
        d.u32("#address-cells", 2);
        d.u32("#size-cells", 2);
        d.node("aliases", |d| {
            d.str("serial0", "/serial@ff180000");
            d.str("serial1", "/serial@ff190000");
            d.str("serial2", "/serial@ff1a0000");
        });
        d.node("chosen", |d| d.str("stdout-path", "serial2:1500000n8"));
        d.node("cpus", |d| {
            d.u32("#address-cells", 2);
            d.u32("#size-cells", 0);
            d.node("cpu-map", |d| {
                d.node("cluster0", |d| {
                    for (i, cpu) in cpus[..4].iter().enumerate() {
                        d.node(&format!("core{i}"), |d| d.u32("cpu", cpu.3));
                    }
                });
                d.node("cluster1", |d| {
                    for (i, cpu) in cpus[4..].iter().enumerate() {
                        d.node(&format!("core{i}"), |d| d.u32("cpu", cpu.3));
                    }
                });
            });
            for &(reg, compat, cap, ph) in &cpus {
                d.node(&format!("cpu@{reg:x}"), |d| {
                    d.str("device_type", "cpu");
                    d.str("compatible", compat);
                    d.cells("reg", &[0x0, reg]);
                    d.str("enable-method", "psci");
                    d.u32("capacity-dmips-mhz", cap);
                    d.u32("#cooling-cells", 2);
                    d.phandle(ph);
                });
            }
        });
        d.node("pmu_a53", |d| d.str("compatible", "arm,cortex-a53-pmu"));
        d.node("psci", |d| {
            d.str("compatible", "arm,psci-1.0");
            d.str("method", "smc");
        });
        d.node("amba", |d| {
            d.str("compatible", "simple-bus");
            d.u32("#address-cells", 2);
            d.u32("#size-cells", 2);
            d.null("ranges");
            d.node("dma-controller@ff6d0000", |d| {
                d.strs("compatible", &["arm,pl330", "arm,primecell"]);
                d.cells("reg", &reg22(0xff6d_0000, 0x4000));
            });
        });
        d.node("pcie@f8000000", |d| {
            d.str("compatible", "rockchip,rk3399-pcie");
            let mut reg = reg22(0xf800_0000, 0x200_0000).to_vec();
            reg.extend(reg22(0xfd00_0000, 0x100_0000));
            d.cells("reg", &reg);
            d.u32("#address-cells", 3);
            d.u32("#size-cells", 2);
            d.cells("ranges", &[0x8300_0000, 0x0, 0xfa00_0000, 0x0, 0xfa00_0000, 0x0, 0x1e0_0000]);
            d.str("status", "disabled");
            d.node("interrupt-controller", |d| {
                d.null("interrupt-controller");
                d.u32("#address-cells", 0);
                d.u32("#interrupt-cells", 1);
            });
        });
        d.node("interrupt-controller@fee00000", |d| {
            d.str("compatible", "arm,gic-v3");
            d.u32("#interrupt-cells", 4);
            d.u32("#address-cells", 2);
            d.u32("#size-cells", 2);
            d.null("ranges");
            d.null("interrupt-controller");
            let mut reg = Vec::new();
            for (a, s) in [
                (0xfee0_0000u64, 0x10000u64),
                (0xfef0_0000, 0xc0000),
                (0xfff0_0000, 0x10000),
                (0xfff1_0000, 0x10000),
                (0xfff2_0000, 0x10000),
            ] {
                reg.extend(reg22(a, s));
            }
            d.cells("reg", &reg);
            d.phandle(GIC);
            d.node("interrupt-controller@fee20000", |d| {
                d.str("compatible", "arm,gic-v3-its");
                d.null("msi-controller");
                d.cells("reg", &reg22(0xfee2_0000, 0x20000));
            });
        });
        for (at, spi, status) in
            [(0xff18_0000u64, 99, "disabled"), (0xff19_0000, 98, "disabled"), (0xff1a_0000, 100, "okay")]
        {
            d.node(&format!("serial@{at:x}"), |d| {
                d.strs("compatible", &["rockchip,rk3399-uart", "snps,dw-apb-uart"]);
                d.cells("reg", &reg22(at, 0x100));
                d.cells("interrupts", &[GIC_SPI, spi, IRQ_TYPE_LEVEL_HIGH, 0]);
                d.u32("reg-shift", 2);
                d.u32("reg-io-width", 4);
                d.str("status", status);
            });
        }
        d.node("memory", |d| {
            d.str("device_type", "memory");
            d.cells("reg", &reg22(0x20_0000, 0xf800_0000 - 0x20_0000));
        });
    });
    d.finish()
}

// ---------------------------------------------------------------------------
// Arm Juno r2
// ---------------------------------------------------------------------------

/// Arm Juno r2: reproduces `arch/arm64/boot/dts/arm/juno-r2.dts` (aliases
/// `serial0 = &soc_uart0`, `stdout-path = "serial0:115200n8"`, `/psci`
/// `arm,psci-0.2` "smc", `/cpus` `#address-cells = <2>`, cpu-map cluster0 =
/// 2x `arm,cortex-a72` capacity 1024 at reg 0x0/0x1 listed *first*, cluster1
/// = 4x `arm,cortex-a53` capacity 485 at 0x100..0x103, `idle-states`,
/// `l2-cache0/1`) and `arch/arm64/boot/dts/arm/juno-base.dtsi` (GIC-400
/// `interrupt-controller@2c010000` compatible `arm,gic-400`,
/// `arm,cortex-a15-gic`, its own `ranges = <0 0 0 0x2c1c0000 0 0x40000>`
/// with `v2m@N` children; `uart@7ff80000` `arm,pl011`; `memory@80000000` with
/// `<0x0 0x80000000 0x0 0x7f000000>, <0x8 0x80000000 0x1 0x80000000>`;
/// `bus@8000000` with `#address-cells = <2>; #size-cells = <1>` and
/// chip-select `ranges`) and `juno-motherboard.dtsi` (`motherboard-bus` with
/// `ranges;` and `iofpga-bus@300000000` with `ranges = <0 3 0 0x200000>`).
pub fn juno_r2() -> Vec<u8> {
    juno_r2_with_boot_cpuid(0)
}

/// [`juno_r2`] with the header's `boot_cpuid_phys` set.
pub fn juno_r2_with_boot_cpuid(boot: u32) -> Vec<u8> {
    const GIC: u32 = 1;
    let cpus: [(u32, &str, u32, u32); 6] = [
        (0x0, "arm,cortex-a72", 1024, 2),
        (0x1, "arm,cortex-a72", 1024, 3),
        (0x100, "arm,cortex-a53", 485, 4),
        (0x101, "arm,cortex-a53", 485, 5),
        (0x102, "arm,cortex-a53", 485, 6),
        (0x103, "arm,cortex-a53", 485, 7),
    ];
    let mut d = Dt::new();
    d.boot_cpuid(boot);
    d.node("", |d| {
        d.str("model", "ARM Juno development board (r2)");
        d.strs("compatible", &["arm,juno-r2", "arm,juno", "arm,vexpress"]);
        d.u32("interrupt-parent", GIC);
        d.u32("#address-cells", 2);
        d.u32("#size-cells", 2);
        d.node("aliases", |d| d.str("serial0", "/uart@7ff80000"));
        d.node("chosen", |d| d.str("stdout-path", "serial0:115200n8"));
        d.node("psci", |d| {
            d.str("compatible", "arm,psci-0.2");
            d.str("method", "smc");
        });
        d.node("cpus", |d| {
            d.u32("#address-cells", 2);
            d.u32("#size-cells", 0);
            d.node("cpu-map", |d| {
                d.node("cluster0", |d| {
                    d.node("core0", |d| d.u32("cpu", 2));
                    d.node("core1", |d| d.u32("cpu", 3));
                });
                d.node("cluster1", |d| {
                    for i in 0..4u32 {
                        d.node(&format!("core{i}"), |d| d.u32("cpu", 4 + i));
                    }
                });
            });
            d.node("idle-states", |d| {
                d.str("entry-method", "psci");
                d.node("cpu-sleep-0", |d| d.str("compatible", "arm,idle-state"));
                d.node("cluster-sleep-0", |d| d.str("compatible", "arm,idle-state"));
            });
            for &(reg, compat, cap, ph) in &cpus {
                d.node(&format!("cpu@{reg:x}"), |d| {
                    d.str("compatible", compat);
                    d.cells("reg", &[0x0, reg]);
                    d.str("device_type", "cpu");
                    d.str("enable-method", "psci");
                    d.u32("next-level-cache", if reg < 0x100 { 8 } else { 9 });
                    d.u32("capacity-dmips-mhz", cap);
                    d.phandle(ph);
                });
            }
            d.node("l2-cache0", |d| {
                d.str("compatible", "cache");
                d.phandle(8);
            });
            d.node("l2-cache1", |d| {
                d.str("compatible", "cache");
                d.phandle(9);
            });
        });
        d.node("pmu-a72", |d| d.str("compatible", "arm,cortex-a72-pmu"));
        d.node("interrupt-controller@2c010000", |d| {
            d.strs("compatible", &["arm,gic-400", "arm,cortex-a15-gic"]);
            let mut reg = Vec::new();
            for (a, s) in
                [(0x2c01_0000u64, 0x1000u64), (0x2c02_f000, 0x2000), (0x2c04_f000, 0x2000), (0x2c06_f000, 0x2000)]
            {
                reg.extend(reg22(a, s));
            }
            d.cells("reg", &reg);
            d.u32("#address-cells", 2);
            d.u32("#interrupt-cells", 3);
            d.u32("#size-cells", 2);
            d.null("interrupt-controller");
            d.cells("ranges", &[0, 0, 0, 0x2c1c_0000, 0, 0x40000]);
            d.phandle(GIC);
            for off in [0u32, 0x10000, 0x20000, 0x30000] {
                d.node(&format!("v2m@{off:x}"), |d| {
                    d.str("compatible", "arm,gic-v2m-frame");
                    d.null("msi-controller");
                    d.cells("reg", &[0, off, 0, 0x10000]);
                });
            }
        });
        d.node("timer", |d| d.str("compatible", "arm,armv8-timer"));
        d.node("sram@2e000000", |d| {
            d.strs("compatible", &["arm,juno-sram-ns", "mmio-sram"]);
            d.cells("reg", &reg22(0x2e00_0000, 0x8000));
            d.u32("#address-cells", 1);
            d.u32("#size-cells", 1);
            d.cells("ranges", &[0, 0x0, 0x2e00_0000, 0x8000]);
            d.node("scp-shmem@0", |d| {
                d.str("compatible", "arm,juno-scp-shmem");
                d.cells("reg", &[0x0, 0x200]);
            });
        });
        d.node("pcie@40000000", |d| {
            d.strs("compatible", &["arm,juno-r1-pcie", "pci-host-ecam-generic"]);
            d.str("device_type", "pci");
            d.cells("reg", &reg22(0x4000_0000, 0x1000_0000));
            d.u32("#address-cells", 3);
            d.u32("#size-cells", 2);
        });
        d.node("uart@7ff80000", |d| {
            d.strs("compatible", &["arm,pl011", "arm,primecell"]);
            d.cells("reg", &reg22(0x7ff8_0000, 0x1000));
            d.cells("interrupts", &[GIC_SPI, 83, IRQ_TYPE_LEVEL_HIGH]);
        });
        d.node("i2c@7ffa0000", |d| {
            d.str("compatible", "snps,designware-i2c");
            d.cells("reg", &reg22(0x7ffa_0000, 0x1000));
            d.u32("#address-cells", 1);
            d.u32("#size-cells", 0);
            d.node("hdmi-transmitter@70", |d| {
                d.str("compatible", "nxp,tda998x");
                d.u32("reg", 0x70);
            });
        });
        d.node("memory@80000000", |d| {
            d.str("device_type", "memory");
            let mut reg = reg22(0x8000_0000, 0x7f00_0000).to_vec();
            reg.extend(reg22(0x8_8000_0000, 0x1_8000_0000));
            d.cells("reg", &reg);
        });
        d.node("bus@8000000", |d| {
            d.str("compatible", "simple-bus");
            d.u32("#address-cells", 2);
            d.u32("#size-cells", 1);
            let mut ranges = Vec::new();
            for (cs, base) in [
                (0u32, 0x0800_0000u32),
                (1, 0x1400_0000),
                (2, 0x1800_0000),
                (3, 0x1c00_0000),
                (4, 0x0c00_0000),
                (5, 0x1000_0000),
            ] {
                ranges.extend([cs, 0, 0, base, 0x0400_0000]);
            }
            d.cells("ranges", &ranges);
            d.node("motherboard-bus@8000000", |d| {
                d.strs("compatible", &["arm,vexpress,v2p-p1", "simple-bus"]);
                d.u32("#address-cells", 2);
                d.u32("#size-cells", 1);
                d.null("ranges");
                d.node("iofpga-bus@300000000", |d| {
                    d.str("compatible", "simple-bus");
                    d.u32("#address-cells", 1);
                    d.u32("#size-cells", 1);
                    d.cells("ranges", &[0, 3, 0, 0x20_0000]);
                    d.node("rtc@170000", |d| {
                        d.strs("compatible", &["arm,pl031", "arm,primecell"]);
                        d.cells("reg", &[0x17_0000, 0x1000]);
                    });
                });
            });
        });
    });
    d.finish()
}

// ---------------------------------------------------------------------------
// Raspberry Pi 4 (BCM2711)
// ---------------------------------------------------------------------------

/// Raspberry Pi 4 Model B: reproduces `arch/arm/boot/dts/broadcom/bcm283x.dtsi`
/// (`/memreserve/ 0x0 0x1000` for the firmware's spin stubs, aliases
/// `serial0 = &uart0` and `serial1 = &uart1`, `reserved-memory` with
/// `linux,cma`, `/soc` simple-bus cells 1/1, `serial@7e201000` `arm,pl011`,
/// `aux@7e215000`, `serial@7e215040` `brcm,bcm2835-aux-uart`),
/// `arch/arm/boot/dts/broadcom/bcm2711.dtsi` (root cells 2/1, `/soc` ranges
/// `<0x7e000000 0x0 0xfe000000 0x01800000>, <0x7c000000 0x0 0xfc000000
/// 0x02000000>, <0x40000000 0x0 0xff800000 0x00800000>`, GIC-400
/// `interrupt-controller@40041000` (reg 0x40041000/0x40042000/...),
/// `serial@7e201400..a00` PL011s disabled, `emmc2bus` and `scb` with 2-cell
/// child addresses, `/cpus` cells 1/0 with `enable-method =
/// "brcm,bcm2836-smp"`, 4x `arm,cortex-a72` at reg 0..3 with
/// `enable-method = "spin-table"` and 64-bit `cpu-release-addr` 0xd8, 0xe0,
/// 0xe8, 0xf0, no `capacity-dmips-mhz`, no cpu-map and no `/psci`;
/// `&rmem { #address-cells = <2>; }`), `bcm2711-rpi.dtsi` (`memory@0`
/// "filled by the bootloader", `nvram@0` disabled) and `bcm2711-rpi-4-b.dts`
/// (`stdout-path = "serial1:115200n8"`: the 8250 aux UART, `&uart1` okay).
/// `memory_reg` is the `memory@0` reg in cells (address 2, size 1): Linux
/// ships `<0 0 0>`; the firmware writes the real banks.
pub fn rpi4_with_memory(memory_reg: &[u32]) -> Vec<u8> {
    let mut d = Dt::with_memreserve(&[(0x0, 0x1000)]);
    d.node("", |d| {
        d.strs("compatible", &["raspberrypi,4-model-b", "brcm,bcm2711"]);
        d.str("model", "Raspberry Pi 4 Model B");
        d.u32("#address-cells", 2);
        d.u32("#size-cells", 1);
        d.u32("interrupt-parent", 1);
        d.node("aliases", |d| {
            d.str("serial0", "/soc/serial@7e201000");
            d.str("serial1", "/soc/serial@7e215040");
            d.str("emmc2bus", "/emmc2bus");
            d.str("ethernet0", "/scb/ethernet@7d580000");
            d.str("blconfig", "/reserved-memory/nvram@0");
        });
        d.node("chosen", |d| d.str("stdout-path", "serial1:115200n8"));
        d.node("reserved-memory", |d| {
            d.u32("#address-cells", 2);
            d.u32("#size-cells", 1);
            d.null("ranges");
            d.node("linux,cma", |d| {
                d.str("compatible", "shared-dma-pool");
                d.u32("size", 0x400_0000);
                d.null("reusable");
                d.null("linux,cma-default");
                d.cells("alloc-ranges", &[0x0, 0x0000_0000, 0x4000_0000]);
            });
            d.node("nvram@0", |d| {
                d.strs("compatible", &["raspberrypi,bootloader-config", "nvmem-rmem"]);
                d.u32("#address-cells", 1);
                d.u32("#size-cells", 1);
                d.cells("reg", &[0x0, 0x0, 0x0]);
                d.null("no-map");
                d.str("status", "disabled");
            });
        });
        d.node("thermal-zones", |d| {
            d.node("cpu-thermal", |d| {
                d.u32("polling-delay", 1000);
                d.node("trips", |d| {
                    d.node("cpu-crit", |d| d.u32("temperature", 90000));
                });
            });
        });
        d.node("soc", |d| {
            d.str("compatible", "simple-bus");
            d.u32("#address-cells", 1);
            d.u32("#size-cells", 1);
            d.cells(
                "ranges",
                &[
                    0x7e00_0000,
                    0x0,
                    0xfe00_0000,
                    0x0180_0000,
                    0x7c00_0000,
                    0x0,
                    0xfc00_0000,
                    0x0200_0000,
                    0x4000_0000,
                    0x0,
                    0xff80_0000,
                    0x0080_0000,
                ],
            );
            d.cells("dma-ranges", &[0xc000_0000, 0x0, 0x0000_0000, 0x4000_0000]);
            d.node("timer@7e003000", |d| {
                d.str("compatible", "brcm,bcm2835-system-timer");
                d.cells("reg", &[0x7e00_3000, 0x1000]);
            });
            d.node("gpio@7e200000", |d| {
                d.str("compatible", "brcm,bcm2711-gpio");
                d.cells("reg", &[0x7e20_0000, 0xb4]);
                d.node("uart0-gpio14", |d| d.cells("brcm,pins", &[14, 15]));
            });
            d.node("serial@7e201000", |d| {
                d.strs("compatible", &["arm,pl011", "arm,primecell"]);
                d.cells("reg", &[0x7e20_1000, 0x200]);
                d.cells("interrupts", &[GIC_SPI, 121, IRQ_TYPE_LEVEL_HIGH]);
                d.u32("arm,primecell-periphid", 0x0034_1011);
                d.null("uart-has-rtscts");
            });
            d.node("aux@7e215000", |d| {
                d.str("compatible", "brcm,bcm2835-aux");
                d.u32("#clock-cells", 1);
                d.cells("reg", &[0x7e21_5000, 0x8]);
            });
            d.node("serial@7e215040", |d| {
                d.str("compatible", "brcm,bcm2835-aux-uart");
                d.cells("reg", &[0x7e21_5040, 0x40]);
                d.cells("interrupts", &[GIC_SPI, 93, IRQ_TYPE_LEVEL_HIGH]);
                d.str("status", "okay");
            });
            d.node("interrupt-controller@40000000", |d| {
                d.str("compatible", "brcm,bcm2836-l1-intc");
                d.cells("reg", &[0x4000_0000, 0x100]);
            });
            d.node("interrupt-controller@40041000", |d| {
                d.null("interrupt-controller");
                d.u32("#interrupt-cells", 3);
                d.str("compatible", "arm,gic-400");
                d.cells("reg", &[0x4004_1000, 0x1000, 0x4004_2000, 0x2000, 0x4004_4000, 0x2000, 0x4004_6000, 0x2000]);
                d.phandle(1);
            });
            for at in [0x7e20_1400u32, 0x7e20_1600, 0x7e20_1800, 0x7e20_1a00] {
                d.node(&format!("serial@{at:x}"), |d| {
                    d.strs("compatible", &["arm,pl011", "arm,primecell"]);
                    d.cells("reg", &[at, 0x200]);
                    d.str("status", "disabled");
                });
            }
        });
        d.node("emmc2bus", |d| {
            d.str("compatible", "simple-bus");
            d.u32("#address-cells", 2);
            d.u32("#size-cells", 1);
            d.cells("ranges", &[0x0, 0x7e00_0000, 0x0, 0xfe00_0000, 0x0180_0000]);
            d.node("mmc@7e340000", |d| {
                d.str("compatible", "brcm,bcm2711-emmc2");
                d.cells("reg", &[0x0, 0x7e34_0000, 0x100]);
                d.str("status", "okay");
            });
        });
        d.node("pmu", |d| d.str("compatible", "arm,cortex-a72-pmu"));
        d.node("timer", |d| d.str("compatible", "arm,armv8-timer"));
        d.node("cpus", |d| {
            d.u32("#address-cells", 1);
            d.u32("#size-cells", 0);
            d.str("enable-method", "brcm,bcm2836-smp");
            for (i, release) in [0xd8u32, 0xe0, 0xe8, 0xf0].iter().enumerate() {
                d.node(&format!("cpu@{i}"), |d| {
                    d.str("device_type", "cpu");
                    d.str("compatible", "arm,cortex-a72");
                    d.u32("reg", i as u32);
                    d.str("enable-method", "spin-table");
                    d.cells("cpu-release-addr", &[0x0, *release]);
                    d.u32("next-level-cache", 2);
                });
            }
            d.node("l2-cache0", |d| {
                d.str("compatible", "cache");
                d.phandle(2);
            });
        });
        d.node("scb", |d| {
            d.str("compatible", "simple-bus");
            d.u32("#address-cells", 2);
            d.u32("#size-cells", 1);
            d.cells("ranges", &[0x0, 0x7c00_0000, 0x0, 0xfc00_0000, 0x0380_0000, 0x6, 0x0, 0x6, 0x0, 0x4000_0000]);
            d.node("pcie@7d500000", |d| {
                d.str("compatible", "brcm,bcm2711-pcie");
                d.cells("reg", &[0x0, 0x7d50_0000, 0x9310]);
                d.str("device_type", "pci");
                d.u32("#address-cells", 3);
                d.u32("#size-cells", 2);
                d.node("pci@0,0", |d| {
                    d.str("device_type", "pci");
                    d.u32("#address-cells", 3);
                    d.u32("#size-cells", 2);
                    d.null("ranges");
                    d.cells("reg", &[0, 0, 0, 0, 0]);
                    d.node("usb@0,0", |d| d.cells("reg", &[0, 0, 0, 0, 0]));
                });
            });
            d.node("ethernet@7d580000", |d| {
                d.str("compatible", "brcm,bcm2711-genet-v5");
                d.cells("reg", &[0x0, 0x7d58_0000, 0x10000]);
                d.u32("#address-cells", 1);
                d.u32("#size-cells", 1);
                d.node("mdio@e14", |d| {
                    d.str("compatible", "brcm,genet-mdio-v5");
                    d.cells("reg", &[0xe14, 0x8]);
                    d.u32("#address-cells", 1);
                    d.u32("#size-cells", 0);
                });
            });
        });
        d.node("memory@0", |d| {
            d.str("device_type", "memory");
            d.cells("reg", memory_reg);
        });
    });
    d.finish()
}

/// The banks the Raspberry Pi firmware writes into `memory@0` on a 4 GiB
/// board: 0x0..0x3b40_0000 (below the VideoCore carve-out) and
/// 0x4000_0000..0xfc00_0000 (below the peripherals).
pub const RPI4_4G_MEMORY: [u32; 6] = [0x0, 0x0, 0x3b40_0000, 0x0, 0x4000_0000, 0xbc00_0000];

/// [`rpi4_with_memory`] with the banks of a 4 GiB board.
pub fn rpi4() -> Vec<u8> {
    rpi4_with_memory(&RPI4_4G_MEMORY)
}

// ---------------------------------------------------------------------------
// Arm FVP Base RevC
// ---------------------------------------------------------------------------

/// Arm FVP Base RevC: reproduces `arch/arm64/boot/dts/arm/fvp-base-revc.dts`
/// (`/memreserve/ 0x80000000 0x00010000`, empty `chosen { };`, aliases
/// serial0..3, `/psci` "smc", 8x `arm,armv8` at reg `<0x0 0x000>`..`<0x0
/// 0x300>` and `<0x0 0x10000>`..`<0x0 0x10300>` with *no* cpu-map,
/// `memory@80000000` with two 2 GiB banks, `reserved-memory/vram@18000000`
/// outside RAM, GICv3 `interrupt-controller@2f000000` GICD 0x2f000000 /
/// GICR 0x2f100000) and `rtsm_ve-motherboard.dtsi` (`bus@8000000` with
/// chip-select ranges, `motherboard-bus` with `ranges;`,
/// `iofpga-bus@300000000` with `ranges = <0 3 0 0x200000>` holding the
/// PL011s `serial@90000`..`serial@c0000`). With no stdout-path the console is
/// the first PL011, three buses deep: 0x1c090000.
pub fn fvp_base_revc() -> Vec<u8> {
    fvp_base_revc_with_stdout(None)
}

/// [`fvp_base_revc`] with `chosen/stdout-path` set (Linux leaves it empty).
pub fn fvp_base_revc_with_stdout(stdout: Option<&str>) -> Vec<u8> {
    let mut d = Dt::with_memreserve(&[(0x8000_0000, 0x10000)]);
    d.node("", |d| {
        d.str("model", "FVP Base RevC");
        d.strs("compatible", &["arm,fvp-base-revc", "arm,vexpress"]);
        d.u32("interrupt-parent", 1);
        d.u32("#address-cells", 2);
        d.u32("#size-cells", 2);
        d.node("v2m-3v3", |d| d.str("compatible", "regulator-fixed"));
        d.node("mcc", |d| {
            d.str("compatible", "arm,vexpress,config-bus");
            d.node("oscclk1", |d| d.str("compatible", "arm,vexpress-osc"));
            d.node("reset", |d| d.str("compatible", "arm,vexpress-reset"));
        });
        d.node("bus@8000000", |d| {
            d.str("compatible", "simple-bus");
            d.u32("#address-cells", 2);
            d.u32("#size-cells", 1);
            // An interrupt nexus: `<0 0 N>` -> GIC SPI N, for N = 0..=63.
            d.u32("#interrupt-cells", 1);
            d.cells("interrupt-map-mask", &[0, 0, 63]);
            let mut map = Vec::new();
            for n in 0..64 {
                map.extend([0, 0, n, 1, GIC_SPI, n, IRQ_TYPE_LEVEL_HIGH]);
            }
            d.cells("interrupt-map", &map);
            let mut ranges = Vec::new();
            for (cs, base) in [
                (0u32, 0x0800_0000u32),
                (1, 0x1400_0000),
                (2, 0x1800_0000),
                (3, 0x1c00_0000),
                (4, 0x0c00_0000),
                (5, 0x1000_0000),
            ] {
                ranges.extend([cs, 0, 0, base, 0x0400_0000]);
            }
            d.cells("ranges", &ranges);
            d.node("motherboard-bus", |d| {
                d.str("arm,v2m-memory-map", "rs1");
                d.strs("compatible", &["arm,vexpress,v2m-p1", "simple-bus"]);
                d.u32("#address-cells", 2);
                d.u32("#size-cells", 1);
                d.null("ranges");
                d.node("flash@0", |d| {
                    d.strs("compatible", &["arm,vexpress-flash", "cfi-flash"]);
                    d.cells("reg", &[0, 0, 0x0400_0000, 4, 0, 0x0400_0000]);
                });
                d.node("iofpga-bus@300000000", |d| {
                    d.str("compatible", "simple-bus");
                    d.u32("#address-cells", 1);
                    d.u32("#size-cells", 1);
                    d.cells("ranges", &[0, 3, 0, 0x20_0000]);
                    d.node("sysreg@10000", |d| {
                        d.str("compatible", "arm,vexpress-sysreg");
                        d.cells("reg", &[0x01_0000, 0x1000]);
                    });
                    for (i, at) in [0x09_0000u32, 0x0a_0000, 0x0b_0000, 0x0c_0000].into_iter().enumerate() {
                        d.node(&format!("serial@{at:x}"), |d| {
                            d.strs("compatible", &["arm,pl011", "arm,primecell"]);
                            d.cells("reg", &[at, 0x1000]);
                            d.u32("interrupts", 5 + i as u32);
                        });
                    }
                });
            });
        });
        d.node("chosen", |d| {
            if let Some(path) = stdout {
                d.str("stdout-path", path);
            }
        });
        d.node("aliases", |d| {
            for i in 0..4 {
                let at = 0x9 + i;
                d.str(
                    &format!("serial{i}"),
                    &format!("/bus@8000000/motherboard-bus/iofpga-bus@300000000/serial@{at:x}0000"),
                );
            }
        });
        d.node("psci", |d| {
            d.str("compatible", "arm,psci-0.2");
            d.str("method", "smc");
        });
        d.node("cpus", |d| {
            d.u32("#address-cells", 2);
            d.u32("#size-cells", 0);
            for reg in FVP_MPIDRS {
                d.node(&format!("cpu@{reg:x}"), |d| {
                    d.str("device_type", "cpu");
                    d.str("compatible", "arm,armv8");
                    d.cells("reg", &[0x0, reg as u32]);
                    d.str("enable-method", "psci");
                });
            }
        });
        d.node("memory@80000000", |d| {
            d.str("device_type", "memory");
            let mut reg = reg22(0x8000_0000, 0x8000_0000).to_vec();
            reg.extend(reg22(0x8_8000_0000, 0x8000_0000));
            d.cells("reg", &reg);
        });
        d.node("reserved-memory", |d| {
            d.u32("#address-cells", 2);
            d.u32("#size-cells", 2);
            d.null("ranges");
            d.node("vram@18000000", |d| {
                d.str("compatible", "shared-dma-pool");
                d.cells("reg", &reg22(0x1800_0000, 0x80_0000));
                d.null("no-map");
            });
        });
        d.node("interrupt-controller@2f000000", |d| {
            d.str("compatible", "arm,gic-v3");
            d.u32("#interrupt-cells", 3);
            d.u32("#address-cells", 2);
            d.u32("#size-cells", 2);
            d.null("ranges");
            d.null("interrupt-controller");
            let mut reg = Vec::new();
            for (a, s) in [
                (0x2f00_0000u64, 0x10000u64),
                (0x2f10_0000, 0x20_0000),
                (0x2c00_0000, 0x2000),
                (0x2c01_0000, 0x2000),
                (0x2c02_f000, 0x2000),
            ] {
                reg.extend(reg22(a, s));
            }
            d.cells("reg", &reg);
            d.phandle(1);
            d.node("msi-controller@2f020000", |d| {
                d.str("compatible", "arm,gic-v3-its");
                d.cells("reg", &reg22(0x2f02_0000, 0x20000));
            });
        });
        d.node("timer", |d| d.str("compatible", "arm,armv8-timer"));
    });
    d.finish()
}

/// MPIDRs of the FVP Base RevC CPUs, in tree order.
pub const FVP_MPIDRS: [u64; 8] = [0x0, 0x100, 0x200, 0x300, 0x10000, 0x10100, 0x10200, 0x10300];

// ---------------------------------------------------------------------------
// QEMU virt
// ---------------------------------------------------------------------------

/// Which interrupt controller a QEMU virt tree describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QemuGic {
    /// `-M virt,gic-version=2`: `arm,cortex-a15-gic` with a `v2m@8020000` child.
    V2,
    /// `-M virt,gic-version=3`: `arm,gic-v3` with an `its@8080000` child.
    V3,
}

/// A `qemu-system-aarch64 -M virt` tree, as QEMU 10 generates it
/// (`hw/arm/virt.c`; checked against `-M virt,dumpdtb=` output): root cells
/// 2/2, `/psci` `arm,psci-1.0` with `method`, `memory@40000000`,
/// `platform-bus@c000000`, `fw-cfg@9020000`, 32 `virtio_mmio@a000000..`,
/// `gpio-keys`, `pl061@9030000`, `pcie@10000000` (`#address-cells = <3>`),
/// `pl031@9010000`, `pl011@9000000`, `pmu`, `intc@8000000` (GICv2 0x8000000 /
/// 0x8010000, or GICv3 0x8000000 / redistributors 0x80a0000) with its MSI
/// child, `flash@0`, `/cpus` cells 1/0 with `cpu-map/socket0/clusterN/coreM`,
/// `timer`, `apb-pclk`, `aliases { serial0 = "/pl011@9000000"; }` and
/// `chosen { stdout-path = "/pl011@9000000"; }`.
///
/// QEMU numbers phandles from 0x8000 (the clock), gives the CPUs the next
/// ones in *reverse* order (cpu@0 has the highest), then the GIC and its MSI
/// frame. MPIDR Aff1 is `index / 8` for GICv2 and `index / 16` for GICv3,
/// whatever `-smp clusters=` says. QEMU never writes `capacity-dmips-mhz`;
/// [`QemuVirt::clusters`] with capacities is an extension for big.LITTLE
/// plans. With one CPU QEMU omits `enable-method`.
#[derive(Debug, Clone)]
pub struct QemuVirt {
    pub gic: QemuGic,
    /// Cores per cluster and their `capacity-dmips-mhz` (None: not written).
    pub clusters: Vec<(usize, Option<u32>)>,
    /// Write `/cpus/cpu-map` (QEMU always does).
    pub cpu_map: bool,
    pub cpu_compatible: &'static str,
    /// `/psci` `method`, or no `/psci` node.
    pub psci: Option<&'static str>,
    /// `/memory@...` banks (address, size), or no memory node if empty.
    pub memory: Vec<(u64, u64)>,
    /// Header `/memreserve/` entries.
    pub memreserve: Vec<(u64, u64)>,
    /// `/reserved-memory` children `(address, size)`.
    pub reserved: Vec<(u64, u64)>,
    pub bootargs: Option<&'static str>,
    /// Write `/cpus` at all.
    pub cpus_node: bool,
    /// `-M virt,secure=on`: secure-only RAM (`secram@e000000`), UART and
    /// flash with `status = "disabled"; secure-status = "okay"`, and a
    /// `secure-chosen` node. QEMU then writes no `/psci` (the EL3
    /// firmware owns PSCI), so set `psci: None` with it. (The secure
    /// `gpio-restart`, `gpio-poweroff` and `pl061@90b0000` are left out.)
    pub secure: bool,
}

impl QemuVirt {
    /// `-M virt,gic-version=2 -cpu cortex-a55 -smp N -m 1G` with one cluster.
    pub fn new(gic: QemuGic, clusters: &[(usize, Option<u32>)]) -> Self {
        QemuVirt {
            gic,
            clusters: clusters.to_vec(),
            cpu_map: true,
            cpu_compatible: "arm,cortex-a55",
            psci: Some("hvc"),
            memory: vec![(0x4000_0000, GIB)],
            memreserve: Vec::new(),
            reserved: Vec::new(),
            bootargs: None,
            cpus_node: true,
            secure: false,
        }
    }

    pub fn cpu_count(&self) -> usize {
        self.clusters.iter().map(|c| c.0).sum()
    }

    /// The MPIDR QEMU gives vCPU `index` (`virt_cpu_mp_affinity`).
    pub fn mpidr(&self, index: usize) -> u64 {
        let per_aff1 = match self.gic {
            QemuGic::V2 => 8,
            QemuGic::V3 => 16,
        };
        (((index / per_aff1) << 8) | (index % per_aff1)) as u64
    }

    /// QEMU's phandle for vCPU `index`.
    pub fn cpu_phandle(&self, index: usize) -> u32 {
        0x8000 + (self.cpu_count() - index) as u32
    }

    pub fn gic_phandle(&self) -> u32 {
        0x8000 + self.cpu_count() as u32 + 1
    }

    pub fn build(&self) -> Vec<u8> {
        let mut d = Dt::with_memreserve(&self.memreserve);
        let n = self.cpu_count();
        let gic_ph = self.gic_phandle();
        d.node("", |d| {
            d.u32("interrupt-parent", gic_ph);
            d.null("dma-coherent");
            d.str("model", "linux,dummy-virt");
            d.u32("#size-cells", 2);
            d.u32("#address-cells", 2);
            d.str("compatible", "linux,dummy-virt");
            if let Some(method) = self.psci {
                d.node("psci", |d| {
                    d.u32("migrate", 0xc400_0005);
                    d.u32("cpu_on", 0xc400_0003);
                    d.u32("cpu_off", 0x8400_0002);
                    d.u32("cpu_suspend", 0xc400_0001);
                    d.str("method", method);
                    d.strs("compatible", &["arm,psci-1.0", "arm,psci-0.2", "arm,psci"]);
                });
            }
            for &(start, size) in &self.memory {
                d.node(&format!("memory@{start:x}"), |d| {
                    d.cells("reg", &reg22(start, size));
                    d.str("device_type", "memory");
                });
            }
            if !self.reserved.is_empty() {
                d.node("reserved-memory", |d| {
                    d.u32("#address-cells", 2);
                    d.u32("#size-cells", 2);
                    d.null("ranges");
                    for &(start, size) in &self.reserved {
                        d.node(&format!("region@{start:x}"), |d| {
                            d.cells("reg", &reg22(start, size));
                            d.null("no-map");
                        });
                    }
                });
            }
            d.node("platform-bus@c000000", |d| {
                d.u32("interrupt-parent", gic_ph);
                d.cells("ranges", &[0x0, 0x0, 0xc00_0000, 0x200_0000]);
                d.u32("#address-cells", 1);
                d.u32("#size-cells", 1);
                d.strs("compatible", &["qemu,platform", "simple-bus"]);
            });
            d.node("fw-cfg@9020000", |d| {
                d.null("dma-coherent");
                d.cells("reg", &reg22(0x902_0000, 0x18));
                d.str("compatible", "qemu,fw-cfg-mmio");
            });
            for i in 0..32u64 {
                let at = 0xa00_0000 + i * 0x200;
                d.node(&format!("virtio_mmio@{at:x}"), |d| {
                    d.null("dma-coherent");
                    d.cells("interrupts", &[0x0, 0x10 + i as u32, 0x1]);
                    d.cells("reg", &reg22(at, 0x200));
                    d.str("compatible", "virtio,mmio");
                });
            }
            d.node("gpio-keys", |d| {
                d.str("compatible", "gpio-keys");
                d.node("poweroff", |d| {
                    d.cells("gpios", &[gic_ph + 2, 0x3, 0x0]);
                    d.u32("linux,code", 0x74);
                    d.str("label", "GPIO Key Poweroff");
                });
            });
            d.node("pl061@9030000", |d| {
                d.phandle(gic_ph + 2);
                d.str("clock-names", "apb_pclk");
                d.u32("clocks", 0x8000);
                d.cells("interrupts", &[0x0, 0x7, 0x4]);
                d.null("gpio-controller");
                d.u32("#gpio-cells", 2);
                d.strs("compatible", &["arm,pl061", "arm,primecell"]);
                d.cells("reg", &reg22(0x903_0000, 0x1000));
            });
            d.node("pcie@10000000", |d| {
                d.cells("interrupt-map-mask", &[0x1800, 0x0, 0x0, 0x7]);
                d.cells("interrupt-map", &[0x0, 0x0, 0x0, 0x1, gic_ph, 0x0, 0x0, 0x0, 0x3, 0x4]);
                d.u32("#interrupt-cells", 1);
                d.cells(
                    "ranges",
                    &[
                        0x100_0000,
                        0x0,
                        0x0,
                        0x0,
                        0x3eff_0000,
                        0x0,
                        0x1_0000,
                        0x200_0000,
                        0x0,
                        0x1000_0000,
                        0x0,
                        0x1000_0000,
                        0x0,
                        0x2eff_0000,
                        0x300_0000,
                        0x80,
                        0x0,
                        0x80,
                        0x0,
                        0x80,
                        0x0,
                    ],
                );
                d.cells("reg", &reg22(0x40_1000_0000, 0x1000_0000));
                d.cells("msi-map", &[0x0, gic_ph + 1, 0x0, 0x1_0000]);
                d.null("dma-coherent");
                d.cells("bus-range", &[0x0, 0xff]);
                d.u32("linux,pci-domain", 0);
                d.u32("#size-cells", 2);
                d.u32("#address-cells", 3);
                d.str("device_type", "pci");
                d.str("compatible", "pci-host-ecam-generic");
            });
            d.node("pl031@9010000", |d| {
                d.str("clock-names", "apb_pclk");
                d.u32("clocks", 0x8000);
                d.cells("interrupts", &[0x0, 0x2, 0x4]);
                d.cells("reg", &reg22(0x901_0000, 0x1000));
                d.strs("compatible", &["arm,pl031", "arm,primecell"]);
            });
            if self.secure {
                d.node("secram@e000000", |d| {
                    d.str("secure-status", "okay");
                    d.str("status", "disabled");
                    d.cells("reg", &reg22(0xe00_0000, 0x100_0000));
                    d.str("device_type", "memory");
                });
                d.node("pl011@9040000", |d| {
                    d.str("secure-status", "okay");
                    d.str("status", "disabled");
                    d.strs("clock-names", &["uartclk", "apb_pclk"]);
                    d.cells("clocks", &[0x8000, 0x8000]);
                    d.cells("interrupts", &[0x0, 0x8, 0x4]);
                    d.cells("reg", &reg22(0x904_0000, 0x1000));
                    d.strs("compatible", &["arm,pl011", "arm,primecell"]);
                });
            }
            d.node("pl011@9000000", |d| {
                d.strs("clock-names", &["uartclk", "apb_pclk"]);
                d.cells("clocks", &[0x8000, 0x8000]);
                d.cells("interrupts", &[0x0, 0x1, 0x4]);
                d.cells("reg", &reg22(0x900_0000, 0x1000));
                d.strs("compatible", &["arm,pl011", "arm,primecell"]);
            });
            // GICv2 PPIs carry a CPU mask in the flags cell (0xff04); v3 has none.
            let ppi_flags = match self.gic {
                QemuGic::V2 => 0xff04,
                QemuGic::V3 => 0x4,
            };
            d.node("pmu", |d| {
                d.cells("interrupts", &[0x1, 0x7, ppi_flags]);
                d.str("compatible", "arm,armv8-pmuv3");
            });
            d.node("intc@8000000", |d| {
                d.phandle(gic_ph);
                match self.gic {
                    QemuGic::V2 => {
                        let mut reg = reg22(0x800_0000, 0x1_0000).to_vec();
                        reg.extend(reg22(0x801_0000, 0x1_0000));
                        d.cells("reg", &reg);
                        d.str("compatible", "arm,cortex-a15-gic");
                    }
                    QemuGic::V3 => {
                        let mut reg = reg22(0x800_0000, 0x1_0000).to_vec();
                        reg.extend(reg22(0x80a_0000, 0xf6_0000));
                        d.cells("reg", &reg);
                        d.u32("#redistributor-regions", 1);
                        d.str("compatible", "arm,gic-v3");
                    }
                }
                d.null("ranges");
                d.u32("#size-cells", 2);
                d.u32("#address-cells", 2);
                d.null("interrupt-controller");
                d.u32("#interrupt-cells", 3);
                match self.gic {
                    QemuGic::V2 => d.node("v2m@8020000", |d| {
                        d.phandle(gic_ph + 1);
                        d.cells("reg", &reg22(0x802_0000, 0x1000));
                        d.null("msi-controller");
                        d.str("compatible", "arm,gic-v2m-frame");
                    }),
                    QemuGic::V3 => d.node("its@8080000", |d| {
                        d.phandle(gic_ph + 1);
                        d.cells("reg", &reg22(0x808_0000, 0x2_0000));
                        d.u32("#msi-cells", 1);
                        d.null("msi-controller");
                        d.str("compatible", "arm,gic-v3-its");
                    }),
                }
            });
            if self.secure {
                d.node("flash@4000000", |d| {
                    d.u32("bank-width", 4);
                    d.cells("reg", &reg22(0x400_0000, 0x400_0000));
                    d.str("compatible", "cfi-flash");
                });
                d.node("secflash@0", |d| {
                    d.str("secure-status", "okay");
                    d.str("status", "disabled");
                    d.u32("bank-width", 4);
                    d.cells("reg", &reg22(0x0, 0x400_0000));
                    d.str("compatible", "cfi-flash");
                });
            } else {
                d.node("flash@0", |d| {
                    d.u32("bank-width", 4);
                    let mut reg = reg22(0x0, 0x400_0000).to_vec();
                    reg.extend(reg22(0x400_0000, 0x400_0000));
                    d.cells("reg", &reg);
                    d.str("compatible", "cfi-flash");
                });
            }
            if self.cpus_node {
                d.node("cpus", |d| {
                    d.u32("#size-cells", 0);
                    d.u32("#address-cells", 1);
                    if self.cpu_map && n > 0 {
                        d.node("cpu-map", |d| {
                            d.node("socket0", |d| {
                                let mut index = 0;
                                for (c, &(cores, _)) in self.clusters.iter().enumerate() {
                                    d.node(&format!("cluster{c}"), |d| {
                                        for core in 0..cores {
                                            let ph = self.cpu_phandle(index + core);
                                            d.node(&format!("core{core}"), |d| d.u32("cpu", ph));
                                        }
                                    });
                                    index += cores;
                                }
                            });
                        });
                    }
                    let mut index = 0;
                    for &(cores, capacity) in &self.clusters {
                        for _ in 0..cores {
                            d.node(&format!("cpu@{index}"), |d| {
                                d.phandle(self.cpu_phandle(index));
                                d.u32("reg", self.mpidr(index) as u32);
                                if n > 1 {
                                    d.str("enable-method", "psci");
                                }
                                d.str("compatible", self.cpu_compatible);
                                d.str("device_type", "cpu");
                                if let Some(cap) = capacity {
                                    d.u32("capacity-dmips-mhz", cap);
                                }
                            });
                            index += 1;
                        }
                    }
                });
            }
            d.node("timer", |d| {
                let mut irqs = Vec::new();
                for ppi in [0xd, 0xe, 0xb, 0xa] {
                    irqs.extend([0x1, ppi, ppi_flags]);
                }
                d.cells("interrupts", &irqs);
                d.null("always-on");
                d.strs("compatible", &["arm,armv8-timer", "arm,armv7-timer"]);
            });
            d.node("apb-pclk", |d| {
                d.phandle(0x8000);
                d.str("clock-output-names", "clk24mhz");
                d.u32("clock-frequency", 24_000_000);
                d.u32("#clock-cells", 0);
                d.str("compatible", "fixed-clock");
            });
            d.node("aliases", |d| {
                if self.secure {
                    d.str("serial1", "/pl011@9040000");
                }
                d.str("serial0", "/pl011@9000000");
            });
            if self.secure {
                d.node("secure-chosen", |d| d.str("stdout-path", "/pl011@9040000"));
            }
            d.node("chosen", |d| {
                if let Some(args) = self.bootargs {
                    d.str("bootargs", args);
                }
                d.str("stdout-path", "/pl011@9000000");
                d.cells("rng-seed", &[0x1f93_0d6b, 0xfe12_438a, 0x5671_5faa, 0x1fcf_b034]);
                d.cells("kaslr-seed", &[0xf620_7131, 0x4017_4b4e]);
            });
        });
        d.finish()
    }
}

/// `-smp 4`: one cluster of four `arm,cortex-a55`, GICv2.
pub fn qemu_1x4() -> QemuVirt {
    QemuVirt::new(QemuGic::V2, &[(4, None)])
}

/// Two clusters of four: capacity 1024 then 530 (a big.LITTLE extension of
/// `-smp 8,clusters=2`), GICv2.
pub fn qemu_2x4_big_little() -> QemuVirt {
    QemuVirt::new(QemuGic::V2, &[(4, Some(1024)), (4, Some(530))])
}

/// Three clusters: 4 (530) + 2 (1024) + 2 (1024), laid out like the RK3588
/// but in QEMU's tree shape, GICv2.
pub fn qemu_4_2_2() -> QemuVirt {
    QemuVirt::new(QemuGic::V2, &[(4, Some(530)), (2, Some(1024)), (2, Some(1024))])
}

/// The committed QEMU 10 fixture (see `tests/data/README.md`).
pub const QEMU_GICV3_2X4_DTB: &[u8] = include_bytes!("../data/qemu-virt-gicv3-2x4.dtb");

// ---------------------------------------------------------------------------
// Small hand-made trees
// ---------------------------------------------------------------------------

/// A minimal QEMU-shaped tree (root cells 2/2, `/psci` "hvc", 1 GiB at
/// 0x4000_0000, GICv2, PL011) whose `/cpus` body (after `#address-cells =
/// <1>; #size-cells = <0>`) is written by `cpus`. For hand-broken trees.
pub fn tree_with_cpus(cpus: impl FnOnce(&mut Dt)) -> Vec<u8> {
    tree22(|d| {
        d.str("compatible", "linux,dummy-virt");
        d.node("psci", |d| {
            d.str("compatible", "arm,psci-1.0");
            d.str("method", "hvc");
        });
        one_gib_of_memory(d);
        d.node("intc@8000000", |d| {
            d.str("compatible", "arm,cortex-a15-gic");
            let mut reg = reg22(0x800_0000, 0x1_0000).to_vec();
            reg.extend(reg22(0x801_0000, 0x1_0000));
            d.cells("reg", &reg);
        });
        d.node("pl011@9000000", |d| {
            d.strs("compatible", &["arm,pl011", "arm,primecell"]);
            d.cells("reg", &reg22(0x900_0000, 0x1000));
        });
        d.node("cpus", |d| {
            d.u32("#address-cells", 1);
            d.u32("#size-cells", 0);
            cpus(d);
        });
    })
}

/// A tree whose root has `#address-cells = <2>; #size-cells = <2>` and
/// whatever `body` then writes inside it. For hand-broken trees that need
/// their own `/cpus` or memory node, or a particular node order; use
/// [`one_cpu`] and [`one_gib_of_memory`] for the parts that are not broken.
pub fn tree22(body: impl FnOnce(&mut Dt)) -> Vec<u8> {
    let mut d = Dt::new();
    d.node("", |d| {
        d.u32("#address-cells", 2);
        d.u32("#size-cells", 2);
        body(d);
    });
    d.finish()
}

/// A tree that parses as it is: [`tree22`] with [`one_cpu`] and
/// [`one_gib_of_memory`], then whatever `extra` writes in the root node.
pub fn minimal_tree(extra: impl FnOnce(&mut Dt)) -> Vec<u8> {
    tree22(|d| {
        one_cpu(d);
        one_gib_of_memory(d);
        extra(d);
    })
}

/// `/cpus` (`#address-cells = <1>; #size-cells = <0>`) holding one
/// [`cpu_node`]: `cpu@0`, PSCI, no phandle.
pub fn one_cpu(d: &mut Dt) {
    d.node("cpus", |d| {
        d.u32("#address-cells", 1);
        d.u32("#size-cells", 0);
        cpu_node(d, 0, None, |_| {});
    });
}

/// `memory@40000000`: 1 GiB of RAM at 0x4000_0000, in root cells 2/2.
pub fn one_gib_of_memory(d: &mut Dt) {
    d.node("memory@40000000", |d| {
        d.str("device_type", "memory");
        d.cells("reg", &reg22(0x4000_0000, GIB));
    });
}

/// A `cpu@N` node with `reg`, `phandle` (if any), `device_type`,
/// `compatible` and `enable-method = "psci"`, then whatever `extra` adds.
pub fn cpu_node(d: &mut Dt, reg: u32, phandle: Option<u32>, extra: impl FnOnce(&mut Dt)) {
    d.node(&format!("cpu@{reg:x}"), |d| {
        d.str("device_type", "cpu");
        d.str("compatible", "arm,cortex-a53");
        d.u32("reg", reg);
        d.str("enable-method", "psci");
        if let Some(ph) = phandle {
            d.phandle(ph);
        }
        extra(d);
    });
}

/// A `cpu-map` whose clusters list the given phandles, one `coreN` each.
pub fn cpu_map(d: &mut Dt, clusters: &[&[u32]]) {
    d.node("cpu-map", |d| {
        for (c, phandles) in clusters.iter().enumerate() {
            d.node(&format!("cluster{c}"), |d| {
                for (i, ph) in phandles.iter().enumerate() {
                    d.node(&format!("core{i}"), |d| d.u32("cpu", *ph));
                }
            });
        }
    });
}

/// `blob` with the first occurrence of `from` replaced by `to` (same length).
pub fn patched(blob: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len(), "patch must keep the length");
    let at = blob.windows(from.len()).position(|w| w == from).expect("pattern not in blob");
    let mut out = blob.to_vec();
    out[at..at + to.len()].copy_from_slice(to);
    out
}

/// Big-endian `u32` at `at`.
pub fn be32(blob: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([blob[at], blob[at + 1], blob[at + 2], blob[at + 3]])
}

/// `blob` with the big-endian `u32` at `at` replaced by `v`.
pub fn with_be32(blob: &[u8], at: usize, v: u32) -> Vec<u8> {
    let mut out = blob.to_vec();
    out[at..at + 4].copy_from_slice(&v.to_be_bytes());
    out
}

/// Header field offsets (FDT v17).
pub mod hdr {
    pub const MAGIC: usize = 0;
    pub const TOTALSIZE: usize = 4;
    pub const OFF_DT_STRUCT: usize = 8;
    pub const OFF_DT_STRINGS: usize = 12;
    pub const OFF_MEM_RSVMAP: usize = 16;
    pub const VERSION: usize = 20;
    pub const LAST_COMP_VERSION: usize = 24;
    pub const BOOT_CPUID_PHYS: usize = 28;
    pub const SIZE_DT_STRINGS: usize = 32;
    pub const SIZE_DT_STRUCT: usize = 36;
}

/// Counts the tokens of the structure block: (BEGIN_NODE, END_NODE, PROP, NOP).
pub fn count_tokens(blob: &[u8]) -> (usize, usize, usize, usize) {
    let start = be32(blob, hdr::OFF_DT_STRUCT) as usize;
    let end = start + be32(blob, hdr::SIZE_DT_STRUCT) as usize;
    let (mut begin, mut finish, mut prop, mut nop) = (0, 0, 0, 0);
    let mut at = start;
    while at + 4 <= end {
        let token = be32(blob, at);
        at += 4;
        match token {
            1 => {
                begin += 1;
                let name_len = blob[at..].iter().position(|&b| b == 0).expect("node name");
                at = (at + name_len + 1 + 3) & !3;
            }
            2 => finish += 1,
            3 => {
                prop += 1;
                let len = be32(blob, at) as usize;
                at = (at + 8 + len + 3) & !3;
            }
            4 => nop += 1,
            9 => break,
            other => panic!("unexpected token {other:#x} at {at:#x}"),
        }
    }
    (begin, finish, prop, nop)
}

/// Every node of the tree as `path: prop1,prop2,...` (property names in
/// tree order), walking the structure block directly and skipping NOPs.
pub fn node_outline(blob: &[u8]) -> Vec<String> {
    let start = be32(blob, hdr::OFF_DT_STRUCT) as usize;
    let end = start + be32(blob, hdr::SIZE_DT_STRUCT) as usize;
    let strings = be32(blob, hdr::OFF_DT_STRINGS) as usize;
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut at = start;
    while at + 4 <= end {
        let token = be32(blob, at);
        at += 4;
        match token {
            1 => {
                let len = blob[at..].iter().position(|&b| b == 0).expect("node name");
                let name = String::from_utf8_lossy(&blob[at..at + len]).into_owned();
                at = (at + len + 1 + 3) & !3;
                let path = match stack.last() {
                    None => "/".to_string(),
                    Some(&parent) if out[parent].0 == "/" => format!("/{name}"),
                    Some(&parent) => format!("{}/{name}", out[parent].0),
                };
                stack.push(out.len());
                out.push((path, Vec::new()));
            }
            2 => {
                stack.pop();
            }
            3 => {
                let len = be32(blob, at) as usize;
                let name_off = strings + be32(blob, at + 4) as usize;
                let name_len = blob[name_off..].iter().position(|&b| b == 0).expect("prop name");
                let name = String::from_utf8_lossy(&blob[name_off..name_off + name_len]).into_owned();
                let node = *stack.last().expect("property outside a node");
                out[node].1.push(name);
                at = (at + 8 + len + 3) & !3;
            }
            4 => {}
            9 => break,
            other => panic!("unexpected token {other:#x}"),
        }
    }
    out.into_iter().map(|(path, props)| format!("{path}: {}", props.join(","))).collect()
}

/// A small deterministic PRNG (xorshift64*) for the corruption tests.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-ish in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
