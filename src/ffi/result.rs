//! `h3q_result`: the return code of every fallible C function, in three ranges.

use std::ffi::c_char;

use super::abi::Abi;

/// What a fallible h3q function returns: one of the `h3q_result_code` values (an `int32_t`,
/// so that a code added by a later library version is still a valid value for an older
/// program). Three ranges:
///
/// - `>= 0`, statuses, not errors: `H3Q_OK`, `H3Q_BLOCKED`, `H3Q_DONE`.
/// - `-100 ... -199`, refusals: the call did nothing; the handle and its connection are as
///   they were, so the program can correct the call and go on. `H3Q_IS_REFUSAL(r)`.
/// - `-200 ... -299`, fatal: the connection is closed (by the peer, by h3q after a protocol
///   error, or earlier), or the handle is poisoned; only queries and `*_free` remain
///   useful. `H3Q_IS_FATAL(r)`.
///
/// `h3q_result_str()` names every code; the handle's `*_last_error()` has the details.
/// A program built against ABI version 1 (h3q 0.1.0's header) gets that version's values
/// instead (`H3Q_DONE` was -1, errors -2 ... -15), from the same library.
pub type h3q_result = i32;

/// The named values of `h3q_result`. See `h3q_result` for the ranges.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum h3q_result_code {
    /// Success.
    H3Q_OK = 0,
    /// Not an error: the QPACK field section waits for encoder-stream data and will be
    /// delivered later.
    H3Q_BLOCKED = 1,
    /// Not an error: nothing more (a poll found no event, no datagram, no value).
    H3Q_DONE = 2,
    /// Refused: a required pointer argument was NULL.
    H3Q_ERR_NULL = -101,
    /// Refused: an argument was out of range, malformed, or an unknown enum value.
    H3Q_ERR_INVALID_ARGUMENT = -102,
    /// Refused: not allowed in the stream's current state (aioquic `FrameUnexpected`).
    H3Q_ERR_FRAME_UNEXPECTED = -103,
    /// Refused: the stream id is not of the kind this call needs (aioquic
    /// `InvalidStreamTypeError`).
    H3Q_ERR_INVALID_STREAM_TYPE = -104,
    /// Refused: no push id is available (aioquic `NoAvailablePushIDError`).
    H3Q_ERR_NO_AVAILABLE_PUSH_ID = -105,
    /// Refused: not allowed for this endpoint's role (a client sending a push promise).
    H3Q_ERR_WRONG_ROLE = -106,
    /// Refused: a TLS or configuration error (bad certificate, key, or setting).
    H3Q_ERR_TLS = -107,
    /// Refused: the transport refused an operation (a C transport function failed, or the
    /// peer does not accept datagrams).
    H3Q_ERR_TRANSPORT = -108,
    /// Refused: a buffer supplied by the caller is too small.
    H3Q_ERR_BUFFER_TOO_SMALL = -109,
    /// Refused: an I/O error (reading a certificate file, writing a key log).
    H3Q_ERR_IO = -110,
    /// Refused: the ABI version passed to a `*_versioned` function is not one this library
    /// knows (newer than the library, or not a version at all).
    H3Q_ERR_UNSUPPORTED_VERSION = -111,
    /// Refused: the peer's GOAWAY excludes this new request (its stream id is at or above
    /// the GOAWAY's) or push; nothing was sent. Send it on another connection.
    H3Q_ERR_GOING_AWAY = -112,
    /// Refused: the field section is larger than the peer's SETTINGS_MAX_FIELD_SECTION_SIZE
    /// (name + value + 32 per field); nothing was sent.
    H3Q_ERR_FIELD_SECTION_TOO_LARGE = -113,
    /// Fatal: the connection is closed (by the peer, by an earlier error, or drained).
    H3Q_ERR_CONNECTION_CLOSED = -201,
    /// Fatal: the input given to this call showed a protocol violation by the peer
    /// (aioquic `H3Error`); h3q closed the connection with an HTTP/3 error code, which
    /// `h3q_conn_close_code()` returns.
    H3Q_ERR_PROTOCOL = -202,
    /// Fatal: the transport failed while h3q handled input, so h3q closed the connection
    /// with H3_INTERNAL_ERROR (0x102).
    H3Q_ERR_INTERNAL = -203,
    /// Fatal: a panic inside h3q was caught; the handle is poisoned and refuses further
    /// calls.
    H3Q_ERR_PANIC = -204,
    /// Fatal: the handle was poisoned by an earlier panic.
    H3Q_ERR_POISONED = -205,
}

