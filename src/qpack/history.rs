//! A sliding window of recently seen hashes (of fields or names, from `hash_bytes`) with their counts: the
//! encoder's memory of what is likely to repeat.

use std::collections::{HashMap, VecDeque};

use super::hash::KeyHashBuilder;

/// The last `window` hashes recorded, and how often each occurs among them.
#[derive(Debug)]
pub struct History {
    ring: VecDeque<u64>,
    counts: HashMap<u64, u32, KeyHashBuilder>,
    window: usize,
}

impl History {
    /// An empty history remembering `window` hashes.
    pub fn new(window: usize) -> Self {
        History {
            ring: VecDeque::with_capacity(window + 1),
            counts: HashMap::default(),
            window,
        }
    }

    /// Records `hash`; returns how often it occurred in the window before this.
    pub fn record(&mut self, hash: u64) -> u32 {
        let count = self.counts.entry(hash).or_insert(0);
        let before = *count;
        *count += 1;
        self.ring.push_back(hash);
        if self.ring.len() > self.window {
            let old = self.ring.pop_front().unwrap_or_default();
            if let Some(c) = self.counts.get_mut(&old) {
                *c -= 1;
                if *c == 0 {
                    self.counts.remove(&old);
                }
            }
        }
        before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_within_the_window() {
        let mut h = History::new(3);
        assert_eq!(h.record(1), 0);
        assert_eq!(h.record(1), 1);
        assert_eq!(h.record(2), 0);
        assert_eq!(h.record(3), 0); // the first 1 leaves the window
        assert_eq!(h.record(1), 1);
        assert_eq!(h.record(4), 0);
        assert_eq!(h.record(5), 0);
        assert_eq!(h.record(6), 0);
        assert_eq!(h.record(1), 0);
        assert_eq!(h.counts.len(), 3);
    }
}

/// When each recently seen hash was last seen, in records: how far back a repeat was.
#[derive(Debug)]
pub struct Recency {
    last: HashMap<u64, u64, KeyHashBuilder>,
    now: u64,
    horizon: u64,
}

impl Recency {
    /// Remembers sightings up to `horizon` records back.
    pub fn new(horizon: u64) -> Self {
        Recency {
            last: HashMap::default(),
            now: 0,
            horizon: horizon.max(1),
        }
    }

    /// Whether `hash` would be found at most `window` records back if recorded now.
    pub fn seen_within(&self, hash: u64, window: u64) -> bool {
        self.last
            .get(&hash)
            .is_some_and(|&then| self.now + 1 - then <= window.min(self.horizon))
    }

    /// Records `hash`; returns how many records ago it was last seen, if within the horizon.
    pub fn record(&mut self, hash: u64) -> Option<u64> {
        self.now += 1;
        let gap = self
            .last
            .insert(hash, self.now)
            .map(|then| self.now - then)
            .filter(|&g| g <= self.horizon);
        if self.now % self.horizon == 0 {
            let (now, horizon) = (self.now, self.horizon);
            self.last.retain(|_, &mut then| now - then <= horizon);
        }
        gap
    }
}
