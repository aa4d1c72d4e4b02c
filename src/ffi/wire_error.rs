//! `h3q_h3_error`: the HTTP/3, QPACK and HTTP Datagram error codes as they go on the wire,
//! for `h3q_conn_reset_stream()`-style calls and for reading the codes h3q reports.

use std::ffi::c_char;

use crate::error::ErrorCode;

/// HTTP/3 (RFC 9114 §8.1), QPACK (RFC 9204 §6) and HTTP Datagram (RFC 9297 §5) application
/// error codes, with their wire values: what a connection close or a stream reset carries
/// in the application code space (`H3Q_ERROR_SPACE_APPLICATION`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(dead_code)] // for C: the crate itself uses `crate::error::ErrorCode`
pub enum h3q_h3_error {
    /// H3_DATAGRAM_ERROR: a malformed HTTP datagram.
    H3Q_H3_DATAGRAM_ERROR = 0x33,
    /// H3_NO_ERROR: graceful close, or a stream no longer needed.
    H3Q_H3_NO_ERROR = 0x100,
    /// H3_GENERAL_PROTOCOL_ERROR: a violation no more specific code covers.
    H3Q_H3_GENERAL_PROTOCOL_ERROR = 0x101,
    /// H3_INTERNAL_ERROR: an internal error of the endpoint.
    H3Q_H3_INTERNAL_ERROR = 0x102,
    /// H3_STREAM_CREATION_ERROR: a stream the peer may not open.
    H3Q_H3_STREAM_CREATION_ERROR = 0x103,
    /// H3_CLOSED_CRITICAL_STREAM: a control or QPACK stream closed or reset.
    H3Q_H3_CLOSED_CRITICAL_STREAM = 0x104,
    /// H3_FRAME_UNEXPECTED: a frame not allowed where it arrived.
    H3Q_H3_FRAME_UNEXPECTED = 0x105,
    /// H3_FRAME_ERROR: a frame that does not parse.
    H3Q_H3_FRAME_ERROR = 0x106,
    /// H3_EXCESSIVE_LOAD: the peer is generating excessive load.
    H3Q_H3_EXCESSIVE_LOAD = 0x107,
    /// H3_ID_ERROR: a stream or push id used wrongly.
    H3Q_H3_ID_ERROR = 0x108,
    /// H3_SETTINGS_ERROR: a malformed SETTINGS frame or value.
    H3Q_H3_SETTINGS_ERROR = 0x109,
    /// H3_MISSING_SETTINGS: the control stream did not start with SETTINGS.
    H3Q_H3_MISSING_SETTINGS = 0x10a,
    /// H3_REQUEST_REJECTED: the request was not processed; safe to retry.
    H3Q_H3_REQUEST_REJECTED = 0x10b,
    /// H3_REQUEST_CANCELLED: the request or its response is cancelled.
    H3Q_H3_REQUEST_CANCELLED = 0x10c,
    /// H3_REQUEST_INCOMPLETE: the stream ended before the request was complete.
    H3Q_H3_REQUEST_INCOMPLETE = 0x10d,
    /// H3_MESSAGE_ERROR: a malformed HTTP message.
    H3Q_H3_MESSAGE_ERROR = 0x10e,
    /// H3_CONNECT_ERROR: the CONNECT tunnel was reset or closed abnormally.
    H3Q_H3_CONNECT_ERROR = 0x10f,
    /// H3_VERSION_FALLBACK: retry the request over HTTP/1.1.
    H3Q_H3_VERSION_FALLBACK = 0x110,
    /// QPACK_DECOMPRESSION_FAILED: a field section could not be decoded.
    H3Q_QPACK_DECOMPRESSION_FAILED = 0x200,
    /// QPACK_ENCODER_STREAM_ERROR: bad input on the peer's QPACK encoder stream.
    H3Q_QPACK_ENCODER_STREAM_ERROR = 0x201,
    /// QPACK_DECODER_STREAM_ERROR: bad input on the peer's QPACK decoder stream.
    H3Q_QPACK_DECODER_STREAM_ERROR = 0x202,
}

/// The name of an HTTP/3, QPACK or HTTP Datagram error code (e.g. `"H3_NO_ERROR"` for
/// 0x100), for logs; NULL for a value that is none of them (a reserved GREASE code, or a
/// code of another application). The string is static: never free it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn h3q_h3_error_name(code: u64) -> *const c_char {
    ErrorCode::from_wire(code).map_or(std::ptr::null(), |code| code.c_name().as_ptr().cast())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    const ALL: [h3q_h3_error; 21] = {
        use h3q_h3_error as E;
        [
            E::H3Q_H3_DATAGRAM_ERROR,
            E::H3Q_H3_NO_ERROR,
            E::H3Q_H3_GENERAL_PROTOCOL_ERROR,
            E::H3Q_H3_INTERNAL_ERROR,
            E::H3Q_H3_STREAM_CREATION_ERROR,
            E::H3Q_H3_CLOSED_CRITICAL_STREAM,
            E::H3Q_H3_FRAME_UNEXPECTED,
            E::H3Q_H3_FRAME_ERROR,
            E::H3Q_H3_EXCESSIVE_LOAD,
            E::H3Q_H3_ID_ERROR,
            E::H3Q_H3_SETTINGS_ERROR,
            E::H3Q_H3_MISSING_SETTINGS,
            E::H3Q_H3_REQUEST_REJECTED,
            E::H3Q_H3_REQUEST_CANCELLED,
            E::H3Q_H3_REQUEST_INCOMPLETE,
            E::H3Q_H3_MESSAGE_ERROR,
            E::H3Q_H3_CONNECT_ERROR,
            E::H3Q_H3_VERSION_FALLBACK,
            E::H3Q_QPACK_DECOMPRESSION_FAILED,
            E::H3Q_QPACK_ENCODER_STREAM_ERROR,
            E::H3Q_QPACK_DECODER_STREAM_ERROR,
        ]
    };

    #[test]
    fn every_code_matches_the_wire_table_by_name_and_value() {
        for code in ALL {
            let wire = code as u64;
            let known = ErrorCode::from_wire(wire).expect("in the wire table");
            assert_eq!(format!("{code:?}"), format!("H3Q_{}", known.name()));
            let name = unsafe { CStr::from_ptr(h3q_h3_error_name(wire)) };
            assert_eq!(name.to_str().unwrap(), known.name());
        }
        assert!(h3q_h3_error_name(0x21).is_null());
        assert!(h3q_h3_error_name(0x1f * 7 + 0x21).is_null());
    }
}
