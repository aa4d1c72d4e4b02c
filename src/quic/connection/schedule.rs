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
//!
//! The send window is about two congestion windows ([`Core::fit_send_window`]): one in
//! flight, one queued so the path never idles. What is queued there but not sent yet
//! would still go before a stream that becomes more urgent later (a new request, or a
//! PRIORITY_UPDATE raising one) if that stream had to wait for window. So a stream the
//! window blocks, while it is the most urgent stream waiting here and more urgent than the
//! least urgent stream that may hold unsent data in quinn-proto, writes up to one more
//! congestion window past it
//! ([`Core::flush_by_priority`]); quinn-proto then sends it first, and the window stays
//! overcommitted until acknowledgements bring it back, at most one congestion window.

use std::collections::VecDeque;

use quinn_proto::{Dir, StreamId};

use super::Core;
use super::send::Flushed;
use crate::h3::Priority;
use crate::quic::error::QuicError;

/// How many priorities of local streams not opened in quinn-proto yet are kept (HTTP/3
/// gives one just before its first send on the stream, which opens it or queues it
/// behind the peer's stream limit).
const PENDING_PRIORITIES: usize = 1024;

/// What each of a group of streams sharing one priority writes in its turn when they
/// are refilled together ([`Core::flush_in_turn`]).
const ROUND_ROBIN_QUANTUM: usize = 16 * 1024;

/// The smallest send window [`Core::fit_send_window`] gives quinn-proto.
const MIN_SEND_WINDOW: u64 = 256 * 1024;

