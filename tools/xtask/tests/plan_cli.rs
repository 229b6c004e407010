//! `cargo xtask plan`: the command-line contract (exit codes, one-line
//! errors, JSON fields), run as a user runs it.

use std::path::PathBuf;
use std::process::Command;

fn fixture() -> PathBuf {
    xtask::root().join("drivers/topology/tests/data/qemu-virt-gicv3-2x4.dtb")
}

fn plan(args: &[&str], blob: Option<&[u8]>) -> (Option<i32>, String, String) {
    let dir = std::env::temp_dir().join(format!("plan-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = match blob {
        Some(b) => {
            let p = dir.join(format!("{}.dtb", b.len()));
            std::fs::write(&p, b).expect("write tree");
            p
        }
        None => fixture(),
    };
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("plan")
        .arg("--dtb")
        .arg(&path)
        .args(args)
        .output()
        .expect("run xtask");
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn assert_refused(blob: &[u8], says: &str) {
    let (code, stdout, stderr) = plan(&[], Some(blob));
    assert_eq!(code, Some(2), "stderr: {stderr}");
    assert!(stdout.is_empty(), "nothing on stdout: {stdout}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains(says), "{stderr:?} should say {says:?}");
}

#[test]
fn bad_trees_exit_2_with_one_line() {
    let good = std::fs::read(fixture()).expect("fixture");
    assert_refused(&[], "empty");
    assert_refused(&good[..20], "truncated");
    assert_refused(&good[..good.len() / 2], "truncated");
    assert_refused(&[0xffu8; 4096], "bad magic");
    let mut corrupt = good.clone();
    corrupt[8..12].copy_from_slice(&u32::MAX.to_be_bytes()); // structure block offset
    assert_refused(&corrupt, "header");
}

#[test]
fn a_missing_file_exits_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["plan", "--dtb", "/nonexistent/tree.dtb"])
        .output()
        .expect("run xtask");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn json_has_the_documented_fields() {
    let (code, stdout, stderr) = plan(&["--json"], None);
    assert_eq!(code, Some(0), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let nodes = v["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 2);
    for (i, n) in nodes.iter().enumerate() {
        assert_eq!(n["id"], i);
        assert_eq!(n["build"], "big");
        assert_eq!(n["capacity"], 1024);
        assert_eq!(n["mpidrs"].as_array().map(Vec::len), Some(4));
        assert!(n["mem_start"].as_u64().is_some_and(|s| s % (2 << 20) == 0));
        assert!(n["mem_size"].as_u64().is_some_and(|s| s >= 8 << 20));
    }
    assert_eq!(nodes[1]["mpidrs"], serde_json::json!([4, 5, 6, 7]));
    assert_eq!(v["enable_method"], "psci");
    assert_eq!(v["psci_method"], "hvc");
    assert_eq!(v["gic"]["version"], 3);
    // pl011@9000000, `interrupts = <0x00 0x01 0x04>`: SPI 1.
    assert_eq!(v["uart"]["kind"], "pl011");
    assert_eq!(v["uart"]["base"], 0x900_0000);
    assert_eq!(v["uart"]["irq"], 33);
}

#[test]
fn text_names_every_node() {
    let (code, stdout, _) = plan(&[], None);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("node 0: build=big cpus=4 mpidr=0x0,0x1,0x2,0x3 capacity=1024"), "{stdout}");
    assert!(stdout.contains("node 1: build=big cpus=4 mpidr=0x4,0x5,0x6,0x7 capacity=1024"), "{stdout}");
}

/// `plan ... | head -3`: a reader that has gone is a normal end, not a
/// panic (`println!` panicked with "failed printing to stdout").
#[test]
fn a_closed_stdout_is_a_normal_end() {
    for args in [&[][..], &["--json"][..]] {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .arg("plan")
            .arg("--dtb")
            .arg(fixture())
            .args(args)
            .stdout(writer)
            .output()
            .expect("run xtask");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
