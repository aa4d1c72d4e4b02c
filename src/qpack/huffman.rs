//! The HPACK Huffman code (RFC 7541 Appendix B), used by QPACK string literals.
//!
//! The code is canonical: codes of equal length are consecutive in symbol order, so the
//! table below keeps only each symbol's code length and the codes are derived at compile
//! time. Decoding looks up the next 11 bits in a compile-time table (every code of up to
//! 11 bits decodes in one step) and falls back to a canonical search by code length for
//! the rare longer codes.

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

/// Bits looked up at once by the decoder's fast tables: every code of up to this many bits
/// (all letters, digits and common punctuation) decodes in one lookup.
const FAST_BITS: u32 = 12;

/// `build_fast_table()[w]` for the next [`FAST_BITS`] bits `w` of input: the symbol in bits 0..9 and the
/// code length in bits 9..14 when a code of at most [`FAST_BITS`] bits starts there; 0 when
/// the code is longer (the canonical search in [`decode_long`] takes over).
const fn build_fast_table() -> [u16; 1 << FAST_BITS] {
    let mut table = [0u16; 1 << FAST_BITS];
    let mut sym = 0;
    while sym < 257 {
        let len = LENGTHS[sym] as u32;
        if len <= FAST_BITS {
            let base = (CODES[sym] << (FAST_BITS - len)) as usize;
            let mut j = 0;
            while j < 1 << (FAST_BITS - len) {
                table[base + j] = (sym as u16) | ((len as u16) << 9);
                j += 1;
            }
        }
        sym += 1;
    }
    table
}

/// `PAIRS[w]` for the next [`FAST_BITS`] bits `w`: the codes that lie wholly inside them,
/// up to two: the first symbol in bits 0..8, the second in bits 8..16, the bits they take in
/// bits 16..21, how many there are (0, 1 or 2) in bits 21..23, the first code's length in
/// bits 23..28. 0 symbols: the first code is longer than [`FAST_BITS`].
const fn build_pair_table() -> [u32; 1 << FAST_BITS] {
    let fast = build_fast_table();
    let mut table = [0u32; 1 << FAST_BITS];
    let mask = (1u32 << FAST_BITS) - 1;
    let mut w = 0u32;
    while w < 1 << FAST_BITS {
        let first = fast[w as usize];
        if first != 0 {
            let len1 = (first >> 9) as u32;
            let sym1 = (first & 0xff) as u32;
            // The rest of the window, shifted up (zeros below do not matter: the second
            // code counts only if it fits in the bits that are real).
            let second = fast[((w << len1) & mask) as usize];
            let len2 = (second >> 9) as u32;
            table[w as usize] = if second != 0 && len1 + len2 <= FAST_BITS {
                sym1 | (((second & 0xff) as u32) << 8) | ((len1 + len2) << 16) | (2 << 21)
            } else {
                sym1 | (len1 << 16) | (1 << 21)
            } | (len1 << 23);
        }
        w += 1;
    }
    table
}

static PAIRS: [u32; 1 << FAST_BITS] = build_pair_table();

/// The canonical code's shape, for codes longer than [`FAST_BITS`]: per length, the first
/// code (right-aligned), one past the last code left-aligned to 30 bits, and where the
/// length's symbols start in [`SORTED`].
struct Canonical {
    first: [u32; 31],
    limit: [u32; 31],
    offset: [u16; 31],
    /// Symbols ordered by (code length, symbol): their code order.
    sorted: [u16; 257],
}

const fn build_canonical() -> Canonical {
    let mut c = Canonical {
        first: [0; 31],
        limit: [0; 31],
        offset: [0; 31],
        sorted: [0; 257],
    };
    let mut next = 0usize;
    let mut len = 1;
    while len <= 30 {
        c.offset[len] = next as u16;
        let mut count = 0u32;
        let mut sym = 0;
        while sym < 257 {
            if LENGTHS[sym] as usize == len {
                if count == 0 {
                    c.first[len] = CODES[sym];
                }
                c.sorted[next] = sym as u16;
                next += 1;
                count += 1;
            }
            sym += 1;
        }
        if count == 0 {
            // No code of this length: its range is empty, just below the next length's.
            c.first[len] = if len > 1 {
                c.limit[len - 1] >> (30 - len)
            } else {
                0
            };
        }
        c.limit[len] = (c.first[len] + count) << (30 - len);
        len += 1;
    }
    c
}

