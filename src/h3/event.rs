//! Events in and out of the HTTP/3 connection.
//!
//! [`QuicEvent`] is what QUIC reports (aioquic's `quic.events`); its bytes are borrowed
//! for one `handle_event` call or shared from the QUIC layer's own buffers
//! ([`EventData`]). [`H3Event`] is what HTTP/3 reports (aioquic's `h3.events`) and owns its
//! data.

use std::ops::Deref;

use bytes::Bytes;

use crate::field::HeaderField;
use crate::h3::priority::Priority;

/// The bytes of a QUIC event: borrowed for one `handle_event` call, or a shared buffer (the
/// built-in QUIC layer hands over quinn-proto's received chunks as [`Bytes`]). DATA payload
/// that the connection passes on in its [`H3Event`]s is a part of a `Shared` buffer,
/// without a copy; `Borrowed` bytes are copied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventData<'a> {
    /// Valid for the call only.
    Borrowed(&'a [u8]),
    /// A reference-counted buffer the connection may keep parts of.
    Shared(Bytes),
}

impl Deref for EventData<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            EventData::Borrowed(data) => data,
            EventData::Shared(data) => data,
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> From<&'a T> for EventData<'a> {
    fn from(data: &'a T) -> Self {
        EventData::Borrowed(data.as_ref())
    }
}

impl From<Bytes> for EventData<'_> {
    fn from(data: Bytes) -> Self {
        EventData::Shared(data)
    }
}

impl EventData<'_> {
    /// The shared buffer, if these bytes are one (empty otherwise).
    pub(crate) fn shared(&self) -> Bytes {
        match self {
            EventData::Borrowed(_) => Bytes::new(),
            EventData::Shared(data) => data.clone(),
        }
    }
}

/// `part` as a handle on `buffer` when it is a non-empty part of the same memory (decided
/// from addresses, never contents), so it is passed on without a copy.
pub(crate) fn slice_within(buffer: &Bytes, part: &[u8]) -> Option<Bytes> {
    if part.is_empty() {
        return None;
    }
    let start = (part.as_ptr() as usize).checked_sub(buffer.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    (end <= buffer.len()).then(|| buffer.slice(start..end))
}

/// A QUIC event given to `H3Connection::handle_event`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuicEvent<'a> {
    /// Bytes arrived on a stream, in order; `end_stream` marks FIN (possibly with no data).
    StreamDataReceived {
        /// The stream.
        stream_id: u64,
        /// The bytes, in stream order, following those of the previous event.
        data: EventData<'a>,
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
        data: EventData<'a>,
    },
    /// The handshake finished (HTTP/3 has no use for it; it produces no event).
    HandshakeCompleted {
        /// The negotiated ALPN protocol, if any.
        alpn: Option<&'a [u8]>,
    },
    /// A client's 0-RTT data was rejected (given before `HandshakeCompleted`): the QUIC
    /// layer forgot every stream the client had opened, and stream ids start again from 0.
    /// HTTP/3 reports each request it had sent as a `StreamReset` with H3_REQUEST_REJECTED
    /// (not processed: send it again) and opens its control and QPACK streams again.
    EarlyDataRejected,
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

/// How a connection ended: [`H3Connection::closed`](super::H3Connection::closed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionClose {
    /// The error code, in the space `error_space` names (for a close of ours after a
    /// protocol error of the peer's: the HTTP/3 or QPACK code).
    pub error_code: u64,
    /// The reason phrase (lossily decoded when the peer's was not UTF-8).
    pub reason: String,
    /// Which code space `error_code` belongs to.
    pub error_space: ErrorSpace,
    /// The peer closed the connection (or reset it).
    pub by_peer: bool,
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
    /// The peer sent GOAWAY (RFC 9114 §5.2): it will process no request (for a server's
    /// GOAWAY: stream id) or push (a client's: push id) at or above `id`. A client's
    /// requests at or above it that were already sent come as [`H3Event::StreamReset`]
    /// with H3_REQUEST_REJECTED, and new ones are refused ([`H3Error::GoingAway`]).
    ///
    /// [`H3Error::GoingAway`]: super::H3Error::GoingAway
    GoawayReceived {
        /// The stream id (from a server) or push id (from a client) the GOAWAY carries.
        id: u64,
    },
    /// The peer reset its side of a request or push stream (RESET_STREAM), or, for a
    /// client, the server's GOAWAY showed the request was not processed
    /// (H3_REQUEST_REJECTED): nothing more arrives on it. Once per stream.
    StreamReset {
        /// The stream.
        stream_id: u64,
        /// The application error code (H3_REQUEST_CANCELLED, H3_REQUEST_REJECTED, ...).
        error_code: u64,
        /// The push, for a push stream.
        push_id: Option<u64>,
    },
    /// The peer asked us to stop sending on a request or push stream (STOP_SENDING);
    /// our sending side has been reset with the same code.
    StopSending {
        /// The stream.
        stream_id: u64,
        /// The application error code.
        error_code: u64,
        /// The push, for a push stream.
        push_id: Option<u64>,
    },
    /// A push was cancelled by the peer (CANCEL_PUSH): a server stops producing it; a
    /// client will not get it (or no more of it).
    PushCancelled {
        /// The push.
        push_id: u64,
    },
    /// A server listed origins it is authoritative for (an ORIGIN frame, RFC 9412).
    OriginReceived {
        /// The ASCII serialisations of the origins, in order.
        origins: Vec<Bytes>,
    },
    /// The connection is over: reported once, whoever closed it, when the QUIC
    /// connection terminates; it carries the first close (ours after a protocol error of
    /// the peer's, or the termination's).
    ConnectionClosed(ConnectionClose),
    /// A server: the client changed the priority of a request whose head was delivered, or
    /// of a push (PRIORITY_UPDATE, RFC 9218 §7). h3q schedules the stream's data by it
    /// from now on; [`H3Connection::priority`](crate::h3::H3Connection::priority) gives
    /// it too.
    PriorityUpdate {
        /// The request stream, or the push stream of `push_id`.
        stream_id: u64,
        /// The push, for an update of a push's priority.
        push_id: Option<u64>,
        /// The new priority.
        priority: Priority,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_within_shares_only_parts_of_the_same_memory() {
        let buffer = Bytes::from(vec![1u8, 2, 3, 4, 5, 6]);
        let whole = slice_within(&buffer, &buffer).unwrap();
        assert_eq!(whole.as_ptr(), buffer.as_ptr());
        let middle = slice_within(&buffer, &buffer[2..5]).unwrap();
        assert_eq!(&middle[..], &[3, 4, 5]);
        assert_eq!(middle.as_ptr(), buffer[2..].as_ptr());
        // Equal contents elsewhere, empty slices, and slices running past either end.
        let copy = buffer.to_vec();
        assert!(slice_within(&buffer, &copy).is_none());
        assert!(slice_within(&buffer, &buffer[3..3]).is_none());
        assert!(slice_within(&Bytes::new(), &copy).is_none());
        let wider = Bytes::from(vec![0u8; 16]);
        let inner = wider.slice(4..10);
        assert!(slice_within(&inner, &wider[2..6]).is_none());
        assert!(slice_within(&inner, &wider[8..12]).is_none());
    }

    #[test]
    fn event_data_reads_as_its_bytes() {
        let shared = EventData::from(Bytes::from_static(b"abc"));
        assert_eq!(&*shared, b"abc");
        assert_eq!(shared.shared(), Bytes::from_static(b"abc"));
        let borrowed = EventData::from(b"xyz");
        assert_eq!(&*borrowed, b"xyz");
        assert!(borrowed.shared().is_empty());
    }
}
