//! The connection's lifecycle beyond one request (RFC 9114 §5.2, §4.1.1, §4.6, §7.2.3;
//! RFC 9412): GOAWAY and graceful shutdown, stream aborts in both directions, push
//! cancellation, ORIGIN, and the one report of how the connection ended.

use bytes::Bytes;

use crate::error::{ErrorCode, ProtocolError};
use crate::frame::{self, FrameHeaderReader, frame_type};
use crate::varint;

use super::connection::H3Connection;
use super::error::H3Error;
use super::event::{ConnectionClose, H3Event};
use super::id_set::IdSet;
use super::stream::{self, H3Stream, HeadersState, Kind, Parse};
use super::transport::{Transport, TransportError};

/// The largest client-initiated bidirectional stream id: a server's first GOAWAY of a
/// graceful shutdown ("I will stop", RFC 9114 §5.2).
const LAST_REQUEST_STREAM_ID: u64 = varint::MAX - 3;

/// Lifecycle state of a connection.
#[derive(Debug, Default)]
pub(crate) struct Lifecycle {
    /// The id of the last GOAWAY we sent (each one no larger than the one before).
    pub(crate) goaway_sent: Option<u64>,
    /// The id of the last GOAWAY the peer sent.
    pub(crate) goaway_received: Option<u64>,
    /// A client: push ids that got a push stream (a second one is H3_ID_ERROR).
    pub(crate) pushes_opened: IdSet,
    /// Push ids cancelled by either side: a client ignores and stops their push streams,
    /// a server refuses to send on them.
    pub(crate) pushes_cancelled: IdSet,
    /// `H3Event::ConnectionClosed` was delivered.
    pub(crate) close_reported: bool,
}

impl<T: Transport> H3Connection<T> {
    /// Starts a graceful shutdown (RFC 9114 §5.2), first step: sends GOAWAY with the
    /// largest id, announcing that the connection will close, while requests (a server)
    /// or pushes (a client) in flight, or about to arrive, still proceed. Returns the id
    /// sent. Follow with [`shutdown`](Self::shutdown) once the peer had time to see it
    /// (a round trip).
    pub fn shutdown_notice(&mut self) -> Result<u64, H3Error> {
        let id = if self.is_client {
            varint::MAX
        } else {
            LAST_REQUEST_STREAM_ID
        };
        self.send_goaway(id)
    }

    /// Graceful shutdown, second step: sends GOAWAY with the id after the last request (a
    /// server: the next client-initiated bidirectional stream id after the highest one it
    /// has seen) or push (a client: the next push id after the highest one promised to
    /// it) actually accepted; never larger than an earlier GOAWAY's. A server then refuses
    /// requests at or above that id (RESET_STREAM and STOP_SENDING with
    /// H3_REQUEST_REJECTED, no event) and completes those below; once
    /// [`active_requests`](Self::active_requests) is 0, close with H3_NO_ERROR. Returns
    /// the id sent.
    pub fn shutdown(&mut self) -> Result<u64, H3Error> {
        let id = if self.is_client {
            self.next_push_id_seen()
        } else {
            self.max_peer_bidi.map_or(0, |max| max + 4)
        };
        self.send_goaway(id)
    }

    /// The id of the last GOAWAY we sent.
    pub fn goaway_sent(&self) -> Option<u64> {
        self.lifecycle.goaway_sent
    }

    /// The id of the last GOAWAY the peer sent.
    pub fn goaway_received(&self) -> Option<u64> {
        self.lifecycle.goaway_received
    }

    /// Request and push streams that have not ended both ways: what a graceful shutdown
    /// waits for.
    pub fn active_requests(&self) -> usize {
        self.streams
            .iter()
            .filter(|(id, s)| {
                matches!(s.kind, Kind::Request | Kind::Push)
                    && (stream::is_request_stream(**id) || s.push_id.is_some())
                    && s.session_id.is_none()
            })
            .count()
    }

