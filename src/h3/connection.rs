//! [`H3Connection`]: aioquic's `H3Connection`, sans-I/O, over any [`Transport`].
//!
//! This file holds the connection's state, start-up, queries, event dispatch and the one
//! exit for protocol errors. Sending is in `send.rs`; receiving in `recv_request.rs`
//! (request and push streams) and `recv_uni.rs` (unidirectional streams, control stream,
//! QPACK streams, datagrams).

use bytes::Bytes;

use crate::error::{ErrorCode, ProtocolError};
use crate::frame::{self, SettingsMap, frame_type, stream_type};
use crate::qpack::{Decoder, Encoder};
use crate::stream_id_map::{StreamIdMap, StreamIdSet};
use crate::varint;

use super::error::H3Error;
use super::event::{ConnectionClose, ErrorSpace, H3Event, QuicEvent, slice_within};
use super::id_set::IdSet;
use super::lifecycle::Lifecycle;
use super::priority::Priority;
use super::settings::Settings;
use super::stream::{self, H3Stream};
use super::transport::{Transport, TransportError};

/// Our control and QPACK streams, opened.
struct LocalStreams {
    sent_settings: SettingsMap,
    control: u64,
    encoder: u64,
    decoder: u64,
}

impl LocalStreams {
    /// Opens our control stream with SETTINGS (and, for a client, MAX_PUSH_ID), then the
    /// QPACK encoder and decoder streams.
    fn open(transport: &mut impl Transport, settings: &Settings) -> Result<Self, H3Error> {
        let mut sent_settings = settings.to_wire();
        let grease = settings.enable_grease.then(random_u64);
        if let Some(random) = grease {
            // A reserved setting the peer must ignore (RFC 9114 §7.2.4.1).
            sent_settings.insert(frame::grease_value(random), random >> 40);
        }

        let mut buf = Vec::with_capacity(64);
        let control = transport.get_next_available_stream_id(true)?;
        varint::encode(stream_type::CONTROL, &mut buf);
        frame::encode_settings_frame(&sent_settings, &mut buf);
        if transport.is_client() {
            frame::encode_id_frame(frame_type::MAX_PUSH_ID, settings.max_push_id, &mut buf);
        }
        if let Some(random) = grease {
            // A reserved frame type the peer must skip (RFC 9114 §7.2.8), with a short
            // payload.
            let payload = &random.to_le_bytes()[..(random >> 61) as usize];
            frame::encode_frame(frame::grease_value(random >> 7), payload, &mut buf);
        }
        transport.send_stream_data(control, &buf, false)?;

        let encoder = transport.get_next_available_stream_id(true)?;
        buf.clear();
        varint::encode(stream_type::QPACK_ENCODER, &mut buf);
        transport.send_stream_data(encoder, &buf, false)?;

        let decoder = transport.get_next_available_stream_id(true)?;
        buf.clear();
        varint::encode(stream_type::QPACK_DECODER, &mut buf);
        transport.send_stream_data(decoder, &buf, false)?;
        Ok(LocalStreams {
            sent_settings,
            control,
            encoder,
            decoder,
        })
    }
}

