//! "Request and push streams".

use bytes::Bytes;

use crate::error::ErrorCode;
use crate::frame::frame_type;
use crate::h3::test_support::*;
use crate::h3::{H3Event, QuicEvent, Settings};

/// A client that sent GET on stream 0 (and FIN); the response is fed by the test.
fn client_with_request() -> Conn {
    let mut c = client_with(Settings::default());
    c.send_headers(0, &pairs(GET), true).unwrap();
    c
}

fn server() -> Conn {
    server_with(Settings::default())
}

fn headers_event(stream_id: u64, list: &[(&str, &str)], ended: bool) -> H3Event {
    H3Event::HeadersReceived {
        stream_id,
        headers: fields(list),
        stream_ended: ended,
        push_id: None,
    }
}

fn data_event(stream_id: u64, data: &[u8], ended: bool) -> H3Event {
    H3Event::DataReceived {
        stream_id,
        data: Bytes::copy_from_slice(data),
        stream_ended: ended,
        push_id: None,
    }
}

#[test]
fn push_promise_from_a_client_is_rejected_from_its_header() {
    for mode in MODES {
        let mut s = server();
        recv(
            &mut s,
            0,
            &cat(&[
                &headers_frame(GET),
                &v(frame_type::PUSH_PROMISE),
                &v(1 << 20),
            ]),
            false,
            mode,
        );
        assert_closed(
            &s,
            ErrorCode::FrameUnexpected,
            "Clients must not send PUSH_PROMISE",
        );
    }
}

#[test]
fn invalid_frame_types_on_request_and_push_streams() {
    let types = [
        frame_type::CANCEL_PUSH,
        frame_type::SETTINGS,
        frame_type::GOAWAY,
        frame_type::MAX_PUSH_ID,
        0x2,
        0x6,
        0x8,
        0x9,
    ];
    for mode in MODES {
        for ty in types {
            // server, request stream, before and after HEADERS
            for prefix in [Vec::new(), headers_frame(GET)] {
                let mut s = server();
                recv(
                    &mut s,
                    0,
                    &cat(&[&prefix, &v(ty), &v(1 << 20)]),
                    false,
                    mode,
                );
                assert_closed(
                    &s,
                    ErrorCode::FrameUnexpected,
                    "Invalid frame type on request stream",
                );
            }
            // client, response stream
            let mut c = client_with_request();
            recv(&mut c, 0, &cat(&[&v(ty), &v(1 << 20)]), false, mode);
            assert_closed(
                &c,
                ErrorCode::FrameUnexpected,
                "Invalid frame type on request stream",
            );
        }
        // push stream: the same types, and PUSH_PROMISE
        for ty in types.iter().copied().chain([frame_type::PUSH_PROMISE]) {
            let mut c = client_with(Settings::default());
            recv(
                &mut c,
                3,
                &cat(&[&v(1), &v(0), &v(ty), &v(1 << 20)]),
                false,
                mode,
            );
            assert_closed(
                &c,
                ErrorCode::FrameUnexpected,
                "Invalid frame type on push stream",
            );
        }
    }
}

#[test]
fn data_before_headers_is_rejected_from_the_frame_header() {
    for mode in MODES {
        let mut s = server();
        recv(&mut s, 0, &cat(&[&v(0), &v(1 << 20)]), false, mode);
        assert_closed(
            &s,
            ErrorCode::FrameUnexpected,
            "DATA frame is not allowed in this state",
        );

        // after an interim response only, DATA is still not allowed
        let mut c = client_with_request();
        recv(
            &mut c,
            0,
            &cat(&[&headers_frame(&[(":status", "100")]), &v(0), &v(5)]),
            false,
            mode,
        );
        assert_closed(
            &c,
            ErrorCode::FrameUnexpected,
            "DATA frame is not allowed in this state",
        );

        // on a push stream too
        let mut c = client_with(Settings::default());
        recv(
            &mut c,
            3,
            &cat(&[&v(1), &v(0), &frame(0, b"x")]),
            false,
            mode,
        );
        assert_closed(
            &c,
            ErrorCode::FrameUnexpected,
            "DATA frame is not allowed in this state",
        );
    }
}

