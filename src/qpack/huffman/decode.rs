//! Huffman decoding: 12 bits looked up at a time, up to two codes per lookup, a canonical
//! search for the rare codes longer than that.

use super::{CODES, EOS, LENGTHS};

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
/// up to two, as a [`Lookup`]. 0 symbols: the first code is longer than [`FAST_BITS`].
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
                (len1 + len2) | (2 << 6) | (sym1 << 8) | (((second & 0xff) as u32) << 16)
            } else {
                len1 | (1 << 6) | (sym1 << 8)
            } | (len1 << 24);
        }
        w += 1;
    }
    table
}

static PAIRS: [u32; 1 << FAST_BITS] = build_pair_table();

/// An entry of [`PAIRS`]: the bits the codes take in bits 0..6 (the lowest, so that the
/// next lookup waits for a load, one mask and a shift), how many codes there are (0, 1 or
/// 2) in bits 6..8, the first symbol in bits 8..16, the second in bits 16..24, the first
/// code's length in bits 24..29.
#[derive(Clone, Copy)]
struct Lookup(u32);

impl Lookup {
    /// Bits taken by all the codes found.
    #[inline(always)]
    fn used(self) -> u32 {
        self.0 & 0x3f
    }

    #[inline(always)]
    fn count(self) -> u32 {
        self.0 >> 6 & 3
    }

    #[inline(always)]
    fn first(self) -> u8 {
        (self.0 >> 8) as u8
    }

    #[inline(always)]
    fn second(self) -> u8 {
        (self.0 >> 16) as u8
    }

    #[inline(always)]
    fn first_len(self) -> u32 {
        self.0 >> 24
    }
}

/// The canonical code's shape, for codes longer than [`FAST_BITS`]: per length, the first
/// code (right-aligned), one past the last code left-aligned to 30 bits, and where the
/// length's symbols start in `sorted` (the symbols in code order).
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
    out.reserve(room(input.len(), max_len));
    let limit = out.len().saturating_add(max_len);
    let mut window = Window { acc: 0, bits: 0 };
    let rest = decode_bulk(input, out, limit, &mut window)?;
    decode_tail(rest, out, limit, window)
}

/// The spare capacity [`decode`] may use in its output for `input_len` bytes of input (at
/// most 8 bits per 5-bit code: 8/5 bytes out per byte in, plus the bytes it writes ahead).
/// Reserved beforehand, it spares `decode` a reallocation.
pub fn room_needed(input_len: usize) -> usize {
    room(input_len, usize::MAX)
}

/// [`room_needed`] for a decode of at most `max_len` bytes.
fn room(input_len: usize, max_len: usize) -> usize {
    (input_len.saturating_mul(8) / 5)
        .min(max_len)
        .saturating_add(ROUND_WRITES)
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
    fn lookup(&self) -> Lookup {
        Lookup(PAIRS[(self.acc >> (64 - FAST_BITS)) as usize])
    }
}

/// Symbols one round of [`decode_bulk`] may write: a round starts with at most 63 bits
/// and ends below 30, so it consumes at most 45 bits (codes of at least 5 bits), plus the
/// second symbol it writes ahead.
const ROUND_WRITES: usize = 45 / 5 + 1;

/// The bulk of [`decode`]: while at least 8 input bytes are left (and the limit is not
/// near), reads 8 at a time and decodes up to two codes per lookup of [`PAIRS`] as long as
/// 30 bits (any code) are pending. Returns the input not read yet.
///
/// The symbols go into room made in `out` beforehand, both of a lookup's symbol slots
/// written whether it found one code or two (the second is overwritten or cut off): no
/// capacity check per symbol, and no branch on the count, which text makes unpredictable.
fn decode_bulk<'a>(
    input: &'a [u8],
    out: &mut Vec<u8>,
    limit: usize,
    w: &mut Window,
) -> Result<&'a [u8], HuffmanError> {
    let start = out.len();
    if input.len() < 8 || limit - start <= ROUND_WRITES {
        return Ok(input);
    }
    // No round starts within ROUND_WRITES of the limit.
    out.resize(start + room(input.len(), limit - start), 0);
    let mut end = start;
    let mut rest = input;
    let mut result = Ok(());
    'rounds: while let Some(word) = rest.first_chunk::<8>() {
        if limit - end <= ROUND_WRITES {
            break;
        }
        rest = &rest[w.refill(u64::from_be_bytes(*word))..];
        while w.bits >= 30 {
            let lookup = w.lookup();
            if lookup.count() == 0 {
                let (sym, len) = decode_long((w.acc >> 34) as u32);
                if sym == EOS {
                    result = Err(HuffmanError::Eos);
                    break 'rounds;
                }
                out[end] = sym as u8;
                end += 1;
                w.consume(len);
                continue;
            }
            out[end] = lookup.first();
            out[end + 1] = lookup.second();
            end += lookup.count() as usize;
            w.consume(lookup.used());
        }
    }
    out.truncate(end);
    result.map(|()| rest)
}

