//! Batched writes (`Connection::send_stream_data_batched`, what HTTP/3 uses for its QPACK
//! decoder stream and for HEADERS frames that do not end their stream): they wait in the
//! QUIC layer until the endpoint next builds packets or the stream's next write comes,
//! arrive in order with the stream's other writes, and are checked like any write.

mod harness;

use bytes::Bytes;
use h3q::h3::transport::Transport;
use h3q::quic::{Connection, Event, QuicError};
use harness::pair::{Pair, configs};

const SECOND: u64 = 1_000_000_000;

fn drain(conn: &Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.next_event()).collect()
}

/// The bytes `events` carry on `stream_id`, in order, and whether FIN came.
fn on_stream(events: &[Event], stream_id: u64) -> (Vec<u8>, bool) {
    let mut bytes = Vec::new();
    let mut fin = false;
    for event in events {
        if let Event::StreamDataReceived {
            stream_id: sid,
            data,
            end_stream,
        } = event
            && *sid == stream_id
        {
            bytes.extend_from_slice(data);
            fin |= end_stream;
        }
    }
    (bytes, fin)
}

/// The bytes `conn` received on `stream_id` since the last call, and whether FIN came.
fn received(conn: &Connection, stream_id: u64) -> (Vec<u8>, bool) {
    on_stream(&drain(conn), stream_id)
}

fn connected() -> (Pair, Connection, Connection) {
    let (client_cfg, server_cfg) = configs();
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let (client, server) = pair.connected();
    drain(&client);
    drain(&server);
    (pair, client, server)
}

#[test]
fn batched_writes_wait_for_the_next_transmit_then_arrive_in_order() {
    let (mut pair, client, server) = connected();
    let sid = client.get_next_available_stream_id(true).unwrap();
    // A stream not opened yet is written at once (which opens it).
    client.send_stream_data_batched(sid, b"a").unwrap();
    assert_eq!(client.send_buffered(sid), 0);
    client.send_stream_data_batched(sid, b"bc").unwrap();
    client.send_stream_data_batched(sid, b"d").unwrap();
    assert_eq!(client.send_buffered(sid), 3, "bc and d wait in the layer");
    assert_eq!(client.unacknowledged_streams(), 1);
    // An ordinary write goes after what waits; a later batched write after it.
    client.send_stream_data(sid, b"e", false).unwrap();
    assert_eq!(client.send_buffered(sid), 0);
    client.send_stream_data_batched(sid, b"f").unwrap();
    pair.run_until(SECOND, |_| false);
    assert_eq!(client.send_buffered(sid), 0);
    assert_eq!(client.unacknowledged_streams(), 0);
    assert_eq!(received(&server, sid), (b"abcdef".to_vec(), false));
    // Nothing else prompts the next one: the endpoint's next transmit sends it.
    client.send_stream_data_batched(sid, b"g").unwrap();
    pair.run_until(SECOND, |_| false);
    assert_eq!(received(&server, sid), (b"g".to_vec(), false));
    // FIN after batched bytes keeps the order too.
    client.send_stream_data_batched(sid, b"h").unwrap();
    client.send_stream_data(sid, b"", true).unwrap();
    pair.run_until(SECOND, |_| false);
    assert_eq!(received(&server, sid), (b"h".to_vec(), true));
}

#[test]
fn a_burst_beyond_the_batch_limit_arrives_whole_and_in_order() {
    let (mut pair, client, server) = connected();
    let sid = client.get_next_available_stream_id(true).unwrap();
    client.send_stream_data(sid, b"<", false).unwrap();
    let mut expected = b"<".to_vec();
    for i in 0..300u32 {
        let piece = format!("{i:05}|");
        client
            .send_stream_data_batched(sid, piece.as_bytes())
            .unwrap();
        expected.extend_from_slice(piece.as_bytes());
        assert!(client.send_buffered(sid) <= 1024);
    }
    let large = vec![b'x'; 5000];
    client.send_stream_data_batched(sid, &large).unwrap();
    expected.extend_from_slice(&large);
    client.send_stream_data_batched(sid, b">").unwrap();
    expected.push(b'>');
    pair.run_until(5 * SECOND, |_| false);
    assert_eq!(received(&server, sid), (expected, false));
}

#[test]
fn batched_writes_on_two_streams_keep_each_streams_order() {
    let (mut pair, client, server) = connected();
    let first = client.get_next_available_stream_id(true).unwrap();
    client.send_stream_data(first, b"1", false).unwrap();
    let second = client.get_next_available_stream_id(true).unwrap();
    client.send_stream_data(second, b"A", false).unwrap();
    for (a, b) in [(b"2", b"B"), (b"3", b"C")] {
        client.send_stream_data_batched(first, a).unwrap();
        client.send_stream_data_batched(second, b).unwrap();
    }
    pair.run_until(SECOND, |_| false);
    let events = drain(&server);
    assert_eq!(on_stream(&events, first).0, b"123");
    assert_eq!(on_stream(&events, second).0, b"ABC");
}

