//! docs/BEHAVIOUR.md#stream-aborts-and-push-cancellation: resets and STOP_SENDING both
//! ways, CANCEL_PUSH both ways, and the push-id rules around them.

use crate::error::ErrorCode;
use crate::frame::frame_type;
use crate::h3::test_support::*;
use crate::h3::{H3Error, H3Event, QuicEvent, Settings};
use crate::qpack::{field_lines, instruction};

const CANCELLED: u64 = 0x10c;
const SERVER_CONTROL: u64 = 3;
const CLIENT_CONTROL: u64 = 2;

/// A client and a server with request 0 sent (not ended) and seen by the server.
fn open_request(mode: Mode) -> (Conn, Conn) {
    let (mut c, mut s) = pair(mode);
    c.send_headers(0, &pairs(GET), false).unwrap();
    let events = transfer(&mut c, &mut s, mode);
    assert!(matches!(
        events.as_slice(),
        [H3Event::HeadersReceived { .. }]
    ));
    (c, s)
}

#[test]
fn a_reset_reaches_the_peer_as_one_event() {
    for mode in MODES {
        let (mut c, mut s) = open_request(mode);
        c.send_data(0, b"partial upload", false).unwrap();
        c.reset_stream(0, CANCELLED).unwrap();
        assert_eq!(c.transport().resets, vec![(0, CANCELLED)]);
        let events = normalise(transfer(&mut c, &mut s, mode));
        assert_eq!(
            events,
            vec![
                H3Event::DataReceived {
                    stream_id: 0,
                    data: bytes::Bytes::from_static(b"partial upload"),
                    stream_ended: false,
                    push_id: None
                },
                H3Event::StreamReset {
                    stream_id: 0,
                    error_code: CANCELLED,
                    push_id: None
                }
            ]
        );
        // Our side ended: nothing more can be sent, and a second reset is refused.
        assert_eq!(
            c.send_data(0, b"x", false),
            Err(H3Error::FrameUnexpected("stream was already ended"))
        );
        assert_eq!(
            c.reset_stream(0, CANCELLED),
            Err(H3Error::FrameUnexpected("stream was already ended"))
        );
        // The server answers and is done; both sides drop the stream's state.
        s.send_headers(0, &pairs(OK), true).unwrap();
        transfer(&mut s, &mut c, mode);
        assert_eq!(s.tracked_streams(), 3, "server state back to its baseline");
        assert_eq!(c.tracked_streams(), 3, "client state back to its baseline");
    }
}

#[test]
fn stop_sending_reaches_the_peer_which_resets_with_the_same_code() {
    for mode in MODES {
        let (mut c, mut s) = open_request(mode);
        s.send_headers(0, &pairs(OK), false).unwrap();
        s.send_data(0, b"start of a long body", false).unwrap();
        transfer(&mut s, &mut c, mode);
        c.stop_sending(0, CANCELLED).unwrap();
        assert_eq!(c.transport().stops, vec![(0, CANCELLED)]);
        let events = transfer(&mut c, &mut s, mode);
        assert_eq!(
            events,
            vec![H3Event::StopSending {
                stream_id: 0,
                error_code: CANCELLED,
                push_id: None
            }]
        );
        assert_eq!(s.transport().resets, vec![(0, CANCELLED)]);
        assert_eq!(
            s.send_data(0, b"more", false),
            Err(H3Error::FrameUnexpected("stream was already ended"))
        );
        // Whatever was still on its way to the client is not delivered.
        assert!(recv(&mut c, 0, &frame(0, b"late"), false, mode).is_empty());
        assert_eq!(
            c.stop_sending(0, CANCELLED),
            Err(H3Error::FrameUnexpected("stream was already ended"))
        );
        // A STOP_SENDING for a stream we finished sending changes nothing.
        let before = s.transport().resets.len();
        c.send_headers(4, &pairs(GET), true).unwrap();
        transfer(&mut c, &mut s, mode);
        s.send_headers(4, &pairs(OK), true).unwrap();
        assert!(
            handle(
                &mut s,
                QuicEvent::StopSendingReceived {
                    stream_id: 4,
                    error_code: CANCELLED
                }
            )
            .is_empty()
        );
        assert_eq!(s.transport().resets.len(), before);
    }
}

