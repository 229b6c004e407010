//! The structures calls exchange, and how statuses and options are packed
//! into registers.

use crate::{NAME_BYTES, PRIORITIES};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Why a program was killed for a fault.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A load or store to memory it may not use that way (unmapped, kernel,
    /// read-only).
    BadAccess = 1,
    /// An undefined (or privileged) instruction.
    UndefinedInstruction = 2,
    /// A store below the stack, into its guard.
    StackOverflow = 3,
    /// A misaligned stack pointer, program counter or exclusive access.
    Misaligned = 4,
    /// Executing memory that is not executable.
    BadExecute = 5,
    /// Any other exception the program caused.
    Other = 6,
    /// Its stack grew onto a page the node had no free frame for.
    OutOfMemory = 7,
}

impl Fault {
    pub const ALL: [Fault; 7] = [
        Fault::BadAccess,
        Fault::UndefinedInstruction,
        Fault::StackOverflow,
        Fault::Misaligned,
        Fault::BadExecute,
        Fault::Other,
        Fault::OutOfMemory,
    ];

    pub fn from_number(n: u32) -> Option<Fault> {
        Fault::ALL.get(usize::try_from(n.checked_sub(1)?).ok()?).copied()
    }

    /// As printed in the kernel's one-line report.
    pub fn name(self) -> &'static str {
        match self {
            Fault::BadAccess => "bad memory access",
            Fault::UndefinedInstruction => "undefined instruction",
            Fault::StackOverflow => "stack overflow",
            Fault::Misaligned => "misaligned access",
            Fault::BadExecute => "execute of non-executable memory",
            Fault::Other => "exception",
            Fault::OutOfMemory => "out of memory",
        }
    }
}

/// How a program ended, as `wait` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It called `exit(code)` (or returned `code` from `main`).
    Exited(i32),
    /// The kernel killed it for a fault.
    Faulted(Fault),
    /// Another program killed it.
    Killed,
}

const KIND_EXITED: u64 = 0;
const KIND_FAULTED: u64 = 1;
const KIND_KILLED: u64 = 2;

impl ExitStatus {
    /// Packed: kind in bits 32..40, code in bits 0..32.
    pub fn encode(self) -> u64 {
        match self {
            ExitStatus::Exited(code) => (KIND_EXITED << 32) | u64::from(code as u32),
            ExitStatus::Faulted(f) => (KIND_FAULTED << 32) | f as u64,
            ExitStatus::Killed => KIND_KILLED << 32,
        }
    }

    pub fn decode(raw: u64) -> Option<ExitStatus> {
        let code = raw as u32;
        match raw >> 32 {
            KIND_EXITED => Some(ExitStatus::Exited(code as i32)),
            KIND_FAULTED => Fault::from_number(code).map(ExitStatus::Faulted),
            KIND_KILLED if code == 0 => Some(ExitStatus::Killed),
            _ => None,
        }
    }
}

impl core::fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ExitStatus::Exited(c) => write!(f, "exited with {c}"),
            ExitStatus::Faulted(fault) => write!(f, "killed: {}", fault.name()),
            ExitStatus::Killed => write!(f, "killed"),
        }
    }
}

/// What kind of work a program is, for placing it: `Heavy` wants big
/// cores, `Light` LITTLE ones; `Auto` (the default) is classified from its
/// utilization as it runs.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Class {
    #[default]
    Auto = 0,
    Heavy = 1,
    Light = 2,
}

impl Class {
    pub fn from_number(n: u32) -> Option<Class> {
        [Class::Auto, Class::Heavy, Class::Light].get(n as usize).copied()
    }

    /// As the shell and the command line write it.
    pub fn name(self) -> &'static str {
        match self {
            Class::Auto => "auto",
            Class::Heavy => "heavy",
            Class::Light => "light",
        }
    }

    /// The class called `name`.
    pub fn from_name(name: &str) -> Option<Class> {
        [Class::Auto, Class::Heavy, Class::Light].into_iter().find(|c| c.name() == name)
    }
}

