//! `h3q_conn`: aioquic's `H3Connection` for C.

use std::ffi::{c_char, c_int, c_void};

use crate::h3::{COALESCE_DATA_LIMIT, H3Connection, H3Error, Transport};

use super::abi::Abi;
use super::conn_transport::ConnTransport;
use super::event::{event_to_c, h3q_error_space, h3q_event_cb, h3q_quic_event, quic_event_from_c};
use super::event_scratch::{EventScratch, with_event_scratch};
use super::handle::{self, FfiError, Opaque, call, call_status, call_versioned, non_null};
use super::header::{h3q_header, with_header_list};
use super::lent::{LentGuard, h3q_release_cb};
use super::quic_conn::h3q_quic_conn;
use super::result::{h3q_result, h3q_result_code};
use super::settings::{h3q_settings, settings_from_c};
use super::slice::bytes_arg;
use super::transport::{CTransport, h3q_transport};

/// An HTTP/3 connection (aioquic's `H3Connection`): QUIC events in, HTTP events out, and
/// the calls that send requests and responses. Create with `h3q_conn_new()` (over your QUIC
/// stack) or `h3q_conn_new_quic()` (over h3q's); free with `h3q_conn_free()`. Not
/// thread-safe; may move between threads.
pub struct h3q_conn {
    _private: [u8; 0],
}

pub(crate) struct ConnState {
    pub(crate) h3: H3Connection<ConnTransport>,
    /// The ABI version of the program: the layout of the `h3q_quic_event`s it passes in.
    abi: Abi,
}

impl ConnState {
    /// A send-side error as C sees it. The HTTP/3 layer learns nothing from
    /// CONNECTION_TERMINATED, so on a closed built-in QUIC connection its sends fail in the
    /// transport; that is `H3Q_ERR_CONNECTION_CLOSED`, the code the header gives for closed
    /// connections, not the generic `H3Q_ERR_TRANSPORT`.
    pub(crate) fn send_error(&self, error: H3Error) -> FfiError {
        if matches!(error, H3Error::Transport(_)) && self.h3.transport().quic_closed() {
            return FfiError::new(
                h3q_result_code::H3Q_ERR_CONNECTION_CLOSED,
                format!("the QUIC connection is closed ({error})"),
            );
        }
        error.into()
    }
}

impl Opaque for h3q_conn {
    type Inner = ConnState;
    const NAME: &'static str = "h3q_conn";
}

impl From<H3Error> for FfiError {
    fn from(error: H3Error) -> Self {
        let code = match &error {
            H3Error::FrameUnexpected(_) => h3q_result_code::H3Q_ERR_FRAME_UNEXPECTED,
            H3Error::InvalidStreamType(_) => h3q_result_code::H3Q_ERR_INVALID_STREAM_TYPE,
            H3Error::NoAvailablePushId => h3q_result_code::H3Q_ERR_NO_AVAILABLE_PUSH_ID,
            H3Error::WrongRole(_) => h3q_result_code::H3Q_ERR_WRONG_ROLE,
            H3Error::Transport(_) => h3q_result_code::H3Q_ERR_TRANSPORT,
            H3Error::ConnectionClosed => h3q_result_code::H3Q_ERR_CONNECTION_CLOSED,
            H3Error::GoingAway => h3q_result_code::H3Q_ERR_GOING_AWAY,
            H3Error::FieldSectionTooLarge { .. } => {
                h3q_result_code::H3Q_ERR_FIELD_SECTION_TOO_LARGE
            }
            H3Error::InvalidArgument(_) => h3q_result_code::H3Q_ERR_INVALID_ARGUMENT,
        };
        FfiError::new(code, error.to_string())
    }
}