    fn next_push_id_seen(&self) -> u64 {
        self.streams
            .values()
            .filter_map(|s| s.push_id)
            .chain(self.lifecycle.pushes_opened.last())
            .max()
            .map_or(0, |id| id + 1)
    }

    fn send_goaway(&mut self, id: u64) -> Result<u64, H3Error> {
        self.check_open()?;
        let id = self.lifecycle.goaway_sent.map_or(id, |sent| sent.min(id));
        let mut buf = Vec::with_capacity(10);
        frame::encode_id_frame(frame_type::GOAWAY, id, &mut buf);
        self.transport
            .send_stream_data(self.local_control, &buf, false)?;
        self.lifecycle.goaway_sent = Some(id);
        Ok(id)
    }

    /// Abruptly ends our sending side of a request or push stream (RESET_STREAM) with an
    /// HTTP/3 application error code (e.g. H3_REQUEST_CANCELLED, 0x10c). Nothing more is
    /// sent on it.
    ///
    /// Errors: a stream that is not a request stream or one of our push streams,
    /// [`H3Error::InvalidStreamType`]; one whose sending side already ended by a reset or
    /// is unknown, [`H3Error::FrameUnexpected`] ("stream was already ended").
    pub fn reset_stream(&mut self, stream_id: u64, error_code: u64) -> Result<(), H3Error> {
        self.check_open()?;
        let code = checked_code(error_code)?;
        let mut stream = self.stream_for_abort(stream_id, false)?;
        let result = self.transport.reset_stream(stream_id, code);
        stream.sending_ended = true;
        self.encoder.stream_cancelled(stream_id);
        self.put_back(stream_id, stream);
        Ok(result?)
    }

    /// Asks the peer to stop sending on a request or push stream (STOP_SENDING) with an
    /// HTTP/3 application error code: nothing more of it is delivered, what it holds is
    /// dropped, and a field section waiting for QPACK encoder-stream data is cancelled
    /// (Stream Cancellation on our decoder stream, RFC 9204 §4.4.2).
    ///
    /// Errors as [`reset_stream`](Self::reset_stream), for the receiving side.
    pub fn stop_sending(&mut self, stream_id: u64, error_code: u64) -> Result<(), H3Error> {
        self.check_open()?;
        let code = checked_code(error_code)?;
        let mut stream = self.stream_for_abort(stream_id, true)?;
        let result = self.transport.stop_stream(stream_id, code);
        let cancelled = self.abandon_receiving(stream_id, &mut stream);
        self.put_back(stream_id, stream);
        cancelled.map_err(|e| H3Error::Transport(TransportError::new(e.reason)))?;
        Ok(result?)
    }

    /// The state of a stream the application may abort, taken out of the map.
    fn stream_for_abort(&mut self, stream_id: u64, receiving: bool) -> Result<H3Stream, H3Error> {
        const NOT_A_MESSAGE_STREAM: &str =
            "only request streams and push streams can be reset or stopped";
        let is_message_stream = match self.streams.get(&stream_id) {
            Some(s) => {
                matches!(s.kind, Kind::Request | Kind::Push | Kind::PushId(_))
                    && (stream::is_request_stream(stream_id) || stream::is_uni(stream_id))
            }
            None => stream::is_request_stream(stream_id),
        };
        if !is_message_stream {
            return Err(H3Error::InvalidStreamType(NOT_A_MESSAGE_STREAM));
        }
        let Some(stream) = self.streams.remove(&stream_id) else {
            return Err(H3Error::FrameUnexpected("stream was already ended"));
        };
        let ended = if receiving {
            stream.receiving_ended
        } else {
            stream.sending_ended
        };
        if ended {
            self.streams.insert(stream_id, stream);
            return Err(H3Error::FrameUnexpected("stream was already ended"));
        }
        Ok(stream)
    }

