//! Peak heap held during cheap-peer floods against a server, measured with a counting
//! allocator: each flood ends with H3_EXCESSIVE_LOAD (0x107) or, for field sections past
//! the size budget, QPACK_DECOMPRESSION_FAILED (0x200), and the heap it cost stays small.
//! The floods are the ones of src/h3/tests/floods.rs, built here from the public API.
//!
//! One test function: the counters are process-wide, so the floods run one after another.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use h3q::frame::{self, frame_type};
use h3q::h3::{H3Connection, QuicEvent, Settings};
use h3q::qpack::Encoder;
use h3q::test_transport::FakeTransport;
use h3q::varint;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn grew(by: isize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// GlobalAlloc is an unsafe trait: this test-only wrapper forwards to the system allocator
// with the caller's arguments and counts (as tests/h3_soak.rs does).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grew(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

type Conn = H3Connection<FakeTransport>;

const CLIENT_CONTROL: u64 = 2;
const CLIENT_ENCODER: u64 = 6;

fn v(value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    varint::encode(value, &mut out);
    out
}

fn frame(ty: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    frame::encode_frame(ty, payload, &mut out);
    out
}

/// An RFC 9204 prefix integer with `bits` prefix bits and `flags` above them.
fn prefix_int(out: &mut Vec<u8>, flags: u8, bits: u32, mut value: u64) {
    let max = (1u64 << bits) - 1;
    if value < max {
        out.push(flags | value as u8);
        return;
    }
    out.push(flags | max as u8);
    value -= max;
    while value >= 128 {
        out.push(0x80 | (value % 128) as u8);
        value /= 128;
    }
    out.push(value as u8);
}

fn set_capacity(out: &mut Vec<u8>, capacity: u64) {
    prefix_int(out, 0x20, 5, capacity);
}

fn insert_literal(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    prefix_int(out, 0x40, 5, name.len() as u64);
    out.extend_from_slice(name);
    prefix_int(out, 0x00, 7, value.len() as u64);
    out.extend_from_slice(value);
}

fn get_section() -> Vec<u8> {
    let mut encoder = Encoder::new();
    let (mut enc, mut sec) = (Vec::new(), Vec::new());
    let get: &[(&[u8], &[u8])] = &[
        (b":method", b"GET"),
        (b":scheme", b"https"),
        (b":authority", b"example.com"),
        (b":path", b"/"),
    ];
    encoder.encode(0, get, &mut enc, &mut sec);
    sec
}

fn server() -> Conn {
    let mut s = H3Connection::new(FakeTransport::counting(false), Settings::default()).unwrap();
    let mut control = v(0);
    frame::encode_settings_frame(&Settings::default().to_wire(), &mut control);
    data(&mut s, CLIENT_CONTROL, &control);
    data(&mut s, CLIENT_ENCODER, &v(2));
    s
}

fn data(conn: &mut Conn, stream_id: u64, bytes: &[u8]) {
    let event = QuicEvent::StreamDataReceived {
        stream_id,
        data: bytes.into(),
        end_stream: false,
    };
    handled(conn, event);
}

/// Handles `event`; an error it returns is the close the flood ends with.
fn handled(conn: &mut Conn, event: QuicEvent<'_>) {
    if let Err(error) = conn.handle_event(event) {
        assert_eq!(
            conn.transport().close_code(),
            Some(error.code.wire()),
            "{error}"
        );
    }
}

/// Runs `step(conn, i)` until the connection closes (at most `max` steps), measuring the
/// heap above what was live before the flood. Prints and returns the peak.
fn measure(name: &str, max: u64, code: u64, mut step: impl FnMut(&mut Conn, u64)) -> isize {
    let mut conn = server();
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let mut steps = 0;
    for i in 0..max {
        step(&mut conn, i);
        steps = i + 1;
        if conn.is_closed() {
            break;
        }
    }
    let peak = PEAK.load(Ordering::Relaxed) - base;
    println!(
        "{name:<48} closed after {steps:>6} steps, peak heap +{peak} bytes (held_bytes {})",
        conn.held_bytes()
    );
    assert!(conn.is_closed(), "{name}: still open after {max} steps");
    assert_eq!(conn.transport().close_code(), Some(code), "{name}");
    assert_eq!(conn.transport().closes(), 1);
    peak
}

#[test]
fn floods_close_within_bounded_memory() {
    const EXCESSIVE: u64 = 0x107;
    const DECOMPRESSION: u64 = 0x200;
    let headers = frame(frame_type::HEADERS, &get_section());

    let empty_data = frame(frame_type::DATA, &[]);
    let peak = measure("empty DATA frames", 1_000_000, EXCESSIVE, |c, i| {
        if i == 0 {
            data(c, 0, &headers);
        }
        data(c, 0, &empty_data);
    });
    assert!(peak < 64 * 1024);

    let one_byte = frame(frame_type::DATA, b"x");
    let peak = measure("1-byte DATA frames", 1_000_000, EXCESSIVE, |c, i| {
        if i == 0 {
            data(c, 0, &headers);
        }
        data(c, 0, &one_byte);
    });
    assert!(peak < 64 * 1024);

    let grease = frame(0x1f * 5 + 0x21, &[]);
    let peak = measure(
        "empty GREASE frames, control stream",
        1_000_000,
        EXCESSIVE,
        |c, _| data(c, CLIENT_CONTROL, &grease),
    );
    assert!(peak < 64 * 1024);
    let peak = measure(
        "empty GREASE frames, request stream",
        1_000_000,
        EXCESSIVE,
        |c, _| data(c, 0, &grease),
    );
    assert!(peak < 64 * 1024);

    let mut payload = Vec::new();
    for i in 0..10_000u64 {
        payload.extend(v(0x1f * i + 0x21));
        payload.extend(v(i));
    }
    let settings = [v(0), frame(frame_type::SETTINGS, &payload)].concat();
    let peak = {
        let base = LIVE.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let mut s = H3Connection::new(FakeTransport::counting(false), Settings::default()).unwrap();
        data(&mut s, CLIENT_CONTROL, &settings);
        let peak = PEAK.load(Ordering::Relaxed) - base;
        println!(
            "{:<48} closed at once, peak heap +{peak} bytes",
            "SETTINGS with 10,000 entries"
        );
        assert_eq!(s.transport().close_code(), Some(EXCESSIVE));
        peak
    };
    // The frame is buffered whole (64 KiB limit), the map holds at most 256 entries.
    assert!(peak < 256 * 1024, "{peak}");

    let mut cap = Vec::new();
    set_capacity(&mut cap, 4096);
    let mut insert = Vec::new();
    insert_literal(&mut insert, b"x-flood", &[b'v'; 100]);
    let peak = measure("unreferenced inserts", 1_000_000, EXCESSIVE, |c, i| {
        if i == 0 {
            data(c, CLIENT_ENCODER, &cap);
        }
        data(c, CLIENT_ENCODER, &insert);
    });
    assert!(peak < 64 * 1024);

    let mut big = cap.clone();
    insert_literal(&mut big, b"x-big", &[b'b'; 1000]);
    let peak = measure("Duplicate churn", 1_000_000, EXCESSIVE, |c, i| {
        if i == 0 {
            data(c, CLIENT_ENCODER, &big);
        }
        data(c, CLIENT_ENCODER, &[0x00]);
    });
    assert!(peak < 64 * 1024);

    let peak = measure("rapid reset after HEADERS", 1_000_000, EXCESSIVE, |c, i| {
        data(c, i * 4, &headers);
        handled(
            c,
            QuicEvent::StreamReset {
                stream_id: i * 4,
                error_code: 0x10c,
            },
        );
    });
    // Each request was delivered, so its state waits for the application: bounded by
    // the reset limit (1,000 streams).
    assert!(peak < 1024 * 1024, "{peak}");
    let peak = measure(
        "rapid reset before HEADERS",
        1_000_000,
        EXCESSIVE,
        |c, i| {
            handled(
                c,
                QuicEvent::StreamReset {
                    stream_id: i * 4,
                    error_code: 0x10c,
                },
            );
        },
    );
    assert!(peak < 64 * 1024);

    let mut huge = v(frame_type::HEADERS);
    huge.extend(v(100_000_000));
    huge.extend([0u8; 1000]);
    let peak = measure("100 MB HEADERS frame", 1, EXCESSIVE, |c, _| {
        data(c, 0, &huge)
    });
    assert!(peak < 64 * 1024);

    let mut bomb_enc = cap.clone();
    insert_literal(&mut bomb_enc, b"x-bomb", &[b'b'; 3958]);
    let mut bomb = vec![0x02, 0x00];
    bomb.extend(std::iter::repeat_n(0x80u8, 16_000));
    let bomb = frame(frame_type::HEADERS, &bomb);
    let peak = measure(
        "16 KB section decoding to 64 MB",
        2,
        DECOMPRESSION,
        |c, i| {
            if i == 0 {
                data(c, CLIENT_ENCODER, &bomb_enc);
            } else {
                data(c, 0, &bomb);
            }
        },
    );
    assert!(peak < 1024 * 1024, "{peak}");

    let mut partial = v(frame_type::HEADERS);
    partial.extend(v(60_000));
    partial.extend([0u8; 1000]);
    let peak = measure(
        "partial HEADERS on many streams",
        100_000,
        EXCESSIVE,
        |c, i| data(c, i * 4, &partial),
    );
    // 256 streams hold at most 1,000 bytes each (buffers grow with what arrived).
    assert!(peak < 1024 * 1024, "{peak}");
}
