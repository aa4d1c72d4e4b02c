//! HTTP datagrams (RFC 9297): quarter stream id, malformed input.

use bytes::Bytes;

use crate::error::ErrorCode;
use crate::h3::test_support::*;
use crate::h3::{H3Event, QuicEvent, Settings};

#[test]
fn malformed_datagrams_close_the_connection() {
    for data in [
        &b""[..],
        b"\x40",
        b"\x80\x00\x00",
        b"\xc0\x00\x00\x00\x00\x00\x00",
    ] {
        let mut s = server_with(Settings::default());
        assert!(handle(&mut s, QuicEvent::DatagramReceived { data: data.into() }).is_empty());
        assert_closed(
            &s,
            ErrorCode::DatagramError,
            "Could not parse quarter stream ID",
        );
    }
}

fn datagram_scenario(mode: Mode) -> Vec<H3Event> {
    let (mut c, mut s) = pair(mode);
    c.send_headers(0, &pairs(GET), false).unwrap();
    c.send_datagram(0, b"first").unwrap();
    c.send_datagram(400, b"").unwrap();
    let mut events = transfer(&mut c, &mut s, mode);
    s.send_datagram(0, b"reply").unwrap();
    events.extend(transfer(&mut s, &mut c, mode));
    events
}

#[test]
fn datagrams_carry_the_quarter_stream_id() {
    let expected = vec![
        H3Event::HeadersReceived {
            stream_id: 0,
            headers: fields(GET),
            stream_ended: false,
            push_id: None,
        },
        H3Event::DatagramReceived {
            stream_id: 0,
            data: Bytes::from_static(b"first"),
        },
        H3Event::DatagramReceived {
            stream_id: 400,
            data: Bytes::new(),
        },
        H3Event::DatagramReceived {
            stream_id: 0,
            data: Bytes::from_static(b"reply"),
        },
    ];
    for mode in MODES {
        assert_eq!(normalise(datagram_scenario(mode)), expected);
    }
}

#[test]
fn largest_quarter_stream_id() {
    let mut c = client_with(Settings::default());
    let data = cat(&[&v(crate::varint::MAX), b"z"]);
    let events = handle(
        &mut c,
        QuicEvent::DatagramReceived {
            data: (&data).into(),
        },
    );
    assert_eq!(
        events,
        vec![H3Event::DatagramReceived {
            stream_id: crate::varint::MAX * 4,
            data: Bytes::from_static(b"z")
        }]
    );
}
