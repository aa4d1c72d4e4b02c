//! One QUIC connection's state over quinn-proto: the event queue and the send buffers.
//!
//! The state ([`Core`]) lives behind an `Arc<Mutex<_>>` shared by the [`Endpoint`] that
//! routes datagrams and timers to it and by any number of [`Connection`] handles the
//! application (or an HTTP/3 connection, through its `Transport`) holds. See `quic/mod.rs`
//! for why. Every call locks once, does its work, and unlocks; no lock is held across calls.
//!
//! Receiving: after every input the endpoint gives the connection (a datagram, a timer), the
//! connection drains quinn-proto's events and turns them into owned [`Event`]s: new peer
//! streams are accepted at once, readable streams are read to the end of what has arrived
//! (`Bytes` chunks, no copy), FIN becomes `end_stream` (on the last data event, or an empty
//! one). The application takes them with [`Connection::next_event`], as in aioquic.
//! Reading is eager, so flow-control credit goes back to the peer as data enters the
//! queue: the queue holds what the datagrams given since the application last drained it
//! carried, which is why the application drains events after every input.
//!
//! Sending: [`Connection::send_stream_data`] accepts every byte. What quinn-proto's flow and
//! congestion control do not take now is kept in a per-stream queue of `Bytes` and written
//! when quinn-proto reports the stream writable; FIN follows the last byte. A locally
//! initiated stream beyond the peer's stream limit is queued, and opened, in order, when the
//! peer raises the limit.
//!
//! [`Endpoint`]: super::Endpoint
//! [`Connection`]: super::Connection
//! [`Connection::next_event`]: super::Connection::next_event
//! [`Connection::send_stream_data`]: super::Connection::send_stream_data

mod deferred;
mod early;
mod schedule;
mod send;
mod small_writes;

pub use early::EarlyData;
pub(crate) use early::EarlyState;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use quinn_proto::{
    ConnectionError, Dir, ReadError, SendDatagramError, Side, StreamEvent, StreamId, VarInt,
};

use self::deferred::Deferred;
use self::send::Outgoing;
pub(crate) use self::send::Payload;
use self::small_writes::SmallWrites;
use super::error::QuicError;
use super::event::Event;
use super::qlog::H3Tap;
use super::time::LatestTime;
use crate::h3::ErrorSpace;
use crate::stream_id_map::{StreamIdMap, StreamIdSet};

/// QUIC transport error code INTERNAL_ERROR (RFC 9000 §20.1).
const INTERNAL_ERROR: u64 = 0x1;

/// Room for queued events a drained connection keeps (an event is 48 bytes): enough for
/// the events of a few datagrams without reallocating, while a connection that once
/// queued a large burst does not hold that room for the rest of its life.
const EVENTS_KEPT: usize = 64;

/// Slots of connections the application changed through a [`Connection`] since the
/// endpoint last looked: they may have something to send, and their timers may have
/// moved (a close arms the close timer). Shared by an endpoint and its connections, so the
/// endpoint polls only connections that may have work instead of all of them.
///
/// [`Connection`]: super::Connection
#[derive(Debug, Default)]
pub(crate) struct Touched(Mutex<Vec<usize>>);

impl Touched {
    /// Moves the touched slots into `into` (cleared first).
    pub(crate) fn take(&self, into: &mut Vec<usize>) {
        into.clear();
        if let Ok(mut list) = self.0.lock() {
            std::mem::swap(&mut *list, into);
        }
    }

    /// The touched slots, left in place.
    pub(crate) fn peek(&self) -> Vec<usize> {
        self.0.lock().map(|list| list.clone()).unwrap_or_default()
    }
}

