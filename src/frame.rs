//! HTTP/3 frames (RFC 9114 §7): type and setting identifiers, encoding, SETTINGS and
//! MAX_PUSH_ID payloads, and an incremental frame-header reader.
//!
//! Frames are parsed incrementally: [`VarintReader`] and [`FrameHeaderReader`] keep only
//! the few bytes of a varint split across QUIC events, so a frame's type and length are
//! known as soon as their last byte arrives, before any payload. What happens to the
//! payload (streamed, skipped, buffered whole) is the stream's decision.

use std::collections::BTreeMap;

use crate::error::{ErrorCode, ProtocolError};
use crate::varint;

/// Frame types (RFC 9114 §7.2, §11.2.1).
pub mod frame_type {
    /// DATA: message content.
    pub const DATA: u64 = 0x0;
    /// HEADERS: a QPACK-encoded field section.
    pub const HEADERS: u64 = 0x1;
    /// CANCEL_PUSH (control stream).
    pub const CANCEL_PUSH: u64 = 0x3;
    /// SETTINGS (control stream, first frame).
    pub const SETTINGS: u64 = 0x4;
    /// PUSH_PROMISE (request stream, server to client).
    pub const PUSH_PROMISE: u64 = 0x5;
    /// GOAWAY (control stream).
    pub const GOAWAY: u64 = 0x7;
    /// ORIGIN (RFC 9412; control stream, server to client).
    pub const ORIGIN: u64 = 0xc;
    /// MAX_PUSH_ID (control stream, client to server).
    pub const MAX_PUSH_ID: u64 = 0xd;
    /// PRIORITY_UPDATE for a request stream (RFC 9218 §7.2; control stream, client to
    /// server).
    pub const PRIORITY_UPDATE_REQUEST: u64 = 0xf0700;
    /// PRIORITY_UPDATE for a push (RFC 9218 §7.2; control stream, client to server).
    pub const PRIORITY_UPDATE_PUSH: u64 = 0xf0701;
    /// WEBTRANSPORT_STREAM: starts a WebTransport bidirectional stream; its "length" is
    /// the session id and the rest of the stream is WebTransport data.
    pub const WEBTRANSPORT_STREAM: u64 = 0x41;
    /// HTTP/2 frame types with no HTTP/3 meaning (PRIORITY, PING, WINDOW_UPDATE,
    /// CONTINUATION): receiving one is H3_FRAME_UNEXPECTED.
    pub const HTTP2_ONLY: [u64; 4] = [0x2, 0x6, 0x8, 0x9];

    /// True for the HTTP/2-only types 0x2, 0x6, 0x8, 0x9.
    pub fn is_http2_only(ty: u64) -> bool {
        HTTP2_ONLY.contains(&ty)
    }
}

/// The `n`th reserved ("GREASE") value of the space frame types, setting identifiers and
/// stream types share (RFC 9114 §7.2.8, §7.2.4.1, §6.2.3): `0x1f * n + 0x21`. Peers
/// must ignore them; sending some keeps them honest. `n` is reduced to keep the value a
/// varint.
pub fn grease_value(n: u64) -> u64 {
    0x1f * (n % ((varint::MAX - 0x21) / 0x1f)) + 0x21
}

/// True for a reserved ("GREASE") value.
#[cfg(any(test, feature = "fuzzing"))]
pub fn is_grease(value: u64) -> bool {
    value >= 0x21 && (value - 0x21) % 0x1f == 0
}

