/*
 * h3q-client: an HTTP/3 client on h3q's built-in QUIC layer over a UDP socket.
 *
 *   h3q-client [--ca FILE | --insecure] [--data FILE] [--output DIR] [--include]
 *              [--parallel N] [--repeat N] [-v] URL...
 *
 * Every URL (https://host[:port]/path, all with the same host and port) is fetched over one
 * QUIC connection, with up to N requests in flight (default 1). --data FILE makes each
 * request a POST with that file as its body. --output DIR writes each body to DIR/<last
 * path segment> (index.html for "/"); "-" writes bodies to stdout; without --output bodies
 * are counted and discarded. --include prints the response headers. --repeat N requests the
 * URL list N times (for benchmarks). Prints one line per response (status, bytes, path),
 * then a summary (requests, bytes, seconds, MB/s, req/s); a progress line on stderr when it
 * is a terminal. Exit status 0 when every request got a complete 2xx response, 1 if any
 * failed (connection error, other status, truncated body), 2 on a usage error.
 *
 * The loop has the shape of h3q-server's and uses the same plumbing (examples/common/:
 * ex_udp, ex_rx, ex_tx, ex_clock): sleep until the socket is readable or h3q's timer is
 * due, read datagrams in batches, run due timers, take the connection's events through
 * h3q_endpoint_next_ready (the client state is the connection's user data), start requests,
 * feed request bodies, send what the endpoint has. Request bodies are paced like the
 * server's response bodies (see "Body pacing" in h3q-server.c): 64 KiB chunks while the
 * stream holds under STREAM_WINDOW unsent bytes and all streams together under
 * BACKLOG_WINDOW.
 */
#define _GNU_SOURCE
#include "ex_addr.h"
#include "ex_clock.h"
#include "ex_h3.h"
#include "ex_log.h"
#include "ex_rx.h"
#include "ex_tx.h"
#include "ex_udp.h"

#include <h3q.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (64 * 1024)                       /* request body bytes per send */
#define STREAM_WINDOW (1u << 20)                /* unsent bytes per request stream */
#define BACKLOG_WINDOW (8u << 20)               /* unsent bytes of all streams together */
#define RX_ROUNDS 16                            /* batches read per wake-up */
#define PROGRESS_NS (250 * 1000000ULL)
#define CLOSE_WAIT_NS (1000 * 1000000ULL)
#define ATTEMPT_NS (1000 * 1000000ULL) /* per server address, to complete the handshake */

/* ---- state ---------------------------------------------------------------------------- */

typedef struct request {
    const char *path;       /* points into argv */
    uint64_t stream_id;
    bool started, head_seen, done, failed;
    int status;
    int64_t content_length; /* -1: none given */
    uint64_t received;
    uint64_t body_sent;     /* --data bytes handed to h3q */
    FILE *out;
} request;

typedef struct options {
    const char *ca, *data, *output_dir;
    bool insecure, include;
    long parallel, repeat;
    int first_url;
} options;

typedef struct client {
    const options *opt;
    ex_udp udp;
    ex_rx *rx;
    ex_tx *tx;
    h3q_endpoint *endpoint;
    h3q_quic_conn *quic;    /* its user data points back here */
    h3q_conn *h3;
    char host[256], port[8], authority[300];
    const struct addrinfo *addr; /* the server address being tried */
    request *reqs;
    size_t nreqs, next_req, first_active, in_flight, finished, failures;
    request **by_stream;    /* the request on client stream 4*k, or NULL */
    bool established, terminated, closing;
    char close_reason[320];
    int data_fd;            /* --data */
    uint64_t data_len;
    uint64_t bytes, start_ns, pushes, next_progress;
    bool progress_shown;
    uint8_t scratch[CHUNK];
} client;

/* ---- URLs ----------------------------------------------------------------------------- */

/* Splits https://host[:port]/path; host may be [v6]. Returns false if malformed. */
static bool parse_url(const char *url, char *host, size_t host_cap, char *port,
                      size_t port_cap, const char **path) {
    if (strncmp(url, "https://", 8) != 0) return false;
    const char *authority = url + 8;
    size_t len = strcspn(authority, "/");
    *path = authority[len] ? authority + len : "/";
    return ex_split_host_port(authority, len, host, host_cap, port, port_cap, "443") &&
           host[0] != '\0';
}