/// Starts HTTP/3 on `stack` for a program of ABI version `abi_version`: writes our
/// control stream (SETTINGS, and MAX_PUSH_ID for a client) and QPACK streams through it,
/// then hands out the new handle.
///
/// # Safety
/// `settings` is NULL or readable as that version's `h3q_settings`; `out` is writable.
unsafe fn new_conn(
    abi_version: c_int,
    stack: impl FnOnce(Abi) -> Result<ConnTransport, FfiError>,
    settings: *const h3q_settings,
    out: *mut *mut h3q_conn,
) -> h3q_result {
    call_versioned(abi_version, |abi| {
        non_null(out, "out")?;
        let settings = if settings.is_null() {
            crate::h3::Settings::default()
        } else {
            // SAFETY: non-NULL and readable (caller's contract).
            unsafe { settings_from_c(settings, abi) }
        };
        let h3 = H3Connection::new(stack(abi)?, settings)?;
        let state = ConnState { h3, abi };
        // SAFETY: `out` is non-NULL and writable (caller's contract).
        unsafe { *out = handle::into_raw(state, abi) };
        Ok(())
    })
}

/// Creates an HTTP/3 connection over your own QUIC stack, described by `transport` (copied;
/// `transport->user_data` must stay valid until `h3q_conn_free()`). `settings` may be NULL
/// for the defaults (`h3q_settings_default()`); it is read during the call only.
/// `abi_version` is `H3Q_ABI_VERSION` (the `h3q_conn_new()` macro passes it): h3q reads
/// `*transport`, `*settings` and every `h3q_quic_event` given to this connection, and
/// numbers its results, as that version of h3q.h declares them.
///
/// During the call h3q opens its control stream and QPACK streams through the transport
/// (unidirectional streams 2, 6, 10 for a client; 3, 7, 11 for a server).
///
/// On success writes a new handle to `*out`, owned by the caller. Returns `H3Q_OK`;
/// `H3Q_ERR_NULL` (`transport`, `out`, or a required transport function is NULL);
/// `H3Q_ERR_UNSUPPORTED_VERSION`; or `H3Q_ERR_TRANSPORT` if the transport failed while
/// opening the streams.
///
/// # Safety
/// `transport` and `settings` are NULL or readable; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_new_versioned(
    abi_version: c_int,
    transport: *const h3q_transport,
    settings: *const h3q_settings,
    out: *mut *mut h3q_conn,
) -> h3q_result {
    let stack = |abi| {
        non_null(transport, "transport")?;
        // SAFETY: non-NULL and readable (caller's contract).
        Ok(ConnTransport::C(unsafe {
            CTransport::from_c(transport, abi)?
        }))
    };
    // SAFETY: forwarded from the caller's contract.
    unsafe { new_conn(abi_version, stack, settings, out) }
}

/// Creates an HTTP/3 connection over a connection of h3q's built-in QUIC layer (from
/// `h3q_endpoint_connect()` or `h3q_endpoint_accept()`). The HTTP/3 connection shares the
/// QUIC connection: `quic_conn` stays owned by the caller, who keeps polling its events
/// with `h3q_quic_conn_next_event()` and passing them to `h3q_conn_handle_event()`. Either
/// handle may be freed first. `settings` may be NULL for the defaults. `abi_version` is
/// `H3Q_ABI_VERSION` (the `h3q_conn_new_quic()` macro passes it).
///
/// On success writes a new handle to `*out`, owned by the caller. Returns `H3Q_OK`;
/// `H3Q_ERR_NULL`; `H3Q_ERR_UNSUPPORTED_VERSION`; `H3Q_ERR_CONNECTION_CLOSED` if the QUIC
/// connection is closed; or `H3Q_ERR_TRANSPORT`.
///
/// # Safety
/// `quic_conn` is NULL or a live handle; `settings` is NULL or readable; `out` is NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_new_quic_versioned(
    abi_version: c_int,
    quic_conn: *mut h3q_quic_conn,
    settings: *const h3q_settings,
    out: *mut *mut h3q_conn,
) -> h3q_result {
    let stack = |_| {
        // SAFETY: forwarded from the caller's contract.
        let conn = unsafe {
            handle::borrow(quic_conn, |state| {
                if state.conn.is_closed() {
                    return Err(crate::quic::QuicError::ConnectionClosed.into());
                }
                Ok(state.conn.clone())
            })
        }?;
        Ok(ConnTransport::Quic(conn))
    };
    // SAFETY: forwarded from the caller's contract.
    unsafe { new_conn(abi_version, stack, settings, out) }
}

