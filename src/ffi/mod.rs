//! The C ABI. The only module with `unsafe`: it converts and checks arguments, catches
//! panics, and holds no protocol logic.
//!
//! - `result`: `h3q_result` and `h3q_result_str`;
//! - `handle`: the opaque-handle pattern and the panic boundary every export goes through;
//! - `version`: `h3q_version`;
//! - `last_error`: `h3q_last_error`, the thread's last error message;
//! - `slice`, `header`: arrays, byte buffers and `h3q_header` lists from C;
//! - `qpack_encoder`, `qpack_decoder`: the standalone QPACK C API.

#![allow(non_camel_case_types)]

pub mod handle;
pub mod header;
pub mod last_error;
pub mod qpack_decoder;
pub mod qpack_encoder;
pub mod result;
pub mod slice;
pub mod version;