    /// Stops reading `stream`: what it holds is dropped and a field section waiting for
    /// encoder-stream data (or in flight) is cancelled on our decoder stream.
    fn abandon_receiving(
        &mut self,
        stream_id: u64,
        stream: &mut H3Stream,
    ) -> Result<(), ProtocolError> {
        let carries_sections = (stream.blocked.is_some() || !stream.receiving_ended)
            && (!stream::is_uni(stream_id) || matches!(stream.kind, Kind::Push | Kind::PushId(_)));
        self.buffering.remove(&stream_id);
        stream.blocked = None;
        stream.held = Vec::new();
        stream.parse = Parse::Header(FrameHeaderReader::default());
        stream.receiving_ended = true;
        if carries_sections {
            // Field sections on it will never be decoded: tell the peer's encoder.
            self.decoder.cancel_stream(stream_id);
            self.flush_decoder_stream()?;
        }
        Ok(())
    }

    /// Cancels a push (RFC 9114 §7.2.3): CANCEL_PUSH on our control stream; a client also
    /// stops the push stream if it has arrived (STOP_SENDING, H3_REQUEST_CANCELLED) and
    /// ignores it if it arrives later; a server also resets the push stream it opened
    /// (RESET_STREAM, H3_REQUEST_CANCELLED).
    ///
    /// Errors: a client cancelling a push id above the MAX_PUSH_ID it sent, or a server
    /// one it never promised, [`H3Error::InvalidArgument`].
    pub fn cancel_push(&mut self, push_id: u64) -> Result<(), H3Error> {
        self.check_open()?;
        let known = if self.is_client {
            self.max_push_id.is_some_and(|max| push_id <= max)
        } else {
            push_id < self.next_push_id
        };
        if !known {
            return Err(H3Error::InvalidArgument(format!(
                "push id {push_id} was never promised"
            )));
        }
        let mut buf = Vec::with_capacity(10);
        frame::encode_id_frame(frame_type::CANCEL_PUSH, push_id, &mut buf);
        self.transport
            .send_stream_data(self.local_control, &buf, false)?;
        self.lifecycle.pushes_cancelled.insert(push_id);
        self.abort_push_stream(push_id);
        Ok(())
    }

    /// Aborts the push stream of `push_id`, if it is open: a client stops reading it, a
    /// server stops sending on it (both with H3_REQUEST_CANCELLED), and its state goes.
    fn abort_push_stream(&mut self, push_id: u64) {
        let Some(stream_id) = self
            .streams
            .iter()
            .find(|(id, s)| stream::is_uni(**id) && s.push_id == Some(push_id))
            .map(|(id, _)| *id)
        else {
            return;
        };
        let mut stream = self.streams.remove(&stream_id).expect("found above");
        let code = ErrorCode::RequestCancelled.wire();
        // A failure means the stream is already gone: nothing more to do.
        if self.is_client {
            let _ = self.transport.stop_stream(stream_id, code);
            let _ = self.abandon_receiving(stream_id, &mut stream);
        } else {
            let _ = self.transport.reset_stream(stream_id, code);
            stream.sending_ended = true;
        }
        self.put_back(stream_id, stream);
    }

    /// Sends an ORIGIN frame (RFC 9412) listing the origins this server is authoritative
    /// for (ASCII serialisations such as `https://example.com`), on our control stream.
    ///
    /// Errors: from a client, [`H3Error::WrongRole`]; an origin longer than 65,535 bytes,
    /// [`H3Error::InvalidArgument`].
    pub fn send_origin(&mut self, origins: &[&[u8]]) -> Result<(), H3Error> {
        self.check_open()?;
        if self.is_client {
            return Err(H3Error::WrongRole("Only servers may send an ORIGIN frame."));
        }
        if let Some(long) = origins.iter().find(|o| o.len() > usize::from(u16::MAX)) {
            return Err(H3Error::InvalidArgument(format!(
                "an origin of {} bytes does not fit an ORIGIN frame (65535 at most)",
                long.len()
            )));
        }
        let mut buf = Vec::new();
        frame::encode_origin_frame(origins, &mut buf);
        self.transport
            .send_stream_data(self.local_control, &buf, false)?;
        Ok(())
    }

