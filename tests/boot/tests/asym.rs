//! The pacer plugin makes QEMU `virt` really big.LITTLE: with it, every
//! LITTLE core of the 4+4 machine measures itself slower than every big
//! core (the order only: exact figures are for `cargo xtask bench
//! capacity`); and QEMU refuses to start on arguments the plugin does not
//! understand.

use boot_tests::{boot, preset_machine, Expect};

/// Low, so that even a host busy with other tests' QEMUs can give every
/// vCPU its budget: the order must come from the pacer, not the host.
const TEST_RATE: u64 = 20_000_000;

#[test]
fn paced_little_cores_measure_slower_than_every_big_core() {
    let mut m = preset_machine("4+4", 3);
    xtask::asym::apply(&mut m, TEST_RATE).unwrap_or_else(|e| panic!("{e}"));
    let b = boot(&m);
    b.assert_nodes(&[
        Expect { build: "big", mpidrs: &[0, 1, 2, 3], capacity: 1024 },
        Expect { build: "little", mpidrs: &[4, 5, 6, 7], capacity: 530 },
    ]);
    let console = &b.captured.console;
    let per_node: Vec<(usize, Vec<u32>)> = console.lines().filter_map(xtask::report::calibration_line).collect();
    let of = |node: usize| per_node.iter().find(|(n, _)| *n == node).map(|(_, v)| v.clone()).unwrap_or_default();
    let (big, little) = (of(0), of(1));
    assert_eq!((big.len(), little.len()), (4, 4), "a figure per core; console:\n{console}");
    let slowest_big = big.iter().min().copied().unwrap_or(0);
    let fastest_little = little.iter().max().copied().unwrap_or(u32::MAX);
    assert!(fastest_little < slowest_big, "LITTLE {little:?} vs big {big:?}; console:\n{console}");
    assert!(!console.contains("boot: warning"), "measured capacities agree with the tree:\n{console}");
}

#[test]
fn unpaced_the_device_tree_is_contradicted_and_said_so() {
    let b = boot(&preset_machine("4+4", 3));
    let console = &b.captured.console;
    assert!(
        console.contains("boot: warning: node 1 measured capacity"),
        "without the pacer every vCPU runs at one speed, which the kernel must notice:\n{console}"
    );
}

#[test]
fn bad_plugin_arguments_stop_qemu_with_a_message() {
    let mut m = preset_machine("4+4", 3);
    xtask::asym::apply(&mut m, TEST_RATE).unwrap_or_else(|e| panic!("{e}"));
    let plugin = m.plugin.take().expect("plugin argument");
    m.plugin = Some(format!("{plugin},speed=2"));
    let out = xtask::qemu::command(&m, &boot_tests::image())
        .and_then(|mut c| c.output().map_err(|e| e.to_string()))
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "QEMU must refuse to start");
    assert!(stderr.contains("qemu-pacer: unknown argument \"speed\""), "{stderr}");
}
