//! The `ffi_calls` fuzz target: the C API driven by arbitrary call sequences, in process,
//! through the same `extern "C"` functions C programs call. It lives here because calling
//! them takes `unsafe`; `crate::fuzzing` re-exports it as a safe function.
//!
//! Besides the HTTP/3 connection over a C transport table, op 21 makes the built-in QUIC
//! layer's production calls (`fuzz_quic.rs`).
//!
//! The driver behaves like a correct C caller (valid pointers and lengths, handles used
//! until freed and never after) except where the C API promises to check: NULL handles
//! and NULL out pointers, which must be refused with `H3Q_ERR_NULL`, never crash.

use std::ffi::{c_int, c_void};
use std::ptr;

use crate::fuzzing::Input;

use super::abi::Abi;
use super::conn::*;
use super::conn_lifecycle::*;
use super::event::{h3q_error_space, h3q_event, h3q_quic_event, h3q_quic_event_type};
use super::header::h3q_header;
use super::priority::*;
use super::qpack_decoder::*;
use super::qpack_encoder::*;
use super::result::{h3q_result, h3q_result_code};
use super::settings::{h3q_settings, h3q_settings_default_versioned};
use super::transport::h3q_transport;

/// What the C transport saw.
#[derive(Default)]
struct Peer {
    next_bidi: u64,
    next_uni: u64,
    closes: u32,
    fail: bool,
    events: usize,
    /// Bodies lent with `h3q_conn_send_data_zerocopy` and given back.
    released: usize,
    /// set_stream_priority calls.
    priorities: usize,
}

/// The code a result stands for, in the current numbering or version 1's (the driver
/// creates its handles for either; the two share only 0 and 1, which mean the same).
fn code(result: h3q_result) -> h3q_result_code {
    Abi::CURRENT
        .decode(result)
        .or_else(|| Abi::V1.decode(result))
        .unwrap_or_else(|| panic!("{result} is no h3q_result"))
}

/// Every call's result: any code but a caught panic (or the poisoning one leaves). The
/// panic boundary turns a panic into `H3Q_ERR_PANIC`, so without this check a replay on
/// stable would not notice one.
fn no_panic(result: h3q_result) {
    let code = code(result);
    assert!(
        !matches!(
            code,
            h3q_result_code::H3Q_ERR_PANIC | h3q_result_code::H3Q_ERR_POISONED
        ),
        "a call panicked: {code:?}"
    );
}

/// A body lent to `h3q_conn_send_data_zerocopy`: freed by its release callback.
struct LentBody {
    data: Vec<u8>,
    peer: *mut Peer,
}

unsafe extern "C" fn release_body(ctx: *mut c_void) {
    // SAFETY: `ctx` is the LentBody boxed for this call, released once.
    let body = unsafe { Box::from_raw(ctx.cast::<LentBody>()) };
    // SAFETY: the Peer outlives the connection.
    unsafe { (*body.peer).released += 1 };
}

unsafe extern "C" fn send_stream_data(
    user: *mut c_void,
    stream_id: u64,
    _data: *const u8,
    _len: usize,
    _fin: bool,
) -> c_int {
    // SAFETY: `user` is the `Peer` this driver registered; it outlives the connection.
    let peer = unsafe { &mut *user.cast::<Peer>() };
    if peer.fail {
        return -1;
    }
    if stream_id == peer.next_bidi {
        peer.next_bidi += 4;
    }
    if stream_id == peer.next_uni {
        peer.next_uni += 4;
    }
    0
}

unsafe extern "C" fn next_stream_id(user: *mut c_void, uni: bool, out: *mut u64) -> c_int {
    // SAFETY: as above; `out` is writable (h3q's contract).
    unsafe {
        let peer = &mut *user.cast::<Peer>();
        *out = if uni { peer.next_uni } else { peer.next_bidi };
    }
    0
}

unsafe extern "C" fn stream_op(user: *mut c_void, _stream_id: u64, _code: u64) -> c_int {
    // SAFETY: as above.
    let peer = unsafe { &*user.cast::<Peer>() };
    if peer.fail { -1 } else { 0 }
}