#[test]
fn stop_sending_cancels_a_blocked_field_section_once() {
    for mode in MODES {
        let (mut c, mut s) = pair(mode);
        c.send_headers(0, &pairs(GET), true).unwrap();
        transfer(&mut c, &mut s, mode);
        // A response whose field section waits for an insert that has not arrived.
        let mut sec = Vec::new();
        field_lines::write_prefix(&mut sec, 1, 0, 4096);
        field_lines::write_indexed(&mut sec, false, 0);
        recv(&mut c, 0, &frame(frame_type::HEADERS, &sec), false, mode);
        assert!(c.buffering_streams() == 1);
        let decoder_before = c.transport().stream_bytes(10).len();
        c.stop_sending(0, CANCELLED).unwrap();
        let mut cancel = Vec::new();
        instruction::write_stream_cancel(&mut cancel, 0);
        assert_eq!(
            &c.transport().stream_bytes(10)[decoder_before..],
            cancel.as_slice()
        );
        assert_eq!(c.buffering_streams(), 0);
        // The insert arrives later: nothing for the stopped stream, no second cancel (only
        // the Insert Count Increment any received insert earns).
        let mut insert = Vec::new();
        instruction::write_insert_with_literal_name(&mut insert, b"x-late", b"1");
        assert!(recv(&mut c, SERVER_CONTROL + 4, &insert, false, mode).is_empty());
        instruction::write_insert_count_increment(&mut cancel, 1);
        assert_eq!(
            &c.transport().stream_bytes(10)[decoder_before..],
            cancel.as_slice()
        );
        assert_open(&c);
    }
}

#[test]
fn aborts_refuse_streams_that_carry_no_message() {
    let (mut c, _s) = open_request(Mode::Chunks);
    for id in [2, 6, 10, 3, 1] {
        assert!(matches!(
            c.reset_stream(id, CANCELLED),
            Err(H3Error::InvalidStreamType(_))
        ));
        assert!(matches!(
            c.stop_sending(id, CANCELLED),
            Err(H3Error::InvalidStreamType(_))
        ));
    }
    assert!(matches!(
        c.reset_stream(0, 1 << 62),
        Err(H3Error::InvalidArgument(_))
    ));
    assert_eq!(
        c.reset_stream(400, CANCELLED),
        Err(H3Error::FrameUnexpected("stream was already ended"))
    );
    assert!(c.transport().resets.is_empty() && c.transport().stops.is_empty());
}

#[test]
fn a_reset_of_a_request_the_server_never_saw_is_still_silent() {
    // The application never got the request: no event, H3_REQUEST_INCOMPLETE back.
    let mut s = server_with(Settings::default());
    // A HEADERS frame announcing 10 bytes, one of them arrived.
    recv(&mut s, 0, &[0x01, 0x0a, 0x00], false, Mode::Bytes);
    assert_open(&s);
    let events = handle(
        &mut s,
        QuicEvent::StreamReset {
            stream_id: 0,
            error_code: CANCELLED,
        },
    );
    assert!(events.is_empty());
    assert_eq!(
        s.transport().resets,
        vec![(0, ErrorCode::RequestIncomplete.wire())]
    );
}

/// A client and a server with request 0 and pushes 0 and 1 promised on it.
fn promised(mode: Mode) -> (Conn, Conn, u64, u64) {
    let (mut c, mut s) = open_request(mode);
    let first = s.send_push_promise(0, &pairs(GET)).unwrap();
    let second = s.send_push_promise(0, &pairs(GET)).unwrap();
    let events = transfer(&mut s, &mut c, mode);
    assert_eq!(events.len(), 2, "{events:?}");
    (c, s, first, second)
}

#[test]
fn a_client_cancels_a_push_and_the_server_stops_it() {
    for mode in MODES {
        let (mut c, mut s, first, _) = promised(mode);
        c.cancel_push(0).unwrap();
        let events = transfer(&mut c, &mut s, mode);
        assert_eq!(events, vec![H3Event::PushCancelled { push_id: 0 }]);
        assert_eq!(s.transport().resets, vec![(first, CANCELLED)]);
        assert!(matches!(
            s.send_headers(first, &pairs(OK), true),
            Err(H3Error::FrameUnexpected(_))
        ));
        // Cancelled twice: reported once.
        assert!(
            recv(
                &mut s,
                CLIENT_CONTROL,
                &frame(frame_type::CANCEL_PUSH, &v(0)),
                false,
                mode
            )
            .is_empty()
        );
        assert_open(&s);
    }
}

