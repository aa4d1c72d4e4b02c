//! `h3q_header`: a field line as C sees it, and conversions to and from Rust.

use crate::field::{FieldRef, HeaderField};

use super::handle::FfiError;
use super::slice::{bytes_arg, slice_arg};

/// One header field line (name and value), as given to and received from h3q.
///
/// Names and values are byte strings, not NUL-terminated. In arrays passed to h3q, the bytes
/// must stay valid for the duration of the call only; h3q copies what it keeps. In arrays
/// h3q passes out (events, decoded sections), the pointers are valid as documented by the
/// function that returned them (typically until the next call on the same handle).
/// A NULL pointer is allowed only with a length of 0.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct h3q_header {
    /// The field name bytes (lower case for HTTP/3).
    pub name: *const u8,
    /// Length of `name` in bytes.
    pub name_len: usize,
    /// The field value bytes.
    pub value: *const u8,
    /// Length of `value` in bytes.
    pub value_len: usize,
}

impl h3q_header {
    /// A C view of a Rust field. Valid as long as `field` is.
    pub(crate) fn borrowing(field: &HeaderField) -> Self {
        h3q_header {
            name: field.name.as_ptr(),
            name_len: field.name.len(),
            value: field.value.as_ptr(),
            value_len: field.value.len(),
        }
    }
}

/// A field list from C, borrowed as Rust slices for the duration of a call.
///
/// # Safety
/// `headers` is NULL with `len` 0, or points at `len` valid `h3q_header`s whose name and
/// value pointers are valid for their lengths during the call.
pub(crate) unsafe fn header_list_arg<'a>(
    headers: *const h3q_header,
    len: usize,
) -> Result<Vec<FieldRef<'a>>, FfiError> {
    // SAFETY: forwarded from the caller's contract.
    let list = unsafe { slice_arg(headers, len, "headers")? };
    list.iter()
        .enumerate()
        .map(|(i, h)| {
            // SAFETY: each entry's pointers are valid for their lengths (caller's contract).
            let name = unsafe { bytes_arg(h.name, h.name_len, "header name") }
                .map_err(|e| FfiError::new(e.code, format!("headers[{i}]: {}", e.message)))?;
            // SAFETY: as above.
            let value = unsafe { bytes_arg(h.value, h.value_len, "header value") }
                .map_err(|e| FfiError::new(e.code, format!("headers[{i}]: {}", e.message)))?;
            Ok((name, value))
        })
        .collect()
}
