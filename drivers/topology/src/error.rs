//! Errors for device trees that cannot be turned into a topology.
//!
//! Every variant renders as one line that names what is wrong, so the boot
//! driver and the host `plan` command can print it as is.

use core::fmt;

/// Why a device tree was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The blob is empty.
    Empty,
    /// The loader handed over no device tree, or one at an address that is
    /// not 8-byte aligned (the boot protocol requires it).
    BadAddress { addr: u64 },
    /// The blob is shorter than an FDT header.
    TooShort { len: usize },
    /// The first word is not the FDT magic `0xd00dfeed`.
    BadMagic { found: u32 },
    /// The header's `totalsize` is larger than the blob we were given.
    Truncated { total_size: u32, len: usize },
    /// A header field points outside the blob or is otherwise inconsistent.
    BadHeader { field: &'static str },
    /// FDT versions before 17 lack fields we rely on.
    UnsupportedVersion { version: u32 },
    /// The structure block could not be parsed.
    Malformed { detail: &'static str },
    /// A node that must exist is missing.
    MissingNode { path: &'static str },
    /// A property that must exist is missing.
    MissingProperty { node: &'static str, property: &'static str },
    /// A property has the wrong size or content.
    BadProperty { node: &'static str, property: &'static str },
    /// More items than the fixed-size tables hold.
    TooMany { what: &'static str, max: usize },
    /// `/cpus` has no CPU nodes.
    NoCpus,
    /// Two CPU nodes share one MPIDR.
    DuplicateMpidr { mpidr: u64 },
    /// A `/cpus/cpu-map` entry points at a phandle that is no CPU node.
    CpuMapUnknownCpu { phandle: u32 },
    /// A CPU appears twice in `/cpus/cpu-map`.
    CpuMapDuplicateCpu { mpidr: u64 },
    /// A CPU node is missing from `/cpus/cpu-map`.
    CpuMapMissingCpu { mpidr: u64 },
    /// No usable `/memory` node.
    NoMemory,
    /// A core's `capacity-dmips-mhz` is outside `1..=MAX_DMIPS_MHZ`
    /// (`largest` is `None`), or so far below the tree's largest that it
    /// would scale to capacity 0.
    BadCapacity { mpidr: u64, raw: u32, largest: Option<u32> },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::Empty => write!(f, "device tree is empty"),
            Error::BadAddress { addr } => {
                write!(f, "no device tree: the loader passed address {addr:#x} (must be non-zero and 8-byte aligned)")
            }
            Error::TooShort { len } => {
                write!(f, "device tree is truncated: {len} bytes is shorter than the 40-byte FDT header")
            }
            Error::BadMagic { found } => {
                write!(f, "not a device tree: bad magic {found:#010x} (expected 0xd00dfeed)")
            }
            Error::Truncated { total_size, len } => {
                write!(f, "device tree is truncated: header says {total_size} bytes, only {len} present")
            }
            Error::BadHeader { field } => write!(f, "device tree header is corrupt: bad {field}"),
            Error::UnsupportedVersion { version } => {
                write!(f, "device tree version {version} is too old (need 17 or newer)")
            }
            Error::Malformed { detail } => write!(f, "device tree structure is corrupt: {detail}"),
            Error::MissingNode { path } => write!(f, "device tree has no {path} node"),
            Error::MissingProperty { node, property } => {
                write!(f, "device tree node {node} lacks the {property} property")
            }
            Error::BadProperty { node, property } => {
                write!(f, "device tree node {node} has a malformed {property} property")
            }
            Error::TooMany { what, max } => write!(f, "device tree has more than {max} {what}"),
            Error::NoCpus => write!(f, "device tree /cpus has no cpu nodes"),
            Error::DuplicateMpidr { mpidr } => {
                write!(f, "device tree has two cpu nodes with reg (MPIDR) {mpidr:#x}")
            }
            Error::CpuMapUnknownCpu { phandle } => {
                write!(f, "/cpus/cpu-map refers to phandle {phandle:#x}, which is not a cpu node")
            }
            Error::CpuMapDuplicateCpu { mpidr } => {
                write!(f, "/cpus/cpu-map lists cpu {mpidr:#x} twice")
            }
            Error::CpuMapMissingCpu { mpidr } => {
                write!(f, "/cpus/cpu-map does not list cpu {mpidr:#x}")
            }
            Error::NoMemory => write!(f, "device tree has no usable /memory node"),
            Error::BadCapacity { mpidr, raw, largest: None } => write!(
                f,
                "cpu {mpidr:#x} has capacity-dmips-mhz {raw} ({raw:#x}), which no real core has (must be 1 to {})",
                crate::MAX_DMIPS_MHZ
            ),
            Error::BadCapacity { mpidr, raw, largest: Some(max) } => write!(
                f,
                "cpu {mpidr:#x} has capacity-dmips-mhz {raw}, under 1/{} of the tree's largest ({max}): its capacity would be 0",
                crate::FULL_CAPACITY
            ),
        }
    }
}

impl From<fdt::FdtError> for Error {
    fn from(e: fdt::FdtError) -> Self {
        use fdt::FdtError as E;
        let detail = match e {
            E::BadMagic => "bad magic",
            E::BadPtr => "bad pointer",
            E::SliceTooSmall => "block outside the blob",
            E::ParseError(_) => "unparsable token stream",
            E::MissingPHandleNode(_) => "dangling phandle",
            E::MissingParent => "missing parent node",
            E::MissingRequiredNode(_) => "missing required node",
            E::MissingRequiredProperty(_) => "missing required property",
            E::InvalidPropertyValue => "invalid property value",
            E::InvalidNodeName => "invalid node name",
            E::CollectCellsError => "cell value too large",
        };
        Error::Malformed { detail }
    }
}
