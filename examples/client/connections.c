/*
 * h3q-client's endpoint and connections.
 *
 * One UDP socket and one h3q_endpoint; the first connection is made with
 * h3q_endpoint_connect(), and so is every later one, on the same endpoint. Each connection
 * is a struct connection, the QUIC handle's user data: h3q_endpoint_next_ready gives the
 * connections that have events and the user data finds their state.
 *
 * GOAWAY (H3Q_EVENT_GOAWAY_RECEIVED): the server will process no request on the stream id
 * it names or above. Requests below it complete on this connection; h3q then reports each
 * request at or above it as H3Q_EVENT_STREAM_RESET with H3_REQUEST_REJECTED (requests.c
 * queues them again), and no new request goes on the connection. With --retry-on-goaway
 * (the default) a new connection is opened at once for what waits, alongside the old one,
 * rather than after the old one's last request: a long download below the GOAWAY's id
 * would otherwise hold up every other request for its whole length, and a server that
 * sent GOAWAY expects new connections (RFC 9114 section 5.2). --parallel still counts the
 * requests in flight on all connections together. The old connection is closed with
 * H3_NO_ERROR once its last request is over. A server that turns every connection away
 * (one that is draining answers a new connection with GOAWAY at once) would have us
 * connect for ever, so after MAX_FRUITLESS_CONNECTIONS new connections in a row on which
 * no request completed, the requests still waiting fail.
 *
 * The end of a connection comes as H3Q_EVENT_CONNECTION_CLOSED, whoever closed it (the
 * handshake still comes only as the QUIC event H3Q_QUIC_HANDSHAKE_COMPLETED): its
 * requests in flight fail with how it ended, and when it was the connection new requests
 * went to, without a GOAWAY, so do the requests waiting. Its handles are freed once its
 * events are handled.
 *
 * A connection lost otherwise (no GOAWAY) fails its requests and those waiting, unless a
 * new connection may do better: on a lossy path a handshake may outlast the client's idle
 * timeout or the server's own handshake timeout (ngtcp2's servers give up after 10 s,
 * closing with PROTOCOL_VIOLATION), even after the client saw it complete (the server
 * did not, its Finished lost). The client then opens a new connection, up to
 * MAX_CONNECTION_ATTEMPTS in a row without a request completing, and sends again what may
 * be sent twice: requests not started, and GETs in flight, from the start even with part
 * of their response in (RFC 9110 section 9.2.2: idempotent requests may be retried after a
 * connection failure; not when part of the response went to stdout); a POST in flight
 * fails. Not after a TLS failure (a CRYPTO_ERROR: an untrusted certificate, no
 * common ALPN), which would come again.
 */
#define _GNU_SOURCE
#include "client.h"

#include "ex_addr.h"
#include "ex_clock.h"
#include "ex_h3.h"
#include "ex_log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- the endpoint ---------------------------------------------------------------------- */

/* The endpoint's configuration: trust (--ca, or none with --insecure), the client
 * certificate (--cert/--key, for servers that ask for one), a 30 s idle timeout
 * (the default is 60), the congestion controller (--cc), the ceiling on UDP payloads
 * (--max-udp-payload), SSLKEYLOGFILE, and what the socket allows. */
static h3q_result configure(client *cl, h3q_config *config) {
    h3q_result rc = cl->opt->ca ? h3q_config_load_ca_file(config, cl->opt->ca)
                                : h3q_config_set_verify_peer(config, false);
    if (rc == H3Q_OK && cl->opt->cert)
        rc = h3q_config_load_certificate_chain(config, cl->opt->cert, cl->opt->key);
    if (rc == H3Q_OK && cl->opt->qlog_dir) rc = h3q_config_set_qlog_dir(config, cl->opt->qlog_dir);
    if (rc == H3Q_OK) rc = h3q_config_set_idle_timeout_ms(config, 30000);
    if (rc == H3Q_OK && cl->opt->cc) rc = h3q_config_set_congestion_control(config, cl->opt->cc_value);
    if (rc == H3Q_OK && cl->opt->max_udp_payload)
        rc = h3q_config_set_max_udp_payload_size(config, (uint64_t)cl->opt->max_udp_payload);
    if (rc == H3Q_OK && getenv("SSLKEYLOGFILE"))
        rc = h3q_config_set_key_log_file(config, getenv("SSLKEYLOGFILE"));
    if (rc == H3Q_OK) rc = ex_udp_configure(&cl->udp, config);
    return rc;
}

