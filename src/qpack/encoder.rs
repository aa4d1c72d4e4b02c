//! The QPACK encoder.
//!
//! Strategy, per field line:
//!
//! 1. an exact static-table match is indexed;
//! 2. an exact dynamic-table match is indexed when the decoder has acknowledged the entry,
//!    or when this section may block (the stream already blocks, or fewer than the peer's
//!    SETTINGS_QPACK_BLOCKED_STREAMS streams do, and the unacknowledged entries the section
//!    would reference save at least [`MIN_BLOCKING_GAIN`] bytes); an entry close to
//!    eviction is first Duplicated, so that hot fields survive;
//! 3. otherwise a field that is not sensitive and has been seen recently (a small history
//!    of field hashes) is inserted (if its entry takes at most 3/4 of the capacity), if
//!    that evicts only acknowledged, unreferenced entries, and referenced if blocking is
//!    allowed (while nothing may be evicted, a section whose such fields do not all fit
//!    in the free space inserts the largest first);
//! 4. otherwise a literal, with a static or dynamic name reference when there is one, and
//!    the never-index bit for sensitive fields (authorization, proxy-authorization, short
//!    cookies and set-cookies), which are never inserted.
//!
//! The encoder tracks the Known Received Count and each stream's unacknowledged sections
//! (a stream may have several: headers and trailers), and never evicts an entry that an
//! unacknowledged section references or whose insertion is unacknowledged.
//!
//! [`representation`] decides how each field line is represented (the strategy above);
//! [`Encoder::encode`] writes what it decides; [`feedback`] tracks the sections that
//! reference the table ([`outstanding`]) and applies what the decoder stream says of them.

mod feedback;
mod outstanding;
mod representation;

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap, VecDeque};

use bytes::Bytes;

use super::dynamic_table::{DynamicTable, ENTRY_OVERHEAD, entry_size};
use super::field_lines;
use super::hash::{FastHashBuilder, KeyHashBuilder, bytes_eq, hash_bytes};
use super::history::{History, Recency};
use super::instruction::{self, InstructionReader};
use super::static_table::{self, Match};
use crate::error::ProtocolError;
use outstanding::Outstanding;
#[cfg(test)]
use representation::is_sensitive;
use representation::{Insertion, Line};

/// A section that would start blocking a stream must save at least this many literal
/// bytes through references to unacknowledged entries already in the table: a peer's
/// blocked-stream budget is spent only where it pays. Without acknowledgements the budget
/// is all there is (tuned on the QPACK interop corpus against libnghttp3).
const MIN_BLOCKING_GAIN: usize = 24;

/// The largest dynamic table the encoder uses unless told otherwise.
const DEFAULT_MAX_CAPACITY_USED: u64 = 64 * 1024;

/// How far back (in fields) repeats are looked for at all.
const RECENCY_HORIZON: u64 = 2048;

/// How many recent literal names are remembered, to spot recurring names worth an entry
/// that later literals can name by reference.
const NAME_HISTORY_LEN: usize = 256;

/// The hashes a field is looked up by: of its name, and of its name and value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FieldKey {
    name: u64,
    field: u64,
}

impl FieldKey {
    fn of(name: &[u8], value: &[u8]) -> FieldKey {
        let name = hash_bytes(0, name);
        FieldKey {
            name,
            field: hash_bytes(name, value),
        }
    }

    /// The key of the field with this key's name and `value`.
    fn with_value(self, value: &[u8]) -> FieldKey {
        FieldKey {
            name: self.name,
            field: hash_bytes(self.name, value),
        }
    }
}

/// What the section's first look at a field found, before anything was inserted: its
/// static table match, and, with a dynamic table (and no exact static match), its key and
/// the entry holding it then.
#[derive(Clone, Copy, Debug)]
struct FieldProbe {
    static_match: Option<Match>,
    key: Option<FieldKey>,
    exact: Option<u64>,
    /// Not to be inserted: see [`Encoder::plan_insertions_into_full_table`].
    hold_back: bool,
}

/// What the encoder knows about one dynamic table entry.
#[derive(Clone, Copy, Debug)]
struct EntryMeta {
    /// Total bytes inserted before this entry.
    inserted_before: u64,
    /// Its hashes in `by_field` and `by_name`.
    key: FieldKey,
}

