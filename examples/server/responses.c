/*
 * h3q-server's routes and responses: the HTML page and its pushed stylesheet, generated
 * bodies (/<N>), files under --root, POST /echo, errors; one log line per request.
 *
 * Echo: POST /echo answers only once the request body has ended, and with its length
 * (200, content-length, the body). The body is collected in a buffer that grows as DATA
 * arrives, up to ECHO_MAX (16 MiB), then lent to h3q whole (h3q frees it once the client
 * acknowledged it). Some clients (niquests over qh3) take a final response that arrives
 * while they are still uploading as "the server does not want the rest" and stop sending,
 * so a response streamed back as the body arrives would never end. A request whose
 * content-length announces more than ECHO_MAX, or whose body grows beyond it, is answered
 * at once with 413 (a short text body saying why), its buffer freed immediately, and the
 * rest of the upload refused with STOP_SENDING(H3_NO_ERROR): RFC 9114 section 4.1 lets a
 * server that sent a complete response stop reading the request. A client reset,
 * STOP_SENDING or the connection's end frees the buffer as well.
 * Every echo buffer, from its allocation until h3q releases the response, counts against
 * ECHO_TOTAL_MAX (256 MiB) across all connections: a buffer that would grow beyond it is
 * answered 503 the same way (and freed, and the upload refused with STOP_SENDING
 * H3_NO_ERROR). Without it, 128 streams per connection x any number of connections could
 * make the server buffer without bound.
 */
#define _GNU_SOURCE
#include "server.h"

#include "ex_clock.h"
#include "ex_h3.h"
#include "ex_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char pattern[CHUNK + 64]; /* generated bodies: 64-byte lines of text */

static const char index_html[] =
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>h3q</title>\n"
    "<link rel=\"stylesheet\" href=\"/style.css\"></head>\n"
    "<body><h1>Hello from h3q</h1>\n"
    "<p>HTTP/3 on h3q's built-in QUIC layer. Try <a href=\"/1000000\">/1000000</a> "
    "or <code>POST /echo</code>.</p></body></html>\n";

static const char style_css[] =
    "body { font-family: sans-serif; max-width: 40em; margin: 2em auto; }\n"
    "h1 { color: #2a6; }\n";

/* Lines of 63 letters (a-z, a-z, a-k) and a newline: the body of /<N> is its first N
 * bytes, so a client can check it (tests/examples_graceful_shutdown.sh does). */
void responses_init(void) {
    for (size_t i = 0; i < sizeof pattern; i++)
        pattern[i] = (i % 64 == 63) ? '\n' : (char)('a' + (i % 64) % 26);
}

const uint8_t *generated_body(uint64_t offset) { return (const uint8_t *)pattern + offset % 64; }

/* ---- echo buffers (see the top) ------------------------------------------------------ */

/* No h3q calls in here: it is also h3q's release callback for an echo response. */
void echo_release(void *ctx) {
    echo_buf *e = ctx;
    if (!e) return;
    atomic_fetch_sub_explicit(e->total, e->cap, memory_order_relaxed);
    free(e);
}

typedef enum { ECHO_OK, ECHO_TOO_LARGE, ECHO_SERVER_FULL, ECHO_NO_MEMORY } echo_grow_result;

/* Makes room for `more` bytes in the stream's echo buffer, doubling it, within ECHO_MAX
 * for the request and ECHO_TOTAL_MAX for the server. */
static echo_grow_result echo_reserve(server *srv, stream *s, size_t more) {
    size_t len = s->echo ? s->echo->len : 0, cap = s->echo ? s->echo->cap : 0;
    if (more > ECHO_MAX - len) return ECHO_TOO_LARGE;
    if (len + more <= cap) return ECHO_OK;
    size_t grown = cap ? cap : ECHO_FIRST_ALLOC;
    while (grown < len + more) grown *= 2;
    if (grown > ECHO_MAX) grown = ECHO_MAX;
    /* Reserved on the process-wide count first (all workers' buffers together). */
    _Atomic size_t *total = &srv->proc->echo_bytes;
    size_t held = atomic_load_explicit(total, memory_order_relaxed);
    do {
        if (held - cap + grown > ECHO_TOTAL_MAX) return ECHO_SERVER_FULL;
    } while (!atomic_compare_exchange_weak_explicit(total, &held, held - cap + grown,
                                                    memory_order_relaxed,
                                                    memory_order_relaxed));
    echo_buf *e = realloc(s->echo, sizeof *e + grown);
    if (!e) {
        atomic_fetch_sub_explicit(total, grown - cap, memory_order_relaxed);
        return ECHO_NO_MEMORY;
    }
    if (!s->echo) {
        e->total = total;
        e->len = 0;
    }
    e->cap = grown;
    s->echo = e;
    return ECHO_OK;
}

