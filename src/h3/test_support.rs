//! Test harness: a fake QUIC transport (like aioquic's `FakeQuicConnection`) that records
//! everything the HTTP/3 layer asks of it, and helpers that deliver one connection's
//! output to another as QUIC events, one byte per event or in large chunks.

use bytes::Bytes;

use crate::error::ErrorCode;
use crate::field::HeaderField;
use crate::frame;
use crate::qpack::Encoder;
use crate::varint;

pub(crate) use crate::test_transport::{FakeTransport, Wire};

use super::{H3Connection, H3Event, QuicEvent, Settings};

/// How stream data is cut into QUIC events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// One byte per event; FIN as a separate empty event.
    Bytes,
    /// Consecutive sends on one stream merged into one event; FIN as a separate empty
    /// event.
    Chunks,
}

pub(crate) const MODES: [Mode; 2] = [Mode::Bytes, Mode::Chunks];

pub(crate) type Conn = H3Connection<FakeTransport>;

pub(crate) fn client_with(settings: Settings) -> Conn {
    H3Connection::new(FakeTransport::new(true), settings).expect("client starts")
}

pub(crate) fn server_with(settings: Settings) -> Conn {
    H3Connection::new(FakeTransport::new(false), settings).expect("server starts")
}

/// A client and a server that have exchanged their control and QPACK streams.
pub(crate) fn pair(mode: Mode) -> (Conn, Conn) {
    pair_with(Settings::default(), Settings::default(), mode)
}

pub(crate) fn pair_with(client: Settings, server: Settings, mode: Mode) -> (Conn, Conn) {
    let mut c = client_with(client);
    let mut s = server_with(server);
    assert!(transfer(&mut c, &mut s, mode).is_empty());
    assert!(transfer(&mut s, &mut c, mode).is_empty());
    (c, s)
}

/// Delivers everything `from` sent and `to` has not seen yet; returns `to`'s events.
pub(crate) fn transfer(from: &mut Conn, to: &mut Conn, mode: Mode) -> Vec<H3Event> {
    let wire = from.transport_mut().take_pending();
    deliver(to, wire, mode)
}

/// Handles `event` as an application would, appending its HTTP events to `events`, and
/// checks errors as values: an error returned is exactly the close the connection made
/// (code and reason), and no close happens without one.
pub(crate) fn handle_into(conn: &mut Conn, event: QuicEvent<'_>, events: &mut Vec<H3Event>) {
    let closes = conn.transport().closed.len();
    match conn.handle_event_into(event, events) {
        Ok(()) => assert_eq!(
            conn.transport().closed.len(),
            closes,
            "the connection closed without returning its error"
        ),
        Err(error) => {
            let made = &conn.transport().closed[closes..];
            assert_eq!(made, [(error.code.wire(), error.reason.clone())]);
            let close = conn.closed().expect("closed");
            assert_eq!(
                (close.error_code, &close.reason),
                (error.code.wire(), &error.reason)
            );
        }
    }
}

/// [`handle_into`], returning the events.
pub(crate) fn handle(conn: &mut Conn, event: QuicEvent<'_>) -> Vec<H3Event> {
    let mut events = Vec::new();
    handle_into(conn, event, &mut events);
    events
}

/// Delivers `wire` to `to` as QUIC events.
pub(crate) fn deliver(to: &mut Conn, wire: Vec<Wire>, mode: Mode) -> Vec<H3Event> {
    let mut events = Vec::new();
    let mut iter = wire.into_iter().peekable();
    while let Some(item) = iter.next() {
        match item {
            Wire::Stream {
                stream_id,
                mut data,
                mut fin,
            } => {
                if mode == Mode::Chunks {
                    while !fin {
                        match iter.peek() {
                            Some(Wire::Stream {
                                stream_id: next, ..
                            }) if *next == stream_id => {
                                let Some(Wire::Stream {
                                    data: more, fin: f, ..
                                }) = iter.next()
                                else {
                                    unreachable!()
                                };
                                data.extend_from_slice(&more);
                                fin = f;
                            }
                            _ => break,
                        }
                    }
                }
                feed(to, stream_id, &data, fin, mode, &mut events);
            }
            Wire::Reset { stream_id, code } => handle_into(
                to,
                QuicEvent::StreamReset {
                    stream_id,
                    error_code: code,
                },
                &mut events,
            ),
            Wire::StopSending { stream_id, code } => handle_into(
                to,
                QuicEvent::StopSendingReceived {
                    stream_id,
                    error_code: code,
                },
                &mut events,
            ),
            Wire::Datagram(data) => handle_into(
                to,
                QuicEvent::DatagramReceived {
                    data: (&data).into(),
                },
                &mut events,
            ),
        }
    }
    events
}

