//! # h3q: HTTP/3 for C and every language with an FFI
//!
//! h3q implements aioquic's sans-I/O HTTP/3 API in Rust and exports it through a C ABI.
//! The library does no I/O and reads no clock. The flow, for a server:
//!
//! 1. the application reads a UDP datagram and passes it, with the time, to the QUIC layer;
//! 2. the QUIC layer turns it into QUIC events (stream data, resets, datagrams ...);
//! 3. each QUIC event goes to the HTTP/3 connection (`h3::H3Connection::handle_event`);
//! 4. which returns HTTP events: headers, data, push promises, datagrams;
//! 5. the application answers with `send_headers` / `send_data`;
//! 6. the HTTP/3 connection writes frames into QUIC streams through its `Transport`;
//! 7. the application polls the QUIC layer for datagrams to send and a timer to arm.
//!
//! Modules: [`error`] (wire codes), [`field`] (header fields), [`qpack`] (field compression,
//! RFC 9204), [`h3`] (the HTTP/3 connection), [`quic`] (the built-in QUIC transport on
//! quinn-proto); inside the crate, `varint`, `frame` (HTTP/3 frames and SETTINGS,
//! incremental parsing), `headers` (received-header validation) and `ffi` (the C ABI; the
//! only module with `unsafe`). The layout and the habits behind it: docs/ARCHITECTURE.md.

// `unsafe` is confined to the C ABI in `ffi`, which opts back in.
#![deny(unsafe_code)]

pub mod error;
pub mod field;
pub mod h3;
pub mod qpack;
pub mod quic;

mod ffi;
mod headers;
// cbindgen reads the crate to write the header and cannot parse these hashed collection
// aliases; nothing in it concerns C.
/// cbindgen:ignore
mod stream_id_map;

// The wire-format helpers are the crate's own; the `fuzzing` feature opens them to the fuzz
// targets and the tests that build raw frames.
#[cfg(feature = "fuzzing")]
pub mod frame;
#[cfg(not(feature = "fuzzing"))]
mod frame;
#[cfg(feature = "fuzzing")]
pub mod varint;
#[cfg(not(feature = "fuzzing"))]
mod varint;

/// Fuzz target bodies and the test doubles they share with the test suite (feature
/// `fuzzing`, used by `fuzz/` and the tests that replay its corpora); not API, and not in
/// the shipped library.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

#[cfg(test)]
mod test_util;

/// The fake QUIC transport of the unit tests, the fuzz targets and the integration tests
/// (public with the feature `fuzzing`); not API, and not in the shipped library.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod test_transport;
