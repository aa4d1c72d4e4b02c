/*
 * conns.c: one connection of h3q-load, from its handshake to its end.
 *
 * A connection is opened on its socket's endpoint (h3q_endpoint_connect) with HTTP/3 on
 * it at once (h3q_conn_new_quic). When its handshake completes, its first request is due
 * at a random moment within one interval, so that the requests of connections opened
 * together spread out; after that one every interval (+- the jitter), each a GET with
 * FIN on its HEADERS. One request at a time: a request that comes due while the previous
 * one is still waiting is counted as late and sent as soon as that one ends.
 *
 * Everything that can go wrong is counted by reason (report.c): a handshake that fails or
 * does not complete within --handshake-timeout, an established connection that ends
 * before the run closes it (idle timeout, an error of either side, the server's close),
 * a response that is not a complete 200 within --request-timeout, or a reset.
 */
#define _GNU_SOURCE
#include "load.h"

#include "ex_clock.h"
#include "ex_h3.h"
#include "ex_log.h"

#include <stdio.h>
#include <string.h>

/* How the connection being handled ended, from its H3Q_EVENT_CONNECTION_CLOSED (which
 * h3q_conn_handle_event() gives just before the QUIC event that ended it arrives in
 * on_quic). */
static char close_why[REASON_LEN];
static const conn *close_of;