/// Feeds stream bytes (then FIN as its own empty event) to `to`.
pub(crate) fn feed(
    to: &mut Conn,
    stream_id: u64,
    data: &[u8],
    fin: bool,
    mode: Mode,
    events: &mut Vec<H3Event>,
) {
    let pieces: Vec<&[u8]> = match mode {
        Mode::Bytes => data.chunks(1).collect(),
        Mode::Chunks if data.is_empty() => Vec::new(),
        Mode::Chunks => vec![data],
    };
    for piece in pieces {
        handle_into(
            to,
            QuicEvent::StreamDataReceived {
                stream_id,
                data: piece.into(),
                end_stream: false,
            },
            events,
        );
    }
    if fin {
        handle_into(
            to,
            QuicEvent::StreamDataReceived {
                stream_id,
                data: b"".into(),
                end_stream: true,
            },
            events,
        );
    }
}

/// Feeds stream bytes and returns the events.
pub(crate) fn recv(
    to: &mut Conn,
    stream_id: u64,
    data: &[u8],
    fin: bool,
    mode: Mode,
) -> Vec<H3Event> {
    let mut events = Vec::new();
    feed(to, stream_id, data, fin, mode, &mut events);
    events
}

/// Merges consecutive DATA events of one stream (and consecutive WebTransport data
/// events), so byte-by-byte and chunked runs compare.
pub(crate) fn normalise(events: Vec<H3Event>) -> Vec<H3Event> {
    let mut out: Vec<H3Event> = Vec::new();
    for event in events {
        match (out.last_mut(), event) {
            (
                Some(H3Event::DataReceived {
                    stream_id: last_id,
                    data: last_data,
                    stream_ended: last_ended,
                    push_id: last_push,
                }),
                H3Event::DataReceived {
                    stream_id,
                    data,
                    stream_ended,
                    push_id,
                },
            ) if *last_id == stream_id && *last_push == push_id && !*last_ended => {
                *last_data = join(last_data, &data);
                *last_ended = stream_ended;
            }
            (
                Some(H3Event::WebTransportStreamDataReceived {
                    stream_id: last_id,
                    data: last_data,
                    stream_ended: last_ended,
                    ..
                }),
                H3Event::WebTransportStreamDataReceived {
                    stream_id,
                    data,
                    stream_ended,
                    ..
                },
            ) if *last_id == stream_id && !*last_ended => {
                *last_data = join(last_data, &data);
                *last_ended = stream_ended;
            }
            (_, event) => out.push(event),
        }
    }
    out
}

fn join(a: &Bytes, b: &Bytes) -> Bytes {
    let mut merged = a.to_vec();
    merged.extend_from_slice(b);
    Bytes::from(merged)
}

/// Asserts the connection closed exactly once with `code` and `reason`.
#[track_caller]
pub(crate) fn assert_closed(conn: &Conn, code: ErrorCode, reason: &str) {
    assert_eq!(
        conn.transport().closed,
        vec![(code.wire(), reason.to_string())],
        "expected close({code}, {reason:?})"
    );
    assert!(conn.is_closed());
}

#[track_caller]
pub(crate) fn assert_open(conn: &Conn) {
    assert_eq!(
        conn.transport().closed,
        vec![],
        "connection closed unexpectedly"
    );
    assert!(!conn.is_closed());
}

pub(crate) fn fields(pairs: &[(&str, &str)]) -> Vec<HeaderField> {
    pairs.iter().map(|(n, v)| HeaderField::new(n, v)).collect()
}

pub(crate) fn pairs<'a>(list: &'a [(&'a str, &'a str)]) -> Vec<(&'a [u8], &'a [u8])> {
    list.iter()
        .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
        .collect()
}

pub(crate) const GET: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "https"),
    (":authority", "localhost"),
    (":path", "/"),
];

pub(crate) const OK: &[(&str, &str)] = &[(":status", "200")];

/// A frame.
pub(crate) fn frame(ty: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    frame::encode_frame(ty, payload, &mut out);
    out
}

/// A varint.
pub(crate) fn v(value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    varint::encode(value, &mut out);
    out
}

/// A field section encoded with the static table and literals only (never blocks).
pub(crate) fn section(list: &[(&str, &str)]) -> Vec<u8> {
    let mut encoder = Encoder::new();
    let (mut enc, mut sec) = (Vec::new(), Vec::new());
    encoder.encode(0, &pairs(list), &mut enc, &mut sec);
    assert!(enc.is_empty());
    sec
}

/// A HEADERS frame carrying `list`.
pub(crate) fn headers_frame(list: &[(&str, &str)]) -> Vec<u8> {
    frame(frame::frame_type::HEADERS, &section(list))
}

/// The bytes of a peer's control stream: type 0x00 then SETTINGS.
pub(crate) fn control_stream(settings: &[(u64, u64)]) -> Vec<u8> {
    let mut payload = Vec::new();
    for (id, value) in settings {
        varint::encode(*id, &mut payload);
        varint::encode(*value, &mut payload);
    }
    let mut out = v(0);
    out.extend(frame(frame::frame_type::SETTINGS, &payload));
    out
}

/// Concatenates byte strings.
pub(crate) fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}
