//! The encoder's policy: how each field line is represented (the strategy in the
//! [`encoder`](super) documentation), decided before anything is written.
//!
//! [`Encoder::choose_representation`] looks at the tables and the encoder's history and
//! returns a [`Representation`]; writing it (the encoder-stream instruction, then the
//! field line once the section's Base is known) is the encoder's job. Huffman coding is
//! not decided here: every string literal is written in whichever form is shorter.

use super::{Encoder, FieldKey, FieldProbe, SectionInProgress};
use crate::qpack::dynamic_table::entry_size;
use crate::qpack::static_table::Match;

/// A field is inserted when it repeats within this many fields, plus a quarter of its
/// length in bytes (a longer literal is worth remembering longer). Tuned on the QPACK
/// interop corpus at a 4096-byte table.
const REPEAT_WINDOW_BASE: u64 = 16;

/// An entry is draining (duplicated when referenced) once fewer than 1/6 of the capacity's
/// bytes (free space plus older entries) stand between it and eviction. Tuned on the
/// corpus, like the windows here.
const DRAINING_FRACTION: u64 = 6;

/// A field is worth inserting if seen within this many fields: "recently" stretches with
/// the size of the literal it would save.
pub(super) fn repeat_window(name: &[u8], value: &[u8]) -> u64 {
    REPEAT_WINDOW_BASE + (name.len() + value.len()) as u64 / 4
}

/// Whether a field must never be indexed (N bit set, never inserted): the rule by name,
/// which the encoder applies through [`is_sensitive_matched`].
#[cfg(test)]
pub(crate) fn is_sensitive(name: &[u8], value: &[u8]) -> bool {
    match name {
        b"authorization" | b"proxy-authorization" => true,
        b"cookie" | b"set-cookie" => value.len() < 20,
        _ => false,
    }
}

/// Static table entries of the sensitive names (RFC 9204 Appendix A).
const STATIC_COOKIE: u64 = 5;
const STATIC_SET_COOKIE: u64 = 14;
const STATIC_AUTHORIZATION: u64 = 84;

/// `is_sensitive` (the rule by name, which tests keep) for a field whose static table
/// match is known: the sensitive names other than `proxy-authorization` are in the static
/// table, so the match says which name it is without comparing it again.
pub(super) fn is_sensitive_matched(name: &[u8], value: &[u8], static_match: Option<Match>) -> bool {
    match static_match {
        Some(Match::Exact(index) | Match::Name(index)) => match index {
            STATIC_AUTHORIZATION => true,
            STATIC_COOKIE | STATIC_SET_COOKIE => value.len() < 20,
            _ => false,
        },
        None => name == b"proxy-authorization",
    }
}

/// How one field line is represented: an entry added to the dynamic table first, if any,
/// then the field line itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Representation {
    /// The encoder-stream instruction written before the field line.
    pub(super) insertion: Option<Insertion>,
    /// The field line; [`EntryRef::Inserted`] only when `insertion` is set.
    pub(super) line: Line<EntryRef>,
}

/// An entry the encoder adds to the dynamic table for a field, by encoder-stream
/// instruction. The name and value are the field's unless stated otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Insertion {
    /// Duplicate of the (draining) entry with this absolute index, which holds the field.
    Duplicate { abs: u64 },
    /// Insert With Name Reference to this static table entry.
    WithStaticNameRef { index: u64 },
    /// Insert With Name Reference to the dynamic table entry with this absolute index.
    WithDynamicNameRef { abs: u64 },
    /// Insert With Literal Name.
    WithLiteralName,
    /// Insert With Literal Name of the field's name and an empty value: an anchor that
    /// later literals with this name can reference.
    NameAnchor,
}

/// A dynamic table entry that a planned field line references.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum EntryRef {
    /// An entry already in the table, by absolute index.
    Existing(u64),
    /// The entry that the field's own [`Insertion`] adds.
    Inserted,
}

/// A field line of the section. `E` identifies a dynamic table entry: an [`EntryRef`]
/// while planned, an absolute index once its insertion is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Line<E> {
    /// Indexed Field Line referencing this static table entry.
    IndexedStatic { index: u64 },
    /// Indexed Field Line referencing a dynamic table entry.
    IndexedDynamic { entry: E },
    /// Literal Field Line With Name Reference to this static table entry.
    LiteralStaticName { never_index: bool, index: u64 },
    /// Literal Field Line With Name Reference to a dynamic table entry.
    LiteralDynamicName { never_index: bool, entry: E },
    /// Literal Field Line With Literal Name.
    LiteralName { never_index: bool },
}

