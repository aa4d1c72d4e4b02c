//! An in-memory client/server pair: two `h3q::quic::Endpoint`s in one process, a simulated
//! clock, and a simulated network with optional latency, loss and reordering driven by a
//! seeded [`Rng`], so every run is reproducible.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;

use h3q::quic::{Config, Connection, ConnectionHandle, Endpoint, MIN_TRANSMIT_BUFFER};

use super::rng::Rng;

/// The client's address on the simulated network.
pub const CLIENT_ADDR: &str = "10.0.0.1:40000";
/// The server's address on the simulated network.
pub const SERVER_ADDR: &str = "10.0.0.2:4433";

/// The simulated network's behaviour.
#[derive(Clone, Debug)]
pub struct Network {
    /// One-way delay.
    pub latency_ns: u64,
    /// Probability that a datagram is lost.
    pub loss: f64,
    /// Probability that a datagram is delayed by up to one extra latency (reordering).
    pub reorder: f64,
    /// Each datagram's one-way delay is drawn independently and uniformly from
    /// `latency_ns ± jitter_ns` (netem's `delay L J`), which reorders heavily.
    pub jitter_ns: u64,
    /// The path MTU as a UDP payload size: larger datagrams are dropped (counted as lost),
    /// as a router would drop a packet with the don't-fragment bit set. `None`: no limit.
    pub mtu: Option<usize>,
    /// The path carries the ECN bits each datagram was sent with (false: they arrive as
    /// Not-ECT, as on a path that bleaches them).
    pub pass_ecn: bool,
    /// Probability that a router marks an ECN-capable datagram CE (congestion
    /// experienced) instead of dropping it; needs `pass_ecn`.
    pub ce_mark: f64,
    pub seed: u64,
}

impl Default for Network {
    fn default() -> Self {
        Network {
            latency_ns: 0,
            loss: 0.0,
            reorder: 0.0,
            jitter_ns: 0,
            mtu: None,
            pass_ecn: false,
            ce_mark: 0.0,
            seed: 0x5eed,
        }
    }
}

struct InFlight {
    deliver_at: u64,
    seq: u64,
    to_server: bool,
    ecn: u8,
    data: Vec<u8>,
}

impl PartialEq for InFlight {
    fn eq(&self, other: &Self) -> bool {
        (self.deliver_at, self.seq) == (other.deliver_at, other.seq)
    }
}
impl Eq for InFlight {}
impl PartialOrd for InFlight {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for InFlight {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.deliver_at, self.seq).cmp(&(other.deliver_at, other.seq))
    }
}

/// Counters of the simulated network.
#[derive(Clone, Debug, Default)]
pub struct NetStats {
    pub sent: u64,
    pub lost: u64,
    pub reordered: u64,
    pub bytes: u64,
    /// The largest datagram delivered.
    pub largest: usize,
    /// Datagrams sent ECN-capable (ECT(0) or ECT(1)), and those the network marked CE.
    pub ect_sent: u64,
    pub ce_marked: u64,
}

/// A client and a server endpoint joined by a simulated network.
pub struct Pair {
    pub client: Endpoint,
    pub server: Endpoint,
    pub client_addr: SocketAddr,
    pub server_addr: SocketAddr,
    /// Simulated time, in nanoseconds (starts at an arbitrary non-zero origin).
    pub now: u64,
    pub net: Network,
    pub stats: NetStats,
    rng: Rng,
    in_flight: BinaryHeap<Reverse<InFlight>>,
    seq: u64,
    buf: Vec<u8>,
}

/// A server configuration with a generated certificate for "localhost", and a client
/// configuration trusting exactly that certificate.
pub fn configs() -> (Config, Config) {
    let mut server = Config::server();
    server.generate_self_signed("localhost").unwrap();
    let mut client = Config::client();
    client
        .add_ca_pem(server.certificate_chain_pem().unwrap().as_bytes())
        .unwrap();
    (client, server)
}

impl Pair {
    pub fn new(client: &Config, server: &Config) -> Pair {
        Pair::with_network(client, server, Network::default())
    }

    pub fn with_network(client: &Config, server: &Config, net: Network) -> Pair {
        let (client, server) = (
            Endpoint::new(client).unwrap(),
            Endpoint::new(server).unwrap(),
        );
        // Room for 8 datagrams, or for one of the largest a raised ceiling allows.
        let buf_len = (MIN_TRANSMIT_BUFFER * 8)
            .max(client.transmit_buffer_minimum())
            .max(server.transmit_buffer_minimum());
        Pair {
            client,
            server,
            client_addr: CLIENT_ADDR.parse().unwrap(),
            server_addr: SERVER_ADDR.parse().unwrap(),
            now: 1_000_000_000,
            rng: Rng::new(net.seed),
            net,
            stats: NetStats::default(),
            in_flight: BinaryHeap::new(),
            seq: 0,
            buf: vec![0; buf_len],
        }
    }

    /// Starts a connection from the client, returning the client's handle.
    pub fn connect(&mut self) -> ConnectionHandle {
        self.client
            .connect(self.now, self.server_addr, "localhost")
            .unwrap()
    }