/* ---- requests ------------------------------------------------------------------------- */

static void fail(client *cl, request *r, const char *why) {
    if (r->done) return;
    r->done = r->failed = true;
    cl->finished++;
    cl->failures++;
    if (r->started) cl->in_flight--;
    if (r->out && r->out != stdout) fclose(r->out);
    r->out = NULL;
    printf("FAILED %s: %s (status %d, %" PRIu64 " bytes)\n", r->path, why, r->status,
           r->received);
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
    r->done = true;
    cl->finished++;
    cl->in_flight--;
    printf("%d %" PRIu64 " bytes %s\n", r->status, r->received, r->path);
}

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
    FILE *f = fopen(name, "wb");
    if (!f) ex_warn("%s: %s", name, strerror(errno));
    return f;
}

/* Sends one request's headers on a new stream (its body follows in feed_bodies). */
static void start_request(client *cl, request *r) {
    uint64_t id;
    if (h3q_quic_conn_get_next_available_stream_id(cl->quic, false, &id) != H3Q_OK) {
        fail(cl, r, "no stream available");
        return;
    }
    char len[24];
    snprintf(len, sizeof len, "%" PRIu64, cl->data_len);
    bool post = cl->data_fd >= 0;
    h3q_header h[7] = {ex_hdr(":method", post ? "POST" : "GET"), ex_hdr(":scheme", "https"),
                       ex_hdr(":authority", cl->authority), ex_hdr(":path", r->path),
                       ex_hdr("user-agent", "h3q-client/" H3Q_VERSION_STRING)};
    size_t n = 5;
    if (post) {
        h[n++] = ex_hdr("content-type", "application/octet-stream");
        h[n++] = ex_hdr("content-length", len);
    }
    r->started = true;
    r->stream_id = id;
    r->content_length = -1;
    cl->in_flight++;
    if (id / 4 < cl->nreqs) cl->by_stream[id / 4] = r;
    h3q_result rc = h3q_conn_send_headers(cl->h3, id, h, n, !post || cl->data_len == 0);
    if (rc != H3Q_OK) {
        fail(cl, r, h3q_result_str(rc));
        return;
    }
    if (cl->opt->output_dir) {
        r->out = open_output(cl->opt->output_dir, r->path);
        if (!r->out) fail(cl, r, "cannot open the output file");
    }
}

static void start_requests(client *cl) {
    if (!cl->established || cl->terminated || cl->closing) return;
    while (cl->in_flight < (size_t)cl->opt->parallel && cl->next_req < cl->nreqs)
        start_request(cl, &cl->reqs[cl->next_req++]);
}

static request *request_of(client *cl, uint64_t stream_id) {
    if (stream_id % 4 != 0 || stream_id / 4 >= cl->nreqs) return NULL;
    return cl->by_stream[stream_id / 4];
}

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

/* HTTP events (called during h3q_conn_handle_event). */
static void on_http_event(void *user_data, const h3q_event *ev) {
    client *cl = user_data;
    if (ev->type == H3Q_EVENT_PUSH_PROMISE_RECEIVED) {
        cl->pushes++;
        ex_debug("push promise %" PRIu64 " on stream %" PRIu64, ev->push_id, ev->stream_id);
        return;
    }
    if (ev->has_push_id) return; /* a pushed response: accepted and ignored */
    request *r = request_of(cl, ev->stream_id);
    if (!r || r->done) return;
    if (ev->type == H3Q_EVENT_HEADERS_RECEIVED) {
        on_response_headers(cl, r, ev);
    } else if (ev->type == H3Q_EVENT_DATA_RECEIVED) {
        r->received += ev->data_len;
        cl->bytes += ev->data_len;
        if (r->out && ev->data_len && fwrite(ev->data, 1, ev->data_len, r->out) != ev->data_len)
            fail(cl, r, "writing the output failed");
    }
    if (ev->stream_ended && !r->done) {
        if (!r->head_seen) fail(cl, r, "stream ended without a response");
        else complete(cl, r);
    }
}

