//! Events across the C boundary: `h3q_quic_event` (QUIC events in, and out of the built-in
//! QUIC layer) and `h3q_event` (HTTP events out, through `h3q_event_cb`).

use std::ffi::c_void;

use bytes::Bytes;

use crate::h3::event::{ErrorSpace, EventData, H3Event, QuicEvent, slice_within};

use super::abi::Abi;
use super::handle::FfiError;
use super::header::h3q_header;
use super::priority::h3q_priority;
use super::read::{read_bool, read_enum};
use super::slice::bytes_arg;

/// The kind of an `h3q_quic_event`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum h3q_quic_event_type {
    /// Bytes arrived on a stream (`stream_id`, `data`/`data_len`, `end_stream` for FIN).
    H3Q_QUIC_STREAM_DATA_RECEIVED = 0,
    /// The peer reset a stream (`stream_id`, `error_code`).
    H3Q_QUIC_STREAM_RESET = 1,
    /// The peer sent STOP_SENDING for a stream (`stream_id`, `error_code`).
    H3Q_QUIC_STOP_SENDING_RECEIVED = 2,
    /// A QUIC DATAGRAM frame arrived (`data`/`data_len`).
    H3Q_QUIC_DATAGRAM_RECEIVED = 3,
    /// The handshake completed; `data`/`data_len` hold the negotiated ALPN (may be empty).
    H3Q_QUIC_HANDSHAKE_COMPLETED = 4,
    /// The connection ended, by either side (`error_code` in the space `error_space`
    /// names, `reason`/`reason_len`, `closed_by_peer`).
    H3Q_QUIC_CONNECTION_TERMINATED = 5,
    /// A client's 0-RTT data was rejected by the server; given just before
    /// `H3Q_QUIC_HANDSHAKE_COMPLETED` (no other field is used). The QUIC stack forgot every
    /// stream the client opened and stream ids start again from 0: the `h3q_conn` reports
    /// each request it had sent as `H3Q_EVENT_STREAM_RESET` with H3_REQUEST_REJECTED (send
    /// it again) and reopens its own streams. A transport-table user reports it when its
    /// QUIC stack says early data was rejected, before it reports the handshake complete.
    /// ABI version 2.
    H3Q_QUIC_EARLY_DATA_REJECTED = 6,
}

/// Which code space the `error_code` of `H3Q_QUIC_CONNECTION_TERMINATED` belongs to: QUIC
/// transport codes and application (HTTP/3) codes overlap, so the code alone is ambiguous.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum h3q_error_space {
    /// Not said: the zero value, for a QUIC stack that does not report it.
    H3Q_ERROR_SPACE_UNSPECIFIED = 0,
    /// A QUIC transport error code (RFC 9000 §20.1): the peer's CONNECTION_CLOSE of type
    /// 0x1c, or an error the QUIC layer detected.
    H3Q_ERROR_SPACE_TRANSPORT = 1,
    /// An application error code (HTTP/3's, RFC 9114 §8.1): the peer's CONNECTION_CLOSE of
    /// type 0x1d, or a close of our own (`h3q_quic_conn_close()`, or the HTTP/3 layer's).
    H3Q_ERROR_SPACE_APPLICATION = 2,
    /// No code was exchanged: an idle timeout (`error_code` 0), a stateless reset, no
    /// common QUIC version (`error_code` 0x1).
    H3Q_ERROR_SPACE_NO_CODE = 3,
}

impl From<ErrorSpace> for h3q_error_space {
    fn from(space: ErrorSpace) -> Self {
        match space {
            ErrorSpace::Unspecified => h3q_error_space::H3Q_ERROR_SPACE_UNSPECIFIED,
            ErrorSpace::Transport => h3q_error_space::H3Q_ERROR_SPACE_TRANSPORT,
            ErrorSpace::Application => h3q_error_space::H3Q_ERROR_SPACE_APPLICATION,
            ErrorSpace::NoCode => h3q_error_space::H3Q_ERROR_SPACE_NO_CODE,
        }
    }
}

