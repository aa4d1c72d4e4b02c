//! Random and mutated input never panics: the connection either carries on or closes
//! exactly once, and its state stays bounded.

use crate::h3::test_support::*;
use crate::h3::{QuicEvent, Settings};

/// xorshift64*: deterministic, no dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// A plausible-looking stream prefix: a stream type, then frames of random types.
fn framed_noise(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    if rng.below(2) == 0 {
        out.extend(v(rng.below(5)));
    }
    for _ in 0..rng.below(6) {
        let ty = [0, 1, 3, 4, 5, 7, 0xd, 0x21, 0x41, 2, 6][rng.below(11) as usize];
        let len = rng.below(40) as usize;
        let payload = if ty == 1 && rng.below(2) == 0 {
            section(GET)
        } else {
            rng.bytes(len)
        };
        out.extend(frame(ty, &payload));
    }
    out
}

#[test]
fn random_events_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..400 {
        let is_client = round % 2 == 0;
        let mut conn = if is_client {
            client_with(Settings::default())
        } else {
            server_with(Settings::default())
        };
        if rng.below(2) == 0 {
            let peer_control = if is_client { 3 } else { 2 };
            recv(
                &mut conn,
                peer_control,
                &control_stream(&[(1, 4096), (7, 16)]),
                false,
                Mode::Chunks,
            );
        }
        if is_client {
            let _ = conn.send_headers(0, &pairs(GET), rng.below(2) == 0);
        }
        for _ in 0..30 {
            let stream_id = rng.below(24);
            match rng.below(10) {
                0 => {
                    handle(
                        &mut conn,
                        QuicEvent::StreamReset {
                            stream_id,
                            error_code: rng.next(),
                        },
                    );
                }
                1 => {
                    handle(
                        &mut conn,
                        QuicEvent::StopSendingReceived {
                            stream_id,
                            error_code: 0,
                        },
                    );
                }
                2 => {
                    let n = rng.below(12) as usize;
                    let data = rng.bytes(n);
                    handle(
                        &mut conn,
                        QuicEvent::DatagramReceived {
                            data: (&data).into(),
                        },
                    );
                }
                3 => {
                    let n = rng.below(64) as usize;
                    let data = rng.bytes(n);
                    handle(
                        &mut conn,
                        QuicEvent::StreamDataReceived {
                            stream_id,
                            data: (&data).into(),
                            end_stream: rng.below(4) == 0,
                        },
                    );
                }
                _ => {
                    let data = framed_noise(&mut rng);
                    let mode = if rng.below(2) == 0 {
                        Mode::Bytes
                    } else {
                        Mode::Chunks
                    };
                    recv(&mut conn, stream_id, &data, rng.below(4) == 0, mode);
                }
            }
            let _ = conn.send_headers(stream_id & !3, &pairs(OK), rng.below(2) == 0);
            let _ = conn.send_data(stream_id & !3, b"x", rng.below(2) == 0);
            let _ = conn.send_push_promise(stream_id & !3, &pairs(GET));
        }
        assert!(conn.transport().closed.len() <= 1, "closed at most once");
        assert!(conn.tracked_streams() <= 24);
    }
}

#[test]
fn mutated_exchanges_never_panic() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for _ in 0..300 {
        let (mut c, mut s) = pair(Mode::Chunks);
        c.send_headers(0, &pairs(GET), false).unwrap();
        c.send_data(0, b"request body", true).unwrap();
        let mut wire = c.transport_mut().take_pending();
        // flip, drop or truncate a few bytes
        for item in &mut wire {
            if let Wire::Stream { data, .. } = item {
                if !data.is_empty() && rng.below(3) == 0 {
                    let i = rng.below(data.len() as u64) as usize;
                    match rng.below(3) {
                        0 => data[i] ^= 1 << rng.below(8),
                        1 => data.truncate(i),
                        _ => data.insert(i, rng.next() as u8),
                    }
                }
            }
        }
        let mode = if rng.below(2) == 0 {
            Mode::Bytes
        } else {
            Mode::Chunks
        };
        deliver(&mut s, wire, mode);
        assert!(s.transport().closed.len() <= 1);
        if !s.is_closed() {
            let _ = s.send_headers(0, &pairs(OK), true);
        }
    }
}
