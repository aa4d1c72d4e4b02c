//! Fuzz target bodies, shared by the cargo-fuzz crate (`fuzz/fuzz_targets/*.rs`) and the
//! stable corpus replay test (`tests/fuzz_corpus_replay.rs`): one copy of each target.
//!
//! Not part of the API (hidden from the docs, no stability promise). Each function takes
//! arbitrary bytes and panics only when it finds a bug: a panic inside the library, or a
//! broken invariant checked here (a transport closed twice, events after a close, a
//! round trip that changes a header list). Inputs are read as small op sequences by
//! `Input`; running out of bytes ends the op sequence.
//!
//! The C API target (`ffi_calls`) lives in `ffi::fuzz`, the only module allowed `unsafe`,
//! and is re-exported here as a safe function.

use crate::field::HeaderField;
use crate::frame::{self, FrameHeader, FrameHeaderReader, VarintReader};
use crate::h3::{H3Connection, H3Event, Priority, QuicEvent, Settings};
use crate::qpack::{Decoded, Decoder, Encoder};
use crate::test_transport::FakeTransport;

pub use crate::ffi::fuzz::ffi_calls;
pub use qlog_tap::qlog_tap;
pub use quic_streams::quic_streams;

mod qlog_tap;
mod quic_streams;

/// The names of every target, as used for `fuzz/corpus/<name>/`.
pub const TARGETS: &[&str] = &[
    "qpack_decode",
    "qpack_encoder_decoder_stream",
    "frame_parser",
    "h3_connection_client",
    "h3_connection_server",
    "ffi_calls",
    "qpack_roundtrip",
    "quic_streams",
    "qlog_tap",
];

/// Runs the target called `name` on `data`; false for an unknown name.
pub fn run(name: &str, data: &[u8]) -> bool {
    match name {
        "qpack_decode" => qpack_decode(data),
        "qpack_encoder_decoder_stream" => qpack_encoder_decoder_stream(data),
        "frame_parser" => frame_parser(data),
        "h3_connection_client" => h3_connection(data, true),
        "h3_connection_server" => h3_connection(data, false),
        "ffi_calls" => ffi_calls(data),
        "qpack_roundtrip" => qpack_roundtrip(data),
        "quic_streams" => quic_streams(data),
        "qlog_tap" => qlog_tap(data),
        _ => return false,
    }
    true
}

/// A cursor over fuzz input. Reads past the end give zeros and empty slices.
pub struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Input { data, pos: 0 }
    }

    /// True when every byte was read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// The next byte, or 0.
    pub fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    /// The next two bytes, big-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from(self.byte()) << 8 | u16::from(self.byte())
    }

    /// The next `n` bytes (fewer at the end).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let start = self.pos.min(self.data.len());
        let end = start.saturating_add(n).min(self.data.len());
        self.pos = end;
        &self.data[start..end]
    }

    /// A length byte, then that many bytes.
    pub fn chunk(&mut self) -> &'a [u8] {
        let n = self.byte() as usize;
        self.bytes(n)
    }

    /// A 16-bit length, then that many bytes.
    pub fn long_chunk(&mut self) -> &'a [u8] {
        let n = self.u16() as usize;
        self.bytes(n)
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        let n = self.data.len().saturating_sub(self.pos);
        self.bytes(n)
    }
}

/// A small header list read from the input: a count, then (name, value) chunks. Names
/// come from a short list of realistic ones or are arbitrary bytes.
/// An owned header list.
type List = Vec<(Vec<u8>, Vec<u8>)>;

fn header_list(input: &mut Input<'_>) -> List {
    const NAMES: &[&[u8]] = &[
        b":method",
        b":path",
        b":authority",
        b":scheme",
        b":status",
        b"content-type",
        b"user-agent",
        b"cookie",
        b"x-custom",
        b"set-cookie",
        b"authorization",
    ];
    let count = input.byte() % 12;
    (0..count)
        .map(|_| {
            let pick = input.byte();
            let name = if (pick as usize) < NAMES.len() * 16 {
                NAMES[pick as usize % NAMES.len()].to_vec()
            } else {
                input.chunk().to_vec()
            };
            let value = input.chunk().to_vec();
            (name, value)
        })
        .collect()
}

