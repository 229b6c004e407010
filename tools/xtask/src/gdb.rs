//! `cargo xtask run --gdb`: QEMU's gdb stub, and the one gdb command line
//! that attaches to it with the symbols of the boot driver and of both
//! CPU-driver builds.
//!
//! Both CPU-driver builds are linked at the same kernel addresses, so gdb
//! holds one build's symbols at a time: with both loaded, `break` on a
//! function gets a location in each build (the other build's address is
//! other code on this one) and a static's name means two addresses. The
//! generated script loads the big build and the boot driver (which runs
//! with the MMU off, at physical addresses no CPU driver uses) and defines
//! `mk-little` and `mk-big` to swap the CPU-driver symbols.

use crate::{build, build::CPU_DRIVER_BUILDS, qemu::Machine, target_dir, Result};
use std::path::{Path, PathBuf};

/// Port of the gdb stub unless `--gdb-port` says otherwise (gdb's usual).
pub const DEFAULT_PORT: u16 = 1234;

/// The gdb that reads AArch64 ELF files on any host.
pub const GDB: &str = "gdb-multiarch";

/// The stub listens on loopback only: it can read and write all guest
/// memory and has no authentication.
const HOST: &str = "127.0.0.1";

/// QEMU arguments: vCPUs stopped until gdb continues them (`-S`), and the
/// stub on `port`. QEMU shows every vCPU as a thread (thread N is vCPU N-1).
pub fn qemu_args(port: u16) -> Vec<String> {
    vec!["-S".into(), "-gdb".into(), format!("tcp:{HOST}:{port}")]
}

/// The ELF files (with debug info) gdb reads symbols from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbols {
    /// The board's boot image, which links the boot driver.
    pub boot: PathBuf,
    pub big: PathBuf,
    pub little: PathBuf,
}

impl Symbols {
    /// Where `build::boot_image(board)` leaves the ELF files.
    pub fn of_board(board: &str) -> Symbols {
        Symbols {
            boot: build::boot_elf(board),
            big: build::cpu_driver_elf(CPU_DRIVER_BUILDS[0].0),
            little: build::cpu_driver_elf(CPU_DRIVER_BUILDS[1].0),
        }
    }

    /// Fails, naming the file, if one is missing (not built yet).
    pub fn check(&self) -> Result<()> {
        for p in [&self.boot, &self.big, &self.little] {
            if !p.is_file() {
                return Err(format!("{} is missing; `cargo xtask build` makes it", p.display()));
            }
        }
        Ok(())
    }
}

