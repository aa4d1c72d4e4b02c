//! Small writes that may wait until the connection next builds packets
//! ([`Core::send_deferred`]), so that several reach quinn-proto as one write.
//!
//! Each write handed to quinn-proto costs about as much whatever its size (the stream's
//! send buffer, a segment to walk when packets are built and to drop when acknowledged).
//! Two kinds of small writes nobody waits for before the next packet leaves are held here
//! and handed over together, just before the endpoint asks the connection for packets
//! ([`Core::flush_deferred`]), or earlier when the stream's next write comes:
//!
//! - on a unidirectional stream, HTTP/3's QPACK decoder stream: a Section Acknowledgement
//!   (a byte or two) for nearly every request a server receives. They collect in one
//!   buffer per connection, so a burst of requests in one datagram costs one write for
//!   all of their acknowledgements;
//! - on a bidirectional stream, a response's HEADERS frame: held (copied where small
//!   writes go, `small_writes.rs`) until the stream's next write, which it joins when
//!   that write is small too (a small body and its FIN): one write per small response
//!   instead of two.
//!
//! The bytes go out in the same packets as they would have; only the bookkeeping is
//! shared. Order on the stream is kept: any other write to (or reset of) the stream
//! flushes or joins what waits first, and the flush goes through [`Core::send`], behind
//! anything queued there.
//!
//! Errors are reported at the call, as [`Core::send`] would, from what this layer knows:
//! a unidirectional write waits only on the stream whose last write was accepted without
//! FIN, a bidirectional one only on a stream open in quinn-proto with nothing queued or
//! finished here and not stopped by the peer. That knowledge goes with FIN, a reset, the
//! peer's STOP_SENDING (which also drops what waits, as [`Core::send`] quietly drops
//! writes to a stopped stream) and the connection's close (which discards unsent data).
//! One case is not seen: a bidirectional stream this side reset, written again before
//! quinn-proto forgets it, is accepted and its bytes dropped with the rest of the
//! stream's unsent data, where [`Core::send`] reports `StreamClosed`. Anything else goes
//! at once, with its checks and errors.

use bytes::BytesMut;
use quinn_proto::{Dir, StreamId};

use super::small_writes::SMALL_WRITE_MAX;
use super::{Core, Payload, parse_stream_id};
use crate::quic::error::QuicError;

/// The most bytes that wait on a unidirectional stream; a write that would pass it
/// flushes first.
const DEFERRED_MAX: usize = 1024;

/// What waits for the next [`Core::flush_deferred`].
#[derive(Debug, Default)]
pub(super) struct Deferred {
    /// The unidirectional stream the bytes are for; `None` when nothing waits.
    stream: Option<u64>,
    bytes: Vec<u8>,
    /// The local unidirectional stream whose last write was accepted without FIN: writes
    /// to it may wait.
    writable: Option<u64>,
    /// A bidirectional stream's held write (a HEADERS frame), in the small-writes chunk.
    head: Option<(u64, BytesMut)>,
}

impl Deferred {
    /// `stream_id` got FIN or a reset, or the peer stopped it: unidirectional writes to it
    /// go at once again, and fail as they should.
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
        if self.holds_head(stream_id) {
            self.head = None;
        }
    }

    /// True when unidirectional bytes for `stream_id` wait.
    pub(super) fn holds(&self, stream_id: u64) -> bool {
        self.stream == Some(stream_id)
    }

    /// True when a held write of bidirectional stream `stream_id` waits.
    pub(super) fn holds_head(&self, stream_id: u64) -> bool {
        self.head.as_ref().is_some_and(|(id, _)| *id == stream_id)
    }

    /// Bytes waiting for `stream_id`.
    pub(super) fn len_for(&self, stream_id: u64) -> usize {
        let uni = if self.holds(stream_id) {
            self.bytes.len()
        } else {
            0
        };
        let head = match &self.head {
            Some((id, bytes)) if *id == stream_id => bytes.len(),
            _ => 0,
        };
        uni + head
    }

    /// How many streams have bytes waiting here.
    pub(super) fn streams_pending(&self) -> usize {
        usize::from(self.stream.is_some()) + usize::from(self.head.is_some())
    }

    /// Drops what waits and what is known (the connection is closing: unsent data is
    /// discarded).
    pub(super) fn discard(&mut self) {
        *self = Deferred::default();
    }
}

