//! Wire error codes (RFC 9114 §8.1, RFC 9204 §6, RFC 9297 §5) in one table, and
//! [`ProtocolError`], the error that ends a connection.
//!
//! Every protocol violation found while parsing peer input is reported as a
//! `ProtocolError` carrying its wire code and a human-readable reason. One place in the
//! connection catches it and closes the QUIC connection with that code (aioquic's
//! "one exit" habit).

use std::fmt;

/// An HTTP/3, QPACK or HTTP Datagram application error code, as sent on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// H3_NO_ERROR (0x100): graceful close.
    NoError,
    /// H3_GENERAL_PROTOCOL_ERROR (0x101).
    GeneralProtocolError,
    /// H3_INTERNAL_ERROR (0x102).
    InternalError,
    /// H3_STREAM_CREATION_ERROR (0x103).
    StreamCreationError,
    /// H3_CLOSED_CRITICAL_STREAM (0x104).
    ClosedCriticalStream,
    /// H3_FRAME_UNEXPECTED (0x105).
    FrameUnexpected,
    /// H3_FRAME_ERROR (0x106).
    FrameError,
    /// H3_EXCESSIVE_LOAD (0x107).
    ExcessiveLoad,
    /// H3_ID_ERROR (0x108).
    IdError,
    /// H3_SETTINGS_ERROR (0x109).
    SettingsError,
    /// H3_MISSING_SETTINGS (0x10a).
    MissingSettings,
    /// H3_REQUEST_REJECTED (0x10b).
    RequestRejected,
    /// H3_REQUEST_CANCELLED (0x10c).
    RequestCancelled,
    /// H3_REQUEST_INCOMPLETE (0x10d).
    RequestIncomplete,
    /// H3_MESSAGE_ERROR (0x10e).
    MessageError,
    /// H3_CONNECT_ERROR (0x10f).
    ConnectError,
    /// H3_VERSION_FALLBACK (0x110).
    VersionFallback,
    /// QPACK_DECOMPRESSION_FAILED (0x200).
    QpackDecompressionFailed,
    /// QPACK_ENCODER_STREAM_ERROR (0x201).
    QpackEncoderStreamError,
    /// QPACK_DECODER_STREAM_ERROR (0x202).
    QpackDecoderStreamError,
    /// H3_DATAGRAM_ERROR (0x33, RFC 9297).
    DatagramError,
}

/// The single table mapping codes to wire values and names (NUL-terminated for C).
const TABLE: &[(ErrorCode, u64, &str)] = &[
    (ErrorCode::NoError, 0x100, "H3_NO_ERROR\0"),
    (
        ErrorCode::GeneralProtocolError,
        0x101,
        "H3_GENERAL_PROTOCOL_ERROR\0",
    ),
    (ErrorCode::InternalError, 0x102, "H3_INTERNAL_ERROR\0"),
    (
        ErrorCode::StreamCreationError,
        0x103,
        "H3_STREAM_CREATION_ERROR\0",
    ),
    (
        ErrorCode::ClosedCriticalStream,
        0x104,
        "H3_CLOSED_CRITICAL_STREAM\0",
    ),
    (ErrorCode::FrameUnexpected, 0x105, "H3_FRAME_UNEXPECTED\0"),
    (ErrorCode::FrameError, 0x106, "H3_FRAME_ERROR\0"),
    (ErrorCode::ExcessiveLoad, 0x107, "H3_EXCESSIVE_LOAD\0"),
    (ErrorCode::IdError, 0x108, "H3_ID_ERROR\0"),
    (ErrorCode::SettingsError, 0x109, "H3_SETTINGS_ERROR\0"),
    (ErrorCode::MissingSettings, 0x10a, "H3_MISSING_SETTINGS\0"),
    (ErrorCode::RequestRejected, 0x10b, "H3_REQUEST_REJECTED\0"),
    (ErrorCode::RequestCancelled, 0x10c, "H3_REQUEST_CANCELLED\0"),
    (
        ErrorCode::RequestIncomplete,
        0x10d,
        "H3_REQUEST_INCOMPLETE\0",
    ),
    (ErrorCode::MessageError, 0x10e, "H3_MESSAGE_ERROR\0"),
    (ErrorCode::ConnectError, 0x10f, "H3_CONNECT_ERROR\0"),
    (ErrorCode::VersionFallback, 0x110, "H3_VERSION_FALLBACK\0"),
    (
        ErrorCode::QpackDecompressionFailed,
        0x200,
        "QPACK_DECOMPRESSION_FAILED\0",
    ),
    (
        ErrorCode::QpackEncoderStreamError,
        0x201,
        "QPACK_ENCODER_STREAM_ERROR\0",
    ),
    (
        ErrorCode::QpackDecoderStreamError,
        0x202,
        "QPACK_DECODER_STREAM_ERROR\0",
    ),
    (ErrorCode::DatagramError, 0x33, "H3_DATAGRAM_ERROR\0"),
];

impl ErrorCode {
    fn entry(self) -> &'static (ErrorCode, u64, &'static str) {
        TABLE
            .iter()
            .find(|(code, _, _)| *code == self)
            .expect("every ErrorCode has a row in TABLE")
    }

    /// The value sent on the wire.
    pub fn wire(self) -> u64 {
        self.entry().1
    }

    /// The RFC name, e.g. `"H3_FRAME_UNEXPECTED"`.
    pub fn name(self) -> &'static str {
        let name = self.c_name();
        &name[..name.len() - 1]
    }

    /// The RFC name with a NUL at the end, for C.
    pub(crate) fn c_name(self) -> &'static str {
        self.entry().2
    }

    /// The code for a wire value, if it is one of ours.
    pub fn from_wire(value: u64) -> Option<ErrorCode> {
        TABLE
            .iter()
            .find(|(_, v, _)| *v == value)
            .map(|(c, _, _)| *c)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:x})", self.name(), self.wire())
    }
}

/// A violation by the peer that closes the connection with `code` and `reason`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError {
    /// The application error code the connection is closed with.
    pub code: ErrorCode,
    /// The reason phrase sent in CONNECTION_CLOSE (may be empty).
    pub reason: String,
}

impl ProtocolError {
    /// A protocol error with a reason phrase.
    pub fn new(code: ErrorCode, reason: impl Into<String>) -> Self {
        ProtocolError {
            code,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.reason.is_empty() {
            write!(f, "{}", self.code)
        } else {
            write!(f, "{}: {}", self.code, self.reason)
        }
    }
}

impl std::error::Error for ProtocolError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_wire_value() {
        for (code, wire, name) in TABLE {
            assert_eq!(code.wire(), *wire);
            assert_eq!(code.c_name(), *name);
            assert_eq!(format!("{}\0", code.name()), *name);
            assert_eq!(ErrorCode::from_wire(*wire), Some(*code));
        }
        assert_eq!(ErrorCode::from_wire(0x1234), None);
    }

    #[test]
    fn wire_values_are_unique() {
        for (i, a) in TABLE.iter().enumerate() {
            for b in &TABLE[i + 1..] {
                assert_ne!(a.1, b.1);
                assert_ne!(a.0, b.0);
            }
        }
    }

    #[test]
    fn display_includes_name_code_and_reason() {
        let e = ProtocolError::new(ErrorCode::FrameUnexpected, "SETTINGS twice");
        assert_eq!(e.to_string(), "H3_FRAME_UNEXPECTED (0x105): SETTINGS twice");
        let e = ProtocolError::new(ErrorCode::QpackDecompressionFailed, "");
        assert_eq!(e.to_string(), "QPACK_DECOMPRESSION_FAILED (0x200)");
    }
}