/// Frees a connection. NULL is a no-op. It may be called from an `h3q_event_cb` (see
/// `h3q_conn_handle_event()`), but not from inside a transport function that h3q is calling
/// for this connection: that free is refused, the connection stays valid, and
/// `h3q_last_error()` says so.
///
/// # Safety
/// `conn` is NULL or a handle not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_free(conn: *mut h3q_conn) {
    // SAFETY: forwarded from the caller's contract.
    unsafe { handle::free(conn) }
}

/// The message of the connection's last failed call (e.g. `"stream was already ended"`,
/// or for a protocol error the HTTP/3 error name, code and reason), or NULL if no call
/// failed or `conn` is NULL. Owned by the connection; valid until its next failing call or
/// its free.
///
/// # Safety
/// `conn` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_last_error(conn: *const h3q_conn) -> *const c_char {
    // SAFETY: forwarded from the caller's contract.
    unsafe { handle::last_error(conn) }
}

/// Handles one QUIC event (aioquic's `handle_event`): calls `cb(user_data, event)` once per
/// HTTP event it produces, in order. `event` and its bytes are read during the call only.
/// Callbacks run after the connection has processed the event, so they may call
/// `h3q_conn_send_*` on this connection. A callback may even free the connection: the
/// remaining events are still delivered (their data is held by this call), and the freed
/// handle must not be used again.
///
/// Returns `H3Q_OK` (also for events HTTP/3 has no use for, and once the connection is
/// closed: then no callback runs, except for the one `H3Q_EVENT_CONNECTION_CLOSED` that
/// the `H3Q_QUIC_CONNECTION_TERMINATED` event produces, also after a close of h3q's own;
/// from then on every send returns `H3Q_ERR_CONNECTION_CLOSED`);
/// refusals, after which the connection is as it was: `H3Q_ERR_NULL`,
/// `H3Q_ERR_INVALID_ARGUMENT` for an unknown event type, an unknown error space or a
/// stream id above 2^62-1; or, fatal: `H3Q_ERR_PROTOCOL` when the event revealed a protocol
/// violation by the peer: h3q closed the connection through the transport with the HTTP/3
/// error code (`h3q_conn_close_code()`), no callback ran for this event, and
/// `h3q_conn_last_error()` gives the code name and reason; `H3Q_ERR_INTERNAL` when a
/// transport function failed while the event was handled: h3q closed the connection with
/// H3_INTERNAL_ERROR (0x102) in the same way.
///
/// # Safety
/// `conn` is NULL or a live handle; `event` is NULL or a readable event whose pointers are
/// valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_handle_event(
    conn: *mut h3q_conn,
    event: *const h3q_quic_event,
    cb: h3q_event_cb,
    user_data: *mut c_void,
) -> h3q_result {
    with_event_scratch(|scratch| {
        // SAFETY: forwarded from the caller's contract.
        unsafe { handle_event_with(conn, event, cb, user_data, scratch) }
    })
}

/// `h3q_conn_handle_event` with its buffers given.
///
/// # Safety
/// As `h3q_conn_handle_event`.
unsafe fn handle_event_with(
    conn: *mut h3q_conn,
    event: *const h3q_quic_event,
    cb: h3q_event_cb,
    user_data: *mut c_void,
    scratch: &mut EventScratch,
) -> h3q_result {
    let EventScratch { events, headers } = scratch;
    // SAFETY: forwarded from the caller's contract; read before the callbacks, which may
    // free the connection.
    let abi = unsafe { handle::abi(conn) };
    // SAFETY: forwarded from the caller's contract.
    let outcome = unsafe {
        handle::borrow(conn, |state| {
            non_null(event, "event")?;
            let Some(_) = cb else {
                return Err(FfiError::null("cb"));
            };
            let source = state.h3.transport().last_quic_payload();
            let event = quic_event_from_c(event, state.abi, &source)?;
            // The error h3q closed the connection with, if this event made it close.
            state.h3.handle_event_into(event, events)?;
            Ok(state.h3.transport().is_client())
        })
    };
    let is_client = match outcome {
        Ok(is_client) => is_client,
        Err(error) => return abi.encode(error.code),
    };
    // The connection is not borrowed any more: callbacks may call into it.
    let cb = cb.expect("checked inside the call");
    for event in events.iter() {
        let Some(c_event) = event_to_c(event, headers, abi, is_client) else {
            continue; // an event type the program's ABI version does not know
        };
        // SAFETY: the application's callback; `c_event` and what it points to live until
        // the end of this iteration.
        unsafe { cb(user_data, &c_event) };
    }
    // `conn` is not touched after the callbacks: one of them may have freed it.
    abi.encode(h3q_result_code::H3Q_OK)
}

