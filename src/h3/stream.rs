//! Per-stream state: what a stream is, where its parser stands, what each direction has
//! done. One [`H3Stream`] lives in the connection's map while the stream is in use and is
//! dropped as soon as both directions are done.

use crate::frame::{FrameHeaderReader, VarintReader};
use crate::h3::priority::Priority;

/// What a stream carries.
#[derive(Debug)]
pub(crate) enum Kind {
    /// A bidirectional stream: a request / response, or WebTransport once a
    /// WEBTRANSPORT_STREAM frame starts it.
    Request,
    /// A peer's unidirectional stream whose type varint is still arriving.
    UniType(VarintReader),
    /// A push stream whose push id is still arriving.
    PushId(VarintReader),
    /// A push stream (ours or the peer's); parsed like a response, with `push_id` set.
    Push,
    /// The peer's control stream.
    Control,
    /// The peer's QPACK encoder stream.
    QpackEncoder,
    /// The peer's QPACK decoder stream.
    QpackDecoder,
    /// A WebTransport unidirectional stream whose session id is still arriving.
    WebTransportSession(VarintReader),
    /// A WebTransport unidirectional stream: raw data for `session_id`.
    WebTransport,
    /// A unidirectional stream of an unknown or GREASE type: read and discarded.
    Ignored,
}

/// Where the frame parser of a request or push stream (or the control stream) stands.
#[derive(Debug)]
pub(crate) enum Parse {
    /// Between frames, reading the next frame header.
    Header(FrameHeaderReader),
    /// Inside a DATA payload, delivered as it arrives.
    Data { remaining: u64 },
    /// Inside a payload that is skipped (unknown, GREASE, GOAWAY, CANCEL_PUSH).
    Skip { remaining: u64 },
    /// Inside a payload kept whole until complete (HEADERS, PUSH_PROMISE, SETTINGS,
    /// MAX_PUSH_ID); `len` is bounded by the settings.
    Whole { ty: u64, len: usize, buf: Vec<u8> },
    /// After WEBTRANSPORT_STREAM: raw WebTransport data until the end of the stream.
    WebTransport,
}

impl Parse {
    /// Between frames with no partial header: a FIN here cuts no frame.
    pub(crate) fn at_frame_boundary(&self) -> bool {
        match self {
            Parse::Header(reader) => !reader.is_partial(),
            Parse::WebTransport => true,
            _ => false,
        }
    }
}

/// Which field sections a direction has carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HeadersState {
    /// Nothing yet, or only interim (1xx) responses.
    Initial,
    /// The message head.
    AfterHeaders,
    /// The trailers.
    AfterTrailers,
}

/// A HEADERS or PUSH_PROMISE frame waiting for encoder-stream data.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Blocked {
    /// HEADERS or PUSH_PROMISE.
    pub(crate) frame_type: u64,
    /// The promised push id, for a PUSH_PROMISE.
    pub(crate) push_id: u64,
}

/// The state of one stream.
#[derive(Debug)]
pub(crate) struct H3Stream {
    pub(crate) kind: Kind,
    pub(crate) parse: Parse,
    pub(crate) headers_recv: HeadersState,
    pub(crate) headers_send: HeadersState,
    /// A 1xx response was received and no final response yet.
    pub(crate) interim_received: bool,
    /// The content-length field of the received message's headers, if any.
    pub(crate) announced_content_length: Option<u64>,
    /// DATA payload bytes received (checked against `announced_content_length` at FIN).
    pub(crate) data_bytes_received: u64,
    /// A client sent HEAD on this stream: the response's content-length is not checked.
    pub(crate) head_request: bool,
    /// The final response status received.
    pub(crate) status: Option<u16>,
    /// The push this stream carries.
    pub(crate) push_id: Option<u64>,
    /// The WebTransport session this stream belongs to.
    pub(crate) session_id: Option<u64>,
    /// How urgent sending on it is (RFC 9218): from the request's `priority` field, a
    /// PRIORITY_UPDATE, or the application.
    pub(crate) priority: Priority,
    /// A PRIORITY_UPDATE set `priority`: the request's `priority` field, read later,
    /// does not override it (RFC 9218 §7).
    pub(crate) priority_updated: bool,
    /// A field section waits for encoder-stream data; `held` keeps the bytes behind it.
    pub(crate) blocked: Option<Blocked>,
    /// Bytes that arrived after a blocked field section, in order.
    pub(crate) held: Vec<u8>,
    /// FIN or RESET_STREAM received (for a blocked stream, FIN is delivered later).
    pub(crate) receiving_ended: bool,
    /// We sent FIN or the stream cannot carry more from us.
    pub(crate) sending_ended: bool,
    /// DATA and skipped frames received, and their announced payload bytes (the
    /// cheap-frame budget).
    pub(crate) frames: u64,
    pub(crate) frame_payload: u64,
}

impl H3Stream {
    fn new(kind: Kind) -> Self {
        H3Stream {
            kind,
            parse: Parse::Header(FrameHeaderReader::default()),
            headers_recv: HeadersState::Initial,
            headers_send: HeadersState::Initial,
            interim_received: false,
            announced_content_length: None,
            data_bytes_received: 0,
            head_request: false,
            status: None,
            push_id: None,
            session_id: None,
            priority: Priority::DEFAULT,
            priority_updated: false,
            blocked: None,
            held: Vec::new(),
            receiving_ended: false,
            sending_ended: false,
            frames: 0,
            frame_payload: 0,
        }
    }

    /// A bidirectional stream, both directions open.
    pub(crate) fn request() -> Self {
        H3Stream::new(Kind::Request)
    }

    /// A unidirectional stream opened by the peer: only its receiving half exists.
    pub(crate) fn peer_uni() -> Self {
        let mut s = H3Stream::new(Kind::UniType(VarintReader::default()));
        s.sending_ended = true;
        s
    }

    /// One of our unidirectional streams: only its sending half exists.
    pub(crate) fn local_uni(kind: Kind) -> Self {
        let mut s = H3Stream::new(kind);
        s.receiving_ended = true;
        s
    }

    /// Both directions are done and nothing is held: the state can be dropped.
    pub(crate) fn is_done(&self) -> bool {
        self.sending_ended && self.receiving_ended && self.blocked.is_none()
    }
}

/// True for a unidirectional stream id.
pub(crate) fn is_uni(stream_id: u64) -> bool {
    stream_id & 0x2 != 0
}

/// True for a stream id opened by a client.
pub(crate) fn is_client_initiated(stream_id: u64) -> bool {
    stream_id & 0x1 == 0
}

/// True for a client-initiated bidirectional stream (a request stream).
pub(crate) fn is_request_stream(stream_id: u64) -> bool {
    stream_id & 0x3 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_id_classes() {
        assert!(is_request_stream(0) && is_request_stream(4) && !is_request_stream(1));
        assert!(is_uni(2) && is_uni(3) && !is_uni(0) && !is_uni(1));
        assert!(is_client_initiated(2) && !is_client_initiated(3));
    }

    #[test]
    fn done_needs_both_halves_and_nothing_blocked() {
        let mut s = H3Stream::request();
        assert!(!s.is_done());
        s.sending_ended = true;
        s.receiving_ended = true;
        assert!(s.is_done());
        s.blocked = Some(Blocked {
            frame_type: 1,
            push_id: 0,
        });
        assert!(!s.is_done());
        assert!(!H3Stream::peer_uni().is_done());
        assert!(H3Stream::peer_uni().sending_ended);
        assert!(H3Stream::local_uni(Kind::Push).receiving_ended);
    }
}
