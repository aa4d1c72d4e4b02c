//! A download race for priorities (RFC 9218), in memory ([`InMemory`], simulated 10 ms
//! round trip) or over UDP on 127.0.0.1 ([`Udp`]): `background` responses of `size` bytes
//! start first; once their first bytes arrive, an `urgent` one of the same size is
//! requested, or instead one background response is raised midway with a
//! PRIORITY_UPDATE. The server answers each request with its whole body at once, so only
//! the scheduler decides who gets the connection. Shared by
//! `tests/h3_priorities.rs` (what must hold) and `benches/priorities.rs` (the figures).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use bytes::Bytes;
use h3q::h3::{H3Connection, H3Event, Priority, Settings};
use h3q::quic::{Config, Connection};

use super::h3_pair::{H3Pair, SECOND};
use super::pair::{Network, configs};
use super::udp::{Clock, UdpSide};

/// What the client asks for.
#[derive(Clone, Debug)]
pub struct Race {
    /// Responses started first, and the `priority` field they are requested with (None:
    /// no field).
    pub background: usize,
    pub background_priority: Option<&'static str>,
    /// The request started once the first background bytes arrive.
    pub urgent_priority: Option<&'static str>,
    /// Bytes of each response.
    pub size: usize,
    /// Raise the last background response to this priority with a PRIORITY_UPDATE once
    /// the background has received this fraction of its bytes (no urgent request then).
    pub raise_last_at: Option<(f64, Priority)>,
}

impl Race {
    /// 8 responses at `u=5`, then one at `u=0`.
    pub fn urgent_ninth(size: usize) -> Race {
        Race {
            background: 8,
            background_priority: Some("u=5"),
            urgent_priority: Some("u=0"),
            size,
            raise_last_at: None,
        }
    }

    /// 8 responses requested with `background` (`u=5` or `u=5, i`, say); the last raised
    /// to `u=0` once a tenth of their bytes arrived.
    pub fn raise_last(size: usize, background: &'static str) -> Race {
        Race {
            background: 8,
            background_priority: Some(background),
            urgent_priority: None,
            size,
            raise_last_at: Some((
                0.1,
                Priority {
                    urgency: 0,
                    incremental: false,
                },
            )),
        }
    }
}

/// How it went.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// Streams in the order their responses completed.
    pub finished: Vec<u64>,
    /// The urgent request's stream (or the raised one).
    pub favoured: u64,
    /// The background streams.
    pub background: Vec<u64>,
    /// The background streams that had received bytes when the raise was sent.
    pub started_at_raise: Vec<u64>,
    /// Background bytes received when the favoured response completed (the favoured
    /// stream's own bytes excluded).
    pub background_bytes_then: u64,
    /// Simulated time from the favoured request (or raise) to its completion, and to the
    /// end of everything.
    pub favoured_ns: u64,
    pub total_ns: u64,
}

impl Outcome {
    /// The share of the other background bytes that had arrived when the favoured
    /// response completed.
    pub fn background_share_then(&self, race: &Race) -> f64 {
        let others = self
            .background
            .iter()
            .filter(|&&s| s != self.favoured)
            .count();
        self.background_bytes_then as f64 / (others * race.size) as f64
    }

    /// The favoured stream's place among the completions (0: first).
    pub fn favoured_place(&self) -> usize {
        self.finished
            .iter()
            .position(|&s| s == self.favoured)
            .expect("the favoured response completed")
    }
}

fn get(priority: Option<&str>) -> Vec<(&[u8], &[u8])> {
    let mut headers: Vec<(&[u8], &[u8])> = vec![
        (b":method", b"GET"),
        (b":scheme", b"https"),
        (b":authority", b"localhost"),
        (b":path", b"/body"),
    ];
    if let Some(p) = priority {
        headers.push((b"priority", p.as_bytes()));
    }
    headers
}

/// What a race runs on: the client's HTTP/3 connection, a clock, and a network whose
/// server answers every request with `size` bytes as one send, so only the scheduler
/// decides who gets the connection.
pub trait RaceNet {
    /// Nanoseconds on the network's clock (simulated or real).
    fn now(&self) -> u64;
    /// Moves the network on, the clock no further than `deadline`; returns the client's
    /// HTTP events.
    fn step_until(&mut self, deadline: u64) -> Vec<H3Event>;
    fn client(&mut self) -> &mut H3Connection<Connection>;
}