/* QUIC events HTTP/3 does not report: the handshake, resets, STOP_SENDING, the end. */
static void on_quic_event(void *user_data, const h3q_quic_event *ev, h3q_result rc) {
    client *cl = user_data;
    request *r = request_of(cl, ev->stream_id);
    (void)rc;
    switch (ev->type) {
    case H3Q_QUIC_HANDSHAKE_COMPLETED:
        cl->established = true;
        ex_debug("connected, ALPN %.*s", (int)ev->data_len, (const char *)ev->data);
        break;
    case H3Q_QUIC_STREAM_RESET:
        if (r && !r->done) fail(cl, r, "the server reset the stream");
        break;
    case H3Q_QUIC_STOP_SENDING_RECEIVED:
        /* The server needs no more of the request body: fine if it answered. */
        if (r && !r->done) r->body_sent = cl->data_len;
        break;
    case H3Q_QUIC_CONNECTION_TERMINATED:
        cl->terminated = true;
        strcpy(cl->close_reason, "connection ");
        ex_describe_end(ev, cl->close_reason + strlen(cl->close_reason),
                        sizeof cl->close_reason - strlen(cl->close_reason));
        ex_debug("%s", cl->close_reason);
        break;
    default:
        break;
    }
}

/* ---- request bodies (paced, see the top) ------------------------------------------------ */

/* Sends the next chunk of --data on a request's stream. */
static uint64_t feed_chunk(client *cl, request *r) {
    uint64_t left = cl->data_len - r->body_sent;
    size_t n = left < CHUNK ? (size_t)left : CHUNK;
    ssize_t got = pread(cl->data_fd, cl->scratch, n, (off_t)r->body_sent);
    if (got <= 0) {
        h3q_quic_conn_reset_stream(cl->quic, r->stream_id, H3Q_H3_REQUEST_CANCELLED);
        fail(cl, r, "reading --data failed");
        return 0;
    }
    bool end = r->body_sent + (uint64_t)got == cl->data_len;
    if (h3q_conn_send_data(cl->h3, r->stream_id, cl->scratch, (size_t)got, end) != H3Q_OK) {
        fail(cl, r, "sending the body failed");
        return 0;
    }
    r->body_sent += (uint64_t)got;
    return (uint64_t)got;
}

static void feed_bodies(client *cl) {
    if (cl->data_fd < 0 || cl->terminated) return;
    /* Requests start in order: skip the finished ones at the front. */
    while (cl->first_active < cl->next_req && cl->reqs[cl->first_active].done)
        cl->first_active++;
    uint64_t backlog = 0;
    for (size_t i = cl->first_active; i < cl->next_req; i++) {
        uint64_t unsent = cl->reqs[i].done ? 0 : ex_unsent(cl->quic, cl->reqs[i].stream_id);
        if (unsent != UINT64_MAX) backlog += unsent;
    }
    for (bool fed = true; fed;) {
        fed = false;
        for (size_t i = cl->first_active; i < cl->next_req; i++) {
            request *r = &cl->reqs[i];
            if (r->done || r->body_sent >= cl->data_len) continue;
            if (backlog >= BACKLOG_WINDOW) return;
            if (ex_unsent(cl->quic, r->stream_id) >= STREAM_WINDOW) continue;
            uint64_t n = feed_chunk(cl, r);
            backlog += n;
            fed |= n > 0;
        }
    }
}

/* ---- connecting ----------------------------------------------------------------------- */

/* The endpoint's configuration: trust (--ca, or none with --insecure), a 30 s idle timeout
 * (the default is 60), SSLKEYLOGFILE, and what the socket allows. */
static h3q_result configure(client *cl, h3q_config *config) {
    h3q_result rc = cl->opt->ca ? h3q_config_load_ca_file(config, cl->opt->ca)
                                : h3q_config_set_verify_peer(config, false);
    if (rc == H3Q_OK) rc = h3q_config_set_idle_timeout_ms(config, 30000);
    if (rc == H3Q_OK && getenv("SSLKEYLOGFILE"))
        rc = h3q_config_set_key_log_file(config, getenv("SSLKEYLOGFILE"));
    if (rc == H3Q_OK) rc = ex_udp_configure(&cl->udp, config);
    return rc;
}

