//! `h3q_quic_stats`: what the built-in QUIC layer measured on one connection
//! (`crate::quic::Stats`), for monitoring.

use std::ffi::c_int;

use crate::quic::Stats;

use super::abi::{Abi, write_prefix};
use super::handle::{FfiError, call, non_null};
use super::quic_conn::h3q_quic_conn;
use super::result::{h3q_result, h3q_result_code};

/// A connection's measurements, as of the call. Counters start at zero when the
/// connection is made and only grow. Versioned like the other public structs: fields are
/// only ever appended, and `h3q_quic_conn_stats_versioned()` writes the fields the
/// caller's `H3Q_ABI_VERSION` has, no byte more.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct h3q_quic_stats {
    /// The smoothed round-trip time (RFC 9002 section 5.3) in nanoseconds; the initial
    /// estimate (333 ms) until the first sample.
    pub smoothed_rtt_ns: u64,
    /// The smallest round-trip time sampled, in nanoseconds.
    pub min_rtt_ns: u64,
    /// The congestion window, in bytes.
    pub cwnd: u64,
    /// How many times congestion control reduced the window.
    pub congestion_events: u64,
    /// QUIC packets sent (during the handshake several share a UDP datagram).
    pub packets_sent: u64,
    /// UDP datagrams sent.
    pub datagrams_sent: u64,
    /// UDP payload bytes sent.
    pub bytes_sent: u64,
    /// UDP datagrams received for this connection.
    pub datagrams_received: u64,
    /// UDP payload bytes received for this connection.
    pub bytes_received: u64,
    /// Packets declared lost (on a path that reorders, some arrived late; see
    /// `h3q_config_set_loss_detection()`).
    pub packets_lost: u64,
    /// The bytes those packets carried.
    pub bytes_lost: u64,
    /// The largest UDP payload the path currently carries (1200 until path MTU discovery,
    /// if enabled, finds more).
    pub path_mtu: u64,
}

impl From<Stats> for h3q_quic_stats {
    fn from(s: Stats) -> Self {
        let ns = |d: std::time::Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        h3q_quic_stats {
            smoothed_rtt_ns: ns(s.smoothed_rtt),
            min_rtt_ns: ns(s.min_rtt),
            cwnd: s.cwnd,
            congestion_events: s.congestion_events,
            packets_sent: s.packets_sent,
            datagrams_sent: s.datagrams_sent,
            bytes_sent: s.bytes_sent,
            datagrams_received: s.datagrams_received,
            bytes_received: s.bytes_received,
            packets_lost: s.packets_lost,
            bytes_lost: s.bytes_lost,
            path_mtu: s.path_mtu,
        }
    }
}

impl Abi {
    /// The size of this version's `h3q_quic_stats`; `None` before the struct existed.
    pub(crate) fn quic_stats_size(self) -> Option<usize> {
        match self {
            Abi::V1 => None,
            Abi::V2 => Some(std::mem::size_of::<h3q_quic_stats>()),
        }
    }
}

/// Writes `conn`'s measurements to `*out`: the fields of `h3q_quic_stats` as ABI version
/// `abi_version` declares it (the `h3q_quic_conn_stats()` macro passes
/// `H3Q_ABI_VERSION`), no byte past them. Works on a closed connection too (its last
/// figures).
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL` if `conn` or `out` is NULL; or
/// `H3Q_ERR_UNSUPPORTED_VERSION` for a version this library does not serve or one without
/// this struct (1). Nothing is written on an error.
///
/// # Safety
/// `conn` is NULL or a live handle; `out` is NULL or writable for the caller's version
/// of the struct.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_quic_conn_stats_versioned(
    conn: *mut h3q_quic_conn,
    abi_version: c_int,
    out: *mut h3q_quic_stats,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(conn, |state| {
            non_null(out, "out")?;
            let size = Abi::from_c(abi_version)?.quic_stats_size().ok_or_else(|| {
                FfiError::new(
                    h3q_result_code::H3Q_ERR_UNSUPPORTED_VERSION,
                    format!("h3q_quic_stats came with ABI version 2, not {abi_version}"),
                )
            })?;
            let stats = state
                .conn
                .stats()
                .ok_or_else(|| FfiError::new(h3q_result_code::H3Q_ERR_INTERNAL, "poisoned"))?;
            // SAFETY: checked non-NULL; writable for `size` bytes (caller's contract).
            write_prefix(out, size, &h3q_quic_stats::from(stats));
            Ok(())
        })
    }
}
