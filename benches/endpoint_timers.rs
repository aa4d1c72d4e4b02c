//! The cost of an endpoint's timer calls as its connections grow: `next_timeout` and
//! `handle_timeout` (with no timer due) on a server endpoint holding 1,000, then 10,000
//! idle connections (handshakes done over the in-memory network, no request), per call.
//! Both used to look at every connection's cached timer, so the figures grew with the
//! connections; since the endpoint keeps the deadlines in a heap (`src/quic/timer_heap.rs`)
//! they should stay flat. An event loop calls them every time round.
//!
//!   cargo bench --bench endpoint_timers

#[path = "../tests/harness/mod.rs"]
mod harness;

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Instant;

use h3q::quic::{Endpoint, MIN_TRANSMIT_BUFFER};
use harness::pair::{CLIENT_ADDR, SERVER_ADDR, configs};

/// Connections opened at a time before the network runs (the server refuses new ones
/// beyond 1,024 waiting to be accepted).
const BATCH: usize = 500;
const CALLS: u32 = 2000;
const MS: u64 = 1_000_000;

struct Net {
    client: Endpoint,
    server: Endpoint,
    client_addr: SocketAddr,
    server_addr: SocketAddr,
    now: u64,
    buf: Vec<u8>,
}

impl Net {
    /// Datagrams both ways until none is left, accepting and draining events; then a
    /// millisecond passes and the timers run.
    fn step(&mut self) {
        loop {
            let mut moved = false;
            while let Some(t) = self.client.poll_transmit(self.now, &mut self.buf).unwrap() {
                moved = true;
                self.server
                    .receive(self.now, self.client_addr, &self.buf[..t.len]);
            }
            while self.server.accept().is_some() {}
            while let Some(t) = self.server.poll_transmit(self.now, &mut self.buf).unwrap() {
                moved = true;
                self.client
                    .receive(self.now, self.server_addr, &self.buf[..t.len]);
            }
            while let Some(c) = self.client.next_ready() {
                while c.next_event().is_some() {}
            }
            while let Some(c) = self.server.next_ready() {
                while c.next_event().is_some() {}
            }
            if !moved {
                break;
            }
        }
        self.now += MS;
        self.server.handle_timeout(self.now);
        self.client.handle_timeout(self.now);
    }
}

/// Nanoseconds per call of `f`, over CALLS calls.
fn per_call(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..CALLS {
        f();
    }
    start.elapsed().as_nanos() as f64 / f64::from(CALLS)
}

fn main() {
    let (client_cfg, server_cfg) = configs();
    let mut net = Net {
        client: Endpoint::new(&client_cfg).unwrap(),
        server: Endpoint::new(&server_cfg).unwrap(),
        client_addr: CLIENT_ADDR.parse().unwrap(),
        server_addr: SERVER_ADDR.parse().unwrap(),
        now: 1_000 * MS,
        buf: vec![0; MIN_TRANSMIT_BUFFER],
    };
    println!(
        "{:>12} {:>22} {:>36}",
        "connections", "next_timeout", "handle_timeout, nothing due"
    );
    for target in [1_000, 10_000] {
        while net.server.connection_count() < target {
            for _ in 0..BATCH.min(target - net.server.connection_count()) {
                let server_addr = net.server_addr;
                net.client
                    .connect(net.now, server_addr, "localhost")
                    .unwrap();
            }
            for _ in 0..30 {
                net.step();
            }
        }
        // Quiet: the handshakes' acknowledgements and timers settle.
        for _ in 0..200 {
            net.step();
        }
        let server = &mut net.server;
        let next = per_call(|| {
            black_box(server.next_timeout());
        });
        let now = net.now;
        let handle = per_call(|| server.handle_timeout(black_box(now)));
        println!(
            "{:>12} {:>19.2} us {:>33.2} us",
            server.connection_count(),
            next / 1e3,
            handle / 1e3
        );
    }
}
