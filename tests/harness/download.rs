//! One download over the in-memory pair, timed on the simulated clock: the client asks,
//! the server answers with `size` bytes at once. For tests and benches of how the QUIC
//! layer copes with a path (loss, reordering, delay), where only the network and the
//! configurations differ between runs.

use h3q::quic::{Config, Event, Stats};

use super::pair::{NetStats, Network, Pair};

/// How a download went.
#[derive(Clone, Debug)]
pub struct DownloadOutcome {
    /// Simulated time from the request to the last byte.
    pub ns: u64,
    /// Both sides' measurements at the end (the server's: packets sent and declared
    /// lost, congestion events ...).
    pub server: Stats,
    pub client: Stats,
    /// The simulated network's counters (both directions).
    pub net: NetStats,
    /// The client's address as the server sees it at the end.
    pub server_sees: Option<std::net::SocketAddr>,
}

impl DownloadOutcome {
    pub fn seconds(&self) -> f64 {
        self.ns as f64 / 1e9
    }
}

/// Downloads `size` bytes over `net` with these configurations; panics if it takes more
/// than `limit_ns` of simulated time or the bytes are wrong.
pub fn download(
    client_cfg: &Config,
    server_cfg: &Config,
    net: Network,
    size: usize,
    limit_ns: u64,
) -> DownloadOutcome {
    download_with(client_cfg, server_cfg, net, size, limit_ns, |_, _| {})
}

/// [`download`], calling `during(pair, bytes received so far)` after every step (to move
/// the client, say).
pub fn download_with(
    client_cfg: &Config,
    server_cfg: &Config,
    net: Network,
    size: usize,
    limit_ns: u64,
    mut during: impl FnMut(&mut Pair, usize),
) -> DownloadOutcome {
    let mut p = Pair::with_network(client_cfg, server_cfg, net);
    let (client, server) = p.connected();
    let start = p.now;
    let sid = client.get_next_available_stream_id(false).unwrap();
    client.send_stream_data(sid, b"GET", true).unwrap();
    let mut received = 0usize;
    let mut ended = false;
    while !ended {
        assert!(
            p.now - start < limit_ns,
            "{received} of {size} bytes in time"
        );
        assert!(
            p.step(),
            "nothing more can happen at {received} of {size} bytes"
        );
        while let Some(ev) = server.next_event() {
            if let Event::StreamDataReceived {
                stream_id,
                end_stream: true,
                ..
            } = ev
            {
                let body: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
                server
                    .send_stream_bytes(stream_id, body.into(), true)
                    .unwrap();
            }
        }
        while let Some(ev) = client.next_event() {
            if let Event::StreamDataReceived {
                data, end_stream, ..
            } = ev
            {
                for (i, &b) in data.iter().enumerate() {
                    assert_eq!(b, ((received + i) % 251) as u8, "byte {}", received + i);
                }
                received += data.len();
                ended |= end_stream;
            }
        }
        during(&mut p, received);
    }
    assert_eq!(received, size);
    DownloadOutcome {
        ns: p.now - start,
        server: server.stats().expect("server stats"),
        client: client.stats().expect("client stats"),
        net: p.stats.clone(),
        server_sees: server.remote_address(),
    }
}
