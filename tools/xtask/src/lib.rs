//! The project's build tool as a library, so the boot tests drive QEMU with
//! the same code as `cargo xtask run`.

pub mod asym;
pub mod bench_host;
pub mod bench_migrate;
pub mod bench_qemu;
pub mod bench_sched;
pub mod build;
pub mod charts;
pub mod dt_tree;
pub mod dtb;
pub mod fuzz;
pub mod fuzz_boot;
pub mod gdb;
pub mod image;
pub mod loom;
pub mod out;
pub mod plan;
pub mod plot;
pub mod profile;
pub mod qemu;
pub mod report;
pub mod setup;
pub mod trace;

use std::path::PathBuf;

/// Errors are one line of text for the user.
pub type Result<T> = std::result::Result<T, String>;

/// The workspace root.
pub fn root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors().nth(2).map(PathBuf::from).unwrap_or(here)
}

/// `target/` of the workspace.
pub fn target_dir() -> PathBuf {
    root().join("target")
}
