//! One endpoint per UDP socket: datagrams in and out, timers, and the connections.
//!
//! The endpoint owns quinn-proto's `Endpoint` and a slab of connections indexed like
//! quinn-proto's own (its `ConnectionHandle` is a slab index that it reuses once a
//! connection drained); each slot carries a generation, bumped when the connection is
//! reaped, so an old [`ConnectionHandle`] never reaches a newer connection.
//!
//! quinn-proto's rules, and where they are kept:
//! * every `Incoming` is accepted, or refused when too many accepted connections wait for
//!   [`Endpoint::accept`] ([`Endpoint::receive`]);
//! * endpoint events go to quinn-proto's endpoint and its answers back to the connection,
//!   and connection events are polled until `None`, after every input ([`Core::process`]);
//! * a connection is dropped only after it drained (it reports `Drained`);
//! * [`Endpoint::poll_transmit`] asks every connection that may have something to send
//!   (see below) until it has nothing, so calling it until `None` drains them all.
//!
//! Work is proportional to the connections that have work, not to all of them: the
//! endpoint keeps a queue of *active* connections (given a datagram or a timer, created,
//! or changed by the application through a [`Connection`], which reports itself on a
//! shared "touched" list) and polls only those for transmits; it caches every
//! connection's next timer and keeps them in a heap (`timer_heap`), so
//! [`Endpoint::next_timeout`] and [`Endpoint::handle_timeout`] look at the earliest ones
//! only and lock only connections with work.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use quinn_proto::{DatagramEvent, EcnCodepoint, EndpointConfig};

use super::admission::Admission;
use super::config::{ClientTls, Config};
use super::connection::{Core, Touched};
use super::error::{ConfigError, QuicError};
use super::handle::{Connection, ConnectionHandle};
use super::qlog::{H3Tap, QlogDir, QlogFile};
use super::quic_lb::QuicLbGenerator;
use super::session::{ConnectionSessions, SessionRegistry, Ticket};
use super::time::Clock;
use super::timer_heap::{TimerEntry, TimerHeap};
use super::udp_payload;

/// The smallest buffer [`Endpoint::poll_transmit`] accepts: the largest UDP payload an
/// endpoint may produce unless its configuration sets a larger ceiling
/// ([`Endpoint::transmit_buffer_minimum`]).
pub const MIN_TRANSMIT_BUFFER: usize = 1472;

/// Accepted connections waiting for [`Endpoint::accept`] beyond which new ones are refused.
const MAX_PENDING_ACCEPT: usize = 1024;

/// One datagram (or a GSO batch of equal-size datagrams) to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Bytes written at the start of the caller's buffer.
    pub len: usize,
    /// Where to send them.
    pub destination: SocketAddr,
    /// The size of each datagram: `len` for a single one; for a batch, every datagram but
    /// the last is exactly this long (UDP_SEGMENT).
    pub segment_size: usize,
    /// The ECN codepoint to send them with, the two low bits of the IP TOS / IPv6 traffic
    /// class byte: 0 Not-ECT, 0b10 ECT(0), 0b01 ECT(1) (RFC 3168). quinn-proto marks
    /// ECT(0) while the path's ECN validation holds (RFC 9000 §13.4.2) and 0 once it fails.
    pub ecn: u8,
}

struct Slot {
    generation: u32,
    conn: Option<Connection>,
    /// The connection's next timer, as of the last time the endpoint looked.
    timeout: Option<Instant>,
    /// The slot is in `Endpoint::active`.
    active: bool,
}

