//! Loss recovery settings of the built-in QUIC layer on an `h3q_config`: loss detection
//! and congestion control (`crate::quic::LossDetection`, `crate::quic::CongestionControl`).

use crate::quic::{CongestionControl, LossDetection};

use super::config::h3q_config;
use super::handle::{FfiError, call};
use super::result::h3q_result;

/// Sets when the built-in QUIC layer declares a packet lost (RFC 9002 section 6.1): once
/// `packet_threshold` packets sent after it are acknowledged (0: never by count), or once
/// a packet sent after it is acknowledged and `time_threshold` round trips have passed
/// since it was sent.
///
/// The default is 0 and 2.0: by time alone, after two round trips, which tolerates paths
/// that reorder packets (Wi-Fi, cellular, ECMP, per-packet jitter). RFC 9002's values, 3
/// and 1.125, take reordering for loss and halve the congestion window for each such
/// "loss": on a path whose delay varies by +-20 ms around 50 ms, a 5 MB download took
/// about 40 times longer with them. docs/ARCHITECTURE.md gives the measurements.
///
/// Returns `H3Q_OK`, `H3Q_ERR_NULL`, or `H3Q_ERR_INVALID_ARGUMENT` (with a message) when
/// `packet_threshold` is 1 or 2 or `time_threshold` is not a number from 1.0 to 10.0; the
/// configuration is unchanged then.
///
/// # Safety
/// `config` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_set_loss_detection(
    config: *mut h3q_config,
    packet_threshold: u32,
    time_threshold: f64,
) -> h3q_result {
    let loss = LossDetection {
        packet_threshold: (packet_threshold != 0).then_some(packet_threshold),
        // A double outside f32's range becomes infinite, which validation refuses.
        time_threshold: time_threshold as f32,
    };
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            c.set_loss_detection(loss)
                .map_err(|e| FfiError::invalid(e.to_string()))
        })
    }
}

/// A congestion controller of the built-in QUIC layer (`h3q_config_set_congestion_control()`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum h3q_congestion_control {
    /// NewReno (RFC 9002 section 7): halves the window on loss, grows it by one datagram
    /// per round trip.
    H3Q_CC_NEWRENO = 0,
    /// CUBIC (RFC 9438), the default: regains the window after a loss faster than NewReno
    /// on paths with a large bandwidth-delay product.
    H3Q_CC_CUBIC = 1,
    /// BBR (quinn-proto's experimental model-based controller): paces to the measured
    /// bottleneck bandwidth and round trip instead of reacting to each loss.
    H3Q_CC_BBR = 2,
}

/// Chooses the congestion controller of the connections this configuration makes:
/// `algorithm` is an `h3q_congestion_control` value (passed as an integer, so that any
/// value a caller passes can be checked). Default `H3Q_CC_CUBIC`.
///
/// Returns `H3Q_OK`, `H3Q_ERR_NULL`, or `H3Q_ERR_INVALID_ARGUMENT` for a value that is not
/// one of `h3q_congestion_control`.
///
/// # Safety
/// `config` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_set_congestion_control(
    config: *mut h3q_config,
    algorithm: u32,
) -> h3q_result {
    use h3q_congestion_control as C;
    let cc = match algorithm {
        a if a == C::H3Q_CC_NEWRENO as u32 => Some(CongestionControl::NewReno),
        a if a == C::H3Q_CC_CUBIC as u32 => Some(CongestionControl::Cubic),
        a if a == C::H3Q_CC_BBR as u32 => Some(CongestionControl::Bbr),
        _ => None,
    };
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            let cc = cc.ok_or_else(|| {
                FfiError::invalid(format!(
                    "congestion control {algorithm}: not an h3q_congestion_control \
                     (H3Q_CC_NEWRENO 0, H3Q_CC_CUBIC 1, H3Q_CC_BBR 2)"
                ))
            })?;
            c.set_congestion_control(cc);
            Ok(())
        })
    }
}

/// Sets the congestion window a connection starts with, in bytes; 0 restores the
/// controller's default (12,000 bytes, 10 datagrams, for NewReno and CUBIC). A larger
/// window shortens the first round trips of a transfer on a fast path, at the risk of
/// loss on a slow one.
///
/// Returns `H3Q_OK`, `H3Q_ERR_NULL`, or `H3Q_ERR_INVALID_ARGUMENT` outside 2,400 bytes
/// (RFC 9002's minimum window) to 16 MiB.
///
/// # Safety
/// `config` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_set_initial_window(
    config: *mut h3q_config,
    bytes: u64,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            c.set_initial_window((bytes != 0).then_some(bytes))
                .map_err(|e| FfiError::invalid(e.to_string()))
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::quic::INITIAL_WINDOW_RANGE;

    #[test]
    fn the_initial_window_range_is_the_documented_one() {
        assert_eq!(*INITIAL_WINDOW_RANGE.start(), 2400);
        assert_eq!(*INITIAL_WINDOW_RANGE.end(), 16 << 20);
    }
}
