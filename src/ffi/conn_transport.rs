//! The transport behind an `h3q_conn`: a C table or a connection of the built-in QUIC
//! layer.

use crate::h3::Priority;
use crate::h3::transport::{Transport, TransportError};

use super::transport::CTransport;

/// Which QUIC stack an `h3q_conn` runs over: its `Transport`.
pub(crate) enum ConnTransport {
    /// The application's own QUIC stack, through an `h3q_transport` table.
    C(CTransport),
    /// A connection of the built-in QUIC layer (shared with its `h3q_quic_conn`).
    Quic(crate::quic::Connection),
}

impl ConnTransport {
    /// The payload of the event the built-in QUIC layer last handed to C (empty over a C
    /// transport): the bytes of an `h3q_quic_event` that point into it are shared.
    pub(crate) fn last_quic_payload(&self) -> bytes::Bytes {
        match self {
            ConnTransport::Quic(conn) => conn.last_payload(),
            ConnTransport::C(_) => bytes::Bytes::new(),
        }
    }

    /// True when the connection runs over the built-in QUIC layer and that QUIC connection
    /// is closed (closing, draining or drained).
    pub(crate) fn quic_closed(&self) -> bool {
        match self {
            ConnTransport::Quic(conn) => conn.is_closed(),
            ConnTransport::C(_) => false,
        }
    }

    fn inner(&mut self) -> &mut dyn Transport {
        match self {
            ConnTransport::C(t) => t,
            ConnTransport::Quic(t) => t,
        }
    }

    fn inner_ref(&self) -> &dyn Transport {
        match self {
            ConnTransport::C(t) => t,
            ConnTransport::Quic(t) => t,
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

    fn send_stream_data_batched(
        &mut self,
        stream_id: u64,
        data: &[u8],
    ) -> Result<(), TransportError> {
        self.inner().send_stream_data_batched(stream_id, data)
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
        self.inner().close(error_code, reason);
    }

    fn is_closed(&self) -> bool {
        self.inner_ref().is_closed()
    }

    fn set_stream_priority(
        &mut self,
        stream_id: u64,
        priority: Priority,
    ) -> Result<(), TransportError> {
        self.inner().set_stream_priority(stream_id, priority)
    }
}
