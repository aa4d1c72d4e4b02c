//! Loss recovery settings of the built-in QUIC layer on an `h3q_config`
//! (`crate::quic::LossDetection`).

use crate::quic::LossDetection;

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
