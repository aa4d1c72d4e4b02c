//! QUIC variable-length integers (RFC 9000 §16): 1, 2, 4 or 8 bytes, the two top bits of
//! the first byte giving the length. Values run from 0 to 2^62 - 1.

/// The largest value a varint can carry: 2^62 - 1.
pub const MAX: u64 = (1 << 62) - 1;

/// How a decode attempt ended when it could not return a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Incomplete {
    /// More bytes are needed; nothing was consumed.
    NeedMore,
}

/// The number of bytes `value` takes on the wire. `value` must be at most [`MAX`].
pub fn encoded_len(value: u64) -> usize {
    debug_assert!(value <= MAX, "varint out of range");
    match value {
        0..=63 => 1,
        64..=16_383 => 2,
        16_384..=1_073_741_823 => 4,
        _ => 8,
    }
}

/// The total length of a varint, read from its first byte.
pub fn len_from_first_byte(first: u8) -> usize {
    1 << (first >> 6)
}

/// Appends `value` to `out`. Values above [`MAX`] are a bug in the caller and are clamped
/// in release builds (debug builds assert).
pub fn encode(value: u64, out: &mut Vec<u8>) {
    let value = value.min(MAX);
    match encoded_len(value) {
        1 => out.push(value as u8),
        2 => out.extend_from_slice(&((value as u16) | 0x4000).to_be_bytes()),
        4 => out.extend_from_slice(&((value as u32) | 0x8000_0000).to_be_bytes()),
        _ => out.extend_from_slice(&(value | 0xc000_0000_0000_0000).to_be_bytes()),
    }
}

/// Decodes a varint from the start of `buf`, returning the value and its length.
pub fn decode(buf: &[u8]) -> Result<(u64, usize), Incomplete> {
    let first = *buf.first().ok_or(Incomplete::NeedMore)?;
    let len = len_from_first_byte(first);
    if buf.len() < len {
        return Err(Incomplete::NeedMore);
    }
    let mut value = u64::from(first & 0x3f);
    for byte in &buf[1..len] {
        value = (value << 8) | u64::from(*byte);
    }
    Ok((value, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9000_appendix_a1_examples() {
        let cases: &[(&[u8], u64)] = &[
            (
                &[0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c],
                151_288_809_941_952_652,
            ),
            (&[0x9d, 0x7f, 0x3e, 0x7d], 494_878_333),
            (&[0x7b, 0xbd], 15_293),
            (&[0x25], 37),
            (&[0x40, 0x25], 37),
        ];
        for (bytes, value) in cases {
            assert_eq!(decode(bytes), Ok((*value, bytes.len())));
        }
    }

    #[test]
    fn encode_decode_round_trip_at_every_boundary() {
        for value in [0, 63, 64, 16_383, 16_384, 1_073_741_823, 1_073_741_824, MAX] {
            let mut out = Vec::new();
            encode(value, &mut out);
            assert_eq!(out.len(), encoded_len(value));
            assert_eq!(decode(&out), Ok((value, out.len())));
            assert_eq!(decode(&out[..out.len() - 1]), Err(Incomplete::NeedMore));
        }
    }

    #[test]
    fn empty_input_needs_more() {
        assert_eq!(decode(&[]), Err(Incomplete::NeedMore));
    }
}
