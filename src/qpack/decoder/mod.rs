//! The QPACK decoder: applies the peer's encoder stream to the dynamic table, decodes field
//! sections (holding those that must wait for inserts), and produces the decoder stream
//! (Section Acknowledgements, Stream Cancellations, Insert Count Increments).

mod literals;

use std::collections::{HashSet, VecDeque};

use bytes::Bytes;

use super::dynamic_table::{DynamicTable, ENTRY_OVERHEAD, TableError};
use super::field_lines::{self, FieldLine, Prefix};
use super::instruction::{self, EncoderInstruction, InstructionReader, ParseError, Step};
use super::static_table;
use super::string::{self, RawString};
use super::{Decoded, HeaderField};
use crate::error::{ErrorCode, ProtocolError};
use literals::{Half, SectionLiterals};

/// The longest string literal accepted in a field section when no field section size
/// limit is set.
const DEFAULT_MAX_LITERAL: u64 = 1 << 20;

/// How many cancelled stream ids are remembered to avoid cancelling one twice (a repeat
/// beyond that is harmless: encoders ignore cancellations of unknown streams).
const CANCELLED_MEMORY: usize = 4096;

fn section_error(reason: impl Into<String>) -> ProtocolError {
    ProtocolError::new(ErrorCode::QpackDecompressionFailed, reason)
}

fn encoder_stream_error(reason: impl Into<String>) -> ProtocolError {
    ProtocolError::new(ErrorCode::QpackEncoderStreamError, reason)
}

/// A field section waiting for inserts.
#[derive(Debug)]
struct BlockedSection {
    stream_id: u64,
    prefix: Prefix,
    /// The field lines after the prefix.
    lines: Vec<u8>,
    /// Whether enough inserts have arrived (it awaits `resume`).
    ready: bool,
}

/// The decoding half of QPACK. See the module docs of [`super`] for the API contract.
#[derive(Debug)]
pub struct Decoder {
    table: DynamicTable,
    max_entries: u64,
    max_blocked: u64,
    max_field_section_size: u64,
    /// Insert-flood limit (0 = none) and the entry bytes inserted since a field section
    /// last referenced the dynamic table.
    max_unreferenced_insert_bytes: u64,
    unreferenced_insert_bytes: u64,
    reader: InstructionReader<ProtocolError>,
    blocked: Vec<BlockedSection>,
    out: Vec<u8>,
    /// The insert count the encoder can infer from what we have sent.
    known_received: u64,
    /// Streams already cancelled (the most recent [`CANCELLED_MEMORY`]), oldest first.
    cancelled: HashSet<u64>,
    cancelled_order: VecDeque<u64>,
    /// The string literals of the section being decoded, and the storage that sections'
    /// fields share (kept from one section to the next, to reuse the allocations).
    literals: SectionLiterals,
}

impl Decoder {
    /// A decoder advertising this maximum table capacity and blocked-stream limit.
    pub fn new(max_table_capacity: u64, max_blocked_streams: u64) -> Decoder {
        Decoder {
            table: DynamicTable::new(max_table_capacity),
            max_entries: max_table_capacity / ENTRY_OVERHEAD,
            max_blocked: max_blocked_streams,
            max_field_section_size: 0,
            max_unreferenced_insert_bytes: 0,
            unreferenced_insert_bytes: 0,
            reader: InstructionReader::default(),
            blocked: Vec::new(),
            out: Vec::new(),
            known_received: 0,
            cancelled: HashSet::new(),
            cancelled_order: VecDeque::new(),
            literals: SectionLiterals::default(),
        }
    }

    /// Limits a decoded field section's size (name + value + 32 per field); 0 = unlimited.
    pub fn set_max_field_section_size(&mut self, limit: u64) {
        self.max_field_section_size = limit;
    }

    /// Limits the entry bytes (name + value + 32 each) the encoder stream may insert or
    /// duplicate without a field section referencing the dynamic table in between;
    /// beyond it `feed_encoder` fails with H3_EXCESSIVE_LOAD. 0 = unlimited (the default).
    pub fn set_max_unreferenced_insert_bytes(&mut self, limit: u64) {
        self.max_unreferenced_insert_bytes = limit;
    }

