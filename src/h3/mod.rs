//! The HTTP/3 connection: aioquic's `H3Connection`, sans-I/O, over any QUIC transport.

mod connection;
pub mod error;
pub mod event;
mod recv_request;
mod recv_uni;
pub mod settings;
mod stream;
pub mod transport;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

pub use connection::H3Connection;
pub use error::H3Error;
pub use event::{H3Event, QuicEvent};
pub use settings::Settings;
pub use transport::{Transport, TransportError};
