//! The send path of one connection: writes into quinn-proto, what waits in this layer
//! when quinn-proto takes no more (flow control, the send window, the peer's stream
//! limit), FIN and resets. What waits goes in when quinn-proto reports the stream
//! writable (`schedule.rs` refills streams by priority); small writes are copied into
//! shared chunks (`small_writes.rs`); some wait for the next transmit (`deferred.rs`).

use std::collections::VecDeque;

use bytes::{Buf, Bytes};
use quinn_proto::{Dir, FinishError, StreamId, VarInt, WriteError};

use super::small_writes::SMALL_WRITE_MAX;
use super::{Core, parse_code, parse_stream_id};
use crate::quic::error::QuicError;

/// Stream data handed to the send path: borrowed (copied once, only if it must wait) or
/// already owned.
pub(crate) enum Payload<'a> {
    Slice(&'a [u8]),
    Owned(Bytes),
}

impl Payload<'_> {
    /// The bytes, borrowed or owned.
    pub(super) fn as_slice(&self) -> &[u8] {
        match self {
            Payload::Slice(s) => s,
            Payload::Owned(b) => b,
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// Appends the payload to a send queue: owned bytes as they are, borrowed bytes copied
    /// in pieces of at most [`COPY_CHUNK`], so memory goes back to the allocator piece by
    /// piece as data is acknowledged, instead of one buffer the size of the call living
    /// until its last byte is acknowledged. (The copy itself still needs fresh memory for
    /// everything handed over at once; a sender that keeps [`Connection::send_buffered`]
    /// low reuses the same memory.)
    ///
    /// [`Connection::send_buffered`]: crate::quic::Connection::send_buffered
    pub(super) fn queue_into(self, queue: &mut VecDeque<Bytes>) {
        match self {
            Payload::Slice(s) => {
                for piece in s.chunks(COPY_CHUNK) {
                    queue.push_back(Bytes::copy_from_slice(piece));
                }
            }
            Payload::Owned(b) => {
                if !b.is_empty() {
                    queue.push_back(b);
                }
            }
        }
    }
}

/// The largest piece borrowed stream data is copied into while it waits.
const COPY_CHUNK: usize = 64 * 1024;

/// What we still owe quinn-proto for one of our sending streams.
#[derive(Default)]
pub(super) struct Outgoing {
    /// Bytes quinn-proto has not accepted yet, in order.
    pub(super) queue: VecDeque<Bytes>,
    /// FIN goes after the queue.
    pub(super) fin: bool,
    /// quinn-proto refused a write; wait for `StreamEvent::Writable`.
    pub(super) blocked: bool,
    /// quinn-proto has taken some of the stream's bytes, perhaps not all sent yet
    /// (`schedule.rs`).
    pub(super) holding: bool,
    /// Reset requested before the stream was opened in quinn-proto.
    pub(super) reset: Option<VarInt>,
    /// STOP_SENDING requested before the stream was opened in quinn-proto.
    pub(super) stop: Option<VarInt>,
}

/// How [`Core::flush_up_to`] left a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Flushed {
    /// Nothing left queued here: all written, or the stream was stopped or closed.
    Done,
    /// The budget ran out with more queued.
    Budget,
    /// quinn-proto took no more; a `StreamEvent::Writable` will follow.
    Blocked,
}

impl Core {
    /// Writes as much of `id`'s queue as quinn-proto takes, then FIN if due.
    pub(super) fn flush(&mut self, id: StreamId) {
        self.flush_up_to(id, usize::MAX);
    }