    /// Entry bytes inserted since a field section last referenced the dynamic table.
    pub fn unreferenced_insert_bytes(&self) -> u64 {
        self.unreferenced_insert_bytes
    }

    /// Sets the dynamic table capacity as if the encoder had sent Set Dynamic Table Capacity
    /// (at most the maximum). RFC 9204 starts at 0; encoders of draft-ietf-quic-qpack-05
    /// (such as the offline-interop corpus) assumed the table starts at its maximum, so
    /// tools decoding their output call this with the maximum first.
    pub fn set_dynamic_table_capacity(&mut self, capacity: u64) -> Result<(), ProtocolError> {
        self.table
            .set_capacity(capacity)
            .map_err(|_| encoder_stream_error("dynamic table capacity exceeds maximum"))
    }

    /// The number of entries ever inserted into the dynamic table.
    pub fn insert_count(&self) -> u64 {
        self.table.insert_count()
    }

    /// Applies encoder-stream bytes; returns the streams this unblocked, in blocking order.
    pub fn feed_encoder(&mut self, data: &[u8]) -> Result<Vec<u64>, ProtocolError> {
        let mut reader = std::mem::take(&mut self.reader);
        let result = reader.feed(data, |buf| self.apply_instruction(buf));
        self.reader = reader;
        result?;
        let inserts = self.table.insert_count();
        let mut unblocked = Vec::new();
        for section in &mut self.blocked {
            if !section.ready && section.prefix.required_insert_count <= inserts {
                section.ready = true;
                unblocked.push(section.stream_id);
            }
        }
        Ok(unblocked)
    }

    fn apply_instruction(&mut self, buf: &[u8]) -> Result<Step, ProtocolError> {
        // No string can be longer than an entry's room in the table.
        let max_string = self.table.capacity().saturating_sub(ENTRY_OVERHEAD);
        let (instruction, used) = match instruction::parse_encoder(buf, max_string) {
            Ok(v) => v,
            Err(ParseError::NeedMore(n)) => {
                // Reject a bad name reference without waiting for its value.
                match instruction::peek_name_ref(buf) {
                    Some((true, index)) if static_table::get(index).is_none() => {
                        return Err(encoder_stream_error(format!(
                            "static index {index} out of range"
                        )));
                    }
                    Some((false, index)) => {
                        self.relative_entry(index)?;
                    }
                    _ => {}
                }
                return Ok(Step::NeedMore(n));
            }
            Err(ParseError::Invalid(reason)) => return Err(encoder_stream_error(reason)),
        };
        let capacity = self.table.capacity();
        let (name, value) = match instruction {
            EncoderInstruction::SetCapacity(capacity) => {
                self.table.set_capacity(capacity).map_err(|_| {
                    encoder_stream_error(format!(
                        "dynamic table capacity {capacity} exceeds maximum {}",
                        self.table.max_capacity()
                    ))
                })?;
                return Ok(Step::Consumed(used));
            }
            EncoderInstruction::InsertWithNameRef {
                is_static,
                index,
                value,
            } => {
                let name = if is_static {
                    let (name, _) = static_table::get(index).ok_or_else(|| {
                        encoder_stream_error(format!("static index {index} out of range"))
                    })?;
                    Bytes::from_static(name)
                } else {
                    self.relative_entry(index)?.0
                };
                let room = capacity.saturating_sub(ENTRY_OVERHEAD + name.len() as u64);
                (name, insert_string(value, room)?)
            }
            EncoderInstruction::InsertWithLiteralName { name, value } => {
                let name = insert_string(name, capacity.saturating_sub(ENTRY_OVERHEAD))?;
                let room = capacity.saturating_sub(ENTRY_OVERHEAD + name.len() as u64);
                (name, insert_string(value, room)?)
            }
            EncoderInstruction::Duplicate(index) => self.relative_entry(index)?,
        };
        let entry_size = name.len() as u64 + value.len() as u64 + ENTRY_OVERHEAD;
        self.unreferenced_insert_bytes = self.unreferenced_insert_bytes.saturating_add(entry_size);
        let limit = self.max_unreferenced_insert_bytes;
        if limit > 0 && self.unreferenced_insert_bytes > limit {
            return Err(ProtocolError::new(
                ErrorCode::ExcessiveLoad,
                format!("encoder stream inserted more than {limit} bytes no field section used"),
            ));
        }
        self.table.insert(name, value).map_err(|e| match e {
            TableError::EntryTooLarge => {
                encoder_stream_error("inserted entry exceeds the dynamic table capacity")
            }
            TableError::CapacityExceedsMaximum => {
                encoder_stream_error("dynamic table capacity exceeds maximum")
            }
        })?;
        Ok(Step::Consumed(used))
    }

