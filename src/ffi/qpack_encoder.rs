//! `h3q_qpack_encoder`: the QPACK encoder alone (RFC 9204).

use std::ffi::c_int;

use crate::qpack::Encoder;

use super::handle::{self, Opaque, call, call_versioned, non_null};
use super::header::{h3q_header, with_header_list};
use super::result::h3q_result;
use super::slice::bytes_arg;

/// A QPACK encoder: compresses field sections, writes our encoder stream and consumes the
/// peer's decoder stream. Create with `h3q_qpack_encoder_new()`, free with
/// `h3q_qpack_encoder_free()`. Not thread-safe; may move between threads.
pub struct h3q_qpack_encoder {
    _private: [u8; 0],
}

pub(crate) struct QpackEncoderState {
    encoder: Encoder,
    /// Encoder-stream bytes produced and not yet taken.
    pending_encoder_stream: Vec<u8>,
    /// Encoder-stream bytes last handed to C.
    taken_encoder_stream: Vec<u8>,
    /// The field section last handed to C.
    section: Vec<u8>,
}

impl Opaque for h3q_qpack_encoder {
    type Inner = QpackEncoderState;
    const NAME: &'static str = "h3q_qpack_encoder";
}

/// Creates a QPACK encoder. Until `h3q_qpack_encoder_apply_settings()` is called it uses
/// only the static table and literals.
///
/// `abi_version` is `H3Q_ABI_VERSION` (the `h3q_qpack_encoder_new()` macro passes it).
///
/// On success writes a new handle to `*out`; the caller owns it and frees it with
/// `h3q_qpack_encoder_free()`. Returns `H3Q_OK`, `H3Q_ERR_NULL` if `out` is NULL, or
/// `H3Q_ERR_UNSUPPORTED_VERSION`.
#[unsafe(no_mangle)]
pub extern "C" fn h3q_qpack_encoder_new_versioned(
    abi_version: c_int,
    out: *mut *mut h3q_qpack_encoder,
) -> h3q_result {
    call_versioned(abi_version, |abi| {
        non_null(out, "out")?;
        let state = QpackEncoderState {
            encoder: Encoder::new(),
            pending_encoder_stream: Vec::new(),
            taken_encoder_stream: Vec::new(),
            section: Vec::new(),
        };
        // SAFETY: `out` is non-NULL and points at writable storage (caller's contract).
        unsafe { *out = handle::into_raw(state, abi) };
        Ok(())
    })
}

/// Frees an encoder and everything it handed out. NULL is a no-op.
///
/// # Safety
/// `encoder` is NULL or a handle from `h3q_qpack_encoder_new()` not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_qpack_encoder_free(encoder: *mut h3q_qpack_encoder) {
    // SAFETY: forwarded from the caller's contract.
    unsafe { handle::free(encoder) }
}

/// The message of the encoder's last failed call, or NULL if no call failed or `encoder` is
/// NULL. Owned by the encoder; valid until its next failing call or its free.
///
/// # Safety
/// `encoder` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_qpack_encoder_last_error(
    encoder: *const h3q_qpack_encoder,
) -> *const std::ffi::c_char {
    // SAFETY: forwarded from the caller's contract.
    unsafe { handle::last_error(encoder) }
}

/// Applies the peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY and SETTINGS_QPACK_BLOCKED_STREAMS:
/// the encoder may then use a dynamic table of up to `max_table_capacity` bytes and leave up
/// to `blocked_streams` streams blocked at the peer. Call once, before encoding. The Set
/// Dynamic Table Capacity instruction it produces is read with
/// `h3q_qpack_encoder_take_encoder_stream()`.
///
/// Returns `H3Q_OK`, or `H3Q_ERR_NULL` if `encoder` is NULL.
///
/// # Safety
/// `encoder` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_qpack_encoder_apply_settings(
    encoder: *mut h3q_qpack_encoder,
    max_table_capacity: u64,
    blocked_streams: u64,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(encoder, |state| {
            state.encoder.apply_settings(
                max_table_capacity,
                blocked_streams,
                &mut state.pending_encoder_stream,
            );
            Ok(())
        })
    }
}