/// The state of one connection, shared by the endpoint and the handles.
pub(crate) struct Core {
    pub(crate) quinn: quinn_proto::Connection,
    /// quinn-proto's handle, used to forward endpoint events.
    qch: quinn_proto::ConnectionHandle,
    side: Side,
    time: LatestTime,
    /// Our slot in the endpoint and the endpoint's list of touched slots.
    slot: usize,
    touched: Arc<Touched>,
    /// Our slot is in `touched` (until the endpoint takes it).
    is_touched: bool,
    events: VecDeque<Event>,
    /// The connection is in its endpoint's queue of connections with events
    /// (`Endpoint::next_ready`).
    pub(crate) ready_queued: bool,
    /// A server connection not yet taken with `Endpoint::accept`: `next_ready` leaves it
    /// for `accept`, which queues it if it has events by then.
    pub(crate) awaiting_accept: bool,
    /// A value the owner of the application's handle on this connection keeps here (the C
    /// API keeps the address of its `h3q_quic_conn`); 0 when none.
    pub(crate) owner_tag: usize,
    /// The payload of the event last taken with `pop_event`, kept for the C API: an
    /// `h3q_quic_event` handed to C points into it, and when C gives that event to an
    /// `h3q_conn` over this connection, the FFI layer recognises the pointer and shares
    /// the bytes instead of copying them. Empty once `pop_event` found nothing more.
    last_payload: Bytes,
    outgoing: StreamIdMap<Outgoing>,
    /// The configured send window, and the one quinn-proto has now (`schedule.rs`).
    max_send_window: u64,
    send_window: u64,
    /// Streams whose FIN quinn-proto has and whose data the peer has not all acknowledged
    /// yet (`StreamEvent::Finished` takes them out).
    unacknowledged: StreamIdSet,
    /// Priorities of local streams not opened in quinn-proto yet (`schedule.rs`).
    pending_priority: StreamIdMap<i32>,
    /// Which priorities wait here and in quinn-proto, computed at most once per round
    /// (`schedule.rs`); `None`: not yet.
    waiting_span: Option<Option<schedule::WaitingSpan>>,
    /// The stream that last had its turn when streams of one priority were refilled
    /// together (`schedule.rs`): the next round starts after it.
    last_in_turn: u64,
    /// Where small writes are copied before quinn-proto takes them (`small_writes.rs`).
    small_writes: SmallWrites,
    /// Small writes waiting for the next `poll_transmit` (`deferred.rs`).
    deferred: Deferred,
    /// Streams quinn-proto reported writable in this round, refilled by priority.
    writable: Vec<StreamId>,
    /// Local streams (per direction) the application has used: indices below are claimed.
    claimed: [u64; 2],
    /// Local streams (per direction) opened in quinn-proto: indices below exist there.
    opened: [u64; 2],
    /// Peer streams (per direction) accepted: indices below were opened by the peer.
    peer_opened: [u64; 2],
    /// The peer opened new streams in this direction (`Dir as usize`) during the current
    /// batch of quinn events; they are accepted after the batch (see `drive`).
    new_peer_streams: [bool; 2],
    established: bool,
    alpn: Option<Bytes>,
    /// The server name (SNI) a client asked for; servers only.
    server_name: Option<String>,
    /// Our own close, reported when quinn-proto says `LocallyClosed`.
    local_close: Option<(u64, Bytes)>,
    /// 0-RTT and session tickets (`early.rs`).
    pub(crate) early: EarlyState,
    /// The HTTP/3 side of this connection's qlog, when qlog is on (`quic::qlog`).
    pub(crate) qlog: Option<H3Tap>,
    terminated: bool,
    pub(crate) drained: bool,
}

impl Core {
    pub(crate) fn new(
        quinn: quinn_proto::Connection,
        qch: quinn_proto::ConnectionHandle,
        time: LatestTime,
        touched: Arc<Touched>,
        max_send_window: u64,
    ) -> Self {
        Core {
            max_send_window,
            send_window: 0,
            side: quinn.side(),
            quinn,
            slot: qch.0,
            qch,
            time,
            touched,
            is_touched: false,
            events: VecDeque::new(),
            ready_queued: false,
            awaiting_accept: false,
            owner_tag: 0,
            last_payload: Bytes::new(),
            outgoing: StreamIdMap::default(),
            pending_priority: StreamIdMap::default(),
            waiting_span: None,
            last_in_turn: 0,
            small_writes: SmallWrites::default(),
            deferred: Deferred::default(),
            unacknowledged: StreamIdSet::default(),
            writable: Vec::new(),
            claimed: [0; 2],
            opened: [0; 2],
            peer_opened: [0; 2],
            new_peer_streams: [false; 2],
            established: false,
            alpn: None,
            server_name: None,
            local_close: None,
            early: EarlyState::default(),
            qlog: None,
            terminated: false,
            drained: false,
        }
    }

