//! `h3q_settings`: the HTTP/3 connection's configuration, as C sees it.

use crate::h3::Settings;

use std::ffi::c_int;

use super::abi::{Abi, read_prefix, write_prefix};
use super::handle::{call_versioned, non_null};
use super::read::read_bool;
use super::result::h3q_result;

/// The configuration of an HTTP/3 connection (`h3q_conn_new`, `h3q_conn_new_quic`).
///
/// Always initialise one with `h3q_settings_default()` and then change the fields you care
/// about. Versioned (`H3Q_SETTINGS_VERSION`): fields are only ever appended, and h3q reads
/// only the fields of the ABI version the connection was created with, so a program built
/// against an older h3q.h keeps working; fields it does not know keep their defaults.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct h3q_settings {
    /// Our QPACK decoder's dynamic table capacity, advertised as
    /// SETTINGS_QPACK_MAX_TABLE_CAPACITY. Default 4096.
    pub qpack_max_table_capacity: u64,
    /// How many streams may wait for QPACK encoder-stream data at once, advertised as
    /// SETTINGS_QPACK_BLOCKED_STREAMS. Default 16.
    pub qpack_blocked_streams: u64,
    /// A client's initial MAX_PUSH_ID: push ids 0..=max_push_id may be promised to it.
    /// Default 8. Ignored by a server.
    pub max_push_id: u64,
    /// The largest field section (headers) we accept, advertised as
    /// SETTINGS_MAX_FIELD_SECTION_SIZE and enforced; 0 = unlimited. Default 0.
    pub max_field_section_size: u64,
    /// Advertise SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (extended CONNECT). Default true.
    pub enable_connect_protocol: bool,
    /// Advertise SETTINGS_H3_DATAGRAM = 1 and SETTINGS_ENABLE_WEBTRANSPORT = 1.
    /// Default false.
    pub enable_webtransport: bool,
    /// The largest frame payload kept whole before it is handled (HEADERS, PUSH_PROMISE,
    /// SETTINGS); a larger one closes the connection with H3_EXCESSIVE_LOAD. Default 65536.
    pub max_buffered_frame_size: u64,
    /// The most bytes held back on one stream behind a field section that waits for QPACK
    /// encoder-stream data; more closes the connection with H3_EXCESSIVE_LOAD.
    /// Default 1048576.
    pub max_blocked_stream_bytes: u64,
    /// The largest decoded field section accepted while `max_field_section_size` is 0
    /// (name + value + 32 per field); stops small sections that expand through
    /// dynamic-table references. More closes with QPACK_DECOMPRESSION_FAILED (0x200).
    /// Default 262144. 0 = unlimited.
    pub max_decoded_field_section_size: u64,
    /// The most entries the peer's SETTINGS may carry; more closes with
    /// H3_EXCESSIVE_LOAD (0x107). Default 256.
    pub max_settings_entries: u64,
    /// Per stream, the most DATA and unknown frames beyond one per 16 payload bytes
    /// (floods of empty or tiny frames); more closes with H3_EXCESSIVE_LOAD. Default 10000.
    pub max_cheap_frames: u64,
    /// Streams reset by the peer before their message ended, beyond the messages it
    /// completed ("rapid reset"); more closes with H3_EXCESSIVE_LOAD. Default 1000.
    pub max_excess_resets: u64,
    /// Bytes the peer's QPACK encoder stream may insert (name + value + 32 per entry)
    /// without a field section referencing the dynamic table; more closes with
    /// H3_EXCESSIVE_LOAD. Default 1048576.
    pub max_unreferenced_insert_bytes: u64,
    /// The most streams holding partial HEADERS / PUSH_PROMISE payloads or data behind a
    /// blocked field section at once; more closes with H3_EXCESSIVE_LOAD. Default 256.
    pub max_buffering_streams: u64,
    /// Send reserved ("GREASE") values the peer must ignore: a reserved setting and a
    /// reserved frame on the control stream, chosen at random per connection (RFC 9114
    /// §7.2.8), so that peers that choke on unknown types are found early. Default true.
    /// ABI version 2.
    pub enable_grease: bool,
}

