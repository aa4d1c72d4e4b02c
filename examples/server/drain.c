/*
 * h3q-server's shutdowns (RFC 9114 section 5.2): the drain on SIGINT/SIGTERM, the drain
 * timeout, a second signal, --max-requests-per-connection, and when a connection may be
 * closed.
 *
 * The drain. A signal does not close anything at once. Every connection gets
 * h3q_conn_shutdown_notice(): GOAWAY with the largest stream id, "I will stop", while
 * requests the client has sent (or is sending) are still accepted. A round trip later,
 * h3q_conn_shutdown() sends GOAWAY with the id after the last request actually accepted:
 * requests at or above it are refused by h3q itself (RESET_STREAM and STOP_SENDING with
 * H3_REQUEST_REJECTED), which tells the client they were not processed, so it may retry
 * them on another connection; the requests below complete, long downloads and echo
 * uploads included. h3q gives no round-trip estimate to C, so the wait is a fixed
 * ROUND_TRIP_NS (150 ms): longer than loopback, LAN and most Internet paths. On a longer
 * path a request sent before the notice arrived may be refused, which is safe (the client
 * retries it); the wait only makes that rare.
 *
 * Closing. A connection past its final GOAWAY is closed with H3_NO_ERROR ("server
 * shutdown") once h3q_conn_active_requests() is 0 and the client has acknowledged every
 * response byte. h3q_conn_active_requests() alone is not enough: it counts the streams h3q
 * has not finished, and a response is finished for h3q as soon as its last bytes were
 * handed over, while they may still wait in h3q or be in flight; a QUIC close discards
 * them, and the client would get the CONNECTION_CLOSE instead of the end of its response.
 * So the close also waits for h3q_quic_conn_unacknowledged_streams() to reach 0: every
 * stream h3q sent FIN on is acknowledged to its end, and nothing waits inside h3q. (A
 * release callback of h3q_conn_send_data_zerocopy() does not say that: h3q may copy a small
 * body and release it before the call returns.) The close also waits one round trip after
 * the final GOAWAY, so that it and the refusals of requests above it arrive before the
 * CONNECTION_CLOSE: the count does not cover the GOAWAY once sent (the control stream
 * never ends).
 *
 * New connections during the drain are shut down at once with h3q_conn_shutdown(): no
 * request is accepted yet, so the GOAWAY's id is 0 and the client learns that none of its
 * requests will be processed here and may retry them elsewhere; closing them bare would
 * leave it guessing whether they were (RFC 9114 section 5.2). They close like the others.
 *
 * The drain timeout (--drain-timeout, default 10 s; 0: at once) bounds the wait: every
 * request still running is reset with H3_REQUEST_CANCELLED (and a request body still
 * arriving stopped the same way), logged as aborted, and the connections are closed with
 * H3_NO_ERROR one round trip later, so the resets reach the clients before the close (a
 * QUIC close discards frames not sent yet). A second signal does the same at once and the
 * program exits as soon as the CONNECTION_CLOSE datagrams are sent. After the last
 * connection is closed the program waits, at most IDLE_WAIT_NS, until the endpoint needs
 * no timer (h3q_endpoint_next_timeout() == EX_NEVER): it then has answered the peers'
 * last packets with CONNECTION_CLOSE again where needed.
 *
 * --max-requests-per-connection K: the Kth request on a connection sends the final GOAWAY
 * at once (h3q_conn_shutdown(), no notice: the server knows it will accept no more); the
 * connection then closes as above. The GOAWAY's id follows the highest stream h3q had seen,
 * so a request beyond the Kth may still arrive below it: it is rejected with
 * H3_REQUEST_REJECTED (not processed, so the client may retry it elsewhere), and exactly K
 * are served per connection. Production servers do this to spread load and renew
 * connections.
 */
#define _GNU_SOURCE
#include "server.h"

#include "ex_clock.h"
#include "ex_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUND_TRIP_NS (150 * 1000000ULL) /* see "The drain" above */
#define IDLE_WAIT_NS (2 * NS_PER_S)      /* longest wait for the endpoint after the closes */

/* ---- connection states ---------------------------------------------------------------- */

static void set_state(conn *c, conn_state state, uint64_t now) {
    c->state = state;
    c->state_ns = now;
    if (!list_linked(&c->going)) list_add(&c->srv->going, &c->going);
}

static void send_final_goaway(conn *c, uint64_t now) {
    h3q_result rc = h3q_conn_shutdown(c->h3);
    if (rc != H3Q_OK) ex_debug("%s: h3q_conn_shutdown: %s", c->peer, h3q_result_str(rc));
    else ex_debug("%s: GOAWAY (final)", c->peer);
    set_state(c, CONN_SHUTDOWN_SENT, now);
}

static void close_conn(conn *c, const char *reason) {
    h3q_quic_conn_close(c->quic, H3Q_H3_NO_ERROR, (const uint8_t *)reason, strlen(reason));
    c->state = CONN_CLOSED;
}

/* Requests over, and every response byte acknowledged. */
static bool conn_finished(conn *c) {
    size_t active, unacknowledged;
    if (h3q_conn_active_requests(c->h3, &active) != H3Q_OK) active = 0;
    if (h3q_quic_conn_unacknowledged_streams(c->quic, &unacknowledged) != H3Q_OK)
        unacknowledged = 0;
    return active == 0 && unacknowledged == 0;
}

/* Responses not complete yet (for the log). */
static size_t running(const conn *c) {
    size_t n = 0;
    for (const stream *s = c->streams; s; s = s->next) n += !s->done;
    return n;
}

/* Cancels every request still running on every connection (logged with `why`), sends the
 * final GOAWAY where it was not sent, and schedules the closes one round trip later. */
