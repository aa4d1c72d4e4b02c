//! The built-in QUIC layer, end to end over the in-memory pair (tests/harness/pair.rs).

mod harness;

use std::time::Duration;

use bytes::Bytes;
use h3q::h3::ErrorSpace;
use h3q::h3::transport::Transport;
use h3q::quic::{Config, Connection, Endpoint, Event, QuicError};
use harness::pair::{Network, Pair, configs};
use harness::rng::{Rng, random_bytes};
use sha2::{Digest, Sha256};

const SECOND: u64 = 1_000_000_000;

fn body(len: usize, seed: u64) -> Bytes {
    Bytes::from(random_bytes(len, seed))
}

fn sha(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Sends each chunk `server` received back on its stream (zero-copy), FIN with FIN.
fn echo_back(server: &Connection) {
    while let Some(ev) = server.next_event() {
        if let Event::StreamDataReceived {
            stream_id,
            data,
            end_stream,
        } = ev
        {
            server
                .send_stream_bytes(stream_id, data, end_stream)
                .unwrap();
        }
    }
}

/// Client sends `size` bytes on a bidirectional stream; the server echoes every chunk back
/// (zero-copy) and finishes when the client does. Returns the simulated time it took.
fn echo(pair: &mut Pair, client: &Connection, server: &Connection, size: usize) -> u64 {
    let start = pair.now;
    let data = body(size, size as u64);
    let expected = sha(&data);
    let sid = client.get_next_available_stream_id(false).unwrap();
    client.send_stream_bytes(sid, data, true).unwrap();
    let mut hasher = Sha256::new();
    let mut received = 0usize;
    let mut finished = false;
    let done = pair.run_until(600 * SECOND, |_| {
        echo_back(server);
        while let Some(ev) = client.next_event() {
            if let Event::StreamDataReceived {
                stream_id,
                data,
                end_stream,
            } = ev
            {
                assert_eq!(stream_id, sid);
                hasher.update(&data);
                received += data.len();
                finished |= end_stream;
            }
        }
        finished
    });
    assert!(
        done,
        "echo of {size} bytes did not finish ({received} received)"
    );
    assert_eq!(received, size);
    assert_eq!(<[u8; 32]>::from(hasher.finalize()), expected);
    pair.now - start
}

fn drain(conn: &Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.next_event()).collect()
}

/// A connected pair on a network with a 10 ms one-way delay (time for one side to act
/// while the other's frames are on their way), its start-up events taken.
fn connected_with_delay() -> (Pair, Connection, Connection) {
    let (client_cfg, server_cfg) = configs();
    let net = Network {
        latency_ns: 10_000_000,
        ..Network::default()
    };
    let mut pair = Pair::with_network(&client_cfg, &server_cfg, net);
    let (client, server) = pair.connected();
    drain(&client);
    drain(&server);
    (pair, client, server)
}

#[test]
fn handshake_completes_with_h3_on_both_sides() {
    let (client_cfg, server_cfg) = configs();
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let (client, server) = pair.connected();
    let expect = Event::HandshakeCompleted {
        alpn: Some(Bytes::from_static(b"h3")),
    };
    assert_eq!(drain(&client), vec![expect.clone()]);
    assert_eq!(drain(&server), vec![expect]);
    assert_eq!(client.alpn().as_deref(), Some(&b"h3"[..]));
    assert_eq!(server.server_name().as_deref(), Some("localhost"));
    assert_eq!(client.server_name(), None);
    assert!(client.is_client() && !server.is_client());
    assert_eq!(server.remote_address(), Some(pair.client_addr));
    assert_eq!(client.remote_address(), Some(pair.server_addr));
    assert_eq!(pair.server.connection_count(), 1);
}

#[test]
fn next_ready_gives_each_connection_with_new_events_once() {
    let (client_cfg, server_cfg) = configs();
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let (client, server) = pair.connected();
    // The handshake left events on both sides; the server's connection was accepted.
    let ready = pair
        .client
        .next_ready()
        .expect("the client connection has events");
    assert_eq!(ready.handle(), client.handle());
    assert!(
        pair.client.next_ready().is_none(),
        "given once until it gets new events"
    );
    assert_eq!(
        pair.server.next_ready().map(|c| c.handle()),
        Some(server.handle())
    );
    drain(&client);
    drain(&server);
    assert!(pair.server.next_ready().is_none());

    let id = client.get_next_available_stream_id(false).unwrap();
    client.send_stream_data(id, b"hello", true).unwrap();
    assert!(
        pair.client.next_ready().is_none(),
        "sending queues no event"
    );
    assert!(pair.run_until(SECOND, |p| p.server.next_ready().is_some()));
    assert_eq!(drain(&server).len(), 1, "the stream data");
    assert!(pair.server.next_ready().is_none());

    // Our own close queues ConnectionTerminated: the connection comes out again.
    client.close(0x100, b"done");
    assert_eq!(
        pair.client.next_ready().map(|c| c.handle()),
        Some(client.handle())
    );
    assert!(matches!(
        drain(&client).as_slice(),
        [Event::ConnectionTerminated { .. }]
    ));
}

