//! Encodes every QIF with our encoder and decodes it back with our decoder, across table
//! sizes, blocked-stream limits and acknowledgement modes, delivering sections before the
//! encoder-stream bytes they need so that the blocked-stream limit is exercised.

mod harness;

use h3q::qpack::{Decoded, Decoder, Encoder};
use harness::qif::{
    HeaderList, as_pairs, corpus_dir, decode_file, encode_offline, first_difference, qif_names,
    read_qif,
};

/// Encodes `lists` in batches of `batch` sections; each batch's sections reach the decoder
/// before its encoder-stream bytes (which arrive split into `split`-byte pieces). With
/// `ack`, the decoder's stream is fed back to the encoder after each batch.
fn round_trip(
    lists: &[HeaderList],
    table: u64,
    blocked: u64,
    ack: bool,
    batch: usize,
    split: usize,
) -> Result<Vec<HeaderList>, String> {
    let mut encoder = Encoder::new();
    let mut decoder = Decoder::new(table, blocked);
    let mut es = Vec::new();
    encoder.apply_settings(table, blocked, &mut es);
    decoder.feed_encoder(&es).map_err(|e| e.to_string())?;
    let mut results: Vec<Option<HeaderList>> = vec![None; lists.len()];
    let to_list = |fields: Vec<h3q::qpack::HeaderField>| -> HeaderList {
        fields
            .into_iter()
            .map(|f| (f.name.to_vec(), f.value.to_vec()))
            .collect()
    };
    let mut max_blocked_seen = 0;
    for (chunk_index, chunk) in lists.chunks(batch).enumerate() {
        let first = chunk_index * batch;
        let mut es = Vec::new();
        let mut sections = Vec::new();
        for (j, list) in chunk.iter().enumerate() {
            let mut section = Vec::new();
            encoder.encode(
                4 * (first + j) as u64,
                &as_pairs(list),
                &mut es,
                &mut section,
            );
            sections.push(section);
        }
        for (j, section) in sections.iter().enumerate() {
            let stream = 4 * (first + j) as u64;
            match decoder.decode(stream, section).map_err(|e| e.to_string())? {
                Decoded::Headers(fields) => results[first + j] = Some(to_list(fields)),
                Decoded::Blocked => {}
            }
            max_blocked_seen = max_blocked_seen.max(decoder.blocked_streams());
        }
        for piece in es.chunks(split.max(1)) {
            for stream in decoder.feed_encoder(piece).map_err(|e| e.to_string())? {
                let fields = decoder.resume(stream).map_err(|e| e.to_string())?;
                results[(stream / 4) as usize] = Some(to_list(fields));
            }
        }
        let mut ds = Vec::new();
        decoder.take_decoder_stream_data(&mut ds);
        if ack {
            for piece in ds.chunks(split.max(1)) {
                encoder.feed_decoder(piece).map_err(|e| e.to_string())?;
            }
        }
    }
    if max_blocked_seen as u64 > blocked {
        return Err(format!(
            "{max_blocked_seen} streams blocked, limit {blocked}"
        ));
    }
    results
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.ok_or(format!("list {i} never decoded")))
        .collect()
}

#[test]
fn every_qif_round_trips_in_every_configuration() {
    let Some(corpus) = corpus_dir("every_qif_round_trips_in_every_configuration") else {
        return;
    };
    let mut runs = 0;
    let mut failures = Vec::new();
    for name in qif_names(&corpus) {
        let lists = read_qif(&corpus.join("qifs").join(format!("{name}.qif")));
        for table in [0, 256, 4096] {
            for blocked in [0, 100] {
                for ack in [false, true] {
                    // (batch, split): immediate delivery, and batches of 16 split finely.
                    for (batch, split) in [(1, usize::MAX), (16, 7)] {
                        runs += 1;
                        let label = format!(
                            "{name} table {table} blocked {blocked} ack {ack} batch {batch}"
                        );
                        match round_trip(&lists, table, blocked, ack, batch, split) {
                            Ok(got) => {
                                if let Some(diff) = first_difference(&lists, &got) {
                                    failures.push(format!("{label}: {diff}"));
                                }
                            }
                            Err(e) => failures.push(format!("{label}: {e}")),
                        }
                    }
                }
            }
        }
    }
    println!("{runs} round trips, {} failures", failures.len());
    for f in &failures {
        println!("FAIL {f}");
    }
    assert!(failures.is_empty());
}

#[test]
fn offline_format_output_decodes_back() {
    let Some(corpus) = corpus_dir("offline_format_output_decodes_back") else {
        return;
    };
    let mut files = 0;
    for name in qif_names(&corpus) {
        let lists = read_qif(&corpus.join("qifs").join(format!("{name}.qif")));
        for (table, blocked, ack) in [
            (0, 0, false),
            (256, 100, true),
            (4096, 0, true),
            (4096, 100, false),
            (4096, 100, true),
        ] {
            let encoded = encode_offline(&lists, table, blocked, ack);
            let got = decode_file(&encoded, table, blocked).unwrap();
            assert_eq!(
                first_difference(&lists, &got),
                None,
                "{name} {table} {blocked} {ack}"
            );
            files += 1;
        }
    }
    println!("{files} offline encodings decoded back");
}
