//! The HTTP/3 connection: aioquic's `H3Connection`, sans-I/O, over any QUIC transport.

pub mod event;
pub mod transport;