#[test]
fn headers_after_trailers_is_rejected() {
    for mode in MODES {
        let mut s = server();
        let trailers = headers_frame(&[("x-t", "1")]);
        recv(
            &mut s,
            0,
            &cat(&[&headers_frame(GET), &trailers, &v(1), &v(1 << 20)]),
            false,
            mode,
        );
        assert_closed(
            &s,
            ErrorCode::FrameUnexpected,
            "HEADERS frame is not allowed in this state",
        );
    }
}

#[test]
fn undecodable_field_section() {
    for mode in MODES {
        for payload in [
            &b""[..],
            b"\x00",
            b"\x00\x00\xff",
            b"\x00\x00\x3f\xff\xff\xff\xff\xff\xff\xff\xff\x0f",
        ] {
            let mut s = server();
            recv(&mut s, 0, &frame(frame_type::HEADERS, payload), false, mode);
            assert_closed(&s, ErrorCode::QpackDecompressionFailed, "");
        }
    }
}

#[test]
fn frame_cut_by_fin() {
    let h = headers_frame(GET);
    let cases: Vec<Vec<u8>> = vec![
        v(0x40),                                // half a frame type
        vec![0x21],                             // type, no length
        cat(&[&v(1), &v(10)]),                  // HEADERS header, no payload
        h[..h.len() - 1].to_vec(),              // HEADERS payload cut
        cat(&[&h, &v(0), &v(10), b"12345"]),    // DATA payload cut
        cat(&[&h, &v(0x21), &v(10), b"12345"]), // unknown payload cut
    ];
    for mode in MODES {
        for bytes in &cases {
            let mut s = server();
            recv(&mut s, 0, bytes, true, mode);
            assert_closed(
                &s,
                ErrorCode::FrameError,
                "Frame is truncated by the end of the stream",
            );
        }
    }
}

#[test]
fn push_promise_parsing() {
    for mode in MODES {
        let mut c = client_with_request();
        recv(
            &mut c,
            0,
            &frame(frame_type::PUSH_PROMISE, b""),
            false,
            mode,
        );
        assert_closed(
            &c,
            ErrorCode::FrameError,
            "Could not parse PUSH_PROMISE frame",
        );

        let mut c = client_with_request();
        recv(
            &mut c,
            0,
            &frame(frame_type::PUSH_PROMISE, &cat(&[&v(9), &section(GET)])),
            false,
            mode,
        );
        assert_closed(
            &c,
            ErrorCode::IdError,
            "Push ID exceeds the maximum push ID",
        );

        let mut c = client_with_request();
        let events = recv(
            &mut c,
            0,
            &frame(frame_type::PUSH_PROMISE, &cat(&[&v(8), &section(GET)])),
            false,
            mode,
        );
        assert_open(&c);
        assert_eq!(
            events,
            vec![H3Event::PushPromiseReceived {
                stream_id: 0,
                push_id: 8,
                headers: fields(GET)
            }]
        );
    }
}

#[test]
fn interim_response_cannot_end_the_stream() {
    for mode in MODES {
        // FIN alone after the 1xx
        let mut c = client_with_request();
        recv(&mut c, 0, &headers_frame(&[(":status", "103")]), true, mode);
        assert_closed(
            &c,
            ErrorCode::MessageError,
            "Interim response cannot end the stream",
        );
    }
    // FIN in the same event as the 1xx HEADERS
    let mut c = client_with_request();
    handle(
        &mut c,
        QuicEvent::StreamDataReceived {
            stream_id: 0,
            data: (&headers_frame(&[(":status", "100")])).into(),
            end_stream: true,
        },
    );
    assert_closed(
        &c,
        ErrorCode::MessageError,
        "Interim response cannot end the stream",
    );
}

