//! Fuzz target `quic_streams`: the built-in QUIC layer's send path between a client and
//! a server in memory: per-stream queues, the priority scheduler (refills by priority,
//! streams of one priority in turn, headroom past the send window for a newly urgent
//! stream), batched writes held until the next transmit, FIN, resets and STOP_SENDING,
//! on bidirectional and unidirectional streams, with the input choosing writes,
//! priorities, aborts, datagram loss and reordering, and the passing of time. The top bit
//! of the input's first byte (read, not consumed, so that it still counts as the first
//! op's) picks the datagrams: Ethernet-sized ones, as by default, or path MTU discovery
//! up to a ceiling of 8,952 bytes (jumbo frames) with GSO batches of up to 8.
//!
//! Invariant, checked once the input is spent and the network has run loss-free until
//! quiet: on every stream neither side aborted, the receiver got every byte the sender
//! wrote, once and in order (each byte is a function of its stream and offset), and the
//! end of the stream exactly when the sender finished it. Either side failing a call it
//! should accept is a bug too.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;

use super::Input;
use crate::h3::Priority;
use crate::quic::{Config, Connection, Endpoint, Event, MAX_GSO_PAYLOAD};

/// Client-initiated bidirectional streams the input can name (both directions).
const STREAMS: u64 = 6;
/// Unidirectional streams the input can name per side.
const UNI_STREAMS: u64 = 3;
/// The largest single write, and the most a run writes in all (the committed corpus is
/// replayed by `cargo test` in a debug build, where each megabyte costs).
const MAX_WRITE: usize = 48 * 1024;
const MAX_TOTAL: u64 = 384 * 1024;
/// Datagrams held in flight per direction before the oldest is delivered regardless.
const IN_FLIGHT: usize = 64;
/// How long the loss-free end of a run may wait for the flows to complete: until this
/// many timer expiries in a row delivered nothing new to either application. Not a bound
/// on simulated time: loss before the end backs the probe timers off, and an input can
/// hold datagrams in flight for minutes, which makes RTT samples of minutes; then the
/// next probe may be tens of minutes away (fuzz/regressions/quic_streams/rtt-of-minutes:
/// a client RTT estimate of 340 s, the next timer 350 s away; .../backoff-of-minutes: no
/// packet for 1,300 s after the loss ended), while each expiry then sends a probe that
/// arrives. An expiry that delivers bytes starts the count again, so a transfer that
/// moves is never cut short, and one that stops is caught within this many expiries.
const SETTLE_EXPIRIES: u32 = 64;

const CLIENT_ADDR: &str = "127.0.0.1:40000";
const SERVER_ADDR: &str = "127.0.0.1:443";

/// The ceiling on UDP payloads of a jumbo run.
const JUMBO: u64 = 8952;
/// Room for any transmit: one UDP send (h3q's GSO batches stay within it).
const TRANSMIT_BUFFER: usize = 65_536;

/// Configurations made once per process: certificate generation is far slower than a run.
/// `jumbo`: path MTU discovery up to [`JUMBO`] and GSO batches, on both sides.
fn configs(jumbo: bool) -> &'static (Config, Config) {
    static ETHERNET: OnceLock<(Config, Config)> = OnceLock::new();
    static JUMBO_FRAMES: OnceLock<(Config, Config)> = OnceLock::new();
    let cell = if jumbo { &JUMBO_FRAMES } else { &ETHERNET };
    cell.get_or_init(|| {
        let mut server = Config::server();
        server
            .generate_self_signed("localhost")
            .expect("certificate");
        // Windows small enough that the input can fill them and make the scheduler
        // choose (quinn-proto's send window, flow control per stream and per connection).
        server.set_send_window(64 * 1024);
        let mut client = Config::client();
        client
            .add_ca_pem(
                server
                    .certificate_chain_pem()
                    .expect("certificate PEM")
                    .as_bytes(),
            )
            .expect("trusted certificate");
        client.set_send_window(64 * 1024);
        client.set_stream_receive_window(32 * 1024);
        server.set_stream_receive_window(32 * 1024);
        // No idle timeout within a run (at most 256 waits of 6.5 s, then the settling): a
        // connection that ends is a bug.
        for config in [&mut client, &mut server] {
            config.set_idle_timeout(Duration::from_secs(3600));
            if jumbo {
                config.set_mtu_discovery(true);
                config
                    .set_max_udp_payload_size(Some(JUMBO))
                    .expect("a ceiling in range");
                config.set_max_gso_segments(8);
            }
        }
        (client, server)
    })
}

/// The byte at `offset` of stream `stream_id` sent by the client (or the server).
fn pattern(stream_id: u64, from_client: bool, offset: u64) -> u8 {
    let salt = if from_client { 0x3c } else { 0xa5 };
    (stream_id as u8)
        .wrapping_mul(31)
        .wrapping_add((offset as u8).wrapping_mul(7))
        .wrapping_add((offset >> 8) as u8)
        ^ salt
}