/// Setting identifiers (RFC 9114 §7.2.4.1, RFC 9204 §5, RFC 9220, RFC 9297, WebTransport).
pub mod setting {
    /// SETTINGS_QPACK_MAX_TABLE_CAPACITY.
    pub const QPACK_MAX_TABLE_CAPACITY: u64 = 0x1;
    /// SETTINGS_MAX_FIELD_SECTION_SIZE.
    pub const MAX_FIELD_SECTION_SIZE: u64 = 0x6;
    /// SETTINGS_QPACK_BLOCKED_STREAMS.
    pub const QPACK_BLOCKED_STREAMS: u64 = 0x7;
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 9220).
    pub const ENABLE_CONNECT_PROTOCOL: u64 = 0x8;
    /// SETTINGS_H3_DATAGRAM (RFC 9297).
    pub const H3_DATAGRAM: u64 = 0x33;
    /// SETTINGS_ENABLE_WEBTRANSPORT (draft-ietf-webtrans-http3).
    pub const ENABLE_WEBTRANSPORT: u64 = 0x2b60_3742;
    /// HTTP/2 setting identifiers reserved in HTTP/3: receiving one is H3_SETTINGS_ERROR.
    pub const RESERVED: [u64; 5] = [0x0, 0x2, 0x3, 0x4, 0x5];

    /// The name used in error messages for the boolean settings.
    pub fn name(id: u64) -> Option<&'static str> {
        match id {
            QPACK_MAX_TABLE_CAPACITY => Some("QPACK_MAX_TABLE_CAPACITY"),
            MAX_FIELD_SECTION_SIZE => Some("MAX_FIELD_SECTION_SIZE"),
            QPACK_BLOCKED_STREAMS => Some("QPACK_BLOCKED_STREAMS"),
            ENABLE_CONNECT_PROTOCOL => Some("ENABLE_CONNECT_PROTOCOL"),
            H3_DATAGRAM => Some("H3_DATAGRAM"),
            ENABLE_WEBTRANSPORT => Some("ENABLE_WEBTRANSPORT"),
            _ => None,
        }
    }
}

/// Unidirectional stream types (RFC 9114 §6.2, RFC 9204 §4.2, WebTransport).
pub mod stream_type {
    /// The control stream.
    pub const CONTROL: u64 = 0x00;
    /// A push stream (server to client).
    pub const PUSH: u64 = 0x01;
    /// The QPACK encoder stream.
    pub const QPACK_ENCODER: u64 = 0x02;
    /// The QPACK decoder stream.
    pub const QPACK_DECODER: u64 = 0x03;
    /// A WebTransport unidirectional stream.
    pub const WEBTRANSPORT: u64 = 0x54;
}

/// A SETTINGS frame's content: identifier -> value, ordered by identifier. Unknown and
/// GREASE identifiers are kept.
pub type SettingsMap = BTreeMap<u64, u64>;

/// Appends a frame header (type, payload length) to `out`.
pub fn encode_frame_header(ty: u64, len: u64, out: &mut Vec<u8>) {
    varint::encode(ty, out);
    varint::encode(len, out);
}

/// Appends a whole frame (header + payload) to `out`.
pub fn encode_frame(ty: u64, payload: &[u8], out: &mut Vec<u8>) {
    encode_frame_header(ty, payload.len() as u64, out);
    out.extend_from_slice(payload);
}

/// Appends a SETTINGS frame carrying `settings` to `out`.
pub fn encode_settings_frame(settings: &SettingsMap, out: &mut Vec<u8>) {
    let mut payload = Vec::with_capacity(settings.len() * 10);
    for (&id, &value) in settings {
        varint::encode(id, &mut payload);
        varint::encode(value, &mut payload);
    }
    encode_frame(frame_type::SETTINGS, &payload, out);
}

/// Parses a SETTINGS payload: reserved identifiers, repeated identifiers and truncation
/// are errors (H3_SETTINGS_ERROR / H3_FRAME_ERROR, aioquic's phrases); more than
/// `max_entries` entries is H3_EXCESSIVE_LOAD, as soon as the entry past the limit is
/// reached.
pub fn parse_settings(payload: &[u8], max_entries: u64) -> Result<SettingsMap, ProtocolError> {
    let mut settings = SettingsMap::new();
    let mut rest = payload;
    let mut entries: u64 = 0;
    while !rest.is_empty() {
        entries += 1;
        if entries > max_entries {
            return Err(ProtocolError::new(
                ErrorCode::ExcessiveLoad,
                format!("SETTINGS carries more than {max_entries} entries"),
            ));
        }
        let truncated =
            || ProtocolError::new(ErrorCode::FrameError, "Could not parse SETTINGS frame");
        let (id, n) = varint::decode(rest).map_err(|_| truncated())?;
        rest = &rest[n..];
        let (value, n) = varint::decode(rest).map_err(|_| truncated())?;
        rest = &rest[n..];
        if setting::RESERVED.contains(&id) {
            return Err(ProtocolError::new(
                ErrorCode::SettingsError,
                format!("Setting identifier 0x{id:x} is reserved"),
            ));
        }
        if settings.insert(id, value).is_some() {
            return Err(ProtocolError::new(
                ErrorCode::SettingsError,
                format!("Setting identifier 0x{id:x} is included twice"),
            ));
        }
    }
    Ok(settings)
}

