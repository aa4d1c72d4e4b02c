//! `h3q_result`: the return code of every fallible C function.

use std::ffi::c_char;

/// The result of an h3q call. `H3Q_OK` (0) is success; every error is negative.
///
/// `h3q_result_str()` names each code. The last error message of a handle, with details,
/// is available from that handle's `*_last_error()` function.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum h3q_result {
    /// Success.
    H3Q_OK = 0,
    /// Nothing more: a poll found no event, no datagram, or no value to return.
    H3Q_DONE = -1,
    /// A required pointer argument was NULL.
    H3Q_ERR_NULL = -2,
    /// An argument was out of range, malformed, or an unknown enum value.
    H3Q_ERR_INVALID_ARGUMENT = -3,
    /// The call is not allowed in the stream's current state (aioquic `FrameUnexpected`).
    H3Q_ERR_FRAME_UNEXPECTED = -4,
    /// The stream id is not of the kind this call needs (aioquic `InvalidStreamTypeError`).
    H3Q_ERR_INVALID_STREAM_TYPE = -5,
    /// No push id is available (aioquic `NoAvailablePushIDError`).
    H3Q_ERR_NO_AVAILABLE_PUSH_ID = -6,
    /// The call is not allowed for this endpoint's role (a client sending a push promise).
    H3Q_ERR_WRONG_ROLE = -7,
    /// The connection is closed or drained.
    H3Q_ERR_CONNECTION_CLOSED = -8,
    /// A TLS or configuration error (bad certificate, key, or setting).
    H3Q_ERR_TLS = -9,
    /// A protocol error in peer input (aioquic `H3Error`); the connection was closed.
    H3Q_ERR_PROTOCOL = -10,
    /// The transport refused an operation.
    H3Q_ERR_TRANSPORT = -11,
    /// A buffer supplied by the caller is too small.
    H3Q_ERR_BUFFER_TOO_SMALL = -12,
    /// An I/O error (reading a certificate file, writing a key log).
    H3Q_ERR_IO = -13,
    /// A panic inside h3q was caught; the handle is poisoned and refuses further calls.
    H3Q_ERR_PANIC = -14,
    /// The handle was poisoned by an earlier panic.
    H3Q_ERR_POISONED = -15,
}

impl h3q_result {
    /// Every code, in declaration order.
    pub const ALL: [h3q_result; 16] = [
        h3q_result::H3Q_OK,
        h3q_result::H3Q_DONE,
        h3q_result::H3Q_ERR_NULL,
        h3q_result::H3Q_ERR_INVALID_ARGUMENT,
        h3q_result::H3Q_ERR_FRAME_UNEXPECTED,
        h3q_result::H3Q_ERR_INVALID_STREAM_TYPE,
        h3q_result::H3Q_ERR_NO_AVAILABLE_PUSH_ID,
        h3q_result::H3Q_ERR_WRONG_ROLE,
        h3q_result::H3Q_ERR_CONNECTION_CLOSED,
        h3q_result::H3Q_ERR_TLS,
        h3q_result::H3Q_ERR_PROTOCOL,
        h3q_result::H3Q_ERR_TRANSPORT,
        h3q_result::H3Q_ERR_BUFFER_TOO_SMALL,
        h3q_result::H3Q_ERR_IO,
        h3q_result::H3Q_ERR_PANIC,
        h3q_result::H3Q_ERR_POISONED,
    ];

    /// The NUL-terminated name and description of the code.
    fn text(self) -> &'static str {
        match self {
            h3q_result::H3Q_OK => "H3Q_OK: success\0",
            h3q_result::H3Q_DONE => "H3Q_DONE: nothing more\0",
            h3q_result::H3Q_ERR_NULL => "H3Q_ERR_NULL: a required pointer was NULL\0",
            h3q_result::H3Q_ERR_INVALID_ARGUMENT => "H3Q_ERR_INVALID_ARGUMENT: invalid argument\0",
            h3q_result::H3Q_ERR_FRAME_UNEXPECTED => {
                "H3Q_ERR_FRAME_UNEXPECTED: not allowed in the stream's state\0"
            }
            h3q_result::H3Q_ERR_INVALID_STREAM_TYPE => {
                "H3Q_ERR_INVALID_STREAM_TYPE: wrong kind of stream\0"
            }
            h3q_result::H3Q_ERR_NO_AVAILABLE_PUSH_ID => {
                "H3Q_ERR_NO_AVAILABLE_PUSH_ID: no push id available\0"
            }
            h3q_result::H3Q_ERR_WRONG_ROLE => "H3Q_ERR_WRONG_ROLE: not allowed for this role\0",
            h3q_result::H3Q_ERR_CONNECTION_CLOSED => {
                "H3Q_ERR_CONNECTION_CLOSED: the connection is closed\0"
            }
            h3q_result::H3Q_ERR_TLS => "H3Q_ERR_TLS: TLS or configuration error\0",
            h3q_result::H3Q_ERR_PROTOCOL => "H3Q_ERR_PROTOCOL: protocol error from the peer\0",
            h3q_result::H3Q_ERR_TRANSPORT => "H3Q_ERR_TRANSPORT: the transport refused\0",
            h3q_result::H3Q_ERR_BUFFER_TOO_SMALL => {
                "H3Q_ERR_BUFFER_TOO_SMALL: the buffer is too small\0"
            }
            h3q_result::H3Q_ERR_IO => "H3Q_ERR_IO: I/O error\0",
            h3q_result::H3Q_ERR_PANIC => "H3Q_ERR_PANIC: internal panic caught; handle poisoned\0",
            h3q_result::H3Q_ERR_POISONED => {
                "H3Q_ERR_POISONED: the handle was poisoned by an earlier panic\0"
            }
        }
    }
}

/// Returns a static, NUL-terminated description of `result`, starting with its name
/// (e.g. `"H3Q_ERR_NULL: a required pointer was NULL"`). Values that are not an
/// `h3q_result` give `"unknown h3q_result"`. The string is owned by the library and valid
/// for the life of the process; never free it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn h3q_result_str(result: i32) -> *const c_char {
    h3q_result::ALL
        .iter()
        .find(|r| **r as i32 == result)
        .map_or("unknown h3q_result\0", |r| r.text())
        .as_ptr()
        .cast()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn every_code_has_a_distinct_text_starting_with_its_name() {
        let mut seen = std::collections::HashSet::new();
        for r in h3q_result::ALL {
            let text = unsafe { CStr::from_ptr(h3q_result_str(r as i32)) }
                .to_str()
                .unwrap();
            assert!(text.starts_with(&format!("{r:?}")), "{text}");
            assert!(seen.insert(text));
        }
        let unknown = unsafe { CStr::from_ptr(h3q_result_str(12345)) };
        assert_eq!(unknown.to_str().unwrap(), "unknown h3q_result");
    }

    #[test]
    fn only_ok_is_non_negative() {
        for r in h3q_result::ALL {
            assert_eq!(r as i32 >= 0, r == h3q_result::H3Q_OK);
        }
    }
}