/// How a write hands its bytes to the QUIC layer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum WriteKind {
    Slice,
    Owned,
    Batched,
}

/// One direction of one stream, as both ends see it.
#[derive(Default)]
struct Flow {
    sent: u64,
    finished: bool,
    received: u64,
    ended: bool,
    /// Reset by its sender or stopped by its receiver: no promise about its bytes.
    aborted: bool,
    /// The receiver has had an event of the stream (so it exists there).
    seen: bool,
}

/// One side's endpoint and connection, with its datagrams on their way to the other.
struct Side {
    endpoint: Endpoint,
    conn: Option<Connection>,
    addr: SocketAddr,
    in_flight: VecDeque<Vec<u8>>,
}

struct Run {
    now: u64,
    client: Side,
    server: Side,
    /// (stream, sent by the client) -> its flow.
    flows: BTreeMap<(u64, bool), Flow>,
    /// Bytes written so far, both sides.
    written: u64,
    buf: Vec<u8>,
    /// The largest datagram either side may send.
    max_datagram: usize,
}

impl Run {
    fn new(jumbo: bool) -> Option<Run> {
        let (client_cfg, server_cfg) = configs(jumbo);
        let mut run = Run {
            now: 1_000_000_000,
            client: Side {
                endpoint: Endpoint::new(client_cfg).ok()?,
                conn: None,
                addr: CLIENT_ADDR.parse().ok()?,
                in_flight: VecDeque::new(),
            },
            server: Side {
                endpoint: Endpoint::new(server_cfg).ok()?,
                conn: None,
                addr: SERVER_ADDR.parse().ok()?,
                in_flight: VecDeque::new(),
            },
            flows: BTreeMap::new(),
            written: 0,
            buf: vec![0; TRANSMIT_BUFFER],
            max_datagram: if jumbo { JUMBO as usize } else { 1472 },
        };
        let handle = run
            .client
            .endpoint
            .connect(run.now, run.server.addr, "localhost")
            .expect("connect");
        run.client.conn = Some(run.client.endpoint.connection(handle).expect("connection"));
        // The handshake, loss-free.
        for _ in 0..200 {
            run.transmit_all();
            run.deliver_all();
            run.accept();
            if run.established() {
                return Some(run);
            }
            run.advance(1_000_000);
        }
        panic!("the handshake did not complete in memory");
    }

    fn established(&self) -> bool {
        let up = |side: &Side| side.conn.as_ref().is_some_and(|c| c.is_established());
        up(&self.client) && up(&self.server)
    }

    fn accept(&mut self) {
        if self.server.conn.is_none()
            && let Some(handle) = self.server.endpoint.accept()
        {
            self.server.conn = self.server.endpoint.connection(handle).ok();
        }
    }

    fn side(&mut self, client: bool) -> &mut Side {
        if client {
            &mut self.client
        } else {
            &mut self.server
        }
    }

    /// Queues everything both endpoints want to send.
    fn transmit_all(&mut self) {
        for client in [true, false] {
            let (now, max_datagram) = (self.now, self.max_datagram);
            let mut buf = std::mem::take(&mut self.buf);
            let side = self.side(client);
            while let Ok(Some(t)) = side.endpoint.poll_transmit(now, &mut buf) {
                // A batch fits one UDP send; no datagram exceeds the ceiling.
                assert!(t.len <= MAX_GSO_PAYLOAD, "a batch of {} bytes", t.len);
                assert!(t.segment_size <= max_datagram, "{t:?}");
                for datagram in buf[..t.len].chunks(t.segment_size.max(1)) {
                    side.in_flight.push_back(datagram.to_vec());
                }
            }
            self.buf = buf;
            while self.side(client).in_flight.len() > IN_FLIGHT {
                let oldest = self.side(client).in_flight.pop_front().expect("non-empty");
                self.deliver(client, &oldest);
            }
        }
    }

    /// Hands a datagram sent by the client (or the server) to the other side.
    fn deliver(&mut self, from_client: bool, datagram: &[u8]) {
        let now = self.now;
        let from = self.side(from_client).addr;
        self.side(!from_client)
            .endpoint
            .receive(now, from, datagram);
    }

    fn deliver_all(&mut self) {
        for client in [true, false] {
            while let Some(d) = self.side(client).in_flight.pop_front() {
                self.deliver(client, &d);
            }
        }
    }

