//! `h3q_conn`'s lifecycle calls: graceful shutdown (GOAWAY), stream aborts, push
//! cancellation, ORIGIN, and what a draining connection still has in flight.

use std::ffi::c_char;

use super::conn::h3q_conn;
use super::handle::{call, non_null};
use super::result::h3q_result;
use super::slice::{slice_arg, str_arg};

/// Graceful shutdown, first step (RFC 9114 §5.2): sends GOAWAY with the largest id (a
/// server: the last possible request stream id; a client: the last possible push id),
/// telling the peer the connection will close, while what is in flight, or on its way,
/// still proceeds. Follow with `h3q_conn_shutdown()` after about a round trip. Optional:
/// `h3q_conn_shutdown()` alone is a shutdown too.
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; `H3Q_ERR_CONNECTION_CLOSED`; or `H3Q_ERR_TRANSPORT`.
///
/// # Safety
/// `conn` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_shutdown_notice(conn: *mut h3q_conn) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, |state| {
            let result = state.h3.shutdown_notice();
            result.map(drop).map_err(|e| state.send_error(e))
        })
    }
}

/// Graceful shutdown, second step: sends GOAWAY with the id after the last request (a
/// server) or push (a client) actually accepted, never larger than an earlier GOAWAY's.
/// A server then refuses requests at or above that id (RESET_STREAM and STOP_SENDING
/// with H3_REQUEST_REJECTED, no event: the client retries them elsewhere) and completes
/// those below: when `h3q_conn_active_requests()` reaches 0 and the responses have been
/// acknowledged (`h3q_quic_conn_unacknowledged_streams()` is 0 over the built-in QUIC
/// layer; a close discards unacknowledged data), close the QUIC connection with
/// H3_NO_ERROR (`h3q_quic_conn_close()`).
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; `H3Q_ERR_CONNECTION_CLOSED`; or `H3Q_ERR_TRANSPORT`.
///
/// # Safety
/// `conn` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_shutdown(conn: *mut h3q_conn) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, |state| {
            let result = state.h3.shutdown();
            result.map(drop).map_err(|e| state.send_error(e))
        })
    }
}

/// Writes to `*count_out` how many request and push streams have not ended both ways:
/// what a graceful shutdown waits for.
///
/// Returns `H3Q_OK` or `H3Q_ERR_NULL`.
///
/// # Safety
/// `conn` is NULL or a live handle; `count_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_active_requests(
    conn: *mut h3q_conn,
    count_out: *mut usize,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, |state| {
            non_null(count_out, "count_out")?;
            // SAFETY: checked non-NULL; writable (caller's contract).
            *count_out = state.h3.active_requests();
            Ok(())
        })
    }
}

/// Abruptly ends our sending side of request or push stream `stream_id` (RESET_STREAM)
/// with an HTTP/3 application error code (`app_error_code`, e.g.
/// `H3Q_H3_REQUEST_CANCELLED`). Nothing more is sent on it; the peer is told with
/// `H3Q_EVENT_STREAM_RESET` (h3q over h3q).
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; `H3Q_ERR_INVALID_STREAM_TYPE` for a stream that is
/// not a request stream or one of our push streams; `H3Q_ERR_FRAME_UNEXPECTED` ("stream
/// was already ended") when our side was already reset or the stream is gone;
/// `H3Q_ERR_INVALID_ARGUMENT` for a code above 2^62-1; `H3Q_ERR_CONNECTION_CLOSED`; or
/// `H3Q_ERR_TRANSPORT`.
///
/// # Safety
/// `conn` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_reset_stream(
    conn: *mut h3q_conn,
    stream_id: u64,
    app_error_code: u64,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, |state| {
            let result = state.h3.reset_stream(stream_id, app_error_code);
            result.map_err(|e| state.send_error(e))
        })
    }
}

/// Asks the peer to stop sending on request or push stream `stream_id` (STOP_SENDING)
/// with an HTTP/3 application error code: nothing more of it is delivered, what h3q holds
/// of it is dropped, and a field section waiting for QPACK encoder-stream data is
/// cancelled (Stream Cancellation, RFC 9204 §4.4.2).
///
/// Returns as `h3q_conn_reset_stream()`, for the receiving side.
///
/// # Safety
/// `conn` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_stop_sending(
    conn: *mut h3q_conn,
    stream_id: u64,
    app_error_code: u64,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, |state| {
            let result = state.h3.stop_sending(stream_id, app_error_code);
            result.map_err(|e| state.send_error(e))
        })
    }
}

/// Cancels push `push_id` (CANCEL_PUSH, RFC 9114 §7.2.3). A client also stops the push
/// stream if it has arrived and ignores it if it comes later; a server also resets the
/// push stream it opened (both with H3_REQUEST_CANCELLED). The peer is told with
/// `H3Q_EVENT_PUSH_CANCELLED`.
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; `H3Q_ERR_INVALID_ARGUMENT` for a push id a client's
/// MAX_PUSH_ID does not allow or a server never promised; `H3Q_ERR_CONNECTION_CLOSED`; or
/// `H3Q_ERR_TRANSPORT`.
///
/// # Safety
/// `conn` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_cancel_push(conn: *mut h3q_conn, push_id: u64) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, |state| {
            let result = state.h3.cancel_push(push_id);
            result.map_err(|e| state.send_error(e))
        })
    }
}

/// Sends an ORIGIN frame (RFC 9412, servers only) on our control stream, listing the
/// origins this server is authoritative for: `count` NUL-terminated ASCII serialisations
/// (e.g. `"https://example.com"`), read during the call. A client reports them as
/// `H3Q_EVENT_ORIGIN_RECEIVED`.
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; `H3Q_ERR_WRONG_ROLE` from a client;
/// `H3Q_ERR_INVALID_ARGUMENT` for an origin longer than 65,535 bytes or not UTF-8;
/// `H3Q_ERR_CONNECTION_CLOSED`; or `H3Q_ERR_TRANSPORT`.
///
/// # Safety
/// `conn` is NULL or a live handle; `origins` points at `count` NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_send_origin(
    conn: *mut h3q_conn,
    origins: *const *const c_char,
    count: usize,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, |state| {
            let list = slice_arg(origins, count, "origins")?;
            let mut names: Vec<&[u8]> = Vec::with_capacity(list.len());
            for (i, origin) in list.iter().enumerate() {
                names.push(str_arg(*origin, &format!("origins[{i}]"))?.as_bytes());
            }
            let result = state.h3.send_origin(&names);
            result.map_err(|e| state.send_error(e))
        })
    }
}
