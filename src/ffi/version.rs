//! The library version, checked against the header's `H3Q_VERSION_*` macros.

use std::ffi::c_char;

/// The library version as a static, NUL-terminated string, e.g. `"0.1.0"`: the same as the
/// `H3Q_VERSION_MAJOR.H3Q_VERSION_MINOR.H3Q_VERSION_PATCH` macros of the header it was built
/// with. Owned by the library; never free it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn h3q_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
