//! The qlog tap's reader of QPACK encoder and decoder streams (RFC 9204 §4.3, §4.4): it
//! finds each instruction's type and length in the bytes, skipping string contents, so
//! that `qpack:instruction_created` / `qpack:instruction_parsed` events can be logged
//! without decoding (or holding) any field.

use crate::qpack::prefix_int::{self, IntError};

/// Where the reader is in the current instruction.
#[derive(Debug, Default, PartialEq, Eq)]
enum Stage {
    /// The first byte (the instruction's type) and its integer.
    #[default]
    First,
    /// The value string's length (after an index or a name).
    ValueLength,
    /// The stream no longer parses as QPACK: nothing more is read.
    Lost,
}

/// One QPACK instruction stream's reader.
#[derive(Debug, Default)]
pub(crate) struct QpackReader {
    encoder: bool,
    stage: Stage,
    kind: &'static str,
    /// Bytes of an integer not complete yet.
    pending: Vec<u8>,
    /// String bytes still to skip.
    skip: u64,
    /// Bytes of the current instruction so far.
    total: u64,
}

/// The longest prefix integer there is: 1 + 9 continuation bytes.
const MAX_INT_LEN: usize = 10;

impl QpackReader {
    pub(crate) fn new(encoder: bool) -> Self {
        QpackReader {
            encoder,
            ..QpackReader::default()
        }
    }

    /// Reads from `data` until the next instruction's type and length are known; returns
    /// them (what is left of `data` continues after the instruction's header: call again
    /// until `None`).
    pub(crate) fn next(&mut self, data: &mut &[u8]) -> Option<(&'static str, u64)> {
        loop {
            if self.skip > 0 {
                let n = self.skip.min(data.len() as u64) as usize;
                self.skip -= n as u64;
                *data = &data[n..];
                if self.skip > 0 {
                    return None;
                }
            }
            match self.stage {
                Stage::Lost => {
                    *data = &[];
                    return None;
                }
                Stage::First => {
                    let first = *self.pending.first().or(data.first())?;
                    let (kind, prefix, value_follows, name_follows) = classify(self.encoder, first);
                    let (value, used) = self.take_int(data, prefix)?;
                    self.kind = kind;
                    self.total = used;
                    if name_follows {
                        // Insert with literal name: `value` is the name's length.
                        self.total += value;
                        self.skip = value;
                        self.stage = Stage::ValueLength;
                    } else if value_follows {
                        self.stage = Stage::ValueLength;
                    } else {
                        return Some((kind, self.total));
                    }
                }
                Stage::ValueLength => {
                    let (len, used) = self.take_int(data, 7)?;
                    self.total += used + len;
                    self.skip = len;
                    self.stage = Stage::First;
                    return Some((self.kind, self.total));
                }
            }
        }
    }

    /// Takes a prefix integer from `pending` + `data`; `None` while incomplete (or once
    /// the stream stopped parsing).
    fn take_int(&mut self, data: &mut &[u8], prefix: u8) -> Option<(u64, u64)> {
        loop {
            match prefix_int::decode(&self.pending, prefix) {
                Ok((value, used)) => {
                    debug_assert_eq!(used, self.pending.len());
                    self.pending.clear();
                    return Some((value, used as u64));
                }
                Err(IntError::Overflow) => {
                    self.stage = Stage::Lost;
                    return None;
                }
                Err(IntError::NeedMore) if self.pending.len() >= MAX_INT_LEN => {
                    self.stage = Stage::Lost;
                    return None;
                }
                Err(IntError::NeedMore) => {
                    let (&b, rest) = data.split_first()?;
                    self.pending.push(b);
                    *data = rest;
                }
            }
        }
    }
}

/// An instruction's qlog name, the prefix of its integer, and what follows it: a value
/// string, or a name string then a value string.
fn classify(encoder: bool, first: u8) -> (&'static str, u8, bool, bool) {
    if encoder {
        match first {
            b if b & 0x80 != 0 => ("insert_with_name_reference", 6, true, false),
            b if b & 0x40 != 0 => ("insert_without_name_reference", 5, false, true),
            b if b & 0x20 != 0 => ("set_dynamic_table_capacity", 5, false, false),
            _ => ("duplicate", 5, false, false),
        }
    } else {
        match first {
            b if b & 0x80 != 0 => ("section_acknowledgement", 7, false, false),
            b if b & 0x40 != 0 => ("stream_cancellation", 6, false, false),
            _ => ("insert_count_increment", 6, false, false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(encoder: bool, bytes: &[u8], split: usize) -> Vec<(&'static str, u64)> {
        let mut reader = QpackReader::new(encoder);
        let mut found = Vec::new();
        for piece in bytes.chunks(split) {
            let mut data = piece;
            while let Some(i) = reader.next(&mut data) {
                found.push(i);
            }
        }
        found
    }

    #[test]
    fn encoder_instructions_are_found_whatever_the_split() {
        let mut bytes = vec![0x3f, 0xe1, 0x1f]; // capacity 4096 (5-bit prefix, continued)
        bytes.extend([0xc0 | 17, 0x03, b'a', b'b', b'c']); // name ref 17 (static), "abc"
        bytes.extend([0x40 | 2, b'x', b'y', 0x81, 0xff]); // literal name "xy", Huffman 1 byte
        bytes.push(0x02); // duplicate 2
        let want = vec![
            ("set_dynamic_table_capacity", 3),
            ("insert_with_name_reference", 5),
            ("insert_without_name_reference", 5),
            ("duplicate", 1),
        ];
        for split in [1, 2, 3, 100] {
            assert_eq!(all(true, &bytes, split), want, "split {split}");
        }
    }

    #[test]
    fn decoder_instructions_and_a_lost_stream() {
        let bytes = [0x84, 0x41, 0x03];
        assert_eq!(
            all(false, &bytes, 1),
            vec![
                ("section_acknowledgement", 1),
                ("stream_cancellation", 1),
                ("insert_count_increment", 1)
            ]
        );
        // An integer longer than any QPACK value: the reader stops, without panicking.
        let mut reader = QpackReader::new(false);
        let mut data: &[u8] = &[0xff; 32];
        assert!(reader.next(&mut data).is_none());
        assert_eq!(reader.stage, Stage::Lost);
    }
}
