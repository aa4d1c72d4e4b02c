//! Receiving on request and push streams: frame parsing as bytes arrive, HEADERS /
//! PUSH_PROMISE decoding (and blocking), DATA delivery, stream ends and resets.

use bytes::Bytes;

use crate::error::{ErrorCode, ProtocolError};
use crate::field::HeaderField;
use crate::frame::{FrameHeader, FrameHeaderReader, frame_type};
use crate::headers;
use crate::qpack::Decoded;
use crate::varint;

use super::connection::{H3Connection, frame_unexpected};
use super::event::H3Event;
use super::priorities::field_priority;
use super::stream::{Blocked, H3Stream, HeadersState, Kind, Parse};
use super::transport::Transport;

/// How handling a whole HEADERS / PUSH_PROMISE frame ended.
enum Outcome {
    /// Handled; `true` when its event carried `stream_ended`.
    Done(bool),
    /// Its field section waits for encoder-stream data.
    Blocked,
}

/// A field section the decoder refused: the QPACK code, no reason phrase (as aioquic).
fn qpack_failure(error: ProtocolError) -> ProtocolError {
    ProtocolError::new(error.code, "")
}

/// The bytes of a request or push stream being parsed, and how far parsing got.
struct FrameInput<'a> {
    data: &'a [u8],
    /// Bytes of `data` parsed so far.
    pos: usize,
    /// The stream ends right after `data`.
    fin: bool,
    /// An event already carried the end of the stream.
    fin_delivered: bool,
}

impl<'a> FrameInput<'a> {
    /// Every byte is parsed.
    fn at_end(&self) -> bool {
        self.pos == self.data.len()
    }

    /// The bytes not parsed yet.
    fn rest(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }

    /// Parses up to `n` more bytes, returning them.
    fn take(&mut self, n: u64) -> &'a [u8] {
        let n = n.min(self.rest().len() as u64) as usize;
        let taken = &self.data[self.pos..self.pos + n];
        self.pos += n;
        taken
    }

    /// Parses every byte left, returning them.
    fn take_rest(&mut self) -> &'a [u8] {
        let rest = self.rest();
        self.pos = self.data.len();
        rest
    }
}

/// What the frame parser does after handling its current state.
enum Next {
    /// Handle the next state, with the input that remains.
    Continue,
    /// Stop: the input is used up (the frame goes on in later input), or the rest of
    /// the stream is WebTransport data, all delivered.
    Stop,
    /// Stop: a field section is blocked; the rest of the input is held behind it.
    Hold,
}

/// A HEADERS / PUSH_PROMISE payload, as far as it has arrived.
enum WholePayload<'a> {
    /// Incomplete: what arrived is in the stream's buffer.
    Partial,
    /// All in the current input, borrowed from it (no copy).
    InInput(&'a [u8]),
    /// Completed in the stream's buffer, taken from it.
    Buffered(Vec<u8>),
}

/// Takes what `input` holds of a payload of `len` bytes, `buf` holding what arrived
/// before.
fn accumulate_whole_payload<'a>(
    len: usize,
    buf: &mut Vec<u8>,
    input: &mut FrameInput<'a>,
) -> WholePayload<'a> {
    if buf.is_empty() && input.rest().len() >= len {
        return WholePayload::InInput(input.take(len as u64));
    }
    buf.extend_from_slice(input.take((len - buf.len()) as u64));
    if buf.len() < len {
        return WholePayload::Partial;
    }
    WholePayload::Buffered(std::mem::take(buf))
}

/// Skips what `input` holds of the payload of an ignored frame that has `remaining`
/// bytes to come.
fn skip_payload(stream: &mut H3Stream, remaining: u64, input: &mut FrameInput<'_>) -> Next {
    let remaining = remaining - input.take(remaining).len() as u64;
    if remaining == 0 {
        stream.parse = Parse::Header(FrameHeaderReader::default());
        Next::Continue
    } else {
        stream.parse = Parse::Skip { remaining };
        Next::Stop
    }
}

impl<T: Transport> H3Connection<T> {
    /// Data on a bidirectional stream.
    pub(super) fn recv_bidi(
        &mut self,
        stream_id: u64,
        data: &[u8],
        fin: bool,
        out: &mut Vec<H3Event>,
    ) -> Result<(), ProtocolError> {
        if !self.streams.contains_key(&stream_id)
            && (self.bidi_finished(stream_id) || self.refuse_after_goaway(stream_id))
        {
            return Ok(()); // a finished (or refused) stream: nothing to take from it
        }
        let mut stream = self
            .streams
            .remove(&stream_id)
            .unwrap_or_else(H3Stream::request);
        let result = if stream.receiving_ended {
            Ok(()) // nothing follows FIN or a reset
        } else {
            self.recv_request_bytes(stream_id, &mut stream, data, fin, out)
        };
        self.put_back(stream_id, stream);
        result
    }