#[test]
fn content_length_must_match_data_at_fin() {
    let cl5 = [(":status", "200"), ("content-length", "5")];
    let cases: Vec<(Vec<u8>, bool)> = vec![
        (cat(&[&headers_frame(&cl5), &frame(0, b"1234")]), false),
        (cat(&[&headers_frame(&cl5), &frame(0, b"123456")]), false),
        (headers_frame(&cl5), false),
        (
            cat(&[
                &headers_frame(&cl5),
                &frame(0, b"12"),
                &headers_frame(&[("x-t", "1")]),
            ]),
            false,
        ),
        (
            cat(&[&headers_frame(&cl5), &frame(0, b"12"), &frame(0x21, b"zz")]),
            false,
        ),
        (
            cat(&[&headers_frame(&cl5), &frame(0, b"12"), &frame(0, b"345")]),
            true,
        ),
        (
            cat(&[
                &headers_frame(&[(":status", "100"), ("content-length", "9")]),
                &headers_frame(&cl5),
                &frame(0, b"12345"),
            ]),
            true,
        ),
    ];
    for mode in MODES {
        for (bytes, ok) in &cases {
            let mut c = client_with_request();
            recv(&mut c, 0, bytes, true, mode);
            if *ok {
                assert_open(&c);
            } else {
                assert_closed(
                    &c,
                    ErrorCode::MessageError,
                    "content-length does not match data size",
                );
            }
        }
        // the same on a server receiving a request body
        let mut s = server();
        let post = [
            (":method", "POST"),
            (":scheme", "https"),
            (":authority", "a"),
            (":path", "/"),
            ("content-length", "3"),
        ];
        recv(
            &mut s,
            0,
            &cat(&[&headers_frame(&post), &frame(0, b"ab")]),
            true,
            mode,
        );
        assert_closed(
            &s,
            ErrorCode::MessageError,
            "content-length does not match data size",
        );
    }
}

#[test]
fn content_length_is_not_checked_for_head_and_304() {
    for mode in MODES {
        let mut c = client_with(Settings::default());
        let head = [
            (":method", "HEAD"),
            (":scheme", "https"),
            (":authority", "a"),
            (":path", "/"),
        ];
        c.send_headers(0, &pairs(&head), true).unwrap();
        recv(
            &mut c,
            0,
            &headers_frame(&[(":status", "200"), ("content-length", "10")]),
            true,
            mode,
        );
        assert_open(&c);
        let mut c = client_with_request();
        recv(
            &mut c,
            0,
            &headers_frame(&[(":status", "304"), ("content-length", "10")]),
            true,
            mode,
        );
        assert_open(&c);
    }
}

#[test]
fn unknown_frames_are_skipped_anywhere_even_last() {
    for mode in MODES {
        let mut c = client_with_request();
        let bytes = cat(&[
            &frame(0x21, b"a"),
            &headers_frame(OK),
            &frame(0x1f * 2 + 0x21, b""),
            &frame(0, b"hello"),
            &frame(0x21, &[0; 1000]),
        ]);
        let events = normalise(recv(&mut c, 0, &bytes, true, mode));
        assert_open(&c);
        assert_eq!(
            events,
            vec![headers_event(0, OK, false), data_event(0, b"hello", true)]
        );
    }
}

