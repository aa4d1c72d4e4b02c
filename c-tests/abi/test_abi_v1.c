/*
 * A program written against h3q 0.1.0's header, run unchanged against the current library.
 *
 * c-tests/abi/v1/h3q.h is that header, frozen (ABI version 1): no H3Q_ABI_VERSION, no
 * *_versioned functions, H3Q_DONE = -1, errors -2 ... -15, and the version-1 sizes of
 * h3q_settings, h3q_transport and h3q_quic_event. This file uses only what it declares, the
 * way an application built then does, and checks that the library:
 *   - writes no byte past a version-1 struct (each is malloc'd at exactly its version-1
 *     size, so AddressSanitizer and valgrind catch an overrun) and reads none past one;
 *   - answers with version-1 result values (H3Q_DONE as -1 ends the poll loops);
 *   - serves a whole HTTP/3 exchange over its built-in QUIC layer, in memory, and reports
 *     a peer's protocol error over a C transport table;
 *   - never gives it an event type its header does not declare (GOAWAY, resets,
 *     STOP_SENDING, CANCEL_PUSH, ORIGIN, the connection's close and PRIORITY_UPDATE came
 *     with version 2), while acting on what caused them;
 *   - reads its h3q_transport only to the version-1 size: set_stream_priority came with
 *     version 2, and whatever lies past the table (here: nothing, or garbage) is never
 *     read, let alone called.
 */
#include "h3q.h"

#ifdef H3Q_ABI_VERSION
#error "this test must be compiled against the frozen version-1 header, c-tests/abi/v1/h3q.h"
#endif

#include "check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define SERVER_PORT 4433
#define CLIENT_PORT 50000
#define START_NS 1000000000ULL

/* ---- version-1 values and layouts ---- */

static void results_have_version_1_values(void) {
    CHECK_INT(H3Q_DONE, -1);
    CHECK_INT(H3Q_ERR_NULL, -2);
    CHECK_INT(H3Q_ERR_POISONED, -15);
    CHECK_PREFIX(h3q_result_str(H3Q_DONE), "H3Q_DONE");
    CHECK_PREFIX(h3q_result_str(H3Q_ERR_FRAME_UNEXPECTED), "H3Q_ERR_FRAME_UNEXPECTED");
}

static void settings_default_writes_a_version_1_struct(void) {
    h3q_settings *s = malloc(sizeof *s); /* exactly the version-1 size */
    CHECK(s != NULL);
    if (!s) return;
    h3q_settings_default(s);
    CHECK_INT(s->qpack_max_table_capacity, 4096);
    CHECK_INT(s->qpack_blocked_streams, 16);
    CHECK_INT(s->max_push_id, 8);
    CHECK(s->enable_connect_protocol);
    CHECK(!s->enable_webtransport);
    CHECK_INT(s->max_buffering_streams, 256);
    CHECK_INT(h3q_settings_size() >= sizeof *s, 1);
    free(s);
}

/* ---- an HTTP/3 exchange over the built-in QUIC layer, in memory ---- */

typedef struct side {
    h3q_endpoint *ep;
    h3q_quic_conn *quic;
    h3q_conn *h3;
    struct sockaddr_in addr;
    unsigned terminated;
} side;

typedef struct exchange {
    side server, client;
    uint64_t now;
    uint64_t request_stream;
    int status;
    char body[64];
    size_t body_len;
    bool ended;
    bool answered;
} exchange;

