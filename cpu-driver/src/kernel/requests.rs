//! What programs and the process code ask of the node's monitor, which
//! acts on it on the node's first core: switch the machine off, print every
//! node's trace, and how `init` ended. `static`s because the monitor polls
//! them on every step and must not take the node lock.

use crate::devices::uart;
use crate::kernel::ctx::Node;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use user_abi::ExitStatus;

/// A program asked for every node's trace (the shell's `trace`).
static TRACE_REQUEST: AtomicBool = AtomicBool::new(false);

/// Records a program's request to print every node's trace (the console
/// owner only, where the coordinator runs; with bootarg `trace`).
pub fn request_trace(node: &Node) -> Result<(), user_abi::Error> {
    if uart::console().is_none() || node.info.flags & handoff::bootinfo::FLAG_TRACE == 0 {
        return Err(user_abi::Error::NotSupported);
    }
    TRACE_REQUEST.store(true, Ordering::Release);
    Ok(())
}

/// Whether a trace was asked for.
pub fn trace_requested() -> bool {
    TRACE_REQUEST.load(Ordering::Acquire)
}

/// Takes the request for a trace, if there was one.
pub fn take_trace_request() -> bool {
    TRACE_REQUEST.swap(false, Ordering::AcqRel)
}

/// A program's request to switch the machine off: its pid and name.
static POWER_OFF: spin::Mutex<Option<(u32, [u8; user_abi::NAME_BYTES])>> = spin::Mutex::new(None);

/// Records a program's request to switch off (the console owner only: it
/// is the node that can say so on the console first).
pub fn request_power_off(pid: u32, name: [u8; user_abi::NAME_BYTES]) -> Result<(), user_abi::Error> {
    if uart::console().is_none() {
        return Err(user_abi::Error::NotSupported);
    }
    POWER_OFF.lock().get_or_insert((pid, name));
    Ok(())
}

/// Who asked to switch off, if anyone did.
pub fn power_off_request() -> Option<(u32, [u8; user_abi::NAME_BYTES])> {
    *POWER_OFF.lock()
}

/// How this node's `init` ended, once it has. A static of its own because
/// the monitor polls it on every step and must not take the node lock.
pub static INIT_STATUS: InitStatus = InitStatus(AtomicU64::new(0));

/// `init`'s end: 0 while it runs, else its encoded status + 1.
pub struct InitStatus(AtomicU64);

impl InitStatus {
    /// Records how `init` ended.
    pub fn set(&self, status: ExitStatus) {
        self.0.store(status.encode() + 1, Ordering::Release);
    }

    /// `init`'s encoded status (`ExitStatus::encode`), once it ended.
    pub fn get(&self) -> Option<u64> {
        self.0.load(Ordering::Acquire).checked_sub(1)
    }
}
