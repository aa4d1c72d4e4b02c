/*
 * The QUIC connection on ngtcp2: one connected, non-blocking UDP socket and one
 * ngtcp2_conn (owned by client.quic, freed by quic_free() after the h3q connection).
 *
 * ngtcp2 is sans-I/O like h3q: the loop (main.c) gives it datagrams (quic_read), runs its
 * timer (quic_handle_expiry) and asks it for packets (quic_flush), which carry the bytes
 * h3q queued on our streams (transport.c). ngtcp2 reports what happens through callbacks
 * during those calls; the stream ones are in transport.c and feed h3q at once. ngtcp2
 * functions that write packets must not run inside its callbacks, so a close that h3q
 * asks for from inside one (the transport's close) is recorded and done by the loop.
 *
 * How the connection ends is reported to h3q once, as H3Q_QUIC_CONNECTION_TERMINATED
 * (ended() below), with the code space ngtcp2 gives: the peer's CONNECTION_CLOSE of type
 * 0x1c (transport) or 0x1d (application), an idle or handshake timeout (no code), or a
 * close of our own. Requests still open then fail with the reason in words.
 */
#define _GNU_SOURCE /* getaddrinfo, ppoll (ex_clock.h) in C11 */
#include "ngclient.h"

#include "ex_addr.h"
#include "ex_clock.h"
#include "ex_h3.h"
#include "ex_log.h"

#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#include <gnutls/crypto.h>

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#define READ_BATCH 64 /* datagrams read per call, before packets go out again */

/* ---- the end of the connection --------------------------------------------------------- */

/* Records how the connection ended, tells h3q (H3Q_EVENT_CONNECTION_CLOSED follows), and
 * fails the requests not finished with `why`. Once. */
static void ended(client *cl, h3q_error_space space, uint64_t code, bool by_peer,
                  const uint8_t *reason, size_t reason_len, const char *why) {
    if (cl->quic.ended) return;
    cl->quic.ended = cl->quic.closed = true;
    h3q_quic_event ev = {.type = H3Q_QUIC_CONNECTION_TERMINATED,
                         .error_code = code,
                         .reason = reason,
                         .reason_len = reason_len,
                         .error_space = space,
                         .closed_by_peer = by_peer};
    transport_feed(cl, &ev);
    fail_unfinished(cl, why);
}

/* Writes and sends a CONNECTION_CLOSE carrying `ccerr` (best effort: it may be lost). */
static void send_close(client *cl, const ngtcp2_connection_close_error *ccerr) {
    quic_link *q = &cl->quic;
    if (q->closed) return;
    q->closed = true;
    uint8_t buf[UDP_PAYLOAD_MAX];
    ngtcp2_path_storage ps;
    ngtcp2_path_storage_zero(&ps);
    ngtcp2_pkt_info pi;
    ngtcp2_ssize n = ngtcp2_conn_write_connection_close(q->conn, &ps.path, &pi, buf, sizeof buf,
                                                        ccerr, ex_now_ns());
    if (n > 0 && send(q->fd, buf, (size_t)n, 0) < 0)
        ex_debug("sending CONNECTION_CLOSE: %s", strerror(errno));
}

/* A fatal ngtcp2 error of ours (`liberr`): close with the transport code it maps to. */
static void fail_connection(client *cl, int liberr, const char *where) {
    ngtcp2_connection_close_error ccerr;
    ngtcp2_connection_close_error_default(&ccerr);
    ngtcp2_connection_close_error_set_transport_error_liberr(&ccerr, liberr, NULL, 0);
    send_close(cl, &ccerr);
    char why[300];
    if (liberr == NGTCP2_ERR_CALLBACK_FAILURE && cl->quic.callback_error[0])
        snprintf(why, sizeof why, "%s", cl->quic.callback_error);
    else
        snprintf(why, sizeof why, "QUIC error (%s): %s", where, ngtcp2_strerror(liberr));
    ended(cl, H3Q_ERROR_SPACE_TRANSPORT, ccerr.error_code, false, NULL, 0, why);
}

/* The handshake failed on TLS (the certificate, ALPN, GnuTLS itself): close with the TLS
 * alert as the transport code (0x100 + alert). */
