//! What `cargo xtask run` and `cargo xtask test` make sure of before they
//! start, so that the README's two commands work on a fresh machine: the
//! target and components `rust-toolchain.toml` pins (rustup installs a
//! pinned toolchain on first use, but never adds them to one that is
//! already installed), QEMU 9 or newer and, for `--gdb`, `gdb-multiarch`.
//! Each install says what it installs in one line; without root the one
//! command that would install it is printed instead.

use crate::Result;
use std::process::Command;

/// The target and components `rust-toolchain.toml` asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pinned {
    pub channel: String,
    pub targets: Vec<String>,
    pub components: Vec<String>,
}

/// Reads the `[toolchain]` table of a `rust-toolchain.toml`.
pub fn pinned(text: &str) -> Result<Pinned> {
    let table: toml::Table = text.parse().map_err(|e| format!("rust-toolchain.toml: {e}"))?;
    let tc = table.get("toolchain").and_then(toml::Value::as_table).ok_or("rust-toolchain.toml: no [toolchain]")?;
    let list = |key: &str| -> Result<Vec<String>> {
        match tc.get(key) {
            None => Ok(Vec::new()),
            Some(v) => v
                .as_array()
                .ok_or_else(|| format!("rust-toolchain.toml: `{key}` is not a list"))?
                .iter()
                .map(|s| s.as_str().map(str::to_string).ok_or_else(|| format!("rust-toolchain.toml: bad `{key}`")))
                .collect(),
        }
    };
    let channel = tc.get("channel").and_then(toml::Value::as_str).unwrap_or_default().to_string();
    Ok(Pinned { channel, targets: list("targets")?, components: list("components")? })
}

/// The names in `wanted` that `installed` (rustup's `--installed` lists,
/// one per line, components with their host suffix) lacks.
pub fn missing(wanted: &[String], installed: &str) -> Vec<String> {
    let have: Vec<&str> = installed.lines().map(str::trim).collect();
    wanted
        .iter()
        .filter(|w| {
            !have.iter().any(|h| h == w || h.strip_prefix(w.as_str()).is_some_and(|rest| rest.starts_with('-')))
        })
        .cloned()
        .collect()
}

fn rustup(args: &[&str]) -> Result<String> {
    let out = Command::new("rustup").args(args).output().map_err(|e| {
        format!("cannot run rustup ({e}); install Rust through rustup (https://rustup.rs) so the pinned target can be added")
    })?;
    if !out.status.success() {
        return Err(format!("`rustup {}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Adds the pinned target and components to the toolchain cargo runs
/// with, when they are missing.
pub fn toolchain() -> Result<()> {
    let path = crate::root().join("rust-toolchain.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let pin = pinned(&text)?;
    // rustup's proxy names the toolchain it picked; else the pinned channel.
    let toolchain = std::env::var("RUSTUP_TOOLCHAIN").unwrap_or(pin.channel);
    if toolchain.is_empty() {
        return Ok(());
    }
    let targets = missing(&pin.targets, &rustup(&["target", "list", "--installed", "--toolchain", &toolchain])?);
    let components =
        missing(&pin.components, &rustup(&["component", "list", "--installed", "--toolchain", &toolchain])?);
    for (kind, names) in [("target", targets), ("component", components)] {
        if names.is_empty() {
            continue;
        }
        crate::outln!(
            "xtask: adding rustup {kind} {} to {toolchain} (pinned in rust-toolchain.toml)",
            names.join(", ")
        );
        let mut args = vec![kind, "add", "--toolchain", &toolchain];
        args.extend(names.iter().map(String::as_str));
        rustup(&args)?;
    }
    Ok(())
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Runs `bash tools/install-packages.sh WHAT` as root, after saying so in
/// one line; without root, the error is the command to run.
fn install(what: &str, says: &str, why: &str) -> Result<()> {
    let command = format!("bash tools/install-packages.sh {what}");
    if !is_root() {
        return Err(format!("{why}; install {says} with: sudo {command}"));
    }
    crate::outln!("xtask: {why}: installing {says} with apt-get (`{command}`)");
    let status = Command::new("bash")
        .args(["tools/install-packages.sh", what])
        .current_dir(crate::root())
        .status()
        .map_err(|e| format!("{command}: {e}"))?;
    status.success().then_some(()).ok_or_else(|| format!("`{command}` failed ({status}); {says} is still missing"))
}

/// QEMU 9 or newer, installed if missing (as root).
pub fn qemu() -> Result<std::path::PathBuf> {
    match crate::qemu::binary() {
        Ok(bin) => Ok(bin),
        Err(why) => {
            let why = why.split(';').next().unwrap_or(&why).to_string();
            install("qemu", "QEMU 9 or newer (qemu-system-arm and ipxe-qemu, about 10 MB to download)", &why)?;
            crate::qemu::binary()
        }
    }
}

/// `gdb-multiarch`, installed if missing (as root).
pub fn gdb() -> Result<()> {
    let found = Command::new("gdb-multiarch").arg("--version").output().is_ok_and(|o| o.status.success());
    if found {
        return Ok(());
    }
    install("gdb", "gdb-multiarch (about 4 MB to download)", "gdb-multiarch not found")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_pinned_toolchain() {
        let text = "[toolchain]\nchannel = \"1.95.0\"\ncomponents = [\"clippy\", \"rustfmt\"]\ntargets = [\"aarch64-unknown-none\"]\nprofile = \"minimal\"\n";
        let pin = pinned(text).expect("parses");
        assert_eq!(pin.channel, "1.95.0");
        assert_eq!(pin.targets, ["aarch64-unknown-none"]);
        assert_eq!(pin.components, ["clippy", "rustfmt"]);
        assert!(pinned("[other]\n").is_err());
        assert!(pinned("[toolchain]\ntargets = \"x\"\n").is_err());
        assert!(pinned("not toml [").is_err());
    }

    #[test]
    fn finds_what_rustup_lacks() {
        let wanted = ["clippy".to_string(), "rustfmt".to_string(), "aarch64-unknown-none".to_string()];
        let installed =
            "cargo-x86_64-unknown-linux-gnu\nclippy-x86_64-unknown-linux-gnu\nrustc-x86_64-unknown-linux-gnu\n";
        assert_eq!(missing(&wanted, installed), ["rustfmt", "aarch64-unknown-none"]);
        assert_eq!(missing(&wanted[2..], "x86_64-unknown-linux-gnu\naarch64-unknown-none\n"), Vec::<String>::new());
        // A name that is only a prefix of another component is not it.
        assert_eq!(missing(&["rust-src".to_string()], "rust-std-x86_64-unknown-linux-gnu\n"), ["rust-src"]);
    }
}
