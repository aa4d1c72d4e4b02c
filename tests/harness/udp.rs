//! The QUIC layer on a real UDP socket on 127.0.0.1: the application loop a C program
//! would write (non-blocking socket, the endpoint's timer), one piece per call so a test
//! can interleave two endpoints in one thread or run each in its own.

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use h3q::quic::{Config, Endpoint, MIN_TRANSMIT_BUFFER};

/// One endpoint and its socket, with the buffers its loop needs.
pub struct UdpSide {
    pub socket: UdpSocket,
    pub endpoint: Endpoint,
    recv_buf: Vec<u8>,
    send_buf: Vec<u8>,
}

impl UdpSide {
    /// An endpoint for `config` on a fresh non-blocking socket bound to 127.0.0.1.
    pub fn bind(config: &Config) -> UdpSide {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        socket.set_nonblocking(true).expect("non-blocking socket");
        UdpSide {
            socket,
            endpoint: Endpoint::new(config).expect("endpoint"),
            recv_buf: vec![0; 65536],
            send_buf: vec![0; MIN_TRANSMIT_BUFFER],
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.socket.local_addr().expect("local address")
    }

    /// Feeds every waiting datagram to the endpoint; returns how many.
    pub fn receive(&mut self, now: u64) -> usize {
        let mut count = 0;
        loop {
            match self.socket.recv_from(&mut self.recv_buf) {
                Ok((n, from)) => {
                    self.endpoint.receive(now, from, &self.recv_buf[..n]);
                    count += 1;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return count,
                Err(e) => panic!("recv_from: {e}"),
            }
        }
    }

    /// Sends everything the endpoint has, a batch as its datagrams; a full socket buffer
    /// counts as loss. Returns how many transmits there were.
    pub fn transmit(&mut self, now: u64) -> usize {
        let mut count = 0;
        while let Some(t) = self
            .endpoint
            .poll_transmit(now, &mut self.send_buf)
            .expect("poll_transmit")
        {
            count += 1;
            for datagram in self.send_buf[..t.len].chunks(t.segment_size.max(1)) {
                match self.socket.send_to(datagram, t.destination) {
                    Ok(_) => {}
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => panic!("send_to: {e}"),
                }
            }
        }
        count
    }

    /// Runs the endpoint's timer if it is due.
    pub fn timers(&mut self, now: u64) {
        if self.endpoint.next_timeout().is_some_and(|at| at <= now) {
            self.endpoint.handle_timeout(now);
        }
    }

    /// When idle: sleeps until the earliest of `sides`' timers, polling the sockets at
    /// least every `poll` nanoseconds.
    pub fn idle(sides: &[&UdpSide], clock: &Clock, poll: u64) {
        let next = sides.iter().filter_map(|s| s.endpoint.next_timeout()).min();
        let wait = next
            .map(|at| at.saturating_sub(clock.now()))
            .unwrap_or(u64::MAX)
            .min(poll);
        std::thread::sleep(Duration::from_nanos(wait));
    }
}

/// Monotonic nanoseconds since the clock was made: the time the endpoints are given.
#[derive(Clone, Copy)]
pub struct Clock(Instant);

impl Clock {
    pub fn start() -> Clock {
        Clock(Instant::now())
    }

    pub fn now(&self) -> u64 {
        self.0.elapsed().as_nanos() as u64
    }
}
