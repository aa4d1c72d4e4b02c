//! Download throughput in memory: raw QUIC streams (quinn-proto through h3q::quic, no
//! HTTP/3) versus HTTP/3 through h3q, over the same in-memory pair (tests/harness/pair.rs)
//! with zero latency and no loss; both endpoints run on this thread.
//!
//! Throughput is body bytes divided by the CPU time this thread spent on the transfer
//! (`/proc/thread-self/schedstat`), which other processes on a shared machine do not
//! inflate; wall-clock throughput is printed too. Variants (see [`Mode`]):
//! * raw, whole body as one `Bytes` (no copy at all);
//! * raw, whole body as `&[u8]` (one copy, as quinn-proto's `SendStream::write`);
//! * raw, 64 KiB `&[u8]` pieces with backpressure (`Connection::send_buffered`);
//! * HTTP/3 (`H3Connection::send_data(&[u8])` on the server, `DataReceived` on the
//!   client), whole body or 64 KiB pieces, and the whole body as one `Bytes`
//!   (`H3Connection::send_data_bytes`, no copy on the sending side).
//!
//! The final ratio compares the best HTTP/3 variant with the best raw variant (the strict
//! baseline); the like-for-like ratios are printed above it.
//! Run with `cargo bench --bench throughput` (release profile). Environment:
//! `H3Q_BENCH_MB` (default 100) sets the body size, `H3Q_BENCH_RUNS` (default 3) the runs
//! per variant, interleaved (the best is reported), `H3Q_BENCH_ONLY` = raw | h3.

#[path = "../tests/harness/mod.rs"]
mod harness;

use std::time::Instant;

use bytes::Bytes;
use h3q::quic::Event;
use harness::pair::{Pair, configs};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU time used by this thread so far, in nanoseconds (Linux), if available.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// One measurement: (bytes per CPU second, bytes per wall-clock second).
#[derive(Clone, Copy, Default)]
struct Rate {
    cpu: f64,
    wall: f64,
}

impl Rate {
    fn measure(size: usize, transfer: impl FnOnce()) -> Rate {
        let cpu0 = thread_cpu_ns();
        let start = Instant::now();
        transfer();
        let wall = start.elapsed().as_secs_f64();
        let cpu = match (cpu0, thread_cpu_ns()) {
            (Some(a), Some(b)) if b > a => (b - a) as f64 / 1e9,
            _ => wall,
        };
        Rate {
            cpu: size as f64 / cpu,
            wall: size as f64 / wall,
        }
    }

    fn best(self, other: Rate) -> Rate {
        Rate {
            cpu: self.cpu.max(other.cpu),
            wall: self.wall.max(other.wall),
        }
    }

    fn print(&self, name: &str) {
        println!(
            "{name:<48} {:8.1} MB/s per CPU second ({:8.1} MB/s wall)",
            self.cpu / 1e6,
            self.wall / 1e6
        );
    }
}

/// How the server hands the body over.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// All at once, as one `Bytes` (no copy on the sending side).
    Owned,
    /// All at once, as `&[u8]` (copied once).
    Borrowed,
    /// In `PIECE`-byte `&[u8]` pieces, topped up whenever less than a piece waits in the
    /// transport (`Connection::send_buffered`): a streaming server with backpressure.
    Streamed,
}

/// The piece size of [`Mode::Streamed`].
const PIECE: usize = 64 * 1024;

/// The client asks on a bidirectional stream; the server answers with `size` bytes.
fn raw(size: usize, mode: Mode) -> Rate {
    let (client_cfg, server_cfg) = configs();
    let mut pair = Pair::new(&client_cfg, &server_cfg);
    let (client, server) = pair.connected();
    while client.next_event().is_some() {}
    while server.next_event().is_some() {}
    let body = Bytes::from(vec![0x5au8; size]);
    Rate::measure(size, || {
        raw_transfer(&mut pair, &client, &server, &body, mode)
    })
}

