//! Arrays coming from C: NULL is accepted only with a length of 0.

use super::handle::FfiError;

/// Borrows `len` values at `ptr` for the duration of a call.
///
/// # Safety
/// `ptr` is NULL with `len` 0, or valid for reading `len` values of `T` during the call.
pub(crate) unsafe fn slice_arg<'a, T>(
    ptr: *const T,
    len: usize,
    name: &str,
) -> Result<&'a [T], FfiError> {
    if !slice_is_valid(ptr, len) {
        return Err(invalid_slice_error(ptr, len, name));
    }
    // SAFETY: valid (checked) and readable for `len` values (caller's contract).
    Ok(unsafe { valid_slice(ptr, len) })
}

/// Whether [`slice_arg`] accepts `ptr` and `len`: NULL only with a length of 0, and a
/// length whose size in bytes fits an `isize`.
pub(crate) fn slice_is_valid<T>(ptr: *const T, len: usize) -> bool {
    if ptr.is_null() {
        len == 0
    } else {
        len <= isize::MAX as usize / std::mem::size_of::<T>().max(1)
    }
}

/// The error [`slice_arg`] gives for a `ptr` and `len` it does not accept.
pub(crate) fn invalid_slice_error<T>(ptr: *const T, len: usize, name: &str) -> FfiError {
    if ptr.is_null() {
        FfiError::null(name)
    } else {
        FfiError::invalid(format!("{name}: length {len} is too large"))
    }
}

/// The values of a `ptr` and `len` that [`slice_is_valid`] accepts, without checking
/// again.
///
/// # Safety
/// `slice_is_valid(ptr, len)`, and `ptr` is readable for `len` values during the call.
pub(crate) unsafe fn valid_slice<'a, T>(ptr: *const T, len: usize) -> &'a [T] {
    if ptr.is_null() {
        &[]
    } else {
        // SAFETY: non-NULL, readable for `len` values, the size fits isize (caller).
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }
}

/// [`slice_arg`] for bytes.
///
/// # Safety
/// As [`slice_arg`].
pub(crate) unsafe fn bytes_arg<'a>(
    ptr: *const u8,
    len: usize,
    name: &str,
) -> Result<&'a [u8], FfiError> {
    // SAFETY: forwarded from the caller's contract.
    unsafe { slice_arg(ptr, len, name) }
}

/// Borrows a NUL-terminated UTF-8 string from C for the duration of a call.
///
/// # Safety
/// `ptr` is NULL or a valid NUL-terminated string during the call.
pub(crate) unsafe fn str_arg<'a>(
    ptr: *const std::ffi::c_char,
    name: &str,
) -> Result<&'a str, FfiError> {
    if ptr.is_null() {
        return Err(FfiError::null(name));
    }
    // SAFETY: non-NULL and NUL-terminated (caller's contract).
    unsafe { std::ffi::CStr::from_ptr(ptr) }
        .to_str()
        .map_err(|_| FfiError::invalid(format!("{name} is not valid UTF-8")))
}

/// Copies `bytes` out to C: their length to `*len`, then the bytes to `buf` when `cap`
/// holds them (`H3Q_OK`), or `H3Q_ERR_BUFFER_TOO_SMALL` naming `what` and the size
/// needed (which `*len` holds, so a caller may ask with `buf` NULL and `cap` 0).
///
/// # Safety
/// `len` is NULL or writable; `buf` is NULL or writable for `cap` bytes.
pub(crate) unsafe fn copy_out(
    bytes: &[u8],
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
    what: &str,
) -> Result<super::result::h3q_result_code, FfiError> {
    use super::result::h3q_result_code;
    super::handle::non_null(len, "len")?;
    // SAFETY: checked non-NULL; writable (caller's contract).
    unsafe { *len = bytes.len() };
    if cap < bytes.len() {
        return Err(FfiError::new(
            h3q_result_code::H3Q_ERR_BUFFER_TOO_SMALL,
            format!("{what} needs {} bytes, cap is {cap}", bytes.len()),
        ));
    }
    super::handle::non_null(buf, "buf")?;
    // SAFETY: writable for cap >= bytes.len() bytes (caller's contract).
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len()) };
    Ok(h3q_result_code::H3Q_OK)
}