/// How the connection ended (its first close, as `H3Q_EVENT_CONNECTION_CLOSED` reports it):
/// writes the error code to `*code_out` and, when `space_out` is not NULL, its code space
/// to `*space_out`. After `h3q_conn_handle_event()` returned `H3Q_ERR_PROTOCOL` or
/// `H3Q_ERR_INTERNAL`, that is the HTTP/3 (or QPACK) code h3q closed the connection with
/// (`H3Q_ERROR_SPACE_APPLICATION`; `h3q_conn_last_error()` has the reason), and it stays
/// so after the termination that follows; otherwise, after
/// `H3Q_QUIC_CONNECTION_TERMINATED`, the code and space of that event.
///
/// Returns `H3Q_OK`; `H3Q_DONE` while the connection is open (nothing written); or
/// `H3Q_ERR_NULL`.
///
/// # Safety
/// `conn` is NULL or a live handle; `code_out` is NULL or writable; `space_out` is NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_close_code(
    conn: *mut h3q_conn,
    code_out: *mut u64,
    space_out: *mut h3q_error_space,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call_status(conn, |state| {
            non_null(code_out, "code_out")?;
            let Some(close) = state.h3.closed() else {
                return Ok(h3q_result_code::H3Q_DONE);
            };
            // SAFETY: checked non-NULL / NULL-checked; writable (caller's contract).
            *code_out = close.error_code;
            if !space_out.is_null() {
                *space_out = close.error_space.into();
            }
            Ok(h3q_result_code::H3Q_OK)
        })
    }
}

/// Sends a HEADERS frame on `stream_id` (aioquic's `send_headers`): a request's or
/// response's head (a server may send several 1xx interim responses first), or trailers;
/// FIN after it if `end_stream`. `headers` is read during the call only.
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; `H3Q_ERR_FRAME_UNEXPECTED` when the stream's state
/// does not allow it (`h3q_conn_last_error()`: "HEADERS frame is not allowed in this
/// state", "Interim response cannot end the stream", "stream was already ended");
/// `H3Q_ERR_INVALID_STREAM_TYPE` for a stream that cannot carry HTTP messages;
/// `H3Q_ERR_CONNECTION_CLOSED`; or `H3Q_ERR_TRANSPORT`. The connection is unharmed by
/// these errors.
///
/// # Safety
/// `conn` is NULL or a live handle; `headers` points at `headers_len` valid entries.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_send_headers(
    conn: *mut h3q_conn,
    stream_id: u64,
    headers: *const h3q_header,
    headers_len: usize,
    end_stream: bool,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, |state| {
            with_header_list(headers, headers_len, |fields| {
                let result = state.h3.send_headers(stream_id, fields, end_stream);
                result.map_err(|e| state.send_error(e))
            })
        })
    }
}

/// Sends `len` bytes as a DATA frame on `stream_id` (aioquic's `send_data`), FIN after it if
/// `end_stream`. `data` (NULL only with `len` 0) is read during the call only: the
/// transport buffers what flow control holds back.
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; `H3Q_ERR_FRAME_UNEXPECTED` before the headers, after
/// trailers or after the stream ended; `H3Q_ERR_INVALID_STREAM_TYPE`;
/// `H3Q_ERR_CONNECTION_CLOSED`; or `H3Q_ERR_TRANSPORT`.
///
/// # Safety
/// `conn` is NULL or a live handle; `data` is valid for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_send_data(
    conn: *mut h3q_conn,
    stream_id: u64,
    data: *const u8,
    len: usize,
    end_stream: bool,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, |state| {
            let data = bytes_arg(data, len, "data")?;
            let result = state.h3.send_data(stream_id, data, end_stream);
            result.map_err(|e| state.send_error(e))
        })
    }
}

