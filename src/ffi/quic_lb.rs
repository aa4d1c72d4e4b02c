//! QUIC-LB server ids in the C API: the id a server's connection IDs carry, and reading
//! it back out of a packet (what a load balancer or a worker dispatcher does).

use crate::quic::{ServerId, decode_cid_server_id};

use super::abi::Abi;
use super::config::h3q_config;
use super::handle::{FfiError, call, call_static, non_null};
use super::result::h3q_result;
use super::slice::bytes_arg;

/// Makes the endpoints of this config issue connection IDs that carry a server id, in
/// QUIC-LB's plaintext layout (draft-ietf-quic-load-balancers): a first octet with
/// `config_rotation` (0 to 6) in its 3 high bits and the CID length minus one in its 5
/// low bits, then the `id_len` bytes of `id` (1 to 15; read during the call), then a
/// random nonce (8 bytes, fewer for ids over 11 bytes: at least 4). A load balancer, or a
/// multi-threaded server's dispatcher, reads the id with `h3q_cid_server_id()` and sends
/// every packet of a connection to its server, even after the client's address changed.
/// The id is visible on the wire: use ids that reveal nothing else. `id` NULL with
/// `id_len` 0 goes back to random connection IDs (the default).
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; or `H3Q_ERR_INVALID_ARGUMENT` for a `config_rotation`
/// above 6 (7 marks unroutable CIDs) or an id of 0 or more than 15 bytes.
///
/// # Safety
/// `config` is NULL or a live handle; `id` is NULL or readable for `id_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_set_server_id(
    config: *mut h3q_config,
    config_rotation: u8,
    id: *const u8,
    id_len: usize,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            if id.is_null() && id_len == 0 {
                c.set_server_id(None);
                return Ok(());
            }
            let id = bytes_arg(id, id_len, "id")?;
            let server = ServerId::new(config_rotation, id)
                .map_err(|e| FfiError::invalid(e.message().to_string()))?;
            c.set_server_id(Some(server));
            Ok(())
        })
    }
}

/// Reads the server id out of the destination connection ID of the QUIC packet at the
/// start of `packet` (`len` bytes: a UDP datagram's payload, read during the call),
/// `server_id_len` bytes long as the servers were configured, into `id_out`, and its config
/// rotation codepoint into `*config_rotation_out` (which may be NULL). Short-header
/// packets (all of a connection's after the handshake) carry a CID their server issued;
/// Initial and 0-RTT packets carry one the client chose, whose "id" is random: route a
/// packet whose id no server has by its address, as QUIC-LB does. Thread-safe; no handle.
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; or `H3Q_ERR_INVALID_ARGUMENT` (the reason in
/// `h3q_last_error()`) for a datagram too short for what its header announces, a CID too
/// short for the id, a long-header CID whose length disagrees with its first octet, the
/// unroutable config rotation 7, or a `server_id_len` of 0 or above 15.
///
/// # Safety
/// `packet` is NULL or readable for `len` bytes; `id_out` is NULL or writable for
/// `server_id_len` bytes; `config_rotation_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_cid_server_id(
    packet: *const u8,
    len: usize,
    server_id_len: usize,
    id_out: *mut u8,
    config_rotation_out: *mut u8,
) -> h3q_result {
    call_static(Abi::CURRENT, || {
        non_null(id_out, "id_out")?;
        // SAFETY: forwarded from the caller's contract.
        let packet = unsafe { bytes_arg(packet, len, "packet") }?;
        let routed = decode_cid_server_id(packet, server_id_len).map_err(FfiError::invalid)?;
        // SAFETY: writable for server_id_len bytes (caller's contract), which is the
        // length of `routed.server_id`.
        unsafe {
            std::ptr::copy_nonoverlapping(routed.server_id.as_ptr(), id_out, server_id_len);
            if !config_rotation_out.is_null() {
                *config_rotation_out = routed.config_rotation;
            }
        }
        Ok(())
    })
}