/// An HTTP/3 connection (RFC 9114) over a QUIC [`Transport`].
///
/// Feed it QUIC events with [`handle_event`](Self::handle_event) (or
/// [`handle_event_into`](Self::handle_event_into)); it answers with HTTP events and writes
/// frames through the transport. A protocol violation by the peer closes the transport
/// once, with the violation's code and reason, and that call returns the
/// [`ProtocolError`]; afterwards the connection produces no events, every send call
/// returns [`H3Error::ConnectionClosed`], and [`closed`](Self::closed) tells how it ended.
pub struct H3Connection<T: Transport> {
    pub(super) transport: T,
    pub(super) settings: Settings,
    pub(super) is_client: bool,
    /// How the connection ended, once it has.
    pub(super) closed: Option<ConnectionClose>,
    /// The shared buffer of the QUIC event being handled (empty for borrowed bytes):
    /// received DATA passed on in events is a part of it, without a copy.
    pub(super) event_payload: Bytes,
    pub(super) decoder: Decoder,
    pub(super) encoder: Encoder,
    pub(super) streams: StreamIdMap<H3Stream>,
    pub(super) sent_settings: SettingsMap,
    pub(super) received_settings: Option<SettingsMap>,
    /// A client: the MAX_PUSH_ID it sent. A server: the last MAX_PUSH_ID received.
    pub(super) max_push_id: Option<u64>,
    pub(super) next_push_id: u64,
    pub(super) local_control: u64,
    pub(super) local_encoder: u64,
    pub(super) local_decoder: u64,
    pub(super) peer_control: Option<u64>,
    pub(super) peer_encoder: Option<u64>,
    pub(super) peer_decoder: Option<u64>,
    /// The highest bidirectional stream ids that got state, ours and the peer's.
    pub(super) max_local_bidi: Option<u64>,
    pub(super) max_peer_bidi: Option<u64>,
    /// Finished bidirectional streams (both directions done, or refused), by initiator
    /// (client-initiated, server-initiated) and stream id / 4: nothing arriving on them
    /// is taken for a new message, and sends on them are refused. Streams finish nearly in
    /// order, so each set stays a few ranges, whatever the connection's age.
    pub(super) finished_bidi: [IdSet; 2],
    /// The peer's unidirectional streams that ended (FIN or reset), by stream id / 4: bytes
    /// or a reset arriving on one later do not open it again.
    pub(super) finished_peer_uni: IdSet,
    /// The highest push stream id we opened (a server): a lower push stream without state
    /// is a finished push.
    pub(super) max_push_stream: Option<u64>,
    /// Streams holding partial input (a HEADERS / PUSH_PROMISE payload still arriving,
    /// or bytes behind a blocked field section), bounded by
    /// [`Settings::max_buffering_streams`].
    pub(super) buffering: StreamIdSet,
    /// Peer streams reset before their message ended, beyond those it completed
    /// (bounded by [`Settings::max_excess_resets`]).
    pub(super) excess_resets: u64,
    /// GOAWAY both ways, cancelled pushes, the report of the close (`lifecycle.rs`).
    pub(super) lifecycle: Lifecycle,
    /// A server: PRIORITY_UPDATEs for request streams not open yet, bounded
    /// (`priorities.rs`).
    pub(super) pending_priorities: StreamIdMap<Priority>,
    /// Reused buffers, so steady-state sending allocates nothing.
    pub(super) scratch: Vec<u8>,
    pub(super) scratch_section: Vec<u8>,
}

impl<T: Transport> H3Connection<T> {
    /// Starts HTTP/3 on `transport`: opens our control stream with SETTINGS (and, for a
    /// client, MAX_PUSH_ID), then the QPACK encoder and decoder streams.
    pub fn new(mut transport: T, settings: Settings) -> Result<Self, H3Error> {
        let is_client = transport.is_client();
        let local = LocalStreams::open(&mut transport, &settings)?;

        let mut decoder = Decoder::new(
            settings.qpack_max_table_capacity,
            settings.qpack_blocked_streams,
        );
        decoder.set_max_field_section_size(settings.field_section_limit());
        decoder.set_max_unreferenced_insert_bytes(settings.max_unreferenced_insert_bytes);

        Ok(H3Connection {
            max_push_id: is_client.then_some(settings.max_push_id),
            transport,
            settings,
            is_client,
            closed: None,
            event_payload: Bytes::new(),
            decoder,
            encoder: Encoder::new(),
            streams: StreamIdMap::default(),
            sent_settings: local.sent_settings,
            received_settings: None,
            next_push_id: 0,
            local_control: local.control,
            local_encoder: local.encoder,
            local_decoder: local.decoder,
            peer_control: None,
            peer_encoder: None,
            peer_decoder: None,
            max_local_bidi: None,
            max_peer_bidi: None,
            finished_bidi: Default::default(),
            finished_peer_uni: IdSet::default(),
            max_push_stream: None,
            buffering: StreamIdSet::default(),
            excess_resets: 0,
            lifecycle: Lifecycle::default(),
            pending_priorities: StreamIdMap::default(),
            scratch: Vec::new(),
            scratch_section: Vec::new(),
        })
    }