/// Parses a MAX_PUSH_ID payload: exactly one varint.
pub fn parse_max_push_id(payload: &[u8]) -> Result<u64, ProtocolError> {
    parse_id_frame("MAX_PUSH_ID", payload)
}

/// Parses the payload of a frame that carries one id and nothing else (MAX_PUSH_ID,
/// GOAWAY, CANCEL_PUSH): empty or truncated, or with bytes after the id, is
/// H3_FRAME_ERROR ("Could not parse NAME frame" / "NAME frame has trailing data").
pub fn parse_id_frame(name: &str, payload: &[u8]) -> Result<u64, ProtocolError> {
    let (id, n) = varint::decode(payload).map_err(|_| {
        ProtocolError::new(
            ErrorCode::FrameError,
            format!("Could not parse {name} frame"),
        )
    })?;
    if n != payload.len() {
        return Err(ProtocolError::new(
            ErrorCode::FrameError,
            format!("{name} frame has trailing data"),
        ));
    }
    Ok(id)
}

/// Appends a frame carrying one id (GOAWAY, CANCEL_PUSH, MAX_PUSH_ID).
pub fn encode_id_frame(ty: u64, id: u64, out: &mut Vec<u8>) {
    encode_frame_header(ty, varint::encoded_len(id) as u64, out);
    varint::encode(id, out);
}

/// Parses an ORIGIN payload (RFC 9412): Origin-Entries of a 16-bit length and that many
/// bytes. A truncated entry is H3_FRAME_ERROR ("Could not parse ORIGIN frame").
pub fn parse_origin(payload: &[u8]) -> Result<Vec<&[u8]>, ProtocolError> {
    let mut origins = Vec::new();
    let mut rest = payload;
    while !rest.is_empty() {
        let truncated =
            || ProtocolError::new(ErrorCode::FrameError, "Could not parse ORIGIN frame");
        let len = rest.get(..2).ok_or_else(truncated)?;
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let origin = rest.get(2..2 + len).ok_or_else(truncated)?;
        origins.push(origin);
        rest = &rest[2 + len..];
    }
    Ok(origins)
}

/// Parses a PRIORITY_UPDATE payload (RFC 9218 §7.2): the Prioritized Element ID (a
/// request stream id or a push id) and the Priority Field Value after it (returned as is;
/// [`crate::h3::Priority::parse`] reads it). An empty or truncated id is H3_FRAME_ERROR
/// ("Could not parse PRIORITY_UPDATE frame").
pub fn parse_priority_update(payload: &[u8]) -> Result<(u64, &[u8]), ProtocolError> {
    let (id, n) = varint::decode(payload).map_err(|_| {
        ProtocolError::new(
            ErrorCode::FrameError,
            "Could not parse PRIORITY_UPDATE frame",
        )
    })?;
    Ok((id, &payload[n..]))
}

/// Appends a PRIORITY_UPDATE frame of type `ty` (request or push) for `id` carrying
/// `field_value`.
pub fn encode_priority_update(ty: u64, id: u64, field_value: &[u8], out: &mut Vec<u8>) {
    let len = varint::encoded_len(id) + field_value.len();
    encode_frame_header(ty, len as u64, out);
    varint::encode(id, out);
    out.extend_from_slice(field_value);
}

