fn main() {
    let path = std::env::args().nth(1).expect("dtb");
    let blob = std::fs::read(path).expect("read");
    let t = std::time::Instant::now();
    let n: u32 = std::env::args().nth(2).map_or(200, |s| s.parse().expect("n"));
    for _ in 0..n {
        let topo = topology::Topology::parse(&blob, topology::Hints::default()).expect("parse");
        std::hint::black_box(topo);
    }
    println!("{} bytes: {:?} per parse", blob.len(), t.elapsed() / n);
}