/* ---- responses ----------------------------------------------------------------------- */

void finish_stream(conn *c, stream *s, const char *outcome) {
    if (s->done) return;
    s->done = true;
    stop_feeding(s);
    echo_release(s->echo); /* an echo body not answered: of no use any more */
    s->echo = NULL;
    if (!c->srv->opt->quiet) {
        /* The duration in whole microseconds, printed as milliseconds with three decimals:
         * integer formatting, a good deal cheaper than %f on a busy server. */
        uint64_t us = (ex_now_ns() - s->start_ns + 500) / 1000;
        printf("%s %s %s %d %" PRIu64 " %" PRIu64 ".%03u ms%s%s%s\n", c->peer, s->method,
               s->path, s->status, s->sent, us / 1000, (unsigned)(us % 1000),
               s->early ? " 0-RTT" : "", outcome ? " " : "", outcome ? outcome : "");
    }
    if (!s->request_ended && !outcome) {
        /* A complete response to a request still arriving: the rest is of no use (RFC
         * 9114 section 4.1). h3q delivers nothing more of the stream after this. */
        h3q_conn_stop_sending(c->h3, s->id, H3Q_H3_NO_ERROR);
        s->request_ended = true;
    }
}

void abort_stream(conn *c, stream *s, uint64_t code, const char *why) {
    char name[EX_CODE_NAME_LEN], outcome[200];
    if (s->done) return;
    /* "stream was already ended" when the whole response was handed over already. */
    h3q_conn_reset_stream(c->h3, s->id, code);
    if (!s->request_ended) {
        h3q_conn_stop_sending(c->h3, s->id, code);
        s->request_ended = true;
    }
    snprintf(outcome, sizeof outcome, "(%s: %s)", why, ex_code_name(code, name));
    finish_stream(c, s, outcome);
}

static bool send_head(conn *c, stream *s, int status, const char *ctype, uint64_t length,
                      bool end) {
    char st[EX_U64_LEN], len[EX_U64_LEN];
    ex_format_u64((uint64_t)status, st);
    ex_format_u64(length, len);
    h3q_header h[4] = {ex_hdr(":status", st), ex_hdr("server", "h3q-server/" H3Q_VERSION_STRING),
                       ex_hdr("content-length", len)};
    size_t n = 3;
    if (ctype) h[n++] = ex_hdr("content-type", ctype);
    s->status = status;
    h3q_result rc = h3q_conn_send_headers(c->h3, s->id, h, n, end);
    if (rc != H3Q_OK) {
        ex_debug("%s: send_headers on %" PRIu64 ": %s", c->peer, s->id, h3q_result_str(rc));
        finish_stream(c, s, "(send failed)");
        return false;
    }
    return true;
}

/* A response whose whole body is in memory (small pages, errors), copied by h3q. */
static void respond(conn *c, stream *s, int status, const char *ctype, const char *body,
                    bool head_only) {
    size_t len = strlen(body);
    bool end = head_only || len == 0;
    if (!send_head(c, s, status, ctype, len, end)) return;
    if (!end) {
        /* Copied by h3q: the text is the caller's. */
        h3q_result rc = h3q_conn_send_data(c->h3, s->id, (const uint8_t *)body, len, true);
        if (rc != H3Q_OK) {
            finish_stream(c, s, "(send failed)");
            return;
        }
        s->sent = len;
    }
    finish_stream(c, s, NULL);
}

/* Refuses an echo body: 413 (larger than ECHO_MAX), or 503 (the server holds
 * ECHO_TOTAL_MAX already, or has no memory). The response is complete, so finish_stream()
 * frees the buffer and, while the request is still arriving, sends STOP_SENDING with
 * H3_NO_ERROR (RFC 9114 section 4.1). */
static void echo_refuse(conn *c, stream *s, echo_grow_result why) {
    char msg[128];
    if (why == ECHO_TOO_LARGE) {
        snprintf(msg, sizeof msg, "request body too large: POST /echo takes at most %u bytes\n",
                 ECHO_MAX);
        respond(c, s, 413, "text/plain; charset=utf-8", msg, false);
    } else {
        snprintf(msg, sizeof msg, "server busy: %s, try again later\n",
                 why == ECHO_SERVER_FULL ? "echo buffers full" : "out of memory");
        respond(c, s, 503, "text/plain; charset=utf-8", msg, false);
    }
}

/* The request body has ended: 200 with its length, and the body lent to h3q whole (it is
 * in memory already, so paced chunks would save nothing). h3q calls echo_release once the
 * client acknowledged it or the stream or connection is gone, and also when the call
 * fails. */
