//! Client certificates (mutual TLS) in the C API: the server's policy on an `h3q_config`
//! and the peer's certificate chain on an `h3q_quic_conn`.

use crate::quic::ClientAuthMode;

use super::config::h3q_config;
use super::handle::{FfiError, call, call_status, non_null};
use super::quic_conn::h3q_quic_conn;
use super::result::{h3q_result, h3q_result_code};
use super::slice::{bytes_arg, copy_out};

/// Whether a server asks clients for a certificate (`h3q_config_set_client_auth()`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum h3q_client_auth {
    /// It does not (the default).
    H3Q_CLIENT_AUTH_OFF = 0,
    /// It asks: a client without a certificate is served, one whose certificate does not
    /// verify is refused. `h3q_quic_conn_peer_certificate()` tells them apart.
    H3Q_CLIENT_AUTH_REQUEST = 1,
    /// It refuses clients without a certificate that verifies.
    H3Q_CLIENT_AUTH_REQUIRE = 2,
}

/// Sets whether a server asks clients for a certificate (`mode`, an `h3q_client_auth`
/// value passed as an integer) and the CA certificates (`ca_pem`, `ca_pem_len` bytes of
/// PEM, read during the call) a client's certificate must chain to. A client whose
/// certificate does not verify (or, with `H3Q_CLIENT_AUTH_REQUIRE`, that has none) fails
/// the handshake with a TLS alert: its connection ends with a CRYPTO_ERROR before any
/// HTTP/3. A client presents the certificate of its own config
/// (`h3q_config_set_certificate_chain_pem()` or `h3q_config_load_certificate_chain()` on
/// a client config). With `H3Q_CLIENT_AUTH_OFF`, `ca_pem` may be NULL.
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; `H3Q_ERR_INVALID_ARGUMENT` for an unknown `mode` or a
/// client config; or `H3Q_ERR_TLS` when `ca_pem` holds no usable CA certificate (the
/// message says why). The configuration is unchanged on failure.
///
/// # Safety
/// `config` is NULL or a live handle; `ca_pem` is NULL or readable for `ca_pem_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_set_client_auth(
    config: *mut h3q_config,
    mode: u32,
    ca_pem: *const u8,
    ca_pem_len: usize,
) -> h3q_result {
    use h3q_client_auth as A;
    let mode = match mode {
        m if m == A::H3Q_CLIENT_AUTH_OFF as u32 => Some(ClientAuthMode::Off),
        m if m == A::H3Q_CLIENT_AUTH_REQUEST as u32 => Some(ClientAuthMode::Request),
        m if m == A::H3Q_CLIENT_AUTH_REQUIRE as u32 => Some(ClientAuthMode::Require),
        _ => None,
    };
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            let Some(mode) = mode else {
                return Err(FfiError::invalid(
                    "mode: not an h3q_client_auth (H3Q_CLIENT_AUTH_OFF 0, _REQUEST 1, _REQUIRE 2)",
                ));
            };
            if !c.is_server() {
                return Err(FfiError::invalid(
                    "client certificates are asked for by servers: this is a client config \
                     (a client presents its own with h3q_config_set_certificate_chain_pem)",
                ));
            }
            let pem = if mode == ClientAuthMode::Off && ca_pem.is_null() {
                &[][..]
            } else {
                bytes_arg(ca_pem, ca_pem_len, "ca_pem")?
            };
            Ok(c.set_client_auth(mode, pem)?)
        })
    }
}

/// Copies certificate `index` of the chain the peer presented (0: its own certificate,
/// then the intermediates it sent; DER) into `buf` (`cap` bytes) and writes its length to
/// `*len`. On a server that asked for client certificates, this is the client's (verified
/// during the handshake); on a client, the server's.
///
/// Returns `H3Q_OK`; `H3Q_DONE` when there is no certificate `index` (before the
/// handshake completed, a peer that presented none, or past the end of the chain);
/// `H3Q_ERR_BUFFER_TOO_SMALL` with the size needed in `*len` (`buf` may be NULL with
/// `cap` 0 to ask for it); or `H3Q_ERR_NULL`.
///
/// # Safety
/// `conn` is NULL or a live handle; `buf` is NULL or writable for `cap` bytes; `len` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_quic_conn_peer_certificate(
    conn: *mut h3q_quic_conn,
    index: usize,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call_status(conn, |state| {
            non_null(len, "len")?;
            let chain = state.conn.peer_certificates().unwrap_or_default();
            let Some(cert) = chain.get(index) else {
                return Ok(h3q_result_code::H3Q_DONE);
            };
            // SAFETY: forwarded from the caller's contract.
            copy_out(cert, buf, cap, len, &format!("certificate {index}"))
        })
    }
}
