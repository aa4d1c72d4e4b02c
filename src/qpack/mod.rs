//! QPACK (RFC 9204): field compression for HTTP/3.
//!
//! This module is the only public face (the codec modules are `pub(crate)`, for tests
//! elsewhere in the crate); the files behind it each hold one concern:
//! `prefix_int` (N-bit prefix integers), `huffman` (the HPACK Huffman code, table-driven),
//! `static_table`, `dynamic_table`, `string` (string literals), `instruction`
//! (encoder/decoder-stream instructions and split-anywhere reading), `field_lines`
//! (field section prefix and representations), `history` (the encoder's memory of recent
//! fields), `hash`, and the [`Decoder`] and [`Encoder`] built from them.
//!
//! The API follows pylsqpack (which aioquic uses):
//!
//! - [`Decoder`]: feed it the peer's encoder stream with [`Decoder::feed_encoder`], decode
//!   HEADERS payloads with [`Decoder::decode`] (a section that references inserts not yet
//!   received comes back [`Decoded::Blocked`] and is finished by [`Decoder::resume`] once
//!   `feed_encoder` lists its stream), and send what [`Decoder::take_decoder_stream_data`]
//!   yields on the decoder stream.
//! - [`Encoder`]: [`Encoder::apply_settings`] with the peer's SETTINGS, then
//!   [`Encoder::encode`] sections; feed the peer's decoder stream to
//!   [`Encoder::feed_decoder`].
//!
//! Errors are [`ProtocolError`]s carrying QPACK_DECOMPRESSION_FAILED (field sections),
//! QPACK_ENCODER_STREAM_ERROR or QPACK_DECODER_STREAM_ERROR. No input panics, and memory
//! is bounded: encoder-stream strings by the table capacity, field-section literals by
//! the field section size limit (1 MiB without one), blocked sections by the
//! blocked-stream limit.
//!
//! Extras beyond the pylsqpack shape: [`Decoder::set_dynamic_table_capacity`] (decoding
//! output of draft-era encoders that assumed the table starts at its maximum, such as the
//! QPACK offline-interop corpus), [`Decoder::insert_count`],
//! [`Encoder::set_max_table_capacity_used`], [`Encoder::acknowledge_section`] and
//! [`Encoder::acknowledge_inserts`] (offline "immediate acknowledgement"), and a few
//! read-only counters.

mod decoder;
pub(crate) mod dynamic_table;
mod encoder;
pub(crate) mod field_lines;
mod hash;
mod history;
pub(crate) mod huffman;
pub(crate) mod instruction;
pub(crate) mod prefix_int;
pub(crate) mod static_table;
pub(crate) mod string;

pub use crate::error::ProtocolError;
pub use crate::field::HeaderField;
pub use decoder::Decoder;
pub use encoder::Encoder;

/// The outcome of [`Decoder::decode`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded {
    /// The decoded field lines, in order.
    Headers(Vec<HeaderField>),
    /// The section references inserts not yet received; it is kept until
    /// [`Decoder::feed_encoder`] lists the stream, then [`Decoder::resume`] decodes it.
    Blocked,
}