static CANONICAL: Canonical = build_canonical();

/// Decodes a code longer than [`FAST_BITS`] from `window`, the next 30 bits of input
/// (padded with ones past the end); returns the symbol and its code length.
fn decode_long(window: u32) -> (u16, u32) {
    let c = &CANONICAL;
    let mut len = FAST_BITS as usize + 1;
    // Every 30-bit window is below the last limit (2^30), so this ends by length 30.
    while len < 30 && window >= c.limit[len] {
        len += 1;
    }
    let code = window >> (30 - len);
    let index = c.offset[len] as usize + (code - c.first[len]) as usize;
    (c.sorted[index.min(256)], len as u32)
}

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
///
/// Bits are taken from a 64-bit accumulator refilled a byte at a time; each symbol is one
/// lookup of the next [`FAST_BITS`] bits, or a short canonical search for the rare longer
/// codes. What is left when no complete code remains is the padding: at most 7 bits, all
/// ones (RFC 7541 §5.2). A complete EOS (30 ones) is an error wherever it appears.
pub fn decode(input: &[u8], out: &mut Vec<u8>, max_len: usize) -> Result<(), HuffmanError> {
    // At most 8 bits of input per 5-bit code: 8/5 bytes out per byte in.
    out.reserve((input.len() * 8 / 5 + 1).min(max_len));
    let limit = out.len().saturating_add(max_len);
    let mut window = Window { acc: 0, bits: 0 };
    let rest = decode_bulk(input, out, limit, &mut window)?;
    decode_tail(rest, out, limit, window)
}

/// Input bits read but not decoded yet: the high `bits` bits of `acc`, oldest highest. The
/// bits below them are zero or the next input bits (a byte read in part is read again).
struct Window {
    acc: u64,
    bits: u32,
}

impl Window {
    /// Tops the window up to 56..=63 bits from `word`, the 8 input bytes from the first one
    /// not wholly read; returns how many bytes it read wholly.
    fn refill(&mut self, word: u64) -> usize {
        self.acc |= word >> self.bits;
        let take = (63 - self.bits) / 8;
        self.bits += take * 8;
        take as usize
    }

    fn consume(&mut self, bits: u32) {
        self.acc <<= bits;
        self.bits -= bits;
    }

    /// The entry of [`PAIRS`] for the next bits.
    fn pair(&self) -> u32 {
        PAIRS[(self.acc >> (64 - FAST_BITS)) as usize]
    }
}

/// The bulk of [`decode`]: while at least 8 input bytes are left (and the limit is not
/// near), reads 8 at a time and decodes up to two codes per lookup of [`PAIRS`] as long as
/// 30 bits (any code) are pending. Returns the input not read yet.
fn decode_bulk<'a>(
    input: &'a [u8],
    out: &mut Vec<u8>,
    limit: usize,
    w: &mut Window,
) -> Result<&'a [u8], HuffmanError> {
    let mut rest = input;
    // Each round decodes at most 64 / 5 codes.
    while let Some(word) = rest.first_chunk::<8>() {
        if limit - out.len() < 13 {
            break;
        }
        rest = &rest[w.refill(u64::from_be_bytes(*word))..];
        while w.bits >= 30 {
            let pair = w.pair();
            let count = pair >> 21 & 3;
            if count == 0 {
                let (sym, len) = decode_long((w.acc >> 34) as u32);
                if sym == EOS {
                    return Err(HuffmanError::Eos);
                }
                out.push(sym as u8);
                w.consume(len);
                continue;
            }
            out.push(pair as u8);
            if count == 2 {
                out.push((pair >> 8) as u8);
            }
            w.consume(pair >> 16 & 0x1f);
        }
    }
    Ok(rest)
}