impl h3q_result_code {
    /// Every code, in declaration order.
    pub const ALL: [h3q_result_code; 21] = [
        h3q_result_code::H3Q_OK,
        h3q_result_code::H3Q_BLOCKED,
        h3q_result_code::H3Q_DONE,
        h3q_result_code::H3Q_ERR_NULL,
        h3q_result_code::H3Q_ERR_INVALID_ARGUMENT,
        h3q_result_code::H3Q_ERR_FRAME_UNEXPECTED,
        h3q_result_code::H3Q_ERR_INVALID_STREAM_TYPE,
        h3q_result_code::H3Q_ERR_NO_AVAILABLE_PUSH_ID,
        h3q_result_code::H3Q_ERR_WRONG_ROLE,
        h3q_result_code::H3Q_ERR_TLS,
        h3q_result_code::H3Q_ERR_TRANSPORT,
        h3q_result_code::H3Q_ERR_BUFFER_TOO_SMALL,
        h3q_result_code::H3Q_ERR_IO,
        h3q_result_code::H3Q_ERR_UNSUPPORTED_VERSION,
        h3q_result_code::H3Q_ERR_GOING_AWAY,
        h3q_result_code::H3Q_ERR_FIELD_SECTION_TOO_LARGE,
        h3q_result_code::H3Q_ERR_CONNECTION_CLOSED,
        h3q_result_code::H3Q_ERR_PROTOCOL,
        h3q_result_code::H3Q_ERR_INTERNAL,
        h3q_result_code::H3Q_ERR_PANIC,
        h3q_result_code::H3Q_ERR_POISONED,
    ];

    /// The NUL-terminated name and description of the code.
    fn text(self) -> &'static str {
        use h3q_result_code as R;
        match self {
            R::H3Q_OK => "H3Q_OK: success\0",
            R::H3Q_BLOCKED => "H3Q_BLOCKED: waiting for QPACK encoder-stream data\0",
            R::H3Q_DONE => "H3Q_DONE: nothing more\0",
            R::H3Q_ERR_NULL => "H3Q_ERR_NULL: a required pointer was NULL\0",
            R::H3Q_ERR_INVALID_ARGUMENT => "H3Q_ERR_INVALID_ARGUMENT: invalid argument\0",
            R::H3Q_ERR_FRAME_UNEXPECTED => {
                "H3Q_ERR_FRAME_UNEXPECTED: not allowed in the stream's state\0"
            }
            R::H3Q_ERR_INVALID_STREAM_TYPE => "H3Q_ERR_INVALID_STREAM_TYPE: wrong kind of stream\0",
            R::H3Q_ERR_NO_AVAILABLE_PUSH_ID => {
                "H3Q_ERR_NO_AVAILABLE_PUSH_ID: no push id available\0"
            }
            R::H3Q_ERR_WRONG_ROLE => "H3Q_ERR_WRONG_ROLE: not allowed for this role\0",
            R::H3Q_ERR_TLS => "H3Q_ERR_TLS: TLS or configuration error\0",
            R::H3Q_ERR_TRANSPORT => "H3Q_ERR_TRANSPORT: the transport refused\0",
            R::H3Q_ERR_BUFFER_TOO_SMALL => "H3Q_ERR_BUFFER_TOO_SMALL: the buffer is too small\0",
            R::H3Q_ERR_IO => "H3Q_ERR_IO: I/O error\0",
            R::H3Q_ERR_UNSUPPORTED_VERSION => {
                "H3Q_ERR_UNSUPPORTED_VERSION: ABI version unknown to this library\0"
            }
            R::H3Q_ERR_GOING_AWAY => {
                "H3Q_ERR_GOING_AWAY: the peer's GOAWAY excludes this request or push\0"
            }
            R::H3Q_ERR_FIELD_SECTION_TOO_LARGE => {
                "H3Q_ERR_FIELD_SECTION_TOO_LARGE: above the peer's field section size limit\0"
            }
            R::H3Q_ERR_CONNECTION_CLOSED => "H3Q_ERR_CONNECTION_CLOSED: the connection is closed\0",
            R::H3Q_ERR_PROTOCOL => {
                "H3Q_ERR_PROTOCOL: the peer violated the protocol; connection closed\0"
            }
            R::H3Q_ERR_INTERNAL => {
                "H3Q_ERR_INTERNAL: the transport failed; connection closed (H3_INTERNAL_ERROR)\0"
            }
            R::H3Q_ERR_PANIC => "H3Q_ERR_PANIC: internal panic caught; handle poisoned\0",
            R::H3Q_ERR_POISONED => {
                "H3Q_ERR_POISONED: the handle was poisoned by an earlier panic\0"
            }
        }
    }
}

