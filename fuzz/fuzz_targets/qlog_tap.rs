#![no_main]
//! Body in `h3q::fuzzing` (src/fuzzing/qlog_tap.rs), shared with
//! tests/fuzz_corpus_replay.rs.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| h3q::fuzzing::qlog_tap(data));