fn as_refs(list: &[(Vec<u8>, Vec<u8>)]) -> Vec<(&[u8], &[u8])> {
    list.iter()
        .map(|(n, v)| (n.as_slice(), v.as_slice()))
        .collect()
}

/// A dynamic table capacity from the low three bits of a byte.
pub fn capacity_from(byte: u8) -> u64 {
    [0u64, 64, 100, 220, 256, 512, 1024, 4096][usize::from(byte & 7)]
}

/// A blocked-streams limit from bits 3..6 of a byte.
pub fn blocked_from(byte: u8) -> u64 {
    [0u64, 1, 2, 3, 8, 16, 100, 1000][usize::from(byte >> 3 & 7)]
}

/// QPACK decoder: field sections and encoder-stream input in any order.
///
/// Input: one settings byte (table capacity, blocked-stream limit, field section size
/// limit), then ops: `0` encoder-stream chunk, `1` field section for a stream, `2`
/// cancel a stream, `3` take decoder-stream output, `4` set the table capacity directly.
pub fn qpack_decode(data: &[u8]) {
    let mut input = Input::new(data);
    let setup = input.byte();
    let capacity = capacity_from(setup);
    let mut decoder = Decoder::new(capacity, blocked_from(setup));
    if setup & 0x40 != 0 {
        decoder.set_max_field_section_size(u64::from(input.u16()));
    }
    if setup & 0x80 != 0 {
        let _ = decoder.set_dynamic_table_capacity(capacity);
    }
    let mut out = Vec::new();
    while !input.is_empty() {
        match input.byte() % 5 {
            0 => match decoder.feed_encoder(input.long_chunk()) {
                Ok(unblocked) => {
                    for stream_id in unblocked {
                        // Only a section decoder reported ready may resume; any error is
                        // the peer's fault, never a panic.
                        let _ = decoder.resume(stream_id);
                    }
                }
                Err(_) => return, // an encoder-stream error ends the connection
            },
            1 => {
                let stream_id = u64::from(input.byte() % 16) * 4;
                match decoder.decode(stream_id, input.long_chunk()) {
                    Ok(Decoded::Headers(_)) | Err(_) => {}
                    Ok(Decoded::Blocked) => {
                        assert!(decoder.blocked_streams() > 0, "blocked but not counted");
                    }
                }
            }
            2 => decoder.cancel_stream(u64::from(input.byte() % 16) * 4),
            3 => {
                out.clear();
                decoder.take_decoder_stream_data(&mut out);
            }
            _ => {
                let _ = decoder.set_dynamic_table_capacity(capacity_from(input.byte()));
            }
        }
    }
}

/// QPACK encoder fed arbitrary decoder-stream input after (and between) encoding sections.
///
/// Input: one settings byte, then ops: `0` encode a header list, `1` decoder-stream
/// chunk, `2` stream cancelled, `3` acknowledge a section, `4` acknowledge inserts.
/// Every section the encoder produces must decode (with the encoder stream delivered
/// first) to exactly the list it was given.
pub fn qpack_encoder_decoder_stream(data: &[u8]) {
    let mut input = Input::new(data);
    let setup = input.byte();
    let capacity = capacity_from(setup);
    let blocked = blocked_from(setup);
    let mut encoder = Encoder::new();
    let mut decoder = Decoder::new(capacity, blocked.max(1) * 4);
    let mut encoder_stream = Vec::new();
    encoder.apply_settings(capacity, blocked, &mut encoder_stream);
    let mut decoder_ok = decoder.feed_encoder(&encoder_stream).is_ok();
    let mut section = Vec::new();
    while !input.is_empty() {
        match input.byte() % 5 {
            0 => {
                let stream_id = u64::from(input.byte() % 16) * 4;
                let list = header_list(&mut input);
                encoder_stream.clear();
                section.clear();
                encoder.encode(
                    stream_id,
                    &as_refs(&list),
                    &mut encoder_stream,
                    &mut section,
                );
                // Once garbage reached the encoder, the decoder's view of the table may
                // legitimately differ (the peer lied); only check while it is honest.
                if decoder_ok {
                    decoder
                        .feed_encoder(&encoder_stream)
                        .expect("our encoder stream must decode");
                    match decoder.decode(stream_id + 1_000_000, &section) {
                        Ok(Decoded::Headers(fields)) => check_same(&list, &fields),
                        other => panic!("our section did not decode: {other:?}"),
                    }
                    let mut back = Vec::new();
                    decoder.take_decoder_stream_data(&mut back);
                }
            }
            1 => {
                decoder_ok = false;
                if encoder.feed_decoder(input.long_chunk()).is_err() {
                    return; // a decoder-stream error ends the connection
                }
            }
            2 => encoder.stream_cancelled(u64::from(input.byte() % 16) * 4),
            3 => {
                decoder_ok = false;
                let _ = encoder.acknowledge_section(u64::from(input.byte() % 16) * 4);
            }
            _ => {
                decoder_ok = false;
                encoder.acknowledge_inserts();
            }
        }
    }
}

