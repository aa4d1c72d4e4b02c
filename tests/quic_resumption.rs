//! Session resumption, 0-RTT (accepted and rejected) and address validation (Retry,
//! NEW_TOKEN) over the in-memory pair, with HTTP/3 on top.

mod harness;

use h3q::error::ErrorCode;
use h3q::h3::{H3Connection, H3Event, Settings, Transport};
use h3q::quic::{Config, Connection, EarlyData, Endpoint, RetryPolicy};

use harness::h3_pair::{SECOND, fields, request};
use harness::pair::{Network, Pair, configs};

const MS: u64 = 1_000_000;
/// One-way delay of the simulated path: a 50 ms round trip.
const LATENCY: u64 = 25 * MS;

/// One HTTP/3 client connection with one GET on it, and a server answering every request.
struct Fetch {
    quic: Connection,
    h3: H3Connection<Connection>,
    stream: u64,
    started_at: u64,
}

/// What a fetch saw.
#[derive(Debug, Default)]
struct Seen {
    /// When the response's HEADERS arrived, from the start of the connection.
    first_byte_after: Option<u64>,
    complete: bool,
    /// Request streams reset with their codes, as the client saw them.
    resets: Vec<(u64, u64)>,
    /// The server saw the request as early (0-RTT) data.
    early_at_server: Vec<bool>,
    /// The server's stream ids of the requests it answered.
    served: Vec<u64>,
}

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

fn start(pair: &mut Pair, ticket: Option<&[u8]>) -> Fetch {
    let handle = match ticket {
        Some(t) => pair
            .client
            .connect_resume(pair.now, pair.server_addr, "localhost", t)
            .unwrap(),
        None => pair.connect(),
    };
    let quic = pair.client.connection(handle).unwrap();
    let mut h3 = H3Connection::new(quic.clone(), Settings::default()).unwrap();
    let stream = h3
        .transport_mut()
        .get_next_available_stream_id(false)
        .unwrap();
    h3.send_headers(stream, &fields(&request("GET", "/")), true)
        .unwrap();
    Fetch {
        quic,
        h3,
        stream,
        started_at: pair.now,
    }
}

/// Runs until the fetch's response is complete (answering on the server side), resending
/// the GET once if it is rejected with H3_REQUEST_REJECTED.
fn finish(
    pair: &mut Pair,
    fetch: &mut Fetch,
    servers: &mut Vec<(Connection, H3Connection<Connection>)>,
) -> Seen {
    let mut seen = Seen::default();
    let done = pair.run_until(20 * SECOND, |p| {
        while let Some(h) = p.server.accept() {
            let conn = p.server.connection(h).unwrap();
            let h3 = H3Connection::new(conn.clone(), Settings::default()).unwrap();
            servers.push((conn, h3));
        }
        for (conn, h3) in servers.iter_mut() {
            while let Some(ev) = conn.next_event() {
                for http in h3.handle_event(ev.as_quic_event()).unwrap() {
                    if let H3Event::HeadersReceived { stream_id, .. } = http {
                        seen.early_at_server.push(conn.is_early_stream(stream_id));
                        seen.served.push(stream_id);
                        let status: &[(&[u8], &[u8])] = &[(b":status", b"200")];
                        h3.send_headers(stream_id, status, false).unwrap();
                        h3.send_data(stream_id, b"hello", true).unwrap();
                    }
                }
            }
        }
        while let Some(ev) = fetch.quic.next_event() {
            for http in fetch.h3.handle_event(ev.as_quic_event()).unwrap() {
                match http {
                    H3Event::HeadersReceived { stream_id, .. } if stream_id == fetch.stream => {
                        seen.first_byte_after = Some(p.now - fetch.started_at);
                    }
                    H3Event::DataReceived {
                        stream_id,
                        stream_ended: true,
                        ..
                    } if stream_id == fetch.stream => seen.complete = true,
                    H3Event::StreamReset {
                        stream_id,
                        error_code,
                        ..
                    } => {
                        seen.resets.push((stream_id, error_code));
                        let again = fetch
                            .h3
                            .transport_mut()
                            .get_next_available_stream_id(false)
                            .unwrap();
                        fetch
                            .h3
                            .send_headers(again, &fields(&request("GET", "/")), true)
                            .unwrap();
                        fetch.stream = again;
                    }
                    _ => {}
                }
            }
        }
        seen.complete
    });
    assert!(done, "the response did not complete: {seen:?}");
    // Let the session tickets and NEW_TOKEN frames that follow the handshake arrive.
    let until = pair.now + 4 * LATENCY;
    pair.run_until(until - pair.now, |p| p.now >= until);
    seen
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
    let mut first = start(&mut pair, None);
    finish(&mut pair, &mut first, &mut servers);
    let ticket = first.quic.session_ticket().unwrap();

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

#[test]
fn rejected_0rtt_reports_the_request_rejected_and_it_succeeds_when_sent_again() {
    let (client_cfg, server_cfg) = zero_rtt_server();
    let mut pair = pair(&server_cfg, &client_cfg);
    let mut servers = Vec::new();
    let mut first = start(&mut pair, None);
    finish(&mut pair, &mut first, &mut servers);
    let ticket = first.quic.session_ticket().unwrap();

    // A restarted server (same certificate) has lost its sessions: it refuses the early
    // data and completes a full handshake.
    pair.server = Endpoint::new(&server_cfg).unwrap();
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
    let mut first = start(&mut pair, None);
    finish(&mut pair, &mut first, &mut servers);
    let ticket = first.quic.session_ticket().unwrap();

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
