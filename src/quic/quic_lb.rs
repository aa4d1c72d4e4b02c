//! Connection IDs that say which server owns a connection, in QUIC-LB's plaintext layout
//! (draft-ietf-quic-load-balancers, "Plaintext CID Algorithm"), so that a load balancer
//! (or a worker of a multi-threaded server) can route every packet of a connection to
//! its server, even after the client's address changed.
//!
//! ```text
//! first octet: config rotation (3 high bits) | CID length - 1 (5 low bits)
//! then:        server id (1 to 15 bytes)     | nonce (random, 4 to 18 bytes)
//! ```
//!
//! The nonce is random (the system CSPRNG), so that CIDs of one connection cannot be
//! linked by an observer beyond the server id, which the plaintext algorithm shows in
//! the clear by design: deployments that must hide it use QUIC-LB's encrypted
//! algorithms, which this module does not implement.

use std::time::Duration;

use quinn_proto::{ConnectionId, ConnectionIdGenerator, InvalidCid};

use super::error::ConfigError;

/// The longest server id QUIC-LB allows.
pub const MAX_SERVER_ID_LEN: usize = 15;
/// The config rotation codepoint QUIC-LB reserves for CIDs a load balancer cannot route.
pub const UNROUTABLE_CONFIG_ROTATION: u8 = 0b111;
/// QUIC's longest connection id.
const MAX_CID_LEN: usize = 20;
/// The nonce length h3q uses when the id leaves room: 8 random bytes.
const PREFERRED_NONCE_LEN: usize = 8;
/// QUIC-LB's shortest nonce.
const MIN_NONCE_LEN: usize = 4;

/// A server's identity in its connection IDs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerId {
    config_rotation: u8,
    id: Vec<u8>,
}

impl ServerId {
    /// A server id of 1 to 15 bytes under config rotation codepoint 0 to 6 (7 means
    /// "unroutable" in QUIC-LB). Refused, with the reason, otherwise.
    pub fn new(config_rotation: u8, id: &[u8]) -> Result<Self, ConfigError> {
        if config_rotation >= UNROUTABLE_CONFIG_ROTATION {
            return Err(ConfigError::new(format!(
                "config rotation {config_rotation}: must be 0 to 6 (7 marks unroutable CIDs)"
            )));
        }
        if id.is_empty() || id.len() > MAX_SERVER_ID_LEN {
            return Err(ConfigError::new(format!(
                "server id of {} bytes: must be 1 to {MAX_SERVER_ID_LEN}",
                id.len()
            )));
        }
        Ok(ServerId {
            config_rotation,
            id: id.to_vec(),
        })
    }

    /// The id's bytes.
    pub fn id(&self) -> &[u8] {
        &self.id
    }

    /// The length of the connection IDs it makes: the first octet, the id and the nonce
    /// (8 bytes, or fewer for long ids: at least 4, at most 20 bytes in all).
    pub fn cid_len(&self) -> usize {
        let nonce = PREFERRED_NONCE_LEN.min(MAX_CID_LEN - 1 - self.id.len());
        1 + self.id.len() + nonce.max(MIN_NONCE_LEN)
    }

    fn first_octet(&self) -> u8 {
        (self.config_rotation << 5) | (self.cid_len() as u8 - 1)
    }
}

/// quinn-proto's connection ID generator for a [`ServerId`].
pub(crate) struct QuicLbGenerator {
    server: ServerId,
}

impl QuicLbGenerator {
    pub(crate) fn new(server: ServerId) -> Self {
        QuicLbGenerator { server }
    }
}

impl ConnectionIdGenerator for QuicLbGenerator {
    fn generate_cid(&mut self) -> ConnectionId {
        use ring::rand::SecureRandom;
        let len = self.server.cid_len();
        let mut bytes = [0u8; MAX_CID_LEN];
        bytes[0] = self.server.first_octet();
        let id_end = 1 + self.server.id.len();
        bytes[1..id_end].copy_from_slice(&self.server.id);
        // A failing system RNG leaves zeros: the CID still routes; only its unlinkability
        // suffers, and the TLS handshake would have failed long before on such a system.
        let _ = ring::rand::SystemRandom::new().fill(&mut bytes[id_end..len]);
        ConnectionId::new(&bytes[..len])
    }

    fn validate(&self, cid: &ConnectionId) -> Result<(), InvalidCid> {
        let ok = cid.len() == self.server.cid_len()
            && cid[0] == self.server.first_octet()
            && cid[1..1 + self.server.id.len()] == self.server.id[..];
        if ok { Ok(()) } else { Err(InvalidCid) }
    }

    fn cid_len(&self) -> usize {
        self.server.cid_len()
    }

    fn cid_lifetime(&self) -> Option<Duration> {
        None
    }
}

/// What [`decode`] read from a packet's destination connection ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoutedCid<'a> {
    /// The config rotation codepoint (0 to 6).
    pub config_rotation: u8,
    /// The server id: the `server_id_len` bytes after the first octet.
    pub server_id: &'a [u8],
}

