//! `h3q_config`: TLS identity and trust, ALPN, timeouts and limits of a QUIC endpoint.

use std::ffi::{c_char, c_int};
use std::time::Duration;

use crate::quic::{Config, ConfigError};

use super::handle::{self, FfiError, Opaque, call, call_status, call_versioned, non_null};
use super::result::{h3q_result, h3q_result_code};
use super::slice::{bytes_arg, slice_arg, str_arg};

/// The configuration of a QUIC endpoint (`h3q_endpoint_new()` copies what it needs, so the
/// config may be freed or reused afterwards). Create with `h3q_config_new()`, free with
/// `h3q_config_free()`. Not thread-safe; may move between threads.
pub struct h3q_config {
    _private: [u8; 0],
}

impl Opaque for h3q_config {
    type Inner = Config;
    const NAME: &'static str = "h3q_config";
}

impl From<ConfigError> for FfiError {
    fn from(error: ConfigError) -> Self {
        FfiError::new(h3q_result_code::H3Q_ERR_TLS, error.to_string())
    }
}

/// Creates a configuration for a server (`is_server`) or a client endpoint, with the
/// defaults: ALPN "h3", idle timeout 60 s, 128 concurrent streams each way, no DATAGRAM
/// frames; a server without a certificate gets a generated self-signed one for
/// "localhost"; a client verifies the server against the CA roots it is given.
///
/// `abi_version` is `H3Q_ABI_VERSION` (the `h3q_config_new()` macro passes it): the
/// version of h3q.h the program was built with, which the handle's results follow.
///
/// On success writes a new handle to `*out`, owned by the caller. Returns `H3Q_OK`,
/// `H3Q_ERR_NULL` or `H3Q_ERR_UNSUPPORTED_VERSION`.
#[unsafe(no_mangle)]
pub extern "C" fn h3q_config_new_versioned(
    abi_version: c_int,
    is_server: bool,
    out: *mut *mut h3q_config,
) -> h3q_result {
    call_versioned(abi_version, |abi| {
        non_null(out, "out")?;
        let config = if is_server {
            Config::server()
        } else {
            Config::client()
        };
        // SAFETY: non-NULL and writable (caller's contract).
        unsafe { *out = handle::into_raw(config, abi) };
        Ok(())
    })
}

/// Frees a configuration. NULL is a no-op.
///
/// # Safety
/// `config` is NULL or a handle not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_free(config: *mut h3q_config) {
    // SAFETY: forwarded from the caller's contract.
    unsafe { handle::free(config) }
}

/// The message of the configuration's last failed call (e.g. why a PEM file was refused),
/// or NULL. Owned by the config; valid until its next failing call or its free.
///
/// # Safety
/// `config` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_last_error(config: *const h3q_config) -> *const c_char {
    // SAFETY: forwarded from the caller's contract.
    unsafe { handle::last_error(config) }
}

/// Uses a certificate chain (PEM, end-entity first) and its private key (PEM: PKCS#8,
/// PKCS#1 or SEC1), given as bytes read during the call only.
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; or `H3Q_ERR_TLS` if either cannot be parsed or they
/// do not fit together.
///
/// # Safety
/// `config` is NULL or a live handle; the buffers are valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_set_certificate_chain_pem(
    config: *mut h3q_config,
    chain_pem: *const u8,
    chain_len: usize,
    key_pem: *const u8,
    key_len: usize,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            let chain = bytes_arg(chain_pem, chain_len, "chain_pem")?;
            let key = bytes_arg(key_pem, key_len, "key_pem")?;
            Ok(c.set_certificate_chain_pem(chain, key)?)
        })
    }
}