#[test]
fn next_ready_leaves_unaccepted_connections_to_accept() {
    let (client_cfg, server_cfg) = configs();
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    pair.connect();
    assert!(pair.run_until(SECOND, |p| p.server.connection_count() == 1));
    pair.run_until(100_000_000, |_| false);
    assert!(pair.server.next_ready().is_none(), "not accepted yet");
    let sh = pair.server.accept().expect("a new connection");
    let server = pair.server.connection(sh).unwrap();
    let ready = pair.server.next_ready().expect("its events, once accepted");
    assert_eq!(ready.handle(), server.handle());
    assert!(!drain(&server).is_empty());
}

#[test]
fn client_rejects_an_untrusted_server_certificate() {
    let (_, server_cfg) = configs();
    let mut other = Config::server();
    other.generate_self_signed("localhost").unwrap();
    let mut client_cfg = Config::client();
    client_cfg
        .add_ca_pem(other.certificate_chain_pem().unwrap().as_bytes())
        .unwrap();
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let ch = pair.connect();
    let client = pair.client.connection(ch).unwrap();
    pair.run_until(10 * SECOND, |_| client.is_closed());
    let events = drain(&client);
    let Some(Event::ConnectionTerminated { error_code, .. }) = events.last() else {
        panic!("expected ConnectionTerminated, got {events:?}");
    };
    // CRYPTO_ERROR range (0x100 + TLS alert)
    assert_eq!(error_code & !0xff, 0x100, "{events:?}");
}

#[test]
fn verification_off_accepts_any_certificate_and_alpn_mismatch_fails() {
    let server_cfg = Config::server(); // generated certificate, default host
    let mut client_cfg = Config::client();
    client_cfg.set_verify_peer(false);
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let (client, _server) = pair.connected();
    assert!(client.is_established());
    assert!(pair.server.certificate_fingerprint().is_some());

    client_cfg.set_alpn_protocols(&[b"not-h3"]);
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let ch = pair.connect();
    let client = pair.client.connection(ch).unwrap();
    assert!(pair.run_until(10 * SECOND, |_| client.is_closed()));
    assert!(!client.is_established());
}

#[test]
fn echo_10_mb_on_a_bidirectional_stream() {
    let (client_cfg, server_cfg) = configs();
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let (client, server) = pair.connected();
    echo(&mut pair, &client, &server, 10 * 1024 * 1024);
}

#[test]
fn send_buffered_reports_what_waits_for_flow_control() {
    let (client_cfg, server_cfg) = configs();
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let (client, server) = pair.connected();
    let data = body(5 * 1024 * 1024, 5);
    client.send_stream_data(0, &data, true).unwrap();
    let waiting = client.send_buffered(0);
    assert!(waiting > 0 && waiting < data.len(), "{waiting}");
    assert_eq!(client.send_buffered(4), 0);
    let mut got = 0;
    assert!(pair.run_until(60 * SECOND, |_| {
        while let Some(ev) = server.next_event() {
            if let Event::StreamDataReceived { data, .. } = ev {
                got += data.len();
            }
        }
        got == data.len()
    }));
    assert_eq!(client.send_buffered(0), 0);
}

/// 100 MB both ways; run with `cargo test --release -- --ignored`.
#[test]
#[ignore = "100 MB: run in release mode with --ignored"]
fn echo_100_mb_on_a_bidirectional_stream() {
    let (client_cfg, server_cfg) = configs();
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let (client, server) = pair.connected();
    echo(&mut pair, &client, &server, 100 * 1024 * 1024);
}

#[test]
fn echo_with_latency_and_reordering() {
    let (client_cfg, server_cfg) = configs();
    let net = Network {
        latency_ns: 20_000_000,
        reorder: 0.05,
        ..Network::default()
    };
    let mut pair = Pair::with_network(&client_cfg, &server_cfg, net);
    let (client, server) = pair.connected();
    echo(&mut pair, &client, &server, 2 * 1024 * 1024);
    assert!(pair.stats.reordered > 0);
}

fn lossy_echo(loss: f64, seed: u64) {
    let (client_cfg, server_cfg) = configs();
    let net = Network {
        latency_ns: 10_000_000,
        loss,
        seed,
        ..Network::default()
    };
    let mut pair = Pair::with_network(&client_cfg, &server_cfg, net);
    let (client, server) = pair.connected();
    echo(&mut pair, &client, &server, 2 * 1024 * 1024);
    assert!(pair.stats.lost > 0, "{:?}", pair.stats);
}

#[test]
fn echo_completes_under_1_percent_loss() {
    lossy_echo(0.01, 7);
}

#[test]
fn echo_completes_under_5_percent_loss() {
    lossy_echo(0.05, 11);
}

