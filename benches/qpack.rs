//! QPACK encode and decode throughput over the corpus' fb-req and fb-resp, at table 0 and
//! 4096 (blocked 100; the encoder sees each section acknowledged at once).
//!
//! `cargo bench --bench qpack`

#[path = "../tests/harness/mod.rs"]
mod harness;

use std::hint::black_box;
use std::time::{Duration, Instant};

use h3q::qpack::{Decoded, Decoder, Encoder};
use harness::qif::{HeaderList, as_pairs, corpus_dir, read_qif};

/// One encoded run: the settings bytes, then (encoder-stream bytes, section) per list.
struct Encoded {
    settings: Vec<u8>,
    sections: Vec<(Vec<u8>, Vec<u8>)>,
}

fn encode_all(lists: &[HeaderList], table: u64) -> Encoded {
    let mut encoder = Encoder::new();
    let mut settings = Vec::new();
    encoder.apply_settings(table, 100, &mut settings);
    let mut sections = Vec::with_capacity(lists.len());
    for (i, list) in lists.iter().enumerate() {
        let stream = 4 * i as u64;
        let (mut es, mut section) = (Vec::new(), Vec::new());
        encoder.encode(stream, &as_pairs(list), &mut es, &mut section);
        if section[0] != 0 {
            encoder.acknowledge_section(stream).unwrap();
        }
        encoder.acknowledge_inserts();
        sections.push((es, section));
    }
    Encoded { settings, sections }
}

fn decode_all(encoded: &Encoded, table: u64) -> usize {
    let mut decoder = Decoder::new(table, 100);
    decoder.feed_encoder(&encoded.settings).unwrap();
    let mut fields = 0;
    let mut ds = Vec::new();
    for (i, (es, section)) in encoded.sections.iter().enumerate() {
        decoder.feed_encoder(es).unwrap();
        match decoder.decode(4 * i as u64, section).unwrap() {
            Decoded::Headers(h) => fields += black_box(h).len(),
            Decoded::Blocked => unreachable!(),
        }
        ds.clear();
        decoder.take_decoder_stream_data(&mut ds);
    }
    fields
}

/// Runs `f` repeatedly for about half a second; returns runs per second.
fn measure(mut f: impl FnMut()) -> f64 {
    f(); // warm up
    let start = Instant::now();
    let mut runs = 0u32;
    while start.elapsed() < Duration::from_millis(500) {
        f();
        runs += 1;
    }
    f64::from(runs) / start.elapsed().as_secs_f64()
}

fn main() {
    let Some(corpus) = corpus_dir("qpack bench") else {
        return;
    };
    println!(
        "{:<9}{:>7}  {:>16}{:>10}  {:>16}{:>10}",
        "qif", "table", "encode fields/s", "MB/s", "decode fields/s", "MB/s"
    );
    for qif in ["fb-req", "fb-resp"] {
        let lists = read_qif(&corpus.join("qifs").join(format!("{qif}.qif")));
        let fields: usize = lists.iter().map(Vec::len).sum();
        let bytes: usize = lists.iter().flatten().map(|(n, v)| n.len() + v.len()).sum();
        for table in [0, 4096] {
            let enc_rate = measure(|| {
                black_box(encode_all(black_box(&lists), table));
            });
            let encoded = encode_all(&lists, table);
            let dec_rate = measure(|| {
                black_box(decode_all(black_box(&encoded), table));
            });
            println!(
                "{qif:<9}{table:>7}  {:>16.0}{:>10.1}  {:>16.0}{:>10.1}",
                enc_rate * fields as f64,
                enc_rate * bytes as f64 / 1e6,
                dec_rate * fields as f64,
                dec_rate * bytes as f64 / 1e6,
            );
        }
    }
}
