//! The handle pattern shared by every opaque C type.
//!
//! A C handle (`h3q_conn *`, ...) points at a [`Handle`]: the Rust value plus a poisoned
//! flag, the last error message and the ABI version of the program that created it. Every
//! export goes through [`call`] (or [`call_static`]): NULL checks first, then the panic
//! boundary, then the result encoded for the handle's ABI version. A panic caught there
//! poisons the handle, which then refuses every call except `*_free` and `*_last_error`.
//!
//! A NULL handle has no version to go by: that error is returned as the current version
//! numbers it (a program of an older version still sees a negative value).

use std::any::Any;
use std::cell::{Cell, RefCell, UnsafeCell};
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::abi::Abi;
use super::result::{h3q_result, h3q_result_code};

/// An error from inside an export: the code returned to C and the message stored as the
/// handle's (and the thread's) last error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FfiError {
    pub code: h3q_result_code,
    pub message: String,
}

impl FfiError {
    pub(crate) fn new(code: h3q_result_code, message: impl Into<String>) -> Self {
        FfiError {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn null(argument: &str) -> Self {
        FfiError::new(h3q_result_code::H3Q_ERR_NULL, format!("{argument} is NULL"))
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        FfiError::new(h3q_result_code::H3Q_ERR_INVALID_ARGUMENT, message)
    }
}

impl From<crate::error::ProtocolError> for FfiError {
    /// The error a connection closed with, found in peer input: `H3Q_ERR_PROTOCOL`, or
    /// `H3Q_ERR_INTERNAL` when the transport failed (H3_INTERNAL_ERROR); the message has
    /// the RFC error name, code and reason.
    fn from(error: crate::error::ProtocolError) -> Self {
        let code = if error.code == crate::error::ErrorCode::InternalError {
            h3q_result_code::H3Q_ERR_INTERNAL
        } else {
            h3q_result_code::H3Q_ERR_PROTOCOL
        };
        FfiError::new(code, error.to_string())
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
    /// The ABI version of the program that created the handle.
    abi: Abi,
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

/// Moves `inner` into a new heap handle for a program of ABI version `abi` and returns the
/// C pointer to it.
pub(crate) fn into_raw<C: Opaque>(inner: C::Inner, abi: Abi) -> *mut C {
    Box::into_raw(Box::new(Handle {
        inner: UnsafeCell::new(inner),
        poisoned: Cell::new(false),
        busy: Cell::new(false),
        last_error: RefCell::new(None),
        abi,
    }))
    .cast()
}

/// The ABI version of the program that created the handle ([`Abi::CURRENT`] for NULL).
///
/// # Safety
/// `ptr` is NULL or a live handle of type `C`.
pub(crate) unsafe fn abi<C: Opaque>(ptr: *const C) -> Abi {
    if ptr.is_null() {
        return Abi::CURRENT;
    }
    // SAFETY: the caller guarantees a live handle; handles are only borrowed shared.
    unsafe { &*ptr.cast::<Handle<C::Inner>>() }.abi
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

/// Runs `body` on the value behind `ptr` inside the panic boundary and gives back its
/// outcome, with every failure already recorded (on the handle and for the thread).
///
/// NULL `ptr` gives `H3Q_ERR_NULL`; a poisoned handle `H3Q_ERR_POISONED`; a handle already
/// inside a call (re-entered from a callback) `H3Q_ERR_INVALID_ARGUMENT`; an `Err` from
/// `body` that error; a panic `H3Q_ERR_PANIC` and a poisoned handle.
///
/// # Safety
/// `ptr` is NULL or a live handle of type `C`.
pub(crate) unsafe fn borrow<C: Opaque, R>(
    ptr: *mut C,
    body: impl FnOnce(&mut C::Inner) -> Result<R, FfiError>,
) -> Result<R, FfiError> {
    if ptr.is_null() {
        let error = FfiError::null(&format!("{} handle", C::NAME));
        record_thread_error(&error.message);
        return Err(error);
    }
    // SAFETY: the caller guarantees a live handle; handles are only borrowed shared.
    let handle = unsafe { &*ptr.cast::<Handle<C::Inner>>() };
    if handle.poisoned.get() {
        let message = format!("{} was poisoned by an earlier panic", C::NAME);
        record_thread_error(&message);
        return Err(FfiError::new(h3q_result_code::H3Q_ERR_POISONED, message));
    }
    if handle.busy.replace(true) {
        // Not stored on the handle: its last error belongs to the call in progress.
        let message = format!(
            "{} is already in use by the call that invoked this callback",
            C::NAME
        );
        record_thread_error(&message);
        return Err(FfiError::invalid(message));
    }
    // SAFETY: `busy` was false, so no other borrow of the value exists; it is released
    // (busy cleared) before any other call can borrow it.
    let inner = unsafe { &mut *handle.inner.get() };
    let outcome = catch_unwind(AssertUnwindSafe(|| body(inner)));
    handle.busy.set(false);
    match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => {
            handle.set_last_error(&error.message);
            Err(error)
        }
        Err(payload) => {
            handle.poisoned.set(true);
            let message = format!("panic in {}: {}", C::NAME, panic_message(&*payload));
            handle.set_last_error(&message);
            Err(FfiError::new(h3q_result_code::H3Q_ERR_PANIC, message))
        }
    }
}

/// [`borrow`] for an export: the outcome (`H3Q_OK` or the error's code) as the handle's
/// ABI version numbers it.
///
/// # Safety
/// `ptr` is NULL or a live handle of type `C`.
pub(crate) unsafe fn call<C: Opaque>(
    ptr: *mut C,
    body: impl FnOnce(&mut C::Inner) -> Result<(), FfiError>,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe { call_status(ptr, |inner| body(inner).map(|()| h3q_result_code::H3Q_OK)) }
}

/// [`call`] for functions whose success has more than one outcome: `body` returns the
/// status to report (`H3Q_OK`, `H3Q_DONE` for "nothing more", `H3Q_BLOCKED`).
///
/// # Safety
/// As [`call`].
pub(crate) unsafe fn call_status<C: Opaque>(
    ptr: *mut C,
    body: impl FnOnce(&mut C::Inner) -> Result<h3q_result_code, FfiError>,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract; `body` cannot free the handle (a free
    // from inside its own call is refused), so it is still live for `abi`.
    unsafe {
        let code = borrow(ptr, body).unwrap_or_else(|error| error.code);
        abi(ptr).encode(code)
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

/// The panic boundary for functions without a handle (constructors, free functions), for
/// a program of ABI version `abi`.
pub(crate) fn call_static(abi: Abi, body: impl FnOnce() -> Result<(), FfiError>) -> h3q_result {
    let code = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => h3q_result_code::H3Q_OK,
        Ok(Err(error)) => {
            record_thread_error(&error.message);
            error.code
        }
        Err(payload) => {
            record_thread_error(&format!("panic: {}", panic_message(&*payload)));
            h3q_result_code::H3Q_ERR_PANIC
        }
    };
    abi.encode(code)
}

/// [`call_static`] for a `*_versioned` constructor: `version` is checked first (an unknown
/// one gives `H3Q_ERR_UNSUPPORTED_VERSION`), then `body` runs with it.
pub(crate) fn call_versioned(
    version: std::ffi::c_int,
    body: impl FnOnce(Abi) -> Result<(), FfiError>,
) -> h3q_result {
    match Abi::from_c(version) {
        Ok(abi) => call_static(abi, || body(abi)),
        Err(error) => call_static(Abi::CURRENT, || Err(error)),
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
        assert_eq!(code, h3q_result_code::H3Q_ERR_NULL as i32);
        assert_eq!(text(thread_last_error()), "test_handle handle is NULL");
        assert!(unsafe { last_error::<TestHandle>(std::ptr::null()) }.is_null());
        unsafe { free::<TestHandle>(std::ptr::null_mut()) };
    }

    #[test]
    fn errors_are_returned_and_recorded_on_the_handle() {
        let h = into_raw::<TestHandle>(vec![1], Abi::CURRENT);
        assert!(unsafe { last_error(h) }.is_null());
        let code = unsafe { call(h, |_| Err(FfiError::invalid("bad\0value"))) };
        assert_eq!(code, h3q_result_code::H3Q_ERR_INVALID_ARGUMENT as i32);
        assert_eq!(text(unsafe { last_error(h) }), "bad\\0value");
        let code = unsafe {
            call(h, |v| {
                v.push(2);
                Ok(())
            })
        };
        assert_eq!(code, h3q_result_code::H3Q_OK as i32);
        unsafe { free(h) };
    }

    #[test]
    fn null_out_parameters_are_named() {
        let h = into_raw::<TestHandle>(vec![7, 8], Abi::CURRENT);
        let code = unsafe {
            call(h, |_| {
                non_null(std::ptr::null::<usize>(), "len_out")?;
                Ok(())
            })
        };
        assert_eq!(code, h3q_result_code::H3Q_ERR_NULL as i32);
        assert_eq!(text(thread_last_error()), "len_out is NULL");
        assert_eq!(text(unsafe { last_error(h) }), "len_out is NULL");
        unsafe { free(h) };
    }

    #[test]
    fn a_caught_panic_poisons_the_handle() {
        let h = into_raw::<TestHandle>(Vec::new(), Abi::CURRENT);
        let previous_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let code = unsafe { call(h, |_| panic!("boom")) };
        std::panic::set_hook(previous_hook);
        assert_eq!(code, h3q_result_code::H3Q_ERR_PANIC as i32);
        assert_eq!(text(unsafe { last_error(h) }), "panic in test_handle: boom");
        let code = unsafe { call(h, |_| Ok(())) };
        assert_eq!(code, h3q_result_code::H3Q_ERR_POISONED as i32);
        unsafe { free(h) };
    }

    #[test]
    fn reentrant_calls_are_refused_without_aliasing() {
        let h = into_raw::<TestHandle>(vec![1], Abi::CURRENT);
        let code = unsafe {
            call(h, |v| {
                v.push(2);
                let inner_code = call(h, |_| Ok(()));
                assert_eq!(inner_code, h3q_result_code::H3Q_ERR_INVALID_ARGUMENT as i32);
                free(h); // refused while busy
                v.push(3);
                Ok(())
            })
        };
        assert_eq!(code, h3q_result_code::H3Q_OK as i32);
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
        assert_eq!(code, h3q_result_code::H3Q_OK as i32);
        unsafe { free(h) };
    }

    #[test]
    fn results_are_numbered_as_the_handle_s_version_expects() {
        let v1 = into_raw::<TestHandle>(Vec::new(), Abi::V1);
        let v2 = into_raw::<TestHandle>(Vec::new(), Abi::V2);
        let done = |_: &mut Vec<u32>| Ok(h3q_result_code::H3Q_DONE);
        assert_eq!(unsafe { call_status(v1, done) }, -1);
        assert_eq!(unsafe { call_status(v2, done) }, 2);
        let refuse = |_: &mut Vec<u32>| Err(FfiError::invalid("no"));
        assert_eq!(unsafe { call(v1, refuse) }, -3);
        assert_eq!(unsafe { call(v2, refuse) }, -102);
        unsafe { free(v1) };
        unsafe { free(v2) };
        assert_eq!(call_versioned(1, |_| Err(FfiError::null("out"))), -2);
        assert_eq!(call_versioned(2, |_| Err(FfiError::null("out"))), -101);
        assert_eq!(call_versioned(99, |_| Ok(())), -111);
    }

    #[test]
    fn static_calls_catch_panics() {
        let previous_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let code = call_static(Abi::CURRENT, || panic!("static boom"));
        std::panic::set_hook(previous_hook);
        assert_eq!(code, h3q_result_code::H3Q_ERR_PANIC as i32);
        assert_eq!(text(thread_last_error()), "panic: static boom");
        assert_eq!(
            call_static(Abi::CURRENT, || Ok(())),
            h3q_result_code::H3Q_OK as i32
        );
    }
}
