//! The contract between the CPU driver and user programs (EL0).
//!
//! Both sides are built from this crate: the kernel decodes system calls and
//! writes the structures below into user memory, the runtime
//! (`userland/runtime`) encodes the calls and reads the structures back.
//! Everything here is plain data, `#[repr(C)]` and tested on the host.
//!
//! **Calling convention.** `svc #0` with the call number ([`Call`]) in `x8`
//! and up to five arguments in `x0`..`x4`. The result comes back in `x0`: a
//! non-negative value on success, or `-(Error as i64)` on failure
//! ([`decode_result`]). Every other register is preserved.

#![no_std]

pub mod archive;
pub mod cmdline;
mod layout;
mod types;

pub use layout::*;
pub use types::*;

/// System-call numbers (`x8`).
#[repr(u64)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `exit(code: i32) -> !`: ends the calling program.
    Exit = 0,
    /// `yield()`: gives the core to the next ready program of the same or
    /// higher priority.
    Yield = 1,
    /// `sleep(ns: u64)`: blocks for at least `ns` nanoseconds of guest time.
    Sleep = 2,
    /// `clock() -> ns`: the generic counter in nanoseconds since the node
    /// booted (the same clock on every core of the machine).
    Clock = 3,
    /// `write(ptr, len) -> len`: writes to the serial console. Lines are
    /// printed whole; text without a final newline is printed when the
    /// call returns, without one.
    Write = 4,
    /// `read(ptr, len) -> len`: reads console input, blocking until at least
    /// one byte is there. Only the node that owns the console has input
    /// ([`Error::NotSupported`] elsewhere). Typeahead beyond
    /// [`TYPEAHEAD_BYTES`] is dropped; the reader then gets
    /// [`Error::InputLost`] once, where the dropped bytes were.
    Read = 5,
    /// `spawn(name_ptr, name_len, args_ptr, args_len, options) -> pid`:
    /// starts a program of the boot image as a child of the caller.
    /// `options` is [`SpawnOptions::encode`].
    Spawn = 6,
    /// `wait(pid, status_ptr, flags) -> pid`: waits for child `pid` (0: any
    /// child) to end and writes its [`ExitStatus::encode`] at `status_ptr`
    /// (0: don't). `flags`: [`WAIT_NOHANG`] (don't block:
    /// [`Error::WouldBlock`] while the children run), [`WAIT_INPUT`]
    /// (also return 0 as soon as console input waits; with no child, wait
    /// for input alone).
    Wait = 7,
    /// `id(which: Id) -> u64`.
    Id = 8,
    /// `map(len, prot) -> addr`: maps `len` bytes (rounded up to pages) of
    /// zeroed anonymous memory; `prot` is [`PROT_READ`] | [`PROT_WRITE`]
    /// (never executable).
    Map = 9,
    /// `unmap(addr, len)`: unmaps pages the caller mapped with `map`.
    Unmap = 10,
    /// `send(endpoint, ptr, len)`: queues a message on a local endpoint;
    /// [`Error::WouldBlock`] when its queue is full.
    Send = 11,
    /// `recv(endpoint, ptr, len, timeout_ns) -> len`: takes the oldest
    /// message of a local endpoint, blocking up to `timeout_ns`
    /// (`u64::MAX`: forever; 0: don't block).
    Recv = 12,
    /// `kill(pid)`: ends a program of this node ([`Error::NotPermitted`]
    /// for `init`, pid 1).
    Kill = 13,
    /// `ps(buf, max) -> count`: up to `max` [`ProcessInfo`] of this node.
    Ps = 14,
    /// `nodes(buf, max) -> count`: up to `max` [`NodeInfo`], one per node
    /// of the machine.
    Nodes = 15,
    /// `sysinfo(ptr)`: writes a [`SysInfo`] of this node.
    SysInfo = 16,
    /// `args(buf, len) -> len`: the argument string the program was
    /// spawned with (bytes beyond `len` are cut; the full length is
    /// returned).
    Args = 17,
    /// `poweroff()`: switches the machine off, on the console node, after
    /// the console says who asked (and, with `trace`, every node's trace is
    /// out). [`Error::NotSupported`] on other nodes.
    PowerOff = 18,
    /// `trace()`: every node prints its trace events since the last time
    /// (bootarg `trace`; console node only, else [`Error::NotSupported`]).
    Trace = 19,
    /// Moves a process (of any node) to another node.
    Migrate = 20,
}

impl Call {
    /// Every call, by number.
    pub const ALL: [Call; 21] = [
        Call::Exit,
        Call::Yield,
        Call::Sleep,
        Call::Clock,
        Call::Write,
        Call::Read,
        Call::Spawn,
        Call::Wait,
        Call::Id,
        Call::Map,
        Call::Unmap,
        Call::Send,
        Call::Recv,
        Call::Kill,
        Call::Ps,
        Call::Nodes,
        Call::SysInfo,
        Call::Args,
        Call::PowerOff,
        Call::Trace,
        Call::Migrate,
    ];

    /// The call numbered `n`, if any.
    pub fn from_number(n: u64) -> Option<Call> {
        Call::ALL.get(usize::try_from(n).ok()?).copied()
    }
}

