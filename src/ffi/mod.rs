//! The C ABI. The only module with `unsafe`: it converts and checks arguments, catches
//! panics, and holds no protocol logic.
//!
//! - `result`: `h3q_result` and `h3q_result_str`;
//! - `handle`: the opaque-handle pattern and the panic boundary every export goes through;
//! - `version`: `h3q_version`;
//! - `last_error`: `h3q_last_error`, the thread's last error message;
//! - `slice`, `header`: arrays, byte buffers and `h3q_header` lists from C;
//! - `lent`: memory C lends to h3q instead of having it copied (`h3q_release_cb`);
//! - `qpack_encoder`, `qpack_decoder`: the standalone QPACK C API;
//! - `settings`, `transport`, `event`, `event_scratch`, `conn`, `conn_transport`: the
//!   HTTP/3 connection (`h3q_conn`) over a C QUIC stack;
//! - `config`, `endpoint`, `quic_conn`, `quic_error`, `sockaddr`: the built-in QUIC layer
//!   (`h3q_config`, `h3q_endpoint`, `h3q_quic_conn`);
//! - `read`: reading C `bool`s and enums without trusting their values;
//! - `fuzz`: the `ffi_calls` fuzz target (feature `fuzzing`; re-exported by `crate::fuzzing`).

#![allow(non_camel_case_types)]
#![allow(unsafe_code)]

pub mod abi;
pub mod abi_v1;
pub mod client_auth;
pub mod config;
pub mod conn;
pub mod conn_lifecycle;
pub mod conn_transport;
pub mod endpoint;
pub mod event;
mod event_scratch;
#[cfg(feature = "fuzzing")]
pub mod fuzz;
#[cfg(feature = "fuzzing")]
mod fuzz_quic;
pub mod handle;
pub mod header;
pub mod last_error;
pub mod lent;
pub mod path_mtu;
pub mod priority;
pub mod qpack_decoder;
pub mod qpack_encoder;
pub mod quic_conn;
pub mod quic_error;
pub mod quic_lb;
pub mod quic_stats;
pub mod read;
pub mod recovery;
pub mod result;
pub mod resumption;
pub mod settings;
pub mod slice;
pub mod sockaddr;
pub mod transport;
pub mod version;
pub mod wire_error;
