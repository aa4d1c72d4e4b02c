//! TLS session resumption and 0-RTT for clients: the sessions a client endpoint received,
//! exported as opaque *session tickets* and offered again by
//! [`Endpoint::connect_resume`](super::Endpoint::connect_resume).
//!
//! # What a session ticket is
//!
//! A server's NewSessionTicket gives the client a TLS session (a secret, the ticket, the
//! server's transport parameters, which bound what 0-RTT may send). rustls keeps such a
//! session as an opaque in-memory value that cannot be serialized (rustls issue #2287), so
//! the bytes [`Connection::session_ticket`](super::Connection::session_ticket) hands out
//! are a *reference* to a session the endpoint keeps, not the session itself:
//!
//! ```text
//! "h3qs" | version (1) | endpoint id (8) | session key (8) | name length (2) | server name
//! ```
//!
//! A ticket resumes on the endpoint that received it, once (TLS 1.3 tickets are single use:
//! a server that accepts 0-RTT remembers them to refuse replays). On another endpoint, in
//! another process, or a second time it is *not resumable*: the connection then runs a
//! full handshake, which is what a client would do without a ticket anyway. A malformed or
//! oversized ticket, or one for another server name, is refused with an error.
//!
//! The endpoint keeps at most [`MAX_SESSIONS`] exported-to-be sessions (the oldest go
//! first); rustls refuses expired ones itself when it offers them.
//!
//! # Automatic resumption
//!
//! Plain [`Endpoint::connect`](super::Endpoint::connect) still resumes (without 0-RTT) from
//! a small in-memory cache keyed by server name, as rustls does by default: a client that
//! reconnects to a server saves its handshake's signature work. The first ticket a
//! connection receives goes to the export registry, later ones to that cache.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};

use rustls::client::{ClientSessionMemoryCache, ClientSessionStore, Tls13ClientSessionValue};
use rustls::pki_types::ServerName;

use super::error::QuicError;

/// Sessions the export registry keeps per endpoint.
pub const MAX_SESSIONS: usize = 1024;

/// The longest ticket this module reads back: a server name is at most 255 bytes.
pub const MAX_TICKET_LEN: usize = HEADER_LEN + 255;

const MAGIC: &[u8; 4] = b"h3qs";
const VERSION: u8 = 1;
/// magic, version, endpoint id, session key, name length.
const HEADER_LEN: usize = 4 + 1 + 8 + 8 + 2;

/// Sessions the automatic-resumption cache keeps (rustls's default).
const AUTOMATIC_CACHE: usize = 256;

/// A parsed session ticket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ticket {
    pub(crate) endpoint_id: u64,
    pub(crate) key: u64,
    pub(crate) server_name: String,
}

impl Ticket {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let name = self.server_name.as_bytes();
        let mut out = Vec::with_capacity(HEADER_LEN + name.len());
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&self.endpoint_id.to_be_bytes());
        out.extend_from_slice(&self.key.to_be_bytes());
        out.extend_from_slice(&(name.len() as u16).to_be_bytes());
        out.extend_from_slice(name);
        out
    }

    /// Reads a ticket made by [`Ticket::encode`]; a clear error for anything else.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Ticket, QuicError> {
        let invalid = |why: &str| QuicError::InvalidArgument(format!("session ticket: {why}"));
        if bytes.len() > MAX_TICKET_LEN {
            return Err(invalid(&format!(
                "{} bytes, more than the {MAX_TICKET_LEN} an h3q ticket has",
                bytes.len()
            )));
        }
        if bytes.len() < HEADER_LEN || &bytes[..4] != MAGIC {
            return Err(invalid("not an h3q session ticket"));
        }
        if bytes[4] != VERSION {
            return Err(invalid(&format!("unknown format version {}", bytes[4])));
        }
        let u64_at = |at: usize| u64::from_be_bytes(bytes[at..at + 8].try_into().unwrap());
        let name_len = usize::from(u16::from_be_bytes([bytes[21], bytes[22]]));
        if bytes.len() != HEADER_LEN + name_len {
            return Err(invalid("truncated or with trailing bytes"));
        }
        let server_name = std::str::from_utf8(&bytes[HEADER_LEN..])
            .map_err(|_| invalid("server name is not UTF-8"))?
            .to_owned();
        Ok(Ticket {
            endpoint_id: u64_at(5),
            key: u64_at(13),
            server_name,
        })
    }
}

