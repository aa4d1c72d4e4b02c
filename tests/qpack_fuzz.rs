//! Robustness: random and mutated inputs to the decoder and encoder never panic, and every
//! error carries the right QPACK code.

mod harness;

use h3q::error::ErrorCode;
use h3q::qpack::{Decoded, Decoder, Encoder};

use harness::qif::{HeaderList, corpus_dir, read_blocks};
use harness::rng::Rng;

/// Stream id -> the fields encoded on it, until decoded.
type Expected = std::collections::BTreeMap<u64, HeaderList>;

fn run_decoder(blocks: &[(u64, Vec<u8>)], table: u64) -> Result<(), ErrorCode> {
    let mut d = Decoder::new(table, 8);
    d.set_max_field_section_size(if table % 2 == 0 { 0 } else { 4096 });
    let _ = d.set_dynamic_table_capacity(table);
    let mut sink = Vec::new();
    for (stream, payload) in blocks {
        if *stream == 0 {
            let unblocked = d.feed_encoder(payload).map_err(|e| {
                assert_eq!(e.code, ErrorCode::QpackEncoderStreamError, "{e}");
                e.code
            })?;
            for id in unblocked {
                d.resume(id).map_err(|e| {
                    assert_eq!(e.code, ErrorCode::QpackDecompressionFailed, "{e}");
                    e.code
                })?;
            }
        } else {
            match d.decode(*stream, payload) {
                Ok(Decoded::Headers(_) | Decoded::Blocked) => {}
                Err(e) => {
                    assert_eq!(e.code, ErrorCode::QpackDecompressionFailed, "{e}");
                    return Err(e.code);
                }
            }
            if stream % 7 == 0 {
                d.cancel_stream(*stream);
            }
        }
        d.take_decoder_stream_data(&mut sink);
    }
    Ok(())
}

#[test]
fn random_inputs_never_panic() {
    let mut rng = Rng::new(0x1234_5678_9abc_def1);
    let mut errors = 0;
    for i in 0..20_000 {
        let blocks: Vec<(u64, Vec<u8>)> = (0..1 + rng.below(6))
            .map(|_| (rng.below(4) as u64, rng.bytes_up_to(40)))
            .collect();
        if run_decoder(&blocks, [0, 64, 300, 4096][i % 4]).is_err() {
            errors += 1;
        }
        let mut e = Encoder::new();
        let mut es = Vec::new();
        e.apply_settings(4096, 10, &mut es);
        let mut section = Vec::new();
        e.encode(4, &[(b"x-a", b"1")], &mut es, &mut section);
        e.encode(4, &[(b"x-a", b"1")], &mut es, &mut section);
        if let Err(err) = e.feed_decoder(&rng.bytes_up_to(16)) {
            assert_eq!(err.code, ErrorCode::QpackDecoderStreamError);
        }
    }
    println!("{errors} of 20000 random decoder inputs rejected");
}

#[test]
fn mutated_corpus_files_never_panic() {
    let Some(corpus) = corpus_dir("mutated_corpus_files_never_panic") else {
        return;
    };
    let mut rng = Rng::new(0xfeed_beef_cafe_f00d);
    let data =
        std::fs::read(corpus.join("encoded/qpack-05/ls-qpack/netbsd.out.256.100.1")).unwrap();
    let blocks = read_blocks(&data).unwrap();
    let mut errors = 0;
    for _ in 0..3_000 {
        let mut mutated = blocks.clone();
        for _ in 0..1 + rng.below(3) {
            let b = rng.below(mutated.len());
            let payload = &mut mutated[b].1;
            if payload.is_empty() {
                continue;
            }
            match rng.below(3) {
                0 => {
                    let at = rng.below(payload.len());
                    payload[at] ^= 1 << rng.below(8);
                }
                1 => {
                    let at = rng.below(payload.len());
                    payload.truncate(at);
                }
                _ => {
                    let at = rng.below(payload.len());
                    payload.insert(at, rng.next_u64() as u8);
                }
            }
        }
        if run_decoder(&mutated, 256).is_err() {
            errors += 1;
        }
    }
    println!("{errors} of 3000 mutated files rejected");
}

