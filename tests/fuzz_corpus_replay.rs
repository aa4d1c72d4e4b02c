//! Replays every committed fuzz input through the same target bodies the fuzzers run
//! (`h3q::fuzzing`), on stable: the minimised corpora (`fuzz/corpus/<target>/*`, rewritten
//! by every campaign) and the inputs that once found a bug (`fuzz/regressions/<target>/*`,
//! never minimised away), so a crash once found stays fixed.

use std::path::{Path, PathBuf};

fn inputs_in(dir: &Path) -> Option<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    files.sort();
    Some(files)
}

fn replay(target: &str, files: &[PathBuf]) {
    for path in files {
        let data = std::fs::read(path).unwrap();
        let outcome = std::panic::catch_unwind(|| h3q::fuzzing::run(target, &data));
        match outcome {
            Ok(known) => assert!(known, "unknown target {target}"),
            Err(_) => panic!("{target}: {} panics", path.display()),
        }
    }
}

#[test]
fn every_corpus_file_replays() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let (mut corpus_total, mut regression_total) = (0, 0);
    for target in h3q::fuzzing::TARGETS {
        let dir = fuzz.join("corpus").join(target);
        let corpus = inputs_in(&dir)
            .unwrap_or_else(|| panic!("no corpus for {target} at {}", dir.display()));
        assert!(!corpus.is_empty(), "empty corpus for {target}");
        replay(target, &corpus);
        corpus_total += corpus.len();
        let regressions = inputs_in(&fuzz.join("regressions").join(target)).unwrap_or_default();
        replay(target, &regressions);
        regression_total += regressions.len();
    }
    println!("replayed {corpus_total} corpus files and {regression_total} regression inputs");
}

#[test]
fn regression_directories_name_real_targets() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    for target in inputs_in(&dir).unwrap_or_default() {
        let name = target.file_name().unwrap().to_str().unwrap();
        assert!(
            h3q::fuzzing::TARGETS.contains(&name),
            "fuzz/regressions/{name} is not a fuzz target, so nothing replays it"
        );
    }
}

#[test]
fn empty_and_tiny_inputs() {
    for target in h3q::fuzzing::TARGETS {
        for data in [&[][..], &[0], &[0xff], &[0x80, 0, 0], &[0xff; 64]] {
            assert!(h3q::fuzzing::run(target, data), "{target}");
        }
    }
}
