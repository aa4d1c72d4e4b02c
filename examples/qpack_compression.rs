//! Prints the total encoded size (offline-interop format: 12-byte block headers, encoder
//! stream as stream 0 blocks) of our QPACK encoder's output for fb-req and fb-resp at table
//! 4096 / blocked 100, next to the six encoders of the QPACK interop corpus.
//!
//! `cargo run --release --example qpack_compression`

#[path = "../tests/harness/mod.rs"]
mod harness;

use harness::qif::{OTHER_ENCODERS, corpus_dir, encode_offline, other_size, read_qif};

fn main() {
    let Some(corpus) = corpus_dir("qpack_compression") else {
        std::process::exit(77);
    };
    let (table, blocked) = (4096, 100);
    print!("{:<14}{:>9}", "file", "h3q");
    for other in OTHER_ENCODERS {
        print!("{other:>10}");
    }
    println!("{:>10}", "best");
    for qif in ["fb-req", "fb-resp"] {
        let lists = read_qif(&corpus.join("qifs").join(format!("{qif}.qif")));
        for ack in [false, true] {
            let ours = encode_offline(&lists, table, blocked, ack).len();
            print!("{:<14}{ours:>9}", format!("{qif} ack {}", u8::from(ack)));
            let mut best = u64::MAX;
            for other in OTHER_ENCODERS {
                match other_size(&corpus, other, qif, table, blocked, ack) {
                    Some(size) => {
                        best = best.min(size);
                        print!("{size:>10}");
                    }
                    None => print!("{:>10}", "-"),
                }
            }
            println!("{best:>10}");
        }
    }
}