#[test]
fn thousand_streams_with_peer_limit_100_open_in_order() {
    let (client_cfg, mut server_cfg) = configs();
    server_cfg.set_max_streams_bidi(100);
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let (client, server) = pair.connected();
    let mut ids = Vec::new();
    for i in 0..1000u64 {
        let sid = client.get_next_available_stream_id(false).unwrap();
        assert_eq!(sid, 4 * i, "ids are handed out in sequence past the limit");
        // Asking twice without sending returns the same id.
        assert_eq!(client.get_next_available_stream_id(false).unwrap(), sid);
        client
            .send_stream_data(sid, format!("request {i}").as_bytes(), true)
            .unwrap();
        ids.push(sid);
    }
    let mut responses = std::collections::HashMap::new();
    let mut max_server_seen = 0;
    let done = pair.run_until(120 * SECOND, |_| {
        while let Some(ev) = server.next_event() {
            if let Event::StreamDataReceived {
                stream_id,
                data,
                end_stream,
            } = ev
            {
                max_server_seen = max_server_seen.max(stream_id);
                let mut reply = b"response to ".to_vec();
                reply.extend_from_slice(&data);
                assert!(end_stream, "small requests arrive in one piece");
                server.send_stream_data(stream_id, &reply, true).unwrap();
            }
        }
        while let Some(ev) = client.next_event() {
            if let Event::StreamDataReceived {
                stream_id,
                data,
                end_stream,
            } = ev
            {
                let entry: &mut Vec<u8> = responses.entry(stream_id).or_default();
                entry.extend_from_slice(&data);
                if end_stream {
                    assert_eq!(
                        entry.as_slice(),
                        format!("response to request {}", stream_id / 4).as_bytes()
                    );
                }
            }
        }
        responses.len() == 1000
    });
    assert!(done, "only {} responses", responses.len());
    assert_eq!(max_server_seen, 4 * 999);
}

#[test]
fn datagrams_both_ways_and_their_errors() {
    let (mut client_cfg, mut server_cfg) = configs();
    client_cfg.set_max_datagram_frame_size(65535);
    server_cfg.set_max_datagram_frame_size(65535);
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let (client, server) = pair.connected();
    let max = client.remote_max_datagram_frame_size().unwrap();
    assert!(max >= 1000, "max {max}");
    assert_eq!(
        Transport::remote_max_datagram_frame_size(&client),
        max as u64
    );
    client.send_datagram_frame(b"ping").unwrap();
    server.send_datagram(Bytes::from_static(b"pong")).unwrap();
    let too_big = vec![0u8; max + 1];
    assert!(matches!(
        client.send_datagram_frame(&too_big),
        Err(QuicError::DatagramTooLarge { .. })
    ));
    let mut got = (false, false);
    assert!(pair.run_until(5 * SECOND, |_| {
        for ev in drain(&server) {
            if let Event::DatagramReceived { data } = ev {
                assert_eq!(&data[..], b"ping");
                got.0 = true;
            }
        }
        for ev in drain(&client) {
            if let Event::DatagramReceived { data } = ev {
                assert_eq!(&data[..], b"pong");
                got.1 = true;
            }
        }
        got == (true, true)
    }));

    // A peer that did not enable datagrams.
    let (mut client_cfg, server_cfg) = configs();
    client_cfg.set_max_datagram_frame_size(65535);
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let (client, server) = pair.connected();
    assert_eq!(client.remote_max_datagram_frame_size(), None);
    assert_eq!(Transport::remote_max_datagram_frame_size(&client), 0);
    assert_eq!(
        client.send_datagram_frame(b"x"),
        Err(QuicError::DatagramsUnsupported)
    );
    assert_eq!(
        server.send_datagram_frame(b"x"),
        Err(QuicError::DatagramsUnsupported)
    );
}

#[test]
fn idle_timeout_terminates_both_sides_and_drains() {
    let (mut client_cfg, mut server_cfg) = configs();
    client_cfg.set_idle_timeout(Duration::from_secs(2));
    server_cfg.set_idle_timeout(Duration::from_secs(2));
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let (client, server) = pair.connected();
    drain(&client);
    drain(&server);
    let start = pair.now;
    assert!(pair.run_until(60 * SECOND, |_| client.is_drained() && server.is_drained()));
    let elapsed = pair.now - start;
    assert!((2 * SECOND..4 * SECOND).contains(&elapsed), "{elapsed}");
    let idle = Event::ConnectionTerminated {
        error_code: 0,
        reason: Bytes::from_static(b"Idle timeout"),
        error_space: ErrorSpace::NoCode,
        by_peer: false,
    };
    assert_eq!(drain(&client), vec![idle.clone()]);
    assert_eq!(drain(&server), vec![idle]);
    assert_eq!(pair.client.connection_count(), 0);
    assert_eq!(pair.server.connection_count(), 0);
    assert_eq!(pair.client.next_timeout(), None);
}

/// Many connections, opened over time, each idle from its handshake on: every one times
/// out two seconds after its own last packet, whatever the others do, and once all are
/// gone no timer is left. (The endpoint keeps the connections' timers in a heap; a timer
/// lost or fired late there would leave a connection open or close it early.)
#[test]
fn idle_timeouts_of_many_connections_each_fire_on_time() {
    let (mut client_cfg, mut server_cfg) = configs();
    client_cfg.set_idle_timeout(Duration::from_secs(2));
    server_cfg.set_idle_timeout(Duration::from_secs(2));
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let mut conns = Vec::new();
    for _ in 0..24 {
        let (client, server) = pair.connected();
        drain(&client);
        drain(&server);
        conns.push((pair.now, client, server));
        // The next one a little later: 24 deadlines spread over 2.4 s.
        pair.run_until(SECOND / 10, |_| false);
    }
    let mut ended = vec![None; conns.len()];
    assert!(pair.run_until(60 * SECOND, |p| {
        for (i, (_, client, server)) in conns.iter().enumerate() {
            if ended[i].is_none() && client.is_drained() && server.is_drained() {
                ended[i] = Some(p.now);
            }
        }
        ended.iter().all(Option::is_some)
    }));
    for (i, (established, _, _)) in conns.iter().enumerate() {
        let idle = ended[i].unwrap() - established;
        assert!(
            (2 * SECOND..4 * SECOND).contains(&idle),
            "connection {i}: ended {idle} ns after its handshake"
        );
    }
    assert_eq!(pair.client.connection_count(), 0);
    assert_eq!(pair.server.connection_count(), 0);
    assert_eq!(pair.client.next_timeout(), None);
    assert_eq!(pair.server.next_timeout(), None);
}

