//! The QPACK encoder.

use super::field_lines;
use super::instruction::{self, DecoderInstruction, InstructionReader, ParseError, Step};
use super::static_table::{self, Match};
use crate::error::{ErrorCode, ProtocolError};

fn decoder_stream_error(reason: impl Into<String>) -> ProtocolError {
    ProtocolError::new(ErrorCode::QpackDecoderStreamError, reason)
}

/// Whether a field must never be indexed (N bit set, never inserted).
pub(crate) fn is_sensitive(name: &[u8], value: &[u8]) -> bool {
    match name {
        b"authorization" | b"proxy-authorization" => true,
        b"cookie" | b"set-cookie" => value.len() < 20,
        _ => false,
    }
}

/// The encoding half of QPACK.
#[derive(Debug, Default)]
pub struct Encoder {
    reader: InstructionReader,
    settings_applied: bool,
}

impl Encoder {
    /// An encoder that uses no dynamic table until [`Encoder::apply_settings`].
    pub fn new() -> Encoder {
        Encoder::default()
    }

    /// Applies the peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY and SETTINGS_QPACK_BLOCKED_STREAMS.
    pub fn apply_settings(
        &mut self,
        _max_table_capacity: u64,
        _blocked_streams: u64,
        _encoder_stream: &mut Vec<u8>,
    ) {
        self.settings_applied = true;
    }

    /// Encodes a field section for `stream_id`.
    pub fn encode(
        &mut self,
        _stream_id: u64,
        fields: &[(&[u8], &[u8])],
        _encoder_stream: &mut Vec<u8>,
        section: &mut Vec<u8>,
    ) {
        field_lines::write_prefix(section, 0, 0, 0);
        for &(name, value) in fields {
            let never_index = is_sensitive(name, value);
            match static_table::find(name, value) {
                Some(Match::Exact(i)) if !never_index => {
                    field_lines::write_indexed(section, true, i)
                }
                Some(Match::Exact(i) | Match::Name(i)) => {
                    field_lines::write_literal_name_ref(section, never_index, true, i, value)
                }
                None => field_lines::write_literal(section, never_index, name, value),
            }
        }
    }

    /// Applies decoder-stream bytes from the peer.
    pub fn feed_decoder(&mut self, data: &[u8]) -> Result<(), ProtocolError> {
        let mut reader = std::mem::take(&mut self.reader);
        let result = reader.feed(data, |buf| match instruction::parse_decoder(buf) {
            Ok((instruction, used)) => {
                self.apply(instruction)?;
                Ok(Step::Consumed(used))
            }
            Err(ParseError::NeedMore(n)) => Ok(Step::NeedMore(n)),
            Err(ParseError::Invalid(reason)) => Err(decoder_stream_error(reason)),
        });
        self.reader = reader;
        result
    }

    fn apply(&mut self, instruction: DecoderInstruction) -> Result<(), ProtocolError> {
        match instruction {
            DecoderInstruction::SectionAck(id) => Err(decoder_stream_error(format!(
                "Section Acknowledgement for stream {id} with no outstanding section"
            ))),
            DecoderInstruction::StreamCancel(_) => Ok(()),
            DecoderInstruction::InsertCountIncrement(n) => Err(decoder_stream_error(format!(
                "Insert Count Increment of {n} beyond the inserts sent"
            ))),
        }
    }

    /// Forgets a reset stream's unacknowledged sections.
    pub fn stream_cancelled(&mut self, _stream_id: u64) {}
}
