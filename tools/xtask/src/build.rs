//! Builds the user programs, the two CPU-driver builds (each carrying the
//! program archive) and a board's boot image.

use crate::{image, target_dir, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "aarch64-unknown-none";

/// The board `cargo xtask` builds for unless `--board` says otherwise: the
/// one QEMU boots.
pub const DEFAULT_BOARD: &str = "qemu-virt";

/// The two builds of the CPU driver, with the core each is tuned for.
pub const CPU_DRIVER_BUILDS: [(&str, &str); 2] = [("big", "cortex-a76"), ("little", "cortex-a55")];

/// The cargo that runs xtask (or the one on PATH).
pub fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Runs `cmd` from the workspace root; `what` names it in the error.
pub fn run(mut cmd: Command, what: &str) -> Result<()> {
    let status = cmd.current_dir(crate::root()).status().map_err(|e| format!("{what}: cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

fn images_dir() -> Result<PathBuf> {
    let dir = target_dir().join("images");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

fn flatten_to(elf: PathBuf, out: PathBuf) -> Result<PathBuf> {
    let bytes = std::fs::read(&elf).map_err(|e| format!("cannot read {}: {e}", elf.display()))?;
    std::fs::write(&out, image::flatten(&bytes)?).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    Ok(out)
}

/// The package whose binaries are the user programs.
pub const USER_PROGRAMS_PACKAGE: &str = "user-programs";

/// The environment variable that tells the CPU-driver build where the
/// program archive is (`include_bytes!(env!("MK_USER_PROGRAMS"))`).
pub const USER_PROGRAMS_ENV: &str = "MK_USER_PROGRAMS";

/// The names of the binaries of `package`, sorted, from `cargo metadata`
/// output (`--no-deps --format-version 1`).
pub fn binaries_of(metadata: &str, package: &str) -> Result<Vec<String>> {
    let v: serde_json::Value = serde_json::from_str(metadata).map_err(|e| format!("cargo metadata: bad JSON: {e}"))?;
    let packages = v["packages"].as_array().ok_or("cargo metadata: no `packages`")?;
    let p = packages
        .iter()
        .find(|p| p["name"] == package)
        .ok_or_else(|| format!("the workspace has no package `{package}`"))?;
    let mut names: Vec<String> = p["targets"]
        .as_array()
        .ok_or_else(|| format!("cargo metadata: package `{package}` has no `targets`"))?
        .iter()
        .filter(|t| t["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "bin")))
        .filter_map(|t| t["name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Err(format!("package `{package}` has no binaries"));
    }
    Ok(names)
}

/// The workspace's packages that build for the host: every member but
/// those whose `[package.metadata.multikernel]` names a target (they only
/// build for the board). From `cargo metadata --no-deps` output.
pub fn host_packages(metadata: &str) -> Result<Vec<String>> {
    let v: serde_json::Value = serde_json::from_str(metadata).map_err(|e| format!("cargo metadata: bad JSON: {e}"))?;
    let packages = v["packages"].as_array().ok_or("cargo metadata: no `packages`")?;
    let mut names: Vec<String> = packages
        .iter()
        .filter(|p| p["metadata"]["multikernel"]["target"].is_null())
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    Ok(names)
}

/// `cargo metadata --no-deps` of the workspace, as JSON text.
pub fn metadata() -> Result<String> {
    let out = cargo()
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(crate::root())
        .output()
        .map_err(|e| format!("cargo metadata: cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Packs `programs` (name, file) into one archive (`user_abi::archive`).
pub fn pack_programs(programs: &[(String, Vec<u8>)]) -> Result<Vec<u8>> {
    let list: Vec<(&str, &[u8])> = programs.iter().map(|(n, f)| (n.as_str(), f.as_slice())).collect();
    let mut out = vec![0u8; user_abi::archive::packed_size(&list)];
    let used = user_abi::archive::pack(&list, &mut out).map_err(|e| format!("packing the user programs: {e}"))?;
    out.truncate(used);
    Ok(out)
}

/// Writes `bytes` to `path` unless it already holds exactly them (so the
/// CPU drivers, which include the file, are not rebuilt for nothing).
fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Builds every binary of the user-programs package for EL0 and packs them
/// into `target/images/user-programs.bin`; returns its absolute path.
pub fn user_programs() -> Result<PathBuf> {
    let names = binaries_of(&metadata()?, USER_PROGRAMS_PACKAGE)?;
    // Its own target dir: no CPU-specific codegen flags, and the linker
    // script comes from the package's build script.
    let dir = target_dir().join("userland");
    let mut cmd = cargo();
    cmd.args(["build", "--quiet", "--release", "-p", USER_PROGRAMS_PACKAGE, "--target", TARGET])
        .env("CARGO_TARGET_DIR", &dir)
        .env("CARGO_ENCODED_RUSTFLAGS", "");
    run(cmd, "building the user programs")?;
    let release = dir.join(TARGET).join("release");
    let mut programs = Vec::new();
    for name in names {
        let path = release.join(&name);
        let file = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        programs.push((name, file));
    }
    let archive = pack_programs(&programs)?;
    let path = images_dir()?.join("user-programs.bin");
    write_if_changed(&path, &archive)?;
    std::path::absolute(&path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Where one CPU-driver build's cargo output goes (each build has its own
/// target dir: different codegen flags).
fn cpu_driver_dir(build: &str) -> PathBuf {
    target_dir().join(format!("cpu-driver-{build}"))
}

/// The linked ELF of CPU-driver build `build` (with its symbols).
pub fn cpu_driver_elf(build: &str) -> PathBuf {
    cpu_driver_dir(build).join(TARGET).join("release").join("cpu-driver")
}

/// The linked ELF of `board`'s boot image (the boot driver, with symbols).
pub fn boot_elf(board: &str) -> PathBuf {
    target_dir().join("boot").join(TARGET).join("release").join(board)
}

/// Builds one CPU-driver build, carrying the program archive at
/// `programs`; returns its flat image.
pub fn cpu_driver(build: &str, cpu: &str, programs: &Path) -> Result<PathBuf> {
    let dir = cpu_driver_dir(build);
    let mut cmd = cargo();
    cmd.args(["build", "--quiet", "--release", "-p", "cpu-driver", "--target", TARGET, "--features", build])
        .env("CARGO_TARGET_DIR", &dir)
        .env("CARGO_ENCODED_RUSTFLAGS", format!("-Ctarget-cpu={cpu}"))
        .env(USER_PROGRAMS_ENV, programs);
    run(cmd, &format!("building the {build} CPU driver"))?;
    flatten_to(cpu_driver_elf(build), images_dir()?.join(format!("cpu-driver-{build}.bin")))
}

/// Builds the `qemu-pacer` TCG plugin for the host; returns the library.
pub fn pacer() -> Result<PathBuf> {
    let mut cmd = cargo();
    cmd.args(["build", "--quiet", "--release", "-p", "qemu-pacer"]);
    run(cmd, "building the qemu-pacer plugin")?;
    let lib = target_dir().join("release").join("libqemu_pacer.so");
    lib.exists().then_some(lib).ok_or_else(|| "the qemu-pacer build left no libqemu_pacer.so".into())
}

/// Builds the user programs, both CPU drivers and the boot image of
/// `board`; returns the image.
pub fn boot_image(board: &str) -> Result<PathBuf> {
    let programs = user_programs()?;
    let mut drivers = Vec::new();
    for (build, cpu) in CPU_DRIVER_BUILDS {
        drivers.push(cpu_driver(build, cpu, &programs)?);
    }
    let dir = target_dir().join("boot");
    let mut cmd = cargo();
    cmd.args(["build", "--quiet", "--release", "-p", board, "--target", TARGET])
        .env("CARGO_TARGET_DIR", &dir)
        .env("CARGO_ENCODED_RUSTFLAGS", "")
        .env("MK_CPU_DRIVER_BIG", &drivers[0])
        .env("MK_CPU_DRIVER_LITTLE", &drivers[1]);
    run(cmd, &format!("building the {board} boot image"))?;
    flatten_to(boot_elf(board), images_dir()?.join(format!("{board}.img")))
}

/// Runs a `cargo test` command from the workspace root, passing its output
/// through, and adds up its `test result:` lines: (passed, failed).
pub fn cargo_test(mut cmd: Command, what: &str) -> Result<(u64, u64)> {
    use std::io::{BufRead, BufReader};
    let mut child = cmd
        .current_dir(crate::root())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("{what}: cannot run cargo: {e}"))?;
    let stdout = child.stdout.take().ok_or("no cargo stdout")?;
    let mut counts = (0, 0);
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| e.to_string())?;
        crate::outln!("{line}");
        if let Some((passed, failed)) = crate::report::cargo_test_counts(&line) {
            counts = (counts.0 + passed, counts.1 + failed);
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    status.success().then_some(counts).ok_or_else(|| format!("{what} failed ({status})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use user_abi::archive::Archive;

    #[test]
    fn packs_programs_that_parse_back() {
        let programs = vec![
            ("init".to_string(), b"\x7fELF init".to_vec()),
            ("shell".to_string(), vec![0xaa; 4097]),
            ("empty".to_string(), Vec::new()),
            ("x".to_string(), vec![1, 2, 3]),
        ];
        let bytes = pack_programs(&programs).expect("pack");
        let a = Archive::parse(&bytes).expect("parse");
        assert_eq!(a.len(), programs.len());
        let got: Vec<(String, Vec<u8>)> = a.iter().map(|(n, f)| (n.to_string(), f.to_vec())).collect();
        assert_eq!(got, programs);
        assert_eq!(a.find("shell").map(<[u8]>::len), Some(4097));
        assert!(a.find("nope").is_none());
    }

    #[test]
    fn refuses_what_the_archive_cannot_hold() {
        let long = ("n".repeat(user_abi::NAME_BYTES), Vec::new());
        assert!(pack_programs(&[long]).is_err());
        let many: Vec<_> = (0..=user_abi::archive::MAX_PROGRAMS).map(|i| (format!("p{i}"), Vec::new())).collect();
        assert!(pack_programs(&many).is_err());
    }

    #[test]
    fn host_packages_are_the_members_without_a_target() {
        let meta = r#"{"packages": [
            {"name": "topology", "metadata": null},
            {"name": "cpu-driver", "metadata": {"multikernel": {"target": "aarch64-unknown-none"}}},
            {"name": "xtask", "metadata": {"other": 1}},
            {"name": "boot-tests"}
        ]}"#;
        assert_eq!(host_packages(meta).expect("parses"), ["boot-tests", "topology", "xtask"]);
        assert!(host_packages("[]").is_err());
    }

    #[test]
    fn finds_the_binaries_in_cargo_metadata() {
        let meta = r#"{"packages": [
            {"name": "urt", "targets": [{"name": "urt", "kind": ["lib"]}]},
            {"name": "user-programs", "targets": [
                {"name": "user_programs", "kind": ["lib"]},
                {"name": "shell", "kind": ["bin"]},
                {"name": "build-script-build", "kind": ["custom-build"]},
                {"name": "init", "kind": ["bin"]}
            ]}
        ]}"#;
        assert_eq!(binaries_of(meta, "user-programs").expect("bins"), ["init", "shell"]);
        assert!(binaries_of(meta, "urt").is_err(), "a package without binaries");
        assert!(binaries_of(meta, "nope").is_err());
        assert!(binaries_of("not json", "user-programs").is_err());
    }
}
