//! ECN (RFC 9000 §13.4, RFC 9002 §7.1) over the in-memory pair: a path that carries the
//! bits keeps every datagram ECN-capable after validation; a path that bleaches them makes
//! validation fail and marking stop; congestion marks (CE) slow the sender down without a
//! packet lost.

mod harness;

use harness::download::download;
use harness::h3_pair::SECOND;
use harness::pair::{Network, configs};

const SIZE: usize = 2_000_000;

fn network(pass_ecn: bool, ce_mark: f64) -> Network {
    Network {
        latency_ns: 10_000_000,
        pass_ecn,
        ce_mark,
        ..Network::default()
    }
}

#[test]
fn a_path_that_carries_ecn_keeps_datagrams_ecn_capable() {
    let (client, server) = configs();
    let out = download(&client, &server, network(true, 0.0), SIZE, 60 * SECOND);
    let (ect, sent) = (out.net.ect_sent, out.net.sent);
    assert!(
        ect * 100 >= sent * 95,
        "{ect} of {sent} datagrams ECN-capable"
    );
    assert_eq!(out.server.congestion_events, 0);
}

#[test]
fn a_path_that_bleaches_ecn_makes_validation_fail_and_marking_stop() {
    let (client, server) = configs();
    let out = download(&client, &server, network(false, 0.0), SIZE, 60 * SECOND);
    let (ect, sent) = (out.net.ect_sent, out.net.sent);
    assert!(sent > 1000, "{sent} datagrams");
    assert!(
        ect * 10 < sent,
        "{ect} of {sent} datagrams still ECN-capable"
    );
}

#[test]
fn congestion_marks_slow_the_sender_without_loss() {
    let (client, server) = configs();
    let clean = download(&client, &server, network(true, 0.0), SIZE, 60 * SECOND);
    let marked = download(&client, &server, network(true, 0.02), SIZE, 60 * SECOND);
    assert!(marked.net.ce_marked > 0);
    assert_eq!(marked.server.packets_lost, 0, "nothing was dropped");
    assert!(
        marked.server.congestion_events > 0,
        "{} CE marks, no congestion event",
        marked.net.ce_marked
    );
    assert!(
        marked.ns > clean.ns,
        "CE marks slowed nothing: {} ns against {} ns",
        marked.ns,
        clean.ns
    );
}