/// Returns a static, NUL-terminated description of `result`, starting with its name
/// (e.g. `"H3Q_ERR_NULL: a required pointer was NULL"`). The values of ABI version 1 that
/// are not values of this version (-1 ... -15) are named too, marked "(ABI v1)". Values
/// that are no `h3q_result` give `"unknown h3q_result"`. The string is owned by the
/// library and valid for the life of the process; never free it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn h3q_result_str(result: h3q_result) -> *const c_char {
    if let Some(code) = h3q_result_code::ALL.iter().find(|r| **r as i32 == result) {
        return code.text().as_ptr().cast();
    }
    Abi::V1
        .decode(result)
        .map_or("unknown h3q_result\0", Abi::v1_text)
        .as_ptr()
        .cast()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn text(result: i32) -> &'static str {
        unsafe { CStr::from_ptr(h3q_result_str(result)) }
            .to_str()
            .unwrap()
    }

    #[test]
    fn every_code_has_a_distinct_text_starting_with_its_name() {
        let mut seen = std::collections::HashSet::new();
        for r in h3q_result_code::ALL {
            let text = text(r as i32);
            assert!(text.starts_with(&format!("{r:?}")), "{text}");
            assert!(seen.insert(text));
        }
        assert_eq!(text(12345), "unknown h3q_result");
        assert_eq!(text(-99), "unknown h3q_result");
    }

    #[test]
    fn codes_sit_in_their_ranges() {
        for r in h3q_result_code::ALL {
            let v = r as i32;
            let status = matches!(
                r,
                h3q_result_code::H3Q_OK | h3q_result_code::H3Q_BLOCKED | h3q_result_code::H3Q_DONE
            );
            assert_eq!(v >= 0, status, "{r:?}");
            assert!(status || (-299..=-100).contains(&v), "{r:?} = {v}");
            let fatal = matches!(
                r,
                h3q_result_code::H3Q_ERR_CONNECTION_CLOSED
                    | h3q_result_code::H3Q_ERR_PROTOCOL
                    | h3q_result_code::H3Q_ERR_INTERNAL
                    | h3q_result_code::H3Q_ERR_PANIC
                    | h3q_result_code::H3Q_ERR_POISONED
            );
            assert_eq!(fatal, v <= -200, "{r:?}");
        }
    }

    #[test]
    fn version_1_values_are_named_as_such() {
        assert_eq!(text(-1), "H3Q_DONE (ABI v1): nothing more");
        assert_eq!(
            text(-2),
            "H3Q_ERR_NULL (ABI v1): a required pointer was NULL"
        );
        assert_eq!(
            text(-15),
            "H3Q_ERR_POISONED (ABI v1): the handle was poisoned by an earlier panic"
        );
        assert_eq!(
            text(1),
            "H3Q_BLOCKED: waiting for QPACK encoder-stream data"
        );
        assert_eq!(text(0), "H3Q_OK: success");
    }
}
