//! Errors of the QUIC layer.

use std::fmt;

use crate::h3::transport::TransportError;

/// A configuration problem: bad PEM, missing key, unreadable file, TLS setup failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    message: String,
}

impl ConfigError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        ConfigError {
            message: message.into(),
        }
    }

    /// The human-readable description.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Why a QUIC-layer call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuicError {
    /// The configuration could not be used.
    Config(ConfigError),
    /// The connection is closed, drained, or its handle is stale (the connection was reaped).
    ConnectionClosed,
    /// The call does not fit this endpoint's role (e.g. `connect` on a server endpoint).
    WrongRole(&'static str),
    /// A bad argument: a stream id of the wrong kind, an unopened peer stream, a small buffer.
    InvalidArgument(String),
    /// The stream's sending side is already finished or reset.
    StreamClosed(u64),
    /// The peer did not enable DATAGRAM frames, or this endpoint did not.
    DatagramsUnsupported,
    /// The datagram is larger than the connection can currently carry.
    DatagramTooLarge {
        /// The payload size given.
        size: usize,
        /// The largest payload allowed now.
        max: usize,
    },
    /// The outgoing datagram buffer is full.
    DatagramBlocked,
    /// quinn-proto refused to start a connection.
    Connect(String),
    /// A previous panic left this connection's state unusable.
    Poisoned,
}

impl fmt::Display for QuicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuicError::Config(e) => write!(f, "configuration error: {e}"),
            QuicError::ConnectionClosed => f.write_str("connection closed"),
            QuicError::WrongRole(what) => write!(f, "wrong role: {what}"),
            QuicError::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
            QuicError::StreamClosed(id) => write!(f, "stream {id} is finished or reset"),
            QuicError::DatagramsUnsupported => {
                f.write_str("DATAGRAM frames are not enabled on this connection")
            }
            QuicError::DatagramTooLarge { size, max } => {
                write!(f, "datagram of {size} bytes exceeds the maximum of {max}")
            }
            QuicError::DatagramBlocked => f.write_str("datagram send buffer is full"),
            QuicError::Connect(why) => write!(f, "cannot connect: {why}"),
            QuicError::Poisoned => f.write_str("connection state poisoned by an earlier panic"),
        }
    }
}

impl std::error::Error for QuicError {}

impl From<ConfigError> for QuicError {
    fn from(e: ConfigError) -> Self {
        QuicError::Config(e)
    }
}

impl From<QuicError> for TransportError {
    fn from(e: QuicError) -> Self {
        TransportError::new(e.to_string())
    }
}
