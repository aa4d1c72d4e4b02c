//! Which stream's data goes first (RFC 9218's priorities, as HTTP/3 gives them).
//!
//! quinn-proto sends the pending stream of highest `i32` priority first and round-robins
//! streams of equal priority (`send_fairness`, on by default). An HTTP priority maps onto
//! that as follows ([`quinn_priority`]):
//!
//! - streams nobody gave a priority (HTTP/3's control and QPACK streams, raw QUIC streams)
//!   stay at quinn-proto's 0, above every HTTP priority, so frames that unblock the whole
//!   connection are never queued behind bodies;
//! - each urgency is a band of 2^24 values below 0, urgency 0 highest;
//! - in a band, every non-incremental stream gets a value of its own, higher for a lower
//!   stream id: they go one after another, in stream order, each to its end;
//! - incremental streams share the band's lowest value: they interleave, one STREAM frame
//!   each in turn, after the band's non-incremental streams.
//!
//! quinn-proto re-reads a stream's priority each time it re-queues it, so a change takes
//! effect after at most one more frame of the old one.
//!
//! quinn-proto only schedules what it holds. Data beyond its send window waits in this
//! layer's queues; when window opens, quinn-proto reports every stream it blocked as
//! writable at once, and [`Core::flush_writable`] refills them in priority order, so the
//! freed window goes to the most urgent stream rather than to the one that blocked first.

use quinn_proto::{Dir, StreamId};

use super::Core;
use crate::h3::Priority;
use crate::quic::error::QuicError;

/// How many priorities of local streams not opened in quinn-proto yet are kept (HTTP/3
/// gives one just before its first send on the stream, which opens it or queues it
/// behind the peer's stream limit).
const PENDING_PRIORITIES: usize = 1024;

/// The smallest send window [`Core::fit_send_window`] gives quinn-proto.
const MIN_SEND_WINDOW: u64 = 256 * 1024;

/// quinn-proto's priority for `stream_id` sent at `priority` (see the module comment).
/// Stream order within a band wraps after 2^23 streams (one of them then goes out of
/// turn once).
pub(crate) fn quinn_priority(stream_id: u64, priority: Priority) -> i32 {
    let band = -((i32::from(priority.urgency.min(Priority::MAX_URGENCY)) + 1) << 24);
    if priority.incremental {
        band
    } else {
        let order = ((stream_id >> 2) & 0x7f_ffff) as i32;
        band + (1 << 23) + (0x7f_ffff - order)
    }
}

impl Core {
    /// Schedules `stream_id`'s sending at `priority`; a stream not opened in quinn-proto
    /// yet (beyond the peer's stream limit) gets it when it opens.
    pub(crate) fn set_priority(
        &mut self,
        stream_id: u64,
        priority: Priority,
    ) -> Result<(), QuicError> {
        self.check_open()?;
        let id = super::parse_stream_id(stream_id)?;
        if id.dir() == Dir::Uni && id.initiator() != self.side {
            return Err(QuicError::InvalidArgument(format!(
                "stream {stream_id} has no sending side here"
            ))); // no sending side here
        }
        let value = quinn_priority(stream_id, priority);
        if self.is_local(id) && id.index() >= self.opened[id.dir() as usize] {
            if self.pending_priority.len() >= PENDING_PRIORITIES
                && !self.pending_priority.contains_key(&stream_id)
            {
                return Err(QuicError::InvalidArgument(format!(
                    "priorities of {PENDING_PRIORITIES} streams not opened yet are waiting"
                )));
            }
            self.pending_priority.insert(stream_id, value);
            return Ok(());
        }
        self.quinn
            .send_stream(id)
            .set_priority(value)
            .map_err(|_| QuicError::StreamClosed(stream_id))
    }

    /// Lets quinn-proto hold twice what congestion control lets fly (at least
    /// [`MIN_SEND_WINDOW`], at most the configured send window): enough to keep the path
    /// full, while the rest of what the application gave waits in this layer's queues,
    /// which [`Core::flush_writable`] serves in priority order. A larger window would let
    /// bodies that started first fill quinn-proto's buffer, which it sends before data
    /// queued behind it whatever the priorities.
    pub(super) fn fit_send_window(&mut self) {
        let cwnd = self.quinn.congestion_state().window();
        let fitted = cwnd
            .saturating_mul(2)
            .clamp(MIN_SEND_WINDOW, self.max_send_window.max(MIN_SEND_WINDOW));
        if fitted != self.send_window {
            self.send_window = fitted;
            self.quinn.set_send_window(fitted);
        }
    }

    /// Applies a priority given before `id` was opened in quinn-proto.
    pub(super) fn apply_pending_priority(&mut self, id: StreamId) {
        if let Some(value) = self.pending_priority.remove(&u64::from(id)) {
            let _ = self.quinn.send_stream(id).set_priority(value);
        }
    }

    /// Refills the streams quinn-proto reported writable, most urgent first.
    pub(super) fn flush_writable(&mut self) {
        if self.writable.is_empty() {
            return;
        }
        let mut writable = std::mem::take(&mut self.writable);
        writable.sort_by_key(|&id| {
            let priority = self.quinn.send_stream(id).priority().unwrap_or(0);
            (std::cmp::Reverse(priority), u64::from(id))
        });
        for &id in &writable {
            if let Some(out) = self.outgoing.get_mut(&u64::from(id)) {
                out.blocked = false;
                self.flush(id);
            }
        }
        writable.clear();
        self.writable = writable;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(urgency: u8, incremental: bool) -> Priority {
        Priority {
            urgency,
            incremental,
        }
    }

    #[test]
    fn urgency_orders_bands_below_the_unprioritised_streams() {
        for u in 0..7 {
            let least_of_u = quinn_priority(4 * 0x7f_ffff, p(u, true));
            let most_of_next = quinn_priority(0, p(u + 1, false));
            assert!(least_of_u > most_of_next, "u={u}");
        }
        assert!(quinn_priority(0, p(0, false)) < 0);
    }

    #[test]
    fn non_incremental_streams_go_in_stream_order_before_incremental_ones() {
        let a = quinn_priority(0, p(3, false));
        let b = quinn_priority(4, p(3, false));
        let c = quinn_priority(400, p(3, false));
        assert!(a > b && b > c);
        let i = quinn_priority(0, p(3, true));
        assert!(c > i);
        assert_eq!(
            i,
            quinn_priority(1000, p(3, true)),
            "incremental ones share a value"
        );
    }
}