unsafe extern "C" fn set_stream_priority(
    user: *mut c_void,
    stream_id: u64,
    urgency: u8,
    _incremental: bool,
) -> c_int {
    // SAFETY: as above.
    let peer = unsafe { &mut *user.cast::<Peer>() };
    assert!(urgency <= 7, "urgency {urgency} given to the transport");
    assert!(stream_id <= crate::varint::MAX);
    peer.priorities += 1;
    if peer.fail { -1 } else { 0 }
}

unsafe extern "C" fn send_datagram(user: *mut c_void, _data: *const u8, _len: usize) -> c_int {
    // SAFETY: as above.
    let peer = unsafe { &*user.cast::<Peer>() };
    if peer.fail { -1 } else { 0 }
}

unsafe extern "C" fn close(user: *mut c_void, _code: u64, _reason: *const u8, _len: usize) {
    // SAFETY: as above.
    let peer = unsafe { &mut *user.cast::<Peer>() };
    peer.closes += 1;
}

unsafe extern "C" fn on_event(user: *mut c_void, event: *const h3q_event) {
    // SAFETY: `user` is the `Peer`; `event` is valid during the callback (h3q's contract).
    unsafe {
        let peer = &mut *user.cast::<Peer>();
        let event = &*event;
        // Touch what C would read, so that a dangling pointer shows under ASan.
        for i in 0..event.headers_len {
            let h = &*event.headers.add(i);
            if h.name_len > 0 {
                let _ = ptr::read_volatile(h.name);
            }
            if h.value_len > 0 {
                let _ = ptr::read_volatile(h.value.add(h.value_len - 1));
            }
        }
        if event.data_len > 0 {
            let _ = ptr::read_volatile(event.data.add(event.data_len - 1));
        }
        peer.events += 1;
    }
}

fn c_headers(list: &[(&'static [u8], &'static [u8])]) -> Vec<h3q_header> {
    list.iter().map(|(n, v)| h3q_header::of(n, v)).collect()
}

