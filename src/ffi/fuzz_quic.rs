//! Part of the `ffi_calls` fuzz target (`fuzz.rs`): the production calls of the built-in
//! QUIC layer with arbitrary arguments: session tickets to resume with, datagrams with any
//! ECN value, rebinds, transmits, the session-ticket and peer-certificate queries with any
//! buffer size and index, client-certificate policies with any mode and PEM bytes, and
//! ceilings on UDP payloads of any size. A client endpoint (certificate verification off,
//! the last ceiling accepted before it) is made the first time one is needed.

use std::ffi::c_int;
use std::ptr;

use libc::{sockaddr, sockaddr_storage, socklen_t};

use crate::fuzzing::Input;

use super::abi::Abi;
use super::client_auth::*;
use super::config::*;
use super::endpoint::*;
use super::path_mtu::*;
use super::quic_conn::*;
use super::result::{h3q_result, h3q_result_code};
use super::resumption::*;
use super::sockaddr::sockaddr_to_c;
use crate::quic::UDP_PAYLOAD_RANGE;

/// The handles of the QUIC calls, made on first use and freed on drop.
pub(super) struct QuicCalls {
    endpoint: *mut h3q_endpoint,
    conns: Vec<*mut h3q_quic_conn>,
    server_config: *mut h3q_config,
    now: u64,
    /// The last ceiling on UDP payloads accepted (0: the default), for the endpoint.
    ceiling: u64,
    /// The ceiling the endpoint was made with (the value of `ceiling` then).
    endpoint_ceiling: u64,
}

fn ok(result: h3q_result) -> bool {
    result == h3q_result_code::H3Q_OK as h3q_result
}

/// Any refusal or status is fine; a fatal error or a panic is not.
fn not_fatal(result: h3q_result) {
    assert!(
        result > -200,
        "a fatal result from a production call: {result}"
    );
}

impl QuicCalls {
    pub(super) fn new() -> Self {
        QuicCalls {
            endpoint: ptr::null_mut(),
            conns: Vec::new(),
            server_config: ptr::null_mut(),
            now: 1_000_000_000,
            ceiling: 0,
            endpoint_ceiling: 0,
        }
    }

    fn endpoint(&mut self) -> *mut h3q_endpoint {
        if self.endpoint.is_null() {
            let mut config = ptr::null_mut();
            let version = Abi::CURRENT as c_int;
            assert!(ok(h3q_config_new_versioned(version, false, &mut config)));
            // SAFETY: a live config; `self.endpoint` writable.
            unsafe {
                assert!(ok(h3q_config_set_verify_peer(config, false)));
                assert!(ok(h3q_config_set_mtu_discovery(config, true)));
                assert!(ok(h3q_config_set_max_udp_payload_size(
                    config,
                    self.ceiling
                )));
                assert!(ok(h3q_endpoint_new(config, &mut self.endpoint)));
                self.endpoint_ceiling = self.ceiling;
                h3q_config_free(config);
            }
        }
        self.endpoint
    }

