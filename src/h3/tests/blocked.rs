//! QPACK blocked streams: held frames and data resume in order; resets cancel once; the
//! decoder's duties on the wire (section acks, stream cancellations); limits.

use bytes::Bytes;

use crate::error::ErrorCode;
use crate::frame::frame_type;
use crate::h3::test_support::*;
use crate::h3::{H3Event, QuicEvent, Settings};
use crate::qpack::{field_lines, instruction};
use crate::test_util::hex;

const MAX_ENTRIES: u64 = 4096 / 32;
/// The server's encoder stream, as seen by the client in a pair.
const SERVER_ENCODER: u64 = 7;
/// The client's decoder stream.
const CLIENT_DECODER: u64 = 10;

/// Encoder-stream bytes: set the capacity (first time) and insert `name: value`.
fn insert(first: bool, name: &str, value: &str) -> Vec<u8> {
    let mut out = Vec::new();
    if first {
        instruction::write_set_capacity(&mut out, 4096);
    }
    instruction::write_insert_with_literal_name(&mut out, name.as_bytes(), value.as_bytes());
    out
}

/// A field section with Required Insert Count `ric` (Base = ric): the static `statics`
/// and the dynamic entry with absolute index `ric - 1`.
fn dyn_section(ric: u64, statics: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    field_lines::write_prefix(&mut out, ric, ric, MAX_ENTRIES);
    for (name, value) in statics {
        field_lines::write_literal(&mut out, false, name.as_bytes(), value.as_bytes());
    }
    field_lines::write_indexed(&mut out, false, 0);
    out
}

fn dyn_headers(ric: u64, statics: &[(&str, &str)]) -> Vec<u8> {
    frame(frame_type::HEADERS, &dyn_section(ric, statics))
}

fn client_request(mode: Mode) -> (Conn, Conn) {
    let (mut c, s) = pair(mode);
    c.send_headers(0, &pairs(GET), true).unwrap();
    (c, s)
}

fn decoder_stream_after_type(c: &Conn) -> Vec<u8> {
    c.transport().stream_bytes(CLIENT_DECODER)[1..].to_vec()
}

fn section_ack(stream_id: u64) -> Vec<u8> {
    let mut out = Vec::new();
    instruction::write_section_ack(&mut out, stream_id);
    out
}

fn cancel(stream_id: u64) -> Vec<u8> {
    let mut out = Vec::new();
    instruction::write_stream_cancel(&mut out, stream_id);
    out
}

fn run_blocked_headers_then_data(mode: Mode) -> Vec<H3Event> {
    let (mut c, _s) = client_request(mode);
    let response = cat(&[
        &dyn_headers(1, &[(":status", "200")]),
        &frame(0, b"hello"),
        &frame(0, b" world"),
    ]);
    let mut events = recv(&mut c, 0, &response, true, mode);
    assert!(events.is_empty(), "held while blocked");
    assert_eq!(c.tracked_streams(), 4);
    events.extend(recv(
        &mut c,
        SERVER_ENCODER,
        &insert(true, "x-dyn", "v"),
        false,
        mode,
    ));
    assert_open(&c);
    assert_eq!(c.tracked_streams(), 3, "freed once delivered");
    // section ack (stream 0) on our decoder stream; the insert count is implied by it
    let decoder = decoder_stream_after_type(&c);
    assert!(
        decoder.starts_with(&section_ack(0)) || decoder.ends_with(&section_ack(0)),
        "{decoder:?}"
    );
    normalise(events)
}

#[test]
fn blocked_headers_resume_with_held_data_in_order() {
    let expected = vec![
        H3Event::HeadersReceived {
            stream_id: 0,
            headers: fields(&[(":status", "200"), ("x-dyn", "v")]),
            stream_ended: false,
            push_id: None,
        },
        H3Event::DataReceived {
            stream_id: 0,
            data: Bytes::from_static(b"hello world"),
            stream_ended: true,
            push_id: None,
        },
    ];
    for mode in MODES {
        assert_eq!(run_blocked_headers_then_data(mode), expected, "{mode:?}");
    }
}