/// Reads the server id out of the destination connection ID of a QUIC packet (the first
/// packet of a UDP datagram), as a load balancer does: long header, the DCID length byte
/// and the DCID; short header, the DCID after the first byte, its length from its own
/// first octet. Initial and 0-RTT packets carry a DCID the *client* chose, so their
/// "server id" is random: route an id no server has by address (QUIC-LB's fallback).
///
/// Errors (with the reason) for a datagram too short to hold what its header announces, a
/// CID shorter than its first octet plus `server_id_len`, a long-header DCID whose length
/// disagrees with its self-described one, a `server_id_len` of 0 or above 15, and the
/// unroutable config rotation (7).
pub fn decode(packet: &[u8], server_id_len: usize) -> Result<RoutedCid<'_>, String> {
    if server_id_len == 0 || server_id_len > MAX_SERVER_ID_LEN {
        return Err(format!(
            "server_id_len {server_id_len}: must be 1 to {MAX_SERVER_ID_LEN}"
        ));
    }
    let first = *packet.first().ok_or("empty datagram")?;
    let cid = if first & 0x80 != 0 {
        // Long header: first byte, version (4), DCID length (1), DCID.
        let len = usize::from(
            *packet
                .get(5)
                .ok_or("long header cut before its DCID length")?,
        );
        let cid = packet
            .get(6..6 + len)
            .ok_or_else(|| format!("long header announces a {len}-byte DCID it does not hold"))?;
        if let Some(&octet) = cid.first()
            && usize::from(octet & 0x1f) + 1 != len
        {
            return Err(format!(
                "DCID of {len} bytes describes itself as {} bytes: not a QUIC-LB CID",
                usize::from(octet & 0x1f) + 1
            ));
        }
        cid
    } else {
        let octet = *packet.get(1).ok_or("short header without a DCID")?;
        let len = usize::from(octet & 0x1f) + 1;
        packet
            .get(1..1 + len)
            .ok_or_else(|| format!("short header's DCID of {len} bytes is cut"))?
    };
    if cid.len() < 1 + server_id_len {
        return Err(format!(
            "DCID of {} bytes holds no {server_id_len}-byte server id",
            cid.len()
        ));
    }
    let config_rotation = cid[0] >> 5;
    if config_rotation == UNROUTABLE_CONFIG_ROTATION {
        return Err("config rotation 7: an unroutable CID".into());
    }
    Ok(RoutedCid {
        config_rotation,
        server_id: &cid[1..1 + server_id_len],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_cids_carry_the_id_and_describe_their_length() {
        let server = ServerId::new(2, &[0xab, 0xcd]).unwrap();
        let mut generator = QuicLbGenerator::new(server.clone());
        let a = generator.generate_cid();
        let b = generator.generate_cid();
        assert_eq!(a.len(), 11);
        assert_eq!(a[0], (2 << 5) | 10);
        assert_eq!(&a[1..3], &[0xab, 0xcd]);
        assert_ne!(a[3..], b[3..], "random nonces");
        assert!(generator.validate(&a).is_ok());
        let mut short = vec![0x40];
        short.extend_from_slice(&a);
        short.extend_from_slice(&[0; 20]);
        let routed = decode(&short, 2).unwrap();
        assert_eq!(routed.server_id, &[0xab, 0xcd]);
        assert_eq!(routed.config_rotation, 2);
    }

    #[test]
    fn long_ids_shorten_the_nonce_down_to_four_bytes() {
        assert_eq!(ServerId::new(0, &[1; 11]).unwrap().cid_len(), 20);
        assert_eq!(ServerId::new(0, &[1; 15]).unwrap().cid_len(), 20);
        assert_eq!(ServerId::new(0, &[1]).unwrap().cid_len(), 10);
    }

    #[test]
    fn bad_settings_and_odd_packets_are_refused_with_a_reason() {
        assert!(
            ServerId::new(7, &[1])
                .unwrap_err()
                .message()
                .contains("rotation 7")
        );
        assert!(
            ServerId::new(0, &[])
                .unwrap_err()
                .message()
                .contains("0 bytes")
        );
        assert!(
            ServerId::new(0, &[0; 16])
                .unwrap_err()
                .message()
                .contains("16 bytes")
        );
        assert!(decode(&[], 2).unwrap_err().contains("empty"));
        assert!(decode(&[0x40], 2).unwrap_err().contains("without a DCID"));
        assert!(decode(&[0x40, 0x09, 1, 2], 2).unwrap_err().contains("cut"));
        assert!(decode(&[0x40, 0x00], 2).unwrap_err().contains("holds no"));
        assert!(
            decode(&[0x40, 0xe3, 1, 2, 3], 2)
                .unwrap_err()
                .contains("unroutable")
        );
        assert!(
            decode(&[0xc0, 0, 0, 0, 1], 2)
                .unwrap_err()
                .contains("cut before")
        );
        assert!(
            decode(&[0xc0, 0, 0, 0, 1, 9, 1], 2)
                .unwrap_err()
                .contains("does not hold")
        );
        let mismatch = [0xc0, 0, 0, 0, 1, 4, 0x09, 1, 2, 3];
        assert!(
            decode(&mismatch, 2)
                .unwrap_err()
                .contains("describes itself")
        );
        assert!(
            decode(&[0x40, 0x03, 1, 2, 3], 0)
                .unwrap_err()
                .contains("server_id_len 0")
        );
    }
}
