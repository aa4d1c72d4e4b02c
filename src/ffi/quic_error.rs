//! How QUIC-layer errors reach C.

use crate::quic::QuicError;

use super::handle::FfiError;
use super::result::h3q_result_code;

impl From<QuicError> for FfiError {
    fn from(error: QuicError) -> Self {
        let code = match &error {
            QuicError::Config(_) => h3q_result_code::H3Q_ERR_TLS,
            QuicError::ConnectionClosed => h3q_result_code::H3Q_ERR_CONNECTION_CLOSED,
            QuicError::WrongRole(_) => h3q_result_code::H3Q_ERR_WRONG_ROLE,
            QuicError::InvalidArgument(_) | QuicError::StreamClosed(_) | QuicError::Connect(_) => {
                h3q_result_code::H3Q_ERR_INVALID_ARGUMENT
            }
            QuicError::DatagramsUnsupported
            | QuicError::DatagramTooLarge { .. }
            | QuicError::DatagramBlocked => h3q_result_code::H3Q_ERR_TRANSPORT,
            QuicError::Poisoned => h3q_result_code::H3Q_ERR_POISONED,
        };
        FfiError::new(code, error.to_string())
    }
}