    /// Bytes for a request or push stream (after the push id), in stream order.
    pub(super) fn recv_request_bytes(
        &mut self,
        stream_id: u64,
        stream: &mut H3Stream,
        data: &[u8],
        fin: bool,
        out: &mut Vec<H3Event>,
    ) -> Result<(), ProtocolError> {
        if fin {
            stream.receiving_ended = true;
            // A completed message offsets one earlier reset (never below zero).
            self.excess_resets = self.excess_resets.saturating_sub(1);
        }
        if stream.blocked.is_some() {
            return self.hold(stream, data);
        }
        self.parse_request_frames(stream_id, stream, data, fin, out)
    }

    /// Keeps bytes behind a blocked field section, within the configured bound.
    fn hold(&self, stream: &mut H3Stream, data: &[u8]) -> Result<(), ProtocolError> {
        let total = stream.held.len() as u64 + data.len() as u64;
        if total > self.settings.max_blocked_stream_bytes {
            return Err(ProtocolError::new(
                ErrorCode::ExcessiveLoad,
                "Too much data behind a blocked field section",
            ));
        }
        stream.held.extend_from_slice(data);
        Ok(())
    }

    /// Parses frames from `data`; `fin` says the stream ends right after it.
    pub(super) fn parse_request_frames(
        &mut self,
        stream_id: u64,
        stream: &mut H3Stream,
        data: &[u8],
        fin: bool,
        out: &mut Vec<H3Event>,
    ) -> Result<(), ProtocolError> {
        let mut input = FrameInput {
            data,
            pos: 0,
            fin,
            fin_delivered: false,
        };
        loop {
            let next = match &mut stream.parse {
                Parse::Header(reader) => {
                    if input.at_end() {
                        break;
                    }
                    match reader.read(input.data, &mut input.pos) {
                        Some(header) => {
                            self.start_request_frame(stream, header)?;
                            Next::Continue
                        }
                        None => Next::Stop,
                    }
                }
                Parse::Data { remaining } => {
                    let remaining = *remaining;
                    self.deliver_data_payload(stream_id, stream, remaining, &mut input, out)?
                }
                Parse::Skip { remaining } => {
                    let remaining = *remaining;
                    skip_payload(stream, remaining, &mut input)
                }
                Parse::Whole { ty, len, buf } => {
                    let ty = *ty;
                    let payload = accumulate_whole_payload(*len, buf, &mut input);
                    self.dispatch_whole_frame(stream_id, stream, ty, payload, &mut input, out)?
                }
                Parse::WebTransport => {
                    self.deliver_webtransport_data(stream_id, stream, &mut input, out)
                }
            };
            match next {
                Next::Continue => {}
                Next::Stop => break,
                Next::Hold => return self.hold(stream, input.rest()),
            }
        }
        if input.fin && !input.fin_delivered {
            if !stream.parse.at_frame_boundary() {
                return Err(ProtocolError::new(
                    ErrorCode::FrameError,
                    "Frame is truncated by the end of the stream",
                ));
            }
            self.handle_request_end(stream_id, stream, out)?;
        }
        Ok(())
    }

    /// Delivers what `input` holds of a DATA payload that has `remaining` bytes to come,
    /// as DATA_RECEIVED (carrying the end of the stream if the payload and the stream end
    /// with the input).
    fn deliver_data_payload(
        &mut self,
        stream_id: u64,
        stream: &mut H3Stream,
        remaining: u64,
        input: &mut FrameInput<'_>,
        out: &mut Vec<H3Event>,
    ) -> Result<Next, ProtocolError> {
        let chunk = input.take(remaining);
        let remaining = remaining - chunk.len() as u64;
        let frame_done = remaining == 0;
        stream.parse = if frame_done {
            Parse::Header(FrameHeaderReader::default())
        } else {
            Parse::Data { remaining }
        };
        stream.data_bytes_received += chunk.len() as u64;
        let ended = input.fin && frame_done && input.at_end();
        if ended {
            self.check_content_length(stream)?;
            input.fin_delivered = true;
        }
        if !chunk.is_empty() || ended {
            out.push(H3Event::DataReceived {
                stream_id,
                data: self.payload_bytes(chunk),
                stream_ended: ended,
                push_id: stream.push_id,
            });
        }
        Ok(if frame_done {
            Next::Continue
        } else {
            Next::Stop
        })
    }

