//! The frame codec: round trips, each rejection reason, and damage sweeps.

use message::*;
use zerocopy::little_endian::{U16, U32, U64};

fn samples() -> Vec<Message> {
    vec![
        Message::Hello(Hello { node: U32::new(2), build: U32::new(1), capacity: U32::new(1024), cpus: U32::new(2) }),
        Message::Linked(Linked { node: U32::new(1), peers: U32::new(2) }),
        Message::Finished(Finished { node: U32::new(2), status: U64::new(1 << 32 | 3) }),
        Message::TraceDump(TraceDump { request: U32::new(7) }),
        Message::TraceDone(TraceDone {
            node: U32::new(1),
            request: U32::new(7),
            events: U64::new(12_345),
            lost: U64::new(6),
        }),
        Message::TestStart(TestStart {
            test: U32::new(1),
            mode: U32::new(1),
            count: U64::new(100_000),
            first_seq: U64::new(200_000),
        }),
        Message::StreamData(StreamData::new(99_999, 0, 2)),
        Message::TestReport(TestReport {
            test: U32::new(1),
            mode: U32::new(0),
            from: U32::new(1),
            to: U32::new(0),
            received: U32::new(100_000),
            lost: U32::new(0),
            duplicated: U32::new(0),
            reordered: U32::new(0),
            rejected: U32::new(4),
            bad_data: U32::new(0),
            elapsed_ticks: U64::new(u64::MAX),
        }),
        Message::Ping(Ping { seq: U64::new(7), stamp: U64::new(123) }),
        Message::Pong(Ping { seq: U64::new(7), stamp: U64::new(123) }),
        Message::Chunk(Chunk { stream: U32::new(3), offset: U16::new(40), len: U16::new(2), data: [7; CHUNK_BYTES] }),
        Message::SpawnRequest(SpawnRequest {
            request: U32::new(9),
            parent: U32::new(4),
            options: U64::new(1 << 17),
            args_len: U16::new(80),
            name: *b"heavy\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
            _pad: [0; 2],
        }),
        Message::Reply(Reply { request: U32::new(9), error: U32::new(0), value: U64::new(7) }),
        Message::KillRequest(KillRequest { request: U32::new(1), pid: U32::new(8), by: U32::new(2) }),
        Message::ChildExit(ChildExit { child: U32::new(8), parent: U32::new(2), status: U64::new(3) }),
        Message::EndpointSend(EndpointSend {
            request: U32::new(2),
            endpoint: U32::new(5),
            len: U32::new(256),
            from: U32::new(7),
        }),
        Message::NodeState(NodeState {
            node: U32::new(1),
            version: U32::new(40),
            online: U32::new(0xf),
            capacity: U32::new(530),
            measured_min: U32::new(520),
            measured_max: U32::new(541),
            runnable: U32::new(3),
            programs: U32::new(5),
            util: U32::new(1400),
            free_pages: U32::new(9000),
            stamp: U64::new(1 << 40),
        }),
        Message::ProgramState(ProgramState {
            node: U32::new(1),
            version: U32::new(40),
            pid: U32::new(8),
            parent: U32::new(2),
            flags: U32::new(0x1a3),
            util: U32::new(512),
            work: U64::new(123_456),
            cpu_ns: U64::new(9_999_999),
            migrations: U32::new(2),
            moves: U32::new(1),
        }),
        Message::ProgramName(ProgramName { node: U32::new(1), pid: U32::new(8), name: [b'x'; 24] }),
        Message::MigrateRequest(MigrateRequest { request: U32::new(4), pid: U32::new(8), to: U32::new(2) }),
        Message::MigratePart(MigratePart {
            pid: U32::new(8),
            what: U32::new(PART_PAGE),
            va: U64::new(0x40_0000),
            perm: U32::new(2),
            offset: U32::new(512),
        }),
        Message::MigrateEnd(MigrateEnd { pid: U32::new(8), pages: U32::new(70) }),
        Message::MigrateDone(MigrateDone { pid: U32::new(8), error: U32::new(0) }),
        Message::MigrateCredit(MigrateCredit { pid: U32::new(8), copied: U32::new(32) }),
    ]
}

