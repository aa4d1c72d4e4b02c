//! `h3q_endpoint`: the built-in QUIC layer's endpoint, one per UDP socket.

use std::ffi::c_char;

use libc::{sockaddr, sockaddr_storage, socklen_t};

use crate::quic::{Endpoint, Transmit};

use super::config::h3q_config;
use super::handle::{self, FfiError, Opaque, call, call_static, call_status, non_null};
use super::quic_conn::{QuicConnState, h3q_quic_conn};
use super::result::{h3q_result, h3q_result_code};
use super::slice::{bytes_arg, str_arg};
use super::sockaddr::{sockaddr_from_c, sockaddr_to_c};

/// A QUIC endpoint for one UDP socket (server or client): datagrams in, datagrams out, one
/// timer, new connections. h3q does no I/O: you read the socket and call
/// `h3q_endpoint_receive()`, send what `h3q_endpoint_poll_transmit()` gives, and arm a
/// timer for `h3q_endpoint_next_timeout()`. Create with `h3q_endpoint_new()`, free with
/// `h3q_endpoint_free()`. Not thread-safe; may move between threads.
///
/// Time: every `now_ns` is your monotonic clock in nanoseconds (e.g. CLOCK_MONOTONIC), never
/// going backwards; h3q reads no clock of its own after `h3q_endpoint_new()`.
pub struct h3q_endpoint {
    _private: [u8; 0],
}

impl Opaque for h3q_endpoint {
    type Inner = Endpoint;
    const NAME: &'static str = "h3q_endpoint";
}

/// Creates an endpoint from `config` (read during the call; the config may be freed
/// afterwards). A server config without a certificate gets a generated self-signed one.
/// The endpoint, and every connection taken from it, follows the ABI version the config
/// was created with.
///
/// Endpoints created from one config act as one server: they share its TLS session
/// cache, the key of its Retry and NEW_TOKEN tokens, its stateless reset key and its
/// generated certificate. Run one endpoint per thread (each on its own SO_REUSEPORT
/// socket of one address) from one config, and a client resumes, sends 0-RTT and skips
/// address validation on whichever of them its next connection reaches. Servers that
/// must not share (separate sites) use one config each.
///
/// On success writes a new handle to `*out`, owned by the caller. Returns `H3Q_OK`;
/// `H3Q_ERR_NULL`; `H3Q_ERR_POISONED` for a poisoned config; or `H3Q_ERR_TLS` if the TLS
/// configuration cannot be built (`h3q_last_error()` says why).
///
/// # Safety
/// `config` is NULL or a live handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_endpoint_new(
    config: *mut h3q_config,
    out: *mut *mut h3q_endpoint,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    let abi = unsafe { handle::abi(config) };
    if out.is_null() {
        return call_static(abi, || Err(FfiError::null("out")));
    }
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |config| {
            let endpoint = Endpoint::new(config)?;
            // SAFETY: checked non-NULL; writable (caller's contract).
            *out = handle::into_raw(endpoint, abi);
            Ok(())
        })
    }
}

/// Frees an endpoint. NULL is a no-op. Connection handles taken from it stay valid (and
/// report `H3Q_ERR_CONNECTION_CLOSED` for operations that need the network) until freed.
///
/// # Safety
/// `endpoint` is NULL or a handle not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_endpoint_free(endpoint: *mut h3q_endpoint) {
    // SAFETY: forwarded from the caller's contract.
    unsafe { handle::free(endpoint) }
}

/// The message of the endpoint's last failed call, or NULL. Owned by the endpoint; valid
/// until its next failing call or its free.
///
/// # Safety
/// `endpoint` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_endpoint_last_error(endpoint: *const h3q_endpoint) -> *const c_char {
    // SAFETY: forwarded from the caller's contract.
    unsafe { handle::last_error(endpoint) }
}

