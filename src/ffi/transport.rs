//! `h3q_transport`: the QUIC stack of a C program, as the HTTP/3 connection's `Transport`.

use std::ffi::{c_int, c_void};

use crate::h3::Priority;
use crate::h3::transport::{Transport, TransportError};

use super::abi::{Abi, read_prefix};
use super::handle::FfiError;
use super::read::read_bool;

/// What the HTTP/3 connection asks of a QUIC stack you bring (msquic, ngtcp2, lsquic ...):
/// aioquic's calls on its QUIC connection. Pass it to `h3q_conn_new()`; h3q copies the
/// table, and calls the functions during `h3q_conn_*` calls only, on the calling thread,
/// with `user_data` as the first argument. Versioned (`H3Q_TRANSPORT_VERSION`): entries
/// are only ever appended, and h3q reads only those of the program's ABI version.
///
/// Each function returns 0 on success and any other value on failure (reported to the
/// application as `H3Q_ERR_TRANSPORT`). Pointer arguments are valid during the call only.
/// A transport function must not call back into the same `h3q_conn` (such calls return
/// `H3Q_ERR_INVALID_ARGUMENT`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct h3q_transport {
    /// Passed as the first argument of every function.
    pub user_data: *mut c_void,
    /// True when this endpoint is the client.
    pub is_client: bool,
    /// The peer's max_datagram_frame_size transport parameter; 0 when it sent none (then
    /// HTTP datagrams are refused).
    pub remote_max_datagram_frame_size: u64,
    /// Queues `len` bytes on `stream_id`, then FIN if `end_stream`. Must accept every byte:
    /// buffering until flow control allows is the transport's job. Sending on an id from
    /// `get_next_available_stream_id` opens that stream. Required.
    pub send_stream_data: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            stream_id: u64,
            data: *const u8,
            len: usize,
            end_stream: bool,
        ) -> c_int,
    >,
    /// Writes the id of the next stream this endpoint may open (unidirectional or not) to
    /// `*stream_id_out`. Two calls without a send in between give the same id. Required.
    pub get_next_available_stream_id: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            unidirectional: bool,
            stream_id_out: *mut u64,
        ) -> c_int,
    >,
    /// Resets the sending side of `stream_id` (RESET_STREAM) with `error_code`. Required.
    pub reset_stream: Option<
        unsafe extern "C" fn(user_data: *mut c_void, stream_id: u64, error_code: u64) -> c_int,
    >,
    /// Asks the peer to stop sending on `stream_id` (STOP_SENDING) with `error_code`.
    /// Required.
    pub stop_stream: Option<
        unsafe extern "C" fn(user_data: *mut c_void, stream_id: u64, error_code: u64) -> c_int,
    >,
    /// Sends one QUIC DATAGRAM frame. Optional (NULL: HTTP datagrams fail with
    /// `H3Q_ERR_TRANSPORT`).
    pub send_datagram_frame:
        Option<unsafe extern "C" fn(user_data: *mut c_void, data: *const u8, len: usize) -> c_int>,
    /// Closes the connection with an HTTP/3 application error code and a reason phrase
    /// (`reason_len` bytes, not NUL-terminated). Required.
    pub close: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            error_code: u64,
            reason: *const u8,
            reason_len: usize,
        ),
    >,
    /// Tells your QUIC stack how urgent sending on request or push stream `stream_id` is
    /// (RFC 9218): data of lower `urgency` (0 to 7) first; within one urgency,
    /// non-incremental streams one after another in stream order, `incremental` ones
    /// interleaved. Called when a stream's priority becomes known or changes. h3q's own
    /// control and QPACK streams are never named: schedule them before everything else.
    /// Optional (NULL: priorities are not acted on); a non-zero return is ignored. ABI
    /// version 2.
    pub set_stream_priority: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            stream_id: u64,
            urgency: u8,
            incremental: bool,
        ) -> c_int,
    >,
}

/// A validated copy of a C transport table.
pub(crate) struct CTransport {
    table: h3q_transport,
}

// SAFETY: the table is plain data plus function pointers; the C API documents that a
// connection (and so its transport) is used by one thread at a time and may move between
// threads, which is the contract of the functions the application supplies.
unsafe impl Send for CTransport {}