/// Opens the client's next request stream with `headers`; returns its id.
fn open_with(net: &mut impl RaceNet, headers: &[(&[u8], &[u8])]) -> u64 {
    let client = net.client();
    let sid = client
        .transport_mut()
        .get_next_available_stream_id(false)
        .expect("a request stream");
    client
        .send_headers(sid, headers, true)
        .expect("request sent");
    sid
}

/// The server's part: every complete request is answered with `body`.
fn answer(server: &mut H3Connection<Connection>, events: Vec<H3Event>, body: &Bytes) {
    for ev in events {
        if let H3Event::HeadersReceived {
            stream_id,
            stream_ended: true,
            ..
        } = ev
        {
            let size = body.len().to_string();
            server
                .send_headers(
                    stream_id,
                    &[(b":status", b"200"), (b"content-length", size.as_bytes())],
                    false,
                )
                .expect("response headers");
            server
                .send_data_bytes(stream_id, body.clone(), true)
                .expect("response body");
        }
    }
}

/// Client settings as a browser's: a flow-control window per stream of 6 MB (Chromium's),
/// so that one stream can fill the path on its own.
fn race_configs() -> (Config, Config) {
    let (mut client, server) = configs();
    client.set_stream_receive_window(6 << 20);
    (client, server)
}

/// The in-memory pair on a network with a 10 ms round trip, so that congestion control
/// and flow control shape the race as on a real path; simulated time.
pub struct InMemory {
    h: H3Pair,
    body: Bytes,
}

impl InMemory {
    pub fn new(size: usize) -> InMemory {
        let (client, server) = race_configs();
        let net = Network {
            latency_ns: 5_000_000,
            ..Network::default()
        };
        InMemory {
            h: H3Pair::new(&client, &server, net, Settings::default()),
            body: Bytes::from(vec![0x5a; size]),
        }
    }
}

impl RaceNet for InMemory {
    fn now(&self) -> u64 {
        self.h.pair.now
    }

    fn step_until(&mut self, deadline: u64) -> Vec<H3Event> {
        let (client_events, server_events) = self.h.step_until(deadline);
        answer(&mut self.h.server, server_events, &self.body);
        client_events
    }

    fn client(&mut self) -> &mut H3Connection<Connection> {
        &mut self.h.client
    }
}

/// UDP on 127.0.0.1: the client on the caller's thread, the server on a thread of its
/// own; real time. Stopping the server thread on drop.
pub struct Udp {
    clock: Clock,
    side: UdpSide,
    quic: Connection,
    client: H3Connection<Connection>,
    stop: Arc<AtomicBool>,
    server: Option<JoinHandle<()>>,
}

impl Udp {
    pub fn new(size: usize) -> Udp {
        let (client_cfg, server_cfg) = race_configs();
        let clock = Clock::start();
        let server_side = UdpSide::bind(&server_cfg);
        let server_addr = server_side.addr();
        let stop = Arc::new(AtomicBool::new(false));
        let body = Bytes::from(vec![0x5a; size]);
        let server = {
            let stop = stop.clone();
            std::thread::spawn(move || serve_udp(server_side, clock, body, &stop))
        };
        let mut side = UdpSide::bind(&client_cfg);
        let handle = side
            .endpoint
            .connect(clock.now(), server_addr, "localhost")
            .expect("connect");
        let quic = side.endpoint.connection(handle).expect("the connection");
        // HTTP/3 starts before the handshake completes, as aioquic's client does.
        let client = H3Connection::new(quic.clone(), Settings::default()).expect("HTTP/3");
        Udp {
            clock,
            side,
            quic,
            client,
            stop,
            server: Some(server),
        }
    }
}