/// Starts a client connection to `remote` (an IPv4 or IPv6 `struct sockaddr` of
/// `remote_len` bytes), verifying the certificate for `server_name` (NUL-terminated SNI
/// host name). The first datagrams come out of `h3q_endpoint_poll_transmit()`.
///
/// On success writes a new connection handle to `*out`, owned by the caller (free it with
/// `h3q_quic_conn_free()`). Returns `H3Q_OK`; `H3Q_ERR_NULL`; `H3Q_ERR_WRONG_ROLE` on a
/// server endpoint; or `H3Q_ERR_INVALID_ARGUMENT` for a bad address or server name.
///
/// # Safety
/// `endpoint` is NULL or a live handle; `remote` is NULL or readable for `remote_len`
/// bytes; `server_name` is NULL or NUL-terminated; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_endpoint_connect(
    endpoint: *mut h3q_endpoint,
    now_ns: u64,
    remote: *const sockaddr,
    remote_len: socklen_t,
    server_name: *const c_char,
    out: *mut *mut h3q_quic_conn,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    let abi = unsafe { handle::abi(endpoint) };
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(endpoint, |ep| {
            non_null(out, "out")?;
            let remote = sockaddr_from_c(remote, remote_len, "remote")?;
            let server_name = str_arg(server_name, "server_name")?;
            let handle = ep.connect(now_ns, remote, server_name)?;
            let conn = ep.connection(handle)?;
            // SAFETY: checked non-NULL; writable (caller's contract).
            *out = QuicConnState::into_handle(conn, abi);
            Ok(())
        })
    }
}

/// Processes one UDP datagram received from `from` (payload read during the call). New
/// server connections then come out of `h3q_endpoint_accept()`, and every connection's
/// events out of `h3q_quic_conn_next_event()`.
///
/// Returns `H3Q_OK` (also for datagrams QUIC discards); `H3Q_ERR_NULL`; or
/// `H3Q_ERR_INVALID_ARGUMENT` for a bad address.
///
/// # Safety
/// `endpoint` is NULL or a live handle; `from` readable for `from_len` bytes; `data`
/// valid for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_endpoint_receive(
    endpoint: *mut h3q_endpoint,
    now_ns: u64,
    from: *const sockaddr,
    from_len: socklen_t,
    data: *const u8,
    len: usize,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe { h3q_endpoint_receive_segments(endpoint, now_ns, from, from_len, data, len, 0) }
}

/// Processes a buffer of UDP datagrams received from `from`, each `segment_size` bytes
/// long but the last: what the kernel hands over with UDP generic receive offload (Linux
/// `UDP_GRO`: the segment size comes in the `UDP_GRO` control message). The same as calling
/// `h3q_endpoint_receive()` for each datagram in turn, in one call. A `segment_size` of 0
/// (or at least `len`) means one datagram. `data` is read during the call only.
///
/// Returns `H3Q_OK` (also for datagrams QUIC discards); `H3Q_ERR_NULL`; or
/// `H3Q_ERR_INVALID_ARGUMENT` for a bad address.
///
/// # Safety
/// `endpoint` is NULL or a live handle; `from` readable for `from_len` bytes; `data`
/// valid for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_endpoint_receive_segments(
    endpoint: *mut h3q_endpoint,
    now_ns: u64,
    from: *const sockaddr,
    from_len: socklen_t,
    data: *const u8,
    len: usize,
    segment_size: usize,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        h3q_endpoint_receive_ecn(endpoint, now_ns, from, from_len, data, len, segment_size, 0)
    }
}

/// `h3q_endpoint_receive_segments()` for datagrams that arrived with the ECN codepoint
/// `ecn`: the two low bits of their IP TOS / IPv6 traffic class byte (0 Not-ECT, 1 ECT(1),
/// 2 ECT(0), 3 CE), read with `IP_RECVTOS` / `IPV6_RECVTCLASS` from the `IP_TOS` /
/// `IPV6_TCLASS` control message. Passing it lets QUIC validate ECN on the path and slow
/// down on congestion marks before packets are lost (RFC 9000 section 13.4, RFC 9002
/// section 7.1); send with the codepoint `h3q_endpoint_poll_transmit_ecn()` gives.
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; or `H3Q_ERR_INVALID_ARGUMENT` for a bad address or an
/// `ecn` above 3 (pass `tos & 3`).
///
/// # Safety
/// As `h3q_endpoint_receive_segments()`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_endpoint_receive_ecn(
    endpoint: *mut h3q_endpoint,
    now_ns: u64,
    from: *const sockaddr,
    from_len: socklen_t,
    data: *const u8,
    len: usize,
    segment_size: usize,
    ecn: u8,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(endpoint, |ep| {
            if ecn > 3 {
                return Err(FfiError::invalid(format!(
                    "ecn {ecn}: an ECN codepoint is 0 to 3 (the low two bits of the TOS byte)"
                )));
            }
            let from = sockaddr_from_c(from, from_len, "from")?;
            let data = bytes_arg(data, len, "data")?;
            ep.receive_with_ecn(now_ns, from, data, segment_size, ecn);
            Ok(())
        })
    }
}