/// A QUIC endpoint on one UDP socket (server or client), sans-I/O.
pub struct Endpoint {
    quinn: quinn_proto::Endpoint,
    clock: Clock,
    client: Option<ClientTls>,
    /// A client's TLS sessions, for resumption (`session`).
    sessions: Arc<SessionRegistry>,
    /// A server's Retry decisions (`admission`).
    admission: Admission,
    /// qlog: where each connection's file goes, and the configuration its transport
    /// settings come from (each connection gets its own, holding its qlog stream).
    qlog: Option<(QlogDir, Config)>,
    /// A server's base configuration (per-connection copies carry a qlog stream).
    server_config: Option<Arc<quinn_proto::ServerConfig>>,
    is_server: bool,
    slots: Vec<Slot>,
    /// The slots' timeouts, earliest first (some entries stale: see `timer_heap`).
    timers: TimerHeap,
    /// Scratch for `handle_timeout`: the slots due.
    due_scratch: Vec<usize>,
    live: usize,
    accept_queue: VecDeque<ConnectionHandle>,
    /// Datagrams quinn-proto's endpoint produced itself (version negotiation, stateless
    /// resets, refusals), sent before any connection's.
    responses: VecDeque<(Vec<u8>, SocketAddr)>,
    scratch: Vec<u8>,
    /// Connections that may have something to send, polled in turn (round robin).
    active: VecDeque<usize>,
    /// Connections that got events since [`Endpoint::next_ready`] last returned them.
    ready: VecDeque<Connection>,
    /// Slots the application changed through a `Connection` handle.
    touched: Arc<Touched>,
    touched_scratch: Vec<usize>,
    max_gso_segments: usize,
    /// The smallest buffer `poll_transmit` takes: room for the largest datagram.
    transmit_minimum: usize,
    fingerprint: Option<[u8; 32]>,
    /// The configured send window, the most each connection's may grow to.
    send_window: u64,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("is_server", &self.is_server)
            .field("connections", &self.live)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// Creates an endpoint from a configuration. The one clock read of the QUIC layer
    /// happens here (see `time`).
    pub fn new(config: &Config) -> Result<Endpoint, QuicError> {
        let clock = Clock::new();
        let built = config.build(clock.wall_clock())?;
        let server_config = built.server.clone();
        let qlog = config.qlog_dir().map(|dir| {
            (
                QlogDir::new(dir.to_path_buf(), config.is_server()),
                config.clone(),
            )
        });
        let mut endpoint_config = EndpointConfig::new(config.reset_key());
        if let Some(ceiling) = config.max_udp_payload_size() {
            endpoint_config
                .max_udp_payload_size(ceiling)
                .map_err(|e| ConfigError::new(format!("max UDP payload size {ceiling}: {e}")))?;
        }
        if let Some(server) = config.server_id() {
            let server = server.clone();
            endpoint_config.cid_generator(move || Box::new(QuicLbGenerator::new(server.clone())));
        }
        let quinn = quinn_proto::Endpoint::new(
            std::sync::Arc::new(endpoint_config),
            built.server,
            built.allow_mtud,
            None,
        );
        Ok(Endpoint {
            quinn,
            clock,
            client: built.client,
            sessions: Arc::new(SessionRegistry::new()),
            admission: Admission::new(built.retry),
            qlog,
            server_config,
            is_server: config.is_server(),
            slots: Vec::new(),
            timers: TimerHeap::default(),
            due_scratch: Vec::new(),
            live: 0,
            accept_queue: VecDeque::new(),
            responses: VecDeque::new(),
            scratch: Vec::with_capacity(MIN_TRANSMIT_BUFFER),
            active: VecDeque::new(),
            ready: VecDeque::new(),
            touched: Arc::new(Touched::default()),
            touched_scratch: Vec::new(),
            max_gso_segments: built.max_gso_segments,
            transmit_minimum: udp_payload::transmit_buffer_minimum(config.max_udp_payload_size()),
            fingerprint: built.fingerprint,
            send_window: config.send_window(),
        })
    }

    /// True for a server endpoint.
    pub fn is_server(&self) -> bool {
        self.is_server
    }

    /// The SHA-256 fingerprint of this endpoint's certificate (a server's generated one
    /// included), if it has one.
    pub fn certificate_fingerprint(&self) -> Option<[u8; 32]> {
        self.fingerprint
    }

    /// How many connections the endpoint holds (not yet drained).
    pub fn connection_count(&self) -> usize {
        self.live
    }

    /// Processes one received UDP datagram.
    pub fn receive(&mut self, now_ns: u64, from: SocketAddr, data: &[u8]) {
        self.receive_with_ecn(now_ns, from, data, data.len(), 0);
    }