#[test]
fn a_client_ignores_the_push_stream_of_a_cancelled_push() {
    for mode in MODES {
        let (mut c, mut s) = open_request(mode);
        let push_stream = s.send_push_promise(0, &pairs(GET)).unwrap();
        // The PUSH_PROMISE reaches the client, which cancels before the push stream comes.
        let wire = s.transport_mut().take_pending();
        let (promise, rest): (Vec<_>, Vec<_>) = wire
            .into_iter()
            .partition(|w| matches!(w, Wire::Stream { stream_id: 0, .. }));
        assert_eq!(deliver(&mut c, promise, mode).len(), 1);
        c.cancel_push(0).unwrap();
        assert!(deliver(&mut c, rest, mode).is_empty());
        s.send_headers(push_stream, &pairs(OK), true).unwrap();
        assert!(
            transfer(&mut s, &mut c, mode).is_empty(),
            "nothing of the push"
        );
        assert_eq!(c.transport().stops, vec![(push_stream, CANCELLED)]);
    }
}

#[test]
fn a_server_cancels_a_push_it_promised() {
    for mode in MODES {
        let (mut c, mut s, _, second) = promised(mode);
        s.cancel_push(1).unwrap();
        assert_eq!(s.transport().resets, vec![(second, CANCELLED)]);
        let events = transfer(&mut s, &mut c, mode);
        assert!(
            events.contains(&H3Event::PushCancelled { push_id: 1 }),
            "{events:?}"
        );
        assert!(matches!(s.cancel_push(7), Err(H3Error::InvalidArgument(_))));
        assert!(matches!(c.cancel_push(9), Err(H3Error::InvalidArgument(_))));
    }
}

#[test]
fn cancel_push_for_a_push_never_promised_is_an_id_error() {
    // A server: any push id it has not promised.
    let mut s = server_with(Settings::default());
    let bytes = cat(&[
        &control_stream(&[]),
        &frame(frame_type::MAX_PUSH_ID, &v(8)),
        &frame(frame_type::CANCEL_PUSH, &v(3)),
    ]);
    recv(&mut s, CLIENT_CONTROL, &bytes, false, Mode::Bytes);
    assert_closed(
        &s,
        ErrorCode::IdError,
        "CANCEL_PUSH names push id 3, which was never promised",
    );
    // A client: one above the MAX_PUSH_ID it sent (below it, a promise may be on its way).
    let mut c = client_with(Settings::default());
    let bytes = cat(&[&control_stream(&[]), &frame(frame_type::CANCEL_PUSH, &v(8))]);
    let events = recv(&mut c, SERVER_CONTROL, &bytes, false, Mode::Chunks);
    assert_eq!(events, vec![H3Event::PushCancelled { push_id: 8 }]);
    recv(
        &mut c,
        SERVER_CONTROL,
        &frame(frame_type::CANCEL_PUSH, &v(9)),
        false,
        Mode::Chunks,
    );
    assert_closed(
        &c,
        ErrorCode::IdError,
        "CANCEL_PUSH names push id 9, which was never promised",
    );
}

#[test]
fn a_push_id_on_a_second_push_stream_is_an_id_error() {
    for mode in MODES {
        let mut c = client_with(Settings::default());
        recv(&mut c, SERVER_CONTROL, &control_stream(&[]), false, mode);
        let push = |c: &mut Conn, stream| recv(c, stream, &cat(&[&v(1), &v(2)]), false, mode);
        assert!(push(&mut c, 15).is_empty());
        assert_open(&c);
        push(&mut c, 19);
        assert_closed(
            &c,
            ErrorCode::IdError,
            "Push ID 2 used on a second push stream",
        );
    }
}

#[test]
fn the_peers_field_section_size_limit_is_honoured_when_sending() {
    for mode in MODES {
        let server = Settings {
            max_field_section_size: 200,
            ..Settings::default()
        };
        let (mut c, mut s) = pair_with(Settings::default(), server, mode);
        let long = "v".repeat(200);
        let too_big = [
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", "a"),
            (":path", "/"),
            ("x-long", long.as_str()),
        ];
        let size = too_big
            .iter()
            .map(|(n, v)| n.len() + v.len() + 32)
            .sum::<usize>() as u64;
        c.transport_mut().take_pending();
        assert_eq!(
            c.send_headers(0, &pairs(&too_big), true),
            Err(H3Error::FieldSectionTooLarge { size, limit: 200 })
        );
        assert!(c.transport().pending.is_empty(), "nothing sent");
        c.send_headers(0, &pairs(GET), true).unwrap();
        transfer(&mut c, &mut s, mode);
        // And a server honours the client's, for push promises too.
        let client = Settings {
            max_field_section_size: 100,
            ..Settings::default()
        };
        let (mut c, mut s) = pair_with(client, Settings::default(), mode);
        c.send_headers(0, &pairs(GET), false).unwrap();
        transfer(&mut c, &mut s, mode);
        assert!(matches!(
            s.send_push_promise(0, &pairs(&too_big)),
            Err(H3Error::FieldSectionTooLarge { limit: 100, .. })
        ));
        assert!(matches!(
            s.send_headers(0, &pairs(&too_big), false),
            Err(H3Error::FieldSectionTooLarge { limit: 100, .. })
        ));
        s.send_headers(0, &pairs(OK), true).unwrap();
    }
}

