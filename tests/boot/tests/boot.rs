//! Boot scenarios under QEMU `virt`: every node line and the summary.

use boot_tests::{boot, preset_machine, Expect, BOOTARGS};
use xtask::qemu::Machine;

const BIG: &str = "big";
const LITTLE: &str = "little";

#[test]
fn one_core() {
    let m = Machine { smp: 1, append: BOOTARGS.into(), ..Machine::default() };
    boot(&m).assert_nodes(&[Expect { build: BIG, mpidrs: &[0], capacity: 1024 }]);
}

#[test]
fn one_cluster_of_four_gicv3() {
    let m = preset_machine("1x4", 3);
    let b = boot(&m);
    b.assert_nodes(&[Expect { build: BIG, mpidrs: &[0, 1, 2, 3], capacity: 1024 }]);
    b.assert_matches_plan(&m);
}

#[test]
fn one_cluster_of_four_gicv2() {
    let m = preset_machine("1x4", 2);
    boot(&m).assert_nodes(&[Expect { build: BIG, mpidrs: &[0, 1, 2, 3], capacity: 1024 }]);
}

/// `-smp 8,clusters=2`: QEMU's own device tree and cpu-map, all cores equal.
#[test]
fn eight_cores_in_two_qemu_clusters() {
    let m = Machine { smp: 8, clusters: Some(2), gic: 2, append: BOOTARGS.into(), ..Machine::default() };
    boot(&m).assert_nodes(&[
        Expect { build: BIG, mpidrs: &[0, 1, 2, 3], capacity: 1024 },
        Expect { build: BIG, mpidrs: &[4, 5, 6, 7], capacity: 1024 },
    ]);
}

#[test]
fn big_and_little_clusters_4_plus_4() {
    let m = preset_machine("4+4", 3);
    let b = boot(&m);
    b.assert_nodes(&[
        Expect { build: BIG, mpidrs: &[0, 1, 2, 3], capacity: 1024 },
        Expect { build: LITTLE, mpidrs: &[4, 5, 6, 7], capacity: 530 },
    ]);
    b.assert_matches_plan(&m);
}

const RK3588_SHAPE: [Expect; 3] = [
    Expect { build: LITTLE, mpidrs: &[0, 1, 2, 3], capacity: 530 },
    Expect { build: BIG, mpidrs: &[4, 5], capacity: 1024 },
    Expect { build: BIG, mpidrs: &[6, 7], capacity: 1024 },
];

#[test]
fn rk3588_shape_three_clusters_gicv3() {
    let m = preset_machine("4+2+2", 3);
    let b = boot(&m);
    b.assert_nodes(&RK3588_SHAPE);
    b.assert_matches_plan(&m);
}

#[test]
fn rk3588_shape_three_clusters_gicv2() {
    let m = preset_machine("4+2+2", 2);
    boot(&m).assert_nodes(&RK3588_SHAPE);
}

/// Entered at EL2 (`virtualization=on`): PSCI goes over SMC, as the DT says.
#[test]
fn rk3588_shape_entered_at_el2_with_smc_conduit() {
    let mut m = preset_machine("4+2+2", 3);
    m.virtualization = true;
    let dtb = m.dtb.take().expect("preset DTB");
    // Regenerate: with virtualization=on QEMU's tree says method = "smc".
    let p = xtask::dtb::preset("4+2+2").expect("preset");
    let qemu_tree = xtask::dtb::dump(&Machine { smp: 8, virtualization: true, ..m.clone() }).expect("dumpdtb");
    let blob = xtask::dtb::rewrite(&qemu_tree, p.clusters).expect("rewrite");
    let path = dtb.with_file_name("4+2+2-el2-test.dtb");
    std::fs::write(&path, &blob).expect("write DTB");
    let plan = xtask::plan::plan(&blob).expect("plan");
    assert_eq!(plan.topology.psci.map(|c| c.name()), Some("smc"));
    m.dtb = Some(path);
    m.append = format!("{} plan", m.append);
    let b = boot(&m);
    b.assert_nodes(&RK3588_SHAPE);
    // Every core was started once into the boot driver's probe (over SMC,
    // from EL2) and off again before its real start.
    assert!(
        b.captured.console.contains("\nboot: checked 8 of 8 cpus on themselves: LSE atomics, LRCPC\n"),
        "{}",
        b.captured.console
    );
}