fn check_same(list: &[(Vec<u8>, Vec<u8>)], fields: &[HeaderField]) {
    assert_eq!(list.len(), fields.len(), "field count changed");
    for ((name, value), field) in list.iter().zip(fields) {
        assert_eq!(name.as_slice(), &field.name[..], "name changed");
        assert_eq!(value.as_slice(), &field.value[..], "value changed");
    }
}

/// Incremental frame-header, varint and whole-payload (SETTINGS, MAX_PUSH_ID, GOAWAY,
/// CANCEL_PUSH, ORIGIN, PRIORITY_UPDATE, and the Priority Field Value it carries) parsing
/// at arbitrary splits: reading
/// the input in pieces must give exactly what reading it whole gives.
///
/// Input: a split count, that many split offsets, then the bytes to parse.
pub fn frame_parser(data: &[u8]) {
    let mut input = Input::new(data);
    let splits = input.byte() % 16;
    let mut cuts: Vec<usize> = (0..splits).map(|_| usize::from(input.u16())).collect();
    let body = input.rest();
    cuts.iter_mut().for_each(|c| *c %= body.len() + 1);
    cuts.sort_unstable();
    cuts.dedup();

    let whole = read_frames(&[body]);
    let mut pieces = Vec::new();
    let mut start = 0;
    for &cut in &cuts {
        pieces.push(&body[start..cut]);
        start = cut;
    }
    pieces.push(&body[start..]);
    assert_eq!(whole, read_frames(&pieces), "split changed the frames");

    // Whole-payload parsers on the raw bytes (read_frames runs them on every payload).
    for ty in WHOLE_FRAME_TYPES {
        let _ = parse_whole(ty, body);
    }
    let mut pos = 0;
    let mut varints = VarintReader::default();
    while pos < body.len() {
        if varints.read(body, &mut pos).is_none() {
            break;
        }
    }
}

/// Frame headers read across `pieces`, skipping payloads; the last entry records a
/// partial header at the end. SETTINGS payloads are parsed.
/// The control-stream frames whose payload is parsed whole.
const WHOLE_FRAME_TYPES: [u64; 7] = [
    frame::frame_type::SETTINGS,
    frame::frame_type::MAX_PUSH_ID,
    frame::frame_type::GOAWAY,
    frame::frame_type::CANCEL_PUSH,
    frame::frame_type::ORIGIN,
    frame::frame_type::PRIORITY_UPDATE_REQUEST,
    frame::frame_type::PRIORITY_UPDATE_PUSH,
];

