//! `h3q_qpack_decoder`: the QPACK decoder alone (RFC 9204), for programs that bring their
//! own HTTP/3 framing or test QPACK interop.

use std::collections::VecDeque;
use std::ffi::c_int;

use crate::field::HeaderField;
use crate::qpack::{Decoded, Decoder};

use super::handle::{self, FfiError, Opaque, call, call_status, call_versioned, non_null};
use super::header::h3q_header;
use super::result::{h3q_result, h3q_result_code};
use super::slice::bytes_arg;

/// A QPACK decoder: decodes field sections, consumes the peer's encoder stream and produces
/// our decoder-stream instructions. Create with `h3q_qpack_decoder_new()`, free with
/// `h3q_qpack_decoder_free()`. Not thread-safe; may move between threads.
pub struct h3q_qpack_decoder {
    _private: [u8; 0],
}

pub(crate) struct QpackDecoderState {
    decoder: Decoder,
    /// Streams made decodable by encoder-stream input, not yet read out.
    unblocked: VecDeque<u64>,
    /// The fields last handed to C, and their C views.
    fields: Vec<HeaderField>,
    views: Vec<h3q_header>,
    /// Decoder-stream bytes last handed to C.
    decoder_stream: Vec<u8>,
}

impl Opaque for h3q_qpack_decoder {
    type Inner = QpackDecoderState;
    const NAME: &'static str = "h3q_qpack_decoder";
}

impl QpackDecoderState {
    /// Lets go of the fields the last call handed out (valid only until this call), before
    /// decoding: with them gone, the decoder reuses their storage for the next section.
    fn release_published(&mut self) {
        self.views.clear();
        self.fields.clear();
    }

    /// Keeps `fields` alive in the handle and returns their C view.
    fn publish(&mut self, fields: Vec<HeaderField>) -> (*const h3q_header, usize) {
        self.fields = fields;
        self.views.clear();
        self.views
            .extend(self.fields.iter().map(h3q_header::borrowing));
        (self.views.as_ptr(), self.views.len())
    }
}

/// Creates a QPACK decoder that allows the encoder a dynamic table of up to
/// `max_table_capacity` bytes and up to `max_blocked_streams` blocked streams (the values we
/// advertise in SETTINGS_QPACK_MAX_TABLE_CAPACITY and SETTINGS_QPACK_BLOCKED_STREAMS).
///
/// `abi_version` is `H3Q_ABI_VERSION` (the `h3q_qpack_decoder_new()` macro passes it).
///
/// On success writes a new handle to `*out`; the caller owns it and frees it with
/// `h3q_qpack_decoder_free()`. Returns `H3Q_OK`, `H3Q_ERR_NULL` if `out` is NULL, or
/// `H3Q_ERR_UNSUPPORTED_VERSION`.
#[unsafe(no_mangle)]
pub extern "C" fn h3q_qpack_decoder_new_versioned(
    abi_version: c_int,
    max_table_capacity: u64,
    max_blocked_streams: u64,
    out: *mut *mut h3q_qpack_decoder,
) -> h3q_result {
    call_versioned(abi_version, |abi| {
        if out.is_null() {
            return Err(FfiError::null("out"));
        }
        let state = QpackDecoderState {
            decoder: Decoder::new(max_table_capacity, max_blocked_streams),
            unblocked: VecDeque::new(),
            fields: Vec::new(),
            views: Vec::new(),
            decoder_stream: Vec::new(),
        };
        // SAFETY: `out` is non-NULL and points at writable storage (caller's contract).
        unsafe { *out = handle::into_raw(state, abi) };
        Ok(())
    })
}

/// Frees a decoder and everything it handed out. NULL is a no-op.
///
/// # Safety
/// `decoder` is NULL or a handle from `h3q_qpack_decoder_new()` not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_qpack_decoder_free(decoder: *mut h3q_qpack_decoder) {
    // SAFETY: forwarded from the caller's contract.
    unsafe { handle::free(decoder) }
}