/// The field section being encoded: its stream, and the dynamic table entries it
/// references so far.
#[derive(Debug)]
struct SectionInProgress {
    stream_id: u64,
    /// The Insert Count when the section's fields were first looked up: while it holds,
    /// so do the lookups' results.
    probed_at: u64,
    /// Whether the section may reference unacknowledged entries, once worked out (see
    /// [`Encoder::may_block`]).
    may_block: Option<bool>,
    /// The smallest absolute index referenced, if any.
    min_ref: Option<u64>,
    /// The largest absolute index referenced, if any.
    max_ref: Option<u64>,
}

impl SectionInProgress {
    fn new(stream_id: u64, probed_at: u64) -> Self {
        SectionInProgress {
            stream_id,
            probed_at,
            may_block: None,
            min_ref: None,
            max_ref: None,
        }
    }

    /// Notes a reference to the entry with absolute index `abs`.
    fn note_ref(&mut self, abs: u64) {
        self.min_ref = Some(self.min_ref.map_or(abs, |m| m.min(abs)));
        self.max_ref = Some(self.max_ref.map_or(abs, |m| m.max(abs)));
    }

    /// The Required Insert Count: one more than the largest absolute index referenced.
    fn required_insert_count(&self) -> u64 {
        self.max_ref.map_or(0, |m| m + 1)
    }
}

/// The encoding half of QPACK.
#[derive(Debug)]
pub struct Encoder {
    reader: InstructionReader<ProtocolError>,
    settings_applied: bool,
    table: DynamicTable,
    max_capacity_used: u64,
    max_entries: u64,
    max_blocked: u64,
    known_received: u64,
    /// Bookkeeping for each entry present (front = oldest entry).
    meta: VecDeque<EntryMeta>,
    inserted_total: u64,
    /// Hash of (name, value) -> absolute index of the newest entry with it. (Two fields
    /// with one hash: only the newer is found, which costs compression, not correctness.)
    by_field: HashMap<u64, u64, KeyHashBuilder>,
    /// Hash of name -> absolute index of the newest entry with it.
    by_name: HashMap<u64, u64, KeyHashBuilder>,
    /// Unacknowledged sections per stream, oldest first.
    outstanding: Outstanding,
    /// How many streams have a section the decoder may be blocked on, when known: worked
    /// out again after anything it depends on changes.
    blocking: Cell<Option<usize>>,
    /// Required Insert Counts of sections forgotten by `stream_cancelled`, per stream: a
    /// Section Acknowledgement already in flight for them is still honoured.
    forgotten: HashMap<u64, VecDeque<u64>, FastHashBuilder>,
    /// The `min_ref` of every unacknowledged section, counted.
    pinned: BTreeMap<u64, usize>,
    /// Recently seen fields (hashes of name and value).
    fields_seen: Recency,
    /// Recently seen names without a static-table entry.
    names_seen: History,
    /// The lines of the section being encoded (kept to reuse its allocation).
    lines: Vec<Line<u64>>,
    /// What the first look at each of the section's fields found (likewise).
    probes: Vec<FieldProbe>,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder::new()
    }
}

impl Encoder {
    /// An encoder that uses no dynamic table until [`Encoder::apply_settings`].
    pub fn new() -> Encoder {
        Encoder {
            reader: InstructionReader::default(),
            settings_applied: false,
            table: DynamicTable::new(0),
            max_capacity_used: DEFAULT_MAX_CAPACITY_USED,
            max_entries: 0,
            max_blocked: 0,
            known_received: 0,
            meta: VecDeque::new(),
            inserted_total: 0,
            by_field: HashMap::default(),
            by_name: HashMap::default(),
            outstanding: Outstanding::default(),
            blocking: Cell::new(None),
            forgotten: HashMap::default(),
            pinned: BTreeMap::new(),
            fields_seen: Recency::new(RECENCY_HORIZON),
            names_seen: History::new(NAME_HISTORY_LEN),
            lines: Vec::new(),
            probes: Vec::new(),
        }
    }

    /// Caps the dynamic table capacity the encoder will use (default 64 KiB), whatever the
    /// peer allows. Takes effect at [`Encoder::apply_settings`].
    pub fn set_max_table_capacity_used(&mut self, capacity: u64) {
        self.max_capacity_used = capacity;
    }

