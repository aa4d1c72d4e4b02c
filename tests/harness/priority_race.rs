//! A download race for priorities (RFC 9218) over an [`H3Pair`]: `background` responses
//! of `size` bytes start first; once their first bytes arrive, an `urgent` one of the
//! same size is requested, and optionally one background response is raised midway
//! with a PRIORITY_UPDATE. The server answers each request with its whole body at once,
//! so only the scheduler decides who gets the connection. Shared by
//! `tests/h3_priorities.rs` (what must hold) and `benches/priorities.rs` (the figures).

use bytes::Bytes;
use h3q::h3::{H3Event, Priority, Settings};

use super::h3_pair::{H3Pair, SECOND};
use super::pair::{Network, configs};

/// What the client asks for.
#[derive(Clone, Debug)]
pub struct Race {
    /// Responses started first, and the `priority` field they are requested with (None:
    /// no field).
    pub background: usize,
    pub background_priority: Option<&'static str>,
    /// The request started once the first background bytes arrive.
    pub urgent_priority: Option<&'static str>,
    /// Bytes of each response.
    pub size: usize,
    /// Raise the last background response to this priority with a PRIORITY_UPDATE once
    /// the background has received this fraction of its bytes (no urgent request then).
    pub raise_last_at: Option<(f64, Priority)>,
}

impl Race {
    /// 8 responses at `u=5`, then one at `u=0`.
    pub fn urgent_ninth(size: usize) -> Race {
        Race {
            background: 8,
            background_priority: Some("u=5"),
            urgent_priority: Some("u=0"),
            size,
            raise_last_at: None,
        }
    }

    /// 8 responses requested with `background` (`u=5` or `u=5, i`, say); the last raised
    /// to `u=0` once a tenth of their bytes arrived.
    pub fn raise_last(size: usize, background: &'static str) -> Race {
        Race {
            background: 8,
            background_priority: Some(background),
            urgent_priority: None,
            size,
            raise_last_at: Some((
                0.1,
                Priority {
                    urgency: 0,
                    incremental: false,
                },
            )),
        }
    }
}

/// How it went.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// Streams in the order their responses completed.
    pub finished: Vec<u64>,
    /// The urgent request's stream (or the raised one).
    pub favoured: u64,
    /// The background streams.
    pub background: Vec<u64>,
    /// The background streams that had received bytes when the raise was sent.
    pub started_at_raise: Vec<u64>,
    /// Background bytes received when the favoured response completed (the favoured
    /// stream's own bytes excluded).
    pub background_bytes_then: u64,
    /// Simulated time from the favoured request (or raise) to its completion, and to the
    /// end of everything.
    pub favoured_ns: u64,
    pub total_ns: u64,
}

impl Outcome {
    /// The share of the other background bytes that had arrived when the favoured
    /// response completed.
    pub fn background_share_then(&self, race: &Race) -> f64 {
        let others = self
            .background
            .iter()
            .filter(|&&s| s != self.favoured)
            .count();
        self.background_bytes_then as f64 / (others * race.size) as f64
    }

    /// The favoured stream's place among the completions (0: first).
    pub fn favoured_place(&self) -> usize {
        self.finished
            .iter()
            .position(|&s| s == self.favoured)
            .expect("the favoured response completed")
    }
}

fn get(priority: Option<&str>) -> Vec<(&[u8], &[u8])> {
    let mut headers: Vec<(&[u8], &[u8])> = vec![
        (b":method", b"GET"),
        (b":scheme", b"https"),
        (b":authority", b"localhost"),
        (b":path", b"/body"),
    ];
    if let Some(p) = priority {
        headers.push((b"priority", p.as_bytes()));
    }
    headers
}

/// A fresh pair on a network with a 10 ms round trip, so that congestion control and
/// flow control shape the race as on a real path.
pub fn pair() -> H3Pair {
    let (mut client, server) = configs();
    // A browser's flow-control window per stream (Chromium's is 6 MB), so that one
    // stream can fill the path on its own.
    client.set_stream_receive_window(6 << 20);
    let net = Network {
        latency_ns: 5_000_000,
        ..Network::default()
    };
    H3Pair::new(&client, &server, net, Settings::default())
}

/// Runs `race` on `h` (a fresh pair); panics if it does not finish within a simulated
/// minute.
pub fn run(h: &mut H3Pair, race: &Race) -> Outcome {
    let body = Bytes::from(vec![0x5a; race.size]);
    let mut received: std::collections::HashMap<u64, usize> = Default::default();
    let mut out = Outcome::default();
    for _ in 0..race.background {
        let sid = h.open_with(&get(race.background_priority), true);
        out.background.push(sid);
        received.insert(sid, 0);
    }
    let mut favoured: Option<(u64, u64)> = None; // (stream, started at)
    let start = h.pair.now;
    let deadline = start + 60 * SECOND;
    let total = |received: &std::collections::HashMap<u64, usize>, skip: Option<u64>| -> u64 {
        received
            .iter()
            .filter(|(s, _)| Some(**s) != skip)
            .map(|(_, n)| *n as u64)
            .sum()
    };
    while out.finished.len() < received.len() || favoured.is_none() {
        assert!(h.pair.now < deadline, "the race did not finish");
        let (client_events, server_events) = h.step_until(deadline);
        for ev in server_events {
            if let H3Event::HeadersReceived {
                stream_id,
                stream_ended: true,
                ..
            } = ev
            {
                let size = body.len().to_string();
                h.server
                    .send_headers(
                        stream_id,
                        &[(b":status", b"200"), (b"content-length", size.as_bytes())],
                        false,
                    )
                    .unwrap();
                h.server
                    .send_data_bytes(stream_id, body.clone(), true)
                    .unwrap();
            }
        }
        for ev in client_events {
            if let H3Event::DataReceived {
                stream_id,
                data,
                stream_ended,
                ..
            } = ev
            {
                *received.get_mut(&stream_id).expect("a race stream") += data.len();
                if stream_ended {
                    out.finished.push(stream_id);
                    if favoured.is_some_and(|(s, _)| s == stream_id) {
                        out.background_bytes_then = total(&received, Some(stream_id));
                        out.favoured_ns = h.pair.now - favoured.map_or(0, |(_, t)| t);
                    }
                }
            }
        }
        if favoured.is_none() {
            let under_way = total(&received, None) > 0;
            match race.raise_last_at {
                None if under_way => {
                    let sid = h.open_with(&get(race.urgent_priority), true);
                    received.insert(sid, 0);
                    favoured = Some((sid, h.pair.now));
                }
                Some((fraction, priority))
                    if total(&received, None) as f64
                        >= fraction * (race.background * race.size) as f64 =>
                {
                    let last = *out.background.last().expect("a background stream");
                    h.client.send_priority_update(last, priority).unwrap();
                    out.started_at_raise = out
                        .background
                        .iter()
                        .copied()
                        .filter(|s| received[s] > 0)
                        .collect();
                    favoured = Some((last, h.pair.now));
                }
                _ => {}
            }
        }
    }
    out.favoured = favoured.expect("started").0;
    out.total_ns = h.pair.now - start;
    out
}
