//! What the built-in QUIC layer measured on one connection: a plain summary of
//! quinn-proto's statistics for monitoring (and for the C API's `h3q_quic_stats`).

use std::time::Duration;

/// A connection's measurements, as of the call that took them. Counters start at zero
/// when the connection is made and only grow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// The smoothed round-trip time (RFC 9002 §5.3); the initial estimate (333 ms) until
    /// the first sample.
    pub smoothed_rtt: Duration,
    /// The smallest round-trip time sampled.
    pub min_rtt: Duration,
    /// The congestion window, in bytes.
    pub cwnd: u64,
    /// How many times congestion control reduced the window.
    pub congestion_events: u64,
    /// QUIC packets sent (several may share a UDP datagram during the handshake).
    pub packets_sent: u64,
    /// UDP datagrams sent, and their payload bytes.
    pub datagrams_sent: u64,
    pub bytes_sent: u64,
    /// UDP datagrams received for this connection, and their payload bytes.
    pub datagrams_received: u64,
    pub bytes_received: u64,
    /// Packets declared lost (some may have arrived late: see `LossDetection`), and the
    /// bytes they carried.
    pub packets_lost: u64,
    pub bytes_lost: u64,
    /// The largest UDP payload the path currently carries.
    pub path_mtu: u64,
}

impl Stats {
    pub(crate) fn of(quinn: &quinn_proto::Connection) -> Stats {
        let s = quinn.stats();
        Stats {
            smoothed_rtt: quinn.rtt(),
            min_rtt: quinn.min_rtt(),
            cwnd: s.path.cwnd,
            congestion_events: s.path.congestion_events,
            packets_sent: s.path.sent_packets,
            datagrams_sent: s.udp_tx.datagrams,
            bytes_sent: s.udp_tx.bytes,
            datagrams_received: s.udp_rx.datagrams,
            bytes_received: s.udp_rx.bytes,
            packets_lost: s.path.lost_packets,
            bytes_lost: s.path.lost_bytes,
            path_mtu: u64::from(s.path.current_mtu),
        }
    }
}
