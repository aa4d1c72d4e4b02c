/*
 * h3q-client's requests: starting them on a connection, their HTTP/3 events, response
 * bodies (counted, written with --output, hashed with --sha256), request bodies (--data,
 * paced like the server's response bodies: see "Body pacing" in
 * examples/server/connections.c), and one result line each.
 *
 * A request the server did not process (H3Q_EVENT_STREAM_RESET with H3_REQUEST_REJECTED,
 * which h3q reports for every request at or above a GOAWAY's id; or a new request h3q
 * refuses with H3Q_ERR_GOING_AWAY) can be sent again elsewhere: rejected() puts it back in
 * the queue, after undoing its attempt (no bytes counted, the output file truncated when it
 * starts again, --data sent from the start), and connections.c opens the connection it
 * will go on. A request that had response headers already is not retried: the server did
 * process it, whatever the code says.
 *
 * Priorities (RFC 9218): a request whose URL came after a --priority carries it as its
 * `priority` header (retries too). That is all a client has to do: the server reads it
 * (h3q does, and tells its QUIC layer), and h3q over h3q_conn_new_quic() schedules our own
 * request body by it as well. With -v, each request's start and completion are logged,
 * the completion with how many bytes the other requests in flight had by then: that shows
 * whether an urgent response overtook the others.
 */
#define _GNU_SOURCE
#include "client.h"

#include "ex_clock.h"
#include "ex_h3.h"
#include "ex_log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the queue ------------------------------------------------------------------------ */

bool requests_waiting(const client *cl) { return cl->retry_len > 0 || cl->next_req < cl->nreqs; }

/* The next request to start: those to retry first, then the URL list in order. */
static request *next_waiting(client *cl) {
    if (cl->retry_len > 0) {
        request *r = cl->retry[cl->retry_head];
        cl->retry_head = (cl->retry_head + 1) % cl->nreqs;
        cl->retry_len--;
        return r;
    }
    /* --resume: the second round waits for the resumed connection. */
    size_t end = cl->resumed ? cl->nreqs : cl->first_round;
    return cl->next_req < end ? &cl->reqs[cl->next_req++] : NULL;
}

/* Ends the request's current attempt: off its connection, output closed, hash dropped. */
static void end_attempt(client *cl, request *r) {
    if (r->conn) {
        r->conn->in_flight--;
        cl->in_flight--;
        r->conn = NULL;
    }
    if (r->out && r->out != stdout) fclose(r->out);
    r->out = NULL;
    free(r->sha);
    r->sha = NULL;
}

void fail(client *cl, request *r, const char *why) {
    if (r->done) return;
    r->done = r->failed = true;
    cl->finished++;
    cl->failures++;
    end_attempt(cl, r);
    printf("FAILED %s: %s (status %d, %" PRIu64 " bytes)\n", r->path, why, r->status,
           r->received);
}

void fail_waiting(client *cl, const char *why) {
    for (request *r; (r = next_waiting(cl));) fail(cl, r, why);
}

const char *priority_text(h3q_priority p, const char *sep, char out[PRIORITY_TEXT_LEN]) {
    snprintf(out, PRIORITY_TEXT_LEN, "u=%u%s%s", (unsigned)p.urgency, p.incremental ? sep : "",
             p.incremental ? "i" : "");
    return out;
}

/* The request's priority for the log: as given, or the default. */
static const char *priority_of(const request *r, char out[PRIORITY_TEXT_LEN]) {
    if (r->arg->has_priority) return priority_text(r->arg->priority, ",", out);
    snprintf(out, PRIORITY_TEXT_LEN, "u=3 (default)");
    return out;
}

/* The request on `c`'s stream 4*k while it is in flight there, else NULL. */
static request *live(connection *c, size_t k) {
    request *r = c->by_stream[k];
    return r && r->conn == c && !r->done && r->stream_id == 4 * (uint64_t)k ? r : NULL;
}

/* -v: a request completed; how long it took, and how far the others in flight had got. */
static void log_completion(client *cl, request *r) {
    uint64_t received = 0, announced = 0;
    size_t others = 0, unknown = 0;
    for (connection *c = cl->conns; c; c = c->next) {
        /* Requests start in stream order: skip the finished ones at the front. */
        while (c->first_active < c->nstreams && !live(c, c->first_active)) c->first_active++;
        for (size_t k = c->first_active; k < c->nstreams; k++) {
            request *o = live(c, k);
            if (!o || o == r) continue;
            others++;
            received += o->received;
            if (o->content_length >= 0) announced += (uint64_t)o->content_length;
            else unknown++;
        }
    }
    char prio[PRIORITY_TEXT_LEN], more[48] = "";
    if (unknown) snprintf(more, sizeof more, " (%zu without content-length)", unknown);
    ex_debug("connection %d: %s (stream %" PRIu64 ", %s) complete in %.3f s; the %zu "
             "other(s) in flight had %" PRIu64 " of %" PRIu64 " bytes%s",
             r->conn->number, r->path, r->stream_id, priority_of(r, prio),
             (double)(ex_now_ns() - r->start_ns) / 1e9, others, received, announced, more);
}

