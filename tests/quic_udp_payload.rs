//! The ceiling on UDP payloads (`Config::set_max_udp_payload_size`) over the in-memory
//! pair: raised, datagrams grow past Ethernet's 1,452 bytes up to what the path carries;
//! a receiver's ceiling bounds what its peer sends (the `max_udp_payload_size` transport
//! parameter); transmit buffers must hold the largest datagram; and a GSO batch of large
//! datagrams never exceeds what one send carries.

mod harness;

use h3q::quic::{
    Config, Connection, Endpoint, Event, MAX_GSO_PAYLOAD, QuicError, UDP_PAYLOAD_RANGE,
};
use harness::download::download;
use harness::pair::{Network, Pair, configs};

const SECOND: u64 = 1_000_000_000;
const JUMBO: u64 = 8952;

/// A path that carries datagrams of up to 9,000 bytes (jumbo frames), and drops larger
/// ones as a router drops don't-fragment packets.
fn jumbo_path() -> Network {
    Network {
        mtu: Some(9000),
        latency_ns: 1_000_000,
        ..Network::default()
    }
}

/// Client and server configurations with path MTU discovery on and these ceilings.
fn discovering(client_ceiling: Option<u64>, server_ceiling: Option<u64>) -> (Config, Config) {
    let (mut client, mut server) = configs();
    for (cfg, ceiling) in [(&mut client, client_ceiling), (&mut server, server_ceiling)] {
        cfg.set_mtu_discovery(true);
        cfg.set_max_udp_payload_size(ceiling).unwrap();
    }
    (client, server)
}

#[test]
fn a_raised_ceiling_lets_datagrams_grow_to_what_the_path_carries() {
    const SIZE: usize = 4 << 20;
    let (client, server) = discovering(None, None);
    let ethernet = download(&client, &server, jumbo_path(), SIZE, 60 * SECOND);
    assert_eq!(ethernet.server.path_mtu, 1452, "{:?}", ethernet.server);
    assert!(ethernet.net.largest <= 1472, "{:?}", ethernet.net);

    let (client, server) = discovering(Some(JUMBO), Some(JUMBO));
    let jumbo = download(&client, &server, jumbo_path(), SIZE, 60 * SECOND);
    let mtu = jumbo.server.path_mtu;
    assert!(mtu > 8000 && mtu <= JUMBO, "{:?}", jumbo.server);
    assert!(
        jumbo.net.largest > 8000 && jumbo.net.largest <= JUMBO as usize,
        "{:?}",
        jumbo.net
    );
    // The same bytes in far fewer datagrams.
    assert!(
        jumbo.server.datagrams_sent * 4 < ethernet.server.datagrams_sent,
        "jumbo {:?}\nethernet {:?}",
        jumbo.server,
        ethernet.server
    );
}

#[test]
fn a_path_narrower_than_the_ceiling_is_found_and_kept_to() {
    let path = Network {
        mtu: Some(4000),
        ..jumbo_path()
    };
    let (client, server) = discovering(Some(JUMBO), Some(JUMBO));
    let outcome = download(&client, &server, path, 2 << 20, 60 * SECOND);
    let mtu = outcome.server.path_mtu;
    assert!(mtu > 1452 && mtu <= 4000, "{:?}", outcome.server);
    assert!(outcome.net.lost > 0, "probes above the path MTU are lost");
}

#[test]
fn a_peer_never_sends_more_than_the_receiver_accepts() {
    // The server may send 8,952 bytes, but the client accepts 1,300: the server's
    // discovery stops there, though the path would carry more.
    let (client, server) = discovering(Some(1300), Some(JUMBO));
    let outcome = download(&client, &server, jumbo_path(), 2 << 20, 60 * SECOND);
    assert!(outcome.server.path_mtu <= 1300, "{:?}", outcome.server);
    assert!(outcome.net.largest <= 1300, "{:?}", outcome.net);
    // The other way round: a default client (1,472 accepted) and a raised server.
    let (client, server) = discovering(None, Some(JUMBO));
    let outcome = download(&client, &server, jumbo_path(), 2 << 20, 60 * SECOND);
    assert!(outcome.server.path_mtu <= 1472, "{:?}", outcome.server);
    assert!(outcome.net.largest <= 1472, "{:?}", outcome.net);
}