impl<E> Line<E> {
    /// A literal naming the static table entry `static_name` when there is one.
    fn literal(never_index: bool, static_name: Option<u64>) -> Self {
        match static_name {
            Some(index) => Line::LiteralStaticName { never_index, index },
            None => Line::LiteralName { never_index },
        }
    }
}

impl<E: Copy> Line<E> {
    /// The dynamic table entry the line references, if any.
    pub(super) fn dynamic_entry(&self) -> Option<E> {
        match *self {
            Line::IndexedDynamic { entry } | Line::LiteralDynamicName { entry, .. } => Some(entry),
            _ => None,
        }
    }
}

impl Line<EntryRef> {
    /// The line with [`EntryRef::Inserted`] replaced by `inserted`, the absolute index the
    /// field's insertion got. The decision checked that the insertion fits, so it cannot
    /// fail; if it somehow did, the field is written as a literal with a literal name.
    pub(super) fn with_inserted(self, inserted: Option<u64>) -> Line<u64> {
        let resolve = |entry| match entry {
            EntryRef::Existing(abs) => Some(abs),
            EntryRef::Inserted => inserted,
        };
        match self {
            Line::IndexedStatic { index } => Line::IndexedStatic { index },
            Line::IndexedDynamic { entry } => match resolve(entry) {
                Some(abs) => Line::IndexedDynamic { entry: abs },
                None => Line::LiteralName { never_index: false },
            },
            Line::LiteralStaticName { never_index, index } => {
                Line::LiteralStaticName { never_index, index }
            }
            Line::LiteralDynamicName { never_index, entry } => match resolve(entry) {
                Some(abs) => Line::LiteralDynamicName {
                    never_index,
                    entry: abs,
                },
                None => Line::LiteralName { never_index },
            },
            Line::LiteralName { never_index } => Line::LiteralName { never_index },
        }
    }
}

impl Representation {
    /// A field line alone, with no insertion.
    fn line(line: Line<EntryRef>) -> Self {
        Representation {
            insertion: None,
            line,
        }
    }

    /// An insertion followed by `line`.
    fn after(insertion: Insertion, line: Line<EntryRef>) -> Self {
        Representation {
            insertion: Some(insertion),
            line,
        }
    }
}

impl Encoder {
    /// Decides how to represent the field `name: value` in `section`. Records the field
    /// (and, for a literal without a static name, its name) in the encoder's history;
    /// changes nothing else.
    pub(super) fn choose_representation(
        &mut self,
        name: &[u8],
        value: &[u8],
        probe: FieldProbe,
        section: &mut SectionInProgress,
    ) -> Representation {
        let never_index = is_sensitive_matched(name, value, probe.static_match);
        let static_name = match probe.static_match {
            Some(Match::Exact(index)) => {
                return Representation::line(Line::IndexedStatic { index });
            }
            Some(Match::Name(index)) => Some(index),
            None => None,
        };
        // (Keys are worked out when there is a dynamic table.)
        let Some(key) = probe.key.filter(|_| self.table.capacity() > 0) else {
            return Representation::line(Line::literal(never_index, static_name));
        };
        let mut in_table = false;
        if !never_index {
            let exact = if self.table.insert_count() == section.probed_at {
                probe.exact
            } else {
                self.find_exact(key.field, name, value)
            };
            if let Some(abs) = exact {
                in_table = true;
                if let Some(indexed) = self.choose_indexed_dynamic(abs, section) {
                    return indexed;
                }
            }
        }
        let window = repeat_window(name, value);
        let seen_recently = !never_index
            && self
                .fields_seen
                .record(key.field)
                .is_some_and(|gap| gap <= window);
        // (An entry the section may not reference yet is not inserted twice.)
        if seen_recently && !in_table && !probe.hold_back {
            if let Some(inserted) = self.choose_insertion(name, value, key, static_name, section) {
                return inserted;
            }
        }
        self.choose_literal(name, key, never_index, static_name, section)
    }

