//! Unused QUIC events, the close-once rule, and stream state being freed.

use crate::error::ErrorCode;
use crate::h3::test_support::*;
use crate::h3::{ConnectionClose, ErrorSpace, H3Event, QuicEvent, Settings, Transport};

#[test]
fn quic_events_without_use_produce_nothing() {
    let (mut c, _s) = pair(Mode::Chunks);
    assert!(handle(&mut c, QuicEvent::HandshakeCompleted { alpn: Some(b"h3") }).is_empty());
    assert!(handle(&mut c, QuicEvent::HandshakeCompleted { alpn: None }).is_empty());
    // resets / stop sending of unknown streams
    assert!(
        handle(
            &mut c,
            QuicEvent::StopSendingReceived {
                stream_id: 40,
                error_code: 0
            }
        )
        .is_empty()
    );
    assert!(
        handle(
            &mut c,
            QuicEvent::StreamReset {
                stream_id: 41,
                error_code: 0
            }
        )
        .is_empty()
    );
    assert_open(&c);
    assert_eq!(c.tracked_streams(), 3);
}

#[test]
fn a_terminated_quic_connection_ends_http3_quietly() {
    let (mut c, _s) = pair(Mode::Chunks);
    c.send_headers(0, &pairs(GET), false).unwrap();
    let terminated = QuicEvent::ConnectionTerminated {
        error_code: 0x100,
        reason: b"bye",
        error_space: ErrorSpace::Application,
        by_peer: true,
    };
    // Only the one report of how the connection ended.
    assert_eq!(
        handle(&mut c, terminated.clone()),
        vec![H3Event::ConnectionClosed(ConnectionClose {
            error_code: 0x100,
            reason: "bye".into(),
            error_space: ErrorSpace::Application,
            by_peer: true,
        })]
    );
    assert!(handle(&mut c, terminated).is_empty(), "reported once");
    assert!(c.is_closed());
    assert_eq!(c.transport().closed, vec![], "no close of our own");
    assert_eq!(c.tracked_streams(), 0, "state released");
    assert_eq!(
        c.send_data(0, b"x", true),
        Err(crate::h3::H3Error::ConnectionClosed)
    );
    assert_eq!(
        c.send_headers(4, &pairs(GET), true),
        Err(crate::h3::H3Error::ConnectionClosed)
    );
}

#[test]
fn the_failing_call_reports_nothing_and_close_happens_once() {
    let mut s = server_with(Settings::default());
    // a valid request followed, in the same event, by a bad frame
    let bytes = cat(&[&headers_frame(GET), &frame(0x2, b"")]);
    let events = handle(
        &mut s,
        QuicEvent::StreamDataReceived {
            stream_id: 0,
            data: (&bytes).into(),
            end_stream: false,
        },
    );
    assert!(events.is_empty());
    assert_closed(
        &s,
        ErrorCode::FrameUnexpected,
        "Invalid frame type on request stream",
    );
    for _ in 0..3 {
        assert!(recv(&mut s, 2, &frame(0, b""), true, Mode::Bytes).is_empty());
        handle(
            &mut s,
            QuicEvent::StreamReset {
                stream_id: 2,
                error_code: 0,
            },
        );
    }
    assert_eq!(s.transport().closed.len(), 1);
}

#[test]
fn handle_event_into_keeps_earlier_events() {
    let mut s = server_with(Settings::default());
    let mut out = Vec::new();
    handle_into(
        &mut s,
        QuicEvent::StreamDataReceived {
            stream_id: 0,
            data: (&headers_frame(GET)).into(),
            end_stream: false,
        },
        &mut out,
    );
    assert_eq!(out.len(), 1);
    handle_into(
        &mut s,
        QuicEvent::StreamDataReceived {
            stream_id: 4,
            data: (&frame(0, b"x")).into(),
            end_stream: false,
        },
        &mut out,
    );
    assert_eq!(out.len(), 1, "only the failing call's events are dropped");
    assert!(s.is_closed());
}

#[test]
fn request_streams_are_freed_when_both_sides_are_done() {
    for mode in MODES {
        let (mut c, mut s) = pair(mode);
        c.send_headers(0, &pairs(GET), true).unwrap();
        assert_eq!(c.tracked_streams(), 4);
        transfer(&mut c, &mut s, mode);
        assert_eq!(s.tracked_streams(), 4, "the response is still to be sent");
        s.send_headers(0, &pairs(OK), false).unwrap();
        s.send_data(0, b"x", true).unwrap();
        assert_eq!(s.tracked_streams(), 3);
        transfer(&mut s, &mut c, mode);
        assert_eq!(c.tracked_streams(), 3);
    }
}

#[test]
fn stop_sending_and_reset_free_streams() {
    // server: request received, then STOP_SENDING (our half ends) and the request FIN
    let (mut c, mut s) = pair(Mode::Chunks);
    c.send_headers(0, &pairs(GET), true).unwrap();
    transfer(&mut c, &mut s, Mode::Chunks);
    handle(
        &mut s,
        QuicEvent::StopSendingReceived {
            stream_id: 0,
            error_code: 0x10c,
        },
    );
    assert_eq!(s.tracked_streams(), 3);

    // client: request sent without FIN, peer resets, then STOP_SENDING
    let (mut c, _s) = pair(Mode::Chunks);
    c.send_headers(0, &pairs(GET), false).unwrap();
    handle(
        &mut c,
        QuicEvent::StreamReset {
            stream_id: 0,
            error_code: 0x10c,
        },
    );
    assert_eq!(c.tracked_streams(), 4);
    handle(
        &mut c,
        QuicEvent::StopSendingReceived {
            stream_id: 0,
            error_code: 0x10c,
        },
    );
    assert_eq!(c.tracked_streams(), 3);
    assert_open(&c);

    // server push stream: freed when its sending ends
    let (mut c, mut s) = pair(Mode::Chunks);
    c.send_headers(0, &pairs(GET), true).unwrap();
    transfer(&mut c, &mut s, Mode::Chunks);
    let push = s.send_push_promise(0, &pairs(GET)).unwrap();
    assert_eq!(s.tracked_streams(), 5);
    s.send_headers(push, &pairs(OK), true).unwrap();
    s.send_headers(0, &pairs(OK), true).unwrap();
    assert_eq!(s.tracked_streams(), 3);
}

#[test]
fn many_reset_requests_leave_nothing_behind() {
    let (mut c, mut s) = pair(Mode::Chunks);
    for i in 0..200u64 {
        let id = i * 4;
        c.send_headers(id, &pairs(GET), false).unwrap();
        transfer(&mut c, &mut s, Mode::Chunks);
        c.transport_mut().reset_stream(id, 0x10c).unwrap();
        transfer(&mut c, &mut s, Mode::Chunks);
        handle(
            &mut s,
            QuicEvent::StopSendingReceived {
                stream_id: id,
                error_code: 0x10c,
            },
        );
        handle(
            &mut c,
            QuicEvent::StopSendingReceived {
                stream_id: id,
                error_code: 0x10c,
            },
        );
        handle(
            &mut c,
            QuicEvent::StreamReset {
                stream_id: id,
                error_code: 0x10c,
            },
        );
    }
    assert_eq!(s.tracked_streams(), 3);
    assert_eq!(c.tracked_streams(), 3);
    assert_open(&s);
    assert_open(&c);
}

#[test]
fn a_connection_can_move_between_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<crate::h3::H3Connection<FakeTransport>>();
    let (c, _s) = pair(Mode::Chunks);
    let c = std::thread::spawn(move || c).join().unwrap();
    assert_open(&c);
}