#[test]
fn a_reset_queued_before_the_peers_close_is_still_reported() {
    for mode in MODES {
        let (mut c, mut s) = open_request(mode);
        s.send_headers(0, &pairs(OK), false).unwrap();
        transfer(&mut s, &mut c, mode);
        // The peer reset the response and closed; quinn-proto has closed the connection
        // already, so every write (here the Stream Cancellation the reset asks for) fails.
        c.transport_mut().fail = true;
        c.transport_mut().quic_closed = true;
        let events = handle(
            &mut c,
            QuicEvent::StreamReset {
                stream_id: 0,
                error_code: CANCELLED,
            },
        );
        assert_eq!(
            events,
            vec![H3Event::StreamReset {
                stream_id: 0,
                error_code: CANCELLED,
                push_id: None
            }]
        );
        assert!(c.transport().closed.is_empty(), "no close of our own");
        assert!(c.closed().is_none());
        let events = handle(
            &mut c,
            QuicEvent::ConnectionTerminated {
                error_code: 0x100,
                reason: b"server shutdown",
                error_space: crate::h3::ErrorSpace::Application,
                by_peer: true,
            },
        );
        let [H3Event::ConnectionClosed(close)] = events.as_slice() else {
            panic!("{events:?}");
        };
        assert_eq!((close.error_code, close.by_peer), (0x100, true));
        assert_eq!(close.reason, "server shutdown");
        // A transport that fails while open is still an internal error.
        let (mut c, mut s) = open_request(mode);
        s.send_headers(0, &pairs(OK), false).unwrap();
        transfer(&mut s, &mut c, mode);
        c.transport_mut().fail = true;
        let reset = QuicEvent::StreamReset {
            stream_id: 0,
            error_code: CANCELLED,
        };
        assert!(c.handle_event(reset).is_err());
        assert_eq!(c.closed().map(|close| close.error_code), Some(0x102));
    }
}

/// A peer's unidirectional stream that ended (reset, or FIN) stays ended: bytes arriving on
/// its id later (which no QUIC stack delivers, but a transport fed by hand may) do not
/// open it again, and a second reset is not reported. Found by fuzzing
/// (fuzz/regressions/h3_connection_server/reset-reported-twice).
#[test]
fn an_ended_peer_uni_stream_is_not_opened_again() {
    for mode in MODES {
        let mut s = server_with(Settings::default());
        let tracked = s.tracked_streams();
        let webtransport = cat(&[&v(0x54), &v(7), b"data"]);
        let reset = |s: &mut Conn| {
            handle(
                s,
                QuicEvent::StreamReset {
                    stream_id: 2,
                    error_code: CANCELLED,
                },
            )
        };
        assert_eq!(
            normalise(recv(&mut s, 2, &webtransport, false, mode)).len(),
            1
        );
        assert!(matches!(
            reset(&mut s).as_slice(),
            [H3Event::StreamReset { stream_id: 2, .. }]
        ));
        assert!(recv(&mut s, 2, &webtransport, false, mode).is_empty());
        assert!(reset(&mut s).is_empty(), "reported once");
        // The same after a FIN, and for a stream of a type nobody knows.
        assert_eq!(
            normalise(recv(&mut s, 6, &webtransport, true, mode)).len(),
            1
        );
        assert!(recv(&mut s, 6, &webtransport, false, mode).is_empty());
        assert!(reset(&mut s).is_empty());
        let unknown = cat(&[&v(0x1f * 7 + 0x21), b"ignored"]);
        assert!(recv(&mut s, 10, &unknown, true, mode).is_empty());
        assert!(recv(&mut s, 10, &webtransport, false, mode).is_empty());
        assert_open(&s);
        assert_eq!(s.tracked_streams(), tracked, "no state kept for them");
    }
}
