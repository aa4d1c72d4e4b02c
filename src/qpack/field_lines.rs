//! Encoded field sections (RFC 9204 §4.5): the prefix (Required Insert Count, Base) and the
//! five field line representations.

use super::prefix_int::{self, IntError};
use super::string::{self, RawString, StringError};

/// Encodes a Required Insert Count (§4.5.1.1).
pub fn encode_required_insert_count(ric: u64, max_entries: u64) -> u64 {
    if ric == 0 {
        0
    } else {
        ric % (2 * max_entries) + 1
    }
}

/// Decodes a Required Insert Count (§4.5.1.1) given the decoder's MaxEntries and its
/// total number of inserts so far.
pub fn decode_required_insert_count(
    encoded: u64,
    max_entries: u64,
    total_inserts: u64,
) -> Result<u64, &'static str> {
    if encoded == 0 {
        return Ok(0);
    }
    let full_range = 2 * max_entries;
    if encoded > full_range {
        return Err("encoded Required Insert Count exceeds the table's range");
    }
    let max_value = total_inserts + max_entries;
    let max_wrapped = max_value / full_range * full_range;
    let mut ric = max_wrapped + encoded - 1;
    if ric > max_value {
        if ric <= full_range {
            return Err("invalid Required Insert Count");
        }
        ric -= full_range;
    }
    if ric == 0 {
        return Err("invalid Required Insert Count of zero");
    }
    Ok(ric)
}

/// The decoded section prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix {
    /// Required Insert Count.
    pub required_insert_count: u64,
    /// Base.
    pub base: u64,
}

fn int(buf: &[u8], pos: usize, prefix: u8) -> Result<(u64, usize), &'static str> {
    match prefix_int::decode(buf.get(pos..).unwrap_or(&[]), prefix) {
        Ok((v, used)) => Ok((v, pos + used)),
        Err(IntError::NeedMore) => Err("field section is truncated"),
        Err(IntError::Overflow) => Err("integer overflow in field section"),
    }
}

/// Parses the section prefix.
pub fn parse_prefix(
    buf: &[u8],
    max_entries: u64,
    total_inserts: u64,
) -> Result<(Prefix, usize), &'static str> {
    let (encoded, pos) = int(buf, 0, 8)?;
    let ric = decode_required_insert_count(encoded, max_entries, total_inserts)?;
    let sign = buf.get(pos).ok_or("field section is truncated")? & 0x80 != 0;
    let (delta, end) = int(buf, pos, 7)?;
    let base = if sign {
        ric.checked_sub(delta)
            .and_then(|v| v.checked_sub(1))
            .ok_or("negative Base")?
    } else {
        ric.checked_add(delta)
            .filter(|&b| b <= prefix_int::MAX)
            .ok_or("Base overflow")?
    };
    Ok((
        Prefix {
            required_insert_count: ric,
            base,
        },
        end,
    ))
}

/// Appends the section prefix.
pub fn write_prefix(out: &mut Vec<u8>, ric: u64, base: u64, max_entries: u64) {
    prefix_int::encode(out, 0, 8, encode_required_insert_count(ric, max_entries));
    if base >= ric {
        prefix_int::encode(out, 0, 7, base - ric);
    } else {
        prefix_int::encode(out, 0x80, 7, ric - base - 1);
    }
}

/// One field line representation, strings borrowed from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldLine<'a> {
    /// Indexed Field Line: static index, or dynamic index relative to Base.
    Indexed {
        /// Static table if set.
        is_static: bool,
        /// The index.
        index: u64,
    },
    /// Indexed Field Line with Post-Base Index.
    IndexedPostBase(u64),
    /// Literal Field Line with Name Reference.
    LiteralNameRef {
        /// N: never index.
        never_index: bool,
        /// Static table if set.
        is_static: bool,
        /// The index (relative to Base if dynamic).
        index: u64,
        /// The value.
        value: RawString<'a>,
    },
    /// Literal Field Line with Post-Base Name Reference.
    LiteralPostBaseNameRef {
        /// N: never index.
        never_index: bool,
        /// The post-base index.
        index: u64,
        /// The value.
        value: RawString<'a>,
    },
    /// Literal Field Line with Literal Name.
    Literal {
        /// N: never index.
        never_index: bool,
        /// The name.
        name: RawString<'a>,
        /// The value.
        value: RawString<'a>,
    },
}