    /// Applies the peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY and
    /// SETTINGS_QPACK_BLOCKED_STREAMS, appending Set Dynamic Table Capacity to
    /// `encoder_stream` when the dynamic table will be used. Call once.
    pub fn apply_settings(
        &mut self,
        max_table_capacity: u64,
        blocked_streams: u64,
        encoder_stream: &mut Vec<u8>,
    ) {
        if self.settings_applied {
            return;
        }
        self.settings_applied = true;
        self.max_entries = max_table_capacity / ENTRY_OVERHEAD;
        self.max_blocked = blocked_streams;
        let capacity = max_table_capacity.min(self.max_capacity_used);
        self.table = DynamicTable::new(max_table_capacity);
        if capacity > 0 && self.table.set_capacity(capacity).is_ok() {
            instruction::write_set_capacity(encoder_stream, capacity);
        }
    }

    /// The dynamic table capacity in use.
    pub fn table_capacity(&self) -> u64 {
        self.table.capacity()
    }

    /// The number of entries inserted so far.
    pub fn insert_count(&self) -> u64 {
        self.table.insert_count()
    }

    /// The Known Received Count: inserts the decoder has acknowledged.
    pub fn known_received_count(&self) -> u64 {
        self.known_received
    }

    /// The number of streams with a section the decoder may be blocked on.
    pub fn blocking_streams(&self) -> usize {
        if let Some(count) = self.blocking.get() {
            return count;
        }
        let count = self.outstanding.count_blocking(self.known_received);
        self.blocking.set(Some(count));
        count
    }

    /// Whether `section` may reference entries the decoder has not acknowledged (and so
    /// block its stream): the stream blocks already, or fewer streams block than the peer
    /// allows. Worked out once per section, on first need: it scans every outstanding
    /// section, and a section that references only acknowledged entries (the steady state)
    /// never needs it. Encoding does not change what it depends on (outstanding sections,
    /// the Known Received Count).
    fn may_block(&self, section: &mut SectionInProgress) -> bool {
        if let Some(known) = section.may_block {
            return known;
        }
        let may = self.stream_is_blocking(section.stream_id)
            || (self.blocking_streams() as u64) < self.max_blocked;
        section.may_block = Some(may);
        may
    }

    /// When nothing in the table may be evicted (no entry is acknowledged yet: without
    /// acknowledgements this lasts), the free space is all the table will ever offer, and
    /// filling it in field order can spend it on a field that recurs less than the one
    /// after it. If the section's likely insertions (fields not in either table, seen
    /// recently) need more than the free space, the largest are kept, as many as fit,
    /// and the others held back. (Sections with more than 16 such fields, rare, are left
    /// to field order.)
    fn plan_insertions_into_full_table(
        &self,
        fields: &[(&[u8], &[u8])],
        probes: &mut [FieldProbe],
    ) {
        if self.evictable_below(None) > self.table.first_index() || self.table.capacity() == 0 {
            return;
        }
        let free = self.table.capacity() - self.table.size();
        let mut wanted = 0;
        let mut candidates: [(u64, usize); 16] = [(0, 0); 16];
        let mut count = 0;
        for (i, (&(name, value), probe)) in fields.iter().zip(probes.iter()).enumerate() {
            let Some(key) = probe.key else { continue };
            let size = entry_size(name.len(), value.len());
            if probe.exact.is_some()
                || size > self.table.capacity() * 3 / 4
                || representation::is_sensitive_matched(name, value, probe.static_match)
                || !self
                    .fields_seen
                    .seen_within(key.field, representation::repeat_window(name, value))
            {
                continue;
            }
            if count == candidates.len() {
                return;
            }
            candidates[count] = (size, i);
            count += 1;
            wanted += size;
        }
        if wanted <= free {
            return;
        }
        let candidates = &mut candidates[..count];
        candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut left = free;
        for &(size, i) in candidates.iter() {
            if size <= left {
                left -= size;
            } else {
                probes[i].hold_back = true;
            }
        }
    }