fn raw_transfer(
    pair: &mut Pair,
    client: &h3q::quic::Connection,
    server: &h3q::quic::Connection,
    body: &Bytes,
    mode: Mode,
) {
    let size = body.len();
    let sid = client.get_next_available_stream_id(false).unwrap();
    client.send_stream_data(sid, b"GET", true).unwrap();
    let mut received = 0usize;
    let mut done = false;
    let mut response: Option<u64> = None;
    let mut sent = 0usize;
    let finished = pair.run_until(3600 * 1_000_000_000, |_| {
        while let Some(ev) = server.next_event() {
            if let Event::StreamDataReceived {
                stream_id,
                end_stream: true,
                ..
            } = ev
            {
                match mode {
                    Mode::Owned => server
                        .send_stream_bytes(stream_id, body.clone(), true)
                        .unwrap(),
                    Mode::Borrowed => server.send_stream_data(stream_id, body, true).unwrap(),
                    Mode::Streamed => response = Some(stream_id),
                }
            }
        }
        if let Some(stream_id) = response {
            while sent < size && server.send_buffered(stream_id) < PIECE {
                let end = (sent + PIECE).min(size);
                server
                    .send_stream_data(stream_id, &body[sent..end], end == size)
                    .unwrap();
                sent = end;
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
}

fn main() {
    let mb = env_usize("H3Q_BENCH_MB", 100);
    let runs = env_usize("H3Q_BENCH_RUNS", 3);
    let size = mb * 1024 * 1024;
    println!("in-memory download of {mb} MiB, best of {runs} interleaved runs");
    // Interleave the variants so that load from other processes hits all alike.
    let only = std::env::var("H3Q_BENCH_ONLY").unwrap_or_default();
    let mut rates = [Rate::default(); 6];
    for _ in 0..runs {
        if only != "h3" {
            rates[0] = rates[0].best(raw(size, Mode::Owned));
            rates[1] = rates[1].best(raw(size, Mode::Borrowed));
            rates[2] = rates[2].best(raw(size, Mode::Streamed));
        }
        if only != "raw" {
            rates[3] = rates[3].best(h3::download(size, Mode::Borrowed));
            rates[4] = rates[4].best(h3::download(size, Mode::Streamed));
            rates[5] = rates[5].best(h3::download(size, Mode::Owned));
        }
    }
    let [owned, borrowed, streamed, h3_whole, h3_streamed, h3_owned] = rates;
    if only != "h3" {
        owned.print("raw QUIC stream, whole body as Bytes:");
        borrowed.print("raw QUIC stream, whole body as &[u8]:");
        streamed.print("raw QUIC stream, 64 KiB &[u8] pieces:");
    }
    if only != "raw" {
        h3_whole.print("HTTP/3, whole body in one send_data:");
        h3_streamed.print("HTTP/3, 64 KiB send_data pieces:");
        h3_owned.print("HTTP/3, whole body as Bytes:");
    }
    if only.is_empty() {
        println!(
            "HTTP/3 / raw, whole body as &[u8]:     {:.2}",
            h3_whole.cpu / borrowed.cpu
        );
        println!(
            "HTTP/3 / raw, 64 KiB pieces:           {:.2}",
            h3_streamed.cpu / streamed.cpu
        );
        println!(
            "HTTP/3 / raw, whole body as Bytes:     {:.2}",
            h3_owned.cpu / owned.cpu
        );
        println!(
            "wall-clock ratio (noisy on a shared machine): {:.2}",
            h3_whole.wall.max(h3_streamed.wall).max(h3_owned.wall)
                / owned.wall.max(borrowed.wall).max(streamed.wall)
        );
        let raw_best = owned.cpu.max(borrowed.cpu).max(streamed.cpu);
        let h3_best = h3_whole.cpu.max(h3_streamed.cpu).max(h3_owned.cpu);
        println!("h3q/raw throughput ratio: {:.2}", h3_best / raw_best);
    }
}

mod h3 {
    use h3q::h3::{H3Connection, H3Event, Settings};
    use h3q::quic::Connection;

    use super::harness::pair::{Pair, configs};
    use super::{Mode, PIECE, Rate};

    /// The client GETs; the server answers with HEADERS and a `size`-byte body through
    /// `H3Connection::send_data`, whole or in pieces.
    pub fn download(size: usize, mode: Mode) -> Rate {
        once(size, mode)
    }

    fn pump(quic: &Connection, h3: &mut H3Connection<Connection>, out: &mut Vec<H3Event>) {
        while let Some(ev) = quic.next_event() {
            h3.handle_event_into(ev.as_quic_event(), out)
                .expect("no protocol error in the benchmark");
        }
    }

    fn once(size: usize, mode: Mode) -> Rate {
        let (client_cfg, server_cfg) = configs();
        let mut pair = Pair::new(&client_cfg, &server_cfg);
        let (client_quic, server_quic) = pair.connected();
        let mut client = H3Connection::new(client_quic.clone(), Settings::default()).unwrap();
        let mut server = H3Connection::new(server_quic.clone(), Settings::default()).unwrap();
        let mut client_events = Vec::new();
        let mut server_events = Vec::new();
        // Let SETTINGS and the QPACK streams settle before timing.
        pair.run_until(1_000_000_000, |_| false);
        pump(&client_quic, &mut client, &mut client_events);
        pump(&server_quic, &mut server, &mut server_events);
        let body = vec![0x5au8; size];
        let body_bytes = bytes::Bytes::from(body.clone());
        Rate::measure(size, || {
            let sid = client
                .transport_mut()
                .get_next_available_stream_id(false)
                .unwrap();
            client
                .send_headers(
                    sid,
                    &[
                        (b":method", b"GET"),
                        (b":scheme", b"https"),
                        (b":authority", b"localhost"),
                        (b":path", b"/"),
                    ],
                    true,
                )
                .unwrap();
            let mut received = 0usize;
            let mut done = false;
            let mut response: Option<u64> = None;
            let mut sent = 0usize;
            let finished = pair.run_until(3600 * 1_000_000_000, |_| {
                server_events.clear();
                pump(&server_quic, &mut server, &mut server_events);
                for ev in server_events.drain(..) {
                    if let H3Event::HeadersReceived { stream_id, .. } = ev {
                        server
                            .send_headers(stream_id, &[(b":status", b"200")], false)
                            .unwrap();
                        match mode {
                            Mode::Streamed => response = Some(stream_id),
                            Mode::Owned => server
                                .send_data_bytes(stream_id, body_bytes.clone(), true)
                                .unwrap(),
                            Mode::Borrowed => server.send_data(stream_id, &body, true).unwrap(),
                        }
                    }
                }
                if let Some(stream_id) = response {
                    while sent < size && server.transport().send_buffered(stream_id) < PIECE {
                        let end = (sent + PIECE).min(size);
                        server
                            .send_data(stream_id, &body[sent..end], end == size)
                            .unwrap();
                        sent = end;
                    }
                }
                client_events.clear();
                pump(&client_quic, &mut client, &mut client_events);
                for ev in client_events.drain(..) {
                    if let H3Event::DataReceived {
                        data, stream_ended, ..
                    } = ev
                    {
                        received += data.len();
                        done |= stream_ended;
                    }
                }
                done
            });
            assert!(finished && received == size, "HTTP/3 transfer incomplete");
        })
    }
}
