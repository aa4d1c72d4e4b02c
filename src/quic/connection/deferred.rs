//! Small writes that may wait until the connection next builds packets
//! ([`Core::send_deferred`]).
//!
//! HTTP/3's QPACK decoder stream carries a Section Acknowledgement (one or two bytes) for
//! nearly every request a server receives. Handing each to quinn-proto costs as much as
//! writing a response's headers, yet nobody waits for them before the next packet leaves.
//! So they collect here, one buffer per connection, and go to quinn-proto as one write
//! just before the endpoint asks the connection for packets
//! ([`Core::flush_deferred`]): a burst of requests in one datagram costs one write for all
//! of their acknowledgements. The bytes go out in the same packets as they would have;
//! only the bookkeeping is shared.
//!
//! Order on the stream is kept: any other write to (or reset of) the stream flushes what
//! waits first, and the flush itself goes through [`Core::send`], behind anything queued
//! there. Errors are reported at the call, as [`Core::send`] would: a write defers only on
//! the one local unidirectional stream whose last write was accepted without FIN, and that
//! knowledge goes with FIN, a reset, the peer's STOP_SENDING (which also drops what waits,
//! as [`Core::send`] quietly drops writes to a stopped stream) and the connection's close.
//! Any other write goes at once, with its checks and errors.

use quinn_proto::Dir;

use super::{Core, Payload, parse_stream_id};
use crate::quic::error::QuicError;

/// The most bytes that wait; a write that would pass it flushes first.
const DEFERRED_MAX: usize = 1024;

/// Bytes for one stream, waiting for the next [`Core::flush_deferred`].
#[derive(Debug, Default)]
pub(super) struct Deferred {
    /// The stream the bytes are for; `None` when nothing waits.
    stream: Option<u64>,
    bytes: Vec<u8>,
    /// The local unidirectional stream whose last write was accepted without FIN: writes
    /// to it may wait.
    writable: Option<u64>,
}

impl Deferred {
    /// `stream_id` got FIN or a reset, or the peer stopped it: writes to it go at once
    /// again, and fail as they should.
    pub(super) fn forget_writable(&mut self, stream_id: u64) {
        if self.writable == Some(stream_id) {
            self.writable = None;
        }
    }

    /// The peer stopped `stream_id`: what waits for it is dropped (as [`Core::send`] drops
    /// writes to a stopped stream) and later writes go at once.
    pub(super) fn stopped(&mut self, stream_id: u64) {
        self.forget_writable(stream_id);
        if self.holds(stream_id) {
            self.stream = None;
            self.bytes = Vec::new();
        }
    }

    /// True when bytes for `stream_id` wait.
    pub(super) fn holds(&self, stream_id: u64) -> bool {
        self.stream == Some(stream_id)
    }

    /// Bytes waiting for `stream_id`.
    pub(super) fn len_for(&self, stream_id: u64) -> usize {
        if self.holds(stream_id) {
            self.bytes.len()
        } else {
            0
        }
    }

    /// True when any bytes wait.
    pub(super) fn is_pending(&self) -> bool {
        self.stream.is_some()
    }

    /// Drops what waits and what is known (the connection is closing: unsent data is
    /// discarded).
    pub(super) fn discard(&mut self) {
        *self = Deferred::default();
    }
}

impl Core {
    /// As [`Core::send`] without FIN, except that `data` may wait in this layer until the
    /// endpoint next asks this connection for packets (see the module comment). Errors
    /// are [`Core::send`]'s, checked now.
    pub(crate) fn send_deferred(&mut self, stream_id: u64, data: &[u8]) -> Result<(), QuicError> {
        self.check_open()?;
        if self.deferred.writable != Some(stream_id) || data.len() > DEFERRED_MAX {
            self.send(stream_id, Payload::Slice(data), false)?;
            let id = parse_stream_id(stream_id)?;
            // `send` also accepts (and drops) writes to a stream the peer stopped.
            if id.dir() == Dir::Uni
                && id.initiator() == self.side
                && matches!(self.quinn.send_stream(id).stopped(), Ok(None))
            {
                self.deferred.writable = Some(stream_id);
            }
            return Ok(());
        }
        if data.is_empty() {
            return Ok(());
        }
        if self.deferred.is_pending()
            && (!self.deferred.holds(stream_id)
                || self.deferred.bytes.len() + data.len() > DEFERRED_MAX)
        {
            self.flush_deferred();
        }
        if let Some(tap) = &mut self.qlog {
            tap.bytes(self.time.now(), stream_id, true, data);
        }
        self.deferred.stream = Some(stream_id);
        self.deferred.bytes.extend_from_slice(data);
        Ok(())
    }

    /// Writes what waits ([`Core::send_deferred`]) into quinn-proto. Called before every
    /// `poll_transmit` and before any other write to or reset of the stream. A failure
    /// here has nobody to go to and needs none: the connection closed (unsent data is
    /// discarded), or the peer stopped the stream, which HTTP/3 learns from its own event.
    pub(crate) fn flush_deferred(&mut self) {
        let Some(stream_id) = self.deferred.stream.take() else {
            return;
        };
        // The buffer goes with the flush: an idle connection holds none.
        let bytes = std::mem::take(&mut self.deferred.bytes);
        let _ = self.send_untapped(stream_id, Payload::Slice(&bytes), false);
    }
}
