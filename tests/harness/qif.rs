//! The QPACK offline-interop corpus (github.com/qpackers/qifs): where it is, and skipping
//! (or, under CI, failing) when it is absent; reading QIF header lists; reading and
//! writing the offline-interop encoded format; running our decoder over an encoded file
//! and our encoder into one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use h3q::qpack::{Decoded, Decoder, HeaderField};

/// A header list: (name, value) pairs in order.
pub type HeaderList = Vec<(Vec<u8>, Vec<u8>)>;

/// Where the QPACK offline-interop corpus (its `qifs/` and `encoded/` folders) is looked
/// for: `$H3Q_QIFS_DIR`, else `qifs` in a `shared` folder beside the repository.
pub fn corpus_location() -> PathBuf {
    match std::env::var_os("H3Q_QIFS_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/qifs"),
    }
}

/// The QPACK offline-interop corpus, or `None` when it is absent: the caller (`test`)
/// then skips, and one line on the real stderr (not captured by the test harness) says
/// so and how to provide it. With `H3Q_REQUIRE_CORPUS=1` (CI sets it) an absent corpus
/// fails instead, so a run that has the corpus can never skip it silently.
pub fn corpus_dir(test: &str) -> Option<PathBuf> {
    let dir = corpus_location();
    if dir.join("qifs").is_dir() && dir.join("encoded").is_dir() {
        return Some(dir);
    }
    let why = format!(
        "QPACK interop corpus not found at {}; set H3Q_QIFS_DIR to a directory holding \
         qifs/ and encoded/ (github.com/qpackers/qifs)",
        dir.display()
    );
    if std::env::var_os("H3Q_REQUIRE_CORPUS").is_some_and(|v| v == "1") {
        panic!("{why} (H3Q_REQUIRE_CORPUS=1)");
    }
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
    None
}

/// Reads a QIF file: `name<TAB>value` lines, `#` comments, a blank line ends a list.
pub fn read_qif(path: &Path) -> Vec<HeaderList> {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lists = Vec::new();
    let mut current = HeaderList::new();
    for line in text.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first() == Some(&b'#') {
            continue;
        }
        if line.is_empty() {
            if !current.is_empty() {
                lists.push(std::mem::take(&mut current));
            }
            continue;
        }
        match line.iter().position(|&b| b == b'\t') {
            Some(tab) => current.push((line[..tab].to_vec(), line[tab + 1..].to_vec())),
            None => current.push((line.to_vec(), Vec::new())),
        }
    }
    if !current.is_empty() {
        lists.push(current);
    }
    lists
}

/// Splits an encoded file into (stream id, payload) blocks.
pub fn read_blocks(data: &[u8]) -> Result<Vec<(u64, Vec<u8>)>, String> {
    let (blocks, rest) = split_blocks(data);
    match rest {
        0 => Ok(blocks.into_iter().map(|(s, p)| (s, p.to_vec())).collect()),
        1..12 => Err("truncated block header".into()),
        _ => Err("truncated block payload".into()),
    }
}

/// The complete blocks at the start of `data`, up to a truncated one if any.
pub fn block_prefix(data: &[u8]) -> Vec<(u64, &[u8])> {
    split_blocks(data).0
}

/// The complete blocks of `data` and how many bytes are left after them.
fn split_blocks(data: &[u8]) -> (Vec<(u64, &[u8])>, usize) {
    let mut blocks = Vec::new();
    let mut rest = data;
    while rest.len() >= 12 {
        let stream = u64::from_be_bytes(rest[..8].try_into().unwrap());
        let len = u32::from_be_bytes(rest[8..12].try_into().unwrap()) as usize;
        if rest.len() - 12 < len {
            break;
        }
        blocks.push((stream, &rest[12..12 + len]));
        rest = &rest[12 + len..];
    }
    (blocks, rest.len())
}

/// Appends one block in the offline-interop format.
pub fn write_block(out: &mut Vec<u8>, stream: u64, payload: &[u8]) {
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
}

/// The parts of an encoded file name `<qif>.out.<table>.<blocked>.<ack>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedName {
    pub qif: String,
    pub table: u64,
    pub blocked: u64,
    pub ack: bool,
}

/// Parses an encoded file name; `None` when it does not follow the pattern.
pub fn parse_encoded_name(name: &str) -> Option<EncodedName> {
    let (qif, rest) = name.split_once(".out.")?;
    let mut parts = rest.split('.');
    let table = parts.next()?.parse().ok()?;
    let blocked = parts.next()?.parse().ok()?;
    let ack = parts.next()? == "1";
    Some(EncodedName {
        qif: qif.to_string(),
        table,
        blocked,
        ack,
    })
}

