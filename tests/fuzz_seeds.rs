//! Writes seed corpora for the fuzz targets into `fuzz/corpus/<target>/`: the QPACK
//! offline-interop corpus (found as the corpus tests find it: `$H3Q_QIFS_DIR`, else `../shared/qifs`) split into op sequences,
//! and the connection scenarios of the test suite as event scripts. Ignored by default;
//! run it, then minimise with `cargo fuzz cmin` (see fuzz/README.md):
//!
//! ```text
//! cargo test --features fuzzing --test fuzz_seeds -- --ignored
//! ```

mod harness;

use std::path::{Path, PathBuf};

use h3q::frame::{self, frame_type};
use h3q::h3::Settings;
use h3q::qpack::Encoder;

use harness::qif::{OTHER_ENCODERS, block_prefix, corpus_dir, read_qif};
use harness::wire::{GET, control_stream, frame, static_section, v};

fn corpus(target: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(target: &str, name: &str, data: &[u8]) {
    std::fs::write(corpus(target).join(format!("seed-{name}")), data).unwrap();
}

fn long_chunk(out: &mut Vec<u8>, bytes: &[u8]) {
    let n = bytes.len().min(u16::MAX as usize);
    out.extend_from_slice(&(n as u16).to_be_bytes());
    out.extend_from_slice(&bytes[..n]);
}

fn chunk(out: &mut Vec<u8>, bytes: &[u8]) {
    let n = bytes.len().min(255);
    out.push(n as u8);
    out.extend_from_slice(&bytes[..n]);
}

const POST: &[(&str, &str)] = &[
    (":method", "POST"),
    (":scheme", "https"),
    (":authority", "example.com"),
    (":path", "/upload"),
    ("content-length", "5"),
];
const OK: &[(&str, &str)] = &[(":status", "200"), ("content-type", "text/plain")];

fn capacity_index(capacity: u64) -> u8 {
    (0..8u8)
        .find(|&i| h3q::fuzzing::capacity_from(i) == capacity)
        .unwrap_or(7)
}

/// `qpack_decode` seeds: each encoded file's first blocks as feed/decode ops.
fn qpack_decode_seeds(corpus: &Path) {
    let root = corpus.join("encoded/qpack-05");
    for implementation in OTHER_ENCODERS {
        let Ok(entries) = std::fs::read_dir(root.join(implementation)) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        for name in names
            .iter()
            .filter(|n| n.contains("fb-req.out") || n.contains("netbsd.out"))
        {
            // <qif>.out.<table>.<blocked>.<ack>
            let parts: Vec<&str> = name.split('.').collect();
            let table: u64 = parts[2].parse().unwrap();
            let blocked: u64 = parts[3].parse().unwrap();
            if !(table == 4096 || table == 256) || parts[4] != "0" {
                continue;
            }
            let data = std::fs::read(root.join(implementation).join(name)).unwrap();
            let blocked_bits: u8 = if blocked == 0 { 0 } else { 6 };
            // Draft-era encoders assumed the table starts at its maximum: bit 0x80.
            let mut seed = vec![0x80 | blocked_bits << 3 | capacity_index(table)];
            for (id, payload) in block_prefix(&data) {
                if seed.len() > 3000 {
                    break;
                }
                if id == 0 {
                    for piece in payload.chunks(4096) {
                        seed.push(0);
                        long_chunk(&mut seed, piece);
                    }
                } else {
                    seed.push(1);
                    seed.push((id % 16) as u8);
                    long_chunk(&mut seed, payload);
                }
                seed.push(3);
            }
            write("qpack_decode", &format!("{implementation}-{name}"), &seed);
        }
    }
    for i in 1..=12 {
        if let Ok(data) = std::fs::read(corpus.join(format!("encoded/errors/err{i}"))) {
            let mut seed = vec![0x80 | 7];
            for (id, payload) in block_prefix(&data) {
                seed.push(if id == 0 { 0 } else { 1 });
                if id != 0 {
                    seed.push((id % 16) as u8);
                }
                long_chunk(&mut seed, payload);
            }
            write("qpack_decode", &format!("err{i}"), &seed);
        }
    }
}

/// A header list in `h3q::fuzzing`'s input form: count, then (255, name, value).
fn list_input(list: &[(Vec<u8>, Vec<u8>)], out: &mut Vec<u8>) {
    let list = &list[..list.len().min(11)];
    out.push(list.len() as u8);
    for (name, value) in list {
        out.push(255);
        chunk(out, name);
        chunk(out, value);
    }
}

fn qpack_list_seeds(corpus: &Path) {
    for (qif, setups) in [
        ("fb-req.qif", [0x37u8, 0x05, 0x00]),
        ("fb-resp.qif", [0x2f, 0x17, 0x07]),
        ("netbsd.qif", [0x27, 0x0d, 0x3f]),
    ] {
        let mut lists = read_qif(&corpus.join("qifs").join(qif));
        lists.truncate(12);
        for setup in setups {
            let mut roundtrip = vec![setup];
            let mut enc_dec = vec![setup];
            for (i, list) in lists.iter().enumerate() {
                roundtrip.push(i as u8);
                list_input(list, &mut roundtrip);
                enc_dec.extend([0, (i % 16) as u8]);
                list_input(list, &mut enc_dec);
                if i % 3 == 2 {
                    // Decoder-stream input: a section ack and an insert count increment.
                    enc_dec.push(1);
                    long_chunk(&mut enc_dec, &[0x80 | ((i as u8 - 2) % 16 * 4), 0x01]);
                }
            }
            let stem = qif.trim_end_matches(".qif");
            write(
                "qpack_roundtrip",
                &format!("{stem}-{setup:02x}"),
                &roundtrip,
            );
            write(
                "qpack_encoder_decoder_stream",
                &format!("{stem}-{setup:02x}"),
                &enc_dec,
            );
        }
    }
}

fn frame_parser_seeds() {
    let mut settings = Vec::new();
    frame::encode_settings_frame(&Settings::default().to_wire(), &mut settings);
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("settings", settings.clone()),
        (
            "request",
            [
                frame(frame_type::HEADERS, &static_section(GET)),
                frame(frame_type::DATA, b"hello"),
                frame(0x21, b""),
                frame(frame_type::HEADERS, &static_section(&[("x-trailer", "1")])),
            ]
            .concat(),
        ),
        (
            "control",
            [
                settings,
                frame(frame_type::MAX_PUSH_ID, &v(8)),
                frame(frame_type::GOAWAY, &v(4)),
                frame(0x1f * 3 + 0x21, &[1, 2, 3]),
            ]
            .concat(),
        ),
        (
            "big-varints",
            [v(0x3fff_ffff_ffff_ffff), v(16_383), v(63)].concat(),
        ),
    ];
    for (name, body) in bodies {
        for splits in [0u8, 3, 9] {
            let mut seed = vec![splits];
            for k in 0..splits {
                seed.extend_from_slice(&(u16::from(k) * 5 + 1).to_be_bytes());
            }
            seed.extend_from_slice(&body);
            write("frame_parser", &format!("{name}-{splits}"), &seed);
        }
    }
}

