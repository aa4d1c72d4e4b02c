//! "Start-up" and "Settings queries".

use crate::frame::setting;
use crate::h3::test_support::*;
use crate::h3::{H3Connection, H3Error, Settings};

/// The defaults without GREASE: what the wire carries is then fixed.
const NO_GREASE: Settings = Settings {
    enable_grease: false,
    ..Settings::DEFAULTS
};

#[test]
fn client_opens_control_encoder_decoder_on_2_6_10() {
    let c = client_with(NO_GREASE);
    let t = c.transport();
    let mut control = v(0);
    control.extend(frame(0x4, &[0x01, 0x50, 0x00, 0x07, 0x10, 0x08, 0x01]));
    control.extend(frame(0xd, &v(8)));
    assert_eq!(t.stream_bytes(2), control.as_slice());
    assert_eq!(t.stream_bytes(6), b"\x02");
    assert_eq!(t.stream_bytes(10), b"\x03");
    assert_eq!(c.tracked_streams(), 0);
}

#[test]
fn server_opens_control_encoder_decoder_on_3_7_11_without_max_push_id() {
    let s = server_with(NO_GREASE);
    let t = s.transport();
    let mut control = v(0);
    control.extend(frame(0x4, &[0x01, 0x50, 0x00, 0x07, 0x10, 0x08, 0x01]));
    assert_eq!(t.stream_bytes(3), control.as_slice());
    assert_eq!(t.stream_bytes(7), b"\x02");
    assert_eq!(t.stream_bytes(11), b"\x03");
}

#[test]
fn settings_are_configurable() {
    let settings = Settings {
        qpack_max_table_capacity: 0,
        qpack_blocked_streams: 0,
        max_push_id: 100,
        max_field_section_size: 1000,
        enable_connect_protocol: false,
        enable_webtransport: true,
        ..NO_GREASE
    };
    let c = client_with(settings);
    assert_eq!(c.sent_setting(setting::QPACK_MAX_TABLE_CAPACITY), Some(0));
    assert_eq!(c.sent_setting(setting::MAX_FIELD_SECTION_SIZE), Some(1000));
    assert_eq!(c.sent_setting(setting::ENABLE_CONNECT_PROTOCOL), None);
    assert_eq!(c.sent_setting(setting::H3_DATAGRAM), Some(1));
    assert_eq!(c.sent_setting(setting::ENABLE_WEBTRANSPORT), Some(1));
    let control = c.transport().stream_bytes(2);
    assert!(control.ends_with(&frame(0xd, &v(100))));
}

#[test]
fn default_sent_settings() {
    let c = client_with(NO_GREASE);
    let got: Vec<(u64, u64)> = c.sent_settings().iter().map(|(k, v)| (*k, *v)).collect();
    assert_eq!(got, vec![(0x1, 4096), (0x7, 16), (0x8, 1)]);
}

#[test]
fn a_failing_transport_fails_creation() {
    let mut t = FakeTransport::new(true);
    t.fail = true;
    assert!(matches!(
        H3Connection::new(t, Settings::default()),
        Err(H3Error::Transport(_))
    ));
}

#[test]
fn the_pair_exchanges_settings() {
    for mode in MODES {
        let (c, s) = pair(mode);
        assert_eq!(c.received_setting(0x1), Some(4096));
        assert_eq!(s.received_setting(0x7), Some(16));
        assert_eq!(c.tracked_streams(), 3);
        assert_eq!(s.tracked_streams(), 3);
    }
}
