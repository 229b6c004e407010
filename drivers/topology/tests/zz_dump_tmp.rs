mod common;
use common::*;
#[test]
fn dump() {
    let dir = std::path::Path::new("/tmp/builders");
    std::fs::create_dir_all(dir).unwrap();
    let mut q = QemuVirt::new(QemuGic::V2, &[(4, None), (4, None)]);
    std::fs::write(dir.join("q2.dtb"), q.build()).unwrap();
    q.gic = QemuGic::V3;
    std::fs::write(dir.join("q3.dtb"), q.build()).unwrap();
    std::fs::write(dir.join("q1.dtb"), QemuVirt::new(QemuGic::V2, &[(1, None)]).build()).unwrap();
    std::fs::write(dir.join("rock5b.dtb"), rock5b()).unwrap();
    std::fs::write(dir.join("rk3399.dtb"), rk3399()).unwrap();
    std::fs::write(dir.join("juno.dtb"), juno_r2()).unwrap();
    std::fs::write(dir.join("rpi4.dtb"), rpi4()).unwrap();
    std::fs::write(dir.join("fvp.dtb"), fvp_base_revc()).unwrap();
}