fn close_by(client_closes: bool) {
    let (client_cfg, server_cfg) = configs();
    let net = Network {
        latency_ns: 5_000_000,
        ..Network::default()
    };
    let mut pair = Pair::with_network(&client_cfg, &server_cfg, net);
    let (client, server) = pair.connected();
    drain(&client);
    drain(&server);
    let (closer, peer) = if client_closes {
        (&client, &server)
    } else {
        (&server, &client)
    };
    let mut closer_t: Box<dyn Transport> = Box::new(closer.clone());
    closer_t.close(0x100, "bye");
    let terminated = |by_peer| Event::ConnectionTerminated {
        error_code: 0x100,
        reason: Bytes::from_static(b"bye"),
        error_space: ErrorSpace::Application,
        by_peer,
    };
    assert_eq!(drain(closer), vec![terminated(false)]);
    assert!(closer.is_closed() && !closer.is_drained());
    assert!(pair.run_until(10 * SECOND, |_| client.is_drained() && server.is_drained()));
    assert_eq!(drain(peer), vec![terminated(true)]);
    assert!(drain(closer).is_empty(), "terminated is reported once");
    assert_eq!(pair.client.connection_count(), 0);
    assert_eq!(pair.server.connection_count(), 0);
}

#[test]
fn graceful_close_by_client() {
    close_by(true);
}

#[test]
fn graceful_close_by_server() {
    close_by(false);
}

#[test]
fn handles_fail_cleanly_after_the_connection_drained() {
    let (client_cfg, server_cfg) = configs();
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let (client, server) = pair.connected();
    let old = client.handle();
    client.close(0, b"");
    assert!(pair.run_until(10 * SECOND, |_| client.is_drained() && server.is_drained()));
    assert_eq!(
        pair.client.connection(old).unwrap_err(),
        QuicError::ConnectionClosed
    );
    assert_eq!(
        client.send_stream_data(0, b"x", false),
        Err(QuicError::ConnectionClosed)
    );
    assert_eq!(
        client.get_next_available_stream_id(false).map(|_| ()),
        Ok(()),
        "ids can still be asked for"
    );
    assert_eq!(client.reset_stream(0, 0), Err(QuicError::ConnectionClosed));
    assert_eq!(
        client.send_datagram_frame(b"x"),
        Err(QuicError::ConnectionClosed)
    );
    client.close(1, b"again"); // no-op, no panic

    // The next connection reuses the slot; the old handle must not reach it.
    let (client2, _server2) = pair.connected();
    let new = client2.handle();
    assert_eq!(new.to_u64() & 0xffff_ffff, old.to_u64() & 0xffff_ffff);
    assert_ne!(new, old);
    assert!(pair.client.connection(old).is_err());
    assert!(pair.client.connection(new).is_ok());
    assert_eq!(
        h3q::quic::ConnectionHandle::from_u64(new.to_u64()),
        new,
        "handles round-trip through u64"
    );
}

#[test]
fn reset_and_stop_sending_are_reported() {
    // A delay, so that the server can act between the STOP_SENDING's arrival and the
    // acknowledgement of its reset.
    let (mut pair, client, server) = connected_with_delay();
    // Stream 0: the client sends, then resets.
    client.send_stream_data(0, b"partial", false).unwrap();
    pair.run_until(SECOND, |_| false);
    client.reset_stream(0, 42).unwrap();
    // Stream 4: the client asks the server to stop sending.
    client.send_stream_data(4, b"req", false).unwrap();
    pair.run_until(SECOND, |_| false);
    client.stop_stream(4, 7).unwrap();
    // The server takes the STOP_SENDING (and resets stream 4 in answer); data it sends
    // before the reset is acknowledged is dropped without an error.
    let mut events = Vec::new();
    let stop = Event::StopSendingReceived {
        stream_id: 4,
        error_code: 7,
    };
    assert!(pair.run_until(SECOND, |_| {
        events.extend(drain(&server));
        events.contains(&stop)
    }));
    server.send_stream_data(4, b"racing", false).unwrap();
    pair.run_until(SECOND, |_| false);
    events.extend(drain(&server));
    assert!(events.contains(&Event::StreamReset {
        stream_id: 0,
        error_code: 42
    }));
    assert_eq!(events.iter().filter(|e| **e == stop).count(), 1);
    // The server's sending side of stream 4 was reset in answer (RFC 9000 §3.5) and the
    // client acknowledged it: the stream is gone, and sending on it is an error like on
    // any reset stream (nothing is kept per stopped stream). The client saw nothing more.
    assert!(server.send_stream_data(4, b"late", true).is_err());
    // The client's unidirectional streams have no sending side here: refused, not a panic.
    assert!(server.send_stream_data(2, b"x", false).is_err());
    pair.run_until(SECOND, |_| false);
    assert!(drain(&client).is_empty());
    assert!(client.is_established() && server.is_established());
}

