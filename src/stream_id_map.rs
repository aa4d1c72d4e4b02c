//! Maps and sets keyed by QUIC stream id, with a hash made for such keys.
//!
//! The standard library's keyed SipHash was 3 % of a server's CPU on small requests
//! (hashing and probing the per-stream maps of both layers a few times per request). A
//! stream id needs far less: one 64 × 64 → 128-bit multiply by a fixed odd constant, the
//! two halves folded together, so that every bit of the id reaches the low bits hashbrown
//! picks the bucket with (ids step by 4, so the low bits of the id alone would use a
//! quarter of the buckets) and the high bits it keeps as a tag.
//!
//! A fixed hash is safe here because a peer cannot pick colliding keys: the ids it opens
//! are consecutive (opening stream N opens every lower one of its type, RFC 9000 §3.2)
//! and its stream credit bounds how many are live at once, so the live keys are a short
//! run of consecutive ids, which this hash spreads evenly. The ids of our own streams are
//! consecutive too.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A map from stream id to `V`.
pub(crate) type StreamIdMap<V> = HashMap<u64, V, BuildHasherDefault<StreamIdHasher>>;

/// A set of stream ids.
pub(crate) type StreamIdSet = HashSet<u64, BuildHasherDefault<StreamIdHasher>>;

/// The hasher of [`StreamIdMap`] and [`StreamIdSet`]: meant for one `u64` key.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct StreamIdHasher(u64);

/// An odd constant with its bits well mixed (2^64 divided by the golden ratio).
const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

impl StreamIdHasher {
    fn mix(&mut self, word: u64) {
        let product = u128::from(self.0 ^ word) * u128::from(MULTIPLIER);
        self.0 = (product as u64) ^ ((product >> 64) as u64);
    }
}

impl Hasher for StreamIdHasher {
    fn write_u64(&mut self, id: u64) {
        self.mix(id);
    }

    /// Any other key type (not used by the maps here, but a `Hasher` must take it): eight
    /// bytes at a time.
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let mut last = [0u8; 8];
        last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        self.mix(u64::from_le_bytes(last) ^ (bytes.len() as u64) << 56);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    fn hash(id: u64) -> u64 {
        BuildHasherDefault::<StreamIdHasher>::default().hash_one(id)
    }

    /// Consecutive client bidirectional ids (0, 4, 8, ...) spread over the low bits that
    /// pick a bucket: every bucket of a 1,024-bucket table gets some of 4,096 ids, none
    /// more than 3 × its share.
    #[test]
    fn consecutive_ids_fill_every_bucket() {
        for first in [0u64, 1, 2, 3, 4_000_000] {
            let mut buckets = [0u32; 1024];
            for n in 0..4096 {
                buckets[(hash(first + 4 * n) & 1023) as usize] += 1;
            }
            let max = *buckets.iter().max().unwrap();
            let empty = buckets.iter().filter(|&&b| b == 0).count();
            assert!(
                max <= 16,
                "first id {first}: a bucket got {max} of 4,096 ids"
            );
            assert!(
                empty < 100,
                "first id {first}: {empty} of 1,024 buckets empty"
            );
        }
    }

    /// The top seven bits (hashbrown's tag) vary too.
    #[test]
    fn high_bits_vary() {
        let tags: HashSet<u64> = (0..512).map(|n| hash(4 * n) >> 57).collect();
        assert!(tags.len() > 100, "{} distinct tags", tags.len());
    }

    #[test]
    fn maps_work() {
        let mut map: StreamIdMap<&str> = StreamIdMap::default();
        map.insert(0, "a");
        map.insert(4, "b");
        assert_eq!(map.get(&4), Some(&"b"));
        assert_eq!(map.remove(&0), Some("a"));
        let mut set = StreamIdSet::default();
        assert!(set.insert(8));
        assert!(!set.insert(8));
    }
}