    /// Processes a buffer of UDP datagrams from one sender, each `segment_size` bytes long
    /// but the last (what the kernel hands over with UDP generic receive offload; a
    /// `segment_size` of 0 or at least `data.len()` means one datagram).
    ///
    /// Each datagram is copied into a buffer of its own, as [`Endpoint::receive`] does.
    /// One copy of the whole batch, split, would save allocations, but every byte a
    /// connection keeps (out-of-order stream data waiting for a gap to fill) would then
    /// pin the whole batch, up to 64 KiB, where quinn-proto's reassembly limits count only
    /// the datagram: a peer could make us hold ~50 times what those limits intend. Measured
    /// on 200 MB downloads, the shared copy saved no CPU either (less user time, as much
    /// more system time in the allocator's heap growth and trimming).
    pub fn receive_segments(
        &mut self,
        now_ns: u64,
        from: SocketAddr,
        data: &[u8],
        segment_size: usize,
    ) {
        self.receive_with_ecn(now_ns, from, data, segment_size, 0);
    }

    /// [`Endpoint::receive_segments`] for datagrams that arrived with the ECN codepoint
    /// `ecn` (the two low bits of their IP TOS / IPv6 traffic class byte; higher bits are
    /// ignored). Passing what the network marked lets quinn-proto validate ECN on the path
    /// and react to congestion marks (CE) before packets are lost.
    pub fn receive_with_ecn(
        &mut self,
        now_ns: u64,
        from: SocketAddr,
        data: &[u8],
        segment_size: usize,
        ecn: u8,
    ) {
        if data.is_empty() {
            return;
        }
        let now = self.clock.advance(now_ns);
        let segment_size = if segment_size == 0 {
            data.len()
        } else {
            segment_size
        };
        let ecn = EcnCodepoint::from_bits(ecn);
        for datagram in data.chunks(segment_size) {
            self.handle_datagram(now, from, ecn, BytesMut::from(datagram));
        }
    }

    fn handle_datagram(
        &mut self,
        now: Instant,
        from: SocketAddr,
        ecn: Option<EcnCodepoint>,
        datagram: BytesMut,
    ) {
        self.scratch.clear();
        let event = self
            .quinn
            .handle(now, from, None, ecn, datagram, &mut self.scratch);
        match event {
            Some(DatagramEvent::ConnectionEvent(qch, event)) => {
                self.with_core(qch.0, |core, _| core.quinn.handle_event(event));
            }
            Some(DatagramEvent::NewConnection(incoming)) => {
                if !self.is_server || self.accept_queue.len() >= MAX_PENDING_ACCEPT {
                    self.scratch.clear();
                    let transmit = self.quinn.refuse(incoming, &mut self.scratch);
                    self.queue_response(transmit.size, transmit.destination);
                    return;
                }
                // An address not validated yet (no token from a Retry or an earlier
                // connection's NEW_TOKEN) may have to prove itself first.
                let incoming = if !incoming.remote_address_validated()
                    && incoming.may_retry()
                    && self.admission.should_retry(now)
                {
                    self.scratch.clear();
                    match self.quinn.retry(incoming, &mut self.scratch) {
                        Ok(transmit) => {
                            self.queue_response(transmit.size, transmit.destination);
                            return;
                        }
                        Err(e) => e.into_incoming(),
                    }
                } else {
                    incoming
                };
                self.scratch.clear();
                let (config, qlog) = self.server_qlog(now);
                match self.quinn.accept(incoming, now, &mut self.scratch, config) {
                    Ok((qch, quinn_conn)) => {
                        let handle = self.insert(qch, quinn_conn, |core| {
                            core.awaiting_accept = true;
                            core.qlog = qlog.map(|file| H3Tap::new(file, false));
                        });
                        self.accept_queue.push_back(handle);
                    }
                    Err(e) => {
                        if let Some(transmit) = e.response {
                            self.queue_response(transmit.size, transmit.destination);
                        }
                    }
                }
            }
            Some(DatagramEvent::Response(transmit)) => {
                self.queue_response(transmit.size, transmit.destination);
            }
            None => {}
        }
    }