    /// Drains quinn-proto after an input: endpoint events go to (and come back from) the
    /// endpoint, application events become [`Event`]s. Repeats until both are empty.
    pub(crate) fn process(&mut self, endpoint: &mut quinn_proto::Endpoint) {
        loop {
            let mut progressed = false;
            while let Some(event) = self.quinn.poll_endpoint_events() {
                progressed = true;
                if self.drained {
                    continue;
                }
                let drained = event.is_drained();
                if let Some(back) = endpoint.handle_event(self.qch, event) {
                    self.quinn.handle_event(back);
                }
                if drained {
                    self.drained = true;
                }
            }
            while let Some(event) = self.quinn.poll() {
                progressed = true;
                self.on_quinn_event(event);
            }
            self.flush_writable();
            // quinn-proto reports new streams before data on known ones, and new
            // bidirectional streams before new unidirectional ones; aioquic hands frames over
            // in packet order. Accepting here, after the batch, and unidirectional first keeps
            // HTTP/3's order where it matters: data on known streams (a PUSH_PROMISE) before
            // the push stream it announces, and the peer's control stream (its SETTINGS and
            // MAX_PUSH_ID) before the first request, so that request can get a push.
            for dir in [Dir::Uni, Dir::Bi] {
                if std::mem::take(&mut self.new_peer_streams[dir as usize]) {
                    progressed = true;
                    while let Some(id) = self.quinn.streams().accept(dir) {
                        self.peer_opened[dir as usize] = id.index() + 1;
                        self.note_early_stream(id);
                        self.read(id);
                    }
                }
            }
            if !progressed {
                break;
            }
        }
        // The peer's initial stream limits arrive with its transport parameters, which
        // quinn-proto applies without a `StreamEvent::Available`: streams claimed before
        // then (a client starting HTTP/3 before the handshake) are opened here.
        for dir in [Dir::Bi, Dir::Uni] {
            if self.opened[dir as usize] < self.claimed[dir as usize] {
                self.open_claimed(dir);
            }
        }
        self.fit_send_window();
    }

    fn on_quinn_event(&mut self, event: quinn_proto::Event) {
        use quinn_proto::Event as E;
        match event {
            E::HandshakeDataReady | E::DatagramsUnblocked => {}
            E::Connected => {
                self.established = true;
                let data = self
                    .quinn
                    .crypto_session()
                    .handshake_data()
                    .and_then(|data| {
                        data.downcast::<quinn_proto::crypto::rustls::HandshakeData>()
                            .ok()
                    });
                if let Some(data) = data {
                    self.alpn = data.protocol.map(Bytes::from);
                    self.server_name = data.server_name;
                }
                self.settle_early_data();
                self.events.push_back(Event::HandshakeCompleted {
                    alpn: self.alpn.clone(),
                });
            }
            E::ConnectionLost { reason } => {
                let event = self.termination(&reason);
                self.terminate(event);
            }
            E::Stream(StreamEvent::Opened { dir }) => self.new_peer_streams[dir as usize] = true,
            E::Stream(StreamEvent::Readable { id }) => self.read(id),
            // Refilled after the round, most urgent first (`flush_writable`).
            E::Stream(StreamEvent::Writable { id }) => self.writable.push(id),
            E::Stream(StreamEvent::Finished { id }) => {
                self.unacknowledged.remove(&u64::from(id));
                self.release_small_writes_if_settled();
            }
            E::Stream(StreamEvent::Stopped { id, error_code }) => {
                self.deferred.stopped(u64::from(id));
                self.outgoing.remove(&u64::from(id));
                self.unacknowledged.remove(&u64::from(id));
                self.release_small_writes_if_settled();
                // RFC 9000 §3.5: answer STOP_SENDING with RESET_STREAM. An error means the
                // stream is already reset or gone, which is the state we want.
                let _ = self.quinn.send_stream(id).reset(error_code);
                self.events.push_back(Event::StopSendingReceived {
                    stream_id: id.into(),
                    error_code: error_code.into_inner(),
                });
            }
            E::Stream(StreamEvent::Available { dir }) => self.open_claimed(dir),
            E::DatagramReceived => {
                while let Some(data) = self.quinn.datagrams().recv() {
                    self.events.push_back(Event::DatagramReceived { data });
                }
            }
        }
    }