    /// Handles a HEADERS / PUSH_PROMISE frame of type `ty` once its payload is complete;
    /// while it is not, counts the stream among those buffering a partial frame.
    fn dispatch_whole_frame(
        &mut self,
        stream_id: u64,
        stream: &mut H3Stream,
        ty: u64,
        payload: WholePayload<'_>,
        input: &mut FrameInput<'_>,
        out: &mut Vec<H3Event>,
    ) -> Result<Next, ProtocolError> {
        let payload: &[u8] = match &payload {
            WholePayload::Partial => {
                self.start_buffering(stream_id)?;
                return Ok(Next::Stop);
            }
            WholePayload::InInput(payload) => payload,
            WholePayload::Buffered(payload) => payload,
        };
        // Complete, however it arrived: an earlier input may have counted the stream as
        // buffering (one that ended right after the frame header, with nothing buffered).
        self.buffering.remove(&stream_id);
        stream.parse = Parse::Header(FrameHeaderReader::default());
        let ended = input.fin && input.at_end();
        match self.handle_whole_frame(stream_id, stream, ty, payload, ended, out)? {
            Outcome::Done(delivered) => {
                input.fin_delivered |= delivered;
                Ok(Next::Continue)
            }
            Outcome::Blocked => {
                self.start_buffering(stream_id)?;
                Ok(Next::Hold)
            }
        }
    }

    /// Delivers the rest of the input of a WebTransport stream, raw, as
    /// WEBTRANSPORT_STREAM_DATA_RECEIVED.
    fn deliver_webtransport_data(
        &mut self,
        stream_id: u64,
        stream: &H3Stream,
        input: &mut FrameInput<'_>,
        out: &mut Vec<H3Event>,
    ) -> Next {
        let chunk = input.take_rest();
        if !chunk.is_empty() || input.fin {
            out.push(H3Event::WebTransportStreamDataReceived {
                stream_id,
                data: self.payload_bytes(chunk),
                stream_ended: input.fin,
                session_id: stream.session_id.unwrap_or_default(),
            });
            input.fin_delivered = input.fin;
        }
        Next::Stop
    }

    /// Decides what to do with a frame from its header alone.
    fn start_request_frame(
        &mut self,
        stream: &mut H3Stream,
        header: FrameHeader,
    ) -> Result<(), ProtocolError> {
        let on_push = stream.push_id.is_some();
        let invalid = || {
            frame_unexpected(if on_push {
                "Invalid frame type on push stream"
            } else {
                "Invalid frame type on request stream"
            })
        };
        // Every field line decodes to at least 32 bytes plus 8/30 of its wire bytes (the
        // longest Huffman code is 30 bits; integers take at most 10 bytes), so a section
        // longer than 4 x the decoded limit + 256 cannot fit it: refuse it from its header.
        let section_limit = self.settings.field_section_limit();
        let section_bound = section_limit.saturating_mul(4).saturating_add(256);
        let whole = |ty: u64, limit: u64| {
            if header.len > limit {
                Err(ProtocolError::new(
                    ErrorCode::ExcessiveLoad,
                    format!("Frame of type 0x{ty:x} exceeds {limit} bytes"),
                ))
            } else if section_limit > 0 && header.len > section_bound {
                Err(ProtocolError::new(ErrorCode::QpackDecompressionFailed, ""))
            } else {
                Ok(Parse::Whole {
                    ty,
                    len: header.len as usize,
                    // Grown as bytes arrive: an announced length reserves nothing.
                    buf: Vec::new(),
                })
            }
        };
        let limit = self.settings.max_buffered_frame_size;
        stream.parse = match header.ty {
            frame_type::DATA => {
                if stream.headers_recv != HeadersState::AfterHeaders {
                    return Err(frame_unexpected("DATA frame is not allowed in this state"));
                }
                self.count_cheap_frame(stream, header.len)?;
                if header.len == 0 {
                    Parse::Header(FrameHeaderReader::default())
                } else {
                    Parse::Data {
                        remaining: header.len,
                    }
                }
            }
            frame_type::HEADERS => {
                if stream.headers_recv == HeadersState::AfterTrailers {
                    return Err(frame_unexpected(
                        "HEADERS frame is not allowed in this state",
                    ));
                }
                whole(header.ty, limit)?
            }
            frame_type::PUSH_PROMISE => {
                if on_push {
                    return Err(invalid());
                }
                if !self.is_client {
                    return Err(frame_unexpected("Clients must not send PUSH_PROMISE"));
                }
                whole(header.ty, limit)?
            }
            frame_type::CANCEL_PUSH
            | frame_type::SETTINGS
            | frame_type::GOAWAY
            | frame_type::MAX_PUSH_ID
            | frame_type::PRIORITY_UPDATE_REQUEST
            | frame_type::PRIORITY_UPDATE_PUSH => return Err(invalid()),
            ty if frame_type::is_http2_only(ty) => return Err(invalid()),
            frame_type::WEBTRANSPORT_STREAM => {
                // The "length" is the session id; the rest of the stream is raw data and
                // nothing more will be sent on it by the HTTP/3 layer.
                stream.session_id = Some(header.len);
                stream.sending_ended = true;
                Parse::WebTransport
            }
            _ => {
                self.count_cheap_frame(stream, header.len)?;
                if header.len == 0 {
                    Parse::Header(FrameHeaderReader::default())
                } else {
                    Parse::Skip {
                        remaining: header.len,
                    }
                }
            }
        };
        Ok(())
    }

