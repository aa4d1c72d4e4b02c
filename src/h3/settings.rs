//! [`Settings`]: what this endpoint advertises in SETTINGS, and the limits that keep its
//! memory bounded whatever the peer sends.

use crate::frame::{SettingsMap, setting};

/// The configuration of an [`H3Connection`](super::H3Connection).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Our QPACK decoder's dynamic table capacity, advertised as
    /// SETTINGS_QPACK_MAX_TABLE_CAPACITY. Default 4096.
    pub qpack_max_table_capacity: u64,
    /// How many streams may wait for encoder-stream data at once, advertised as
    /// SETTINGS_QPACK_BLOCKED_STREAMS. Default 16.
    pub qpack_blocked_streams: u64,
    /// A client's initial MAX_PUSH_ID (push ids 0..=max_push_id may be promised).
    /// Default 8. Ignored by a server.
    pub max_push_id: u64,
    /// The largest decoded field section we accept (RFC 9114 §4.2.2), advertised as
    /// SETTINGS_MAX_FIELD_SECTION_SIZE when nonzero and enforced by the QPACK decoder.
    /// 0 = unlimited (not advertised). Default 0.
    pub max_field_section_size: u64,
    /// Advertise SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 9220). Default true.
    pub enable_connect_protocol: bool,
    /// Advertise SETTINGS_H3_DATAGRAM = 1 and SETTINGS_ENABLE_WEBTRANSPORT = 1.
    /// Default false.
    pub enable_webtransport: bool,
    /// The largest frame payload kept whole before it is handled (HEADERS,
    /// PUSH_PROMISE, SETTINGS). A larger frame closes the connection with
    /// H3_EXCESSIVE_LOAD as soon as its header arrives. Default 64 KiB.
    pub max_buffered_frame_size: u64,
    /// The most bytes held back per stream behind a field section that waits for
    /// encoder-stream data. More closes the connection with H3_EXCESSIVE_LOAD.
    /// Default 1 MiB.
    pub max_blocked_stream_bytes: u64,
    /// The largest decoded field section accepted while `max_field_section_size` is 0
    /// (nothing advertised): name + value + 32 per field, counted as fields decode, and
    /// a literal longer than what remains is refused from its length before it is read.
    /// Stops a small section that references a large dynamic-table entry thousands of
    /// times. When `max_field_section_size` is set, it is the limit instead. More closes
    /// the connection with QPACK_DECOMPRESSION_FAILED; so does a HEADERS or PUSH_PROMISE
    /// frame longer than 4 x the limit + 256 bytes, from its header alone (no field
    /// section that long can decode within the limit). 0 = unlimited. Default 256 KiB.
    pub max_decoded_field_section_size: u64,
    /// The most entries a peer's SETTINGS frame may carry (real peers send about ten,
    /// GREASE included); more closes the connection with H3_EXCESSIVE_LOAD before the
    /// entries are stored. Default 256.
    pub max_settings_entries: u64,
    /// Cheap-frame flood limit, per stream (request, push and control streams): DATA
    /// frames and unknown / GREASE frames are counted, and the stream may carry at most
    /// this many plus one per 16 payload bytes it carried. Empty and one-byte frames,
    /// which cost more to handle than to send, therefore hit it; frames averaging 16 or
    /// more payload bytes never do. More closes with H3_EXCESSIVE_LOAD. Default 10,000.
    pub max_cheap_frames: u64,
    /// Rapid-reset limit: request and push streams reset by the peer before their
    /// message ended, beyond the number of messages it completed (received with FIN).
    /// The excess never goes below 0, so completed requests are not banked as credit for
    /// a later burst. More closes with H3_EXCESSIVE_LOAD. Default 1,000.
    pub max_excess_resets: u64,
    /// QPACK insert-flood limit: bytes (name + value + 32 per entry, as the table counts
    /// them) the peer's encoder stream inserted or duplicated since a field section last
    /// referenced the dynamic table. A peer inserting far beyond need, or churning the
    /// table with Duplicates, hits it; a real encoder inserts only what its sections use.
    /// More closes with H3_EXCESSIVE_LOAD. Default 1 MiB (256 turnovers of a 4 KiB table).
    pub max_unreferenced_insert_bytes: u64,
    /// The most streams that may hold partial input at once: a HEADERS / PUSH_PROMISE
    /// payload still arriving, or bytes held behind a blocked field section. Bounds the
    /// connection's buffers at this many times `max_buffered_frame_size` /
    /// `max_blocked_stream_bytes`. More closes with H3_EXCESSIVE_LOAD. Default 256.
    pub max_buffering_streams: u64,
    /// Send reserved ("GREASE") values the peer must ignore (RFC 9114 §7.2.8, §7.2.4.1):
    /// a reserved setting in SETTINGS and a reserved frame on the control stream, with
    /// values chosen at random per connection, so that peers that choke on unknown
    /// types are found early. Default true.
    pub enable_grease: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings::DEFAULTS
    }
}

impl Settings {
    /// The defaults, as a constant (what [`Settings::default`] returns).
    pub const DEFAULTS: Settings = Settings {
        qpack_max_table_capacity: 4096,
        qpack_blocked_streams: 16,
        max_push_id: 8,
        max_field_section_size: 0,
        enable_connect_protocol: true,
        enable_webtransport: false,
        max_buffered_frame_size: 64 * 1024,
        max_blocked_stream_bytes: 1024 * 1024,
        max_decoded_field_section_size: 256 * 1024,
        max_settings_entries: 256,
        max_cheap_frames: 10_000,
        max_excess_resets: 1_000,
        max_unreferenced_insert_bytes: 1024 * 1024,
        max_buffering_streams: 256,
        enable_grease: true,
    };

    /// The decoded field section size the QPACK decoder enforces: the advertised
    /// `max_field_section_size`, or `max_decoded_field_section_size` when none is.
    pub fn field_section_limit(&self) -> u64 {
        if self.max_field_section_size != 0 {
            self.max_field_section_size
        } else {
            self.max_decoded_field_section_size
        }
    }

    /// The SETTINGS this configuration advertises.
    pub fn to_wire(&self) -> SettingsMap {
        let mut map = SettingsMap::new();
        map.insert(
            setting::QPACK_MAX_TABLE_CAPACITY,
            self.qpack_max_table_capacity,
        );
        map.insert(setting::QPACK_BLOCKED_STREAMS, self.qpack_blocked_streams);
        if self.max_field_section_size != 0 {
            map.insert(setting::MAX_FIELD_SECTION_SIZE, self.max_field_section_size);
        }
        if self.enable_connect_protocol {
            map.insert(setting::ENABLE_CONNECT_PROTOCOL, 1);
        }
        if self.enable_webtransport {
            map.insert(setting::H3_DATAGRAM, 1);
            map.insert(setting::ENABLE_WEBTRANSPORT, 1);
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_advertise_the_documented_settings() {
        let wire = Settings::default().to_wire();
        let got: Vec<(u64, u64)> = wire.into_iter().collect();
        assert_eq!(got, vec![(0x1, 4096), (0x7, 16), (0x8, 1)]);
    }

    #[test]
    fn optional_settings() {
        let s = Settings {
            enable_webtransport: true,
            enable_connect_protocol: false,
            max_field_section_size: 16_384,
            ..Settings::default()
        };
        let got: Vec<(u64, u64)> = s.to_wire().into_iter().collect();
        assert_eq!(
            got,
            vec![
                (0x1, 4096),
                (0x6, 16_384),
                (0x7, 16),
                (0x33, 1),
                (0x2b60_3742, 1)
            ]
        );
    }
}
