//! Hex strings in unit tests (test vectors from RFCs and other implementations).

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
