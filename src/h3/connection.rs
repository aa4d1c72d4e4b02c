//! [`H3Connection`]: aioquic's `H3Connection`, sans-I/O, over any [`Transport`].
//!
//! This file holds the connection's state, start-up, event dispatch, the one exit for
//! protocol errors, and the send-side API. Receiving is in `recv_request.rs` (request
//! and push streams) and `recv_uni.rs` (unidirectional streams, control stream, QPACK
//! streams, datagrams).

use std::collections::HashMap;

use crate::error::{ErrorCode, ProtocolError};
use crate::frame::{self, SettingsMap, frame_type, stream_type};
use crate::qpack::{Decoder, Encoder};
use crate::varint;

use super::error::H3Error;
use super::event::{H3Event, QuicEvent};
use super::settings::Settings;
use super::stream::{self, H3Stream, HeadersState, Kind, Parse};
use super::transport::{Transport, TransportError};

/// DATA payloads up to this size are copied behind their frame header and sent in one
/// transport call; larger ones are sent without copying, in a second call.
const COALESCE_DATA_LIMIT: usize = 16 * 1024;

/// An HTTP/3 connection (RFC 9114) over a QUIC [`Transport`].
///
/// Feed it QUIC events with [`handle_event`](Self::handle_event) (or
/// [`handle_event_into`](Self::handle_event_into)); it answers with HTTP events and writes
/// frames through the transport. A protocol violation by the peer closes the transport
/// once, with the violation's code and reason; afterwards the connection produces no
/// events and every send call returns [`H3Error::ConnectionClosed`].
pub struct H3Connection<T: Transport> {
    pub(super) transport: T,
    pub(super) settings: Settings,
    pub(super) is_client: bool,
    pub(super) closed: bool,
    pub(super) decoder: Decoder,
    pub(super) encoder: Encoder,
    pub(super) streams: HashMap<u64, H3Stream>,
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
    /// Reused buffers, so steady-state sending allocates nothing.
    pub(super) scratch: Vec<u8>,
    pub(super) scratch_section: Vec<u8>,
}