#[test]
fn uni_streams_and_fin_only_events() {
    let (client_cfg, server_cfg) = configs();
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let (client, server) = pair.connected();
    drain(&client);
    drain(&server);
    let sid = client.get_next_available_stream_id(true).unwrap();
    assert_eq!(sid, 2);
    client.send_stream_data(sid, b"abc", false).unwrap();
    pair.run_until(SECOND, |_| false);
    client.send_stream_data(sid, b"", true).unwrap();
    pair.run_until(SECOND, |_| false);
    assert_eq!(
        drain(&server),
        vec![
            Event::StreamDataReceived {
                stream_id: 2,
                data: Bytes::from_static(b"abc"),
                end_stream: false
            },
            Event::StreamDataReceived {
                stream_id: 2,
                data: Bytes::new(),
                end_stream: true
            },
        ]
    );
    assert_eq!(client.get_next_available_stream_id(true).unwrap(), 6);
    assert_eq!(server.get_next_available_stream_id(true).unwrap(), 3);
    assert_eq!(server.get_next_available_stream_id(false).unwrap(), 1);
}

#[test]
fn invalid_stream_operations_are_errors_not_panics() {
    let (client_cfg, server_cfg) = configs();
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let (client, server) = pair.connected();
    client.send_stream_data(2, b"uni", true).unwrap();
    pair.run_until(SECOND, |_| false);
    // The server cannot send on, or reset, the client's unidirectional stream.
    assert!(matches!(
        server.send_stream_data(2, b"x", false),
        Err(QuicError::InvalidArgument(_))
    ));
    assert!(matches!(
        server.reset_stream(2, 0),
        Err(QuicError::InvalidArgument(_))
    ));
    // The client cannot stop its own unidirectional stream.
    assert!(matches!(
        client.stop_stream(2, 0),
        Err(QuicError::InvalidArgument(_))
    ));
    // A client stream the client never opened.
    assert!(matches!(
        server.send_stream_data(400, b"x", false),
        Err(QuicError::InvalidArgument(_))
    ));
    // Sending after FIN.
    assert_eq!(
        client.send_stream_data(2, b"more", false),
        Err(QuicError::StreamClosed(2))
    );
    // Out-of-range values.
    assert!(client.send_stream_data(u64::MAX, b"x", false).is_err());
    assert!(client.reset_stream(0, u64::MAX).is_err());
    // Small transmit buffer, wrong role.
    let mut small = [0u8; 100];
    assert!(matches!(
        pair.client.poll_transmit(pair.now, &mut small),
        Err(QuicError::InvalidArgument(_))
    ));
    assert!(matches!(
        pair.server.connect(pair.now, pair.client_addr, "x"),
        Err(QuicError::WrongRole(_))
    ));
    // Bad server names and addresses are refused up front.
    assert!(matches!(
        pair.client
            .connect(pair.now, pair.server_addr, "not a host name!"),
        Err(QuicError::Connect(_))
    ));
    assert!(matches!(
        pair.client
            .connect(pair.now, "0.0.0.0:0".parse().unwrap(), "localhost"),
        Err(QuicError::Connect(_))
    ));
}

#[test]
fn transport_trait_drives_a_stream() {
    let (client_cfg, server_cfg) = configs();
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let (client, server) = pair.connected();
    drain(&server);
    let mut t: Box<dyn Transport> = Box::new(client.clone());
    assert!(t.is_client());
    let sid = t.get_next_available_stream_id(false).unwrap();
    t.send_stream_data(sid, b"via trait", true).unwrap();
    pair.run_until(SECOND, |_| false);
    let events = drain(&server);
    assert_eq!(
        events,
        vec![Event::StreamDataReceived {
            stream_id: sid,
            data: Bytes::from_static(b"via trait"),
            end_stream: true
        }]
    );
    // The HTTP/3 layer gets quinn-proto's chunk itself, shared, not a copy.
    let quic_event = events[0].as_quic_event();
    let h3q::h3::event::QuicEvent::StreamDataReceived {
        data: h3q::h3::EventData::Shared(shared),
        end_stream: true,
        ..
    } = quic_event
    else {
        panic!("not shared stream data: {quic_event:?}");
    };
    assert_eq!(&shared[..], b"via trait");
    let Event::StreamDataReceived { data, .. } = &events[0] else {
        unreachable!()
    };
    assert_eq!(shared.as_ptr(), data.as_ptr());
}

