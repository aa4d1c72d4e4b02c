//! ABI versions: how a program built against an older `h3q.h` keeps working with a newer
//! library, without recompiling.
//!
//! Every handle remembers the ABI version of the program that created it (the
//! `*_versioned` constructors take it; the unversioned symbols of h3q 0.1.0, which the
//! current header maps to them through macros, are version 1). That version decides:
//!
//! - the values of the results the handle's calls return ([`Abi::encode`]): version 1
//!   returned `H3Q_DONE` as -1 and errors as -2 ... -15;
//! - the size of every public struct the library reads from or writes to that program
//!   (`h3q_settings`, `h3q_transport`, `h3q_quic_event`, `h3q_event`): structs only ever
//!   grow at the end, so an older version's struct is a prefix of the current one. The
//!   library reads the fields the caller's version has (defaults for the rest) and writes
//!   no byte past the caller's struct.
//!
//! Adding a field to a public struct: append it, bump [`Abi::CURRENT`] if the current
//! version was released, and give the new size to the older versions' `*_size` functions
//! below (their sizes are those of the frozen headers under `c-tests/abi/`).

use std::ffi::c_int;

use super::handle::FfiError;
use super::result::{h3q_result, h3q_result_code};

/// An ABI version this library serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Abi {
    /// h3q 0.1.0: the first header.
    V1 = 1,
    /// Results in ranges (statuses >= 0, refusals -1xx, fatal -2xx);
    /// `h3q_quic_event.error_space` and `.closed_by_peer`; `h3q_settings.enable_grease`;
    /// `h3q_event.error_code`, `.error_space`, `.closed_by_peer` and the lifecycle event
    /// types (GOAWAY, stream resets, STOP_SENDING, cancelled pushes, ORIGIN, the close);
    /// priorities: `h3q_event.priority` and `H3Q_EVENT_PRIORITY_UPDATE`,
    /// `h3q_transport.set_stream_priority`; `h3q_quic_stats`. Not released yet: it may
    /// still grow.
    V2 = 2,
}

/// The size of `h3q_settings` in ABI version 1 (104 bytes: up to and including
/// `max_buffering_streams`; `enable_grease` came with version 2).
const V1_SETTINGS_SIZE: usize = std::mem::offset_of!(super::settings::h3q_settings, enable_grease);

/// The size of `h3q_transport` in ABI version 1 (up to and including `close`;
/// `set_stream_priority` came with version 2).
const V1_TRANSPORT_SIZE: usize =
    std::mem::offset_of!(super::transport::h3q_transport, set_stream_priority);

/// `H3Q_ABI_VERSION` in the generated header; a unit test checks they agree.
pub(crate) const CURRENT_VERSION: c_int = Abi::CURRENT as c_int;

/// The size of `h3q_quic_event` in ABI version 1 (64 bytes on 64-bit targets: up to and
/// including `reason_len`).
const V1_QUIC_EVENT_SIZE: usize =
    std::mem::offset_of!(super::event::h3q_quic_event, reason_len) + std::mem::size_of::<usize>();

impl Abi {
    /// The version of the header this library generates.
    pub(crate) const CURRENT: Abi = Abi::V2;

    /// The version a `*_versioned` call was given.
    pub(crate) fn from_c(version: c_int) -> Result<Abi, FfiError> {
        match version {
            1 => Ok(Abi::V1),
            2 => Ok(Abi::V2),
            other => Err(FfiError::new(
                h3q_result_code::H3Q_ERR_UNSUPPORTED_VERSION,
                format!(
                    "ABI version {other} is not one this library serves (1 to {}): \
                     the program was built against a newer h3q.h than this libh3q",
                    CURRENT_VERSION
                ),
            )),
        }
    }

    /// `code` as a program of this version expects it.
    pub(crate) fn encode(self, code: h3q_result_code) -> h3q_result {
        match self {
            Abi::V2 => code as h3q_result,
            Abi::V1 => V1_VALUES
                .iter()
                .find(|(c, _, _)| *c == code)
                .map_or_else(|| v1_fallback(code), |(_, value, _)| *value),
        }
    }

    /// The code a version-1 value stands for (`None` for values version 1 never had).
    pub(crate) fn decode(self, value: h3q_result) -> Option<h3q_result_code> {
        match self {
            Abi::V2 => h3q_result_code::ALL
                .into_iter()
                .find(|c| *c as h3q_result == value),
            Abi::V1 => V1_VALUES
                .iter()
                .find(|(_, v, _)| *v == value)
                .map(|(c, _, _)| *c),
        }
    }

