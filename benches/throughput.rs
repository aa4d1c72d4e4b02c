//! Download throughput in memory: raw QUIC streams (quinn-proto through h3q::quic, no
//! HTTP/3) versus HTTP/3 through h3q, over the same in-memory pair (tests/support) with
//! zero latency and no loss. Wall-clock time of the whole transfer, both endpoints on this
//! thread. Run with `cargo bench --bench throughput` (release profile).
//!
//! Environment: `H3Q_BENCH_MB` (default 200) sets the body size, `H3Q_BENCH_RUNS`
//! (default 3) the number of runs per variant (the best is reported).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use bytes::Bytes;
use h3q::quic::Event;
use support::{Pair, configs};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The client asks on a bidirectional stream; the server answers with `size` bytes.
/// Returns bytes per second.
fn raw(size: usize) -> f64 {
    let (client_cfg, server_cfg) = configs();
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let (client, server) = pair.connected();
    while client.next_event().is_some() {}
    while server.next_event().is_some() {}
    let body = Bytes::from(vec![0x5au8; size]);

    let start = Instant::now();
    let sid = client.get_next_available_stream_id(false).unwrap();
    client.send_stream_data(sid, b"GET", true).unwrap();
    let mut received = 0usize;
    let mut done = false;
    let finished = pair.run_until(3600 * 1_000_000_000, |_| {
        while let Some(ev) = server.next_event() {
            if let Event::StreamDataReceived {
                stream_id,
                end_stream: true,
                ..
            } = ev
            {
                server
                    .send_stream_bytes(stream_id, body.clone(), true)
                    .unwrap();
            }
        }
        while let Some(ev) = client.next_event() {
            if let Event::StreamDataReceived {
                data, end_stream, ..
            } = ev
            {
                received += data.len();
                done |= end_stream;
            }
        }
        done
    });
    assert!(finished && received == size, "raw transfer incomplete");
    size as f64 / start.elapsed().as_secs_f64()
}

fn best(runs: usize, f: impl Fn() -> f64) -> f64 {
    (0..runs).map(|_| f()).fold(0.0, f64::max)
}

fn main() {
    let mb = env_usize("H3Q_BENCH_MB", 200);
    let runs = env_usize("H3Q_BENCH_RUNS", 3);
    let size = mb * 1024 * 1024;
    println!("in-memory download of {mb} MiB, best of {runs} runs");
    let raw_bps = best(runs, || raw(size));
    println!(
        "raw QUIC stream (quinn-proto via h3q::quic): {:8.1} MB/s",
        raw_bps / 1e6
    );
    let h3_bps = h3::download(size, runs);
    match h3_bps {
        Some(bps) => {
            println!(
                "HTTP/3 (h3q H3Connection over h3q::quic):    {:8.1} MB/s",
                bps / 1e6
            );
            println!("h3q/raw throughput ratio: {:.2}", bps / raw_bps);
        }
        None => println!("h3q/raw throughput ratio: n/a (HTTP/3 connection not merged)"),
    }
}

mod h3 {
    /// HTTP/3 download throughput, when the HTTP/3 connection is available.
    pub fn download(_size: usize, _runs: usize) -> Option<f64> {
        None
    }
}
