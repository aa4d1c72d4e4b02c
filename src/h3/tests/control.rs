//! "Receiving on the peer's control stream".

use crate::error::ErrorCode;
use crate::frame::{frame_type, setting};
use crate::h3::test_support::*;
use crate::h3::{H3Error, H3Event, QuicEvent, Settings};

const SERVER_PEER_CONTROL: u64 = 2; // a server's peer (client) control stream
const CLIENT_PEER_CONTROL: u64 = 3;

fn settings_frame(list: &[(u64, u64)]) -> Vec<u8> {
    let mut payload = Vec::new();
    for (id, value) in list {
        payload.extend(v(*id));
        payload.extend(v(*value));
    }
    frame(frame_type::SETTINGS, &payload)
}

/// Feeds `bytes` on the peer's control stream of a fresh server (or client).
fn on_control(is_client: bool, bytes: &[u8], fin: bool, mode: Mode) -> Conn {
    let mut conn = if is_client {
        client_with(Settings::default())
    } else {
        server_with(Settings::default())
    };
    let id = if is_client {
        CLIENT_PEER_CONTROL
    } else {
        SERVER_PEER_CONTROL
    };
    assert!(recv(&mut conn, id, bytes, fin, mode).is_empty());
    conn
}

fn after_settings(rest: &[u8]) -> Vec<u8> {
    cat(&[&control_stream(&[]), rest])
}

#[test]
fn first_frame_must_be_settings() {
    let cases: Vec<Vec<u8>> = vec![
        cat(&[&v(0), &frame(0x21, b"")]),
        cat(&[&v(0), &frame(0x1f * 3 + 0x21, b"grease")]),
        cat(&[&v(0), &frame(frame_type::DATA, b"x")]),
        cat(&[&v(0), &frame(frame_type::GOAWAY, &v(0))]),
        cat(&[&v(0), &frame(frame_type::MAX_PUSH_ID, &v(1))]),
        // header alone: no payload needed to decide
        cat(&[&v(0), &v(0x21), &v(1 << 20)]),
    ];
    for mode in MODES {
        for bytes in &cases {
            let conn = on_control(false, bytes, false, mode);
            assert_closed(&conn, ErrorCode::MissingSettings, "");
        }
    }
}

#[test]
fn second_settings_is_unexpected() {
    for mode in MODES {
        let conn = on_control(false, &after_settings(&settings_frame(&[])), false, mode);
        assert_closed(
            &conn,
            ErrorCode::FrameUnexpected,
            "SETTINGS have already been received",
        );
    }
}

#[test]
fn forbidden_frames_are_rejected_from_their_header_alone() {
    for ty in [
        frame_type::DATA,
        frame_type::HEADERS,
        frame_type::PUSH_PROMISE,
        0x2,
        0x6,
        0x8,
        0x9,
    ] {
        for mode in MODES {
            // A 1 MB payload is announced but never sent: the header decides.
            let bytes = after_settings(&cat(&[&v(ty), &v(1 << 20)]));
            let conn = on_control(false, &bytes, false, mode);
            assert_closed(
                &conn,
                ErrorCode::FrameUnexpected,
                "Invalid frame type on control stream",
            );
        }
    }
}

#[test]
fn max_push_id_from_a_server_is_rejected() {
    for mode in MODES {
        let bytes = after_settings(&cat(&[&v(frame_type::MAX_PUSH_ID), &v(1 << 20)]));
        let conn = on_control(true, &bytes, false, mode);
        assert_closed(
            &conn,
            ErrorCode::FrameUnexpected,
            "Servers must not send MAX_PUSH_ID",
        );
    }
}

#[test]
fn settings_validation() {
    type Case<'a> = (&'a [(u64, u64)], ErrorCode, &'a str);
    let cases: &[Case] = &[
        (
            &[(0x0, 1)],
            ErrorCode::SettingsError,
            "Setting identifier 0x0 is reserved",
        ),
        (
            &[(0x2, 1)],
            ErrorCode::SettingsError,
            "Setting identifier 0x2 is reserved",
        ),
        (
            &[(0x3, 1)],
            ErrorCode::SettingsError,
            "Setting identifier 0x3 is reserved",
        ),
        (
            &[(0x4, 1)],
            ErrorCode::SettingsError,
            "Setting identifier 0x4 is reserved",
        ),
        (
            &[(0x5, 1)],
            ErrorCode::SettingsError,
            "Setting identifier 0x5 is reserved",
        ),
        (
            &[(0x1, 1), (0x1, 2)],
            ErrorCode::SettingsError,
            "Setting identifier 0x1 is included twice",
        ),
        (
            &[(setting::ENABLE_CONNECT_PROTOCOL, 2)],
            ErrorCode::SettingsError,
            "ENABLE_CONNECT_PROTOCOL setting must be 0 or 1",
        ),
        (
            &[(setting::H3_DATAGRAM, 2)],
            ErrorCode::SettingsError,
            "H3_DATAGRAM setting must be 0 or 1",
        ),
        (
            &[(setting::ENABLE_WEBTRANSPORT, 2)],
            ErrorCode::SettingsError,
            "ENABLE_WEBTRANSPORT setting must be 0 or 1",
        ),
        (
            &[(setting::ENABLE_WEBTRANSPORT, 1)],
            ErrorCode::SettingsError,
            "ENABLE_WEBTRANSPORT requires H3_DATAGRAM",
        ),
        (
            &[(setting::ENABLE_WEBTRANSPORT, 1), (setting::H3_DATAGRAM, 0)],
            ErrorCode::SettingsError,
            "ENABLE_WEBTRANSPORT requires H3_DATAGRAM",
        ),
    ];
    for mode in MODES {
        for (list, code, reason) in cases {
            let conn = on_control(false, &cat(&[&v(0), &settings_frame(list)]), false, mode);
            assert_closed(&conn, *code, reason);
        }
    }
}