    /// GOAWAY on the peer's control stream.
    pub(super) fn recv_goaway(
        &mut self,
        id: u64,
        out: &mut Vec<H3Event>,
    ) -> Result<(), ProtocolError> {
        let id_error = |reason: String| ProtocolError::new(ErrorCode::IdError, reason);
        if self.is_client && !stream::is_request_stream(id) {
            return Err(id_error(format!(
                "GOAWAY id {id} is not a client-initiated bidirectional stream"
            )));
        }
        if let Some(earlier) = self.lifecycle.goaway_received
            && id > earlier
        {
            return Err(id_error(format!(
                "GOAWAY id {id} is larger than an earlier GOAWAY's ({earlier})"
            )));
        }
        self.lifecycle.goaway_received = Some(id);
        out.push(H3Event::GoawayReceived { id });
        if self.is_client {
            self.reject_requests_from(id, out);
        } else {
            self.cancel_pushes_from(id);
        }
        Ok(())
    }

    /// A client: its requests at or above a GOAWAY's id were not (and will not be)
    /// processed: each is reported as rejected, so that the application may retry it
    /// elsewhere, and cancelled here.
    fn reject_requests_from(&mut self, goaway_id: u64, out: &mut Vec<H3Event>) {
        let mut rejected: Vec<u64> = self
            .streams
            .iter()
            .filter(|(id, s)| {
                stream::is_request_stream(**id)
                    && **id >= goaway_id
                    && matches!(s.kind, Kind::Request)
                    && s.session_id.is_none()
            })
            .map(|(id, _)| *id)
            .collect();
        rejected.sort_unstable();
        let cancelled = ErrorCode::RequestCancelled.wire();
        for stream_id in rejected {
            let mut stream = self.streams.remove(&stream_id).expect("listed above");
            // Failures mean the stream is already gone: nothing more to do.
            if !stream.sending_ended {
                let _ = self.transport.reset_stream(stream_id, cancelled);
                stream.sending_ended = true;
            }
            // A stream whose receiving side has ended was settled already (its response
            // arrived, or its reset was reported): nothing more to report.
            if !stream.receiving_ended {
                let _ = self.transport.stop_stream(stream_id, cancelled);
                let _ = self.abandon_receiving(stream_id, &mut stream);
                out.push(H3Event::StreamReset {
                    stream_id,
                    error_code: ErrorCode::RequestRejected.wire(),
                    push_id: None,
                });
            }
            self.put_back(stream_id, stream);
        }
    }

    /// A server: pushes at or above a client's GOAWAY id will not be accepted: the ones
    /// open are reset (the client will not read them).
    fn cancel_pushes_from(&mut self, goaway_push_id: u64) {
        let pushes: Vec<u64> = self
            .streams
            .values()
            .filter_map(|s| s.push_id)
            .filter(|push_id| *push_id >= goaway_push_id)
            .collect();
        for push_id in pushes {
            self.lifecycle.pushes_cancelled.insert(push_id);
            self.abort_push_stream(push_id);
        }
    }

    /// CANCEL_PUSH on the peer's control stream (RFC 9114 §7.2.3).
    pub(super) fn recv_cancel_push(
        &mut self,
        push_id: u64,
        out: &mut Vec<H3Event>,
    ) -> Result<(), ProtocolError> {
        let unknown = if self.is_client {
            // It may name a push whose PUSH_PROMISE has not arrived yet, within our limit.
            self.max_push_id.is_none_or(|max| push_id > max)
        } else {
            push_id >= self.next_push_id
        };
        if unknown {
            return Err(ProtocolError::new(
                ErrorCode::IdError,
                format!("CANCEL_PUSH names push id {push_id}, which was never promised"),
            ));
        }
        if self.lifecycle.pushes_cancelled.insert(push_id) {
            self.abort_push_stream(push_id);
            out.push(H3Event::PushCancelled { push_id });
        }
        Ok(())
    }