/// Without `poweroff` the machine stays up after the summary.
#[test]
fn stays_up_without_poweroff() {
    let m = Machine { smp: 2, ..Machine::default() };
    let c = xtask::qemu::run_captured(&m, &boot_tests::image(), std::time::Duration::from_secs(5)).expect("run QEMU");
    assert_eq!(c.exit_code, None, "QEMU must still be running at the timeout:\n{}", c.console);
    let r = xtask::report::parse(&c.console);
    assert_eq!(r.summary.map(|s| s.cpus), Some(2), "{}", c.console);
}

/// A device tree the kernel must refuse (no `/cpus`; QEMU would re-add a
/// missing `/psci`, so that one cannot reach the kernel): one clear line on
/// the console, and the core parks instead of crashing or hanging silently.
#[test]
fn a_device_tree_without_cpus_is_a_one_line_boot_error() {
    let mut m = preset_machine("1x4", 3);
    let qemu_tree = xtask::dtb::dump(&m).expect("dumpdtb");
    let p = xtask::dtb::preset("1x4").expect("preset");
    let blob = xtask::dtb::rewrite_without(&qemu_tree, p.clusters, &["cpus"]).expect("rewrite");
    let path = m.dtb.take().expect("preset DTB").with_file_name("1x4-no-cpus-test.dtb");
    std::fs::write(&path, &blob).expect("write DTB");
    m.dtb = Some(path);
    let c = xtask::qemu::run_captured(&m, &boot_tests::image(), std::time::Duration::from_secs(5)).expect("run QEMU");
    let errors: Vec<&str> = c.console.lines().filter(|l| l.starts_with("boot: error:")).collect();
    assert_eq!(errors, ["boot: error: bad device tree: device tree has no /cpus node"], "console:\n{}", c.console);
    assert!(!c.console.contains(" up: "), "no node may start:\n{}", c.console);
}

/// Boots `m` with the device tree `blob` (written under `target/dtb/` as
/// `name`) and `poweroff`, and returns the console: the machine must
/// switch itself off, so QEMU exits before the timeout.
fn boot_bad_tree(mut m: Machine, name: &str, blob: &[u8]) -> String {
    let path = m.dtb.take().expect("preset DTB").with_file_name(name);
    std::fs::write(&path, blob).expect("write DTB");
    m.dtb = Some(path);
    m.append = "poweroff".into();
    let c = xtask::qemu::run_captured(&m, &boot_tests::image(), std::time::Duration::from_secs(20)).expect("run QEMU");
    assert_eq!(c.exit_code, Some(0), "the failed boot must power off (bootargs poweroff):\n{}", c.console);
    assert!(c.console.contains("\npoweroff: the boot failed (bootargs poweroff)\n"), "{}", c.console);
    assert!(!c.console.contains(" up: "), "no node may start:\n{}", c.console);
    c.console
}

fn boot_errors(console: &str) -> Vec<&str> {
    console.lines().filter(|l| l.starts_with("boot: error:")).collect()
}

/// `blob` with the first occurrence of `from` replaced by `to`.
fn patched(blob: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = blob.windows(from.len()).position(|w| w == from).expect("pattern in the tree");
    let mut out = blob.to_vec();
    out[at..at + to.len()].copy_from_slice(to);
    out
}

/// With `poweroff`, a tree the kernel refuses ends the boot: one
/// `boot: error:` line, then power-off (it used to park for ever).
#[test]
fn a_refused_tree_powers_off_when_asked() {
    let m = preset_machine("1x4", 3);
    let qemu_tree = xtask::dtb::dump(&Machine { append: "poweroff".into(), ..m.clone() }).expect("dumpdtb");
    let p = xtask::dtb::preset("1x4").expect("preset");
    let blob = xtask::dtb::rewrite_without(&qemu_tree, p.clusters, &["cpus"]).expect("rewrite");
    let console = boot_bad_tree(m, "1x4-no-cpus-poweroff-test.dtb", &blob);
    assert_eq!(boot_errors(&console), ["boot: error: bad device tree: device tree has no /cpus node"], "{console}");
}

