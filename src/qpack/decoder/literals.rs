//! The string literals of a field section: decoded into one buffer that the section's
//! fields then share, and that buffer's storage reused from one section to the next.
//!
//! A section's literals are decoded into `scratch` (the Huffman decoder writes into a
//! `Vec`'s spare room), then copied into `store`, a `BytesMut`, and split off it as the
//! `Bytes` the fields slice. Once the fields of earlier sections are dropped (an
//! application handed its request's headers usually drops them before the next one
//! arrives), `store` is the only owner of its allocation, and the next section's bytes go
//! into the same memory: no allocation per section, where a fresh buffer and its shared
//! header were two. Fields still held keep their bytes; the store then allocates anew.
//!
//! A section with more than [`KEEP`] bytes of literals bypasses the store (the fields get
//! the scratch buffer itself), and the scratch buffer keeps at most [`KEEP`] bytes of
//! capacity after a section, so an occasional large section does not stay with the
//! connection; a field held by the application keeps at most the storage of one store
//! alive.

use bytes::{Bytes, BytesMut};

use super::section_error;
use crate::error::ProtocolError;
use crate::qpack::HeaderField;
use crate::qpack::huffman;
use crate::qpack::string::{self, RawString};

/// The capacity either buffer may keep between sections.
const KEEP: usize = 4096;
/// The store's smallest allocation: about a typical request's literals, so that it is
/// reclaimed rather than regrown, and small, since an idle connection keeps it (a
/// server's connection holds about 380 bytes more than with a buffer per section).
const MIN_STORE: usize = 256;

/// Which half of a field a literal string is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Half {
    Name,
    Value,
}

/// The literals of the section being decoded, and the buffers kept between sections.
#[derive(Debug, Default)]
pub(super) struct SectionLiterals {
    /// This section's decoded literals.
    scratch: Vec<u8>,
    /// (field index, half, start, end) in `scratch`.
    spans: Vec<(usize, Half, usize, usize)>,
    /// The storage sections' literals are split off (see the module documentation).
    store: BytesMut,
}

impl SectionLiterals {
    /// Forgets what a section that failed half way left.
    pub(super) fn start_section(&mut self) {
        self.scratch.clear();
        self.spans.clear();
    }

    /// Decodes `raw` (at most `max_len` bytes) as `half` of field `field`. `section_rest`,
    /// the section bytes from this line on, sizes the buffer on the section's first
    /// literal: decoded strings are at most 8/5 of their coded length, and the Huffman
    /// decoder's room for that (`huffman::room_needed`) is reserved once, so that it never
    /// grows the buffer.
    pub(super) fn decode(
        &mut self,
        raw: RawString<'_>,
        field: usize,
        half: Half,
        max_len: usize,
        section_rest: usize,
    ) -> Result<(), ProtocolError> {
        if self.spans.is_empty() {
            self.scratch.reserve(huffman::room_needed(section_rest));
        }
        let start = self.scratch.len();
        string::decode_into(raw, &mut self.scratch, max_len).map_err(section_error)?;
        self.spans.push((field, half, start, self.scratch.len()));
        Ok(())
    }

    /// The decoded literal bytes of field `field` so far.
    pub(super) fn field_len(&self, field: usize) -> usize {
        self.spans
            .iter()
            .rev()
            .take_while(|s| s.0 == field)
            .map(|s| s.3 - s.2)
            .sum()
    }

    /// The capacity of both buffers (the store's as far as it is its own: storage that
    /// fields still share is theirs).
    pub(super) fn held_bytes(&self) -> usize {
        self.scratch.capacity() + self.store.capacity()
    }