/* A new connection to cl->addr (SNI: the URL's host) and its HTTP/3 connection; NULL
 * after printing why. */
connection *open_connection(client *cl, const uint8_t *ticket, size_t ticket_len) {
    connection *c = ex_xcalloc(1, sizeof *c);
    c->cl = cl;
    c->number = ++cl->opened;
    h3q_result rc =
        ticket ? h3q_endpoint_connect_resume(cl->endpoint, ex_now_ns(), cl->addr->ai_addr,
                                             cl->addr->ai_addrlen, cl->host, ticket,
                                             ticket_len, &c->quic)
               : h3q_endpoint_connect(cl->endpoint, ex_now_ns(), cl->addr->ai_addr,
                                      cl->addr->ai_addrlen, cl->host, &c->quic);
    if (rc == H3Q_OK) rc = h3q_conn_new_quic(c->quic, NULL, &c->h3);
    if (rc != H3Q_OK) {
        ex_warn("connect: %s", h3q_last_error());
        h3q_quic_conn_free(c->quic);
        free(c);
        return NULL;
    }
    h3q_quic_conn_set_user_data(c->quic, c);
    c->next = cl->conns;
    cl->conns = c;
    ex_debug("connection %d: connecting to %s%s", c->number, cl->authority,
             h3q_quic_conn_is_0rtt(c->quic) ? ", resuming a session: GETs go as 0-RTT"
             : ticket ? ", with a session ticket (no 0-RTT: not resumable here, or the server "
                        "allows no early data)"
                      : "");
    return c;
}

/* Only GETs go as 0-RTT (early data can be replayed; servers may answer 425 Too Early to
 * anything else): with --data, requests wait for the handshake. */
bool accepts_requests(const connection *c) {
    return c->established || (c->cl->data_fd < 0 && h3q_quic_conn_is_0rtt(c->quic));
}

static void free_connection(connection *c) {
    if (ex_verbose) {
        char line[EX_STATS_LEN];
        ex_describe_stats(c->quic, line);
        ex_debug("connection %d: %s", c->number, line);
    }
    h3q_conn_free(c->h3);
    h3q_quic_conn_free(c->quic);
    free(c->by_stream);
    free(c);
}

bool client_connect(client *cl) {
    h3q_config *config;
    if (!ex_udp_open(&cl->udp, cl->addr->ai_family)) return false;
    if (h3q_config_new(false, &config) != H3Q_OK) return false;
    h3q_result rc = configure(cl, config);
    if (rc == H3Q_OK) rc = h3q_endpoint_new(config, &cl->endpoint);
    if (rc != H3Q_OK) {
        const char *msg = h3q_config_last_error(config);
        ex_warn("%s", msg ? msg : h3q_last_error());
    }
    h3q_config_free(config);
    return rc == H3Q_OK && open_connection(cl, NULL, 0);
}

void client_disconnect(client *cl) {
    while (cl->conns) {
        connection *c = cl->conns;
        cl->conns = c->next;
        free_connection(c);
    }
    h3q_endpoint_free(cl->endpoint);
    ex_udp_close(&cl->udp);
    ex_tx_discard(cl->tx);
    cl->endpoint = NULL;
}

