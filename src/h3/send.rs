//! The send-side API: HEADERS, DATA, PUSH_PROMISE, datagrams, WebTransport streams.
//! Refused calls return an [`H3Error`] and leave the connection as it was.

use crate::frame::{self, frame_type, setting, stream_type};
use crate::varint;

use bytes::Bytes;

use super::connection::H3Connection;
use super::error::H3Error;
use super::priorities::field_priority;
use super::stream::{self, H3Stream, HeadersState, Kind, Parse};
use super::transport::Transport;

/// DATA payloads up to this size are copied behind their frame header and sent in one
/// transport call; larger ones are sent without copying, in a second call.
pub(crate) const COALESCE_DATA_LIMIT: usize = 16 * 1024;

/// A DATA payload as the caller gave it: borrowed (copied when buffered) or shared.
enum Payload<'a> {
    Borrowed(&'a [u8]),
    Shared(Bytes),
}

impl<T: Transport> H3Connection<T> {
    pub(super) fn check_open(&self) -> Result<(), H3Error> {
        if self.closed.is_some() {
            Err(H3Error::ConnectionClosed)
        } else {
            Ok(())
        }
    }

    /// The stream's state for a send call: its entry, or a fresh one (`true`) for a
    /// bidirectional stream never seen. A bidirectional stream without an entry whose id is
    /// not above the highest one seen from its initiator is finished, and so is one of our
    /// unidirectional streams without an entry (push streams get theirs when created).
    fn stream_for_send(&mut self, stream_id: u64) -> Result<(H3Stream, bool), H3Error> {
        const NOT_A_MESSAGE_STREAM: &str = "HTTP messages are sent on client-initiated \
             bidirectional streams, or on a server's own push streams";
        let ours = stream::is_client_initiated(stream_id) == self.is_client;
        if stream::is_uni(stream_id) {
            // The only unidirectional streams that carry a message are a server's own
            // push streams; control, QPACK, WebTransport and the peer's streams do not.
            if self.is_client || !ours {
                return Err(H3Error::InvalidStreamType(NOT_A_MESSAGE_STREAM));
            }
            return match self.streams.get(&stream_id).map(|s| &s.kind) {
                Some(Kind::Push) => Ok((self.streams.remove(&stream_id).expect("present"), false)),
                Some(_) => Err(H3Error::InvalidStreamType(NOT_A_MESSAGE_STREAM)),
                None if self.is_local_critical(stream_id) => {
                    Err(H3Error::InvalidStreamType(NOT_A_MESSAGE_STREAM))
                }
                None if self.max_push_stream.is_some_and(|max| stream_id <= max) => {
                    Err(H3Error::FrameUnexpected("stream was already ended"))
                }
                None => Err(H3Error::InvalidStreamType(NOT_A_MESSAGE_STREAM)),
            };
        }
        if !stream::is_client_initiated(stream_id) {
            // Server-initiated bidirectional streams carry no HTTP/3 (RFC 9114 §6.1).
            return Err(H3Error::InvalidStreamType(NOT_A_MESSAGE_STREAM));
        }
        if let Some(stream) = self.streams.remove(&stream_id) {
            return Ok((stream, false));
        }
        if self.bidi_finished(stream_id) {
            return Err(H3Error::FrameUnexpected("stream was already ended"));
        }
        Ok((H3Stream::request(), true))
    }

    fn is_local_critical(&self, stream_id: u64) -> bool {
        [self.local_control, self.local_encoder, self.local_decoder].contains(&stream_id)
    }