#[test]
fn blocked_headers_with_fin_right_after() {
    for mode in MODES {
        let (mut c, _s) = client_request(mode);
        assert!(
            recv(
                &mut c,
                0,
                &dyn_headers(1, &[(":status", "204")]),
                true,
                mode
            )
            .is_empty()
        );
        let events = recv(
            &mut c,
            SERVER_ENCODER,
            &insert(true, "x-dyn", "v"),
            false,
            mode,
        );
        assert_eq!(
            events,
            vec![H3Event::HeadersReceived {
                stream_id: 0,
                headers: fields(&[(":status", "204"), ("x-dyn", "v")]),
                stream_ended: true,
                push_id: None
            }]
        );
        assert_eq!(c.tracked_streams(), 3);
    }
}

#[test]
fn blocked_trailers() {
    for mode in MODES {
        let (mut c, _s) = client_request(mode);
        let mut events = recv(
            &mut c,
            SERVER_ENCODER,
            &insert(true, "x-a", "1"),
            false,
            mode,
        );
        let body = cat(&[
            &dyn_headers(1, &[(":status", "200")]),
            &frame(0, b"data"),
            &dyn_headers(2, &[("x-t", "t")]),
        ]);
        events.extend(recv(&mut c, 0, &body, true, mode));
        // headers and data came through; trailers wait for the second insert
        assert_eq!(normalise(events.clone()).len(), 2);
        events.extend(recv(
            &mut c,
            SERVER_ENCODER,
            &insert(false, "x-b", "2"),
            false,
            mode,
        ));
        assert_eq!(
            normalise(events),
            vec![
                H3Event::HeadersReceived {
                    stream_id: 0,
                    headers: fields(&[(":status", "200"), ("x-a", "1")]),
                    stream_ended: false,
                    push_id: None
                },
                H3Event::DataReceived {
                    stream_id: 0,
                    data: Bytes::from_static(b"data"),
                    stream_ended: false,
                    push_id: None
                },
                H3Event::HeadersReceived {
                    stream_id: 0,
                    headers: fields(&[("x-t", "t"), ("x-b", "2")]),
                    stream_ended: true,
                    push_id: None
                },
            ]
        );
        assert_open(&c);
    }
}

#[test]
fn blocked_push_promise_then_data() {
    for mode in MODES {
        let (mut c, _s) = client_request(mode);
        let pp = frame(
            frame_type::PUSH_PROMISE,
            &cat(&[
                &v(2),
                &dyn_section(
                    1,
                    &[
                        (":method", "GET"),
                        (":scheme", "https"),
                        (":authority", "a"),
                        (":path", "/p"),
                    ],
                ),
            ]),
        );
        let events = recv(
            &mut c,
            0,
            &cat(&[&headers_frame(OK), &pp, &frame(0, b"after")]),
            true,
            mode,
        );
        assert_eq!(events.len(), 1, "the response head is not blocked");
        let events = recv(
            &mut c,
            SERVER_ENCODER,
            &insert(true, "x-dyn", "p"),
            false,
            mode,
        );
        assert_eq!(
            normalise(events),
            vec![
                H3Event::PushPromiseReceived {
                    stream_id: 0,
                    push_id: 2,
                    headers: fields(&[
                        (":method", "GET"),
                        (":scheme", "https"),
                        (":authority", "a"),
                        (":path", "/p"),
                        ("x-dyn", "p")
                    ]),
                },
                H3Event::DataReceived {
                    stream_id: 0,
                    data: Bytes::from_static(b"after"),
                    stream_ended: true,
                    push_id: None
                },
            ]
        );
    }
}

#[test]
fn blocked_push_promise_checks_the_push_id_first() {
    let (mut c, _s) = client_request(Mode::Chunks);
    let pp = frame(
        frame_type::PUSH_PROMISE,
        &cat(&[&v(9), &dyn_section(1, &[])]),
    );
    recv(
        &mut c,
        0,
        &cat(&[&headers_frame(OK), &pp]),
        false,
        Mode::Chunks,
    );
    assert_closed(
        &c,
        ErrorCode::IdError,
        "Push ID exceeds the maximum push ID",
    );
}

