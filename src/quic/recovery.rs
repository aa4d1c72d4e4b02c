//! Loss recovery settings of the built-in QUIC layer (RFC 9002): when a packet counts as
//! lost ([`LossDetection`]), and which congestion controller reacts to it
//! ([`CongestionControl`], with its initial window). quinn-proto does the work; these
//! choose its settings.
//!
//! RFC 9002 declares a packet lost once a packet sent after it is acknowledged and
//! either three more packets have been acknowledged past it (the packet threshold) or
//! 9/8 of a round trip has passed since it was sent (the time threshold). On a path that
//! reorders (Wi-Fi, cellular, ECMP, independent per-packet jitter) those defaults call
//! reordered packets lost: every such "loss" halves the congestion window, and the window
//! collapses. The packet threshold is the worse of the two, because how many packets a
//! reordering spans grows with the sending rate, while the time it spans does not. So
//! h3q detects loss by time alone and waits two round trips, as RACK does with its
//! reordering window (RFC 8985).
//!
//! Measured in memory (a 5 MB download, 100 ms round trip, each datagram's one-way delay
//! drawn from 50 ± 20 ms, 3 seeds): RFC 9002's thresholds took 140-143 s; a packet
//! threshold of 25 with time 2.0, 13-14 s; of 1000 with time 1.5, 32-37 s; by time
//! alone, 2.6-3.2 s at 1.75 and 3.4-3.7 s at 2.0. At ± 45 ms, by time alone, 1.75 took
//! 89-91 s and 2.0 took 68-73 s, hence 2.0. Waiting longer costs little where loss is
//! real: with 5 % random loss and no reordering, by time alone at 2.0 took 63-74 s against
//! 74-79 s for RFC 9002's thresholds (loss-based congestion control bounds both).
//!
//! quinn-proto fixes the thresholds for a connection's lifetime and does not report a
//! packet it called lost that is acknowledged later, so the window cannot widen as RACK's
//! does, and a spurious loss's window reduction cannot be undone; both would need
//! quinn-proto to report spurious losses (or adapt itself).

use std::sync::Arc;

use quinn_proto::congestion::{BbrConfig, ControllerFactory, CubicConfig, NewRenoConfig};

use crate::quic::error::ConfigError;

/// The congestion controller of a connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CongestionControl {
    /// NewReno (RFC 9002 §7): halves the window on loss, grows it by one datagram per
    /// round trip.
    NewReno,
    /// CUBIC (RFC 9438): the default, as in Linux and most QUIC stacks; regains the
    /// window after a loss faster than NewReno on paths with a large bandwidth-delay
    /// product.
    #[default]
    Cubic,
    /// BBR (quinn-proto's experimental model-based controller): paces to the measured
    /// bottleneck bandwidth and round trip instead of reacting to each loss.
    Bbr,
}

impl CongestionControl {
    /// Every controller, in the order of `h3q_congestion_control`.
    pub const ALL: [CongestionControl; 3] = [
        CongestionControl::NewReno,
        CongestionControl::Cubic,
        CongestionControl::Bbr,
    ];

    /// The name used by the example programs' `--cc` and in logs.
    pub fn name(self) -> &'static str {
        match self {
            CongestionControl::NewReno => "newreno",
            CongestionControl::Cubic => "cubic",
            CongestionControl::Bbr => "bbr",
        }
    }

    /// The controller called `name` ("newreno", "cubic", "bbr"; ASCII case ignored).
    pub fn from_name(name: &str) -> Option<CongestionControl> {
        Self::ALL
            .into_iter()
            .find(|cc| cc.name().eq_ignore_ascii_case(name))
    }

    /// Installs this controller, starting at `initial_window` bytes (its own default
    /// when `None`), in quinn-proto's transport configuration.
    pub(crate) fn apply(
        self,
        initial_window: Option<u64>,
        transport: &mut quinn_proto::TransportConfig,
    ) {
        let factory: Arc<dyn ControllerFactory + Send + Sync> = match self {
            CongestionControl::NewReno => starting_at(
                NewRenoConfig::default(),
                initial_window,
                NewRenoConfig::initial_window,
            ),
            CongestionControl::Cubic => starting_at(
                CubicConfig::default(),
                initial_window,
                CubicConfig::initial_window,
            ),
            CongestionControl::Bbr => starting_at(
                BbrConfig::default(),
                initial_window,
                BbrConfig::initial_window,
            ),
        };
        transport.congestion_controller_factory(factory);
    }
}