#[test]
fn gso_batches_are_split_by_segment_size() {
    let (mut client_cfg, mut server_cfg) = configs();
    client_cfg.set_max_gso_segments(8);
    server_cfg.set_max_gso_segments(8);
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let (client, server) = pair.connected();
    // Check a batch appears: send a burst and inspect one transmit directly.
    client
        .send_stream_data(0, &vec![7u8; 100_000], true)
        .unwrap();
    let mut buf = vec![0u8; 1472 * 8];
    let t = pair
        .client
        .poll_transmit(pair.now, &mut buf)
        .unwrap()
        .unwrap();
    assert!(t.len > t.segment_size, "{t:?}");
    // Deliver that batch segment by segment, then finish normally.
    let mut offset = 0;
    while offset < t.len {
        let end = (offset + t.segment_size).min(t.len);
        pair.server
            .receive(pair.now, pair.client_addr, &buf[offset..end]);
        offset = end;
    }
    let mut total = 0;
    let mut fin = false;
    assert!(pair.run_until(10 * SECOND, |_| {
        for ev in drain(&server) {
            if let Event::StreamDataReceived {
                data, end_stream, ..
            } = ev
            {
                total += data.len();
                fin |= end_stream;
            }
        }
        fin
    }));
    assert_eq!(total, 100_000);
}

/// Without path MTU discovery every datagram keeps to QUIC's 1,200-byte minimum. With it on
/// both sides, datagrams grow to what the path carries and never stay above it: a path that
/// drops datagrams over 1,400 bytes (as a router drops don't-fragment packets) ends up
/// carrying datagrams between 1,200 and 1,400 bytes, and the transfer completes.
#[test]
fn mtu_discovery_grows_datagrams_up_to_the_path_mtu() {
    let path = Network {
        mtu: Some(1400),
        ..Network::default()
    };
    let (client_cfg, server_cfg) = configs();
    let mut pair = Pair::with_network(&client_cfg, &server_cfg, path.clone());
    let (client, server) = pair.connected();
    echo(&mut pair, &client, &server, 2 * 1024 * 1024);
    assert_eq!(pair.stats.largest, 1200, "{:?}", pair.stats);
    assert_eq!(pair.stats.lost, 0);

    let (mut client_cfg, mut server_cfg) = configs();
    client_cfg.set_mtu_discovery(true);
    server_cfg.set_mtu_discovery(true);
    let mut pair = Pair::with_network(&client_cfg, &server_cfg, path);
    let (client, server) = pair.connected();
    echo(&mut pair, &client, &server, 2 * 1024 * 1024);
    let largest = pair.stats.largest;
    assert!(largest > 1300 && largest <= 1400, "{:?}", pair.stats);
    assert!(pair.stats.lost > 0, "probes above the path MTU are lost");
}

/// A GSO batch handed over whole, as UDP GRO delivers it, with `receive_segments`: the
/// same as delivering its datagrams one by one. The batch's last datagram may be shorter.
#[test]
fn receive_segments_takes_a_gro_buffer_whole() {
    let (client_cfg, mut server_cfg) = configs();
    server_cfg.set_max_gso_segments(8);
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let (client, server) = pair.connected();
    let body = body(300_000, 11);
    let sid = client.get_next_available_stream_id(false).unwrap();
    client.send_stream_data(sid, b"GET", true).unwrap();
    let mut buf = vec![0u8; 1472 * 8];
    let mut batches = 0;
    let mut received = Vec::new();
    let mut fin = false;
    let mut sent = false;
    for _ in 0..100_000 {
        if fin {
            break;
        }
        // Client to server as usual; server to client only as whole batches.
        while let Some(t) = pair.client.poll_transmit(pair.now, &mut buf).unwrap() {
            pair.server
                .receive_segments(pair.now, pair.client_addr, &buf[..t.len], t.segment_size);
        }
        while let Some(ev) = server.next_event() {
            if let Event::StreamDataReceived {
                end_stream: true, ..
            } = ev
                && !sent
            {
                server.send_stream_data(sid, &body, true).unwrap();
                sent = true;
            }
        }
        let mut moved = false;
        while let Some(t) = pair.server.poll_transmit(pair.now, &mut buf).unwrap() {
            moved = true;
            if t.len > t.segment_size {
                batches += 1;
            }
            // Every other batch as segment size 0 when it is a single datagram.
            let size = if t.len == t.segment_size {
                0
            } else {
                t.segment_size
            };
            pair.client
                .receive_segments(pair.now, pair.server_addr, &buf[..t.len], size);
        }
        for ev in drain(&client) {
            if let Event::StreamDataReceived {
                data, end_stream, ..
            } = ev
            {
                received.extend_from_slice(&data);
                fin |= end_stream;
            }
        }
        if !moved {
            pair.now = pair
                .client
                .next_timeout()
                .into_iter()
                .chain(pair.server.next_timeout())
                .min()
                .unwrap_or(pair.now)
                .max(pair.now + 1);
            pair.client.handle_timeout(pair.now);
            pair.server.handle_timeout(pair.now);
        }
    }
    assert!(fin, "the body did not arrive");
    assert_eq!(received, body.to_vec());
    assert!(batches > 0);
    // Every datagram of every batch was taken: nothing had to be resent.
    assert_eq!(server.stats().unwrap().packets_lost, 0);
}

#[test]
fn key_log_file_is_written() {
    let path = std::env::temp_dir().join(format!("h3q-keylog-{}.txt", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let (mut client_cfg, server_cfg) = configs();
    client_cfg.set_key_log_file(&path).unwrap();
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    pair.connected();
    let log = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(
        log.lines()
            .any(|l| l.starts_with("CLIENT_HANDSHAKE_TRAFFIC_SECRET "))
    );
    assert!(
        log.lines()
            .any(|l| l.starts_with("SERVER_TRAFFIC_SECRET_0 "))
    );
    for line in log.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields.len(), 3, "{line}");
        assert_eq!(fields[1].len(), 64, "client random is 32 bytes of hex");
    }
    let err = Config::client()
        .set_key_log_file("/nonexistent-dir/keylog")
        .unwrap_err();
    assert!(err.message().contains("/nonexistent-dir/keylog"));
}