    /// Reads everything that has arrived on `id`, in order, as events.
    fn read(&mut self, id: StreamId) {
        if id.dir() == Dir::Uni && id.initiator() == self.side {
            return; // our own unidirectional stream has no receiving side
        }
        let stream_id = u64::from(id);
        let mut recv = self.quinn.recv_stream(id);
        let Ok(mut chunks) = recv.read(true) else {
            return; // stopped by us, or already finished: nothing to report
        };
        let mut last_data: Option<usize> = None;
        loop {
            match chunks.next(usize::MAX) {
                Ok(Some(chunk)) => {
                    if let Some(tap) = &mut self.qlog {
                        tap.bytes(self.time.now(), stream_id, false, &chunk.bytes);
                    }
                    self.events.push_back(Event::StreamDataReceived {
                        stream_id,
                        data: chunk.bytes,
                        end_stream: false,
                    });
                    last_data = Some(self.events.len() - 1);
                }
                Ok(None) => {
                    match last_data.and_then(|i| self.events.get_mut(i)) {
                        Some(Event::StreamDataReceived { end_stream, .. }) => *end_stream = true,
                        _ => self.events.push_back(Event::StreamDataReceived {
                            stream_id,
                            data: Bytes::new(),
                            end_stream: true,
                        }),
                    }
                    break;
                }
                Err(ReadError::Blocked) => break,
                Err(ReadError::Reset(code)) => {
                    self.events.push_back(Event::StreamReset {
                        stream_id,
                        error_code: code.into_inner(),
                    });
                    break;
                }
            }
        }
        // Flow-control credit is queued by finalize; the next poll_transmit sends it.
        let _ = chunks.finalize();
    }

    /// Opens, in order, the claimed local streams the peer's limit now allows.
    fn open_claimed(&mut self, dir: Dir) {
        let d = dir as usize;
        while self.opened[d] < self.claimed[d] {
            let Some(id) = self.quinn.streams().open(dir) else {
                return; // wait for StreamEvent::Available
            };
            debug_assert_eq!(id.index(), self.opened[d], "quinn opens streams in order");
            self.opened[d] = id.index() + 1;
            self.apply_pending_priority(id);
            let key = u64::from(id);
            let (reset, stop) = match self.outgoing.get(&key) {
                Some(out) => (out.reset, out.stop),
                None => continue,
            };
            if let Some(code) = stop {
                let _ = self.quinn.recv_stream(id).stop(code);
            }
            if let Some(code) = reset {
                self.outgoing.remove(&key);
                let _ = self.quinn.send_stream(id).reset(code);
            } else {
                self.flush(id);
            }
        }
    }

    /// The ConnectionTerminated event for how quinn-proto says the connection ended.
    fn termination(&self, reason: &ConnectionError) -> Event {
        use ErrorSpace::{Application, NoCode, Transport};
        let (error_code, reason, error_space, by_peer) = match reason {
            ConnectionError::ApplicationClosed(close) => (
                close.error_code.into_inner(),
                close.reason.clone(),
                Application,
                true,
            ),
            ConnectionError::ConnectionClosed(close) => (
                u64::from(close.error_code),
                close.reason.clone(),
                Transport,
                true,
            ),
            ConnectionError::TransportError(e) => (
                u64::from(e.code),
                Bytes::from(e.reason.clone()),
                Transport,
                false,
            ),
            ConnectionError::TimedOut => (0, Bytes::from_static(b"Idle timeout"), NoCode, false),
            ConnectionError::Reset => (
                INTERNAL_ERROR,
                Bytes::from_static(b"Stateless reset"),
                NoCode,
                true,
            ),
            ConnectionError::VersionMismatch => (
                INTERNAL_ERROR,
                Bytes::from_static(b"Could not find a common protocol version"),
                NoCode,
                true,
            ),
            ConnectionError::CidsExhausted => (
                INTERNAL_ERROR,
                Bytes::from_static(b"Connection IDs exhausted"),
                NoCode,
                false,
            ),
            ConnectionError::LocallyClosed => {
                let (code, reason) = self.local_close.clone().unwrap_or((0, Bytes::new()));
                (code, reason, Application, false)
            }
        };
        Event::ConnectionTerminated {
            error_code,
            reason,
            error_space,
            by_peer,
        }
    }