#[test]
fn data_is_delivered_as_it_arrives() {
    let mut c = client_with_request();
    recv(&mut c, 0, &headers_frame(OK), false, Mode::Chunks);
    let header = cat(&[&v(0), &v(10)]);
    let e = recv(&mut c, 0, &cat(&[&header, b"abc"]), false, Mode::Chunks);
    assert_eq!(e, vec![data_event(0, b"abc", false)]);
    let e = recv(&mut c, 0, b"defg", false, Mode::Chunks);
    assert_eq!(e, vec![data_event(0, b"defg", false)]);
    let e = recv(&mut c, 0, b"hij", false, Mode::Chunks);
    assert_eq!(e, vec![data_event(0, b"hij", false)]);
    // an empty DATA frame gives nothing
    assert!(recv(&mut c, 0, &frame(0, b""), false, Mode::Chunks).is_empty());
    // FIN alone
    assert_eq!(
        recv(&mut c, 0, b"", true, Mode::Chunks),
        vec![data_event(0, b"", true)]
    );
    assert_open(&c);
}

#[test]
fn fin_with_the_last_frame_marks_its_event() {
    let mut c = client_with_request();
    let e = handle(
        &mut c,
        QuicEvent::StreamDataReceived {
            stream_id: 0,
            data: (&cat(&[&headers_frame(OK), &frame(0, b"xy")])).into(),
            end_stream: true,
        },
    );
    assert_eq!(
        e,
        vec![headers_event(0, OK, false), data_event(0, b"xy", true)]
    );
    let mut c = client_with_request();
    let e = handle(
        &mut c,
        QuicEvent::StreamDataReceived {
            stream_id: 0,
            data: (&headers_frame(OK)).into(),
            end_stream: true,
        },
    );
    assert_eq!(e, vec![headers_event(0, OK, true)]);
}

#[test]
fn each_headers_frame_gives_an_event_interim_final_trailers() {
    for mode in MODES {
        let mut c = client_with_request();
        let bytes = cat(&[
            &headers_frame(&[(":status", "100")]),
            &headers_frame(&[(":status", "103"), ("link", "</s.css>")]),
            &headers_frame(OK),
            &frame(0, b"body"),
            &headers_frame(&[("x-trailer", "t")]),
        ]);
        let events = normalise(recv(&mut c, 0, &bytes, true, mode));
        assert_eq!(
            events,
            vec![
                headers_event(0, &[(":status", "100")], false),
                headers_event(0, &[(":status", "103"), ("link", "</s.css>")], false),
                headers_event(0, OK, false),
                data_event(0, b"body", false),
                headers_event(0, &[("x-trailer", "t")], false),
                data_event(0, b"", true),
            ]
        );
    }
}

#[test]
fn push_stream_events_carry_the_push_id() {
    for mode in MODES {
        let mut c = client_with(Settings::default());
        let bytes = cat(&[&v(1), &v(3), &headers_frame(OK), &frame(0, b"pushed")]);
        let events = normalise(recv(&mut c, 3, &bytes, true, mode));
        assert_eq!(
            events,
            vec![
                H3Event::HeadersReceived {
                    stream_id: 3,
                    headers: fields(OK),
                    stream_ended: false,
                    push_id: Some(3)
                },
                H3Event::DataReceived {
                    stream_id: 3,
                    data: Bytes::from_static(b"pushed"),
                    stream_ended: true,
                    push_id: Some(3)
                },
            ]
        );
        assert_eq!(c.tracked_streams(), 0, "push stream forgotten after FIN");
    }
}

#[test]
fn push_promise_may_be_the_last_frame() {
    for mode in MODES {
        let mut c = client_with_request();
        let pp = frame(frame_type::PUSH_PROMISE, &cat(&[&v(0), &section(GET)]));
        let events = recv(&mut c, 0, &cat(&[&headers_frame(OK), &pp]), true, mode);
        assert_eq!(
            events,
            vec![
                headers_event(0, OK, false),
                H3Event::PushPromiseReceived {
                    stream_id: 0,
                    push_id: 0,
                    headers: fields(GET)
                },
                data_event(0, b"", true),
            ]
        );
    }
}

