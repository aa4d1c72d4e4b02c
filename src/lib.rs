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
//! Modules: [`error`] (wire codes), [`varint`], [`field`] (header fields), [`qpack`] (field
//! compression, RFC 9204), [`frame`] (HTTP/3 frames and SETTINGS, incremental parsing),
//! [`headers`] (received-header validation), [`h3`] (the HTTP/3 connection), [`quic`] (the
//! built-in QUIC transport on quinn-proto), `ffi` (the C ABI; the only module with `unsafe`).

pub mod error;
pub mod field;
pub mod frame;
pub mod h3;
pub mod headers;
pub mod qpack;
pub mod quic;
pub mod varint;

mod ffi;