bool rebind_when_due(client *cl) {
    if (!cl->opt->rebind_after || cl->rebound || cl->bytes < (uint64_t)cl->opt->rebind_after)
        return true;
    cl->rebound = true;
    struct sockaddr_storage old_addr, new_addr;
    socklen_t old_len = sizeof old_addr, new_len = sizeof new_addr;
    getsockname(cl->udp.fd, (struct sockaddr *)&old_addr, &old_len);
    /* Bound now (an ephemeral port), so that the log can name it; sends would bind it. */
    ex_udp fresh;
    if (!ex_udp_bind(&fresh, cl->addr->ai_family == AF_INET6 ? "[::]:0" : "0.0.0.0:0"))
        return false;
    getsockname(fresh.fd, (struct sockaddr *)&new_addr, &new_len);
    ex_udp_close(&cl->udp);
    cl->udp = fresh;
    h3q_endpoint_rebind(cl->endpoint, ex_now_ns());
    char before[EX_ADDR_STRLEN], after[EX_ADDR_STRLEN];
    ex_format_addr((struct sockaddr *)&old_addr, before, sizeof before);
    ex_format_addr((struct sockaddr *)&new_addr, after, sizeof after);
    ex_debug("rebound after %" PRIu64 " bytes: local address %s -> %s", cl->bytes, before,
             after);
    return true;
}

bool next_address(client *cl, uint64_t now, uint64_t *attempt_ns) {
    connection *c = cl->conns;
    if (cl->opened != 1 || !c || c->established || c->terminated || !cl->addr->ai_next ||
        now - *attempt_ns < ATTEMPT_NS)
        return true;
    client_disconnect(cl);
    cl->opened = 0;
    cl->addr = cl->addr->ai_next;
    *attempt_ns = now;
    ex_debug("no answer from the first address, trying the next");
    return client_connect(cl);
}

/* ---- events ------------------------------------------------------------------------------ */

/* The QUIC events HTTP/3 does not report: the handshake. */
static void on_quic_event(void *user_data, const h3q_quic_event *ev, h3q_result rc) {
    connection *c = user_data;
    (void)rc;
    if (ev->type == H3Q_QUIC_HANDSHAKE_COMPLETED) {
        c->established = true;
        h3q_early_data early = h3q_quic_conn_early_data(c->quic);
        ex_debug("connection %d: connected, ALPN %.*s%s", c->number, (int)ev->data_len,
                 (const char *)ev->data,
                 early == H3Q_EARLY_DATA_ACCEPTED   ? ", 0-RTT sent and accepted"
                 : early == H3Q_EARLY_DATA_REJECTED ? ", 0-RTT sent and rejected"
                                                    : "");
    } else if (ev->type == H3Q_QUIC_EARLY_DATA_REJECTED) {
        c->early_rejected = true;
    }
}

void reject_later(connection *c, request *r) {
    if (r->reject_pending) return;
    r->reject_pending = true;
    r->next_rejected = c->rejected;
    c->rejected = r;
}

/* The requests the server did not process, once the connection's events are handled: a
 * server's RESET_STREAMs with H3_REQUEST_REJECTED may be reported before its GOAWAY frame
 * when they arrive together. Requests rejected without a GOAWAY also send the new ones
 * elsewhere: the server takes no more here. */
static void settle_rejections(client *cl, connection *c) {
    if (c->early_rejected) {
        /* The server refused the 0-RTT data: nothing of it was processed, and h3q reported
         * every request sent early as rejected; they go again on this connection, whose
         * stream ids start over. */
        c->early_rejected = false;
        c->first_active = 0;
        while (c->rejected) {
            request *r = c->rejected;
            c->rejected = r->next_rejected;
            r->reject_pending = false;
            if (!r->done && r->conn == c) resend(cl, r, "was in 0-RTT data the server refused");
        }
        return;
    }
    if (!c->rejected) return;
    const char *why = c->going_away ? "rejected by the server's GOAWAY (H3_REQUEST_REJECTED)"
                                    : "rejected by the server (H3_REQUEST_REJECTED)";
    while (c->rejected) {
        request *r = c->rejected;
        c->rejected = r->next_rejected;
        r->reject_pending = false;
        if (!r->done && r->conn == c) rejected(cl, r, why);
    }
    c->going_away = true;
}