/// Takes the next new server connection (aioquic: a new `QuicConnection`).
///
/// Returns `H3Q_OK` and writes a new connection handle to `*out`, owned by the caller;
/// `H3Q_DONE` when none is waiting; or `H3Q_ERR_NULL`.
///
/// # Safety
/// `endpoint` is NULL or a live handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_endpoint_accept(
    endpoint: *mut h3q_endpoint,
    out: *mut *mut h3q_quic_conn,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    let abi = unsafe { handle::abi(endpoint) };
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call_status(endpoint, |ep| {
            non_null(out, "out")?;
            // A connection may drain between being queued and accepted: skip those.
            loop {
                let Some(handle) = ep.accept() else {
                    return Ok(h3q_result_code::H3Q_DONE);
                };
                if let Ok(conn) = ep.connection(handle) {
                    // SAFETY: checked non-NULL; writable (caller's contract).
                    *out = QuicConnState::into_handle(conn, abi);
                    return Ok(h3q_result_code::H3Q_OK);
                }
            }
        })
    }
}

/// Gives the next connection that has events waiting: one of this endpoint's connections
/// whose `h3q_quic_conn` handle the application holds (from `h3q_endpoint_connect()` or
/// `h3q_endpoint_accept()`) and that got events from datagrams, timers or calls since it
/// was last given here. Call it after receiving and handling timeouts, until `H3Q_DONE`,
/// and take each connection's events with `h3q_quic_conn_next_event()` until `H3Q_DONE`:
/// a connection comes back here only once it has new events. Use
/// `h3q_quic_conn_user_data()` to find your state for it. Connections without a handle
/// (freed, or not accepted yet: `h3q_endpoint_accept()` first) are not given.
///
/// Returns `H3Q_OK` and writes the connection's existing handle to `*conn_out` (still
/// owned by the application, as before: do not free it twice); `H3Q_DONE` when no
/// connection waits; or `H3Q_ERR_NULL`.
///
/// # Safety
/// `endpoint` is NULL or a live handle; `conn_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_endpoint_next_ready(
    endpoint: *mut h3q_endpoint,
    conn_out: *mut *mut h3q_quic_conn,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call_status(endpoint, |ep| {
            non_null(conn_out, "conn_out")?;
            while let Some(conn) = ep.next_ready() {
                let handle = conn.owner_tag();
                if handle != 0 {
                    // SAFETY: checked non-NULL; writable (caller's contract). The tag is
                    // the address of the live handle (cleared when the handle is freed).
                    *conn_out = handle as *mut h3q_quic_conn;
                    return Ok(h3q_result_code::H3Q_OK);
                }
            }
            Ok(h3q_result_code::H3Q_DONE)
        })
    }
}

/// Writes the next UDP payload to send into `buf` (`cap` bytes, at least 1472 or the
/// ceiling `h3q_config_set_max_udp_payload_size()` set, when larger; more lets h3q
/// coalesce datagrams for GSO when the config allows), its length to `*len_out`, the
/// destination to `*dest_out` / `*dest_len_out`, and the datagram size to
/// `*segment_size_out` (equal to the length for one datagram; for a GSO batch, every
/// datagram but the last is exactly this long: send with UDP_SEGMENT). Call until it
/// returns `H3Q_DONE`, after every receive, timeout and send call.
///
/// Returns `H3Q_OK`; `H3Q_DONE` when nothing is waiting; `H3Q_ERR_NULL`; or
/// `H3Q_ERR_BUFFER_TOO_SMALL` when `cap` is below that minimum.
///
/// # Safety
/// `endpoint` is NULL or a live handle; `buf` writable for `cap` bytes; the out pointers
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_endpoint_poll_transmit(
    endpoint: *mut h3q_endpoint,
    now_ns: u64,
    buf: *mut u8,
    cap: usize,
    len_out: *mut usize,
    dest_out: *mut sockaddr_storage,
    dest_len_out: *mut socklen_t,
    segment_size_out: *mut usize,
) -> h3q_result {
    let mut ecn = 0;
    // SAFETY: forwarded from the caller's contract; `ecn` is a local.
    unsafe {
        h3q_endpoint_poll_transmit_ecn(
            endpoint,
            now_ns,
            buf,
            cap,
            len_out,
            dest_out,
            dest_len_out,
            segment_size_out,
            &mut ecn,
        )
    }
}

