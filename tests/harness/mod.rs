//! The one harness of the integration tests, benches and examples, one file per concern:
//!
//! - [`qif`]: the QPACK offline-interop corpus (where it is, skipping without it), QIF
//!   header lists and the offline-interop encoded format;
//! - [`pair`]: an in-memory QUIC client/server pair on a simulated clock and network;
//! - [`h3_pair`]: HTTP/3 client and server connections over that pair;
//! - [`download`]: one download over that pair, timed on its clock;
//! - [`fetch`]: one GET on a fresh or resumed connection over that pair (0-RTT);
//! - [`priority_race`]: a download race that shows what priorities change;
//! - [`udp`]: an endpoint on a UDP socket on 127.0.0.1 and the loop's pieces;
//! - [`rng`]: the one seeded pseudo-random generator;
//! - [`alloc`]: the counting global allocator (live and peak heap bytes);
//! - [`wire`]: byte builders for tests that play a raw HTTP/3 peer (needs the `fuzzing`
//!   feature, which opens `h3q::frame` and `h3q::varint`).
//!
//! A test file takes it with `mod harness;`; a bench or an example with
//! `#[path = "../tests/harness/mod.rs"] mod harness;`. The fake QUIC transport for tests
//! of `H3Connection` alone is `h3q::test_transport::FakeTransport` (feature `fuzzing`).

// Each test binary uses a part of the harness.
#![allow(dead_code)]

pub mod alloc;
pub mod download;
pub mod fetch;
pub mod h3_pair;
pub mod pair;
pub mod priority_race;
pub mod qif;
pub mod rng;
pub mod udp;
#[cfg(feature = "fuzzing")]
pub mod wire;