static void echo_respond(conn *c, stream *s) {
    echo_buf *e = s->echo;
    size_t len = e ? e->len : 0;
    s->echo = NULL;
    if (!send_head(c, s, 200, "application/octet-stream", len, len == 0)) {
        echo_release(e);
        return;
    }
    if (len == 0) {
        echo_release(e);
    } else if (h3q_conn_send_data_zerocopy(c->h3, s->id, e->data, len, true, echo_release, e) !=
               H3Q_OK) {
        finish_stream(c, s, "(send failed)");
        return;
    }
    s->sent = len;
    finish_stream(c, s, NULL);
}

void echo_body(conn *c, stream *s, const h3q_event *ev) {
    if (ev->type == H3Q_EVENT_DATA_RECEIVED && ev->data_len > 0) {
        echo_grow_result r = echo_reserve(c->srv, s, ev->data_len);
        if (r != ECHO_OK) {
            echo_refuse(c, s, r);
            return;
        }
        memcpy(s->echo->data + s->echo->len, ev->data, ev->data_len);
        s->echo->len += ev->data_len;
    }
    if (ev->stream_ended) echo_respond(c, s); /* after the body or trailers */
}

/* ---- routes -------------------------------------------------------------------------- */

static void push_stylesheet(conn *c, stream *s, const char *authority) {
    h3q_header h[4] = {ex_hdr(":method", "GET"), ex_hdr(":scheme", "https"),
                       ex_hdr(":authority", authority), ex_hdr(":path", "/style.css")};
    uint64_t push_stream;
    h3q_result rc = h3q_conn_send_push_promise(c->h3, s->id, h, 4, &push_stream);
    if (rc == H3Q_ERR_NO_AVAILABLE_PUSH_ID) return; /* the client allows no (more) pushes */
    if (rc != H3Q_OK) {
        ex_debug("%s: push promise: %s", c->peer, h3q_result_str(rc));
        return;
    }
    char len[24];
    snprintf(len, sizeof len, "%zu", sizeof style_css - 1);
    h3q_header r[3] = {ex_hdr(":status", "200"), ex_hdr("content-type", "text/css"),
                       ex_hdr("content-length", len)};
    if (h3q_conn_send_headers(c->h3, push_stream, r, 3, false) == H3Q_OK)
        h3q_conn_send_data_zerocopy(c->h3, push_stream, (const uint8_t *)style_css,
                                    sizeof style_css - 1, true, NULL, NULL); /* static */
    printf("%s PUSH /style.css 200 %zu 0.000 ms\n", c->peer, sizeof style_css - 1);
}

static const char *content_type(const char *path) {
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/')) return "application/octet-stream";
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"}, {".htm", "text/html; charset=utf-8"},
        {".css", "text/css"}, {".js", "text/javascript"}, {".txt", "text/plain; charset=utf-8"},
        {".json", "application/json"}, {".png", "image/png"}, {".jpg", "image/jpeg"},
        {".svg", "image/svg+xml"}, {".wasm", "application/wasm"}};
    /* The letter after the dot first: most names match no entry, or one. */
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (dot[1] == types[i][0][1] && strcmp(dot, types[i][0]) == 0) return types[i][1];
    return "application/octet-stream";
}

/* Writes --root followed by `path` to `full` (FULL_PATH_MAX bytes); false when there is no
 * root, the path is not absolute or too long, or it has a ".." segment: nothing outside the
 * root can be named. */
#define FULL_PATH_MAX 4096
static bool full_path_under_root(const char *root, const char *path, char *full) {
    if (!root || path[0] != '/') return false;
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') return false;
        p += n;
        if (*p == '/') p++;
    }
    size_t root_len = strlen(root), path_len = strlen(path);
    if (root_len + path_len >= FULL_PATH_MAX) return false;
    memcpy(full, root, root_len);
    memcpy(full + root_len, path, path_len + 1);
    return true;
}

/* The file at `path` under --root for stream `s`: from the cache when small enough
 * (s->cached), else opened to be read chunk by chunk (s->fd). False when there is no such
 * readable regular file. */
static bool find_file(conn *c, stream *s, const char *path, uint64_t *size) {
    char full[FULL_PATH_MAX];
    if (!full_path_under_root(c->srv->opt->root, path, full)) return false;
    /* The request's arrival (on_request read the clock once for all of its steps). */
    s->cached = file_cache_get(c->srv->files, full, s->start_ns, &s->fd, size);
    if (s->cached) *size = cached_file_size(s->cached);
    return s->cached || s->fd >= 0;
}

/* Starts a body fed in chunks by the pacing in connections.c (GENERATED or FILE). */
static void start_paced(conn *c, stream *s, body_kind kind, uint64_t length,
                        const char *ctype, bool head) {
    s->kind = kind;
    s->length = length;
    if (!send_head(c, s, 200, ctype, length, head || length == 0)) return;
    if (head || length == 0) finish_stream(c, s, NULL);
    else start_feeding(c, s, s->start_ns); /* routed as it arrived: the clock read then */
}