    /// The NUL-terminated text `h3q_result_str` gives for a version-1 value of `code`.
    pub(crate) fn v1_text(code: h3q_result_code) -> &'static str {
        V1_VALUES
            .iter()
            .find(|(c, _, _)| *c == code)
            .map_or("unknown h3q_result\0", |(_, _, text)| text)
    }

    /// The size of this version's `h3q_quic_event`.
    pub(crate) fn quic_event_size(self) -> usize {
        match self {
            Abi::V1 => V1_QUIC_EVENT_SIZE,
            Abi::V2 => std::mem::size_of::<super::event::h3q_quic_event>(),
        }
    }

    /// The size of this version's `h3q_settings`.
    pub(crate) fn settings_size(self) -> usize {
        match self {
            Abi::V1 => V1_SETTINGS_SIZE,
            Abi::V2 => std::mem::size_of::<super::settings::h3q_settings>(),
        }
    }

    /// The size of this version's `h3q_transport`.
    pub(crate) fn transport_size(self) -> usize {
        match self {
            Abi::V1 => V1_TRANSPORT_SIZE,
            Abi::V2 => std::mem::size_of::<super::transport::h3q_transport>(),
        }
    }

    /// True when this version's `h3q_quic_event` has `error_space` and `closed_by_peer`.
    pub(crate) fn has_close_details(self) -> bool {
        self >= Abi::V2
    }
}

/// The caller's version of a struct over `defaults`: `size` bytes copied from `ptr`, the
/// fields past them (those the caller's version lacks) left as in `defaults`. Bool and
/// enum fields may hold any byte: read them with `read_bool` / `read_enum`.
///
/// # Safety
/// `ptr` is readable for `size` bytes, and `size <= size_of::<T>()`.
pub(crate) unsafe fn read_prefix<T>(
    ptr: *const T,
    size: usize,
    defaults: T,
) -> std::mem::MaybeUninit<T> {
    debug_assert!(size <= std::mem::size_of::<T>());
    let mut merged = std::mem::MaybeUninit::new(defaults);
    // SAFETY: `ptr` readable for `size` bytes (caller's contract); `merged` is a whole `T`,
    // at least `size` bytes; the two do not overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(ptr.cast::<u8>(), merged.as_mut_ptr().cast(), size);
    }
    merged
}

/// Writes the first `size` bytes of `value` (the fields of the caller's version) to `out`,
/// nothing past them.
///
/// # Safety
/// `out` is writable for `size` bytes, and `size <= size_of::<T>()`.
pub(crate) unsafe fn write_prefix<T>(out: *mut T, size: usize, value: &T) {
    debug_assert!(size <= std::mem::size_of::<T>());
    // SAFETY: `out` writable for `size` bytes (caller's contract); `value` is a whole `T`.
    unsafe {
        std::ptr::copy_nonoverlapping(std::ptr::from_ref(value).cast::<u8>(), out.cast(), size);
    }
}

/// How version 1 numbered the codes (the values of h3q 0.1.0's header), with the text
/// `h3q_result_str` gives for them.
const V1_VALUES: [(h3q_result_code, h3q_result, &str); 17] = {
    use h3q_result_code as R;
    [
        (R::H3Q_OK, 0, "H3Q_OK: success\0"),
        (
            R::H3Q_BLOCKED,
            1,
            "H3Q_BLOCKED: waiting for QPACK encoder-stream data\0",
        ),
        (R::H3Q_DONE, -1, "H3Q_DONE (ABI v1): nothing more\0"),
        (
            R::H3Q_ERR_NULL,
            -2,
            "H3Q_ERR_NULL (ABI v1): a required pointer was NULL\0",
        ),
        (
            R::H3Q_ERR_INVALID_ARGUMENT,
            -3,
            "H3Q_ERR_INVALID_ARGUMENT (ABI v1): invalid argument\0",
        ),
        (
            R::H3Q_ERR_FRAME_UNEXPECTED,
            -4,
            "H3Q_ERR_FRAME_UNEXPECTED (ABI v1): not allowed in the stream's state\0",
        ),
        (
            R::H3Q_ERR_INVALID_STREAM_TYPE,
            -5,
            "H3Q_ERR_INVALID_STREAM_TYPE (ABI v1): wrong kind of stream\0",
        ),
        (
            R::H3Q_ERR_NO_AVAILABLE_PUSH_ID,
            -6,
            "H3Q_ERR_NO_AVAILABLE_PUSH_ID (ABI v1): no push id available\0",
        ),
        (
            R::H3Q_ERR_WRONG_ROLE,
            -7,
            "H3Q_ERR_WRONG_ROLE (ABI v1): not allowed for this role\0",
        ),
        (
            R::H3Q_ERR_CONNECTION_CLOSED,
            -8,
            "H3Q_ERR_CONNECTION_CLOSED (ABI v1): the connection is closed\0",
        ),
        (
            R::H3Q_ERR_TLS,
            -9,
            "H3Q_ERR_TLS (ABI v1): TLS or configuration error\0",
        ),
        (
            R::H3Q_ERR_PROTOCOL,
            -10,
            "H3Q_ERR_PROTOCOL (ABI v1): protocol error from the peer\0",
        ),
        (
            R::H3Q_ERR_TRANSPORT,
            -11,
            "H3Q_ERR_TRANSPORT (ABI v1): the transport refused\0",
        ),
        (
            R::H3Q_ERR_BUFFER_TOO_SMALL,
            -12,
            "H3Q_ERR_BUFFER_TOO_SMALL (ABI v1): the buffer is too small\0",
        ),
        (R::H3Q_ERR_IO, -13, "H3Q_ERR_IO (ABI v1): I/O error\0"),
        (
            R::H3Q_ERR_PANIC,
            -14,
            "H3Q_ERR_PANIC (ABI v1): internal panic caught; handle poisoned\0",
        ),
        (
            R::H3Q_ERR_POISONED,
            -15,
            "H3Q_ERR_POISONED (ABI v1): the handle was poisoned by an earlier panic\0",
        ),
    ]
};