#[test]
fn truncated_settings_is_a_frame_error() {
    for payload in [&b"\x01"[..], b"\x01\x40", b"\x40"] {
        for mode in MODES {
            let conn = on_control(
                false,
                &cat(&[&v(0), &frame(frame_type::SETTINGS, payload)]),
                false,
                mode,
            );
            assert_closed(
                &conn,
                ErrorCode::FrameError,
                "Could not parse SETTINGS frame",
            );
        }
    }
}

#[test]
fn h3_datagram_needs_the_transport_parameter() {
    for mode in MODES {
        let mut conn = server_with(Settings::default());
        conn.transport_mut().remote_max_datagram_frame_size = 0;
        recv(
            &mut conn,
            2,
            &cat(&[&v(0), &settings_frame(&[(setting::H3_DATAGRAM, 1)])]),
            false,
            mode,
        );
        assert_closed(
            &conn,
            ErrorCode::SettingsError,
            "H3_DATAGRAM requires max_datagram_frame_size transport parameter",
        );

        let mut conn = server_with(Settings::default());
        recv(
            &mut conn,
            2,
            &cat(&[
                &v(0),
                &settings_frame(&[(setting::H3_DATAGRAM, 1), (setting::ENABLE_WEBTRANSPORT, 1)]),
            ]),
            false,
            mode,
        );
        assert_open(&conn);
    }
}

#[test]
fn received_settings_keep_every_identifier() {
    for mode in MODES {
        let mut conn = server_with(Settings::default());
        assert_eq!(conn.received_settings(), None);
        assert_eq!(conn.received_setting(1), None);
        let list = [
            (0x1, 0),
            (0x21, 7),
            (0x1f * 9 + 0x21, crate::varint::MAX),
            (0x2b60_3742, 0),
            (0x7, 100),
        ];
        recv(
            &mut conn,
            2,
            &cat(&[&v(0), &settings_frame(&list)]),
            false,
            mode,
        );
        assert_open(&conn);
        let got: Vec<(u64, u64)> = conn
            .received_settings()
            .unwrap()
            .iter()
            .map(|(k, v)| (*k, *v))
            .collect();
        let mut want = list.to_vec();
        want.sort();
        assert_eq!(got, want);
        assert_eq!(conn.received_setting(0x21), Some(7));
        assert_eq!(conn.received_setting(0x6), None);
    }
}

