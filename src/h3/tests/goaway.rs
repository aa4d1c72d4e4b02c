//! docs/BEHAVIOUR.md#goaway-and-graceful-shutdown: GOAWAY both ways, the two-step drain, and
//! the one report of how a connection ended.

use crate::error::ErrorCode;
use crate::frame::frame_type;
use crate::h3::test_support::*;
use crate::h3::{ConnectionClose, ErrorSpace, H3Error, H3Event, QuicEvent, Settings};
use crate::varint;

const SERVER_CONTROL: u64 = 3; // the server's control stream, as a client sees it
const CLIENT_CONTROL: u64 = 2;
const REJECTED: u64 = 0x10b;
const CANCELLED: u64 = 0x10c;

/// A client that has seen the server's control stream, with requests open on `streams`.
fn client_with_requests(streams: &[u64]) -> Conn {
    let mut c = client_with(Settings::default());
    let control = control_stream(&[]);
    assert!(recv(&mut c, SERVER_CONTROL, &control, false, Mode::Chunks).is_empty());
    for &id in streams {
        c.send_headers(id, &pairs(GET), true).unwrap();
    }
    c
}

fn goaway(id: u64) -> Vec<u8> {
    frame(frame_type::GOAWAY, &v(id))
}

/// The GOAWAY frames `conn` sent on its control stream, in order.
fn goaways_sent(conn: &Conn, control: u64) -> Vec<u64> {
    let bytes = conn.transport().stream_bytes(control);
    let mut ids = Vec::new();
    let mut rest = bytes;
    // Skip the stream type, then walk the frames.
    let (_, n) = varint::decode(rest).unwrap();
    rest = &rest[n..];
    while !rest.is_empty() {
        let (ty, a) = varint::decode(rest).unwrap();
        let (len, b) = varint::decode(&rest[a..]).unwrap();
        let payload = &rest[a + b..a + b + len as usize];
        if ty == frame_type::GOAWAY {
            ids.push(varint::decode(payload).unwrap().0);
        }
        rest = &rest[a + b + len as usize..];
    }
    ids
}

#[test]
fn a_client_reports_goaway_and_the_requests_it_excludes() {
    for mode in MODES {
        let mut c = client_with_requests(&[0, 4, 8]);
        c.transport_mut().take_pending();
        let events = recv(&mut c, SERVER_CONTROL, &goaway(4), false, mode);
        assert_eq!(
            events,
            vec![
                H3Event::GoawayReceived { id: 4 },
                H3Event::StreamReset {
                    stream_id: 4,
                    error_code: REJECTED,
                    push_id: None
                },
                H3Event::StreamReset {
                    stream_id: 8,
                    error_code: REJECTED,
                    push_id: None
                },
            ]
        );
        // The excluded requests are cancelled (their requests had ended: only reading
        // is stopped); request 0 goes on.
        assert_eq!(c.transport().stops, vec![(4, CANCELLED), (8, CANCELLED)]);
        assert!(c.transport().resets.is_empty());
        assert_eq!(c.goaway_received(), Some(4));
        let response = recv(&mut c, 0, &headers_frame(OK), true, mode);
        assert_eq!(response.len(), 2, "{response:?}");
        // New requests at or above the id are refused, and nothing is sent.
        let before = c.transport().pending.len();
        assert_eq!(
            c.send_headers(12, &pairs(GET), true),
            Err(H3Error::GoingAway)
        );
        assert_eq!(c.transport().pending.len(), before);
        assert_eq!(c.transport().stream_bytes(12), b"");
        assert_open(&c);
    }
}

#[test]
fn a_request_already_settled_is_not_reported_rejected_again() {
    for mode in MODES {
        // Request 0 is still uploading; the server resets its response, then goes away.
        let mut c = client_with(Settings::default());
        let control = control_stream(&[]);
        recv(&mut c, SERVER_CONTROL, &control, false, mode);
        c.send_headers(0, &pairs(GET), false).unwrap();
        c.send_headers(4, &pairs(GET), true).unwrap();
        let reset = QuicEvent::StreamReset {
            stream_id: 0,
            error_code: CANCELLED,
        };
        assert_eq!(handle(&mut c, reset).len(), 1);
        c.transport_mut().take_pending();
        let events = recv(&mut c, SERVER_CONTROL, &goaway(0), false, mode);
        assert_eq!(
            events,
            vec![
                H3Event::GoawayReceived { id: 0 },
                H3Event::StreamReset {
                    stream_id: 4,
                    error_code: REJECTED,
                    push_id: None
                },
            ],
            "stream 0's reset was reported once already"
        );
        // Its upload is still cancelled.
        assert_eq!(c.transport().resets, vec![(0, CANCELLED)]);
        assert_open(&c);
    }
}

