//! Encoder-stream (RFC 9204 §4.3) and decoder-stream (§4.4) instructions: writing them,
//! parsing one from a byte slice, and [`InstructionReader`], which feeds a stream that may
//! be split anywhere through a parser without quadratic buffering.

use super::prefix_int::{self, IntError};
use super::string::{self, RawString, StringError};

/// An encoder-stream instruction, borrowing its strings from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncoderInstruction<'a> {
    /// Set Dynamic Table Capacity.
    SetCapacity(u64),
    /// Insert With Name Reference (static table if `is_static`, else relative index).
    InsertWithNameRef {
        /// Whether `index` is into the static table.
        is_static: bool,
        /// Static index or encoder-stream relative index.
        index: u64,
        /// The value.
        value: RawString<'a>,
    },
    /// Insert With Literal Name.
    InsertWithLiteralName {
        /// The name.
        name: RawString<'a>,
        /// The value.
        value: RawString<'a>,
    },
    /// Duplicate (relative index).
    Duplicate(u64),
}

/// A decoder-stream instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecoderInstruction {
    /// Section Acknowledgement for a stream.
    SectionAck(u64),
    /// Stream Cancellation.
    StreamCancel(u64),
    /// Insert Count Increment.
    InsertCountIncrement(u64),
}

/// Why an instruction could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// The instruction is incomplete; at least this many bytes in total are needed.
    NeedMore(usize),
    /// The instruction is malformed.
    Invalid(&'static str),
}

fn int(buf: &[u8], pos: usize, prefix: u8) -> Result<(u64, usize), ParseError> {
    match prefix_int::decode(&buf[pos..], prefix) {
        Ok((v, used)) => Ok((v, pos + used)),
        Err(IntError::NeedMore) => Err(ParseError::NeedMore(buf.len() + 1)),
        Err(IntError::Overflow) => Err(ParseError::Invalid("integer overflow")),
    }
}

fn string(
    buf: &[u8],
    pos: usize,
    prefix: u8,
    max_len: u64,
) -> Result<(RawString<'_>, usize), ParseError> {
    string::parse(buf, pos, prefix, max_len).map_err(|e| match e {
        StringError::NeedMore(n) => ParseError::NeedMore(n),
        StringError::TooLong => {
            ParseError::Invalid("string literal longer than the dynamic table capacity allows")
        }
        StringError::Overflow => ParseError::Invalid("string length overflow"),
    })
}

/// Parses one encoder-stream instruction from the start of `buf`. String literals longer
/// than `max_string` encoded bytes are rejected as soon as their length is known.
pub fn parse_encoder(
    buf: &[u8],
    max_string: u64,
) -> Result<(EncoderInstruction<'_>, usize), ParseError> {
    let first = *buf.first().ok_or(ParseError::NeedMore(1))?;
    if first & 0x80 != 0 {
        let is_static = first & 0x40 != 0;
        let (index, pos) = int(buf, 0, 6)?;
        let (value, end) = string(buf, pos, 7, max_string)?;
        Ok((
            EncoderInstruction::InsertWithNameRef {
                is_static,
                index,
                value,
            },
            end,
        ))
    } else if first & 0x40 != 0 {
        let (name, pos) = string(buf, 0, 5, max_string)?;
        let (value, end) = string(buf, pos, 7, max_string)?;
        Ok((
            EncoderInstruction::InsertWithLiteralName { name, value },
            end,
        ))
    } else if first & 0x20 != 0 {
        let (capacity, end) = int(buf, 0, 5)?;
        Ok((EncoderInstruction::SetCapacity(capacity), end))
    } else {
        let (index, end) = int(buf, 0, 5)?;
        Ok((EncoderInstruction::Duplicate(index), end))
    }
}

/// The name reference (`is_static`, index) of an Insert With Name Reference whose index
/// is complete, even if its value is not: lets a decoder reject a bad reference at once.
pub fn peek_name_ref(buf: &[u8]) -> Option<(bool, u64)> {
    let first = *buf.first()?;
    if first & 0x80 == 0 {
        return None;
    }
    let (index, _) = prefix_int::decode(buf, 6).ok()?;
    Some((first & 0x40 != 0, index))
}

