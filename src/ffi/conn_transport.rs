//! The transport behind an `h3q_conn`: a C table or the built-in QUIC layer, with
//! the close it was asked for remembered so the C API can report why a connection ended.

use crate::h3::transport::{Transport, TransportError};

use super::transport::CTransport;

/// Which QUIC stack an `h3q_conn` runs over.
pub(crate) enum Stack {
    /// The application's own QUIC stack, through an `h3q_transport` table.
    C(CTransport),
    /// A connection of the built-in QUIC layer (shared with its `h3q_quic_conn`).
    Quic(crate::quic::Connection),
}

/// The `Transport` of an `h3q_conn`.
pub(crate) struct ConnTransport {
    stack: Stack,
    /// The HTTP/3 error code and reason the connection was closed with, if it was.
    closed_with: Option<(u64, String)>,
}

impl ConnTransport {
    pub(crate) fn new(stack: Stack) -> Self {
        ConnTransport {
            stack,
            closed_with: None,
        }
    }

    /// The code and reason of the close the HTTP/3 layer asked for, if any.
    pub(crate) fn closed_with(&self) -> Option<&(u64, String)> {
        self.closed_with.as_ref()
    }

    /// True when the connection runs over the built-in QUIC layer and that QUIC connection
    /// is closed (closing, draining or drained).
    pub(crate) fn quic_closed(&self) -> bool {
        match &self.stack {
            Stack::Quic(conn) => conn.is_closed(),
            Stack::C(_) => false,
        }
    }

    fn inner(&mut self) -> &mut dyn Transport {
        match &mut self.stack {
            Stack::C(t) => t,
            Stack::Quic(t) => t,
        }
    }

    fn inner_ref(&self) -> &dyn Transport {
        match &self.stack {
            Stack::C(t) => t,
            Stack::Quic(t) => t,
        }
    }
}

impl Transport for ConnTransport {
    fn is_client(&self) -> bool {
        self.inner_ref().is_client()
    }

    fn remote_max_datagram_frame_size(&self) -> u64 {
        self.inner_ref().remote_max_datagram_frame_size()
    }

    fn send_stream_data(
        &mut self,
        stream_id: u64,
        data: &[u8],
        end_stream: bool,
    ) -> Result<(), TransportError> {
        self.inner().send_stream_data(stream_id, data, end_stream)
    }

    fn send_stream_bytes(
        &mut self,
        stream_id: u64,
        data: bytes::Bytes,
        end_stream: bool,
    ) -> Result<(), TransportError> {
        self.inner().send_stream_bytes(stream_id, data, end_stream)
    }

    fn shared_bytes(&self, data: &[u8]) -> Option<bytes::Bytes> {
        self.inner_ref().shared_bytes(data)
    }

    fn get_next_available_stream_id(
        &mut self,
        unidirectional: bool,
    ) -> Result<u64, TransportError> {
        self.inner().get_next_available_stream_id(unidirectional)
    }

    fn reset_stream(&mut self, stream_id: u64, error_code: u64) -> Result<(), TransportError> {
        self.inner().reset_stream(stream_id, error_code)
    }

    fn stop_stream(&mut self, stream_id: u64, error_code: u64) -> Result<(), TransportError> {
        self.inner().stop_stream(stream_id, error_code)
    }

    fn send_datagram_frame(&mut self, data: &[u8]) -> Result<(), TransportError> {
        self.inner().send_datagram_frame(data)
    }

    fn close(&mut self, error_code: u64, reason: &str) {
        self.closed_with = Some((error_code, reason.to_owned()));
        self.inner().close(error_code, reason);
    }
}