/// Uses a certificate chain and private key read from PEM files (paths are NUL-terminated
/// UTF-8, read during the call).
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; `H3Q_ERR_INVALID_ARGUMENT` for a path that is not
/// UTF-8; or `H3Q_ERR_TLS` if a file cannot be read or parsed (the message says which).
///
/// # Safety
/// `config` is NULL or a live handle; the paths are NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_load_certificate_chain(
    config: *mut h3q_config,
    chain_path: *const c_char,
    key_path: *const c_char,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            let chain = str_arg(chain_path, "chain_path")?;
            let key = str_arg(key_path, "key_path")?;
            Ok(c.load_certificate_chain(chain, key)?)
        })
    }
}

/// Generates a self-signed certificate for `host` (NUL-terminated, e.g. "localhost") and
/// uses it. If `fingerprint_out` is not NULL, writes the certificate's SHA-256 fingerprint
/// (32 bytes) there, for a client to pin or a person to compare.
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; `H3Q_ERR_INVALID_ARGUMENT`; or `H3Q_ERR_TLS`.
///
/// # Safety
/// `config` is NULL or a live handle; `host` is NULL or NUL-terminated; `fingerprint_out`
/// is NULL or writable for 32 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_generate_self_signed(
    config: *mut h3q_config,
    host: *const c_char,
    fingerprint_out: *mut u8,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            let host = str_arg(host, "host")?;
            let fingerprint = c.generate_self_signed(host)?;
            if !fingerprint_out.is_null() {
                // SAFETY: writable for 32 bytes (caller's contract).
                std::ptr::copy_nonoverlapping(fingerprint.as_ptr(), fingerprint_out, 32);
            }
            Ok(())
        })
    }
}

/// Writes the configured certificate chain as PEM (end-entity first) into `buf` (`cap`
/// bytes) and its length to `*len_out`. A client may trust a server's generated
/// certificate by passing this PEM to `h3q_config_add_ca_pem()`.
///
/// Returns `H3Q_OK`; `H3Q_DONE` when no certificate is configured; `H3Q_ERR_NULL`; or
/// `H3Q_ERR_BUFFER_TOO_SMALL` (then `*len_out` is the size needed, nothing else written).
///
/// # Safety
/// `config` is NULL or a live handle; `buf` is writable for `cap` bytes; `len_out` is NULL
/// or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_certificate_chain_pem(
    config: *mut h3q_config,
    buf: *mut u8,
    cap: usize,
    len_out: *mut usize,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call_status(config, |c| {
            non_null(len_out, "len_out")?;
            let Some(pem) = c.certificate_chain_pem() else {
                return Ok(h3q_result_code::H3Q_DONE);
            };
            *len_out = pem.len();
            if pem.len() > cap {
                return Err(FfiError::new(
                    h3q_result_code::H3Q_ERR_BUFFER_TOO_SMALL,
                    format!("the PEM needs {} bytes, the buffer has {cap}", pem.len()),
                ));
            }
            non_null(buf, "buf")?;
            // SAFETY: writable for `cap` >= pem.len() bytes (caller's contract).
            std::ptr::copy_nonoverlapping(pem.as_ptr(), buf, pem.len());
            Ok(h3q_result_code::H3Q_OK)
        })
    }
}

/// Adds trusted CA certificates (PEM bytes, read during the call) for verifying the server
/// (clients).
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; or `H3Q_ERR_TLS` if the PEM holds no usable
/// certificate.
///
/// # Safety
/// `config` is NULL or a live handle; `pem` is valid for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_add_ca_pem(
    config: *mut h3q_config,
    pem: *const u8,
    len: usize,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            let pem = bytes_arg(pem, len, "pem")?;
            c.add_ca_pem(pem)?;
            Ok(())
        })
    }
}

/// Adds trusted CA certificates from a PEM file (clients).
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; `H3Q_ERR_INVALID_ARGUMENT`; or `H3Q_ERR_TLS` if the file
/// cannot be read or holds no usable certificate.
///
/// # Safety
/// `config` is NULL or a live handle; `path` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_load_ca_file(
    config: *mut h3q_config,
    path: *const c_char,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            c.load_ca_file(str_arg(path, "path")?)?;
            Ok(())
        })
    }
}

