//! Aborted exchanges over real QUIC (the built-in layer in the in-memory pair): a client
//! that resets its upload midway and one that stops a download midway are each reported
//! to the server once (`StreamReset`, `StopSending`, with the client's code), and what
//! the streams held is given back: once both sides have ended them, neither connection
//! tracks them, and once queues and tables have their working size, further batches cost
//! the heap nothing per aborted stream.
//!
//! Prints the heap figures (`cargo test --test h3_aborts_memory -- --nocapture`). One test
//! function: the counting allocator's figures are the whole process's.

mod harness;

use std::collections::HashMap;

use h3q::error::ErrorCode;
use h3q::h3::H3Event;
use h3q::h3::Settings;
use harness::alloc::Counting;
use harness::h3_pair::{H3Pair, SECOND};
use harness::pair::{Network, configs};

#[global_allocator]
static HEAP: Counting = Counting::new();

/// Aborted uploads and aborted downloads per batch.
const PER_BATCH: usize = 40;
/// Upload bytes sent before the client gives up; download bytes the server has sent when
/// the client stops it.
const UPLOAD_BYTES: usize = 16 * 1024;
const DOWNLOAD_BYTES: usize = 32 * 1024;
/// How much the heap may grow over the measured batches: the streams' hash tables of
/// both sides doubling once more (about 25 KB each; when depends on hashing seeds), and
/// nothing that grows with the streams: state kept per aborted stream (its `H3Stream`
/// alone is over 200 bytes) would cost more than 250 KB over the 1,280 measured.
const MAX_GROWTH: isize = 96 * 1024;
/// Batches that bring queues and tables to their working size, then the batches measured.
const WARM_UP_BATCHES: usize = 8;
const MEASURED_BATCHES: usize = 16;

const CANCELLED: u64 = ErrorCode::RequestCancelled as u64;
/// The client's code for the stopped downloads: any application code is passed through.
const STOPPED: u64 = 0x5eed;

#[derive(Default)]
struct Seen {
    /// Server side: the uploads whose request head arrived.
    upload_heads: Vec<u64>,
    /// Server side: StreamReset / StopSending events per stream: (code, how many).
    resets: HashMap<u64, (u64, usize)>,
    stops: HashMap<u64, (u64, usize)>,
    /// Client side: downloads whose first body bytes arrived (and were stopped).
    stopped_downloads: Vec<u64>,
}

/// One batch: PER_BATCH uploads reset after UPLOAD_BYTES, PER_BATCH downloads stopped
/// after their first body bytes, all in flight together.
fn run_batch(h: &mut H3Pair, seen: &mut Seen) {
    let mut uploads = Vec::new();
    let mut downloads = Vec::new();
    for _ in 0..PER_BATCH {
        let sid = h.open_request("POST", "/upload", false);
        h.client.send_data(sid, &[7; UPLOAD_BYTES], false).unwrap();
        uploads.push(sid);
        downloads.push(h.open_request("GET", "/download", true));
    }
    let mut uploads_reset = false;
    let deadline = h.pair.now + 60 * SECOND;
    let done = |seen: &Seen| {
        uploads.iter().all(|s| seen.resets.contains_key(s))
            && downloads.iter().all(|s| seen.stops.contains_key(s))
    };
    while !done(seen) {
        assert!(h.pair.now < deadline, "the aborts were not all reported");
        let (client_events, server_events) = h.step_until(deadline);
        for ev in server_events {
            server_event(h, seen, ev);
        }
        for ev in client_events {
            if let H3Event::DataReceived { stream_id, .. } = ev
                && downloads.contains(&stream_id)
                && !seen.stopped_downloads.contains(&stream_id)
            {
                seen.stopped_downloads.push(stream_id);
                h.client.stop_sending(stream_id, STOPPED).unwrap();
            }
        }
        // The uploads are abandoned once the server has started reading all of them (a
        // request reset before its head arrived is refused without an event).
        if !uploads_reset && uploads.iter().all(|s| seen.upload_heads.contains(s)) {
            uploads_reset = true;
            for &sid in &uploads {
                h.client.reset_stream(sid, CANCELLED).unwrap();
            }
        }
    }
    // Let the last frames and acknowledgements settle.
    let quiet_until = h.pair.now + SECOND;
    while h.pair.now < quiet_until {
        let (client_events, server_events) = h.step_until(quiet_until);
        for ev in server_events {
            server_event(h, seen, ev);
        }
        drop(client_events);
    }
}

/// Records one event for `stream_id` (the first code is kept; a second event makes the
/// count 2, which the test refuses).
fn count(events: &mut HashMap<u64, (u64, usize)>, stream_id: u64, code: u64) {
    events.entry(stream_id).or_insert((code, 0)).1 += 1;
}