/// `config` with its initial window set by `set` when one is given.
fn starting_at<C: ControllerFactory + Send + Sync + 'static>(
    mut config: C,
    initial_window: Option<u64>,
    set: fn(&mut C, u64) -> &mut C,
) -> Arc<dyn ControllerFactory + Send + Sync> {
    if let Some(window) = initial_window {
        set(&mut config, window);
    }
    Arc::new(config)
}

/// The range of initial congestion windows accepted, in bytes: from RFC 9002's minimum
/// window (2 datagrams of 1200 bytes) to 16 MiB.
pub const INITIAL_WINDOW_RANGE: std::ops::RangeInclusive<u64> = 2400..=16 << 20;

/// When a packet is declared lost (RFC 9002 §6.1). See the module documentation for why
/// the default differs from RFC 9002's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossDetection {
    /// Lost once this many packets sent after it are acknowledged; `None`: never by
    /// count, only by time. At least 3 when given.
    pub packet_threshold: Option<u32>,
    /// Lost once a packet sent after it is acknowledged and this many round trips (the
    /// larger of the latest and the smoothed) have passed since it was sent. From 1.0 to
    /// 10.0.
    pub time_threshold: f32,
}

impl LossDetection {
    /// h3q's default: by time only, after two round trips.
    pub const DEFAULT: LossDetection = LossDetection {
        packet_threshold: None,
        time_threshold: 2.0,
    };

    /// RFC 9002's recommended values: 3 packets, 9/8 of a round trip.
    pub const RFC9002: LossDetection = LossDetection {
        packet_threshold: Some(3),
        time_threshold: 1.125,
    };

    /// The smallest packet threshold accepted (RFC 9002 §6.1.1: not less than 3).
    pub const MIN_PACKET_THRESHOLD: u32 = 3;
    /// The range of time thresholds accepted, in round trips.
    pub const TIME_THRESHOLD_RANGE: std::ops::RangeInclusive<f32> = 1.0..=10.0;

    /// Checks both thresholds; the error says which is out of range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(count) = self.packet_threshold
            && count < Self::MIN_PACKET_THRESHOLD
        {
            return Err(ConfigError::new(format!(
                "loss detection: packet threshold {count} is below {}",
                Self::MIN_PACKET_THRESHOLD
            )));
        }
        if !Self::TIME_THRESHOLD_RANGE.contains(&self.time_threshold) {
            return Err(ConfigError::new(format!(
                "loss detection: time threshold {} is not between {} and {} round trips",
                self.time_threshold,
                Self::TIME_THRESHOLD_RANGE.start(),
                Self::TIME_THRESHOLD_RANGE.end()
            )));
        }
        Ok(())
    }

    /// Applies the thresholds to quinn-proto's transport configuration.
    pub(crate) fn apply(&self, transport: &mut quinn_proto::TransportConfig) {
        transport.packet_threshold(self.packet_threshold.unwrap_or(u32::MAX));
        transport.time_threshold(self.time_threshold);
    }
}

impl Default for LossDetection {
    fn default() -> Self {
        LossDetection::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn congestion_controllers_have_names() {
        for cc in CongestionControl::ALL {
            assert_eq!(CongestionControl::from_name(cc.name()), Some(cc));
        }
        assert_eq!(
            CongestionControl::from_name("BBR"),
            Some(CongestionControl::Bbr)
        );
        assert_eq!(CongestionControl::from_name("reno"), None);
        assert_eq!(CongestionControl::default(), CongestionControl::Cubic);
    }

    #[test]
    fn thresholds_out_of_range_are_refused_with_a_reason() {
        assert!(LossDetection::DEFAULT.validate().is_ok());
        assert!(LossDetection::RFC9002.validate().is_ok());
        let count = LossDetection {
            packet_threshold: Some(2),
            ..LossDetection::DEFAULT
        };
        assert!(
            count
                .validate()
                .unwrap_err()
                .to_string()
                .contains("packet threshold 2")
        );
        for time in [0.5, 10.5, f32::NAN, f32::INFINITY, -1.0] {
            let d = LossDetection {
                packet_threshold: None,
                time_threshold: time,
            };
            assert!(
                d.validate()
                    .unwrap_err()
                    .to_string()
                    .contains("time threshold"),
                "{time}"
            );
        }
    }
}