/// `h3q_conn_send_data()` without the copy: h3q reads the body where it is, in place,
/// until it no longer needs it (after the peer acknowledged it, or the stream or connection
/// is gone), then calls `release(release_ctx)`, exactly once. A server sending files or
/// generated content this way saves copying every byte once more.
///
/// Ownership: from the call on, the `len` bytes at `data` belong to h3q until `release`
/// runs; keep them valid and unchanged until then. `release` is called in every case, also
/// when this call fails (then before it returns), and may also run before it returns on
/// success (for example when the transport copies anyway: a C transport table's
/// `send_stream_data` does). It runs on the thread of the h3q call that lets go of the
/// bytes last, typically `h3q_endpoint_receive()` when the acknowledgement arrives, or a
/// `*_free()`; see `h3q_release_cb` for what it must not do. `release` may be NULL for
/// memory that outlives the connection (static data).
///
/// `release` is not a sign that the peer has the bytes: a body of up to 16 KiB is copied
/// behind its frame header and released before this call returns. To learn that every
/// response was acknowledged (before closing a connection gracefully, say), ask
/// `h3q_quic_conn_unacknowledged_streams()`.
///
/// Large bodies: hand them over in pieces of a few hundred KiB rather than tens. Each call
/// is a DATA frame, and the QUIC layer finds every packet's bytes by walking the pieces
/// still unacknowledged (docs/ARCHITECTURE.md, quinn-proto's limits): with 64 KiB pieces
/// that walk was a fifth of a bulk transfer's instructions, with 256 KiB under a tenth.
///
/// Returns as `h3q_conn_send_data()`.
///
/// # Safety
/// `conn` is NULL or a live handle; `data` is valid for `len` bytes until `release` is
/// called (or, with a NULL `release`, until the connection and its endpoint are freed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_send_data_zerocopy(
    conn: *mut h3q_conn,
    stream_id: u64,
    data: *const u8,
    len: usize,
    end_stream: bool,
    release: h3q_release_cb,
    release_ctx: *mut c_void,
) -> h3q_result {
    // Dropped (released) on every path that does not hand the bytes to h3q.
    let lent = LentGuard::new(data, len, release, release_ctx);
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, move |state| {
            // A small body is copied behind its frame header anyway: read it in place and
            // release it when this call ends, without making it shared `Bytes` (an
            // allocation per call).
            let result = if len <= COALESCE_DATA_LIMIT {
                let data = lent.as_slice("data")?;
                state.h3.send_data(stream_id, data, end_stream)
            } else {
                let data = lent.into_bytes("data")?;
                state.h3.send_data_bytes(stream_id, data, end_stream)
            };
            result.map_err(|e| state.send_error(e))
        })
    }
}

/// Promises a push on request stream `stream_id` (aioquic's `send_push_promise`, servers
/// only): writes PUSH_PROMISE with the promised request's `headers`, opens a push stream
/// and writes its id to `*push_stream_id_out`. Send the pushed response on that stream with
/// `h3q_conn_send_headers()` / `h3q_conn_send_data()`.
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; `H3Q_ERR_WRONG_ROLE` from a client;
/// `H3Q_ERR_INVALID_STREAM_TYPE` if `stream_id` is not a client-initiated bidirectional
/// stream; `H3Q_ERR_NO_AVAILABLE_PUSH_ID` before the client's MAX_PUSH_ID or once its push
/// ids are used up; `H3Q_ERR_FRAME_UNEXPECTED`; `H3Q_ERR_CONNECTION_CLOSED`; or
/// `H3Q_ERR_TRANSPORT`.
///
/// # Safety
/// `conn` is NULL or a live handle; `headers` points at `headers_len` valid entries;
/// `push_stream_id_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_send_push_promise(
    conn: *mut h3q_conn,
    stream_id: u64,
    headers: *const h3q_header,
    headers_len: usize,
    push_stream_id_out: *mut u64,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, |state| {
            non_null(push_stream_id_out, "push_stream_id_out")?;
            let push_stream_id = with_header_list(headers, headers_len, |fields| {
                let result = state.h3.send_push_promise(stream_id, fields);
                result.map_err(|e| state.send_error(e))
            })?;
            // SAFETY: checked non-NULL; writable (caller's contract).
            *push_stream_id_out = push_stream_id;
            Ok(())
        })
    }
}