void take_events(client *cl) {
    h3q_quic_conn *quic;
    while (h3q_endpoint_next_ready(cl->endpoint, &quic) == H3Q_OK) {
        connection *c = h3q_quic_conn_user_data(quic);
        ex_drain_events(quic, c->h3, cl->host, on_http_event, on_quic_event, c);
        settle_rejections(cl, c);
    }
}

void on_goaway(connection *c, uint64_t stream_id) {
    c->going_away = true;
    c->goaway_id = stream_id;
    ex_debug("connection %d: GOAWAY from the server: requests from stream %" PRIu64
             " on are not processed (%zu in flight)", c->number, stream_id, c->in_flight);
}

void on_connection_closed(connection *c, const h3q_event *ev) {
    c->terminated = true;
    strcpy(c->close_reason, "connection ");
    size_t used = strlen(c->close_reason);
    ex_describe_close(ev, c->close_reason + used, sizeof c->close_reason - used);
    c->close_code = ev->error_code;
    c->close_space = ev->error_space;
    ex_debug("connection %d: %s", c->number, c->close_reason + used);
}

/* ---- streams ------------------------------------------------------------------------------ */

request *request_of(connection *c, uint64_t stream_id) {
    if (stream_id % 4 != 0 || stream_id / 4 >= c->nstreams) return NULL;
    request *r = c->by_stream[stream_id / 4];
    return r && r->conn == c && r->stream_id == stream_id && !r->done ? r : NULL;
}

void add_stream(connection *c, request *r, uint64_t stream_id) {
    size_t k = (size_t)(stream_id / 4);
    if (k >= c->cap) {
        size_t cap = c->cap ? c->cap : 64;
        while (cap <= k) cap *= 2;
        request **grown = realloc(c->by_stream, cap * sizeof *grown);
        if (!grown) {
            ex_warn("out of memory");
            exit(1);
        }
        c->by_stream = grown;
        c->cap = cap;
    }
    for (; c->nstreams <= k; c->nstreams++) c->by_stream[c->nstreams] = NULL;
    c->by_stream[k] = r;
}

/* ---- connections over time ---------------------------------------------------------------- */

/* A connection ended: its requests in flight fail; when new requests were going to it
 * (no GOAWAY), so do those waiting. */
/* Whether the requests of `c`, which ended, deserve another connection: not after a TLS
 * failure (a CRYPTO_ERROR would come again), nor when the client is finishing, nor after
 * MAX_CONNECTION_ATTEMPTS in a row, nor for an older connection (a GOAWAY moved on). */
static bool worth_another_connection(const client *cl, const connection *c) {
    bool tls_failure = c->close_space == H3Q_ERROR_SPACE_TRANSPORT && c->close_code >= 0x100 &&
                       c->close_code <= 0x1ff;
    return !tls_failure && !cl->closing && c == cl->conns && !c->going_away &&
           cl->failed_connections + 1 < MAX_CONNECTION_ATTEMPTS;
}

static void ended(client *cl, connection *c) {
    if (worth_another_connection(cl, c)) {
        for (size_t k = 0; k < c->nstreams; k++) {
            request *r = request_of(c, 4 * (uint64_t)k);
            if (r) connection_lost(cl, r, c->close_reason);
        }
        cl->failed_connections++;
        cl->reconnect_now = true;
        ex_debug("connection %d: lost %s the handshake (%s): trying a new connection "
                 "(attempt %d of %d)", c->number, c->established ? "after" : "during",
                 c->close_reason, cl->failed_connections + 1, MAX_CONNECTION_ATTEMPTS);
        return;
    }
    for (size_t k = 0; k < c->nstreams; k++) {
        request *r = request_of(c, 4 * (uint64_t)k);
        if (r) fail(cl, r, c->close_reason);
    }
    if (c == cl->conns && !c->going_away) fail_waiting(cl, c->close_reason);
}

