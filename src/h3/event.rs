//! Events in and out of the HTTP/3 connection.
//!
//! [`QuicEvent`] is what QUIC reports (aioquic's `quic.events`); data is borrowed for the
//! duration of one `handle_event` call. [`H3Event`] is what HTTP/3 reports (aioquic's
//! `h3.events`) and owns its data.

use bytes::Bytes;

use crate::field::HeaderField;

/// A QUIC event given to `H3Connection::handle_event`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuicEvent<'a> {
    /// Bytes arrived on a stream, in order; `end_stream` marks FIN (possibly with no data).
    StreamDataReceived {
        /// The stream.
        stream_id: u64,
        /// The bytes, in stream order, following those of the previous event.
        data: &'a [u8],
        /// FIN: no bytes follow.
        end_stream: bool,
    },
    /// The peer reset its sending side of a stream (RESET_STREAM).
    StreamReset {
        /// The stream.
        stream_id: u64,
        /// The peer's application error code.
        error_code: u64,
    },
    /// The peer asked us to stop sending on a stream (STOP_SENDING).
    StopSendingReceived {
        /// The stream.
        stream_id: u64,
        /// The peer's application error code.
        error_code: u64,
    },
    /// A QUIC DATAGRAM frame arrived.
    DatagramReceived {
        /// Its payload.
        data: &'a [u8],
    },
    /// The handshake finished (HTTP/3 has no use for it; it produces no event).
    HandshakeCompleted {
        /// The negotiated ALPN protocol, if any.
        alpn: Option<&'a [u8]>,
    },
    /// The connection ended, by either side (HTTP/3 produces no event for it).
    ConnectionTerminated {
        /// The error code, in the code space `error_space` names.
        error_code: u64,
        /// The reason phrase.
        reason: &'a [u8],
        /// Which code space `error_code` belongs to.
        error_space: ErrorSpace,
        /// The peer closed the connection (or reset it); false for our own close, an idle
        /// timeout or an error we detected.
        by_peer: bool,
    },
}

/// The code space of a connection close's error code: QUIC's transport error codes and
/// the application's codes (HTTP/3's, here) overlap (0x100 is both CRYPTO_ERROR and
/// H3_NO_ERROR), so a code means nothing without it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ErrorSpace {
    /// Not said (a QUIC stack that does not report it).
    #[default]
    Unspecified,
    /// A QUIC transport error code (RFC 9000 §20.1), from a CONNECTION_CLOSE of type 0x1c
    /// or an error the transport detected.
    Transport,
    /// An application error code (for HTTP/3, RFC 9114 §8.1), from a CONNECTION_CLOSE of
    /// type 0x1d or our own close.
    Application,
    /// No code was exchanged: an idle timeout, a stateless reset, no common QUIC version.
    NoCode,
}

/// An HTTP event produced by `H3Connection::handle_event`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum H3Event {
    /// A HEADERS frame was decoded: an interim or final message head, or trailers.
    HeadersReceived {
        /// The request stream (or the push stream, when `push_id` is set).
        stream_id: u64,
        /// The decoded, validated fields, in wire order.
        headers: Vec<HeaderField>,
        /// FIN was seen right after this frame.
        stream_ended: bool,
        /// The push this belongs to, on a push stream.
        push_id: Option<u64>,
    },
    /// DATA frame payload bytes, delivered as they arrive.
    DataReceived {
        /// The request stream (or the push stream, when `push_id` is set).
        stream_id: u64,
        /// The payload bytes (may be empty when only FIN arrived).
        data: Bytes,
        /// FIN was seen.
        stream_ended: bool,
        /// The push this belongs to, on a push stream.
        push_id: Option<u64>,
    },
    /// A PUSH_PROMISE frame was decoded on a request stream (clients only).
    PushPromiseReceived {
        /// The request stream carrying the promise.
        stream_id: u64,
        /// The promised push id.
        push_id: u64,
        /// The promised request's fields.
        headers: Vec<HeaderField>,
    },
    /// An HTTP datagram (RFC 9297) arrived.
    DatagramReceived {
        /// The request stream it is associated with (quarter stream id * 4).
        stream_id: u64,
        /// The payload after the quarter stream id.
        data: Bytes,
    },
    /// Bytes arrived on a WebTransport stream.
    WebTransportStreamDataReceived {
        /// The WebTransport stream.
        stream_id: u64,
        /// The bytes.
        data: Bytes,
        /// FIN was seen.
        stream_ended: bool,
        /// The WebTransport session (its CONNECT stream id).
        session_id: u64,
    },
}
