//! The QUIC layer over real UDP sockets on 127.0.0.1: the application loop a C program
//! would write (non-blocking sockets, the endpoint's timer), bounded in time and rounds.

mod harness;

use std::io::ErrorKind;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

use h3q::quic::{Connection, Endpoint, Event, MIN_TRANSMIT_BUFFER};
use harness::pair::configs;
use harness::rng::random_bytes;
use sha2::{Digest, Sha256};

struct Side {
    socket: UdpSocket,
    endpoint: Endpoint,
}

impl Side {
    /// Feeds every waiting datagram to the endpoint; returns how many.
    fn receive(&mut self, now: u64, buf: &mut [u8]) -> usize {
        let mut count = 0;
        loop {
            match self.socket.recv_from(buf) {
                Ok((n, from)) => {
                    self.endpoint.receive(now, from, &buf[..n]);
                    count += 1;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return count,
                Err(e) => panic!("recv_from: {e}"),
            }
        }
    }

    /// Sends everything the endpoint has; a full socket buffer counts as loss.
    fn transmit(&mut self, now: u64, buf: &mut [u8]) -> usize {
        let mut count = 0;
        while let Some(t) = self.endpoint.poll_transmit(now, buf).unwrap() {
            count += 1;
            match self.socket.send_to(&buf[..t.len], t.destination) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => panic!("send_to: {e}"),
            }
        }
        count
    }

    fn timers(&mut self, now: u64) {
        if self.endpoint.next_timeout().is_some_and(|at| at <= now) {
            self.endpoint.handle_timeout(now);
        }
    }
}

fn side(config: &h3q::quic::Config) -> Side {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_nonblocking(true).unwrap();
    Side {
        socket,
        endpoint: Endpoint::new(config).unwrap(),
    }
}

#[test]
fn ten_megabytes_over_udp_on_loopback() {
    const SIZE: usize = 10 * 1024 * 1024;
    let (client_cfg, server_cfg) = configs();
    let mut server = side(&server_cfg);
    let mut client = side(&client_cfg);
    let server_addr = server.socket.local_addr().unwrap();

    let start = Instant::now();
    let clock = || start.elapsed().as_nanos() as u64;
    let ch = client
        .endpoint
        .connect(clock(), server_addr, "localhost")
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
    let mut buf = vec![0u8; 65536];
    let mut out = vec![0u8; MIN_TRANSMIT_BUFFER];

    let mut rounds = 0u64;
    while !reply_done {
        rounds += 1;
        assert!(rounds < 5_000_000, "too many rounds");
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "timed out: server got {server_received} bytes"
        );
        let now = clock();
        let mut activity = server.receive(now, &mut buf) + client.receive(now, &mut buf);
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

        let now = clock();
        activity += server.transmit(now, &mut out) + client.transmit(now, &mut out);
        if activity == 0 {
            // Idle: wait for the next timer, but poll the sockets at least every 200 µs.
            let next = [
                server.endpoint.next_timeout(),
                client.endpoint.next_timeout(),
            ]
            .into_iter()
            .flatten()
            .min();
            let wait = next
                .map(|at| at.saturating_sub(clock()))
                .unwrap_or(u64::MAX)
                .min(200_000);
            std::thread::sleep(Duration::from_nanos(wait));
        }
    }
    assert_eq!(server_received, SIZE);
    assert_eq!(reply.as_slice(), expected.as_slice());
    let stats = client_conn.stats().unwrap();
    eprintln!(
        "10 MB over UDP in {:?}, {rounds} rounds, {} datagrams sent, {} lost",
        start.elapsed(),
        stats.udp_tx.datagrams,
        stats.path.lost_packets
    );
}
