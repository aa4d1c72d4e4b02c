//! The C ABI. The only module with `unsafe`: it converts and checks arguments, catches
//! panics, and holds no protocol logic.
//!
//! - `result`: `h3q_result` and `h3q_result_str`;
//! - `handle`: the opaque-handle pattern and the panic boundary every export goes through;
//! - `version`: `h3q_version`;
//! - `last_error`: `h3q_last_error`, the thread's last error message.

#![allow(non_camel_case_types)]

// Used by the first handle types (QPACK, issue 3); the allow goes with them.
#[allow(dead_code)]
pub mod handle;
pub mod last_error;
pub mod result;
pub mod version;