/// Parses a whole payload of one of [`WHOLE_FRAME_TYPES`]: whether it is valid.
fn parse_whole(ty: u64, payload: &[u8]) -> bool {
    use frame::frame_type as T;
    match ty {
        T::SETTINGS => frame::parse_settings(payload, u64::MAX).is_ok(),
        T::MAX_PUSH_ID => frame::parse_max_push_id(payload).is_ok(),
        T::GOAWAY => frame::parse_id_frame("GOAWAY", payload).is_ok(),
        T::CANCEL_PUSH => frame::parse_id_frame("CANCEL_PUSH", payload).is_ok(),
        T::ORIGIN => frame::parse_origin(payload).is_ok(),
        _ => match frame::parse_priority_update(payload) {
            Ok((_, value)) => {
                // Never an error, always a valid priority, and what it writes reads back.
                let priority = Priority::parse(value);
                assert!(priority.is_valid());
                let text = priority.to_field_value();
                assert_eq!(Priority::parse(text.as_bytes()), priority, "{text:?}");
                true
            }
            Err(_) => false,
        },
    }
}

fn read_frames(pieces: &[&[u8]]) -> Vec<(FrameHeader, Option<bool>)> {
    let mut frames: Vec<(FrameHeader, Option<bool>)> = Vec::new();
    let mut reader = FrameHeaderReader::default();
    let mut skip: u64 = 0;
    let mut whole: Option<(u64, u64, Vec<u8>)> = None;
    for piece in pieces {
        let mut pos = 0;
        while pos < piece.len() {
            if let Some((ty, len, buf)) = whole.as_mut() {
                let n = ((*len as usize) - buf.len()).min(piece.len() - pos);
                buf.extend_from_slice(&piece[pos..pos + n]);
                pos += n;
                if buf.len() as u64 == *len {
                    let ok = parse_whole(*ty, buf);
                    if let Some(last) = frames.last_mut() {
                        last.1 = Some(ok);
                    }
                    whole = None;
                }
                continue;
            }
            if skip > 0 {
                let n = skip.min((piece.len() - pos) as u64);
                skip -= n;
                pos += n as usize;
                continue;
            }
            let Some(header) = reader.read(piece, &mut pos) else {
                break;
            };
            frames.push((header, None));
            if WHOLE_FRAME_TYPES.contains(&header.ty) && header.len <= 4096 {
                if header.len == 0 {
                    frames.last_mut().expect("pushed").1 = Some(parse_whole(header.ty, &[]));
                } else {
                    whole = Some((header.ty, header.len, Vec::new()));
                }
            } else {
                skip = header.len;
            }
        }
    }
    if reader.is_partial() {
        frames.push((
            FrameHeader {
                ty: u64::MAX,
                len: 0,
            },
            None,
        ));
    }
    frames
}

/// Settings picked by one input byte: the defaults, or small limits that make the
/// limit paths reachable.
pub fn fuzz_settings(byte: u8) -> Settings {
    let mut s = Settings::default();
    if byte & 1 != 0 {
        s.qpack_max_table_capacity = 0;
        s.qpack_blocked_streams = 0;
    }
    if byte & 2 != 0 {
        s.max_field_section_size = 1024;
    }
    if byte & 4 != 0 {
        s.enable_webtransport = true;
    }
    if byte & 8 != 0 {
        s.max_buffered_frame_size = 512;
        s.max_blocked_stream_bytes = 512;
    }
    if byte & 16 != 0 {
        s.max_cheap_frames = 16;
        s.max_excess_resets = 4;
        s.max_unreferenced_insert_bytes = 1024;
        s.max_buffering_streams = 4;
    }
    s
}

/// The stream ids the connection targets pick from: request streams of both sides, the
/// peer's and our unidirectional streams.
fn pick_stream(byte: u8) -> u64 {
    let class = u64::from(byte & 3);
    let index = u64::from(byte >> 2);
    index * 4 + class
}