static void abort_all(server *srv, const char *why, uint64_t now) {
    srv->aborted = true;
    for (list *l = srv->conns.next; l != &srv->conns; l = l->next) {
        conn *c = CONTAINER(l, conn, all);
        if (c->terminated || c->state == CONN_CLOSED || c->state == CONN_CLOSING) continue;
        if (c->state != CONN_SHUTDOWN_SENT) h3q_conn_shutdown(c->h3);
        for (stream *s = c->streams; s; s = s->next)
            abort_stream(c, s, H3Q_H3_REQUEST_CANCELLED, why);
        set_state(c, CONN_CLOSING, now);
    }
}

/* ---- signals -------------------------------------------------------------------------- */

static void begin_drain(server *srv, int sig, uint64_t now) {
    size_t requests = 0;
    srv->draining = true;
    srv->drain_deadline = now + srv->opt->drain_timeout_ns;
    for (list *l = srv->conns.next; l != &srv->conns; l = l->next) {
        conn *c = CONTAINER(l, conn, all);
        requests += running(c);
        if (c->state != CONN_OPEN) continue; /* shutting down already */
        h3q_conn_shutdown_notice(c->h3);
        set_state(c, CONN_NOTICE_SENT, now);
    }
    uint64_t ms = srv->opt->drain_timeout_ns / 1000000;
    char worker[32] = "";
    if (srv->proc->nworkers > 1) snprintf(worker, sizeof worker, " [worker %u]", srv->index);
    ex_warn("signal %d: draining %zu connection(s), %zu request(s) in progress, for up to "
            "%" PRIu64 ".%03u s (a second signal ends it at once)%s",
            sig, srv->nconns, requests, ms / 1000, (unsigned)(ms % 1000), worker);
}

/* A second signal: the drain timeout now, and the closes at once. */
static void end_now(server *srv, int sig, uint64_t now) {
    ex_warn("signal %d again: ending the drain", sig);
    if (!srv->aborted) abort_all(srv, "aborted by a second signal", now);
    /* The resets out first: the close discards frames not sent yet. */
    ex_tx_flush(srv->tx, &srv->udp, srv->endpoint);
    for (list *l = srv->conns.next; l != &srv->conns; l = l->next) {
        conn *c = CONTAINER(l, conn, all);
        if (!c->terminated && c->state != CONN_CLOSED) close_conn(c, "server shutdown");
    }
    srv->exit_now = true; /* serve() sends the CONNECTION_CLOSEs, then the loop ends */
}

void drain_signal(server *srv, int sig, int count, uint64_t now) {
    if (!srv->draining) {
        begin_drain(srv, sig, now);
        count--;
    }
    if (count > 0) end_now(srv, sig, now);
}

/* ---- GOAWAY on the way ------------------------------------------------------------------ */

void drain_accepted(conn *c, uint64_t now) {
    ex_debug("%s: connection during the drain: GOAWAY at once", c->peer);
    send_final_goaway(c, now);
}

bool drain_count_request(conn *c, stream *s, uint64_t now) {
    uint64_t max = c->srv->opt->max_requests;
    c->requests++;
    if (max == 0 || c->requests < max) return true;
    if (c->requests > max) {
        abort_stream(c, s, H3Q_H3_REQUEST_REJECTED, "rejected: over --max-requests-per-connection");
        return false;
    }
    if (c->state == CONN_OPEN || c->state == CONN_NOTICE_SENT) {
        ex_debug("%s: %" PRIu64 " requests: the connection's last", c->peer, max);
        send_final_goaway(c, now);
    }
    return true;
}

void drain_step(server *srv, uint64_t now) {
    if (srv->draining && !srv->aborted && now >= srv->drain_deadline) {
        if (srv->opt->drain_timeout_ns) ex_warn("drain timeout: cancelling what is left");
        abort_all(srv, "aborted at the drain timeout", now);
    }
    for (list *l = srv->going.next; l != &srv->going; l = l->next) {
        conn *c = CONTAINER(l, conn, going);
        bool waited = now >= c->state_ns + ROUND_TRIP_NS;
        if (c->terminated || !waited) continue;
        if (c->state == CONN_NOTICE_SENT)
            send_final_goaway(c, now);
        else if ((c->state == CONN_SHUTDOWN_SENT && conn_finished(c)) || c->state == CONN_CLOSING)
            close_conn(c, "server shutdown");
    }
}

uint64_t drain_next_wake(const server *srv, uint64_t now) {
    uint64_t wake = EX_NEVER;
    if (srv->draining && !srv->aborted) wake = srv->drain_deadline;
    if (srv->idle_deadline) wake = ex_earliest(wake, srv->idle_deadline);
    for (const list *l = srv->going.next; l != &srv->going; l = l->next) {
        const conn *c = CONTAINER(l, const conn, going);
        uint64_t waited = c->state_ns + ROUND_TRIP_NS;
        /* Past its wait, a SHUTDOWN_SENT connection waits for input (acknowledgements, the
         * ends of requests), which wakes the loop by itself. */
        if (c->state == CONN_CLOSED || c->terminated ||
            (c->state == CONN_SHUTDOWN_SENT && waited <= now))
            continue;
        wake = ex_earliest(wake, waited);
    }
    return wake;
}

bool drain_finished(server *srv, uint64_t now) {
    if (srv->exit_now) return true;
    if (!srv->draining || srv->nconns > 0) return false;
    if (h3q_endpoint_next_timeout(srv->endpoint) == EX_NEVER) return true;
    if (!srv->idle_deadline) srv->idle_deadline = now + IDLE_WAIT_NS;
    return now >= srv->idle_deadline;
}
