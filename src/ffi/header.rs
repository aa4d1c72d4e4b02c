//! `h3q_header`: a field line as C sees it, and conversions to and from Rust.

use crate::field::{FieldRef, HeaderField};

use super::handle::FfiError;
use super::slice::{invalid_slice_error, slice_arg, slice_is_valid, valid_slice};

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
        Self::of(&field.name, &field.value)
    }

    /// A C view of a name and a value. Valid as long as both are.
    pub(crate) fn of(name: &[u8], value: &[u8]) -> Self {
        h3q_header {
            name: name.as_ptr(),
            name_len: name.len(),
            value: value.as_ptr(),
            value_len: value.len(),
        }
    }
}

/// Fields [`with_header_list`] holds on the stack: more than a typical request or
/// response has (a browser's request has about 15).
const INLINE_FIELDS: usize = 32;

/// Calls `f` with a field list from C borrowed as Rust slices, and returns what it returns:
/// up to [`INLINE_FIELDS`] fields in an array on this function's stack (no allocation per
/// call), more in a `Vec`. The list is lent to `f` rather than returned, so the array is
/// never moved: it is a kilobyte, and returning it cost two copies of it per call.
///
/// Errors: [`slice_arg`]'s for the array, or for a bad entry, its index and which of its
/// strings is bad; `f` is not called then.
///
/// # Safety
/// `headers` is NULL with `len` 0, or points at `len` valid `h3q_header`s whose name and
/// value pointers are valid for their lengths during the call.
pub(crate) unsafe fn with_header_list<R>(
    headers: *const h3q_header,
    len: usize,
    f: impl FnOnce(&[FieldRef<'_>]) -> Result<R, FfiError>,
) -> Result<R, FfiError> {
    // SAFETY: forwarded from the caller's contract.
    let list = unsafe { slice_arg(headers, len, "headers")? };
    // Every entry checked in one pass without an error path per field; only a list with
    // a bad entry looks at which of its strings is bad, to name it.
    if let Some(i) = list.iter().position(|h| !header_is_well_formed(h)) {
        return Err(bad_entry_error(i, &list[i]));
    }
    let view = |h: &h3q_header| -> FieldRef<'_> {
        // SAFETY: well formed (checked above), and each entry's pointers are readable for
        // their lengths during the call (caller's contract).
        unsafe {
            (
                valid_slice(h.name, h.name_len),
                valid_slice(h.value, h.value_len),
            )
        }
    };
    if list.len() > INLINE_FIELDS {
        let fields: Vec<FieldRef<'_>> = list.iter().map(view).collect();
        return f(&fields);
    }
    let mut fields: [FieldRef<'_>; INLINE_FIELDS] = [(&[], &[]); INLINE_FIELDS];
    for (slot, h) in fields.iter_mut().zip(list) {
        *slot = view(h);
    }
    f(&fields[..list.len()])
}

/// Whether [`slice_arg`] accepts both of the entry's strings.
fn header_is_well_formed(h: &h3q_header) -> bool {
    slice_is_valid(h.name, h.name_len) && slice_is_valid(h.value, h.value_len)
}

/// The error for entry `i`, which is not well formed: its name's, else its value's,
/// prefixed with its index.
fn bad_entry_error(i: usize, h: &h3q_header) -> FfiError {
    let e = if slice_is_valid(h.name, h.name_len) {
        invalid_slice_error(h.value, h.value_len, "header value")
    } else {
        invalid_slice_error(h.name, h.name_len, "header name")
    };
    FfiError::new(e.code, format!("headers[{i}]: {}", e.message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c_headers(fields: &[(Vec<u8>, Vec<u8>)]) -> Vec<h3q_header> {
        fields.iter().map(|(n, v)| h3q_header::of(n, v)).collect()
    }

    /// Up to 32 fields on the stack, more on the heap; the same fields either way, and a
    /// bad entry named by its index in both, without calling the closure.
    #[test]
    fn field_lists_short_and_long() {
        for count in [0usize, 1, 32, 33, 100] {
            let fields: Vec<(Vec<u8>, Vec<u8>)> = (0..count)
                .map(|i| {
                    (
                        format!("name-{i}").into_bytes(),
                        format!("v{i}").into_bytes(),
                    )
                })
                .collect();
            let c = c_headers(&fields);
            // SAFETY: `c` points into `fields`, alive for the test.
            let seen = unsafe {
                with_header_list(c.as_ptr(), c.len(), |list| {
                    Ok(list
                        .iter()
                        .map(|&(n, v)| (n.to_vec(), v.to_vec()))
                        .collect::<Vec<_>>())
                })
            }
            .unwrap();
            assert_eq!(seen, fields);
            if count > 0 {
                let mut bad = c.clone();
                bad[count - 1].value = std::ptr::null();
                // SAFETY: as above; the NULL value is what is checked.
                let err = unsafe {
                    with_header_list(bad.as_ptr(), bad.len(), |_| -> Result<(), FfiError> {
                        panic!("called with a bad list")
                    })
                }
                .unwrap_err();
                assert!(
                    err.message
                        .starts_with(&format!("headers[{}]: ", count - 1)),
                    "{}",
                    err.message
                );
            }
        }
    }
}