#[test]
fn reset_of_a_blocked_stream_cancels_it_exactly_once() {
    for mode in MODES {
        let (mut c, _s) = client_request(mode);
        recv(
            &mut c,
            0,
            &cat(&[&dyn_headers(1, &[(":status", "200")]), &frame(0, b"x")]),
            false,
            mode,
        );
        let before = decoder_stream_after_type(&c);
        let reset = QuicEvent::StreamReset {
            stream_id: 0,
            error_code: 0x10c,
        };
        // The application hears of the reset of its request once.
        assert_eq!(
            handle(&mut c, reset.clone()),
            vec![H3Event::StreamReset {
                stream_id: 0,
                error_code: 0x10c,
                push_id: None
            }]
        );
        assert!(handle(&mut c, reset).is_empty());
        let after = decoder_stream_after_type(&c);
        assert_eq!(&after[before.len()..], cancel(0).as_slice());
        assert_eq!(c.tracked_streams(), 3, "dropped");
        // the insert arrives later: nothing for the cancelled stream
        let events = recv(
            &mut c,
            SERVER_ENCODER,
            &insert(true, "x-dyn", "v"),
            false,
            mode,
        );
        assert!(events.is_empty());
        assert_open(&c);
    }
}

#[test]
fn server_side_blocked_request_and_reset_before_decoding() {
    for mode in MODES {
        let (_c, mut s) = pair(mode);
        // client encoder stream is 6
        recv(
            &mut s,
            0,
            &dyn_headers(
                1,
                &[
                    (":method", "GET"),
                    (":scheme", "https"),
                    (":authority", "a"),
                    (":path", "/"),
                ],
            ),
            false,
            mode,
        );
        handle(
            &mut s,
            QuicEvent::StreamReset {
                stream_id: 0,
                error_code: 0x10c,
            },
        );
        // cancellation on the server's decoder stream (11), and the request aborted
        assert!(s.transport().stream_bytes(11).ends_with(&cancel(0)));
        assert_eq!(
            s.transport().resets,
            vec![(0, ErrorCode::RequestIncomplete.wire())]
        );
        assert_eq!(s.tracked_streams(), 3);
        assert!(recv(&mut s, 6, &insert(true, "x-dyn", "v"), false, mode).is_empty());
        assert_open(&s);
    }
}

#[test]
fn too_many_blocked_streams() {
    let (mut c, _s) = pair_with(
        Settings {
            qpack_blocked_streams: 1,
            ..Settings::default()
        },
        Settings::default(),
        Mode::Chunks,
    );
    c.send_headers(0, &pairs(GET), true).unwrap();
    c.send_headers(4, &pairs(GET), true).unwrap();
    recv(
        &mut c,
        0,
        &dyn_headers(1, &[(":status", "200")]),
        false,
        Mode::Chunks,
    );
    assert_open(&c);
    recv(
        &mut c,
        4,
        &dyn_headers(1, &[(":status", "200")]),
        false,
        Mode::Chunks,
    );
    assert_closed(&c, ErrorCode::QpackDecompressionFailed, "");
}

#[test]
fn held_bytes_are_bounded() {
    let (mut c, _s) = pair_with(
        Settings {
            max_blocked_stream_bytes: 1000,
            ..Settings::default()
        },
        Settings::default(),
        Mode::Chunks,
    );
    c.send_headers(0, &pairs(GET), true).unwrap();
    recv(
        &mut c,
        0,
        &cat(&[&dyn_headers(1, &[(":status", "200")]), &v(0), &v(5000)]),
        false,
        Mode::Chunks,
    );
    assert_open(&c);
    recv(&mut c, 0, &[0; 999], false, Mode::Chunks);
    assert_eq!(c.transport().closed[0].0, ErrorCode::ExcessiveLoad.wire());
}

