//! Session resumption, 0-RTT and address validation in the C API: the config switches,
//! `h3q_endpoint_connect_resume()`, session tickets, and what became of early data.

use std::ffi::c_char;

use libc::{sockaddr, socklen_t};

use crate::quic::{EarlyData, RetryPolicy};

use super::config::h3q_config;
use super::endpoint::h3q_endpoint;
use super::handle::{self, FfiError, call, call_status, non_null};
use super::quic_conn::{QuicConnState, h3q_quic_conn, query};
use super::result::{h3q_result, h3q_result_code};
use super::slice::{bytes_arg, copy_out, str_arg};
use super::sockaddr::sockaddr_from_c;

/// Turns 0-RTT (TLS early data) on or off.
///
/// A server with it on accepts requests a resuming client sends before the handshake
/// completes, saving that client a round trip. Such requests can be *replayed* by an
/// attacker who captured them (h3q's server keeps each session ticket single-use, which
/// stops replays to this server process, not to another one sharing its certificate):
/// answer early requests only when repeating them is harmless (GET, HEAD), and
/// 425 Too Early (RFC 8470) otherwise; `h3q_quic_conn_stream_is_early()` tells which
/// requests arrived early. Default off for servers.
///
/// A client with it on sends 0-RTT when it resumes a session that allows it
/// (`h3q_endpoint_connect_resume()`). Default on for clients.
///
/// Returns `H3Q_OK` or `H3Q_ERR_NULL`.
///
/// # Safety
/// `config` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_set_enable_0rtt(
    config: *mut h3q_config,
    enabled: bool,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            c.set_enable_0rtt(enabled);
            Ok(())
        })
    }
}

/// Gives the endpoints created from `config` from now on new secrets: an empty TLS session
/// cache, a new key for Retry and NEW_TOKEN tokens (with an empty log of used tokens) and a
/// new stateless reset key; the certificate stays. Endpoints created before keep theirs
/// (see `h3q_endpoint_new()` for what endpoints of one config share). Session tickets and
/// tokens issued before are then refused by the new endpoints: clients get a full
/// handshake (and a Retry where Retry is on), as after a server restart. Use it to retire
/// them, e.g. when a key may have leaked, or to play a restarted server in tests.
///
/// Returns `H3Q_OK` or `H3Q_ERR_NULL`.
///
/// # Safety
/// `config` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_rotate_secrets(config: *mut h3q_config) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            c.rotate_secrets();
            Ok(())
        })
    }
}

/// Turns address validation by Retry on (for every new connection) or off (the default).
/// Servers only; ignored by clients. This and `h3q_config_set_retry_above_rate()` set one
/// policy: the last call wins (`false` here turns Retry off, whatever rate was set).
///
/// With it on, a client's first Initial is answered with a Retry carrying a token; the
/// handshake starts only when the client echoes it, proving it receives packets at its
/// address. That costs honest clients one round trip and defeats spoofed-source floods.
/// Clients holding a NEW_TOKEN token from an earlier connection to this endpoint skip the
/// Retry. `h3q_config_set_retry_above_rate()` retries only under load.
///
/// Returns `H3Q_OK` or `H3Q_ERR_NULL`.
///
/// # Safety
/// `config` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_set_retry(
    config: *mut h3q_config,
    enabled: bool,
) -> h3q_result {
    let policy = if enabled {
        RetryPolicy::Always
    } else {
        RetryPolicy::Off
    };
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            c.set_retry(policy);
            Ok(())
        })
    }
}

/// Turns Retry on only while more than `handshakes_per_second` new connections (from
/// addresses not validated yet) arrived in the last second: no extra round trip in normal
/// times, address validation under a flood. Servers only. Replaces what
/// `h3q_config_set_retry()` set (one policy; the last call wins).
///
/// Returns `H3Q_OK`, `H3Q_ERR_NULL`, or `H3Q_ERR_INVALID_ARGUMENT` for 0 (use
/// `h3q_config_set_retry()` to retry always).
///
/// # Safety
/// `config` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_set_retry_above_rate(
    config: *mut h3q_config,
    handshakes_per_second: u32,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            if handshakes_per_second == 0 {
                return Err(FfiError::invalid(
                    "handshakes_per_second 0: use h3q_config_set_retry(config, true) to retry \
                     every new connection",
                ));
            }
            c.set_retry(RetryPolicy::AboveRate(handshakes_per_second));
            Ok(())
        })
    }
}