impl Core {
    /// As [`Core::send`] without FIN, except that `data` may wait in this layer until the
    /// endpoint next asks this connection for packets or the stream's next write comes
    /// (see the module comment). Errors are [`Core::send`]'s, checked now.
    pub(crate) fn send_deferred(&mut self, stream_id: u64, data: &[u8]) -> Result<(), QuicError> {
        self.check_open()?;
        let id = parse_stream_id(stream_id)?;
        if id.dir() == Dir::Bi {
            return self.hold_head(id, data);
        }
        if self.deferred.writable != Some(stream_id) || data.len() > DEFERRED_MAX {
            self.send(stream_id, Payload::Slice(data), false)?;
            // `send` also accepts (and drops) writes to a stream the peer stopped.
            if id.initiator() == self.side
                && matches!(self.quinn.send_stream(id).stopped(), Ok(None))
            {
                self.deferred.writable = Some(stream_id);
            }
            return Ok(());
        }
        if data.is_empty() {
            return Ok(());
        }
        if self.deferred.stream.is_some()
            && (!self.deferred.holds(stream_id)
                || self.deferred.bytes.len() + data.len() > DEFERRED_MAX)
        {
            self.flush_deferred_uni();
        }
        self.tap_sent(stream_id, data);
        self.deferred.stream = Some(stream_id);
        self.deferred.bytes.extend_from_slice(data);
        Ok(())
    }

    /// Holds a small write of bidirectional stream `id` to join its next write; anything
    /// this layer cannot vouch for goes at once.
    fn hold_head(&mut self, id: StreamId, data: &[u8]) -> Result<(), QuicError> {
        let stream_id = u64::from(id);
        // A second write while one is held goes now, joined with it (`Core::send`).
        if self.deferred.holds_head(stream_id)
            || data.is_empty()
            || data.len() > SMALL_WRITE_MAX
            || !self.may_hold(id)
        {
            return self.send(stream_id, Payload::Slice(data), false);
        }
        self.flush_head();
        self.tap_sent(stream_id, data);
        let bytes = self.small_writes.copy_mut(data);
        self.deferred.head = Some((stream_id, bytes));
        Ok(())
    }

    /// Whether a write to bidirectional stream `id` would be accepted by [`Core::send`]
    /// and go straight to quinn-proto: open there, nothing queued or finished here, not
    /// stopped by the peer (see the module comment for the one case this cannot see).
    fn may_hold(&mut self, id: StreamId) -> bool {
        let stream_id = u64::from(id);
        let opened = if self.is_local(id) {
            self.opened[Dir::Bi as usize]
        } else {
            self.peer_opened[Dir::Bi as usize]
        };
        id.index() < opened
            && !self.outgoing.contains_key(&stream_id)
            && !self.unacknowledged.contains(&stream_id)
            && matches!(self.quinn.send_stream(id).stopped(), Ok(None))
    }

    /// The held write of `stream_id`, if any, taken out to go with the stream's next
    /// write: joined with `data` when that is small (one write), else handed over first.
    /// Returns what is left to write.
    pub(super) fn take_head_for<'a>(
        &mut self,
        stream_id: u64,
        data: Payload<'a>,
    ) -> Result<Payload<'a>, QuicError> {
        let Some((_, mut head)) = self.deferred.head.take_if(|(id, _)| *id == stream_id) else {
            return Ok(data);
        };
        match data {
            Payload::Slice(slice) if head.len() + slice.len() <= SMALL_WRITE_MAX => {
                // Adjacent in the chunk (nothing was copied there since): joined in place.
                head.unsplit(self.small_writes.copy_mut(slice));
                Ok(Payload::Owned(head.freeze()))
            }
            other => {
                self.send_untapped(stream_id, Payload::Owned(head.freeze()), false)?;
                Ok(other)
            }
        }
    }

    /// Writes what waits ([`Core::send_deferred`]) into quinn-proto. Called before every
    /// `poll_transmit`, and for one stream before any other write to or reset of it. A
    /// failure here has nobody to go to and needs none: the connection closed (unsent
    /// data is discarded), or the peer stopped the stream, which HTTP/3 learns from its
    /// own event.
    pub(crate) fn flush_deferred(&mut self) {
        self.flush_deferred_uni();
        self.flush_head();
    }

    /// Writes the waiting unidirectional bytes.
    pub(super) fn flush_deferred_uni(&mut self) {
        let Some(stream_id) = self.deferred.stream.take() else {
            return;
        };
        // The buffer goes with the flush: an idle connection holds none.
        let bytes = std::mem::take(&mut self.deferred.bytes);
        let _ = self.send_untapped(stream_id, Payload::Slice(&bytes), false);
    }

    /// Writes the held bidirectional write.
    pub(super) fn flush_head(&mut self) {
        if let Some((stream_id, head)) = self.deferred.head.take() {
            let _ = self.send_untapped(stream_id, Payload::Owned(head.freeze()), false);
        }
    }
}