/// The message of the decoder's last failed call (for a protocol error it starts with the
/// RFC error name and code, e.g. `"QPACK_DECOMPRESSION_FAILED (0x200): ..."`), or NULL if no
/// call failed or `decoder` is NULL. Owned by the decoder; valid until its next failing call
/// or its free.
///
/// # Safety
/// `decoder` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_qpack_decoder_last_error(
    decoder: *const h3q_qpack_decoder,
) -> *const std::ffi::c_char {
    // SAFETY: forwarded from the caller's contract.
    unsafe { handle::last_error(decoder) }
}

/// Limits the size of a decoded field section (sum over fields of name + value + 32 bytes,
/// as SETTINGS_MAX_FIELD_SECTION_SIZE counts it); 0 means unlimited. A larger section fails
/// to decode with `H3Q_ERR_PROTOCOL`.
///
/// Returns `H3Q_OK`, or `H3Q_ERR_NULL` if `decoder` is NULL.
///
/// # Safety
/// `decoder` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_qpack_decoder_set_max_field_section_size(
    decoder: *mut h3q_qpack_decoder,
    limit: u64,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(decoder, |state| {
            state.decoder.set_max_field_section_size(limit);
            Ok(())
        })
    }
}

/// Sets the dynamic table capacity as if the encoder had sent Set Dynamic Table Capacity.
/// RFC 9204 tables start at capacity 0; encoders of draft-ietf-quic-qpack-05 and earlier
/// (such as those of the QPACK offline-interop corpus) assumed the table starts at its
/// maximum, so tools decoding their output call this with the maximum first.
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; or `H3Q_ERR_PROTOCOL` if `capacity` exceeds the maximum
/// given to `h3q_qpack_decoder_new()`.
///
/// # Safety
/// `decoder` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_qpack_decoder_set_dynamic_table_capacity(
    decoder: *mut h3q_qpack_decoder,
    capacity: u64,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(decoder, |state| {
            Ok(state.decoder.set_dynamic_table_capacity(capacity)?)
        })
    }
}

/// Feeds bytes received on the peer's QPACK encoder stream (split anywhere). Streams this
/// unblocks are then read out with `h3q_qpack_decoder_next_unblocked()`.
///
/// `data` is NULL only with `len` 0; it is read during the call only.
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; or `H3Q_ERR_PROTOCOL` for malformed input
/// (QPACK_ENCODER_STREAM_ERROR: the HTTP/3 connection must be closed with 0x201). The
/// stream is broken from then on: every later call returns `H3Q_ERR_PROTOCOL` with the
/// same message and reads nothing.
///
/// # Safety
/// `decoder` is NULL or a live handle; `data` is valid for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_qpack_decoder_feed_encoder(
    decoder: *mut h3q_qpack_decoder,
    data: *const u8,
    len: usize,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(decoder, |state| {
            let data = bytes_arg(data, len, "data")?;
            let unblocked = state.decoder.feed_encoder(data)?;
            state.unblocked.extend(unblocked);
            Ok(())
        })
    }
}

/// Decodes one complete field section (a HEADERS or PUSH_PROMISE frame payload) received on
/// `stream_id`.
///
/// Returns `H3Q_OK` and writes the fields to `*headers_out` / `*headers_len_out`: an array
/// owned by the decoder, valid until the next call on this decoder. Returns `H3Q_BLOCKED`
/// (positive, not an error) when the section needs encoder-stream data not received yet:
/// nothing is written, the decoder keeps the section, and it comes out of
/// `h3q_qpack_decoder_next_unblocked()` once decodable. Errors: `H3Q_ERR_NULL`;
/// `H3Q_ERR_PROTOCOL` (QPACK_DECOMPRESSION_FAILED, 0x200) for a malformed section, a
/// section over the size limit, or one that would exceed the blocked-streams limit.
///
/// # Safety
/// `decoder` is NULL or a live handle; `section` is valid for `len` bytes; the out pointers
/// are valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_qpack_decoder_decode(
    decoder: *mut h3q_qpack_decoder,
    stream_id: u64,
    section: *const u8,
    len: usize,
    headers_out: *mut *const h3q_header,
    headers_len_out: *mut usize,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call_status(decoder, |state| {
            non_null(headers_out, "headers_out")?;
            non_null(headers_len_out, "headers_len_out")?;
            let section = bytes_arg(section, len, "section")?;
            state.release_published();
            match state.decoder.decode(stream_id, section)? {
                Decoded::Headers(fields) => {
                    let (ptr, count) = state.publish(fields);
                    // SAFETY: checked non-NULL; valid for writing (caller's contract).
                    *headers_out = ptr;
                    *headers_len_out = count;
                    Ok(h3q_result_code::H3Q_OK)
                }
                Decoded::Blocked => Ok(h3q_result_code::H3Q_BLOCKED),
            }
        })
    }
}

