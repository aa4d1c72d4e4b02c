//! The QPACK decoder: applies the peer's encoder stream to the dynamic table, decodes field
//! sections (holding those that must wait for inserts), and produces the decoder stream
//! (Section Acknowledgements, Stream Cancellations, Insert Count Increments).

use std::collections::HashSet;

use bytes::Bytes;

use super::dynamic_table::{DynamicTable, ENTRY_OVERHEAD, TableError};
use super::field_lines::{self, FieldLine, Prefix};
use super::instruction::{self, EncoderInstruction, InstructionReader, ParseError, Step};
use super::static_table;
use super::string::{self, RawString};
use super::{Decoded, HeaderField};
use crate::error::{ErrorCode, ProtocolError};

/// The longest string literal accepted in a field section when no field section size
/// limit is set.
const DEFAULT_MAX_LITERAL: u64 = 1 << 20;

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
    reader: InstructionReader,
    blocked: Vec<BlockedSection>,
    out: Vec<u8>,
    /// The insert count the encoder can infer from what we have sent.
    known_received: u64,
    cancelled: HashSet<u64>,
}

impl Decoder {
    /// A decoder advertising this maximum table capacity and blocked-stream limit.
    pub fn new(max_table_capacity: u64, max_blocked_streams: u64) -> Decoder {
        Decoder {
            table: DynamicTable::new(max_table_capacity),
            max_entries: max_table_capacity / ENTRY_OVERHEAD,
            max_blocked: max_blocked_streams,
            max_field_section_size: 0,
            reader: InstructionReader::default(),
            blocked: Vec::new(),
            out: Vec::new(),
            known_received: 0,
            cancelled: HashSet::new(),
        }
    }

    /// Limits a decoded field section's size (name + value + 32 per field); 0 = unlimited.
    pub fn set_max_field_section_size(&mut self, limit: u64) {
        self.max_field_section_size = limit;
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
        // A Huffman string decodes to at least 8 bits per 30, so an encoded string longer
        // than this cannot fit the table.
        let max_string = self.table.capacity().saturating_mul(4) + 8;
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
        let mut fields = Vec::new();
        let mut total: u64 = 0;
        while !lines.is_empty() {
            let (line, used) = field_lines::parse_line(lines, max_string).map_err(section_error)?;
            lines = &lines[used..];
            let field = match line {
                FieldLine::Indexed {
                    is_static: true,
                    index,
                } => {
                    let (name, value) = static_entry(index)?;
                    HeaderField {
                        name: Bytes::from_static(name),
                        value: Bytes::from_static(value),
                    }
                }
                FieldLine::Indexed {
                    is_static: false,
                    index,
                } => {
                    let abs = prefix
                        .base
                        .checked_sub(index)
                        .and_then(|v| v.checked_sub(1));
                    let (name, value) =
                        self.dynamic_entry(abs, &prefix, "relative index", index)?;
                    HeaderField { name, value }
                }
                FieldLine::IndexedPostBase(index) => {
                    let abs = prefix.base.checked_add(index);
                    let (name, value) =
                        self.dynamic_entry(abs, &prefix, "post-base index", index)?;
                    HeaderField { name, value }
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
                    HeaderField {
                        name,
                        value: section_string(value, max_len)?,
                    }
                }
                FieldLine::LiteralPostBaseNameRef { index, value, .. } => {
                    let abs = prefix.base.checked_add(index);
                    let name = self
                        .dynamic_entry(abs, &prefix, "post-base name index", index)?
                        .0;
                    HeaderField {
                        name,
                        value: section_string(value, max_len)?,
                    }
                }
                FieldLine::Literal { name, value, .. } => HeaderField {
                    name: section_string(name, max_len)?,
                    value: section_string(value, max_len)?,
                },
            };
            total = total.saturating_add(field.size() as u64);
            if limit > 0 && total > limit {
                return Err(section_error(format!(
                    "field section exceeds the size limit of {limit} bytes"
                )));
            }
            fields.push(field);
        }
        if prefix.required_insert_count > 0 {
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

fn section_string(raw: RawString<'_>, max_len: usize) -> Result<Bytes, ProtocolError> {
    string::decode(raw, max_len)
        .map(Bytes::from)
        .map_err(section_error)
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