    /// One call chosen by `input`.
    pub(super) fn step(&mut self, input: &mut Input<'_>) {
        let op = input.byte();
        self.now += u64::from(input.byte()) * 1_000_000;
        // SAFETY: sockaddr_storage is plain data, valid when zeroed.
        let mut addr: sockaddr_storage = unsafe { std::mem::zeroed() };
        let to_len = sockaddr_to_c("127.0.0.1:4433".parse().expect("an address"), &mut addr);
        let to = (&raw const addr).cast::<sockaddr>();
        // SAFETY (whole block): every pointer is valid for its length, or NULL where the
        // API takes NULL; the handles are live until `drop`.
        unsafe {
            match op % 7 {
                0 => {
                    let ticket = input.chunk();
                    let name = if op & 0x80 != 0 {
                        c"localhost"
                    } else {
                        c"other.example"
                    };
                    let endpoint = self.endpoint();
                    let mut conn = ptr::null_mut();
                    let r = h3q_endpoint_connect_resume(
                        endpoint,
                        self.now,
                        to,
                        to_len,
                        name.as_ptr(),
                        ticket.as_ptr(),
                        ticket.len(),
                        &mut conn,
                    );
                    not_fatal(r);
                    if ok(r) {
                        assert!(!conn.is_null());
                        self.conns.push(conn);
                    }
                }
                1 => {
                    let datagram = input.chunk();
                    let ecn = input.byte();
                    let r = h3q_endpoint_receive_ecn(
                        self.endpoint(),
                        self.now,
                        to,
                        to_len,
                        datagram.as_ptr(),
                        datagram.len(),
                        usize::from(input.byte()),
                        ecn,
                    );
                    let refused = h3q_result_code::H3Q_ERR_INVALID_ARGUMENT as h3q_result;
                    assert_eq!(r, if ecn > 3 { refused } else { 0 }, "ecn {ecn}");
                }
                2 => {
                    let endpoint = self.endpoint();
                    not_fatal(h3q_endpoint_rebind(endpoint, self.now));
                    let mut buf = [0u8; 1500];
                    let (mut len, mut segment, mut ecn) = (0usize, 0usize, 0u8);
                    // SAFETY: zeroed storage is valid.
                    let mut dest: sockaddr_storage = std::mem::zeroed();
                    let mut dest_len: socklen_t = 0;
                    let lent = input.byte() & 1 != 0;
                    for _ in 0..4 {
                        let mut data: *const u8 = ptr::null();
                        let r = if lent {
                            h3q_endpoint_poll_transmit_lent(
                                endpoint,
                                self.now,
                                &mut data,
                                &mut len,
                                &mut dest,
                                &mut dest_len,
                                &mut segment,
                                &mut ecn,
                            )
                        } else {
                            h3q_endpoint_poll_transmit_ecn(
                                endpoint,
                                self.now,
                                buf.as_mut_ptr(),
                                buf.len(),
                                &mut len,
                                &mut dest,
                                &mut dest_len,
                                &mut segment,
                                &mut ecn,
                            )
                        };
                        not_fatal(r);
                        if !lent && self.endpoint_ceiling > buf.len() as u64 {
                            // A buffer smaller than the largest datagram is refused.
                            let small = h3q_result_code::H3Q_ERR_BUFFER_TOO_SMALL as h3q_result;
                            assert_eq!(r, small, "ceiling {}", self.endpoint_ceiling);
                        }
                        if !ok(r) {
                            break;
                        }
                        assert!(ecn <= 3 && segment > 0 && segment <= len);
                        let largest = *UDP_PAYLOAD_RANGE.end() as usize;
                        assert!(len <= largest && segment <= largest);
                        if lent {
                            // Lent bytes are readable until the next endpoint call.
                            assert!(!data.is_null());
                            let bytes = std::slice::from_raw_parts(data, len);
                            std::hint::black_box(bytes.iter().fold(0u8, |a, b| a ^ b));
                        } else {
                            assert!(len <= buf.len());
                        }
                    }
                    h3q_endpoint_handle_timeout(endpoint, self.now);
                }
                3 | 4 => {
                    let Some(&conn) = self.conns.get(usize::from(input.byte())) else {
                        return;
                    };
                    let cap = usize::from(input.byte()) * 2;
                    let mut buf = vec![0u8; cap];
                    let mut len = 0usize;
                    let r = if op % 7 == 3 {
                        h3q_quic_conn_session_ticket(conn, buf.as_mut_ptr(), cap, &mut len)
                    } else {
                        let index = usize::from(input.byte() % 4);
                        h3q_quic_conn_peer_certificate(conn, index, buf.as_mut_ptr(), cap, &mut len)
                    };
                    not_fatal(r);
                    let _ = h3q_quic_conn_early_data(conn);
                    let _ = h3q_quic_conn_is_0rtt(conn);
                    let _ = h3q_quic_conn_stream_is_early(conn, u64::from(input.byte()));
                }
                5 => {
                    if self.server_config.is_null() {
                        let version = Abi::CURRENT as c_int;
                        assert!(ok(h3q_config_new_versioned(
                            version,
                            true,
                            &mut self.server_config
                        )));
                    }
                    let mode = u32::from(input.byte() % 5);
                    let pem = input.long_chunk();
                    let pem_ptr = if op & 0x80 != 0 {
                        ptr::null()
                    } else {
                        pem.as_ptr()
                    };
                    not_fatal(h3q_config_set_client_auth(
                        self.server_config,
                        mode,
                        pem_ptr,
                        pem.len(),
                    ));
                    not_fatal(h3q_config_set_retry_above_rate(
                        self.server_config,
                        u32::from(input.byte()),
                    ));
                    not_fatal(h3q_config_set_enable_0rtt(
                        self.server_config,
                        op & 0x40 != 0,
                    ));
                    // Any ceiling: 0 or 1200..=65527 taken, anything else refused.
                    let ceiling = if op & 0x20 != 0 {
                        u64::from(input.byte()) << 8 | u64::from(input.byte())
                    } else {
                        u64::from(input.byte()) << 56
                    };
                    let r = h3q_config_set_max_udp_payload_size(self.server_config, ceiling);
                    if ceiling == 0 || UDP_PAYLOAD_RANGE.contains(&ceiling) {
                        assert!(ok(r), "ceiling {ceiling}");
                        self.ceiling = ceiling;
                    } else {
                        let refused = h3q_result_code::H3Q_ERR_INVALID_ARGUMENT as h3q_result;
                        assert_eq!(r, refused, "ceiling {ceiling}");
                    }
                }
                _ => {
                    // Free one connection (handles are independent of the endpoint).
                    if !self.conns.is_empty() {
                        let i = usize::from(input.byte()) % self.conns.len();
                        h3q_quic_conn_free(self.conns.swap_remove(i));
                    }
                }
            }
        }
    }
}

impl Drop for QuicCalls {
    fn drop(&mut self) {
        // SAFETY: live handles (or NULL), each freed once.
        unsafe {
            for conn in self.conns.drain(..) {
                h3q_quic_conn_free(conn);
            }
            h3q_endpoint_free(self.endpoint);
            h3q_config_free(self.server_config);
        }
    }
}