/* Opens a connection for the requests a GOAWAY left waiting, unless that is pointless. */
static void reconnect(client *cl) {
    if (!cl->opt->retry) {
        fail_waiting(cl, "not sent: the server's GOAWAY refuses new requests on its connection "
                         "(--no-retry-on-goaway)");
        return;
    }
    if (cl->fruitless >= MAX_FRUITLESS_CONNECTIONS) {
        char why[160];
        snprintf(why, sizeof why, "rejected by the server's GOAWAY (H3_REQUEST_REJECTED); gave "
                 "up after %d new connections without a response", MAX_FRUITLESS_CONNECTIONS);
        fail_waiting(cl, why);
        return;
    }
    cl->fruitless++;
    size_t waiting = cl->retry_len + (cl->nreqs - cl->next_req);
    connection *c = open_connection(cl, NULL, 0);
    if (!c) fail_waiting(cl, "cannot open a new connection");
    else ex_debug("connection %d: opened after a GOAWAY, for %zu request(s)", c->number, waiting);
}

connection *connection_for_requests(client *cl) {
    for (connection **link = &cl->conns; *link;) {
        connection *c = *link;
        if (c->terminated) {
            ended(cl, c);
            *link = c->next;
            free_connection(c); /* nothing more comes; the endpoint finishes the close */
            continue;
        }
        if (c->going_away && c->in_flight == 0 && !c->closing) {
            ex_debug("connection %d: no requests left after the GOAWAY: closing", c->number);
            h3q_quic_conn_close(c->quic, H3Q_H3_NO_ERROR, NULL, 0);
            c->closing = true;
        }
        link = &c->next;
    }
    if (cl->closing || !requests_waiting(cl)) return NULL;
    if (cl->reconnect_now) {
        cl->reconnect_now = false;
        if (!open_connection(cl, NULL, 0)) fail_waiting(cl, "cannot open a new connection");
        return NULL; /* it takes requests once its handshake is complete */
    }
    connection *current = cl->conns;
    if (current && !current->going_away) return accepts_requests(current) ? current : NULL;
    /* Gone away (or gone after a GOAWAY: without one, ended() failed what waited). */
    reconnect(cl);
    return NULL; /* the new connection takes requests once its handshake is complete */
}

void close_all(client *cl) {
    for (connection *c = cl->conns; c; c = c->next) {
        if (c->terminated || c->closing) continue;
        h3q_quic_conn_close(c->quic, H3Q_H3_NO_ERROR, NULL, 0);
        c->closing = true;
    }
}

void interrupt(client *cl, int sig) {
    char why[96];
    snprintf(why, sizeof why, "interrupted by signal %d, cancelled with H3_REQUEST_CANCELLED",
             sig);
    cl->interrupted = sig;
    for (connection *c = cl->conns; c; c = c->next) {
        for (size_t k = 0; k < c->nstreams; k++) {
            request *r = request_of(c, 4 * (uint64_t)k);
            if (!r) continue;
            /* Our sending side, while --data is still going out; then the response. */
            if (cl->data_fd >= 0 && !r->body_stopped && r->body_sent < cl->data_len)
                h3q_conn_reset_stream(c->h3, r->stream_id, H3Q_H3_REQUEST_CANCELLED);
            h3q_conn_stop_sending(c->h3, r->stream_id, H3Q_H3_REQUEST_CANCELLED);
            fail(cl, r, why);
        }
    }
    fail_waiting(cl, "not started: interrupted");
    /* The resets and STOP_SENDINGs out before the close, which discards frames not sent. */
    ex_tx_flush(cl->tx, &cl->udp, cl->endpoint);
    close_all(cl);
    cl->closing = true;
}