/// The end of [`decode`]: the input left, read as if followed by ones (EOS's bits), one or
/// two codes per lookup as long as they end within the input; then the padding check.
fn decode_tail(
    rest: &[u8],
    out: &mut Vec<u8>,
    limit: usize,
    mut w: Window,
) -> Result<(), HuffmanError> {
    let mut push = |sym: u32| {
        if out.len() >= limit {
            return Err(HuffmanError::TooLong);
        }
        out.push(sym as u8);
        Ok(())
    };
    // Input bits not decoded yet, in the window or still in `rest`.
    let mut real = u64::from(w.bits) + 8 * rest.len() as u64;
    let mut pos = 0;
    while real > 0 {
        let mut word = [0xffu8; 8];
        let unread = rest.get(pos..).unwrap_or_default();
        let available = unread.len().min(8);
        word[..available].copy_from_slice(&unread[..available]);
        pos += w.refill(u64::from_be_bytes(word));
        let pair = w.pair();
        let (count, used, first_len) = (pair >> 21 & 3, pair >> 16 & 0x1f, pair >> 23);
        let len = if count == 0 {
            let (sym, len) = decode_long((w.acc >> 34) as u32);
            if u64::from(len) > real {
                break;
            }
            if sym == EOS {
                return Err(HuffmanError::Eos);
            }
            push(u32::from(sym))?;
            len
        } else if count == 2 && u64::from(used) <= real {
            push(pair & 0xff)?;
            push(pair >> 8 & 0xff)?;
            used
        } else if u64::from(first_len) <= real {
            push(pair & 0xff)?;
            first_len
        } else {
            break;
        };
        w.consume(len);
        real -= u64::from(len);
    }
    // What is left (fewer bits than the next code) is padding: at most 7 bits, all ones.
    let pad = real as u32;
    if pad > 0 && w.acc >> (64 - pad) != (1u64 << pad) - 1 {
        Err(HuffmanError::BadPadding)
    } else if pad > 7 {
        Err(HuffmanError::LongPadding)
    } else {
        Ok(())
    }
}

/// The number of bytes [`encode`] produces for `input`.
#[cfg(test)]
pub fn encoded_len(input: &[u8]) -> usize {
    let bits: usize = input.iter().map(|&b| LENGTHS[b as usize] as usize).sum();
    bits.div_ceil(8)
}

/// Each byte's code left-aligned in 64 bits: shifted right by the number of bits pending,
/// it lines up after them.
const fn build_left_codes() -> [u64; 256] {
    let mut table = [0u64; 256];
    let mut sym = 0;
    while sym < 256 {
        table[sym] = (CODES[sym] as u64) << (64 - LENGTHS[sym] as u32);
        sym += 1;
    }
    table
}

static LEFT_CODES: [u64; 256] = build_left_codes();

/// Appends the Huffman encoding of `input` (padded with ones) to `out` if it is shorter
/// than `bound` bytes, and returns its length; otherwise truncates `out` back to where it
/// was and returns `None`, having stopped soon after the code reached `bound`.
///
/// One pass, four bytes at a time: the pending bits sit at the top of a 64-bit
/// accumulator (at most 7 between groups), each code is shifted in below them, and after
/// each group (or each code, when a group's codes add up to more than 56 bits, which only
/// rare bytes' long codes do) all 8 bytes are appended and the incomplete ones taken
/// back: no byte is written twice, nothing is zero-filled first.
pub fn encode_shorter(input: &[u8], bound: usize, out: &mut Vec<u8>) -> Option<usize> {
    let start = out.len();
    // Room for the whole code, the 8 bytes of the last store, and a group's overshoot.
    out.resize(start + bound + OVERRUN, 0);
    let len = encode_into(input, bound, &mut out[start..]);
    out.truncate(start + len.unwrap_or(0));
    len
}

/// Bytes [`encode_into`] may write past its bound: it checks the bound before each group
/// of four codes and before the last three, from a position below it; four codes (at
/// most 4 x 30 bits plus 7 pending) move it on by at most 15 bytes, and every store writes
/// 8 bytes from where it stands.
const OVERRUN: usize = 24;

