//! How large the UDP payloads of the built-in QUIC layer may be: the ceiling a
//! configuration sets ([`Config::set_max_udp_payload_size`](super::Config::set_max_udp_payload_size)),
//! the transmit buffer it calls for, and how many datagrams one GSO send may carry.
//!
//! Without a ceiling, quinn-proto's defaults hold: payloads of up to 1,472 bytes are
//! accepted (an Ethernet frame's), and path MTU discovery probes up to 1,452 (an Ethernet
//! frame's over IPv6 as well). With one, both become that size: the peer is told, in the
//! `max_udp_payload_size` transport parameter, not to send anything larger, and discovery
//! probes up to it, so that a path with jumbo frames (9,000-byte MTU) or loopback (64 KiB)
//! carries fewer, fuller packets; and a tunnel narrower than Ethernet can be declared.

use std::ops::RangeInclusive;

use super::endpoint::MIN_TRANSMIT_BUFFER;

/// The ceilings accepted, in bytes: from QUIC's minimum datagram size (RFC 9000 §14) to
/// the largest UDP payload over IPv6 (65,535 less the 8-byte UDP header), the largest the
/// `max_udp_payload_size` transport parameter may usefully say.
pub const UDP_PAYLOAD_RANGE: RangeInclusive<u64> = 1200..=65_527;

/// The most payload bytes one UDP GSO send carries: the largest IPv4 datagram (65,535)
/// less its 20-byte IP and 8-byte UDP headers. The kernel refuses a larger send, so a batch
/// of large datagrams holds fewer of them.
pub const MAX_GSO_PAYLOAD: usize = 65_507;

/// The smallest transmit buffer an endpoint with this ceiling accepts: room for its
/// largest datagram, and never less than [`MIN_TRANSMIT_BUFFER`].
pub fn transmit_buffer_minimum(ceiling: Option<u16>) -> usize {
    ceiling.map_or(MIN_TRANSMIT_BUFFER, |c| {
        usize::from(c).max(MIN_TRANSMIT_BUFFER)
    })
}

/// How many datagrams of `datagram_size` bytes one GSO batch may hold: at most
/// `max_segments`, at least one, and never more bytes than [`MAX_GSO_PAYLOAD`].
pub fn gso_batch_limit(datagram_size: usize, max_segments: usize) -> usize {
    let fit = MAX_GSO_PAYLOAD / datagram_size.max(1);
    max_segments.min(fit).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transmit_buffers_hold_the_largest_datagram() {
        assert_eq!(transmit_buffer_minimum(None), 1472);
        assert_eq!(transmit_buffer_minimum(Some(1200)), 1472);
        assert_eq!(transmit_buffer_minimum(Some(8952)), 8952);
        assert_eq!(transmit_buffer_minimum(Some(65_527)), 65_527);
    }

    #[test]
    fn gso_batches_stay_within_one_send() {
        // Ethernet-sized datagrams: the 44 the examples ask for fit.
        assert_eq!(gso_batch_limit(1452, 44), 44);
        // Slightly larger ones would not: 44 x 1,489 is 65,516 bytes.
        assert_eq!(gso_batch_limit(1489, 44), 43);
        // Jumbo frames: 7 x 8,952 = 62,664 bytes.
        assert_eq!(gso_batch_limit(8952, 44), 7);
        // A datagram as large as a send: alone.
        assert_eq!(gso_batch_limit(65_507, 44), 1);
        assert_eq!(gso_batch_limit(65_527, 44), 1);
        assert_eq!(gso_batch_limit(1200, 1), 1);
        for size in [1200, 1452, 1500, 4000, 8952, 16_000, 40_000, 65_527] {
            for segments in [1, 8, 44, 64, 128] {
                let n = gso_batch_limit(size, segments);
                assert!(n >= 1 && n <= segments, "{size} {segments}");
                assert!(n == 1 || n * size <= MAX_GSO_PAYLOAD, "{size} {segments}");
            }
        }
    }
}
