//! A small, fast hasher (FNV-1a over 64-bit words) for the tables' byte-string keys.
//! Keys are header names and values chosen by our own side or already bounded by the
//! table capacity, so a keyed (DoS-resistant) hash buys nothing here.

use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a, fed eight bytes at a time.
#[derive(Clone, Copy, Debug)]
pub struct FastHasher(u64);

impl Default for FastHasher {
    fn default() -> Self {
        FastHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.0 = (self.0 ^ u64::from_le_bytes(word)).wrapping_mul(PRIME);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(PRIME);
        }
    }

    fn finish(&self) -> u64 {
        // Spread the low bits, which FNV over words mixes poorly.
        let x = self.0;
        x ^ (x >> 29) ^ (x >> 47)
    }
}

/// The `BuildHasher` for [`FastHasher`].
pub type FastHashBuilder = BuildHasherDefault<FastHasher>;

/// Hashes of values that are hashes already ([`hash_bytes`]'s): the key is its own hash.
#[derive(Clone, Copy, Debug, Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are expected; anything else is folded in, word by word.
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = fold(self.0 ^ u64::from_le_bytes(word), MIX_A);
        }
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The `BuildHasher` for maps keyed by [`hash_bytes`] values.
pub type KeyHashBuilder = BuildHasherDefault<KeyHasher>;

const MIX_A: u64 = 0xa076_1d64_78bd_642f;
const MIX_B: u64 = 0xe703_7ed1_a0b4_28db;

/// The 128-bit product of `a` and `b`, its halves folded together: one multiplication
/// that mixes every bit of both into the result.
#[inline(always)]
fn fold(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// A 64-bit hash of `bytes` (and their length), continuing from `seed`: one folded
/// multiplication per 16 bytes plus two, the words read whole (the last ones overlapping
/// the rest). Feeding one hash as the seed of the next hashes a sequence of strings, e.g.
/// a field's name then its value.
#[inline]
pub fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let n = bytes.len();
    let mut state = seed ^ MIX_A;
    let (a, b) = if n <= 16 {
        if n >= 8 {
            (word8(bytes, 0), word8(bytes, n - 8))
        } else {
            (under8(bytes), 0)
        }
    } else {
        let mut at = 0;
        while at + 16 < n {
            state = fold(word8(bytes, at) ^ MIX_B, word8(bytes, at + 8) ^ state);
            at += 16;
        }
        (word8(bytes, n - 16), word8(bytes, n - 8))
    };
    fold(MIX_B ^ (n as u64), fold(a ^ MIX_B, b ^ state) ^ MIX_A)
}

/// The little-endian word of the 8 bytes of `b` from `at` (usable at compile time; one
/// load at run time).
#[inline(always)]
const fn word8(b: &[u8], at: usize) -> u64 {
    match b.split_at(at).1.first_chunk::<8>() {
        Some(word) => u64::from_le_bytes(*word),
        None => panic!("word8 beyond the end"),
    }
}

/// The little-endian word of the 4 bytes of `b` from `at` (as [`word8`]).
#[inline(always)]
const fn word4(b: &[u8], at: usize) -> u32 {
    match b.split_at(at).1.first_chunk::<4>() {
        Some(word) => u32::from_le_bytes(*word),
        None => panic!("word4 beyond the end"),
    }
}

/// Every byte of a string shorter than 8 bytes, in one word: its first and last 4 bytes
/// (overlapping) from 4 bytes on, its first, middle and last byte below that (all of
/// them); 0 for the empty string. Two strings of one length under 8 are equal exactly
/// when their words are: what [`hash_bytes`], [`short_key`] and [`bytes_eq`] read of
/// short strings.
#[inline(always)]
const fn under8(b: &[u8]) -> u64 {
    let n = b.len();
    if n >= 4 {
        (word4(b, 0) as u64) | ((word4(b, n - 4) as u64) << 32)
    } else if n > 0 {
        (b[0] as u64) | ((b[n / 2] as u64) << 8) | ((b[n - 1] as u64) << 16)
    } else {
        0
    }
}

/// A quick hash of a short byte string from its length and its first and last 8 bytes
/// (all of it up to 16 bytes), in a few loads and one multiplication; usable at compile
/// time. Meant for names, which differ at their ends; longer strings sharing both ends
/// collide, which costs a lookup a probe or two, never a wrong answer.
pub const fn short_key(b: &[u8]) -> u64 {
    let n = b.len();
    let x = if n >= 8 {
        word8(b, 0) ^ word8(b, n - 8).rotate_left(31)
    } else {
        under8(b)
    };
    (x ^ (n as u64).wrapping_mul(0xff51_afd7_ed55_8ccd)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Whether `a` and `b` hold the same bytes: word compares inline, as fast as the call to
/// `memcmp` that `==` makes costs for the short strings of header fields.
#[inline]
pub fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n >= 8 {
        let mut at = 0;
        while at + 8 < n {
            if word8(a, at) != word8(b, at) {
                return false;
            }
            at += 8;
        }
        word8(a, n - 8) == word8(b, n - 8)
    } else {
        under8(a) == under8(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_eq_agrees_with_slice_equality() {
        let mut next = crate::test_util::byte_source(7);
        for len in 0..40usize {
            let a: Vec<u8> = (0..len).map(|_| next() % 3).collect();
            for flip in 0..len {
                let mut b = a.clone();
                b[flip] ^= 1 + next() % 2;
                assert!(!bytes_eq(&a, &b), "{a:?} {b:?}");
            }
            assert!(bytes_eq(&a, &a.clone()));
            let longer: Vec<u8> = a.iter().copied().chain([0]).collect();
            assert!(!bytes_eq(&a, &longer) && !bytes_eq(&longer, &a));
            for _ in 0..20 {
                let b: Vec<u8> = (0..len).map(|_| next() % 2).collect();
                assert_eq!(bytes_eq(&a, &b), a == b);
            }
        }
    }

    #[test]
    fn hash_bytes_tells_apart_near_strings() {
        let mut seen = std::collections::HashSet::new();
        let mut strings: Vec<Vec<u8>> = vec![Vec::new()];
        for len in 1..=40usize {
            let base: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            strings.push(base.clone());
            for at in 0..len {
                for delta in [1u8, 0x80] {
                    let mut s = base.clone();
                    s[at] ^= delta;
                    strings.push(s);
                }
            }
            strings.push(vec![0; len]);
        }
        for s in &strings {
            assert!(seen.insert(hash_bytes(0, s)), "{s:?}");
        }
        // Sequences: where the name ends matters.
        let pair = |n: &[u8], v: &[u8]| hash_bytes(hash_bytes(1, n), v);
        assert_ne!(pair(b"ab", b"c"), pair(b"a", b"bc"));
        assert_ne!(pair(b"", b"x"), pair(b"x", b""));
        assert_ne!(hash_bytes(1, b"x"), hash_bytes(2, b"x"));
    }

    #[test]
    fn short_key_sees_length_and_both_ends() {
        let keys = [
            short_key(b""),
            short_key(b"a"),
            short_key(b"ab"),
            short_key(b"ba"),
            short_key(b"abc"),
            short_key(b"content-type"),
            short_key(b"content-length"),
            short_key(b"access-control-allow-headers"),
            short_key(b"access-control-expose-headers"),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