/// A whole [`H3Connection`] fed an arbitrary sequence of QUIC events and application
/// calls over a counting [`FakeTransport`] (it keeps nothing of what is sent). Checks: no
/// panic, the transport closed at most once and never used after that, a returned error
/// exactly when the transport was closed and with the close's code, no events after the
/// close, closed iff `is_closed`, and no stream state kept after the close.
///
/// Lifecycle checks: `ConnectionClosed` is reported at most once, only for a terminated
/// QUIC connection, and is the only event after a close; a stream's reset and its
/// STOP_SENDING are each reported at most once; a GOAWAY's id never grows.
///
/// Input: a settings byte, an optional peer start-up (control stream with SETTINGS,
/// encoder and decoder streams), then ops: stream data (stream, length, bytes, fin),
/// reset, stop-sending, datagram, handshake/termination events, and the application's
/// send_headers / send_data / send_push_promise / send_datagram calls, shutdown (notice
/// or final), reset_stream / stop_sending, cancel_push, send_origin, set_priority and
/// send_priority_update, and PRIORITY_UPDATE frames on the peer's control stream.
pub fn h3_connection(data: &[u8], is_client: bool) {
    let mut input = Input::new(data);
    let setup = input.byte();
    let transport = FakeTransport::counting(is_client);
    let Ok(mut conn) = H3Connection::new(transport, fuzz_settings(setup)) else {
        panic!("start-up over a working transport failed");
    };
    let peer_uni = |n: u64| if is_client { 3 + 4 * n } else { 2 + 4 * n };
    if setup & 0x80 != 0 {
        // A well-behaved peer's start-up, so that inputs reach deeper states quickly.
        let mut control = vec![0x00];
        frame::encode_settings_frame(&Settings::default().to_wire(), &mut control);
        let start_up = conn.handle_event(QuicEvent::StreamDataReceived {
            stream_id: peer_uni(0),
            data: (&control).into(),
            end_stream: false,
        });
        assert_eq!(start_up, Ok(Vec::new()), "the peer's control stream");
        for (n, ty) in [(1, 0x02u8), (2, 0x03)] {
            let start_up = conn.handle_event(QuicEvent::StreamDataReceived {
                stream_id: peer_uni(n),
                data: (&[ty]).into(),
                end_stream: false,
            });
            assert_eq!(start_up, Ok(Vec::new()), "the peer's QPACK streams");
        }
    }
    let mut events = Vec::new();
    let mut terminated = false;
    let mut close_reports = 0;
    let mut resets_reported = std::collections::HashSet::new();
    // A rejected 0-RTT attempt in this step (see op 8).
    let mut rejected_early = false;
    let mut stops_reported = std::collections::HashSet::new();
    let mut goaway_sent: Option<u64> = None;
    let get = [
        (b":method".as_slice(), b"GET".as_slice()),
        (b":scheme", b"https"),
        (b":authority", b"a"),
        (b":path", b"/"),
    ];
    let ok = [(b":status".as_slice(), b"200".as_slice())];
    while !input.is_empty() {
        let op = input.byte();
        let was_closed = conn.is_closed();
        let closes_before = conn.transport().closes();
        events.clear();
        let handled = match op % 16 {
            0..=4 => {
                let stream_id = pick_stream(input.byte());
                let data = input.long_chunk();
                conn.handle_event_into(
                    QuicEvent::StreamDataReceived {
                        stream_id,
                        data: data.into(),
                        end_stream: op & 0x80 != 0,
                    },
                    &mut events,
                )
            }
            5 => conn.handle_event_into(
                QuicEvent::StreamReset {
                    stream_id: pick_stream(input.byte()),
                    error_code: u64::from(input.byte()),
                },
                &mut events,
            ),
            6 => conn.handle_event_into(
                QuicEvent::StopSendingReceived {
                    stream_id: pick_stream(input.byte()),
                    error_code: 0,
                },
                &mut events,
            ),
            7 => conn.handle_event_into(
                QuicEvent::DatagramReceived {
                    data: input.chunk().into(),
                },
                &mut events,
            ),
            8 => {
                let event = if op & 0x80 != 0 {
                    QuicEvent::HandshakeCompleted { alpn: Some(b"h3") }
                } else if op & 0x40 != 0 {
                    // A rejected 0-RTT attempt, at any point (a client undoes its streams,
                    // whose ids are then used again; a server, or a client past the peer's
                    // SETTINGS, ignores it).
                    rejected_early |= is_client && conn.received_settings().is_none();
                    QuicEvent::EarlyDataRejected
                } else {
                    terminated = true;
                    QuicEvent::ConnectionTerminated {
                        error_code: 0,
                        reason: b"",
                        error_space: crate::h3::ErrorSpace::NoCode,
                        by_peer: false,
                    }
                };
                conn.handle_event_into(event, &mut events)
            }
            9 => {
                let stream_id = pick_stream(input.byte());
                let headers: &[(&[u8], &[u8])] = if is_client { &get } else { &ok };
                let _ = conn.send_headers(stream_id, headers, op & 0x80 != 0);
                Ok(())
            }
            10 => {
                let stream_id = pick_stream(input.byte());
                let _ = conn.send_data(stream_id, input.chunk(), op & 0x80 != 0);
                Ok(())
            }
            11 => {
                let stream_id = pick_stream(input.byte());
                if op & 0x80 != 0 {
                    let _ = conn.send_push_promise(stream_id, &get);
                } else {
                    let _ = conn.send_datagram(stream_id, input.chunk());
                }
                Ok(())
            }
            12 => {
                let sent = if op & 0x80 != 0 {
                    conn.shutdown_notice()
                } else {
                    conn.shutdown()
                };
                if let Ok(id) = sent {
                    assert!(
                        goaway_sent.is_none_or(|earlier| id <= earlier),
                        "GOAWAY grew"
                    );
                    goaway_sent = Some(id);
                }
                Ok(())
            }
            13 => {
                let stream_id = pick_stream(input.byte());
                let code = u64::from(input.byte()) + 0x100;
                let _ = if op & 0x80 != 0 {
                    conn.reset_stream(stream_id, code)
                } else {
                    conn.stop_sending(stream_id, code)
                };
                Ok(())
            }
            14 if op & 0x40 != 0 => {
                // Priorities: the application's calls, or a PRIORITY_UPDATE from the peer
                // on its control stream (started by the set-up, or by earlier input).
                let stream_id = pick_stream(input.byte());
                let byte = input.byte();
                let priority = Priority {
                    urgency: byte % 9, // 8 must be refused
                    incremental: byte & 0x80 != 0,
                };
                if op & 0x80 != 0 {
                    let _ = conn.set_priority(stream_id, priority);
                    let _ = conn.send_priority_update(stream_id, priority);
                    Ok(())
                } else {
                    let ty = if byte & 0x40 != 0 {
                        frame::frame_type::PRIORITY_UPDATE_PUSH
                    } else {
                        frame::frame_type::PRIORITY_UPDATE_REQUEST
                    };
                    let mut update = Vec::new();
                    frame::encode_priority_update(ty, stream_id, input.chunk(), &mut update);
                    conn.handle_event_into(
                        QuicEvent::StreamDataReceived {
                            stream_id: peer_uni(0),
                            data: (&update).into(),
                            end_stream: false,
                        },
                        &mut events,
                    )
                }
            }
            14 => {
                let _ = conn.cancel_push(u64::from(input.byte() % 16));
                Ok(())
            }
            _ => {
                let origin = input.chunk();
                let _ = conn.send_origin(&[origin, b"https://example.com"]);
                Ok(())
            }
        };
        let t = conn.transport();
        assert!(t.closes() <= 1, "transport closed {} times", t.closes());
        assert_eq!(t.calls_after_close, 0, "transport used after close");
        // Errors are values: a call returns an error exactly when it closed the transport,
        // and the error is the close's code.
        let closed_now = t.closes() > closes_before;
        match &handled {
            Err(error) => {
                assert!(closed_now, "an error returned without a close: {error}");
                assert_eq!(t.close_code(), Some(error.code.wire()), "returned {error}");
            }
            Ok(()) => assert!(!closed_now, "closed without returning the error"),
        }
        // Closed by our own close (a protocol error), or quietly by a terminated QUIC
        // connection.
        assert_eq!(
            conn.is_closed(),
            t.closes() == 1 || terminated,
            "is_closed disagrees"
        );
        for event in &events {
            match event {
                H3Event::ConnectionClosed(_) => {
                    close_reports += 1;
                    assert!(
                        matches!(op % 16, 8) && terminated,
                        "closed report without a termination"
                    );
                }
                H3Event::StreamReset { stream_id, .. } => {
                    assert!(
                        resets_reported.insert(*stream_id),
                        "reset {stream_id} reported twice"
                    );
                }
                H3Event::StopSending { stream_id, .. } => {
                    assert!(
                        stops_reported.insert(*stream_id),
                        "STOP_SENDING {stream_id} reported twice"
                    );
                }
                H3Event::PriorityUpdate { priority, .. } => {
                    assert!(!is_client, "a client reported a PRIORITY_UPDATE");
                    assert!(priority.is_valid(), "urgency {}", priority.urgency);
                }
                _ => {}
            }
        }
        if std::mem::take(&mut rejected_early) {
            // The client's streams were forgotten and their ids are used again: a new
            // request on one may be reset (or stopped) and reported anew.
            let ours = |id: &u64| id % 4 == 0;
            resets_reported.retain(|id| !ours(id));
            stops_reported.retain(|id| !ours(id));
        }
        assert!(
            close_reports <= 1,
            "the close reported {close_reports} times"
        );
        if was_closed || conn.is_closed() {
            assert!(
                events
                    .iter()
                    .all(|e| matches!(e, H3Event::ConnectionClosed(_))),
                "events after (or with) the close"
            );
        }
        if conn.is_closed() {
            assert_eq!(conn.tracked_streams(), 0, "state kept after close");
        }
    }
}

