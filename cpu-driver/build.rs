//! Links the CPU driver at the node kernel base with its own script, and
//! finds the program archive to embed: `MK_USER_PROGRAMS` (what `cargo
//! xtask build` packs), or an empty archive so the kernel still builds
//! (and says so at boot) without it.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-arg-bins=-T{dir}/link.ld");
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:rerun-if-env-changed=MK_USER_PROGRAMS");
    let archive = match std::env::var("MK_USER_PROGRAMS") {
        Ok(path) if !path.is_empty() => path,
        _ => {
            let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
            let path = out.join("no-programs.bin");
            let mut bytes = vec![0u8; user_abi::archive::packed_size(&[])];
            user_abi::archive::pack(&[], &mut bytes).expect("an empty archive packs");
            std::fs::write(&path, bytes).expect("write the empty archive");
            path.display().to_string()
        }
    };
    println!("cargo:rerun-if-changed={archive}");
    println!("cargo:rustc-env=MK_USER_ARCHIVE={archive}");
}