/// Turns verification of the server's certificate on (the default) or off (clients). Off
/// accepts any certificate: for tests and local development only.
///
/// Returns `H3Q_OK` or `H3Q_ERR_NULL`.
///
/// # Safety
/// `config` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_set_verify_peer(
    config: *mut h3q_config,
    verify: bool,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            c.set_verify_peer(verify);
            Ok(())
        })
    }
}

/// Sets the ALPN protocols offered (client) or accepted (server), in preference order:
/// `count` NUL-terminated strings (default: just "h3"). Read during the call only.
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; or `H3Q_ERR_INVALID_ARGUMENT` for an empty list, an
/// empty protocol or one longer than 255 bytes.
///
/// # Safety
/// `config` is NULL or a live handle; `protocols` points at `count` NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_set_alpn(
    config: *mut h3q_config,
    protocols: *const *const c_char,
    count: usize,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            let list = slice_arg(protocols, count, "protocols")?;
            if list.is_empty() {
                return Err(FfiError::invalid("the ALPN list is empty"));
            }
            let mut names: Vec<&[u8]> = Vec::with_capacity(list.len());
            for (i, p) in list.iter().enumerate() {
                let name = str_arg(*p, &format!("protocols[{i}]"))?.as_bytes();
                if name.is_empty() || name.len() > 255 {
                    return Err(FfiError::invalid(format!(
                        "protocols[{i}] must be 1 to 255 bytes long"
                    )));
                }
                names.push(name);
            }
            c.set_alpn_protocols(&names);
            Ok(())
        })
    }
}

/// Sets the idle timeout in milliseconds; 0 disables it. Default 60000.
///
/// Returns `H3Q_OK` or `H3Q_ERR_NULL`.
///
/// # Safety
/// `config` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_set_idle_timeout_ms(
    config: *mut h3q_config,
    timeout_ms: u64,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            c.set_idle_timeout(Duration::from_millis(timeout_ms));
            Ok(())
        })
    }
}

/// The smallest flow-control window the setters below accept: less would stall transfers
/// for no gain.
const MIN_WINDOW: u64 = 16 * 1024;

/// Sets the flow-control credit per stream given to the peer: how much of one stream it
/// may send ahead of what the application has taken. Default 1.25 MB. One stream can move
/// at most this much per round trip, so a client that wants a single large download (or
/// an urgent response, see `h3q_conn_set_priority()`) to fill a fast path needs about
/// the path's bandwidth times its round trip (browsers use about 6 MB).
///
/// Returns `H3Q_OK`, `H3Q_ERR_NULL`, or `H3Q_ERR_INVALID_ARGUMENT` below 16 KiB or above
/// 2^62-1.
///
/// # Safety
/// `config` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_set_stream_receive_window(
    config: *mut h3q_config,
    bytes: u64,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            checked_window("stream receive window", bytes)?;
            c.set_stream_receive_window(bytes);
            Ok(())
        })
    }
}

/// Sets the most data sent and not yet acknowledged, over all streams of a connection.
/// Default 10 MB. The built-in QUIC layer lets quinn-proto hold less while the congestion
/// window is small (twice the congestion window), so that waiting data stays where
/// priorities order it; this is the ceiling.
///
/// Returns `H3Q_OK`, `H3Q_ERR_NULL`, or `H3Q_ERR_INVALID_ARGUMENT` below 16 KiB or above
/// 2^62-1.
///
/// # Safety
/// `config` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_set_send_window(
    config: *mut h3q_config,
    bytes: u64,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            checked_window("send window", bytes)?;
            c.set_send_window(bytes);
            Ok(())
        })
    }
}

fn checked_window(what: &str, bytes: u64) -> Result<(), FfiError> {
    if (MIN_WINDOW..=crate::varint::MAX).contains(&bytes) {
        Ok(())
    } else {
        Err(FfiError::invalid(format!(
            "{what} {bytes}: must be from {MIN_WINDOW} to 2^62-1 bytes"
        )))
    }
}