    /// Refuses a field section larger than the peer's SETTINGS_MAX_FIELD_SECTION_SIZE (RFC
    /// 9114 §4.2.2: name + value + 32 per field, before compression), before anything is
    /// sent. No limit until the peer's SETTINGS arrive, or when it sent none.
    fn check_field_section_size(&self, headers: &[(&[u8], &[u8])]) -> Result<(), H3Error> {
        let Some(limit) = self.received_setting(setting::MAX_FIELD_SECTION_SIZE) else {
            return Ok(());
        };
        let size = headers
            .iter()
            .map(|(name, value)| name.len() as u64 + value.len() as u64 + 32)
            .sum::<u64>();
        if size > limit {
            return Err(H3Error::FieldSectionTooLarge { size, limit });
        }
        Ok(())
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
    /// end the stream"; after our FIN, "stream was already ended". A client's new request
    /// at or above the id of the server's GOAWAY: [`H3Error::GoingAway`]. A field section
    /// larger than the peer's SETTINGS_MAX_FIELD_SECTION_SIZE:
    /// [`H3Error::FieldSectionTooLarge`]. Nothing is sent in any of these cases.
    pub fn send_headers(
        &mut self,
        stream_id: u64,
        headers: &[(&[u8], &[u8])],
        end_stream: bool,
    ) -> Result<(), H3Error> {
        self.check_open()?;
        self.check_field_section_size(headers)?;
        // A request stream with state here (a server's response, a client's trailers) is
        // written and updated where it is; a client's first HEADERS (which also adopts
        // the request's priority) and push streams take the stream out and put it back.
        if let Some(stream) = self.streams.get(&stream_id)
            && stream::is_request_stream(stream_id)
            && !self.opens_request(stream)
        {
            let interim = headers_allowed(self.is_client, stream, headers, end_stream)?;
            self.write_headers_frame(stream_id, headers, end_stream)?;
            self.update_in_place(stream_id, |s| headers_sent(s, interim, end_stream));
            return Ok(());
        }
        let (mut stream, fresh) = self.stream_for_send(stream_id)?;
        if fresh
            && self.is_client
            && self
                .lifecycle
                .goaway_received
                .is_some_and(|id| stream_id >= id)
        {
            return Err(H3Error::GoingAway);
        }
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
        let interim = headers_allowed(self.is_client, stream, headers, end_stream)?;
        if self.opens_request(stream) {
            stream.head_request = headers
                .iter()
                .any(|(name, value)| *name == b":method" && *value == b"HEAD");
            // The request's own `priority` field schedules its body too.
            let signalled = field_priority(headers.iter().copied());
            self.adopt_field_priority(stream_id, stream, signalled);
        }
        self.write_headers_frame(stream_id, headers, end_stream)?;
        headers_sent(stream, interim, end_stream);
        Ok(())
    }

    /// Encodes `headers` and writes them as a HEADERS frame on `stream_id`.
    fn write_headers_frame(
        &mut self,
        stream_id: u64,
        headers: &[(&[u8], &[u8])],
        end_stream: bool,
    ) -> Result<(), H3Error> {
        let section = self.encode_section(stream_id, headers)?;
        let mut frame = std::mem::take(&mut self.scratch);
        frame.clear();
        frame::encode_frame(frame_type::HEADERS, &section, &mut frame);
        // A HEADERS frame that does not end the stream may wait for the stream's next
        // write (a response's body) and go with it as one write.
        let sent = if end_stream {
            self.transport.send_stream_data(stream_id, &frame, true)
        } else {
            self.transport.send_stream_data_batched(stream_id, &frame)
        };
        self.scratch = frame;
        self.scratch_section = section;
        Ok(sent?)
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
        self.send_payload(stream_id, Payload::Borrowed(data), end_stream)
    }

    /// [`send_data`](Self::send_data) for a body already held as [`Bytes`]: a large payload
    /// is handed to the transport without a copy ([`Transport::send_stream_bytes`]).
    pub fn send_data_bytes(
        &mut self,
        stream_id: u64,
        data: Bytes,
        end_stream: bool,
    ) -> Result<(), H3Error> {
        self.send_payload(stream_id, Payload::Shared(data), end_stream)
    }

    fn send_payload(
        &mut self,
        stream_id: u64,
        data: Payload<'_>,
        end_stream: bool,
    ) -> Result<(), H3Error> {
        self.check_open()?;
        // A request stream with state here is written and updated where it is.
        if let Some(stream) = self.streams.get(&stream_id)
            && stream::is_request_stream(stream_id)
        {
            data_allowed(stream)?;
            self.write_data_frame(stream_id, data, end_stream)?;
            self.update_in_place(stream_id, |s| s.sending_ended |= end_stream);
            return Ok(());
        }
        let (mut stream, fresh) = self.stream_for_send(stream_id)?;
        let result =
            data_allowed(&stream).and_then(|()| self.write_data_frame(stream_id, data, end_stream));
        if result.is_ok() && end_stream {
            stream.sending_ended = true;
        }
        if result.is_ok() || !fresh {
            self.put_back(stream_id, stream);
        }
        result
    }

    /// Writes `data` as a DATA frame on `stream_id`.
    fn write_data_frame(
        &mut self,
        stream_id: u64,
        data: Payload<'_>,
        end_stream: bool,
    ) -> Result<(), H3Error> {
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        let bytes: &[u8] = match &data {
            Payload::Borrowed(b) => b,
            Payload::Shared(b) => b,
        };
        frame::encode_frame_header(frame_type::DATA, bytes.len() as u64, &mut buf);
        let sent = if bytes.len() <= COALESCE_DATA_LIMIT {
            buf.extend_from_slice(bytes);
            self.transport.send_stream_data(stream_id, &buf, end_stream)
        } else {
            let header = self.transport.send_stream_data(stream_id, &buf, false);
            header.and_then(|()| match data {
                Payload::Borrowed(b) => self.transport.send_stream_data(stream_id, b, end_stream),
                Payload::Shared(b) => self.transport.send_stream_bytes(stream_id, b, end_stream),
            })
        };
        self.scratch = buf;
        Ok(sent?)
    }

    /// Whether a HEADERS frame on `stream` is a client's request head, which also adopts
    /// the request's priority.
    fn opens_request(&self, stream: &H3Stream) -> bool {
        self.is_client && stream.headers_send == HeadersState::Initial
    }

    /// Applies `change` to the state of a request stream written to where it lies, and
    /// drops that state once both directions are done, remembering that the stream
    /// finished (as [`H3Connection::put_back`] does for a stream taken out). Its id is
    /// already counted among those seen: the stream got into the map through `put_back`.
    fn update_in_place(&mut self, stream_id: u64, change: impl FnOnce(&mut H3Stream)) {
        let Some(stream) = self.streams.get_mut(&stream_id) else {
            return;
        };
        change(stream);
        if stream.is_done() {
            self.streams.remove(&stream_id);
            self.finish_bidi(stream_id);
        }
    }

    /// Promises a push on request stream `stream_id` (servers only): writes PUSH_PROMISE
    /// with the promised request's `headers`, opens a push stream and returns its id.
    ///
    /// Errors: from a client, [`H3Error::WrongRole`]; on a stream that is not a
    /// client-initiated bidirectional stream, [`H3Error::InvalidStreamType`]; before the
    /// client's MAX_PUSH_ID or once every push id up to it is used,
    /// [`H3Error::NoAvailablePushId`]; at or above the push id of the client's GOAWAY,
    /// [`H3Error::GoingAway`]; a field section larger than the client's
    /// SETTINGS_MAX_FIELD_SECTION_SIZE, [`H3Error::FieldSectionTooLarge`]; on a request
    /// stream whose response is complete, [`H3Error::FrameUnexpected`] ("stream was
    /// already ended").
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
        if self
            .lifecycle
            .goaway_received
            .is_some_and(|id| self.next_push_id >= id)
        {
            return Err(H3Error::GoingAway);
        }
        self.check_field_section_size(headers)?;
        let finished = match self.streams.get(&stream_id) {
            Some(s) => s.sending_ended,
            None => self.bidi_finished(stream_id),
        };
        if finished {
            return Err(H3Error::FrameUnexpected("stream was already ended"));
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
        // The promised request's `priority` field schedules the pushed response; given
        // before the stream's first byte, so none of it goes out at another priority.
        let push_priority = field_priority(headers.iter().copied());
        let _ = self
            .transport
            .set_stream_priority(push_stream_id, push_priority);
        let mut buf = Vec::with_capacity(9);
        varint::encode(stream_type::PUSH, &mut buf);
        varint::encode(push_id, &mut buf);
        self.transport
            .send_stream_data(push_stream_id, &buf, false)?;
        let mut push = H3Stream::local_uni(Kind::Push);
        push.push_id = Some(push_id);
        push.priority = push_priority;
        self.streams.insert(push_stream_id, push);
        self.max_push_stream = Some(
            self.max_push_stream
                .map_or(push_stream_id, |m| m.max(push_stream_id)),
        );
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
            self.put_back(stream_id, stream);
        }
        Ok(stream_id)
    }
}

