/*
 * The requests: GETs (POSTs of the --data file) sent through h3q as soon as the server
 * allows another request stream, request bodies fed as flow control lets them out
 * (feed_bodies), the responses' HTTP/3 events (headers, body, resets, GOAWAY, the
 * connection's end), each response body to its output (--output) and hash (--sha256),
 * and one result line each on stdout:
 *
 *   200 10000000 bytes /10000000 sha256=<64 hex digits>
 *   FAILED /missing: status is not 2xx (status 404, 9 bytes)
 *
 * A request's output file is owned by the request from its start until it completes or
 * fails (closed there), or until close_outputs() at exit.
 */
#define _GNU_SOURCE /* getaddrinfo, ppoll (ex_clock.h) in C11 */
#include "ngclient.h"

#include "ex_h3.h"
#include "ex_log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void close_output(request *r) {
    if (r->out && r->out != stdout) fclose(r->out);
    r->out = NULL;
}

void close_outputs(client *cl) {
    for (size_t i = 0; i < cl->nreqs; i++) close_output(&cl->reqs[i]);
}

void fail_request(client *cl, request *r, const char *why) {
    if (r->done) return;
    r->done = r->failed = true;
    cl->finished++;
    cl->failures++;
    close_output(r);
    printf("FAILED %s: %s (status %d, %" PRIu64 " bytes)\n", r->path, why, r->status,
           r->received);
}

void fail_unfinished(client *cl, const char *why) {
    for (size_t i = 0; i < cl->nreqs; i++) fail_request(cl, &cl->reqs[i], why);
}

/* Stops a response we no longer want (STOP_SENDING, H3_REQUEST_CANCELLED), then fails it. */
static void abandon(client *cl, request *r, const char *why) {
    if (cl->h3 && !cl->quic.closed)
        (void)h3q_conn_stop_sending(cl->h3, (uint64_t)r->stream_id, H3Q_H3_REQUEST_CANCELLED);
    fail_request(cl, r, why);
}

/* --output DIR: DIR/<last path segment>, index.html for a path ending in '/'. */
static FILE *open_output(const char *dir, const char *path) {
    if (strcmp(dir, "-") == 0) return stdout;
    const char *last = strrchr(path, '/');
    last = last ? last + 1 : path;
    size_t n = strcspn(last, "?#");
    char name[4096];
    if (n == 0 || (n == 1 && last[0] == '.') || (n == 2 && memcmp(last, "..", 2) == 0))
        snprintf(name, sizeof name, "%s/index.html", dir);
    else
        snprintf(name, sizeof name, "%s/%.*s", dir, (int)n, last);
    FILE *f = fopen(name, "wb");
    if (!f) ex_warn("%s: %s", name, strerror(errno));
    return f;
}

/* ---- starting ------------------------------------------------------------------------------ */

static void start_request(client *cl, request *r) {
    int64_t id = cl->next_bidi; /* what the transport's get_next_available_stream_id gives */
    bool post = cl->data_fd >= 0;
    char len[24];
    snprintf(len, sizeof len, "%" PRIu64, cl->data_len);
    h3q_header h[7] = {ex_hdr(":method", post ? "POST" : "GET"), ex_hdr(":scheme", "https"),
                       ex_hdr(":authority", cl->authority), ex_hdr(":path", r->path),
                       ex_hdr("user-agent", "h3q-ngtcp2-client/" H3Q_VERSION_STRING)};
    size_t n = 5;
    if (post) {
        h[n++] = ex_hdr("content-type", "application/octet-stream");
        h[n++] = ex_hdr("content-length", len);
    }
    h3q_result rc = h3q_conn_send_headers(cl->h3, (uint64_t)id, h, n, !post || cl->data_len == 0);
    if (rc == H3Q_ERR_GOING_AWAY) {
        cl->going_away = true;
        fail_request(cl, r, "not sent: the server's GOAWAY refuses new requests");
        return;
    }
    if (rc != H3Q_OK) {
        char why[300];
        snprintf(why, sizeof why, "not sent: %s (%s)", h3q_result_str(rc),
                 h3q_conn_last_error(cl->h3) ? h3q_conn_last_error(cl->h3) : "no detail");
        fail_request(cl, r, why);
        return;
    }
    r->started = true;
    r->stream_id = id;
    cl->by_stream[id / 4] = r; /* one stream per request started: id / 4 < nreqs */
    ex_debug("%s %s on stream %" PRId64, post ? "POST" : "GET", r->path, id);
    if (cl->opt->sha256) ex_sha256_init(&r->sha);
    if (cl->opt->output_dir && !(r->out = open_output(cl->opt->output_dir, r->path)))
        abandon(cl, r, "cannot open the output file");
}

void start_requests(client *cl) {
    if (!cl->h3 || !cl->quic.handshake_done || cl->quic.closed || cl->quic.close_requested)
        return;
    while (cl->next_start < cl->nreqs) {
        request *r = &cl->reqs[cl->next_start];
        if (cl->going_away) {
            fail_request(cl, r, "not sent: the server's GOAWAY refuses new requests");
        } else {
            if (ngtcp2_conn_get_streams_bidi_left(cl->quic.conn) == 0) return; /* MAX_STREAMS */
            start_request(cl, r);
        }
        cl->next_start++;
    }
}

/* Back-pressure: a body goes to h3q in BODY_CHUNK pieces only while less than BODY_WINDOW
 * of its stream, and BODY_BACKLOG of all, waits unsent in the transport; flow control (the
 * server's MAX_STREAM_DATA and MAX_DATA) decides how fast ngtcp2 takes them, and with them
 * how fast the file is read. */
