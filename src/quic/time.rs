//! The caller's clock, mapped onto [`Instant`].
//!
//! quinn-proto measures time with [`std::time::Instant`]; the h3q API takes time as a
//! parameter: `now_ns`, any monotonic nanosecond count of the caller's (for example
//! `CLOCK_MONOTONIC`). A [`Clock`] maps one onto the other with a fixed origin:
//!
//! * `base`: an `Instant` read **once**, when the endpoint is created. This is the only
//!   place the QUIC layer reads the system clock; every later instant is `base` plus an
//!   offset computed from the caller's nanoseconds, so the result depends on `now_ns` only.
//! * `origin_ns`: the first `now_ns` the endpoint is given; it corresponds to `base`.
//!
//! `instant(ns) = base + (ns - origin_ns)` and `ns(instant) = origin_ns + (instant - base)`.
//!
//! Address-validation tokens (Retry, NEW_TOKEN) carry a wall-clock issue time, since a
//! NEW_TOKEN token is used on a later connection, possibly after a restart. quinn-proto
//! asks a [`TimeSource`] for it; the endpoint's is [`WallClock`]: a `SystemTime` read once,
//! together with `base`, plus the same caller offset. Outside the QUIC state machine, two
//! more wall-clock reads remain, both TLS matters: rustls checks certificate validity
//! periods (and session ticket ages) against the system time during the handshake, and
//! generating a self-signed certificate stamps it with the current date.
//!
//! A `now_ns` lower than the latest one seen (a caller bug: the clock must not go backwards)
//! is clamped to the latest one, so quinn-proto never sees time run backwards.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use quinn_proto::TimeSource;

/// Maps the caller's monotonic nanoseconds to `Instant` and back.
#[derive(Debug)]
pub(crate) struct Clock {
    base: Instant,
    /// The wall-clock time at `base`.
    wall_base: SystemTime,
    /// The caller's time at `base`, set by the first call that passes a time.
    origin_ns: Option<u64>,
    /// The latest caller time seen, relative to `origin_ns`; shared with [`LatestTime`].
    latest: Arc<AtomicU64>,
}

/// A read-only view of the latest time an endpoint was given. Connections use it for
/// operations that need "now" but take no time argument (closing, via the `Transport` trait).
#[derive(Clone, Debug)]
pub(crate) struct LatestTime {
    base: Instant,
    latest: Arc<AtomicU64>,
}

impl LatestTime {
    /// The `Instant` of the latest time the endpoint was given.
    pub(crate) fn now(&self) -> Instant {
        at_offset(self.base, self.latest.load(Ordering::Relaxed))
    }
}

/// Far enough in the future to mean "never" and still representable on every platform.
const FAR_FUTURE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

impl Clock {
    /// A clock whose base is the current `Instant` (the one clock read; see the module docs).
    pub(crate) fn new() -> Self {
        Clock {
            base: Instant::now(),
            wall_base: SystemTime::now(),
            origin_ns: None,
            latest: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A view of the latest time, for connections.
    pub(crate) fn latest_time(&self) -> LatestTime {
        LatestTime {
            base: self.base,
            latest: self.latest.clone(),
        }
    }

    /// The wall clock quinn-proto dates tokens with.
    pub(crate) fn wall_clock(&self) -> Arc<dyn TimeSource> {
        Arc::new(WallClock {
            base: self.wall_base,
            latest: self.latest.clone(),
        })
    }

    /// The `Instant` for the caller's `now_ns`, recording it as the latest time seen.
    pub(crate) fn advance(&mut self, now_ns: u64) -> Instant {
        let origin = *self.origin_ns.get_or_insert(now_ns);
        let latest = self.latest.load(Ordering::Relaxed);
        let offset = now_ns.saturating_sub(origin).max(latest);
        self.latest.store(offset, Ordering::Relaxed);
        at_offset(self.base, offset)
    }

    /// The caller's nanoseconds for an `Instant` produced by quinn-proto from our instants.
    pub(crate) fn to_ns(&self, instant: Instant) -> u64 {
        let origin = self.origin_ns.unwrap_or(0);
        let since = instant.saturating_duration_since(self.base);
        let nanos = u64::try_from(since.as_nanos()).unwrap_or(u64::MAX);
        origin.saturating_add(nanos)
    }
}

/// The wall-clock time of the latest caller time an endpoint was given.
#[derive(Debug)]
pub(crate) struct WallClock {
    base: SystemTime,
    latest: Arc<AtomicU64>,
}

impl TimeSource for WallClock {
    fn now(&self) -> SystemTime {
        let offset = Duration::from_nanos(self.latest.load(Ordering::Relaxed)).min(FAR_FUTURE);
        self.base.checked_add(offset).unwrap_or(self.base)
    }
}

fn at_offset(base: Instant, offset_ns: u64) -> Instant {
    let offset = Duration::from_nanos(offset_ns).min(FAR_FUTURE);
    base.checked_add(offset).unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_from_an_arbitrary_origin() {
        let mut clock = Clock::new();
        let t0 = clock.advance(5_000_000_000_000);
        let t1 = clock.advance(5_000_000_000_000 + 1_500);
        assert_eq!(t1 - t0, Duration::from_nanos(1_500));
        assert_eq!(clock.to_ns(t1), 5_000_000_000_000 + 1_500);
        let later = t1 + Duration::from_millis(25);
        assert_eq!(clock.to_ns(later), 5_000_000_000_000 + 1_500 + 25_000_000);
    }

    #[test]
    fn time_never_goes_backwards() {
        let mut clock = Clock::new();
        let a = clock.advance(1_000);
        let b = clock.advance(2_000);
        let c = clock.advance(1_500);
        assert!(a < b);
        assert_eq!(b, c);
        assert_eq!(clock.latest_time().now(), b);
    }

    #[test]
    fn the_wall_clock_follows_the_callers_time() {
        let mut clock = Clock::new();
        let wall = clock.wall_clock();
        clock.advance(7_000);
        let t0 = wall.now();
        clock.advance(7_000 + 3_000_000_000);
        assert_eq!(
            wall.now().duration_since(t0).unwrap(),
            Duration::from_secs(3)
        );
    }

    #[test]
    fn huge_values_do_not_overflow() {
        let mut clock = Clock::new();
        clock.advance(0);
        let far = clock.advance(u64::MAX);
        assert!(far > clock.base);
        assert!(clock.to_ns(far) > 0);
    }
}