struct Stored {
    server_name: String,
    value: Tls13ClientSessionValue,
}

/// The sessions of one client endpoint: those exported (or exportable) as tickets, and the
/// automatic-resumption cache.
pub(crate) struct SessionRegistry {
    endpoint_id: u64,
    sessions: Mutex<Sessions>,
    automatic: ClientSessionMemoryCache,
}

#[derive(Default)]
struct Sessions {
    by_key: HashMap<u64, Stored>,
    /// Keys, oldest first, for eviction.
    order: VecDeque<u64>,
}

impl fmt::Debug for SessionRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let held = self.sessions.lock().map_or(0, |s| s.by_key.len());
        f.debug_struct("SessionRegistry")
            .field("endpoint_id", &self.endpoint_id)
            .field("sessions", &held)
            .finish_non_exhaustive()
    }
}

impl SessionRegistry {
    pub(crate) fn new() -> Self {
        SessionRegistry {
            endpoint_id: random_u64(),
            sessions: Mutex::new(Sessions::default()),
            automatic: ClientSessionMemoryCache::new(AUTOMATIC_CACHE),
        }
    }

    fn insert(&self, server_name: String, value: Tls13ClientSessionValue) -> Option<u64> {
        let mut sessions = self.sessions.lock().ok()?;
        let key = random_u64();
        while sessions.order.len() >= MAX_SESSIONS {
            if let Some(old) = sessions.order.pop_front() {
                sessions.by_key.remove(&old);
            }
        }
        sessions.order.push_back(key);
        sessions.by_key.insert(key, Stored { server_name, value });
        Some(key)
    }

    /// The session `ticket` refers to, taken out (single use); `None` if it is not
    /// resumable here (see the module docs).
    pub(crate) fn take(&self, ticket: &Ticket) -> Option<Tls13ClientSessionValue> {
        if ticket.endpoint_id != self.endpoint_id {
            return None;
        }
        let mut sessions = self.sessions.lock().ok()?;
        let stored = sessions.by_key.remove(&ticket.key)?;
        sessions.order.retain(|&k| k != ticket.key);
        (stored.server_name == ticket.server_name).then_some(stored.value)
    }

    /// True while `ticket`'s session is held here, unused.
    pub(crate) fn holds(&self, key: u64) -> bool {
        self.sessions
            .lock()
            .is_ok_and(|sessions| sessions.by_key.contains_key(&key))
    }

    pub(crate) fn ticket(&self, key: u64, server_name: &str) -> Ticket {
        Ticket {
            endpoint_id: self.endpoint_id,
            key,
            server_name: server_name.to_owned(),
        }
    }
}

/// The session store of one client connection, given to rustls: it offers the session the
/// connection resumes (if any) and files the sessions the server sends.
pub(crate) struct ConnectionSessions {
    registry: Arc<SessionRegistry>,
    /// `Some` for [`Endpoint::connect_resume`](super::Endpoint::connect_resume): the
    /// session to offer (taken once), or `None` inside when the ticket was not resumable.
    /// `None` for a plain connect, which uses the automatic cache.
    offer: Option<Mutex<Option<Tls13ClientSessionValue>>>,
    /// The registry key of the first session the server sent on this connection.
    received: Mutex<Option<u64>>,
}

impl fmt::Debug for ConnectionSessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionSessions")
            .field("explicit", &self.offer.is_some())
            .finish_non_exhaustive()
    }
}

impl ConnectionSessions {
    /// The store of a plain connect.
    pub(crate) fn automatic(registry: Arc<SessionRegistry>) -> Self {
        ConnectionSessions {
            registry,
            offer: None,
            received: Mutex::new(None),
        }
    }

