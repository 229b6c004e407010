//! Links the boot image at QEMU's load address and embeds the two CPU-driver
//! images that `cargo xtask build` produced (paths in MK_CPU_DRIVER_BIG and
//! MK_CPU_DRIVER_LITTLE). Without them the image still builds, and says at
//! boot which image is missing.
use std::path::PathBuf;

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo:rustc-link-arg-bins=-T{dir}/link.ld");
    println!("cargo:rerun-if-changed=link.ld");
    for (var, name) in [("MK_CPU_DRIVER_BIG", "big"), ("MK_CPU_DRIVER_LITTLE", "little")] {
        println!("cargo:rerun-if-env-changed={var}");
        let path = match std::env::var(var) {
            Ok(p) => PathBuf::from(p),
            Err(_) => {
                let empty = out.join(format!("no-cpu-driver-{name}.bin"));
                std::fs::write(&empty, []).expect("write placeholder image");
                empty
            }
        };
        println!("cargo:rerun-if-changed={}", path.display());
        println!("cargo:rustc-env={var}={}", path.display());
    }
}
