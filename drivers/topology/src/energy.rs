//! A core's power at its highest operating point, read as Linux's energy
//! model reads it from the device tree: the core's
//! `dynamic-power-coefficient` (uW/MHz/V^2) and the highest `opp-hz` of
//! its `operating-points-v2` table with that point's `opp-microvolt`.

use crate::dt::{self, Node};
use crate::Error;
use fdt::parsing::{unaligned::UnalignedParser, NoPanic};

type Root<'a> = fdt::nodes::root::Root<'a, (UnalignedParser<'a>, NoPanic)>;

const AT: &str = "/cpus/cpu";
const OPP: &str = "operating-points-v2 table";

/// What the energy model knows of one core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Energy {
    /// `dynamic-power-coefficient`.
    pub coefficient: u32,
    /// The highest operating point: frequency and voltage.
    pub hz: u64,
    pub microvolt: u32,
}

impl Energy {
    /// Power while busy at the highest operating point, in microwatts:
    /// C x MHz x mV^2 / 10^6, as Linux's `_get_dt_power` computes it.
    pub fn power_uw(&self) -> u64 {
        let mv = u64::from(self.microvolt) / 1000;
        u64::from(self.coefficient) * (self.hz / 1_000_000) * mv * mv / 1_000_000
    }
}

/// The energy facts of CPU node `cpu`: none unless it has both a
/// coefficient and an operating-point table (as Linux requires).
pub fn read(root: &Root<'_>, cpu: &Node<'_>) -> Result<Option<Energy>, Error> {
    let Some(coefficient) = dt::prop_u32(cpu, "dynamic-power-coefficient", AT)? else { return Ok(None) };
    let Some(table) = dt::prop_u32(cpu, "operating-points-v2", AT)? else { return Ok(None) };
    let bad = |property| Error::BadProperty { node: OPP, property };
    let table = root
        .resolve_phandle(fdt::properties::PHandle::new(table))?
        .ok_or(Error::BadProperty { node: AT, property: "operating-points-v2" })?;
    let mut best: Option<(u64, u32)> = None;
    for opp in table.children()?.iter() {
        let opp = opp?;
        let Some(mut hz) = dt::prop(&opp, "opp-hz")? else { continue };
        let cells = match hz.len() {
            4 => 1,
            8 => 2,
            _ => return Err(bad("opp-hz")),
        };
        let hz = dt::take_cells(&mut hz, cells).ok_or(bad("opp-hz"))?;
        // One voltage, or target, minimum and maximum: the target counts.
        let volts = dt::prop(&opp, "opp-microvolt")?.ok_or(bad("opp-microvolt"))?;
        if volts.len() != 4 && volts.len() != 12 {
            return Err(bad("opp-microvolt"));
        }
        let microvolt = dt::be(volts);
        if best.is_none_or(|(h, _)| hz > h) {
            best = Some((hz, microvolt));
        }
    }
    let (hz, microvolt) = best.ok_or(bad("opp-hz"))?;
    if hz == 0 || microvolt == 0 {
        return Err(bad("opp-hz"));
    }
    Ok(Some(Energy { coefficient, hz, microvolt }))
}
