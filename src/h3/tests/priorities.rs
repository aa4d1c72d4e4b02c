//! docs/BEHAVIOUR.md#priorities: a request's priority from its `priority` field and from
//! PRIORITY_UPDATE frames (with their errors), the application's calls, and what the
//! transport is told.

use crate::error::ErrorCode;
use crate::frame::{self, frame_type};
use crate::h3::test_support::*;
use crate::h3::{H3Error, H3Event, Priority, Settings};

const CLIENT_CONTROL: u64 = 2;
const SERVER_CONTROL: u64 = 3;
const REQUEST: u64 = frame_type::PRIORITY_UPDATE_REQUEST;
const PUSH: u64 = frame_type::PRIORITY_UPDATE_PUSH;

fn p(urgency: u8, incremental: bool) -> Priority {
    Priority {
        urgency,
        incremental,
    }
}

fn update(ty: u64, id: u64, value: &str) -> Vec<u8> {
    let mut out = Vec::new();
    frame::encode_priority_update(ty, id, value.as_bytes(), &mut out);
    out
}

/// A server that has the client's control stream.
fn server() -> Conn {
    let mut s = server_with(Settings::default());
    assert!(
        recv(
            &mut s,
            CLIENT_CONTROL,
            &control_stream(&[]),
            false,
            Mode::Chunks
        )
        .is_empty()
    );
    s
}

fn get_with_priority(value: &str) -> Vec<u8> {
    headers_frame(&[
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "localhost"),
        (":path", "/"),
        ("priority", value),
    ])
}

#[test]
fn a_request_field_sets_the_priority_the_transport_schedules_by() {
    for mode in MODES {
        let mut s = server();
        let events = recv(&mut s, 0, &get_with_priority("u=1, i"), true, mode);
        assert!(matches!(events[0], H3Event::HeadersReceived { .. }));
        assert_eq!(s.priority(0), Some(p(1, true)));
        assert_eq!(s.transport().priorities, vec![(0, p(1, true))]);
        // Without the field, or with a malformed one: the defaults.
        recv(&mut s, 4, &headers_frame(GET), true, mode);
        recv(&mut s, 8, &get_with_priority("u=9, i=maybe"), true, mode);
        recv(&mut s, 12, &get_with_priority("u=1,"), true, mode);
        for id in [4, 8, 12] {
            assert_eq!(s.priority(id), Some(Priority::DEFAULT), "stream {id}");
        }
        assert_open(&s);
    }
}

#[test]
fn several_priority_fields_are_one_list() {
    let mut s = server();
    let head = headers_frame(&[
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "localhost"),
        (":path", "/"),
        ("priority", "u=5"),
        ("priority", ""),
        ("priority", "i"),
    ]);
    recv(&mut s, 0, &head, true, Mode::Chunks);
    assert_eq!(s.priority(0), Some(p(5, true)));
}

#[test]
fn an_update_of_an_open_request_is_reported_and_scheduled() {
    for mode in MODES {
        let mut s = server();
        recv(&mut s, 0, &headers_frame(GET), false, mode);
        let events = recv(
            &mut s,
            CLIENT_CONTROL,
            &update(REQUEST, 0, "u=0"),
            false,
            mode,
        );
        assert_eq!(
            events,
            vec![H3Event::PriorityUpdate {
                stream_id: 0,
                push_id: None,
                priority: p(0, false)
            }]
        );
        assert_eq!(s.priority(0), Some(p(0, false)));
        assert_eq!(s.transport().priorities.last(), Some(&(0, p(0, false))));
        // A malformed value is the defaults, not an error.
        let events = recv(
            &mut s,
            CLIENT_CONTROL,
            &update(REQUEST, 0, "u=("),
            false,
            mode,
        );
        assert_eq!(s.priority(0), Some(Priority::DEFAULT));
        assert_eq!(events.len(), 1);
        assert_open(&s);
    }
}

#[test]
fn an_update_before_the_request_wins_over_its_field() {
    for mode in MODES {
        let mut s = server();
        assert!(
            recv(
                &mut s,
                CLIENT_CONTROL,
                &update(REQUEST, 8, "u=6, i"),
                false,
                mode
            )
            .is_empty()
        );
        let events = recv(&mut s, 8, &get_with_priority("u=0"), true, mode);
        assert!(matches!(events[0], H3Event::HeadersReceived { .. }));
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, H3Event::PriorityUpdate { .. })),
            "the application learns it with the request"
        );
        assert_eq!(s.priority(8), Some(p(6, true)));
        assert_eq!(s.transport().priorities, vec![(8, p(6, true))]);
    }
}

