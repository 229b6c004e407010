//! A genuinely big.LITTLE QEMU: the `qemu-pacer` plugin slows each vCPU to
//! its node's capacity, taken from the boot plan of the machine's device
//! tree (the same plan the kernel makes), so LITTLE vCPUs really are slower.

use crate::qemu::Machine;
use crate::{build, dtb, plan, Result};
use std::path::Path;

/// Guest instructions per host second of a capacity-1024 vCPU. Eight vCPUs
/// of the 4+4 machine flat out then need about 600 M instructions per host
/// second, which two host cores running QEMU TCG deliver with room to spare
/// (an unpaced vCPU runs the kernel's loops at over 1 G/s here).
pub const DEFAULT_RATE: u64 = 100_000_000;

/// Each vCPU's capacity, by vCPU index (the device tree's CPU order), from
/// the plan of `blob`; cores the plan leaves out run at 1024.
pub fn capacities(blob: &[u8]) -> Result<Vec<u32>> {
    let p = plan::plan(blob)?;
    let mut caps = vec![1024; p.topology.cpus.len()];
    for node in &p.nodes {
        for &cpu in &node.cpus {
            if let Some(c) = caps.get_mut(usize::from(cpu)) {
                *c = node.capacity;
            }
        }
    }
    Ok(caps)
}

/// The `-plugin` argument that paces `caps` at `rate`.
pub fn plugin_arg(plugin: &Path, rate: u64, caps: &[u32]) -> String {
    let caps: Vec<String> = caps.iter().map(u32::to_string).collect();
    format!("file={},rate={rate},caps={}", plugin.display(), caps.join(":"))
}

/// Makes `m` asymmetric: builds the plugin and paces every vCPU by the plan
/// of `m`'s device tree (QEMU's own, if it has none).
pub fn apply(m: &mut Machine, rate: u64) -> Result<()> {
    let caps = capacities(&dtb::of_machine(m)?)?;
    m.plugin = Some(plugin_arg(&build::pacer()?, rate, &caps));
    Ok(())
}

/// Makes `m`'s pacer (see [`apply`]) also write a profile to `raw` at
/// exit (see [`crate::profile`]).
pub fn profile_to(m: &mut Machine, raw: &Path) -> Result<()> {
    let plugin = m.plugin.as_mut().ok_or("--profile needs --asym (the pacer plugin counts the instructions)")?;
    plugin.push_str(&format!(",profile={}", raw.display()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_argument_lists_every_vcpu() {
        let arg = plugin_arg(Path::new("/p/libqemu_pacer.so"), 5, &[1024, 530]);
        assert_eq!(arg, "file=/p/libqemu_pacer.so,rate=5,caps=1024:530");
    }
}
