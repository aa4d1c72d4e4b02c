//! The HPACK Huffman code (RFC 7541 Appendix B), used by QPACK string literals.
//!
//! The code is canonical: codes of equal length are consecutive in symbol order, so the
//! table below keeps only each symbol's code length and the codes are derived at compile
//! time. Decoding walks a compile-time state machine four bits at a time: each state is an
//! internal node of the code tree, and each (state, nibble) cell says which node follows,
//! which symbol (at most one: the shortest code has 5 bits) was completed, and whether EOS
//! was hit.

/// Code length in bits for each symbol 0..=255 and EOS (256), from RFC 7541 Appendix B.
const LENGTHS: [u8; 257] = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0..15
    28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 16..31
    6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, // 32..47
    5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, // 48..63
    13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, // 64..79
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, // 80..95
    15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, // 96..111
    6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, // 112..127
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128..143
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144..159
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160..175
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176..191
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192..207
    19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208..223
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224..239
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240..255
    30, // EOS
];

const EOS: u16 = 256;

/// Canonical code assignment: lengths ascending, symbols ascending within a length.
const fn build_codes() -> [u32; 257] {
    let mut codes = [0u32; 257];
    let mut code: u32 = 0;
    let mut len = 1;
    while len <= 30 {
        let mut sym = 0;
        while sym < 257 {
            if LENGTHS[sym] as u32 == len {
                codes[sym] = code;
                code += 1;
            }
            sym += 1;
        }
        code <<= 1;
        len += 1;
    }
    codes
}

/// The code of each symbol, right-aligned.
const CODES: [u32; 257] = build_codes();

/// A child in the code tree: a leaf (symbol) when this bit is set, else a node index.
const LEAF: u16 = 0x8000;

/// The code tree: 257 leaves need exactly 256 internal nodes; node 0 is the root.
const fn build_tree() -> [[u16; 2]; 256] {
    let mut tree = [[0u16; 2]; 256];
    let mut used = 1;
    let mut sym = 0;
    while sym < 257 {
        let len = LENGTHS[sym] as u32;
        let code = CODES[sym];
        let mut node = 0;
        let mut bit = len;
        while bit > 1 {
            bit -= 1;
            let b = ((code >> bit) & 1) as usize;
            if tree[node][b] == 0 {
                tree[node][b] = used as u16;
                used += 1;
            }
            node = tree[node][b] as usize;
        }
        tree[node][(code & 1) as usize] = LEAF | sym as u16;
        sym += 1;
    }
    tree
}

const TREE: [[u16; 2]; 256] = build_tree();

/// Decode-table cell flags.
const EMIT: u32 = 1 << 16;
const FAIL: u32 = 1 << 17;

/// `TABLE[state * 16 + nibble]`: bits 0..8 next state, bits 8..16 emitted byte, plus
/// [`EMIT`] and [`FAIL`].
const fn build_decode_table() -> [u32; 256 * 16] {
    let mut table = [0u32; 256 * 16];
    let mut state = 0;
    while state < 256 {
        let mut nibble = 0;
        while nibble < 16 {
            let mut node = state;
            let mut cell = 0u32;
            let mut i = 4;
            while i > 0 {
                i -= 1;
                let child = TREE[node][(nibble >> i) & 1];
                if child & LEAF != 0 {
                    let sym = child & !LEAF;
                    if sym == EOS {
                        cell |= FAIL;
                        break;
                    }
                    cell |= EMIT | ((sym as u32) << 8);
                    node = 0;
                } else {
                    node = child as usize;
                }
            }
            table[state * 16 + nibble] = cell | node as u32;
            nibble += 1;
        }
        state += 1;
    }
    table
}

static TABLE: [u32; 256 * 16] = build_decode_table();

/// What ending the input in a state means.
const END_OK: u8 = 0;
const END_NOT_ONES: u8 = 1;
const END_TOO_LONG: u8 = 2;

/// Ending is valid only on the root or on the all-ones path within 7 bits of it.
const fn build_end_table() -> [u8; 256] {
    let mut end = [END_NOT_ONES; 256];
    end[0] = END_OK;
    let mut node = 0usize;
    let mut depth = 1;
    while depth < 30 {
        let child = TREE[node][1];
        if child & LEAF != 0 {
            break;
        }
        node = child as usize;
        end[node] = if depth <= 7 { END_OK } else { END_TOO_LONG };
        depth += 1;
    }
    end
}

static END: [u8; 256] = build_end_table();

/// Why a Huffman string could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HuffmanError {
    /// The string contains the EOS symbol.
    Eos,
    /// The final bits are not a prefix of EOS (all ones).
    BadPadding,
    /// More than 7 bits of padding.
    LongPadding,
    /// The decoded string would exceed the caller's limit.
    TooLong,
}

impl HuffmanError {
    /// A human-readable reason.
    pub fn reason(self) -> &'static str {
        match self {
            HuffmanError::Eos => "Huffman string contains EOS",
            HuffmanError::BadPadding => "Huffman string has invalid padding",
            HuffmanError::LongPadding => "Huffman string has padding longer than 7 bits",
            HuffmanError::TooLong => "Huffman string decodes beyond the length limit",
        }
    }
}