fn string(
    buf: &[u8],
    pos: usize,
    prefix: u8,
    max_len: u64,
) -> Result<(RawString<'_>, usize), &'static str> {
    string::parse(buf, pos, prefix, max_len).map_err(|e| match e {
        StringError::NeedMore(_) => "field section is truncated",
        StringError::TooLong => "string literal exceeds the field section size limit",
        StringError::Overflow => "string length overflow",
    })
}

/// Parses one field line from the start of `buf` (a complete section's remainder).
pub fn parse_line(buf: &[u8], max_string: u64) -> Result<(FieldLine<'_>, usize), &'static str> {
    let first = *buf.first().ok_or("field section is truncated")?;
    if first & 0x80 != 0 {
        let (index, end) = int(buf, 0, 6)?;
        Ok((
            FieldLine::Indexed {
                is_static: first & 0x40 != 0,
                index,
            },
            end,
        ))
    } else if first & 0x40 != 0 {
        let (index, pos) = int(buf, 0, 4)?;
        let (value, end) = string(buf, pos, 7, max_string)?;
        let line = FieldLine::LiteralNameRef {
            never_index: first & 0x20 != 0,
            is_static: first & 0x10 != 0,
            index,
            value,
        };
        Ok((line, end))
    } else if first & 0x20 != 0 {
        let (name, pos) = string(buf, 0, 3, max_string)?;
        let (value, end) = string(buf, pos, 7, max_string)?;
        Ok((
            FieldLine::Literal {
                never_index: first & 0x10 != 0,
                name,
                value,
            },
            end,
        ))
    } else if first & 0x10 != 0 {
        let (index, end) = int(buf, 0, 4)?;
        Ok((FieldLine::IndexedPostBase(index), end))
    } else {
        let (index, pos) = int(buf, 0, 3)?;
        let (value, end) = string(buf, pos, 7, max_string)?;
        let line = FieldLine::LiteralPostBaseNameRef {
            never_index: first & 0x08 != 0,
            index,
            value,
        };
        Ok((line, end))
    }
}

/// Appends an Indexed Field Line (static, or dynamic relative to Base).
pub fn write_indexed(out: &mut Vec<u8>, is_static: bool, index: u64) {
    prefix_int::encode(out, if is_static { 0xc0 } else { 0x80 }, 6, index);
}

/// Appends an Indexed Field Line with Post-Base Index (our encoder always sets Base to
/// the Required Insert Count, so only tests write these).
#[cfg(test)]
pub fn write_indexed_post_base(out: &mut Vec<u8>, index: u64) {
    prefix_int::encode(out, 0x10, 4, index);
}

/// Appends a Literal Field Line with Name Reference.
pub fn write_literal_name_ref(
    out: &mut Vec<u8>,
    never_index: bool,
    is_static: bool,
    index: u64,
    value: &[u8],
) {
    let flags = 0x40 | if never_index { 0x20 } else { 0 } | if is_static { 0x10 } else { 0 };
    prefix_int::encode(out, flags, 4, index);
    string::write(out, 0, 7, value);
}

/// Appends a Literal Field Line with Post-Base Name Reference (tests only, as above).
#[cfg(test)]
pub fn write_literal_post_base_name_ref(
    out: &mut Vec<u8>,
    never_index: bool,
    index: u64,
    value: &[u8],
) {
    prefix_int::encode(out, if never_index { 0x08 } else { 0 }, 3, index);
    string::write(out, 0, 7, value);
}

/// Appends a Literal Field Line with Literal Name.
pub fn write_literal(out: &mut Vec<u8>, never_index: bool, name: &[u8], value: &[u8]) {
    string::write(out, if never_index { 0x30 } else { 0x20 }, 3, name);
    string::write(out, 0, 7, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_insert_count_round_trips_with_wraparound() {
        let max_entries = 4;
        for total in 0..40u64 {
            // Any RIC the decoder could legitimately see: within MaxEntries of its total.
            for ric in total.saturating_sub(max_entries - 1).max(1)..=total + max_entries {
                let enc = encode_required_insert_count(ric, max_entries);
                assert!(enc <= 2 * max_entries);
                assert_eq!(
                    decode_required_insert_count(enc, max_entries, total),
                    Ok(ric),
                    "{ric} {total}"
                );
            }
        }
        assert_eq!(decode_required_insert_count(0, 4, 10), Ok(0));
        assert!(decode_required_insert_count(9, 4, 10).is_err());
        assert!(decode_required_insert_count(1, 0, 0).is_err());
        // Encoded 1 means a multiple of 2 * MaxEntries: zero is invalid, 8 is too far ahead.
        assert!(decode_required_insert_count(1, 4, 0).is_err());
        assert_eq!(decode_required_insert_count(1, 4, 4), Ok(8));
    }

    #[test]
    fn prefix_round_trips_with_both_base_signs() {
        for (ric, base) in [(0, 0), (5, 5), (5, 9), (5, 0), (5, 4), (1, 0)] {
            let mut out = Vec::new();
            write_prefix(&mut out, ric, base, 100);
            let (p, used) = parse_prefix(&out, 100, 10).unwrap();
            assert_eq!(used, out.len());
            assert_eq!((p.required_insert_count, p.base), (ric, base));
        }
        // S=1 with Delta Base making Base negative.
        assert!(parse_prefix(&[0x02, 0x81], 100, 10).is_err());
        assert!(parse_prefix(&[0x00], 100, 10).is_err());
    }

    #[test]
    fn every_representation_round_trips() {
        let mut out = Vec::new();
        write_indexed(&mut out, true, 17);
        write_indexed(&mut out, false, 3);
        write_indexed_post_base(&mut out, 20);
        write_literal_name_ref(&mut out, true, true, 1, b"/index.html");
        write_literal_name_ref(&mut out, false, false, 70, b"v");
        write_literal_post_base_name_ref(&mut out, true, 9, b"");
        write_literal(&mut out, true, b"x-custom-name", b"some value");
        let mut lines = Vec::new();
        let mut pos = 0;
        while pos < out.len() {
            let (line, used) = parse_line(&out[pos..], 1000).unwrap();
            lines.push(format!("{line:?}"));
            pos += used;
        }
        assert_eq!(lines.len(), 7);
        assert!(lines[0].contains("is_static: true, index: 17"));
        assert!(lines[1].contains("is_static: false, index: 3"));
        assert_eq!(lines[2], "IndexedPostBase(20)");
        assert!(lines[3].contains("never_index: true, is_static: true, index: 1"));
        assert!(lines[4].contains("never_index: false, is_static: false, index: 70"));
        assert!(lines[5].contains("never_index: true, index: 9"));
        assert!(lines[6].starts_with("Literal { never_index: true"));
    }
}