static void complete(client *cl, request *r) {
    if (r->done) return;
    if (r->status < 200 || r->status > 299) {
        fail(cl, r, "status is not 2xx");
        return;
    }
    if (r->content_length >= 0 && (uint64_t)r->content_length != r->received) {
        fail(cl, r, "body length differs from content-length");
        return;
    }
    FILE *out = r->out;
    r->out = NULL;
    if (out && out != stdout && fclose(out) != 0) {
        fail(cl, r, "writing the output file failed");
        return;
    }
    char hex[EX_SHA256_HEX_LEN] = "";
    if (r->sha) {
        uint8_t digest[EX_SHA256_LEN];
        ex_sha256_final(r->sha, digest);
        ex_sha256_hex(digest, hex);
    }
    char prio[PRIORITY_TEXT_LEN] = "";
    if (r->arg->has_priority) priority_text(r->arg->priority, ",", prio);
    if (ex_verbose) log_completion(cl, r);
    r->done = true;
    cl->finished++;
    cl->fruitless = 0; /* the server serves: new connections are worth opening again */
    cl->failed_connections = 0;
    end_attempt(cl, r);
    printf("%d %" PRIu64 " bytes %s%s%s%s%s\n", r->status, r->received, r->path,
           hex[0] ? " sha256=" : "", hex, prio[0] ? " " : "", prio);
}

/* Puts `r` back in the queue, to be sent again from the start; `again` says where (for
 * the log). */
static void requeue_on(client *cl, request *r, const char *why, const char *again) {
    if (r->conn)
        ex_debug("connection %d: %s (stream %" PRIu64 ") %s: %s", r->conn->number, r->path,
                 r->stream_id, why, again);
    cl->bytes -= r->received;
    end_attempt(cl, r);
    r->started = false;
    cl->retry[(cl->retry_head + cl->retry_len++) % cl->nreqs] = r;
    cl->retried++;
}

static void requeue(client *cl, request *r, const char *why) {
    requeue_on(cl, r, why, "retrying on a new connection");
}

void resend(client *cl, request *r, const char *why) {
    requeue_on(cl, r, why, "sending it again on this connection");
}

void rejected(client *cl, request *r, const char *why) {
    if (!cl->opt->retry || r->head_seen) fail(cl, r, why);
    else requeue(cl, r, why);
}

void connection_lost(client *cl, request *r, const char *why) {
    /* A GET (no --data) may be sent again after a connection failure (RFC 9110 section
     * 9.2.2: it is idempotent), even with part of its response in: the new attempt
     * rewrites its output file from the start. Not when part of it went to stdout
     * (--output -, --include), which cannot be taken back. */
    bool on_stdout = cl->opt->include ||
                     (cl->opt->output_dir && strcmp(cl->opt->output_dir, "-") == 0);
    if (cl->data_fd >= 0 || (r->head_seen && on_stdout)) fail(cl, r, why);
    else requeue(cl, r, why);
}

/* ---- starting ------------------------------------------------------------------------ */

static FILE *open_output(const char *dir, const char *path) {
    if (strcmp(dir, "-") == 0) return stdout;
    char name[512];
    const char *last = strrchr(path, '/');
    last = last ? last + 1 : path;
    size_t n = strcspn(last, "?#");
    if (n == 0 || (n == 1 && last[0] == '.') || (n == 2 && last[0] == '.' && last[1] == '.'))
        snprintf(name, sizeof name, "%s/index.html", dir);
    else
        snprintf(name, sizeof name, "%s/%.*s", dir, (int)n, last);
    FILE *f = fopen(name, "wb"); /* truncates what an earlier, rejected attempt wrote */
    if (!f) ex_warn("%s: %s", name, strerror(errno));
    return f;
}

/* Sends one request's headers on a new stream of `c` (its body follows in feed_bodies),
 * from a clean state: a retried request starts over. */
