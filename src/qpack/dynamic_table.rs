//! The QPACK dynamic table (RFC 9204 §3.2): a FIFO of entries bounded by a capacity in
//! bytes (each entry costs name + value + 32), addressed by absolute index (0 for the
//! first entry ever inserted), by encoder-stream relative index (0 for the newest), and in
//! field sections relative to a Base (before it) or post-base (from it onwards).
//!
//! Entries hold `bytes::Bytes`, so decoded fields share the table's memory.

use std::collections::VecDeque;

use bytes::Bytes;

/// The per-entry overhead RFC 9204 §3.2.1 adds to name and value lengths.
pub const ENTRY_OVERHEAD: u64 = 32;

/// One entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The field name.
    pub name: Bytes,
    /// The field value.
    pub value: Bytes,
}

impl Entry {
    /// The size charged against the capacity.
    pub fn size(&self) -> u64 {
        entry_size(self.name.len(), self.value.len())
    }
}

/// The size of an entry with these name and value lengths.
pub fn entry_size(name_len: usize, value_len: usize) -> u64 {
    name_len as u64 + value_len as u64 + ENTRY_OVERHEAD
}

/// Why a table operation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TableError {
    /// Set capacity above the maximum.
    CapacityExceedsMaximum,
    /// An entry larger than the capacity.
    EntryTooLarge,
}

/// The dynamic table.
#[derive(Debug, Default)]
pub struct DynamicTable {
    /// Oldest first; `entries[0]` has absolute index `evicted`.
    entries: VecDeque<Entry>,
    /// How many entries have been evicted (the absolute index of the oldest entry).
    evicted: u64,
    /// The sum of entry sizes.
    size: u64,
    /// The current capacity.
    capacity: u64,
    /// The largest capacity that may be set.
    max_capacity: u64,
}

impl DynamicTable {
    /// An empty table with capacity 0 that may grow to `max_capacity`.
    pub fn new(max_capacity: u64) -> Self {
        DynamicTable {
            max_capacity,
            ..DynamicTable::default()
        }
    }

    /// The maximum capacity.
    pub fn max_capacity(&self) -> u64 {
        self.max_capacity
    }

    /// The current capacity.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// The bytes in use.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The total number of insertions ever made (the next absolute index).
    pub fn insert_count(&self) -> u64 {
        self.evicted + self.entries.len() as u64
    }

    /// The absolute index of the oldest entry still present.
    pub fn first_index(&self) -> u64 {
        self.evicted
    }

    /// Sets the capacity, evicting entries that no longer fit.
    pub fn set_capacity(&mut self, capacity: u64) -> Result<(), TableError> {
        if capacity > self.max_capacity {
            return Err(TableError::CapacityExceedsMaximum);
        }
        self.capacity = capacity;
        self.evict_to(capacity);
        Ok(())
    }

    /// Inserts an entry, evicting the oldest entries as needed.
    pub fn insert(&mut self, name: Bytes, value: Bytes) -> Result<u64, TableError> {
        let size = entry_size(name.len(), value.len());
        if size > self.capacity {
            return Err(TableError::EntryTooLarge);
        }
        self.evict_to(self.capacity - size);
        self.entries.push_back(Entry { name, value });
        self.size += size;
        Ok(self.insert_count() - 1)
    }

    fn evict_to(&mut self, target: u64) {
        while self.size > target {
            let Some(old) = self.entries.pop_front() else {
                break;
            };
            self.size -= old.size();
            self.evicted += 1;
        }
    }

    /// The entry with this absolute index, if present.
    pub fn get(&self, absolute: u64) -> Option<&Entry> {
        let offset = absolute.checked_sub(self.evicted)?;
        self.entries.get(usize::try_from(offset).ok()?)
    }

    /// Absolute index for an encoder-stream relative index (0 = newest).
    pub fn absolute_from_relative(&self, relative: u64) -> Option<u64> {
        self.insert_count().checked_sub(relative.checked_add(1)?)
    }

