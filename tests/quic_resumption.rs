//! Session resumption, 0-RTT (accepted and rejected) and address validation (Retry,
//! NEW_TOKEN) over the in-memory pair, with HTTP/3 on top.

mod harness;

use h3q::error::ErrorCode;
use h3q::quic::{Config, EarlyData, Endpoint, RetryPolicy};

use harness::fetch::{Fetch, Servers, finish, start};
use harness::h3_pair::SECOND;
use harness::pair::{Network, Pair, configs};

const MS: u64 = 1_000_000;
/// One-way delay of the simulated path: a 50 ms round trip.
const LATENCY: u64 = 25 * MS;

fn pair(server: &Config, client: &Config) -> Pair {
    Pair::with_network(
        client,
        server,
        Network {
            latency_ns: LATENCY,
            ..Network::default()
        },
    )
}

/// A first connection's GET, and the session ticket the server sent on it.
fn first_ticket(pair: &mut Pair, servers: &mut Servers) -> (Fetch, Vec<u8>) {
    let mut first = start(pair, None);
    finish(pair, &mut first, servers);
    let ticket = first
        .quic
        .session_ticket()
        .expect("the server sent a session ticket");
    (first, ticket)
}

fn zero_rtt_server() -> (Config, Config) {
    let (client, mut server) = configs();
    server.set_enable_0rtt(true);
    (client, server)
}

#[test]
fn a_resumed_connection_sends_its_request_in_0rtt_and_saves_a_round_trip() {
    let (client_cfg, server_cfg) = zero_rtt_server();
    let mut pair = pair(&server_cfg, &client_cfg);
    let mut servers = Vec::new();

    let mut fresh = start(&mut pair, None);
    assert_eq!(fresh.quic.early_data(), EarlyData::NotOffered);
    let seen_fresh = finish(&mut pair, &mut fresh, &mut servers);
    assert_eq!(seen_fresh.early_at_server, [false]);
    let ticket = fresh
        .quic
        .session_ticket()
        .expect("the server sent a session ticket");
    fresh.quic.close(0, b"");

    let mut resumed = start(&mut pair, Some(&ticket));
    assert_eq!(resumed.quic.early_data(), EarlyData::Pending);
    let seen = finish(&mut pair, &mut resumed, &mut servers);
    assert_eq!(resumed.quic.early_data(), EarlyData::Accepted);
    assert_eq!(
        seen.early_at_server,
        [true],
        "the server saw the request as 0-RTT"
    );
    assert!(seen.resets.is_empty());
    let (fresh_ttfb, resumed_ttfb) = (
        seen_fresh.first_byte_after.unwrap(),
        seen.first_byte_after.unwrap(),
    );
    // Fresh: handshake round trip, then the request's; 0-RTT: the request's only.
    assert!(fresh_ttfb >= 4 * LATENCY, "fresh: {fresh_ttfb} ns");
    assert!(resumed_ttfb < 3 * LATENCY, "0-RTT: {resumed_ttfb} ns");
    // The resumed connection got a ticket of its own.
    assert!(resumed.quic.session_ticket().is_some());
}

#[test]
fn a_ticket_resumes_once_and_then_gives_a_full_handshake() {
    let (client_cfg, server_cfg) = zero_rtt_server();
    let mut pair = pair(&server_cfg, &client_cfg);
    let mut servers = Vec::new();
    let (first, ticket) = first_ticket(&mut pair, &mut servers);

    let mut second = start(&mut pair, Some(&ticket));
    finish(&mut pair, &mut second, &mut servers);
    assert_eq!(second.quic.early_data(), EarlyData::Accepted);
    assert!(
        first.quic.session_ticket().is_none(),
        "used: not offered again"
    );

    let mut third = start(&mut pair, Some(&ticket));
    assert_eq!(third.quic.early_data(), EarlyData::NotOffered);
    let seen = finish(&mut pair, &mut third, &mut servers);
    assert_eq!(seen.early_at_server, [false]);
}

/// A 0-RTT server configuration with the certificate and key given as PEM, and a client
/// configuration that trusts it: what a server process reads from its files at each start.
fn zero_rtt_server_from_pem(cert_pem: &str, key_pem: &str) -> (Config, Config) {
    let mut server = Config::server();
    server
        .set_certificate_chain_pem(cert_pem.as_bytes(), key_pem.as_bytes())
        .unwrap();
    server.set_enable_0rtt(true);
    let mut client = Config::client();
    client.add_ca_pem(cert_pem.as_bytes()).unwrap();
    (client, server)
}

#[test]
fn rejected_0rtt_reports_the_request_rejected_and_it_succeeds_when_sent_again() {
    let key = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_pem, key_pem) = (key.cert.pem(), key.signing_key.serialize_pem());
    let (client_cfg, server_cfg) = zero_rtt_server_from_pem(&cert_pem, &key_pem);
    let mut pair = pair(&server_cfg, &client_cfg);
    let mut servers = Vec::new();
    let (_first, ticket) = first_ticket(&mut pair, &mut servers);

    // A restarted server process (the same certificate, read again from its files, in a
    // configuration of its own) has lost its sessions: it refuses the early data and
    // completes a full handshake.
    let (_, restarted) = zero_rtt_server_from_pem(&cert_pem, &key_pem);
    pair.server = Endpoint::new(&restarted).unwrap();
    servers.clear();
    let mut resumed = start(&mut pair, Some(&ticket));
    assert_eq!(resumed.quic.early_data(), EarlyData::Pending);
    let seen = finish(&mut pair, &mut resumed, &mut servers);
    assert_eq!(resumed.quic.early_data(), EarlyData::Rejected);
    let rejected = ErrorCode::RequestRejected.wire();
    assert_eq!(seen.resets, [(0, rejected)]);
    // Sent again on stream 0 (ids start over), answered once, not as early data.
    assert_eq!(seen.served, [0]);
    assert_eq!(seen.early_at_server, [false]);
}

