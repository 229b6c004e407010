//! A QEMU TCG plugin that makes a big.LITTLE machine out of `virt`: every
//! vCPU is paced to `rate × capacity / 1024` guest instructions per host
//! second. A vCPU that gets ahead of its budget sleeps off the debt (no busy
//! wait), so it yields the host CPU to the others, and its speed does not
//! depend on how busy the other vCPUs are.
//!
//! ```text
//! qemu-system-aarch64 ... -plugin file=libqemu_pacer.so,rate=60000000,caps=1024:1024:530:530
//! ```
//!
//! - `rate`: guest instructions per host second of a capacity-1024 vCPU;
//!   low enough that all vCPUs flat out fit in the host's cores.
//! - `caps`: each vCPU's capacity (1..=1024), in vCPU index order, which
//!   is the device tree's CPU order; vCPUs beyond the list run unpaced.
//! - `credit_us` (optional, default 2000): how far behind its budget an
//!   idle vCPU may fall, i.e. the longest burst after it wakes.
//!
//! Unknown or bad arguments make QEMU refuse to start, with a message.
//!
//! Built on plugin API v3 (inline per-vCPU counters and conditional
//! callbacks, so the cost per executed block is an add and a compare):
//! QEMU 9.1 and newer load it.
//!
//! It models speed only: not caches, memory bandwidth or power. The guest's
//! generic timer follows host time (no `-icount`), so a slowed vCPU also
//! measures itself slower.

pub mod args;
pub mod pace;

#[cfg(not(test))]
mod plugin;