impl CTransport {
    /// Copies and checks a table from a C program of ABI version `abi` (entries its
    /// version lacks are absent): every required function must be present.
    ///
    /// # Safety
    /// `ptr` is non-NULL and points at a readable `h3q_transport` of that version.
    pub(crate) unsafe fn from_c(ptr: *const h3q_transport, abi: Abi) -> Result<Self, FfiError> {
        let absent = h3q_transport {
            user_data: std::ptr::null_mut(),
            is_client: false,
            remote_max_datagram_frame_size: 0,
            send_stream_data: None,
            get_next_available_stream_id: None,
            reset_stream: None,
            stop_stream: None,
            send_datagram_frame: None,
            close: None,
            set_stream_priority: None,
        };
        // SAFETY: readable for the caller's version (caller's contract).
        let merged = unsafe { read_prefix(ptr, abi.transport_size(), absent) };
        let ptr = merged.as_ptr();
        // SAFETY: every field of `merged` is initialised. Fields are copied one by one so
        // that the bool is read as a byte, never materialised from an out-of-range value.
        let table = unsafe {
            h3q_transport {
                user_data: (*ptr).user_data,
                is_client: read_bool(&raw const (*ptr).is_client),
                remote_max_datagram_frame_size: (*ptr).remote_max_datagram_frame_size,
                send_stream_data: (*ptr).send_stream_data,
                get_next_available_stream_id: (*ptr).get_next_available_stream_id,
                reset_stream: (*ptr).reset_stream,
                stop_stream: (*ptr).stop_stream,
                send_datagram_frame: (*ptr).send_datagram_frame,
                close: (*ptr).close,
                set_stream_priority: (*ptr).set_stream_priority,
            }
        };
        let missing = [
            ("send_stream_data", table.send_stream_data.is_none()),
            (
                "get_next_available_stream_id",
                table.get_next_available_stream_id.is_none(),
            ),
            ("reset_stream", table.reset_stream.is_none()),
            ("stop_stream", table.stop_stream.is_none()),
            ("close", table.close.is_none()),
        ];
        if let Some((name, _)) = missing.iter().find(|(_, absent)| *absent) {
            return Err(FfiError::null(&format!("transport->{name}")));
        }
        Ok(CTransport { table })
    }
}

fn check(function: &str, rc: c_int) -> Result<(), TransportError> {
    if rc == 0 {
        Ok(())
    } else {
        Err(TransportError::new(format!(
            "transport {function} returned {rc}"
        )))
    }
}

// The `expect`s below cannot fire: `from_c` refused tables without these functions.
impl Transport for CTransport {
    fn is_client(&self) -> bool {
        self.table.is_client
    }

    fn remote_max_datagram_frame_size(&self) -> u64 {
        self.table.remote_max_datagram_frame_size
    }

    fn send_stream_data(
        &mut self,
        stream_id: u64,
        data: &[u8],
        end_stream: bool,
    ) -> Result<(), TransportError> {
        let f = self.table.send_stream_data.expect("checked in from_c");
        // SAFETY: a function supplied by the application for exactly this call; `data` is
        // valid for its length during the call.
        let rc = unsafe {
            f(
                self.table.user_data,
                stream_id,
                data.as_ptr(),
                data.len(),
                end_stream,
            )
        };
        check("send_stream_data", rc)
    }

    fn get_next_available_stream_id(
        &mut self,
        unidirectional: bool,
    ) -> Result<u64, TransportError> {
        let f = self
            .table
            .get_next_available_stream_id
            .expect("checked in from_c");
        let mut id = u64::MAX;
        // SAFETY: application-supplied; `id` is a valid place to write.
        let rc = unsafe { f(self.table.user_data, unidirectional, &mut id) };
        check("get_next_available_stream_id", rc)?;
        if id > crate::varint::MAX {
            return Err(TransportError::new(format!(
                "transport get_next_available_stream_id gave an invalid id {id}"
            )));
        }
        Ok(id)
    }

    fn reset_stream(&mut self, stream_id: u64, error_code: u64) -> Result<(), TransportError> {
        let f = self.table.reset_stream.expect("checked in from_c");
        // SAFETY: application-supplied function, plain arguments.
        check("reset_stream", unsafe {
            f(self.table.user_data, stream_id, error_code)
        })
    }

    fn stop_stream(&mut self, stream_id: u64, error_code: u64) -> Result<(), TransportError> {
        let f = self.table.stop_stream.expect("checked in from_c");
        // SAFETY: application-supplied function, plain arguments.
        check("stop_stream", unsafe {
            f(self.table.user_data, stream_id, error_code)
        })
    }

    fn send_datagram_frame(&mut self, data: &[u8]) -> Result<(), TransportError> {
        let Some(f) = self.table.send_datagram_frame else {
            return Err(TransportError::new(
                "the transport has no send_datagram_frame",
            ));
        };
        // SAFETY: application-supplied; `data` is valid for its length during the call.
        check("send_datagram_frame", unsafe {
            f(self.table.user_data, data.as_ptr(), data.len())
        })
    }

    fn close(&mut self, error_code: u64, reason: &str) {
        let f = self.table.close.expect("checked in from_c");
        // SAFETY: application-supplied; `reason` is valid for its length during the call.
        unsafe {
            f(
                self.table.user_data,
                error_code,
                reason.as_ptr(),
                reason.len(),
            )
        }
    }

    /// A C table has no way to say so: a failing call is taken for a broken transport.
    fn is_closed(&self) -> bool {
        false
    }

    fn set_stream_priority(
        &mut self,
        stream_id: u64,
        priority: Priority,
    ) -> Result<(), TransportError> {
        let Some(f) = self.table.set_stream_priority else {
            return Ok(());
        };
        // SAFETY: application-supplied, called with plain values.
        check("set_stream_priority", unsafe {
            f(
                self.table.user_data,
                stream_id,
                priority.urgency,
                priority.incremental,
            )
        })
    }
}