/// Why a call failed: the result is `-(error as i64)`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// No such call number.
    BadCall = 1,
    /// A pointer or length names memory the caller may not use that way.
    BadPointer = 2,
    /// An argument is out of range.
    BadArgument = 3,
    /// No program of that name in the boot image (or it is not loadable).
    NoSuchProgram = 4,
    /// No such process (or not the caller's child, for `wait`).
    NoSuchProcess = 5,
    /// The node is out of memory, or the caller over its mapping quota.
    NoMemory = 6,
    /// The process table, an endpoint queue or a mapping table is full.
    TooMany = 7,
    /// The call would block and was asked not to.
    WouldBlock = 8,
    /// Not available on this node.
    NotSupported = 9,
    /// `wait` with no child left.
    NoChild = 10,
    /// A message or name longer than the call allows.
    TooBig = 11,
    /// `recv` reached its timeout.
    TimedOut = 12,
    /// Refused: `init` cannot be killed.
    NotPermitted = 13,
    /// Console input was dropped here (typeahead overflowed).
    InputLost = 14,
    /// The node that holds the process (or was asked) did not answer, or
    /// cannot be reached.
    Unreachable = 15,
}

impl Error {
    /// Every error, by number minus one.
    pub const ALL: [Error; 15] = [
        Error::BadCall,
        Error::BadPointer,
        Error::BadArgument,
        Error::NoSuchProgram,
        Error::NoSuchProcess,
        Error::NoMemory,
        Error::TooMany,
        Error::WouldBlock,
        Error::NotSupported,
        Error::NoChild,
        Error::TooBig,
        Error::TimedOut,
        Error::NotPermitted,
        Error::InputLost,
        Error::Unreachable,
    ];

    /// The error numbered `n`.
    pub fn from_number(n: u64) -> Option<Error> {
        Error::ALL.get(usize::try_from(n.checked_sub(1)?).ok()?).copied()
    }

    /// The value of `x0` that reports this error.
    pub fn to_result(self) -> u64 {
        (-(self as i64)) as u64
    }

    pub fn name(self) -> &'static str {
        match self {
            Error::BadCall => "bad call",
            Error::BadPointer => "bad pointer",
            Error::BadArgument => "bad argument",
            Error::NoSuchProgram => "no such program",
            Error::NoSuchProcess => "no such process",
            Error::NoMemory => "out of memory",
            Error::TooMany => "too many",
            Error::WouldBlock => "would block",
            Error::NotSupported => "not supported here",
            Error::NoChild => "no child",
            Error::TooBig => "too big",
            Error::TimedOut => "timed out",
            Error::NotPermitted => "not permitted",
            Error::InputLost => "input lost",
            Error::Unreachable => "node unreachable",
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Largest error number: results in `[-MAX_ERROR, -1]` are errors.
const MAX_ERROR: u64 = 4095;

/// Splits a raw `x0` into a value or an error.
pub fn decode_result(x0: u64) -> Result<u64, Error> {
    let neg = x0.wrapping_neg();
    if (1..=MAX_ERROR).contains(&neg) {
        Err(Error::from_number(neg).unwrap_or(Error::BadCall))
    } else {
        Ok(x0)
    }
}

/// The raw `x0` of a result.
pub fn encode_result(r: Result<u64, Error>) -> u64 {
    match r {
        Ok(v) => v,
        Err(e) => e.to_result(),
    }
}

/// `flags` of [`Call::Wait`]: don't block.
pub const WAIT_NOHANG: u64 = 1;
/// `flags` of [`Call::Wait`]: also return (0) when console input waits.
pub const WAIT_INPUT: u64 = 2;
/// Largest single `write`; longer ones are cut (the count says so).
pub const WRITE_MAX: usize = 4096;
/// Bytes of console input kept for a reader that is not reading.
pub const TYPEAHEAD_BYTES: usize = 4096;

/// `prot` of [`Call::Map`].
pub const PROT_READ: u64 = 1;
pub const PROT_WRITE: u64 = 2;

/// `which` of [`Call::Id`].
#[repr(u64)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Id {
    Process = 0,
    Node = 1,
    Core = 2,
    Parent = 3,
}

impl Id {
    pub fn from_number(n: u64) -> Option<Id> {
        [Id::Process, Id::Node, Id::Core, Id::Parent].get(usize::try_from(n).ok()?).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_numbers_are_their_index() {
        for (i, c) in Call::ALL.iter().enumerate() {
            assert_eq!(*c as u64, i as u64);
            assert_eq!(Call::from_number(i as u64), Some(*c));
        }
        assert_eq!(Call::from_number(Call::ALL.len() as u64), None);
        assert_eq!(Call::from_number(u64::MAX), None);
    }

    #[test]
    fn results_round_trip() {
        for e in Error::ALL {
            assert_eq!(decode_result(e.to_result()), Err(e));
            assert_eq!(Error::from_number(e as u64), Some(e));
        }
        for v in [0, 1, 4096, u64::MAX - 4095, 0x40_0000] {
            assert_eq!(decode_result(encode_result(Ok(v))), Ok(v));
        }
        assert_eq!(Error::from_number(0), None);
        assert_eq!(Error::from_number(Error::ALL.len() as u64 + 1), None);
        assert_eq!(decode_result(u64::MAX - 99), Err(Error::BadCall), "unknown error numbers stay errors");
    }

    #[test]
    fn ids() {
        assert_eq!(Id::from_number(2), Some(Id::Core));
        assert_eq!(Id::from_number(4), None);
    }
}
