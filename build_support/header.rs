//! Arranges cbindgen's output into `include/h3q.h` as a manual: a "Lifecycle and event
//! loop" overview first, then sections in a fixed order, each type next to the functions
//! that use it, and the macros of the ABI (versions, result ranges, the unversioned names
//! of the versioned constructors) beside what they belong to.
//!
//! cbindgen emits every type, then every function; C only needs a type declared before its
//! first use, so the items are regrouped here by the table [`SECTIONS`]. An exported item
//! missing from the table (or a table entry that names no item) fails the build with a
//! message saying where to add it: the header cannot silently lose its order.

/// One section of the header: a title, a paragraph, and its items in order. An item is the
/// name of a cbindgen item (type or function) or a [`Macro`].
pub struct Section {
    pub title: &'static str,
    pub intro: &'static str,
    pub items: &'static [Item],
}

/// What a section lists.
pub enum Item {
    /// A type or function cbindgen generated, by name.
    Api(&'static str),
    /// Text written as it is (macros and their doc comments).
    Macro(&'static str),
}

use Item::{Api, Macro};

/// The overview at the top of the header.
pub const LIFECYCLE: &str = r#"/*
 * Lifecycle and event loop
 * ========================
 *
 * h3q does no I/O and reads no clock. Your program owns one UDP socket per h3q_endpoint and
 * a monotonic clock; every now_ns is that clock in nanoseconds (e.g. CLOCK_MONOTONIC).
 *
 * Set-up:
 *   h3q_config_new(is_server, &cfg), its setters, h3q_endpoint_new(cfg, &ep),
 *   h3q_config_free(cfg).
 *   A client: h3q_endpoint_connect(ep, now, addr, len, "host", &qc), then
 *   h3q_conn_new_quic(qc, NULL, &h3) to start HTTP/3 on it.
 *
 * The loop, in this order:
 *   1. Wait until the socket is readable or until the time h3q_endpoint_next_timeout(ep)
 *      returned (UINT64_MAX: no timer).
 *   2. Each datagram read: h3q_endpoint_receive() (h3q_endpoint_receive_segments() for a
 *      UDP GRO batch).
 *   3. If now >= that time: h3q_endpoint_handle_timeout(ep, now).
 *   4. A server: while h3q_endpoint_accept(ep, &qc) == H3Q_OK, h3q_conn_new_quic(qc, ...)
 *      and h3q_quic_conn_set_user_data(qc, your_state) to find your state again.
 *   5. While h3q_endpoint_next_ready(ep, &qc) == H3Q_OK (a connection with events):
 *      while h3q_quic_conn_next_event(qc, &ev) == H3Q_OK:
 *        h3q_conn_handle_event(h3, &ev, on_http_event, your_state). Your callback gets
 *        the HTTP events (headers, data, ...) and may answer at once with
 *        h3q_conn_send_headers() / h3q_conn_send_data(), or later.
 *      After H3Q_QUIC_CONNECTION_TERMINATED nothing more comes: free both handles
 *      (h3q_conn_free, h3q_quic_conn_free); the endpoint finishes the closing itself.
 *   6. While h3q_endpoint_poll_transmit(ep, now, buf, ...) == H3Q_OK: send buf to the
 *      address it gives (with UDP GSO when it reports a segment size).
 *   7. Back to 1, with a fresh h3q_endpoint_next_timeout(ep).
 *
 * The timer: any call that changes a connection may move it (receive, handle_timeout,
 * connect, every send, reset, stop and close). Read h3q_endpoint_next_timeout() after step
 * 6, every time round; never keep an old value.
 *
 * Streams: a client opens a request stream with
 * h3q_quic_conn_get_next_available_stream_id(qc, false, &id), then
 * h3q_conn_send_headers(h3, id, ...); a server answers on the stream_id of the request's
 * H3Q_EVENT_HEADERS_RECEIVED. Aborts come as events (H3Q_EVENT_STREAM_RESET,
 * H3Q_EVENT_STOP_SENDING) and go out as h3q_conn_reset_stream() / h3q_conn_stop_sending().
 *
 * Ending: the one H3Q_EVENT_CONNECTION_CLOSED says how a connection ended. A server that
 * stops gracefully calls h3q_conn_shutdown_notice(h3), about a round trip later
 * h3q_conn_shutdown(h3), serves what was accepted, and once h3q_conn_active_requests()
 * and h3q_quic_conn_unacknowledged_streams() are both 0 (the responses handed over and
 * acknowledged) closes with h3q_quic_conn_close(qc, H3Q_H3_NO_ERROR, ...). A client that gets
 * H3Q_EVENT_GOAWAY_RECEIVED retries the requests reported as reset with
 * H3_REQUEST_REJECTED, and new ones, on a new connection.
 *
 * Over your own QUIC stack: h3q_conn_new() with an h3q_transport table instead of
 * h3q_conn_new_quic(), and your stack's events given to h3q_conn_handle_event() as
 * h3q_quic_events.
 *
 * examples/minimal/ holds a small server and client written this way; examples/server/ and
 * examples/client/ (h3q-server, h3q-client) add GSO, GRO, path MTU discovery, large
 * bodies, the graceful drain and retries.
 */"#;

/// The sections, in order.
pub const SECTIONS: &[Section] = &[
    Section {
        title: "Conventions, versions and results",
        intro: "Every fallible function returns an h3q_result: statuses >= 0, refusals\n\
                -100 ... -199 (the call did nothing), fatal errors -200 ... -299 (the\n\
                connection or the handle is done). Outputs are written only on success;\n\
                *_free(NULL) is a no-op; a handle is not thread-safe but may move between\n\
                threads; no panic crosses into C (a caught one poisons its handle). Structs\n\
                are versioned: a program built against an older h3q.h keeps working with a\n\
                newer library, which reads and writes only the fields its version has.",
        items: &[
            Macro(ABI_MACROS),
            Api("h3q_result"),
            Api("h3q_result_code"),
            Macro(RESULT_MACROS),
            Api("h3q_result_str"),
            Api("h3q_last_error"),
            Api("h3q_version"),
            Api("h3q_h3_error"),
            Api("h3q_h3_error_name"),
        ],
    },
    Section {
        title: "Configuration of a QUIC endpoint",
        intro: "An h3q_config holds what an endpoint needs to know before it starts: its role,\n\
                TLS identity and trust, ALPN, timeouts and limits. h3q_endpoint_new() copies\n\
                it; free it afterwards.",
        items: &[
            Api("h3q_config"),
            Api("h3q_config_new_versioned"),
            Macro(
                "/** Creates a configuration (see h3q_config_new_versioned()). */\n\
                 #define h3q_config_new(is_server, out) \\\n  \
                 h3q_config_new_versioned(H3Q_ABI_VERSION, (is_server), (out))",
            ),
            Api("h3q_config_free"),
            Api("h3q_config_last_error"),
            Api("h3q_config_set_certificate_chain_pem"),
            Api("h3q_config_load_certificate_chain"),
            Api("h3q_config_generate_self_signed"),
            Api("h3q_config_certificate_chain_pem"),
            Api("h3q_config_add_ca_pem"),
            Api("h3q_config_load_ca_file"),
            Api("h3q_config_set_verify_peer"),
            Api("h3q_config_set_alpn"),
            Api("h3q_config_set_idle_timeout_ms"),
            Api("h3q_config_set_max_streams"),
            Api("h3q_config_set_stream_receive_window"),
            Api("h3q_config_set_send_window"),
            Api("h3q_config_set_loss_detection"),
            Api("h3q_congestion_control"),
            Api("h3q_config_set_congestion_control"),
            Api("h3q_config_set_initial_window"),
            Api("h3q_config_set_max_datagram_frame_size"),
            Api("h3q_config_set_key_log_file"),
            Api("h3q_config_set_qlog_dir"),
            Api("h3q_config_set_max_gso_segments"),
            Api("h3q_config_set_mtu_discovery"),
            Api("h3q_config_set_max_udp_payload_size"),
            Api("h3q_client_auth"),
            Api("h3q_config_set_client_auth"),
        ],
    },
    Section {
        title: "QUIC endpoint and connections (the built-in QUIC layer)",
        intro: "One h3q_endpoint per UDP socket: datagrams in, datagrams out, one timer, new\n\
                connections. Each h3q_quic_conn is aioquic's QuicConnection: a queue of\n\
                h3q_quic_events and the stream operations HTTP/3 needs.",
        items: &[
            Api("h3q_endpoint"),
            Api("h3q_quic_conn"),
            Api("h3q_endpoint_new"),
            Api("h3q_endpoint_free"),
            Api("h3q_endpoint_last_error"),
            Api("h3q_endpoint_connect"),
            Api("h3q_endpoint_receive"),
            Api("h3q_endpoint_receive_segments"),
            Api("h3q_endpoint_receive_ecn"),
            Api("h3q_endpoint_handle_timeout"),
            Api("h3q_endpoint_accept"),
            Api("h3q_endpoint_next_ready"),
            Api("h3q_endpoint_poll_transmit"),
            Api("h3q_endpoint_poll_transmit_ecn"),
            Api("h3q_endpoint_poll_transmit_lent"),
            Api("h3q_endpoint_next_timeout"),
            Api("h3q_endpoint_certificate_fingerprint"),
            Api("h3q_endpoint_rebind"),
            Api("h3q_config_set_server_id"),
            Api("h3q_cid_server_id"),
            Api("h3q_quic_event_type"),
            Api("h3q_error_space"),
            Api("h3q_quic_event"),
            Api("h3q_quic_conn_next_event"),
            Api("h3q_quic_conn_set_user_data"),
            Api("h3q_quic_conn_user_data"),
            Api("h3q_quic_conn_free"),
            Api("h3q_quic_conn_last_error"),
            Api("h3q_quic_conn_send_stream_data"),
            Api("h3q_quic_conn_get_next_available_stream_id"),
            Api("h3q_quic_conn_stream_send_buffered"),
            Api("h3q_quic_conn_unacknowledged_streams"),
            Api("h3q_quic_conn_reset_stream"),
            Api("h3q_quic_conn_stop_stream"),
            Api("h3q_quic_conn_send_datagram_frame"),
            Api("h3q_quic_conn_close"),
            Api("h3q_quic_conn_is_established"),
            Api("h3q_quic_conn_is_closed"),
            Api("h3q_quic_conn_is_drained"),
            Api("h3q_quic_conn_alpn"),
            Api("h3q_quic_conn_remote_address"),
            Api("h3q_quic_conn_peer_certificate"),
            Api("h3q_quic_stats"),
            Api("h3q_quic_conn_stats_versioned"),
            Macro(
                "/** Writes the connection's measurements (see h3q_quic_conn_stats_versioned()). */\n\
                 #define h3q_quic_conn_stats(conn, out) \\\n  \
                 h3q_quic_conn_stats_versioned((conn), H3Q_ABI_VERSION, (out))",
            ),
        ],
    },
    Section {
        title: "Resumption, 0-RTT and address validation",
        intro: "A client keeps the session ticket of a connection and resumes with it later:\n\
                a shorter handshake, and requests sent at once as 0-RTT. A server accepts\n\
                0-RTT only when told to (early requests can be replayed), and can make new\n\
                clients prove their address with a Retry, always or under load.",
        items: &[
            Api("h3q_config_set_enable_0rtt"),
            Api("h3q_config_set_retry"),
            Api("h3q_config_rotate_secrets"),
            Api("h3q_config_set_retry_above_rate"),
            Macro(
                "/** The longest session ticket h3q_quic_conn_session_ticket() writes. */\n\
                 #define H3Q_MAX_SESSION_TICKET 278",
            ),
            Api("h3q_quic_conn_session_ticket"),
            Api("h3q_endpoint_connect_resume"),
            Api("h3q_early_data"),
            Api("h3q_quic_conn_early_data"),
            Api("h3q_quic_conn_is_0rtt"),
            Api("h3q_quic_conn_stream_is_early"),
        ],
    },
    Section {
        title: "HTTP/3 connection and events",
        intro: "An h3q_conn is aioquic's H3Connection: QUIC events in, HTTP events out through\n\
                a callback, and the calls that send requests and responses. It runs over a\n\
                connection of the built-in QUIC layer (h3q_conn_new_quic) or over any QUIC\n\
                stack described by an h3q_transport table (h3q_conn_new).",
        items: &[
            Api("h3q_settings"),
            Api("h3q_settings_default_versioned"),
            Macro(
                "/** Writes the default settings (see h3q_settings_default_versioned()). */\n\
                 #define h3q_settings_default(out) \\\n  \
                 h3q_settings_default_versioned(H3Q_ABI_VERSION, (out))",
            ),
            Api("h3q_settings_size"),
            Api("h3q_transport"),
            Api("h3q_conn"),
            Api("h3q_conn_new_versioned"),
            Macro(
                "/** Creates an HTTP/3 connection over a transport table (see\n \
                 * h3q_conn_new_versioned()). */\n\
                 #define h3q_conn_new(transport, settings, out) \\\n  \
                 h3q_conn_new_versioned(H3Q_ABI_VERSION, (transport), (settings), (out))",
            ),
            Api("h3q_conn_new_quic_versioned"),
            Macro(
                "/** Creates an HTTP/3 connection over a built-in QUIC connection (see\n \
                 * h3q_conn_new_quic_versioned()). */\n\
                 #define h3q_conn_new_quic(quic_conn, settings, out) \\\n  \
                 h3q_conn_new_quic_versioned(H3Q_ABI_VERSION, (quic_conn), (settings), (out))",
            ),
            Api("h3q_conn_free"),
            Api("h3q_conn_last_error"),
            Api("h3q_header"),
            Api("h3q_priority"),
            Api("h3q_event_type"),
            Api("h3q_event"),
            Api("h3q_event_cb"),
            Api("h3q_conn_handle_event"),
            Api("h3q_conn_close_code"),
            Api("h3q_conn_send_headers"),
            Api("h3q_conn_send_data"),
            Api("h3q_release_cb"),
            Api("h3q_conn_send_data_zerocopy"),
            Api("h3q_conn_send_push_promise"),
            Api("h3q_conn_send_datagram"),
            Api("h3q_conn_create_webtransport_stream"),
            Api("h3q_conn_received_setting"),
            Api("h3q_conn_sent_setting"),
            Api("h3q_conn_shutdown_notice"),
            Api("h3q_conn_shutdown"),
            Api("h3q_conn_active_requests"),
            Api("h3q_conn_reset_stream"),
            Api("h3q_conn_stop_sending"),
            Api("h3q_conn_cancel_push"),
            Api("h3q_conn_send_origin"),
            Api("h3q_conn_get_priority"),
            Api("h3q_conn_set_priority"),
            Api("h3q_conn_send_priority_update"),
            Api("h3q_priority_parse"),
        ],
    },
    Section {
        title: "QPACK (RFC 9204) on its own",
        intro: "The field compression HTTP/3 uses, for programs that need it without an\n\
                h3q_conn (an HTTP/3 stack of their own, interop tools).",
        items: &[
            Api("h3q_qpack_encoder"),
            Api("h3q_qpack_encoder_new_versioned"),
            Macro(
                "/** Creates a QPACK encoder (see h3q_qpack_encoder_new_versioned()). */\n\
                 #define h3q_qpack_encoder_new(out) \\\n  \
                 h3q_qpack_encoder_new_versioned(H3Q_ABI_VERSION, (out))",
            ),
            Api("h3q_qpack_encoder_free"),
            Api("h3q_qpack_encoder_last_error"),
            Api("h3q_qpack_encoder_apply_settings"),
            Api("h3q_qpack_encoder_encode"),
            Api("h3q_qpack_encoder_take_encoder_stream"),
            Api("h3q_qpack_encoder_feed_decoder"),
            Api("h3q_qpack_encoder_stream_cancelled"),
            Api("h3q_qpack_decoder"),
            Api("h3q_qpack_decoder_new_versioned"),
            Macro(
                "/** Creates a QPACK decoder (see h3q_qpack_decoder_new_versioned()). */\n\
                 #define h3q_qpack_decoder_new(max_table_capacity, max_blocked_streams, out) \\\n  \
                 h3q_qpack_decoder_new_versioned(H3Q_ABI_VERSION, (max_table_capacity), \\\n    \
                 (max_blocked_streams), (out))",
            ),
            Api("h3q_qpack_decoder_free"),
            Api("h3q_qpack_decoder_last_error"),
            Api("h3q_qpack_decoder_set_max_field_section_size"),
            Api("h3q_qpack_decoder_set_dynamic_table_capacity"),
            Api("h3q_qpack_decoder_feed_encoder"),
            Api("h3q_qpack_decoder_decode"),
            Api("h3q_qpack_decoder_next_unblocked"),
            Api("h3q_qpack_decoder_cancel_stream"),
            Api("h3q_qpack_decoder_take_decoder_stream"),
        ],
    },
];

/// The ABI version macros. `H3Q_ABI_VERSION` must equal `Abi::CURRENT` in
/// src/ffi/abi.rs (a unit test there checks it).
const ABI_MACROS: &str = "/**\n \
 * The ABI version this header declares: the layout of every public struct and the values\n \
 * of h3q_result. The *_versioned functions take it (the macros with the unversioned names\n \
 * pass it), and the library then reads and writes exactly what this header declares, so a\n \
 * program keeps working, unrecompiled, with any later library of the same SONAME.\n \
 * Version 1 was h3q 0.1.0's header.\n \
 */\n\
#define H3Q_ABI_VERSION 2\n\
/** The version of h3q_settings this header declares (every struct shares H3Q_ABI_VERSION). */\n\
#define H3Q_SETTINGS_VERSION H3Q_ABI_VERSION\n\
/** The version of h3q_transport this header declares. */\n\
#define H3Q_TRANSPORT_VERSION H3Q_ABI_VERSION\n\
/** The version of h3q_event this header declares. */\n\
#define H3Q_EVENT_VERSION H3Q_ABI_VERSION\n\
/** The version of h3q_quic_event this header declares. */\n\
#define H3Q_QUIC_EVENT_VERSION H3Q_ABI_VERSION";

/// The result range macros.
const RESULT_MACROS: &str = "/** True for a status (H3Q_OK, H3Q_BLOCKED, H3Q_DONE): not an error. */\n\
#define H3Q_IS_STATUS(r) ((r) >= 0)\n\
/** True for a refusal: the call did nothing; the handle and its connection are unharmed. */\n\
#define H3Q_IS_REFUSAL(r) ((r) <= -100 && (r) > -200)\n\
/** True for a fatal error: the connection is closed or the handle poisoned. */\n\
#define H3Q_IS_FATAL(r) ((r) <= -200 && (r) > -300)";

/// One item of cbindgen's output: its name and its text (doc comment and declaration).
struct Generated {
    name: String,
    text: String,
}

/// The name a declaration declares, if it is one.
fn declared_name(declaration: &str) -> Option<String> {
    let word = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let first_line = declaration.lines().next()?.trim();
    if first_line.starts_with('#') {
        return None;
    }
    if let Some(rest) = first_line.strip_prefix("typedef ") {
        if let Some(at) = rest.find("(*") {
            return Some(word(&rest[at + 2..]));
        }
        for kind in ["enum ", "struct "] {
            if let Some(name) = rest.strip_prefix(kind) {
                return Some(word(name));
            }
        }
        let last = rest.trim_end_matches(';').rsplit(' ').next()?;
        return Some(word(last));
    }
    let open = first_line.find('(')?;
    let before = first_line[..open].trim_end();
    let start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    Some(before[start..].to_owned())
}

/// Splits cbindgen's output into its preamble (header comment, guard, includes, macros
/// written before the items) and its items.
fn split(raw: &str) -> Result<(String, Vec<Generated>), String> {
    let mut preamble = String::new();
    let mut items = Vec::new();
    for block in raw.split("\n\n") {
        let block = block.trim_matches('\n');
        if block.is_empty() {
            continue;
        }
        // The doc comment (if any) ends with " */"; the declaration follows.
        let declaration = match block.find("*/") {
            Some(end) if block.trim_start().starts_with("/*") => block[end + 2..].trim(),
            _ => block.trim(),
        };
        let is_guard = declaration.starts_with("#ifdef __cplusplus")
            || declaration.starts_with("#endif")
            || declaration.starts_with("}  // extern");
        if is_guard {
            continue;
        }
        match declared_name(declaration) {
            Some(name) if !declaration.is_empty() => items.push(Generated {
                name,
                text: block.to_owned(),
            }),
            _ if items.is_empty() => {
                preamble.push_str(block);
                preamble.push_str("\n\n");
            }
            _ => return Err(format!("unexpected block after the items:\n{block}")),
        }
    }
    Ok((preamble, items))
}

/// The header, arranged by [`SECTIONS`], from cbindgen's output.
pub fn arrange(raw: &str) -> Result<String, String> {
    let (preamble, mut generated) = split(raw)?;
    let mut out = preamble;
    out.push_str(LIFECYCLE);
    out.push_str("\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n");
    for (number, section) in SECTIONS.iter().enumerate() {
        let rule = "=".repeat(78);
        out.push_str(&format!(
            "\n/* {rule}\n * {}. {}\n *\n",
            number + 1,
            section.title
        ));
        for line in section.intro.lines() {
            out.push_str(&format!(" * {}\n", line.trim()));
        }
        out.push_str(&format!(" * {rule} */\n"));
        for item in section.items {
            let text = match item {
                Macro(text) => (*text).to_owned(),
                Api(name) => {
                    let at = generated
                        .iter()
                        .position(|g| g.name == *name)
                        .ok_or_else(|| {
                            format!(
                                "build_support/header.rs places `{name}`, which the crate \
                                 no longer exports: remove it from SECTIONS"
                            )
                        })?;
                    generated.remove(at).text
                }
            };
            out.push('\n');
            out.push_str(&text);
            out.push('\n');
        }
    }
    if let Some(left) = generated.first() {
        return Err(format!(
            "`{}` is exported but has no place in the header: add it to a section of \
             SECTIONS in build_support/header.rs, after the types it uses",
            left.name
        ));
    }
    out.push_str("\n#ifdef __cplusplus\n}  /* extern \"C\" */\n#endif\n\n#endif  /* H3Q_H */\n");
    Ok(out)
}
