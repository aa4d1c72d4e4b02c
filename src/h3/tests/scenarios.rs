//! Whole exchanges between a client and a server, run byte by byte and in large chunks:
//! the events must be the same apart from DATA chunking.

use bytes::Bytes;

use crate::h3::test_support::*;
use crate::h3::{H3Error, H3Event, Settings};

fn hdr(stream_id: u64, list: &[(&str, &str)], ended: bool, push_id: Option<u64>) -> H3Event {
    H3Event::HeadersReceived {
        stream_id,
        headers: fields(list),
        stream_ended: ended,
        push_id,
    }
}

fn data(stream_id: u64, bytes: &[u8], ended: bool, push_id: Option<u64>) -> H3Event {
    H3Event::DataReceived {
        stream_id,
        data: Bytes::copy_from_slice(bytes),
        stream_ended: ended,
        push_id,
    }
}

/// Runs `scenario` in both modes and checks both give `expected` once DATA is merged.
fn both_modes(scenario: fn(Mode) -> Vec<H3Event>, expected: Vec<H3Event>) {
    let bytes = scenario(Mode::Bytes);
    let chunks = scenario(Mode::Chunks);
    assert!(bytes.len() >= chunks.len());
    assert_eq!(normalise(bytes), expected, "byte by byte");
    assert_eq!(normalise(chunks), expected, "chunks");
}

const BODY: &[u8] = b"<html><body>hello</body></html>";

fn request_response(mode: Mode) -> Vec<H3Event> {
    let (mut c, mut s) = pair(mode);
    let req = [
        (":method", "POST"),
        (":scheme", "https"),
        (":authority", "localhost"),
        (":path", "/"),
        ("x-foo", "client"),
    ];
    c.send_headers(0, &pairs(&req), false).unwrap();
    c.send_data(0, b"request body", true).unwrap();
    let mut events = transfer(&mut c, &mut s, mode);
    s.send_headers(
        0,
        &pairs(&[(":status", "200"), ("content-length", "31")]),
        false,
    )
    .unwrap();
    s.send_data(0, &BODY[..10], false).unwrap();
    s.send_data(0, &BODY[10..], true).unwrap();
    events.extend(transfer(&mut s, &mut c, mode));
    assert_open(&c);
    assert_open(&s);
    assert_eq!((c.tracked_streams(), s.tracked_streams()), (3, 3));
    events
}

#[test]
fn scenario_request_response() {
    both_modes(
        request_response,
        vec![
            hdr(
                0,
                &[
                    (":method", "POST"),
                    (":scheme", "https"),
                    (":authority", "localhost"),
                    (":path", "/"),
                    ("x-foo", "client"),
                ],
                false,
                None,
            ),
            data(0, b"request body", true, None),
            hdr(
                0,
                &[(":status", "200"), ("content-length", "31")],
                false,
                None,
            ),
            data(0, BODY, true, None),
        ],
    );
}

fn trailers(mode: Mode) -> Vec<H3Event> {
    let (mut c, mut s) = pair(mode);
    c.send_headers(0, &pairs(GET), true).unwrap();
    let mut events = transfer(&mut c, &mut s, mode);
    s.send_headers(0, &pairs(OK), false).unwrap();
    s.send_data(0, b"abc", false).unwrap();
    s.send_headers(0, &pairs(&[("x-checksum", "42")]), true)
        .unwrap();
    events.extend(transfer(&mut s, &mut c, mode));
    assert_eq!((c.tracked_streams(), s.tracked_streams()), (3, 3));
    events
}

#[test]
fn scenario_trailers() {
    both_modes(
        trailers,
        vec![
            hdr(0, GET, false, None),
            data(0, b"", true, None),
            hdr(0, OK, false, None),
            data(0, b"abc", false, None),
            hdr(0, &[("x-checksum", "42")], false, None),
            data(0, b"", true, None),
        ],
    );
}

fn interim(mode: Mode) -> Vec<H3Event> {
    let (mut c, mut s) = pair(mode);
    c.send_headers(0, &pairs(GET), true).unwrap();
    transfer(&mut c, &mut s, mode);
    s.send_headers(0, &pairs(&[(":status", "100")]), false)
        .unwrap();
    s.send_headers(
        0,
        &pairs(&[(":status", "103"), ("link", "</style.css>; rel=preload")]),
        false,
    )
    .unwrap();
    s.send_headers(0, &pairs(OK), false).unwrap();
    s.send_data(0, b"done", true).unwrap();
    transfer(&mut s, &mut c, mode)
}