/// [`encode_shorter`] into `buf`, which holds at least `bound +` [`OVERRUN`] bytes.
fn encode_into(input: &[u8], bound: usize, buf: &mut [u8]) -> Option<usize> {
    let buf = buf.get_mut(..bound + OVERRUN)?;
    // The bits not written yet: the high `bits` bits of `acc` (at most 7 between stores).
    // Plain locals, passed by value, so that they stay in registers.
    let mut acc = 0u64;
    let mut bits = 0u32;
    let mut pos = 0usize;
    let mut groups = input.chunks_exact(4);
    for group in &mut groups {
        if pos >= bound {
            return None;
        }
        let syms = [
            usize::from(group[0]),
            usize::from(group[1]),
            usize::from(group[2]),
            usize::from(group[3]),
        ];
        let lens = syms.map(|sym| u32::from(LENGTHS[sym]));
        if lens[0] + lens[1] + lens[2] + lens[3] > 56 {
            (acc, bits, pos) = put_each(acc, bits, pos, group, buf);
            continue;
        }
        for (sym, len) in syms.into_iter().zip(lens) {
            acc |= LEFT_CODES[sym] >> bits;
            bits += len;
        }
        (acc, bits, pos) = store(acc, bits, pos, buf);
    }
    if pos >= bound {
        return None;
    }
    (acc, bits, pos) = put_each(acc, bits, pos, groups.remainder(), buf);
    if bits > 0 {
        // The last byte's free bits: ones, a prefix of EOS.
        buf[pos] = (acc >> 56) as u8 | (0xff >> bits);
        pos += 1;
    }
    (pos < bound).then_some(pos)
}

/// Stores the 8 bytes of `acc` at `pos` and moves on by the whole ones among the high
/// `bits` bits; returns the bits left and the new position.
#[inline(always)]
fn store(acc: u64, bits: u32, pos: usize, buf: &mut [u8]) -> (u64, u32, usize) {
    buf[pos..pos + 8].copy_from_slice(&acc.to_be_bytes());
    let whole = bits >> 3;
    (acc << (whole * 8), bits & 7, pos + whole as usize)
}

/// Codes one at a time, storing after each: for groups with long codes, and the last
/// bytes.
#[inline(never)]
fn put_each(
    mut acc: u64,
    mut bits: u32,
    mut pos: usize,
    syms: &[u8],
    buf: &mut [u8],
) -> (u64, u32, usize) {
    for &sym in syms {
        acc |= LEFT_CODES[usize::from(sym)] >> bits;
        bits += u32::from(LENGTHS[usize::from(sym)]);
        (acc, bits, pos) = store(acc, bits, pos, buf);
    }
    (acc, bits, pos)
}