/// Differential QPACK round trip: header lists encoded by our encoder, at arbitrary
/// settings and with arbitrary delivery order (section before or after the encoder
/// stream) and acknowledgements, decode back exactly with our decoder.
///
/// Input: a settings byte, then per section: a control byte and a header list, or, with
/// bit 2 of the control byte, the previous section's list again. Exact repeats of long
/// values are what the encoder inserts, references, duplicates and evicts, and the
/// fuzzer seldom finds them byte by byte.
pub fn qpack_roundtrip(data: &[u8]) {
    let mut input = Input::new(data);
    let setup = input.byte();
    let capacity = capacity_from(setup);
    let blocked = blocked_from(setup);
    let mut encoder = Encoder::new();
    let mut decoder = Decoder::new(capacity, blocked);
    let mut encoder_stream = Vec::new();
    encoder.apply_settings(capacity, blocked, &mut encoder_stream);
    decoder
        .feed_encoder(&encoder_stream)
        .expect("capacity instruction decodes");
    let mut pending: Vec<(u64, List)> = Vec::new();
    let mut next_stream = 0u64;
    let mut back = Vec::new();
    let mut previous: List = Vec::new();
    while !input.is_empty() {
        let control = input.byte();
        let list = if control & 4 != 0 && !previous.is_empty() {
            previous.clone()
        } else {
            header_list(&mut input)
        };
        previous.clone_from(&list);
        let stream_id = next_stream;
        next_stream += 4;
        encoder_stream.clear();
        let mut section = Vec::new();
        encoder.encode(
            stream_id,
            &as_refs(&list),
            &mut encoder_stream,
            &mut section,
        );
        let section_first = control & 1 != 0;
        if section_first {
            match decoder.decode(stream_id, &section) {
                Ok(Decoded::Headers(fields)) => check_same(&list, &fields),
                Ok(Decoded::Blocked) => pending.push((stream_id, list.clone())),
                Err(e) => panic!("our section was refused: {e}"),
            }
        }
        for stream in decoder
            .feed_encoder(&encoder_stream)
            .expect("our encoder stream decodes")
        {
            let i = pending
                .iter()
                .position(|(s, _)| *s == stream)
                .expect("only blocked streams unblock");
            let (_, expected) = pending.remove(i);
            let fields = decoder.resume(stream).expect("unblocked section decodes");
            check_same(&expected, &fields);
        }
        if !section_first {
            match decoder.decode(stream_id, &section) {
                Ok(Decoded::Headers(fields)) => check_same(&list, &fields),
                other => panic!("section after its inserts did not decode: {other:?}"),
            }
        }
        if control & 2 == 0 {
            back.clear();
            decoder.take_decoder_stream_data(&mut back);
            encoder
                .feed_decoder(&back)
                .expect("our decoder stream decodes");
        }
    }
    assert!(
        pending.is_empty(),
        "a section stayed blocked after its inserts"
    );
}