    fn queue_response(&mut self, size: usize, destination: SocketAddr) {
        if size > 0 {
            self.responses
                .push_back((self.scratch[..size].to_vec(), destination));
        }
    }

    /// The next connection a client opened to this server, or `None`.
    pub fn accept(&mut self) -> Option<ConnectionHandle> {
        while let Some(handle) = self.accept_queue.pop_front() {
            let Ok(conn) = self.connection(handle) else {
                continue;
            };
            if let Ok(mut core) = conn.lock() {
                core.awaiting_accept = false;
                if core.has_events() && !core.ready_queued {
                    core.ready_queued = true;
                    self.ready.push_back(conn.clone());
                }
            }
            return Some(handle);
        }
        None
    }

    /// Starts a connection to `remote`, verifying the server as `server_name` (also sent as
    /// SNI). Needs a client endpoint.
    pub fn connect(
        &mut self,
        now_ns: u64,
        remote: SocketAddr,
        server_name: &str,
    ) -> Result<ConnectionHandle, QuicError> {
        let sessions = ConnectionSessions::automatic(self.sessions.clone());
        self.start_client(now_ns, remote, server_name, sessions, false)
    }

    /// [`Endpoint::connect`], resuming the TLS session `ticket` refers to (from
    /// [`Connection::session_ticket`] on an earlier connection of this endpoint) and, when
    /// the session allows it and 0-RTT is enabled, sending what the application sends
    /// before the handshake completes as 0-RTT ([`Connection::early_data`] tells what
    /// became of it).
    ///
    /// A well-formed ticket that is not resumable here (from another endpoint or process,
    /// already used, or evicted: see `session`) gives a full handshake, like `connect`.
    /// Fails with [`QuicError::InvalidArgument`] for bytes that are not a ticket, or a
    /// ticket for another server name than `server_name`.
    pub fn connect_resume(
        &mut self,
        now_ns: u64,
        remote: SocketAddr,
        server_name: &str,
        ticket: &[u8],
    ) -> Result<ConnectionHandle, QuicError> {
        let ticket = Ticket::parse(ticket)?;
        if ticket.server_name != server_name {
            return Err(QuicError::InvalidArgument(format!(
                "session ticket is for server name {:?}, not {server_name:?}",
                ticket.server_name
            )));
        }
        let session = self.sessions.take(&ticket);
        let resuming = session.is_some();
        let sessions = ConnectionSessions::resuming(self.sessions.clone(), session);
        self.start_client(now_ns, remote, server_name, sessions, resuming)
    }

    fn start_client(
        &mut self,
        now_ns: u64,
        remote: SocketAddr,
        server_name: &str,
        sessions: ConnectionSessions,
        resuming: bool,
    ) -> Result<ConnectionHandle, QuicError> {
        if self.client.is_none() {
            return Err(QuicError::WrongRole("connect needs a client endpoint"));
        }
        let sessions = Arc::new(sessions);
        let now = self.clock.advance(now_ns);
        let (transport, qlog) = match self.open_qlog(now) {
            Some((file, transport)) => (Some(transport), Some(file)),
            None => (None, None),
        };
        let client = self.client.as_ref().expect("checked above");
        let config = client.for_connection(sessions.clone(), resuming, transport);
        let (qch, quinn_conn) = self
            .quinn
            .connect(now, config, remote, server_name)
            .map_err(|e| QuicError::Connect(e.to_string()))?;
        Ok(self.insert(qch, quinn_conn, |core| {
            core.early.sessions = Some(sessions);
            core.early.server_name = Some(server_name.to_owned());
            core.qlog = qlog.map(|file| H3Tap::new(file, true));
        }))
    }

    /// A new connection's qlog file and the transport settings that write to it, when qlog
    /// is on (and the file could be made).
    fn open_qlog(
        &self,
        now: Instant,
    ) -> Option<(Arc<QlogFile>, Arc<quinn_proto::TransportConfig>)> {
        let (dir, config) = self.qlog.as_ref()?;
        let (file, stream) = dir.open(now, self.clock.to_ns(now))?;
        Some((file, config.transport_with_qlog(stream)))
    }

