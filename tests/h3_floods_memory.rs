//! Peak heap held during cheap-peer floods against a server, measured with a counting
//! allocator: each flood ends with H3_EXCESSIVE_LOAD (0x107) or, for field sections past
//! the size budget, QPACK_DECOMPRESSION_FAILED (0x200), and the heap it cost stays small.
//! The floods are the ones of src/h3/tests/floods.rs, built here from the public API.
//!
//! One test function: the counters are process-wide, so the floods run one after another.

mod harness;

use h3q::frame::frame_type;
use h3q::h3::{H3Connection, QuicEvent, Settings};
use h3q::test_transport::FakeTransport;

use harness::alloc::Counting;
use harness::wire::{GET, control_stream, frame, insert_literal, set_capacity, static_section, v};

#[global_allocator]
static HEAP: Counting = Counting::new();

type Conn = H3Connection<FakeTransport>;

const CLIENT_CONTROL: u64 = 2;
const CLIENT_ENCODER: u64 = 6;

fn server() -> Conn {
    let mut s = H3Connection::new(FakeTransport::counting(false), Settings::default()).unwrap();
    data(&mut s, CLIENT_CONTROL, &control_stream());
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
    let base = HEAP.reset_peak();
    let mut steps = 0;
    for i in 0..max {
        step(&mut conn, i);
        steps = i + 1;
        if conn.is_closed() {
            break;
        }
    }
    let peak = HEAP.peak() - base;
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
    let headers = frame(frame_type::HEADERS, &static_section(GET));

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
        let base = HEAP.reset_peak();
        let mut s = H3Connection::new(FakeTransport::counting(false), Settings::default()).unwrap();
        data(&mut s, CLIENT_CONTROL, &settings);
        let peak = HEAP.peak() - base;
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