/// Decodes an encoded file with a decoder allowing `table` / `blocked`; returns the header
/// lists in stream-id order.
pub fn decode_file(data: &[u8], table: u64, blocked: u64) -> Result<Vec<HeaderList>, String> {
    let blocks = read_blocks(data)?;
    let mut decoder = Decoder::new(table, blocked);
    // The corpus follows draft-ietf-quic-qpack-05: the table starts at its maximum capacity.
    decoder
        .set_dynamic_table_capacity(table)
        .map_err(|e| e.to_string())?;
    let mut done: BTreeMap<u64, Vec<HeaderField>> = BTreeMap::new();
    let mut sink = Vec::new();
    for (stream, payload) in blocks {
        if stream == 0 {
            let unblocked = decoder.feed_encoder(&payload).map_err(|e| e.to_string())?;
            for id in unblocked {
                let fields = decoder.resume(id).map_err(|e| e.to_string())?;
                done.insert(id, fields);
            }
        } else {
            match decoder
                .decode(stream, &payload)
                .map_err(|e| e.to_string())?
            {
                Decoded::Headers(fields) => {
                    done.insert(stream, fields);
                }
                Decoded::Blocked => {}
            }
        }
        decoder.take_decoder_stream_data(&mut sink);
    }
    if decoder.blocked_streams() > 0 {
        return Err(format!(
            "{} streams still blocked at the end",
            decoder.blocked_streams()
        ));
    }
    Ok(done
        .into_values()
        .map(|fields| {
            fields
                .into_iter()
                .map(|f| (f.name.to_vec(), f.value.to_vec()))
                .collect()
        })
        .collect())
}

/// A short description of the first difference between two sets of lists.
pub fn first_difference(expected: &[HeaderList], got: &[HeaderList]) -> Option<String> {
    if expected.len() != got.len() {
        return Some(format!(
            "{} lists expected, {} decoded",
            expected.len(),
            got.len()
        ));
    }
    for (i, (e, g)) in expected.iter().zip(got).enumerate() {
        if e != g {
            let show = |l: &HeaderList| {
                l.iter()
                    .map(|(n, v)| {
                        format!(
                            "{}: {}",
                            String::from_utf8_lossy(n),
                            String::from_utf8_lossy(v)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" | ")
            };
            return Some(format!(
                "list {i}: expected [{}], got [{}]",
                show(e),
                show(g)
            ));
        }
    }
    None
}

/// The QIF names of the corpus.
pub fn qif_names(corpus: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(corpus.join("qifs"))
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            Some(name.strip_suffix(".qif")?.to_string())
        })
        .collect();
    names.sort();
    names
}

/// Borrowed (name, value) pairs of a list, as `Encoder::encode` takes them.
pub fn as_pairs(list: &HeaderList) -> Vec<(&[u8], &[u8])> {
    list.iter().map(|(n, v)| (&n[..], &v[..])).collect()
}

/// Encodes `lists` with our encoder into the offline-interop format (encoder-stream bytes
/// as stream 0 blocks before the section that needed them; sections on streams 1..N).
/// With `ack`, a decoder (ours) acknowledges each section immediately: its decoder-stream
/// bytes are fed back to the encoder.
pub fn encode_offline(lists: &[HeaderList], table: u64, blocked: u64, ack: bool) -> Vec<u8> {
    use h3q::qpack::Encoder;
    let mut out = Vec::new();
    let mut encoder = Encoder::new();
    let mut decoder = Decoder::new(table, blocked);
    let mut es = Vec::new();
    let mut section = Vec::new();
    let mut ds = Vec::new();
    encoder.apply_settings(table, blocked, &mut es);
    if !es.is_empty() {
        write_block(&mut out, 0, &es);
        decoder.feed_encoder(&es).unwrap();
    }
    for (i, list) in lists.iter().enumerate() {
        let stream = i as u64 + 1;
        es.clear();
        section.clear();
        encoder.encode(stream, &as_pairs(list), &mut es, &mut section);
        if !es.is_empty() {
            write_block(&mut out, 0, &es);
        }
        write_block(&mut out, stream, &section);
        if ack {
            decoder.feed_encoder(&es).unwrap();
            match decoder.decode(stream, &section).unwrap() {
                Decoded::Headers(_) => {}
                Decoded::Blocked => panic!("section blocked although its inserts came first"),
            }
            ds.clear();
            decoder.take_decoder_stream_data(&mut ds);
            encoder.feed_decoder(&ds).unwrap();
        }
    }
    out
}

/// The six other encoders in the corpus.
pub const OTHER_ENCODERS: [&str; 6] =
    ["f5", "ls-qpack", "nghttp3", "proxygen", "qthingey", "quinn"];

/// The size of another encoder's corpus file, if present.
pub fn other_size(
    corpus: &Path,
    encoder: &str,
    qif: &str,
    table: u64,
    blocked: u64,
    ack: bool,
) -> Option<u64> {
    let path = corpus
        .join("encoded/qpack-05")
        .join(encoder)
        .join(format!("{qif}.out.{table}.{blocked}.{}", u8::from(ack)));
    std::fs::metadata(path).ok().map(|m| m.len())
}