/// Appends the Huffman encoding of `input` to `out`, padded with ones; returns its length.
#[cfg(test)]
pub fn encode(input: &[u8], out: &mut Vec<u8>) -> usize {
    // No code is longer than 30 bits: 4 bytes per input byte, plus one, is never reached.
    encode_shorter(input, input.len() * 4 + 1, out).unwrap_or_default()
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

    /// Bit-by-bit decoding against the code table itself: the slow, obvious reference.
    fn reference_decode(input: &[u8]) -> Result<Vec<u8>, HuffmanError> {
        let mut out = Vec::new();
        let (mut code, mut len) = (0u32, 0u32);
        for &byte in input {
            for i in (0..8).rev() {
                code = (code << 1) | u32::from(byte >> i & 1);
                len += 1;
                if let Some(sym) = (0..257).find(|&s| LENGTHS[s] as u32 == len && CODES[s] == code)
                {
                    if sym == EOS as usize {
                        return Err(HuffmanError::Eos);
                    }
                    out.push(sym as u8);
                    (code, len) = (0, 0);
                }
            }
        }
        if code != (1 << len) - 1 {
            Err(HuffmanError::BadPadding)
        } else if len > 7 {
            Err(HuffmanError::LongPadding)
        } else {
            Ok(out)
        }
    }

    #[test]
    fn decodes_like_the_bit_by_bit_reference() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) as u8
        };
        for case in 0..4_000 {
            let len = usize::from(next() % 24);
            let input: Vec<u8> = if case % 2 == 0 {
                (0..len).map(|_| next()).collect()
            } else {
                // Valid codes, mostly, with the last bytes perturbed.
                let plain: Vec<u8> = (0..len).map(|_| next()).collect();
                let mut coded = Vec::new();
                encode(&plain, &mut coded);
                if let Some(last) = coded.last_mut() {
                    *last ^= next() & 0x0f;
                }
                coded
            };
            let mut out = Vec::new();
            let ours = decode(&input, &mut out, 1 << 20).map(|()| out);
            assert_eq!(ours, reference_decode(&input), "input {input:02x?}");
        }
        // Each symbol alone, padded with ones.
        for sym in 0..256u32 {
            let mut coded = Vec::new();
            encode(&[sym as u8], &mut coded);
            let mut out = Vec::new();
            decode(&coded, &mut out, 10).unwrap();
            assert_eq!(out, [sym as u8]);
        }
    }

    /// Bit-by-bit encoding from the code table: the slow, obvious reference.
    fn reference_encode(input: &[u8]) -> Vec<u8> {
        let mut bits = Vec::new();
        for &byte in input {
            let (code, len) = (
                CODES[usize::from(byte)],
                u32::from(LENGTHS[usize::from(byte)]),
            );
            bits.extend((0..len).rev().map(|i| code >> i & 1 == 1));
        }
        while bits.len() % 8 != 0 {
            bits.push(true);
        }
        bits.chunks(8)
            .map(|b| b.iter().fold(0u8, |acc, &bit| acc << 1 | u8::from(bit)))
            .collect()
    }

    #[test]
    fn encodes_like_the_bit_by_bit_reference() {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) as u8
        };
        let mut inputs: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
        inputs.push((0..=255).collect());
        inputs.push((0..=255).rev().collect());
        for case in 0..3_000 {
            let len = usize::from(next()) % if case % 10 == 0 { 256 } else { 40 };
            inputs.push(match case % 3 {
                // Any byte: long codes, the four-at-a-time path's fallback.
                0 => (0..len).map(|_| next()).collect(),
                // Header-like text: short codes, joined four at a time.
                1 => (0..len)
                    .map(|_| b"abcz019-_./:;=XYZ ~%"[usize::from(next()) % 20])
                    .collect(),
                // Mostly text with an odd rare byte.
                _ => (0..len)
                    .map(|_| {
                        if next() < 16 {
                            next()
                        } else {
                            b'a' + next() % 26
                        }
                    })
                    .collect(),
            });
        }
        for input in &inputs {
            let want = reference_encode(input);
            let mut out = vec![0xaa];
            assert_eq!(encode(input, &mut out), want.len());
            assert_eq!((out[0], &out[1..]), (0xaa, &want[..]), "{input:02x?}");
            assert_eq!(encoded_len(input), want.len());
            let mut back = Vec::new();
            decode(&out[1..], &mut back, 1 << 20).unwrap();
            assert_eq!(&back, input);
            // Bounded: the code only when strictly shorter than the bound, else nothing.
            for bound in [
                0,
                want.len().saturating_sub(1),
                want.len(),
                want.len() + 1,
                input.len(),
            ] {
                let mut out = vec![0x55; 3];
                let got = encode_shorter(input, bound, &mut out);
                if want.len() < bound {
                    assert_eq!(got, Some(want.len()));
                    assert_eq!(&out[3..], &want[..]);
                } else {
                    assert_eq!(got, None);
                    assert_eq!(out, [0x55; 3]);
                }
            }
        }
    }

    #[test]
    fn respects_the_length_limit() {
        let mut coded = Vec::new();
        encode(b"0123456789", &mut coded);
        let mut out = Vec::new();
        assert_eq!(decode(&coded, &mut out, 9), Err(HuffmanError::TooLong));
        out.clear();
        assert_eq!(decode(&coded, &mut out, 10), Ok(()));
        // Long enough for the 8-bytes-at-a-time path, which hands over near the limit.
        let long: Vec<u8> = (0..300)
            .map(|i| b"abcdefghij0123456789-/"[i % 22])
            .collect();
        let mut coded = Vec::new();
        encode(&long, &mut coded);
        for max in [0, 1, 12, 13, 14, 150, 299] {
            out.clear();
            assert_eq!(decode(&coded, &mut out, max), Err(HuffmanError::TooLong));
            assert!(out.len() <= max);
        }
        out.clear();
        assert_eq!(decode(&coded, &mut out, 300), Ok(()));
        assert_eq!(out, long);
    }
}
