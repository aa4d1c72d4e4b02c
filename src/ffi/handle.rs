//! The handle pattern shared by every opaque C type.
//!
//! A C handle (`h3q_conn *`, ...) points at a [`Handle`]: the Rust value plus a poisoned
//! flag and the last error message. Every export goes through [`call`] (or
//! [`call_static`]): NULL checks first, then the panic boundary. A panic caught there
//! poisons the handle, which then refuses every call except `*_free` and `*_last_error`.

use std::any::Any;
use std::cell::{Cell, RefCell, UnsafeCell};
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::result::h3q_result;

/// An error from inside an export: the code returned to C and the message stored as the
/// handle's (and the thread's) last error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FfiError {
    pub code: h3q_result,
    pub message: String,
}

impl FfiError {
    pub(crate) fn new(code: h3q_result, message: impl Into<String>) -> Self {
        FfiError {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn null(argument: &str) -> Self {
        FfiError::new(h3q_result::H3Q_ERR_NULL, format!("{argument} is NULL"))
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        FfiError::new(h3q_result::H3Q_ERR_INVALID_ARGUMENT, message)
    }
}

impl From<crate::error::ProtocolError> for FfiError {
    /// A protocol error found in peer input: `H3Q_ERR_PROTOCOL`, with the RFC error name,
    /// code and reason as the message.
    fn from(error: crate::error::ProtocolError) -> Self {
        FfiError::new(h3q_result::H3Q_ERR_PROTOCOL, error.to_string())
    }
}

/// Ties an opaque C type to the Rust type its handles hold.
pub(crate) trait Opaque {
    /// The Rust value behind the handle.
    type Inner;
    /// The C type's name, for messages ("h3q_conn").
    const NAME: &'static str;
}

/// What a C handle points at.
///
/// The value sits in an `UnsafeCell` and the flags in `Cell`s, so the handle itself is only
/// ever borrowed shared: a call that re-enters the same handle from inside a callback (for
/// example from a transport function h3q is calling) sees `busy` and is refused, without two
/// `&mut` to the value ever existing.
pub(crate) struct Handle<T> {
    inner: UnsafeCell<T>,
    poisoned: Cell<bool>,
    busy: Cell<bool>,
    last_error: RefCell<Option<CString>>,
}

impl<T> Handle<T> {
    fn set_last_error(&self, message: &str) {
        record_thread_error(message);
        *self.last_error.borrow_mut() = Some(c_message(message));
    }
}

thread_local! {
    /// The last error message of any call on this thread (for constructors, which fail
    /// before a handle exists).
    static THREAD_LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

fn c_message(message: &str) -> CString {
    // Interior NULs cannot cross into C; replace them rather than lose the message.
    CString::new(message.replace('\0', "\\0")).expect("NULs were replaced")
}

fn record_thread_error(message: &str) {
    THREAD_LAST_ERROR.with(|slot| *slot.borrow_mut() = Some(c_message(message)));
}

/// The calling thread's last error message, or NULL when none was recorded. Valid until the
/// next failing h3q call on this thread.
pub(crate) fn thread_last_error() -> *const c_char {
    THREAD_LAST_ERROR.with(|slot| {
        slot.borrow()
            .as_ref()
            .map_or(std::ptr::null(), |message| message.as_ptr())
    })
}

/// Moves `inner` into a new heap handle and returns the C pointer to it.
pub(crate) fn into_raw<C: Opaque>(inner: C::Inner) -> *mut C {
    Box::into_raw(Box::new(Handle {
        inner: UnsafeCell::new(inner),
        poisoned: Cell::new(false),
        busy: Cell::new(false),
        last_error: RefCell::new(None),
    }))
    .cast()
}

/// Frees a handle made by [`into_raw`]. NULL is a no-op. A panic in the value's destructor
/// is caught (and the memory leaked rather than unwinding into C). A handle that is inside
/// a call (freed from a callback of that call) is not freed: that would pull the value from
/// under the running call; the error is recorded for the thread instead.
///
/// # Safety
/// `ptr` is NULL or came from `into_raw::<C>` and was not freed before.
pub(crate) unsafe fn free<C: Opaque>(ptr: *mut C) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: a live handle (caller's contract); only borrowed shared here.
    if unsafe { &*ptr.cast::<Handle<C::Inner>>() }.busy.get() {
        record_thread_error(&format!(
            "{} cannot be freed from inside one of its own calls",
            C::NAME
        ));
        return;
    }
    // SAFETY: the caller guarantees `ptr` came from `into_raw::<C>` (a `Box<Handle<_>>`).
    let boxed = unsafe { Box::from_raw(ptr.cast::<Handle<C::Inner>>()) };
    if catch_unwind(AssertUnwindSafe(move || drop(boxed))).is_err() {
        record_thread_error(&format!("panic while freeing {}", C::NAME));
    }
}

/// The handle's last error message, or NULL when there was none or `ptr` is NULL. The string
/// belongs to the handle and stays valid until the next failing call on it or its free.
///
/// # Safety
/// `ptr` is NULL or a live handle of type `C`.
pub(crate) unsafe fn last_error<C: Opaque>(ptr: *const C) -> *const c_char {
    if ptr.is_null() {
        return std::ptr::null();
    }
    // SAFETY: the caller guarantees a live handle; handles are only borrowed shared.
    let handle = unsafe { &*ptr.cast::<Handle<C::Inner>>() };
    handle
        .last_error
        .borrow()
        .as_ref()
        .map_or(std::ptr::null(), |message| message.as_ptr())
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "unknown panic payload".to_owned()
    }
}

/// Runs `body` on the value behind `ptr` inside the panic boundary.
///
/// NULL `ptr` gives `H3Q_ERR_NULL`; a poisoned handle `H3Q_ERR_POISONED`; a handle already
/// inside a call (re-entered from a callback) `H3Q_ERR_INVALID_ARGUMENT`; an `Err` from
/// `body` its code (message stored); a panic `H3Q_ERR_PANIC` and a poisoned handle.
///
/// # Safety
/// `ptr` is NULL or a live handle of type `C`.
pub(crate) unsafe fn call<C: Opaque>(
    ptr: *mut C,
    body: impl FnOnce(&mut C::Inner) -> Result<(), FfiError>,
) -> h3q_result {
    if ptr.is_null() {
        record_thread_error(&format!("{} handle is NULL", C::NAME));
        return h3q_result::H3Q_ERR_NULL;
    }
    // SAFETY: the caller guarantees a live handle; handles are only borrowed shared.
    let handle = unsafe { &*ptr.cast::<Handle<C::Inner>>() };
    if handle.poisoned.get() {
        record_thread_error(&format!("{} was poisoned by an earlier panic", C::NAME));
        return h3q_result::H3Q_ERR_POISONED;
    }
    if handle.busy.replace(true) {
        // Not stored on the handle: its last error belongs to the call in progress.
        record_thread_error(&format!(
            "{} is already in use by the call that invoked this callback",
            C::NAME
        ));
        return h3q_result::H3Q_ERR_INVALID_ARGUMENT;
    }
    // SAFETY: `busy` was false, so no other borrow of the value exists; it is released
    // (busy cleared) before any other call can borrow it.
    let inner = unsafe { &mut *handle.inner.get() };
    let outcome = catch_unwind(AssertUnwindSafe(|| body(inner)));
    handle.busy.set(false);
    match outcome {
        Ok(Ok(())) => h3q_result::H3Q_OK,
        Ok(Err(error)) => {
            handle.set_last_error(&error.message);
            error.code
        }
        Err(payload) => {
            handle.poisoned.set(true);
            handle.set_last_error(&format!(
                "panic in {}: {}",
                C::NAME,
                panic_message(&*payload)
            ));
            h3q_result::H3Q_ERR_PANIC
        }
    }
}

/// [`call`] for functions whose success has more than one outcome: `body` returns the
/// status to report (`H3Q_OK`, `H3Q_DONE` for "nothing more", `H3Q_BLOCKED`).
///
/// # Safety
/// As [`call`].
pub(crate) unsafe fn call_status<C: Opaque>(
    ptr: *mut C,
    body: impl FnOnce(&mut C::Inner) -> Result<h3q_result, FfiError>,
) -> h3q_result {
    let mut status = h3q_result::H3Q_OK;
    // SAFETY: forwarded from the caller's contract.
    let result = unsafe {
        call(ptr, |inner| {
            status = body(inner)?;
            Ok(())
        })
    };
    if result == h3q_result::H3Q_OK {
        status
    } else {
        result
    }
}

/// Fails with `H3Q_ERR_NULL` naming `name` when `ptr` is NULL (for out-parameters, checked
/// before anything is done).
pub(crate) fn non_null<T>(ptr: *const T, name: &str) -> Result<(), FfiError> {
    if ptr.is_null() {
        Err(FfiError::null(name))
    } else {
        Ok(())
    }
}

/// The panic boundary for functions without a handle (constructors, free functions).
pub(crate) fn call_static(body: impl FnOnce() -> Result<(), FfiError>) -> h3q_result {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => h3q_result::H3Q_OK,
        Ok(Err(error)) => {
            record_thread_error(&error.message);
            error.code
        }
        Err(payload) => {
            record_thread_error(&format!("panic: {}", panic_message(&*payload)));
            h3q_result::H3Q_ERR_PANIC
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    struct TestHandle {
        _private: [u8; 0],
    }
    impl Opaque for TestHandle {
        type Inner = Vec<u32>;
        const NAME: &'static str = "test_handle";
    }

    fn text(ptr: *const c_char) -> String {
        assert!(!ptr.is_null());
        unsafe { CStr::from_ptr(ptr) }.to_str().unwrap().to_owned()
    }

    #[test]
    fn null_handle_is_reported_not_dereferenced() {
        let code = unsafe { call::<TestHandle>(std::ptr::null_mut(), |_| Ok(())) };
        assert_eq!(code, h3q_result::H3Q_ERR_NULL);
        assert_eq!(text(thread_last_error()), "test_handle handle is NULL");
        assert!(unsafe { last_error::<TestHandle>(std::ptr::null()) }.is_null());
        unsafe { free::<TestHandle>(std::ptr::null_mut()) };
    }

    #[test]
    fn errors_are_returned_and_recorded_on_the_handle() {
        let h = into_raw::<TestHandle>(vec![1]);
        assert!(unsafe { last_error(h) }.is_null());
        let code = unsafe { call(h, |_| Err(FfiError::invalid("bad\0value"))) };
        assert_eq!(code, h3q_result::H3Q_ERR_INVALID_ARGUMENT);
        assert_eq!(text(unsafe { last_error(h) }), "bad\\0value");
        let code = unsafe {
            call(h, |v| {
                v.push(2);
                Ok(())
            })
        };
        assert_eq!(code, h3q_result::H3Q_OK);
        unsafe { free(h) };
    }

    #[test]
    fn null_out_parameters_are_named() {
        let h = into_raw::<TestHandle>(vec![7, 8]);
        let code = unsafe {
            call(h, |_| {
                non_null(std::ptr::null::<usize>(), "len_out")?;
                Ok(())
            })
        };
        assert_eq!(code, h3q_result::H3Q_ERR_NULL);
        assert_eq!(text(thread_last_error()), "len_out is NULL");
        assert_eq!(text(unsafe { last_error(h) }), "len_out is NULL");
        unsafe { free(h) };
    }

    #[test]
    fn a_caught_panic_poisons_the_handle() {
        let h = into_raw::<TestHandle>(Vec::new());
        let previous_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let code = unsafe { call(h, |_| panic!("boom")) };
        std::panic::set_hook(previous_hook);
        assert_eq!(code, h3q_result::H3Q_ERR_PANIC);
        assert_eq!(text(unsafe { last_error(h) }), "panic in test_handle: boom");
        let code = unsafe { call(h, |_| Ok(())) };
        assert_eq!(code, h3q_result::H3Q_ERR_POISONED);
        unsafe { free(h) };
    }

    #[test]
    fn reentrant_calls_are_refused_without_aliasing() {
        let h = into_raw::<TestHandle>(vec![1]);
        let code = unsafe {
            call(h, |v| {
                v.push(2);
                let inner_code = call(h, |_| Ok(()));
                assert_eq!(inner_code, h3q_result::H3Q_ERR_INVALID_ARGUMENT);
                free(h); // refused while busy
                v.push(3);
                Ok(())
            })
        };
        assert_eq!(code, h3q_result::H3Q_OK);
        assert_eq!(
            text(thread_last_error()),
            "test_handle cannot be freed from inside one of its own calls"
        );
        let code = unsafe {
            call(h, |v| {
                assert_eq!(v, &[1, 2, 3]);
                Ok(())
            })
        };
        assert_eq!(code, h3q_result::H3Q_OK);
        unsafe { free(h) };
    }

    #[test]
    fn static_calls_catch_panics() {
        let previous_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let code = call_static(|| panic!("static boom"));
        std::panic::set_hook(previous_hook);
        assert_eq!(code, h3q_result::H3Q_ERR_PANIC);
        assert_eq!(text(thread_last_error()), "panic: static boom");
        assert_eq!(call_static(|| Ok(())), h3q_result::H3Q_OK);
    }
}