/* POST /echo: nothing is sent until the body has ended (DATA events fill s->echo),
 * unless it is announced too large. */
static void route_echo(conn *c, stream *s, uint64_t content_length, bool head) {
    if (strcmp(s->method, "POST") != 0) {
        respond(c, s, 405, "text/plain", "use POST\n", head);
        return;
    }
    s->kind = BODY_ECHO;
    if (content_length != UINT64_MAX && content_length > ECHO_MAX)
        echo_refuse(c, s, ECHO_TOO_LARGE);
    else if (s->request_ended)
        echo_respond(c, s);
}

static void route(conn *c, stream *s, const char *path, const char *authority,
                  uint64_t content_length, bool get, bool head) {
    uint64_t n;
    if (strcmp(path, "/echo") == 0) {
        route_echo(c, s, content_length, head);
    } else if (!get && !head) {
        respond(c, s, 405, "text/plain", "method not allowed\n", false);
    } else if (strcmp(path, "/") == 0) {
        if (get) push_stylesheet(c, s, authority[0] ? authority : "localhost");
        respond(c, s, 200, "text/html; charset=utf-8", index_html, head);
    } else if (strcmp(path, "/style.css") == 0) {
        respond(c, s, 200, "text/css", style_css, head);
    } else if (ex_parse_u64(path + 1, strlen(path + 1), MAX_GENERATED, &n)) {
        start_paced(c, s, BODY_GENERATED, n, "application/octet-stream", head);
    } else if (find_file(c, s, path, &n)) {
        start_paced(c, s, BODY_FILE, n, content_type(path), head);
    } else {
        respond(c, s, 404, "text/plain", "not found\n", head);
    }
}

void on_request(conn *c, const h3q_event *ev) {
    stream *s = ex_xcalloc(1, sizeof *s);
    list_init(&s->paced);
    s->id = ev->stream_id;
    s->fd = -1;
    /* Its priority field, or a PRIORITY_UPDATE that came before it, as h3q read them. */
    if (h3q_conn_get_priority(c->h3, s->id, &s->priority) != H3Q_OK)
        s->priority = (h3q_priority){3, false};
    s->start_ns = ex_now_ns();
    s->request_ended = ev->stream_ended;
    s->early = h3q_quic_conn_stream_is_early(c->quic, s->id);
    s->next = c->streams;
    c->streams = s;

    /* Only the first byte set: zeroing 2 KiB per request showed in profiles. */
    char path[2048], authority[256], digits[24];
    path[0] = authority[0] = '\0';
    bool ok = true;
    uint64_t content_length = UINT64_MAX; /* none; a value h3q checked is all digits */
    for (size_t i = 0; i < ev->headers_len; i++) {
        const h3q_header *h = &ev->headers[i];
        if (ex_hdr_is(h, ":method")) ok &= ex_hdr_value(h, s->method, sizeof s->method);
        else if (ex_hdr_is(h, ":path")) ok &= ex_hdr_value(h, path, sizeof path);
        else if (ex_hdr_is(h, ":authority")) ok &= ex_hdr_value(h, authority, sizeof authority);
        else if (ex_hdr_is(h, "content-length") &&
                 !(ex_hdr_value(h, digits, sizeof digits) &&
                   ex_parse_u64(digits, strlen(digits), UINT64_MAX - 1, &content_length)))
            content_length = UINT64_MAX - 1; /* too long to read: larger than any limit */
    }
    path[strcspn(path, "?")] = '\0';
    /* Most paths fit in the stream itself: no allocation per request for the log line. */
    const char *logged = path[0] ? path : "-";
    size_t logged_len = strlen(logged);
    s->path = logged_len < sizeof s->path_short ? s->path_short : ex_xcalloc(1, logged_len + 1);
    memcpy(s->path, logged, logged_len + 1);
    if (!s->method[0]) strcpy(s->method, "-");
    ex_debug("%s: %s %s (stream %" PRIu64 ", u=%u%s)", c->peer, s->method, s->path, s->id,
             (unsigned)s->priority.urgency, s->priority.incremental ? ",i" : "");
    if (!drain_count_request(c, s, s->start_ns)) return; /* over the connection's limit */
    if (!ok || path[0] != '/' || s->method[0] == '-') {
        respond(c, s, 400, "text/plain", "bad request\n", false);
        return;
    }
    /* Early data can be replayed by an attacker: only requests that are safe to repeat
     * are served from it; the client sends the others again after the handshake. */
    bool get = strcmp(s->method, "GET") == 0, head = !get && strcmp(s->method, "HEAD") == 0;
    if (s->early && !get && !head) {
        respond(c, s, 425, "text/plain", "too early: send again after the handshake\n", false);
        return;
    }
    route(c, s, path, authority, content_length, get, head);
}