/// A QUIC event: given to `h3q_conn_handle_event()` (from your QUIC stack or from
/// `h3q_quic_conn_next_event()`), and produced by `h3q_quic_conn_next_event()`.
///
/// Fields a type does not use are ignored on input and zero on output. Pointers are NULL
/// only with a length of 0. On input, h3q reads the pointed-to bytes during the call only.
///
/// Versioned (`H3Q_QUIC_EVENT_VERSION`): fields are only ever appended; h3q reads and
/// writes only the fields of the caller's ABI version (`error_space` and `closed_by_peer`
/// came with version 2).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct h3q_quic_event {
    /// What happened; selects the meaningful fields.
    pub r#type: h3q_quic_event_type,
    /// The stream (stream events).
    pub stream_id: u64,
    /// Stream bytes, a datagram's payload, or the ALPN of a completed handshake.
    pub data: *const u8,
    /// Length of `data`.
    pub data_len: usize,
    /// FIN: no stream bytes follow (stream data events).
    pub end_stream: bool,
    /// The error code (stream reset, stop sending, connection terminated).
    pub error_code: u64,
    /// The reason phrase of a terminated connection (not NUL-terminated).
    pub reason: *const u8,
    /// Length of `reason`.
    pub reason_len: usize,
    /// Which code space `error_code` of a terminated connection belongs to. ABI version 2.
    pub error_space: h3q_error_space,
    /// A terminated connection was closed (or reset) by the peer; false for a close of our
    /// own, an idle timeout or an error detected here. ABI version 2.
    pub closed_by_peer: bool,
}

/// The kind of an `h3q_event`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum h3q_event_type {
    /// A HEADERS frame was decoded: `headers`/`headers_len` (a message head, an interim
    /// response, or trailers); `stream_ended` if FIN followed.
    H3Q_EVENT_HEADERS_RECEIVED = 0,
    /// DATA payload bytes arrived (`data`/`data_len`, possibly empty when only FIN arrived);
    /// `stream_ended` on FIN.
    H3Q_EVENT_DATA_RECEIVED = 1,
    /// A PUSH_PROMISE was decoded on request stream `stream_id`: `push_id` and the promised
    /// request's `headers`.
    H3Q_EVENT_PUSH_PROMISE_RECEIVED = 2,
    /// An HTTP datagram arrived for request stream `stream_id` (`data`/`data_len`).
    H3Q_EVENT_DATAGRAM_RECEIVED = 3,
    /// Bytes arrived on a WebTransport stream of session `session_id`.
    H3Q_EVENT_WEBTRANSPORT_STREAM_DATA_RECEIVED = 4,
    /// The peer sent GOAWAY: from a server, `stream_id` is the first request stream it
    /// will not process (requests at or above it that were sent come as
    /// `H3Q_EVENT_STREAM_RESET` with H3_REQUEST_REJECTED; new ones are refused with
    /// `H3Q_ERR_GOING_AWAY`: retry them on a new connection); from a client, `push_id`
    /// (`has_push_id`) is the first push it will not accept. ABI version 2.
    H3Q_EVENT_GOAWAY_RECEIVED = 5,
    /// Nothing more arrives on request or push stream `stream_id`: the peer reset it
    /// (RESET_STREAM with `error_code`), or, for a client, the server's GOAWAY showed it
    /// was not processed (H3_REQUEST_REJECTED). Once per stream. ABI version 2.
    H3Q_EVENT_STREAM_RESET = 6,
    /// The peer asked us to stop sending on request or push stream `stream_id`
    /// (STOP_SENDING with `error_code`); h3q has reset our sending side with the same
    /// code. ABI version 2.
    H3Q_EVENT_STOP_SENDING = 7,
    /// The peer cancelled push `push_id` (CANCEL_PUSH): a server stops producing it; a
    /// client gets nothing more of it. ABI version 2.
    H3Q_EVENT_PUSH_CANCELLED = 8,
    /// The connection is over, whoever closed it; once, when the QUIC connection
    /// terminates: `error_code` in the space `error_space` names, the reason phrase in
    /// `data`/`data_len`, `closed_by_peer`. After a protocol error of the peer's it
    /// carries our close (the HTTP/3 code). ABI version 2.
    H3Q_EVENT_CONNECTION_CLOSED = 9,
    /// The server listed origins it is authoritative for (ORIGIN, RFC 9412): one
    /// `headers` entry per origin, its name the ASCII origin (e.g. `https://example.com`)
    /// and its value empty. ABI version 2.
    H3Q_EVENT_ORIGIN_RECEIVED = 10,
    /// A server: the client changed the priority of request stream `stream_id` (whose
    /// head was delivered) or of push `push_id` on push stream `stream_id`
    /// (PRIORITY_UPDATE, RFC 9218 §7); the new one is in `priority`, and h3q schedules by
    /// it from now on. ABI version 2.
    H3Q_EVENT_PRIORITY_UPDATE = 11,
}