/// `h3q_endpoint_poll_transmit()`, also writing to `*ecn_out` the ECN codepoint to send
/// the datagrams with: the two low bits of the IP TOS / IPv6 traffic class byte (set it
/// with an `IP_TOS` / `IPV6_TCLASS` control message or socket option). It is 2 (ECT(0))
/// while the path's ECN validation holds and 0 otherwise; a program that sends without it
/// (or a path that clears the bits) makes validation fail, and QUIC then simply stops
/// marking. Give the received codepoints to `h3q_endpoint_receive_ecn()`.
///
/// Returns as `h3q_endpoint_poll_transmit()` (`H3Q_ERR_NULL` for a NULL `ecn_out` too).
///
/// # Safety
/// As `h3q_endpoint_poll_transmit()`; `ecn_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_endpoint_poll_transmit_ecn(
    endpoint: *mut h3q_endpoint,
    now_ns: u64,
    buf: *mut u8,
    cap: usize,
    len_out: *mut usize,
    dest_out: *mut sockaddr_storage,
    dest_len_out: *mut socklen_t,
    segment_size_out: *mut usize,
    ecn_out: *mut u8,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call_status(endpoint, |ep| {
            non_null(buf, "buf")?;
            non_null(len_out, "len_out")?;
            non_null(dest_out, "dest_out")?;
            non_null(dest_len_out, "dest_len_out")?;
            non_null(segment_size_out, "segment_size_out")?;
            non_null(ecn_out, "ecn_out")?;
            let minimum = ep.transmit_buffer_minimum();
            if cap < minimum || cap > isize::MAX as usize {
                return Err(FfiError::new(
                    h3q_result_code::H3Q_ERR_BUFFER_TOO_SMALL,
                    format!("transmit buffer of {cap} bytes; at least {minimum} needed"),
                ));
            }
            // SAFETY: writable for `cap` bytes (caller's contract), size checked.
            let buf = std::slice::from_raw_parts_mut(buf, cap);
            let Some(transmit) = ep.poll_transmit(now_ns, buf)? else {
                return Ok(h3q_result_code::H3Q_DONE);
            };
            // SAFETY: checked non-NULL; writable (caller's contract).
            write_transmit(
                &transmit,
                &mut *len_out,
                &mut *dest_out,
                &mut *dest_len_out,
                &mut *segment_size_out,
                &mut *ecn_out,
            );
            Ok(h3q_result_code::H3Q_OK)
        })
    }
}

/// The poll calls' outputs other than the payload: its length, where it goes, its
/// datagram size and ECN codepoint.
fn write_transmit(
    transmit: &Transmit,
    len_out: &mut usize,
    dest_out: &mut sockaddr_storage,
    dest_len_out: &mut socklen_t,
    segment_size_out: &mut usize,
    ecn_out: &mut u8,
) {
    *dest_len_out = sockaddr_to_c(transmit.destination, dest_out);
    *len_out = transmit.len;
    *segment_size_out = transmit.segment_size;
    *ecn_out = transmit.ecn;
}

