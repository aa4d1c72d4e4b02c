//! Reusable buffers for delivering HTTP events to C.
//!
//! `h3q_conn_handle_event` collects the events one QUIC event produced, then converts each
//! to a C `h3q_event` (with an array of `h3q_header`s) for the callback. Allocating the two
//! vectors afresh on every call was one of the larger allocation sites per request, so
//! they come from a small per-thread pool instead. The pool is a stack rather than one
//! buffer because a callback may call `h3q_conn_handle_event` again (for another
//! connection): the nested call takes the next pair. No buffer is borrowed from the pool
//! while the application runs: the pair is taken out before and put back after.

use std::cell::RefCell;

use crate::h3::H3Event;

use super::header::h3q_header;

/// The buffers one delivery uses; empty whenever they are in the pool.
#[derive(Default)]
pub(crate) struct EventScratch {
    pub events: Vec<H3Event>,
    pub headers: Vec<h3q_header>,
}

/// Pairs kept per thread: enough for a few nested calls.
const POOL_SIZE: usize = 4;
/// A buffer that grew past this many entries (a burst) is freed rather than kept.
const KEEP_CAPACITY: usize = 256;

thread_local! {
    static POOL: RefCell<Vec<EventScratch>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with an empty pair of buffers from this thread's pool (or new ones), and
/// returns the pair, emptied, to the pool afterwards.
pub(crate) fn with_event_scratch<R>(f: impl FnOnce(&mut EventScratch) -> R) -> R {
    let mut scratch = POOL
        .try_with(|pool| pool.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_default();
    let result = f(&mut scratch);
    scratch.events.clear();
    scratch.headers.clear();
    if scratch.events.capacity() <= KEEP_CAPACITY && scratch.headers.capacity() <= KEEP_CAPACITY {
        // During thread teardown the pool may be gone: the pair is simply dropped.
        let _ = POOL.try_with(|pool| {
            let mut pool = pool.borrow_mut();
            if pool.len() < POOL_SIZE {
                pool.push(scratch);
            }
        });
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_and_nested_calls_get_their_own() {
        let first = with_event_scratch(|s| {
            s.events.reserve(8);
            s.events.as_ptr() as usize
        });
        // The same buffer comes back, empty.
        with_event_scratch(|s| {
            assert!(s.events.is_empty());
            assert_eq!(s.events.as_ptr() as usize, first);
            // A nested call gets another one.
            with_event_scratch(|inner| assert_ne!(inner.events.as_ptr() as usize, first));
        });
    }

    #[test]
    fn a_burst_is_not_kept() {
        with_event_scratch(|s| s.headers.reserve(KEEP_CAPACITY + 1));
        with_event_scratch(|s| assert!(s.headers.capacity() <= KEEP_CAPACITY));
    }
}
