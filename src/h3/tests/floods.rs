//! Cheap-peer floods: each closes the connection with H3_EXCESSIVE_LOAD (or, for field
//! sections that expand beyond the limit, QPACK_DECOMPRESSION_FAILED) within bounded
//! memory, and the legitimate pattern next to it does not. Each test prints the peak of
//! the connection's own accounting (`held_bytes`); tests/h3_floods_memory.rs measures the
//! heap with a counting allocator.

use crate::error::ErrorCode;
use crate::frame::frame_type;
use crate::h3::test_support::*;
use crate::h3::{H3Event, QuicEvent, Settings};
use crate::qpack::{field_lines, instruction};

/// The client's control and encoder streams, as a server sees them.
const CLIENT_CONTROL: u64 = 2;
const CLIENT_ENCODER: u64 = 6;

/// A server that has seen the client's control stream and encoder stream type.
fn server() -> Conn {
    let mut s = server_with(Settings::default());
    let control = control_stream(&[(1, 4096), (7, 16)]);
    assert!(recv(&mut s, CLIENT_CONTROL, &control, false, Mode::Chunks).is_empty());
    assert!(recv(&mut s, CLIENT_ENCODER, &v(2), false, Mode::Chunks).is_empty());
    s
}

/// Feeds `unit` on `stream_id` up to `max` times, until the connection closes. Returns
/// how many were fed and the peak of `held_bytes`.
fn flood(conn: &mut Conn, stream_id: u64, unit: &[u8], max: usize) -> (usize, u64) {
    let mut peak = conn.held_bytes();
    for i in 1..=max {
        handle(
            conn,
            QuicEvent::StreamDataReceived {
                stream_id,
                data: unit.into(),
                end_stream: false,
            },
        );
        peak = peak.max(conn.held_bytes());
        if conn.is_closed() {
            return (i, peak);
        }
    }
    (max, peak)
}

fn report(name: &str, units: usize, peak: u64) {
    println!("flood {name}: closed after {units} units, peak held {peak} bytes");
}

fn assert_excessive(conn: &Conn, reason: &str) {
    assert_closed(conn, ErrorCode::ExcessiveLoad, reason);
    assert_eq!(ErrorCode::ExcessiveLoad.wire(), 0x107);
}

const TINY: &str = "Too many small or empty frames on a stream";

#[test]
fn empty_data_frames() {
    let mut s = server();
    recv(&mut s, 0, &headers_frame(GET), false, Mode::Chunks);
    let (n, peak) = flood(&mut s, 0, &frame(frame_type::DATA, &[]), 1_000_000);
    report("empty DATA", n, peak);
    assert_excessive(&s, TINY);
    assert_eq!(
        n, 10_001,
        "10,000 empty DATA frames are allowed, not one more"
    );
    assert!(peak < 4096);
}

#[test]
fn one_byte_data_frames() {
    let mut s = server();
    recv(&mut s, 0, &headers_frame(GET), false, Mode::Chunks);
    let (n, peak) = flood(&mut s, 0, &frame(frame_type::DATA, b"x"), 1_000_000);
    report("1-byte DATA", n, peak);
    assert_excessive(&s, TINY);
    assert!((10_000..11_000).contains(&n), "{n}");
    assert!(peak < 4096);
}

#[test]
fn data_frames_of_sixteen_bytes_or_more_are_never_cheap() {
    let mut s = server();
    recv(&mut s, 0, &headers_frame(GET), false, Mode::Chunks);
    let (n, _) = flood(&mut s, 0, &frame(frame_type::DATA, &[7; 16]), 50_000);
    assert_eq!(n, 50_000);
    assert_open(&s);
}

#[test]
fn unknown_frames_on_a_request_stream() {
    for ty in [0x21u64, 0x1f * 7 + 0x21, 0x7fff] {
        let mut s = server();
        recv(&mut s, 0, &headers_frame(GET), false, Mode::Chunks);
        let (n, peak) = flood(&mut s, 0, &frame(ty, &[]), 1_000_000);
        report("empty unknown frames on a request stream", n, peak);
        assert_excessive(&s, TINY);
        assert!(n <= 10_001 && peak < 4096);
    }
    // Before HEADERS too.
    let mut s = server();
    let (n, _) = flood(&mut s, 0, &frame(0x21, &[]), 1_000_000);
    assert_excessive(&s, TINY);
    assert_eq!(n, 10_001);
}