/// The priorities that decide whether a stream blocked by the send window may write past
/// it ([`Core::flush_by_priority`]), in quinn-proto's terms (higher: more urgent).
#[derive(Clone, Copy, Debug)]
pub(super) struct WaitingSpan {
    /// The most urgent stream with data queued in this layer (waiting for window).
    most_urgent_queued: i32,
    /// The least urgent stream that may hold data quinn-proto has not sent: one that gave
    /// it bytes and still has more queued here, or one whose FIN it has but not all
    /// acknowledgements.
    least_urgent_holding: i32,
}

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
            .map_err(|_| QuicError::StreamClosed(stream_id))?;
        // A raised stream waiting for window takes the headroom now, not at the next ack.
        self.waiting_span = None;
        self.flush_by_priority(id);
        Ok(())
    }

    /// Writes what `id` has queued ([`Core::flush`]); if the send window blocks it while it
    /// is the most urgent stream with data queued here and more urgent than some stream
    /// that may hold unsent data in quinn-proto, writes on up to one congestion window past
    /// the window (see the module comment).
    pub(super) fn flush_by_priority(&mut self, id: StreamId) {
        self.flush(id);
        if self.may_write_ahead(id) {
            self.with_headroom(|core| {
                core.unblock(id);
                core.flush(id);
            });
        }
    }

    /// Whether `id`, blocked by the send window, may use the headroom past it.
    fn may_write_ahead(&mut self, id: StreamId) -> bool {
        if !self.is_blocked(id) {
            return false;
        }
        let Ok(mine) = self.quinn.send_stream(id).priority() else {
            return false;
        };
        self.waiting_span()
            .is_some_and(|span| mine >= span.most_urgent_queued && mine > span.least_urgent_holding)
    }

    /// Runs `write` with quinn-proto's send window one congestion window wider.
    fn with_headroom(&mut self, write: impl FnOnce(&mut Self)) {
        let headroom = self.quinn.congestion_state().window();
        self.quinn
            .set_send_window(self.send_window.saturating_add(headroom));
        write(self);
        self.quinn.set_send_window(self.send_window);
    }

    /// `id` has data queued here that quinn-proto refused (it waits for `Writable`).
    fn is_blocked(&self, id: StreamId) -> bool {
        self.outgoing
            .get(&u64::from(id))
            .is_some_and(|out| out.blocked)
    }

    fn unblock(&mut self, id: StreamId) {
        if let Some(out) = self.outgoing.get_mut(&u64::from(id)) {
            out.blocked = false;
        }
    }

    /// Refills streams of one priority (incremental ones share theirs) in turn,
    /// [`ROUND_ROBIN_QUANTUM`] bytes each, starting after the stream served last, until
    /// the window blocks them or they have nothing more queued.
    fn flush_in_turn(&mut self, group: &[StreamId]) {
        let mut turn: VecDeque<StreamId> = group.iter().copied().collect();
        let first = turn
            .iter()
            .position(|&id| u64::from(id) > self.last_in_turn)
            .unwrap_or(0);
        turn.rotate_left(first);
        for &id in &turn {
            self.unblock(id);
        }
        self.take_turns(turn);
        let blocked: VecDeque<StreamId> = group
            .iter()
            .copied()
            .filter(|&id| self.is_blocked(id))
            .collect();
        if blocked.front().is_some_and(|&id| self.may_write_ahead(id)) {
            self.with_headroom(|core| {
                for &id in &blocked {
                    core.unblock(id);
                }
                core.take_turns(blocked);
            });
        }
    }

    fn take_turns(&mut self, mut turn: VecDeque<StreamId>) {
        while let Some(id) = turn.pop_front() {
            self.last_in_turn = u64::from(id);
            if self.flush_up_to(id, ROUND_ROBIN_QUANTUM) == Flushed::Budget {
                turn.push_back(id);
            }
        }
    }

    /// Which priorities wait where ([`WaitingSpan`]), computed once per round of
    /// [`Core::fit_send_window`] (and after a priority changes): a stale value only
    /// misjudges whether one stream may use the bounded headroom.
    fn waiting_span(&mut self) -> Option<WaitingSpan> {
        if let Some(span) = self.waiting_span {
            return span;
        }
        let mut most_urgent_queued = None::<i32>;
        let mut least_urgent_holding = None::<i32>;
        // (stream, data still queued here, may hold unsent data in quinn-proto); a stream
        // leaves `outgoing` when its FIN goes to quinn-proto, so the two never overlap.
        let waiting: Vec<(u64, bool, bool)> = self
            .outgoing
            .iter()
            .map(|(&key, out)| (key, true, out.holding))
            .chain(self.unacknowledged.iter().map(|&key| (key, false, true)))
            .collect();
        for (key, queued, holding) in waiting {
            let Ok(id) = super::parse_stream_id(key) else {
                continue;
            };
            // Streams not opened in quinn-proto yet have no priority there: skipped.
            let Ok(priority) = self.quinn.send_stream(id).priority() else {
                continue;
            };
            if queued {
                most_urgent_queued = most_urgent_queued.max(Some(priority));
            }
            if holding {
                least_urgent_holding =
                    Some(least_urgent_holding.map_or(priority, |least| least.min(priority)));
            }
        }
        let span = most_urgent_queued.zip(least_urgent_holding).map(
            |(most_urgent_queued, least_urgent_holding)| WaitingSpan {
                most_urgent_queued,
                least_urgent_holding,
            },
        );
        self.waiting_span = Some(span);
        span
    }

    /// Lets quinn-proto hold twice what congestion control lets fly (at least
    /// [`MIN_SEND_WINDOW`], at most the configured send window): enough to keep the path
    /// full, while the rest of what the application gave waits in this layer's queues,
    /// which [`Core::flush_writable`] serves in priority order. A larger window would let
    /// bodies that started first fill quinn-proto's buffer, which it sends before data
    /// queued behind it whatever the priorities.
    pub(super) fn fit_send_window(&mut self) {
        self.waiting_span = None;
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

    /// Refills the streams quinn-proto reported writable, most urgent first; streams of
    /// one priority (incremental ones of one urgency) share in turn.
    pub(super) fn flush_writable(&mut self) {
        if self.writable.is_empty() {
            return;
        }
        let mut writable = std::mem::take(&mut self.writable);
        writable.retain(|id| self.outgoing.contains_key(&u64::from(*id)));
        let mut ranked: Vec<(i32, StreamId)> = writable
            .iter()
            .map(|&id| (self.quinn.send_stream(id).priority().unwrap_or(0), id))
            .collect();
        ranked.sort_by_key(|&(priority, id)| (std::cmp::Reverse(priority), u64::from(id)));
        for group in ranked.chunk_by(|a, b| a.0 == b.0) {
            if let [(_, id)] = group {
                self.unblock(*id);
                self.flush_by_priority(*id);
            } else {
                let ids: Vec<StreamId> = group.iter().map(|&(_, id)| id).collect();
                self.flush_in_turn(&ids);
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