/// The last event type of ABI version 1: a version-1 program is given no later ones.
const LAST_V1_EVENT_TYPE: h3q_event_type =
    h3q_event_type::H3Q_EVENT_WEBTRANSPORT_STREAM_DATA_RECEIVED;

/// An HTTP event, passed to the `h3q_event_cb` given to `h3q_conn_handle_event()`.
///
/// Every pointer inside (the headers array, each name and value, data) is owned by h3q and
/// valid only during the callback: copy what you keep. Fields a type does not use are zero.
///
/// Versioned (`H3Q_EVENT_VERSION`): fields are only ever appended and a program reads
/// only those of its ABI version (`error_code`, `error_space` and `closed_by_peer` came
/// with version 2); a version-1 program is not given the event types of later versions.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct h3q_event {
    /// What happened; selects the meaningful fields.
    pub r#type: h3q_event_type,
    /// The request stream (the push stream for a pushed response); for a datagram, the
    /// request stream it belongs to (quarter stream id * 4).
    pub stream_id: u64,
    /// FIN was seen on the stream after this event's frame or bytes.
    pub stream_ended: bool,
    /// `push_id` is meaningful: a promise, or headers/data of a pushed response.
    pub has_push_id: bool,
    /// The push id (when `has_push_id`).
    pub push_id: u64,
    /// The fields of HEADERS and PUSH_PROMISE events.
    pub headers: *const h3q_header,
    /// Number of entries in `headers`.
    pub headers_len: usize,
    /// DATA payload, datagram payload, or WebTransport stream bytes.
    pub data: *const u8,
    /// Length of `data`.
    pub data_len: usize,
    /// The WebTransport session (its CONNECT stream id) of WebTransport events.
    pub session_id: u64,
    /// The application error code of `H3Q_EVENT_STREAM_RESET` and
    /// `H3Q_EVENT_STOP_SENDING`; the close's code of `H3Q_EVENT_CONNECTION_CLOSED`. ABI
    /// version 2.
    pub error_code: u64,
    /// Which code space `error_code` belongs to (`H3Q_ERROR_SPACE_APPLICATION` for stream
    /// events). ABI version 2.
    pub error_space: h3q_error_space,
    /// `H3Q_EVENT_CONNECTION_CLOSED`: the peer closed (or reset) the connection. ABI
    /// version 2.
    pub closed_by_peer: bool,
    /// `H3Q_EVENT_PRIORITY_UPDATE`: the new priority. ABI version 2.
    pub priority: h3q_priority,
}

/// Receives HTTP events: called once per event, in order, during
/// `h3q_conn_handle_event()`. `event` and everything it points to are valid only during the
/// call. The callback may call `h3q_conn_send_*` and the other functions on the same
/// connection (to answer a request from its HEADERS event, for instance).
pub type h3q_event_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, event: *const h3q_event)>;

