//! Compression of our encoder on the corpus' fb-req and fb-resp (table 4096, blocked 100)
//! against the six other encoders' files, in the offline-interop format.
//!
//! Where we beat the best of the six, the test holds us to that; where we do not yet, it
//! holds us to what we reach (a regression bound), with the gap stated.

mod harness;

use std::path::Path;

use harness::qif::{OTHER_ENCODERS, corpus_dir, encode_offline, other_size, read_qif};

fn best_other(corpus: &Path, qif: &str, ack: bool, only: &[&str]) -> (u64, String) {
    OTHER_ENCODERS
        .iter()
        .filter(|e| only.is_empty() || only.contains(e))
        .filter_map(|e| other_size(corpus, e, qif, 4096, 100, ack).map(|s| (s, e.to_string())))
        .min()
        .unwrap()
}

#[test]
fn compression_against_the_other_encoders() {
    let Some(corpus) = corpus_dir("compression_against_the_other_encoders") else {
        return;
    };
    // f5's and quinn's ".0" files reference the dynamic table from all 383 sections
    // without any acknowledgement, which a 100-blocked-stream limit does not allow
    // (their ".1" files look like the no-acknowledgement case): for ack 0 the comparison
    // that respects the limit is against the other four.
    let compliant = ["ls-qpack", "nghttp3", "proxygen", "qthingey"];
    // (qif, ack, our bound when we do not beat the best yet)
    let cases: [(&str, bool, Option<u64>); 4] = [
        // 1.3% above qthingey (129237).
        ("fb-req", false, Some(130_884)),
        // 1.1% above nghttp3 (55844): short cookies (< 20 bytes) are never indexed here.
        ("fb-req", true, Some(56_485)),
        ("fb-resp", false, None),
        ("fb-resp", true, None),
    ];
    for (qif, ack, bound) in cases {
        let lists = read_qif(&corpus.join("qifs").join(format!("{qif}.qif")));
        let ours = encode_offline(&lists, 4096, 100, ack).len() as u64;
        let (best_all, who_all) = best_other(&corpus, qif, ack, &[]);
        let (best, who) = if ack {
            (best_all, who_all.clone())
        } else {
            best_other(&corpus, qif, ack, &compliant)
        };
        println!(
            "{qif} ack {}: ours {ours}, best {best} ({who}), best of all six {best_all} ({who_all})",
            u8::from(ack)
        );
        match bound {
            None => assert!(ours <= best, "{qif} ack {ack}: {ours} > {best} ({who})"),
            Some(b) => assert!(ours <= b, "{qif} ack {ack}: {ours} regressed beyond {b}"),
        }
    }
}
