//! [`H3Error`]: why a send-side call (`send_headers`, `send_data`, ...) was refused. The
//! connection is unharmed by these errors; protocol errors by the peer are not reported
//! here but close the connection (see [`crate::error::ProtocolError`]).

use std::fmt;

use super::transport::TransportError;

/// A send-side call that could not be carried out (aioquic's exceptions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum H3Error {
    /// The frame is not allowed in the stream's current state (aioquic `FrameUnexpected`).
    FrameUnexpected(&'static str),
    /// The stream has the wrong type for this call (aioquic `InvalidStreamTypeError`).
    InvalidStreamType(&'static str),
    /// No push id is available: the client sent no MAX_PUSH_ID yet, or every id up to it
    /// has been used (aioquic `NoAvailablePushIDError`).
    NoAvailablePushId,
    /// The call is not allowed for this endpoint's role (aioquic's `RuntimeError` for a
    /// client sending a push promise).
    WrongRole(&'static str),
    /// The transport refused the operation.
    Transport(TransportError),
    /// The connection was closed after a protocol error.
    ConnectionClosed,
    /// The peer's GOAWAY excludes this request (its stream id is at or above the GOAWAY's
    /// id) or push (its push id is): send it on another connection.
    GoingAway,
    /// The field section is larger than the peer's SETTINGS_MAX_FIELD_SECTION_SIZE (RFC
    /// 9114 §4.2.2: name + value + 32 per field); nothing was sent.
    FieldSectionTooLarge {
        /// The field section's size.
        size: u64,
        /// The peer's limit.
        limit: u64,
    },
    /// An argument names nothing this connection has (a push id never promised, an
    /// origin too long for an ORIGIN frame).
    InvalidArgument(String),
}

impl fmt::Display for H3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            H3Error::FrameUnexpected(msg)
            | H3Error::InvalidStreamType(msg)
            | H3Error::WrongRole(msg) => f.write_str(msg),
            H3Error::NoAvailablePushId => f.write_str("No available push ID"),
            H3Error::Transport(e) => write!(f, "transport error: {e}"),
            H3Error::ConnectionClosed => f.write_str("the connection is closed"),
            H3Error::GoingAway => f.write_str(
                "the peer's GOAWAY excludes this request or push: use another connection",
            ),
            H3Error::FieldSectionTooLarge { size, limit } => write!(
                f,
                "the field section ({size} bytes) exceeds the peer's \
                 SETTINGS_MAX_FIELD_SECTION_SIZE ({limit})"
            ),
            H3Error::InvalidArgument(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for H3Error {}

impl From<TransportError> for H3Error {
    fn from(e: TransportError) -> Self {
        H3Error::Transport(e)
    }
}