/// The server thread's loop: one connection, every request answered with `body`.
fn serve_udp(mut side: UdpSide, clock: Clock, body: Bytes, stop: &AtomicBool) {
    let mut conn: Option<(Connection, H3Connection<Connection>)> = None;
    let mut events = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let now = clock.now();
        let mut activity = side.receive(now);
        side.timers(now);
        if conn.is_none()
            && let Some(handle) = side.endpoint.accept()
        {
            let quic = side.endpoint.connection(handle).expect("the connection");
            let h3 = H3Connection::new(quic.clone(), Settings::default()).expect("HTTP/3");
            conn = Some((quic, h3));
        }
        if let Some((quic, h3)) = &mut conn {
            while let Some(ev) = quic.next_event() {
                h3.handle_event_into(ev.as_quic_event(), &mut events)
                    .expect("the server sees no protocol error");
            }
            answer(h3, std::mem::take(&mut events), &body);
        }
        activity += side.transmit(clock.now());
        if activity == 0 {
            UdpSide::idle(&[&side], &clock, 50_000);
        }
    }
}

impl RaceNet for Udp {
    fn now(&self) -> u64 {
        self.clock.now()
    }

    fn step_until(&mut self, deadline: u64) -> Vec<H3Event> {
        let now = self.clock.now();
        let mut activity = self.side.receive(now);
        self.side.timers(now);
        let mut events = Vec::new();
        while let Some(ev) = self.quic.next_event() {
            activity += 1;
            self.client
                .handle_event_into(ev.as_quic_event(), &mut events)
                .expect("the client sees no protocol error");
        }
        activity += self.side.transmit(self.clock.now());
        if activity == 0 && self.clock.now() < deadline {
            UdpSide::idle(&[&self.side], &self.clock, 50_000);
        }
        events
    }

    fn client(&mut self) -> &mut H3Connection<Connection> {
        &mut self.client
    }
}

impl Drop for Udp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(server) = self.server.take() {
            let _ = server.join();
        }
    }
}

/// Runs `race` on `net` (fresh); panics if it does not finish within a minute on the
/// net's clock.
pub fn run(net: &mut impl RaceNet, race: &Race) -> Outcome {
    let mut received: HashMap<u64, usize> = HashMap::new();
    let mut out = Outcome::default();
    for _ in 0..race.background {
        let sid = open_with(net, &get(race.background_priority));
        out.background.push(sid);
        received.insert(sid, 0);
    }
    let mut favoured: Option<(u64, u64)> = None; // (stream, started at)
    let start = net.now();
    let deadline = start + 60 * SECOND;
    let total = |received: &HashMap<u64, usize>, skip: Option<u64>| -> u64 {
        received
            .iter()
            .filter(|(s, _)| Some(**s) != skip)
            .map(|(_, n)| *n as u64)
            .sum()
    };
    while out.finished.len() < received.len() || favoured.is_none() {
        assert!(net.now() < deadline, "the race did not finish");
        for ev in net.step_until(deadline) {
            if let H3Event::DataReceived {
                stream_id,
                data,
                stream_ended,
                ..
            } = ev
            {
                *received.get_mut(&stream_id).expect("a race stream") += data.len();
                if stream_ended {
                    out.finished.push(stream_id);
                    if favoured.is_some_and(|(s, _)| s == stream_id) {
                        out.background_bytes_then = total(&received, Some(stream_id));
                        out.favoured_ns = net.now() - favoured.map_or(0, |(_, t)| t);
                    }
                }
            }
        }
        if favoured.is_none() {
            let under_way = total(&received, None) > 0;
            match race.raise_last_at {
                None if under_way => {
                    let sid = open_with(net, &get(race.urgent_priority));
                    received.insert(sid, 0);
                    favoured = Some((sid, net.now()));
                }
                Some((fraction, priority))
                    if total(&received, None) as f64
                        >= fraction * (race.background * race.size) as f64 =>
                {
                    let last = *out.background.last().expect("a background stream");
                    net.client()
                        .send_priority_update(last, priority)
                        .expect("PRIORITY_UPDATE sent");
                    out.started_at_raise = out
                        .background
                        .iter()
                        .copied()
                        .filter(|s| received[s] > 0)
                        .collect();
                    favoured = Some((last, net.now()));
                }
                _ => {}
            }
        }
    }
    out.favoured = favoured.expect("started").0;
    out.total_ns = net.now() - start;
    out
}