    /// The server configuration for a new connection: a copy carrying its qlog stream when
    /// qlog is on (`None`: the endpoint's own), and the qlog file.
    fn server_qlog(
        &self,
        now: Instant,
    ) -> (
        Option<Arc<quinn_proto::ServerConfig>>,
        Option<Arc<QlogFile>>,
    ) {
        let (Some(base), Some((file, transport))) = (&self.server_config, self.open_qlog(now))
        else {
            return (None, None);
        };
        let mut config = (**base).clone();
        config.transport_config(transport);
        (Some(Arc::new(config)), Some(file))
    }

    /// Takes a connection quinn-proto made into its slot, `prepare` setting up its state
    /// (role, session store, qlog) before anything runs on it.
    fn insert(
        &mut self,
        qch: quinn_proto::ConnectionHandle,
        quinn_conn: quinn_proto::Connection,
        prepare: impl FnOnce(&mut Core),
    ) -> ConnectionHandle {
        let index = qch.0;
        if self.slots.len() <= index {
            self.slots.resize_with(index + 1, || Slot {
                generation: 0,
                conn: None,
                timeout: None,
                active: false,
            });
        }
        let slot = &mut self.slots[index];
        debug_assert!(slot.conn.is_none(), "quinn-proto reused a live slot");
        let handle = ConnectionHandle {
            index: index as u32,
            generation: slot.generation,
        };
        let mut core = Core::new(
            quinn_conn,
            qch,
            self.clock.latest_time(),
            self.touched.clone(),
            self.send_window,
        );
        prepare(&mut core);
        slot.conn = Some(Connection::new(core, handle));
        self.live += 1;
        self.with_core(index, |_, _| ());
        handle
    }

    /// Runs `f` on the connection in slot `index`, then drains its events, refreshes its
    /// cached timer, marks it active (it may have something to send) and reaps it if it
    /// drained. `None` when the slot is empty (or the connection poisoned).
    fn with_core<R>(
        &mut self,
        index: usize,
        f: impl FnOnce(&mut Core, &mut Vec<u8>) -> R,
    ) -> Option<R> {
        let conn = self.slots.get(index)?.conn.clone()?;
        let mut core = conn.lock().ok()?;
        let result = f(&mut core, &mut self.scratch);
        core.process(&mut self.quinn);
        let timeout = core.quinn.poll_timeout();
        let drained = core.drained;
        if core.has_events() && !core.ready_queued && !core.awaiting_accept {
            core.ready_queued = true;
            self.ready.push_back(conn.clone());
        }
        drop(core);
        if drained {
            self.reap(index);
        } else {
            self.set_timeout(index, timeout);
            let slot = &mut self.slots[index];
            if !slot.active {
                slot.active = true;
                self.active.push_back(index);
            }
        }
        Some(result)
    }

    /// Takes the slots the application touched: refreshes their timers and activates them.
    fn take_touched(&mut self) {
        let mut touched = std::mem::take(&mut self.touched_scratch);
        self.touched.take(&mut touched);
        for &index in &touched {
            self.with_core(index, |core, _| core.untouch());
        }
        self.touched_scratch = touched;
    }

    /// Forgets a drained connection; its handles now fail with `ConnectionClosed`. (If the
    /// slot is still queued as active, the queue entry goes when it is next polled.)
    fn reap(&mut self, index: usize) {
        if let Some(slot) = self.slots.get_mut(index)
            && slot.conn.take().is_some()
        {
            slot.generation = slot.generation.wrapping_add(1);
            self.live -= 1;
            self.set_timeout(index, None);
        }
    }

    /// The connection behind `handle`: a shared handle on it (see [`Connection`]). Fails
    /// with [`QuicError::ConnectionClosed`] once the connection drained and was reaped.
    pub fn connection(&self, handle: ConnectionHandle) -> Result<Connection, QuicError> {
        self.slots
            .get(handle.index as usize)
            .filter(|slot| slot.generation == handle.generation)
            .and_then(|slot| slot.conn.clone())
            .ok_or(QuicError::ConnectionClosed)
    }