impl From<&Settings> for h3q_settings {
    fn from(s: &Settings) -> Self {
        h3q_settings {
            qpack_max_table_capacity: s.qpack_max_table_capacity,
            qpack_blocked_streams: s.qpack_blocked_streams,
            max_push_id: s.max_push_id,
            max_field_section_size: s.max_field_section_size,
            enable_connect_protocol: s.enable_connect_protocol,
            enable_webtransport: s.enable_webtransport,
            max_buffered_frame_size: s.max_buffered_frame_size,
            max_blocked_stream_bytes: s.max_blocked_stream_bytes,
            max_decoded_field_section_size: s.max_decoded_field_section_size,
            max_settings_entries: s.max_settings_entries,
            max_cheap_frames: s.max_cheap_frames,
            max_excess_resets: s.max_excess_resets,
            max_unreferenced_insert_bytes: s.max_unreferenced_insert_bytes,
            max_buffering_streams: s.max_buffering_streams,
            enable_grease: s.enable_grease,
        }
    }
}

/// Reads settings from a C program of ABI version `abi` (fields its version lacks keep
/// their defaults) without trusting its `bool`s to be 0 or 1.
///
/// # Safety
/// `ptr` is non-NULL and points at a readable `h3q_settings` of that version.
pub(crate) unsafe fn settings_from_c(ptr: *const h3q_settings, abi: Abi) -> Settings {
    let defaults = h3q_settings::from(&Settings::default());
    // SAFETY: readable for the caller's version (caller's contract).
    let merged = unsafe { read_prefix(ptr, abi.settings_size(), defaults) };
    let ptr = merged.as_ptr();
    // SAFETY: every field of `merged` is initialised (defaults, or the caller's bytes);
    // fields are read through raw pointers so that an out-of-range bool byte is never
    // materialised as a Rust bool.
    unsafe {
        Settings {
            qpack_max_table_capacity: (*ptr).qpack_max_table_capacity,
            qpack_blocked_streams: (*ptr).qpack_blocked_streams,
            max_push_id: (*ptr).max_push_id,
            max_field_section_size: (*ptr).max_field_section_size,
            enable_connect_protocol: read_bool(&raw const (*ptr).enable_connect_protocol),
            enable_webtransport: read_bool(&raw const (*ptr).enable_webtransport),
            max_buffered_frame_size: (*ptr).max_buffered_frame_size,
            max_blocked_stream_bytes: (*ptr).max_blocked_stream_bytes,
            max_decoded_field_section_size: (*ptr).max_decoded_field_section_size,
            max_settings_entries: (*ptr).max_settings_entries,
            max_cheap_frames: (*ptr).max_cheap_frames,
            max_excess_resets: (*ptr).max_excess_resets,
            max_unreferenced_insert_bytes: (*ptr).max_unreferenced_insert_bytes,
            max_buffering_streams: (*ptr).max_buffering_streams,
            enable_grease: read_bool(&raw const (*ptr).enable_grease),
        }
    }
}

/// The size in bytes of `h3q_settings` as this header declares it (the current ABI
/// version's). Superseded by versioning: a binding passes the ABI version it mirrors to
/// `h3q_settings_default_versioned()` and `h3q_conn_new_versioned()`, and h3q reads and
/// writes only that version's fields. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn h3q_settings_size() -> usize {
    std::mem::size_of::<h3q_settings>()
}

/// Writes the default settings of ABI version `abi_version` to `*out` (only that version's
/// fields: a struct declared by an older h3q.h is never written past its end). The
/// `h3q_settings_default()` macro passes `H3Q_ABI_VERSION`. Thread-safe.
///
/// Returns `H3Q_OK`, `H3Q_ERR_NULL` or `H3Q_ERR_UNSUPPORTED_VERSION`.
///
/// # Safety
/// `out` is NULL or writable for that version's `h3q_settings`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_settings_default_versioned(
    abi_version: c_int,
    out: *mut h3q_settings,
) -> h3q_result {
    call_versioned(abi_version, |abi| {
        non_null(out, "out")?;
        let defaults = h3q_settings::from(&Settings::default());
        // SAFETY: non-NULL and writable for the caller's version (caller's contract).
        unsafe { write_prefix(out, abi.settings_size(), &defaults) };
        Ok(())
    })
}