    /// Delivers up to `count` of one direction's datagrams, dropping those whose bit in
    /// `drops` is set, and swapping the first two when `reorder` says so.
    fn deliver_some(&mut self, from_client: bool, count: u8, drops: u8, reorder: bool) {
        let queue = &mut self.side(from_client).in_flight;
        if reorder && queue.len() >= 2 {
            queue.swap(0, 1);
        }
        for i in 0..count {
            let Some(d) = self.side(from_client).in_flight.pop_front() else {
                return;
            };
            if drops & (1 << (i % 8)) == 0 {
                self.deliver(from_client, &d);
            }
        }
    }

    /// Lets `ns` of time pass, runs the timers that expired and queues what they send.
    ///
    /// The queueing is the endpoint's contract ("poll_transmit until `None` after every
    /// input", timers included): a probe a timer makes is sent at once, and the input's
    /// drops decide whether it arrives. Leaving it unsent while more timers fire made every
    /// probe timeout count towards quinn-proto's exponential backoff without a probe ever
    /// leaving, which no program that follows the contract does; it backed the timers off
    /// to hours (see fuzz/regressions/quic_streams/stall-client-keeps-resending-handshake).
    fn advance(&mut self, ns: u64) {
        self.now += ns;
        self.accept();
        for client in [true, false] {
            let now = self.now;
            let side = self.side(client);
            if side.endpoint.next_timeout().is_some_and(|at| at <= now) {
                side.endpoint.handle_timeout(now);
            }
        }
        self.transmit_all();
    }

    /// Takes both connections' events, checking each byte against the pattern.
    fn drain_events(&mut self) {
        for client in [true, false] {
            let Some(conn) = self.side(client).conn.clone() else {
                continue;
            };
            while let Some(event) = conn.next_event() {
                self.on_event(client, event);
            }
        }
    }

    fn on_event(&mut self, at_client: bool, event: Event) {
        match event {
            Event::StreamDataReceived {
                stream_id,
                data,
                end_stream,
            } => {
                let flow = self.flows.entry((stream_id, !at_client)).or_default();
                flow.seen = true;
                assert!(!flow.ended, "data on stream {stream_id} after its end");
                for (i, &b) in data.iter().enumerate() {
                    let offset = flow.received + i as u64;
                    assert_eq!(
                        b,
                        pattern(stream_id, !at_client, offset),
                        "stream {stream_id} byte {offset} (sent by the {})",
                        if at_client { "server" } else { "client" }
                    );
                }
                flow.received += data.len() as u64;
                assert!(
                    flow.received <= flow.sent,
                    "stream {stream_id}: more received than sent"
                );
                if end_stream {
                    assert!(
                        flow.finished,
                        "stream {stream_id} ended but was not finished"
                    );
                    flow.ended = true;
                }
            }
            Event::StreamReset { stream_id, .. } => {
                let flow = self.flows.entry((stream_id, !at_client)).or_default();
                flow.aborted = true;
                flow.seen = true;
            }
            Event::StopSendingReceived { stream_id, .. } => {
                // The layer resets the stream in answer.
                self.flows
                    .entry((stream_id, at_client))
                    .or_default()
                    .aborted = true;
            }
            Event::ConnectionTerminated { reason, .. } => {
                panic!("the connection ended: {reason:?}")
            }
            _ => {}
        }
    }

    /// Writes `len` pattern bytes on `stream_id` from one side, as a slice, as `Bytes`, or
    /// batched (`send_stream_data_batched`, without FIN).
    fn write(&mut self, from_client: bool, stream_id: u64, len: usize, how: WriteKind, fin: bool) {
        let Some(conn) = self.side(from_client).conn.clone() else {
            return;
        };
        // A unidirectional stream is written only by the side that opens it.
        let uni = stream_id & 2 != 0;
        let client_opened = stream_id & 1 == 0;
        if uni && client_opened != from_client {
            return;
        }
        let len = len.min((MAX_TOTAL - self.written) as usize);
        let flow = self.flows.entry((stream_id, from_client)).or_default();
        if flow.finished || flow.aborted {
            return;
        }
        // A server writes only on bidirectional streams it has seen the client open.
        if !from_client && !uni && !self.flows.get(&(stream_id, true)).is_some_and(|f| f.seen) {
            return;
        }
        let flow = self.flows.entry((stream_id, from_client)).or_default();
        let data: Vec<u8> = (0..len as u64)
            .map(|i| pattern(stream_id, from_client, flow.sent + i))
            .collect();
        let fin = fin && how != WriteKind::Batched;
        let result = match how {
            WriteKind::Owned => conn.send_stream_bytes(stream_id, Bytes::from(data), fin),
            WriteKind::Slice => conn.send_stream_data(stream_id, &data, fin),
            WriteKind::Batched => conn.send_stream_data_batched(stream_id, &data),
        };
        // Neither finished nor aborted (a STOP_SENDING's event was taken before this op):
        // the write must be accepted.
        if let Err(e) = result {
            panic!("stream {stream_id}: a write was refused: {e}");
        }
        flow.sent += len as u64;
        flow.finished = fin;
        self.written += len as u64;
    }

