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