/// Version 1 values for codes version 1 did not have: the closest it had.
fn v1_fallback(code: h3q_result_code) -> h3q_result {
    use h3q_result_code as R;
    let closest = match code {
        // Version 1 reported a transport failure during handle_event as H3Q_ERR_TRANSPORT.
        R::H3Q_ERR_INTERNAL => R::H3Q_ERR_TRANSPORT,
        _ => R::H3Q_ERR_INVALID_ARGUMENT,
    };
    Abi::V1.encode(closest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_1_values_are_those_of_the_first_header() {
        let v1 = |c| Abi::V1.encode(c);
        use h3q_result_code as R;
        assert_eq!(v1(R::H3Q_OK), 0);
        assert_eq!(v1(R::H3Q_BLOCKED), 1);
        assert_eq!(v1(R::H3Q_DONE), -1);
        assert_eq!(v1(R::H3Q_ERR_NULL), -2);
        assert_eq!(v1(R::H3Q_ERR_CONNECTION_CLOSED), -8);
        assert_eq!(v1(R::H3Q_ERR_PROTOCOL), -10);
        assert_eq!(v1(R::H3Q_ERR_POISONED), -15);
        assert_eq!(v1(R::H3Q_ERR_INTERNAL), -11);
        assert_eq!(v1(R::H3Q_ERR_UNSUPPORTED_VERSION), -3);
        for code in h3q_result_code::ALL {
            let value = v1(code);
            assert!((-15..=1).contains(&value), "{code:?} -> {value}");
            assert_eq!(Abi::V2.encode(code), code as i32);
            assert_eq!(Abi::V2.decode(code as i32), Some(code));
        }
        for value in -15..=1 {
            assert!(Abi::V1.decode(value).is_some(), "{value}");
        }
    }

    #[test]
    fn versions_from_c() {
        assert_eq!(Abi::from_c(1).unwrap(), Abi::V1);
        assert_eq!(Abi::from_c(CURRENT_VERSION).unwrap(), Abi::CURRENT);
        for bad in [0, -1, CURRENT_VERSION + 1, c_int::MAX] {
            let e = Abi::from_c(bad).unwrap_err();
            assert_eq!(e.code, h3q_result_code::H3Q_ERR_UNSUPPORTED_VERSION);
        }
    }

    #[test]
    fn the_header_declares_the_current_version() {
        let header = include_str!("../../include/h3q.h");
        let line = format!("#define H3Q_ABI_VERSION {CURRENT_VERSION}\n");
        assert!(header.contains(&line), "include/h3q.h lacks {line:?}");
    }

    #[test]
    fn version_1_structs_are_prefixes() {
        #[cfg(target_pointer_width = "64")]
        assert_eq!(V1_QUIC_EVENT_SIZE, 64);
        assert_eq!(V1_SETTINGS_SIZE, 104);
        #[cfg(target_pointer_width = "64")]
        assert_eq!(V1_TRANSPORT_SIZE, 72);
        assert!(Abi::V1.settings_size() < Abi::V2.settings_size());
        assert!(Abi::V1.transport_size() < Abi::V2.transport_size());
        assert!(Abi::V1.quic_event_size() < Abi::V2.quic_event_size());
    }
}