/// An `h3q::fuzzing::h3_connection` script.
struct Script(Vec<u8>);

impl Script {
    fn new(setup: u8) -> Self {
        Script(vec![setup])
    }
    fn data(&mut self, stream_id: u8, bytes: &[u8], fin: bool) -> &mut Self {
        self.0.push(if fin { 0x84 } else { 0x00 });
        self.0.push(stream_id);
        long_chunk(&mut self.0, bytes);
        self
    }
    fn reset(&mut self, stream_id: u8) -> &mut Self {
        self.0.extend([5, stream_id, 0x0c]);
        self
    }
    fn stop(&mut self, stream_id: u8) -> &mut Self {
        self.0.extend([6, stream_id]);
        self
    }
    fn datagram(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.push(7);
        chunk(&mut self.0, bytes);
        self
    }
    fn send_headers(&mut self, stream_id: u8, fin: bool) -> &mut Self {
        self.0.extend([if fin { 0x81 } else { 9 }, stream_id]);
        self
    }
    fn send_data(&mut self, stream_id: u8, bytes: &[u8], fin: bool) -> &mut Self {
        self.0.extend([if fin { 0x82 } else { 10 }, stream_id]);
        chunk(&mut self.0, bytes);
        self
    }
    fn push_promise(&mut self, stream_id: u8) -> &mut Self {
        self.0.extend([0x83, stream_id]);
        self
    }
}

