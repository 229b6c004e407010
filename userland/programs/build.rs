//! Links every program at `USER_IMAGE_BASE` with `link.ld`, which gives the
//! kernel one page-aligned segment per permission (W^X).

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:rustc-link-arg-bins=-T{dir}/link.ld");
    // The programs are packed into the kernel image: keep the symbols (for
    // fault addresses) but not the DWARF.
    println!("cargo:rustc-link-arg-bins=--strip-debug");
    // Segments are page-aligned by the script; this keeps the file from
    // padding each one to 64 KiB (lld's default for AArch64).
    println!("cargo:rustc-link-arg-bins=-zmax-page-size=4096");
    println!("cargo:rustc-link-arg-bins=-Map={}/programs.map", std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into()));
}
