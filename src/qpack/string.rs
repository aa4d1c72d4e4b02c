//! String literals (RFC 9204 §4.1.2): an H (Huffman) flag bit, an N-bit prefix length,
//! then the bytes, Huffman-coded or not.

use super::huffman;
use super::prefix_int::{self, IntError};

/// A string literal as it sits in the input, not yet Huffman-decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawString<'a> {
    /// Whether `data` is Huffman-coded.
    pub huffman: bool,
    /// The encoded bytes.
    pub data: &'a [u8],
}

/// Why a string literal could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StringError {
    /// At least this many bytes (counted from the start of the slice given) are needed.
    NeedMore(usize),
    /// The length exceeds the caller's limit.
    TooLong,
    /// The length prefix overflows.
    Overflow,
}

/// Reads a string literal whose H bit is bit `prefix` of `buf[pos]` and whose length has an
/// N-bit prefix. `max_len` bounds the decoded length: a raw string longer than that, or a
/// Huffman string too long to decode to at most that (codes are at most 30 bits per
/// byte), is rejected as soon as its length is read. Returns the string and the position
/// after it.
pub fn parse(
    buf: &[u8],
    pos: usize,
    prefix: u8,
    max_len: u64,
) -> Result<(RawString<'_>, usize), StringError> {
    let rest = buf.get(pos..).unwrap_or(&[]);
    let first = *rest.first().ok_or(StringError::NeedMore(pos + 1))?;
    let huffman = first & (1 << prefix) != 0;
    let (len, used) = match prefix_int::decode(rest, prefix) {
        Ok(v) => v,
        Err(IntError::NeedMore) => return Err(StringError::NeedMore(pos + rest.len() + 1)),
        Err(IntError::Overflow) => return Err(StringError::Overflow),
    };
    let bound = if huffman {
        max_len.saturating_mul(15) / 4 + 1
    } else {
        max_len
    };
    if len > bound {
        return Err(StringError::TooLong);
    }
    let start = pos + used;
    let end = start + len as usize;
    if buf.len() < end {
        return Err(StringError::NeedMore(end));
    }
    Ok((
        RawString {
            huffman,
            data: &buf[start..end],
        },
        end,
    ))
}

/// Decodes a raw string into owned bytes, bounded by `max_len` decoded bytes.
pub fn decode(raw: RawString<'_>, max_len: usize) -> Result<Vec<u8>, &'static str> {
    let mut out = Vec::new();
    decode_into(raw, &mut out, max_len)?;
    Ok(out)
}

/// Decodes a raw string, appending it to `out`, bounded by `max_len` decoded bytes (on
/// failure `out` may hold part of it).
pub fn decode_into(
    raw: RawString<'_>,
    out: &mut Vec<u8>,
    max_len: usize,
) -> Result<(), &'static str> {
    if raw.huffman {
        huffman::decode(raw.data, out, max_len).map_err(huffman::HuffmanError::reason)
    } else if raw.data.len() > max_len {
        Err("string literal exceeds the length limit")
    } else {
        out.extend_from_slice(raw.data);
        Ok(())
    }
}

/// Appends a string literal: `flags` above the H bit, H at bit `prefix`, length with an
/// N-bit prefix. Uses Huffman coding when it is shorter.
///
/// One pass: room for the raw length's prefix integer (the longest the length can need,
/// since Huffman is used only when shorter) is left, the Huffman code goes after it and
/// stops as soon as it is no shorter; the code is moved down in the rare case its length
/// needs fewer bytes than the raw one would.
pub fn write(out: &mut Vec<u8>, flags: u8, prefix: u8, value: &[u8]) {
    let h_bit = 1u8 << prefix;
    let flags = flags & !(h_bit | (h_bit - 1));
    let at = out.len();
    let room = prefix_int::encoded_len(prefix, value.len() as u64);
    // Placeholder bytes for the length (at most 10), overwritten below.
    out.extend_from_slice(&[0; 10][..room]);
    match huffman::encode_shorter(value, value.len(), out) {
        Some(huff_len) => {
            let len_bytes = prefix_int::encoded_len(prefix, huff_len as u64);
            if len_bytes < room {
                out.copy_within(at + room.., at + len_bytes);
                out.truncate(at + len_bytes + huff_len);
            }
            prefix_int::encode_at(&mut out[at..], flags | h_bit, prefix, huff_len as u64);
        }
        None => {
            prefix_int::encode_at(&mut out[at..], flags, prefix, value.len() as u64);
            out.extend_from_slice(value);
        }
    }
}

/// The number of bytes [`write`] produces.
#[cfg(test)]
pub fn written_len(prefix: u8, value: &[u8]) -> usize {
    let len = huffman::encoded_len(value).min(value.len());
    prefix_int::encoded_len(prefix, len as u64) + len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_huffman_only_when_shorter_and_parses_back() {
        for (value, prefix) in [
            (&b"www.example.com"[..], 7u8),
            (b"\x00\x01\x02", 7),
            (b"", 3),
            (b"custom-key", 3),
        ] {
            let mut out = Vec::new();
            write(&mut out, 0xff, prefix, value);
            assert_eq!(out.len(), written_len(prefix, value));
            let (raw, end) = parse(&out, 0, prefix, 1000).unwrap();
            assert_eq!(end, out.len());
            assert_eq!(decode(raw, 1000).unwrap(), value);
            for cut in 0..out.len() {
                assert!(
                    matches!(parse(&out[..cut], 0, prefix, 1000), Err(StringError::NeedMore(n)) if n > cut)
                );
            }
        }
    }

    /// Lengths around the prefix boundaries, where the Huffman length may need fewer
    /// bytes than the raw length the room was left for (its code is then moved down).
    #[test]
    fn writes_around_prefix_boundaries() {
        let text = b"the quick brown fox jumps over the lazy dog 0123456789";
        let rare = [0xffu8, 0x00, 0xfe, 0x01];
        for prefix in [3u8, 5, 7] {
            let m = (1usize << prefix) - 1;
            for len in [
                0,
                1,
                m - 1,
                m,
                m + 1,
                m + 2,
                m + 20,
                m + 127,
                m + 128,
                m + 140,
                400,
            ] {
                for source in [&text[..], &rare[..]] {
                    let value: Vec<u8> = source.iter().copied().cycle().take(len).collect();
                    let mut out = vec![0x77];
                    write(&mut out, 0xff, prefix, &value);
                    assert_eq!(out[0], 0x77);
                    let out = &out[1..];
                    assert_eq!(out.len(), written_len(prefix, &value), "{prefix} {len}");
                    let flags = 0xffu8.checked_shl(u32::from(prefix) + 1).unwrap_or(0);
                    assert_eq!(out[0] & flags, flags, "flags kept");
                    let (raw, end) = parse(out, 0, prefix, 1000).unwrap();
                    assert_eq!(end, out.len());
                    assert_eq!(raw.huffman, huffman::encoded_len(&value) < value.len());
                    assert_eq!(decode(raw, 1000).unwrap(), value);
                }
            }
        }
    }

    #[test]
    fn length_limits_apply_before_the_bytes_arrive() {
        let mut out = Vec::new();
        write(&mut out, 0, 7, &[0u8; 300]);
        assert_eq!(parse(&out[..3], 0, 7, 299), Err(StringError::TooLong));
        let raw = RawString {
            huffman: false,
            data: &[1, 2, 3],
        };
        assert!(decode(raw, 2).is_err());
    }
}
