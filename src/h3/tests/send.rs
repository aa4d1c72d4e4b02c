//! "Sending (errors returned to the caller, connection unharmed)".

use crate::error::ErrorCode;
use crate::frame::frame_type;
use crate::h3::test_support::*;
use crate::h3::{H3Error, QuicEvent, Settings};

fn fu(msg: &'static str) -> Result<(), H3Error> {
    Err(H3Error::FrameUnexpected(msg))
}

/// A server that received GET on stream 0.
fn server_with_request() -> Conn {
    let mut s = server_with(Settings::default());
    recv(&mut s, 0, &headers_frame(GET), true, Mode::Chunks);
    s
}

#[test]
fn headers_then_trailers_then_nothing() {
    let mut c = client_with(Settings::default());
    c.send_headers(0, &pairs(GET), false).unwrap();
    c.send_data(0, b"body", false).unwrap();
    c.send_headers(0, &pairs(&[("x-t", "1")]), false).unwrap();
    assert_eq!(
        c.send_headers(0, &pairs(&[("x-t", "2")]), false),
        fu("HEADERS frame is not allowed in this state")
    );
    assert_eq!(
        c.send_headers(0, &pairs(&[("x-t", "2")]), true),
        fu("HEADERS frame is not allowed in this state")
    );
    assert_eq!(
        c.send_data(0, b"x", false),
        fu("DATA frame is not allowed in this state")
    );
    assert_open(&c);
}

#[test]
fn server_may_send_several_interim_responses() {
    let mut s = server_with_request();
    s.send_headers(0, &pairs(&[(":status", "100")]), false)
        .unwrap();
    s.send_headers(0, &pairs(&[(":status", "103")]), false)
        .unwrap();
    assert_eq!(
        s.send_data(0, b"x", false),
        fu("DATA frame is not allowed in this state")
    );
    assert_eq!(
        s.send_headers(0, &pairs(&[(":status", "103")]), true),
        fu("Interim response cannot end the stream")
    );
    s.send_headers(0, &pairs(OK), false).unwrap();
    s.send_data(0, b"x", true).unwrap();
    assert_open(&s);
}

#[test]
fn nothing_after_the_stream_was_ended() {
    let mut c = client_with(Settings::default());
    c.send_headers(0, &pairs(GET), true).unwrap();
    assert_eq!(c.send_data(0, b"x", false), fu("stream was already ended"));
    assert_eq!(c.send_data(0, b"", true), fu("stream was already ended"));
    assert_eq!(
        c.send_headers(0, &pairs(&[("x-t", "1")]), false),
        fu("stream was already ended")
    );

    let mut c = client_with(Settings::default());
    c.send_headers(0, &pairs(GET), false).unwrap();
    c.send_data(0, b"x", true).unwrap();
    assert_eq!(c.send_data(0, b"y", false), fu("stream was already ended"));
    assert_eq!(
        c.send_headers(0, &pairs(&[("x-t", "1")]), true),
        fu("stream was already ended")
    );
    assert_open(&c);

    // a server whose response is complete and whose request ended: the stream is gone
    let mut s = server_with_request();
    s.send_headers(0, &pairs(OK), true).unwrap();
    assert_eq!(s.tracked_streams(), 0);
    assert_eq!(s.send_data(0, b"x", false), fu("stream was already ended"));
    assert_eq!(s.tracked_streams(), 0);
}

#[test]
fn data_only_after_headers() {
    let mut c = client_with(Settings::default());
    assert_eq!(
        c.send_data(0, b"x", false),
        fu("DATA frame is not allowed in this state")
    );
    assert_eq!(
        c.tracked_streams(),
        0,
        "no state left behind by a refused call"
    );
    let mut s = server_with_request();
    assert_eq!(
        s.send_data(0, b"x", true),
        fu("DATA frame is not allowed in this state")
    );
}

#[test]
fn frames_on_the_wire() {
    let mut c = client_with(Settings::default());
    c.send_headers(0, &pairs(GET), false).unwrap();
    c.send_data(0, b"hello", false).unwrap();
    let big = vec![7u8; 100_000];
    c.send_data(0, &big, true).unwrap();
    let expected = cat(&[&headers_frame(GET), &frame(0, b"hello"), &frame(0, &big)]);
    assert_eq!(c.transport().stream_bytes(0), expected.as_slice());
    assert!(c.transport().sent[&0].1, "FIN sent");
}

#[test]
fn push_promise_from_a_client_is_wrong_role() {
    let mut c = client_with(Settings::default());
    assert_eq!(
        c.send_push_promise(0, &pairs(GET)),
        Err(H3Error::WrongRole("Only servers may send a push promise."))
    );
    assert_eq!(
        H3Error::WrongRole("Only servers may send a push promise.").to_string(),
        "Only servers may send a push promise."
    );
    assert_open(&c);
}