/// Parses one decoder-stream instruction from the start of `buf`.
pub fn parse_decoder(buf: &[u8]) -> Result<(DecoderInstruction, usize), ParseError> {
    let first = *buf.first().ok_or(ParseError::NeedMore(1))?;
    if first & 0x80 != 0 {
        let (id, end) = int(buf, 0, 7)?;
        Ok((DecoderInstruction::SectionAck(id), end))
    } else if first & 0x40 != 0 {
        let (id, end) = int(buf, 0, 6)?;
        Ok((DecoderInstruction::StreamCancel(id), end))
    } else {
        let (n, end) = int(buf, 0, 6)?;
        Ok((DecoderInstruction::InsertCountIncrement(n), end))
    }
}

/// Appends Set Dynamic Table Capacity.
pub fn write_set_capacity(out: &mut Vec<u8>, capacity: u64) {
    prefix_int::encode(out, 0x20, 5, capacity);
}

/// Appends Insert With Name Reference.
pub fn write_insert_with_name_ref(out: &mut Vec<u8>, is_static: bool, index: u64, value: &[u8]) {
    prefix_int::encode(out, if is_static { 0xc0 } else { 0x80 }, 6, index);
    string::write(out, 0, 7, value);
}

/// Appends Insert With Literal Name.
pub fn write_insert_with_literal_name(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    string::write(out, 0x40, 5, name);
    string::write(out, 0, 7, value);
}

/// Appends Duplicate.
pub fn write_duplicate(out: &mut Vec<u8>, relative: u64) {
    prefix_int::encode(out, 0x00, 5, relative);
}

/// Appends Section Acknowledgement.
pub fn write_section_ack(out: &mut Vec<u8>, stream_id: u64) {
    prefix_int::encode(out, 0x80, 7, stream_id);
}

/// Appends Stream Cancellation.
pub fn write_stream_cancel(out: &mut Vec<u8>, stream_id: u64) {
    prefix_int::encode(out, 0x40, 6, stream_id);
}

/// Appends Insert Count Increment.
pub fn write_insert_count_increment(out: &mut Vec<u8>, increment: u64) {
    prefix_int::encode(out, 0x00, 6, increment);
}

/// Holds the unconsumed tail of an instruction stream between feeds.
///
/// Complete instructions are parsed in place from the caller's slice; only an incomplete
/// final instruction is copied, and a partial instruction is not re-parsed until at least
/// as many bytes as its parser asked for have arrived, so feeding a long instruction a
/// byte at a time stays linear.
#[derive(Debug, Default)]
pub struct InstructionReader {
    pending: Vec<u8>,
    need: usize,
}

/// What a step function did with the bytes it was shown.
pub enum Step {
    /// It handled one instruction of this many bytes.
    Consumed(usize),
    /// The instruction is incomplete; at least this many bytes are needed.
    NeedMore(usize),
}

impl InstructionReader {
    /// The number of bytes buffered.
    pub fn buffered(&self) -> usize {
        self.pending.len()
    }

    /// Feeds `data`; `step` is called with a slice starting at an instruction boundary and
    /// parses and applies one instruction.
    pub fn feed<E>(
        &mut self,
        data: &[u8],
        mut step: impl FnMut(&[u8]) -> Result<Step, E>,
    ) -> Result<(), E> {
        let mut pos = 0;
        while !self.pending.is_empty() {
            let want = self.need.saturating_sub(self.pending.len()).max(1);
            let take = want.min(data.len() - pos);
            if take == 0 {
                return Ok(());
            }
            self.pending.extend_from_slice(&data[pos..pos + take]);
            pos += take;
            if self.pending.len() < self.need {
                return Ok(());
            }
            match step(&self.pending)? {
                Step::NeedMore(n) => self.need = n.max(self.pending.len() + 1),
                Step::Consumed(used) => {
                    // The bytes pending before this call were not a whole instruction, so
                    // any bytes beyond it came from `data`: step back over them.
                    let leftover = self.pending.len() - used.min(self.pending.len());
                    debug_assert!(leftover <= take);
                    pos -= leftover.min(take);
                    self.pending.clear();
                    self.need = 0;
                }
            }
        }
        while pos < data.len() {
            match step(&data[pos..])? {
                Step::Consumed(used) => pos += used,
                Step::NeedMore(n) => {
                    self.pending.extend_from_slice(&data[pos..]);
                    self.need = n;
                    break;
                }
            }
        }
        Ok(())
    }
}
