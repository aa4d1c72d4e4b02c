//! The application's side of a connection: [`ConnectionHandle`], an index into the
//! endpoint, and [`Connection`], a shared handle on the connection's state with aioquic's
//! `QuicConnection` calls, which is also the HTTP/3 layer's [`Transport`].

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;

use super::connection::{Core, EarlyData, Payload};
use super::error::QuicError;
use super::event::Event;
use super::stats::Stats;
use crate::h3::Priority;
use crate::h3::transport::{Transport, TransportError};

/// Identifies a connection inside its [`Endpoint`](super::Endpoint): a slot index and the
/// generation of the slot. A handle whose connection was reaped never matches a later
/// connection in the same slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConnectionHandle {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

impl ConnectionHandle {
    /// The handle packed into one integer (generation in the high half), for storage in
    /// foreign code. [`ConnectionHandle::from_u64`] reverses it.
    pub fn to_u64(self) -> u64 {
        (u64::from(self.generation) << 32) | u64::from(self.index)
    }

    /// The handle packed by [`ConnectionHandle::to_u64`].
    pub fn from_u64(value: u64) -> Self {
        ConnectionHandle {
            index: value as u32,
            generation: (value >> 32) as u32,
        }
    }
}

/// A handle on one connection of an [`Endpoint`](super::Endpoint): aioquic's
/// `QuicConnection` calls and event queue. Cheap to clone; every clone is the same
/// connection. It stays usable after the connection drained and the endpoint reaped it:
/// queued events can still be taken, and operations return
/// [`QuicError::ConnectionClosed`].
#[derive(Clone)]
pub struct Connection {
    core: Arc<Mutex<Core>>,
    handle: ConnectionHandle,
    is_client: bool,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("handle", &self.handle)
            .field("is_client", &self.is_client)
            .finish_non_exhaustive()
    }
}

impl Connection {
    pub(crate) fn new(core: Core, handle: ConnectionHandle) -> Self {
        Connection {
            is_client: core.is_client(),
            core: Arc::new(Mutex::new(core)),
            handle,
        }
    }

    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, Core>, QuicError> {
        self.core.lock().map_err(|_| QuicError::Poisoned)
    }

    /// This connection's handle in its endpoint.
    pub fn handle(&self) -> ConnectionHandle {
        self.handle
    }

    /// Keeps `tag` with the connection, for whoever owns the application's handle on it
    /// (the C API keeps the address of its `h3q_quic_conn`, to find it again from
    /// [`Endpoint::next_ready`](super::Endpoint::next_ready)); 0 means none.
    pub(crate) fn set_owner_tag(&self, tag: usize) {
        if let Ok(mut core) = self.lock() {
            core.owner_tag = tag;
        }
    }

    /// The payload of the event last taken with [`Connection::next_event`], kept until the
    /// next call, and empty once `next_event` found nothing (an idle connection holds no
    /// received bytes). The C API matches the `h3q_quic_event` pointers it handed out
    /// against it, to share DATA instead of copying it.
    pub fn last_payload(&self) -> Bytes {
        self.lock()
            .map_or_else(|_| Bytes::new(), |core| core.last_payload())
    }

    /// The value [`Connection::set_owner_tag`] kept (0 when none).
    pub(crate) fn owner_tag(&self) -> usize {
        self.lock().map_or(0, |core| core.owner_tag)
    }

    /// The next QUIC event (aioquic's `next_event()`), or `None`.
    pub fn next_event(&self) -> Option<Event> {
        self.lock().ok()?.pop_event()
    }

    /// Queues `data` on `stream_id`, then FIN if `end_stream`. Every byte is accepted;
    /// what flow control does not take now is sent later. Sending on a new local stream id
    /// (see [`Connection::get_next_available_stream_id`]) opens it.
    pub fn send_stream_data(
        &self,
        stream_id: u64,
        data: &[u8],
        end_stream: bool,
    ) -> Result<(), QuicError> {
        let mut core = self.lock()?;
        core.touch();
        core.send(stream_id, Payload::Slice(data), end_stream)
    }

    /// As [`Connection::send_stream_data`] without FIN, for small writes nobody waits for
    /// before the next packet (HTTP/3's QPACK decoder stream, HEADERS frames that do not
    /// end their stream). The bytes may wait until the endpoint next builds this
    /// connection's packets, or until the stream's next write, which a small held write
    /// joins: on a unidirectional stream, a burst's writes reach quinn-proto as one; on a
    /// bidirectional stream, one small write is held to go with the next. They leave in
    /// the same packets as with [`Connection::send_stream_data`], and in order with the
    /// stream's other writes. Errors are [`Connection::send_stream_data`]'s, except after
    /// this side reset a bidirectional stream: a write to it before quinn-proto forgets
    /// it is accepted and dropped with the stream's other unsent data.
    pub fn send_stream_data_batched(&self, stream_id: u64, data: &[u8]) -> Result<(), QuicError> {
        let mut core = self.lock()?;
        core.touch();
        core.send_deferred(stream_id, data)
    }