/// Appends an ORIGIN frame listing `origins` (each at most 65,535 bytes: checked by the
/// caller).
pub fn encode_origin_frame(origins: &[&[u8]], out: &mut Vec<u8>) {
    let len: usize = origins.iter().map(|o| 2 + o.len()).sum();
    encode_frame_header(frame_type::ORIGIN, len as u64, out);
    for origin in origins {
        out.extend_from_slice(&(origin.len() as u16).to_be_bytes());
        out.extend_from_slice(origin);
    }
}

/// Reads one varint that may arrive split across several inputs. Holds at most 8 bytes.
#[derive(Clone, Debug, Default)]
pub struct VarintReader {
    buf: [u8; 8],
    have: u8,
}

impl VarintReader {
    /// Consumes bytes of `data` from `*pos`, advancing it. Returns the value once its last
    /// byte has been read; `None` means every remaining byte was consumed and more are
    /// needed.
    pub fn read(&mut self, data: &[u8], pos: &mut usize) -> Option<u64> {
        let input = &data[(*pos).min(data.len())..];
        if self.have == 0 {
            // Fast path: the whole varint is in this input.
            match varint::decode(input) {
                Ok((value, n)) => {
                    *pos += n;
                    return Some(value);
                }
                Err(varint::Incomplete::NeedMore) => {
                    self.buf[..input.len()].copy_from_slice(input);
                    self.have = input.len() as u8;
                    *pos += input.len();
                    return None;
                }
            }
        }
        let need = varint::len_from_first_byte(self.buf[0]);
        let take = (need - self.have as usize).min(input.len());
        self.buf[self.have as usize..self.have as usize + take].copy_from_slice(&input[..take]);
        self.have += take as u8;
        *pos += take;
        if (self.have as usize) < need {
            return None;
        }
        self.have = 0;
        varint::decode(&self.buf[..need]).ok().map(|(v, _)| v)
    }

    /// True when some bytes of a varint have been read but not all.
    pub fn is_partial(&self) -> bool {
        self.have != 0
    }
}

/// A frame's type and payload length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// The frame type.
    pub ty: u64,
    /// The payload length in bytes.
    pub len: u64,
}

/// Reads a frame header (two varints) that may arrive split across several inputs.
#[derive(Clone, Debug, Default)]
pub struct FrameHeaderReader {
    ty: Option<u64>,
    varint: VarintReader,
}

impl FrameHeaderReader {
    /// Consumes bytes of `data` from `*pos`. Returns the header once complete.
    pub fn read(&mut self, data: &[u8], pos: &mut usize) -> Option<FrameHeader> {
        if self.ty.is_none() {
            self.ty = Some(self.varint.read(data, pos)?);
        }
        let len = self.varint.read(data, pos)?;
        let ty = self.ty.take().expect("type was read first");
        Some(FrameHeader { ty, len })
    }

