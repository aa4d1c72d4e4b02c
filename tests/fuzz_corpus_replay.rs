//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/*`) through the same
//! target bodies the fuzzers run (`h3q::fuzzing`), on stable: a crash once found and
//! minimised stays fixed.

use std::path::Path;

#[test]
fn every_corpus_file_replays() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut total = 0;
    for target in h3q::fuzzing::TARGETS {
        let dir = root.join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            panic!("no corpus for {target} at {}", dir.display());
        };
        let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        assert!(!files.is_empty(), "empty corpus for {target}");
        for path in files {
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| h3q::fuzzing::run(target, &data));
            match outcome {
                Ok(known) => assert!(known, "unknown target {target}"),
                Err(_) => panic!("{target}: {} panics", path.display()),
            }
            total += 1;
        }
    }
    println!("replayed {total} corpus files");
}

#[test]
fn empty_and_tiny_inputs() {
    for target in h3q::fuzzing::TARGETS {
        for data in [&[][..], &[0], &[0xff], &[0x80, 0, 0], &[0xff; 64]] {
            assert!(h3q::fuzzing::run(target, data), "{target}");
        }
    }
}