static void start_request(client *cl, connection *c, request *r) {
    uint64_t id;
    if (h3q_quic_conn_get_next_available_stream_id(c->quic, false, &id) != H3Q_OK) {
        fail(cl, r, "no stream available");
        return;
    }
    char len[24], prio[PRIORITY_TEXT_LEN];
    snprintf(len, sizeof len, "%" PRIu64, cl->data_len);
    bool post = cl->data_fd >= 0;
    h3q_header h[8] = {ex_hdr(":method", post ? "POST" : "GET"), ex_hdr(":scheme", "https"),
                       ex_hdr(":authority", cl->authority), ex_hdr(":path", r->path),
                       ex_hdr("user-agent", "h3q-client/" H3Q_VERSION_STRING)};
    size_t n = 5;
    if (post) {
        h[n++] = ex_hdr("content-type", "application/octet-stream");
        h[n++] = ex_hdr("content-length", len);
    }
    if (r->arg->has_priority) /* as RFC 8941 writes a dictionary: "u=3, i" */
        h[n++] = ex_hdr("priority", priority_text(r->arg->priority, ", ", prio));
    h3q_result rc = h3q_conn_send_headers(c->h3, id, h, n, !post || cl->data_len == 0);
    if (rc == H3Q_ERR_GOING_AWAY) { /* nothing was sent: the server will not take it */
        c->going_away = true;
        rejected(cl, r, "not sent: the server's GOAWAY refuses new requests (H3Q_ERR_GOING_AWAY)");
        return;
    }
    if (rc != H3Q_OK) {
        fail(cl, r, h3q_result_str(rc));
        return;
    }
    r->started = true;
    r->conn = c;
    r->stream_id = id;
    r->head_seen = r->body_stopped = false;
    r->status = 0;
    r->content_length = -1;
    r->received = r->body_sent = 0;
    r->start_ns = ex_now_ns();
    ex_debug("connection %d: %s %s on stream %" PRIu64 ", priority %s", c->number,
             post ? "POST" : "GET", r->path, id, priority_of(r, prio));
    c->in_flight++;
    cl->in_flight++;
    add_stream(c, r, id);
    if (cl->opt->sha256) {
        r->sha = ex_xcalloc(1, sizeof *r->sha);
        ex_sha256_init(r->sha);
    }
    if (cl->opt->output_dir) {
        r->out = open_output(cl->opt->output_dir, r->path);
        if (!r->out) fail(cl, r, "cannot open the output file");
    }
}

void start_requests(client *cl, connection *c) {
    request *r;
    while (c && accepts_requests(c) && !c->going_away && !c->closing && !c->terminated &&
           cl->in_flight < (size_t)cl->opt->parallel && (r = next_waiting(cl)))
        start_request(cl, c, r);
}

/* ---- responses ------------------------------------------------------------------------ */

static void print_headers(const h3q_event *ev, const char *path) {
    printf("> %s\n", path);
    for (size_t i = 0; i < ev->headers_len; i++)
        printf("%.*s: %.*s\n", (int)ev->headers[i].name_len, (const char *)ev->headers[i].name,
               (int)ev->headers[i].value_len, (const char *)ev->headers[i].value);
    printf("\n");
}

/* A response's HEADERS: the status and content-length of the final response (an interim
 * 1xx one is skipped), or trailers. */
static void on_response_headers(client *cl, request *r, const h3q_event *ev) {
    if (cl->opt->include) print_headers(ev, r->path);
    if (r->head_seen) return; /* trailers */
    int status = 0;
    for (size_t i = 0; i < ev->headers_len; i++) {
        const h3q_header *h = &ev->headers[i];
        char v[24];
        if (!ex_hdr_value(h, v, sizeof v)) continue;
        if (ex_hdr_is(h, ":status")) status = atoi(v);
        else if (ex_hdr_is(h, "content-length")) r->content_length = strtoll(v, NULL, 10);
    }
    if (status >= 100 && status < 200) { /* interim response: wait for the final one */
        r->content_length = -1;
    } else {
        r->status = status;
        r->head_seen = true;
    }
}

static void on_body(client *cl, request *r, const h3q_event *ev) {
    r->received += ev->data_len;
    cl->bytes += ev->data_len;
    if (r->sha) ex_sha256_update(r->sha, ev->data, ev->data_len);
    if (r->out && ev->data_len && fwrite(ev->data, 1, ev->data_len, r->out) != ev->data_len)
        fail(cl, r, "writing the output failed");
}