#[test]
fn scenario_interim_responses() {
    both_modes(
        interim,
        vec![
            hdr(0, &[(":status", "100")], false, None),
            hdr(
                0,
                &[(":status", "103"), ("link", "</style.css>; rel=preload")],
                false,
                None,
            ),
            hdr(0, OK, false, None),
            data(0, b"done", true, None),
        ],
    );
}

fn server_push(mode: Mode) -> Vec<H3Event> {
    let (mut c, mut s) = pair_with(
        Settings {
            max_push_id: 1,
            ..Settings::default()
        },
        Settings::default(),
        mode,
    );
    c.send_headers(0, &pairs(GET), true).unwrap();
    transfer(&mut c, &mut s, mode);
    let css = [
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "localhost"),
        (":path", "/a.css"),
    ];
    let js = [
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "localhost"),
        (":path", "/b.js"),
    ];
    let p0 = s.send_push_promise(0, &pairs(&css)).unwrap();
    let p1 = s.send_push_promise(0, &pairs(&js)).unwrap();
    assert_eq!(
        s.send_push_promise(0, &pairs(&js)),
        Err(H3Error::NoAvailablePushId),
        "push ids used up"
    );
    s.send_headers(0, &pairs(OK), false).unwrap();
    s.send_data(0, b"page", true).unwrap();
    s.send_headers(p0, &pairs(OK), false).unwrap();
    s.send_data(p0, b"css", true).unwrap();
    s.send_headers(p1, &pairs(OK), true).unwrap();
    let events = transfer(&mut s, &mut c, mode);
    assert_eq!((c.tracked_streams(), s.tracked_streams()), (3, 3));
    assert_open(&c);
    events
}

#[test]
fn scenario_server_push() {
    let css = [
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "localhost"),
        (":path", "/a.css"),
    ];
    let js = [
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "localhost"),
        (":path", "/b.js"),
    ];
    both_modes(
        server_push,
        vec![
            H3Event::PushPromiseReceived {
                stream_id: 0,
                push_id: 0,
                headers: fields(&css),
            },
            H3Event::PushPromiseReceived {
                stream_id: 0,
                push_id: 1,
                headers: fields(&js),
            },
            hdr(0, OK, false, None),
            data(0, b"page", true, None),
            hdr(15, OK, false, Some(0)),
            data(15, b"css", true, Some(0)),
            hdr(19, OK, false, Some(1)),
            data(19, b"", true, Some(1)),
        ],
    );
}

fn many_requests(mode: Mode) -> Vec<H3Event> {
    let (mut c, mut s) = pair(mode);
    let mut events = Vec::new();
    for i in 0..5u64 {
        c.send_headers(i * 4, &pairs(GET), true).unwrap();
    }
    events.extend(transfer(&mut c, &mut s, mode));
    for i in (0..5u64).rev() {
        s.send_headers(i * 4, &pairs(OK), false).unwrap();
        s.send_data(i * 4, &vec![b'a' + i as u8; 3000], true)
            .unwrap();
    }
    events.extend(transfer(&mut s, &mut c, mode));
    assert_eq!((c.tracked_streams(), s.tracked_streams()), (3, 3));
    events
}

#[test]
fn scenario_concurrent_requests() {
    let mut expected = Vec::new();
    for i in 0..5u64 {
        expected.push(hdr(i * 4, GET, false, None));
        expected.push(data(i * 4, b"", true, None));
    }
    for i in (0..5u64).rev() {
        expected.push(hdr(i * 4, OK, false, None));
        expected.push(data(i * 4, &vec![b'a' + i as u8; 3000], true, None));
    }
    both_modes(many_requests, expected);
}

/// Delivers `from`'s output with every bidirectional stream first and the
/// unidirectional streams (our QPACK encoder stream among them) last.
fn transfer_encoder_last(from: &mut Conn, to: &mut Conn, mode: Mode) -> Vec<H3Event> {
    let wire = from.transport_mut().take_pending();
    let (uni, bidi): (Vec<Wire>, Vec<Wire>) = wire
        .into_iter()
        .partition(|w| matches!(w, Wire::Stream { stream_id, .. } if stream_id & 2 != 0));
    let mut events = deliver(to, bidi, mode);
    events.extend(deliver(to, uni, mode));
    events
}

