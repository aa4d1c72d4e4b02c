//! The built-in QUIC transport: quinn-proto, sans-I/O, in aioquic's `QuicConnection` shape.
//!
//! * [`Config`]: TLS identity (PEM, or a generated self-signed certificate), trust (CA
//!   roots, or verification off), ALPN, idle timeout, stream limits, DATAGRAM support, key
//!   log.
//! * [`Endpoint`]: one per UDP socket. Datagrams in ([`Endpoint::receive`]), datagrams out
//!   ([`Endpoint::poll_transmit`]), one timer ([`Endpoint::next_timeout`],
//!   [`Endpoint::handle_timeout`]), new connections ([`Endpoint::connect`],
//!   [`Endpoint::accept`]). Time is the caller's monotonic nanoseconds (see `time`).
//! * [`Connection`]: one connection's event queue ([`Connection::next_event`]) and
//!   operations (send, reset, stop, datagrams, close, state), and the
//!   [`Transport`](crate::h3::transport::Transport) an HTTP/3 connection runs over.
//!
//! # The application loop
//!
//! ```no_run
//! use std::net::UdpSocket;
//! use std::time::{Duration, Instant};
//! use h3q::h3::{H3Connection, Settings};
//! use h3q::quic::{Config, Endpoint, MIN_TRANSMIT_BUFFER};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = Config::server();
//! config.load_certificate_chain("cert.pem", "key.pem")?;
//! let mut endpoint = Endpoint::new(&config)?;
//! let socket = UdpSocket::bind("0.0.0.0:4433")?;
//! let start = Instant::now();
//! let now = || start.elapsed().as_nanos() as u64; // any monotonic clock
//! let (mut inbuf, mut outbuf) = (vec![0u8; 65536], vec![0u8; MIN_TRANSMIT_BUFFER]);
//! let mut http = Vec::new();
//! loop {
//!     // Wait for a datagram or the endpoint's timer.
//!     let wait = endpoint.next_timeout().map(|at| at.saturating_sub(now()));
//!     socket.set_read_timeout(Some(Duration::from_nanos(wait.unwrap_or(1_000_000_000).max(1))))?;
//!     match socket.recv_from(&mut inbuf) {
//!         Ok((n, from)) => endpoint.receive(now(), from, &inbuf[..n]),
//!         Err(_) => endpoint.handle_timeout(now()),
//!     }
//!     // New connections get an HTTP/3 connection that owns a handle on them.
//!     while let Some(handle) = endpoint.accept() {
//!         let conn = endpoint.connection(handle)?;
//!         http.push((conn.clone(), H3Connection::new(conn, Settings::default())?));
//!     }
//!     // QUIC events go through HTTP/3; answer the HTTP events (send_headers, send_data).
//!     for (conn, h3) in &mut http {
//!         while let Some(event) = conn.next_event() {
//!             for _http_event in h3.handle_event(event.as_quic_event()) { /* ... */ }
//!         }
//!     }
//!     http.retain(|(conn, _)| !conn.is_drained());
//!     // Send everything there is to send.
//!     while let Some(t) = endpoint.poll_transmit(now(), &mut outbuf)? {
//!         socket.send_to(&outbuf[..t.len], t.destination)?;
//!     }
//! }
//! # }
//! ```
//!
//! # How an HTTP/3 connection holds its transport
//!
//! `H3Connection<T: Transport>` keeps its transport for its whole life, while the
//! connection state must also be reachable from the endpoint, which routes datagrams and
//! timers to it. The two cannot both own it, and handing the H3 layer a `&mut` per call
//! would shape its API around ours. The choice:
//!
//! * the endpoint owns a slab of slots; each holds an `Arc<Mutex<Core>>`, the state of one
//!   connection (the quinn-proto connection, the event queue, the send buffers);
//! * a [`Connection`] is a clone of that `Arc` plus its [`ConnectionHandle`]; it implements
//!   `Transport`, so `H3Connection<quic::Connection>` owns one outright;
//! * every call locks the one connection it touches, for the duration of the call. The
//!   endpoint never holds a lock while the application runs, so there is no re-entrancy.
//!   The only other shared state is a small list on which a `Connection` call reports its
//!   slot ("touched": it may have frames to send or a moved timer), so the endpoint polls
//!   only connections with work; a connection lock may be held while taking that list's
//!   lock, never the reverse.
//!
//! Why not `Rc<RefCell<_>>`: a `Mutex` costs a few nanoseconds uncontended, keeps
//! `Endpoint` and `Connection` `Send` (the C API lets a handle move between threads), and
//! turns a panic in the middle of a call into a poisoned connection that reports
//! [`QuicError::Poisoned`] instead of an inconsistent one. Why not only an index into the
//! endpoint: every H3 call would then need the endpoint too.
//!
//! Lifetime: when a connection drains, the endpoint reaps its slot and bumps the slot's
//! generation. [`Endpoint::connection`] with the old handle then fails with
//! [`QuicError::ConnectionClosed`], and a retained [`Connection`] still hands out its
//! remaining events while its operations fail with `ConnectionClosed`, never touching the
//! slot's next occupant. For C this maps onto `h3q_quic_conn` = a boxed [`Connection`],
//! valid until freed, and `h3q_conn_new_quic` = an `H3Connection` owning a clone of it.

mod admission;
mod client_auth;
mod config;
mod connection;
mod endpoint;
mod error;
mod event;
mod handle;
mod qlog;
mod qlog_qpack;
mod quic_lb;
mod recovery;
mod session;
mod shared_secrets;
mod stats;
mod time;
mod timer_heap;
mod udp_payload;

pub use admission::RetryPolicy;
pub use client_auth::ClientAuthMode;
pub use config::{Config, DEFAULT_SELF_SIGNED_HOST};
pub use connection::EarlyData;
pub use endpoint::{Endpoint, MIN_TRANSMIT_BUFFER, Transmit};
pub use error::{ConfigError, QuicError};
pub use event::Event;
pub use handle::{Connection, ConnectionHandle};
pub use quic_lb::{MAX_SERVER_ID_LEN, RoutedCid, ServerId, decode as decode_cid_server_id};
pub use recovery::{CongestionControl, INITIAL_WINDOW_RANGE, LossDetection};
pub use session::{MAX_SESSIONS, MAX_TICKET_LEN};
pub use stats::Stats;
pub use udp_payload::{MAX_GSO_PAYLOAD, UDP_PAYLOAD_RANGE};
#[cfg(feature = "fuzzing")]
pub(crate) use {qlog::H3Tap, qlog::QlogFile, session::Ticket};