    /// Puts the section's literals into their fields, all sharing one `Bytes`.
    pub(super) fn fill(&mut self, fields: &mut [HeaderField]) {
        if self.spans.is_empty() {
            return;
        }
        let len = self.scratch.len();
        if len > KEEP {
            // Too large to keep: the scratch buffer becomes the fields' own.
            let shared = Bytes::from(std::mem::take(&mut self.scratch));
            self.share_out(&shared, fields);
            return;
        }
        if self.store.capacity() < len {
            // Reclaims the whole allocation if no field of an earlier section is left.
            self.store.reserve(len.max(MIN_STORE));
        }
        self.store.extend_from_slice(&self.scratch);
        let shared = self.store.split().freeze();
        self.share_out(&shared, fields);
        self.scratch.clear();
        if self.scratch.capacity() > KEEP {
            self.scratch = Vec::new();
        }
    }

    /// Gives each span's bytes of `shared` to its field half, and empties the span list.
    fn share_out(&mut self, shared: &Bytes, fields: &mut [HeaderField]) {
        for (field, half, start, end) in self.spans.drain(..) {
            let bytes = shared.slice(start..end);
            match half {
                Half::Name => fields[field].name = bytes,
                Half::Value => fields[field].value = bytes,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Decoder;
    use super::*;
    use crate::qpack::Decoded;
    use crate::qpack::field_lines;

    /// A section (no dynamic table) of literal fields with literal names.
    fn section(fields: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        field_lines::write_prefix(&mut out, 0, 0, 0);
        for (name, value) in fields {
            field_lines::write_literal(&mut out, false, name, value);
        }
        out
    }

    fn decode(d: &mut Decoder, fields: &[(&[u8], &[u8])]) -> Vec<HeaderField> {
        match d.decode(0, &section(fields)).unwrap() {
            Decoded::Headers(h) => h,
            Decoded::Blocked => panic!("blocked"),
        }
    }

    /// Sections whose fields are dropped before the next one (the storage reclaimed, which
    /// tests/qpack_decoder_allocations.rs counts) decode to their own bytes every time.
    #[test]
    fn reclaimed_storage_gives_each_section_its_own_bytes() {
        let mut d = Decoder::new(0, 0);
        for round in 0..300 {
            let value = format!("value of round {round}").repeat(1 + round % 5);
            let fields = decode(&mut d, &[(b"x-name", value.as_bytes()), (b"x-2", b"2")]);
            assert_eq!(fields[0].name, &b"x-name"[..]);
            assert_eq!(fields[0].value, value.as_bytes());
            assert_eq!(fields[1].value, &b"2"[..]);
        }
    }

    #[test]
    fn fields_still_held_keep_their_bytes() {
        let mut d = Decoder::new(0, 0);
        let mut held = Vec::new();
        for round in 0..200u32 {
            let value = format!("held value {round} ").repeat(1 + round as usize % 7);
            let fields = decode(&mut d, &[(b"x-held", value.as_bytes()), (b"x-b", b"b")]);
            if round % 3 == 0 {
                held.push((value, fields));
            }
        }
        for (value, fields) in &held {
            assert_eq!(fields[0].value, value.as_bytes());
            assert_eq!(fields[1].value, &b"b"[..]);
        }
    }

    #[test]
    fn a_large_section_is_not_kept() {
        let mut d = Decoder::new(0, 0);
        let big = vec![b'a'; 3 * KEEP];
        let fields = decode(&mut d, &[(b"x-big", &big)]);
        assert_eq!(fields[0].value.len(), big.len());
        drop(fields);
        assert!(d.literals.scratch.capacity() <= KEEP);
        // Room is reserved for the whole section's worth of literals; a long section with
        // few literal bytes (a literal, then thousands of indexed lines) reserves much more
        // than it uses, and that is not kept either.
        let mut long = section(&[(b"x-first", b"a literal")]);
        for _ in 0..4000 {
            field_lines::write_indexed(&mut long, true, 17);
        }
        let Decoded::Headers(fields) = d.decode(0, &long).unwrap() else {
            panic!("blocked")
        };
        assert_eq!(
            (fields.len(), &fields[0].value[..]),
            (4001, &b"a literal"[..])
        );
        drop(fields);
        assert!(d.literals.scratch.capacity() <= KEEP);
        assert!(d.literals.store.capacity() <= 2 * KEEP);
    }
}