#[test]
fn endpoints_ignore_garbage_and_unknown_peers() {
    let (client_cfg, server_cfg) = configs();
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let (client, _server) = pair.connected();
    pair.server
        .receive(pair.now, "10.9.9.9:1".parse().unwrap(), &[0xff; 1200]);
    pair.server.receive(pair.now, pair.client_addr, &[0x40; 30]);
    pair.server.receive(pair.now, pair.client_addr, &[]);
    pair.client.receive(pair.now, pair.server_addr, &[1, 2, 3]);
    pair.run_until(SECOND, |_| false);
    assert!(client.is_established());
    let _ = Endpoint::new(&Config::server()).unwrap();
}

#[test]
fn endpoint_and_connection_are_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Endpoint>();
    assert_send::<Connection>();
    assert_send::<Event>();
}

#[test]
fn many_connections_on_one_endpoint_pair() {
    // 20 client connections from one client endpoint to one server endpoint, each echoing
    // its own body; then half of them close and the rest keep working.
    let (client_cfg, server_cfg) = configs();
    let net = Network {
        latency_ns: 2_000_000,
        ..Network::default()
    };
    let mut pair = Pair::with_network(&client_cfg, &server_cfg, net);
    let clients: Vec<Connection> = (0..20)
        .map(|_| {
            let h = pair.connect();
            pair.client.connection(h).unwrap()
        })
        .collect();
    let mut servers = Vec::new();
    assert!(pair.run_until(10 * SECOND, |p| {
        while let Some(h) = p.server.accept() {
            servers.push(p.server.connection(h).unwrap());
        }
        servers.len() == 20 && clients.iter().all(Connection::is_established)
    }));
    assert_eq!(pair.server.connection_count(), 20);
    let bodies: Vec<Bytes> = (0..20).map(|i| body(50_000 + i * 1000, i as u64)).collect();
    for (client, b) in clients.iter().zip(&bodies) {
        client.send_stream_bytes(0, b.clone(), true).unwrap();
    }
    let mut echoed: Vec<Vec<u8>> = vec![Vec::new(); 20];
    let mut finished = [false; 20];
    assert!(pair.run_until(30 * SECOND, |_| {
        for server in &servers {
            echo_back(server);
        }
        for (i, client) in clients.iter().enumerate() {
            while let Some(ev) = client.next_event() {
                if let Event::StreamDataReceived {
                    data, end_stream, ..
                } = ev
                {
                    echoed[i].extend_from_slice(&data);
                    finished[i] |= end_stream;
                }
            }
        }
        finished.iter().all(|f| *f)
    }));
    for (got, sent) in echoed.iter().zip(&bodies) {
        assert_eq!(got.as_slice(), sent.as_ref());
    }
    for client in clients.iter().step_by(2) {
        client.close(0, b"done");
    }
    assert!(
        pair.run_until(10 * SECOND, |p| p.client.connection_count() == 10
            && p.server.connection_count() == 10)
    );
    for (i, client) in clients.iter().enumerate() {
        assert_eq!(client.is_drained(), i % 2 == 0);
        assert_eq!(pair.client.connection(client.handle()).is_ok(), i % 2 == 1);
    }
    // The survivors still carry data.
    let survivor = &clients[1];
    survivor.send_stream_data(4, b"still here", true).unwrap();
    let mut seen = false;
    assert!(pair.run_until(5 * SECOND, |_| {
        for s in &servers {
            while let Some(ev) = s.next_event() {
                if let Event::StreamDataReceived {
                    stream_id: 4, data, ..
                } = ev
                {
                    assert_eq!(&data[..], b"still here");
                    seen = true;
                }
            }
        }
        seen
    }));
}