    /// Handles a complete HEADERS or PUSH_PROMISE frame.
    fn handle_whole_frame(
        &mut self,
        stream_id: u64,
        stream: &mut H3Stream,
        ty: u64,
        payload: &[u8],
        ended: bool,
        out: &mut Vec<H3Event>,
    ) -> Result<Outcome, ProtocolError> {
        if ty == frame_type::HEADERS {
            let decoded = self.decoder.decode(stream_id, payload);
            return match decoded.map_err(qpack_failure)? {
                Decoded::Blocked => {
                    stream.blocked = Some(Blocked {
                        frame_type: ty,
                        push_id: 0,
                    });
                    Ok(Outcome::Blocked)
                }
                Decoded::Headers(fields) => {
                    self.flush_decoder_stream()?;
                    let delivered = self.deliver_headers(stream_id, stream, fields, ended, out)?;
                    Ok(Outcome::Done(delivered))
                }
            };
        }
        debug_assert_eq!(ty, frame_type::PUSH_PROMISE);
        let (push_id, n) = varint::decode(payload).map_err(|_| {
            ProtocolError::new(ErrorCode::FrameError, "Could not parse PUSH_PROMISE frame")
        })?;
        self.check_push_id(push_id)?;
        match self
            .decoder
            .decode(stream_id, &payload[n..])
            .map_err(qpack_failure)?
        {
            Decoded::Blocked => {
                stream.blocked = Some(Blocked {
                    frame_type: ty,
                    push_id,
                });
                Ok(Outcome::Blocked)
            }
            Decoded::Headers(fields) => {
                self.flush_decoder_stream()?;
                let delivered =
                    self.deliver_push_promise(stream_id, stream, push_id, fields, ended, out)?;
                Ok(Outcome::Done(delivered))
            }
        }
    }

    /// A push id received by a client must not exceed the MAX_PUSH_ID it sent.
    pub(super) fn check_push_id(&self, push_id: u64) -> Result<(), ProtocolError> {
        match self.max_push_id {
            Some(max) if push_id <= max => Ok(()),
            _ => Err(ProtocolError::new(
                ErrorCode::IdError,
                "Push ID exceeds the maximum push ID",
            )),
        }
    }

    /// Validates decoded headers, updates the stream and emits HEADERS_RECEIVED.
    /// Returns `ended` (the event carried the end of the stream).
    fn deliver_headers(
        &mut self,
        stream_id: u64,
        stream: &mut H3Stream,
        fields: Vec<HeaderField>,
        ended: bool,
        out: &mut Vec<H3Event>,
    ) -> Result<bool, ProtocolError> {
        let mut interim = false;
        if stream.headers_recv == HeadersState::Initial {
            if self.is_client {
                interim = headers::is_interim_response(&fields);
                let info = headers::validate_response(&fields)?;
                if interim {
                    // content-length on a 1xx is ignored (RFC 9110 §6.4.1).
                    stream.interim_received = true;
                } else {
                    stream.announced_content_length = info.content_length;
                    stream.status = info.status;
                }
            } else {
                let info = headers::validate_request(&fields)?;
                stream.announced_content_length = info.content_length;
                let signalled = field_priority(fields.iter().map(|f| (&f.name[..], &f.value[..])));
                self.adopt_field_priority(stream_id, stream, signalled);
            }
        } else {
            headers::validate_trailers(&fields)?;
        }
        if ended {
            if interim {
                return Err(ProtocolError::new(
                    ErrorCode::MessageError,
                    "Interim response cannot end the stream",
                ));
            }
            self.check_content_length(stream)?;
        }
        match stream.headers_recv {
            HeadersState::Initial if interim => {}
            HeadersState::Initial => stream.headers_recv = HeadersState::AfterHeaders,
            _ => stream.headers_recv = HeadersState::AfterTrailers,
        }
        out.push(H3Event::HeadersReceived {
            stream_id,
            headers: fields,
            stream_ended: ended,
            push_id: stream.push_id,
        });
        Ok(ended)
    }