    /// Writes at most `budget` bytes of `id`'s queue into quinn-proto, then FIN once the
    /// queue is empty; says how it stopped.
    pub(super) fn flush_up_to(&mut self, id: StreamId, budget: usize) -> Flushed {
        let key = u64::from(id);
        let Some(out) = self.outgoing.get_mut(&key) else {
            return Flushed::Done;
        };
        let mut send = self.quinn.send_stream(id);
        let mut left = budget;
        while let Some(front) = out.queue.front_mut() {
            if left == 0 {
                return Flushed::Budget;
            }
            // A partial write leaves `front` non-empty; the next write then reports
            // `Blocked`, which registers the stream for a `Writable` event.
            let written = if front.len() <= left {
                send.write_chunks(std::slice::from_mut(front))
                    .map(|written| written.bytes)
            } else {
                // Only the budget's worth: a shared view, advanced by what was taken.
                let mut piece = front.slice(..left);
                let written = send
                    .write_chunks(std::slice::from_mut(&mut piece))
                    .map(|written| written.bytes);
                if let Ok(n) = written {
                    front.advance(n);
                }
                written
            };
            match written {
                Ok(n) => {
                    out.holding |= n > 0;
                    left -= n;
                    if front.is_empty() {
                        out.queue.pop_front();
                    }
                }
                Err(WriteError::Blocked) => {
                    out.blocked = true;
                    return Flushed::Blocked;
                }
                Err(WriteError::Stopped(_) | WriteError::ClosedStream) => {
                    // Stopped: reported as StopSendingReceived. Closed: reset by us.
                    self.outgoing.remove(&key);
                    return Flushed::Done;
                }
            }
        }
        if out.fin {
            match send.finish() {
                Ok(()) => {
                    self.unacknowledged.insert(key);
                }
                Err(FinishError::Stopped(_) | FinishError::ClosedStream) => {}
            }
        }
        self.outgoing.remove(&key);
        Flushed::Done
    }

    /// Writes `data` on `stream_id`, then FIN if `fin`: into quinn-proto what it takes
    /// now, the rest queued here (see the module comment). What waits for the stream in
    /// `deferred.rs` goes first, joined with `data` when both are small. Errors: the
    /// connection is closed, the id is invalid or names a stream this side cannot send on
    /// or the peer has not opened, or the stream was finished or reset.
    pub(crate) fn send(
        &mut self,
        stream_id: u64,
        data: Payload<'_>,
        fin: bool,
    ) -> Result<(), QuicError> {
        self.check_open()?;
        parse_stream_id(stream_id)?;
        self.tap_sent(stream_id, data.as_slice());
        if self.deferred.holds(stream_id) {
            self.flush_deferred_uni();
        }
        if fin {
            self.deferred.forget_writable(stream_id);
        }
        let data = self.take_head_for(stream_id, data)?;
        self.send_untapped(stream_id, data, fin)
    }

    /// Records bytes written on `stream_id` in the qlog, when it is on.
    pub(super) fn tap_sent(&mut self, stream_id: u64, data: &[u8]) {
        if let Some(tap) = &mut self.qlog {
            tap.bytes(self.time.now(), stream_id, true, data);
        }
    }

    /// [`Core::send`] without the qlog record (a deferred write was recorded when made).
    pub(super) fn send_untapped(
        &mut self,
        stream_id: u64,
        data: Payload<'_>,
        fin: bool,
    ) -> Result<(), QuicError> {
        self.check_open()?;
        let id = parse_stream_id(stream_id)?;
        // The peer sent STOP_SENDING and we reset the stream: what is sent before the
        // reset is acknowledged (the application may not have seen the event yet) is
        // dropped quietly, since the peer asked for nothing more. Once quinn-proto has
        // forgotten the stream, it is an error like any reset stream's: nothing is kept
        // per stopped stream.
        let sendable = id.dir() == Dir::Bi || id.initiator() == self.side;
        if sendable && let Ok(Some(_)) = self.quinn.send_stream(id).stopped() {
            return Ok(());
        }
        if self.not_opened_yet(id, "")? {
            // Not opened in quinn-proto yet (peer's stream limit): queue it.
            let out = self.outgoing.entry(stream_id).or_default();
            if out.fin || out.reset.is_some() {
                return Err(QuicError::StreamClosed(stream_id));
            }
            data.queue_into(&mut out.queue);
            out.fin = fin;
            self.open_claimed(id.dir());
            return Ok(());
        }

        if let Some(out) = self.outgoing.get_mut(&stream_id) {
            if out.fin {
                return Err(QuicError::StreamClosed(stream_id));
            }
            data.queue_into(&mut out.queue);
            out.fin = fin;
            if !out.blocked {
                self.flush_by_priority(id);
            }
            return Ok(());
        }

        // Nothing queued: write straight into quinn-proto, queue only the rest.
        // Request streams start chunks; the long-lived unidirectional streams (control,
        // QPACK) only use one that is there, or they would keep it for the connection's
        // life (it is let go when the request streams settle).
        let data = match data {
            Payload::Slice(slice) if slice.len() <= SMALL_WRITE_MAX => {
                Payload::Owned(if id.dir() == Dir::Bi {
                    self.small_writes.copy(slice)
                } else {
                    self.small_writes.copy_if_held(slice)
                })
            }
            other => other,
        };
        let mut send = self.quinn.send_stream(id);
        let (rest, wrote) = match data {
            Payload::Slice(slice) => match send.write(slice) {
                Ok(n) => (Payload::Slice(&slice[n..]), n > 0),
                Err(WriteError::Blocked) => (Payload::Slice(slice), false),
                Err(e) => return write_error(stream_id, e),
            },
            Payload::Owned(mut bytes) => {
                let mut wrote = false;
                if !bytes.is_empty() {
                    match send.write_chunks(std::slice::from_mut(&mut bytes)) {
                        Ok(written) => wrote = written.bytes > 0,
                        Err(WriteError::Blocked) => {}
                        Err(e) => return write_error(stream_id, e),
                    }
                }
                (Payload::Owned(bytes), wrote)
            }
        };
        if rest.is_empty() {
            if fin {
                return match send.finish() {
                    Ok(()) => {
                        self.unacknowledged.insert(stream_id);
                        Ok(())
                    }
                    Err(FinishError::Stopped(_)) => Ok(()),
                    Err(FinishError::ClosedStream) => Err(QuicError::StreamClosed(stream_id)),
                };
            }
            // A write that exactly filled the window registers no wake-up; an empty write
            // does (it reports Blocked when the window is full).
            return Ok(());
        }
        let out = self.outgoing.entry(stream_id).or_default();
        rest.queue_into(&mut out.queue);
        out.fin = fin;
        out.holding |= wrote;
        // Writing again reports `Blocked` (registering for `Writable`) or takes more bytes.
        self.flush_by_priority(id);
        Ok(())
    }