#[test]
fn a_goaway_above_the_next_stream_keeps_new_requests_allowed() {
    let mut c = client_with_requests(&[0]);
    let events = recv(
        &mut c,
        SERVER_CONTROL,
        &goaway(1 << 40),
        false,
        Mode::Chunks,
    );
    assert_eq!(events, vec![H3Event::GoawayReceived { id: 1 << 40 }]);
    c.send_headers(4, &pairs(GET), true).unwrap();
    // An equal or smaller GOAWAY is fine; each is reported.
    let events = recv(
        &mut c,
        SERVER_CONTROL,
        &goaway(1 << 40),
        false,
        Mode::Chunks,
    );
    assert_eq!(events, vec![H3Event::GoawayReceived { id: 1 << 40 }]);
    assert_open(&c);
}

#[test]
fn a_server_goaway_naming_a_non_request_stream_is_an_id_error() {
    for (id, mode) in [(1, Mode::Bytes), (2, Mode::Chunks), (7, Mode::Chunks)] {
        let mut c = client_with_requests(&[]);
        recv(&mut c, SERVER_CONTROL, &goaway(id), false, mode);
        assert_closed(
            &c,
            ErrorCode::IdError,
            &format!("GOAWAY id {id} is not a client-initiated bidirectional stream"),
        );
    }
}

#[test]
fn a_goaway_larger_than_an_earlier_one_is_an_id_error() {
    for mode in MODES {
        let mut c = client_with_requests(&[]);
        recv(&mut c, SERVER_CONTROL, &goaway(8), false, mode);
        recv(&mut c, SERVER_CONTROL, &goaway(12), false, mode);
        assert_closed(
            &c,
            ErrorCode::IdError,
            "GOAWAY id 12 is larger than an earlier GOAWAY's (8)",
        );
        // A server checks the client's push ids the same way.
        let mut s = server_with(Settings::default());
        let bytes = cat(&[&control_stream(&[]), &goaway(3), &goaway(5)]);
        recv(&mut s, CLIENT_CONTROL, &bytes, false, mode);
        assert_closed(
            &s,
            ErrorCode::IdError,
            "GOAWAY id 5 is larger than an earlier GOAWAY's (3)",
        );
    }
}

#[test]
fn a_malformed_goaway_is_a_frame_error() {
    for (payload, reason) in [
        (&[][..], "Could not parse GOAWAY frame"),
        (&[0x04, 0x00][..], "GOAWAY frame has trailing data"),
        (&[0x40][..], "Could not parse GOAWAY frame"),
        (&[0u8; 9][..], "GOAWAY frame has trailing data"),
    ] {
        let mut c = client_with_requests(&[]);
        recv(
            &mut c,
            SERVER_CONTROL,
            &frame(frame_type::GOAWAY, payload),
            false,
            Mode::Bytes,
        );
        assert_closed(&c, ErrorCode::FrameError, reason);
    }
}

#[test]
fn goaway_on_a_request_stream_is_unexpected() {
    let mut c = client_with_requests(&[0]);
    recv(&mut c, 0, &goaway(0), false, Mode::Chunks);
    assert_closed(
        &c,
        ErrorCode::FrameUnexpected,
        "Invalid frame type on request stream",
    );
}

#[test]
fn the_two_step_drain_of_a_server() {
    for mode in MODES {
        let (mut c, mut s) = pair(mode);
        c.send_headers(0, &pairs(GET), true).unwrap();
        c.send_headers(4, &pairs(GET), true).unwrap();
        assert_eq!(transfer(&mut c, &mut s, mode).len(), 4);
        // Step 1: "I will stop"; requests still arrive and are served.
        assert_eq!(s.shutdown_notice(), Ok((1 << 62) - 4));
        assert_eq!(
            transfer(&mut s, &mut c, mode),
            vec![H3Event::GoawayReceived { id: (1 << 62) - 4 }]
        );
        c.send_headers(8, &pairs(GET), true).unwrap();
        assert_eq!(transfer(&mut c, &mut s, mode).len(), 2);
        // Step 2: the id after the last request seen; never larger than the first.
        assert_eq!(s.shutdown(), Ok(12));
        assert_eq!(
            s.shutdown_notice(),
            Ok(12),
            "never larger than an earlier GOAWAY"
        );
        assert_eq!(goaways_sent(&s, 3), vec![(1 << 62) - 4, 12, 12]);
        let events = transfer(&mut s, &mut c, mode);
        assert_eq!(
            events,
            vec![
                H3Event::GoawayReceived { id: 12 },
                H3Event::GoawayReceived { id: 12 }
            ]
        );
        // A request the client sent before it saw the GOAWAY: refused, no event.
        s.transport_mut().take_pending();
        let request = headers_frame(GET);
        assert!(recv(&mut s, 12, &request, true, mode).is_empty());
        assert_eq!(s.transport().resets, vec![(12, REJECTED)]);
        assert_eq!(s.transport().stops, vec![(12, REJECTED)]);
        assert!(recv(&mut s, 12, b"more", false, mode).is_empty(), "ignored");
        // The client's reset of the refused request (it retries elsewhere) changes
        // nothing: no event, no second reset.
        let reset = QuicEvent::StreamReset {
            stream_id: 12,
            error_code: CANCELLED,
        };
        assert_eq!(s.handle_event(reset), Ok(vec![]));
        assert_eq!(s.transport().resets.len(), 1, "refused once");
        assert!(recv(&mut s, 16, &request, true, mode).is_empty());
        // The requests below complete; then nothing is active and the server may close.
        assert_eq!(s.active_requests(), 3);
        for id in [0, 4, 8] {
            s.send_headers(id, &pairs(OK), true).unwrap();
        }
        assert_eq!(s.active_requests(), 0);
        assert_open(&s);
    }
}