fn h3_seeds() {
    let headers = |list: &[(&str, &str)]| frame(frame_type::HEADERS, &static_section(list));
    // A dynamic-table section and its encoder-stream bytes.
    let mut encoder = Encoder::new();
    let mut enc = Vec::new();
    encoder.apply_settings(4096, 16, &mut enc);
    let mut dyn_sec = Vec::new();
    let custom: &[(&[u8], &[u8])] = &[
        (b":method", b"GET"),
        (b":scheme", b"https"),
        (b":authority", b"example.com"),
        (b":path", b"/dyn"),
        (b"x-custom", b"a fairly long custom header value"),
    ];
    encoder.encode(0, custom, &mut enc, &mut dyn_sec);
    let dyn_headers = frame(frame_type::HEADERS, &dyn_sec);

    // Servers: the client's uni streams are 2 (control), 6 (encoder), 10 (decoder).
    let mut s = Script::new(0x80);
    s.data(0, &headers(GET), true).send_headers(0, true);
    write("h3_connection_server", "get", &s.0);

    let mut s = Script::new(0x80);
    s.data(0, &headers(POST), false)
        .data(0, &frame(frame_type::DATA, b"hello"), false)
        .data(0, &headers(&[("x-trailer", "yes")]), true)
        .send_headers(0, false)
        .send_data(0, b"done", true);
    write("h3_connection_server", "post-trailers", &s.0);

    let mut s = Script::new(0x80);
    s.data(0, &headers(GET), false)
        .reset(0)
        .data(4, &[], true)
        .stop(4)
        .data(8, &[frame(0x21, b"grease"), headers(GET)].concat(), true)
        .datagram(&[0x00, 1, 2, 3]);
    write("h3_connection_server", "reset-grease-datagram", &s.0);

    let mut s = Script::new(0x80);
    s.data(0, &dyn_headers, true)
        .data(6, &enc, false)
        .send_headers(0, true);
    write("h3_connection_server", "dynamic-blocked", &s.0);

    let mut s = Script::new(0x84);
    s.data(
        0,
        &[v(0x41), v(0), b"webtransport".to_vec()].concat(),
        false,
    )
    .data(14, &[v(0x54), v(0), b"uni".to_vec()].concat(), true)
    .data(18, &[v(0x21), b"ignored".to_vec()].concat(), true)
    .data(2, &frame(frame_type::GOAWAY, &v(0)), false);
    write("h3_connection_server", "webtransport-uni", &s.0);

    let mut s = Script::new(0x00);
    let mut control = control_stream();
    control.extend(frame(frame_type::MAX_PUSH_ID, &v(4)));
    s.data(2, &control, false)
        .data(6, &v(2), false)
        .data(10, &v(3), false)
        .data(0, &headers(GET), true)
        .send_headers(0, false)
        .push_promise(0)
        .send_data(0, b"body", true);
    write("h3_connection_server", "push", &s.0);

    // Clients: the server's uni streams are 3, 7, 11; a push stream 15.
    let mut s = Script::new(0x80);
    s.send_headers(0, true)
        .data(0, &headers(&[(":status", "103")]), false)
        .data(0, &headers(OK), false)
        .data(0, &frame(frame_type::DATA, b"hello"), true);
    write("h3_connection_client", "get-103", &s.0);

    let mut promise = v(0);
    promise.extend(static_section(GET));
    let mut s = Script::new(0x80);
    s.send_headers(0, true)
        .data(0, &frame(frame_type::PUSH_PROMISE, &promise), false)
        .data(0, &headers(OK), true)
        .data(15, &[v(1), v(0), headers(OK)].concat(), false)
        .data(15, &frame(frame_type::DATA, b"pushed"), true);
    write("h3_connection_client", "push", &s.0);

    let mut s = Script::new(0x80);
    s.send_headers(0, false)
        .send_data(0, b"upload", true)
        .data(7, &enc, false)
        .data(0, &frame(frame_type::HEADERS, &dyn_sec), true)
        .reset(4)
        .datagram(&[0x00, 9]);
    write("h3_connection_client", "dynamic", &s.0);
}

