//! A device tree from the boot loader, end to end as the boot driver and the
//! host `plan` command take it: `Topology::parse`, `BootPlan::new`, and the
//! printed plan. None of it may panic on any blob, and every plan made must
//! keep the promises the boot-plan tests check (`drivers/boot-plan/tests/
//! support`): one node per cluster, every core in exactly one node, node
//! and channel memory aligned, in RAM and clear of each other, the boot
//! reserve and every reservation.
//!
//! Input: the blob itself.

#![no_main]

// The boot-plan tests' own invariants, so the fuzzer checks exactly what
// they check.
#[path = "../../../drivers/boot-plan/tests/support/mod.rs"]
mod support;

use boot_plan::{BootPlan, PlanConfig};
use libfuzzer_sys::fuzz_target;
use support::check_plan;
use topology::{Hints, Topology};

fuzz_target!(|data: &[u8]| {
    let t = match Topology::parse(data, Hints::default()) {
        Ok(t) => t,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let config = PlanConfig::default();
    // As the host `plan` command plans it (boot core from the header), then
    // as the boot driver would on the tree's last core.
    let last = t.cpus.last().map(|c| c.mpidr);
    for boot in [None, last] {
        match BootPlan::new(t.clone(), boot, &config) {
            Ok(plan) => {
                check_plan(&plan, &config);
                if let Some(m) = boot {
                    assert_eq!(plan.nodes[plan.boot_node].mpidrs[0], m, "the boot core does not lead its node");
                }
                let text = format!("{plan}");
                assert!(text.starts_with("boot plan: "));
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
});