impl<T: Transport> H3Connection<T> {
    /// Starts HTTP/3 on `transport`: opens our control stream with SETTINGS (and, for a
    /// client, MAX_PUSH_ID), then the QPACK encoder and decoder streams.
    pub fn new(mut transport: T, settings: Settings) -> Result<Self, H3Error> {
        let is_client = transport.is_client();
        let sent_settings = settings.to_wire();

        let mut buf = Vec::with_capacity(64);
        let local_control = transport.get_next_available_stream_id(true)?;
        varint::encode(stream_type::CONTROL, &mut buf);
        frame::encode_settings_frame(&sent_settings, &mut buf);
        if is_client {
            let mut payload = Vec::with_capacity(8);
            varint::encode(settings.max_push_id, &mut payload);
            frame::encode_frame(frame_type::MAX_PUSH_ID, &payload, &mut buf);
        }
        transport.send_stream_data(local_control, &buf, false)?;

        let local_encoder = transport.get_next_available_stream_id(true)?;
        buf.clear();
        varint::encode(stream_type::QPACK_ENCODER, &mut buf);
        transport.send_stream_data(local_encoder, &buf, false)?;

        let local_decoder = transport.get_next_available_stream_id(true)?;
        buf.clear();
        varint::encode(stream_type::QPACK_DECODER, &mut buf);
        transport.send_stream_data(local_decoder, &buf, false)?;

        let mut decoder = Decoder::new(
            settings.qpack_max_table_capacity,
            settings.qpack_blocked_streams,
        );
        decoder.set_max_field_section_size(settings.max_field_section_size);

        let mut streams = HashMap::new();
        for id in [local_control, local_encoder, local_decoder] {
            streams.insert(id, H3Stream::local_uni(Kind::LocalCritical));
        }

        Ok(H3Connection {
            max_push_id: is_client.then_some(settings.max_push_id),
            transport,
            settings,
            is_client,
            closed: false,
            decoder,
            encoder: Encoder::new(),
            streams,
            sent_settings,
            received_settings: None,
            next_push_id: 0,
            local_control,
            local_encoder,
            local_decoder,
            peer_control: None,
            peer_encoder: None,
            peer_decoder: None,
            scratch: Vec::new(),
            scratch_section: Vec::new(),
        })
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

    /// True once a protocol error closed the connection.
    pub fn is_closed(&self) -> bool {
        self.closed
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

    /// How many per-stream state entries the connection holds: our three critical
    /// streams, the peer's (once seen), and streams still in use. Finished streams are
    /// not counted: they are dropped.
    pub fn tracked_streams(&self) -> usize {
        self.streams.len()
    }

    /// Handles one QUIC event and returns the HTTP events it produced.
    pub fn handle_event(&mut self, event: QuicEvent<'_>) -> Vec<H3Event> {
        let mut out = Vec::new();
        self.handle_event_into(event, &mut out);
        out
    }

    /// Handles one QUIC event, appending the HTTP events it produced to `out` (which the
    /// caller may reuse across calls). If the event reveals a protocol error, the
    /// transport is closed and nothing is appended.
    pub fn handle_event_into(&mut self, event: QuicEvent<'_>, out: &mut Vec<H3Event>) {
        if self.closed {
            return;
        }
        let start = out.len();
        let result = match event {
            QuicEvent::StreamDataReceived {
                stream_id,
                data,
                end_stream,
            } => self.recv_stream_data(stream_id, data, end_stream, out),
            QuicEvent::StreamReset { stream_id, .. } => self.recv_stream_reset(stream_id),
            QuicEvent::StopSendingReceived { stream_id, .. } => self.recv_stop_sending(stream_id),
            QuicEvent::DatagramReceived { data } => self.recv_datagram(data, out),
            QuicEvent::HandshakeCompleted { .. } | QuicEvent::ConnectionTerminated { .. } => Ok(()),
        };
        if let Err(error) = result {
            out.truncate(start);
            self.close_with(error);
        }
    }

    /// The one exit for protocol errors: close the transport once and stop.
    fn close_with(&mut self, error: ProtocolError) {
        self.closed = true;
        self.streams.clear();
        self.streams.shrink_to_fit();
        self.transport.close(error.code.wire(), &error.reason);
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

    /// Puts a stream's state back into the map unless both its directions are done.
    pub(super) fn put_back(&mut self, stream_id: u64, stream: H3Stream) {
        if !stream.is_done() {
            self.streams.insert(stream_id, stream);
        }
    }

    /// Sends what the QPACK decoder queued (section acknowledgements, stream
    /// cancellations, insert count increments) on our decoder stream.
    pub(super) fn flush_decoder_stream(&mut self) -> Result<(), ProtocolError> {
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        self.decoder.take_decoder_stream_data(&mut buf);
        let result = if buf.is_empty() {
            Ok(())
        } else {
            self.transport
                .send_stream_data(self.local_decoder, &buf, false)
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

    fn check_open(&self) -> Result<(), H3Error> {
        if self.closed {
            Err(H3Error::ConnectionClosed)
        } else {
            Ok(())
        }
    }

    /// The stream's state for a send call. A stream we hold no state for is new, unless
    /// it is a peer's bidirectional stream or one of our unidirectional streams: those
    /// get state when they start, so none means they are finished.
    fn stream_for_send(&mut self, stream_id: u64) -> Result<(H3Stream, bool), H3Error> {
        if let Some(stream) = self.streams.remove(&stream_id) {
            return Ok((stream, false));
        }
        let local = stream::is_client_initiated(stream_id) == self.is_client;
        if stream::is_uni(stream_id) || !local {
            return Err(H3Error::FrameUnexpected("stream was already ended"));
        }
        Ok((H3Stream::request(), true))
    }

    /// Encodes a field section for `stream_id` into `self.scratch_section`, sending any
    /// encoder instructions first.
    fn encode_section(
        &mut self,
        stream_id: u64,
        headers: &[(&[u8], &[u8])],
    ) -> Result<Vec<u8>, H3Error> {
        let mut encoder_stream = std::mem::take(&mut self.scratch);
        let mut section = std::mem::take(&mut self.scratch_section);
        encoder_stream.clear();
        section.clear();
        self.encoder
            .encode(stream_id, headers, &mut encoder_stream, &mut section);
        let sent = self.send_encoder_stream(&encoder_stream);
        self.scratch = encoder_stream;
        sent?;
        Ok(section)
    }

    /// Sends a HEADERS frame: a message head, an interim response or trailers.
    ///
    /// Errors ([`H3Error::FrameUnexpected`]): after trailers, "HEADERS frame is not
    /// allowed in this state"; a 1xx response with `end_stream`, "Interim response cannot
    /// end the stream"; after our FIN, "stream was already ended".
    pub fn send_headers(
        &mut self,
        stream_id: u64,
        headers: &[(&[u8], &[u8])],
        end_stream: bool,
    ) -> Result<(), H3Error> {
        self.check_open()?;
        let (mut stream, fresh) = self.stream_for_send(stream_id)?;
        let result = self.send_headers_on(stream_id, &mut stream, headers, end_stream);
        if result.is_ok() || !fresh {
            self.put_back(stream_id, stream);
        }
        result
    }

    fn send_headers_on(
        &mut self,
        stream_id: u64,
        stream: &mut H3Stream,
        headers: &[(&[u8], &[u8])],
        end_stream: bool,
    ) -> Result<(), H3Error> {
        if stream.headers_send == HeadersState::AfterTrailers {
            return Err(H3Error::FrameUnexpected(
                "HEADERS frame is not allowed in this state",
            ));
        }
        let interim = !self.is_client
            && stream.headers_send == HeadersState::Initial
            && headers
                .iter()
                .find(|(name, _)| *name == b":status")
                .is_some_and(|(_, value)| value.first() == Some(&b'1'));
        if end_stream && interim {
            return Err(H3Error::FrameUnexpected(
                "Interim response cannot end the stream",
            ));
        }
        if stream.sending_ended {
            return Err(H3Error::FrameUnexpected("stream was already ended"));
        }
        if self.is_client && stream.headers_send == HeadersState::Initial {
            stream.head_request = headers
                .iter()
                .any(|(name, value)| *name == b":method" && *value == b"HEAD");
        }

        let section = self.encode_section(stream_id, headers)?;
        let mut frame = std::mem::take(&mut self.scratch);
        frame.clear();
        frame::encode_frame(frame_type::HEADERS, &section, &mut frame);
        let sent = self
            .transport
            .send_stream_data(stream_id, &frame, end_stream);
        self.scratch = frame;
        self.scratch_section = section;
        sent?;

        match stream.headers_send {
            HeadersState::Initial if interim => {}
            HeadersState::Initial => stream.headers_send = HeadersState::AfterHeaders,
            _ => stream.headers_send = HeadersState::AfterTrailers,
        }
        if end_stream {
            stream.sending_ended = true;
        }
        Ok(())
    }

    /// Sends a DATA frame carrying `data` (an empty frame is sent when `data` is empty).
    ///
    /// Errors ([`H3Error::FrameUnexpected`]): before the message head or after trailers,
    /// "DATA frame is not allowed in this state"; after our FIN, "stream was already
    /// ended".
    pub fn send_data(
        &mut self,
        stream_id: u64,
        data: &[u8],
        end_stream: bool,
    ) -> Result<(), H3Error> {
        self.check_open()?;
        let (mut stream, fresh) = self.stream_for_send(stream_id)?;
        let result = self.send_data_on(stream_id, &mut stream, data, end_stream);
        if result.is_ok() || !fresh {
            self.put_back(stream_id, stream);
        }
        result
    }

    fn send_data_on(
        &mut self,
        stream_id: u64,
        stream: &mut H3Stream,
        data: &[u8],
        end_stream: bool,
    ) -> Result<(), H3Error> {
        if stream.headers_send != HeadersState::AfterHeaders {
            return Err(H3Error::FrameUnexpected(
                "DATA frame is not allowed in this state",
            ));
        }
        if stream.sending_ended {
            return Err(H3Error::FrameUnexpected("stream was already ended"));
        }
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        frame::encode_frame_header(frame_type::DATA, data.len() as u64, &mut buf);
        let sent = if data.len() <= COALESCE_DATA_LIMIT {
            buf.extend_from_slice(data);
            self.transport.send_stream_data(stream_id, &buf, end_stream)
        } else {
            self.transport
                .send_stream_data(stream_id, &buf, false)
                .and_then(|()| self.transport.send_stream_data(stream_id, data, end_stream))
        };
        self.scratch = buf;
        sent?;
        if end_stream {
            stream.sending_ended = true;
        }
        Ok(())
    }

    /// Promises a push on request stream `stream_id` (servers only): writes PUSH_PROMISE
    /// with the promised request's `headers`, opens a push stream and returns its id.
    ///
    /// Errors: from a client, [`H3Error::WrongRole`]; on a stream that is not a
    /// client-initiated bidirectional stream, [`H3Error::InvalidStreamType`]; before the
    /// client's MAX_PUSH_ID or once every push id up to it is used,
    /// [`H3Error::NoAvailablePushId`].
    pub fn send_push_promise(
        &mut self,
        stream_id: u64,
        headers: &[(&[u8], &[u8])],
    ) -> Result<u64, H3Error> {
        self.check_open()?;
        if self.is_client {
            return Err(H3Error::WrongRole("Only servers may send a push promise."));
        }
        if !stream::is_request_stream(stream_id) {
            return Err(H3Error::InvalidStreamType(
                "Push promises can only be sent for client-initiated bidirectional streams",
            ));
        }
        match self.max_push_id {
            Some(max) if self.next_push_id <= max => {}
            _ => return Err(H3Error::NoAvailablePushId),
        }
        let push_id = self.next_push_id;
        self.next_push_id += 1;

        let section = self.encode_section(stream_id, headers)?;
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        let len = varint::encoded_len(push_id) + section.len();
        frame::encode_frame_header(frame_type::PUSH_PROMISE, len as u64, &mut buf);
        varint::encode(push_id, &mut buf);
        buf.extend_from_slice(&section);
        self.scratch_section = section;
        let sent = self.transport.send_stream_data(stream_id, &buf, false);
        self.scratch = buf;
        sent?;

        let push_stream_id = self.transport.get_next_available_stream_id(true)?;
        let mut buf = Vec::with_capacity(9);
        varint::encode(stream_type::PUSH, &mut buf);
        varint::encode(push_id, &mut buf);
        self.transport
            .send_stream_data(push_stream_id, &buf, false)?;
        let mut push = H3Stream::local_uni(Kind::Push);
        push.push_id = Some(push_id);
        self.streams.insert(push_stream_id, push);
        Ok(push_stream_id)
    }

    /// Sends an HTTP datagram (RFC 9297) for request stream `stream_id`: the quarter
    /// stream id, then `data`, in one QUIC DATAGRAM frame.
    ///
    /// Errors: on a stream that is not a client-initiated bidirectional stream,
    /// [`H3Error::InvalidStreamType`].
    pub fn send_datagram(&mut self, stream_id: u64, data: &[u8]) -> Result<(), H3Error> {
        self.check_open()?;
        if !stream::is_request_stream(stream_id) {
            return Err(H3Error::InvalidStreamType(
                "Datagrams can only be sent for client-initiated bidirectional streams",
            ));
        }
        let mut buf = Vec::with_capacity(8 + data.len());
        varint::encode(stream_id / 4, &mut buf);
        buf.extend_from_slice(data);
        self.transport.send_datagram_frame(&buf)?;
        Ok(())
    }

    /// Opens a WebTransport stream for session `session_id` and returns its id. A
    /// unidirectional one starts with stream type 0x54 and the session id; a
    /// bidirectional one with a WEBTRANSPORT_STREAM (0x41) frame type and the session id.
    /// The application then writes to it through the transport; what the peer sends on a
    /// bidirectional one comes out as `WebTransportStreamDataReceived`.
    pub fn create_webtransport_stream(
        &mut self,
        session_id: u64,
        unidirectional: bool,
    ) -> Result<u64, H3Error> {
        self.check_open()?;
        let stream_id = self
            .transport
            .get_next_available_stream_id(unidirectional)?;
        let mut buf = Vec::with_capacity(16);
        if unidirectional {
            varint::encode(stream_type::WEBTRANSPORT, &mut buf);
        } else {
            varint::encode(frame_type::WEBTRANSPORT_STREAM, &mut buf);
        }
        varint::encode(session_id, &mut buf);
        self.transport.send_stream_data(stream_id, &buf, false)?;
        if !unidirectional {
            // Only the peer's half needs parsing: its data is raw WebTransport data.
            let mut stream = H3Stream::request();
            stream.parse = Parse::WebTransport;
            stream.session_id = Some(session_id);
            stream.sending_ended = true;
            self.streams.insert(stream_id, stream);
        }
        Ok(stream_id)
    }
}

/// A transport failure while handling peer input: nothing the peer did, but the
/// connection cannot go on.
pub(super) fn internal(error: TransportError) -> ProtocolError {
    ProtocolError::new(
        ErrorCode::InternalError,
        format!("transport error: {error}"),
    )
}
