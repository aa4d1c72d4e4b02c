//! Decodes every file of the QPACK offline-interop corpus (six other encoders) and
//! compares with the source QIFs; checks the malformed inputs are rejected.

mod harness;

use harness::qif::{corpus_dir, decode_file, first_difference, parse_encoded_name, read_qif};

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_corpus_file_decodes_to_its_qif() {
    let Some(root) = corpus_dir("every_corpus_file_decodes_to_its_qif") else {
        return;
    };
    let mut passed = 0;
    let mut failures = Vec::new();
    let files = files_under(&root.join("encoded/qpack-05"));
    let mut cache = std::collections::HashMap::new();
    for path in &files {
        let file_name = path.file_name().unwrap().to_str().unwrap();
        // draft-examples.out names no settings: it fits a 4096-byte table.
        let (qif, table, blocked) = match parse_encoded_name(file_name) {
            Some(n) => (n.qif, n.table, n.blocked),
            None if file_name == "draft-examples.out" => ("draft-examples".to_string(), 4096, 100),
            None => panic!("unexpected corpus file {}", path.display()),
        };
        let data = std::fs::read(path).unwrap();
        let qif_path = root.join("qifs").join(format!("{qif}.qif"));
        if !qif_path.exists() {
            // encoded/qpack-05/examples: the RFC 9204 appendix, checked in decoder_examples.
            match decode_file(&data, table, blocked) {
                Ok(_) => passed += 1,
                Err(e) => failures.push(format!("{}: {e}", path.display())),
            }
            continue;
        }
        let expected = cache
            .entry(qif.clone())
            .or_insert_with(|| read_qif(&qif_path));
        match decode_file(&data, table, blocked) {
            Ok(got) => match first_difference(expected, &got) {
                None => passed += 1,
                Some(diff) => failures.push(format!("{}: {diff}", path.display())),
            },
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    println!("corpus: {passed} of {} files decoded exactly", files.len());
    for f in &failures {
        println!("FAIL {f}");
    }
    assert!(files.len() >= 528);
    assert!(failures.is_empty(), "{} failures", failures.len());
}

#[test]
fn malformed_inputs_are_rejected_and_err9_err10_decode() {
    let Some(corpus) = corpus_dir("malformed_inputs_are_rejected_and_err9_err10_decode") else {
        return;
    };
    let root = corpus.join("encoded/errors");
    let mut rejected = 0;
    for n in 1..=12 {
        let data = std::fs::read(root.join(format!("err{n}"))).unwrap();
        let result = decode_file(&data, 4096, 100);
        if n == 9 || n == 10 {
            let lists = result.unwrap_or_else(|e| panic!("err{n} must decode: {e}"));
            let expected: &[u8] = if n == 9 {
                b":authority"
            } else {
                b"x-xss-protection"
            };
            assert_eq!(lists[0][0].0, expected);
        } else {
            let e = result.expect_err(&format!("err{n} must be rejected"));
            println!("err{n}: {e}");
            rejected += 1;
        }
    }
    println!("{rejected} malformed inputs rejected");
    assert_eq!(rejected, 10);
}