#[test]
fn push_promise_needs_a_request_stream_and_a_push_id() {
    let mut s = server_with(Settings::default());
    for id in [1u64, 2, 3, 5] {
        assert_eq!(
            s.send_push_promise(id, &pairs(GET)),
            Err(H3Error::InvalidStreamType(
                "Push promises can only be sent for client-initiated bidirectional streams"
            ))
        );
    }
    // no MAX_PUSH_ID yet
    assert_eq!(
        s.send_push_promise(0, &pairs(GET)),
        Err(H3Error::NoAvailablePushId)
    );
    assert_open(&s);
}

#[test]
fn push_ids_run_from_zero_to_max_inclusive() {
    for mode in MODES {
        let (mut c, mut s) = pair_with(
            Settings {
                max_push_id: 2,
                ..Settings::default()
            },
            Settings::default(),
            mode,
        );
        transfer(&mut c, &mut s, mode);
        c.send_headers(0, &pairs(GET), true).unwrap();
        transfer(&mut c, &mut s, mode);
        let mut push_streams = Vec::new();
        for _ in 0..3 {
            push_streams.push(s.send_push_promise(0, &pairs(GET)).unwrap());
        }
        assert_eq!(push_streams, vec![15, 19, 23]);
        assert_eq!(
            s.send_push_promise(0, &pairs(GET)),
            Err(H3Error::NoAvailablePushId)
        );
        assert_open(&s);
        // each push stream starts with type 0x01 and its push id; PUSH_PROMISEs are on stream 0
        for (push_id, id) in push_streams.iter().enumerate() {
            assert_eq!(
                s.transport().stream_bytes(*id),
                cat(&[&v(1), &v(push_id as u64)]).as_slice()
            );
        }
        let pp0 = frame(frame_type::PUSH_PROMISE, &cat(&[&v(0), &section(GET)]));
        assert!(s.transport().stream_bytes(0).starts_with(&pp0));
    }
}

#[test]
fn datagram_needs_a_request_stream() {
    let mut c = client_with(Settings::default());
    for id in [1u64, 2, 3, 6] {
        assert_eq!(
            c.send_datagram(id, b"x"),
            Err(H3Error::InvalidStreamType(
                "Datagrams can only be sent for client-initiated bidirectional streams"
            ))
        );
    }
    c.send_datagram(4 * 100, b"payload").unwrap();
    assert_eq!(c.transport().datagrams, vec![cat(&[&v(100), b"payload"])]);
}

#[test]
fn after_a_protocol_error_every_send_is_connection_closed() {
    let mut s = server_with(Settings::default());
    recv(&mut s, 0, &frame(0, b"x"), false, Mode::Chunks);
    assert!(s.is_closed());
    assert_eq!(
        s.send_headers(0, &pairs(OK), false),
        Err(H3Error::ConnectionClosed)
    );
    assert_eq!(s.send_data(0, b"", true), Err(H3Error::ConnectionClosed));
    assert_eq!(
        s.send_push_promise(0, &pairs(GET)),
        Err(H3Error::ConnectionClosed)
    );
    assert_eq!(s.send_datagram(0, b""), Err(H3Error::ConnectionClosed));
    assert_eq!(
        s.create_webtransport_stream(0, true),
        Err(H3Error::ConnectionClosed)
    );
    // and later events produce nothing, and close is not called again
    assert!(recv(&mut s, 4, &headers_frame(GET), true, Mode::Chunks).is_empty());
    assert!(
        handle(
            &mut s,
            QuicEvent::DatagramReceived {
                data: (b"\x00x").into()
            }
        )
        .is_empty()
    );
    assert_closed(
        &s,
        ErrorCode::FrameUnexpected,
        "DATA frame is not allowed in this state",
    );
}

#[test]
fn transport_failures_are_returned() {
    let mut c = client_with(Settings::default());
    c.transport_mut().fail = true;
    assert!(matches!(
        c.send_headers(0, &pairs(GET), false),
        Err(H3Error::Transport(_))
    ));
    assert!(matches!(
        c.send_datagram(0, b""),
        Err(H3Error::Transport(_))
    ));
    c.transport_mut().fail = false;
    c.send_headers(0, &pairs(GET), true).unwrap();
    assert_open(&c);
}

/// A server's response is written on the request's stream state where it lies; a write
/// the transport refuses changes nothing, for HEADERS or for DATA with FIN.
#[test]
fn a_refused_write_leaves_the_served_stream_as_it_was() {
    let mut s = server_with_request();
    s.transport_mut().fail = true;
    assert!(matches!(
        s.send_headers(0, &pairs(OK), false),
        Err(H3Error::Transport(_))
    ));
    s.transport_mut().fail = false;
    assert_eq!(
        s.send_data(0, b"x", false),
        fu("DATA frame is not allowed in this state")
    );
    s.send_headers(0, &pairs(OK), false).unwrap();
    s.transport_mut().fail = true;
    assert!(matches!(
        s.send_data(0, b"x", true),
        Err(H3Error::Transport(_))
    ));
    s.transport_mut().fail = false;
    s.send_data(0, b"x", true).unwrap();
    assert_eq!(s.send_data(0, b"", true), fu("stream was already ended"));
    // Both directions done: the state is gone, the stream remembered as finished.
    assert_eq!(
        s.send_headers(0, &pairs(OK), false),
        fu("stream was already ended")
    );
    assert_open(&s);
}