    /// Opens our streams again after the QUIC layer forgot them (rejected 0-RTT).
    pub(super) fn reopen_local_streams(&mut self) -> Result<(), H3Error> {
        let local = LocalStreams::open(&mut self.transport, &self.settings)?;
        self.sent_settings = local.sent_settings;
        self.local_control = local.control;
        self.local_encoder = local.encoder;
        self.local_decoder = local.decoder;
        Ok(())
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The transport, mutably (for the application's own stream operations).
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// The settings this connection was created with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// True once the connection is closed: by a protocol error of the peer's, or because
    /// the QUIC connection terminated (`QuicEvent::ConnectionTerminated`).
    pub fn is_closed(&self) -> bool {
        self.closed.is_some()
    }

    /// How the connection ended (the first of a close of ours and the QUIC connection's
    /// termination), or `None` while it is open.
    pub fn closed(&self) -> Option<&ConnectionClose> {
        self.closed.as_ref()
    }

    /// The SETTINGS we sent, by identifier.
    pub fn sent_settings(&self) -> &SettingsMap {
        &self.sent_settings
    }

    /// The SETTINGS the peer sent (every identifier, unknown and GREASE ones included),
    /// or `None` before they arrive.
    pub fn received_settings(&self) -> Option<&SettingsMap> {
        self.received_settings.as_ref()
    }

    /// One received setting, if the peer's SETTINGS arrived and carried `id`.
    pub fn received_setting(&self, id: u64) -> Option<u64> {
        self.received_settings.as_ref()?.get(&id).copied()
    }

    /// One sent setting, if we sent `id`.
    pub fn sent_setting(&self, id: u64) -> Option<u64> {
        self.sent_settings.get(&id).copied()
    }

    /// How many per-stream state entries the connection holds: the peer's control and
    /// QPACK streams (once seen) and streams still in use. Our own control and QPACK
    /// streams need no entry; finished streams are dropped. A settled connection holds 3.
    pub fn tracked_streams(&self) -> usize {
        self.streams.len()
    }

    /// Handles one QUIC event and returns the HTTP events it produced. If the event
    /// reveals a protocol error, the transport is closed with its code and reason and the
    /// error is returned (no events). Once the connection is closed, events produce
    /// nothing: `Ok` with no events.
    pub fn handle_event(&mut self, event: QuicEvent<'_>) -> Result<Vec<H3Event>, ProtocolError> {
        let mut out = Vec::new();
        self.handle_event_into(event, &mut out)?;
        Ok(out)
    }

    /// [`handle_event`](Self::handle_event), appending the HTTP events to `out` (which the
    /// caller may reuse across calls); on an error nothing is appended.
    pub fn handle_event_into(
        &mut self,
        event: QuicEvent<'_>,
        out: &mut Vec<H3Event>,
    ) -> Result<(), ProtocolError> {
        if self.closed.is_some() && !matches!(event, QuicEvent::ConnectionTerminated { .. }) {
            return Ok(());
        }
        let start = out.len();
        let result = match event {
            QuicEvent::StreamDataReceived {
                stream_id,
                data,
                end_stream,
            } => {
                self.event_payload = data.shared();
                let result = self.recv_stream_data(stream_id, &data, end_stream, out);
                self.event_payload = Bytes::new();
                result
            }
            QuicEvent::StreamReset {
                stream_id,
                error_code,
            } => self.recv_stream_reset(stream_id, error_code, out),
            QuicEvent::StopSendingReceived {
                stream_id,
                error_code,
            } => self.recv_stop_sending(stream_id, error_code, out),
            QuicEvent::DatagramReceived { data } => {
                self.event_payload = data.shared();
                let result = self.recv_datagram(&data, out);
                self.event_payload = Bytes::new();
                result
            }
            QuicEvent::HandshakeCompleted { .. } => Ok(()),
            QuicEvent::EarlyDataRejected => self.recv_early_data_rejected(out),
            QuicEvent::ConnectionTerminated {
                error_code,
                reason,
                error_space,
                by_peer,
            } => {
                // The QUIC connection is gone (either side closed it): nothing more can be
                // sent or received. No close of our own; state is released, and how the
                // connection ended is reported once.
                let close = ConnectionClose {
                    error_code,
                    reason: String::from_utf8_lossy(reason).into_owned(),
                    error_space,
                    by_peer,
                };
                self.recv_termination(close, out);
                Ok(())
            }
        };
        match result {
            // The QUIC connection is closing under us (the peer's close is queued behind
            // this event): a write failed for that reason alone. Its termination event
            // will say how the connection ended; no close of our own, and what this event
            // produced is still reported.
            Err(error) if error.code == ErrorCode::InternalError && self.transport.is_closed() => {
                Ok(())
            }
            result => result.inspect_err(|error| {
                out.truncate(start);
                self.close_with(error);
            }),
        }
    }

    /// The one exit for protocol errors: close the transport once and stop.
    fn close_with(&mut self, error: &ProtocolError) {
        self.closed = Some(ConnectionClose {
            error_code: error.code.wire(),
            reason: error.reason.clone(),
            error_space: ErrorSpace::Application,
            by_peer: false,
        });
        self.release_state();
        self.transport.close(error.code.wire(), &error.reason);
    }

    /// Drops every stream's state: a closed connection holds nothing.
    pub(super) fn release_state(&mut self) {
        self.streams.clear();
        self.streams.shrink_to_fit();
        self.buffering = StreamIdSet::default();
    }

    fn recv_stream_data(
        &mut self,
        stream_id: u64,
        data: &[u8],
        fin: bool,
        out: &mut Vec<H3Event>,
    ) -> Result<(), ProtocolError> {
        if stream::is_uni(stream_id) {
            if stream::is_client_initiated(stream_id) == self.is_client {
                return Ok(()); // our own unidirectional stream: nothing can arrive on it
            }
            self.recv_uni(stream_id, data, fin, out)
        } else {
            self.recv_bidi(stream_id, data, fin, out)
        }
    }

    /// A received payload as [`Bytes`] for an event: a part of the QUIC event's shared
    /// buffer when `chunk` lies in it (no copy), else a copy (borrowed event bytes, or
    /// bytes held behind a blocked field section).
    pub(super) fn payload_bytes(&self, chunk: &[u8]) -> Bytes {
        slice_within(&self.event_payload, chunk).unwrap_or_else(|| Bytes::copy_from_slice(chunk))
    }

    /// Puts a stream's state back into the map unless both its directions are done (a
    /// finished bidirectional stream, or peer unidirectional stream, is remembered as
    /// such).
    pub(super) fn put_back(&mut self, stream_id: u64, stream: H3Stream) {
        if !stream::is_uni(stream_id) {
            let local = stream::is_client_initiated(stream_id) == self.is_client;
            let mark = if local {
                &mut self.max_local_bidi
            } else {
                &mut self.max_peer_bidi
            };
            *mark = Some(mark.map_or(stream_id, |m| m.max(stream_id)));
        }
        if !stream.is_done() {
            self.streams.insert(stream_id, stream);
        } else if !stream::is_uni(stream_id) {
            self.finish_bidi(stream_id);
        } else if stream::is_client_initiated(stream_id) != self.is_client {
            self.finished_peer_uni.insert(stream_id / 4);
        }
    }

    /// A peer unidirectional stream that ended (and holds no state).
    pub(super) fn peer_uni_finished(&self, stream_id: u64) -> bool {
        !self.streams.contains_key(&stream_id) && self.finished_peer_uni.contains(stream_id / 4)
    }

    /// Remembers that bidirectional stream `stream_id` is finished.
    pub(super) fn finish_bidi(&mut self, stream_id: u64) {
        let initiator = usize::from(!stream::is_client_initiated(stream_id));
        self.finished_bidi[initiator].insert(stream_id / 4);
    }

    /// A bidirectional stream that finished (and holds no state).
    pub(super) fn bidi_finished(&self, stream_id: u64) -> bool {
        let initiator = usize::from(!stream::is_client_initiated(stream_id));
        !self.streams.contains_key(&stream_id)
            && self.finished_bidi[initiator].contains(stream_id / 4)
    }

    /// Counts a DATA or skipped frame against the stream's cheap-frame budget
    /// ([`Settings::max_cheap_frames`]).
    pub(super) fn count_cheap_frame(
        &self,
        stream: &mut H3Stream,
        payload_len: u64,
    ) -> Result<(), ProtocolError> {
        stream.frames = stream.frames.saturating_add(1);
        stream.frame_payload = stream.frame_payload.saturating_add(payload_len);
        let allowed = self
            .settings
            .max_cheap_frames
            .saturating_add(stream.frame_payload / 16);
        if stream.frames > allowed {
            return Err(ProtocolError::new(
                ErrorCode::ExcessiveLoad,
                "Too many small or empty frames on a stream",
            ));
        }
        Ok(())
    }

    /// Records that `stream_id` holds partial input, within
    /// [`Settings::max_buffering_streams`].
    pub(super) fn start_buffering(&mut self, stream_id: u64) -> Result<(), ProtocolError> {
        if !self.buffering.contains(&stream_id) {
            if self.buffering.len() as u64 >= self.settings.max_buffering_streams {
                return Err(ProtocolError::new(
                    ErrorCode::ExcessiveLoad,
                    "Too many streams with partial frames or blocked field sections",
                ));
            }
            self.buffering.insert(stream_id);
        }
        Ok(())
    }

    /// Bytes of peer input the connection holds (an estimate for memory accounting and
    /// flood tests): per-stream state, partial frame payloads, bytes behind blocked field
    /// sections, and the QPACK decoder's table and blocked sections.
    pub fn held_bytes(&self) -> u64 {
        let per_stream = std::mem::size_of::<H3Stream>() + std::mem::size_of::<u64>();
        let streams: usize = self
            .streams
            .values()
            .map(|s| {
                let partial = match &s.parse {
                    stream::Parse::Whole { buf, .. } => buf.capacity(),
                    _ => 0,
                };
                per_stream + s.held.capacity() + partial
            })
            .sum();
        streams as u64 + self.decoder.held_bytes()
    }

    /// How many streams hold partial input.
    pub fn buffering_streams(&self) -> usize {
        self.buffering.len()
    }

    /// Sends what the QPACK decoder queued (section acknowledgements, stream
    /// cancellations, insert count increments) on our decoder stream, as a batched write:
    /// nobody waits for these bytes, so the transport may gather a burst's worth into one
    /// write before it next builds packets.
    pub(super) fn flush_decoder_stream(&mut self) -> Result<(), ProtocolError> {
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        self.decoder.take_decoder_stream_data(&mut buf);
        let result = if buf.is_empty() {
            Ok(())
        } else {
            self.transport
                .send_stream_data_batched(self.local_decoder, &buf)
                .map_err(internal)
        };
        self.scratch = buf;
        result
    }

    /// Sends bytes on our encoder stream.
    pub(super) fn send_encoder_stream(&mut self, data: &[u8]) -> Result<(), TransportError> {
        if data.is_empty() {
            return Ok(());
        }
        self.transport
            .send_stream_data(self.local_encoder, data, false)
    }
}

/// A random value per call (from the standard library's per-process random hash keys):
/// which reserved values GREASE uses. No clock is read.
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

/// H3_FRAME_UNEXPECTED with a reason: a frame the peer may not send where it sent it.
pub(super) fn frame_unexpected(reason: &str) -> ProtocolError {
    ProtocolError::new(ErrorCode::FrameUnexpected, reason)
}

/// A transport failure while handling peer input: nothing the peer did, but the
/// connection cannot go on.
pub(super) fn internal(error: TransportError) -> ProtocolError {
    ProtocolError::new(
        ErrorCode::InternalError,
        format!("transport error: {error}"),
    )
}
