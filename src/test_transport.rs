//! The fake QUIC transport of the tests and fuzz targets (like aioquic's
//! `FakeQuicConnection`): an `h3::Transport` without a network that hands out stream ids
//! as QUIC does and either records everything the HTTP/3 layer asks of it (the unit tests
//! in `src/h3/tests/`) or only counts (fuzzing, floods and soaks: memory stays bounded
//! however long the run).
//!
//! Compiled for the crate's unit tests and under the `fuzzing` feature, which makes it
//! public for the fuzz targets (`crate::fuzzing`) and the integration tests; never part
//! of the shipped library.

use std::collections::HashMap;

use crate::h3::{Priority, Transport, TransportError};

/// One thing the transport put on the wire, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wire {
    /// Stream data, then FIN if `fin`.
    Stream {
        stream_id: u64,
        data: Vec<u8>,
        fin: bool,
    },
    /// RESET_STREAM.
    Reset { stream_id: u64, code: u64 },
    /// STOP_SENDING.
    StopSending { stream_id: u64, code: u64 },
    /// A QUIC DATAGRAM frame.
    Datagram(Vec<u8>),
}

/// A QUIC connection without a network.
///
/// What it keeps is set by two switches: `keep_wire` (what was put on the wire, as
/// `pending` for a peer and as the `resets`, `stops` and `datagrams` logs) and `record`
/// (every byte sent per stream, `sent`). [`FakeTransport::new`] keeps everything;
/// [`FakeTransport::counting`] keeps neither, only `closed` and the counters. A long run
/// that transfers to a peer turns `record` off and drains `pending`.
#[derive(Debug, Default)]
pub struct FakeTransport {
    pub is_client: bool,
    pub remote_max_datagram_frame_size: u64,
    /// Sent and not yet transferred to the peer.
    pub pending: Vec<Wire>,
    /// Every close() call (kept in every mode: a correct connection closes once).
    pub closed: Vec<(u64, String)>,
    pub resets: Vec<(u64, u64)>,
    pub stops: Vec<(u64, u64)>,
    pub datagrams: Vec<Vec<u8>>,
    /// Every set_stream_priority() call, in order (kept with `record`).
    pub priorities: Vec<(u64, Priority)>,
    /// Every byte sent per stream, and whether FIN was sent.
    pub sent: HashMap<u64, (Vec<u8>, bool)>,
    /// Keep `sent` (off for long runs).
    pub record: bool,
    /// Keep `pending`, `resets`, `stops` and `datagrams` (off: count only).
    pub keep_wire: bool,
    /// Make every call fail.
    pub fail: bool,
    /// What `is_closed` says (a QUIC connection closing under the HTTP/3 layer).
    pub quic_closed: bool,
    /// Sends, resets, stop-sendings and datagrams asked for after the first close()
    /// (counted in every mode; a correct connection makes none).
    pub calls_after_close: u32,
    next_bidi: u64,
    next_uni: u64,
}

impl FakeTransport {
    /// A transport for a client or a server that records everything.
    pub fn new(is_client: bool) -> Self {
        FakeTransport {
            is_client,
            remote_max_datagram_frame_size: 65_536,
            record: true,
            keep_wire: true,
            next_bidi: if is_client { 0 } else { 1 },
            next_uni: if is_client { 2 } else { 3 },
            ..FakeTransport::default()
        }
    }

    /// A transport that keeps nothing of what is sent, only `closed` and the counters:
    /// bounded memory whatever the connection does (fuzz targets, floods).
    pub fn counting(is_client: bool) -> Self {
        FakeTransport {
            record: false,
            keep_wire: false,
            ..FakeTransport::new(is_client)
        }
    }

    /// What was put on the wire since the last call.
    pub fn take_pending(&mut self) -> Vec<Wire> {
        std::mem::take(&mut self.pending)
    }

    /// Every byte sent on `stream_id` so far (with `record`).
    pub fn stream_bytes(&self, stream_id: u64) -> &[u8] {
        self.sent
            .get(&stream_id)
            .map(|(d, _)| d.as_slice())
            .unwrap_or(&[])
    }

    /// How many times close() was called.
    pub fn closes(&self) -> usize {
        self.closed.len()
    }

    /// The code of the first close, if any.
    pub fn close_code(&self) -> Option<u64> {
        self.closed.first().map(|(code, _)| *code)
    }

    fn check(&self) -> Result<(), TransportError> {
        if self.fail {
            Err(TransportError::new("fake failure"))
        } else {
            Ok(())
        }
    }

    /// [`FakeTransport::check`] for a call that acts on the connection, counting it if it
    /// comes after a close.
    fn act(&mut self) -> Result<(), TransportError> {
        if !self.closed.is_empty() {
            self.calls_after_close += 1;
        }
        self.check()
    }
}

impl Transport for FakeTransport {
    fn is_client(&self) -> bool {
        self.is_client
    }

    fn remote_max_datagram_frame_size(&self) -> u64 {
        self.remote_max_datagram_frame_size
    }

    fn send_stream_data(
        &mut self,
        stream_id: u64,
        data: &[u8],
        end_stream: bool,
    ) -> Result<(), TransportError> {
        self.act()?;
        if stream_id == self.next_bidi {
            self.next_bidi += 4;
        }
        if stream_id == self.next_uni {
            self.next_uni += 4;
        }
        if self.record {
            let entry = self.sent.entry(stream_id).or_default();
            entry.0.extend_from_slice(data);
            entry.1 |= end_stream;
        }
        if self.keep_wire {
            self.pending.push(Wire::Stream {
                stream_id,
                data: data.to_vec(),
                fin: end_stream,
            });
        }
        Ok(())
    }

    fn get_next_available_stream_id(
        &mut self,
        unidirectional: bool,
    ) -> Result<u64, TransportError> {
        self.check()?;
        Ok(if unidirectional {
            self.next_uni
        } else {
            self.next_bidi
        })
    }

    fn reset_stream(&mut self, stream_id: u64, error_code: u64) -> Result<(), TransportError> {
        self.act()?;
        if self.keep_wire {
            self.resets.push((stream_id, error_code));
            self.pending.push(Wire::Reset {
                stream_id,
                code: error_code,
            });
        }
        Ok(())
    }

    fn stop_stream(&mut self, stream_id: u64, error_code: u64) -> Result<(), TransportError> {
        self.act()?;
        if self.keep_wire {
            self.stops.push((stream_id, error_code));
            self.pending.push(Wire::StopSending {
                stream_id,
                code: error_code,
            });
        }
        Ok(())
    }

    fn is_closed(&self) -> bool {
        self.quic_closed
    }

    fn set_stream_priority(
        &mut self,
        stream_id: u64,
        priority: Priority,
    ) -> Result<(), TransportError> {
        self.act()?;
        if self.record {
            self.priorities.push((stream_id, priority));
        }
        Ok(())
    }

    fn send_datagram_frame(&mut self, data: &[u8]) -> Result<(), TransportError> {
        self.act()?;
        if self.keep_wire {
            self.datagrams.push(data.to_vec());
            self.pending.push(Wire::Datagram(data.to_vec()));
        }
        Ok(())
    }

    fn close(&mut self, error_code: u64, reason: &str) {
        self.closed.push((error_code, reason.to_string()));
    }
}