    /// ORIGIN on the server's control stream (a client; servers skip the frame).
    pub(super) fn recv_origin(
        &mut self,
        payload: &[u8],
        out: &mut Vec<H3Event>,
    ) -> Result<(), ProtocolError> {
        let origins = frame::parse_origin(payload)?
            .into_iter()
            .map(Bytes::copy_from_slice)
            .collect();
        out.push(H3Event::OriginReceived { origins });
        Ok(())
    }

    /// A server that sent GOAWAY: a request stream (without state) at or above its id is
    /// refused with RESET_STREAM and STOP_SENDING (H3_REQUEST_REJECTED), once, and what
    /// it carries is ignored, without an event. True when `stream_id` is refused.
    pub(super) fn refuse_after_goaway(&mut self, stream_id: u64) -> bool {
        let refused = !self.is_client
            && stream::is_request_stream(stream_id)
            && self.lifecycle.goaway_sent.is_some_and(|id| stream_id >= id);
        if refused {
            let code = ErrorCode::RequestRejected.wire();
            // Failures mean the stream is already gone: nothing more to do.
            let _ = self.transport.reset_stream(stream_id, code);
            let _ = self.transport.stop_stream(stream_id, code);
            // Finished from now on: what else arrives on it is ignored.
            self.finish_bidi(stream_id);
        }
        refused
    }

    /// The peer reset its sending side of a stream.
    pub(super) fn recv_stream_reset(
        &mut self,
        stream_id: u64,
        error_code: u64,
        out: &mut Vec<H3Event>,
    ) -> Result<(), ProtocolError> {
        if [self.peer_control, self.peer_encoder, self.peer_decoder].contains(&Some(stream_id)) {
            return Err(ProtocolError::new(
                ErrorCode::ClosedCriticalStream,
                "Resetting a critical stream is not allowed",
            ));
        }
        let over = if stream::is_uni(stream_id) {
            self.peer_uni_finished(stream_id)
        } else {
            self.bidi_finished(stream_id)
        };
        if over {
            // Over already (both ways done, a peer uni stream ended, or a request refused
            // after our GOAWAY, which reset it with H3_REQUEST_REJECTED): nothing to
            // report, nothing to reset again.
            return Ok(());
        }
        let mut stream = self.streams.remove(&stream_id);
        self.buffering.remove(&stream_id);
        self.count_reset(stream_id, stream.as_ref())?;
        let was_receiving = stream.as_ref().is_some_and(|s| !s.receiving_ended);
        let never_seen = stream
            .as_ref()
            .is_none_or(|s| s.headers_recv == HeadersState::Initial && s.session_id.is_none());
        if !self.is_client && stream::is_request_stream(stream_id) && never_seen {
            // The application never saw the request: nothing would answer it.
            let mut placeholder = H3Stream::request();
            let s = stream.as_mut().unwrap_or(&mut placeholder);
            self.abort_incomplete_request(stream_id, s);
        } else if let Some(s) = stream.as_ref().filter(|_| was_receiving)
            && self.application_knows(stream_id, s)
        {
            out.push(H3Event::StreamReset {
                stream_id,
                error_code,
                push_id: s.push_id,
            });
        }
        // After the report: telling the peer's encoder (Stream Cancellation) may fail when
        // the connection is closing, and the application should still learn of the reset.
        let abandoned = match stream.as_mut() {
            Some(s) => self.abandon_receiving(stream_id, s),
            None => Ok(()),
        };
        if let Some(s) = stream {
            self.put_back(stream_id, s);
        }
        abandoned
    }

    /// True for a stream the application has heard of: its own request, a request whose
    /// headers it got, a push it was told about, a WebTransport stream.
    fn application_knows(&self, stream_id: u64, stream: &H3Stream) -> bool {
        let own_request = self.is_client && stream::is_request_stream(stream_id);
        own_request
            || stream.headers_recv != HeadersState::Initial
            || stream.push_id.is_some()
            || stream.session_id.is_some()
    }