    /// The store of a connection resuming `session` (`None`: not resumable, full handshake).
    pub(crate) fn resuming(
        registry: Arc<SessionRegistry>,
        session: Option<Tls13ClientSessionValue>,
    ) -> Self {
        ConnectionSessions {
            registry,
            offer: Some(Mutex::new(session)),
            received: Mutex::new(None),
        }
    }

    /// The registry key of the session this connection received, while it is unused.
    pub(crate) fn received_key(&self) -> Option<u64> {
        let key = (*self.received.lock().ok()?)?;
        self.registry.holds(key).then_some(key)
    }

    pub(crate) fn registry(&self) -> &SessionRegistry {
        &self.registry
    }
}

impl ClientSessionStore for ConnectionSessions {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: rustls::NamedGroup) {
        self.registry.automatic.set_kx_hint(server_name, group);
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<rustls::NamedGroup> {
        self.registry.automatic.kx_hint(server_name)
    }

    // TLS 1.2 is never negotiated (QUIC needs TLS 1.3).
    fn set_tls12_session(
        &self,
        _: ServerName<'static>,
        _: rustls::client::Tls12ClientSessionValue,
    ) {
    }

    fn tls12_session(&self, _: &ServerName<'_>) -> Option<rustls::client::Tls12ClientSessionValue> {
        None
    }

    fn remove_tls12_session(&self, _: &ServerName<'static>) {}

    fn insert_tls13_ticket(
        &self,
        server_name: ServerName<'static>,
        value: Tls13ClientSessionValue,
    ) {
        let Ok(mut received) = self.received.lock() else {
            return;
        };
        if received.is_none() {
            *received = self
                .registry
                .insert(server_name.to_str().into_owned(), value);
        } else {
            self.registry
                .automatic
                .insert_tls13_ticket(server_name, value);
        }
    }

    fn take_tls13_ticket(
        &self,
        server_name: &ServerName<'static>,
    ) -> Option<Tls13ClientSessionValue> {
        match &self.offer {
            Some(offer) => offer.lock().ok()?.take(),
            None => self.registry.automatic.take_tls13_ticket(server_name),
        }
    }
}

fn random_u64() -> u64 {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    // The system RNG failing is not recoverable in a meaningful way; fall back to a
    // process-unique value rather than panic (keys only need to be unguessable for
    // privacy, not for safety: a wrong key finds no session).
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        return NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    u64::from_ne_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_round_trip() {
        let ticket = Ticket {
            endpoint_id: 0x0102_0304_0506_0708,
            key: u64::MAX,
            server_name: "example.com".into(),
        };
        let bytes = ticket.encode();
        assert_eq!(bytes.len(), HEADER_LEN + 11);
        assert_eq!(Ticket::parse(&bytes).unwrap(), ticket);
    }

    #[test]
    fn bad_tickets_are_refused_with_a_reason() {
        let good = Ticket {
            endpoint_id: 1,
            key: 2,
            server_name: "localhost".into(),
        }
        .encode();
        let message = |bytes: &[u8]| Ticket::parse(bytes).unwrap_err().to_string();
        assert!(message(b"").contains("not an h3q session ticket"));
        assert!(message(&[0u8; 40]).contains("not an h3q session ticket"));
        assert!(message(&vec![0u8; MAX_TICKET_LEN + 1]).contains("more than"));
        let mut version = good.clone();
        version[4] = 9;
        assert!(message(&version).contains("version 9"));
        assert!(message(&good[..good.len() - 1]).contains("truncated"));
        let mut longer = good.clone();
        longer.push(0);
        assert!(message(&longer).contains("trailing"));
        let mut utf8 = good.clone();
        let last = utf8.len() - 1;
        utf8[last] = 0xff;
        assert!(message(&utf8).contains("UTF-8"));
    }

    #[test]
    fn a_ticket_of_another_endpoint_finds_nothing() {
        let registry = SessionRegistry::new();
        let foreign = Ticket {
            endpoint_id: registry.endpoint_id.wrapping_add(1),
            key: 1,
            server_name: "localhost".into(),
        };
        assert!(registry.take(&foreign).is_none());
        assert!(!registry.holds(1));
    }
}