/// Reads and checks a QUIC event from a C program of ABI version `abi` (only the fields
/// that version has). When its bytes lie in `source` (the payload of the event the
/// built-in QUIC layer last handed to C, for a connection over it), they are shared from
/// it instead of borrowed, so DATA is passed on without a copy.
///
/// # Safety
/// `ptr` is non-NULL and points at a readable `h3q_quic_event` of that version whose
/// pointers are valid for their lengths for `'a`.
pub(crate) unsafe fn quic_event_from_c<'a>(
    ptr: *const h3q_quic_event,
    abi: Abi,
    source: &Bytes,
) -> Result<QuicEvent<'a>, FfiError> {
    // SAFETY: readable (caller's contract); the enum and the bool are read as integers so
    // that out-of-range values from C are reported, never materialised.
    let (kind, stream_id, error_code, end_stream) = unsafe {
        (
            read_enum(&raw const (*ptr).r#type),
            (*ptr).stream_id,
            (*ptr).error_code,
            read_bool(&raw const (*ptr).end_stream),
        )
    };
    // SAFETY: pointer/length pairs valid for 'a (caller's contract).
    let data = || -> Result<EventData<'a>, FfiError> {
        let data = unsafe { bytes_arg((*ptr).data, (*ptr).data_len, "event->data") }?;
        Ok(slice_within(source, data).map_or(EventData::Borrowed(data), EventData::Shared))
    };
    // SAFETY: as above.
    let reason = || unsafe { bytes_arg((*ptr).reason, (*ptr).reason_len, "event->reason") };
    use h3q_quic_event_type as T;
    const STREAM_DATA: u32 = T::H3Q_QUIC_STREAM_DATA_RECEIVED as u32;
    const STREAM_RESET: u32 = T::H3Q_QUIC_STREAM_RESET as u32;
    const STOP_SENDING: u32 = T::H3Q_QUIC_STOP_SENDING_RECEIVED as u32;
    const DATAGRAM: u32 = T::H3Q_QUIC_DATAGRAM_RECEIVED as u32;
    const HANDSHAKE: u32 = T::H3Q_QUIC_HANDSHAKE_COMPLETED as u32;
    const TERMINATED: u32 = T::H3Q_QUIC_CONNECTION_TERMINATED as u32;
    const EARLY_DATA_REJECTED: u32 = T::H3Q_QUIC_EARLY_DATA_REJECTED as u32;
    Ok(match kind {
        STREAM_DATA => QuicEvent::StreamDataReceived {
            stream_id: checked_stream_id(stream_id)?,
            data: data()?,
            end_stream,
        },
        STREAM_RESET => QuicEvent::StreamReset {
            stream_id: checked_stream_id(stream_id)?,
            error_code,
        },
        STOP_SENDING => QuicEvent::StopSendingReceived {
            stream_id: checked_stream_id(stream_id)?,
            error_code,
        },
        DATAGRAM => QuicEvent::DatagramReceived { data: data()? },
        HANDSHAKE => {
            // SAFETY: as above.
            let alpn = unsafe { bytes_arg((*ptr).data, (*ptr).data_len, "event->data") }?;
            QuicEvent::HandshakeCompleted {
                alpn: (!alpn.is_empty()).then_some(alpn),
            }
        }
        TERMINATED => {
            let (error_space, by_peer) = if abi.has_close_details() {
                // SAFETY: the caller's version has these fields (readable, as above).
                unsafe {
                    (
                        error_space_from_c(read_enum(&raw const (*ptr).error_space))?,
                        read_bool(&raw const (*ptr).closed_by_peer),
                    )
                }
            } else {
                (ErrorSpace::Unspecified, false)
            };
            QuicEvent::ConnectionTerminated {
                error_code,
                reason: reason()?,
                error_space,
                by_peer,
            }
        }
        EARLY_DATA_REJECTED => QuicEvent::EarlyDataRejected,
        other => {
            return Err(FfiError::invalid(format!(
                "event->type {other} is not an h3q_quic_event_type"
            )));
        }
    })
}

fn error_space_from_c(value: u32) -> Result<ErrorSpace, FfiError> {
    use h3q_error_space as S;
    Ok(match value {
        v if v == S::H3Q_ERROR_SPACE_UNSPECIFIED as u32 => ErrorSpace::Unspecified,
        v if v == S::H3Q_ERROR_SPACE_TRANSPORT as u32 => ErrorSpace::Transport,
        v if v == S::H3Q_ERROR_SPACE_APPLICATION as u32 => ErrorSpace::Application,
        v if v == S::H3Q_ERROR_SPACE_NO_CODE as u32 => ErrorSpace::NoCode,
        other => {
            return Err(FfiError::invalid(format!(
                "event->error_space {other} is not an h3q_error_space"
            )));
        }
    })
}

fn checked_stream_id(stream_id: u64) -> Result<u64, FfiError> {
    if stream_id > crate::varint::MAX {
        Err(FfiError::invalid(format!(
            "event->stream_id {stream_id} is above 2^62-1"
        )))
    } else {
        Ok(stream_id)
    }
}