    fn relative_entry(&self, relative: u64) -> Result<(Bytes, Bytes), ProtocolError> {
        self.table
            .absolute_from_relative(relative)
            .and_then(|abs| self.table.get(abs))
            .map(|e| (e.name.clone(), e.value.clone()))
            .ok_or_else(|| encoder_stream_error(format!("relative index {relative} out of range")))
    }

    /// Bytes of peer input this decoder holds: dynamic table entries (as the table counts
    /// them), blocked sections, decoder-stream output not yet taken, and the buffers
    /// section literals are decoded into (kept between sections, at most a few KiB).
    pub fn held_bytes(&self) -> u64 {
        let blocked: usize = self.blocked.iter().map(|s| s.lines.capacity()).sum();
        let buffers = blocked + self.out.capacity() + self.literals.held_bytes();
        self.table.size() + buffers as u64
    }

    /// The number of streams currently blocked.
    pub fn blocked_streams(&self) -> usize {
        self.blocked.iter().filter(|s| !s.ready).count()
    }

    /// Decodes one field section for `stream_id`, or holds it if it must wait for inserts.
    pub fn decode(&mut self, stream_id: u64, section: &[u8]) -> Result<Decoded, ProtocolError> {
        if self.blocked.iter().any(|s| s.stream_id == stream_id) {
            return Err(section_error(format!(
                "stream {stream_id} already has a blocked field section"
            )));
        }
        let (prefix, pos) =
            field_lines::parse_prefix(section, self.max_entries, self.table.insert_count())
                .map_err(section_error)?;
        if prefix.required_insert_count > self.table.insert_count() {
            if self.blocked_streams() as u64 >= self.max_blocked {
                return Err(section_error(format!(
                    "stream {stream_id} would exceed the limit of {} blocked streams",
                    self.max_blocked
                )));
            }
            self.blocked.push(BlockedSection {
                stream_id,
                prefix,
                lines: section[pos..].to_vec(),
                ready: false,
            });
            return Ok(Decoded::Blocked);
        }
        self.decode_lines(stream_id, prefix, &section[pos..])
            .map(Decoded::Headers)
    }

    /// Decodes a section that `feed_encoder` reported as unblocked.
    pub fn resume(&mut self, stream_id: u64) -> Result<Vec<HeaderField>, ProtocolError> {
        let i = self
            .blocked
            .iter()
            .position(|s| s.stream_id == stream_id && s.ready)
            .ok_or_else(|| {
                ProtocolError::new(
                    ErrorCode::InternalError,
                    format!("stream {stream_id} has no unblocked field section"),
                )
            })?;
        let section = self.blocked.remove(i);
        self.decode_lines(stream_id, section.prefix, &section.lines)
    }

    /// Drops a reset stream's blocked section and queues one Stream Cancellation for it.
    pub fn cancel_stream(&mut self, stream_id: u64) {
        self.blocked.retain(|s| s.stream_id != stream_id);
        // RFC 9204 §4.4.2: not needed when the dynamic table cannot be used.
        if self.table.max_capacity() > 0 && self.cancelled.insert(stream_id) {
            instruction::write_stream_cancel(&mut self.out, stream_id);
            self.cancelled_order.push_back(stream_id);
            if self.cancelled_order.len() > CANCELLED_MEMORY {
                let oldest = self.cancelled_order.pop_front().unwrap_or(stream_id);
                self.cancelled.remove(&oldest);
            }
        }
    }

