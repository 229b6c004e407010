//! The pacer plugin makes QEMU `virt` really big.LITTLE: with it, every
//! LITTLE core of the 4+4 machine measures itself slower than every big
//! core (the order only: exact figures are for `cargo xtask bench
//! capacity`); cores that contradict the device tree are reported; and QEMU
//! refuses to start on arguments the plugin does not understand.

use boot_tests::{assert_kernel_survived, boot, boot_with_timeout, preset_machine, Expect};

/// Lower than the default, so that a host busy with another test's QEMU
/// still gives every vCPU its budget (the order must come from the pacer,
/// not the host), and high enough that the LITTLE node's calibration ends
/// well within the kernel's 2 s boot timeout.
const TEST_RATE: u64 = 50_000_000;

/// One of these machines at a time: they share two host cores.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn paced_little_cores_measure_slower_than_every_big_core() {
    let _one = one_at_a_time();
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

/// Every vCPU paced at capacity 1024 while the tree says 530 for node 1:
/// the kernel's calibration must contradict the tree, and say so.
#[test]
fn a_device_tree_the_cores_contradict_is_reported() {
    let _one = one_at_a_time();
    let mut m = preset_machine("4+4", 3);
    let pacer = xtask::build::pacer().unwrap_or_else(|e| panic!("{e}"));
    m.plugin = Some(xtask::asym::plugin_arg(&pacer, TEST_RATE, &[1024; 8]));
    let b = boot(&m);
    let console = &b.captured.console;
    let warnings: Vec<&str> = console.lines().filter(|l| l.starts_with("boot: warning:")).collect();
    assert_eq!(warnings.len(), 1, "one warning, for node 1 only; console:\n{console}");
    let measured: u32 = warnings[0]
        .strip_prefix("boot: warning: node 1 measured capacity ")
        .and_then(|rest| rest.strip_suffix(", the device tree says 530"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("warning format; console:\n{console}"));
    assert!(measured > 900, "node 1 runs as fast as node 0 ({measured}); console:\n{console}");
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

/// The RK3588-shaped machine, paced, booted with `trace`, `sched=capacity`
/// and the `run=` words `mix`; the figures `bench sched` reads from it.
fn traced_mix(mix: &str) -> (xtask::bench_sched::RunFigures, String) {
    let mut m = preset_machine("4+2+2", 3);
    xtask::asym::apply(&mut m, TEST_RATE).unwrap_or_else(|e| panic!("{e}"));
    m.append = format!("poweroff trace sched=capacity {mix}");
    let b = boot_with_timeout(&m, std::time::Duration::from_secs(600));
    let console = b.captured.console.clone();
    assert_eq!(b.captured.exit_code, Some(0), "{console}");
    assert_kernel_survived(&console);
    let f = xtask::bench_sched::figures(&console, &[]).unwrap_or_else(|e| panic!("{e}\n{console}"));
    (f, console)
}

/// `m2-heavy-light` of `bench sched`: both heavy programs end up having run
/// mostly on big cores, the light ones mostly on LITTLE (from the trace),
/// and none sleeps through its wake-ups.
#[test]
fn heavy_work_runs_mostly_on_big_cores_and_light_work_on_little_ones() {
    let _one = one_at_a_time();
    let words = ["run=heavy:2000"; 2].iter().chain(["run=light:10:200"; 6].iter()).copied().collect::<Vec<_>>();
    let (f, console) = traced_mix(&words.join(" "));
    let of = |name: &str| f.big_share.values().filter(|(n, _)| n == name).map(|(_, s)| *s).collect::<Vec<_>>();
    let (heavy, light) = (of("heavy"), of("light"));
    assert_eq!((heavy.len(), light.len()), (2, 6), "{console}");
    assert!(heavy.iter().all(|&s| s > 0.5), "heavy shares on big cores {heavy:?}\n{console}");
    assert!(light.iter().all(|&s| s < 0.5), "light shares on big cores {light:?}\n{console}");
    // No light program is left asleep past its deadlines for long (a move
    // must leave its wake-up to a core that sets its timer for it; a
    // monitor must let its core's sleepers wake): the bound is loose, for
    // a move on a host busy with other tests, and catches the seconds such
    // a sleeper waited; `bench sched` measures.
    assert_eq!(f.light_latency_us.len(), 6, "{console}");
    let worst = f.light_latency_us.iter().map(|&(_, p99)| p99).max().unwrap_or(0);
    assert!(worst < 500_000, "a light program's p99 wake-up latency is {worst} us\n{console}");
}

/// `m3-phase` of `bench sched`: every program that turns from light to
/// heavy reaches a big core.
#[test]
fn every_program_that_turns_heavy_reaches_a_big_core() {
    let _one = one_at_a_time();
    let words =
        ["run=phase:1000:10:1000:500"; 4].iter().chain(["run=heavy:1000"; 4].iter()).copied().collect::<Vec<_>>();
    let (f, console) = traced_mix(&words.join(" "));
    assert_eq!(f.switch_to_big_ms.len(), 4, "every phase program switched:\n{console}");
    assert!(f.switch_to_big_ms.iter().all(Option::is_some), "{:?}\n{console}", f.switch_to_big_ms);
    println!("switch to a big core, ms: {:?}", f.switch_to_big_ms);
}

/// `profile=PATH`: the pacer counts every block's instructions per vCPU and
/// writes them at exit; they map to each build's functions, and every
/// node's calibration loop, which each core runs at boot, is among them.
#[test]
fn a_profile_names_the_kernel_functions_of_each_build() {
    let _one = one_at_a_time();
    let mut m = preset_machine("4+4", 3);
    xtask::asym::apply(&mut m, TEST_RATE).unwrap_or_else(|e| panic!("{e}"));
    let dir = xtask::target_dir().join("boot-tests");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let (raw, out) = (dir.join("profile.raw"), dir.join("profile.txt"));
    let _ = std::fs::remove_file(&raw);
    xtask::asym::profile_to(&mut m, &raw).unwrap_or_else(|e| panic!("{e}"));
    let b = boot(&m);
    assert_kernel_survived(&b.captured.console);
    let blob = xtask::dtb::of_machine(&m).unwrap_or_else(|e| panic!("{e}"));
    let report = xtask::profile::write(&raw, &blob, &out, 10).unwrap_or_else(|e| panic!("{e}"));
    for build in ["big", "little"] {
        let section = report
            .split("profile: build=")
            .find(|s| s.starts_with(build))
            .unwrap_or_else(|| panic!("no {build} section:\n{report}"));
        assert!(section.contains("calibrate::work"), "{build}:\n{section}");
    }
}