    /// True when part of a header has been read.
    pub fn is_partial(&self) -> bool {
        self.ty.is_some() || self.varint.is_partial()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(ty: u64, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_frame(ty, payload, &mut out);
        out
    }

    #[test]
    fn encode_frame_writes_type_length_payload() {
        assert_eq!(frame(frame_type::DATA, b"abc"), b"\x00\x03abc");
        assert_eq!(frame(frame_type::WEBTRANSPORT_STREAM, b""), b"\x40\x41\x00");
        let big = vec![7u8; 100];
        let f = frame(frame_type::HEADERS, &big);
        assert_eq!(&f[..3], b"\x01\x40\x64");
        assert_eq!(f.len(), 103);
    }

    #[test]
    fn settings_round_trip_including_unknown_and_large_values() {
        let mut s = SettingsMap::new();
        s.insert(setting::QPACK_MAX_TABLE_CAPACITY, 4096);
        s.insert(setting::ENABLE_WEBTRANSPORT, 1);
        s.insert(0x1f * 7 + 0x21, varint::MAX); // GREASE id, largest value
        let mut out = Vec::new();
        encode_settings_frame(&s, &mut out);
        let mut pos = 0;
        let hdr = FrameHeaderReader::default().read(&out, &mut pos).unwrap();
        assert_eq!(hdr.ty, frame_type::SETTINGS);
        assert_eq!(hdr.len as usize, out.len() - pos);
        assert_eq!(parse_settings(&out[pos..], u64::MAX).unwrap(), s);
        assert_eq!(parse_settings(b"", u64::MAX).unwrap(), SettingsMap::new());
    }

    #[test]
    fn settings_errors() {
        let cases: &[(&[u8], ErrorCode, &str)] = &[
            (
                b"\x00\x01",
                ErrorCode::SettingsError,
                "Setting identifier 0x0 is reserved",
            ),
            (
                b"\x02\x01",
                ErrorCode::SettingsError,
                "Setting identifier 0x2 is reserved",
            ),
            (
                b"\x05\x00",
                ErrorCode::SettingsError,
                "Setting identifier 0x5 is reserved",
            ),
            (
                b"\x01\x01\x07\x00\x01\x02",
                ErrorCode::SettingsError,
                "Setting identifier 0x1 is included twice",
            ),
            (
                b"\x01",
                ErrorCode::FrameError,
                "Could not parse SETTINGS frame",
            ),
            (
                b"\x01\x40",
                ErrorCode::FrameError,
                "Could not parse SETTINGS frame",
            ),
            (
                b"\x40",
                ErrorCode::FrameError,
                "Could not parse SETTINGS frame",
            ),
        ];
        for (payload, code, reason) in cases {
            let err = parse_settings(payload, u64::MAX).unwrap_err();
            assert_eq!(
                (err.code, err.reason.as_str()),
                (*code, *reason),
                "{payload:?}"
            );
        }
    }

    #[test]
    fn max_push_id_parsing() {
        assert_eq!(parse_max_push_id(b"\x08"), Ok(8));
        assert_eq!(parse_max_push_id(b"\x40\x08"), Ok(8));
        let e = parse_max_push_id(b"").unwrap_err();
        assert_eq!(
            (e.code, e.reason.as_str()),
            (ErrorCode::FrameError, "Could not parse MAX_PUSH_ID frame")
        );
        let e = parse_max_push_id(b"\x40").unwrap_err();
        assert_eq!(e.reason, "Could not parse MAX_PUSH_ID frame");
        let e = parse_max_push_id(b"\x08\x00").unwrap_err();
        assert_eq!(
            (e.code, e.reason.as_str()),
            (ErrorCode::FrameError, "MAX_PUSH_ID frame has trailing data")
        );
    }

    #[test]
    fn header_reader_handles_every_split_point() {
        let mut bytes = Vec::new();
        encode_frame_header(0x2b60_3742, 1_000_000, &mut bytes);
        encode_frame_header(frame_type::DATA, 5, &mut bytes);
        let expected = [
            FrameHeader {
                ty: 0x2b60_3742,
                len: 1_000_000,
            },
            FrameHeader { ty: 0, len: 5 },
        ];
        // one byte per input
        let mut reader = FrameHeaderReader::default();
        let mut got = Vec::new();
        for b in &bytes {
            let mut pos = 0;
            if let Some(h) = reader.read(std::slice::from_ref(b), &mut pos) {
                got.push(h);
            }
            assert_eq!(pos, 1);
        }
        assert_eq!(got, expected);
        assert!(!reader.is_partial());
        // every two-piece split
        for cut in 0..=bytes.len() {
            let mut reader = FrameHeaderReader::default();
            let mut got = Vec::new();
            for piece in [&bytes[..cut], &bytes[cut..]] {
                let mut pos = 0;
                while pos < piece.len() {
                    match reader.read(piece, &mut pos) {
                        Some(h) => got.push(h),
                        None => assert_eq!(pos, piece.len()),
                    }
                }
            }
            assert_eq!(got, expected, "cut at {cut}");
        }
    }

    #[test]
    fn partial_state_is_reported() {
        let mut reader = FrameHeaderReader::default();
        let mut pos = 0;
        assert_eq!(reader.read(b"\x40", &mut pos), None);
        assert!(reader.is_partial());
        let mut pos = 0;
        assert_eq!(reader.read(b"\x41", &mut pos), None);
        assert!(reader.is_partial(), "type read, length missing");
        let mut pos = 0;
        assert_eq!(
            reader.read(b"\x00", &mut pos),
            Some(FrameHeader { ty: 0x41, len: 0 })
        );
        assert!(!reader.is_partial());
    }

    #[test]
    fn http2_only_types() {
        for ty in [0x2, 0x6, 0x8, 0x9] {
            assert!(frame_type::is_http2_only(ty));
        }
        for ty in [0x0, 0x1, 0x3, 0x4, 0x5, 0x7, 0xd, 0x21] {
            assert!(!frame_type::is_http2_only(ty));
        }
    }

    #[test]
    fn grease_values_are_reserved() {
        for n in [0, 1, 2, 1000, u64::MAX] {
            let v = grease_value(n);
            assert!(is_grease(v) && v <= varint::MAX, "{n}: {v:#x}");
        }
        assert_eq!(grease_value(0), 0x21);
        assert_eq!(grease_value(1), 0x40);
        assert!(!is_grease(0x20) && !is_grease(0x22) && !is_grease(0x4));
    }

    #[test]
    fn id_frames_parse_one_varint_exactly() {
        let mut out = Vec::new();
        encode_id_frame(frame_type::GOAWAY, 1_000_000, &mut out);
        assert_eq!(out[0], 0x07);
        assert_eq!(parse_id_frame("GOAWAY", &out[2..]).unwrap(), 1_000_000);
        let e = parse_id_frame("GOAWAY", b"").unwrap_err();
        assert_eq!(
            (e.code, e.reason.as_str()),
            (ErrorCode::FrameError, "Could not parse GOAWAY frame")
        );
        let e = parse_id_frame("CANCEL_PUSH", &[0x01, 0x00]).unwrap_err();
        assert_eq!(e.reason, "CANCEL_PUSH frame has trailing data");
        let e = parse_id_frame("CANCEL_PUSH", &[0x40]).unwrap_err();
        assert_eq!(e.reason, "Could not parse CANCEL_PUSH frame");
    }

    #[test]
    fn origin_frames_round_trip() {
        let mut out = Vec::new();
        encode_origin_frame(
            &[b"https://a.example", b"", b"https://b.example:8443"],
            &mut out,
        );
        assert_eq!(out[0], 0x0c);
        let origins = parse_origin(&out[2..]).unwrap();
        assert_eq!(
            origins,
            vec![&b"https://a.example"[..], b"", b"https://b.example:8443"]
        );
        assert_eq!(parse_origin(b"").unwrap(), Vec::<&[u8]>::new());
        for bad in [&[0x00][..], &[0x00, 0x05, b'a'][..]] {
            let e = parse_origin(bad).unwrap_err();
            assert_eq!(
                (e.code, e.reason.as_str()),
                (ErrorCode::FrameError, "Could not parse ORIGIN frame")
            );
        }
    }

    #[test]
    fn priority_update_frames_round_trip() {
        let mut out = Vec::new();
        encode_priority_update(frame_type::PRIORITY_UPDATE_REQUEST, 8, b"u=1, i", &mut out);
        // Type 0xf0700 takes a 4-byte varint; length 7 (id 1 byte + 6 bytes of value).
        assert_eq!(out[..5], [0x80, 0x0f, 0x07, 0x00, 7]);
        assert_eq!(
            parse_priority_update(&out[5..]).unwrap(),
            (8, &b"u=1, i"[..])
        );
        let mut out = Vec::new();
        encode_priority_update(frame_type::PRIORITY_UPDATE_PUSH, 300, b"", &mut out);
        assert_eq!(parse_priority_update(&out[5..]).unwrap(), (300, &b""[..]));
        for bad in [&[][..], &[0x41][..]] {
            let e = parse_priority_update(bad).unwrap_err();
            assert_eq!(
                (e.code, e.reason.as_str()),
                (
                    ErrorCode::FrameError,
                    "Could not parse PRIORITY_UPDATE frame"
                )
            );
        }
    }
}
