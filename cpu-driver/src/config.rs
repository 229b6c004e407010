//! Per-build configuration: the one place `big` and `little` differ in source.
//! (They also differ in codegen: `-C target-cpu=cortex-a76` / `cortex-a55`.)

#[cfg(all(feature = "big", feature = "little"))]
compile_error!("build the CPU driver with exactly one of the `big` and `little` features");
#[cfg(not(any(feature = "big", feature = "little")))]
compile_error!("build the CPU driver with the `big` or the `little` feature (cargo xtask build does)");

#[cfg(feature = "big")]
mod build {
    pub const BUILD: u32 = handoff::BUILD_BIG;
    pub const NAME: &str = "big";
    /// Polls before a wait blocks: a big core's spin is short in time.
    pub const POLL_SPINS: u32 = 4096;
}

#[cfg(feature = "little")]
mod build {
    pub const BUILD: u32 = handoff::BUILD_LITTLE;
    pub const NAME: &str = "little";
    /// LITTLE cores are for efficiency: poll less before sleeping.
    pub const POLL_SPINS: u32 = 1024;
}

pub use build::*;

/// How long after the boot driver started the boot node waits for every
/// node to report before it prints the summary.
pub const BOOT_TIMEOUT_US: u64 = 2_000_000;
/// How long after the boot driver started a node leader waits for its
/// cores: well inside [`BOOT_TIMEOUT_US`], so that a node with a core that
/// never starts still reports (with the cores it has) before the summary.
pub const CORES_TIMEOUT_US: u64 = BOOT_TIMEOUT_US * 3 / 4;
/// Period of the safety-net timer while blocked (a missed doorbell costs at most this).
pub const TICK_US: u64 = 10_000;