/// The server: a download gets its head and DOWNLOAD_BYTES of body, not ended (still being
/// produced when the client stops it); an upload is read. A reset request has its
/// response side reset too (the application's part), which ends the stream both ways.
fn server_event(h: &mut H3Pair, seen: &mut Seen, ev: H3Event) {
    match ev {
        H3Event::HeadersReceived {
            stream_id,
            stream_ended: true,
            ..
        } => {
            h.server
                .send_headers(stream_id, &[(b":status", b"200")], false)
                .unwrap();
            h.server
                .send_data(stream_id, &[9; DOWNLOAD_BYTES], false)
                .unwrap();
        }
        H3Event::HeadersReceived {
            stream_id,
            stream_ended: false,
            ..
        } => seen.upload_heads.push(stream_id),
        H3Event::StreamReset {
            stream_id,
            error_code,
            ..
        } => {
            count(&mut seen.resets, stream_id, error_code);
            h.server.reset_stream(stream_id, CANCELLED).unwrap();
        }
        H3Event::StopSending {
            stream_id,
            error_code,
            ..
        } => {
            count(&mut seen.stops, stream_id, error_code);
            // Our side was reset by h3q: nothing more may be sent.
            assert!(h.server.send_data(stream_id, b"more", false).is_err());
        }
        _ => {}
    }
}

#[test]
fn aborted_uploads_and_downloads_are_reported_once_and_give_their_memory_back() {
    // Without the QPACK dynamic table: its memory of recently cancelled streams (bounded,
    // 4,096 per side, tested in src/qpack/) would otherwise grow through the first 50
    // batches and hide what this test looks for, state kept per aborted stream.
    let (client, server) = configs();
    let settings = Settings {
        qpack_max_table_capacity: 0,
        ..Settings::default()
    };
    let mut h = H3Pair::new(&client, &server, Network::default(), settings);
    // One complete exchange first, so that everything a connection creates once (QPACK
    // state, stream bookkeeping, buffers at their working size) exists before measuring.
    let sid = h.open_request("GET", "/", true);
    let mut answered = false;
    assert!(h.run(10 * SECOND, |is_client, conn, ev| {
        match ev {
            H3Event::HeadersReceived { stream_id, .. } if !is_client => {
                conn.send_headers(stream_id, &[(b":status", b"204")], true)
                    .unwrap();
            }
            H3Event::HeadersReceived { stream_id, .. } => answered = stream_id == sid,
            _ => {}
        }
        answered
    }));
    let settled = HEAP.live();

    // Room for every record up front, so that the test's own bookkeeping does not grow
    // between the measurements.
    let batches = WARM_UP_BATCHES + MEASURED_BATCHES;
    let records = 2 * batches * PER_BATCH;
    let mut seen = Seen {
        upload_heads: Vec::with_capacity(records),
        resets: HashMap::with_capacity(records),
        stops: HashMap::with_capacity(records),
        stopped_downloads: Vec::with_capacity(records),
    };
    let mut after = Vec::new();
    for _ in 0..batches {
        run_batch(&mut h, &mut seen);
        after.push(HEAP.live() - settled);
    }

    // Each abort reported once, with the client's code.
    assert_eq!(seen.resets.len(), batches * PER_BATCH);
    assert!(seen.resets.values().all(|&seen| seen == (CANCELLED, 1)));
    assert_eq!(seen.stops.len(), batches * PER_BATCH);
    assert!(seen.stops.values().all(|&seen| seen == (STOPPED, 1)));

    // Both sides ended every stream: nothing is tracked but the peer's control and QPACK
    // streams, nothing counts as active.
    for (side, conn) in [("client", &h.client), ("server", &h.server)] {
        assert_eq!(conn.active_requests(), 0, "{side}");
        assert_eq!(conn.tracked_streams(), 3, "{side}");
        assert!(!conn.is_closed(), "{side}");
    }

    let measured = (MEASURED_BATCHES * 2 * PER_BATCH) as isize;
    let growth = after[batches - 1] - after[WARM_UP_BATCHES - 1];
    println!(
        "aborted exchanges over QUIC ({PER_BATCH} resets + {PER_BATCH} stops per batch): \
         heap {settled} bytes once settled; above that after each batch: {after:?}; \
         {:+} bytes per aborted stream after the first {WARM_UP_BATCHES} batches",
        growth / measured,
    );
    assert!(
        growth <= MAX_GROWTH,
        "{growth} bytes kept for {measured} aborted streams"
    );
}
