//! The QUIC layer over real UDP sockets on 127.0.0.1: the application loop a C program
//! would write (non-blocking sockets, the endpoint's timer), bounded in time and rounds.

mod harness;

use std::time::Duration;

use h3q::quic::{Connection, Event};
use harness::pair::configs;
use harness::rng::random_bytes;
use harness::udp::{Clock, UdpSide};
use sha2::{Digest, Sha256};

#[test]
fn ten_megabytes_over_udp_on_loopback() {
    const SIZE: usize = 10 * 1024 * 1024;
    let (client_cfg, server_cfg) = configs();
    let mut server = UdpSide::bind(&server_cfg);
    let mut client = UdpSide::bind(&client_cfg);
    let server_addr = server.addr();

    let clock = Clock::start();
    let ch = client
        .endpoint
        .connect(clock.now(), server_addr, "localhost")
        .unwrap();
    let client_conn = client.endpoint.connection(ch).unwrap();

    let data = random_bytes(SIZE, 99);
    let expected: [u8; 32] = Sha256::digest(&data).into();
    let mut data = Some(data);

    let mut server_conn: Option<Connection> = None;
    let mut server_hash = Sha256::new();
    let mut server_received = 0usize;
    let mut reply = Vec::new();
    let mut reply_done = false;

    let mut rounds = 0u64;
    while !reply_done {
        rounds += 1;
        assert!(rounds < 5_000_000, "too many rounds");
        assert!(
            clock.now() < Duration::from_secs(120).as_nanos() as u64,
            "timed out: server got {server_received} bytes"
        );
        let now = clock.now();
        let mut activity = server.receive(now) + client.receive(now);
        server.timers(now);
        client.timers(now);

        if server_conn.is_none()
            && let Some(h) = server.endpoint.accept()
        {
            server_conn = Some(server.endpoint.connection(h).unwrap());
        }
        while let Some(ev) = client_conn.next_event() {
            match ev {
                Event::HandshakeCompleted { .. } => {
                    let sid = client_conn.get_next_available_stream_id(false).unwrap();
                    let body = data.take().unwrap();
                    client_conn
                        .send_stream_bytes(sid, body.into(), true)
                        .unwrap();
                }
                Event::StreamDataReceived {
                    data, end_stream, ..
                } => {
                    reply.extend_from_slice(&data);
                    reply_done |= end_stream;
                }
                Event::ConnectionTerminated {
                    error_code, reason, ..
                } => {
                    panic!("client terminated: {error_code:#x} {reason:?}")
                }
                _ => {}
            }
        }
        if let Some(conn) = &server_conn {
            while let Some(ev) = conn.next_event() {
                if let Event::StreamDataReceived {
                    stream_id,
                    data,
                    end_stream,
                } = ev
                {
                    server_hash.update(&data);
                    server_received += data.len();
                    if end_stream {
                        let digest = std::mem::take(&mut server_hash).finalize();
                        conn.send_stream_data(stream_id, &digest, true).unwrap();
                    }
                }
            }
        }

        let now = clock.now();
        activity += server.transmit(now) + client.transmit(now);
        if activity == 0 {
            UdpSide::idle(&[&server, &client], &clock, 200_000);
        }
    }
    assert_eq!(server_received, SIZE);
    assert_eq!(reply.as_slice(), expected.as_slice());
    let stats = client_conn.stats().unwrap();
    eprintln!(
        "10 MB over UDP in {:?}, {rounds} rounds, {} datagrams sent, {} lost",
        Duration::from_nanos(clock.now()),
        stats.datagrams_sent,
        stats.packets_lost
    );
}