/* The server reset the response: H3_REQUEST_REJECTED means it did not process the request
 * (after its GOAWAY, h3q reports every request at or above the GOAWAY's id so, and the
 * server's own resets may come before the GOAWAY frame: reject_later() waits for the end
 * of the batch of events to tell which); any other code fails the request. */
static void on_reset(client *cl, connection *c, request *r, uint64_t code) {
    char name[EX_CODE_NAME_LEN], why[96];
    if (code == H3Q_H3_REQUEST_REJECTED) {
        reject_later(c, r);
        return;
    }
    snprintf(why, sizeof why, "reset by the server: %s", ex_code_name(code, name));
    fail(cl, r, why);
}

void on_http_event(void *user_data, const h3q_event *ev) {
    connection *c = user_data;
    client *cl = c->cl;
    char name[EX_CODE_NAME_LEN];
    switch (ev->type) {
    case H3Q_EVENT_PUSH_PROMISE_RECEIVED:
        cl->pushes++;
        ex_debug("push promise %" PRIu64 " on stream %" PRIu64, ev->push_id, ev->stream_id);
        return;
    case H3Q_EVENT_GOAWAY_RECEIVED:
        on_goaway(c, ev->stream_id);
        return;
    case H3Q_EVENT_CONNECTION_CLOSED:
        on_connection_closed(c, ev);
        return;
    default:
        break;
    }
    if (ev->has_push_id) return; /* a pushed response: accepted and ignored */
    request *r = request_of(c, ev->stream_id);
    if (!r) return;
    switch (ev->type) {
    case H3Q_EVENT_HEADERS_RECEIVED:
        on_response_headers(cl, r, ev);
        break;
    case H3Q_EVENT_DATA_RECEIVED:
        on_body(cl, r, ev);
        break;
    case H3Q_EVENT_STREAM_RESET:
        on_reset(cl, c, r, ev->error_code);
        return;
    case H3Q_EVENT_STOP_SENDING:
        /* The server needs no more of the request body (fine if it answered: h3q has
         * reset our sending side); a reset or the response follows. */
        r->body_stopped = true;
        ex_debug("connection %d: %s: STOP_SENDING (%s)", c->number, r->path,
                 ex_code_name(ev->error_code, name));
        return;
    default:
        return;
    }
    if (ev->stream_ended && !r->done) {
        if (!r->head_seen) fail(cl, r, "stream ended without a response");
        else complete(cl, r);
    }
}

/* ---- request bodies (paced, see the top) ------------------------------------------------ */

/* Sends the next chunk of --data on a request's stream. */
static uint64_t feed_chunk(client *cl, connection *c, request *r) {
    uint64_t left = cl->data_len - r->body_sent;
    size_t n = left < CHUNK ? (size_t)left : CHUNK;
    ssize_t got = pread(cl->data_fd, cl->scratch, n, (off_t)r->body_sent);
    if (got <= 0) {
        h3q_conn_reset_stream(c->h3, r->stream_id, H3Q_H3_REQUEST_CANCELLED);
        fail(cl, r, "reading --data failed");
        return 0;
    }
    bool end = r->body_sent + (uint64_t)got == cl->data_len;
    if (h3q_conn_send_data(c->h3, r->stream_id, cl->scratch, (size_t)got, end) != H3Q_OK) {
        fail(cl, r, "sending the body failed");
        return 0;
    }
    r->body_sent += (uint64_t)got;
    return (uint64_t)got;
}

void feed_bodies(client *cl) {
    if (cl->data_fd < 0) return;
    uint64_t backlog = 0;
    for (connection *c = cl->conns; c; c = c->next) {
        /* Requests start in stream order: skip the finished ones at the front. */
        while (c->first_active < c->nstreams && !live(c, c->first_active)) c->first_active++;
        for (size_t k = c->first_active; k < c->nstreams; k++) {
            uint64_t unsent = live(c, k) ? ex_unsent(c->quic, 4 * (uint64_t)k) : 0;
            if (unsent != UINT64_MAX) backlog += unsent;
        }
    }
    for (bool fed = true; fed;) {
        fed = false;
        for (connection *c = cl->conns; c; c = c->next) {
            if (c->terminated || c->closing) continue;
            for (size_t k = c->first_active; k < c->nstreams; k++) {
                request *r = live(c, k);
                if (!r || r->body_stopped || r->body_sent >= cl->data_len) continue;
                if (backlog >= BACKLOG_WINDOW) return;
                if (ex_unsent(c->quic, r->stream_id) >= STREAM_WINDOW) continue;
                uint64_t n = feed_chunk(cl, c, r);
                backlog += n;
                fed |= n > 0;
            }
        }
    }
}