#[test]
fn an_update_while_the_head_is_still_arriving_is_kept_without_an_event() {
    let mut s = server();
    let head = get_with_priority("u=2");
    let (first, rest) = head.split_at(3);
    assert!(recv(&mut s, 0, first, false, Mode::Chunks).is_empty());
    assert!(
        recv(
            &mut s,
            CLIENT_CONTROL,
            &update(REQUEST, 0, "u=7"),
            false,
            Mode::Chunks
        )
        .is_empty()
    );
    recv(&mut s, 0, rest, true, Mode::Chunks);
    assert_eq!(s.priority(0), Some(p(7, false)), "the update wins");
}

#[test]
fn updates_for_unopened_requests_are_bounded() {
    let mut s = server();
    let limit = crate::h3::priorities::PENDING_UPDATES as u64;
    for i in 0..limit + 10 {
        recv(
            &mut s,
            CLIENT_CONTROL,
            &update(REQUEST, 4 * (i + 1), "u=0"),
            false,
            Mode::Chunks,
        );
    }
    recv(&mut s, 4 * limit, &headers_frame(GET), true, Mode::Chunks);
    recv(
        &mut s,
        4 * (limit + 5),
        &headers_frame(GET),
        true,
        Mode::Chunks,
    );
    assert_eq!(s.priority(4 * limit), Some(p(0, false)), "kept");
    assert_eq!(
        s.priority(4 * (limit + 5)),
        Some(Priority::DEFAULT),
        "beyond the bound"
    );
    assert_open(&s);
}

#[test]
fn an_update_for_a_finished_request_is_ignored() {
    let mut s = server();
    recv(&mut s, 0, &headers_frame(GET), true, Mode::Chunks);
    s.send_headers(0, &pairs(OK), true).unwrap();
    assert_eq!(s.priority(0), None);
    assert!(
        recv(
            &mut s,
            CLIENT_CONTROL,
            &update(REQUEST, 0, "u=0"),
            false,
            Mode::Chunks
        )
        .is_empty()
    );
    assert_open(&s);
}

#[test]
fn update_errors_close_the_connection() {
    let cases: &[(&str, Vec<u8>, ErrorCode, &str)] = &[
        (
            "not a request stream",
            update(REQUEST, 2, "u=1"),
            ErrorCode::IdError,
            "PRIORITY_UPDATE names stream 2, which is not a request stream",
        ),
        (
            "a server-initiated stream",
            update(REQUEST, 1, ""),
            ErrorCode::IdError,
            "PRIORITY_UPDATE names stream 1, which is not a request stream",
        ),
        (
            "a push never promised",
            update(PUSH, 0, "u=1"),
            ErrorCode::IdError,
            "PRIORITY_UPDATE names push 0, which was never promised",
        ),
        (
            "an empty payload",
            frame(REQUEST, b""),
            ErrorCode::FrameError,
            "Could not parse PRIORITY_UPDATE frame",
        ),
        (
            "an id cut short",
            frame(PUSH, &[0x40]),
            ErrorCode::FrameError,
            "Could not parse PRIORITY_UPDATE frame",
        ),
        (
            "larger than max_buffered_frame_size",
            frame(REQUEST, &[b'u'; 70_000]),
            ErrorCode::ExcessiveLoad,
            "Frame of type 0xf0700 exceeds 65536 bytes",
        ),
    ];
    for mode in MODES {
        for (what, bytes, code, reason) in cases {
            let mut s = server();
            recv(&mut s, CLIENT_CONTROL, bytes, false, mode);
            assert_closed(&s, *code, reason);
            let _ = what;
        }
    }
}

#[test]
fn priority_update_elsewhere_is_unexpected() {
    for mode in MODES {
        // From a server, on its control stream.
        let mut c = client_with(Settings::default());
        let control = cat(&[&control_stream(&[]), &update(REQUEST, 0, "u=1")]);
        recv(&mut c, SERVER_CONTROL, &control, false, mode);
        assert_closed(
            &c,
            ErrorCode::FrameUnexpected,
            "Servers must not send PRIORITY_UPDATE",
        );
        // On a request stream.
        let mut s = server();
        let bytes = cat(&[&headers_frame(GET), &update(REQUEST, 0, "u=1")]);
        recv(&mut s, 0, &bytes, false, mode);
        assert_closed(
            &s,
            ErrorCode::FrameUnexpected,
            "Invalid frame type on request stream",
        );
    }
}

