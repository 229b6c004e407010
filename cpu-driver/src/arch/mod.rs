//! The processor: entry, exception vectors, and what touches only this core's registers. Calls nothing above it.

pub mod cpu;
pub mod entry;
pub mod trap;