double load_random(load *ld) {
    /* xorshift64* */
    ld->rng ^= ld->rng >> 12;
    ld->rng ^= ld->rng << 25;
    ld->rng ^= ld->rng >> 27;
    return (double)((ld->rng * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

static uint64_t seconds_ns(double s) { return (uint64_t)(s * (double)NS_PER_S); }

/* The gap before a connection's next request: the interval, +- the jitter. */
static uint64_t next_gap(load *ld) {
    double f = 1.0 + ld->opt->jitter * (2.0 * load_random(ld) - 1.0);
    return seconds_ns(ld->opt->interval_s * f);
}

bool conn_open(load *ld, conn *c, uint64_t now) {
    c->ld = ld;
    ld->st.opened++;
    h3q_result rc = h3q_endpoint_connect(c->sock->endpoint, now, ld->addr->ai_addr,
                                         ld->addr->ai_addrlen, ld->opt->host, &c->quic);
    if (rc == H3Q_OK) rc = h3q_conn_new_quic(c->quic, NULL, &c->h3);
    if (rc != H3Q_OK) {
        char why[REASON_LEN];
        snprintf(why, sizeof why, "handshake: cannot connect: %s", h3q_last_error());
        ld->st.handshake_failures++;
        stats_reason(&ld->st, why);
        h3q_quic_conn_free(c->quic);
        c->quic = NULL;
        return false;
    }
    h3q_quic_conn_set_user_data(c->quic, c);
    ld->live++;
    heap_push(&ld->timers, (timer){.at = now + seconds_ns(ld->opt->handshake_timeout_s),
                                   .conn = c->index, .kind = T_HANDSHAKE_DEADLINE});
    return true;
}

static void send_request(conn *c, uint64_t now) {
    load *ld = c->ld;
    h3q_header head[] = {ex_hdr(":method", "GET"), ex_hdr(":scheme", "https"),
                         ex_hdr(":authority", ld->authority), ex_hdr(":path", ld->opt->path)};
    uint64_t stream_id;
    h3q_result rc = h3q_quic_conn_get_next_available_stream_id(c->quic, false, &stream_id);
    if (rc == H3Q_OK) rc = h3q_conn_send_headers(c->h3, stream_id, head, 4, true);
    ld->st.sent++;
    if (rc != H3Q_OK) {
        char why[REASON_LEN];
        snprintf(why, sizeof why, "request: not sent: %s", h3q_result_str(rc));
        ld->st.failed++;
        stats_reason(&ld->st, why);
        return;
    }
    c->in_flight = true;
    ld->st.in_flight++;
    c->stream_id = stream_id;
    c->sent_ns = now;
    c->status = 0;
    c->seq++;
    heap_push(&ld->timers, (timer){.at = now + seconds_ns(ld->opt->request_timeout_s),
                                   .conn = c->index, .seq = c->seq,
                                   .kind = T_REQUEST_DEADLINE});
}

/* The request in flight is over: complete (`failure` NULL: a 200 counts as done, any other
 * status as failed) or failed for `failure`. A request that came due meanwhile goes now. */
static void finish_request(conn *c, const char *failure) {
    stats *st = &c->ld->st;
    uint64_t now = ex_now_ns();
    c->in_flight = false;
    st->in_flight--;
    if (!failure && c->status == 200) {
        st->completed++;
        stats_latency(st, now - c->sent_ns);
    } else {
        char why[REASON_LEN];
        if (!failure) {
            snprintf(why, sizeof why, "request: status %d", c->status);
            failure = why;
        }
        st->failed++;
        stats_reason(st, failure);
    }
    if (c->due && !c->closing && !c->terminated && !c->ld->requests_stopped) {
        c->due = false;
        send_request(c, now);
    }
}

static void on_http(void *user_data, const h3q_event *ev) {
    conn *c = user_data;
    load *ld = c->ld;
    char code[EX_CODE_NAME_LEN], why[REASON_LEN];
    bool ours = c->in_flight && !ev->has_push_id && ev->stream_id == c->stream_id;
    switch (ev->type) {
    case H3Q_EVENT_HEADERS_RECEIVED:
        if (!ours) return;
        for (size_t i = 0; i < ev->headers_len; i++) {
            char value[8];
            uint64_t status;
            if (ex_hdr_is(&ev->headers[i], ":status") &&
                ex_hdr_value(&ev->headers[i], value, sizeof value) &&
                ex_parse_u64(value, strlen(value), 999, &status) && status >= 200)
                c->status = (int)status; /* a 1xx head is followed by the final one */
        }
        if (ev->stream_ended) finish_request(c, NULL);
        return;
    case H3Q_EVENT_DATA_RECEIVED:
        if (!ours) return;
        ld->st.body_bytes += ev->data_len;
        if (ev->stream_ended) finish_request(c, NULL);
        return;
    case H3Q_EVENT_STREAM_RESET:
        if (!ours) return;
        snprintf(why, sizeof why, "request: reset by the server: %s",
                 ex_code_name(ev->error_code, code));
        finish_request(c, why);
        return;
    case H3Q_EVENT_GOAWAY_RECEIVED:
        /* Not an error by itself: the requests it refuses, and the close, are counted. */
        stats_reason(&ld->st, "connection: GOAWAY from the server");
        return;
    case H3Q_EVENT_CONNECTION_CLOSED:
        ex_describe_close(ev, close_why, sizeof close_why);
        close_of = c;
        return;
    default:
        return;
    }
}

static void on_quic(void *user_data, const h3q_quic_event *ev, h3q_result rc) {
    conn *c = user_data;
    load *ld = c->ld;
    stats *st = &ld->st;
    (void)rc;
    uint64_t now = ex_now_ns();
    if (ev->type == H3Q_QUIC_HANDSHAKE_COMPLETED && !c->established) {
        c->established = true;
        st->established++;
        if (++st->open_now > st->open_max) st->open_max = st->open_now;
        if (!c->closing && !ld->requests_stopped)
            heap_push(&ld->timers,
                      (timer){.at = now + (uint64_t)(load_random(ld) *
                                                     (double)seconds_ns(ld->opt->interval_s)),
                              .conn = c->index, .kind = T_REQUEST});
    } else if (ev->type == H3Q_QUIC_CONNECTION_TERMINATED && !c->terminated) {
        c->terminated = true;
        if (c->established) st->open_now--;
        if (!c->closing) {
            char why[REASON_LEN + 16];
            const char *how = close_of == c ? close_why : "ended";
            snprintf(why, sizeof why, "%s: %s", c->established ? "connection" : "handshake",
                     how);
            why[REASON_LEN - 1] = '\0';
            if (c->established)
                st->connection_errors++;
            else
                st->handshake_failures++;
            stats_reason(st, why);
        }
        if (c->in_flight)
            finish_request(c, c->closing ? "request: unfinished when the run closed"
                                         : "request: the connection ended");
    }
}

void sock_take_events(load *ld, sock *s) {
    h3q_quic_conn *quic;
    while (h3q_endpoint_next_ready(s->endpoint, &quic) == H3Q_OK) {
        conn *c = h3q_quic_conn_user_data(quic);
        if (!c) continue;
        ex_drain_events(quic, c->h3, ld->authority, on_http, on_quic, c);
        if (c->terminated) conn_free(c);
    }
}

void conn_timer(load *ld, const timer *t, uint64_t now) {
    conn *c = &ld->conns[t->conn];
    if (!c->quic || c->terminated || c->closing) return;
    char why[REASON_LEN];
    switch (t->kind) {
    case T_HANDSHAKE_DEADLINE:
        if (c->established) return;
        snprintf(why, sizeof why, "handshake: not complete within %g s",
                 ld->opt->handshake_timeout_s);
        ld->st.handshake_failures++;
        stats_reason(&ld->st, why);
        c->closing = true;
        h3q_quic_conn_close(c->quic, H3Q_H3_NO_ERROR, NULL, 0);
        return;
    case T_REQUEST:
        if (ld->requests_stopped) return;
        heap_push(&ld->timers, (timer){.at = t->at + next_gap(ld), .conn = c->index,
                                       .kind = T_REQUEST});
        if (c->in_flight) {
            ld->st.late++;
            c->due = true;
        } else {
            send_request(c, now);
        }
        return;
    case T_REQUEST_DEADLINE:
        if (!c->in_flight || t->seq != c->seq) return;
        h3q_conn_reset_stream(c->h3, c->stream_id, H3Q_H3_REQUEST_CANCELLED);
        h3q_conn_stop_sending(c->h3, c->stream_id, H3Q_H3_REQUEST_CANCELLED);
        snprintf(why, sizeof why, "request: no complete response within %g s",
                 ld->opt->request_timeout_s);
        finish_request(c, why);
        return;
    }
}

void conn_close(conn *c) {
    if (!c->quic || c->terminated || c->closing) return;
    c->closing = true;
    static const char reason[] = "load test over";
    h3q_quic_conn_close(c->quic, H3Q_H3_NO_ERROR, (const uint8_t *)reason, sizeof reason - 1);
}

void conn_free(conn *c) {
    if (!c->quic) return;
    if (close_of == c) close_of = NULL;
    h3q_conn_free(c->h3);
    h3q_quic_conn_free(c->quic);
    c->h3 = NULL;
    c->quic = NULL;
    c->ld->live--;
}
