//! Fuzz target `qlog_tap`: the qlog's HTTP/3 tap reads stream types and frame headers out
//! of whatever bytes the network sends (`quic::qlog`), and session tickets come back from
//! applications as bytes (`quic::session`), and load balancers read server ids out of
//! packets (`quic::quic_lb`). Arbitrary chunks on arbitrary streams, both directions,
//! split anywhere; and the input itself as a ticket and as a packet. None may panic.

use std::time::{Duration, Instant};

use super::Input;
use crate::quic::{H3Tap, QlogFile, Ticket};

pub fn qlog_tap(data: &[u8]) {
    let _ = Ticket::parse(data);
    // A load balancer's reading of the packet's destination CID (`quic::quic_lb`).
    for server_id_len in [0, 1, 3, 15, 16] {
        if let Ok(routed) = crate::quic::decode_cid_server_id(data, server_id_len) {
            assert_eq!(routed.server_id.len(), server_id_len);
            assert!(routed.config_rotation < 7);
        }
    }
    let start = Instant::now();
    let file = std::sync::Arc::new(QlogFile::new(Box::new(std::io::sink()), start));
    let mut input = Input::new(data);
    let mut tap = H3Tap::new(file, input.byte() & 1 == 0);
    let mut ms = 0;
    while !input.is_empty() {
        let op = input.byte();
        // A few streams of each kind: bidirectional and unidirectional, both initiators.
        let stream_id = u64::from(op & 0x0f);
        let outgoing = op & 0x10 != 0;
        ms += u64::from(op >> 5);
        let chunk = input.chunk();
        tap.bytes(
            start + Duration::from_millis(ms),
            stream_id,
            outgoing,
            chunk,
        );
    }
    tap.flush();
}
