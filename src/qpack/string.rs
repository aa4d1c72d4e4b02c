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
pub fn write(out: &mut Vec<u8>, flags: u8, prefix: u8, value: &[u8]) {
    let h_bit = 1u8 << prefix;
    let flags = flags & !(h_bit | (h_bit - 1));
    if value.len() < usize::from(h_bit - 1) {
        // Either form's length fits the prefix byte: Huffman-code in place, in one pass,
        // and fall back to the raw bytes if that is not shorter.
        let at = out.len();
        out.push(0);
        huffman::encode(value, out);
        let huff_len = out.len() - at - 1;
        if huff_len < value.len() {
            out[at] = flags | h_bit | huff_len as u8;
        } else {
            out.truncate(at);
            out.push(flags | value.len() as u8);
            out.extend_from_slice(value);
        }
        return;
    }
    let huff_len = huffman::encoded_len(value);
    if huff_len < value.len() {
        prefix_int::encode(out, flags | h_bit, prefix, huff_len as u64);
        huffman::encode(value, out);
    } else {
        prefix_int::encode(out, flags, prefix, value.len() as u64);
        out.extend_from_slice(value);
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
