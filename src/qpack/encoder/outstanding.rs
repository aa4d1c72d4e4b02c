//! The encoder's record of field sections that reference the dynamic table and that the
//! decoder has not acknowledged yet, per stream, oldest first.
//!
//! A stream usually carries one such section (a response's header section; trailers are
//! rare), so each stream's first section is kept inline in the map's entry: tracking a
//! section then costs no allocation of its own.

use std::collections::{HashMap, VecDeque};

use super::super::hash::FastHashBuilder;

/// An unacknowledged field section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Section {
    pub(super) required_insert_count: u64,
    /// The smallest absolute index it references, if any.
    pub(super) min_ref: Option<u64>,
}

/// One stream's unacknowledged sections, oldest first; never empty (a stream whose last
/// section goes leaves the map).
#[derive(Debug)]
struct StreamSections {
    oldest: Section,
    later: VecDeque<Section>,
}

impl StreamSections {
    fn iter(&self) -> impl Iterator<Item = &Section> {
        std::iter::once(&self.oldest).chain(self.later.iter())
    }

    /// Whether the decoder may be blocked on one of these sections.
    fn blocks(&self, known_received: u64) -> bool {
        self.iter()
            .any(|s| s.required_insert_count > known_received)
    }
}

/// Unacknowledged sections of every stream.
#[derive(Debug, Default)]
pub(super) struct Outstanding {
    streams: HashMap<u64, StreamSections, FastHashBuilder>,
}

impl Outstanding {
    /// Records `section` as the newest unacknowledged section of `stream_id`.
    pub(super) fn track(&mut self, stream_id: u64, section: Section) {
        match self.streams.get_mut(&stream_id) {
            Some(sections) => sections.later.push_back(section),
            None => {
                self.streams.insert(
                    stream_id,
                    StreamSections {
                        oldest: section,
                        later: VecDeque::new(),
                    },
                );
            }
        }
    }

    /// Whether `stream_id` has an unacknowledged section at all.
    pub(super) fn has(&self, stream_id: u64) -> bool {
        self.streams.contains_key(&stream_id)
    }

    /// Whether the decoder may be blocked on one of `stream_id`'s sections.
    pub(super) fn blocks(&self, stream_id: u64, known_received: u64) -> bool {
        self.streams
            .get(&stream_id)
            .is_some_and(|s| s.blocks(known_received))
    }

    /// How many streams have a section the decoder may be blocked on.
    pub(super) fn count_blocking(&self, known_received: u64) -> usize {
        self.streams
            .values()
            .filter(|s| s.blocks(known_received))
            .count()
    }

    /// Removes and returns the oldest unacknowledged section of `stream_id` (the one a
    /// Section Acknowledgement is about), if it has one.
    pub(super) fn take_oldest(&mut self, stream_id: u64) -> Option<Section> {
        let sections = self.streams.get_mut(&stream_id)?;
        match sections.later.pop_front() {
            Some(next) => Some(std::mem::replace(&mut sections.oldest, next)),
            None => self.streams.remove(&stream_id).map(|s| s.oldest),
        }
    }

    /// Removes every unacknowledged section of `stream_id`, oldest first.
    pub(super) fn take_all(&mut self, stream_id: u64) -> Vec<Section> {
        self.streams
            .remove(&stream_id)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// How many unacknowledged sections `stream_id` has.
    #[cfg(test)]
    pub(super) fn count(&self, stream_id: u64) -> usize {
        self.streams.get(&stream_id).map_or(0, |s| s.iter().count())
    }

    /// Whether no stream has an unacknowledged section.
    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(ric: u64) -> Section {
        Section {
            required_insert_count: ric,
            min_ref: ric.checked_sub(1),
        }
    }

    #[test]
    fn sections_come_back_oldest_first_and_the_stream_leaves_with_its_last() {
        let mut o = Outstanding::default();
        o.track(4, section(1));
        o.track(4, section(3));
        o.track(4, section(2));
        o.track(8, section(5));
        assert_eq!(o.count(4), 3);
        assert_eq!(o.take_oldest(4), Some(section(1)));
        assert_eq!(o.take_oldest(4), Some(section(3)));
        assert!(o.has(4));
        assert_eq!(o.take_oldest(4), Some(section(2)));
        assert!(!o.has(4));
        assert_eq!(o.take_oldest(4), None);
        o.track(4, section(6));
        assert_eq!(o.take_oldest(4), Some(section(6)));
        assert_eq!(o.take_all(8), vec![section(5)]);
        assert_eq!(o.take_all(8), vec![]);
        assert!(o.is_empty());
    }

    #[test]
    fn blocking_is_any_section_beyond_the_known_received_count() {
        let mut o = Outstanding::default();
        o.track(0, section(2));
        o.track(0, section(5));
        o.track(4, section(3));
        assert!(o.blocks(0, 4));
        assert!(!o.blocks(4, 4));
        assert!(!o.blocks(12, 0));
        assert_eq!(o.count_blocking(2), 2);
        assert_eq!(o.count_blocking(4), 1);
        assert_eq!(o.count_blocking(5), 0);
        assert_eq!(o.take_all(0), vec![section(2), section(5)]);
        assert_eq!(o.count_blocking(0), 1);
    }
}
