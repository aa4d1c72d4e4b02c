//! docs/BEHAVIOUR.md#being-a-good-citizen: GREASE sent by default (and understood by us),
//! ORIGIN frames sent by a server and reported by a client.

use crate::error::ErrorCode;
use crate::frame::{self, frame_type};
use crate::h3::test_support::*;
use crate::h3::{H3Error, H3Event, Settings};
use crate::varint;

const SERVER_CONTROL: u64 = 3;
const CLIENT_CONTROL: u64 = 2;

/// The frames of a control stream (after its type): (type, payload).
fn control_frames(bytes: &[u8]) -> Vec<(u64, Vec<u8>)> {
    let mut frames = Vec::new();
    let (_, n) = varint::decode(bytes).unwrap();
    let mut rest = &bytes[n..];
    while !rest.is_empty() {
        let (ty, a) = varint::decode(rest).unwrap();
        let (len, b) = varint::decode(&rest[a..]).unwrap();
        frames.push((ty, rest[a + b..a + b + len as usize].to_vec()));
        rest = &rest[a + b + len as usize..];
    }
    frames
}

#[test]
fn grease_is_sent_by_default_and_varies() {
    let mut setting_ids = Vec::new();
    for _ in 0..16 {
        let c = client_with(Settings::default());
        let grease: Vec<u64> = c
            .sent_settings()
            .keys()
            .copied()
            .filter(|id| frame::is_grease(*id))
            .collect();
        assert_eq!(grease.len(), 1, "one reserved setting");
        setting_ids.push(grease[0]);
        // SETTINGS first, MAX_PUSH_ID, then one reserved frame type.
        let frames = control_frames(c.transport().stream_bytes(2));
        let types: Vec<u64> = frames.iter().map(|(ty, _)| *ty).collect();
        assert_eq!(types.len(), 3, "{types:x?}");
        assert_eq!(types[..2], [frame_type::SETTINGS, frame_type::MAX_PUSH_ID]);
        assert!(frame::is_grease(types[2]), "{:#x}", types[2]);
        assert!(frames[2].1.len() < 8);
    }
    setting_ids.sort_unstable();
    setting_ids.dedup();
    assert!(
        setting_ids.len() > 1,
        "random per connection: {setting_ids:x?}"
    );
}

#[test]
fn grease_can_be_turned_off() {
    let settings = Settings {
        enable_grease: false,
        ..Settings::default()
    };
    let s = server_with(settings);
    assert!(!s.sent_settings().keys().any(|id| frame::is_grease(*id)));
    let frames = control_frames(s.transport().stream_bytes(3));
    assert_eq!(frames.len(), 1, "SETTINGS only");
}

#[test]
fn our_peer_ignores_our_grease() {
    for mode in MODES {
        let (mut c, mut s) = pair(mode);
        let grease = c
            .sent_settings()
            .iter()
            .find(|(id, _)| frame::is_grease(**id))
            .map(|(id, value)| (*id, *value))
            .unwrap();
        assert_eq!(s.received_setting(grease.0), Some(grease.1));
        c.send_headers(0, &pairs(GET), true).unwrap();
        assert_eq!(transfer(&mut c, &mut s, mode).len(), 2);
        assert_open(&s);
        assert_open(&c);
    }
}

#[test]
fn a_server_sends_origin_and_a_client_reports_it() {
    for mode in MODES {
        let (mut c, mut s) = pair(mode);
        s.send_origin(&[b"https://example.com", b"https://cdn.example.com:8443"])
            .unwrap();
        let events = transfer(&mut s, &mut c, mode);
        assert_eq!(
            events,
            vec![H3Event::OriginReceived {
                origins: vec![
                    bytes::Bytes::from_static(b"https://example.com"),
                    bytes::Bytes::from_static(b"https://cdn.example.com:8443"),
                ]
            }]
        );
        // An empty ORIGIN frame is fine too.
        s.send_origin(&[]).unwrap();
        assert_eq!(
            transfer(&mut s, &mut c, mode),
            vec![H3Event::OriginReceived { origins: vec![] }]
        );
        assert_eq!(
            c.send_origin(&[b"https://client.example"]),
            Err(H3Error::WrongRole("Only servers may send an ORIGIN frame."))
        );
        let long = vec![b'a'; 65_536];
        assert!(matches!(
            s.send_origin(&[&long]),
            Err(H3Error::InvalidArgument(_))
        ));
    }
}

#[test]
fn a_server_ignores_origin_and_a_client_refuses_a_malformed_one() {
    for mode in MODES {
        let mut s = server_with(Settings::default());
        let bytes = cat(&[
            &control_stream(&[]),
            &frame(frame_type::ORIGIN, &[0x00, 0x03, b'a', b'b', b'c']),
            &frame(frame_type::ORIGIN, &[0xff]),
        ]);
        assert!(recv(&mut s, CLIENT_CONTROL, &bytes, false, mode).is_empty());
        assert_open(&s);
        let mut c = client_with(Settings::default());
        let bytes = cat(&[
            &control_stream(&[]),
            &frame(frame_type::ORIGIN, &[0x00, 0x05, b'a']),
        ]);
        recv(&mut c, SERVER_CONTROL, &bytes, false, mode);
        assert_closed(&c, ErrorCode::FrameError, "Could not parse ORIGIN frame");
    }
}

#[test]
fn an_origin_frame_larger_than_the_buffer_limit_is_refused_from_its_header() {
    let settings = Settings {
        max_buffered_frame_size: 100,
        ..Settings::default()
    };
    let mut c = client_with(settings);
    let mut bytes = control_stream(&[]);
    frame::encode_frame_header(frame_type::ORIGIN, 1 << 30, &mut bytes);
    recv(&mut c, SERVER_CONTROL, &bytes, false, Mode::Chunks);
    assert_closed(
        &c,
        ErrorCode::ExcessiveLoad,
        "Frame of type 0xc exceeds 100 bytes",
    );
}