/* Opens a UDP socket for cl->addr's family, an endpoint, the QUIC connection (SNI = the
 * URL's host) and the HTTP/3 connection over it. False after printing why. */
static bool connect_to(client *cl) {
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
    if (rc != H3Q_OK) return false;
    rc = h3q_endpoint_connect(cl->endpoint, ex_now_ns(), cl->addr->ai_addr,
                              cl->addr->ai_addrlen, cl->host, &cl->quic);
    if (rc == H3Q_OK) rc = h3q_conn_new_quic(cl->quic, NULL, &cl->h3);
    if (rc != H3Q_OK) {
        ex_warn("connect: %s", h3q_last_error());
        return false;
    }
    h3q_quic_conn_set_user_data(cl->quic, cl);
    return true;
}

static void disconnect(client *cl) {
    h3q_conn_free(cl->h3);
    h3q_quic_conn_free(cl->quic);
    h3q_endpoint_free(cl->endpoint);
    ex_udp_close(&cl->udp);
    ex_tx_discard(cl->tx);
    cl->h3 = NULL;
    cl->quic = NULL;
    cl->endpoint = NULL;
}

/* A name may resolve to several addresses (localhost: ::1 and 127.0.0.1): when one gives
 * no handshake within ATTEMPT_NS, try the next. False if that fails at once. */
static bool next_address(client *cl, uint64_t now, uint64_t *attempt_ns) {
    if (cl->established || cl->terminated || !cl->addr->ai_next ||
        now - *attempt_ns < ATTEMPT_NS)
        return true;
    disconnect(cl);
    cl->addr = cl->addr->ai_next;
    *attempt_ns = now;
    ex_debug("no answer from the first address, trying the next");
    return connect_to(cl);
}

/* ---- the loop ----------------------------------------------------------------------- */

/* Everything after an input: events, new requests, bodies, transmits. */
static ex_tx_result step(client *cl) {
    h3q_quic_conn *quic;
    while (h3q_endpoint_next_ready(cl->endpoint, &quic) == H3Q_OK)
        ex_drain_events(quic, cl->h3, cl->host, on_http_event, on_quic_event,
                        h3q_quic_conn_user_data(quic));
    if (cl->terminated) /* whatever is still open can no longer complete */
        for (size_t i = 0; i < cl->nreqs; i++)
            if (!cl->reqs[i].done) fail(cl, &cl->reqs[i], cl->close_reason);
    start_requests(cl);
    if (ex_tx_flush(cl->tx, &cl->udp, cl->endpoint) == EX_TX_FAILED) return EX_TX_FAILED;
    feed_bodies(cl);
    return ex_tx_flush(cl->tx, &cl->udp, cl->endpoint);
}

/* The progress line on stderr (a terminal only); `final` erases it. */
static void progress(client *cl, uint64_t now, bool final) {
    if (final) {
        if (cl->progress_shown) fputs("\r\033[K", stderr);
        return;
    }
    if (!cl->next_progress || now < cl->next_progress) return;
    double secs = (double)(now - cl->start_ns) / 1e9;
    fprintf(stderr, "\r\033[K%zu/%zu requests, %.1f MB, %.1f MB/s", cl->finished, cl->nreqs,
            (double)cl->bytes / 1e6, secs > 0 ? (double)cl->bytes / 1e6 / secs : 0.0);
    cl->progress_shown = true;
    cl->next_progress = now + PROGRESS_NS;
}