    /// Queues ConnectionTerminated once and drops what we still meant to send.
    fn terminate(&mut self, event: Event) {
        if let Some(tap) = &self.qlog {
            tap.flush();
        }
        if !self.terminated {
            self.terminated = true;
            self.events.push_back(event);
        }
        self.outgoing.clear();
        self.unacknowledged.clear();
    }

    /// Tells the endpoint this connection changed outside its calls (an application call
    /// that may queue frames or move timers).
    pub(crate) fn touch(&mut self) {
        if !self.is_touched {
            self.is_touched = true;
            if let Ok(mut list) = self.touched.0.lock() {
                list.push(self.slot);
            }
        }
    }

    /// The endpoint took this connection off the touched list.
    pub(crate) fn untouch(&mut self) {
        self.is_touched = false;
    }

    /// Events wait to be taken.
    pub(crate) fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// True for the client side.
    pub(crate) fn is_client(&self) -> bool {
        self.side == Side::Client
    }

    /// The next queued event. Its payload is remembered (see [`Core::last_payload`]) until
    /// the next call; the call that finds the queue empty lets go of it, so an idle
    /// connection holds no received bytes, and gives back the queue's room beyond
    /// [`EVENTS_KEPT`] (a burst of datagrams can queue thousands of events at once).
    pub(crate) fn pop_event(&mut self) -> Option<Event> {
        let Some(event) = self.events.pop_front() else {
            self.last_payload = Bytes::new();
            if self.events.capacity() > EVENTS_KEPT {
                self.events.shrink_to(EVENTS_KEPT);
            }
            return None;
        };
        self.last_payload = match &event {
            Event::StreamDataReceived { data, .. } | Event::DatagramReceived { data } => {
                data.clone()
            }
            _ => Bytes::new(),
        };
        Some(event)
    }

    /// The payload of the event last taken with `pop_event` (empty when none).
    pub(crate) fn last_payload(&self) -> Bytes {
        self.last_payload.clone()
    }

    /// Streams with data the peer has not all acknowledged: FIN handed to quinn-proto and
    /// not all acknowledged, or data (or FIN) still waiting in this layer. Streams that
    /// never end (HTTP/3's control and QPACK streams) count only while data of theirs waits
    /// here.
    pub(crate) fn unacknowledged_streams(&self) -> usize {
        self.unacknowledged.len()
            + self.outgoing.values().filter(|o| o.reset.is_none()).count()
            + self.deferred.streams_pending()
    }

    /// Bytes of `stream_id` waiting in this layer for quinn-proto to take them.
    pub(crate) fn send_buffered(&self, stream_id: u64) -> usize {
        self.deferred.len_for(stream_id)
            + self
                .outgoing
                .get(&stream_id)
                .map_or(0, |out| out.queue.iter().map(Bytes::len).sum::<usize>())
    }

    /// Handshake completed and not closed.
    pub(crate) fn is_established(&self) -> bool {
        self.established && !self.is_closed()
    }

    /// Closing, draining or drained.
    pub(crate) fn is_closed(&self) -> bool {
        self.terminated || self.quinn.is_closed()
    }

    /// The negotiated ALPN protocol.
    pub(crate) fn alpn(&self) -> Option<Bytes> {
        self.alpn.clone()
    }