#[test]
fn a_server_that_saw_no_request_shuts_down_with_zero() {
    let mut s = server_with(Settings::default());
    assert_eq!(s.shutdown(), Ok(0));
    assert_eq!(goaways_sent(&s, 3), vec![0]);
    assert!(recv(&mut s, 0, &headers_frame(GET), true, Mode::Chunks).is_empty());
    assert_eq!(s.transport().resets, vec![(0, REJECTED)]);
}

#[test]
fn a_client_goaway_stops_pushes_at_or_above_its_push_id() {
    for mode in MODES {
        let (mut c, mut s) = pair(mode);
        c.send_headers(0, &pairs(GET), true).unwrap();
        transfer(&mut c, &mut s, mode);
        let first = s.send_push_promise(0, &pairs(GET)).unwrap();
        let second = s.send_push_promise(0, &pairs(GET)).unwrap();
        let events = transfer(&mut s, &mut c, mode);
        assert_eq!(events.len(), 2, "two promises: {events:?}");
        // The client saw pushes 0 and 1: its GOAWAY carries 2, after a notice with 2^62-1.
        assert_eq!(c.shutdown_notice(), Ok(varint::MAX));
        assert_eq!(c.shutdown(), Ok(2));
        let events = transfer(&mut c, &mut s, mode);
        assert_eq!(
            events,
            vec![
                H3Event::GoawayReceived { id: varint::MAX },
                H3Event::GoawayReceived { id: 2 }
            ]
        );
        assert_eq!(s.send_push_promise(0, &pairs(GET)), Err(H3Error::GoingAway));
        // Pushes below the id go on.
        s.send_headers(first, &pairs(OK), true).unwrap();
        s.send_headers(second, &pairs(OK), true).unwrap();
        assert_open(&s);
    }
}

#[test]
fn the_close_is_reported_once_with_the_first_close() {
    // Our own close after a protocol error, then the QUIC termination.
    let mut c = client_with_requests(&[]);
    recv(&mut c, SERVER_CONTROL, &goaway(2), false, Mode::Chunks);
    let ours = ConnectionClose {
        error_code: ErrorCode::IdError.wire(),
        reason: "GOAWAY id 2 is not a client-initiated bidirectional stream".into(),
        error_space: ErrorSpace::Application,
        by_peer: false,
    };
    assert_eq!(c.closed(), Some(&ours));
    let terminated = QuicEvent::ConnectionTerminated {
        error_code: 0x108,
        reason: b"GOAWAY id 2 is not a client-initiated bidirectional stream",
        error_space: ErrorSpace::Application,
        by_peer: false,
    };
    assert_eq!(
        handle(&mut c, terminated.clone()),
        vec![H3Event::ConnectionClosed(ours.clone())]
    );
    assert!(handle(&mut c, terminated).is_empty());
    // The peer's close, with a transport code.
    let (mut c, _s) = pair(Mode::Chunks);
    let events = handle(
        &mut c,
        QuicEvent::ConnectionTerminated {
            error_code: 0x0a,
            reason: b"protocol violation",
            error_space: ErrorSpace::Transport,
            by_peer: true,
        },
    );
    assert_eq!(
        events,
        vec![H3Event::ConnectionClosed(ConnectionClose {
            error_code: 0x0a,
            reason: "protocol violation".into(),
            error_space: ErrorSpace::Transport,
            by_peer: true,
        })]
    );
    assert_eq!(
        c.send_headers(0, &pairs(GET), true),
        Err(H3Error::ConnectionClosed)
    );
}

#[test]
fn shutdown_after_the_close_is_refused() {
    let mut c = client_with_requests(&[]);
    recv(&mut c, SERVER_CONTROL, &goaway(2), false, Mode::Chunks);
    assert_eq!(c.shutdown(), Err(H3Error::ConnectionClosed));
    assert_eq!(c.shutdown_notice(), Err(H3Error::ConnectionClosed));
}