/// `h3q_endpoint_connect()`, resuming the TLS session of `ticket` (`ticket_len` bytes
/// from `h3q_quic_conn_session_ticket()` on an earlier connection of this endpoint; read
/// during the call). With 0-RTT on and a session that allows it, what you send before the
/// handshake completes (start HTTP/3 and send requests at once) goes as 0-RTT:
/// `h3q_quic_conn_is_0rtt()` is then true, and `h3q_quic_conn_early_data()` later says
/// whether the server took it. If the server rejects it, `H3Q_QUIC_EARLY_DATA_REJECTED`
/// comes before `H3Q_QUIC_HANDSHAKE_COMPLETED`, and the `h3q_conn` reports every request
/// sent early as reset with H3_REQUEST_REJECTED: send them again (new stream ids).
///
/// A ticket names a session this endpoint keeps (TLS sessions cannot be exported as
/// bytes by the TLS library h3q uses): it resumes once, on this endpoint. A well-formed
/// ticket that is not resumable (from another endpoint or process, used, or evicted) gives
/// a full handshake, as `h3q_endpoint_connect()` would.
///
/// On success writes a new connection handle to `*out`, owned by the caller. Returns
/// `H3Q_OK`; `H3Q_ERR_NULL`; `H3Q_ERR_WRONG_ROLE` on a server endpoint; or
/// `H3Q_ERR_INVALID_ARGUMENT` for a bad address or server name, bytes that are not an h3q
/// session ticket (too long, truncated, another format), or a ticket for another server
/// name.
///
/// # Safety
/// As `h3q_endpoint_connect()`; `ticket` is NULL or readable for `ticket_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_endpoint_connect_resume(
    endpoint: *mut h3q_endpoint,
    now_ns: u64,
    remote: *const sockaddr,
    remote_len: socklen_t,
    server_name: *const c_char,
    ticket: *const u8,
    ticket_len: usize,
    out: *mut *mut h3q_quic_conn,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    let abi = unsafe { handle::abi(endpoint) };
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(endpoint, |ep| {
            non_null(out, "out")?;
            non_null(ticket, "ticket")?;
            let remote = sockaddr_from_c(remote, remote_len, "remote")?;
            let server_name = str_arg(server_name, "server_name")?;
            let ticket = bytes_arg(ticket, ticket_len, "ticket")?;
            let handle = ep.connect_resume(now_ns, remote, server_name, ticket)?;
            let conn = ep.connection(handle)?;
            // SAFETY: checked non-NULL; writable (caller's contract).
            *out = QuicConnState::into_handle(conn, abi);
            Ok(())
        })
    }
}

/// Copies the session ticket the server sent on this client connection into `buf`
/// (`cap` bytes) and writes its length to `*len`; keep it to resume later with
/// `h3q_endpoint_connect_resume()`. Servers send tickets just after the handshake, so ask
/// once a response arrived, or before closing. At most `H3Q_MAX_SESSION_TICKET` bytes.
///
/// Returns `H3Q_OK`; `H3Q_DONE` when there is none (not received yet, a server
/// connection, or already used); `H3Q_ERR_BUFFER_TOO_SMALL` with the needed size in
/// `*len` (`buf` may be NULL with `cap` 0 to ask for it); or `H3Q_ERR_NULL`.
///
/// # Safety
/// `conn` is NULL or a live handle; `buf` is NULL or writable for `cap` bytes; `len` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_quic_conn_session_ticket(
    conn: *mut h3q_quic_conn,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call_status(conn, |state| {
            non_null(len, "len")?;
            let Some(ticket) = state.conn.session_ticket() else {
                return Ok(h3q_result_code::H3Q_DONE);
            };
            // SAFETY: forwarded from the caller's contract.
            copy_out(&ticket, buf, cap, len, "the session ticket")
        })
    }
}

/// What became of a client's 0-RTT data (`h3q_quic_conn_early_data()`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum h3q_early_data {
    /// None was offered: a fresh handshake, a session that was not resumable or allows
    /// no early data, 0-RTT turned off, or a server connection.
    H3Q_EARLY_DATA_NOT_OFFERED = 0,
    /// Offered, handshake still running: what is sent now goes as 0-RTT.
    H3Q_EARLY_DATA_PENDING = 1,
    /// The server accepted it.
    H3Q_EARLY_DATA_ACCEPTED = 2,
    /// The server rejected it (`H3Q_QUIC_EARLY_DATA_REJECTED` was reported).
    H3Q_EARLY_DATA_REJECTED = 3,
}

impl From<EarlyData> for h3q_early_data {
    fn from(early: EarlyData) -> Self {
        match early {
            EarlyData::NotOffered => h3q_early_data::H3Q_EARLY_DATA_NOT_OFFERED,
            EarlyData::Pending => h3q_early_data::H3Q_EARLY_DATA_PENDING,
            EarlyData::Accepted => h3q_early_data::H3Q_EARLY_DATA_ACCEPTED,
            EarlyData::Rejected => h3q_early_data::H3Q_EARLY_DATA_REJECTED,
        }
    }
}

/// What became of this client connection's 0-RTT data. `H3Q_EARLY_DATA_NOT_OFFERED` for
/// NULL.
///
/// # Safety
/// `conn` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_quic_conn_early_data(conn: *const h3q_quic_conn) -> h3q_early_data {
    let mut answer = h3q_early_data::H3Q_EARLY_DATA_NOT_OFFERED;
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        query(conn, false, |state| {
            answer = state.conn.early_data().into();
            true
        })
    };
    answer
}

/// True while what this client connection sends goes as 0-RTT (it resumed a session with
/// early data and the handshake has not completed). False for NULL.
///
/// # Safety
/// `conn` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_quic_conn_is_0rtt(conn: *const h3q_quic_conn) -> bool {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        query(conn, false, |state| {
            state.conn.early_data() == EarlyData::Pending
        })
    }
}

/// A server: true when the client opened request stream `stream_id` before the handshake
/// completed, so its request arrived (at least in part) as 0-RTT data, which can be a
/// replay (see `h3q_config_set_enable_0rtt()`). False for NULL, a client connection, and
/// any other stream.
///
/// # Safety
/// `conn` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_quic_conn_stream_is_early(
    conn: *const h3q_quic_conn,
    stream_id: u64,
) -> bool {
    // SAFETY: forwarded from the caller's contract.
    unsafe { query(conn, false, |state| state.conn.is_early_stream(stream_id)) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_header_states_the_longest_ticket() {
        let header = include_str!("../../include/h3q.h");
        let line = format!(
            "#define H3Q_MAX_SESSION_TICKET {}",
            crate::quic::MAX_TICKET_LEN
        );
        assert!(header.contains(&line), "include/h3q.h lacks {line:?}");
    }
}
