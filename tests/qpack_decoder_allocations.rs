//! What a warm QPACK decoder allocates per field section: the field list, and nothing for
//! the section's string literals once the fields of earlier sections are gone (their
//! storage is reused: `src/qpack/decoder/literals.rs`). A request's headers decoded by a
//! server went from three allocations to one.
//!
//! One test function: the counting allocator's figures are the whole process's.

mod harness;

use h3q::qpack::{Decoded, Decoder, Encoder};
use harness::alloc::Counting;

#[global_allocator]
static HEAP: Counting = Counting::new();

/// A request's header list, with values that change from one request to the next (so
/// that, at table 0, every string is a literal, most of them Huffman-coded).
fn request(i: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    [
        (":method", "GET".to_string()),
        (":scheme", "https".to_string()),
        (":authority", "www.example.com".to_string()),
        (":path", format!("/articles/{i}/comments?page={}", i % 7)),
        ("user-agent", format!("test-agent/{}.0 (x11; linux)", i % 3)),
        ("x-request-id", format!("{:016x}", i * 7919)),
    ]
    .into_iter()
    .map(|(n, v)| (n.as_bytes().to_vec(), v.into_bytes()))
    .collect()
}

/// Encodes `count` requests at table 0 (literals only).
fn sections(count: usize) -> Vec<Vec<u8>> {
    let mut encoder = Encoder::new();
    encoder.apply_settings(0, 0, &mut Vec::new());
    (0..count)
        .map(|i| {
            let list = request(i);
            let refs: Vec<(&[u8], &[u8])> = list
                .iter()
                .map(|(n, v)| (n.as_slice(), v.as_slice()))
                .collect();
            let mut section = Vec::new();
            encoder.encode(i as u64 * 4, &refs, &mut Vec::new(), &mut section);
            section
        })
        .collect()
}

#[test]
fn a_warm_decoder_allocates_only_the_field_list() {
    const WARM_UP: usize = 50;
    const MEASURED: usize = 200;
    let sections = sections(WARM_UP + MEASURED);
    // Made before the count starts: the checks below allocate nothing.
    let requests: Vec<_> = (0..WARM_UP + MEASURED).map(request).collect();
    let mut decoder = Decoder::new(0, 0);
    let mut decode = |i: usize| match decoder.decode(i as u64 * 4, &sections[i]) {
        Ok(Decoded::Headers(fields)) => {
            let expected = &requests[i];
            assert_eq!(fields.len(), expected.len());
            for (field, (name, value)) in fields.iter().zip(expected) {
                assert_eq!((&field.name[..], &field.value[..]), (&name[..], &value[..]));
            }
            // The fields are dropped here, as an application does once it has read them.
        }
        other => panic!("section {i}: {other:?}"),
    };
    for i in 0..WARM_UP {
        decode(i);
    }
    let before = HEAP.allocations();
    for i in WARM_UP..WARM_UP + MEASURED {
        decode(i);
    }
    let per_section = (HEAP.allocations() - before) as f64 / MEASURED as f64;
    println!("allocations per field section, warm: {per_section:.2}");
    assert!(
        per_section <= 1.0,
        "{per_section:.2} allocations per section; the field list is the only one expected"
    );
}