    /// The next connection that got events (from datagrams, timers or the application's
    /// own calls) since it was last returned here, in the order they got them; `None` when
    /// no connection waits. Take all of a returned connection's events
    /// ([`Connection::next_event`] until `None`): it is returned again only once it gets
    /// new ones. A connection the endpoint already reaped still comes out here if it has
    /// events left (its final `ConnectionTerminated`, for one).
    pub fn next_ready(&mut self) -> Option<Connection> {
        self.take_touched();
        while let Some(conn) = self.ready.pop_front() {
            let Ok(mut core) = conn.lock() else {
                continue;
            };
            core.ready_queued = false;
            if core.has_events() && !core.awaiting_accept {
                drop(core);
                return Some(conn);
            }
        }
        None
    }

    /// The smallest buffer [`Endpoint::poll_transmit`] takes: [`MIN_TRANSMIT_BUFFER`], or
    /// the configured ceiling on UDP payloads when larger
    /// ([`Config::set_max_udp_payload_size`](super::Config::set_max_udp_payload_size)).
    pub fn transmit_buffer_minimum(&self) -> usize {
        self.transmit_minimum
    }

    /// Writes the next datagram to send into `buf` (at least
    /// [`Endpoint::transmit_buffer_minimum`] bytes) and says where it goes; `None` when
    /// nothing is left. Call it until `None` after every input. With `max_gso_segments` > 1
    /// and room in `buf`, several equal-size datagrams may come back in one [`Transmit`].
    pub fn poll_transmit(
        &mut self,
        now_ns: u64,
        buf: &mut [u8],
    ) -> Result<Option<Transmit>, QuicError> {
        if buf.len() < self.transmit_minimum {
            return Err(QuicError::InvalidArgument(format!(
                "transmit buffer of {} bytes is smaller than {}",
                buf.len(),
                self.transmit_minimum
            )));
        }
        let max_datagrams = buf.len() / self.transmit_minimum;
        let Some(t) = self.next_transmit(now_ns, max_datagrams) else {
            return Ok(None);
        };
        // A batch is never longer than `max_datagrams` full datagrams.
        let len = t.len.min(buf.len());
        buf[..len].copy_from_slice(&self.scratch[..len]);
        Ok(Some(Transmit { len, ..t }))
    }

    /// [`Endpoint::poll_transmit`] without the copy: the next datagram (or GSO batch of up
    /// to `max_gso_segments`) stays in the endpoint's own buffer, lent until the next call
    /// on the endpoint. quinn-proto builds and encrypts packets in that buffer, so a caller
    /// that sends straight from it saves copying every byte it sends once more.
    pub fn poll_transmit_lent(&mut self, now_ns: u64) -> Option<(Transmit, &[u8])> {
        let t = self.next_transmit(now_ns, self.max_gso_segments)?;
        Some((t, &self.scratch[..t.len]))
    }

    /// The next datagram (or batch of up to `max_datagrams`), left in `self.scratch`; its
    /// `len` is what the scratch holds.
    fn next_transmit(&mut self, now_ns: u64, max_datagrams: usize) -> Option<Transmit> {
        let now = self.clock.advance(now_ns);
        if let Some((data, destination)) = self.responses.pop_front() {
            self.scratch.clear();
            self.scratch.extend_from_slice(&data);
            return Some(Transmit {
                len: data.len(),
                destination,
                segment_size: data.len(),
                ecn: 0,
            });
        }
        let max_datagrams = self.max_gso_segments.min(max_datagrams).max(1);
        self.take_touched();
        while let Some(&index) = self.active.front() {
            let transmit = self.with_core(index, |core, scratch| {
                scratch.clear();
                core.flush_deferred();
                // Large datagrams (a raised ceiling) fit fewer to a GSO send.
                let mtu = usize::from(core.quinn.current_mtu());
                let batch = udp_payload::gso_batch_limit(mtu, max_datagrams);
                core.quinn.poll_transmit(now, batch, scratch)
            });
            // with_core left `index` queued; take it off the front either way.
            self.active.pop_front();
            match transmit {
                Some(Some(t)) => {
                    // It may have more: back of the queue, so connections take turns.
                    self.active.push_back(index);
                    return Some(Transmit {
                        len: t.size,
                        destination: t.destination,
                        segment_size: t.segment_size.unwrap_or(t.size),
                        ecn: t.ecn.map_or(0, |c| c as u8),
                    });
                }
                _ => {
                    if let Some(slot) = self.slots.get_mut(index) {
                        slot.active = false;
                    }
                }
            }
        }
        None
    }

