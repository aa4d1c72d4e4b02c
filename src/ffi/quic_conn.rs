//! `h3q_quic_conn`: one connection of the built-in QUIC layer (aioquic's `QuicConnection`).

use std::ffi::{c_char, c_void};

use libc::{sockaddr_storage, socklen_t};

use crate::quic::{Connection, Event};

use super::abi::{Abi, write_prefix};
use super::event::{h3q_error_space, h3q_quic_event, h3q_quic_event_type};
use super::handle::{self, Opaque, call, call_status, non_null};
use super::result::{h3q_result, h3q_result_code};
use super::slice::bytes_arg;
use super::sockaddr::sockaddr_to_c;

/// One QUIC connection of an `h3q_endpoint`: its event queue and operations. Get one from
/// `h3q_endpoint_connect()` or `h3q_endpoint_accept()`; free it with `h3q_quic_conn_free()`.
/// The handle stays valid after the connection has closed and drained (operations then
/// return `H3Q_ERR_CONNECTION_CLOSED`) and even after its endpoint is freed. Not
/// thread-safe; may move between threads.
pub struct h3q_quic_conn {
    _private: [u8; 0],
}

pub(crate) struct QuicConnState {
    pub(crate) conn: Connection,
    /// The event last handed to C: its bytes stay alive until the next call.
    current: Option<Event>,
    /// The ALPN last handed to C.
    alpn: Option<bytes::Bytes>,
    /// The application's pointer (`h3q_quic_conn_set_user_data`).
    user_data: *mut c_void,
}

impl QuicConnState {
    /// The one C handle on `conn`, for a program of ABI version `abi`. The connection keeps
    /// the handle's address, so that `h3q_endpoint_next_ready()` can give it back; the
    /// handle's free takes it away again.
    pub(crate) fn into_handle(conn: Connection, abi: Abi) -> *mut h3q_quic_conn {
        let state = QuicConnState {
            conn: conn.clone(),
            current: None,
            alpn: None,
            user_data: std::ptr::null_mut(),
        };
        let handle = handle::into_raw::<h3q_quic_conn>(state, abi);
        conn.set_owner_tag(handle as usize);
        handle
    }
}

impl Drop for QuicConnState {
    fn drop(&mut self) {
        self.conn.set_owner_tag(0);
    }
}

impl Opaque for h3q_quic_conn {
    type Inner = QuicConnState;
    const NAME: &'static str = "h3q_quic_conn";
}

/// Frees a connection handle. NULL is a no-op. Freeing does not close the connection: call
/// `h3q_quic_conn_close()` first for a graceful close; the endpoint keeps driving it until
/// it drains.
///
/// # Safety
/// `conn` is NULL or a handle not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_quic_conn_free(conn: *mut h3q_quic_conn) {
    // SAFETY: forwarded from the caller's contract.
    unsafe { handle::free(conn) }
}

/// The message of the connection's last failed call, or NULL. Owned by the handle; valid
/// until its next failing call or its free.
///
/// # Safety
/// `conn` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_quic_conn_last_error(conn: *const h3q_quic_conn) -> *const c_char {
    // SAFETY: forwarded from the caller's contract.
    unsafe { handle::last_error(conn) }
}

fn empty_event(kind: h3q_quic_event_type) -> h3q_quic_event {
    h3q_quic_event {
        r#type: kind,
        stream_id: 0,
        data: std::ptr::null(),
        data_len: 0,
        end_stream: false,
        error_code: 0,
        reason: std::ptr::null(),
        reason_len: 0,
        error_space: h3q_error_space::H3Q_ERROR_SPACE_UNSPECIFIED,
        closed_by_peer: false,
    }
}