/// Reads out the next field section that encoder-stream input made decodable, in the order
/// the streams were blocked.
///
/// Returns `H3Q_OK` and writes the stream id and the fields (an array owned by the decoder,
/// valid until the next call on it); `H3Q_DONE` when no unblocked section is waiting;
/// `H3Q_ERR_NULL`; or `H3Q_ERR_PROTOCOL` (QPACK_DECOMPRESSION_FAILED) if the section turns
/// out malformed.
///
/// # Safety
/// `decoder` is NULL or a live handle; the out pointers are valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_qpack_decoder_next_unblocked(
    decoder: *mut h3q_qpack_decoder,
    stream_id_out: *mut u64,
    headers_out: *mut *const h3q_header,
    headers_len_out: *mut usize,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call_status(decoder, |state| {
            non_null(stream_id_out, "stream_id_out")?;
            non_null(headers_out, "headers_out")?;
            non_null(headers_len_out, "headers_len_out")?;
            let Some(stream_id) = state.unblocked.pop_front() else {
                return Ok(h3q_result_code::H3Q_DONE);
            };
            state.release_published();
            let fields = state.decoder.resume(stream_id)?;
            let (ptr, count) = state.publish(fields);
            // SAFETY: checked non-NULL; valid for writing (caller's contract).
            *stream_id_out = stream_id;
            *headers_out = ptr;
            *headers_len_out = count;
            Ok(h3q_result_code::H3Q_OK)
        })
    }
}

/// Abandons `stream_id` (reset or no longer read): drops its blocked section, if any, and
/// queues a Stream Cancellation for the decoder stream when RFC 9204 calls for one.
///
/// Returns `H3Q_OK`, or `H3Q_ERR_NULL` if `decoder` is NULL.
///
/// # Safety
/// `decoder` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_qpack_decoder_cancel_stream(
    decoder: *mut h3q_qpack_decoder,
    stream_id: u64,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(decoder, |state| {
            state.decoder.cancel_stream(stream_id);
            state.unblocked.retain(|id| *id != stream_id);
            Ok(())
        })
    }
}

/// Takes the decoder-stream bytes to send to the peer (Section Acknowledgements, Stream
/// Cancellations, Insert Count Increments) accumulated since the last call.
///
/// Returns `H3Q_OK` and writes a buffer owned by the decoder (valid until the next call on
/// it) and its length, which may be 0; or `H3Q_ERR_NULL`.
///
/// # Safety
/// `decoder` is NULL or a live handle; the out pointers are valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_qpack_decoder_take_decoder_stream(
    decoder: *mut h3q_qpack_decoder,
    data_out: *mut *const u8,
    len_out: *mut usize,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(decoder, |state| {
            non_null(data_out, "data_out")?;
            non_null(len_out, "len_out")?;
            state.decoder_stream.clear();
            state
                .decoder
                .take_decoder_stream_data(&mut state.decoder_stream);
            // SAFETY: checked non-NULL; valid for writing (caller's contract).
            *data_out = state.decoder_stream.as_ptr();
            *len_out = state.decoder_stream.len();
            Ok(())
        })
    }
}
