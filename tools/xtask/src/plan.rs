//! `plan --dtb FILE [--json]`: the boot plan of any device tree, made by the
//! same code the boot driver runs.

use boot_plan::{BootPlan, Gic, MpidrList, PlanConfig, UartName};
use serde_json::{json, Value};
use topology::{Hints, Topology};

/// The plan of `blob`, or a one-line reason there is none.
pub fn plan(blob: &[u8]) -> Result<BootPlan<'_>, String> {
    let topology = Topology::parse(blob, Hints::default()).map_err(|e| e.to_string())?;
    BootPlan::new(topology, None, &PlanConfig::default()).map_err(|e| e.to_string())
}

/// The plan as text.
pub fn text(plan: &BootPlan<'_>) -> String {
    plan.to_string()
}

/// The plan as JSON (fields documented in the README).
pub fn json(plan: &BootPlan<'_>) -> Value {
    let t = &plan.topology;
    let nodes: Vec<Value> = plan
        .nodes
        .iter()
        .map(|n| {
            json!({
                "id": n.id,
                "build": n.build.name(),
                "cpus": n.cpus.len(),
                "mpidrs": n.mpidrs.as_slice(),
                "mpidr_list": MpidrList(&n.mpidrs).to_string(),
                "capacity": n.capacity,
                "mem_start": n.memory.start,
                "mem_size": n.memory.size,
                "energy": n.energy.map(|e| json!({
                    "dynamic_power_coefficient": e.coefficient,
                    "opp_hz": e.hz,
                    "opp_microvolt": e.microvolt,
                    "power_uw": e.power_uw(),
                })),
            })
        })
        .collect();
    let gic = match t.gic {
        Some(Gic::V2 { distributor, cpu_interface }) => {
            json!({"version": 2, "distributor": distributor.start, "cpu_interface": cpu_interface.start})
        }
        Some(Gic::V3 { distributor, redistributors }) => {
            json!({"version": 3, "distributor": distributor.start, "redistributors": redistributors.start})
        }
        None => json!({"version": null}),
    };
    json!({
        "nodes": nodes,
        "boot_node": plan.boot_node,
        "enable_method": plan.start_method.name(),
        "psci_method": t.psci.map(|c| c.name()),
        "gic": gic,
        "uart": t.uart.map(|u| json!({"kind": UartName(u.kind).to_string(), "base": u.regs.start, "irq": u.irq})),
        "shared": {"start": plan.shared.start, "size": plan.shared.size},
        "channels": channels(plan),
        "bootargs": t.bootargs,
    })
}

/// Every channel: sender, receiver, where and how large.
fn channels(plan: &BootPlan<'_>) -> Value {
    let c = &plan.channels;
    let mut list = Vec::new();
    for from in 0..c.nodes {
        for to in (0..c.nodes).filter(|&t| t != from) {
            if let Some(r) = c.range(from, to) {
                list.push(json!({"from": from, "to": to, "start": r.start, "size": r.size}));
            }
        }
    }
    json!({"count": c.count(), "bytes": c.bytes, "ring_bytes": c.ring_bytes, "slots": c.slots(),
        "transfer_pages": c.transfer_pages(), "list": list})
}