#[test]
fn random_operations_never_panic() {
    // Random calls with random (often invalid) stream ids and codes on both sides, with
    // loss and reordering, must only ever return errors, never panic, and never make
    // either side commit a protocol violation: the connection ends only when closed.
    for seed in 1..=6u64 {
        let (mut client_cfg, mut server_cfg) = configs();
        client_cfg.set_max_datagram_frame_size(1200);
        server_cfg.set_max_datagram_frame_size(1200);
        server_cfg.set_max_streams_bidi(4);
        server_cfg.set_max_streams_uni(2);
        let net = Network {
            latency_ns: 3_000_000,
            loss: 0.05,
            reorder: 0.05,
            seed,
            ..Network::default()
        };
        let mut pair = Pair::with_network(&client_cfg, &server_cfg, net);
        let (client, server) = pair.connected();
        let mut rng = Rng::new(seed * 7919);
        let mut accepted = 0;
        for round in 0..1000 {
            let conn = if rng.next_u64() % 2 == 0 {
                &client
            } else {
                &server
            };
            let id = match rng.next_u64() % 3 {
                0 => rng.next_u64() % 64,
                1 => conn
                    .get_next_available_stream_id(rng.next_u64() % 2 == 0)
                    .unwrap(),
                _ => rng.next_u64(),
            };
            let code = if rng.next_u64() % 8 == 0 {
                u64::MAX
            } else {
                rng.next_u64() % 1000
            };
            let len = (rng.next_u64() % 5000) as usize;
            let result = match rng.next_u64() % 10 {
                0..=4 => conn.send_stream_data(id, &vec![1u8; len], rng.next_u64() % 3 == 0),
                5 => conn.reset_stream(id, code),
                6 => conn.stop_stream(id, code),
                7 => conn.send_datagram_frame(&vec![2u8; len]),
                8 => conn.get_next_available_stream_id(true).map(|_| ()),
                _ => {
                    if round > 950 {
                        conn.close(code, b"random");
                    }
                    Ok(())
                }
            };
            accepted += usize::from(result.is_ok());
            let _ = conn.send_buffered(id);
            let deadline = pair.now + 5_000_000;
            for _ in 0..50 {
                if !pair.step_until(deadline) {
                    break;
                }
            }
            for conn in [&client, &server] {
                while let Some(ev) = conn.next_event() {
                    if let Event::ConnectionTerminated {
                        error_code, reason, ..
                    } = ev
                    {
                        eprintln!(
                            "seed {seed} round {round}: terminated {error_code:#x} {reason:?}"
                        );
                    }
                }
            }
        }
        assert!(
            accepted > 200,
            "seed {seed}: only {accepted} calls succeeded"
        );
        pair.run_until(30 * SECOND, |_| false);
    }
}

#[test]
fn close_during_the_handshake_drains_both_sides() {
    let (client_cfg, server_cfg) = configs();
    let net = Network {
        latency_ns: 10_000_000,
        ..Network::default()
    };
    let mut pair = Pair::with_network(&client_cfg, &server_cfg, net);
    let ch = pair.connect();
    let client = pair.client.connection(ch).unwrap();
    // Let the Initial reach the server, then give up before the handshake completes.
    pair.run_until(12_000_000, |_| false);
    assert!(!client.is_established());
    assert_eq!(pair.server.connection_count(), 1);
    client.close(0x10c, b"cancelled");
    assert!(pair.run_until(10 * SECOND, |p| {
        p.client.connection_count() == 0 && p.server.connection_count() == 0
    }));
    let events = drain(&client);
    assert_eq!(
        events,
        vec![Event::ConnectionTerminated {
            error_code: 0x10c,
            reason: Bytes::from_static(b"cancelled"),
            error_space: ErrorSpace::Application,
            by_peer: false,
        }]
    );
    // The server's connection drained before the application accepted it: accept skips it.
    assert_eq!(pair.server.accept(), None);
}

#[test]
fn application_calls_wake_an_idle_connection() {
    // With no idle timeout, an idle connection has no timer and nothing to send; a call
    // through the handle must make the endpoint notice it: a send yields a transmit, and a
    // close arms a timer that next_timeout reports before any poll_transmit.
    let (mut client_cfg, mut server_cfg) = configs();
    client_cfg.set_idle_timeout(Duration::ZERO);
    server_cfg.set_idle_timeout(Duration::ZERO);
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let (client, server) = pair.connected();
    pair.run_until(5 * SECOND, |_| false);
    let mut buf = vec![0u8; 1500];
    assert_eq!(pair.client.poll_transmit(pair.now, &mut buf).unwrap(), None);
    assert_eq!(pair.client.next_timeout(), None, "idle, no timers");

    client.send_stream_data(0, b"wake up", true).unwrap();
    assert!(
        pair.client
            .poll_transmit(pair.now, &mut buf)
            .unwrap()
            .is_some()
    );
    pair.run_until(5 * SECOND, |_| false);
    assert_eq!(pair.server.next_timeout(), None);

    server.close(0, b"");
    let at = pair.server.next_timeout().expect("the close timer");
    assert!(at > pair.now && at < pair.now + 10 * SECOND);
    assert!(pair.run_until(10 * SECOND, |_| client.is_drained() && server.is_drained()));
}

#[test]
fn unacknowledged_streams_count_down_to_zero_as_the_peer_acknowledges() {
    let (mut pair, client, server) = connected_with_delay();
    assert_eq!(server.unacknowledged_streams(), 0);
    client.send_stream_data(0, b"GET", true).unwrap();
    client.send_stream_data(4, b"GET", true).unwrap();
    assert!(pair.run_until(SECOND, |_| !drain(&server).is_empty()));
    // Two responses, one far larger than the send window lets out at once.
    server
        .send_stream_data(0, &random_bytes(3 << 20, 7), true)
        .unwrap();
    server.send_stream_data(4, b"small", true).unwrap();
    assert_eq!(server.unacknowledged_streams(), 2);
    assert!(pair.run_until(10 * SECOND, |_| server.unacknowledged_streams() == 0));
    let received: usize = drain(&client)
        .iter()
        .map(|e| match e {
            Event::StreamDataReceived { data, .. } => data.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(
        received,
        (3 << 20) + 5,
        "everything arrived before the count reached 0"
    );
    client.close(0x100, b"done");
    pair.run_until(SECOND, |_| false);
    assert_eq!(server.unacknowledged_streams(), 0);
}