/// Decodes `input`, appending to `out`; fails if more than `max_len` bytes would be
/// appended.
pub fn decode(input: &[u8], out: &mut Vec<u8>, max_len: usize) -> Result<(), HuffmanError> {
    // At most 8 bits of input per 5-bit code: 8/5 bytes out per byte in.
    out.reserve((input.len() * 8 / 5 + 1).min(max_len));
    let start = out.len();
    let mut state = 0usize;
    for &byte in input {
        for nibble in [byte >> 4, byte & 0x0f] {
            let cell = TABLE[state * 16 + nibble as usize];
            if cell & FAIL != 0 {
                return Err(HuffmanError::Eos);
            }
            if cell & EMIT != 0 {
                if out.len() - start >= max_len {
                    return Err(HuffmanError::TooLong);
                }
                out.push((cell >> 8) as u8);
            }
            state = (cell & 0xff) as usize;
        }
    }
    match END[state] {
        END_OK => Ok(()),
        END_TOO_LONG => Err(HuffmanError::LongPadding),
        _ => Err(HuffmanError::BadPadding),
    }
}

/// The number of bytes [`encode`] produces for `input`.
pub fn encoded_len(input: &[u8]) -> usize {
    let bits: usize = input.iter().map(|&b| LENGTHS[b as usize] as usize).sum();
    bits.div_ceil(8)
}

/// Appends the Huffman encoding of `input` to `out`, padded with ones.
pub fn encode(input: &[u8], out: &mut Vec<u8>) {
    let mut acc: u64 = 0;
    let mut bits: u32 = 0;
    for &b in input {
        let len = u32::from(LENGTHS[b as usize]);
        acc = (acc << len) | u64::from(CODES[b as usize]);
        bits += len;
        while bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if bits > 0 {
        out.push(((acc << (8 - bits)) as u8) | (0xff >> bits));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn codes_match_rfc7541_appendix_b_spot_checks() {
        let checks: &[(usize, u32, u8)] = &[
            (0, 0x1ff8, 13),
            (1, 0x7fffd8, 23),
            (10, 0x3ffffffc, 30),
            (32, 0x14, 6),
            (48, 0x0, 5),
            (92, 0x7fff0, 19),
            (97, 0x3, 5),
            (127, 0xffffffc, 28),
            (203, 0x7ffffde, 27),
            (255, 0x3ffffee, 26),
            (256, 0x3fffffff, 30),
        ];
        for &(sym, code, len) in checks {
            assert_eq!((CODES[sym], LENGTHS[sym]), (code, len), "symbol {sym}");
        }
        // A complete prefix code: the Kraft sum is exactly 1.
        let kraft: u64 = LENGTHS.iter().map(|&l| 1u64 << (30 - l)).sum();
        assert_eq!(kraft, 1 << 30);
    }

    #[test]
    fn rfc7541_c4_and_c6_vectors() {
        let vectors = [
            ("www.example.com", "f1e3 c2e5 f23a 6ba0 ab90 f4ff"),
            ("no-cache", "a8eb 1064 9cbf"),
            ("custom-key", "25a8 49e9 5ba9 7d7f"),
            ("custom-value", "25a8 49e9 5bb8 e8b4 bf"),
            ("302", "6402"),
            ("private", "aec3 771a 4b"),
            (
                "Mon, 21 Oct 2013 20:13:21 GMT",
                "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff",
            ),
            (
                "https://www.example.com",
                "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3",
            ),
            ("307", "640e ff"),
            ("gzip", "9bd9 ab"),
            (
                "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
                "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
            ),
        ];
        for (plain, coded) in vectors {
            let coded = hex(coded);
            let mut out = Vec::new();
            encode(plain.as_bytes(), &mut out);
            assert_eq!(out, coded, "encoding {plain}");
            assert_eq!(encoded_len(plain.as_bytes()), coded.len());
            let mut back = Vec::new();
            decode(&coded, &mut back, 1 << 20).unwrap();
            assert_eq!(back, plain.as_bytes());
        }
    }

    #[test]
    fn every_byte_round_trips() {
        let all: Vec<u8> = (0..=255).collect();
        for chunk in [&all[..], &all[..1], &all[200..], b"a"] {
            let mut coded = Vec::new();
            encode(chunk, &mut coded);
            let mut back = Vec::new();
            decode(&coded, &mut back, 1 << 20).unwrap();
            assert_eq!(back, chunk);
        }
    }

    #[test]
    fn rejects_eos_and_bad_padding() {
        let mut out = Vec::new();
        // EOS (30 ones) then padding.
        assert_eq!(
            decode(&[0xff, 0xff, 0xff, 0xff], &mut out, 100),
            Err(HuffmanError::Eos)
        );
        // 'a' (00011) then 3 zero bits of padding.
        assert_eq!(
            decode(&[0b0001_1000], &mut out, 100),
            Err(HuffmanError::BadPadding)
        );
        // 'a' then 3 ones is fine.
        out.clear();
        assert_eq!(decode(&[0b0001_1111], &mut out, 100), Ok(()));
        assert_eq!(out, b"a");
        // '0' (00000) + '0' + 6 ones, then a full byte of ones: 14 bits of padding.
        assert_eq!(
            decode(&[0x00, 0x3f, 0xff], &mut out, 100),
            Err(HuffmanError::LongPadding)
        );
        // A lone byte of ones: 8 bits of padding.
        assert_eq!(
            decode(&[0xff], &mut out, 100),
            Err(HuffmanError::LongPadding)
        );
        // Empty input is the empty string.
        out.clear();
        assert_eq!(decode(&[], &mut out, 100), Ok(()));
        assert!(out.is_empty());
    }

    #[test]
    fn respects_the_length_limit() {
        let mut coded = Vec::new();
        encode(b"0123456789", &mut coded);
        let mut out = Vec::new();
        assert_eq!(decode(&coded, &mut out, 9), Err(HuffmanError::TooLong));
        out.clear();
        assert_eq!(decode(&coded, &mut out, 10), Ok(()));
    }
}