static void fail_handshake(client *cl) {
    uint8_t alert = ngtcp2_conn_get_tls_alert(cl->quic.conn);
    ngtcp2_connection_close_error ccerr;
    ngtcp2_connection_close_error_default(&ccerr);
    ngtcp2_connection_close_error_set_transport_error_tls_alert(&ccerr, alert, NULL, 0);
    send_close(cl, &ccerr);
    char why[700];
    tls_describe_failure(cl, why, sizeof why);
    ex_warn("%s", why);
    ended(cl, H3Q_ERROR_SPACE_TRANSPORT, ccerr.error_code, false, NULL, 0, why);
}

/* The server closed the connection (ngtcp2 is draining): its CONNECTION_CLOSE. */
static void closed_by_server(client *cl) {
    ngtcp2_connection_close_error ccerr;
    ngtcp2_conn_get_connection_close_error(cl->quic.conn, &ccerr);
    char code[EX_CODE_NAME_LEN + 48], why[EX_CODE_NAME_LEN + 400];
    h3q_error_space space = H3Q_ERROR_SPACE_TRANSPORT;
    if (ccerr.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION) {
        space = H3Q_ERROR_SPACE_APPLICATION;
        char name[EX_CODE_NAME_LEN];
        snprintf(code, sizeof code, "%s (0x%" PRIx64 ")", ex_code_name(ccerr.error_code, name),
                 ccerr.error_code);
    } else if (ccerr.error_code >= NGTCP2_CRYPTO_ERROR && ccerr.error_code < 0x200) {
        const char *alert = gnutls_alert_get_strname(
            (gnutls_alert_description_t)(ccerr.error_code - NGTCP2_CRYPTO_ERROR));
        snprintf(code, sizeof code, "QUIC transport error 0x%" PRIx64 " (TLS alert %s)",
                 ccerr.error_code, alert ? alert : "unknown");
    } else {
        snprintf(code, sizeof code, "QUIC transport error 0x%" PRIx64, ccerr.error_code);
    }
    snprintf(why, sizeof why, "connection closed by the server%s: %s%s%.*s%s",
             cl->quic.handshake_done ? "" : " during the handshake", code,
             ccerr.reasonlen ? " \"" : "", (int)ccerr.reasonlen,
             ccerr.reason ? (const char *)ccerr.reason : "", ccerr.reasonlen ? "\"" : "");
    if (space != H3Q_ERROR_SPACE_APPLICATION || ccerr.error_code != H3Q_H3_NO_ERROR)
        ex_warn("%s", why);
    ended(cl, space, ccerr.error_code, true, ccerr.reason, ccerr.reasonlen, why);
}

void quic_close(client *cl, uint64_t app_code, const char *reason) {
    ngtcp2_connection_close_error ccerr;
    ngtcp2_connection_close_error_default(&ccerr);
    ngtcp2_connection_close_error_set_application_error(&ccerr, app_code, (const uint8_t *)reason,
                                                        strlen(reason));
    send_close(cl, &ccerr);
    char name[EX_CODE_NAME_LEN], why[EX_CODE_NAME_LEN + 200];
    snprintf(why, sizeof why, "connection closed here: %s (0x%" PRIx64 ")%s%s%s",
             ex_code_name(app_code, name), app_code, reason[0] ? " \"" : "", reason,
             reason[0] ? "\"" : "");
    ended(cl, H3Q_ERROR_SPACE_APPLICATION, app_code, false, (const uint8_t *)reason,
          strlen(reason), why);
}

/* ---- callbacks of ngtcp2 that are not about streams ---------------------------------------- */

static ngtcp2_conn *conn_of_ref(ngtcp2_crypto_conn_ref *ref) {
    return ((client *)ref->user_data)->quic.conn;
}

static void random_bytes(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx) {
    (void)ctx;
    (void)gnutls_rnd(GNUTLS_RND_RANDOM, dest, len);
}

static int new_connection_id(ngtcp2_conn *conn, ngtcp2_cid *cid, uint8_t *token, size_t cidlen,
                             void *user_data) {
    (void)conn;
    (void)user_data;
    if (gnutls_rnd(GNUTLS_RND_RANDOM, cid->data, cidlen) != 0 ||
        gnutls_rnd(GNUTLS_RND_RANDOM, token, NGTCP2_STATELESS_RESET_TOKENLEN) != 0)
        return NGTCP2_ERR_CALLBACK_FAILURE;
    cid->datalen = cidlen;
    return 0;
}