#[test]
fn unknown_frames_on_the_control_stream() {
    let mut s = server();
    let (n, peak) = flood(&mut s, CLIENT_CONTROL, &frame(0x21, &[]), 1_000_000);
    report("empty GREASE frames on the control stream", n, peak);
    assert_excessive(&s, TINY);
    assert_eq!(n, 10_001);
    assert!(peak < 4096);
    // GOAWAY repeated endlessly is no better.
    let mut s = server();
    let (n, _) = flood(
        &mut s,
        CLIENT_CONTROL,
        &frame(frame_type::GOAWAY, &v(0)),
        1_000_000,
    );
    assert_excessive(&s, TINY);
    assert!(n < 11_000);
}

#[test]
fn settings_with_thousands_of_entries() {
    let mut payload = Vec::new();
    for i in 0..5_000u64 {
        payload.extend(v(0x1f * i + 0x21));
        payload.extend(v(i));
    }
    let mut s = server_with(Settings::default());
    let bytes = cat(&[&v(0), &frame(frame_type::SETTINGS, &payload)]);
    recv(&mut s, CLIENT_CONTROL, &bytes, false, Mode::Chunks);
    println!(
        "flood SETTINGS: {} entries ({} bytes) refused, peak held {} bytes",
        5_000,
        payload.len(),
        s.held_bytes()
    );
    assert_excessive(&s, "SETTINGS carries more than 256 entries");
    // 256 entries are fine.
    let list: Vec<(u64, u64)> = (0..256u64).map(|i| (0x1f * i + 0x21, i)).collect();
    let mut s = server_with(Settings::default());
    recv(
        &mut s,
        CLIENT_CONTROL,
        &control_stream(&list),
        false,
        Mode::Chunks,
    );
    assert_open(&s);
    assert_eq!(s.received_settings().unwrap().len(), 256);
}

const INSERTS: &str = "encoder stream inserted more than 1048576 bytes no field section used";

#[test]
fn encoder_stream_inserts_never_referenced() {
    let mut s = server();
    let mut first = Vec::new();
    instruction::write_set_capacity(&mut first, 4096);
    recv(&mut s, CLIENT_ENCODER, &first, false, Mode::Chunks);
    let mut unit = Vec::new();
    instruction::write_insert_with_literal_name(&mut unit, b"x-flood", &[b'v'; 100]);
    let (n, peak) = flood(&mut s, CLIENT_ENCODER, &unit, 1_000_000);
    report("unreferenced inserts (139-byte entries)", n, peak);
    assert_excessive(&s, INSERTS);
    assert_eq!(n, 1024 * 1024 / 139 + 1);
    assert!(peak < 8192, "table capacity + overhead: {peak}");
}

#[test]
fn duplicate_churn() {
    let mut s = server();
    let mut first = Vec::new();
    instruction::write_set_capacity(&mut first, 4096);
    instruction::write_insert_with_literal_name(&mut first, b"x-big", &[b'v'; 1000]);
    recv(&mut s, CLIENT_ENCODER, &first, false, Mode::Chunks);
    let mut unit = Vec::new();
    instruction::write_duplicate(&mut unit, 0);
    let (n, peak) = flood(&mut s, CLIENT_ENCODER, &unit, 1_000_000);
    report(
        "Duplicate churn (1-byte instructions, 1037-byte entries)",
        n,
        peak,
    );
    assert_excessive(&s, INSERTS);
    assert!(n < 1_100, "{n}");
    assert!(peak < 8192);
}

#[test]
fn inserts_that_sections_use_are_fine() {
    let mut s = server();
    let mut first = Vec::new();
    instruction::write_set_capacity(&mut first, 4096);
    recv(&mut s, CLIENT_ENCODER, &first, false, Mode::Chunks);
    for i in 0..20_000u64 {
        // Insert a 1 KiB entry, then a request referencing it: 20 MiB of inserts in all.
        let mut unit = Vec::new();
        instruction::write_insert_with_literal_name(&mut unit, b"x-used", &[b'u'; 1000]);
        recv(&mut s, CLIENT_ENCODER, &unit, false, Mode::Chunks);
        let ric = i + 1;
        let mut sec = Vec::new();
        field_lines::write_prefix(&mut sec, ric, ric, 4096 / 32);
        for (name, value) in GET {
            field_lines::write_literal(&mut sec, false, name.as_bytes(), value.as_bytes());
        }
        field_lines::write_indexed(&mut sec, false, 0);
        let events = recv(
            &mut s,
            i * 4,
            &frame(frame_type::HEADERS, &sec),
            true,
            Mode::Chunks,
        );
        // HEADERS, then the FIN (delivered as its own event).
        assert_eq!(events.len(), 2, "request {i}");
        s.send_headers(i * 4, &pairs(OK), true).unwrap();
    }
    assert_open(&s);
}