    /// For a field held by entry `abs`: an Indexed Field Line referencing it, or a
    /// Duplicate of it (the copy referenced instead) when it is about to be evicted and
    /// worth keeping. `None` when the section may not reference the entry.
    fn choose_indexed_dynamic(
        &self,
        abs: u64,
        section: &mut SectionInProgress,
    ) -> Option<Representation> {
        // A hot entry about to be evicted: duplicate it (the copy pins nothing).
        if self.is_draining(abs)
            && self.may_block(section)
            && self.can_duplicate(abs, self.evictable_below(section.min_ref))
        {
            return Some(Representation::after(
                Insertion::Duplicate { abs },
                Line::IndexedDynamic {
                    entry: EntryRef::Inserted,
                },
            ));
        }
        if abs < self.known_received || self.may_block(section) {
            return Some(Representation::line(Line::IndexedDynamic {
                entry: EntryRef::Existing(abs),
            }));
        }
        None
    }

    /// Inserts a recently seen field not in the table (naming it by reference when
    /// possible), then references it, or writes it as a literal if the section may not
    /// reference the new entry. `None` when inserting would evict an entry still needed
    /// or the field is too large.
    fn choose_insertion(
        &mut self,
        name: &[u8],
        value: &[u8],
        key: FieldKey,
        static_name: Option<u64>,
        section: &mut SectionInProgress,
    ) -> Option<Representation> {
        let size = entry_size(name.len(), value.len());
        if size > self.table.capacity() * 3 / 4
            || !self
                .table
                .can_insert(size, self.evictable_below(section.min_ref))
        {
            return None;
        }
        let name_hash = key.name;
        let insertion = match static_name {
            Some(index) => Insertion::WithStaticNameRef { index },
            None => match self.find_name(name_hash, name) {
                Some(abs) => Insertion::WithDynamicNameRef { abs },
                None => Insertion::WithLiteralName,
            },
        };
        if self.may_block(section) {
            let line = Line::IndexedDynamic {
                entry: EntryRef::Inserted,
            };
            return Some(Representation::after(insertion, line));
        }
        // The new entry, which the section may not reference, becomes the newest with this
        // name: a literal then has no usable dynamic name reference, and inserts no name
        // anchor (the name is in the table). The name still counts as seen. (A field
        // inserted is never sensitive.)
        if static_name.is_none() {
            self.names_seen.record(name_hash);
        }
        Some(Representation::after(
            insertion,
            Line::literal(false, static_name),
        ))
    }

    /// A literal, naming the field by static or dynamic reference when possible. A name
    /// without either that recurs is first inserted with an empty value, as an anchor for
    /// name references.
    fn choose_literal(
        &mut self,
        name: &[u8],
        key: FieldKey,
        never_index: bool,
        static_name: Option<u64>,
        section: &mut SectionInProgress,
    ) -> Representation {
        if static_name.is_some() {
            return Representation::line(Line::literal(never_index, static_name));
        }
        let name_hash = key.name;
        let usable_name_entry = self
            .find_name(name_hash, name)
            .filter(|&abs| abs < self.known_received || self.may_block(section));
        let times_name_seen = self.names_seen.record(name_hash);
        if let Some(abs) = usable_name_entry {
            return Representation::line(Line::LiteralDynamicName {
                never_index,
                entry: EntryRef::Existing(abs),
            });
        }
        if times_name_seen >= 1 && self.find_name(name_hash, name).is_none() {
            let anchor_size = entry_size(name.len(), 0);
            let limit = self.evictable_below(section.min_ref);
            if anchor_size <= self.table.capacity() / 8 && self.table.can_insert(anchor_size, limit)
            {
                let line = if self.may_block(section) {
                    Line::LiteralDynamicName {
                        never_index,
                        entry: EntryRef::Inserted,
                    }
                } else {
                    Line::LiteralName { never_index }
                };
                return Representation::after(Insertion::NameAnchor, line);
            }
        }
        Representation::line(Line::LiteralName { never_index })
    }

    /// Whether the entry is near the eviction end: little free space and few older bytes.
    fn is_draining(&self, abs: u64) -> bool {
        let first = self.table.first_index();
        let Some(before) = self
            .meta
            .get((abs - first) as usize)
            .map(|m| m.inserted_before)
        else {
            return false;
        };
        let older = before - self.meta.front().map_or(before, |m| m.inserted_before);
        let free = self.table.capacity() - self.table.size();
        (older + free) * DRAINING_FRACTION < self.table.capacity()
    }

    /// Whether entry `abs` can be duplicated evicting only entries below `limit` (the copy
    /// may evict the original: RFC 9204 §3.2.2 requires decoders to cope).
    fn can_duplicate(&self, abs: u64, limit: u64) -> bool {
        self.table
            .get(abs)
            .is_some_and(|entry| self.table.can_insert(entry.size(), limit))
    }
}
