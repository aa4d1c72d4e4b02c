//! Which new connections a server validates with a Retry before it spends a handshake on
//! them (RFC 9000 §8.1.2).
//!
//! A Retry costs the client one round trip and the server almost nothing: the server keeps
//! no state until the client echoes the token, which proves it receives packets at the
//! address it claims. That defeats spoofed-source floods and amplification, at the price of
//! latency for honest clients, hence the middle setting: Retry only while new connections
//! arrive faster than a rate. A client that already holds a NEW_TOKEN token from an earlier
//! connection, or that echoes a Retry token, is validated and never retried.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use quinn_proto::{TokenLog, TokenReuseError};

/// When a server sends Retry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RetryPolicy {
    /// Never: every new connection goes straight to the handshake.
    #[default]
    Off,
    /// For every new connection whose address is not validated yet.
    Always,
    /// Only while more than this many new connections (handshakes started, or attempted)
    /// arrived in the last second.
    AboveRate(u32),
}

/// Counts new connection attempts per second for [`RetryPolicy::AboveRate`].
#[derive(Debug)]
pub(crate) struct Admission {
    policy: RetryPolicy,
    window_start: Option<Instant>,
    /// Attempts in the current window, and in the previous one (the rate is their
    /// time-weighted mix, so that it does not drop to zero at each window boundary).
    current: u32,
    previous: u32,
}

const WINDOW: Duration = Duration::from_secs(1);

impl Admission {
    pub(crate) fn new(policy: RetryPolicy) -> Self {
        Admission {
            policy,
            window_start: None,
            current: 0,
            previous: 0,
        }
    }

    /// Counts one new connection attempt from an address not validated yet and says
    /// whether to answer it with a Retry.
    pub(crate) fn should_retry(&mut self, now: Instant) -> bool {
        match self.policy {
            RetryPolicy::Off => false,
            RetryPolicy::Always => true,
            RetryPolicy::AboveRate(limit) => {
                let rate = self.count(now);
                rate > u64::from(limit)
            }
        }
    }

    /// Records an attempt at `now`; returns the attempts per second, estimated over the
    /// last second.
    fn count(&mut self, now: Instant) -> u64 {
        let start = *self.window_start.get_or_insert(now);
        let elapsed = now.saturating_duration_since(start);
        if elapsed >= WINDOW {
            let windows = elapsed.as_nanos() / WINDOW.as_nanos();
            self.previous = if windows == 1 { self.current } else { 0 };
            self.current = 0;
            let advanced = WINDOW * u32::try_from(windows).unwrap_or(u32::MAX);
            self.window_start = Some(start.checked_add(advanced).unwrap_or(now));
        }
        self.current = self.current.saturating_add(1);
        let into = now
            .saturating_duration_since(self.window_start.unwrap_or(now))
            .as_secs_f64()
            / WINDOW.as_secs_f64();
        let weighted = f64::from(self.previous) * (1.0 - into) + f64::from(self.current);
        weighted as u64
    }
}

/// How long a NEW_TOKEN token stays usable: a client reconnecting within a day skips
/// address validation.
pub(crate) const NEW_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// NEW_TOKEN tokens remembered as used (RFC 9000 §8.1.3: a token should be usable once).
pub(crate) const MAX_USED_TOKENS: usize = 65_536;

/// Remembers the NEW_TOKEN tokens used, so that each validates one connection only.
///
/// Entries leave once their token has expired (tokens are issued in time order, so the
/// oldest go first). When it is full of unexpired tokens, further tokens are refused:
/// their clients are validated the ordinary way (a Retry, or the handshake), never twice
/// by one token. Memory: at most [`MAX_USED_TOKENS`] entries of about 40 bytes.
#[derive(Debug, Default)]
pub(crate) struct UsedTokens {
    used: Mutex<Used>,
}

/// The used tokens' nonces, and the same with their issue times, oldest first.
type Used = (HashSet<u128>, VecDeque<(SystemTime, u128)>);

impl TokenLog for UsedTokens {
    fn check_and_insert(
        &self,
        nonce: u128,
        issued: SystemTime,
        lifetime: Duration,
    ) -> Result<(), TokenReuseError> {
        let mut guard = self.used.lock().map_err(|_| TokenReuseError)?;
        let (set, order) = &mut *guard;
        while let Some(&(front_issued, front)) = order.front() {
            let expired = front_issued
                .checked_add(lifetime)
                .is_none_or(|end| end < issued);
            if !expired {
                break;
            }
            order.pop_front();
            set.remove(&front);
        }
        if set.len() >= MAX_USED_TOKENS || !set.insert(nonce) {
            return Err(TokenReuseError);
        }
        order.push_back((issued, nonce));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_validates_once() {
        let log = UsedTokens::default();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert!(log.check_and_insert(7, now, NEW_TOKEN_LIFETIME).is_ok());
        assert!(log.check_and_insert(7, now, NEW_TOKEN_LIFETIME).is_err());
        assert!(log.check_and_insert(8, now, NEW_TOKEN_LIFETIME).is_ok());
        // Once 7 has expired it is forgotten (quinn-proto refuses expired tokens itself).
        let later = now + NEW_TOKEN_LIFETIME + Duration::from_secs(1);
        assert!(log.check_and_insert(9, later, NEW_TOKEN_LIFETIME).is_ok());
        assert_eq!(log.used.lock().unwrap().0.len(), 1);
    }

    #[test]
    fn off_and_always() {
        let now = Instant::now();
        assert!(!Admission::new(RetryPolicy::Off).should_retry(now));
        assert!(Admission::new(RetryPolicy::Always).should_retry(now));
    }

    #[test]
    fn above_rate_retries_only_while_the_rate_is_exceeded() {
        let start = Instant::now();
        let mut admission = Admission::new(RetryPolicy::AboveRate(10));
        // 10 attempts in 100 ms: at the limit, not above.
        let retried = (0..10)
            .filter(|i| admission.should_retry(start + Duration::from_millis(i * 10)))
            .count();
        assert_eq!(retried, 0);
        // The 11th within the same second is above it.
        assert!(admission.should_retry(start + Duration::from_millis(200)));
        // Three seconds later the burst is forgotten.
        assert!(!admission.should_retry(start + Duration::from_secs(3)));
    }

    #[test]
    fn the_previous_second_still_counts_just_after_the_boundary() {
        let start = Instant::now();
        let mut admission = Admission::new(RetryPolicy::AboveRate(5));
        for i in 0..20 {
            admission.should_retry(start + Duration::from_millis(900 + i));
        }
        // 1.05 s: the previous window's 20 attempts still weigh 95 %.
        assert!(admission.should_retry(start + Duration::from_millis(1050)));
    }
}