fn blocked_by_our_encoder(mode: Mode) -> Vec<H3Event> {
    let (mut c, mut s) = pair(mode);
    let req = [
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "example.com"),
        (":path", "/same/path"),
        ("user-agent", "h3q-test-agent/1.0"),
        ("x-custom", "a fairly long value that is worth inserting"),
    ];
    let mut events = Vec::new();
    for round in 0..3u64 {
        for i in 0..4u64 {
            c.send_headers((round * 4 + i) * 4, &pairs(&req), true)
                .unwrap();
        }
        events.extend(transfer_encoder_last(&mut c, &mut s, mode));
        // the server's decoder stream (acks, increments) back to the client's encoder
        assert!(transfer(&mut s, &mut c, mode).is_empty());
        assert_open(&c);
        assert_open(&s);
    }
    for id in (0..12u64).map(|i| i * 4) {
        s.send_headers(id, &pairs(OK), true).unwrap();
    }
    events.extend(transfer_encoder_last(&mut s, &mut c, mode));
    assert_eq!((c.tracked_streams(), s.tracked_streams()), (3, 3));
    events
}

#[test]
fn scenario_streams_blocked_by_our_own_encoder() {
    let req = [
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "example.com"),
        (":path", "/same/path"),
        ("user-agent", "h3q-test-agent/1.0"),
        ("x-custom", "a fairly long value that is worth inserting"),
    ];
    let sort = |mut e: Vec<H3Event>| {
        e.sort_by_key(|ev| format!("{ev:?}"));
        e
    };
    let mut expected = Vec::new();
    for id in (0..12u64).map(|i| i * 4) {
        expected.push(hdr(id, &req, false, None));
        expected.push(data(id, b"", true, None));
        expected.push(hdr(id, OK, false, None));
        expected.push(data(id, b"", true, None));
    }
    // A request whose FIN arrived while it was blocked ends with its HEADERS event:
    // split those into HEADERS + an empty final DATA to compare with in-order delivery.
    let split_fin = |events: Vec<H3Event>| {
        let mut out = Vec::new();
        for e in events {
            match e {
                H3Event::HeadersReceived {
                    stream_id,
                    headers,
                    stream_ended: true,
                    push_id,
                } => {
                    out.push(H3Event::HeadersReceived {
                        stream_id,
                        headers,
                        stream_ended: false,
                        push_id,
                    });
                    out.push(data(stream_id, b"", true, push_id));
                }
                e => out.push(e),
            }
        }
        out
    };
    let bytes = normalise(blocked_by_our_encoder(Mode::Bytes));
    let chunks = normalise(blocked_by_our_encoder(Mode::Chunks));
    assert_eq!(bytes, chunks, "same events, same order, in both modes");
    assert!(
        bytes.iter().any(|e| matches!(
            e,
            H3Event::HeadersReceived {
                stream_ended: true,
                ..
            }
        )),
        "some requests were blocked"
    );
    assert_eq!(sort(split_fin(bytes)), sort(expected));
}

#[test]
fn fragmented_frames_without_a_settings_exchange_first() {
    // aioquic's test_request_fragmented_frame: everything, control streams included,
    // travels byte by byte in one transfer per direction.
    let mut c = client_with(Settings::default());
    let mut s = server_with(Settings::default());
    let req = [
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "localhost"),
        (":path", "/"),
        ("x-foo", "client"),
    ];
    c.send_headers(0, &pairs(&req), false).unwrap();
    c.send_data(0, b"hello", true).unwrap();
    let mut expected = vec![hdr(0, &req, false, None)];
    for b in b"hello" {
        expected.push(data(0, &[*b], false, None));
    }
    expected.push(data(0, b"", true, None));
    assert_eq!(transfer(&mut c, &mut s, Mode::Bytes), expected);

    let app = [
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "localhost"),
        (":path", "/app.txt"),
    ];
    let push = s.send_push_promise(0, &pairs(&app)).unwrap();
    assert_eq!(push, 15);
    let html = [
        (":status", "200"),
        ("content-type", "text/html; charset=utf-8"),
    ];
    let text = [(":status", "200"), ("content-type", "text/plain")];
    s.send_headers(0, &pairs(&html), false).unwrap();
    s.send_data(0, b"html", true).unwrap();
    s.send_headers(push, &pairs(&text), false).unwrap();
    s.send_data(push, b"text", true).unwrap();
    let mut expected = vec![
        H3Event::PushPromiseReceived {
            stream_id: 0,
            push_id: 0,
            headers: fields(&app),
        },
        hdr(0, &html, false, None),
    ];
    for b in b"html" {
        expected.push(data(0, &[*b], false, None));
    }
    expected.push(data(0, b"", true, None));
    expected.push(hdr(15, &text, false, Some(0)));
    for b in b"text" {
        expected.push(data(15, &[*b], false, Some(0)));
    }
    expected.push(data(15, b"", true, Some(0)));
    assert_eq!(transfer(&mut s, &mut c, Mode::Bytes), expected);
    assert_eq!((c.tracked_streams(), s.tracked_streams()), (3, 3));
}
