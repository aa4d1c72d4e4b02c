//! Robustness: random and mutated inputs to the decoder and encoder never panic, and every
//! error carries the right QPACK code.

mod common;

use common::{corpus_dir, read_blocks};
use h3q::error::ErrorCode;
use h3q::qpack::{Decoded, Decoder, Encoder};

/// xorshift64*: a tiny deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        (0..len).map(|_| self.next() as u8).collect()
    }
}

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
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut errors = 0;
    for i in 0..20_000 {
        let blocks: Vec<(u64, Vec<u8>)> = (0..1 + rng.below(6))
            .map(|_| (rng.below(4) as u64, rng.bytes(40)))
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
        if let Err(err) = e.feed_decoder(&rng.bytes(16)) {
            assert_eq!(err.code, ErrorCode::QpackDecoderStreamError);
        }
    }
    println!("{errors} of 20000 random decoder inputs rejected");
}

#[test]
fn mutated_corpus_files_never_panic() {
    let mut rng = Rng(0xfeed_beef_cafe_f00d);
    let data =
        std::fs::read(corpus_dir().join("encoded/qpack-05/ls-qpack/netbsd.out.256.100.1")).unwrap();
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
                    payload.insert(at, rng.next() as u8);
                }
            }
        }
        if run_decoder(&mutated, 256).is_err() {
            errors += 1;
        }
    }
    println!("{errors} of 3000 mutated files rejected");
}