/// Encodes the field section `headers[0..headers_len]` for `stream_id`.
///
/// Returns `H3Q_OK` and writes the encoded section (the payload of a HEADERS or PUSH_PROMISE
/// frame) to `*section_out` / `*section_len_out`: a buffer owned by the encoder, valid until
/// the next call on it. Encoder-stream instructions the section depends on accumulate and
/// are read with `h3q_qpack_encoder_take_encoder_stream()`; send them before (or with) the
/// section. `headers` is read during the call only. Errors: `H3Q_ERR_NULL` (a NULL handle
/// or out pointer, or a NULL array or name/value with a non-zero length).
///
/// # Safety
/// `encoder` is NULL or a live handle; `headers` points at `headers_len` valid entries; the
/// out pointers are valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_qpack_encoder_encode(
    encoder: *mut h3q_qpack_encoder,
    stream_id: u64,
    headers: *const h3q_header,
    headers_len: usize,
    section_out: *mut *const u8,
    section_len_out: *mut usize,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(encoder, |state| {
            non_null(section_out, "section_out")?;
            non_null(section_len_out, "section_len_out")?;
            with_header_list(headers, headers_len, |fields| {
                state.section.clear();
                state.encoder.encode(
                    stream_id,
                    fields,
                    &mut state.pending_encoder_stream,
                    &mut state.section,
                );
                Ok(())
            })?;
            // SAFETY: checked non-NULL; valid for writing (caller's contract).
            *section_out = state.section.as_ptr();
            *section_len_out = state.section.len();
            Ok(())
        })
    }
}

/// Takes the encoder-stream bytes produced since the last call (Set Dynamic Table Capacity,
/// inserts, duplicates), to be sent on our QPACK encoder stream.
///
/// Returns `H3Q_OK` and writes a buffer owned by the encoder (valid until the next call on
/// it) and its length, which may be 0; or `H3Q_ERR_NULL`.
///
/// # Safety
/// `encoder` is NULL or a live handle; the out pointers are valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_qpack_encoder_take_encoder_stream(
    encoder: *mut h3q_qpack_encoder,
    data_out: *mut *const u8,
    len_out: *mut usize,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(encoder, |state| {
            non_null(data_out, "data_out")?;
            non_null(len_out, "len_out")?;
            std::mem::swap(
                &mut state.taken_encoder_stream,
                &mut state.pending_encoder_stream,
            );
            state.pending_encoder_stream.clear();
            // SAFETY: checked non-NULL; valid for writing (caller's contract).
            *data_out = state.taken_encoder_stream.as_ptr();
            *len_out = state.taken_encoder_stream.len();
            Ok(())
        })
    }
}

/// Feeds bytes received on the peer's QPACK decoder stream (split anywhere): Section
/// Acknowledgements, Stream Cancellations and Insert Count Increments.
///
/// `data` is NULL only with `len` 0; it is read during the call only. Returns `H3Q_OK`;
/// `H3Q_ERR_NULL`; or `H3Q_ERR_PROTOCOL` for malformed or impossible instructions
/// (QPACK_DECODER_STREAM_ERROR: the HTTP/3 connection must be closed with 0x202). The
/// stream is broken from then on: every later call returns `H3Q_ERR_PROTOCOL` with the
/// same message and reads nothing.
///
/// # Safety
/// `encoder` is NULL or a live handle; `data` is valid for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_qpack_encoder_feed_decoder(
    encoder: *mut h3q_qpack_encoder,
    data: *const u8,
    len: usize,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(encoder, |state| {
            let data = bytes_arg(data, len, "data")?;
            Ok(state.encoder.feed_decoder(data)?)
        })
    }
}

/// Tells the encoder that `stream_id` was reset: its unacknowledged sections no longer pin
/// dynamic table entries.
///
/// Returns `H3Q_OK`, or `H3Q_ERR_NULL` if `encoder` is NULL.
///
/// # Safety
/// `encoder` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_qpack_encoder_stream_cancelled(
    encoder: *mut h3q_qpack_encoder,
    stream_id: u64,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(encoder, |state| {
            state.encoder.stream_cancelled(stream_id);
            Ok(())
        })
    }
}
