//! The owned QUIC events a connection queues (aioquic's `quic.events`).

use bytes::Bytes;

use crate::h3::event::{ErrorSpace, QuicEvent};

/// A QUIC event, owned: aioquic's `quic.events`. Lend it to the HTTP/3 layer with
/// [`Event::as_quic_event`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The handshake completed.
    HandshakeCompleted {
        /// The negotiated ALPN protocol, if any.
        alpn: Option<Bytes>,
    },
    /// Stream bytes, in order; `end_stream` marks FIN (possibly with no data).
    StreamDataReceived {
        /// The stream.
        stream_id: u64,
        /// The bytes following those of the previous event on this stream.
        data: Bytes,
        /// FIN: no bytes follow.
        end_stream: bool,
    },
    /// The peer reset its sending side of a stream.
    StreamReset {
        /// The stream.
        stream_id: u64,
        /// The peer's application error code.
        error_code: u64,
    },
    /// The peer asked us to stop sending on a stream. The stream has been reset with the
    /// same code, as RFC 9000 §3.5 requires.
    StopSendingReceived {
        /// The stream.
        stream_id: u64,
        /// The peer's application error code.
        error_code: u64,
    },
    /// A DATAGRAM frame arrived.
    DatagramReceived {
        /// The payload.
        data: Bytes,
    },
    /// A client's 0-RTT data was rejected by the server (reported just before
    /// `HandshakeCompleted`): every stream it had opened is gone, stream ids start again
    /// from 0, and requests must be sent again (the HTTP/3 layer reports them as reset with
    /// H3_REQUEST_REJECTED).
    EarlyDataRejected,
    /// The connection ended: closed by the peer or by us, a transport error, an idle timeout.
    /// Reported once, when the connection stops being usable (our `close`, the peer's
    /// CONNECTION_CLOSE, the error, the timeout), not at the end of the draining period
    /// as aioquic does; `Connection::is_drained` tells when draining is over.
    ConnectionTerminated {
        /// The application or transport error code, as `error_space` says (0 for an idle
        /// timeout; 0x1 for a stateless reset, a version mismatch or exhausted connection
        /// ids).
        error_code: u64,
        /// The reason phrase.
        reason: Bytes,
        /// Which code space `error_code` belongs to.
        error_space: ErrorSpace,
        /// The peer closed (or reset) the connection.
        by_peer: bool,
    },
}

impl Event {
    /// This event as the [`QuicEvent`] `H3Connection::handle_event` takes: stream data
    /// and datagrams as shared [`Bytes`], which the HTTP/3 layer passes on without a copy.
    pub fn as_quic_event(&self) -> QuicEvent<'_> {
        match self {
            Event::HandshakeCompleted { alpn } => QuicEvent::HandshakeCompleted {
                alpn: alpn.as_deref(),
            },
            Event::StreamDataReceived {
                stream_id,
                data,
                end_stream,
            } => QuicEvent::StreamDataReceived {
                stream_id: *stream_id,
                data: data.clone().into(),
                end_stream: *end_stream,
            },
            Event::StreamReset {
                stream_id,
                error_code,
            } => QuicEvent::StreamReset {
                stream_id: *stream_id,
                error_code: *error_code,
            },
            Event::StopSendingReceived {
                stream_id,
                error_code,
            } => QuicEvent::StopSendingReceived {
                stream_id: *stream_id,
                error_code: *error_code,
            },
            Event::DatagramReceived { data } => QuicEvent::DatagramReceived {
                data: data.clone().into(),
            },
            Event::EarlyDataRejected => QuicEvent::EarlyDataRejected,
            Event::ConnectionTerminated {
                error_code,
                reason,
                error_space,
                by_peer,
            } => QuicEvent::ConnectionTerminated {
                error_code: *error_code,
                reason,
                error_space: *error_space,
                by_peer: *by_peer,
            },
        }
    }
}