    /// Moves the pending decoder-stream bytes to `out`.
    pub fn take_decoder_stream_data(&mut self, out: &mut Vec<u8>) {
        let inserts = self.table.insert_count();
        if inserts > self.known_received {
            instruction::write_insert_count_increment(&mut self.out, inserts - self.known_received);
            self.known_received = inserts;
        }
        out.append(&mut self.out);
    }

    /// Decodes the field lines of a section whose prefix is `prefix`.
    ///
    /// Every string literal of the section is decoded into one buffer, which the fields
    /// then share, taken from storage reused between sections ([`SectionLiterals`]);
    /// fields from the tables share the tables' bytes.
    fn decode_lines(
        &mut self,
        stream_id: u64,
        prefix: Prefix,
        mut lines: &[u8],
    ) -> Result<Vec<HeaderField>, ProtocolError> {
        let limit = self.max_field_section_size;
        let max_string = if limit > 0 {
            limit
        } else {
            DEFAULT_MAX_LITERAL
        };
        let max_len = usize::try_from(max_string).unwrap_or(usize::MAX);
        // Field lines take a few bytes each at the least; a guess, not a bound.
        let mut fields = Vec::with_capacity(lines.len() / 6 + 4);
        self.literals.start_section();
        let mut total: u64 = 0;
        while !lines.is_empty() {
            // A literal longer than what is left of the limit is refused from its length,
            // before it is read.
            let room = if limit > 0 {
                limit.saturating_sub(total)
            } else {
                max_string
            };
            let (line, used) = field_lines::parse_line(lines, room).map_err(section_error)?;
            let rest = lines.len() - used;
            lines = &lines[used..];
            let field = fields.len();
            let (name, value) = match line {
                FieldLine::Indexed {
                    is_static: true,
                    index,
                } => {
                    let (name, value) = static_entry(index)?;
                    (Bytes::from_static(name), Bytes::from_static(value))
                }
                FieldLine::Indexed {
                    is_static: false,
                    index,
                } => {
                    let abs = prefix
                        .base
                        .checked_sub(index)
                        .and_then(|v| v.checked_sub(1));
                    self.dynamic_entry(abs, &prefix, "relative index", index)?
                }
                FieldLine::IndexedPostBase(index) => {
                    let abs = prefix.base.checked_add(index);
                    self.dynamic_entry(abs, &prefix, "post-base index", index)?
                }
                FieldLine::LiteralNameRef {
                    is_static,
                    index,
                    value,
                    ..
                } => {
                    let name = if is_static {
                        Bytes::from_static(static_entry(index)?.0)
                    } else {
                        let abs = prefix
                            .base
                            .checked_sub(index)
                            .and_then(|v| v.checked_sub(1));
                        self.dynamic_entry(abs, &prefix, "relative name index", index)?
                            .0
                    };
                    self.literals
                        .decode(value, field, Half::Value, max_len, rest + used)?;
                    (name, Bytes::new())
                }
                FieldLine::LiteralPostBaseNameRef { index, value, .. } => {
                    let abs = prefix.base.checked_add(index);
                    let name = self
                        .dynamic_entry(abs, &prefix, "post-base name index", index)?
                        .0;
                    self.literals
                        .decode(value, field, Half::Value, max_len, rest + used)?;
                    (name, Bytes::new())
                }
                FieldLine::Literal { name, value, .. } => {
                    self.literals
                        .decode(name, field, Half::Name, max_len, rest + used)?;
                    self.literals
                        .decode(value, field, Half::Value, max_len, rest + used)?;
                    (Bytes::new(), Bytes::new())
                }
            };
            let size = self.literals.field_len(field) + name.len() + value.len() + 32;
            total = total.saturating_add(size as u64);
            if limit > 0 && total > limit {
                return Err(section_error(format!(
                    "field section exceeds the size limit of {limit} bytes"
                )));
            }
            fields.push(HeaderField { name, value });
        }
        self.literals.fill(&mut fields);
        if prefix.required_insert_count > 0 {
            self.unreferenced_insert_bytes = 0;
            instruction::write_section_ack(&mut self.out, stream_id);
            self.known_received = self.known_received.max(prefix.required_insert_count);
        }
        Ok(fields)
    }