fn event_to_c(event: &Event) -> h3q_quic_event {
    use h3q_quic_event_type as T;
    match event {
        Event::HandshakeCompleted { alpn } => {
            let mut c = empty_event(T::H3Q_QUIC_HANDSHAKE_COMPLETED);
            if let Some(alpn) = alpn {
                (c.data, c.data_len) = (alpn.as_ptr(), alpn.len());
            }
            c
        }
        Event::StreamDataReceived {
            stream_id,
            data,
            end_stream,
        } => h3q_quic_event {
            stream_id: *stream_id,
            data: data.as_ptr(),
            data_len: data.len(),
            end_stream: *end_stream,
            ..empty_event(T::H3Q_QUIC_STREAM_DATA_RECEIVED)
        },
        Event::StreamReset {
            stream_id,
            error_code,
        } => h3q_quic_event {
            stream_id: *stream_id,
            error_code: *error_code,
            ..empty_event(T::H3Q_QUIC_STREAM_RESET)
        },
        Event::StopSendingReceived {
            stream_id,
            error_code,
        } => h3q_quic_event {
            stream_id: *stream_id,
            error_code: *error_code,
            ..empty_event(T::H3Q_QUIC_STOP_SENDING_RECEIVED)
        },
        Event::DatagramReceived { data } => h3q_quic_event {
            data: data.as_ptr(),
            data_len: data.len(),
            ..empty_event(T::H3Q_QUIC_DATAGRAM_RECEIVED)
        },
        Event::EarlyDataRejected => empty_event(T::H3Q_QUIC_EARLY_DATA_REJECTED),
        Event::ConnectionTerminated {
            error_code,
            reason,
            error_space,
            by_peer,
        } => h3q_quic_event {
            error_code: *error_code,
            reason: reason.as_ptr(),
            reason_len: reason.len(),
            error_space: (*error_space).into(),
            closed_by_peer: *by_peer,
            ..empty_event(T::H3Q_QUIC_CONNECTION_TERMINATED)
        },
    }
}

/// Keeps `user_data` with the connection (replacing what was kept), for the application
/// to find its own state again, typically after `h3q_endpoint_next_ready()`. h3q never
/// reads or frees it.
///
/// Returns `H3Q_OK` or `H3Q_ERR_NULL` (for `conn`; a NULL `user_data` clears the slot).
///
/// # Safety
/// `conn` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_quic_conn_set_user_data(
    conn: *mut h3q_quic_conn,
    user_data: *mut c_void,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, |state| {
            state.user_data = user_data;
            Ok(())
        })
    }
}

/// The pointer last given to `h3q_quic_conn_set_user_data()`, or NULL (none given, or
/// `conn` NULL).
///
/// # Safety
/// `conn` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_quic_conn_user_data(conn: *mut h3q_quic_conn) -> *mut c_void {
    let mut user_data = std::ptr::null_mut();
    // SAFETY: forwarded from the caller's contract.
    let _ = unsafe {
        handle::borrow(conn, |state| {
            user_data = state.user_data;
            Ok(())
        })
    };
    user_data
}

/// Takes the next QUIC event (aioquic's `next_event()`): writes it to `*out` (only the
/// fields of the program's ABI version). Its bytes are owned by the handle and valid until
/// the next call on it. Pass it to `h3q_conn_handle_event()` to get HTTP events.
///
/// Returns `H3Q_OK`; `H3Q_DONE` when the queue is empty; or `H3Q_ERR_NULL`. After
/// `H3Q_QUIC_CONNECTION_TERMINATED` no further events come.
///
/// # Safety
/// `conn` is NULL or a live handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_quic_conn_next_event(
    conn: *mut h3q_quic_conn,
    out: *mut h3q_quic_event,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    let abi = unsafe { handle::abi(conn) };
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call_status(conn, |state| {
            non_null(out, "out")?;
            state.current = state.conn.next_event();
            let Some(event) = &state.current else {
                return Ok(h3q_result_code::H3Q_DONE);
            };
            let event = event_to_c(event);
            // SAFETY: checked non-NULL; writable for the caller's version of the struct
            // (caller's contract), a prefix of ours: only that many bytes are written.
            write_prefix(out, abi.quic_event_size(), &event);
            Ok(h3q_result_code::H3Q_OK)
        })
    }
}

/// Queues `len` bytes on `stream_id`, then FIN if `end_stream` (aioquic's
/// `send_stream_data`). Every byte is accepted and buffered until flow control lets it go;
/// sending on an id from `h3q_quic_conn_get_next_available_stream_id()` opens that stream.
///
/// On a stream the peer stopped (`H3Q_QUIC_STOP_SENDING_RECEIVED`; h3q resets it in
/// answer), data is accepted and dropped until the peer has acknowledged that reset, so a
/// send racing the event is harmless; after that the stream is gone, as below.
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; `H3Q_ERR_INVALID_ARGUMENT` for a stream we cannot send
/// on (the peer's unidirectional stream, one not opened yet, one already finished or
/// reset); or `H3Q_ERR_CONNECTION_CLOSED`.
///
/// # Safety
/// `conn` is NULL or a live handle; `data` valid for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_quic_conn_send_stream_data(
    conn: *mut h3q_quic_conn,
    stream_id: u64,
    data: *const u8,
    len: usize,
    end_stream: bool,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, |state| {
            let data = bytes_arg(data, len, "data")?;
            Ok(state.conn.send_stream_data(stream_id, data, end_stream)?)
        })
    }
}