const RESETS: &str = "Too many streams reset before their message ended";

#[test]
fn rapid_reset_after_headers() {
    let mut s = server();
    let mut peak = 0;
    let mut n = 0;
    for i in 0..100_000u64 {
        recv(&mut s, i * 4, &headers_frame(GET), false, Mode::Chunks);
        handle(
            &mut s,
            QuicEvent::StreamReset {
                stream_id: i * 4,
                error_code: 0x10c,
            },
        );
        peak = peak.max(s.held_bytes());
        n = i + 1;
        if s.is_closed() {
            break;
        }
    }
    report("rapid reset after HEADERS", n as usize, peak);
    assert_excessive(&s, RESETS);
    assert_eq!(n, 1_001);
    // The application saw each request, so each stream's state stays until it answers:
    // bounded by the reset limit.
    assert!(peak < 1_001 * 256, "{peak}");
}

#[test]
fn rapid_reset_before_headers() {
    let mut s = server();
    let mut n = 0;
    for i in 0..100_000u64 {
        handle(
            &mut s,
            QuicEvent::StreamReset {
                stream_id: i * 4,
                error_code: 0x10c,
            },
        );
        n = i + 1;
        if s.is_closed() {
            break;
        }
    }
    report("rapid reset before HEADERS", n as usize, s.held_bytes());
    assert_excessive(&s, RESETS);
    assert_eq!(n, 1_001);
}

#[test]
fn cancelling_half_of_the_requests_is_fine() {
    let mut s = server();
    for i in 0..20_000u64 {
        let stream_id = i * 4;
        if i % 2 == 0 {
            recv(&mut s, stream_id, &headers_frame(GET), true, Mode::Chunks);
            s.send_headers(stream_id, &pairs(OK), true).unwrap();
        } else {
            recv(&mut s, stream_id, &headers_frame(GET), false, Mode::Chunks);
            handle(
                &mut s,
                QuicEvent::StreamReset {
                    stream_id,
                    error_code: 0x10c,
                },
            );
        }
    }
    assert_open(&s);
    // Completed requests are not banked: a burst afterwards still closes.
    for i in 20_000..30_000u64 {
        handle(
            &mut s,
            QuicEvent::StreamReset {
                stream_id: i * 4,
                error_code: 0x10c,
            },
        );
        if s.is_closed() {
            assert!(i < 21_002, "{i}");
            break;
        }
    }
    assert_excessive(&s, RESETS);
}

#[test]
fn huge_header_frame_is_refused_from_its_header() {
    let mut s = server();
    // HEADERS announcing 100 MB: refused before any payload is buffered.
    let mut bytes = v(frame_type::HEADERS);
    bytes.extend(v(100_000_000));
    bytes.extend([0u8; 1000]);
    recv(&mut s, 0, &bytes, false, Mode::Chunks);
    report("100 MB HEADERS frame", bytes.len(), s.held_bytes());
    assert_excessive(&s, "Frame of type 0x1 exceeds 65536 bytes");
}

#[test]
fn huge_literal_is_refused_from_its_length() {
    // A 60 KB value inside a frame that fits, against a 16 KiB field section limit.
    let settings = Settings {
        max_field_section_size: 16 * 1024,
        ..Settings::default()
    };
    let mut s = server_with(settings);
    let control = control_stream(&[(1, 4096), (7, 16)]);
    recv(&mut s, CLIENT_CONTROL, &control, false, Mode::Chunks);
    let mut sec = Vec::new();
    field_lines::write_prefix(&mut sec, 0, 0, 128);
    for (name, value) in GET {
        field_lines::write_literal(&mut sec, false, name.as_bytes(), value.as_bytes());
    }
    let big = vec![b'a'; 60_000];
    field_lines::write_literal(&mut sec, false, b"x-big", &big);
    let bytes = frame(frame_type::HEADERS, &sec);
    let events = recv(&mut s, 0, &bytes, false, Mode::Chunks);
    report(
        "60 KB header value (16 KiB limit)",
        bytes.len(),
        s.held_bytes(),
    );
    assert!(events.is_empty());
    assert_closed(&s, ErrorCode::QpackDecompressionFailed, "");
    // Without a limit, the default budget (256 KiB) lets it through.
    let mut s = server();
    let events = recv(&mut s, 0, &bytes, false, Mode::Chunks);
    assert_eq!(events.len(), 1);
    assert_open(&s);
}