/* Both 1-RTT keys are installed (the client gets them together, after the server's
 * Finished): our streams can be opened, so h3q starts here, before ngtcp2 decrypts any
 * 1-RTT packet whose stream data h3q must see. */
static int on_key(ngtcp2_conn *conn, ngtcp2_crypto_level level, void *user_data) {
    (void)conn;
    client *cl = user_data;
    if (level != NGTCP2_CRYPTO_LEVEL_APPLICATION || ++cl->quic.app_keys != 2) return 0;
    if (!tls_alpn_is_h3(&cl->quic.tls)) {
        snprintf(cl->quic.callback_error, sizeof cl->quic.callback_error,
                 "the server did not agree to ALPN h3");
        ex_warn("%s", cl->quic.callback_error);
        return NGTCP2_ERR_CALLBACK_FAILURE;
    }
    return transport_open_h3(cl) ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
}

static int on_handshake_completed(ngtcp2_conn *conn, void *user_data) {
    (void)conn;
    client *cl = user_data;
    cl->quic.handshake_done = true;
    ex_debug("handshake complete with %s:%s (ALPN h3)", cl->host, cl->port);
    h3q_quic_event ev = {.type = H3Q_QUIC_HANDSHAKE_COMPLETED,
                         .data = (const uint8_t *)"h3",
                         .data_len = 2};
    transport_feed(cl, &ev);
    return 0;
}

/* ---- connecting ----------------------------------------------------------------------------- */

