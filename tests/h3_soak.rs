//! 100,000 sequential requests on one client/server pair, in memory: per-stream state
//! returns to the baseline after every exchange and the heap does not grow.
//!
//! This test binary counts live heap bytes with its own global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use h3q::h3::{H3Connection, H3Event, QuicEvent, Settings, Transport, TransportError};

struct Counting;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

// GlobalAlloc is an unsafe trait, so counting needs `unsafe`: this test-only wrapper is
// the crate's one use of it outside the FFI layer, and it only forwards to the system
// allocator with the caller's arguments.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A transport that queues stream data for the peer.
struct Queue {
    is_client: bool,
    next_bidi: u64,
    next_uni: u64,
    out: Vec<(u64, Vec<u8>, bool)>,
    closed: bool,
    /// Bytes written on our QPACK encoder stream (uni stream 6 or 7).
    encoder_stream_bytes: usize,
}

impl Queue {
    fn new(is_client: bool) -> Self {
        Queue {
            is_client,
            next_bidi: if is_client { 0 } else { 1 },
            next_uni: if is_client { 2 } else { 3 },
            out: Vec::new(),
            closed: false,
            encoder_stream_bytes: 0,
        }
    }
}

impl Transport for Queue {
    fn is_client(&self) -> bool {
        self.is_client
    }
    fn remote_max_datagram_frame_size(&self) -> u64 {
        0
    }
    fn send_stream_data(&mut self, id: u64, data: &[u8], fin: bool) -> Result<(), TransportError> {
        if id == self.next_bidi {
            self.next_bidi += 4;
        }
        if id == self.next_uni {
            self.next_uni += 4;
        }
        if id == 6 || id == 7 {
            self.encoder_stream_bytes += data.len();
        }
        self.out.push((id, data.to_vec(), fin));
        Ok(())
    }
    fn get_next_available_stream_id(&mut self, uni: bool) -> Result<u64, TransportError> {
        Ok(if uni { self.next_uni } else { self.next_bidi })
    }
    fn reset_stream(&mut self, _: u64, _: u64) -> Result<(), TransportError> {
        Ok(())
    }
    fn stop_stream(&mut self, _: u64, _: u64) -> Result<(), TransportError> {
        Ok(())
    }
    fn send_datagram_frame(&mut self, _: &[u8]) -> Result<(), TransportError> {
        Ok(())
    }
    fn close(&mut self, _: u64, _: &str) {
        self.closed = true;
    }
}

type Conn = H3Connection<Queue>;

/// Delivers `from`'s queued data to `to`, reusing `wire` and `events`.
fn transfer(
    from: &mut Conn,
    to: &mut Conn,
    wire: &mut Vec<(u64, Vec<u8>, bool)>,
    events: &mut Vec<H3Event>,
) {
    std::mem::swap(wire, &mut from.transport_mut().out);
    for (stream_id, data, fin) in wire.drain(..) {
        to.handle_event_into(
            QuicEvent::StreamDataReceived {
                stream_id,
                data: (&data).into(),
                end_stream: false,
            },
            events,
        )
        .expect("no protocol error in the soak");
        if fin {
            to.handle_event_into(
                QuicEvent::StreamDataReceived {
                    stream_id,
                    data: b"".into(),
                    end_stream: true,
                },
                events,
            )
            .expect("no protocol error in the soak");
        }
    }
}

const GET: &[(&[u8], &[u8])] = &[
    (b":method", b"GET"),
    (b":scheme", b"https"),
    (b":authority", b"localhost"),
    (b":path", b"/index.html"),
    (b"user-agent", b"h3q-soak"),
];
const OK: &[(&[u8], &[u8])] = &[(b":status", b"200"), (b"content-type", b"text/plain")];

fn exchange(
    c: &mut Conn,
    s: &mut Conn,
    wire: &mut Vec<(u64, Vec<u8>, bool)>,
    events: &mut Vec<H3Event>,
) {
    let id = c
        .transport_mut()
        .get_next_available_stream_id(false)
        .unwrap();
    c.send_headers(id, GET, true).unwrap();
    events.clear();
    transfer(c, s, wire, events);
    assert_eq!(events.len(), 2, "request headers + FIN");
    s.send_headers(id, OK, false).unwrap();
    s.send_data(id, b"hello, world", true).unwrap();
    events.clear();
    transfer(s, c, wire, events);
    assert_eq!(events.len(), 3, "response headers + data + FIN");
    assert!(
        matches!(&events[1], H3Event::DataReceived { data, .. } if data.as_ref() == b"hello, world")
    );
}

#[test]
fn hundred_thousand_requests_do_not_grow_state_or_memory() {
    let mut c = H3Connection::new(Queue::new(true), Settings::default()).unwrap();
    let mut s = H3Connection::new(Queue::new(false), Settings::default()).unwrap();
    let mut wire = Vec::new();
    let mut events = Vec::new();
    transfer(&mut c, &mut s, &mut wire, &mut events);
    transfer(&mut s, &mut c, &mut wire, &mut events);
    assert!(events.is_empty());
    let baseline = (c.tracked_streams(), s.tracked_streams());
    assert_eq!(
        baseline,
        (3, 3),
        "the peer's 3 unidirectional streams on each side"
    );

    let mut live_at_10k = 0;
    for i in 1..=100_000u32 {
        exchange(&mut c, &mut s, &mut wire, &mut events);
        if i % 10_000 == 0 {
            assert_eq!(
                (c.tracked_streams(), s.tracked_streams()),
                baseline,
                "after {i} requests"
            );
        }
        if i == 10_000 {
            live_at_10k = LIVE_BYTES.load(Ordering::Relaxed);
        }
    }
    let live_at_100k = LIVE_BYTES.load(Ordering::Relaxed);
    assert!(!c.transport().closed && !s.transport().closed);
    assert!(!c.is_closed() && !s.is_closed());
    let growth = live_at_100k - live_at_10k;
    eprintln!("live heap: {live_at_10k} bytes after 10k requests, {live_at_100k} after 100k");
    eprintln!(
        "encoder stream bytes: client {}, server {}",
        c.transport().encoder_stream_bytes,
        s.transport().encoder_stream_bytes
    );
    assert!(
        growth < 16 * 1024,
        "heap grew by {growth} bytes between 10k and 100k requests"
    );
}