fn ffi_seeds() {
    // Server (setup bit 0 clear), decoder capacity byte, then ops.
    let control = control_stream();
    let mut seed = vec![0x02, 0x10];
    seed.extend([0x00, 2]);
    long_chunk(&mut seed, &control);
    seed.extend([0x80, 0]);
    long_chunk(&mut seed, &frame(frame_type::HEADERS, &static_section(GET)));
    seed.extend([0x85, 0, 6, 0]);
    chunk(&mut seed, b"body");
    seed.extend([9, 1, 10, 0, 12, 0, 0x8c, 1, 13, 0]);
    chunk(&mut seed, &[0x80, 0x01]);
    seed.extend([0x8e, 0]);
    long_chunk(&mut seed, &[0x3f, 0xe1, 0x1f]);
    seed.extend([14, 1]);
    long_chunk(&mut seed, &static_section(GET));
    seed.extend([15, 2, 4, 4]);
    write("ffi_calls", "server", &seed);

    let mut seed = vec![0x07, 0x00];
    seed.extend([0x85, 0, 4, 0]);
    chunk(&mut seed, &[0x40, 1]);
    seed.extend([0x00, 3]);
    long_chunk(&mut seed, &control);
    seed.extend([0x80, 0]);
    long_chunk(&mut seed, &frame(frame_type::HEADERS, &static_section(OK)));
    seed.extend([7, 0, 8, 0]);
    chunk(&mut seed, b"dgram");
    seed.extend([11, 0, 0x8b, 0, 5, 4]);
    write("ffi_calls", "client", &seed);
}

/// quic_streams op sequences (src/fuzzing/quic_streams.rs): requests on three streams,
/// responses at different priorities through loss, reordering and waits; one with aborts.
/// Both start with a client write (top bit set: jumbo datagrams); "ethernet" is the
/// priorities sequence behind a first op without it (a wait of 0 ms).
fn quic_streams_seeds() {
    const CLIENT: u8 = 0x80;
    let put = |out: &mut Vec<u8>, client: bool, stream: u8, len: usize, owned: bool, fin: bool| {
        let quarter = (len / 4).min(u16::MAX as usize) as u16;
        let op = if client { CLIENT } else { 0 };
        out.extend_from_slice(&[op, stream]);
        out.extend_from_slice(&quarter.to_be_bytes());
        out.push(u8::from(owned) | u8::from(fin) << 1);
    };
    let priority = |out: &mut Vec<u8>, stream: u8, urgency: u8, incremental: bool| {
        out.extend_from_slice(&[2, stream, urgency | u8::from(incremental) << 3]);
    };
    let deliver_all = |out: &mut Vec<u8>| out.extend_from_slice(&[7, 0]);
    let lossy = |out: &mut Vec<u8>, rounds: usize| {
        for i in 0..rounds {
            let from_client = if i % 3 == 0 { CLIENT } else { 0 };
            let reorder = if i % 2 == 0 { 0x40 } else { 0 };
            out.extend_from_slice(&[
                5 | from_client | reorder,
                0,
                12,
                (i as u8).wrapping_mul(37) & 0x11,
            ]);
            out.extend_from_slice(&[6, 0, 0, 50]); // 5 ms
        }
    };
    let mut requests = Vec::new();
    for stream in 0..3 {
        put(&mut requests, true, stream, 64, stream % 2 == 0, true);
    }
    deliver_all(&mut requests);

    let mut by_priority = requests.clone();
    priority(&mut by_priority, 0, 5, false);
    priority(&mut by_priority, 1, 3, true);
    priority(&mut by_priority, 2, 0, false);
    for stream in 0..3 {
        put(&mut by_priority, false, stream, 150_000, stream == 1, true);
    }
    lossy(&mut by_priority, 40);
    priority(&mut by_priority, 0, 0, false); // raised midway
    lossy(&mut by_priority, 40);
    write("quic_streams", "priorities", &by_priority);
    let ethernet: Vec<u8> = [6, 0, 0, 0]
        .into_iter()
        .chain(by_priority.clone())
        .collect();
    write("quic_streams", "ethernet", &ethernet);

    let mut aborts = requests;
    for stream in 0..3 {
        put(&mut aborts, false, stream, 120_000, false, stream != 1);
    }
    lossy(&mut aborts, 10);
    aborts.extend_from_slice(&[3, 1]); // the server resets stream 4
    aborts.extend_from_slice(&[4 | CLIENT, 2]); // the client stops stream 8
    lossy(&mut aborts, 30);
    write("quic_streams", "aborts", &aborts);
}

#[test]
#[ignore = "writes fuzz/corpus seeds; run by hand"]
fn write_seed_corpora() {
    if let Some(corpus) = corpus_dir("write_seed_corpora (QPACK seeds)") {
        qpack_decode_seeds(&corpus);
        qpack_list_seeds(&corpus);
    }
    frame_parser_seeds();
    h3_seeds();
    ffi_seeds();
    quic_streams_seeds();
    for target in h3q::fuzzing::TARGETS {
        let n = std::fs::read_dir(corpus(target)).unwrap().count();
        println!("{target}: {n} files");
    }
}