static bool open_socket(quic_link *q, const struct addrinfo *addr) {
    q->fd = socket(addr->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (q->fd < 0) {
        ex_warn("socket: %s", strerror(errno));
        return false;
    }
    memcpy(&q->remote, addr->ai_addr, addr->ai_addrlen);
    q->remote_len = addr->ai_addrlen;
    q->local_len = sizeof q->local;
    if (connect(q->fd, addr->ai_addr, addr->ai_addrlen) != 0 ||
        getsockname(q->fd, (struct sockaddr *)&q->local, &q->local_len) != 0) {
        char text[EX_ADDR_STRLEN];
        ex_format_addr(addr->ai_addr, text, sizeof text);
        ex_warn("%s: %s", text, strerror(errno));
        return false;
    }
    return true;
}

bool quic_connect(client *cl, const struct addrinfo *addr) {
    quic_link *q = &cl->quic;
    q->conn_ref.get_conn = conn_of_ref;
    q->conn_ref.user_data = cl;
    if (!open_socket(q, addr) || !tls_setup(cl)) return false;

    ngtcp2_callbacks callbacks = {
        .client_initial = ngtcp2_crypto_client_initial_cb,
        .recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb,
        .handshake_completed = on_handshake_completed,
        .encrypt = ngtcp2_crypto_encrypt_cb,
        .decrypt = ngtcp2_crypto_decrypt_cb,
        .hp_mask = ngtcp2_crypto_hp_mask_cb,
        .recv_stream_data = on_recv_stream_data,
        .acked_stream_data_offset = on_acked_stream_data_offset,
        .stream_close = on_stream_close,
        .recv_retry = ngtcp2_crypto_recv_retry_cb,
        .rand = random_bytes,
        .get_new_connection_id = new_connection_id,
        .update_key = ngtcp2_crypto_update_key_cb,
        .stream_reset = on_stream_reset,
        .extend_max_stream_data = on_extend_max_stream_data,
        .delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
        .delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
        .get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
        .version_negotiation = ngtcp2_crypto_version_negotiation_cb,
        .recv_rx_key = on_key,
        .recv_tx_key = on_key,
    };
    ngtcp2_cid dcid = {.datalen = 18}, scid = {.datalen = 16};
    if (gnutls_rnd(GNUTLS_RND_RANDOM, dcid.data, dcid.datalen) != 0 ||
        gnutls_rnd(GNUTLS_RND_RANDOM, scid.data, scid.datalen) != 0) {
        ex_warn("no random bytes for connection ids");
        return false;
    }
    ngtcp2_settings settings;
    ngtcp2_settings_default(&settings);
    settings.initial_ts = ex_now_ns();
    settings.handshake_timeout = HANDSHAKE_TIMEOUT_NS;
    ngtcp2_transport_params params;
    ngtcp2_transport_params_default(&params);
    params.initial_max_streams_bidi = 0;   /* a server opens no request streams */
    params.initial_max_streams_uni = 100;  /* control, QPACK and push streams */
    params.initial_max_stream_data_bidi_local = STREAM_WINDOW; /* responses */
    params.initial_max_stream_data_uni = 1u << 20;
    params.initial_max_data = CONN_WINDOW;
    params.max_idle_timeout = IDLE_TIMEOUT_NS;
    ngtcp2_path path = {{(struct sockaddr *)&q->local, q->local_len},
                        {(struct sockaddr *)&q->remote, q->remote_len},
                        NULL};
    int rv = ngtcp2_conn_client_new(&q->conn, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1,
                                    &callbacks, &settings, &params, NULL, cl);
    if (rv != 0) {
        q->conn = NULL;
        ex_warn("ngtcp2_conn_client_new: %s", ngtcp2_strerror(rv));
        return false;
    }
    ngtcp2_conn_set_tls_native_handle(q->conn, q->tls.session);
    return true;
}

/* ---- packets in, timers, packets out ---------------------------------------------------- */

/* The socket reported an ICMP error for something we sent (port unreachable: no server). */
static void unreachable(client *cl, int err) {
    char why[EX_ADDR_STRLEN + 200], addr[EX_ADDR_STRLEN];
    ex_format_addr((const struct sockaddr *)&cl->quic.remote, addr, sizeof addr);
    snprintf(why, sizeof why, "no QUIC server at %s: %s", addr, strerror(err));
    ex_warn("%s", why);
    ended(cl, H3Q_ERROR_SPACE_NO_CODE, 0, false, NULL, 0, why);
}

bool quic_read(client *cl) {
    quic_link *q = &cl->quic;
    static uint8_t buf[65536];
    for (int i = 0; i < READ_BATCH && !q->closed && !q->close_requested; i++) {
        struct sockaddr_storage from;
        socklen_t from_len = sizeof from;
        ssize_t n = recvfrom(q->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &from_len);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
            unreachable(cl, errno);
            return false;
        }
        ngtcp2_path path = {{(struct sockaddr *)&q->local, q->local_len},
                            {(struct sockaddr *)&from, from_len},
                            NULL};
        ngtcp2_pkt_info pi = {0};
        int rv = ngtcp2_conn_read_pkt(q->conn, &path, &pi, buf, (size_t)n, ex_now_ns());
        if (rv == 0) continue;
        if (rv == NGTCP2_ERR_DRAINING) {
            closed_by_server(cl);
        } else if (rv == NGTCP2_ERR_CRYPTO) {
            fail_handshake(cl);
        } else if (rv == NGTCP2_ERR_RECV_VERSION_NEGOTIATION) {
            q->closed = true;
            ended(cl, H3Q_ERROR_SPACE_NO_CODE, 1, true, NULL, 0,
                  "the server speaks no QUIC version 1 (version negotiation)");
        } else {
            fail_connection(cl, rv, "reading a packet");
        }
        return false;
    }
    return !q->closed;
}

bool quic_handle_expiry(client *cl) {
    quic_link *q = &cl->quic;
    if (q->closed) return false;
    uint64_t now = ex_now_ns();
    if (ngtcp2_conn_get_expiry(q->conn) > now) return true;
    int rv = ngtcp2_conn_handle_expiry(q->conn, now);
    if (rv == 0) return true;
    char why[EX_ADDR_STRLEN + 160], addr[EX_ADDR_STRLEN];
    ex_format_addr((const struct sockaddr *)&q->remote, addr, sizeof addr);
    if (rv == NGTCP2_ERR_IDLE_CLOSE || rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT) {
        /* Nothing to send: the server is silent (or gone). */
        q->closed = true;
        if (!q->handshake_done)
            snprintf(why, sizeof why, "timed out: no handshake with %s within %" PRIu64 " s",
                     addr, (uint64_t)(rv == NGTCP2_ERR_IDLE_CLOSE ? IDLE_TIMEOUT_NS
                                                                   : HANDSHAKE_TIMEOUT_NS) /
                               NGTCP2_SECONDS);
        else
            snprintf(why, sizeof why, "timed out: nothing from %s for %" PRIu64 " s (idle timeout)",
                     addr, (uint64_t)(IDLE_TIMEOUT_NS / NGTCP2_SECONDS));
        ex_warn("%s", why);
        ended(cl, H3Q_ERROR_SPACE_NO_CODE, 0, false, NULL, 0, why);
        return false;
    }
    fail_connection(cl, rv, "timer");
    return false;
}

