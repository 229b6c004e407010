//! `message::decode` on arbitrary payloads: it must never panic, and what it
//! accepts must be canonical (`decode(p) == Ok(m)` implies `m.encode() == p`).
//!
//! Input: the first 56 bytes are the payload (zero-padded if shorter; the
//! rest is ignored, so `cargo xtask fuzz` caps inputs at 56 bytes).

#![no_main]

use libfuzzer_sys::fuzz_target;
use message::{Payload, PAYLOAD};

fuzz_target!(|data: &[u8]| {
    let mut p: Payload = [0; PAYLOAD];
    let n = data.len().min(PAYLOAD);
    p[..n].copy_from_slice(&data[..n]);

    match message::decode(&p) {
        Ok(m) => {
            let encoded = m.encode();
            assert_eq!(encoded, p, "decode accepted a non-canonical frame as {m:?}");
            assert_eq!(message::decode(&encoded), Ok(m), "re-encoding {m:?} does not decode to itself");
        }
        Err(e) => {
            // Rendering and counting a rejection must not panic either.
            let mut rejects = message::Rejects::default();
            rejects.record(&e);
            assert_eq!(rejects.total(), 1);
            assert!(!e.to_string().is_empty());
        }
    }
});
