//! Handshake latency: time to the first response byte of one GET on a fresh connection, on
//! a resumed one (the request waits for the shorter handshake), and on a resumed one whose
//! request goes as 0-RTT; over the in-memory pair with a 50 ms round trip; plus the same
//! with the server validating addresses by Retry, and with a NEW_TOKEN from an earlier
//! connection. Simulated time: the figures depend on round trips, not on this machine.
//!
//!   cargo bench --bench handshake

#[path = "../tests/harness/mod.rs"]
mod harness;

use h3q::quic::{Config, EarlyData, RetryPolicy};

use harness::fetch::{Servers, finish, start};
use harness::pair::{Network, Pair, configs};

const RTT_NS: u64 = 50_000_000;

fn pair(client: &Config, server: &Config) -> Pair {
    let net = Network {
        latency_ns: RTT_NS / 2,
        ..Network::default()
    };
    Pair::with_network(client, server, net)
}

/// Time to first byte of a GET on a new connection, resuming `ticket` if given; returns it
/// with what became of early data and the connection's ticket for the next one.
fn fetch(p: &mut Pair, servers: &mut Servers, ticket: Option<&[u8]>) -> (u64, EarlyData, Vec<u8>) {
    let mut f = start(p, ticket);
    let seen = finish(p, &mut f, servers);
    let next = f.quic.session_ticket().expect("a session ticket");
    f.quic.close(0, b"");
    (seen.first_byte_after.unwrap(), f.quic.early_data(), next)
}

fn row(what: &str, ns: u64) {
    println!(
        "{what:<44} {:>7.1} ms  {:>4.2} RTT",
        ns as f64 / 1e6,
        ns as f64 / RTT_NS as f64
    );
}

fn main() {
    let (client, mut server) = configs();
    server.set_enable_0rtt(true);
    let mut no_early = client.clone();
    no_early.set_enable_0rtt(false);
    println!("time to the first response byte of one GET, 50 ms round trip (simulated)");

    let mut p = pair(&client, &server);
    let mut servers = Vec::new();
    let (fresh, _, ticket) = fetch(&mut p, &mut servers, None);
    row("fresh connection", fresh);
    let (zero_rtt, early, _) = fetch(&mut p, &mut servers, Some(&ticket));
    assert_eq!(early, EarlyData::Accepted);
    row("resumed, request in 0-RTT", zero_rtt);

    let mut p = pair(&no_early, &server);
    let mut servers = Vec::new();
    let (_, _, ticket) = fetch(&mut p, &mut servers, None);
    let (resumed, early, _) = fetch(&mut p, &mut servers, Some(&ticket));
    assert_eq!(early, EarlyData::NotOffered);
    row("resumed, request after the handshake", resumed);

    let mut retrying = server.clone();
    retrying.set_retry(RetryPolicy::Always);
    let mut p = pair(&client, &retrying);
    let mut servers = Vec::new();
    let (with_retry, _, ticket) = fetch(&mut p, &mut servers, None);
    row("fresh connection, server sends Retry", with_retry);
    let (with_token, early, _) = fetch(&mut p, &mut servers, Some(&ticket));
    assert_eq!(early, EarlyData::Accepted);
    row("resumed in 0-RTT with a NEW_TOKEN (no Retry)", with_token);
}
