//! Small, checked accessors over `fdt` nodes: every read of a property is
//! bounds-checked and turns bad data into an [`Error`].

use crate::Error;
use fdt::parsing::{unaligned::UnalignedParser, NoPanic};

/// A node read with the non-panicking parser.
pub type Node<'a> = fdt::nodes::Node<'a, (UnalignedParser<'a>, NoPanic)>;

/// Raw bytes of property `name`, if present.
pub fn prop<'a>(node: &Node<'a>, name: &str) -> Result<Option<&'a [u8]>, Error> {
    Ok(node.raw_property(name)?.map(|p| p.value))
}

/// A single `u32` property.
pub fn prop_u32(node: &Node<'_>, name: &'static str, at: &'static str) -> Result<Option<u32>, Error> {
    match prop(node, name)? {
        None => Ok(None),
        Some(v) if v.len() == 4 => Ok(Some(be(v))),
        Some(_) => Err(Error::BadProperty { node: at, property: name }),
    }
}

/// The first string of a string or string-list property.
pub fn prop_str<'a>(node: &Node<'a>, name: &'static str, at: &'static str) -> Result<Option<&'a str>, Error> {
    match prop(node, name)? {
        None => Ok(None),
        Some(v) => first_string(v).map(Some).ok_or(Error::BadProperty { node: at, property: name }),
    }
}

/// The first NUL-terminated string of a property value.
pub fn first_string(v: &[u8]) -> Option<&str> {
    let end = v.iter().position(|&b| b == 0)?;
    core::str::from_utf8(&v[..end]).ok()
}

/// Whether a string-list property value contains `want`.
pub fn list_contains(v: &[u8], want: &str) -> bool {
    v.split(|&b| b == 0).any(|s| s == want.as_bytes())
}

/// The node's name without its unit address.
pub fn base_name<'a>(node: &Node<'a>) -> Result<&'a str, Error> {
    Ok(node.name()?.name)
}

/// Big-endian `u32` from the first four bytes (caller checked the length).
pub fn be(v: &[u8]) -> u32 {
    u32::from_be_bytes([v[0], v[1], v[2], v[3]])
}

/// Reads one number of `cells` 32-bit cells from the front of `v`.
/// Returns `None` when `v` is too short or the number needs more than 64 bits.
pub fn take_cells(v: &mut &[u8], cells: u32) -> Option<u64> {
    let len = cells as usize * 4;
    if v.len() < len {
        return None;
    }
    let (head, tail) = v.split_at(len);
    *v = tail;
    let mut value: u64 = 0;
    for c in head.chunks_exact(4) {
        if value >> 32 != 0 {
            return None;
        }
        value = (value << 32) | u64::from(be(c));
    }
    Some(value)
}

/// `#address-cells` / `#size-cells` a node declares for its children.
#[derive(Debug, Clone, Copy)]
pub struct Cells {
    pub address: u32,
    pub size: u32,
}

impl Cells {
    /// Spec defaults when a parent does not say.
    pub const DEFAULT: Cells = Cells { address: 2, size: 1 };

    /// The cell sizes `node` declares for its children, defaulting per spec.
    pub fn of(node: &Node<'_>, at: &'static str) -> Result<Cells, Error> {
        let address = prop_u32(node, "#address-cells", at)?.unwrap_or(Self::DEFAULT.address);
        let size = prop_u32(node, "#size-cells", at)?.unwrap_or(Self::DEFAULT.size);
        if address > 4 || size > 4 {
            return Err(Error::BadProperty { node: at, property: "#address-cells" });
        }
        Ok(Cells { address, size })
    }
}