    /// Validates a promised request and emits PUSH_PROMISE_RECEIVED; a PUSH_PROMISE may be
    /// the last frame of a response.
    fn deliver_push_promise(
        &mut self,
        stream_id: u64,
        stream: &mut H3Stream,
        push_id: u64,
        fields: Vec<HeaderField>,
        ended: bool,
        out: &mut Vec<H3Event>,
    ) -> Result<bool, ProtocolError> {
        headers::validate_push_promise(&fields)?;
        out.push(H3Event::PushPromiseReceived {
            stream_id,
            push_id,
            headers: fields,
        });
        if ended {
            self.handle_request_end(stream_id, stream, out)?;
        }
        Ok(ended)
    }

    /// The content-length of the received message must match its DATA bytes at FIN
    /// (a client does not check responses to HEAD or 304 responses, which have none).
    fn check_content_length(&self, stream: &H3Stream) -> Result<(), ProtocolError> {
        if self.is_client && (stream.head_request || stream.status == Some(304)) {
            return Ok(());
        }
        match stream.announced_content_length {
            Some(announced) if announced != stream.data_bytes_received => Err(ProtocolError::new(
                ErrorCode::MessageError,
                "content-length does not match data size",
            )),
            _ => Ok(()),
        }
    }

    /// The stream ended where no frame carried the FIN (lone FIN, after an unknown frame,
    /// an empty DATA frame or a PUSH_PROMISE).
    fn handle_request_end(
        &mut self,
        stream_id: u64,
        stream: &mut H3Stream,
        out: &mut Vec<H3Event>,
    ) -> Result<(), ProtocolError> {
        if !self.is_client
            && stream.headers_recv == HeadersState::Initial
            && matches!(stream.kind, Kind::Request)
        {
            // The application never saw the request: nothing would answer it.
            self.abort_incomplete_request(stream_id, stream);
            return Ok(());
        }
        if stream.interim_received && stream.headers_recv == HeadersState::Initial {
            return Err(ProtocolError::new(
                ErrorCode::MessageError,
                "Interim response cannot end the stream",
            ));
        }
        self.check_content_length(stream)?;
        out.push(H3Event::DataReceived {
            stream_id,
            data: Bytes::new(),
            stream_ended: true,
            push_id: stream.push_id,
        });
        Ok(())
    }

    /// Resets our side of a request stream with H3_REQUEST_INCOMPLETE.
    pub(super) fn abort_incomplete_request(&mut self, stream_id: u64, stream: &mut H3Stream) {
        // A failure means the stream is already gone: nothing more to do.
        let _ = self
            .transport
            .reset_stream(stream_id, ErrorCode::RequestIncomplete.wire());
        stream.sending_ended = true;
    }

    /// Resumes streams whose field sections were unblocked by encoder-stream data, in the
    /// order the decoder reports them: the held frame, then the bytes held behind it.
    pub(super) fn resume_unblocked(
        &mut self,
        stream_ids: Vec<u64>,
        out: &mut Vec<H3Event>,
    ) -> Result<(), ProtocolError> {
        for stream_id in stream_ids {
            let Some(mut stream) = self.streams.remove(&stream_id) else {
                continue;
            };
            let result = self.resume_stream(stream_id, &mut stream, out);
            self.put_back(stream_id, stream);
            result?;
        }
        Ok(())
    }

    fn resume_stream(
        &mut self,
        stream_id: u64,
        stream: &mut H3Stream,
        out: &mut Vec<H3Event>,
    ) -> Result<(), ProtocolError> {
        let Some(blocked) = stream.blocked.take() else {
            return Ok(());
        };
        self.buffering.remove(&stream_id);
        let fields = self.decoder.resume(stream_id).map_err(qpack_failure)?;
        self.flush_decoder_stream()?;
        let held = std::mem::take(&mut stream.held);
        let fin = stream.receiving_ended;
        let ended = fin && held.is_empty();
        if blocked.frame_type == frame_type::HEADERS {
            self.deliver_headers(stream_id, stream, fields, ended, out)?;
        } else {
            self.deliver_push_promise(stream_id, stream, blocked.push_id, fields, ended, out)?;
        }
        if !held.is_empty() {
            self.parse_request_frames(stream_id, stream, &held, fin, out)?;
        }
        Ok(())
    }
}