/// The tree: the console PL011's `reg` moved into node 0's RAM.
/// Before, the boot driver wrote its messages to that RAM and hung
/// without a word; now the plan refuses it on the board's UART.
#[test]
fn a_console_uart_inside_ram_is_refused_on_the_boards_uart() {
    let m = preset_machine("1x4", 3);
    let tree = xtask::dtb::of_machine(&m).expect("preset tree");
    let reg = |addr: u64| [addr.to_be_bytes(), 0x1000u64.to_be_bytes()].concat();
    let blob = patched(&tree, &reg(0x900_0000), &reg(0x4800_0000));
    let console = boot_bad_tree(m, "1x4-uart-in-ram-test.dtb", &blob);
    let errors = boot_errors(&console);
    assert_eq!(errors.len(), 1, "{console}");
    assert!(
        errors[0].starts_with("boot: error: no boot plan: memory 0x40000000+")
            && errors[0].ends_with(
                " overlaps device pl011@9000000 at 0x48000000+0x1000: RAM and a device cannot share addresses"
            ),
        "{console}"
    );
}

/// A capacity no real core has (`0xffffffff` on the LITTLE cores would
/// have made them the big ones) is refused, naming the core.
#[test]
fn a_capacity_no_core_has_is_refused_naming_the_core() {
    use xtask::dtb::ClusterSpec;
    let m = preset_machine("4+4", 3);
    let qemu_tree = xtask::dtb::dump(&Machine { dtb: None, append: "poweroff".into(), ..m.clone() }).expect("dumpdtb");
    let cluster = |capacity| ClusterSpec { cpus: 4, capacity: Some(capacity), compatible: None, energy: None };
    let blob = xtask::dtb::rewrite(&qemu_tree, &[cluster(1024), cluster(u32::MAX)]).expect("rewrite");
    let console = boot_bad_tree(m, "4+4-capacity-test.dtb", &blob);
    assert_eq!(
        boot_errors(&console),
        ["boot: error: bad device tree: cpu 0x4 has capacity-dmips-mhz 4294967295 (0xffffffff), which no real \
          core has (must be 1 to 8192)"],
        "{console}"
    );
}

/// The command line is checked whole before anything starts: a `run@N=`
/// for a node the machine lacks is one `boot: error:` (it was ignored
/// without a word), and a line of nearly 2,048 bytes reaches `init` whole
/// (it was cut at 512: `heavy:1234` after 490 bytes ran 12 units).
#[test]
fn the_command_line_is_checked_whole_and_never_cut() {
    let m = Machine { append: "poweroff run@99=heavy".into(), ..preset_machine("4+2+2", 3) };
    let c = xtask::qemu::run_captured(&m, &boot_tests::image(), std::time::Duration::from_secs(20)).expect("run QEMU");
    assert_eq!(c.exit_code, Some(0), "{}", c.console);
    assert_eq!(
        boot_errors(&c.console),
        ["boot: error: bootargs: `run@99=heavy`: there is no node 99 (this machine has nodes 0 to 2)"],
        "{}",
        c.console
    );
    assert!(!c.console.contains(" up: "), "nothing may start:\n{}", c.console);

    let padding = "x".repeat(1900);
    let m = Machine { append: format!("poweroff {padding} run=heavy:1234"), ..preset_machine("1x4", 3) };
    let c = xtask::qemu::run_captured(&m, &boot_tests::image(), std::time::Duration::from_secs(60)).expect("run QEMU");
    assert!(c.console.contains(": 1234 units in "), "the whole word reached init:\n{}", c.console);
    let m = Machine { append: format!("poweroff {padding}{padding} run=heavy:1234"), ..preset_machine("1x4", 3) };
    let c = xtask::qemu::run_captured(&m, &boot_tests::image(), std::time::Duration::from_secs(20)).expect("run QEMU");
    assert_eq!(
        boot_errors(&c.console),
        ["boot: error: bootargs: 3824 bytes, more than the 2048 this kernel takes"],
        "{}",
        c.console
    );
}