#[test]
fn section_ack_only_for_dynamic_sections() {
    let (mut c, _s) = client_request(Mode::Chunks);
    recv(&mut c, 0, &headers_frame(OK), false, Mode::Chunks);
    assert_eq!(
        decoder_stream_after_type(&c),
        Vec::<u8>::new(),
        "static-only: no ack"
    );
    recv(
        &mut c,
        SERVER_ENCODER,
        &insert(true, "x-dyn", "v"),
        false,
        Mode::Chunks,
    );
    c.send_headers(4, &pairs(GET), true).unwrap();
    let before = decoder_stream_after_type(&c).len();
    recv(
        &mut c,
        4,
        &dyn_headers(1, &[(":status", "200")]),
        false,
        Mode::Chunks,
    );
    assert_eq!(
        &decoder_stream_after_type(&c)[before..],
        section_ack(4).as_slice()
    );
}

#[test]
fn blocked_headers_on_a_push_stream_and_reset_while_blocked() {
    for mode in MODES {
        let (mut c, _s) = pair(mode);
        let push = cat(&[
            &v(1),
            &v(0),
            &dyn_headers(1, &[(":status", "200")]),
            &frame(0, b"p"),
        ]);
        assert!(recv(&mut c, 15, &push, true, mode).is_empty());
        let events = recv(
            &mut c,
            SERVER_ENCODER,
            &insert(true, "x-dyn", "v"),
            false,
            mode,
        );
        assert_eq!(
            normalise(events),
            vec![
                H3Event::HeadersReceived {
                    stream_id: 15,
                    headers: fields(&[(":status", "200"), ("x-dyn", "v")]),
                    stream_ended: false,
                    push_id: Some(0)
                },
                H3Event::DataReceived {
                    stream_id: 15,
                    data: Bytes::from_static(b"p"),
                    stream_ended: true,
                    push_id: Some(0)
                },
            ]
        );
        assert_eq!(c.tracked_streams(), 3);

        // a second push stream blocks on insert 2, then is reset: one cancellation
        recv(
            &mut c,
            19,
            &cat(&[&v(1), &v(1), &dyn_headers(2, &[(":status", "200")])]),
            false,
            mode,
        );
        let before = decoder_stream_after_type(&c).len();
        handle(
            &mut c,
            QuicEvent::StreamReset {
                stream_id: 19,
                error_code: 0x10c,
            },
        );
        assert_eq!(
            &decoder_stream_after_type(&c)[before..],
            cancel(19).as_slice()
        );
        assert_eq!(c.tracked_streams(), 3);
        assert!(
            recv(
                &mut c,
                SERVER_ENCODER,
                &insert(false, "x-b", "2"),
                false,
                mode
            )
            .is_empty()
        );
        assert_open(&c);
    }
}

#[test]
fn max_field_section_size_is_enforced() {
    let settings = Settings {
        max_field_section_size: 100,
        ..Settings::default()
    };
    let mut s = server_with(settings);
    assert_eq!(s.sent_setting(0x6), Some(100));
    let big = "x".repeat(200);
    let list = [
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "a"),
        (":path", big.as_str()),
    ];
    recv(&mut s, 0, &headers_frame(&list), false, Mode::Chunks);
    assert_closed(&s, ErrorCode::QpackDecompressionFailed, "");
}

#[test]
fn reset_after_fin_of_a_blocked_stream_still_cancels() {
    let (mut c, _s) = client_request(Mode::Chunks);
    recv(
        &mut c,
        0,
        &dyn_headers(1, &[(":status", "200")]),
        true,
        Mode::Chunks,
    );
    let before = decoder_stream_after_type(&c).len();
    handle(
        &mut c,
        QuicEvent::StreamReset {
            stream_id: 0,
            error_code: 0x10c,
        },
    );
    assert_eq!(
        &decoder_stream_after_type(&c)[before..],
        cancel(0).as_slice()
    );
    assert_eq!(c.tracked_streams(), 3);
}

#[test]
fn reset_of_an_unknown_or_finished_stream_sends_no_cancellation() {
    let (mut c, _s) = client_request(Mode::Chunks);
    recv(&mut c, 0, &headers_frame(OK), true, Mode::Chunks);
    assert_eq!(c.tracked_streams(), 3);
    handle(
        &mut c,
        QuicEvent::StreamReset {
            stream_id: 0,
            error_code: 0x10c,
        },
    );
    handle(
        &mut c,
        QuicEvent::StreamReset {
            stream_id: 4,
            error_code: 0x10c,
        },
    );
    assert_eq!(decoder_stream_after_type(&c), Vec::<u8>::new());
    assert_open(&c);
}

