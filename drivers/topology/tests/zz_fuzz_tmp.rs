mod common;
use common::*;
use topology::{Hints, Topology};
use std::collections::BTreeMap;
fn be32(b: &[u8], at: usize) -> u32 { u32::from_be_bytes(b[at..at+4].try_into().unwrap()) }
#[test]
fn fuzz() {
    let blobs: Vec<(&str, Vec<u8>)> = vec![
        ("rock5b", rock5b()), ("rk3399", rk3399()), ("juno", juno_r2()),
        ("rpi4", rpi4()), ("fvp", fvp_base_revc()),
        ("q2x4", qemu_2x4_big_little().build()),
        ("fixture", QEMU_GICV3_2X4_DTB.to_vec()),
    ];
    let panics = std::sync::Arc::new(std::sync::Mutex::new(BTreeMap::<String, (usize, String)>::new()));
    let p2 = panics.clone();
    std::panic::set_hook(Box::new(move |info| {
        let loc = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        let mut m = p2.lock().unwrap();
        let e = m.entry(loc).or_insert((0, info.to_string()));
        e.0 += 1;
    }));
    let t0 = std::time::Instant::now();
    let mut n = 0u64; let mut ok = 0u64;
    for (name, b) in &blobs {
        let t = std::time::Instant::now();
        let size_struct_end = (be32(b, 8) + be32(b, 36)) as usize;
        let upto = b.len().min(size_struct_end + 600);
        let run = |c: &[u8]| std::panic::catch_unwind(|| Topology::parse(c, Hints::default()).is_ok()).unwrap_or(false);
        for pos in 0..upto {
            for v in [0x00u8, 0xff, b[pos] ^ 0x01, b[pos] ^ 0x80, b[pos].wrapping_add(4), 0x03, 0x02, 0x01, 0x09] {
                let mut c = b.clone();
                c[pos] = v;
                n += 1;
                if run(&c) { ok += 1; }
            }
        }
        for len in 0..=upto {
            let mut c = b[..len].to_vec();
            if len >= 8 { c[4..8].copy_from_slice(&(len as u32).to_be_bytes()); }
            n += 2;
            run(&c);
            run(&b[..len]);
        }
        println!("{name}: {} bytes, {:?}", b.len(), t.elapsed());
    }
    println!("{n} parses, {ok} ok, {:?}", t0.elapsed());
    for (k, v) in panics.lock().unwrap().iter() { println!("PANIC x{} at {k}: {}", v.0, v.1.lines().next().unwrap_or("")); }
}