    /// Lets go of the small-writes chunk once no stream has data waiting here or for
    /// acknowledgement: an idle connection holds none.
    pub(super) fn release_small_writes_if_settled(&mut self) {
        if self.unacknowledged.is_empty() && self.outgoing.is_empty() {
            self.small_writes.release();
        }
    }

    pub(crate) fn reset_stream(
        &mut self,
        stream_id: u64,
        error_code: u64,
    ) -> Result<(), QuicError> {
        self.check_open()?;
        let id = parse_stream_id(stream_id)?;
        let code = parse_code(error_code)?;
        if self.deferred.holds(stream_id) {
            self.flush_deferred_uni();
        }
        if self.deferred.holds_head(stream_id) {
            self.flush_head();
        }
        self.deferred.forget_writable(stream_id);
        if self.not_opened_yet(id, ": it cannot be reset")? {
            let out = self.outgoing.entry(stream_id).or_default();
            out.queue.clear();
            out.fin = false;
            out.reset = Some(code);
            self.open_claimed(id.dir());
            return Ok(());
        }
        self.outgoing.remove(&stream_id);
        self.unacknowledged.remove(&stream_id);
        self.release_small_writes_if_settled();
        // An error means already reset or finished and acknowledged: nothing left to do.
        let _ = self.quinn.send_stream(id).reset(code);
        Ok(())
    }

    /// Checks that this side may send on `id`, claiming it if it is ours. True when it is
    /// a local stream not opened in quinn-proto yet (beyond the peer's stream limit): the
    /// caller queues what it does in `outgoing`. Errors: the peer's unidirectional stream
    /// (`refusal` ends the message), or a peer stream the peer has not opened.
    fn not_opened_yet(&mut self, id: StreamId, refusal: &str) -> Result<bool, QuicError> {
        if self.is_local(id) {
            self.claim(id);
            Ok(id.index() >= self.opened[id.dir() as usize])
        } else if id.dir() == Dir::Uni {
            Err(QuicError::InvalidArgument(format!(
                "stream {} is the peer's unidirectional stream{refusal}",
                u64::from(id)
            )))
        } else {
            self.check_peer_opened(id)?;
            Ok(false)
        }
    }
}

fn write_error(stream_id: u64, e: WriteError) -> Result<(), QuicError> {
    match e {
        // The peer asked us to stop: the bytes are of no use to it; not the caller's error.
        WriteError::Stopped(_) => Ok(()),
        WriteError::Blocked => Ok(()),
        WriteError::ClosedStream => Err(QuicError::StreamClosed(stream_id)),
    }
}
