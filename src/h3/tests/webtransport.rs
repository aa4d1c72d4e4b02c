//! WebTransport streams: uni (type 0x54 + session id) and bidi (frame 0x41 + session id).

use bytes::Bytes;

use crate::h3::test_support::*;
use crate::h3::{H3Event, Settings, Transport};

fn wt(stream_id: u64, session_id: u64, data: &[u8], ended: bool) -> H3Event {
    H3Event::WebTransportStreamDataReceived {
        stream_id,
        data: Bytes::copy_from_slice(data),
        stream_ended: ended,
        session_id,
    }
}

fn merge_wt(events: Vec<H3Event>) -> Vec<H3Event> {
    normalise(events)
}

fn wt_pair(mode: Mode) -> (Conn, Conn) {
    let on = Settings {
        enable_webtransport: true,
        ..Settings::default()
    };
    pair_with(on.clone(), on, mode)
}

#[test]
fn unidirectional_stream() {
    for mode in MODES {
        let (mut c, mut s) = wt_pair(mode);
        assert_eq!(s.received_setting(0x2b60_3742), Some(1));
        let id = c.create_webtransport_stream(0, true).unwrap();
        assert_eq!(id, 14);
        assert_eq!(
            c.transport().stream_bytes(id),
            cat(&[&v(0x54), &v(0)]).as_slice()
        );
        c.transport_mut()
            .send_stream_data(id, b"hello", true)
            .unwrap();
        let events = merge_wt(transfer(&mut c, &mut s, mode));
        assert_eq!(events, vec![wt(14, 0, b"hello", true)]);
        assert_eq!(s.tracked_streams(), 3, "forgotten after FIN");
    }
}

#[test]
fn bidirectional_stream_both_ways() {
    for mode in MODES {
        let (mut c, mut s) = wt_pair(mode);
        let id = c.create_webtransport_stream(0, false).unwrap();
        assert_eq!(id, 0);
        assert_eq!(
            c.transport().stream_bytes(id),
            cat(&[&v(0x41), &v(0)]).as_slice()
        );
        c.transport_mut()
            .send_stream_data(id, b"ping", false)
            .unwrap();
        let events = merge_wt(transfer(&mut c, &mut s, mode));
        assert_eq!(events, vec![wt(0, 0, b"ping", false)]);
        s.transport_mut()
            .send_stream_data(0, b"pong", true)
            .unwrap();
        let events = merge_wt(transfer(&mut s, &mut c, mode));
        assert_eq!(events, vec![wt(0, 0, b"pong", true)]);
        assert_eq!(
            c.tracked_streams(),
            3,
            "client forgot it after the peer's FIN"
        );
        let events = merge_wt(recv(&mut s, 0, b"", true, mode));
        assert_eq!(events, vec![wt(0, 0, b"", true)]);
        assert_eq!(s.tracked_streams(), 3);
    }
}

#[test]
fn session_id_split_across_events() {
    let mut s = server_with(Settings::default());
    let bytes = cat(&[&v(0x54), &v(1_000_000), b"abc"]);
    let events = merge_wt(recv(&mut s, 2, &bytes, false, Mode::Bytes));
    assert_eq!(events, vec![wt(2, 1_000_000, b"abc", false)]);
}
