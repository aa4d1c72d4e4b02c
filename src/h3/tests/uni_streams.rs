//! "Unidirectional streams".

use crate::error::ErrorCode;
use crate::h3::test_support::*;
use crate::h3::{QuicEvent, Settings};
use crate::qpack::instruction;

#[test]
fn only_one_of_each_critical_stream() {
    let cases: &[(u64, &str)] = &[
        (0, "Only one control stream is allowed"),
        (2, "Only one QPACK encoder stream is allowed"),
        (3, "Only one QPACK decoder stream is allowed"),
    ];
    for mode in MODES {
        for (ty, reason) in cases {
            let mut s = server_with(Settings::default());
            let first = if *ty == 0 {
                control_stream(&[])
            } else {
                v(*ty)
            };
            recv(&mut s, 2, &first, false, mode);
            assert_open(&s);
            recv(&mut s, 6, &v(*ty), false, mode);
            assert_closed(&s, ErrorCode::StreamCreationError, reason);
        }
    }
}

#[test]
fn clients_must_not_open_push_streams() {
    for mode in MODES {
        let mut s = server_with(Settings::default());
        recv(&mut s, 2, &cat(&[&v(1), &v(0)]), false, mode);
        assert_closed(
            &s,
            ErrorCode::StreamCreationError,
            "Clients must not open push streams",
        );
    }
}

#[test]
fn push_id_above_max_push_id_on_a_push_stream() {
    for mode in MODES {
        let (mut c, _s) = pair(mode);
        // MAX_PUSH_ID is 8: 8 is fine, 9 is not.
        recv(&mut c, 15, &cat(&[&v(1), &v(8)]), false, mode);
        assert_open(&c);
        recv(&mut c, 19, &cat(&[&v(1), &v(9)]), false, mode);
        assert_closed(
            &c,
            ErrorCode::IdError,
            "Push ID exceeds the maximum push ID",
        );
    }
}

#[test]
fn unknown_and_grease_streams_are_discarded_then_forgotten() {
    for mode in MODES {
        for ty in [0x21u64, 0x1f * 12345 + 0x21, 0x3fff_ffff] {
            for end_by_reset in [false, true] {
                let mut s = server_with(Settings::default());
                let base = s.tracked_streams();
                // the type varint split across events even in chunk mode
                let ty_bytes = v(ty);
                let (a, b) = ty_bytes.split_at(ty_bytes.len() / 2);
                assert!(recv(&mut s, 2, a, false, mode).is_empty());
                assert!(recv(&mut s, 2, b, false, mode).is_empty());
                assert!(recv(&mut s, 2, &vec![0x55; 10_000], false, mode).is_empty());
                assert_eq!(s.tracked_streams(), base + 1);
                if end_by_reset {
                    handle(
                        &mut s,
                        QuicEvent::StreamReset {
                            stream_id: 2,
                            error_code: 0,
                        },
                    );
                } else {
                    assert!(recv(&mut s, 2, b"", true, mode).is_empty());
                }
                assert_eq!(s.tracked_streams(), base, "forgotten");
                assert_open(&s);
            }
        }
    }
}

#[test]
fn a_stream_ending_inside_its_type_is_forgotten() {
    let mut s = server_with(Settings::default());
    recv(&mut s, 2, &[0x40], true, Mode::Chunks);
    assert_eq!(s.tracked_streams(), 0);
    assert_open(&s);
}

#[test]
fn bad_encoder_stream_input() {
    for mode in MODES {
        let mut s = server_with(Settings::default());
        let mut bytes = v(2);
        instruction::write_set_capacity(&mut bytes, 1_000_000); // above our 4096
        recv(&mut s, 2, &bytes, false, mode);
        assert_closed(&s, ErrorCode::QpackEncoderStreamError, "");
    }
}

#[test]
fn bad_decoder_stream_input() {
    for mode in MODES {
        let mut s = server_with(Settings::default());
        let mut bytes = v(3);
        instruction::write_insert_count_increment(&mut bytes, 5); // nothing was inserted
        recv(&mut s, 2, &bytes, false, mode);
        assert_closed(&s, ErrorCode::QpackDecoderStreamError, "");
    }
}

#[test]
fn closing_a_qpack_stream_is_an_error() {
    for (ty, reason) in [
        (2u64, "Closing QPACK encoder stream is not allowed"),
        (3, "Closing QPACK decoder stream is not allowed"),
    ] {
        let mut s = server_with(Settings::default());
        recv(&mut s, 2, &v(ty), true, Mode::Chunks);
        assert_closed(&s, ErrorCode::ClosedCriticalStream, reason);
    }
}

#[test]
fn data_on_our_own_unidirectional_stream_ids_is_ignored() {
    let mut s = server_with(Settings::default());
    assert!(recv(&mut s, 3, b"\x00\x01\x02", true, Mode::Chunks).is_empty());
    assert_open(&s);
    assert_eq!(s.tracked_streams(), 0);
}