static void set_addr(struct sockaddr_in *a, uint16_t port) {
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static h3q_header header(const char *name, const char *value) {
    h3q_header h = {(const uint8_t *)name, strlen(name), (const uint8_t *)value,
                    strlen(value)};
    return h;
}

static void on_server_event(void *user_data, const h3q_event *event) {
    exchange *x = user_data;
    if (event->type != H3Q_EVENT_HEADERS_RECEIVED || x->answered) return;
    x->answered = true;
    h3q_header response[] = {header(":status", "200"), header("content-length", "8")};
    CHECK_INT(h3q_conn_send_headers(x->server.h3, event->stream_id, response, 2, false),
              H3Q_OK);
    CHECK_INT(h3q_conn_send_data(x->server.h3, event->stream_id, (const uint8_t *)"hello v1",
                                 8, true),
              H3Q_OK);
}

static void on_client_event(void *user_data, const h3q_event *event) {
    exchange *x = user_data;
    CHECK_INT(event->stream_id, x->request_stream);
    if (event->type == H3Q_EVENT_HEADERS_RECEIVED) {
        for (size_t i = 0; i < event->headers_len; i++) {
            const h3q_header *h = &event->headers[i];
            if (h->name_len == 7 && memcmp(h->name, ":status", 7) == 0) {
                x->status = 0; /* the value is not NUL-terminated */
                for (size_t d = 0; d < h->value_len; d++) {
                    x->status = x->status * 10 + (h->value[d] - '0');
                }
            }
        }
    } else if (event->type == H3Q_EVENT_DATA_RECEIVED) {
        if (x->body_len + event->data_len < sizeof x->body) {
            memcpy(x->body + x->body_len, event->data, event->data_len);
            x->body_len += event->data_len;
        }
        x->ended |= event->stream_ended;
    }
}

/* Every QUIC event of `s`, each written into a version-1-sized struct. */
static void drain_events(exchange *x, side *s, h3q_event_cb cb) {
    h3q_quic_event *ev = malloc(sizeof *ev); /* exactly the version-1 size */
    CHECK(ev != NULL);
    if (!ev) return;
    h3q_result rc;
    while ((rc = h3q_quic_conn_next_event(s->quic, ev)) == H3Q_OK) {
        if (ev->type == H3Q_QUIC_CONNECTION_TERMINATED) s->terminated++;
        if (s->h3) CHECK_INT(h3q_conn_handle_event(s->h3, ev, cb, x), H3Q_OK);
    }
    CHECK_INT(rc, H3Q_DONE);
    free(ev);
}

/* Moves every datagram `from` has to `to`; returns how many moved. */
static int transmit(exchange *x, side *from, side *to) {
    static uint8_t buf[65536];
    int moved = 0;
    for (;;) {
        size_t len = 0, segment = 0;
        struct sockaddr_storage dest;
        socklen_t dest_len = sizeof dest;
        h3q_result rc = h3q_endpoint_poll_transmit(from->ep, x->now, buf, sizeof buf, &len,
                                                   &dest, &dest_len, &segment);
        if (rc == H3Q_DONE) break;
        CHECK_INT(rc, H3Q_OK);
        if (rc != H3Q_OK) break;
        CHECK_INT(h3q_endpoint_receive(to->ep, x->now, (const struct sockaddr *)&from->addr,
                                       sizeof from->addr, buf, len),
                  H3Q_OK);
        moved++;
    }
    return moved;
}

/* One round: datagrams both ways, new server connections, events, timers. */
static int step(exchange *x) {
    int moved = transmit(x, &x->client, &x->server) + transmit(x, &x->server, &x->client);
    h3q_quic_conn *accepted = NULL;
    h3q_result rc;
    while ((rc = h3q_endpoint_accept(x->server.ep, &accepted)) == H3Q_OK) {
        CHECK(x->server.quic == NULL);
        x->server.quic = accepted;
        CHECK_INT(h3q_conn_new_quic(accepted, NULL, &x->server.h3), H3Q_OK);
    }
    CHECK_INT(rc, H3Q_DONE);
    if (x->server.quic) drain_events(x, &x->server, on_server_event);
    drain_events(x, &x->client, on_client_event);
    if (moved == 0) {
        uint64_t a = h3q_endpoint_next_timeout(x->server.ep);
        uint64_t b = h3q_endpoint_next_timeout(x->client.ep);
        uint64_t next = a < b ? a : b;
        if (next != UINT64_MAX && next > x->now) x->now = next;
        h3q_endpoint_handle_timeout(x->server.ep, x->now);
        h3q_endpoint_handle_timeout(x->client.ep, x->now);
    }
    return moved;
}

static void endpoints(exchange *x) {
    memset(x, 0, sizeof *x);
    x->now = START_NS;
    set_addr(&x->server.addr, SERVER_PORT);
    set_addr(&x->client.addr, CLIENT_PORT);
    h3q_config *cfg = NULL;
    CHECK_INT(h3q_config_new(true, &cfg), H3Q_OK);
    CHECK_INT(h3q_endpoint_new(cfg, &x->server.ep), H3Q_OK);
    h3q_config_free(cfg);
    CHECK_INT(h3q_config_new(false, &cfg), H3Q_OK);
    CHECK_INT(h3q_config_set_verify_peer(cfg, false), H3Q_OK);
    CHECK_INT(h3q_endpoint_new(cfg, &x->client.ep), H3Q_OK);
    h3q_config_free(cfg);
    CHECK_INT(h3q_endpoint_connect(x->client.ep, x->now, (const struct sockaddr *)&x->server.addr,
                                   sizeof x->server.addr, "localhost", &x->client.quic),
              H3Q_OK);
    /* Settings of version 1, in a struct of exactly that size. */
    h3q_settings *settings = malloc(sizeof *settings);
    CHECK(settings != NULL);
    if (!settings) return;
    h3q_settings_default(settings);
    settings->max_push_id = 0;
    CHECK_INT(h3q_conn_new_quic(x->client.quic, settings, &x->client.h3), H3Q_OK);
    free(settings);
}

static void release(exchange *x) {
    h3q_conn_free(x->client.h3);
    h3q_conn_free(x->server.h3);
    h3q_quic_conn_free(x->client.quic);
    h3q_quic_conn_free(x->server.quic);
    h3q_endpoint_free(x->client.ep);
    h3q_endpoint_free(x->server.ep);
}

static void a_get_over_the_built_in_quic_layer(void) {
    exchange x;
    endpoints(&x);
    CHECK_INT(h3q_quic_conn_get_next_available_stream_id(x.client.quic, false,
                                                         &x.request_stream),
              H3Q_OK);
    h3q_header request[] = {header(":method", "GET"), header(":scheme", "https"),
                            header(":authority", "localhost"), header(":path", "/v1")};
    CHECK_INT(h3q_conn_send_headers(x.client.h3, x.request_stream, request, 4, true), H3Q_OK);
    for (int i = 0; i < 10000 && !x.ended; i++) step(&x);
    CHECK(x.ended);
    CHECK_INT(x.status, 200);
    CHECK_INT(x.body_len, 8);
    CHECK(memcmp(x.body, "hello v1", 8) == 0);

    /* Refusals come back with their version-1 values. */
    h3q_quic_event *ev = malloc(sizeof *ev);
    CHECK_INT(h3q_quic_conn_next_event(x.client.quic, NULL), H3Q_ERR_NULL);
    CHECK_INT(h3q_conn_send_data(x.client.h3, x.request_stream, (const uint8_t *)"x", 1, false),
              H3Q_ERR_FRAME_UNEXPECTED);
    uint64_t value = 0;
    CHECK_INT(h3q_conn_received_setting(x.client.h3, 0x7777, &value), H3Q_DONE);
    CHECK_INT(h3q_conn_received_setting(x.client.h3, 0x1, &value), H3Q_OK);
    CHECK_INT(h3q_conn_send_push_promise(x.client.h3, 0, request, 4, &value),
              H3Q_ERR_WRONG_ROLE);

    /* A close of our own: CONNECTION_TERMINATED, written as version 1 writes it. */
    CHECK_INT(h3q_quic_conn_close(x.client.quic, 0x100, (const uint8_t *)"bye", 3), H3Q_OK);
    CHECK_INT(h3q_quic_conn_next_event(x.client.quic, ev), H3Q_OK);
    CHECK_INT(ev->type, H3Q_QUIC_CONNECTION_TERMINATED);
    CHECK_INT(ev->error_code, 0x100);
    CHECK_INT(ev->reason_len, 3);
    CHECK_INT(h3q_quic_conn_next_event(x.client.quic, ev), H3Q_DONE);
    CHECK_INT(h3q_conn_send_headers(x.client.h3, 4, request, 4, true), H3Q_ERR_CONNECTION_CLOSED);
    free(ev);
    for (int i = 0; i < 200 && !x.server.terminated; i++) step(&x);
    CHECK_INT(x.server.terminated, 1);
    release(&x);
}

/* ---- a C transport table of version 1 ---- */

typedef struct fake {
    uint64_t next_uni;
    unsigned closes;
    uint64_t close_code;
    unsigned resets; /* reset_stream calls */
    unsigned stops;  /* stop_stream calls */
} fake;

static int fake_send(void *ud, uint64_t id, const uint8_t *data, size_t len, bool fin) {
    (void)ud, (void)id, (void)data, (void)len, (void)fin;
    return 0;
}
static int fake_next_id(void *ud, bool uni, uint64_t *out) {
    fake *f = ud;
    if (!uni) return 1;
    *out = f->next_uni;
    f->next_uni += 4;
    return 0;
}
static int fake_reset(void *ud, uint64_t id, uint64_t code) {
    fake *f = ud;
    (void)id, (void)code;
    f->resets++;
    return 0;
}
static int fake_stop(void *ud, uint64_t id, uint64_t code) {
    fake *f = ud;
    (void)id, (void)code;
    f->stops++;
    return 0;
}
static void fake_close(void *ud, uint64_t code, const uint8_t *reason, size_t len) {
    fake *f = ud;
    (void)reason, (void)len;
    f->closes++;
    f->close_code = code;
}
/* An HTTP/3 connection over `f`, given a transport table of exactly the version-1 size,
 * followed by `tail` bytes of garbage (0xa5: a non-NULL pointer if read as one). */
static h3q_conn *conn_over_tail(fake *f, bool is_client, size_t tail) {
    h3q_transport *t = malloc(sizeof *t + tail);
    CHECK(t != NULL);
    if (!t) return NULL;
    memset(t, 0xa5, sizeof *t + tail);
    memset(t, 0, sizeof *t);
    t->user_data = f;
    t->is_client = is_client;
    t->send_stream_data = fake_send;
    t->get_next_available_stream_id = fake_next_id;
    t->reset_stream = fake_reset;
    t->stop_stream = fake_stop;
    t->close = fake_close;
    h3q_conn *conn = NULL;
    CHECK_INT(h3q_conn_new(t, NULL, &conn), H3Q_OK);
    free(t);
    return conn;
}

static h3q_conn *conn_over(fake *f, bool is_client) {
    return conn_over_tail(f, is_client, 0);
}

static void no_events(void *ud, const h3q_event *event) {
    (void)ud, (void)event;
    CHECK(!"no HTTP event expected");
}

static void a_protocol_error_over_a_transport_table(void) {
    fake f = {3, 0, 0, 0, 0};
    h3q_conn *conn = conn_over(&f, false);
    if (!conn) return;
    /* The client's control stream starting with a DATA frame: H3_MISSING_SETTINGS. */
    static const uint8_t control[] = {0x00, 0x00, 0x01, 0x00};
    h3q_quic_event *ev = malloc(sizeof *ev);
    CHECK(ev != NULL);
    if (!ev) return;
    memset(ev, 0, sizeof *ev);
    ev->type = H3Q_QUIC_STREAM_DATA_RECEIVED;
    ev->stream_id = 2;
    ev->data = control;
    ev->data_len = sizeof control;
    CHECK_INT(h3q_conn_handle_event(conn, ev, no_events, NULL), H3Q_ERR_PROTOCOL);
    CHECK_INT(f.closes, 1);
    CHECK_INT(f.close_code, 0x10a);
    CHECK_INT(h3q_conn_handle_event(conn, NULL, no_events, NULL), H3Q_ERR_NULL);
    free(ev);
    h3q_conn_free(conn);
}

/* The HTTP events a version-1 program was given. */
typedef struct v1_events {
    unsigned count;
    h3q_event_type last;
    uint64_t last_stream;
} v1_events;

static void count_events(void *ud, const h3q_event *event) {
    v1_events *seen = ud;
    seen->count++;
    seen->last = event->type;
    seen->last_stream = event->stream_id;
    CHECK((int)event->type <= (int)H3Q_EVENT_WEBTRANSPORT_STREAM_DATA_RECEIVED);
}

/* Stream bytes (or, with `type`, another QUIC event) to a version-1 connection, in a
 * version-1-sized event. */
static h3q_result feed(h3q_conn *conn, h3q_quic_event_type type, uint64_t stream_id,
                       const char *bytes, size_t len, v1_events *seen) {
    h3q_quic_event *ev = malloc(sizeof *ev); /* exactly the version-1 size */
    CHECK(ev != NULL);
    if (!ev) return H3Q_ERR_NULL;
    memset(ev, 0, sizeof *ev);
    ev->type = type;
    ev->stream_id = stream_id;
    if (type == H3Q_QUIC_STREAM_DATA_RECEIVED) {
        ev->data = (const uint8_t *)bytes;
        ev->data_len = len;
    } else {
        ev->error_code = 0x10c;
        ev->reason = (const uint8_t *)bytes;
        ev->reason_len = len;
    }
    h3q_result rc = h3q_conn_handle_event(conn, ev, count_events, seen);
    free(ev);
    return rc;
}

/* A version-1 client over a transport table meets the server's GOAWAY, CANCEL_PUSH,
 * ORIGIN, a reset of its request and the end of the connection: h3q acts on them (the
 * GOAWAY cancels the request it excludes) but calls the program's callback for none of
 * them; a response, an event version 1 knows, still comes. */
static void no_version_2_events_for_a_version_1_program(void) {
    fake f = {2, 0, 0, 0, 0};
    h3q_conn *conn = conn_over(&f, true);
    if (!conn) return;
    h3q_header request[] = {header(":method", "GET"), header(":scheme", "https"),
                            header(":authority", "a"), header(":path", "/")};
    for (uint64_t id = 0; id <= 8; id += 4) {
        CHECK_INT(h3q_conn_send_headers(conn, id, request, 4, id == 0), H3Q_OK);
    }
    v1_events seen = {0, H3Q_EVENT_HEADERS_RECEIVED, 0};
    const h3q_quic_event_type data = H3Q_QUIC_STREAM_DATA_RECEIVED;
    /* The server's control stream: SETTINGS, GOAWAY 8 (request 8 was not processed) */
    CHECK_INT(feed(conn, data, 3, "\x00\x04\x00", 3, &seen), H3Q_OK);
    CHECK_INT(feed(conn, data, 3, "\x07\x01\x08", 3, &seen), H3Q_OK);
    CHECK_INT(seen.count, 0);
    CHECK_INT(f.resets, 1); /* request 8 cancelled: its sending side and its reading */
    CHECK_INT(f.stops, 1);
    /* CANCEL_PUSH 0, ORIGIN ["ab"] */
    CHECK_INT(feed(conn, data, 3, "\x03\x01\x00", 3, &seen), H3Q_OK);
    CHECK_INT(feed(conn, data, 3, "\x0c\x04\x00\x02\x61\x62", 6, &seen), H3Q_OK);
    /* request 0's response reset, STOP_SENDING for request 4 (which h3q then resets) */
    CHECK_INT(feed(conn, H3Q_QUIC_STREAM_RESET, 0, NULL, 0, &seen), H3Q_OK);
    CHECK_INT(feed(conn, H3Q_QUIC_STOP_SENDING_RECEIVED, 4, NULL, 0, &seen), H3Q_OK);
    CHECK_INT(seen.count, 0);
    CHECK_INT(f.resets, 2);
    /* a response on request 4, as version 1 knows it: HEADERS :status 200 */
    CHECK_INT(feed(conn, data, 4, "\x01\x03\x00\x00\xd9", 5, &seen), H3Q_OK);
    CHECK_INT(seen.count, 1);
    CHECK_INT(seen.last, H3Q_EVENT_HEADERS_RECEIVED);
    CHECK_INT(seen.last_stream, 4);
    /* the end of the connection: no event either */
    CHECK_INT(feed(conn, H3Q_QUIC_CONNECTION_TERMINATED, 0, "bye", 3, &seen), H3Q_OK);
    CHECK_INT(seen.count, 1);
    CHECK_INT(f.closes, 0);
    CHECK_INT(h3q_conn_send_headers(conn, 12, request, 4, true), H3Q_ERR_CONNECTION_CLOSED);
    h3q_conn_free(conn);
}

/* A version-1 server meets priorities (RFC 9218, version 2): a request with a `priority`
 * field, PRIORITY_UPDATE frames for it and for a push whose promise carries a `priority`
 * field. Its callback gets the request's HEADERS and nothing of type 11
 * (H3Q_EVENT_PRIORITY_UPDATE); its table, exactly the version-1 size (ASan and valgrind
 * watch the bytes after it) or followed by garbage (which h3q would crash calling), is not
 * read past its end; nobody closes. */
static void no_priority_events_for_a_version_1_program(void) {
    static const size_t tails[] = {0, 64};
    for (size_t k = 0; k < sizeof tails / sizeof tails[0]; k++) {
        fake f = {3, 0, 0, 0, 0};
        h3q_conn *conn = conn_over_tail(&f, false, tails[k]);
        if (!conn) return;
        v1_events seen = {0, H3Q_EVENT_DATA_RECEIVED, 99};
        const h3q_quic_event_type data = H3Q_QUIC_STREAM_DATA_RECEIVED;
        /* The client's control stream: SETTINGS, MAX_PUSH_ID 8. */
        CHECK_INT(feed(conn, data, 2, "\x00\x04\x00\x0d\x01\x08", 6, &seen), H3Q_OK);
        /* GET https://a/ with priority: u=1, i (the name a literal: 001 N=0 H=0, length 8 as
         * 7 + 1, then the value, length 6). */
        static const char get[] = "\x01\x19\x00\x00\xd1\xd7\xc1\x50\x01\x61"
                                  "\x27\x01priority\x06u=1, i";
        CHECK_INT(feed(conn, data, 0, get, sizeof get - 1, &seen), H3Q_OK);
        CHECK_INT(seen.count, 1);
        CHECK_INT(seen.last, H3Q_EVENT_HEADERS_RECEIVED);
        CHECK_INT(seen.last_stream, 0);
        /* PRIORITY_UPDATE (0xf0700) for request 0: u=4 */
        CHECK_INT(feed(conn, data, 2, "\x80\x0f\x07\x00\x04\x00u=4", 9, &seen), H3Q_OK);
        CHECK_INT(seen.count, 1);
        /* A push promised with priority: u=2, then PRIORITY_UPDATE (0xf0701) for push 0 */
        h3q_header promised[] = {header(":method", "GET"), header(":scheme", "https"),
                                 header(":authority", "a"), header(":path", "/s.css"),
                                 header("priority", "u=2")};
        uint64_t push_stream = 0;
        CHECK_INT(h3q_conn_send_push_promise(conn, 0, promised, 5, &push_stream), H3Q_OK);
        CHECK_INT(push_stream, 15);
        CHECK_INT(feed(conn, data, 2, "\x80\x0f\x07\x01\x04\x00u=1", 9, &seen), H3Q_OK);
        CHECK_INT(seen.count, 1);
        /* the connection goes on: the pushed response and the response */
        h3q_header ok[] = {header(":status", "200")};
        CHECK_INT(h3q_conn_send_headers(conn, push_stream, ok, 1, true), H3Q_OK);
        CHECK_INT(h3q_conn_send_headers(conn, 0, ok, 1, true), H3Q_OK);
        CHECK_INT(f.closes, 0);
        CHECK_INT(f.resets, 0);
        h3q_conn_free(conn);
    }
}

static void qpack_constructors_of_version_1(void) {
    h3q_qpack_encoder *enc = NULL;
    h3q_qpack_decoder *dec = NULL;
    CHECK_INT(h3q_qpack_encoder_new(&enc), H3Q_OK);
    CHECK_INT(h3q_qpack_decoder_new(4096, 16, &dec), H3Q_OK);
    CHECK_INT(h3q_qpack_encoder_new(NULL), H3Q_ERR_NULL);
    const uint8_t *out = NULL;
    size_t len = 0;
    CHECK_INT(h3q_qpack_decoder_take_decoder_stream(dec, &out, &len), H3Q_OK);
    CHECK_INT(len, 0);
    h3q_qpack_encoder_free(enc);
    h3q_qpack_decoder_free(dec);
}

int main(void) {
    RUN(results_have_version_1_values);
    RUN(settings_default_writes_a_version_1_struct);
    RUN(a_get_over_the_built_in_quic_layer);
    RUN(a_protocol_error_over_a_transport_table);
    RUN(no_version_2_events_for_a_version_1_program);
    RUN(no_priority_events_for_a_version_1_program);
    RUN(qpack_constructors_of_version_1);
    return CHECK_DONE("test_abi_v1");
}