#[test]
fn errors_display_their_message() {
    assert_eq!(
        H3Error::FrameUnexpected("stream was already ended").to_string(),
        "stream was already ended"
    );
    assert_eq!(
        H3Error::NoAvailablePushId.to_string(),
        "No available push ID"
    );
    assert_eq!(
        H3Error::ConnectionClosed.to_string(),
        "the connection is closed"
    );
}

#[test]
fn push_promise_needs_an_unfinished_request_stream() {
    let (mut c, mut s) = pair(Mode::Chunks);
    c.send_headers(0, &pairs(GET), true).unwrap();
    transfer(&mut c, &mut s, Mode::Chunks);
    s.send_headers(0, &pairs(OK), true).unwrap();
    assert_eq!(s.tracked_streams(), 3);
    assert_eq!(
        s.send_push_promise(0, &pairs(GET)),
        Err(H3Error::FrameUnexpected("stream was already ended"))
    );
    assert_open(&s);
}

#[test]
fn a_server_may_answer_a_stream_it_has_not_heard_from_yet() {
    // As aioquic: state is created on first use (the request may still be in flight).
    let mut s = server_with(Settings::default());
    assert_eq!(
        s.send_headers(0, &pairs(&[(":status", "103")]), true),
        fu("Interim response cannot end the stream")
    );
    assert_eq!(s.tracked_streams(), 0);
    s.send_headers(0, &pairs(OK), true).unwrap();
    assert_eq!(s.tracked_streams(), 1, "waits for the request to end");
    recv(&mut s, 0, &headers_frame(GET), true, Mode::Chunks);
    assert_eq!(s.tracked_streams(), 0);
    // now finished: no new state is created for it
    assert_eq!(
        s.send_headers(0, &pairs(OK), true),
        fu("stream was already ended")
    );
    assert_open(&s);
}

#[test]
fn a_client_stream_once_finished_stays_finished() {
    let (mut c, mut s) = pair(Mode::Chunks);
    c.send_headers(0, &pairs(GET), true).unwrap();
    transfer(&mut c, &mut s, Mode::Chunks);
    s.send_headers(0, &pairs(OK), true).unwrap();
    transfer(&mut s, &mut c, Mode::Chunks);
    assert_eq!(c.tracked_streams(), 3);
    assert_eq!(
        c.send_headers(0, &pairs(GET), true),
        fu("stream was already ended")
    );
    assert_eq!(c.tracked_streams(), 3);
}

fn not_a_message_stream() -> H3Error {
    H3Error::InvalidStreamType(
        "HTTP messages are sent on client-initiated bidirectional streams, or on a server's \
         own push streams",
    )
}

#[test]
fn messages_only_go_on_request_and_own_push_streams() {
    let mut c = client_with(Settings::default());
    // Our control and QPACK streams (2, 6, 10), the server's unidirectional streams (3, 7),
    // an unopened unidirectional id, and server-initiated bidirectional streams.
    for id in [2, 6, 10, 14, 3, 7, 1, 5] {
        assert_eq!(
            c.send_headers(id, &pairs(GET), false),
            Err(not_a_message_stream()),
            "client send_headers on {id}"
        );
        assert_eq!(
            c.send_data(id, b"x", false),
            Err(not_a_message_stream()),
            "client send_data on {id}"
        );
    }
    let mut s = server_with_request();
    for id in [3, 7, 11, 15, 2, 6, 1] {
        assert_eq!(
            s.send_headers(id, &pairs(OK), false),
            Err(not_a_message_stream()),
            "server send_headers on {id}"
        );
    }
    assert_open(&c);
    assert_open(&s);
}

#[test]
fn a_finished_push_stream_is_ended_not_invalid() {
    let (mut c, mut s) = pair(Mode::Chunks);
    c.send_headers(0, &pairs(GET), true).unwrap();
    transfer(&mut c, &mut s, Mode::Chunks);
    let push = s.send_push_promise(0, &pairs(GET)).unwrap();
    s.send_headers(push, &pairs(OK), true).unwrap();
    assert_eq!(
        s.send_data(push, b"x", false),
        fu("stream was already ended")
    );
}

#[test]
fn send_data_bytes_writes_what_send_data_writes() {
    let big = vec![7u8; 100_000];
    for body in [&b"small"[..], &big[..]] {
        let mut a = client_with(Settings::default());
        let mut b = client_with(Settings::default());
        a.send_headers(0, &pairs(GET), false).unwrap();
        b.send_headers(0, &pairs(GET), false).unwrap();
        a.send_data(0, body, true).unwrap();
        b.send_data_bytes(0, bytes::Bytes::copy_from_slice(body), true)
            .unwrap();
        assert_eq!(a.transport().stream_bytes(0), b.transport().stream_bytes(0));
        assert_eq!(
            b.send_data_bytes(0, bytes::Bytes::from_static(b"x"), false),
            fu("stream was already ended")
        );
    }
}