    /// Whether a section on `stream_id` (not blocking yet) would gain too little from
    /// the unacknowledged entries already in the table to spend one of the peer's
    /// blocked streams on it: the estimate counts the literal bytes such references save.
    fn blocking_budget_not_worth_it(
        &self,
        stream_id: u64,
        fields: &[(&[u8], &[u8])],
        probes: &[FieldProbe],
    ) -> bool {
        if self.table.insert_count() == self.known_received || self.max_blocked == 0 {
            return false;
        }
        if self.stream_is_blocking(stream_id) {
            return false;
        }
        let mut gain = 0usize;
        for (&(name, value), probe) in fields.iter().zip(probes) {
            if let Some(abs) = probe.exact {
                if abs >= self.known_received {
                    gain += (name.len() + value.len()) * 3 / 4;
                    if gain >= MIN_BLOCKING_GAIN {
                        return false;
                    }
                }
            }
        }
        true
    }

    fn stream_is_blocking(&self, stream_id: u64) -> bool {
        self.outstanding.blocks(stream_id, self.known_received)
    }

    /// The newest entry with this name and value.
    fn find_exact(&self, hash: u64, name: &[u8], value: &[u8]) -> Option<u64> {
        let abs = *self.by_field.get(&hash)?;
        self.table
            .get(abs)
            .is_some_and(|e| bytes_eq(&e.value, value) && bytes_eq(&e.name, name))
            .then_some(abs)
    }

    /// The newest entry with this name.
    fn find_name(&self, hash: u64, name: &[u8]) -> Option<u64> {
        let abs = *self.by_name.get(&hash)?;
        self.table
            .get(abs)
            .is_some_and(|e| bytes_eq(&e.name, name))
            .then_some(abs)
    }

    /// Entries below this absolute index may be evicted (acknowledged and unreferenced).
    fn evictable_below(&self, section_min_ref: Option<u64>) -> u64 {
        let mut limit = self.known_received;
        if let Some((&min, _)) = self.pinned.first_key_value() {
            limit = limit.min(min);
        }
        if let Some(min) = section_min_ref {
            limit = limit.min(min);
        }
        limit
    }

    /// Inserts an entry, keeping the lookup maps in step with evictions. The caller has
    /// checked `can_insert`. Returns the new entry's absolute index.
    fn insert(
        &mut self,
        name: &[u8],
        value: &[u8],
        key: FieldKey,
        name_bytes: Option<Bytes>,
    ) -> Option<u64> {
        let size = entry_size(name.len(), value.len());
        let survivor = self.table.first_surviving_after_insert(size);
        for abs in self.table.first_index()..survivor {
            if let Some(meta) = self.meta.pop_front() {
                remove_index(&mut self.by_field, meta.key.field, abs);
                remove_index(&mut self.by_name, meta.key.name, abs);
            }
        }
        let name = name_bytes.unwrap_or_else(|| Bytes::copy_from_slice(name));
        let abs = self
            .table
            .insert(name, Bytes::copy_from_slice(value))
            .ok()?;
        self.meta.push_back(EntryMeta {
            inserted_before: self.inserted_total,
            key,
        });
        self.inserted_total += size;
        self.by_field.insert(key.field, abs);
        self.by_name.insert(key.name, abs);
        Some(abs)
    }

    /// Encodes a field section for `stream_id`: encoder instructions go to
    /// `encoder_stream`, the section to `section`.
    pub fn encode(
        &mut self,
        stream_id: u64,
        fields: &[(&[u8], &[u8])],
        encoder_stream: &mut Vec<u8>,
        section: &mut Vec<u8>,
    ) {
        let mut in_progress = SectionInProgress::new(stream_id, self.table.insert_count());
        // Each field's lookups, done once (the dynamic table's hold until an insertion).
        let mut probes = std::mem::take(&mut self.probes);
        probes.clear();
        let dynamic = self.table.capacity() > 0;
        probes.extend(fields.iter().map(|&(name, value)| {
            let static_match = static_table::find(name, value);
            let key = (dynamic && !matches!(static_match, Some(Match::Exact(_))))
                .then(|| FieldKey::of(name, value));
            FieldProbe {
                static_match,
                key,
                exact: key.and_then(|key| self.find_exact(key.field, name, value)),
                hold_back: false,
            }
        }));
        self.plan_insertions_into_full_table(fields, &mut probes);
        if self.blocking_budget_not_worth_it(stream_id, fields, &probes) {
            in_progress.may_block = Some(false);
        }
        // One line per field; written once the Base is known.
        let mut lines = std::mem::take(&mut self.lines);
        lines.clear();
        for (&probe, &(name, value)) in probes.iter().zip(fields) {
            let representation = self.choose_representation(name, value, probe, &mut in_progress);
            let inserted = representation.insertion.and_then(|insertion| {
                // An insertion is chosen only with a dynamic table, hence a key.
                let key = probe.key?;
                self.write_insertion(insertion, name, value, key, encoder_stream)
            });
            let line = representation.line.with_inserted(inserted);
            if let Some(abs) = line.dynamic_entry() {
                in_progress.note_ref(abs);
            }
            lines.push(line);
        }
        let required_insert_count = in_progress.required_insert_count();
        let base = required_insert_count;
        field_lines::write_prefix(section, required_insert_count, base, self.max_entries);
        for (&line, &(name, value)) in lines.iter().zip(fields) {
            write_field_line(section, line, base, name, value);
        }
        self.lines = lines;
        self.probes = probes;
        if required_insert_count > 0 {
            self.track_unacknowledged(stream_id, required_insert_count, in_progress.min_ref);
        }
    }