#[test]
fn section_too_long_for_the_limit_is_refused_from_its_frame_header() {
    let settings = Settings {
        max_field_section_size: 1024,
        ..Settings::default()
    };
    let mut s = server_with(settings.clone());
    // 4 x 1024 + 256 = 4352 wire bytes could still fit: buffered and decoded.
    let mut bytes = v(frame_type::HEADERS);
    bytes.extend(v(4352));
    bytes.extend([0u8; 100]);
    recv(&mut s, 0, &bytes, false, Mode::Chunks);
    assert_open(&s);
    // One byte more cannot decode to 1024 bytes or less.
    let mut s = server_with(settings);
    let mut bytes = v(frame_type::HEADERS);
    bytes.extend(v(4353));
    recv(&mut s, 0, &bytes, false, Mode::Chunks);
    report(
        "4353-byte HEADERS against a 1024-byte limit",
        bytes.len(),
        s.held_bytes(),
    );
    assert_closed(&s, ErrorCode::QpackDecompressionFailed, "");
}

#[test]
fn field_section_that_expands_through_references() {
    // One 4000-byte entry referenced 16,000 times: 16 KB on the wire, 64 MB decoded.
    let mut s = server();
    let mut enc = Vec::new();
    instruction::write_set_capacity(&mut enc, 4096);
    instruction::write_insert_with_literal_name(&mut enc, b"x-bomb", &[b'b'; 3958]);
    recv(&mut s, CLIENT_ENCODER, &enc, false, Mode::Chunks);
    let mut sec = Vec::new();
    field_lines::write_prefix(&mut sec, 1, 1, 128);
    for _ in 0..16_000 {
        field_lines::write_indexed(&mut sec, false, 0);
    }
    let bytes = frame(frame_type::HEADERS, &sec);
    let events = recv(&mut s, 0, &bytes, false, Mode::Chunks);
    report(
        "16 KB section expanding to 64 MB",
        bytes.len(),
        s.held_bytes(),
    );
    assert!(events.is_empty());
    assert_closed(&s, ErrorCode::QpackDecompressionFailed, "");
}

#[test]
fn partial_frames_on_many_streams() {
    let mut s = server();
    // Each stream: a HEADERS frame announcing 60,000 bytes, then the first 1,000.
    let mut unit = v(frame_type::HEADERS);
    unit.extend(v(60_000));
    unit.extend([0u8; 1000]);
    let mut peak = 0;
    let mut n = 0;
    for i in 0..10_000u64 {
        recv(&mut s, i * 4, &unit, false, Mode::Chunks);
        peak = peak.max(s.held_bytes());
        n = i + 1;
        if s.is_closed() {
            break;
        }
    }
    report("partial HEADERS on many streams", n as usize, peak);
    assert_excessive(
        &s,
        "Too many streams with partial frames or blocked field sections",
    );
    assert_eq!(n, 257);
    assert!(peak < 256 * 2048 + 256 * 512, "{peak}");
}

#[test]
fn a_headers_frame_completed_in_one_later_input_stops_counting_as_partial() {
    // Each request's HEADERS frame header ends one input; its whole payload is the next
    // input (taken without a copy). Finished requests must not pile up as "buffering".
    let mut s = server_with(Settings {
        max_buffering_streams: 4,
        ..Settings::default()
    });
    let control = control_stream(&[(1, 4096), (7, 16)]);
    assert!(recv(&mut s, CLIENT_CONTROL, &control, false, Mode::Chunks).is_empty());
    let payload = section(GET);
    let mut header = v(frame_type::HEADERS);
    header.extend(v(payload.len() as u64));
    for i in 0..20u64 {
        assert!(recv(&mut s, i * 4, &header, false, Mode::Chunks).is_empty());
        assert_eq!(
            s.buffering_streams(),
            1,
            "request {i}: the partial frame counts"
        );
        let events = recv(&mut s, i * 4, &payload, true, Mode::Chunks);
        assert!(
            matches!(events.first(), Some(H3Event::HeadersReceived { .. })),
            "request {i}: its HEADERS"
        );
        assert_eq!(
            s.buffering_streams(),
            0,
            "request {i}: complete, no longer counted"
        );
    }
    assert_open(&s);
}