#[test]
fn bad_tickets_are_refused_and_foreign_ones_give_a_full_handshake() {
    let (client_cfg, server_cfg) = zero_rtt_server();
    let mut pair = pair(&server_cfg, &client_cfg);
    let mut servers = Vec::new();
    let (_first, ticket) = first_ticket(&mut pair, &mut servers);

    let (now, addr) = (pair.now, pair.server_addr);
    let err = |r: Result<_, h3q::quic::QuicError>| r.unwrap_err().to_string();
    assert!(
        err(pair.client.connect_resume(now, addr, "localhost", b"junk")).contains("not an h3q")
    );
    assert!(
        err(pair
            .client
            .connect_resume(now, addr, "other.example", &ticket))
        .contains("server name")
    );
    assert!(
        err(pair
            .client
            .connect_resume(now, addr, "localhost", &[0; 4096]))
        .contains("bytes")
    );

    // Another client endpoint (another process, say) cannot resume it: full handshake.
    let mut other = Endpoint::new(&client_cfg).unwrap();
    let handle = other
        .connect_resume(now, addr, "localhost", &ticket)
        .unwrap();
    assert_eq!(
        other.connection(handle).unwrap().early_data(),
        EarlyData::NotOffered
    );
}

/// Client handshake time (from connect to established) on a fresh client endpoint.
fn handshake_time(pair: &mut Pair) -> u64 {
    let start = pair.now;
    let handle = pair.connect();
    let conn = pair.client.connection(handle).unwrap();
    assert!(pair.run_until(10 * SECOND, |p| {
        while p.server.accept().is_some() {}
        conn.is_established()
    }));
    let took = pair.now - start;
    // Let NEW_TOKEN arrive, then close.
    let until = pair.now + 4 * LATENCY;
    pair.run_until(until - pair.now, |p| p.now >= until);
    conn.close(0, b"");
    took
}

#[test]
fn retry_costs_one_round_trip_and_a_new_token_spares_the_next_connection() {
    let (client_cfg, server_cfg) = configs();
    let mut plain = pair(&server_cfg, &client_cfg);
    let without = handshake_time(&mut plain);

    let mut retry_cfg = server_cfg.clone();
    retry_cfg.set_retry(RetryPolicy::Always);
    let mut retrying = pair(&retry_cfg, &client_cfg);
    let with_retry = handshake_time(&mut retrying);
    assert!(
        with_retry >= without + 2 * LATENCY,
        "Retry adds a round trip: {without} ns without, {with_retry} ns with"
    );
    // The same client endpoint now holds a NEW_TOKEN token: validated, no Retry.
    let with_token = handshake_time(&mut retrying);
    assert!(
        with_token < without + 2 * LATENCY,
        "a NEW_TOKEN token skips the Retry: {with_token} ns (fresh {without} ns)"
    );
}

/// Endpoints built from one configuration act as one server (h3q-server's workers: one
/// endpoint each, on one port): a session ticket and a NEW_TOKEN token from one endpoint
/// are good on another. The resumed connection reaches a second endpoint of the same
/// configuration, which requires address validation by Retry: the token spares the Retry,
/// the session resumes and the request goes in 0-RTT, answered within one round trip.
#[test]
fn endpoints_of_one_configuration_share_sessions_and_tokens() {
    let (client_cfg, mut server_cfg) = zero_rtt_server();
    server_cfg.set_retry(RetryPolicy::Always);
    let mut pair = pair(&server_cfg, &client_cfg);
    let mut servers = Vec::new();
    let (first, ticket) = first_ticket(&mut pair, &mut servers);
    // Let the NEW_TOKEN frames arrive, then close.
    let until = pair.now + 4 * LATENCY;
    pair.run_until(until - pair.now, |p| p.now >= until);
    first.quic.close(0, b"");

    // Another endpoint of the same configuration (another worker) takes the next one.
    pair.server = Endpoint::new(&server_cfg).unwrap();
    servers.clear();
    let mut resumed = start(&mut pair, Some(&ticket));
    assert_eq!(resumed.quic.early_data(), EarlyData::Pending);
    let seen = finish(&mut pair, &mut resumed, &mut servers);
    assert_eq!(resumed.quic.early_data(), EarlyData::Accepted);
    assert_eq!(seen.early_at_server, [true]);
    let ttfb = seen.first_byte_after.unwrap();
    assert!(ttfb < 3 * LATENCY, "no Retry, request in 0-RTT: {ttfb} ns");
    let ticket = resumed
        .quic
        .session_ticket()
        .expect("a ticket from the second endpoint");
    resumed.quic.close(0, b"");

    // Rotated secrets: an endpoint made after knows neither the session nor the token.
    server_cfg.rotate_secrets();
    pair.server = Endpoint::new(&server_cfg).unwrap();
    servers.clear();
    let mut refused = start(&mut pair, Some(&ticket));
    let seen = finish(&mut pair, &mut refused, &mut servers);
    assert_eq!(refused.quic.early_data(), EarlyData::Rejected);
    assert_eq!(seen.resets, [(0, ErrorCode::RequestRejected.wire())]);
    let ttfb = seen.first_byte_after.unwrap();
    assert!(
        ttfb >= 6 * LATENCY,
        "a Retry, the handshake, then the request again: {ttfb} ns"
    );
}