void feed_bodies(client *cl) {
    static uint8_t chunk[BODY_CHUNK];
    if (cl->data_fd < 0 || !cl->h3 || cl->quic.closed || cl->quic.close_requested) return;
    uint64_t backlog = transport_unsent_total(cl);
    for (size_t i = 0; i < cl->next_start && backlog < BODY_BACKLOG; i++) {
        request *r = &cl->reqs[i];
        while (r->started && !r->done && r->body_sent < cl->data_len &&
               backlog < BODY_BACKLOG && transport_unsent(cl, r->stream_id) < BODY_WINDOW) {
            uint64_t left = cl->data_len - r->body_sent;
            size_t want = left < sizeof chunk ? (size_t)left : sizeof chunk;
            ssize_t got = pread(cl->data_fd, chunk, want, (off_t)r->body_sent);
            if (got <= 0) {
                abandon(cl, r, got < 0 ? "reading --data failed" : "--data file shrank");
                break;
            }
            bool last = r->body_sent + (uint64_t)got == cl->data_len;
            h3q_result rc = h3q_conn_send_data(cl->h3, (uint64_t)r->stream_id, chunk,
                                               (size_t)got, last);
            if (rc != H3Q_OK) {
                char why[300];
                snprintf(why, sizeof why, "sending the body failed: %s (%s)",
                         h3q_result_str(rc),
                         h3q_conn_last_error(cl->h3) ? h3q_conn_last_error(cl->h3) : "no detail");
                abandon(cl, r, why);
                break;
            }
            r->body_sent += (uint64_t)got;
            backlog += (uint64_t)got;
        }
    }
}

/* ---- responses ------------------------------------------------------------------------------ */

/* The request in flight on `stream_id`, or NULL (a push stream, or one already over). */
static request *on_stream(client *cl, uint64_t stream_id) {
    request *r = stream_id % 4 == 0 && stream_id / 4 < cl->nreqs ? cl->by_stream[stream_id / 4]
                                                                  : NULL;
    return r && !r->done ? r : NULL;
}

static void complete(client *cl, request *r) {
    if (r->status < 200 || r->status > 299) {
        fail_request(cl, r, "status is not 2xx");
        return;
    }
    if (r->content_length >= 0 && (uint64_t)r->content_length != r->received) {
        fail_request(cl, r, "body length differs from content-length");
        return;
    }
    FILE *out = r->out;
    r->out = NULL;
    if (out && (out == stdout ? fflush(out) : fclose(out)) != 0) {
        fail_request(cl, r, "writing the output failed");
        return;
    }
    char hex[EX_SHA256_HEX_LEN] = "";
    if (cl->opt->sha256) {
        uint8_t digest[EX_SHA256_LEN];
        ex_sha256_final(&r->sha, digest);
        ex_sha256_hex(digest, hex);
    }
    r->done = true;
    cl->finished++;
    printf("%d %" PRIu64 " bytes %s%s%s\n", r->status, r->received, r->path,
           hex[0] ? " sha256=" : "", hex);
}

/* The response's head: :status (a 1xx is interim: the head is still to come) and
 * content-length. */
static void head(client *cl, request *r, const h3q_event *ev) {
    int status = 0;
    for (size_t i = 0; i < ev->headers_len; i++) {
        const h3q_header *h = &ev->headers[i];
        uint64_t v;
        if (ex_hdr_is(h, ":status") && ex_parse_u64((const char *)h->value, h->value_len, 999, &v))
            status = (int)v;
        else if (ex_hdr_is(h, "content-length") &&
                 ex_parse_u64((const char *)h->value, h->value_len, INT64_MAX, &v))
            r->content_length = (int64_t)v;
    }
    if (status < 100) {
        abandon(cl, r, "response without a valid :status");
        return;
    }
    r->status = status;
    if (status >= 200) r->head_seen = true;
}

static void body(client *cl, request *r, const uint8_t *data, size_t len) {
    r->received += len;
    cl->bytes += len;
    if (cl->opt->sha256) ex_sha256_update(&r->sha, data, len);
    if (r->out && len && fwrite(data, 1, len, r->out) != len)
        abandon(cl, r, "writing the output failed");
}

void on_http_event(void *user_data, const h3q_event *ev) {
    client *cl = user_data;
    char name[EX_CODE_NAME_LEN], why[EX_CODE_NAME_LEN + 64];
    request *r = NULL;
    if (ev->has_push_id) return; /* a pushed response: not asked for, ignored */
    switch (ev->type) {
    case H3Q_EVENT_HEADERS_RECEIVED:
        if (!(r = on_stream(cl, ev->stream_id))) return;
        if (!r->head_seen) head(cl, r, ev); /* else trailers: nothing to check */
        if (!r->done && ev->stream_ended) {
            if (r->head_seen) complete(cl, r);
            else fail_request(cl, r, "stream ended after an interim response");
        }
        return;
    case H3Q_EVENT_DATA_RECEIVED:
        if (!(r = on_stream(cl, ev->stream_id))) return;
        body(cl, r, ev->data, ev->data_len);
        if (!r->done && ev->stream_ended) complete(cl, r);
        return;
    case H3Q_EVENT_STREAM_RESET:
        if (!(r = on_stream(cl, ev->stream_id))) return;
        snprintf(why, sizeof why, "reset by the server: %s", ex_code_name(ev->error_code, name));
        fail_request(cl, r, why);
        return;
    case H3Q_EVENT_GOAWAY_RECEIVED:
        ex_debug("GOAWAY from the server: no request from stream %" PRIu64 " on", ev->stream_id);
        cl->going_away = true;
        return;
    case H3Q_EVENT_CONNECTION_CLOSED:
        ex_describe_close(ev, cl->close_text, sizeof cl->close_text);
        ex_debug("connection %s", cl->close_text);
        return;
    default:
        return;
    }
}
