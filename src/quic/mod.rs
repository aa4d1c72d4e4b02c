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
//!   endpoint never holds a lock while the application runs, so there is no re-entrancy
//!   and no lock ordering to get wrong; the endpoint's own state is never shared.
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

mod config;
mod connection;
mod endpoint;
mod error;
mod time;

#[cfg(test)]
mod tests;

pub use config::{Config, DEFAULT_SELF_SIGNED_HOST};
pub use connection::{Connection, ConnectionHandle, Event};
pub use endpoint::{Endpoint, MIN_TRANSMIT_BUFFER, Transmit};
pub use error::{ConfigError, QuicError};