/// Sets how many bidirectional and unidirectional streams the peer may have open at once.
/// Default 128 each. HTTP/3 needs at least 3 unidirectional streams.
///
/// Returns `H3Q_OK`, `H3Q_ERR_NULL`, or `H3Q_ERR_INVALID_ARGUMENT` for `uni` < 3 or a value
/// above 2^60.
///
/// # Safety
/// `config` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_set_max_streams(
    config: *mut h3q_config,
    bidi: u64,
    uni: u64,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            if uni < 3 || bidi > 1 << 60 || uni > 1 << 60 {
                return Err(FfiError::invalid(format!(
                    "stream limits bidi={bidi} uni={uni}: uni must be 3 or more, both at most 2^60"
                )));
            }
            c.set_max_streams_bidi(bidi);
            c.set_max_streams_uni(uni);
            Ok(())
        })
    }
}

/// Sets the max_datagram_frame_size transport parameter: non-zero enables QUIC DATAGRAM
/// frames (needed for HTTP datagrams and WebTransport). Default 0 (disabled).
///
/// Returns `H3Q_OK` or `H3Q_ERR_NULL`.
///
/// # Safety
/// `config` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_set_max_datagram_frame_size(
    config: *mut h3q_config,
    size: u64,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            c.set_max_datagram_frame_size(size);
            Ok(())
        })
    }
}

/// Appends the TLS secrets of every connection to the file at `path` (NUL-terminated) in
/// the SSLKEYLOGFILE format, so Wireshark can decrypt captures. The file is opened now.
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL`; `H3Q_ERR_INVALID_ARGUMENT`; or `H3Q_ERR_TLS` if the file
/// cannot be opened for appending.
///
/// # Safety
/// `config` is NULL or a live handle; `path` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_set_key_log_file(
    config: *mut h3q_config,
    path: *const c_char,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe { call(config, |c| Ok(c.set_key_log_file(str_arg(path, "path")?)?)) }
}

/// Writes a qlog of every connection of the endpoints made from this config into the
/// directory `dir` (NUL-terminated; NULL turns it off, the default): one JSON-SEQ file
/// per connection, `<client|server>-<n>-<ns>.sqlog`, which qvis opens. It holds the QUIC
/// events (packets sent, received and lost, congestion and round-trip metrics),
/// HTTP/3's stream types and frames, and QPACK's instructions (types and lengths; no
/// header values). Files are
/// written through a buffer and complete once the connection ended and its handle was
/// freed. A file that cannot be created later (disk full) just leaves that connection
/// without a qlog.
///
/// Returns `H3Q_OK`; `H3Q_ERR_NULL` for `config`; or `H3Q_ERR_IO` when `dir` is not a
/// directory this process can create files in (`h3q_config_last_error()` says why).
///
/// # Safety
/// `config` is NULL or a live handle; `dir` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_set_qlog_dir(
    config: *mut h3q_config,
    dir: *const c_char,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            let dir = if dir.is_null() {
                None
            } else {
                Some(std::path::Path::new(str_arg(dir, "dir")?))
            };
            c.set_qlog_dir(dir)
                .map_err(|e| FfiError::new(h3q_result_code::H3Q_ERR_IO, e.to_string()))
        })
    }
}

/// Sets how many equal-size datagrams `h3q_endpoint_poll_transmit()` may coalesce into one
/// buffer for UDP generic segmentation offload (send with UDP_SEGMENT = the reported
/// segment size). Default 1 (no coalescing); 0 is taken as 1.
///
/// Returns `H3Q_OK` or `H3Q_ERR_NULL`.
///
/// # Safety
/// `config` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn h3q_config_set_max_gso_segments(
    config: *mut h3q_config,
    segments: usize,
) -> h3q_result {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        call(config, |c| {
            c.set_max_gso_segments(segments);
            Ok(())
        })
    }
}
