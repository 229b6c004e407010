//! Bad input must come back as `Err`, never as a panic: every truncation
//! and many deterministic corruptions of valid trees. A panic fails the
//! test by itself. Sized to run in a few seconds in a debug build (a parse
//! of a QEMU-sized tree takes about a millisecond there).

mod common;

use common::*;
use topology::{Error, Hints, Topology};

/// Parses `blob` with every hint, checks what an `Ok` or `Err` promises,
/// and reports whether it parsed.
fn parse_any(blob: &[u8]) -> bool {
    match Topology::parse(blob, Hints::default()) {
        Ok(t) => {
            // The accessors must cope with whatever was accepted.
            assert!(!t.cpus.is_empty());
            assert!(!t.memory.is_empty());
            for i in 0..=t.clusters.len() {
                let n = t.cluster_cpus(i).count();
                assert_eq!(n, t.clusters.get(i).map_or(0, |c| c.cpus.len()));
            }
            for cpu in &t.cpus {
                assert!(t.cluster_of(cpu.mpidr).is_some());
            }
            true
        }
        Err(e) => {
            assert!(!e.to_string().contains('\n'), "{e:?}");
            false
        }
    }
}

fn small_tree() -> Vec<u8> {
    tree_with_cpus(|d| {
        cpu_map(d, &[&[1], &[2]]);
        cpu_node(d, 0x0, Some(1), |_| {});
        cpu_node(d, 0x100, Some(2), |_| {});
    })
}

/// `blob` cut to `len` bytes with the header rewritten to match: totalsize
/// is `len` and the strings and structure blocks are shortened to fit, so
/// the parser goes past the header into the cut blocks.
fn truncate_consistently(blob: &[u8], len: usize) -> Vec<u8> {
    let mut out = blob[..len].to_vec();
    if len < 40 {
        return out;
    }
    let len32 = len as u32;
    out = with_be32(&out, hdr::TOTALSIZE, len32);
    for (off, size) in [(hdr::OFF_DT_STRINGS, hdr::SIZE_DT_STRINGS), (hdr::OFF_DT_STRUCT, hdr::SIZE_DT_STRUCT)] {
        let start = be32(&out, off);
        if start > len32 {
            out = with_be32(&out, off, len32 & !3);
            out = with_be32(&out, size, 0);
        } else if start + be32(&out, size) > len32 {
            out = with_be32(&out, size, len32 - start);
        }
    }
    out
}

fn all_trees() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("small", small_tree()),
        ("rock5b", rock5b()),
        ("rk3399", rk3399()),
        ("juno-r2", juno_r2()),
        ("rpi4", rpi4()),
        ("fvp", fvp_base_revc()),
        ("qemu-4-2-2", qemu_4_2_2().build()),
        ("qemu-fixture", QEMU_GICV3_2X4_DTB.to_vec()),
    ]
}

#[test]
fn every_plain_truncation_is_an_error() {
    for (name, blob) in all_trees() {
        assert!(parse_any(&blob), "{name} parses whole");
        for len in 0..blob.len() {
            let err = Topology::parse(&blob[..len], Hints::default()).expect_err(name);
            let want = match len {
                0 => Error::Empty,
                1..=39 => Error::TooShort { len },
                _ => Error::Truncated { total_size: blob.len() as u32, len },
            };
            assert_eq!(err, want, "{name} cut at {len}");
        }
    }
}

#[test]
fn every_consistent_truncation_of_small_trees() {
    for blob in [small_tree(), rk3399()] {
        for len in 0..blob.len() {
            // A cut tree may still parse if only unused strings were lost;
            // all that matters is that it does not panic.
            parse_any(&truncate_consistently(&blob, len));
        }
    }
}

#[test]
fn consistent_truncations_of_the_qemu_fixture() {
    let blob = QEMU_GICV3_2X4_DTB;
    let end = (be32(blob, hdr::OFF_DT_STRINGS) + be32(blob, hdr::SIZE_DT_STRINGS)) as usize;
    // Every 12th length through the header and both blocks, and every
    // length of the last 64 bytes of the strings block.
    let lengths = (0..end).step_by(12).chain(end - 64..=end);
    for len in lengths {
        parse_any(&truncate_consistently(blob, len));
    }
    // Cutting only the free space QEMU leaves after the strings is harmless.
    assert!(parse_any(&truncate_consistently(blob, end)));
}