/// Writes the id of the next stream this endpoint may open to `*stream_id_out`. When the
/// peer's stream limit is reached the id is still given: the stream opens (in order) as
/// soon as the peer allows, and data sent on it waits until then.
///
/// Returns `H3Q_OK`, `H3Q_ERR_NULL` or `H3Q_ERR_CONNECTION_CLOSED`.
///
/// # Safety
/// `conn` is NULL or a live handle; `stream_id_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_quic_conn_get_next_available_stream_id(
    conn: *mut h3q_quic_conn,
    unidirectional: bool,
    stream_id_out: *mut u64,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, |state| {
            non_null(stream_id_out, "stream_id_out")?;
            // The QUIC layer hands out ids even after the close; the C contract says
            // H3Q_ERR_CONNECTION_CLOSED (as h3q_conn_new_quic() does).
            if state.conn.is_closed() {
                return Err(crate::quic::QuicError::ConnectionClosed.into());
            }
            let id = state.conn.get_next_available_stream_id(unidirectional)?;
            // SAFETY: checked non-NULL; writable (caller's contract).
            *stream_id_out = id;
            Ok(())
        })
    }
}

/// Writes to `*bytes_out` how many bytes given to `h3q_quic_conn_send_stream_data()` (or to
/// `h3q_conn_send_data()` over this connection) on `stream_id` still wait inside h3q because
/// QUIC has not taken them yet (flow control, the send window, the peer's stream limit).
/// An application streaming a large body feeds more when this is low, instead of handing
/// over everything at once (see "Body pacing" in examples/server/connections.c). 0 for a stream
/// with nothing waiting, or an unknown one.
///
/// Returns `H3Q_OK` or `H3Q_ERR_NULL`.
///
/// # Safety
/// `conn` is NULL or a live handle; `bytes_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_quic_conn_stream_send_buffered(
    conn: *mut h3q_quic_conn,
    stream_id: u64,
    bytes_out: *mut u64,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, |state| {
            non_null(bytes_out, "bytes_out")?;
            // SAFETY: checked non-NULL; writable (caller's contract).
            *bytes_out = state.conn.send_buffered(stream_id) as u64;
            Ok(())
        })
    }
}

/// Writes to `*count_out` how many streams still have data the peer has not
/// acknowledged: sent with FIN (a whole response or request) and not all acknowledged yet,
/// or still waiting inside h3q. Closing the connection (`h3q_quic_conn_close()`) discards
/// what is unacknowledged, so a graceful shutdown closes once
/// `h3q_conn_active_requests()` and this are both 0 (or a timeout passed). HTTP/3's
/// control and QPACK streams, which never end, count only while data of theirs waits
/// inside h3q. 0 once the connection is closed.
///
/// Returns `H3Q_OK` or `H3Q_ERR_NULL`.
///
/// # Safety
/// `conn` is NULL or a live handle; `count_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_quic_conn_unacknowledged_streams(
    conn: *mut h3q_quic_conn,
    count_out: *mut usize,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, |state| {
            non_null(count_out, "count_out")?;
            // SAFETY: checked non-NULL; writable (caller's contract).
            *count_out = state.conn.unacknowledged_streams();
            Ok(())
        })
    }
}

/// Resets the sending side of `stream_id` (RESET_STREAM) with `error_code`; buffered data
/// is dropped.
///
/// Returns `H3Q_OK`, `H3Q_ERR_NULL`, `H3Q_ERR_INVALID_ARGUMENT` or
/// `H3Q_ERR_CONNECTION_CLOSED`.
///
/// # Safety
/// `conn` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_quic_conn_reset_stream(
    conn: *mut h3q_quic_conn,
    stream_id: u64,
    error_code: u64,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, |state| {
            Ok(state.conn.reset_stream(stream_id, error_code)?)
        })
    }
}

/// Asks the peer to stop sending on `stream_id` (STOP_SENDING) with `error_code`.
///
/// Returns `H3Q_OK`, `H3Q_ERR_NULL`, `H3Q_ERR_INVALID_ARGUMENT` or
/// `H3Q_ERR_CONNECTION_CLOSED`.
///
/// # Safety
/// `conn` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_quic_conn_stop_stream(
    conn: *mut h3q_quic_conn,
    stream_id: u64,
    error_code: u64,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, |state| {
            Ok(state.conn.stop_stream(stream_id, error_code)?)
        })
    }
}