/// A path as one argument of a gdb command (gdb splits file arguments like
/// a shell: quotes and backslashes).
fn gdb_quote(p: &Path) -> String {
    let s = p.display().to_string();
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A word for a POSIX shell, quoted only when it has to be.
fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=+,@%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The generated script; `@BIG@`, `@LITTLE@` and `@BOOT@` stand for the
/// quoted ELF paths.
///
/// `mk-forget-stop` works around gdb 13: for the thread that stopped at a
/// breakpoint, gdb keeps how many inlined frames it hides there, counted
/// with the symbols of the moment, and after `symbol-file` the next look at
/// that thread's frames fails an assertion and kills gdb. The count is
/// dropped once the thread's pc changes, so the switch moves that pc one
/// instruction and back first, while the symbols are still the ones it was
/// counted with (frames read with the other build's symbols can hang gdb).
const SCRIPT: &str = r#"# Written by cargo xtask (tools/xtask/src/gdb.rs); do not edit.
# Both CPU-driver builds share their addresses: one build's symbols at a time.
set architecture aarch64
set language rust
symbol-file @BIG@
add-symbol-file @BOOT@
set $mk_stop_thread = 0
define hook-stop
  set $mk_stop_thread = $_thread
end
define mk-forget-stop
  if $mk_stop_thread && $_thread
    eval "thread apply %d -q set $pc = $pc + 4", $mk_stop_thread
    eval "thread apply %d -q set $pc = $pc - 4", $mk_stop_thread
  end
  set $mk_stop_thread = 0
end
document mk-forget-stop
Forget the inlined frames gdb hides at the last stop (mk-big, mk-little do it).
Moves that thread's pc one instruction and back: after symbol-file, gdb 13
would fail an assertion on the frames counted with the old symbols.
end
define mk-big
  mk-forget-stop
  with confirm off -- symbol-file @BIG@
  echo CPU-driver symbols: big\n
end
document mk-big
Use the big CPU-driver build's symbols (loaded at start), for the big nodes.
Breakpoints set by name move to this build's addresses.
end
define mk-little
  mk-forget-stop
  with confirm off -- symbol-file @LITTLE@
  echo CPU-driver symbols: little\n
end
document mk-little
Use the little CPU-driver build's symbols, for the LITTLE nodes.
Breakpoints set by name move to this build's addresses.
end
"#;

/// The gdb script: architecture, Rust expressions, the boot driver's and the
/// big build's symbols, and the commands that switch builds. It names no
/// port, so one file serves every run.
pub fn script(s: &Symbols) -> String {
    SCRIPT
        .replace("@BIG@", &gdb_quote(&s.big))
        .replace("@LITTLE@", &gdb_quote(&s.little))
        .replace("@BOOT@", &gdb_quote(&s.boot))
}

/// Writes [`script`] to `target/gdb/BOARD.gdb` and returns its path. Tests
/// and `run` may write it at once: the same text, replaced by a rename.
pub fn write_script(board: &str, s: &Symbols) -> Result<PathBuf> {
    let dir = target_dir().join("gdb");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(format!("{board}.gdb"));
    let text = script(s);
    if std::fs::read_to_string(&path).is_ok_and(|old| old == text) {
        return Ok(path);
    }
    let tmp = dir.join(format!("{board}.gdb.{}", std::process::id()));
    std::fs::write(&tmp, &text).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// The command that connects gdb to the stub on `port`.
pub fn target_remote(port: u16) -> String {
    format!("target remote {HOST}:{port}")
}

/// Arguments of [`GDB`]: the script, then attach to `port`.
pub fn args(script: &Path, port: u16) -> Vec<String> {
    vec!["-q".into(), "-x".into(), script.display().to_string(), "-ex".into(), target_remote(port)]
}

/// The one shell line that starts gdb attached with every symbol.
pub fn command_line(script: &Path, port: u16) -> String {
    let mut words = vec![GDB.to_string()];
    words.extend(args(script, port).iter().map(|a| shell_quote(a)));
    words.join(" ")
}

/// What `run --gdb` does once the image is built: writes the script, makes
/// `m` wait for gdb on `port`, and prints the command line that attaches,
/// on a line of its own to copy.
pub fn listen(m: &mut Machine, board: &str, port: u16) -> Result<()> {
    let symbols = Symbols::of_board(board);
    symbols.check()?;
    let script = write_script(board, &symbols)?;
    m.gdb_port = Some(port);
    crate::outln!("xtask: QEMU waits for gdb on {HOST}:{port}, vCPUs stopped (gdb thread N is vCPU N-1); attach with:");
    crate::outln!("{}", command_line(&script, port));
    crate::outln!("xtask: bare names are the big CPU driver's symbols; in gdb, `mk-little` and `mk-big` switch builds");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbols() -> Symbols {
        Symbols {
            boot: "/w/target/boot/qemu-virt".into(),
            big: "/w/target/big/cpu-driver".into(),
            little: "/w/my \"dir\"/cpu-driver".into(),
        }
    }

    #[test]
    fn qemu_waits_for_gdb_on_loopback() {
        assert_eq!(qemu_args(4321), ["-S", "-gdb", "tcp:127.0.0.1:4321"]);
    }

    /// The body of `define NAME` in `text`, one line per command.
    fn body<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
        let from = format!("define {name}\n");
        let rest = text.split_once(&from).map_or("", |(_, r)| r);
        rest.lines().take_while(|l| *l != "end").map(str::trim).collect()
    }

    #[test]
    fn the_script_loads_big_and_the_boot_driver_and_can_switch() {
        let text = script(&symbols());
        assert!(!text.contains('@'), "every placeholder replaced:\n{text}");
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            lines[..4],
            [
                "set architecture aarch64",
                "set language rust",
                "symbol-file \"/w/target/big/cpu-driver\"",
                "add-symbol-file \"/w/target/boot/qemu-virt\"",
            ]
        );
        // One CPU-driver build at a time: the switches replace it with
        // symbol-file (which keeps the boot driver's), after the workaround.
        assert_eq!(text.matches("add-symbol-file").count(), 1);
        assert_eq!(
            body(&text, "mk-big"),
            [
                "mk-forget-stop",
                "with confirm off -- symbol-file \"/w/target/big/cpu-driver\"",
                "echo CPU-driver symbols: big\\n"
            ]
        );
        assert_eq!(body(&text, "mk-little")[1], "with confirm off -- symbol-file \"/w/my \\\"dir\\\"/cpu-driver\"");
        // The stopped thread's pc goes there and back, only when attached.
        assert_eq!(body(&text, "hook-stop"), ["set $mk_stop_thread = $_thread"]);
        let forget = body(&text, "mk-forget-stop");
        assert_eq!(forget[0], "if $mk_stop_thread && $_thread");
        assert!(forget[1].contains("set $pc = $pc + 4") && forget[2].contains("set $pc = $pc - 4"), "{forget:?}");
        // Every `define`, `if` and `document` is closed, and nothing attaches.
        let opened =
            lines.iter().filter(|l| ["define ", "document ", "  if "].iter().any(|o| l.starts_with(o))).count();
        assert_eq!(opened, 8);
        assert_eq!(lines.iter().filter(|l| l.trim() == "end").count(), opened);
        assert!(!text.contains("target remote"));
    }

    #[test]
    fn one_command_line_attaches() {
        let line = command_line(Path::new("/w/target/gdb/qemu-virt.gdb"), DEFAULT_PORT);
        assert_eq!(line, "gdb-multiarch -q -x /w/target/gdb/qemu-virt.gdb -ex 'target remote 127.0.0.1:1234'");
        let odd = command_line(Path::new("/it's here/x.gdb"), 9);
        assert_eq!(odd, "gdb-multiarch -q -x '/it'\\''s here/x.gdb' -ex 'target remote 127.0.0.1:9'");
    }

    #[test]
    fn symbols_are_where_the_build_puts_them() {
        let s = Symbols::of_board(crate::build::DEFAULT_BOARD);
        let t = target_dir();
        assert_eq!(s.boot, t.join("boot/aarch64-unknown-none/release/qemu-virt"));
        assert_eq!(s.big, t.join("cpu-driver-big/aarch64-unknown-none/release/cpu-driver"));
        assert_eq!(s.little, t.join("cpu-driver-little/aarch64-unknown-none/release/cpu-driver"));
        let none = Symbols { boot: t.join("no-such-elf"), ..s };
        assert!(none.check().is_err_and(|e| e.contains("no-such-elf")));
    }
}