/// How `spawn` places the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SpawnOptions {
    /// 0 (lowest) to `PRIORITIES - 1`; `None`: the default.
    pub priority: Option<u8>,
    /// Keep the program on this core of the node; `None`: any core, and it
    /// may move between them.
    pub core: Option<u8>,
    /// The console's foreground program: Ctrl-C typed while it runs ends it
    /// (console node only; until it ends or another takes its place).
    pub foreground: bool,
    /// What kind of work it is.
    pub class: Class,
    /// Start it on this node and keep it there; `None`: the placement
    /// policy chooses, and may move it.
    pub node: Option<u8>,
}

impl SpawnOptions {
    /// Bits 0..8: priority + 1 (0: default); bits 8..16: core + 1 (0: any);
    /// bit 16: foreground; bits 17..19: class; bits 19..27: node + 1 (0:
    /// the policy's choice).
    pub fn encode(self) -> u64 {
        let p = self.priority.map_or(0, |p| u64::from(p) + 1);
        let c = self.core.map_or(0, |c| u64::from(c) + 1);
        let n = self.node.map_or(0, |n| u64::from(n) + 1);
        p | (c << 8) | (u64::from(self.foreground) << 16) | ((self.class as u64) << 17) | (n << 19)
    }

    /// Rejects unknown bits and priorities out of range (cores are checked
    /// by the kernel, which knows how many it has).
    pub fn decode(raw: u64) -> Option<SpawnOptions> {
        if raw >> 27 != 0 {
            return None;
        }
        let class = Class::from_number(((raw >> 17) & 3) as u32)?;
        let p = (raw & 0xff) as u8;
        let c = (raw >> 8) as u8;
        if p > PRIORITIES {
            return None;
        }
        Some(SpawnOptions {
            priority: p.checked_sub(1),
            core: c.checked_sub(1),
            foreground: raw & (1 << 16) != 0,
            class,
            node: ((raw >> 19) as u8).checked_sub(1),
        })
    }
}

/// `ProcessInfo::state`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessState {
    Ready = 0,
    Running = 1,
    Sleeping = 2,
    /// In `wait`.
    Waiting = 3,
    /// In `recv`.
    Receiving = 4,
    /// In `read` (console input).
    Reading = 5,
    /// Ended, not yet waited for.
    Zombie = 6,
}

impl ProcessState {
    pub const ALL: [ProcessState; 7] = [
        ProcessState::Ready,
        ProcessState::Running,
        ProcessState::Sleeping,
        ProcessState::Waiting,
        ProcessState::Receiving,
        ProcessState::Reading,
        ProcessState::Zombie,
    ];

    pub fn from_number(n: u32) -> Option<ProcessState> {
        ProcessState::ALL.get(n as usize).copied()
    }

    pub fn name(self) -> &'static str {
        match self {
            ProcessState::Ready => "ready",
            ProcessState::Running => "running",
            ProcessState::Sleeping => "sleeping",
            ProcessState::Waiting => "waiting",
            ProcessState::Receiving => "receiving",
            ProcessState::Reading => "reading",
            ProcessState::Zombie => "zombie",
        }
    }
}

/// One process, as `ps` reports it.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct ProcessInfo {
    pub pid: u32,
    pub parent: u32,
    /// [`ProcessState`] number.
    pub state: u32,
    /// The core it last ran on (or is queued on).
    pub core: u32,
    pub priority: u32,
    /// 1 if pinned to `core`.
    pub pinned: u32,
    /// Times another core of the node took it over.
    pub migrations: u32,
    /// The node it is on.
    pub node: u32,
    /// Times it moved to another node.
    pub moves: u32,
    /// Its utilization: a decaying average of its running time (half-life
    /// about 32 ms) at the capacity of the cores it ran on, 0 to 1024.
    pub util: u32,
    /// The class it was spawned with ([`Class`] number).
    pub class: u32,
    /// 1 while it counts as heavy (its class, or, for `auto`, its
    /// utilization: see `processes::util::classify`).
    pub heavy: u32,
    /// CPU time used, nanoseconds.
    pub cpu_ns: u64,
    /// Program name, NUL-padded.
    pub name: [u8; NAME_BYTES],
}

impl ProcessInfo {
    pub fn name(&self) -> &str {
        name_str(&self.name)
    }
}