/// Encoder and decoder against each other with random settings, random delivery order and
/// splits of both instruction streams, random acknowledgement delays and cancellations:
/// every section not cancelled decodes to what was encoded, and nothing errors.
#[test]
fn random_conversations_round_trip() {
    let names: [&[u8]; 8] = [
        b":path",
        b"x-a",
        b"x-b",
        b"cookie",
        b"user-agent",
        b"x-long",
        b"etag",
        b"authorization",
    ];
    let mut rng = Rng::new(0x0bad_5eed_1234_4321);
    let mut sections_checked = 0;
    for round in 0..300 {
        let table = [0, 64, 200, 1000, 4096][rng.below(5)];
        let blocked = [0, 1, 3, 100][rng.below(4)] as u64;
        let mut encoder = Encoder::new();
        let mut decoder = Decoder::new(table, blocked);
        let mut pending_es = Vec::new();
        let mut pending_ds = Vec::new();
        encoder.apply_settings(table, blocked, &mut pending_es);
        // stream id -> expected fields, for sections in flight or blocked.
        let mut expected = Expected::new();
        let mut in_flight: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut next_stream = 0u64;
        let check = |stream: u64, got: Vec<h3q::qpack::HeaderField>, expected: &mut Expected| {
            let want = expected.remove(&stream).expect("decoded a stream twice");
            let got: Vec<(Vec<u8>, Vec<u8>)> = got
                .into_iter()
                .map(|f| (f.name.to_vec(), f.value.to_vec()))
                .collect();
            assert_eq!(got, want, "round {round} stream {stream}");
        };
        for _ in 0..200 {
            match rng.below(6) {
                0 | 1 => {
                    let n = 1 + rng.below(6);
                    let fields: Vec<(Vec<u8>, Vec<u8>)> = (0..n)
                        .map(|_| {
                            let name = names[rng.below(names.len())].to_vec();
                            let len = [1, 5, 30, 120][rng.below(4)];
                            let spread = 4 + rng.below(20);
                            let value =
                                format!("{:0len$}", rng.below(spread), len = len).into_bytes();
                            (name, value)
                        })
                        .collect();
                    let pairs: Vec<(&[u8], &[u8])> =
                        fields.iter().map(|(n, v)| (&n[..], &v[..])).collect();
                    let mut section = Vec::new();
                    encoder.encode(next_stream, &pairs, &mut pending_es, &mut section);
                    expected.insert(next_stream, fields);
                    in_flight.push((next_stream, section));
                    next_stream += 4;
                }
                2 if !pending_es.is_empty() => {
                    let cut = 1 + rng.below(pending_es.len());
                    let chunk: Vec<u8> = pending_es.drain(..cut).collect();
                    for stream in decoder.feed_encoder(&chunk).unwrap() {
                        let fields = decoder.resume(stream).unwrap();
                        check(stream, fields, &mut expected);
                        sections_checked += 1;
                    }
                }
                3 if !in_flight.is_empty() => {
                    let (stream, section) = in_flight.remove(rng.below(in_flight.len()));
                    match decoder.decode(stream, &section).unwrap() {
                        Decoded::Headers(fields) => {
                            check(stream, fields, &mut expected);
                            sections_checked += 1;
                        }
                        Decoded::Blocked => assert!(decoder.blocked_streams() as u64 <= blocked),
                    }
                }
                4 if !pending_ds.is_empty() => {
                    let cut = 1 + rng.below(pending_ds.len());
                    let chunk: Vec<u8> = pending_ds.drain(..cut).collect();
                    encoder.feed_decoder(&chunk).unwrap();
                }
                5 if rng.below(4) == 0 && !expected.is_empty() => {
                    // Reset a stream that has not been decoded yet.
                    let keys: Vec<u64> = expected.keys().copied().collect();
                    let stream = keys[rng.below(keys.len())];
                    expected.remove(&stream);
                    in_flight.retain(|(s, _)| *s != stream);
                    encoder.stream_cancelled(stream);
                    decoder.cancel_stream(stream);
                }
                _ => {}
            }
            decoder.take_decoder_stream_data(&mut pending_ds);
        }
        // Deliver everything that is left.
        for (stream, section) in std::mem::take(&mut in_flight) {
            if let Decoded::Headers(fields) = decoder.decode(stream, &section).unwrap() {
                check(stream, fields, &mut expected);
            }
        }
        for stream in decoder.feed_encoder(&pending_es).unwrap() {
            let fields = decoder.resume(stream).unwrap();
            check(stream, fields, &mut expected);
        }
        decoder.take_decoder_stream_data(&mut pending_ds);
        encoder.feed_decoder(&pending_ds).unwrap();
        assert!(
            expected.is_empty(),
            "round {round}: {} sections never decoded",
            expected.len()
        );
        assert_eq!(
            encoder.blocking_streams(),
            0,
            "round {round}: all acknowledged at the end"
        );
    }
    println!("{sections_checked} sections checked in random conversations");
}