    /// Counts a peer reset of one of its request or push streams before the message
    /// ended ("rapid reset"), within [`Settings::max_excess_resets`].
    ///
    /// [`Settings::max_excess_resets`]: super::Settings::max_excess_resets
    fn count_reset(
        &mut self,
        stream_id: u64,
        stream: Option<&H3Stream>,
    ) -> Result<(), ProtocolError> {
        let counted = match stream {
            Some(s) => {
                !s.receiving_ended
                    && if stream::is_uni(stream_id) {
                        matches!(s.kind, Kind::Push | Kind::PushId(_))
                    } else {
                        stream::is_client_initiated(stream_id) != self.is_client
                    }
            }
            None => {
                !stream::is_uni(stream_id)
                    && stream::is_client_initiated(stream_id) != self.is_client
                    && !self.bidi_finished(stream_id)
            }
        };
        if counted {
            self.excess_resets += 1;
            if self.excess_resets > self.settings.max_excess_resets {
                return Err(ProtocolError::new(
                    ErrorCode::ExcessiveLoad,
                    "Too many streams reset before their message ended",
                ));
            }
        }
        Ok(())
    }

    /// The peer asked us to stop sending on a stream: reported once for a request or push
    /// stream we were still sending on, whose sending side is then reset with the same
    /// code (RFC 9000 §3.5).
    pub(super) fn recv_stop_sending(
        &mut self,
        stream_id: u64,
        error_code: u64,
        out: &mut Vec<H3Event>,
    ) -> Result<(), ProtocolError> {
        if [self.local_control, self.local_encoder, self.local_decoder].contains(&stream_id) {
            return Err(ProtocolError::new(
                ErrorCode::ClosedCriticalStream,
                "Stopping a critical stream is not allowed",
            ));
        }
        self.encoder.stream_cancelled(stream_id);
        let Some(mut stream) = self.streams.remove(&stream_id) else {
            return Ok(());
        };
        if !stream.sending_ended {
            stream.sending_ended = true;
            if matches!(stream.kind, Kind::Request | Kind::Push) {
                // The built-in QUIC layer has reset it already; then this fails, harmlessly.
                let _ = self.transport.reset_stream(stream_id, error_code);
                out.push(H3Event::StopSending {
                    stream_id,
                    error_code,
                    push_id: stream.push_id,
                });
            }
        }
        self.put_back(stream_id, stream);
        Ok(())
    }

    /// The QUIC connection terminated: the connection ends (if it had not), and how it
    /// ended is reported, once.
    pub(super) fn recv_termination(&mut self, close: ConnectionClose, out: &mut Vec<H3Event>) {
        let close = self.closed.get_or_insert(close).clone();
        self.release_state();
        if !self.lifecycle.close_reported {
            self.lifecycle.close_reported = true;
            out.push(H3Event::ConnectionClosed(close));
        }
    }

    /// A client: a push stream announced `push_id`. A second stream for one push id is
    /// H3_ID_ERROR; a stream for a cancelled push is stopped (true: ignore it).
    pub(super) fn open_push_stream(
        &mut self,
        stream_id: u64,
        push_id: u64,
    ) -> Result<bool, ProtocolError> {
        if !self.lifecycle.pushes_opened.insert(push_id) {
            return Err(ProtocolError::new(
                ErrorCode::IdError,
                format!("Push ID {push_id} used on a second push stream"),
            ));
        }
        let cancelled = self.lifecycle.pushes_cancelled.contains(push_id)
            || self.lifecycle.goaway_sent.is_some_and(|id| push_id >= id);
        if cancelled {
            // A failure means the stream is already gone: nothing more to do.
            let _ = self
                .transport
                .stop_stream(stream_id, ErrorCode::RequestCancelled.wire());
        }
        Ok(cancelled)
    }
}

/// An application error code from the caller: a varint.
fn checked_code(error_code: u64) -> Result<u64, H3Error> {
    if error_code > varint::MAX {
        return Err(H3Error::InvalidArgument(format!(
            "error code {error_code} is above 2^62-1"
        )));
    }
    Ok(error_code)
}