/* Runs until every request is over and the connection is closed (or failed). */
static void run(client *cl) {
    uint64_t attempt_ns = cl->start_ns, close_deadline = EX_NEVER;
    for (;;) {
        uint64_t now = ex_now_ns();
        if (!next_address(cl, now, &attempt_ns)) return;
        ex_run_due_timers(cl->endpoint, now);
        ex_tx_result tx = step(cl);
        if (tx == EX_TX_FAILED) return;
        if (cl->finished == cl->nreqs && !cl->closing) {
            /* Done: close with H3_NO_ERROR and send the CONNECTION_CLOSE. */
            cl->closing = true;
            close_deadline = now + CLOSE_WAIT_NS;
            h3q_quic_conn_close(cl->quic, H3Q_H3_NO_ERROR, NULL, 0);
            continue;
        }
        if (cl->closing && (tx == EX_TX_IDLE || now >= close_deadline)) return;
        progress(cl, now, false);

        uint64_t wake = ex_earliest(h3q_endpoint_next_timeout(cl->endpoint), close_deadline);
        if (!cl->established && cl->addr->ai_next) wake = ex_earliest(wake, attempt_ns + ATTEMPT_NS);
        if (cl->next_progress) wake = ex_earliest(wake, cl->next_progress);
        ex_wait_result w = ex_wait(cl->udp.fd, tx == EX_TX_BLOCKED, wake, NULL);
        if (w == EX_WAIT_ERROR) {
            ex_warn("ppoll: %s", strerror(errno));
            return;
        }
        for (int round = 0; w == EX_WAIT_READY && round < RX_ROUNDS; round++) {
            int got = ex_rx_read(cl->rx, cl->udp.fd, cl->endpoint);
            if (got == 0) break;
            if (step(cl) == EX_TX_FAILED) return; /* acknowledgements out before reading on */
            if (got < EX_RX_BATCH) break;
        }
    }
}

/* ---- set-up --------------------------------------------------------------------------- */

static void usage(FILE *f) {
    fputs("usage: h3q-client [--ca FILE | --insecure] [--data FILE] [--output DIR] [--include]\n"
          "                  [--parallel N] [--repeat N] [-v] URL...\n"
          "  --ca FILE       trust the CA certificates in FILE (PEM)\n"
          "  --insecure      do not verify the server's certificate (local testing only)\n"
          "  --data FILE     POST the contents of FILE with every request\n"
          "  --output DIR    write each body to DIR/<last path segment> ('-': stdout)\n"
          "  --include       print response headers\n"
          "  --parallel N    requests in flight at once (default 1)\n"
          "  --repeat N      request the URL list N times\n"
          "  -v              log connection events to stderr\n"
          "URLs: https://host[:port]/path, all with the same host and port.\n",
          f);
}

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, options *o) {
    ex_log_init("h3q-client");
    o->parallel = o->repeat = 1;
    o->first_url = argc;
    for (int i = 1; i < argc && o->first_url == argc; i++) {
        const char *a = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        const char **slot = strcmp(a, "--ca") == 0       ? &o->ca
                            : strcmp(a, "--data") == 0   ? &o->data
                            : strcmp(a, "--output") == 0 ? &o->output_dir
                                                         : NULL;
        long *number = strcmp(a, "--parallel") == 0 ? &o->parallel
                       : strcmp(a, "--repeat") == 0 ? &o->repeat
                                                    : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if ((slot || number) && value) {
            if (slot) *slot = value;
            else *number = strtol(value, NULL, 10);
            i++;
        } else if (strcmp(a, "--insecure") == 0 || strcmp(a, "-k") == 0) {
            o->insecure = true;
        } else if (strcmp(a, "--include") == 0 || strcmp(a, "-i") == 0) {
            o->include = true;
        } else if (strcmp(a, "-v") == 0) {
            ex_verbose = true;
        } else if (a[0] == '-') {
            ex_warn("unknown or incomplete option '%s'", a);
            usage(stderr);
            return 2;
        } else {
            o->first_url = i;
        }
    }
    bool urls = o->first_url < argc;
    if (urls && !o->ca && !o->insecure)
        ex_warn("give --ca FILE to verify the server, or --insecure");
    if (!urls || o->parallel < 1 || o->parallel > 100000 || o->repeat < 1 ||
        o->repeat > 10000000 || !o->ca == !o->insecure) {
        usage(stderr);
        return 2;
    }
    return -1;
}

/* The requests: every URL, --repeat times, all with the first URL's authority. Returns -1
 * to go on, else the exit status. */
