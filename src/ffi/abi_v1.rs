//! The constructors of ABI version 1 under their h3q 0.1.0 names, for programs built
//! against that header: each creates its handle for version 1, so the program gets the
//! struct layouts and result values it was compiled for. Every later call reaches the
//! handle through the same functions as a current program's.
//!
//! The current header does not declare these symbols: it defines macros with the same names
//! that call the `*_versioned` functions with `H3Q_ABI_VERSION` (cbindgen.toml excludes
//! these functions and build.rs writes the macros).

use std::ffi::c_int;

use super::abi::Abi;
use super::config::{h3q_config, h3q_config_new_versioned};
use super::conn::{h3q_conn, h3q_conn_new_quic_versioned, h3q_conn_new_versioned};
use super::qpack_decoder::{h3q_qpack_decoder, h3q_qpack_decoder_new_versioned};
use super::qpack_encoder::{h3q_qpack_encoder, h3q_qpack_encoder_new_versioned};
use super::quic_conn::h3q_quic_conn;
use super::result::h3q_result;
use super::settings::{h3q_settings, h3q_settings_default_versioned};
use super::transport::h3q_transport;

const V1: c_int = Abi::V1 as c_int;

/// `h3q_config_new` of ABI version 1.
#[unsafe(no_mangle)]
pub extern "C" fn h3q_config_new(is_server: bool, out: *mut *mut h3q_config) -> h3q_result {
    h3q_config_new_versioned(V1, is_server, out)
}

/// `h3q_settings_default` of ABI version 1 (which returned nothing).
///
/// # Safety
/// `out` is NULL or writable for a version-1 `h3q_settings`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_settings_default(out: *mut h3q_settings) {
    // SAFETY: forwarded from the caller's contract. Version 1 ignored a NULL `out`; the
    // versioned call does too (it only reports it).
    unsafe { h3q_settings_default_versioned(V1, out) };
}

/// `h3q_conn_new` of ABI version 1.
///
/// # Safety
/// As `h3q_conn_new_versioned`, with version-1 structs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_new(
    transport: *const h3q_transport,
    settings: *const h3q_settings,
    out: *mut *mut h3q_conn,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe { h3q_conn_new_versioned(V1, transport, settings, out) }
}

/// `h3q_conn_new_quic` of ABI version 1.
///
/// # Safety
/// As `h3q_conn_new_quic_versioned`, with a version-1 `h3q_settings`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_new_quic(
    quic_conn: *mut h3q_quic_conn,
    settings: *const h3q_settings,
    out: *mut *mut h3q_conn,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe { h3q_conn_new_quic_versioned(V1, quic_conn, settings, out) }
}

/// `h3q_qpack_encoder_new` of ABI version 1.
#[unsafe(no_mangle)]
pub extern "C" fn h3q_qpack_encoder_new(out: *mut *mut h3q_qpack_encoder) -> h3q_result {
    h3q_qpack_encoder_new_versioned(V1, out)
}

/// `h3q_qpack_decoder_new` of ABI version 1.
#[unsafe(no_mangle)]
pub extern "C" fn h3q_qpack_decoder_new(
    max_table_capacity: u64,
    max_blocked_streams: u64,
    out: *mut *mut h3q_qpack_decoder,
) -> h3q_result {
    h3q_qpack_decoder_new_versioned(V1, max_table_capacity, max_blocked_streams, out)
}