#[test]
fn ceilings_outside_the_range_are_refused() {
    let mut cfg = Config::server();
    for bad in [0, 1199, 65_528, 70_000, u64::MAX] {
        let err = cfg.set_max_udp_payload_size(Some(bad)).unwrap_err();
        assert!(err.message().contains("1200 to 65527"), "{bad}: {err}");
        assert_eq!(
            cfg.max_udp_payload_size(),
            None,
            "a refused value changes nothing"
        );
    }
    for good in [
        *UDP_PAYLOAD_RANGE.start(),
        1452,
        JUMBO,
        *UDP_PAYLOAD_RANGE.end(),
    ] {
        cfg.set_max_udp_payload_size(Some(good)).unwrap();
        assert_eq!(cfg.max_udp_payload_size(), Some(good as u16));
    }
    cfg.set_max_udp_payload_size(None).unwrap();
    assert_eq!(cfg.max_udp_payload_size(), None);
}

#[test]
fn transmit_buffers_must_hold_the_largest_datagram() {
    let (_, mut server) = configs();
    assert_eq!(
        Endpoint::new(&server).unwrap().transmit_buffer_minimum(),
        1472
    );
    server.set_max_udp_payload_size(Some(1300)).unwrap();
    assert_eq!(
        Endpoint::new(&server).unwrap().transmit_buffer_minimum(),
        1472
    );
    server.set_max_udp_payload_size(Some(JUMBO)).unwrap();
    let mut endpoint = Endpoint::new(&server).unwrap();
    assert_eq!(endpoint.transmit_buffer_minimum(), JUMBO as usize);
    let mut small = vec![0u8; 1472];
    match endpoint.poll_transmit(1, &mut small) {
        Err(QuicError::InvalidArgument(message)) => {
            assert!(message.contains("8952"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let mut enough = vec![0u8; JUMBO as usize];
    assert!(matches!(endpoint.poll_transmit(1, &mut enough), Ok(None)));
}

/// The client asks, the server answers with 2 MiB; pumps until the client has all of it
/// and the server's path MTU exceeds `mtu_above` (discovery done).
fn grow_mtu(pair: &mut Pair, client: &Connection, server: &Connection, mtu_above: u64) {
    let sid = client.get_next_available_stream_id(false).unwrap();
    client.send_stream_data(sid, b"GET", true).unwrap();
    let (mut sent, mut received) = (false, false);
    assert!(pair.run_until(30 * SECOND, |_| {
        while let Some(ev) = server.next_event() {
            if let Event::StreamDataReceived {
                end_stream: true, ..
            } = ev
                && !sent
            {
                server
                    .send_stream_data(sid, &vec![5u8; 2 << 20], true)
                    .unwrap();
                sent = true;
            }
        }
        while let Some(ev) = client.next_event() {
            received |= matches!(
                ev,
                Event::StreamDataReceived {
                    end_stream: true,
                    ..
                }
            );
        }
        received && server.stats().is_some_and(|s| s.path_mtu > mtu_above)
    }));
}

#[test]
fn gso_batches_of_large_datagrams_stay_within_one_send() {
    let (mut client_cfg, mut server_cfg) = discovering(Some(20_000), Some(20_000));
    server_cfg.set_max_gso_segments(44);
    client_cfg.set_max_gso_segments(44);
    // A window that lets the burst below go out at once.
    server_cfg.set_initial_window(Some(4 << 20)).unwrap();
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let (client, server) = pair.connected();
    grow_mtu(&mut pair, &client, &server, 15_000);
    // A burst to send: batches of several datagrams of the grown size, never more bytes
    // than one UDP send takes (65,507), where 44 x 20,000 would be 880,000.
    let sid = client.get_next_available_stream_id(false).unwrap();
    client.send_stream_data(sid, b"GET", true).unwrap();
    pair.run_until(SECOND, |_| server.next_event().is_some());
    while server.next_event().is_some() {}
    server
        .send_stream_data(sid, &vec![9u8; 1 << 20], true)
        .unwrap();
    let mut batches = 0;
    // Paced: a few steps of simulated time, the client not answering meanwhile.
    for _ in 0..50 {
        pair.now += 200_000;
        pair.server.handle_timeout(pair.now);
        while let Some((t, bytes)) = pair.server.poll_transmit_lent(pair.now) {
            assert_eq!(t.len, bytes.len());
            assert!(t.len <= MAX_GSO_PAYLOAD, "{t:?}");
            if t.len > t.segment_size {
                assert!(t.segment_size > 15_000, "{t:?}");
                batches += 1;
            }
        }
    }
    assert!(batches > 0, "no batch of several large datagrams was sent");
}
