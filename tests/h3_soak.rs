//! 100,000 sequential requests on one client/server pair, in memory: per-stream state
//! returns to the baseline after every exchange and the heap does not grow.
//!
//! This test binary counts live heap bytes with the harness's counting allocator.

mod harness;

use h3q::h3::{H3Connection, H3Event, QuicEvent, Settings, Transport};
use h3q::test_transport::{FakeTransport, Wire};

use harness::alloc::Counting;

#[global_allocator]
static HEAP: Counting = Counting::new();

type Conn = H3Connection<FakeTransport>;

/// A transport that keeps what is sent for the peer until [`transfer`] takes it, and no
/// history (`record` off): its memory stays flat over the run.
fn transport(is_client: bool) -> FakeTransport {
    let mut t = FakeTransport::new(is_client);
    t.record = false;
    t.remote_max_datagram_frame_size = 0;
    t
}

/// Our QPACK encoder stream (client 6, server 7).
fn is_encoder_stream(stream_id: u64) -> bool {
    stream_id == 6 || stream_id == 7
}

/// Delivers `from`'s queued data to `to`, reusing `wire` and `events`; adds the bytes
/// `from` wrote on its QPACK encoder stream to `encoder_stream_bytes`.
fn transfer(
    from: &mut Conn,
    to: &mut Conn,
    wire: &mut Vec<Wire>,
    events: &mut Vec<H3Event>,
    encoder_stream_bytes: &mut usize,
) {
    std::mem::swap(wire, &mut from.transport_mut().pending);
    for item in wire.drain(..) {
        let Wire::Stream {
            stream_id,
            data,
            fin,
        } = item
        else {
            panic!("the soak sends only stream data, not {item:?}");
        };
        if is_encoder_stream(stream_id) {
            *encoder_stream_bytes += data.len();
        }
        receive(to, stream_id, &data, false, events);
        if fin {
            receive(to, stream_id, b"", true, events);
        }
    }
}

/// Hands `to` one piece of stream data.
fn receive(
    to: &mut Conn,
    stream_id: u64,
    data: &[u8],
    end_stream: bool,
    events: &mut Vec<H3Event>,
) {
    let event = QuicEvent::StreamDataReceived {
        stream_id,
        data: data.into(),
        end_stream,
    };
    to.handle_event_into(event, events)
        .expect("no protocol error in the soak");
}

const GET: &[(&[u8], &[u8])] = &[
    (b":method", b"GET"),
    (b":scheme", b"https"),
    (b":authority", b"localhost"),
    (b":path", b"/index.html"),
    (b"user-agent", b"h3q-soak"),
];
const OK: &[(&[u8], &[u8])] = &[(b":status", b"200"), (b"content-type", b"text/plain")];

/// Bytes written on each side's QPACK encoder stream: (client, server).
type EncoderBytes = (usize, usize);

fn exchange(
    c: &mut Conn,
    s: &mut Conn,
    wire: &mut Vec<Wire>,
    events: &mut Vec<H3Event>,
    encoder: &mut EncoderBytes,
) {
    let id = c
        .transport_mut()
        .get_next_available_stream_id(false)
        .unwrap();
    c.send_headers(id, GET, true).unwrap();
    events.clear();
    transfer(c, s, wire, events, &mut encoder.0);
    assert_eq!(events.len(), 2, "request headers + FIN");
    s.send_headers(id, OK, false).unwrap();
    s.send_data(id, b"hello, world", true).unwrap();
    events.clear();
    transfer(s, c, wire, events, &mut encoder.1);
    assert_eq!(events.len(), 3, "response headers + data + FIN");
    assert!(
        matches!(&events[1], H3Event::DataReceived { data, .. } if data.as_ref() == b"hello, world")
    );
}

#[test]
fn hundred_thousand_requests_do_not_grow_state_or_memory() {
    let mut c = H3Connection::new(transport(true), Settings::default()).unwrap();
    let mut s = H3Connection::new(transport(false), Settings::default()).unwrap();
    let mut wire = Vec::new();
    let mut events = Vec::new();
    let mut encoder = EncoderBytes::default();
    transfer(&mut c, &mut s, &mut wire, &mut events, &mut encoder.0);
    transfer(&mut s, &mut c, &mut wire, &mut events, &mut encoder.1);
    assert!(events.is_empty());
    let baseline = (c.tracked_streams(), s.tracked_streams());
    assert_eq!(
        baseline,
        (3, 3),
        "the peer's 3 unidirectional streams on each side"
    );

    let mut live_at_10k = 0;
    for i in 1..=100_000u32 {
        exchange(&mut c, &mut s, &mut wire, &mut events, &mut encoder);
        if i % 10_000 == 0 {
            assert_eq!(
                (c.tracked_streams(), s.tracked_streams()),
                baseline,
                "after {i} requests"
            );
        }
        if i == 10_000 {
            live_at_10k = HEAP.live();
        }
    }
    let live_at_100k = HEAP.live();
    assert!(c.transport().closed.is_empty() && s.transport().closed.is_empty());
    assert!(!c.is_closed() && !s.is_closed());
    let growth = live_at_100k - live_at_10k;
    eprintln!("live heap: {live_at_10k} bytes after 10k requests, {live_at_100k} after 100k");
    eprintln!(
        "encoder stream bytes: client {}, server {}",
        encoder.0, encoder.1
    );
    assert!(
        growth < 16 * 1024,
        "heap grew by {growth} bytes between 10k and 100k requests"
    );
}