/// The C view of an HTTP event. `headers` receives the event's field views and must outlive
/// the returned struct's use; so must `event`.
///
/// `None` for an event type the program's ABI version (`abi`) does not know: it is not
/// given to it. `is_client` says which id a GOAWAY carries (a stream id from a server, a
/// push id from a client).
pub(crate) fn event_to_c(
    event: &H3Event,
    headers: &mut Vec<h3q_header>,
    abi: Abi,
    is_client: bool,
) -> Option<h3q_event> {
    headers.clear();
    let mut c = h3q_event {
        r#type: h3q_event_type::H3Q_EVENT_HEADERS_RECEIVED,
        stream_id: 0,
        stream_ended: false,
        has_push_id: false,
        push_id: 0,
        headers: std::ptr::null(),
        headers_len: 0,
        data: std::ptr::null(),
        data_len: 0,
        session_id: 0,
        error_code: 0,
        error_space: h3q_error_space::H3Q_ERROR_SPACE_UNSPECIFIED,
        closed_by_peer: false,
        priority: h3q_priority {
            urgency: 0,
            incremental: false,
        },
    };
    let set_push = |c: &mut h3q_event, push_id: Option<u64>| {
        c.has_push_id = push_id.is_some();
        c.push_id = push_id.unwrap_or(0);
    };
    match event {
        H3Event::HeadersReceived {
            stream_id,
            headers: fields,
            stream_ended,
            push_id,
        } => {
            headers.extend(fields.iter().map(h3q_header::borrowing));
            c.stream_id = *stream_id;
            c.stream_ended = *stream_ended;
            set_push(&mut c, *push_id);
        }
        H3Event::DataReceived {
            stream_id,
            data,
            stream_ended,
            push_id,
        } => {
            c.r#type = h3q_event_type::H3Q_EVENT_DATA_RECEIVED;
            c.stream_id = *stream_id;
            c.stream_ended = *stream_ended;
            (c.data, c.data_len) = (data.as_ptr(), data.len());
            set_push(&mut c, *push_id);
        }
        H3Event::PushPromiseReceived {
            stream_id,
            push_id,
            headers: fields,
        } => {
            headers.extend(fields.iter().map(h3q_header::borrowing));
            c.r#type = h3q_event_type::H3Q_EVENT_PUSH_PROMISE_RECEIVED;
            c.stream_id = *stream_id;
            set_push(&mut c, Some(*push_id));
        }
        H3Event::DatagramReceived { stream_id, data } => {
            c.r#type = h3q_event_type::H3Q_EVENT_DATAGRAM_RECEIVED;
            c.stream_id = *stream_id;
            (c.data, c.data_len) = (data.as_ptr(), data.len());
        }
        H3Event::WebTransportStreamDataReceived {
            stream_id,
            data,
            stream_ended,
            session_id,
        } => {
            c.r#type = h3q_event_type::H3Q_EVENT_WEBTRANSPORT_STREAM_DATA_RECEIVED;
            c.stream_id = *stream_id;
            c.stream_ended = *stream_ended;
            c.session_id = *session_id;
            (c.data, c.data_len) = (data.as_ptr(), data.len());
        }
        H3Event::GoawayReceived { id } => {
            c.r#type = h3q_event_type::H3Q_EVENT_GOAWAY_RECEIVED;
            if is_client {
                c.stream_id = *id;
            } else {
                set_push(&mut c, Some(*id));
            }
        }
        H3Event::StreamReset {
            stream_id,
            error_code,
            push_id,
        }
        | H3Event::StopSending {
            stream_id,
            error_code,
            push_id,
        } => {
            c.r#type = if matches!(event, H3Event::StreamReset { .. }) {
                h3q_event_type::H3Q_EVENT_STREAM_RESET
            } else {
                h3q_event_type::H3Q_EVENT_STOP_SENDING
            };
            c.stream_id = *stream_id;
            c.error_code = *error_code;
            c.error_space = h3q_error_space::H3Q_ERROR_SPACE_APPLICATION;
            set_push(&mut c, *push_id);
        }
        H3Event::PushCancelled { push_id } => {
            c.r#type = h3q_event_type::H3Q_EVENT_PUSH_CANCELLED;
            set_push(&mut c, Some(*push_id));
        }
        H3Event::ConnectionClosed(close) => {
            c.r#type = h3q_event_type::H3Q_EVENT_CONNECTION_CLOSED;
            c.error_code = close.error_code;
            c.error_space = close.error_space.into();
            c.closed_by_peer = close.by_peer;
            (c.data, c.data_len) = (close.reason.as_ptr(), close.reason.len());
        }
        H3Event::PriorityUpdate {
            stream_id,
            push_id,
            priority,
        } => {
            c.r#type = h3q_event_type::H3Q_EVENT_PRIORITY_UPDATE;
            c.stream_id = *stream_id;
            c.priority = (*priority).into();
            set_push(&mut c, *push_id);
        }
        H3Event::OriginReceived { origins } => {
            c.r#type = h3q_event_type::H3Q_EVENT_ORIGIN_RECEIVED;
            headers.extend(origins.iter().map(|origin| h3q_header::of(origin, b"")));
        }
    }
    if abi == Abi::V1 && c.r#type as u32 > LAST_V1_EVENT_TYPE as u32 {
        return None;
    }
    if !headers.is_empty() {
        (c.headers, c.headers_len) = (headers.as_ptr(), headers.len());
    }
    Some(c)
}
