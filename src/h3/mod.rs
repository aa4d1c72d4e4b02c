//! The HTTP/3 connection: aioquic's `H3Connection`, sans-I/O, over any QUIC transport.
//!
//! - [`H3Connection::new`] opens our control stream (SETTINGS, and a client's
//!   MAX_PUSH_ID) and the QPACK encoder and decoder streams through the [`Transport`].
//! - [`H3Connection::handle_event`] / [`H3Connection::handle_event_into`] take one
//!   [`QuicEvent`] and produce [`H3Event`]s. DATA payloads come out as they arrive;
//!   frames that must be whole are buffered up to [`Settings::max_buffered_frame_size`];
//!   field sections waiting for QPACK encoder-stream data hold the rest of their stream
//!   back (up to [`Settings::max_blocked_stream_bytes`]) and resume in order.
//! - Cheap floods close the connection with H3_EXCESSIVE_LOAD before they cost memory or
//!   much CPU: tiny and empty frames, SETTINGS with too many entries, rapid resets,
//!   unreferenced QPACK inserts and Duplicate churn, partial frames on too many streams;
//!   field sections that decode past a budget fail QPACK decompression. The limits are
//!   [`Settings`] fields, with defaults no legitimate peer reaches.
//! - A protocol violation by the peer closes the transport once with its code and reason;
//!   the connection then produces nothing and refuses every send.
//! - `send_headers`, `send_data`, `send_push_promise`, `send_datagram` and
//!   `create_webtransport_stream` write frames; a call refused in the stream's state
//!   returns an [`H3Error`] and changes nothing.
//! - Per-stream state is dropped as soon as both directions of a stream are done, so a
//!   long-lived connection does not grow ([`H3Connection::tracked_streams`]).
//!
//! Files: `connection.rs` (state, start-up, dispatch, the one exit for protocol errors),
//! `send.rs`, `recv_request.rs` (request and push streams), `early_data.rs` (a rejected
//! 0-RTT attempt), `recv_uni.rs`
//! (unidirectional streams, control stream, QPACK streams, datagrams), `stream.rs`
//! (per-stream state), `settings.rs`, `error.rs`, `event.rs`, `transport.rs`.

mod connection;
mod early_data;
pub mod error;
pub mod event;
mod id_set;
mod lifecycle;
pub(crate) mod priorities;
pub mod priority;
mod recv_request;
mod recv_uni;
mod send;
pub mod settings;
mod stream;
pub mod transport;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

pub use connection::H3Connection;
pub use error::H3Error;
pub use event::{ConnectionClose, ErrorSpace, EventData, H3Event, QuicEvent};
pub use priority::Priority;
pub(crate) use send::COALESCE_DATA_LIMIT;
pub use settings::Settings;
pub use transport::{Transport, TransportError};