    /// As [`Connection::send_stream_data`], taking owned bytes (no copy).
    pub fn send_stream_bytes(
        &self,
        stream_id: u64,
        data: Bytes,
        end_stream: bool,
    ) -> Result<(), QuicError> {
        let mut core = self.lock()?;
        core.touch();
        core.send(stream_id, Payload::Owned(data), end_stream)
    }

    /// The next local stream id in the given direction. It stays the same until it is used
    /// (sent on, reset or stopped). Ids beyond the peer's stream limit are handed out too:
    /// their data waits and the streams open, in order, when the peer allows more.
    pub fn get_next_available_stream_id(&self, unidirectional: bool) -> Result<u64, QuicError> {
        Ok(self.lock()?.next_stream_id(unidirectional))
    }

    /// How many bytes given to [`Connection::send_stream_data`] on `stream_id` wait in this
    /// layer because quinn-proto has not taken them yet (flow control, the send window, the
    /// peer's stream limit), including batched writes not yet handed over
    /// ([`Connection::send_stream_data_batched`]). Bytes quinn-proto took are not counted.
    /// An application streaming a large body can keep this low instead of handing
    /// everything over at once.
    pub fn send_buffered(&self, stream_id: u64) -> usize {
        self.lock().map_or(0, |core| core.send_buffered(stream_id))
    }

    /// Resets the sending side of `stream_id` (RESET_STREAM), discarding queued data.
    pub fn reset_stream(&self, stream_id: u64, error_code: u64) -> Result<(), QuicError> {
        let mut core = self.lock()?;
        core.touch();
        core.reset_stream(stream_id, error_code)
    }

    /// Asks the peer to stop sending on `stream_id` (STOP_SENDING).
    pub fn stop_stream(&self, stream_id: u64, error_code: u64) -> Result<(), QuicError> {
        let mut core = self.lock()?;
        core.touch();
        core.stop_stream(stream_id, error_code)
    }

    /// How many streams still have data the peer has not acknowledged: sent with FIN and
    /// not all acknowledged yet, or waiting in this layer. A graceful close waits for 0
    /// (closing discards what is unacknowledged); HTTP/3's control and QPACK streams,
    /// which never end, count only while data of theirs waits here. 0 once closed.
    pub fn unacknowledged_streams(&self) -> usize {
        self.lock().map_or(0, |core| core.unacknowledged_streams())
    }

    /// Schedules `stream_id`'s sending at an HTTP priority (RFC 9218): data of lower
    /// urgency first, non-incremental streams of one urgency one after another in stream
    /// order, incremental ones interleaved; streams never given one (HTTP/3's control and
    /// QPACK streams) before all of them. A local stream not opened yet gets it when it
    /// opens.
    pub fn set_stream_priority(&self, stream_id: u64, priority: Priority) -> Result<(), QuicError> {
        let mut core = self.lock()?;
        core.set_priority(stream_id, priority)
    }

    /// Sends a DATAGRAM frame. Fails when either side did not enable datagrams, when the
    /// payload exceeds [`Connection::remote_max_datagram_frame_size`], or when the send
    /// buffer is full.
    pub fn send_datagram_frame(&self, data: &[u8]) -> Result<(), QuicError> {
        let mut core = self.lock()?;
        core.touch();
        core.send_datagram(Bytes::copy_from_slice(data))
    }

    /// As [`Connection::send_datagram_frame`], taking owned bytes.
    pub fn send_datagram(&self, data: Bytes) -> Result<(), QuicError> {
        let mut core = self.lock()?;
        core.touch();
        core.send_datagram(data)
    }

    /// Closes the connection with an application error code and reason: CONNECTION_CLOSE
    /// goes out with the next transmits, then the connection drains (three PTOs) and the
    /// endpoint forgets it. A ConnectionTerminated event with this code is queued now.
    /// Data not yet sent is discarded, as in aioquic. Closing twice does nothing.
    pub fn close(&self, error_code: u64, reason: &[u8]) {
        if let Ok(mut core) = self.lock() {
            core.touch();
            core.close(error_code, reason);
        }
    }

    /// True for the client side.
    pub fn is_client(&self) -> bool {
        self.is_client
    }

    /// True once the handshake completed (and until the connection closes).
    pub fn is_established(&self) -> bool {
        self.lock().is_ok_and(|c| c.is_established())
    }

    /// True once the connection is closing, draining or drained.
    pub fn is_closed(&self) -> bool {
        self.lock().map_or(true, |c| c.is_closed())
    }

    /// True once the connection has drained: the endpoint no longer knows it.
    pub fn is_drained(&self) -> bool {
        self.lock().map(|c| c.drained).unwrap_or(true)
    }

    /// The negotiated ALPN protocol, once the handshake completed.
    pub fn alpn(&self) -> Option<Bytes> {
        self.lock().ok()?.alpn()
    }

    /// On a server, the server name the client asked for (SNI), once the handshake
    /// completed.
    pub fn server_name(&self) -> Option<String> {
        self.lock().ok()?.server_name()
    }