/// The end of [`decode`]: the input left, read as if followed by ones (EOS's bits), one or
/// two codes per lookup as long as they end within the input; then the padding check.
fn decode_tail(
    rest: &[u8],
    out: &mut Vec<u8>,
    limit: usize,
    mut w: Window,
) -> Result<(), HuffmanError> {
    let mut push = |sym: u8| {
        if out.len() >= limit {
            return Err(HuffmanError::TooLong);
        }
        out.push(sym);
        Ok(())
    };
    // Input bits not decoded yet, in the window or still in `rest`.
    let mut real = u64::from(w.bits) + 8 * rest.len() as u64;
    // A short rest (what the bulk leaves, or a short string) is copied once, followed by
    // ones, so that each refill is one load; rebuilding the word in memory before every
    // lookup made each load wait for the bytes just stored.
    let mut padded = [0xffu8; 24];
    let source = match padded.get_mut(..rest.len()) {
        Some(start) if rest.len() < 8 => {
            start.copy_from_slice(rest);
            &padded[..]
        }
        _ => rest,
    };
    let mut pos = 0;
    while real > 0 {
        let unread = source.get(pos..).unwrap_or_default();
        let word = match unread.first_chunk::<8>() {
            Some(word) => u64::from_be_bytes(*word),
            None => unread
                .iter()
                .rev()
                .fold(u64::MAX, |word, &byte| word >> 8 | u64::from(byte) << 56),
        };
        pos += w.refill(word);
        let lookup = w.lookup();
        let (count, used, first_len) = (lookup.count(), lookup.used(), lookup.first_len());
        let len = if count == 0 {
            let (sym, len) = decode_long((w.acc >> 34) as u32);
            if u64::from(len) > real {
                break;
            }
            if sym == EOS {
                return Err(HuffmanError::Eos);
            }
            push(sym as u8)?;
            len
        } else if count == 2 && u64::from(used) <= real {
            push(lookup.first())?;
            push(lookup.second())?;
            used
        } else if u64::from(first_len) <= real {
            push(lookup.first())?;
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

#[cfg(test)]
mod tests {
    use super::super::encode;
    use super::*;

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
        let mut next = crate::test_util::byte_source(0x9e37_79b9_7f4a_7c15);
        for case in 0..6_000 {
            // Mostly short, as header strings are; one in four long enough for the bulk.
            let len = usize::from(next()) % if case % 4 == 3 { 90 } else { 24 };
            let input: Vec<u8> = match case % 3 {
                0 => (0..len).map(|_| next()).collect(),
                // Valid codes, mostly, with the last bytes perturbed: of any bytes (long
                // codes), or of header-like text (two short codes per lookup, or one).
                _ => {
                    let plain: Vec<u8> = if case % 3 == 1 {
                        (0..len).map(|_| next()).collect()
                    } else {
                        (0..len)
                            .map(|_| b"abcdez019-_./:=XYZ%&~"[usize::from(next()) % 21])
                            .collect()
                    };
                    let mut coded = Vec::new();
                    encode(&plain, &mut coded);
                    if let Some(last) = coded.last_mut() {
                        *last ^= next() & 0x0f;
                    }
                    coded
                }
            };
            // Appended after what the buffer holds already, as a section's literals are.
            let held = usize::from(next() % 3) * 5;
            let mut out = vec![0x5a; held];
            let ours = decode(&input, &mut out, 1 << 20).map(|()| out[held..].to_vec());
            assert_eq!(ours, reference_decode(&input), "input {input:02x?}");
            assert!(out[..held].iter().all(|&b| b == 0x5a));
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

    /// Limits close to the decoded length send long inputs through the tail (the bulk
    /// stops short of the limit), which then reads 8 bytes at a time and the last ones
    /// padded; every string must still decode exactly, or fail as too long.
    #[test]
    fn decodes_near_the_limit_through_the_tail() {
        let text: Vec<u8> = (0..64)
            .map(|i| b"abcdefghij0123456789-/%~XYZ"[i * 7 % 27])
            .collect();
        for len in 0..text.len() {
            let plain = &text[..len];
            let mut coded = Vec::new();
            encode(plain, &mut coded);
            for max in len.saturating_sub(3)..len + 14 {
                let mut out = vec![7];
                let result = decode(&coded, &mut out, max);
                if len <= max {
                    assert_eq!(result, Ok(()), "{len} {max}");
                    assert_eq!((out[0], &out[1..]), (7, plain), "{len} {max}");
                } else {
                    assert_eq!(result, Err(HuffmanError::TooLong), "{len} {max}");
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
