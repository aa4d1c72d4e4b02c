//! N-bit prefix integers (RFC 7541 §5.1), as QPACK uses them (RFC 9204 §4.1.1).
//!
//! The first byte carries a few flag bits above an N-bit prefix; values that do not fit
//! the prefix continue in 7-bit groups, least significant first. Values above
//! [`MAX`] (2^62 - 1, the largest QUIC varint, which bounds every QPACK quantity) are
//! rejected, as are encodings with more continuation bytes than such a value needs.

/// The largest value accepted: 2^62 - 1.
pub const MAX: u64 = (1 << 62) - 1;

/// Why a prefix integer could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntError {
    /// The input ends inside the integer; nothing was consumed.
    NeedMore,
    /// The value exceeds [`MAX`] (or the encoding is absurdly long).
    Overflow,
}

/// The largest value an N-bit prefix holds, and `flags` with the prefix's bits cleared
/// (the bits above the prefix in the first byte).
#[inline]
fn first_byte(flags: u8, prefix: u8) -> (u64, u8) {
    debug_assert!((1..=8).contains(&prefix));
    let max_prefix: u64 = (1u64 << prefix) - 1;
    let flags = if prefix == 8 {
        0
    } else {
        flags & !(max_prefix as u8)
    };
    (max_prefix, flags)
}

/// Appends `value` with an N-bit prefix (`prefix` in 1..=8); `flags` supplies the bits
/// above the prefix in the first byte.
#[inline]
pub fn encode(out: &mut Vec<u8>, flags: u8, prefix: u8, value: u64) {
    let (max_prefix, flags) = first_byte(flags, prefix);
    if value < max_prefix {
        out.push(flags | value as u8);
        return;
    }
    out.push(flags | max_prefix as u8);
    let mut rest = value - max_prefix;
    while rest >= 128 {
        out.push((rest & 0x7f) as u8 | 0x80);
        rest >>= 7;
    }
    out.push(rest as u8);
}

/// Writes `value` with an N-bit prefix at the start of `buf`, which must be at least
/// [`encoded_len`] bytes long (the bytes after those are left alone).
pub fn encode_at(buf: &mut [u8], flags: u8, prefix: u8, value: u64) {
    let (max_prefix, flags) = first_byte(flags, prefix);
    if value < max_prefix {
        buf[0] = flags | value as u8;
        return;
    }
    buf[0] = flags | max_prefix as u8;
    let mut rest = value - max_prefix;
    let mut at = 1;
    while rest >= 128 {
        buf[at] = (rest & 0x7f) as u8 | 0x80;
        rest >>= 7;
        at += 1;
    }
    buf[at] = rest as u8;
}

/// The number of bytes [`encode`] writes for `value` with an N-bit prefix.
pub fn encoded_len(prefix: u8, value: u64) -> usize {
    let max_prefix: u64 = (1u64 << prefix) - 1;
    if value < max_prefix {
        return 1;
    }
    let mut rest = value - max_prefix;
    let mut len = 2;
    while rest >= 128 {
        rest >>= 7;
        len += 1;
    }
    len
}

/// Decodes an N-bit prefix integer from the start of `buf` (the flag bits of the first
/// byte are ignored). Returns the value and the number of bytes it took.
pub fn decode(buf: &[u8], prefix: u8) -> Result<(u64, usize), IntError> {
    debug_assert!((1..=8).contains(&prefix));
    let first = *buf.first().ok_or(IntError::NeedMore)?;
    let max_prefix: u64 = (1u64 << prefix) - 1;
    let mut value = u64::from(first) & max_prefix;
    if value < max_prefix {
        return Ok((value, 1));
    }
    let mut shift = 0u32;
    for (i, &byte) in buf[1..].iter().enumerate() {
        // 62 bits need at most 9 continuation groups of 7 bits.
        if shift > 63 - 7 {
            return Err(IntError::Overflow);
        }
        let part = u64::from(byte & 0x7f) << shift;
        value = value.checked_add(part).ok_or(IntError::Overflow)?;
        if value > MAX {
            return Err(IntError::Overflow);
        }
        if byte & 0x80 == 0 {
            return Ok((value, i + 2));
        }
        shift += 7;
    }
    Err(IntError::NeedMore)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7541_c1_examples() {
        // C.1.1: 10 with a 5-bit prefix.
        let mut out = Vec::new();
        encode(&mut out, 0, 5, 10);
        assert_eq!(out, [0x0a]);
        assert_eq!(decode(&out, 5), Ok((10, 1)));
        // C.1.2: 1337 with a 5-bit prefix.
        out.clear();
        encode(&mut out, 0xe0, 5, 1337);
        assert_eq!(out, [0xff, 0x9a, 0x0a]);
        assert_eq!(decode(&out, 5), Ok((1337, 3)));
        // C.1.3: 42 at an octet boundary.
        out.clear();
        encode(&mut out, 0, 8, 42);
        assert_eq!(out, [42]);
        assert_eq!(decode(&out, 8), Ok((42, 1)));
    }

    #[test]
    fn round_trips_at_boundaries_for_every_prefix() {
        for prefix in 1..=8u8 {
            let m = (1u64 << prefix) - 1;
            for value in [0, 1, m - 1, m, m + 1, m + 127, m + 128, 1 << 20, MAX] {
                let mut out = Vec::new();
                encode(&mut out, 0xff, prefix, value);
                assert_eq!(out.len(), encoded_len(prefix, value));
                let mut at = vec![0x5a; out.len() + 2];
                encode_at(&mut at, 0xff, prefix, value);
                assert_eq!(
                    (&at[..out.len()], &at[out.len()..]),
                    (&out[..], &[0x5a, 0x5a][..])
                );
                assert_eq!(
                    decode(&out, prefix),
                    Ok((value, out.len())),
                    "{prefix} {value}"
                );
                for cut in 0..out.len() {
                    assert_eq!(decode(&out[..cut], prefix), Err(IntError::NeedMore));
                }
            }
        }
    }

    #[test]
    fn flags_are_kept_above_the_prefix() {
        let mut out = Vec::new();
        encode(&mut out, 0b1100_0000, 6, 5);
        assert_eq!(out, [0b1100_0101]);
    }

    #[test]
    fn rejects_values_beyond_2_62() {
        let mut out = Vec::new();
        encode(&mut out, 0, 5, MAX);
        assert!(decode(&out, 5).is_ok());
        // 2^62 exactly.
        let mut big = vec![0x1f];
        let mut rest = (1u64 << 62) - 31;
        while rest >= 128 {
            big.push((rest & 0x7f) as u8 | 0x80);
            rest >>= 7;
        }
        big.push(rest as u8);
        assert_eq!(decode(&big, 5), Err(IntError::Overflow));
        // Endless continuation bytes.
        let endless = [
            0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
        ];
        assert_eq!(decode(&endless, 5), Err(IntError::Overflow));
        let huge = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ];
        assert_eq!(decode(&huge, 8), Err(IntError::Overflow));
    }
}
