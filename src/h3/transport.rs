//! What the HTTP/3 connection needs from QUIC: aioquic's calls on `self._quic`.
//!
//! The HTTP/3 core names no QUIC library. The built-in QUIC layer (`crate::quic`) and the
//! C transport table (`h3q_transport`) both implement [`Transport`].

use std::fmt;

use bytes::Bytes;

use super::priority::Priority;

/// A failure reported by the transport (for example, a stream that no longer exists).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportError {
    /// What went wrong, for the application's log.
    pub message: String,
}

impl TransportError {
    /// A transport error with a message.
    pub fn new(message: impl Into<String>) -> Self {
        TransportError {
            message: message.into(),
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TransportError {}

/// The QUIC operations an HTTP/3 connection uses.
pub trait Transport {
    /// True when this endpoint is the client.
    fn is_client(&self) -> bool;

    /// The peer's `max_datagram_frame_size` transport parameter; 0 when the peer sent none.
    fn remote_max_datagram_frame_size(&self) -> u64;

    /// Queues `data` on `stream_id`, then FIN if `end_stream`. Must accept every byte:
    /// buffering until flow control allows is the transport's job (as in aioquic). Sending
    /// on a stream id returned by [`Transport::get_next_available_stream_id`] opens it.
    fn send_stream_data(
        &mut self,
        stream_id: u64,
        data: &[u8],
        end_stream: bool,
    ) -> Result<(), TransportError>;

    /// [`Transport::send_stream_data`] for data the caller already holds as [`Bytes`]: a
    /// transport that buffers can keep the buffer instead of copying it. The default copies.
    fn send_stream_bytes(
        &mut self,
        stream_id: u64,
        data: Bytes,
        end_stream: bool,
    ) -> Result<(), TransportError> {
        self.send_stream_data(stream_id, &data, end_stream)
    }

    /// [`Transport::send_stream_data`] without FIN for small writes nobody waits for
    /// before the next packet: HTTP/3 uses it for its QPACK decoder stream (section
    /// acknowledgements, one per request) and for HEADERS frames that do not end their
    /// stream. A transport may hold the bytes until it next builds packets or the
    /// stream's next write comes, so that several writes become one (a burst's
    /// acknowledgements, a response's HEADERS and body); it must keep them in order with
    /// the stream's other writes and send them with the packets it builds next. The
    /// default sends at once.
    fn send_stream_data_batched(
        &mut self,
        stream_id: u64,
        data: &[u8],
    ) -> Result<(), TransportError> {
        self.send_stream_data(stream_id, data, false)
    }

    /// The id of the next stream this endpoint may open in the given direction. Calling it
    /// twice without sending on the first id returns the same id.
    fn get_next_available_stream_id(&mut self, unidirectional: bool)
    -> Result<u64, TransportError>;

    /// Abruptly ends the sending side of `stream_id` (RESET_STREAM) with `error_code`.
    fn reset_stream(&mut self, stream_id: u64, error_code: u64) -> Result<(), TransportError>;

    /// Asks the peer to stop sending on `stream_id` (STOP_SENDING) with `error_code`.
    fn stop_stream(&mut self, stream_id: u64, error_code: u64) -> Result<(), TransportError>;

    /// Sends one unreliable QUIC DATAGRAM frame.
    fn send_datagram_frame(&mut self, data: &[u8]) -> Result<(), TransportError>;

    /// Closes the connection with an application error code and reason phrase.
    fn close(&mut self, error_code: u64, reason: &str);

    /// True once the QUIC connection is closed or closing (every call fails from then on,
    /// and its termination event is on its way). A transport that cannot tell says false:
    /// a failing call then closes the connection with H3_INTERNAL_ERROR. (No default, so
    /// that a wrapper cannot forget to forward it.)
    fn is_closed(&self) -> bool;

    /// Tells the transport how urgent `stream_id`'s sending is (RFC 9218): data of lower
    /// urgency first; within one urgency, non-incremental streams one after another in
    /// stream order, incremental ones interleaved. Called for request and push streams
    /// when their priority is known or changes; HTTP/3's own control and QPACK streams
    /// are never given one and should go before everything else. A transport that cannot
    /// schedule returns `Ok(())`; HTTP/3 ignores a failure (priorities are hints). (No
    /// default, so that a wrapper cannot forget to forward it.)
    fn set_stream_priority(
        &mut self,
        stream_id: u64,
        priority: Priority,
    ) -> Result<(), TransportError>;
}