    fn run_op(&mut self, input: &mut Input<'_>) {
        let op = input.byte();
        let client = op & 0x80 != 0;
        let pick = input.byte();
        let stream_id = if pick & 0x80 != 0 {
            // Unidirectional: 2, 6, 10 opened by the client, 3, 7, 11 by the server.
            u64::from(pick) % UNI_STREAMS * 4 + 2 + u64::from(pick & 0x40 != 0)
        } else {
            u64::from(pick) % STREAMS * 4
        };
        match op % 8 {
            0 | 1 => {
                let len = usize::from(input.u16()).min(MAX_WRITE);
                let flags = input.byte();
                let how = match flags & 0x0c {
                    0x04 => WriteKind::Batched,
                    _ if flags & 1 != 0 => WriteKind::Owned,
                    _ => WriteKind::Slice,
                };
                self.write(client, stream_id, len, how, flags & 2 != 0);
            }
            2 => {
                let b = input.byte();
                let priority = Priority {
                    urgency: b % 8,
                    incremental: b & 8 != 0,
                };
                if let Some(conn) = self.side(client).conn.clone() {
                    // Refused for a stream not opened by the peer yet: fine.
                    let _ = conn.set_stream_priority(stream_id, priority);
                }
            }
            3 => {
                if let Some(conn) = self.side(client).conn.clone()
                    && self.flows.contains_key(&(stream_id, client))
                    && conn.reset_stream(stream_id, 7).is_ok()
                {
                    self.flows.entry((stream_id, client)).or_default().aborted = true;
                }
            }
            4 => {
                if let Some(conn) = self.side(client).conn.clone()
                    && self.flows.contains_key(&(stream_id, !client))
                    && conn.stop_stream(stream_id, 9).is_ok()
                {
                    self.flows.entry((stream_id, !client)).or_default().aborted = true;
                }
            }
            5 => {
                let (count, drops) = (input.byte() % 16, input.byte());
                self.transmit_all();
                self.deliver_some(client, count, drops, op & 0x40 != 0);
            }
            6 => self.advance(u64::from(input.u16()) * 100_000),
            _ => {
                self.transmit_all();
                self.deliver_all();
            }
        }
        self.drain_events();
    }

    /// Runs the network loss-free until every flow is complete, or nothing moves and no
    /// timer is left, or [`SETTLE_EXPIRIES`] timer expiries in a row delivered nothing;
    /// then checks every flow.
    fn settle_and_check(&mut self) {
        let mut quiet_expiries = 0;
        let mut delivered = self.delivered();
        while quiet_expiries < SETTLE_EXPIRIES {
            self.transmit_all();
            let moved = !self.client.in_flight.is_empty() || !self.server.in_flight.is_empty();
            self.deliver_all();
            self.drain_events();
            if !moved {
                if self.complete() {
                    break;
                }
                let now_delivered = self.delivered();
                if now_delivered != delivered {
                    delivered = now_delivered;
                    quiet_expiries = 0;
                }
                let Some(next) = [
                    self.client.endpoint.next_timeout(),
                    self.server.endpoint.next_timeout(),
                ]
                .into_iter()
                .flatten()
                .min() else {
                    break;
                };
                self.advance(next.max(self.now + 1) - self.now);
                quiet_expiries += 1;
            }
        }
        for (&(stream_id, from_client), flow) in &self.flows {
            if flow.aborted {
                continue;
            }
            assert_eq!(
                flow.received,
                flow.sent,
                "stream {stream_id} from the {}: bytes lost",
                if from_client { "client" } else { "server" }
            );
            assert_eq!(
                flow.ended, flow.finished,
                "stream {stream_id}: end of stream"
            );
        }
    }

    /// What the applications have been given so far: bytes, ends and aborts of all flows.
    fn delivered(&self) -> (u64, usize) {
        self.flows.values().fold((0, 0), |(bytes, ends), f| {
            (
                bytes + f.received,
                ends + usize::from(f.ended) + usize::from(f.aborted),
            )
        })
    }

    fn complete(&self) -> bool {
        self.flows
            .values()
            .all(|f| f.aborted || (f.received == f.sent && f.ended == f.finished))
    }
}

/// The fuzz target (see the module comment).
pub fn quic_streams(data: &[u8]) {
    let jumbo = data.first().is_some_and(|b| b & 0x80 != 0);
    let Some(mut run) = Run::new(jumbo) else {
        return;
    };
    let mut input = Input::new(data);
    let mut ops = 0;
    while !input.is_empty() && ops < 256 {
        run.run_op(&mut input);
        ops += 1;
    }
    run.settle_and_check();
}