/// The hardware is checked before it is trusted: a core without the
/// ARMv8.2 instructions the builds use, and a GIC that is not the one the
/// tree names, each give one `boot: error:` line and power off (all three
/// hung without a word before).
#[test]
fn hardware_unlike_the_tree_or_the_builds_is_a_boot_error() {
    let run = |m: Machine| {
        let m = Machine { append: "poweroff".into(), ..m };
        let c =
            xtask::qemu::run_captured(&m, &boot_tests::image(), std::time::Duration::from_secs(20)).expect("run QEMU");
        assert_eq!(c.exit_code, Some(0), "{}", c.console);
        let errors: Vec<String> = boot_errors(&c.console).into_iter().map(String::from).collect();
        assert_eq!(errors.len(), 1, "{}", c.console);
        errors[0].clone()
    };
    let a72 = run(Machine { cpu: "cortex-a72".into(), ..preset_machine("1x4", 3) });
    assert!(a72.starts_with("boot: error: cpu: cpu 0x0 lacks what the CPU-driver builds use"), "{a72}");
    assert!(a72.contains("ID_AA64ISAR0_EL1.Atomic >= 2 (it is 0)"), "{a72}");
    let v3_tree = preset_machine("1x4", 3).dtb;
    let v3_on_v2 = run(Machine { gic: 2, dtb: v3_tree, ..preset_machine("1x4", 2) });
    assert!(v3_on_v2.contains("is a GICv3, but this core has no GICv3 CPU interface"), "{v3_on_v2}");
    let v2_tree = preset_machine("1x4", 2).dtb;
    let v2_on_v3 = run(Machine { gic: 3, dtb: v2_tree, ..preset_machine("1x4", 3) });
    assert!(v2_on_v3.contains("is a GICv2, but its distributor reads as architecture revision 0"), "{v2_on_v3}");
}

/// A core that never starts (a spin-table core nobody releases: QEMU's
/// cores wait for PSCI): its node waits for it only until a deadline well
/// inside the boot node's, so the node reports the cores it has before the
/// summary, the two agree, and `ktest=boot` fails only `all_cores_up`.
/// Before, both deadlines were the same 2 s: the summary said the node did
/// not come up, then the node came up, and every core failed
/// `mmu_and_caches_on`.
#[test]
fn a_core_that_never_starts_is_reported_before_the_summary() {
    use xtask::dt_tree::{cells, string, Tree};
    let mut m = preset_machine("4+4", 3);
    let mut tree = Tree::parse(&xtask::dtb::of_machine(&m).expect("preset tree")).expect("parse");
    let cpu = tree.node_mut("/cpus/cpu@5").expect("cpu@5");
    cpu.set("enable-method", string("spin-table"));
    // In the RAM the plan leaves unused, above node 1's.
    cpu.set("cpu-release-addr", cells(&[0, 0x7fff_f000]));
    let path = m.dtb.take().expect("preset DTB").with_file_name("4+4-core-never-starts-test.dtb");
    std::fs::write(&path, tree.to_blob().expect("write")).expect("write DTB");
    m.dtb = Some(path);
    m.append = "poweroff ktest=boot".into();
    let c = xtask::qemu::run_captured(&m, &boot_tests::image(), std::time::Duration::from_secs(30)).expect("run QEMU");
    let console = &c.console;
    let at = |text: &str| console.find(text).unwrap_or_else(|| panic!("no {text:?} in:\n{console}"));
    let missing = at("node 1: only 3 of 4 cpus came up (missing 0x5; the deadline is 1500 ms after boot)");
    assert!(missing < at("node 1 up: build=little cpus=3 mpidr=0x4,0x6,0x7 "), "{console}");
    assert!(missing < at("\nboot: 2 nodes, 7 cpus up in "), "{console}");
    assert!(!console.contains("did not come up"), "{console}");
    let failed: Vec<&str> = console.lines().filter(|l| l.starts_with("not ok ")).collect();
    assert_eq!(failed, ["not ok 6 node1_all_cores_up"], "{console}");
    assert!(console.contains("\nok 5 node1_mmu_and_caches_on\n"), "{console}");
    assert_eq!(c.exit_code, Some(0), "{console}");
}
