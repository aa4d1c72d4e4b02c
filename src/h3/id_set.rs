//! [`IdSet`]: a set of ids kept as sorted ranges, for push ids, which arrive nearly in
//! order: a connection that saw pushes 0 to 999 holds one range, not a thousand entries.

/// A set of `u64` ids stored as sorted, disjoint, non-adjacent `[start, end)` ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct IdSet {
    ranges: Vec<(u64, u64)>,
}

impl IdSet {
    /// True when `id` is in the set.
    pub(crate) fn contains(&self, id: u64) -> bool {
        let i = self.ranges.partition_point(|&(_, end)| end <= id);
        self.ranges.get(i).is_some_and(|&(start, _)| start <= id)
    }

    /// Adds `id`; false when it was there already.
    pub(crate) fn insert(&mut self, id: u64) -> bool {
        let i = self.ranges.partition_point(|&(_, end)| end < id);
        // Ranges from `i` on end at or after `id`; the one before ends before it.
        match self.ranges.get(i).copied() {
            Some((start, _)) if start <= id && id < self.ranges[i].1 => return false,
            Some((start, end)) if end == id => {
                // Extends range i at its end; it may now touch range i + 1.
                self.ranges[i] = (start, id + 1);
                if let Some(&(next_start, next_end)) = self.ranges.get(i + 1)
                    && next_start == id + 1
                {
                    self.ranges[i] = (start, next_end);
                    self.ranges.remove(i + 1);
                }
            }
            Some((start, end)) if start == id + 1 => self.ranges[i] = (id, end),
            _ => self.ranges.insert(i, (id, id + 1)),
        }
        true
    }

    /// The largest id in the set.
    pub(crate) fn last(&self) -> Option<u64> {
        self.ranges.last().map(|&(_, end)| end - 1)
    }

    /// How many ranges the set holds (its memory is proportional to this).
    #[cfg(test)]
    pub(crate) fn range_count(&self) -> usize {
        self.ranges.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn sequential_ids_stay_one_range() {
        let mut set = IdSet::default();
        for id in 0..1000 {
            assert!(!set.contains(id));
            assert!(set.insert(id));
            assert!(!set.insert(id), "{id} again");
        }
        assert_eq!(set.range_count(), 1);
        assert!(set.contains(999) && !set.contains(1000));
    }

    #[test]
    fn matches_a_plain_set_in_any_order() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % 64
        };
        let mut set = IdSet::default();
        let mut model = BTreeSet::new();
        for _ in 0..5000 {
            let id = next();
            assert_eq!(set.insert(id), model.insert(id), "insert {id}");
            for probe in 0..66 {
                assert_eq!(set.contains(probe), model.contains(&probe), "probe {probe}");
            }
        }
        assert_eq!(set.range_count(), 1, "all of 0..64 seen: one range");
        assert!(set.insert(u64::MAX - 1));
        assert!(set.contains(u64::MAX - 1) && !set.contains(u64::MAX));
    }
}