    /// Writes the encoder-stream instruction for `insertion` (of the field `name: value`)
    /// and applies it to the table; returns the new entry's absolute index. The
    /// representation's decision checked that the entry fits, evicting only what may go.
    fn write_insertion(
        &mut self,
        insertion: Insertion,
        name: &[u8],
        value: &[u8],
        key: FieldKey,
        encoder_stream: &mut Vec<u8>,
    ) -> Option<u64> {
        match insertion {
            Insertion::Duplicate { abs } => {
                let entry = self.table.get(abs)?;
                let (name, value) = (entry.name.clone(), entry.value.clone());
                let key = self
                    .meta
                    .get((abs - self.table.first_index()) as usize)?
                    .key;
                instruction::write_duplicate(encoder_stream, self.table.insert_count() - 1 - abs);
                self.insert(&name, &value, key, Some(name.clone()))
            }
            Insertion::WithStaticNameRef { index } => {
                instruction::write_insert_with_name_ref(encoder_stream, true, index, value);
                let static_name = static_table::get(index).map(|(n, _)| Bytes::from_static(n));
                self.insert(name, value, key, static_name)
            }
            Insertion::WithDynamicNameRef { abs } => {
                let relative = self.table.insert_count() - 1 - abs;
                instruction::write_insert_with_name_ref(encoder_stream, false, relative, value);
                let entry_name = self.table.get(abs).map(|e| e.name.clone());
                self.insert(name, value, key, entry_name)
            }
            Insertion::WithLiteralName => {
                instruction::write_insert_with_literal_name(encoder_stream, name, value);
                self.insert(name, value, key, None)
            }
            Insertion::NameAnchor => {
                instruction::write_insert_with_literal_name(encoder_stream, name, b"");
                self.insert(name, b"", key.with_value(b""), None)
            }
        }
    }
}

/// Writes a field line of a section whose Base is `base`.
fn write_field_line(section: &mut Vec<u8>, line: Line<u64>, base: u64, name: &[u8], value: &[u8]) {
    match line {
        Line::IndexedStatic { index } => field_lines::write_indexed(section, true, index),
        Line::IndexedDynamic { entry: abs } => {
            field_lines::write_indexed(section, false, base - 1 - abs)
        }
        Line::LiteralStaticName { never_index, index } => {
            field_lines::write_literal_name_ref(section, never_index, true, index, value)
        }
        Line::LiteralDynamicName {
            never_index,
            entry: abs,
        } => {
            field_lines::write_literal_name_ref(section, never_index, false, base - 1 - abs, value)
        }
        Line::LiteralName { never_index } => {
            field_lines::write_literal(section, never_index, name, value)
        }
    }
}

