//! `h3q_last_error`: the calling thread's last error message.

use std::ffi::c_char;

/// The message of the last failing h3q call on the calling thread, or NULL if none failed
/// yet. Useful after a constructor fails, when there is no handle to ask. The string is
/// owned by the library and valid until the next failing h3q call on this thread; copy it to
/// keep it. Each handle also keeps its own last error (`*_last_error()`).
#[unsafe(no_mangle)]
pub extern "C" fn h3q_last_error() -> *const c_char {
    super::handle::thread_last_error()
}
