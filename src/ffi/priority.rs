//! Extensible priorities (RFC 9218) for C: `h3q_priority`, a stream's priority read and
//! set, PRIORITY_UPDATE sent, and the `priority` field parsed.

use super::abi::Abi;
use super::conn::h3q_conn;
use super::conn_transport::ConnTransport;
use super::handle::{FfiError, call, call_static, call_status, non_null};
use super::read::read_bool;
use super::result::{h3q_result, h3q_result_code};
use super::slice::slice_arg;
use crate::h3::{H3Connection, H3Error, Priority};

/// A request's or push's priority (RFC 9218 §4). The default is `{3, false}`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct h3q_priority {
    /// 0 (most urgent) to 7 (least); 3 by default.
    pub urgency: u8,
    /// The response is useful in pieces and may share the connection with others of its
    /// urgency; `false` by default.
    pub incremental: bool,
}

impl From<Priority> for h3q_priority {
    fn from(p: Priority) -> Self {
        h3q_priority {
            urgency: p.urgency,
            incremental: p.incremental,
        }
    }
}

/// Reads a caller's `h3q_priority`: NULL, or an urgency above 7, is refused.
///
/// # Safety
/// `ptr` is NULL or readable for one `h3q_priority`.
unsafe fn priority_arg(ptr: *const h3q_priority) -> Result<Priority, FfiError> {
    non_null(ptr, "priority")?;
    // SAFETY: non-NULL and readable (caller's contract); the bool is read as a byte, so
    // any bit pattern a C program put there is fine.
    let (urgency, incremental) = unsafe {
        (
            (*ptr).urgency,
            read_bool(std::ptr::addr_of!((*ptr).incremental)),
        )
    };
    if urgency > Priority::MAX_URGENCY {
        return Err(FfiError::invalid(format!(
            "priority->urgency {urgency} is above 7"
        )));
    }
    Ok(Priority {
        urgency,
        incremental,
    })
}

/// Writes the priority h3q schedules request or push stream `stream_id`'s sending by to
/// `*priority_out` (a server: from the request's `priority` field, a PRIORITY_UPDATE, or
/// `h3q_conn_set_priority()`; the default `{3, false}` without any).
///
/// Returns `H3Q_OK`; `H3Q_DONE` when h3q does not track the stream (unknown, finished, or
/// not a request or push stream; nothing written); or `H3Q_ERR_NULL`.
///
/// # Safety
/// `conn` is NULL or a live handle; `priority_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_get_priority(
    conn: *mut h3q_conn,
    stream_id: u64,
    priority_out: *mut h3q_priority,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call_status(conn, |state| {
            non_null(priority_out, "priority_out")?;
            let Some(priority) = state.h3.priority(stream_id) else {
                return Ok(h3q_result_code::H3Q_DONE);
            };
            // SAFETY: checked non-NULL; writable (caller's contract).
            *priority_out = priority.into();
            Ok(h3q_result_code::H3Q_OK)
        })
    }
}

/// Sets the priority h3q schedules request or push stream `stream_id`'s sending by (a
/// server: the response; a client: the request body). `*priority` is read during the
/// call only. Over `h3q_conn_new_quic()`, the built-in QUIC layer sends data of lower
/// urgency first, non-incremental streams of one urgency one after another in stream
/// order, and incremental ones interleaved; over an `h3q_transport`, its
/// `set_stream_priority` entry is called.
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; `H3Q_ERR_INVALID_ARGUMENT` for an urgency above 7;
/// `H3Q_ERR_INVALID_STREAM_TYPE` for a stream that is no request or push stream;
/// `H3Q_ERR_FRAME_UNEXPECTED` ("stream was already ended") for one h3q does not track; or
/// `H3Q_ERR_CONNECTION_CLOSED`. A transport's failure to act on it is ignored (priorities
/// are hints).
///
/// # Safety
/// `conn` is NULL or a live handle; `priority` is NULL or readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_set_priority(
    conn: *mut h3q_conn,
    stream_id: u64,
    priority: *const h3q_priority,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe { with_priority(conn, stream_id, priority, H3Connection::set_priority) }
}

/// A client asks the server to change the priority of request stream `stream_id` (which
/// need not be open yet) or of the push on push stream `stream_id`: a PRIORITY_UPDATE
/// frame on our control stream (RFC 9218 §7). The server reports it as
/// `H3Q_EVENT_PRIORITY_UPDATE` and schedules by it. `*priority` is read during the call.
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; `H3Q_ERR_WRONG_ROLE` from a server;
/// `H3Q_ERR_INVALID_ARGUMENT` for an urgency above 7; `H3Q_ERR_INVALID_STREAM_TYPE` for a
/// stream that is neither a client request stream nor a push stream this client knows;
/// `H3Q_ERR_FRAME_UNEXPECTED` for a finished request; `H3Q_ERR_CONNECTION_CLOSED`; or
/// `H3Q_ERR_TRANSPORT`.
///
/// # Safety
/// `conn` is NULL or a live handle; `priority` is NULL or readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_send_priority_update(
    conn: *mut h3q_conn,
    stream_id: u64,
    priority: *const h3q_priority,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        with_priority(
            conn,
            stream_id,
            priority,
            H3Connection::send_priority_update,
        )
    }
}

/// Runs an `H3Connection` call that takes a stream and a priority read from C.
///
/// # Safety
/// `conn` is NULL or a live handle; `priority` is NULL or readable.
unsafe fn with_priority(
    conn: *mut h3q_conn,
    stream_id: u64,
    priority: *const h3q_priority,
    f: impl FnOnce(&mut H3Connection<ConnTransport>, u64, Priority) -> Result<(), H3Error>,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, |state| {
            let priority = priority_arg(priority)?;
            let result = f(&mut state.h3, stream_id, priority);
            result.map_err(|e| state.send_error(e))
        })
    }
}

/// Parses a Priority Field Value (the value of a `priority` header field, RFC 9218 §4)
/// into `*priority_out`: `u` and `i` as given, the defaults for what is absent, invalid
/// or of the wrong type; a value that is not a Structured Field Dictionary gives the
/// defaults. For programs scheduling over their own QUIC stack. Thread-safe.
///
/// Returns `H3Q_OK`, or `H3Q_ERR_NULL` (for `priority_out`, or `value` with `len` > 0).
///
/// # Safety
/// `value` is NULL or readable for `len` bytes; `priority_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_priority_parse(
    value: *const u8,
    len: usize,
    priority_out: *mut h3q_priority,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        // Added with ABI version 2: no older program calls it.
        call_static(Abi::CURRENT, || {
            non_null(priority_out, "priority_out")?;
            let bytes = slice_arg(value, len, "value")?;
            // SAFETY: checked non-NULL; writable (caller's contract).
            *priority_out = Priority::parse(bytes).into();
            Ok(())
        })
    }
}