/// aioquic's test vectors (pylsqpack output): a blocked response, reset by the server.
#[test]
fn aioquic_blocked_stream_reset_vectors() {
    let mut c = client_with(Settings::default());
    c.send_headers(0, &pairs(GET), true).unwrap();
    recv(
        &mut c,
        3,
        &hex("0004170150000680020000074064091040bcc0000000faceb00c"),
        false,
        Mode::Chunks,
    );
    recv(&mut c, 7, b"\x02", false, Mode::Chunks);
    recv(&mut c, 11, b"\x03", false, Mode::Chunks);
    assert!(recv(&mut c, 0, &hex("01040280d910"), false, Mode::Chunks).is_empty());
    assert!(c.streams[&0].blocked.is_some());
    let before = decoder_stream_after_type(&c).len();
    assert_eq!(
        handle(
            &mut c,
            QuicEvent::StreamReset {
                stream_id: 0,
                error_code: 0
            }
        ),
        vec![H3Event::StreamReset {
            stream_id: 0,
            error_code: 0,
            push_id: None
        }]
    );
    assert!(!c.streams.contains_key(&0));
    assert_eq!(&decoder_stream_after_type(&c)[before..], b"\x40");
    let encoder = hex("3fe101c696d07abe941094cb6d0a08017d403971966e32ca98b46f");
    assert!(recv(&mut c, 7, &encoder, false, Mode::Chunks).is_empty());
    assert!(!c.streams.contains_key(&0));
    assert_open(&c);
}

/// aioquic's test vectors: a blocked request reset by the client is aborted.
#[test]
fn aioquic_blocked_stream_reset_by_client_vectors() {
    let mut s = server_with(Settings::default());
    recv(&mut s, 6, b"\x02", false, Mode::Chunks);
    recv(&mut s, 10, b"\x03", false, Mode::Chunks);
    recv(&mut s, 0, &hex("01040280d910"), false, Mode::Chunks);
    assert!(s.streams[&0].blocked.is_some());
    assert!(
        handle(
            &mut s,
            QuicEvent::StreamReset {
                stream_id: 0,
                error_code: 0x10c
            }
        )
        .is_empty()
    );
    assert_eq!(
        s.transport().resets,
        vec![(0, ErrorCode::RequestIncomplete.wire())]
    );
    assert!(!s.streams.contains_key(&0));
    let encoder = hex("3fe101c696d07abe941094cb6d0a08017d403971966e32ca98b46f");
    assert!(recv(&mut s, 6, &encoder, false, Mode::Chunks).is_empty());
    assert_open(&s);
    assert!(!s.streams.contains_key(&0));
}

/// aioquic's test vectors, unblocked: the decoded response arrives.
#[test]
fn aioquic_blocked_stream_vectors_unblock() {
    for mode in MODES {
        let mut c = client_with(Settings::default());
        c.send_headers(0, &pairs(GET), true).unwrap();
        recv(
            &mut c,
            3,
            &hex("0004170150000680020000074064091040bcc0000000faceb00c"),
            false,
            mode,
        );
        recv(&mut c, 7, b"\x02", false, mode);
        recv(&mut c, 11, b"\x03", false, mode);
        assert!(recv(&mut c, 0, &hex("01040280d910"), true, mode).is_empty());
        let encoder = hex("3fe101c696d07abe941094cb6d0a08017d403971966e32ca98b46f");
        let events = recv(&mut c, 7, &encoder, false, mode);
        assert_open(&c);
        assert_eq!(events.len(), 1, "{events:?}");
        let H3Event::HeadersReceived {
            stream_id: 0,
            headers,
            stream_ended: true,
            ..
        } = &events[0]
        else {
            panic!("{events:?}")
        };
        assert_eq!(
            *headers,
            fields(&[
                (":status", "200"),
                ("date", "Mon, 22 Jul 2019 06:33:33 GMT")
            ])
        );
        assert_eq!(c.tracked_streams(), 3);
    }
}