    /// Tells the endpoint its socket changed: the program moved to a new local address
    /// or port (a new socket after a network change, or to shed a NAT binding). Every
    /// connection switches to a connection ID the peer has not seen yet, so observers
    /// cannot link the old path to the new one, and sends a PING at once from the new
    /// address; the peer validates the new path and follows (RFC 9000 §9). Call it after
    /// the socket was replaced, before the next [`Endpoint::poll_transmit`].
    pub fn rebind(&mut self, now_ns: u64) {
        self.clock.advance(now_ns);
        for index in 0..self.slots.len() {
            self.with_core(index, |core, _| core.quinn.local_address_changed());
        }
    }

    /// When [`Endpoint::handle_timeout`] should next be called, in the caller's
    /// nanoseconds; `None` when no timer is armed.
    pub fn next_timeout(&self) -> Option<u64> {
        // The heap is tidied after every change, so its top is the earliest cached timer.
        let cached = self.timers.earliest();
        // Connections the application touched since: their timers may have moved.
        let touched = self.touched.peek().into_iter().filter_map(|index| {
            let conn = self.slots.get(index)?.conn.as_ref()?;
            conn.lock().ok()?.quinn.poll_timeout()
        });
        cached
            .into_iter()
            .chain(touched)
            .min()
            .map(|at| self.clock.to_ns(at))
    }

    /// Runs the timers that expired by `now_ns`.
    pub fn handle_timeout(&mut self, now_ns: u64) {
        let now = self.clock.advance(now_ns);
        self.take_touched();
        let mut due = std::mem::take(&mut self.due_scratch);
        let slots = &self.slots;
        self.timers
            .take_due(now, |entry| is_current(slots, entry), &mut due);
        for &index in &due {
            // A slot can be listed twice (two entries for one deadline): once handled,
            // its timeout has moved on.
            if self.slots[index].timeout.is_some_and(|at| at <= now) {
                // Its entry left the heap: forget the cached deadline so that the one
                // with_core reads back is scheduled even if it is the same.
                self.slots[index].timeout = None;
                self.with_core(index, |core, _| core.quinn.handle_timeout(now));
            }
        }
        due.clear();
        self.due_scratch = due;
    }

    /// Records a slot's new timeout (the heap gets an entry; the old one goes stale) and
    /// keeps the heap's top current and its stale entries bounded.
    fn set_timeout(&mut self, index: usize, timeout: Option<Instant>) {
        let slot = &mut self.slots[index];
        if slot.timeout != timeout {
            slot.timeout = timeout;
            if let Some(entry) = timer_entry(index, slot) {
                self.timers.schedule(entry);
            }
        }
        let slots = &self.slots;
        if self.timers.len() > 4 * self.live + 64 {
            self.timers.rebuild(
                slots
                    .iter()
                    .enumerate()
                    .filter_map(|(index, slot)| timer_entry(index, slot)),
            );
        } else {
            self.timers.tidy(|entry| is_current(slots, entry));
        }
    }
}

/// The heap entry for slot `index`'s cached timeout, if it has one.
fn timer_entry(index: usize, slot: &Slot) -> Option<TimerEntry> {
    Some(TimerEntry {
        at: slot.timeout?,
        slot: index,
        generation: slot.generation,
    })
}

/// A heap entry is current while its slot still holds that generation's connection with
/// that deadline.
fn is_current(slots: &[Slot], entry: &TimerEntry) -> bool {
    slots
        .get(entry.slot)
        .is_some_and(|slot| slot.conn.is_some() && timer_entry(entry.slot, slot) == Some(*entry))
}
