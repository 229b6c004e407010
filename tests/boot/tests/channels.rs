//! `ktest=channels`: every ordered pair of nodes streams 100,000 messages
//! with sequence numbers and checksums, once woken by doorbell SGIs and once
//! polling, with forged frames in every stream; nothing may be lost,
//! duplicated or reordered, and every forged frame must be rejected.

use boot_tests::{boot_with_timeout, preset_machine, Expect};
use std::time::Duration;

const ARGS: &str = "poweroff ktest=boot ktest=channels";
/// Two phases of 100,000 messages per ordered pair under TCG.
const TIMEOUT: Duration = Duration::from_secs(300);

/// The test names the coordinator must print, in order.
fn expected_names(nodes: usize) -> Vec<String> {
    let mut names = vec!["channels_all_nodes_linked".to_string()];
    for mode in ["ipi", "poll"] {
        for from in 0..nodes {
            for to in (0..nodes).filter(|&t| t != from) {
                names.push(format!("channels_{mode}_node{from}_to_node{to}_stream"));
                names.push(format!("channels_{mode}_node{from}_to_node{to}_rejects_corrupt"));
            }
        }
    }
    names
}

fn run(preset: &str, gic: u8, expected: &[Expect]) {
    let mut m = preset_machine(preset, gic);
    m.append = ARGS.into();
    let b = boot_with_timeout(&m, TIMEOUT);
    b.assert_nodes(expected);
    let names = expected_names(expected.len());
    assert_eq!(b.assert_ktap_block(1, names.len()), names, "console:\n{}", b.captured.console);
    // Every stream reports exactly what it carried.
    for line in b.captured.console.lines().filter(|l| l.contains("_stream #")) {
        assert!(line.contains("received=100000 lost=0 duplicated=0 reordered=0 bad_data=0"), "{line}");
    }
    for line in b.captured.console.lines().filter(|l| l.contains("_rejects_corrupt #")) {
        assert!(line.contains(&format!("rejected={0} injected={0}", monitor::INJECTED)), "{line}");
    }
}

#[test]
fn three_nodes_every_pair_gicv3() {
    run(
        "4+2+2",
        3,
        &[
            Expect { build: "little", mpidrs: &[0, 1, 2, 3], capacity: 530 },
            Expect { build: "big", mpidrs: &[4, 5], capacity: 1024 },
            Expect { build: "big", mpidrs: &[6, 7], capacity: 1024 },
        ],
    );
}

#[test]
fn two_nodes_gicv2_doorbells() {
    run(
        "4+4",
        2,
        &[
            Expect { build: "big", mpidrs: &[0, 1, 2, 3], capacity: 1024 },
            Expect { build: "little", mpidrs: &[4, 5, 6, 7], capacity: 530 },
        ],
    );
}
