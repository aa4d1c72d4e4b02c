//! Small helpers of the unit tests: hex test vectors, and a repeatable stream of
//! pseudo-random bytes.

/// The bytes a hex string spells; whitespace between digits is ignored. Panics on
/// anything else, which in a test is a mistake in the vector.
pub(crate) fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).expect("hex digits");
            u8::from_str_radix(pair, 16).expect("hex digits")
        })
        .collect()
}

/// A repeatable stream of pseudo-random bytes (a 64-bit linear congruential generator's
/// high bits) for tests that try many inputs: the same `seed` gives the same bytes.
pub(crate) fn byte_source(seed: u64) -> impl FnMut() -> u8 {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (state >> 33) as u8
    }
}
