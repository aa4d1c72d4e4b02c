//! The size of the built-in QUIC layer's datagrams on an `h3q_config`: path MTU discovery
//! and the ceiling on UDP payloads (`crate::quic::Config::set_max_udp_payload_size`).

use super::config::h3q_config;
use super::handle::{FfiError, call};
use super::result::h3q_result;

/// Turns path MTU discovery on or off (default off). With it on, connections probe for
/// datagrams larger than QUIC's 1,200-byte minimum, up to 1,452 bytes (or the ceiling
/// `h3q_config_set_max_udp_payload_size()` sets), and keep the largest size the path
/// carries; fewer, fuller packets make bulk transfers cheaper.
///
/// Turn it on only when the UDP socket sets the don't-fragment bit (Linux:
/// `IP_MTU_DISCOVER` = `IP_PMTUDISC_PROBE` or `IP_PMTUDISC_DO`, and `IPV6_MTU_DISCOVER` for
/// IPv6): otherwise the kernel may fragment a probe and discovery learns a size the path
/// does not really carry. A probe the kernel refuses (`EMSGSIZE`) may simply be dropped:
/// QUIC treats it as lost.
///
/// Returns `H3Q_OK` or `H3Q_ERR_NULL`.
///
/// # Safety
/// `config` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_set_mtu_discovery(
    config: *mut h3q_config,
    enabled: bool,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            c.set_mtu_discovery(enabled);
            Ok(())
        })
    }
}

/// Sets the largest UDP payload, in bytes, that endpoints made from this config accept and
/// send; 0 restores the default (1,472 accepted, up to 1,452 sent). Peers are told the
/// limit in the `max_udp_payload_size` transport parameter and send nothing larger; path
/// MTU discovery, when on, probes up to it and settles on the largest size the path
/// carries. Raise it where paths carry more than Ethernet's 1,500-byte frames (jumbo
/// frames: 8,952 for a 9,000-byte MTU over IPv6; loopback): fewer, fuller packets cost less
/// CPU per byte. Lower it below 1,452 for a path known to be narrower (a tunnel).
///
/// What it asks of the program: transmit buffers given to `h3q_endpoint_poll_transmit()`
/// of at least this size, and receive buffers as large (a datagram larger than the read
/// buffer arrives cut short and is dropped as undecryptable). GSO batches of large
/// datagrams hold fewer of them: never more than 65,507 bytes in all, the most one send
/// carries.
///
/// Returns `H3Q_OK`, `H3Q_ERR_NULL`, or `H3Q_ERR_INVALID_ARGUMENT` outside 1,200 (QUIC's
/// minimum datagram) to 65,527 bytes (the largest UDP payload).
///
/// # Safety
/// `config` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_set_max_udp_payload_size(
    config: *mut h3q_config,
    bytes: u64,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            c.set_max_udp_payload_size((bytes != 0).then_some(bytes))
                .map_err(|e| FfiError::invalid(e.to_string()))
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::quic::UDP_PAYLOAD_RANGE;

    #[test]
    fn the_accepted_ceilings_are_the_documented_ones() {
        assert_eq!(*UDP_PAYLOAD_RANGE.start(), 1200);
        assert_eq!(*UDP_PAYLOAD_RANGE.end(), 65_527);
    }
}