/// Drives `h3q_conn_*`, `h3q_qpack_encoder_*` and `h3q_qpack_decoder_*` with the call
/// sequence `data` describes. Panics if a call crashes the invariants it documents.
pub fn ffi_calls(data: &[u8]) {
    let mut input = Input::new(data);
    let setup = input.byte();
    let is_client = setup & 1 != 0;
    let peer_ptr = Box::into_raw(Box::new(Peer {
        next_bidi: if is_client { 0 } else { 1 },
        next_uni: if is_client { 2 } else { 3 },
        ..Peer::default()
    }));
    let user = peer_ptr.cast::<c_void>();
    let table = h3q_transport {
        user_data: user,
        is_client,
        remote_max_datagram_frame_size: 1200,
        send_stream_data: Some(send_stream_data),
        get_next_available_stream_id: Some(next_stream_id),
        reset_stream: Some(stream_op),
        stop_stream: Some(stream_op),
        send_datagram_frame: if setup & 2 != 0 {
            Some(send_datagram)
        } else {
            None
        },
        close: Some(close),
        set_stream_priority: if setup & 32 != 0 {
            Some(set_stream_priority)
        } else {
            None
        },
    };
    // Handles for a program built against the current header, or against version 1's.
    let version = if setup & 16 != 0 {
        Abi::V1
    } else {
        Abi::CURRENT
    } as c_int;
    let mut settings = std::mem::MaybeUninit::<h3q_settings>::uninit();
    // SAFETY: writable; every version's settings are a prefix of the current struct.
    let r = unsafe { h3q_settings_default_versioned(Abi::CURRENT as c_int, settings.as_mut_ptr()) };
    assert_eq!(code(r), h3q_result_code::H3Q_OK);
    // SAFETY: h3q_settings_default_versioned wrote every field.
    let mut settings = unsafe { settings.assume_init() };
    settings.enable_webtransport = setup & 4 != 0;
    if setup & 8 != 0 {
        settings.max_field_section_size = 512;
        settings.max_cheap_frames = 8;
        settings.max_excess_resets = 2;
    }
    let mut conn: *mut h3q_conn = ptr::null_mut();
    // SAFETY: valid table and settings; `conn` writable.
    let r = unsafe { h3q_conn_new_versioned(version, &table, &settings, &mut conn) };
    assert_eq!(code(r), h3q_result_code::H3Q_OK);

    let mut encoder: *mut h3q_qpack_encoder = ptr::null_mut();
    assert_eq!(
        code(h3q_qpack_encoder_new_versioned(version, &mut encoder)),
        h3q_result_code::H3Q_OK
    );
    let mut decoder: *mut h3q_qpack_decoder = ptr::null_mut();
    let r = h3q_qpack_decoder_new_versioned(version, u64::from(input.byte()) * 16, 4, &mut decoder);
    assert_eq!(code(r), h3q_result_code::H3Q_OK);

    let get = c_headers(&[
        (b":method", b"GET"),
        (b":scheme", b"https"),
        (b":authority", b"example.com"),
        (b":path", b"/"),
    ]);
    let ok = c_headers(&[(b":status", b"200")]);
    // The built-in QUIC layer's production calls (`fuzz_quic.rs`).
    let mut quic = super::fuzz_quic::QuicCalls::new();

    while !input.is_empty() {
        let op = input.byte();
        let stream_id = u64::from(input.byte() & 0x3f);
        let fin = op & 0x80 != 0;
        // SAFETY (whole block): every pointer passed is valid for its length or NULL where
        // the API accepts NULL; `conn`, `encoder`, `decoder` are live; the transport's
        // `Peer` outlives the connection.
        unsafe {
            match op % 22 {
                0..=3 => {
                    let bytes = input.long_chunk();
                    let event = h3q_quic_event {
                        r#type: h3q_quic_event_type::H3Q_QUIC_STREAM_DATA_RECEIVED,
                        stream_id,
                        data: bytes.as_ptr(),
                        data_len: bytes.len(),
                        end_stream: fin,
                        error_code: 0,
                        reason: ptr::null(),
                        reason_len: 0,
                        error_space: h3q_error_space::H3Q_ERROR_SPACE_UNSPECIFIED,
                        closed_by_peer: false,
                    };
                    let r = h3q_conn_handle_event(conn, &event, Some(on_event), user);
                    assert!(
                        matches!(
                            code(r),
                            h3q_result_code::H3Q_OK
                                | h3q_result_code::H3Q_ERR_PROTOCOL
                                | h3q_result_code::H3Q_ERR_INTERNAL
                                // A version-1 handle reports H3Q_ERR_INTERNAL as this.
                                | h3q_result_code::H3Q_ERR_TRANSPORT
                        ),
                        "unexpected {r:?}"
                    );
                }
                4 => {
                    let ty = match input.byte() % 5 {
                        0 => h3q_quic_event_type::H3Q_QUIC_STREAM_RESET,
                        1 => h3q_quic_event_type::H3Q_QUIC_STOP_SENDING_RECEIVED,
                        2 => h3q_quic_event_type::H3Q_QUIC_DATAGRAM_RECEIVED,
                        3 => h3q_quic_event_type::H3Q_QUIC_EARLY_DATA_REJECTED,
                        _ => h3q_quic_event_type::H3Q_QUIC_CONNECTION_TERMINATED,
                    };
                    let bytes = input.chunk();
                    let event = h3q_quic_event {
                        r#type: ty,
                        stream_id,
                        data: bytes.as_ptr(),
                        data_len: bytes.len(),
                        end_stream: false,
                        error_code: 7,
                        reason: bytes.as_ptr(),
                        reason_len: bytes.len(),
                        error_space: h3q_error_space::H3Q_ERROR_SPACE_APPLICATION,
                        closed_by_peer: fin,
                    };
                    no_panic(h3q_conn_handle_event(conn, &event, Some(on_event), user));
                }
                5 => {
                    let headers = if is_client { &get } else { &ok };
                    no_panic(h3q_conn_send_headers(
                        conn,
                        stream_id,
                        headers.as_ptr(),
                        headers.len(),
                        fin,
                    ));
                }
                6 if op & 0x40 != 0 => {
                    // Lent instead of copied. A C transport table copies what it is given,
                    // so the body comes back before the call returns, whatever its result.
                    let body = Box::new(LentBody {
                        data: input.chunk().to_vec(),
                        peer: peer_ptr,
                    });
                    let (data, len) = (body.data.as_ptr(), body.data.len());
                    let ctx = Box::into_raw(body).cast::<c_void>();
                    let before = (*peer_ptr).released;
                    no_panic(h3q_conn_send_data_zerocopy(
                        conn,
                        stream_id,
                        data,
                        len,
                        fin,
                        Some(release_body),
                        ctx,
                    ));
                    assert_eq!((*peer_ptr).released, before + 1, "lent body not released");
                }
                6 => {
                    let bytes = input.chunk();
                    no_panic(h3q_conn_send_data(
                        conn,
                        stream_id,
                        bytes.as_ptr(),
                        bytes.len(),
                        fin,
                    ));
                }
                7 => {
                    let mut push = 0u64;
                    no_panic(h3q_conn_send_push_promise(
                        conn,
                        stream_id,
                        get.as_ptr(),
                        get.len(),
                        &mut push,
                    ));
                }
                8 => {
                    let bytes = input.chunk();
                    no_panic(h3q_conn_send_datagram(
                        conn,
                        stream_id,
                        bytes.as_ptr(),
                        bytes.len(),
                    ));
                }
                9 => {
                    let mut id = 0u64;
                    no_panic(h3q_conn_create_webtransport_stream(
                        conn, stream_id, fin, &mut id,
                    ));
                    let mut value = 0u64;
                    no_panic(h3q_conn_received_setting(conn, stream_id, &mut value));
                    no_panic(h3q_conn_sent_setting(conn, stream_id, &mut value));
                    let _ = h3q_conn_last_error(conn);
                }
                10 => {
                    // NULL where the API checks for NULL.
                    assert_eq!(
                        code(h3q_conn_send_headers(
                            ptr::null_mut(),
                            0,
                            ptr::null(),
                            0,
                            false
                        )),
                        h3q_result_code::H3Q_ERR_NULL
                    );
                    let r = h3q_conn_handle_event(conn, ptr::null(), Some(on_event), user);
                    assert_eq!(code(r), h3q_result_code::H3Q_ERR_NULL);
                    let r = h3q_conn_received_setting(conn, 1, ptr::null_mut());
                    assert_eq!(code(r), h3q_result_code::H3Q_ERR_NULL);
                }
                11 => {
                    (*peer_ptr).fail = fin;
                }
                12 => {
                    let headers = if fin { &get } else { &ok };
                    let mut section = ptr::null();
                    let mut len = 0usize;
                    let r = h3q_qpack_encoder_encode(
                        encoder,
                        stream_id * 4,
                        headers.as_ptr(),
                        headers.len(),
                        &mut section,
                        &mut len,
                    );
                    assert_eq!(code(r), h3q_result_code::H3Q_OK);
                    let mut out = ptr::null();
                    let mut n = 0usize;
                    let r = h3q_qpack_encoder_take_encoder_stream(encoder, &mut out, &mut n);
                    assert_eq!(code(r), h3q_result_code::H3Q_OK);
                }
                13 => {
                    let bytes = input.chunk();
                    no_panic(h3q_qpack_encoder_feed_decoder(
                        encoder,
                        bytes.as_ptr(),
                        bytes.len(),
                    ));
                    no_panic(h3q_qpack_encoder_stream_cancelled(encoder, stream_id * 4));
                    if fin {
                        no_panic(h3q_qpack_encoder_apply_settings(
                            encoder,
                            u64::from(input.byte()) * 16,
                            4,
                        ));
                    }
                }
                14 => {
                    let bytes = input.long_chunk();
                    let mut headers = ptr::null();
                    let mut n = 0usize;
                    if fin {
                        no_panic(h3q_qpack_decoder_feed_encoder(
                            decoder,
                            bytes.as_ptr(),
                            bytes.len(),
                        ));
                    } else {
                        no_panic(h3q_qpack_decoder_decode(
                            decoder,
                            stream_id * 4,
                            bytes.as_ptr(),
                            bytes.len(),
                            &mut headers,
                            &mut n,
                        ));
                    }
                    let mut unblocked = 0u64;
                    while h3q_qpack_decoder_next_unblocked(
                        decoder,
                        &mut unblocked,
                        &mut headers,
                        &mut n,
                    ) == h3q_result_code::H3Q_OK as h3q_result
                    {}
                }
                16 => {
                    if fin {
                        no_panic(h3q_conn_shutdown_notice(conn));
                    } else {
                        no_panic(h3q_conn_shutdown(conn));
                    }
                    let mut active = 0usize;
                    no_panic(h3q_conn_active_requests(conn, &mut active));
                }
                17 => {
                    // Now and then a code above 2^62-1, which must be refused.
                    let shift = if op & 0x40 != 0 { 60 } else { 0 };
                    let code = u64::from(input.byte()) << shift;
                    if fin {
                        no_panic(h3q_conn_reset_stream(conn, stream_id, code));
                    } else {
                        no_panic(h3q_conn_stop_sending(conn, stream_id, code));
                    }
                }
                18 => {
                    no_panic(h3q_conn_cancel_push(conn, stream_id));
                    let mut code = 0u64;
                    let mut space = h3q_error_space::H3Q_ERROR_SPACE_UNSPECIFIED;
                    no_panic(h3q_conn_close_code(conn, &mut code, &mut space));
                    no_panic(h3q_conn_close_code(conn, &mut code, ptr::null_mut()));
                }
                19 => {
                    let origin = std::ffi::CString::new(
                        input
                            .chunk()
                            .iter()
                            .map(|b| b.max(&1))
                            .copied()
                            .collect::<Vec<u8>>(),
                    )
                    .expect("no NUL");
                    let origins = [origin.as_ptr(), c"https://example.com".as_ptr()];
                    no_panic(h3q_conn_send_origin(conn, origins.as_ptr(), origins.len()));
                    let r = h3q_conn_send_origin(conn, ptr::null(), 1);
                    assert_eq!(code(r), h3q_result_code::H3Q_ERR_NULL);
                }
                20 => {
                    // Urgencies above 7 must be refused; the bool may hold any byte.
                    let mut raw = [input.byte() % 10, input.byte()];
                    let priority = raw.as_mut_ptr().cast::<h3q_priority>();
                    no_panic(h3q_conn_set_priority(conn, stream_id, priority));
                    no_panic(h3q_conn_send_priority_update(conn, stream_id, priority));
                    let mut got = h3q_priority {
                        urgency: 0,
                        incremental: false,
                    };
                    let r = h3q_conn_get_priority(conn, stream_id, &mut got);
                    if code(r) == h3q_result_code::H3Q_OK {
                        assert!(got.urgency <= 7);
                    }
                    let value = input.chunk();
                    let r = h3q_priority_parse(value.as_ptr(), value.len(), &mut got);
                    assert_eq!(code(r), h3q_result_code::H3Q_OK);
                    assert!(got.urgency <= 7);
                    let r = h3q_conn_set_priority(conn, stream_id, ptr::null());
                    assert_eq!(code(r), h3q_result_code::H3Q_ERR_NULL);
                }
                21 => quic.step(&mut input),
                _ => {
                    let mut out = ptr::null();
                    let mut n = 0usize;
                    no_panic(h3q_qpack_decoder_take_decoder_stream(
                        decoder, &mut out, &mut n,
                    ));
                    no_panic(h3q_qpack_decoder_cancel_stream(decoder, stream_id * 4));
                    no_panic(h3q_qpack_decoder_set_max_field_section_size(
                        decoder,
                        u64::from(input.byte()) * 8,
                    ));
                    no_panic(h3q_qpack_decoder_set_dynamic_table_capacity(
                        decoder,
                        u64::from(input.byte()) * 16,
                    ));
                    let _ = h3q_qpack_decoder_last_error(decoder);
                    let _ = h3q_qpack_encoder_last_error(encoder);
                }
            }
            assert!((*peer_ptr).closes <= 1, "transport closed twice");
        }
    }
    // SAFETY: live handles, freed once; the Peer outlives the connection.
    unsafe {
        h3q_conn_free(conn);
        h3q_qpack_encoder_free(encoder);
        h3q_qpack_decoder_free(decoder);
        drop(Box::from_raw(peer_ptr));
    }
}