#[test]
fn max_push_id_parsing_and_monotonicity() {
    type Case<'a> = (&'a [u8], Option<(ErrorCode, &'a str)>);
    let cases: &[Case] = &[
        (
            &frame(frame_type::MAX_PUSH_ID, b""),
            Some((ErrorCode::FrameError, "Could not parse MAX_PUSH_ID frame")),
        ),
        (
            &frame(frame_type::MAX_PUSH_ID, b"\x40"),
            Some((ErrorCode::FrameError, "Could not parse MAX_PUSH_ID frame")),
        ),
        (
            &frame(frame_type::MAX_PUSH_ID, b"\x05\x00"),
            Some((ErrorCode::FrameError, "MAX_PUSH_ID frame has trailing data")),
        ),
        (
            &cat(&[&v(frame_type::MAX_PUSH_ID), &v(1 << 20)]),
            Some((ErrorCode::FrameError, "MAX_PUSH_ID frame has trailing data")),
        ),
        (
            &cat(&[
                &frame(frame_type::MAX_PUSH_ID, &v(5)),
                &frame(frame_type::MAX_PUSH_ID, &v(4)),
            ]),
            Some((
                ErrorCode::IdError,
                "MAX_PUSH_ID reduced the maximum push ID",
            )),
        ),
        (
            &cat(&[
                &frame(frame_type::MAX_PUSH_ID, &v(5)),
                &frame(frame_type::MAX_PUSH_ID, &v(5)),
                &frame(frame_type::MAX_PUSH_ID, &v(9)),
            ]),
            None,
        ),
    ];
    for mode in MODES {
        for (bytes, expected) in cases {
            let conn = on_control(false, &after_settings(bytes), false, mode);
            match expected {
                Some((code, reason)) => assert_closed(&conn, *code, reason),
                None => assert_open(&conn),
            }
        }
    }
}

#[test]
fn unknown_frames_are_skipped_and_goaway_reported() {
    for mode in MODES {
        let big = vec![0xaa; 200_000];
        let bytes = after_settings(&cat(&[
            &frame(frame_type::GOAWAY, &v(0)),
            &frame(0x21, &big),
            &frame(0x1f * 1000 + 0x21, b""),
            &frame(frame_type::MAX_PUSH_ID, &v(3)),
        ]));
        let mut conn = server_with(Settings::default());
        let events = recv(&mut conn, SERVER_PEER_CONTROL, &bytes, false, mode);
        // A client's GOAWAY carries a push id: 0, no push at all.
        assert_eq!(events, vec![H3Event::GoawayReceived { id: 0 }]);
        assert_open(&conn);
        // the MAX_PUSH_ID after them was seen, but the GOAWAY refuses every push
        recv(&mut conn, 0, &headers_frame(GET), false, Mode::Chunks);
        assert_eq!(
            conn.send_push_promise(0, &pairs(GET)),
            Err(H3Error::GoingAway)
        );
        // Without the GOAWAY, push ids 0..=3 are available.
        let bytes = after_settings(&cat(&[
            &frame(0x21, &big),
            &frame(frame_type::MAX_PUSH_ID, &v(3)),
        ]));
        let mut conn = on_control(false, &bytes, false, mode);
        recv(&mut conn, 0, &headers_frame(GET), false, Mode::Chunks);
        for _ in 0..4 {
            conn.send_push_promise(0, &pairs(GET)).unwrap();
        }
        assert_eq!(
            conn.send_push_promise(0, &pairs(GET)),
            Err(H3Error::NoAvailablePushId)
        );
    }
}

#[test]
fn unknown_frame_payload_is_not_buffered() {
    // An unknown frame announcing 2^40 bytes is skipped as it streams in: memory stays flat.
    let mut conn = server_with(Settings::default());
    recv(
        &mut conn,
        2,
        &after_settings(&cat(&[&v(0x21), &v(1 << 40)])),
        false,
        Mode::Chunks,
    );
    let chunk = vec![0u8; 64 * 1024];
    for _ in 0..64 {
        recv(&mut conn, 2, &chunk, false, Mode::Chunks);
    }
    assert_open(&conn);
    let stream = conn.streams.get(&2).unwrap();
    assert!(matches!(
        stream.parse,
        crate::h3::stream::Parse::Skip { .. }
    ));
}

#[test]
fn oversized_settings_is_excessive_load() {
    let mut conn = server_with(Settings::default());
    recv(
        &mut conn,
        2,
        &cat(&[&v(0), &v(frame_type::SETTINGS), &v(1 << 30)]),
        false,
        Mode::Chunks,
    );
    assert_eq!(
        conn.transport().closed[0].0,
        ErrorCode::ExcessiveLoad.wire()
    );
}

#[test]
fn closing_the_control_stream_is_an_error() {
    for mode in MODES {
        let conn = on_control(false, &control_stream(&[]), true, mode);
        assert_closed(
            &conn,
            ErrorCode::ClosedCriticalStream,
            "Closing control stream is not allowed",
        );
    }
}

#[test]
fn resetting_a_peer_critical_stream_is_an_error() {
    for ty in [0u64, 2, 3] {
        let mut conn = server_with(Settings::default());
        recv(&mut conn, 2, &v(ty), false, Mode::Chunks);
        handle(
            &mut conn,
            QuicEvent::StreamReset {
                stream_id: 2,
                error_code: 0,
            },
        );
        assert_closed(
            &conn,
            ErrorCode::ClosedCriticalStream,
            "Resetting a critical stream is not allowed",
        );
    }
}

#[test]
fn stop_sending_on_our_critical_stream_is_an_error() {
    for id in [3u64, 7, 11] {
        let mut conn = server_with(Settings::default());
        handle(
            &mut conn,
            QuicEvent::StopSendingReceived {
                stream_id: id,
                error_code: 0,
            },
        );
        assert_closed(
            &conn,
            ErrorCode::ClosedCriticalStream,
            "Stopping a critical stream is not allowed",
        );
    }
}

#[test]
fn peer_qpack_settings_configure_our_encoder() {
    // With the peer's SETTINGS applied, our encoder may write to our encoder stream; with
    // capacity 0 it must not.
    for mode in MODES {
        let mut conn = server_with(Settings::default());
        recv(
            &mut conn,
            2,
            &cat(&[&v(0), &settings_frame(&[(0x1, 0), (0x7, 0)])]),
            false,
            mode,
        );
        recv(&mut conn, 0, &headers_frame(GET), false, mode);
        conn.send_headers(0, &pairs(&[(":status", "200"), ("x-a", "b")]), true)
            .unwrap();
        assert_eq!(
            conn.transport().stream_bytes(7),
            b"\x02",
            "nothing on the encoder stream"
        );
    }
}