#[test]
fn every_header_byte_with_every_value() {
    let blob = small_tree();
    for at in 0..40 {
        for v in 0..=255u8 {
            let mut c = blob.clone();
            c[at] = v;
            parse_any(&c);
        }
    }
}

#[test]
fn every_structure_word_replaced_by_tokens() {
    // FDT_BEGIN_NODE, END_NODE, PROP, NOP, END, an unknown token, and
    // lengths / offsets that point far away.
    const WORDS: [u32; 8] = [1, 2, 3, 4, 9, 0, 0xffff_ffff, 0x7fff_fff0];
    let blob = small_tree();
    let start = be32(&blob, hdr::OFF_DT_STRUCT) as usize;
    let end = start + be32(&blob, hdr::SIZE_DT_STRUCT) as usize;
    for at in (start..end).step_by(4) {
        for w in WORDS {
            parse_any(&with_be32(&blob, at, w));
        }
    }
    let blob = rk3399();
    let start = be32(&blob, hdr::OFF_DT_STRUCT) as usize;
    let end = start + be32(&blob, hdr::SIZE_DT_STRUCT) as usize;
    for at in (start..end).step_by(4) {
        for w in [1, 3, 9, 0xffff_ffff] {
            parse_any(&with_be32(&blob, at, w));
        }
    }
}

#[test]
fn every_byte_of_a_tree_flipped_twice() {
    // Every byte of the RK3399 tree (header, reservation map, structure and
    // strings blocks), flipped in its lowest bit and in all bits.
    let blob = rk3399();
    let mut parsed = 0;
    for at in 0..blob.len() {
        for mask in [0x01, 0xff] {
            let mut c = blob.clone();
            c[at] ^= mask;
            parsed += usize::from(parse_any(&c));
        }
    }
    // Most flips land in values that do not matter to the topology.
    assert!(parsed > blob.len() / 2, "only {parsed} flips parsed");
}

#[test]
fn random_single_byte_corruptions() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for (name, blob) in all_trees() {
        let end = (be32(&blob, hdr::OFF_DT_STRINGS) + be32(&blob, hdr::SIZE_DT_STRINGS)) as usize;
        let mut parsed = 0;
        for _ in 0..600 {
            let at = rng.below(end);
            let mut c = blob.clone();
            c[at] = match rng.below(4) {
                0 => c[at] ^ (1 << rng.below(8)),
                1 => 0,
                2 => 0xff,
                _ => rng.next() as u8,
            };
            parsed += usize::from(parse_any(&c));
        }
        // Most single-byte changes hit property values and names.
        assert!(parsed > 0, "{name}: no corruption parsed at all");
    }
}

#[test]
fn random_multi_byte_corruptions() {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    for (_, blob) in all_trees().into_iter().filter(|(n, _)| ["juno-r2", "rpi4", "qemu-fixture"].contains(n)) {
        let end = (be32(&blob, hdr::OFF_DT_STRINGS) + be32(&blob, hdr::SIZE_DT_STRINGS)) as usize;
        for _ in 0..200 {
            let mut c = blob.clone();
            for _ in 0..2 + rng.below(7) {
                let at = rng.below(end);
                c[at] = rng.next() as u8;
            }
            parse_any(&c);
        }
    }
}

#[test]
fn structure_block_moved_or_resized() {
    // Header offsets and sizes that stay inside the blob but point at the
    // wrong place.
    let blob = rpi4();
    let total = blob.len() as u32;
    let off = be32(&blob, hdr::OFF_DT_STRUCT);
    let size = be32(&blob, hdr::SIZE_DT_STRUCT);
    for delta in [4u32, 8, 12, 16, 64, 256] {
        parse_any(&with_be32(&blob, hdr::OFF_DT_STRUCT, off + delta));
        parse_any(&with_be32(&blob, hdr::SIZE_DT_STRUCT, size - delta));
        parse_any(&with_be32(&with_be32(&blob, hdr::OFF_DT_STRUCT, off + delta), hdr::SIZE_DT_STRUCT, size - delta));
    }
    for strings_off in [0, 40, off, off + 4, total - 4, total] {
        parse_any(&with_be32(&blob, hdr::OFF_DT_STRINGS, strings_off));
    }
    for strings_size in [0, 1, 4, 100] {
        parse_any(&with_be32(&blob, hdr::SIZE_DT_STRINGS, strings_size));
    }
}