    fn dynamic_entry(
        &self,
        abs: Option<u64>,
        prefix: &Prefix,
        what: &str,
        index: u64,
    ) -> Result<(Bytes, Bytes), ProtocolError> {
        let entry = abs
            .filter(|&a| a < prefix.required_insert_count)
            .and_then(|a| self.table.get(a))
            .ok_or_else(|| section_error(format!("{what} {index} out of range")))?;
        Ok((entry.name.clone(), entry.value.clone()))
    }
}

fn static_entry(index: u64) -> Result<(&'static [u8], &'static [u8]), ProtocolError> {
    static_table::get(index)
        .ok_or_else(|| section_error(format!("static index {index} out of range")))
}

fn insert_string(raw: RawString<'_>, room: u64) -> Result<Bytes, ProtocolError> {
    let max_len = usize::try_from(room).unwrap_or(usize::MAX);
    string::decode(raw, max_len)
        .map(Bytes::from)
        .map_err(|reason| {
            if reason.contains("limit") {
                encoder_stream_error("inserted entry exceeds the dynamic table capacity")
            } else {
                encoder_stream_error(reason)
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::hex;

    fn fields(list: &[(&str, &str)]) -> Vec<HeaderField> {
        list.iter().map(|(n, v)| HeaderField::new(n, v)).collect()
    }

    fn headers(d: Decoded) -> Vec<HeaderField> {
        match d {
            Decoded::Headers(h) => h,
            Decoded::Blocked => panic!("unexpectedly blocked"),
        }
    }

    fn take(d: &mut Decoder) -> Vec<u8> {
        let mut out = Vec::new();
        d.take_decoder_stream_data(&mut out);
        out
    }

    #[test]
    fn rfc9204_appendix_b_walkthrough() {
        let mut d = Decoder::new(220, 100);
        // B.1: static name reference only; nothing to acknowledge.
        let h = headers(
            d.decode(0, &hex("0000 510b 2f69 6e64 6578 2e68 746d 6c"))
                .unwrap(),
        );
        assert_eq!(h, fields(&[(":path", "/index.html")]));
        assert!(take(&mut d).is_empty());
        // B.2: the section arrives first and blocks; the encoder stream unblocks it.
        assert_eq!(d.decode(4, &hex("0381 10 11")).unwrap(), Decoded::Blocked);
        assert_eq!(d.blocked_streams(), 1);
        let es = hex("3fbd01 c00f7777772e6578616d706c652e636f6d c10c2f73616d706c652f70617468");
        assert_eq!(d.feed_encoder(&es).unwrap(), vec![4]);
        assert_eq!(d.blocked_streams(), 0);
        let h = d.resume(4).unwrap();
        assert_eq!(
            h,
            fields(&[(":authority", "www.example.com"), (":path", "/sample/path")])
        );
        assert_eq!(take(&mut d), [0x84]);
        // B.3: speculative insert, acknowledged with an Insert Count Increment.
        assert!(
            d.feed_encoder(&hex("4a637573746f6d2d6b65790c637573746f6d2d76616c7565"))
                .unwrap()
                .is_empty()
        );
        assert_eq!(take(&mut d), [0x01]);
        // B.4: Duplicate, then a section on stream 8 the application abandons.
        assert_eq!(
            d.decode(8, &hex("0500 80 c1 81")).unwrap(),
            Decoded::Blocked
        );
        d.cancel_stream(8);
        assert_eq!(d.blocked_streams(), 0);
        assert!(d.feed_encoder(&[0x02]).unwrap().is_empty());
        // The RFC's decoder defers the increment for the duplicate; ours sends it at once.
        assert_eq!(take(&mut d), [0x48, 0x01]);
        d.cancel_stream(8);
        assert!(take(&mut d).is_empty(), "never a second cancellation");
        // The same section decodes on another stream.
        let h = headers(d.decode(12, &hex("0500 80 c1 81")).unwrap());
        assert_eq!(
            h,
            fields(&[
                (":authority", "www.example.com"),
                (":path", "/"),
                ("custom-key", "custom-value")
            ])
        );
        assert_eq!(take(&mut d), [0x8c]);
        // B.5: insert with a dynamic name reference, evicting the oldest entry.
        assert!(
            d.feed_encoder(&hex("810d637573746f6d2d76616c756532"))
                .unwrap()
                .is_empty()
        );
        assert_eq!(take(&mut d), [0x01]);
        assert!(d.table.get(0).is_none(), "entry 0 was evicted");
        assert_eq!(d.table.get(4).unwrap().value, "custom-value2");
        // A reference to the evicted entry fails.
        let e = d.decode(16, &hex("0200 81")).unwrap_err();
        assert_eq!(e.code, ErrorCode::QpackDecompressionFailed);
    }

    #[test]
    fn corpus_example_file_decodes() {
        // encoded/qpack-05/examples/examples.out.220.100.1 is Appendix B in file form.
        let mut d = Decoder::new(220, 100);
        d.feed_encoder(&hex(
            "3fbd01 c00f7777772e6578616d706c652e636f6d c10c2f73616d706c652f70617468",
        ))
        .unwrap();
        let h = headers(d.decode(4, &hex("0381 10 11")).unwrap());
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn field_section_errors_are_decompression_failures() {
        let cases: &[(&str, &str)] = &[
            ("ff", "truncated Required Insert Count"),
            ("00", "missing Base"),
            ("0081", "negative Base"),
            ("0000 ff", "truncated index"),
            ("0000 ff64", "static index 163 out of range"),
            ("0000 80", "dynamic reference with Required Insert Count 0"),
            (
                "0000 10",
                "post-base reference with Required Insert Count 0",
            ),
            ("0000 5f00", "static name index out of range"),
            ("0000 51 05 6162", "truncated value"),
            ("0000 51 81 ff", "Huffman EOS/padding"),
            ("0000 51 81 00", "Huffman padding not ones"),
            ("0000 27", "truncated name length"),
            ("09 00", "Required Insert Count beyond the table's range"),
        ];
        for (bytes, what) in cases {
            let mut d = Decoder::new(100, 10);
            let e = d.decode(0, &hex(bytes)).expect_err(what);
            assert_eq!(e.code, ErrorCode::QpackDecompressionFailed, "{what}: {e}");
        }
        // A reference at or beyond Required Insert Count.
        let mut d = Decoder::new(100, 10);
        d.set_dynamic_table_capacity(100).unwrap();
        d.feed_encoder(&hex("c003616263 c003646566")).unwrap(); // two inserts
        assert!(
            d.decode(0, &hex("0200 10")).is_err(),
            "post-base index 0 with Base 1 = RIC"
        );
        assert!(headers(d.decode(4, &hex("0300 80 81")).unwrap()).len() == 2);
    }

    #[test]
    fn encoder_stream_errors() {
        let cases: &[(&str, &str)] = &[
            ("3f e1 1f", "capacity 4096 above maximum 100"),
            ("01", "duplicate of a missing entry"),
            ("80 01 61", "dynamic name reference into an empty table"),
            (
                "ff 80 ff ff ff ff 01",
                "static index out of range, before the value arrives",
            ),
            ("3f 45 c0 7f 30", "value longer than the capacity"),
            ("3f 45 c0 81 ff", "Huffman EOS in a value"),
            ("c0 01 61", "insert with capacity 0"),
        ];
        for (bytes, what) in cases {
            let mut d = Decoder::new(100, 10);
            let e = d.feed_encoder(&hex(bytes)).expect_err(what);
            assert_eq!(e.code, ErrorCode::QpackEncoderStreamError, "{what}: {e}");
        }
        let mut d = Decoder::new(100, 10);
        let e = d.feed_encoder(&hex("3f e1 1f")).unwrap_err();
        assert!(e.reason.contains("exceeds maximum"), "{e}");
    }

    #[test]
    fn blocked_stream_limit_is_enforced() {
        let mut d = Decoder::new(1000, 2);
        assert_eq!(d.decode(0, &[0x02, 0x00, 0x80]).unwrap(), Decoded::Blocked);
        assert_eq!(d.decode(4, &[0x02, 0x00, 0x80]).unwrap(), Decoded::Blocked);
        let e = d.decode(8, &[0x02, 0x00, 0x80]).unwrap_err();
        assert_eq!(e.code, ErrorCode::QpackDecompressionFailed);
        // A stream cannot have two blocked sections.
        assert!(d.decode(4, &[0x02, 0x00, 0x80]).is_err());
        let mut d = Decoder::new(1000, 0);
        assert!(
            d.decode(0, &[0x02, 0x00, 0x80]).is_err(),
            "no blocking allowed at all"
        );
        // Without a dynamic table nothing can block, and no cancellation is sent.
        let mut d = Decoder::new(0, 0);
        assert!(d.decode(0, &[0x02, 0x00, 0x80]).is_err());
        d.cancel_stream(0);
        assert!(take(&mut d).is_empty());
    }

    #[test]
    fn unblocked_streams_are_reported_in_blocking_order() {
        let mut d = Decoder::new(1000, 10);
        d.set_dynamic_table_capacity(1000).unwrap();
        assert_eq!(d.decode(8, &[0x03, 0x00, 0x80]).unwrap(), Decoded::Blocked); // needs 2
        assert_eq!(d.decode(4, &[0x02, 0x00, 0x80]).unwrap(), Decoded::Blocked); // needs 1
        assert_eq!(d.feed_encoder(&hex("c0 01 61")).unwrap(), vec![4]);
        assert_eq!(d.feed_encoder(&hex("c0")).unwrap(), Vec::<u64>::new());
        assert_eq!(d.feed_encoder(&hex("01 62")).unwrap(), vec![8]);
        assert_eq!(d.resume(8).unwrap(), fields(&[(":authority", "b")]));
        assert_eq!(d.resume(4).unwrap(), fields(&[(":authority", "a")]));
        assert!(d.resume(4).is_err(), "already resumed");
        assert_eq!(take(&mut d), [0x88, 0x84]);
    }

    #[test]
    fn field_section_size_limit() {
        let mut d = Decoder::new(0, 0);
        d.set_max_field_section_size(32 + 5 + 11);
        // :path=/index.html is 5 + 11 + 32 = 48 bytes.
        let section = hex("0000 510b 2f69 6e64 6578 2e68 746d 6c");
        assert!(d.decode(0, &section).is_ok());
        d.set_max_field_section_size(47);
        assert_eq!(
            d.decode(4, &section).unwrap_err().code,
            ErrorCode::QpackDecompressionFailed
        );
        // A literal longer than the limit is refused from its length alone.
        let e = d.decode(8, &hex("0000 51 7f 81 ff ff 03")).unwrap_err();
        assert_eq!(e.code, ErrorCode::QpackDecompressionFailed);
    }

    #[test]
    fn required_insert_count_wraps_around() {
        // MaxEntries = 64 / 32 = 2: full range 4.
        let mut d = Decoder::new(64, 10);
        d.set_dynamic_table_capacity(64).unwrap();
        for i in 0..7u8 {
            d.feed_encoder(&[0xc0, 0x01, b'a' + i]).unwrap(); // each entry is 33 bytes: one fits
            // Required Insert Count i + 1, encoded (i + 1) % 4 + 1, Base = RIC.
            let section = [((i as u64 + 1) % 4 + 1) as u8, 0x00, 0x80];
            let h = headers(d.decode(u64::from(i) * 4, &section).unwrap());
            assert_eq!(h[0].value, [b'a' + i][..]);
        }
    }
}