/// aioquic's test_blocked_stream: a blocked response with its body held behind it.
#[test]
fn aioquic_blocked_stream_with_body_vectors() {
    let body = hex(concat!(
        "00408d796f752072656163686564206d766673742e6e65742c20726561636820",
        "746865202f6563686f20656e64706f696e7420666f7220616e206563686f2072",
        "6573706f6e7365207175657279202f3c6e756d6265723e20656e64706f696e74",
        "7320666f722061207661726961626c652073697a6520726573706f6e73652077",
        "6974682072616e646f6d206279746573"
    ));
    let text: &[u8] = b"you reached mvfst.net, reach the /echo endpoint for an echo response query /<number> endpoints for a variable size response with random bytes";
    for mode in MODES {
        let mut c = client_with(Settings::default());
        c.send_headers(0, &pairs(GET), true).unwrap();
        recv(
            &mut c,
            3,
            &hex("0004170150000680020000074064091040bcc0000000faceb00c"),
            false,
            mode,
        );
        recv(&mut c, 7, b"\x02", false, mode);
        recv(&mut c, 11, b"\x03", false, mode);
        assert!(recv(&mut c, 0, &hex("01040280d910"), false, mode).is_empty());
        assert!(recv(&mut c, 0, &body, true, mode).is_empty());
        let encoder = hex("3fe101c696d07abe941094cb6d0a08017d403971966e32ca98b46f");
        let events = normalise(recv(&mut c, 7, &encoder, false, mode));
        assert_eq!(
            events,
            vec![
                H3Event::HeadersReceived {
                    stream_id: 0,
                    headers: fields(&[
                        (":status", "200"),
                        ("date", "Mon, 22 Jul 2019 06:33:33 GMT")
                    ]),
                    stream_ended: false,
                    push_id: None,
                },
                H3Event::DataReceived {
                    stream_id: 0,
                    data: Bytes::copy_from_slice(text),
                    stream_ended: true,
                    push_id: None
                },
            ]
        );
        assert!(!c.streams.contains_key(&0));
    }
}

fn repeated_request() -> Vec<(&'static str, &'static str)> {
    vec![
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "example.com"),
        (":path", "/some/resource"),
        ("user-agent", "h3q-test-agent/1.0"),
        ("x-custom", "a fairly long value that is worth inserting"),
    ]
}

/// Sends rounds of identical requests and delivers them with the encoder stream last.
fn requests_with_encoder_last(c: &mut Conn, s: &mut Conn, rounds: u64, per_round: u64) {
    let req = repeated_request();
    for round in 0..rounds {
        for i in 0..per_round {
            c.send_headers((round * per_round + i) * 4, &pairs(&req), true)
                .unwrap();
        }
        let wire = c.transport_mut().take_pending();
        let (uni, bidi): (Vec<Wire>, Vec<Wire>) = wire
            .into_iter()
            .partition(|w| matches!(w, Wire::Stream { stream_id, .. } if stream_id & 2 != 0));
        deliver(s, bidi, Mode::Chunks);
        deliver(s, uni, Mode::Chunks);
        transfer(s, c, Mode::Chunks);
    }
}

#[test]
fn our_encoder_respects_the_peer_blocked_streams_limit() {
    let (mut c, mut s) = pair_with(
        Settings::default(),
        Settings {
            qpack_blocked_streams: 1,
            ..Settings::default()
        },
        Mode::Chunks,
    );
    requests_with_encoder_last(&mut c, &mut s, 5, 4);
    assert_open(&s);
    assert_open(&c);
    assert!(
        c.transport().stream_bytes(6).len() > 1,
        "the dynamic table was used"
    );
}

#[test]
fn our_encoder_never_uses_the_dynamic_table_at_capacity_zero() {
    let (mut c, mut s) = pair_with(
        Settings::default(),
        Settings {
            qpack_max_table_capacity: 0,
            ..Settings::default()
        },
        Mode::Chunks,
    );
    requests_with_encoder_last(&mut c, &mut s, 3, 4);
    assert_open(&s);
    assert_eq!(
        c.transport().stream_bytes(6),
        b"\x02",
        "only the stream type"
    );
    assert_eq!(
        s.transport().stream_bytes(11),
        b"\x03",
        "nothing to acknowledge"
    );
}