#[test]
fn batched_writes_are_checked_like_other_writes() {
    let (mut pair, client, server) = connected();
    // A bidirectional stream not opened yet is written at once (which opens it).
    client.send_stream_data_batched(0, b"bidi").unwrap();
    pair.run_until(SECOND, |_| false);
    assert_eq!(received(&server, 0), (b"bidi".to_vec(), false));
    // The peer's unidirectional stream, an id too large, a finished stream.
    client.send_stream_data(2, b"uni", true).unwrap();
    pair.run_until(SECOND, |_| false);
    assert!(matches!(
        server.send_stream_data_batched(2, b"x"),
        Err(QuicError::InvalidArgument(_))
    ));
    assert!(client.send_stream_data_batched(u64::MAX, b"x").is_err());
    assert_eq!(
        client.send_stream_data_batched(2, b"more"),
        Err(QuicError::StreamClosed(2))
    );
    // An empty write is accepted and sends nothing.
    let sid = client.get_next_available_stream_id(true).unwrap();
    client.send_stream_data(sid, b"z", false).unwrap();
    client.send_stream_data_batched(sid, b"").unwrap();
    assert_eq!(client.send_buffered(sid), 0);
    // Through the Transport trait, as HTTP/3 calls it.
    let mut t: Box<dyn Transport> = Box::new(client.clone());
    t.send_stream_data_batched(sid, b"y").unwrap();
    assert_eq!(client.send_buffered(sid), 1);
    pair.run_until(SECOND, |_| false);
    assert_eq!(received(&server, sid), (b"zy".to_vec(), false));
}

#[test]
fn closing_discards_what_waits_and_later_writes_fail() {
    let (mut pair, client, server) = connected();
    let sid = client.get_next_available_stream_id(true).unwrap();
    client.send_stream_data(sid, b"sent", false).unwrap();
    pair.run_until(SECOND, |_| false);
    assert_eq!(received(&server, sid), (b"sent".to_vec(), false));
    client.send_stream_data_batched(sid, b"never").unwrap();
    client.close(7, b"bye");
    assert_eq!(client.send_buffered(sid), 0);
    assert_eq!(client.unacknowledged_streams(), 0);
    assert!(client.send_stream_data_batched(sid, b"x").is_err());
    pair.run_until(SECOND, |_| false);
    let events = drain(&server);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::StreamDataReceived { data, .. } if data == &Bytes::from_static(b"never"))),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::ConnectionTerminated { error_code: 7, .. })),
        "{events:?}"
    );
}

#[test]
fn a_stream_the_peer_stops_drops_what_waits_and_refuses_writes_like_send() {
    let (mut pair, client, server) = connected();
    let sid = client.get_next_available_stream_id(true).unwrap();
    client.send_stream_data(sid, b"a", false).unwrap();
    pair.run_until(SECOND, |_| false);
    assert_eq!(received(&server, sid), (b"a".to_vec(), false));
    client.send_stream_data_batched(sid, b"b").unwrap();
    server.stop_stream(sid, 9).unwrap();
    pair.run_until(SECOND, |_| false);
    assert!(
        drain(&client)
            .iter()
            .any(|e| matches!(e, Event::StopSendingReceived { stream_id, error_code: 9 } if *stream_id == sid))
    );
    // As with send_stream_data: the stream is reset and gone, an error, nothing kept.
    assert_eq!(
        client.send_stream_data_batched(sid, b"c"),
        Err(QuicError::StreamClosed(sid))
    );
    assert_eq!(
        client.send_stream_data(sid, b"c", false),
        Err(QuicError::StreamClosed(sid))
    );
    assert_eq!(client.send_buffered(sid), 0);
    assert_eq!(client.unacknowledged_streams(), 0);
    pair.run_until(SECOND, |_| false);
    let events = drain(&server);
    assert!(
        events
            .iter()
            .all(|e| !matches!(e, Event::StreamDataReceived { data, .. } if !data.is_empty())),
        "{events:?}"
    );
}

/// The server's connection with the client's request stream 0 open (the client wrote
/// "req" on it).
fn with_request() -> (Pair, Connection, Connection) {
    let (mut pair, client, server) = connected();
    client.send_stream_data(0, b"req", false).unwrap();
    pair.run_until(SECOND, |_| false);
    assert_eq!(received(&server, 0), (b"req".to_vec(), false));
    (pair, client, server)
}

