//! Memory a C caller lends to h3q instead of having it copied: `h3q_release_cb` and the
//! [`Bytes`] owner that calls it back.

use std::ffi::c_void;

use bytes::Bytes;

use super::handle::FfiError;
use super::slice::bytes_arg;

/// Gives lent memory back: h3q calls it once with the `release_ctx` it was given, when it no
/// longer reads the memory (see `h3q_conn_send_data_zerocopy()`). It runs inside whichever
/// h3q call lets go of the bytes last, on that call's thread; it must not call h3q functions
/// on the connection or endpoint involved (they would fail as busy) and must return
/// normally (no `longjmp`, no C++ exception).
pub type h3q_release_cb = Option<unsafe extern "C" fn(release_ctx: *mut c_void)>;

/// Lent memory with its release callback. Dropping it calls the callback (once).
struct Lent {
    ptr: *const u8,
    len: usize,
    release: h3q_release_cb,
    ctx: *mut c_void,
}

// SAFETY: the lender's contract (h3q_conn_send_data_zerocopy) keeps the memory valid and
// unchanged until the release callback runs, and allows that callback on any thread that
// drives the connection, which is all that moving a `Lent` between threads can cause.
unsafe impl Send for Lent {}

impl AsRef<[u8]> for Lent {
    fn as_ref(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: checked by `lend` (non-NULL, length within isize); valid until release
        // (the lender's contract), and `self` is alive.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            // SAFETY: a C function pointer the lender gave for exactly this call.
            unsafe { release(self.ctx) }
        }
    }
}

/// A guard that releases `ptr` (through `release`) when dropped, unless turned into
/// [`Bytes`] with [`LentGuard::into_bytes`]: whatever happens to the call that received
/// it, the memory is released exactly once.
pub(crate) struct LentGuard(Lent);

impl LentGuard {
    /// Takes charge of lent memory; nothing is checked yet.
    pub(crate) fn new(
        ptr: *const u8,
        len: usize,
        release: h3q_release_cb,
        ctx: *mut c_void,
    ) -> Self {
        LentGuard(Lent {
            ptr,
            len,
            release,
            ctx,
        })
    }

    /// The memory read in place for the length of a call that copies what it keeps; it
    /// is released when the guard is dropped, after that call. Fails like
    /// [`LentGuard::into_bytes`] (the guard still releases when dropped).
    ///
    /// # Safety
    /// `ptr` is valid for reading `len` bytes until the release callback runs.
    pub(crate) unsafe fn as_slice(&self, name: &str) -> Result<&[u8], FfiError> {
        // SAFETY: forwarded from the caller's contract.
        unsafe { bytes_arg(self.0.ptr, self.0.len, name) }
    }

    /// The memory as [`Bytes`] read in place, released when the last clone is dropped.
    /// Fails (and releases at once) when `ptr` is NULL with a non-zero length or the
    /// length is impossible.
    ///
    /// # Safety
    /// `ptr` is valid for reading `len` bytes until the release callback runs.
    pub(crate) unsafe fn into_bytes(self, name: &str) -> Result<Bytes, FfiError> {
        // SAFETY: forwarded from the caller's contract; only checks and borrows briefly.
        unsafe { bytes_arg(self.0.ptr, self.0.len, name)? };
        Ok(Bytes::from_owner(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    thread_local! {
        static RELEASED: Cell<usize> = const { Cell::new(0) };
    }

    unsafe extern "C" fn count(_ctx: *mut c_void) {
        RELEASED.with(|r| r.set(r.get() + 1));
    }

    fn released() -> usize {
        RELEASED.with(|r| r.replace(0))
    }

    #[test]
    fn released_once_when_the_last_clone_goes() {
        let data = [1u8, 2, 3, 4];
        let guard = LentGuard::new(data.as_ptr(), data.len(), Some(count), std::ptr::null_mut());
        // SAFETY: `data` outlives every clone below.
        let bytes = unsafe { guard.into_bytes("data") }.unwrap();
        assert_eq!(bytes.as_ptr(), data.as_ptr(), "read in place, not copied");
        let part = bytes.slice(1..3);
        drop(bytes);
        assert_eq!(released(), 0);
        assert_eq!(&part[..], &[2, 3]);
        drop(part);
        assert_eq!(released(), 1);
    }

    #[test]
    fn released_at_once_when_refused_or_unused() {
        let guard = LentGuard::new(std::ptr::null(), 5, Some(count), std::ptr::null_mut());
        // SAFETY: NULL is refused before any read.
        assert!(unsafe { guard.into_bytes("data") }.is_err());
        assert_eq!(released(), 1);
        drop(LentGuard::new(
            std::ptr::null(),
            0,
            Some(count),
            std::ptr::null_mut(),
        ));
        assert_eq!(released(), 1);
        // No callback: nothing to call.
        let guard = LentGuard::new(std::ptr::null(), 0, None, std::ptr::null_mut());
        // SAFETY: an empty buffer is never read.
        assert!(unsafe { guard.into_bytes("data") }.unwrap().is_empty());
        assert_eq!(released(), 0);
    }
}