/// `h3q_endpoint_poll_transmit_ecn()` without the copy: h3q lends the payload from its own
/// buffer, where it built and encrypted the packets, instead of copying it into one of
/// yours. Writes to `*data_out` a pointer to the `*len_out` bytes to send; they stay valid
/// and unchanged until the next call of any `h3q_endpoint_*` function on this endpoint
/// (send them before polling again) or its free. A GSO batch holds up to the config's
/// `h3q_config_set_max_gso_segments()` datagrams; the other outputs are as in
/// `h3q_endpoint_poll_transmit_ecn()`. Do not write to the bytes.
///
/// Returns `H3Q_OK`; `H3Q_DONE` when nothing is waiting (nothing written); or
/// `H3Q_ERR_NULL`.
///
/// # Safety
/// `endpoint` is NULL or a live handle; the out pointers NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_endpoint_poll_transmit_lent(
    endpoint: *mut h3q_endpoint,
    now_ns: u64,
    data_out: *mut *const u8,
    len_out: *mut usize,
    dest_out: *mut sockaddr_storage,
    dest_len_out: *mut socklen_t,
    segment_size_out: *mut usize,
    ecn_out: *mut u8,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call_status(endpoint, |ep| {
            non_null(data_out, "data_out")?;
            non_null(len_out, "len_out")?;
            non_null(dest_out, "dest_out")?;
            non_null(dest_len_out, "dest_len_out")?;
            non_null(segment_size_out, "segment_size_out")?;
            non_null(ecn_out, "ecn_out")?;
            let Some((transmit, data)) = ep.poll_transmit_lent(now_ns) else {
                return Ok(h3q_result_code::H3Q_DONE);
            };
            // SAFETY: checked non-NULL; writable (caller's contract). `data` lives in the
            // endpoint's buffer, which only the endpoint's own calls change.
            *data_out = data.as_ptr();
            write_transmit(
                &transmit,
                &mut *len_out,
                &mut *dest_out,
                &mut *dest_len_out,
                &mut *segment_size_out,
                &mut *ecn_out,
            );
            Ok(h3q_result_code::H3Q_OK)
        })
    }
}

/// Tells the endpoint its UDP socket changed: call it after the program replaced the
/// socket (a new local address or port: a network change, or leaving a NAT binding), and
/// send what `h3q_endpoint_poll_transmit()` gives from the new socket. Every connection
/// moves to a connection ID the peer has not seen, so the two paths cannot be linked by
/// an observer, and sends a PING from the new address at once; the peer validates the new
/// path and follows (RFC 9000 section 9). Requests in flight continue.
///
/// Returns `H3Q_OK` or `H3Q_ERR_NULL`.
///
/// # Safety
/// `endpoint` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_endpoint_rebind(
    endpoint: *mut h3q_endpoint,
    now_ns: u64,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(endpoint, |ep| {
            ep.rebind(now_ns);
            Ok(())
        })
    }
}

/// When `h3q_endpoint_handle_timeout()` should next be called, on the `now_ns` clock;
/// `UINT64_MAX` when no timer is needed (or `endpoint` is NULL or busy). Call it again after
/// every other endpoint call.
///
/// # Safety
/// `endpoint` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_endpoint_next_timeout(endpoint: *const h3q_endpoint) -> u64 {
    let mut at = u64::MAX;
    // SAFETY: forwarded from the caller's contract; nothing is written through the handle.
    unsafe {
        call(endpoint.cast_mut(), |ep| {
            at = ep.next_timeout().unwrap_or(u64::MAX);
            Ok(())
        })
    };
    at
}

/// Runs the timers due at `now_ns` (loss detection, idle timeouts, draining). Call when the
/// time from `h3q_endpoint_next_timeout()` has come, then poll transmits and events.
///
/// Returns `H3Q_OK` or `H3Q_ERR_NULL`.
///
/// # Safety
/// `endpoint` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_endpoint_handle_timeout(
    endpoint: *mut h3q_endpoint,
    now_ns: u64,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(endpoint, |ep| {
            ep.handle_timeout(now_ns);
            Ok(())
        })
    }
}

/// Writes the SHA-256 fingerprint (32 bytes) of the endpoint's certificate, a generated one
/// included, to `out`.
///
/// Returns `H3Q_OK`; `H3Q_DONE` if the endpoint has no certificate (a client); or
/// `H3Q_ERR_NULL`.
///
/// # Safety
/// `endpoint` is NULL or a live handle; `out` is NULL or writable for 32 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_endpoint_certificate_fingerprint(
    endpoint: *mut h3q_endpoint,
    out: *mut u8,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call_status(endpoint, |ep| {
            non_null(out, "out")?;
            let Some(fingerprint) = ep.certificate_fingerprint() else {
                return Ok(h3q_result_code::H3Q_DONE);
            };
            // SAFETY: writable for 32 bytes (caller's contract).
            std::ptr::copy_nonoverlapping(fingerprint.as_ptr(), out, 32);
            Ok(h3q_result_code::H3Q_OK)
        })
    }
}