#[test]
fn a_held_head_joins_the_streams_next_write() {
    let (mut pair, client, server) = with_request();
    server.send_stream_data_batched(0, b"HEADERS").unwrap();
    assert_eq!(server.send_buffered(0), 7);
    assert_eq!(server.unacknowledged_streams(), 1);
    server.send_stream_data(0, b"+body", true).unwrap();
    assert_eq!(server.send_buffered(0), 0);
    pair.run_until(SECOND, |_| false);
    assert_eq!(received(&client, 0), (b"HEADERS+body".to_vec(), true));
    // FIN alone after a held head, and a large write after one.
    client.send_stream_data(4, b"req", false).unwrap();
    client.send_stream_data(8, b"req", false).unwrap();
    pair.run_until(SECOND, |_| false);
    drain(&server);
    server.send_stream_data_batched(4, b"H4").unwrap();
    server.send_stream_data(4, b"", true).unwrap();
    server.send_stream_data_batched(8, b"H8").unwrap();
    let large = vec![b'y'; 5000];
    server.send_stream_data(8, &large, true).unwrap();
    pair.run_until(SECOND, |_| false);
    let events = drain(&client);
    assert_eq!(on_stream(&events, 4), (b"H4".to_vec(), true));
    let mut expected = b"H8".to_vec();
    expected.extend_from_slice(&large);
    assert_eq!(on_stream(&events, 8), (expected, true));
}

#[test]
fn a_held_head_goes_with_the_next_transmit_or_before_another_streams() {
    let (mut pair, client, server) = with_request();
    client.send_stream_data(4, b"req", false).unwrap();
    pair.run_until(SECOND, |_| false);
    drain(&server);
    server.send_stream_data_batched(0, b"first").unwrap();
    // Another stream's head: the first goes to quinn-proto, this one is held.
    server.send_stream_data_batched(4, b"second").unwrap();
    assert_eq!(server.send_buffered(0), 0);
    assert_eq!(server.send_buffered(4), 6);
    // A second held write on the same stream: both go, joined.
    server.send_stream_data_batched(4, b"+more").unwrap();
    assert_eq!(server.send_buffered(4), 0);
    server.send_stream_data_batched(0, b"+later").unwrap();
    // Nothing else written: the next transmit takes it.
    pair.run_until(SECOND, |_| false);
    let events = drain(&client);
    assert_eq!(on_stream(&events, 0).0, b"first+later");
    assert_eq!(on_stream(&events, 4).0, b"second+more");
}

#[test]
fn held_heads_are_checked_like_other_writes() {
    let (mut pair, client, server) = with_request();
    // A client stream the client never opened.
    assert!(matches!(
        server.send_stream_data_batched(400, b"x"),
        Err(QuicError::InvalidArgument(_))
    ));
    // After FIN.
    server.send_stream_data(0, b"done", true).unwrap();
    assert_eq!(
        server.send_stream_data_batched(0, b"late"),
        Err(QuicError::StreamClosed(0))
    );
    pair.run_until(SECOND, |_| false);
    assert_eq!(received(&client, 0), (b"done".to_vec(), true));
    // A stream the peer stopped: the held head is dropped, as a write to it would be.
    client.send_stream_data(4, b"req", false).unwrap();
    pair.run_until(SECOND, |_| false);
    drain(&server);
    server.send_stream_data_batched(4, b"head").unwrap();
    client.stop_stream(4, 3).unwrap();
    pair.run_until(SECOND, |_| false);
    assert!(
        drain(&server)
            .iter()
            .any(|e| matches!(e, Event::StopSendingReceived { stream_id: 4, .. }))
    );
    assert_eq!(server.send_buffered(4), 0);
    assert_eq!(server.unacknowledged_streams(), 0);
    // A reset flushes the head first; the reset wins, as for any unsent data.
    client.send_stream_data(8, b"req", false).unwrap();
    pair.run_until(SECOND, |_| false);
    drain(&server);
    server.send_stream_data_batched(8, b"head").unwrap();
    server.reset_stream(8, 5).unwrap();
    assert_eq!(server.send_buffered(8), 0);
    pair.run_until(SECOND, |_| false);
    assert!(
        drain(&client)
            .iter()
            .any(|e| matches!(e, Event::StreamReset { stream_id: 8, .. }))
    );
    // Closing discards a held head.
    client.send_stream_data(12, b"req", false).unwrap();
    pair.run_until(SECOND, |_| false);
    drain(&server);
    server.send_stream_data_batched(12, b"head").unwrap();
    server.close(0, b"");
    assert_eq!(server.send_buffered(12), 0);
    assert_eq!(server.unacknowledged_streams(), 0);
}
