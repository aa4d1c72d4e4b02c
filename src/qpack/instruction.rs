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
///
/// An error ends the stream: the reader keeps it and returns it again for every later
/// feed, without looking at the input. (QPACK stream errors are connection errors; going
/// on would parse the bytes after a broken instruction as if they started a new one.)
#[derive(Debug)]
pub struct InstructionReader<E> {
    pending: Vec<u8>,
    need: usize,
    failed: Option<E>,
}

impl<E> Default for InstructionReader<E> {
    fn default() -> Self {
        InstructionReader {
            pending: Vec::new(),
            need: 0,
            failed: None,
        }
    }
}

/// What a step function did with the bytes it was shown.
pub enum Step {
    /// It handled one instruction of this many bytes.
    Consumed(usize),
    /// The instruction is incomplete; at least this many bytes are needed.
    NeedMore(usize),
}

impl<E: Clone> InstructionReader<E> {
    /// The number of bytes buffered.
    #[cfg(test)]
    pub fn buffered(&self) -> usize {
        self.pending.len()
    }

    /// Feeds `data`; `step` is called with a slice starting at an instruction boundary and
    /// parses and applies one instruction. The first error `step` returns is returned
    /// again by every later call (see the type's docs).
    pub fn feed(
        &mut self,
        data: &[u8],
        step: impl FnMut(&[u8]) -> Result<Step, E>,
    ) -> Result<(), E> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let result = self.feed_unfailed(data, step);
        if let Err(error) = &result {
            self.failed = Some(error.clone());
            self.pending = Vec::new();
            self.need = 0;
        }
        result
    }

    fn feed_unfailed(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::hex;

    /// Owned form of an encoder instruction, for comparisons.
    #[derive(Debug, PartialEq, Eq)]
    enum Owned {
        Cap(u64),
        NameRef(bool, u64, bool, Vec<u8>),
        Literal(bool, Vec<u8>, bool, Vec<u8>),
        Dup(u64),
    }

    fn own(i: EncoderInstruction<'_>) -> Owned {
        match i {
            EncoderInstruction::SetCapacity(c) => Owned::Cap(c),
            EncoderInstruction::InsertWithNameRef {
                is_static,
                index,
                value,
            } => Owned::NameRef(is_static, index, value.huffman, value.data.to_vec()),
            EncoderInstruction::InsertWithLiteralName { name, value } => Owned::Literal(
                name.huffman,
                name.data.to_vec(),
                value.huffman,
                value.data.to_vec(),
            ),
            EncoderInstruction::Duplicate(i) => Owned::Dup(i),
        }
    }

    #[test]
    fn rfc9204_appendix_b_encoder_stream_bytes_parse() {
        // B.2: Set Dynamic Table Capacity=220, two Insert With Name Reference.
        let b2 = hex("3fbd01 c00f7777772e6578616d706c652e636f6d c10c2f73616d706c652f70617468");
        let (i, n) = parse_encoder(&b2, 1000).unwrap();
        assert_eq!((own(i), n), (Owned::Cap(220), 3));
        let (i, m) = parse_encoder(&b2[n..], 1000).unwrap();
        assert_eq!(
            own(i),
            Owned::NameRef(true, 0, false, b"www.example.com".to_vec())
        );
        let (i, _) = parse_encoder(&b2[n + m..], 1000).unwrap();
        assert_eq!(
            own(i),
            Owned::NameRef(true, 1, false, b"/sample/path".to_vec())
        );
        // B.3: Insert With Literal Name.
        let b3 = hex("4a637573746f6d2d6b65790c637573746f6d2d76616c7565");
        let (i, n) = parse_encoder(&b3, 1000).unwrap();
        assert_eq!(n, b3.len());
        assert_eq!(
            own(i),
            Owned::Literal(
                false,
                b"custom-key".to_vec(),
                false,
                b"custom-value".to_vec()
            )
        );
        // B.4: Duplicate; B.5: Insert With Name Reference, dynamic relative index 1.
        assert_eq!(
            parse_encoder(&[0x02], 1000).map(|(i, n)| (own(i), n)),
            Ok((Owned::Dup(2), 1))
        );
        let b5 = hex("810d637573746f6d2d76616c756532");
        let (i, _) = parse_encoder(&b5, 1000).unwrap();
        assert_eq!(
            own(i),
            Owned::NameRef(false, 1, false, b"custom-value2".to_vec())
        );
    }

    #[test]
    fn rfc9204_appendix_b_decoder_stream_bytes() {
        let mut out = Vec::new();
        write_section_ack(&mut out, 4);
        write_insert_count_increment(&mut out, 1);
        write_stream_cancel(&mut out, 8);
        assert_eq!(out, [0x84, 0x01, 0x48]);
        assert_eq!(
            parse_decoder(&out),
            Ok((DecoderInstruction::SectionAck(4), 1))
        );
        assert_eq!(
            parse_decoder(&out[1..]),
            Ok((DecoderInstruction::InsertCountIncrement(1), 1))
        );
        assert_eq!(
            parse_decoder(&out[2..]),
            Ok((DecoderInstruction::StreamCancel(8), 1))
        );
        let mut out = Vec::new();
        write_set_capacity(&mut out, 220);
        write_duplicate(&mut out, 2);
        assert_eq!(out, [0x3f, 0xbd, 0x01, 0x02]);
    }

    #[test]
    fn every_instruction_round_trips() {
        let mut out = Vec::new();
        write_set_capacity(&mut out, 4096);
        write_insert_with_name_ref(&mut out, true, 98, b"sameorigin");
        write_insert_with_name_ref(&mut out, false, 1000, b"");
        write_insert_with_literal_name(&mut out, b"x-long-name-here", &[0xff; 300]);
        write_duplicate(&mut out, 70_000);
        let mut got = Vec::new();
        let mut pos = 0;
        while pos < out.len() {
            let (i, n) = parse_encoder(&out[pos..], 1000).unwrap();
            got.push(own(i));
            pos += n;
        }
        assert_eq!(got.len(), 5);
        assert_eq!(got[0], Owned::Cap(4096));
        assert!(matches!(&got[1], Owned::NameRef(true, 98, true, _)));
        assert_eq!(got[2], Owned::NameRef(false, 1000, false, vec![]));
        assert!(matches!(&got[3], Owned::Literal(true, _, false, v) if v.len() == 300));
        assert_eq!(got[4], Owned::Dup(70_000));
        let mut out = Vec::new();
        for id in [0, 63, 64, 127, 128, 1 << 40] {
            write_section_ack(&mut out, id);
            write_stream_cancel(&mut out, id);
            write_insert_count_increment(&mut out, id + 1);
        }
        let mut pos = 0;
        for id in [0, 63, 64, 127, 128, 1 << 40] {
            for expect in [
                DecoderInstruction::SectionAck(id),
                DecoderInstruction::StreamCancel(id),
                DecoderInstruction::InsertCountIncrement(id + 1),
            ] {
                let (i, n) = parse_decoder(&out[pos..]).unwrap();
                assert_eq!(i, expect);
                pos += n;
            }
        }
    }

    #[test]
    fn strings_longer_than_the_limit_are_rejected_before_they_arrive() {
        let mut out = Vec::new();
        write_insert_with_literal_name(&mut out, b"n", &[b'v'; 500]);
        // Only the name and the value's length prefix are present.
        assert!(matches!(
            parse_encoder(&out[..5], 100),
            Err(ParseError::Invalid(_))
        ));
        assert!(
            matches!(parse_encoder(&out[..5], 1000), Err(ParseError::NeedMore(n)) if n == out.len())
        );
    }

    /// Feeds `data` through a reader in pieces of every size and returns the instructions.
    fn feed_in_pieces(data: &[u8], piece: usize) -> Vec<Owned> {
        let mut reader = InstructionReader::default();
        let mut got = Vec::new();
        let mut calls = 0usize;
        for chunk in data.chunks(piece) {
            reader
                .feed(chunk, |buf| -> Result<Step, ()> {
                    calls += 1;
                    match parse_encoder(buf, 10_000) {
                        Ok((i, n)) => {
                            got.push(own(i));
                            Ok(Step::Consumed(n))
                        }
                        Err(ParseError::NeedMore(n)) => Ok(Step::NeedMore(n)),
                        Err(ParseError::Invalid(_)) => Err(()),
                    }
                })
                .unwrap();
        }
        assert_eq!(reader.buffered(), 0);
        // Linear: a parse attempt per instruction boundary or length prefix, not per byte.
        assert!(
            calls <= data.len() + got.len() * 4,
            "{calls} parse calls for {} bytes",
            data.len()
        );
        got
    }

    #[test]
    fn reader_handles_splits_anywhere() {
        let mut data = Vec::new();
        write_set_capacity(&mut data, 220);
        write_insert_with_name_ref(&mut data, true, 0, b"www.example.com");
        write_insert_with_literal_name(&mut data, b"custom-key", &[b'x'; 2000]);
        write_duplicate(&mut data, 1);
        write_insert_with_name_ref(&mut data, false, 200, b"value");
        let whole = feed_in_pieces(&data, data.len());
        assert_eq!(whole.len(), 5);
        for piece in [1, 2, 3, 5, 7, 64, 1000] {
            assert_eq!(feed_in_pieces(&data, piece), whole, "pieces of {piece}");
        }
    }

    /// Found by the ffi_calls fuzz target: a step that failed on a partial instruction left
    /// its bytes buffered, the next feeds appended to them, and once the step accepted the
    /// instruction the reader stepped back over more input than it had taken (a debug
    /// assertion; in release, misparsed input). Now the first error ends the stream.
    #[test]
    fn an_error_ends_the_stream() {
        let mut data = Vec::new();
        write_insert_with_name_ref(&mut data, false, 0, b"value");
        write_duplicate(&mut data, 0);
        let mut reader = InstructionReader::default();
        let mut refuse = true;
        let steps = std::cell::Cell::new(0);
        let feed = |reader: &mut InstructionReader<&'static str>, bytes: &[u8], refuse: bool| {
            reader.feed(bytes, |buf| {
                steps.set(steps.get() + 1);
                match parse_encoder(buf, 100) {
                    _ if refuse => Err("refused"),
                    Ok((_, n)) => Ok(Step::Consumed(n)),
                    Err(ParseError::NeedMore(n)) => Ok(Step::NeedMore(n)),
                    Err(ParseError::Invalid(_)) => Err("invalid"),
                }
            })
        };
        // Partial: buffered, then refused when more arrives.
        assert_eq!(feed(&mut reader, &data[..1], false), Ok(()));
        assert_eq!(feed(&mut reader, &data[1..3], refuse), Err("refused"));
        refuse = false;
        // Whatever follows, the same error, and the step is not called again.
        let before = steps.get();
        assert_eq!(feed(&mut reader, &data[3..], refuse), Err("refused"));
        assert_eq!(feed(&mut reader, &data, refuse), Err("refused"));
        assert_eq!(steps.get(), before);
        assert_eq!(reader.buffered(), 0);
    }

    #[test]
    fn long_instruction_fed_byte_by_byte_is_not_reparsed_per_byte() {
        let mut data = Vec::new();
        write_insert_with_literal_name(&mut data, b"n", &[0u8; 50_000]);
        let mut reader = InstructionReader::default();
        let mut calls = 0;
        for b in &data {
            reader
                .feed(std::slice::from_ref(b), |buf| -> Result<Step, ()> {
                    calls += 1;
                    Ok(match parse_encoder(buf, 100_000) {
                        Ok((_, n)) => Step::Consumed(n),
                        Err(ParseError::NeedMore(n)) => Step::NeedMore(n),
                        Err(ParseError::Invalid(_)) => return Err(()),
                    })
                })
                .unwrap();
        }
        assert!(calls < 20, "{calls} parse attempts");
    }
}