/// Sends one QUIC DATAGRAM frame (`data` read during the call).
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; `H3Q_ERR_TRANSPORT` when datagrams are not enabled on
/// both sides, the payload is too large, or the send buffer is full; or
/// `H3Q_ERR_CONNECTION_CLOSED`.
///
/// # Safety
/// `conn` is NULL or a live handle; `data` valid for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_quic_conn_send_datagram_frame(
    conn: *mut h3q_quic_conn,
    data: *const u8,
    len: usize,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, |state| {
            let data = bytes_arg(data, len, "data")?;
            Ok(state.conn.send_datagram_frame(data)?)
        })
    }
}

/// Closes the connection gracefully with an application error code (for HTTP/3,
/// H3_NO_ERROR = 0x100) and reason phrase (`reason_len` bytes, read during the call). The
/// endpoint sends CONNECTION_CLOSE and drains; `H3Q_QUIC_CONNECTION_TERMINATED` follows.
/// Closing a closed connection does nothing.
///
/// Returns `H3Q_OK` or `H3Q_ERR_NULL`.
///
/// # Safety
/// `conn` is NULL or a live handle; `reason` valid for `reason_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_quic_conn_close(
    conn: *mut h3q_quic_conn,
    error_code: u64,
    reason: *const u8,
    reason_len: usize,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, |state| {
            let reason = bytes_arg(reason, reason_len, "reason")?;
            state.conn.close(error_code, reason);
            Ok(())
        })
    }
}

/// True once the handshake completed and until the connection closes. False for NULL.
///
/// # Safety
/// `conn` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_quic_conn_is_established(conn: *const h3q_quic_conn) -> bool {
    // SAFETY: forwarded from the caller's contract.
    unsafe { query(conn, false, |s| s.conn.is_established()) }
}

/// True once the connection is closed (by either side, an error or the idle timeout);
/// true for NULL.
///
/// # Safety
/// `conn` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_quic_conn_is_closed(conn: *const h3q_quic_conn) -> bool {
    // SAFETY: forwarded from the caller's contract.
    unsafe { query(conn, true, |s| s.conn.is_closed()) }
}

/// True once the connection has drained and the endpoint has forgotten it: the handle may
/// only be freed. True for NULL.
///
/// # Safety
/// `conn` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_quic_conn_is_drained(conn: *const h3q_quic_conn) -> bool {
    // SAFETY: forwarded from the caller's contract.
    unsafe { query(conn, true, |s| s.conn.is_drained()) }
}

/// # Safety
/// `conn` is NULL or a live handle.
pub(crate) unsafe fn query(
    conn: *const h3q_quic_conn,
    default: bool,
    f: impl FnOnce(&QuicConnState) -> bool,
) -> bool {
    let mut answer = default;
    // SAFETY: forwarded from the caller's contract; nothing is written through the handle.
    unsafe {
        call(conn.cast_mut(), |state| {
            answer = f(state);
            Ok(())
        })
    };
    answer
}

/// Writes the negotiated ALPN protocol (owned by the handle, valid until the next call on
/// it; not NUL-terminated) to `*alpn_out` / `*len_out`.
///
/// Returns `H3Q_OK`; `H3Q_DONE` before the handshake completed or if none was negotiated;
/// or `H3Q_ERR_NULL`.
///
/// # Safety
/// `conn` is NULL or a live handle; the out pointers are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_quic_conn_alpn(
    conn: *mut h3q_quic_conn,
    alpn_out: *mut *const u8,
    len_out: *mut usize,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call_status(conn, |state| {
            non_null(alpn_out, "alpn_out")?;
            non_null(len_out, "len_out")?;
            state.alpn = state.conn.alpn();
            let Some(alpn) = &state.alpn else {
                return Ok(h3q_result_code::H3Q_DONE);
            };
            // SAFETY: checked non-NULL; writable (caller's contract).
            *alpn_out = alpn.as_ptr();
            *len_out = alpn.len();
            Ok(h3q_result_code::H3Q_OK)
        })
    }
}

/// Writes the peer's address to `*addr_out` / `*addr_len_out`.
///
/// Returns `H3Q_OK`, `H3Q_ERR_NULL` or `H3Q_ERR_CONNECTION_CLOSED`.
///
/// # Safety
/// `conn` is NULL or a live handle; the out pointers are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_quic_conn_remote_address(
    conn: *mut h3q_quic_conn,
    addr_out: *mut sockaddr_storage,
    addr_len_out: *mut socklen_t,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, |state| {
            non_null(addr_out, "addr_out")?;
            non_null(addr_len_out, "addr_len_out")?;
            let addr = state
                .conn
                .remote_address()
                .ok_or(crate::quic::QuicError::ConnectionClosed)?;
            // SAFETY: checked non-NULL; writable (caller's contract).
            *addr_len_out = sockaddr_to_c(addr, &mut *addr_out);
            Ok(())
        })
    }
}