    /// The peer's UDP address.
    pub fn remote_address(&self) -> Option<SocketAddr> {
        Some(self.lock().ok()?.quinn.remote_address())
    }

    /// The largest DATAGRAM payload the peer accepts on the current path, or `None` when
    /// the peer (or this endpoint) did not enable DATAGRAM frames.
    pub fn remote_max_datagram_frame_size(&self) -> Option<usize> {
        self.lock().ok()?.quinn.datagrams().max_size()
    }

    /// The connection's measurements (round trips, congestion window, bytes and packets
    /// sent, received and lost); `None` only if its state was poisoned by a panic.
    pub fn stats(&self) -> Option<Stats> {
        Some(Stats::of(&self.lock().ok()?.quinn))
    }

    /// quinn-proto's own statistics, in full (frame counts and more).
    pub fn quinn_stats(&self) -> Option<quinn_proto::ConnectionStats> {
        Some(self.lock().ok()?.quinn.stats())
    }

    /// A client: the session ticket the server sent on this connection, to resume with
    /// [`Endpoint::connect_resume`](super::Endpoint::connect_resume) later; `None` before
    /// the server sent one (servers send them just after the handshake), on a server, or
    /// once the ticket was used. The bytes refer to a session this endpoint keeps: they
    /// resume on this endpoint only, once (see `session` for why).
    pub fn session_ticket(&self) -> Option<Vec<u8>> {
        self.lock().ok()?.session_ticket()
    }

    /// The certificate chain the peer presented and the handshake verified (end-entity
    /// first, DER): a server's, or a client's when the server asked for one
    /// ([`Config::set_client_auth`](super::Config::set_client_auth)). `None` before the
    /// handshake completed, or when the peer presented none.
    pub fn peer_certificates(&self) -> Option<Vec<Vec<u8>>> {
        let core = self.lock().ok()?;
        let chain = super::client_auth::peer_chain(&core.quinn)?;
        Some(chain.iter().map(|cert| cert.as_ref().to_vec()).collect())
    }

    /// A client: what became of its 0-RTT data.
    pub fn early_data(&self) -> EarlyData {
        self.lock()
            .map_or(EarlyData::NotOffered, |core| core.early_data())
    }

    /// A server: true when the client opened request stream `stream_id` before the
    /// handshake completed, so that its request arrived (at least in part) as 0-RTT data,
    /// which an attacker can replay. Answer such requests only if they are safe to repeat
    /// (RFC 8470 suggests 425 Too Early for the others).
    pub fn is_early_stream(&self, stream_id: u64) -> bool {
        self.lock()
            .is_ok_and(|core| core.is_early_stream(stream_id))
    }
}

impl Transport for Connection {
    fn is_client(&self) -> bool {
        self.is_client
    }

    fn remote_max_datagram_frame_size(&self) -> u64 {
        Connection::remote_max_datagram_frame_size(self).map_or(0, |n| n as u64)
    }

    fn send_stream_data(
        &mut self,
        stream_id: u64,
        data: &[u8],
        end_stream: bool,
    ) -> Result<(), TransportError> {
        Connection::send_stream_data(self, stream_id, data, end_stream).map_err(Into::into)
    }

    fn send_stream_bytes(
        &mut self,
        stream_id: u64,
        data: Bytes,
        end_stream: bool,
    ) -> Result<(), TransportError> {
        Connection::send_stream_bytes(self, stream_id, data, end_stream).map_err(Into::into)
    }

    fn send_stream_data_batched(
        &mut self,
        stream_id: u64,
        data: &[u8],
    ) -> Result<(), TransportError> {
        Connection::send_stream_data_batched(self, stream_id, data).map_err(Into::into)
    }

    fn get_next_available_stream_id(
        &mut self,
        unidirectional: bool,
    ) -> Result<u64, TransportError> {
        Connection::get_next_available_stream_id(self, unidirectional).map_err(Into::into)
    }

    fn reset_stream(&mut self, stream_id: u64, error_code: u64) -> Result<(), TransportError> {
        Connection::reset_stream(self, stream_id, error_code).map_err(Into::into)
    }

    fn stop_stream(&mut self, stream_id: u64, error_code: u64) -> Result<(), TransportError> {
        Connection::stop_stream(self, stream_id, error_code).map_err(Into::into)
    }

    fn set_stream_priority(
        &mut self,
        stream_id: u64,
        priority: Priority,
    ) -> Result<(), TransportError> {
        Connection::set_stream_priority(self, stream_id, priority).map_err(Into::into)
    }

    fn is_closed(&self) -> bool {
        Connection::is_closed(self)
    }

    fn send_datagram_frame(&mut self, data: &[u8]) -> Result<(), TransportError> {
        Connection::send_datagram_frame(self, data).map_err(Into::into)
    }

    fn close(&mut self, error_code: u64, reason: &str) {
        Connection::close(self, error_code, reason.as_bytes());
    }
}
