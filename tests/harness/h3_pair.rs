//! HTTP/3 over the built-in QUIC layer in the in-memory pair: an `H3Connection` client and
//! server on a simulated network and clock (for the tests of whole exchanges), and small
//! helpers for request fields.

use h3q::field::HeaderField;
use h3q::h3::{H3Connection, H3Event, Settings, Transport};
use h3q::quic::{Config, Connection};

use super::pair::{Network, Pair, configs};

pub const SECOND: u64 = 1_000_000_000;

/// Client and server HTTP/3 connections over a simulated network.
pub struct H3Pair {
    pub pair: Pair,
    pub client: H3Connection<Connection>,
    pub server: H3Connection<Connection>,
    pub client_quic: Connection,
    pub server_quic: Connection,
}

impl H3Pair {
    pub fn new(client_cfg: &Config, server_cfg: &Config, net: Network, settings: Settings) -> Self {
        let mut pair = Pair::with_network(client_cfg, server_cfg, net);
        // The client starts HTTP/3 before the handshake completes, as aioquic does.
        let ch = pair.connect();
        let client_quic = pair.client.connection(ch).unwrap();
        let client = H3Connection::new(client_quic.clone(), settings.clone()).unwrap();
        let mut server_quic = None;
        assert!(pair.run_until(10 * SECOND, |p| {
            if let Some(h) = p.server.accept() {
                server_quic = Some(p.server.connection(h).unwrap());
            }
            server_quic.is_some()
        }));
        let server_quic = server_quic.unwrap();
        let server = H3Connection::new(server_quic.clone(), settings).unwrap();
        H3Pair {
            pair,
            client,
            server,
            client_quic,
            server_quic,
        }
    }

    /// Opens the client's next request stream with `method path` headers; returns its id.
    pub fn open_request(&mut self, method: &str, path: &str, end_stream: bool) -> u64 {
        self.open_with(&fields(&request(method, path)), end_stream)
    }

    /// Opens the client's next request stream with `headers`; returns its id.
    pub fn open_with(&mut self, headers: &[(&[u8], &[u8])], end_stream: bool) -> u64 {
        let sid = self
            .client
            .transport_mut()
            .get_next_available_stream_id(false)
            .unwrap();
        self.client.send_headers(sid, headers, end_stream).unwrap();
        sid
    }

    /// One network step, then every QUIC event through the HTTP/3 connections.
    /// Returns (client events, server events).
    pub fn step(&mut self) -> (Vec<H3Event>, Vec<H3Event>) {
        self.step_until(u64::MAX)
    }

    /// [`H3Pair::step`], with simulated time advancing no further than `deadline`.
    pub fn step_until(&mut self, deadline: u64) -> (Vec<H3Event>, Vec<H3Event>) {
        self.pair.step_until(deadline);
        let mut client_out = Vec::new();
        while let Some(ev) = self.client_quic.next_event() {
            self.client
                .handle_event_into(ev.as_quic_event(), &mut client_out)
                .expect("the client sees no protocol error");
        }
        let mut server_out = Vec::new();
        while let Some(ev) = self.server_quic.next_event() {
            self.server
                .handle_event_into(ev.as_quic_event(), &mut server_out)
                .expect("the server sees no protocol error");
        }
        (client_out, server_out)
    }

    /// Steps, handing every HTTP event to `on_event(is_client, connection, event)`, until
    /// it returns true (finished) or the simulated time limit passes.
    pub fn run(
        &mut self,
        limit_ns: u64,
        mut on_event: impl FnMut(bool, &mut H3Connection<Connection>, H3Event) -> bool,
    ) -> bool {
        let deadline = self.pair.now + limit_ns;
        let mut finished = false;
        while self.pair.now <= deadline {
            let (client_events, server_events) = self.step();
            for ev in server_events {
                finished |= on_event(false, &mut self.server, ev);
            }
            for ev in client_events {
                finished |= on_event(true, &mut self.client, ev);
            }
            if finished {
                assert!(!self.client.is_closed() && !self.server.is_closed());
                return true;
            }
        }
        false
    }
}

pub fn header<'a>(headers: &'a [HeaderField], name: &str) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|h| h.name.as_ref() == name.as_bytes())
        .map(|h| h.value.as_ref())
}

pub fn request(method: &str, path: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    vec![
        (b":method".to_vec(), method.as_bytes().to_vec()),
        (b":scheme".to_vec(), b"https".to_vec()),
        (b":authority".to_vec(), b"localhost".to_vec()),
        (b":path".to_vec(), path.as_bytes().to_vec()),
    ]
}

pub fn fields(list: &[(Vec<u8>, Vec<u8>)]) -> Vec<(&[u8], &[u8])> {
    list.iter()
        .map(|(n, v)| (n.as_slice(), v.as_slice()))
        .collect()
}

pub fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl Default for H3Pair {
    /// Default configurations and settings on a network without loss.
    fn default() -> Self {
        let (client_cfg, server_cfg) = configs();
        H3Pair::new(
            &client_cfg,
            &server_cfg,
            Network::default(),
            Settings::default(),
        )
    }
}