/// One node, as `nodes` reports it.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct NodeInfo {
    pub id: u32,
    /// `handoff::BUILD_BIG` or `BUILD_LITTLE`.
    pub build: u32,
    /// `capacity-dmips-mhz` normalised to 1024.
    pub capacity: u32,
    pub cpus: u32,
    /// 1 for the caller's node and for every node its monitor linked with.
    pub linked: u32,
    /// 1 for the node that owns the console.
    pub console: u32,
    /// Its free pages and its processes: the caller's node's as they are,
    /// another's as its last view update said (0 before the first).
    pub free_pages: u32,
    pub processes: u32,
}

impl NodeInfo {
    pub fn build_name(&self) -> &'static str {
        match self.build {
            handoff::BUILD_BIG => "big",
            handoff::BUILD_LITTLE => "little",
            _ => "unknown",
        }
    }
}

/// The caller's node, as `sysinfo` reports it.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
pub struct SysInfo {
    pub node: u32,
    pub nodes: u32,
    pub cores: u32,
    /// Processes that exist (zombies included).
    pub processes: u32,
    /// The node that owns the console.
    pub console_node: u32,
    pub _reserved: u32,
    /// Free and total pages of the node's memory.
    pub free_pages: u64,
    pub total_pages: u64,
    /// System calls served, and how many of them returned an error.
    pub calls: u64,
    pub failed_calls: u64,
    /// Programs killed for faults since boot.
    pub faults: u64,
    /// The generic counter's frequency.
    pub counter_hz: u64,
    /// Console lines this node gave up on (the console owner stayed away
    /// too long); the owner also reports them on the console.
    pub console_dropped: u64,
    /// Console input bytes refused since boot (typeahead beyond
    /// `TYPEAHEAD_BYTES`, or a UART overrun); console node only.
    pub input_dropped: u64,
    /// The node's monitor: messages it dropped (a full outbox), frames it
    /// rejected as invalid, valid messages that made no sense, and channel
    /// slots that were not a message at all, since boot.
    pub messages_dropped: u64,
    pub messages_rejected: u64,
    pub messages_unexpected: u64,
    pub channel_corrupt: u64,
}

/// The text of a NUL-padded name (up to the first NUL; invalid UTF-8 reads as "?").
pub fn name_str(name: &[u8]) -> &str {
    let len = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    core::str::from_utf8(&name[..len]).unwrap_or("?")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses_round_trip() {
        let plain = [ExitStatus::Exited(0), ExitStatus::Exited(-1), ExitStatus::Exited(i32::MAX), ExitStatus::Killed];
        for s in plain.into_iter().chain(Fault::ALL.map(ExitStatus::Faulted)) {
            assert_eq!(ExitStatus::decode(s.encode()), Some(s));
        }
        assert_eq!(ExitStatus::decode(3 << 32), None);
        assert_eq!(ExitStatus::decode((1 << 32) | 99), None);
        assert_eq!(ExitStatus::decode((2 << 32) | 1), None);
    }

    #[test]
    fn spawn_options_round_trip_and_reject() {
        for priority in [None, Some(0), Some(3)] {
            for core in [None, Some(0), Some(15)] {
                for foreground in [false, true] {
                    for class in [Class::Auto, Class::Heavy, Class::Light] {
                        for node in [None, Some(0), Some(15)] {
                            let o = SpawnOptions { priority, core, foreground, class, node };
                            assert_eq!(SpawnOptions::decode(o.encode()), Some(o));
                        }
                    }
                }
            }
        }
        assert_eq!(SpawnOptions::decode(5), None, "priority 4 is out of range");
        assert_eq!(SpawnOptions::decode(3 << 17), None, "no class 3");
        assert_eq!(SpawnOptions::decode(1 << 27), None, "unknown bits");
        assert_eq!(Class::from_name("heavy"), Some(Class::Heavy));
        assert_eq!(Class::from_name("big"), None);
    }

    #[test]
    fn names() {
        assert_eq!(name_str(b"init\0\0\0"), "init");
        assert_eq!(name_str(b"abc"), "abc");
        assert_eq!(name_str(&[0xff, 0]), "?");
        assert_eq!(ProcessState::from_number(6), Some(ProcessState::Zombie));
        assert_eq!(ProcessState::from_number(7), None);
    }
}