#[test]
fn a_push_priority_comes_from_its_promise_and_updates() {
    for mode in MODES {
        let (mut c, mut s) = pair(mode);
        c.send_headers(0, &pairs(GET), true).unwrap();
        transfer(&mut c, &mut s, mode);
        let promised = [
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", "localhost"),
            (":path", "/style.css"),
            ("priority", "u=2"),
        ];
        let push_stream = s.send_push_promise(0, &pairs(&promised)).unwrap();
        assert_eq!(s.priority(push_stream), Some(p(2, false)));
        assert_eq!(
            s.transport().priorities.last(),
            Some(&(push_stream, p(2, false)))
        );
        s.send_headers(push_stream, &pairs(OK), false).unwrap();
        transfer(&mut s, &mut c, mode);
        // The client names the push by its push stream; the server reports the push.
        c.send_priority_update(push_stream, p(1, true)).unwrap();
        let events = transfer(&mut c, &mut s, mode);
        assert_eq!(
            events,
            vec![H3Event::PriorityUpdate {
                stream_id: push_stream,
                push_id: Some(0),
                priority: p(1, true)
            }]
        );
        assert_eq!(s.priority(push_stream), Some(p(1, true)));
    }
}

#[test]
fn a_client_sends_updates_for_its_requests() {
    for mode in MODES {
        let (mut c, mut s) = pair(mode);
        c.send_headers(0, &pairs(GET), false).unwrap();
        transfer(&mut c, &mut s, mode);
        c.send_priority_update(0, p(4, true)).unwrap();
        // A request not opened yet may be named too.
        c.send_priority_update(8, p(0, false)).unwrap();
        // What the client's own sending is scheduled by does not change.
        assert_eq!(c.priority(0), Some(Priority::DEFAULT));
        let events = transfer(&mut c, &mut s, mode);
        assert_eq!(
            events,
            vec![H3Event::PriorityUpdate {
                stream_id: 0,
                push_id: None,
                priority: p(4, true)
            }]
        );
        c.send_headers(4, &pairs(GET), true).unwrap();
        c.send_headers(8, &pairs(GET), true).unwrap();
        transfer(&mut c, &mut s, mode);
        assert_eq!(s.priority(8), Some(p(0, false)));
        assert_eq!(s.priority(4), Some(Priority::DEFAULT));
    }
}

#[test]
fn the_calls_refuse_what_they_cannot_do() {
    let (mut c, mut s) = pair(Mode::Chunks);
    assert_eq!(
        s.send_priority_update(0, p(1, false)),
        Err(H3Error::WrongRole("only clients send PRIORITY_UPDATE"))
    );
    assert!(matches!(
        c.send_priority_update(0, p(8, false)),
        Err(H3Error::InvalidArgument(_))
    ));
    assert!(matches!(
        c.send_priority_update(2, p(1, false)),
        Err(H3Error::InvalidStreamType(_))
    ));
    assert!(matches!(
        c.set_priority(0, p(9, false)),
        Err(H3Error::InvalidArgument(_))
    ));
    assert!(matches!(
        c.set_priority(2, p(1, false)),
        Err(H3Error::InvalidStreamType(_))
    ));
    assert_eq!(
        c.set_priority(0, p(1, false)),
        Err(H3Error::FrameUnexpected("stream was already ended")),
        "not opened: nothing to schedule"
    );
    // A finished request.
    c.send_headers(0, &pairs(GET), true).unwrap();
    transfer(&mut c, &mut s, Mode::Chunks);
    s.send_headers(0, &pairs(OK), true).unwrap();
    transfer(&mut s, &mut c, Mode::Chunks);
    assert_eq!(c.priority(0), None);
    assert_eq!(
        c.send_priority_update(0, p(1, false)),
        Err(H3Error::FrameUnexpected("stream was already ended"))
    );
    // set_priority on a live stream reaches the transport.
    c.send_headers(4, &pairs(GET), false).unwrap();
    c.set_priority(4, p(6, true)).unwrap();
    assert_eq!(c.priority(4), Some(p(6, true)));
    assert_eq!(c.transport().priorities.last(), Some(&(4, p(6, true))));
    assert_open(&c);
    assert_open(&s);
}