    /// Whether inserting an entry of `size` bytes would need to evict only entries with
    /// absolute index below `evictable_below` (and fits the capacity at all).
    pub fn can_insert(&self, size: u64, evictable_below: u64) -> bool {
        if size > self.capacity {
            return false;
        }
        let mut free = self.capacity - self.size;
        let mut index = self.evicted;
        let mut iter = self.entries.iter();
        while free < size {
            let Some(entry) = iter.next() else {
                return false;
            };
            if index >= evictable_below {
                return false;
            }
            free += entry.size();
            index += 1;
        }
        true
    }

    /// The absolute index of the oldest entry that survives inserting `size` bytes
    /// (entries below it would be evicted); `insert_count()` if all would go.
    pub fn first_surviving_after_insert(&self, size: u64) -> u64 {
        let mut free = self.capacity.saturating_sub(self.size);
        let mut index = self.evicted;
        let mut iter = self.entries.iter();
        while free < size {
            let Some(entry) = iter.next() else {
                break;
            };
            free += entry.size();
            index += 1;
        }
        index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn capacity_is_bounded_by_the_maximum() {
        let mut t = DynamicTable::new(100);
        assert_eq!(t.set_capacity(101), Err(TableError::CapacityExceedsMaximum));
        assert_eq!(t.set_capacity(100), Ok(()));
        assert_eq!(t.capacity(), 100);
    }

    #[test]
    fn insertion_evicts_oldest_first_and_indices_stay_absolute() {
        let mut t = DynamicTable::new(200);
        t.set_capacity(100).unwrap();
        assert_eq!(t.insert(b("a"), b("1")), Ok(0)); // 34
        assert_eq!(t.insert(b("b"), b("2")), Ok(1)); // 68
        assert_eq!(t.size(), 68);
        assert_eq!(t.insert(b("c"), b("3")), Ok(2)); // evicts a
        assert_eq!(t.first_index(), 1);
        assert_eq!(t.insert_count(), 3);
        assert!(t.get(0).is_none());
        assert_eq!(t.get(1).unwrap().name, "b");
        assert_eq!(t.get(2).unwrap().value, "3");
        assert!(t.get(3).is_none());
        assert_eq!(t.absolute_from_relative(0), Some(2));
        assert_eq!(t.absolute_from_relative(1), Some(1));
        assert_eq!(t.absolute_from_relative(3), None);
        assert_eq!(t.absolute_from_relative(u64::MAX), None);
    }

    #[test]
    fn too_large_entries_are_rejected_and_capacity_shrink_evicts() {
        let mut t = DynamicTable::new(100);
        t.set_capacity(50).unwrap();
        assert_eq!(
            t.insert(b("name"), b("a value too long here")),
            Err(TableError::EntryTooLarge)
        );
        t.insert(b("x"), b("y")).unwrap();
        t.set_capacity(33).unwrap();
        assert_eq!(t.first_index(), t.insert_count());
        assert_eq!(t.size(), 0);
        assert_eq!(t.insert_count(), 1);
        // An entry exactly the capacity fits.
        t.set_capacity(34).unwrap();
        assert_eq!(t.insert(b("x"), b("y")), Ok(1));
    }

    #[test]
    fn can_insert_respects_the_eviction_limit() {
        let mut t = DynamicTable::new(100);
        t.set_capacity(100).unwrap();
        t.insert(b("a"), b("1")).unwrap();
        t.insert(b("b"), b("2")).unwrap();
        assert!(t.can_insert(32, 0));
        assert!(!t.can_insert(34, 0));
        assert!(t.can_insert(34, 1));
        assert!(!t.can_insert(70, 1));
        assert!(t.can_insert(70, 2));
        assert!(!t.can_insert(101, 2));
        assert_eq!(t.first_surviving_after_insert(34), 1);
    }
}