static int make_requests(client *cl, int nurls, char **urls) {
    size_t repeat = (size_t)cl->opt->repeat;
    cl->nreqs = (size_t)nurls * repeat;
    cl->reqs = calloc(cl->nreqs, sizeof *cl->reqs);
    cl->by_stream = calloc(cl->nreqs, sizeof *cl->by_stream);
    if (!cl->reqs || !cl->by_stream) return 1;
    for (int u = 0; u < nurls; u++) {
        char host[256], port[8];
        const char *path;
        if (!parse_url(urls[u], host, sizeof host, port, sizeof port, &path)) {
            ex_warn("not an https://host[:port]/path URL: %s", urls[u]);
            return 2;
        }
        if (u == 0) {
            strcpy(cl->host, host);
            strcpy(cl->port, port);
            snprintf(cl->authority, sizeof cl->authority, strchr(host, ':') ? "[%s]:%s" : "%s:%s",
                     host, port);
        } else if (strcmp(host, cl->host) != 0 || strcmp(port, cl->port) != 0) {
            ex_warn("%s: every URL must have the authority %s", urls[u], cl->authority);
            return 2;
        }
        for (size_t k = 0; k < repeat; k++) cl->reqs[k * (size_t)nurls + (size_t)u].path = path;
    }
    return -1;
}

/* --data: the file every request posts. */
static bool open_data(client *cl) {
    if (!cl->opt->data) return true;
    struct stat st;
    cl->data_fd = open(cl->opt->data, O_RDONLY | O_CLOEXEC);
    if (cl->data_fd < 0 || fstat(cl->data_fd, &st) != 0) {
        ex_warn("%s: %s", cl->opt->data, strerror(errno));
        return false;
    }
    cl->data_len = (uint64_t)st.st_size;
    return true;
}

/* The summary line; fails what the loop left open (after an error that ended it early). */
static void summary(client *cl) {
    progress(cl, 0, true);
    for (size_t i = 0; i < cl->nreqs; i++)
        if (!cl->reqs[i].done) fail(cl, &cl->reqs[i], "not completed");
    double secs = (double)(ex_now_ns() - cl->start_ns) / 1e9;
    printf("%zu requests (%zu failed), %" PRIu64 " bytes in %.3f s: %.2f MB/s, %.1f req/s\n",
           cl->nreqs, cl->failures, cl->bytes, secs,
           secs > 0 ? (double)cl->bytes / 1e6 / secs : 0.0,
           secs > 0 ? (double)cl->nreqs / secs : 0.0);
    if (cl->pushes) ex_debug("%" PRIu64 " server push(es) received and ignored", cl->pushes);
}

/* Resolves the server, connects to its first address and runs the loop. */
static bool fetch(client *cl) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM}, *res;
    int err = getaddrinfo(cl->host, cl->port, &hints, &res);
    if (err) {
        ex_warn("%s: %s", cl->host, gai_strerror(err));
        return false;
    }
    cl->addr = res;
    cl->start_ns = ex_now_ns();
    if (isatty(STDERR_FILENO)) cl->next_progress = cl->start_ns + 1000000000ULL;
    bool ok = connect_to(cl);
    if (ok) run(cl);
    summary(cl);
    disconnect(cl);
    freeaddrinfo(res);
    return ok;
}

int main(int argc, char **argv) {
    static client cl;
    options o = {0};
    int status = parse_args(argc, argv, &o);
    if (status >= 0) return status;
    cl.opt = &o;
    cl.data_fd = -1;
    cl.udp.fd = -1;
    cl.rx = ex_rx_new();
    cl.tx = ex_tx_new();
    status = make_requests(&cl, argc - o.first_url, argv + o.first_url);
    if (status < 0) status = cl.rx && cl.tx && open_data(&cl) && fetch(&cl) && !cl.failures ? 0 : 1;
    for (size_t i = 0; i < cl.nreqs; i++)
        if (cl.reqs[i].out && cl.reqs[i].out != stdout) fclose(cl.reqs[i].out);
    if (cl.data_fd >= 0) close(cl.data_fd);
    free(cl.reqs);
    free(cl.by_stream);
    ex_rx_free(cl.rx);
    ex_tx_free(cl.tx);
    return status;
}