#[test]
fn request_ending_before_headers_is_reset_incomplete() {
    for mode in MODES {
        // FIN with nothing
        let mut s = server();
        assert!(recv(&mut s, 0, b"", true, mode).is_empty());
        assert_eq!(
            s.transport().resets,
            vec![(0, ErrorCode::RequestIncomplete.wire())]
        );
        assert_eq!(s.tracked_streams(), 0);
        // FIN after an unknown frame only
        let mut s = server();
        assert!(recv(&mut s, 4, &frame(0x21, b"abc"), true, mode).is_empty());
        assert_eq!(
            s.transport().resets,
            vec![(4, ErrorCode::RequestIncomplete.wire())]
        );
        assert_eq!(s.tracked_streams(), 0);
        assert_open(&s);
        // reset before HEADERS
        let mut s = server();
        recv(&mut s, 8, &frame(0x21, b"abc"), false, mode);
        assert!(
            handle(
                &mut s,
                QuicEvent::StreamReset {
                    stream_id: 8,
                    error_code: 0x10c
                }
            )
            .is_empty()
        );
        assert_eq!(
            s.transport().resets,
            vec![(8, ErrorCode::RequestIncomplete.wire())]
        );
        assert_eq!(s.tracked_streams(), 0);
        // reset of a stream never seen
        let mut s = server();
        handle(
            &mut s,
            QuicEvent::StreamReset {
                stream_id: 12,
                error_code: 0x10c,
            },
        );
        assert_eq!(
            s.transport().resets,
            vec![(12, ErrorCode::RequestIncomplete.wire())]
        );
        assert_eq!(s.tracked_streams(), 0);
    }
}

#[test]
fn reset_after_headers_is_not_incomplete() {
    let mut s = server();
    recv(&mut s, 0, &headers_frame(GET), false, Mode::Chunks);
    handle(
        &mut s,
        QuicEvent::StreamReset {
            stream_id: 0,
            error_code: 0x10c,
        },
    );
    assert!(s.transport().resets.is_empty());
    assert_eq!(s.tracked_streams(), 1, "our side still open");
    s.send_headers(0, &pairs(OK), true).unwrap();
    assert_eq!(s.tracked_streams(), 0);
}

#[test]
fn oversized_headers_frame_is_excessive_load_from_its_header() {
    let mut s = server();
    recv(&mut s, 0, &cat(&[&v(1), &v(1 << 30)]), false, Mode::Chunks);
    assert_eq!(s.transport().closed[0].0, ErrorCode::ExcessiveLoad.wire());
}

#[test]
fn data_after_fin_or_reset_is_ignored() {
    let mut s = server();
    recv(&mut s, 0, &headers_frame(GET), true, Mode::Chunks);
    assert!(recv(&mut s, 0, &frame(0, b"late"), false, Mode::Chunks).is_empty());
    assert_open(&s);
}

#[test]
fn requests_opened_out_of_order_are_all_served() {
    // QUIC may hand over stream 8 before stream 4 (4's packets were lost): both are new
    // requests, not finished ones.
    for mode in MODES {
        let mut s = server_with(Settings::default());
        for id in [8, 0, 4] {
            let events = recv(&mut s, id, &headers_frame(GET), true, mode);
            assert!(
                matches!(events.first(), Some(H3Event::HeadersReceived { stream_id, .. }) if *stream_id == id),
                "{id}: {events:?}"
            );
        }
        assert_open(&s);
    }
}

#[test]
fn data_on_a_finished_request_stream_is_ignored() {
    // Both directions done: the stream's state is gone, and bytes that still arrive on it
    // (from a transport that delivers them) do not start a new request.
    for mode in MODES {
        let mut s = server_with(Settings::default());
        recv(&mut s, 0, &headers_frame(GET), true, mode);
        s.send_headers(0, &pairs(OK), true).unwrap();
        assert_eq!(s.tracked_streams(), 0);
        assert!(recv(&mut s, 0, &headers_frame(GET), true, mode).is_empty());
        assert_eq!(s.tracked_streams(), 0);
        assert_open(&s);
    }
}