/* Sends one packet; false when the socket is full (the packet is kept for later). */
static bool send_packet(client *cl, const uint8_t *pkt, size_t len) {
    quic_link *q = &cl->quic;
    if (send(q->fd, pkt, len, 0) >= 0) return true;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        memcpy(q->pending, pkt, len);
        q->pending_len = len;
        return false;
    }
    if (errno == ECONNREFUSED) unreachable(cl, errno);
    else ex_debug("send: %s", strerror(errno)); /* as if lost: QUIC sends it again */
    return true;
}

/* The first of our streams, in the order opened (see open_stream in transport.c), with
 * bytes (or a FIN) for ngtcp2 to take, or NULL. */
static send_stream *next_writable(client *cl) {
    for (send_stream *s = cl->streams; s; s = s->next)
        if (!s->shut && !s->blocked &&
            (s->written < s->queued || (s->fin_queued && !s->fin_written)))
            return s;
    return NULL;
}

bool quic_flush(client *cl, bool *want_out) {
    quic_link *q = &cl->quic;
    *want_out = false;
    if (q->closed) return false;
    if (q->pending_len) {
        if (send(q->fd, q->pending, q->pending_len, 0) < 0 &&
            (errno == EAGAIN || errno == EWOULDBLOCK)) {
            *want_out = true;
            return true;
        }
        q->pending_len = 0;
    }
    /* Flow control may have opened since the last flush (ngtcp2 0.12 reports a larger
     * MAX_STREAM_DATA, but not MAX_DATA): every stream may try again. */
    for (send_stream *s = cl->streams; s; s = s->next) s->blocked = false;
    uint8_t buf[UDP_PAYLOAD_MAX];
    ngtcp2_path_storage ps;
    ngtcp2_path_storage_zero(&ps);
    ngtcp2_pkt_info pi;
    uint64_t now = ex_now_ns();
    for (;;) {
        send_stream *s = next_writable(cl);
        ngtcp2_vec v[16];
        size_t nv = 0, total = 0;
        bool fin = false;
        if (s) total = transport_pending(s, v, &nv, 16, &fin);
        ngtcp2_ssize taken = -1;
        uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE | (fin ? NGTCP2_WRITE_STREAM_FLAG_FIN : 0);
        ngtcp2_ssize n = ngtcp2_conn_writev_stream(q->conn, &ps.path, &pi, buf, sizeof buf, &taken,
                                                   flags, s ? s->id : -1, v, nv, now);
        if (s && taken >= 0) transport_wrote(s, (size_t)taken, fin && (size_t)taken == total);
        if (n == NGTCP2_ERR_WRITE_MORE) continue; /* room left in the packet for more */
        if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED) {
            s->blocked = true;
            continue;
        }
        if (n == NGTCP2_ERR_STREAM_SHUT_WR || n == NGTCP2_ERR_STREAM_NOT_FOUND) {
            s->shut = true; /* reset, or the peer's STOP_SENDING: ngtcp2 reset it */
            continue;
        }
        if (n < 0) {
            fail_connection(cl, (int)n, "writing a packet");
            return false;
        }
        if (n == 0) return true; /* nothing more now: congestion, pacing, or all sent */
        bool sent = send_packet(cl, buf, (size_t)n);
        ngtcp2_conn_update_pkt_tx_time(q->conn, now);
        if (q->closed) return false;
        if (!sent) {
            *want_out = true;
            return true;
        }
    }
}

void quic_free(quic_link *q) {
    if (q->conn) ngtcp2_conn_del(q->conn);
    q->conn = NULL;
    if (q->fd >= 0) close(q->fd);
    q->fd = -1;
}
