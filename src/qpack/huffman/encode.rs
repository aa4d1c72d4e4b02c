//! Huffman encoding: codes left-aligned in a 64-bit accumulator, four bytes' codes
//! shifted in per step and 8 bytes stored at a time.

use super::{CODES, LENGTHS};

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
    use super::super::{CODES, LENGTHS, decode};
    use super::*;

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
        let mut next = crate::test_util::byte_source(0x2545_f491_4f6c_dd1d);
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
}