/// Sends an HTTP datagram (RFC 9297) for request stream `stream_id`: a QUIC DATAGRAM frame
/// carrying the quarter stream id and `data` (NULL only with `len` 0, read during the call).
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; `H3Q_ERR_INVALID_STREAM_TYPE` if `stream_id` is not a
/// client-initiated bidirectional stream; `H3Q_ERR_CONNECTION_CLOSED`; or
/// `H3Q_ERR_TRANSPORT` (for instance when the peer does not accept datagrams).
///
/// # Safety
/// `conn` is NULL or a live handle; `data` is valid for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_send_datagram(
    conn: *mut h3q_conn,
    stream_id: u64,
    data: *const u8,
    len: usize,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, |state| {
            let data = bytes_arg(data, len, "data")?;
            let result = state.h3.send_datagram(stream_id, data);
            result.map_err(|e| state.send_error(e))
        })
    }
}

/// Opens a WebTransport stream in session `session_id` (the session's CONNECT stream id),
/// unidirectional or bidirectional, writes its header (type 0x54 or frame 0x41, then the
/// session id) and its id to `*stream_id_out`. Write to it with your transport, or with
/// `h3q_quic_conn_send_stream_data()` on the built-in QUIC layer.
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; `H3Q_ERR_CONNECTION_CLOSED`; or `H3Q_ERR_TRANSPORT`.
///
/// # Safety
/// `conn` is NULL or a live handle; `stream_id_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_create_webtransport_stream(
    conn: *mut h3q_conn,
    session_id: u64,
    unidirectional: bool,
    stream_id_out: *mut u64,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, |state| {
            non_null(stream_id_out, "stream_id_out")?;
            let result = state
                .h3
                .create_webtransport_stream(session_id, unidirectional);
            let id = result.map_err(|e| state.send_error(e))?;
            // SAFETY: checked non-NULL; writable (caller's contract).
            *stream_id_out = id;
            Ok(())
        })
    }
}

/// Reads one setting from the peer's SETTINGS (aioquic's `received_settings`): every
/// identifier the peer sent is there, unknown and GREASE ones included.
///
/// Returns `H3Q_OK` and writes the value; `H3Q_DONE` if the peer's SETTINGS have not
/// arrived or do not carry `id` (nothing written); or `H3Q_ERR_NULL`.
///
/// # Safety
/// `conn` is NULL or a live handle; `value_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_received_setting(
    conn: *mut h3q_conn,
    id: u64,
    value_out: *mut u64,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe { setting_query(conn, value_out, |h3| h3.received_setting(id)) }
}

/// Reads one setting from the SETTINGS we sent (aioquic's `sent_settings`).
///
/// Returns `H3Q_OK` and writes the value; `H3Q_DONE` if we did not send `id` (nothing
/// written); or `H3Q_ERR_NULL`.
///
/// # Safety
/// `conn` is NULL or a live handle; `value_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_conn_sent_setting(
    conn: *mut h3q_conn,
    id: u64,
    value_out: *mut u64,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe { setting_query(conn, value_out, |h3| h3.sent_setting(id)) }
}

/// # Safety
/// `conn` is NULL or a live handle; `value_out` is NULL or writable.
unsafe fn setting_query(
    conn: *mut h3q_conn,
    value_out: *mut u64,
    query: impl FnOnce(&H3Connection<ConnTransport>) -> Option<u64>,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call_status(conn, |state| {
            non_null(value_out, "value_out")?;
            let Some(value) = query(&state.h3) else {
                return Ok(h3q_result_code::H3Q_DONE);
            };
            // SAFETY: checked non-NULL; writable (caller's contract).
            *value_out = value;
            Ok(h3q_result_code::H3Q_OK)
        })
    }
}
