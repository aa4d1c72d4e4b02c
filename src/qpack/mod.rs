//! QPACK (RFC 9204): field compression for HTTP/3.
//!
//! This module is the only public face; the files behind it each hold one concern:
//! [`prefix_int`] integers, [`huffman`] the HPACK Huffman code, [`static_table`],
//! [`dynamic_table`], [`string`] literals, [`instruction`] encoder/decoder-stream
//! instructions, [`field_lines`] field section representations, and the [`Decoder`] and
//! [`Encoder`] built from them.
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
//! QPACK_ENCODER_STREAM_ERROR or QPACK_DECODER_STREAM_ERROR.

mod decoder;
pub mod dynamic_table;
mod encoder;
pub mod field_lines;
mod hash;
mod history;
pub mod huffman;
pub mod instruction;
pub mod prefix_int;
pub mod static_table;
pub mod string;

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