    /// Connects and runs until the server accepted and both handshakes completed; returns
    /// (client connection, server connection). Handshake events stay in the queues.
    pub fn connected(&mut self) -> (Connection, Connection) {
        let ch = self.connect();
        let client = self.client.connection(ch).unwrap();
        let mut server = None;
        let deadline = self.now + 10_000_000_000;
        while self.now < deadline {
            self.step();
            if server.is_none()
                && let Some(sh) = self.server.accept()
            {
                server = Some(self.server.connection(sh).unwrap());
            }
            if let Some(s) = &server
                && s.is_established()
                && client.is_established()
            {
                return (client, server.unwrap());
            }
        }
        panic!("handshake did not complete");
    }

    /// Sends everything both endpoints have to send, then delivers every datagram due now.
    /// Returns whether anything moved.
    pub fn pump(&mut self) -> bool {
        let mut moved = false;
        for to_server in [true, false] {
            loop {
                let sender = if to_server {
                    &mut self.client
                } else {
                    &mut self.server
                };
                let Some(t) = sender.poll_transmit(self.now, &mut self.buf).unwrap() else {
                    break;
                };
                moved = true;
                let mut offset = 0;
                while offset < t.len {
                    let end = (offset + t.segment_size).min(t.len);
                    self.send(to_server, offset, end, t.ecn);
                    offset = end;
                }
            }
        }
        while let Some(Reverse(p)) = self.in_flight.peek() {
            if p.deliver_at > self.now {
                break;
            }
            let Reverse(p) = self.in_flight.pop().unwrap();
            self.deliver(p.to_server, &p.data, p.ecn);
            moved = true;
        }
        moved
    }

    fn send(&mut self, to_server: bool, start: usize, end: usize, mut ecn: u8) {
        self.stats.sent += 1;
        if ecn == 0b10 || ecn == 0b01 {
            self.stats.ect_sent += 1;
        }
        if !self.net.pass_ecn {
            ecn = 0;
        } else if ecn != 0 && self.net.ce_mark > 0.0 && self.rng.unit() < self.net.ce_mark {
            ecn = 0b11;
            self.stats.ce_marked += 1;
        }
        self.stats.bytes += (end - start) as u64;
        let too_big = self.net.mtu.is_some_and(|mtu| end - start > mtu);
        if too_big || (self.net.loss > 0.0 && self.rng.unit() < self.net.loss) {
            self.stats.lost += 1;
            return;
        }
        self.stats.largest = self.stats.largest.max(end - start);
        let mut delay = self.net.latency_ns;
        if self.net.jitter_ns > 0 {
            let spread = 2 * self.net.jitter_ns + 1;
            delay = (delay + self.rng.next_u64() % spread).saturating_sub(self.net.jitter_ns);
        }
        if self.net.reorder > 0.0 && self.rng.unit() < self.net.reorder {
            self.stats.reordered += 1;
            delay += 1 + self.rng.next_u64() % self.net.latency_ns.max(1_000_000);
        }
        if delay == 0 {
            // Zero latency: hand it over at once, no copy.
            let data = &self.buf[start..end];
            let (receiver, from) = if to_server {
                (&mut self.server, self.client_addr)
            } else {
                (&mut self.client, self.server_addr)
            };
            receiver.receive_with_ecn(self.now, from, data, data.len(), ecn);
            return;
        }
        self.seq += 1;
        self.in_flight.push(Reverse(InFlight {
            deliver_at: self.now + delay,
            seq: self.seq,
            to_server,
            ecn,
            data: self.buf[start..end].to_vec(),
        }));
    }

    fn deliver(&mut self, to_server: bool, data: &[u8], ecn: u8) {
        if to_server {
            self.server
                .receive_with_ecn(self.now, self.client_addr, data, data.len(), ecn);
        } else {
            self.client
                .receive_with_ecn(self.now, self.server_addr, data, data.len(), ecn);
        }
    }

    /// One round: pump; if nothing moved, advance time to the next arrival or timer (but
    /// not past `deadline`) and run the timers. Returns false when time cannot advance.
    pub fn step_until(&mut self, deadline: u64) -> bool {
        if self.pump() {
            return true;
        }
        let next = [
            self.in_flight.peek().map(|Reverse(p)| p.deliver_at),
            self.client.next_timeout(),
            self.server.next_timeout(),
        ]
        .into_iter()
        .flatten()
        .min();
        let next = match next {
            Some(at) => at.min(deadline),
            None if deadline == u64::MAX => return false, // nothing will ever happen
            None => deadline,
        };
        if next <= self.now && self.now >= deadline {
            return false;
        }
        self.now = self.now.max(next);
        self.client.handle_timeout(self.now);
        self.server.handle_timeout(self.now);
        true
    }

    /// One round without a deadline.
    pub fn step(&mut self) -> bool {
        self.step_until(u64::MAX)
    }

    /// Steps until `done` holds (checked after every step) or `limit_ns` of simulated time
    /// passed; returns whether `done` held.
    pub fn run_until(&mut self, limit_ns: u64, mut done: impl FnMut(&mut Pair) -> bool) -> bool {
        let deadline = self.now.saturating_add(limit_ns);
        loop {
            if done(self) {
                return true;
            }
            if !self.step_until(deadline) {
                return done(self);
            }
        }
    }
}