    /// The server name the client sent (SNI), on a server, once the handshake completed.
    pub(crate) fn server_name(&self) -> Option<String> {
        self.server_name.clone()
    }

    fn check_open(&self) -> Result<(), QuicError> {
        if self.drained || self.terminated || self.quinn.is_closed() {
            Err(QuicError::ConnectionClosed)
        } else {
            Ok(())
        }
    }

    fn is_local(&self, id: StreamId) -> bool {
        id.initiator() == self.side
    }

    /// Checks a peer-initiated stream id against what the peer has opened.
    fn check_peer_opened(&self, id: StreamId) -> Result<(), QuicError> {
        if id.index() >= self.peer_opened[id.dir() as usize] {
            return Err(QuicError::InvalidArgument(format!(
                "stream {} has not been opened by the peer",
                u64::from(id)
            )));
        }
        Ok(())
    }

    /// Claims a local stream id: it and every lower id in its direction are now used.
    fn claim(&mut self, id: StreamId) {
        let d = id.dir() as usize;
        if id.index() >= self.claimed[d] {
            self.claimed[d] = id.index() + 1;
        }
    }

    pub(crate) fn next_stream_id(&self, unidirectional: bool) -> u64 {
        let dir = if unidirectional { Dir::Uni } else { Dir::Bi };
        StreamId::new(self.side, dir, self.claimed[dir as usize]).into()
    }

    pub(crate) fn stop_stream(&mut self, stream_id: u64, error_code: u64) -> Result<(), QuicError> {
        self.check_open()?;
        let id = parse_stream_id(stream_id)?;
        let code = parse_code(error_code)?;
        if self.is_local(id) {
            if id.dir() == Dir::Uni {
                return Err(QuicError::InvalidArgument(format!(
                    "stream {stream_id} is our unidirectional stream: it has no receiving side"
                )));
            }
            self.claim(id);
            if id.index() >= self.opened[id.dir() as usize] {
                self.outgoing.entry(stream_id).or_default().stop = Some(code);
                self.open_claimed(id.dir());
                return Ok(());
            }
        } else {
            self.check_peer_opened(id)?;
        }
        // An error means already finished, reset or stopped.
        let _ = self.quinn.recv_stream(id).stop(code);
        Ok(())
    }

    pub(crate) fn send_datagram(&mut self, data: Bytes) -> Result<(), QuicError> {
        self.check_open()?;
        let size = data.len();
        let mut datagrams = self.quinn.datagrams();
        match datagrams.send(data, false) {
            Ok(()) => Ok(()),
            Err(SendDatagramError::UnsupportedByPeer | SendDatagramError::Disabled) => {
                Err(QuicError::DatagramsUnsupported)
            }
            Err(SendDatagramError::TooLarge) => Err(QuicError::DatagramTooLarge {
                size,
                max: datagrams.max_size().unwrap_or(0),
            }),
            Err(SendDatagramError::Blocked(_)) => Err(QuicError::DatagramBlocked),
        }
    }

    pub(crate) fn close(&mut self, error_code: u64, reason: &[u8]) {
        if self.drained || self.terminated || self.quinn.is_closed() {
            return;
        }
        let code = VarInt::from_u64(error_code).unwrap_or(VarInt::MAX);
        let reason = Bytes::copy_from_slice(reason);
        self.deferred.discard();
        self.local_close = Some((code.into_inner(), reason.clone()));
        self.quinn.close(self.time.now(), code, reason.clone());
        self.terminate(Event::ConnectionTerminated {
            error_code: code.into_inner(),
            reason,
            error_space: ErrorSpace::Application,
            by_peer: false,
        });
    }
}

pub(super) fn parse_stream_id(stream_id: u64) -> Result<StreamId, QuicError> {
    VarInt::from_u64(stream_id)
        .map(StreamId::from)
        .map_err(|_| QuicError::InvalidArgument(format!("stream id {stream_id} is too large")))
}

fn parse_code(code: u64) -> Result<VarInt, QuicError> {
    VarInt::from_u64(code)
        .map_err(|_| QuicError::InvalidArgument(format!("error code {code} is too large")))
}