/// Forgets the evicted entry `abs` under `hash`, unless a newer entry took its place.
fn remove_index(map: &mut HashMap<u64, u64, KeyHashBuilder>, hash: u64, abs: u64) {
    if map.get(&hash) == Some(&abs) {
        map.remove(&hash);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Decoded, Decoder};
    use super::*;

    /// Encodes `fields` on `stream`: (encoder-stream bytes, section).
    pub(super) fn encode(
        e: &mut Encoder,
        stream: u64,
        fields: &[(&str, &str)],
    ) -> (Vec<u8>, Vec<u8>) {
        let pairs: Vec<(&[u8], &[u8])> = fields
            .iter()
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
            .collect();
        let (mut es, mut section) = (Vec::new(), Vec::new());
        e.encode(stream, &pairs, &mut es, &mut section);
        (es, section)
    }

    #[test]
    fn without_settings_only_static_table_and_literals() {
        let mut e = Encoder::new();
        let (es, section) = encode(
            &mut e,
            0,
            &[(":method", "GET"), (":path", "/x"), ("x-a", "b")],
        );
        assert!(es.is_empty());
        // Prefix 0000, indexed static 17, literal with static name 1, literal name.
        assert_eq!(&section[..3], &[0x00, 0x00, 0xd1]);
        let mut d = Decoder::new(0, 0);
        let Decoded::Headers(h) = d.decode(0, &section).unwrap() else {
            panic!()
        };
        assert_eq!(h.len(), 3);
        assert_eq!(h[2].name, "x-a");
    }

    #[test]
    fn sensitive_fields_carry_the_never_index_bit_and_are_not_inserted() {
        let mut e = Encoder::new();
        let mut es = Vec::new();
        e.apply_settings(4096, 100, &mut es);
        for stream in 0..4 {
            let (es, section) = encode(
                &mut e,
                stream * 4,
                &[("authorization", "secret"), ("cookie", "a=b")],
            );
            assert!(es.is_empty(), "never inserted");
            // 0x7 = 0111: literal with name reference, N=1, T=1.
            assert_eq!(section[2] & 0xf0, 0x70);
            let (v, _) = field_lines::parse_line(&section[2..], 100).unwrap();
            assert!(matches!(
                v,
                field_lines::FieldLine::LiteralNameRef {
                    never_index: true,
                    ..
                }
            ));
        }
        assert!(is_sensitive(b"proxy-authorization", b"x"));
        assert!(!is_sensitive(b"cookie", b"a-long-cookie-value-of-30-bytes"));
        // The shortcut through the static match agrees with the rule by name.
        let long = "v".repeat(25);
        for name in [
            "authorization",
            "proxy-authorization",
            "cookie",
            "set-cookie",
            "content-type",
            "x-custom",
            "cookies",
        ] {
            for value in ["", "a=b", long.as_str()] {
                let (name, value) = (name.as_bytes(), value.as_bytes());
                assert_eq!(
                    representation::is_sensitive_matched(
                        name,
                        value,
                        static_table::find(name, value)
                    ),
                    is_sensitive(name, value),
                    "{name:?} {value:?}"
                );
            }
        }
    }

    #[test]
    fn repeated_fields_are_inserted_and_referenced() {
        let mut e = Encoder::new();
        let mut d = Decoder::new(4096, 100);
        let mut es = Vec::new();
        e.apply_settings(4096, 100, &mut es);
        assert_eq!(es, [0x3f, 0xe1, 0x1f]);
        d.feed_encoder(&es).unwrap();
        let list = [(":authority", "example.com"), ("x-custom", "value")];
        let mut sizes = Vec::new();
        for stream in 0..4u64 {
            let (es, section) = encode(&mut e, stream * 4, &list);
            d.feed_encoder(&es).unwrap();
            let Decoded::Headers(h) = d.decode(stream * 4, &section).unwrap() else {
                panic!()
            };
            assert_eq!(h[0].value, "example.com");
            sizes.push(section.len());
            let mut ds = Vec::new();
            d.take_decoder_stream_data(&mut ds);
            e.feed_decoder(&ds).unwrap();
        }
        assert!(
            sizes[3] <= 4,
            "two indexed references and a prefix: {sizes:?}"
        );
        assert_eq!(e.known_received_count(), e.insert_count());
        assert_eq!(e.blocking_streams(), 0);
    }

    #[test]
    fn blocked_stream_budget_is_respected() {
        let mut e = Encoder::new();
        let mut es = Vec::new();
        e.apply_settings(4096, 1, &mut es);
        let list = [("x-a", "1"), ("x-b", "2")];
        encode(&mut e, 0, &list); // first sighting: literals
        let (es1, s1) = encode(&mut e, 4, &list); // second: inserted, blocks stream 4
        assert!(!es1.is_empty());
        assert_ne!(s1[0], 0, "references the new entries");
        assert_eq!(e.blocking_streams(), 1);
        let (_, s2) = encode(&mut e, 8, &list); // budget exhausted: no unacknowledged refs
        assert_eq!(s2[0], 0, "Required Insert Count 0");
        let (_, s3) = encode(&mut e, 4, &list); // stream 4 already blocks: may reference
        assert_ne!(s3[0], 0);
        assert_eq!(e.blocking_streams(), 1);
        // Zero blocked streams: never reference unacknowledged entries.
        let mut e = Encoder::new();
        e.apply_settings(4096, 0, &mut es);
        for stream in 0..3 {
            let (_, s) = encode(&mut e, stream * 4, &list);
            assert_eq!(s[0], 0);
        }
        e.acknowledge_inserts();
        let (_, s) = encode(&mut e, 12, &list);
        assert_ne!(s[0], 0, "acknowledged entries are usable");
    }

    #[test]
    fn a_table_that_cannot_evict_gets_the_largest_repeats_first() {
        let small = "s".repeat(60); // entry of 99 bytes
        let big = "b".repeat(100); // entry of 137 bytes
        let list = [("x-small", small.as_str()), ("x-big", big.as_str())];
        // 200 bytes, never acknowledged: the free space is all there is, and both entries
        // do not fit; the larger saving goes in, whatever the field order.
        let mut e = Encoder::new();
        e.apply_settings(200, 100, &mut Vec::new());
        encode(&mut e, 0, &list);
        let (es, _) = encode(&mut e, 4, &list);
        assert!(!es.is_empty());
        assert_eq!(e.insert_count(), 1);
        assert_eq!(
            e.table.get(0).map(|entry| entry.name.clone()),
            Some(Bytes::from("x-big"))
        );
        // With room for both, both go in, in field order.
        let mut e = Encoder::new();
        e.apply_settings(400, 100, &mut Vec::new());
        encode(&mut e, 0, &list);
        encode(&mut e, 4, &list);
        assert_eq!(e.insert_count(), 2);
        assert_eq!(
            e.table.get(0).map(|entry| entry.name.clone()),
            Some(Bytes::from("x-small"))
        );
    }

    #[test]
    fn the_blocking_count_kept_up_to_date_equals_a_recount() {
        let mut e = Encoder::new();
        e.apply_settings(4096, 3, &mut Vec::new());
        let recount = |e: &Encoder| {
            // Counted afresh over the outstanding sections, not the cached count.
            e.outstanding.count_blocking(e.known_received)
        };
        for i in 0..40u64 {
            let value = format!("v{}", i % 5);
            let list = [("x-a", value.as_str()), ("x-b", "fixed")];
            // Streams reused (headers, then trailers), some acknowledged, one cancelled.
            encode(&mut e, 4 * (i % 7), &list);
            assert_eq!(e.blocking_streams(), recount(&e), "after section {i}");
            if i % 3 == 0 && e.outstanding.has(4 * (i % 7)) {
                e.acknowledge_section(4 * (i % 7)).unwrap();
            }
            if i == 20 {
                e.stream_cancelled(8);
            }
            assert_eq!(
                e.blocking_streams(),
                recount(&e),
                "after section {i}'s feedback"
            );
        }
    }

    #[test]
    fn referenced_entries_are_never_evicted() {
        // Room for two 40-byte entries.
        let mut e = Encoder::new();
        let mut d = Decoder::new(100, 100);
        let mut es = Vec::new();
        e.apply_settings(100, 100, &mut es);
        d.feed_encoder(&es).unwrap();
        let mut blocked_sections = Vec::new();
        for i in 0..20u64 {
            let v = format!("{}", i % 3);
            let list = [("x-key", v.as_str())];
            let (es, section) = encode(&mut e, i * 4, &list);
            // Sections stay unacknowledged; every one must still decode afterwards.
            blocked_sections.push((i * 4, section, es));
        }
        for (stream, section, es) in &blocked_sections {
            d.feed_encoder(es).unwrap();
            match d.decode(*stream, section).unwrap() {
                Decoded::Headers(h) => assert_eq!(h[0].name, "x-key"),
                Decoded::Blocked => panic!("stream {stream} blocked after its inserts"),
            }
        }
    }
}
