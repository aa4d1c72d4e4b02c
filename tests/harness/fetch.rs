//! One GET over a new client connection, fresh or resuming a session ticket, with a
//! server answering every request: what the resumption tests and the handshake bench run.

use h3q::h3::{H3Connection, H3Event, Settings, Transport};
use h3q::quic::Connection;

use super::h3_pair::{SECOND, fields, request};
use super::pair::Pair;

/// The server side: every accepted connection with its HTTP/3 connection.
pub type Servers = Vec<(Connection, H3Connection<Connection>)>;

/// One HTTP/3 client connection with one GET on it, and a server answering every request.
pub struct Fetch {
    pub quic: Connection,
    pub h3: H3Connection<Connection>,
    pub stream: u64,
    pub started_at: u64,
}

/// What a fetch saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// When the response's HEADERS arrived, from the start of the connection.
    pub first_byte_after: Option<u64>,
    pub complete: bool,
    /// Request streams reset with their codes, as the client saw them.
    pub resets: Vec<(u64, u64)>,
    /// The server saw the request as early (0-RTT) data.
    pub early_at_server: Vec<bool>,
    /// The server's stream ids of the requests it answered.
    pub served: Vec<u64>,
}

pub fn start(pair: &mut Pair, ticket: Option<&[u8]>) -> Fetch {
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
pub fn finish(pair: &mut Pair, fetch: &mut Fetch, servers: &mut Servers) -> Seen {
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
    let until = pair.now + 4 * pair.net.latency_ns;
    pair.run_until(until - pair.now, |p| p.now >= until);
    seen
}