#[test]
fn every_kind_round_trips() {
    for m in samples() {
        let p = m.encode();
        assert_eq!(decode(&p), Ok(m), "{m:?}");
        assert_eq!(p[0], VERSION);
        assert_eq!(p[1], m.kind() as u8);
        assert_eq!(usize::from(p[2]), m.kind().body_len());
    }
}

#[test]
fn stream_data_detects_changed_fields() {
    let d = StreamData::new(5, 1, 2);
    assert!(d.data_ok());
    let mut moved = d;
    moved.seq = U64::new(6);
    assert!(!moved.data_ok(), "data is tied to the sequence number");
    assert_ne!(StreamData::new(5, 1, 2).data, StreamData::new(5, 2, 1).data, "and to the direction");
}

fn forged(m: &Message, edit: impl FnOnce(&mut Frame)) -> Payload {
    let p = m.encode();
    let mut f = Frame {
        version: p[0],
        kind: p[1],
        len: p[2],
        flags: p[3],
        body: p[HEADER..].try_into().expect("48-byte body"),
    };
    edit(&mut f);
    f.seal()
}

#[test]
fn each_kind_of_bad_frame_has_its_own_error() {
    let m = Message::StreamData(StreamData::new(1, 0, 1));
    assert_eq!(decode(&forged(&m, |f| f.version = VERSION + 1)), Err(DecodeError::Version { found: VERSION + 1 }));
    assert_eq!(decode(&forged(&m, |f| f.kind = 0xee)), Err(DecodeError::UnknownKind { found: 0xee }));
    assert_eq!(decode(&forged(&m, |f| f.kind = 0)), Err(DecodeError::UnknownKind { found: 0 }));
    assert_eq!(decode(&forged(&m, |f| f.flags = 1)), Err(DecodeError::Flags { found: 1 }));
    assert_eq!(
        decode(&forged(&m, |f| f.len = 40)),
        Err(DecodeError::Length { kind: Kind::StreamData, found: 40, expected: 48 })
    );
    assert_eq!(
        decode(&forged(&m, |f| f.len = 255)),
        Err(DecodeError::Length { kind: Kind::StreamData, found: 255, expected: 48 })
    );
    let hello =
        Message::Hello(Hello { node: U32::new(0), build: U32::new(1), capacity: U32::new(1), cpus: U32::new(1) });
    assert_eq!(decode(&forged(&hello, |f| f.body[40] = 1)), Err(DecodeError::Padding));
    let mut p = m.encode();
    p[20] ^= 0x10;
    assert!(matches!(decode(&p), Err(DecodeError::Checksum { .. })));
}

#[test]
fn every_single_bit_flip_is_rejected() {
    for m in samples() {
        let good = m.encode();
        for bit in 0..good.len() * 8 {
            let mut p = good;
            p[bit / 8] ^= 1 << (bit % 8);
            assert!(decode(&p).is_err(), "{m:?} with bit {bit} flipped was accepted");
        }
    }
}

#[test]
fn all_zero_and_all_ones_are_rejected() {
    assert_eq!(decode(&[0; PAYLOAD]), Err(DecodeError::Version { found: 0 }));
    assert_eq!(decode(&[0xff; PAYLOAD]), Err(DecodeError::Version { found: 0xff }));
}

#[test]
fn random_payloads_never_panic_and_accepted_ones_are_canonical() {
    // xorshift: deterministic, no dependency.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut accepted = 0;
    for _ in 0..200_000 {
        let mut p = [0u8; PAYLOAD];
        for b in p.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        p[0] = VERSION; // get past the first check more often
        if let Ok(m) = decode(&p) {
            accepted += 1;
            assert_eq!(m.encode(), p);
        }
    }
    // A random frame passes CRC-32C about once in 4 billion: none here.
    assert_eq!(accepted, 0);
}

#[test]
fn rejects_are_counted_by_reason() {
    let mut r = Rejects::default();
    r.record(&DecodeError::Version { found: 9 });
    r.record(&DecodeError::Checksum { found: 1, computed: 2 });
    r.record(&DecodeError::Checksum { found: 1, computed: 3 });
    r.record(&DecodeError::Padding);
    assert_eq!((r.version, r.checksum, r.padding, r.total()), (1, 2, 1, 4));
}