/// Whether `stream` may carry a HEADERS frame with `headers` now; `Ok(true)` for an
/// interim (1xx) response, which leaves the message head still to come.
fn headers_allowed(
    is_client: bool,
    stream: &H3Stream,
    headers: &[(&[u8], &[u8])],
    end_stream: bool,
) -> Result<bool, H3Error> {
    if stream.headers_send == HeadersState::AfterTrailers {
        return Err(H3Error::FrameUnexpected(
            "HEADERS frame is not allowed in this state",
        ));
    }
    let interim = !is_client
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
    Ok(interim)
}

/// The stream's state once a HEADERS frame went out on it.
fn headers_sent(stream: &mut H3Stream, interim: bool, end_stream: bool) {
    match stream.headers_send {
        HeadersState::Initial if interim => {}
        HeadersState::Initial => stream.headers_send = HeadersState::AfterHeaders,
        _ => stream.headers_send = HeadersState::AfterTrailers,
    }
    if end_stream {
        stream.sending_ended = true;
    }
}

/// Whether `stream` may carry a DATA frame now.
fn data_allowed(stream: &H3Stream) -> Result<(), H3Error> {
    if stream.headers_send != HeadersState::AfterHeaders {
        return Err(H3Error::FrameUnexpected(
            "DATA frame is not allowed in this state",
        ));
    }
    if stream.sending_ended {
        return Err(H3Error::FrameUnexpected("stream was already ended"));
    }
    Ok(())
}
