//! Byte builders for tests that play a raw HTTP/3 peer: varints, frames, a peer's control
//! stream, field sections, and QPACK encoder-stream instructions built by hand (so that a
//! test can send what our encoder never would).

use h3q::frame;
use h3q::h3::Settings;
use h3q::qpack::Encoder;
use h3q::varint;

/// A GET request's header list.
pub const GET: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "https"),
    (":authority", "example.com"),
    (":path", "/"),
];

/// A varint.
pub fn v(value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    varint::encode(value, &mut out);
    out
}

/// A frame.
pub fn frame(ty: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    frame::encode_frame(ty, payload, &mut out);
    out
}

/// The start of a peer's control stream: its type (0x00), then SETTINGS with our defaults.
pub fn control_stream() -> Vec<u8> {
    let mut out = v(0);
    frame::encode_settings_frame(&Settings::default().to_wire(), &mut out);
    out
}

/// A field section encoded with the static table and literals only (an encoder without a
/// dynamic table writes nothing on its encoder stream, and the section never blocks).
pub fn static_section(list: &[(&str, &str)]) -> Vec<u8> {
    let mut encoder = Encoder::new();
    let (mut enc, mut sec) = (Vec::new(), Vec::new());
    let fields: Vec<(&[u8], &[u8])> = list
        .iter()
        .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
        .collect();
    encoder.encode(0, &fields, &mut enc, &mut sec);
    assert!(
        enc.is_empty(),
        "a static-only section wrote on the encoder stream"
    );
    sec
}

/// An RFC 9204 prefix integer with `bits` prefix bits and `flags` above them.
pub fn prefix_int(out: &mut Vec<u8>, flags: u8, bits: u32, mut value: u64) {
    let max = (1u64 << bits) - 1;
    if value < max {
        out.push(flags | value as u8);
        return;
    }
    out.push(flags | max as u8);
    value -= max;
    while value >= 128 {
        out.push(0x80 | (value % 128) as u8);
        value /= 128;
    }
    out.push(value as u8);
}

/// Encoder instruction: Set Dynamic Table Capacity.
pub fn set_capacity(out: &mut Vec<u8>, capacity: u64) {
    prefix_int(out, 0x20, 5, capacity);
}

/// Encoder instruction: Insert with Literal Name.
pub fn insert_literal(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    prefix_int(out, 0x40, 5, name.len() as u64);
    out.extend_from_slice(name);
    prefix_int(out, 0x00, 7, value.len() as u64);
    out.extend_from_slice(value);
}
