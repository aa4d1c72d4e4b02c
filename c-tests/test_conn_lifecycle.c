/* The connection's lifecycle beyond one request (docs/BEHAVIOUR.md
 * #goaway-and-graceful-shutdown, #stream-aborts-and-push-cancellation,
 * #being-a-good-citizen), through the C API: a client and a server h3q_conn over two fake
 * transports, every scenario in each delivery mode (one byte per event; chunks with FIN
 * apart; chunks carrying FIN), each event checked with its fields (expect_events.h) and
 * what each side put on the wire checked operation by operation:
 *   - GOAWAY from a server: the requests it excludes come back as STREAM_RESET
 *     H3_REQUEST_REJECTED (and are cancelled on the wire), new ones are refused with
 *     H3Q_ERR_GOING_AWAY; the server's two-step drain refuses later requests silently and
 *     h3q_conn_active_requests() counts down to 0; GOAWAY from a client stops pushes;
 *   - a reset mid-upload and STOP_SENDING mid-download reach the peer as one event each,
 *     and neither side keeps the stream;
 *   - CANCEL_PUSH both ways, and a client ignoring the push stream of a cancelled push;
 *   - the peer's SETTINGS_MAX_FIELD_SECTION_SIZE honoured when sending;
 *   - ORIGIN from a server;
 *   - how the connection ended: h3q_conn_close_code() and one
 *     H3Q_EVENT_CONNECTION_CLOSED, after a protocol error and after a termination alone.
 * Misuse of these calls: test_conn_misuse.c. Receive-side rules: test_conn_rules.c. */
#include "h3q.h"

#include "check.h"
#include "expect_events.h"
#include "fake_pair.h"
#include "fake_transport.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define N(array) (sizeof(array) / sizeof((array)[0]))

#define REJECTED 0x10b  /* H3_REQUEST_REJECTED */
#define CANCELLED 0x10c /* H3_REQUEST_CANCELLED */
#define LAST_REQUEST_ID 0x3ffffffffffffffcULL /* 2^62-4: a server's shutdown notice */
#define LAST_PUSH_ID 0x3fffffffffffffffULL    /* 2^62-1: a client's shutdown notice */
#define CLIENT_CONTROL 2
#define SERVER_CONTROL 3

/* ---- helpers ------------------------------------------------------------------------- */

/* h3q_conn_active_requests(). */
static size_t active(h3q_conn *conn) {
    size_t n = 12345;
    CHECK_INT(h3q_conn_active_requests(conn, &n), H3Q_OK);
    return n;
}

/* The ids of the frames of `type` (GOAWAY, CANCEL_PUSH) on a control stream, in order;
 * returns how many. */
static size_t id_frames(const fake_transport *fake, uint64_t control, uint64_t type,
                        uint64_t *ids, size_t max) {
    fake_buf bytes = {0};
    fake_stream_bytes(fake, control, &bytes);
    fake_frame frames[16];
    uint64_t stream_type = 99;
    size_t n = fake_frames(&bytes, &stream_type, frames, N(frames));
    CHECK(n <= N(frames));
    size_t found = 0;
    for (size_t i = 0; i < n && i < N(frames); i++) {
        if (frames[i].type != type) {
            continue;
        }
        uint64_t id = 0;
        CHECK(fake_frame_varint(&frames[i], &id));
        if (found < max) {
            ids[found] = id;
        }
        found++;
    }
    fake_buf_free(&bytes);
    return found;
}

/* The GOAWAY ids `fake` sent on `control` are exactly ids[0..n]. */
static void check_goaways(const fake_transport *fake, uint64_t control, const uint64_t *want,
                          size_t n) {
    uint64_t ids[8];
    size_t got = id_frames(fake, control, 0x07, ids, N(ids));
    CHECK_INT(got, n);
    for (size_t i = 0; i < n && i < got && i < N(ids); i++) {
        CHECK(ids[i] == want[i]);
    }
}

/* One transport operation a side is expected to have asked for (stream data: any bytes,
 * on that stream). */
typedef struct want_op {
    fake_op_kind kind;
    uint64_t sid;
    uint64_t code; /* resets and STOP_SENDING */
} want_op;

#define OP_DATA(sid) {FAKE_OP_STREAM_DATA, (sid), 0}
#define OP_RESET(sid, code) {FAKE_OP_RESET, (sid), (code)}
#define OP_STOP(sid, code) {FAKE_OP_STOP_SENDING, (sid), (code)}

static const char *op_name(fake_op_kind kind) {
    switch (kind) {
    case FAKE_OP_STREAM_DATA: return "data";
    case FAKE_OP_RESET: return "reset";
    case FAKE_OP_STOP_SENDING: return "stop";
    case FAKE_OP_DATAGRAM: return "datagram";
    }
    return "?";
}

/* Our QPACK encoder and decoder streams (2 and 3 are the control streams). */
static bool is_qpack_stream(const fake_transport *fake, uint64_t stream_id) {
    uint64_t first = fake->is_client ? 6 : 7;
    return stream_id == first || stream_id == first + 4;
}

/* What `fake` recorded from its `from`-th operation on is exactly want[0..n], leaving out
 * the QPACK streams' bookkeeping (inserts, acknowledgements, Stream Cancellations: see
 * test_conn_rules.c). */
static void check_ops(const fake_transport *fake, size_t from, const want_op *want, size_t n) {
    unsigned failed_before = check_failed_;
    size_t seen = 0;
    for (size_t i = from; i < fake->ops_len; i++) {
        const fake_op *op = &fake->ops[i];
        if (op->kind == FAKE_OP_STREAM_DATA && is_qpack_stream(fake, op->stream_id)) {
            continue;
        }
        if (seen < n) {
            CHECK_INT(op->kind, want[seen].kind);
            CHECK_INT(op->stream_id, want[seen].sid);
            if (want[seen].kind != FAKE_OP_STREAM_DATA) {
                CHECK_INT(op->error_code, want[seen].code);
            }
        }
        seen++;
    }
    CHECK_INT(seen, n);
    if (check_failed_ != failed_before) {
        fprintf(stderr, "  ^ the %s's operations were:\n", fake->is_client ? "client" : "server");
        for (size_t i = from; i < fake->ops_len; i++) {
            fprintf(stderr, "    %s stream %" PRIu64 " code 0x%" PRIx64 "\n",
                    op_name(fake->ops[i].kind), fake->ops[i].stream_id, fake->ops[i].error_code);
        }
    }
}

#define CHECK_OPS(fake, from, ...)                                                        \
    do {                                                                                  \
        const want_op want_[] = {__VA_ARGS__};                                            \
        check_ops((fake), (from), want_, N(want_));                                       \
    } while (0)

/* The events of `log` from `from` on (DATA_RECEIVED left out) are the list given. */
#define CHECK_EVENTS(log, from, ...)                                                      \
    do {                                                                                  \
        const expect_list want_ = EVENTS(__VA_ARGS__);                                    \
        check_events((log), (from), &want_);                                              \
    } while (0)

static void send_get(pair *p, uint64_t stream_id, bool end_stream) {
    CHECK_INT(h3q_conn_send_headers(p->client.conn, stream_id, get_root, N(get_root),
                                    end_stream),
              H3Q_OK);
}

/* A QUIC termination given by hand, as a QUIC stack reports one. */
static h3q_result terminate(h3q_conn *conn, uint64_t code, h3q_error_space space, bool by_peer,
                            const char *reason, event_log *log) {
    h3q_quic_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = H3Q_QUIC_CONNECTION_TERMINATED;
    ev.error_code = code;
    ev.error_space = space;
    ev.closed_by_peer = by_peer;
    ev.reason = (const uint8_t *)reason;
    ev.reason_len = strlen(reason);
    return h3q_conn_handle_event(conn, &ev, event_log_cb, log);
}

/* Request 0, and pushes 0 and 1 promised on it (their push streams written to first and
 * second), seen by the client. */
static void promise_two_pushes(pair *p, uint64_t *first, uint64_t *second) {
    send_get(p, 0, true);
    to_server(p);
    CHECK_INT(h3q_conn_send_push_promise(p->server.conn, 0, promised, N(promised), first),
              H3Q_OK);
    CHECK_INT(h3q_conn_send_push_promise(p->server.conn, 0, promised, N(promised), second),
              H3Q_OK);
    to_client(p);
    CHECK_EVENTS(&p->client.log, 0, E_PUSH_PROMISE(0, 0), E_PUSH_PROMISE(0, 1));
}

/* ---- GOAWAY and graceful shutdown -------------------------------------------------- */

/* A client with requests 0, 4 and 8 open gets GOAWAY(4): the event, then STREAM_RESET
 * H3_REQUEST_REJECTED for 4 and 8 in order, which it cancels on the wire (4 had ended:
 * only STOP_SENDING; 8 had not: RESET_STREAM too); request 0 goes on; a new request is
 * refused with H3Q_ERR_GOING_AWAY and nothing sent. Requests 4 and 8, then the client's
 * cancellations of them, reach the server after its GOAWAY: each refused once (RESET_STREAM
 * and STOP_SENDING H3_REQUEST_REJECTED), without an event. */
static void goaway_rejects_the_requests_it_excludes(pair *p) {
    send_get(p, 0, true);
    to_server(p);
    CHECK_INT(count_events(&p->server.log, H3Q_EVENT_HEADERS_RECEIVED), 1);
    send_get(p, 4, true);
    send_get(p, 8, false);
    CHECK_INT(active(p->client.conn), 3);
    /* The server saw request 0 only: its GOAWAY names 4. */
    CHECK_INT(h3q_conn_shutdown(p->server.conn), H3Q_OK);
    static const uint64_t sent[] = {4};
    check_goaways(&p->sf, SERVER_CONTROL, sent, N(sent));

    size_t cops = p->cf.ops_len;
    size_t clog = p->client.log.len;
    to_client(p);
    CHECK_EVENTS(&p->client.log, clog, E_GOAWAY(4), E_RESET(4, REJECTED),
                 E_RESET(8, REJECTED));
    CHECK_OPS(&p->cf, cops, OP_STOP(4, CANCELLED), OP_RESET(8, CANCELLED),
              OP_STOP(8, CANCELLED));
    CHECK_INT(active(p->client.conn), 1);

    size_t sops = p->sf.ops_len;
    size_t slog = p->server.log.len;
    to_server(p);
    CHECK_INT(p->server.log.len, slog);
    CHECK_OPS(&p->sf, sops, OP_RESET(4, REJECTED), OP_STOP(4, REJECTED),
              OP_RESET(8, REJECTED), OP_STOP(8, REJECTED));
    CHECK_INT(active(p->server.conn), 1);

    /* Request 0 goes on. */
    CHECK_INT(h3q_conn_send_headers(p->server.conn, 0, response_200, N(response_200), false),
              H3Q_OK);
    CHECK_INT(h3q_conn_send_data(p->server.conn, 0, (const uint8_t *)"ok", 2, true), H3Q_OK);
    to_client(p);
    check_body(&p->client.log, 0, "ok");
    CHECK_INT(active(p->client.conn), 0);
    CHECK_INT(active(p->server.conn), 0);

    /* A new request at or above the GOAWAY's id: refused, nothing sent. */
    cops = p->cf.ops_len;
    CHECK_INT(h3q_conn_send_headers(p->client.conn, 12, get_root, N(get_root), true),
              H3Q_ERR_GOING_AWAY);
    CHECK_STR(h3q_conn_last_error(p->client.conn),
              "the peer's GOAWAY excludes this request or push: use another connection");
    CHECK_INT(p->cf.ops_len, cops);
}

/* The server's two-step drain: the notice (2^62-4) lets requests in flight, and later
 * ones, through; h3q_conn_shutdown() then names the request after the last one seen, and a
 * repeated notice never names more. Requests at or above it (sent before the client saw
 * the GOAWAY) are refused with RESET_STREAM and STOP_SENDING H3_REQUEST_REJECTED, once,
 * without an event; those below complete and h3q_conn_active_requests() counts down. */
static void the_two_step_drain_of_a_server(pair *p) {
    send_get(p, 0, true);
    send_get(p, 4, true);
    to_server(p);
    /* Step 1: "I will stop". */
    CHECK_INT(h3q_conn_shutdown_notice(p->server.conn), H3Q_OK);
    size_t cops = p->cf.ops_len;
    size_t clog = p->client.log.len;
    to_client(p);
    CHECK_EVENTS(&p->client.log, clog, E_GOAWAY(LAST_REQUEST_ID));
    check_ops(&p->cf, cops, NULL, 0);
    send_get(p, 8, true); /* still allowed, and served */
    to_server(p);
    CHECK_INT(count_events(&p->server.log, H3Q_EVENT_HEADERS_RECEIVED), 3);
    CHECK_INT(active(p->server.conn), 3);

    /* Step 2: the request after the last one seen; a later notice is no larger. */
    CHECK_INT(h3q_conn_shutdown(p->server.conn), H3Q_OK);
    CHECK_INT(h3q_conn_shutdown_notice(p->server.conn), H3Q_OK);
    static const uint64_t sent[] = {LAST_REQUEST_ID, 12, 12};
    check_goaways(&p->sf, SERVER_CONTROL, sent, N(sent));

    /* Two requests the client sent before it saw that GOAWAY, one with more data. */
    send_get(p, 12, true);
    send_get(p, 16, false);
    CHECK_INT(h3q_conn_send_data(p->client.conn, 16, (const uint8_t *)"more", 4, false),
              H3Q_OK);
    size_t sops = p->sf.ops_len;
    size_t slog = p->server.log.len;
    to_server(p);
    CHECK_INT(p->server.log.len, slog);
    CHECK_OPS(&p->sf, sops, OP_RESET(12, REJECTED), OP_STOP(12, REJECTED),
              OP_RESET(16, REJECTED), OP_STOP(16, REJECTED));
    CHECK_INT(active(p->server.conn), 3);

    /* The requests below complete; then nothing is active. */
    static const uint64_t below[] = {0, 4, 8};
    for (size_t i = 0; i < N(below); i++) {
        CHECK_INT(h3q_conn_send_headers(p->server.conn, below[i], response_200,
                                        N(response_200), true),
                  H3Q_OK);
        CHECK_INT(active(p->server.conn), 2 - i);
    }

    /* The client learns that 12 and 16 were not processed, and cancels them. */
    cops = p->cf.ops_len;
    clog = p->client.log.len;
    to_client(p);
    CHECK_EVENTS(&p->client.log, clog, E_GOAWAY(12), E_RESET(12, REJECTED),
                 E_RESET(16, REJECTED), E_GOAWAY(12), E_HEADERS(0), E_HEADERS(4),
                 E_HEADERS(8));
    CHECK_OPS(&p->cf, cops, OP_STOP(12, CANCELLED), OP_RESET(16, CANCELLED),
              OP_STOP(16, CANCELLED));
    CHECK_INT(active(p->client.conn), 0);
    CHECK_INT(h3q_conn_send_headers(p->client.conn, 20, get_root, N(get_root), true),
              H3Q_ERR_GOING_AWAY);

    /* Those cancellations change nothing at the server: the streams were refused. */
    sops = p->sf.ops_len;
    slog = p->server.log.len;
    to_server(p);
    CHECK_INT(p->server.log.len, slog);
    check_ops(&p->sf, sops, NULL, 0);
}

/* A server that saw no request shuts down with GOAWAY(0): a request the client sent
 * meanwhile is refused at the server and reported rejected at the client. */
static void a_server_without_requests_shuts_down_with_zero(pair *p) {
    CHECK_INT(h3q_conn_shutdown(p->server.conn), H3Q_OK);
    static const uint64_t sent[] = {0};
    check_goaways(&p->sf, SERVER_CONTROL, sent, N(sent));
    CHECK_INT(active(p->server.conn), 0);
    send_get(p, 0, true);
    size_t sops = p->sf.ops_len;
    to_server(p);
    CHECK_INT(p->server.log.len, 0);
    CHECK_OPS(&p->sf, sops, OP_RESET(0, REJECTED), OP_STOP(0, REJECTED));
    to_client(p);
    CHECK_EVENTS(&p->client.log, 0, E_GOAWAY(0), E_RESET(0, REJECTED));
    CHECK_INT(active(p->client.conn), 0);
    CHECK_INT(active(p->server.conn), 0);
}

/* A client's GOAWAY carries push ids: its notice 2^62-1, then the push after the last one
 * promised to it. The server reports both (push_id, has_push_id), refuses new pushes with
 * H3Q_ERR_GOING_AWAY and completes those below. */
static void a_client_goaway_stops_new_pushes(pair *p) {
    uint64_t first = 0, second = 0;
    promise_two_pushes(p, &first, &second);

    CHECK_INT(h3q_conn_shutdown_notice(p->client.conn), H3Q_OK);
    CHECK_INT(h3q_conn_shutdown(p->client.conn), H3Q_OK);
    static const uint64_t sent[] = {LAST_PUSH_ID, 2};
    check_goaways(&p->cf, CLIENT_CONTROL, sent, N(sent));
    to_server(p);
    CHECK_EVENTS(&p->server.log, 1, E_GOAWAY_PUSH(LAST_PUSH_ID), E_GOAWAY_PUSH(2));

    size_t sops = p->sf.ops_len;
    uint64_t out = 77;
    CHECK_INT(h3q_conn_send_push_promise(p->server.conn, 0, promised, N(promised), &out),
              H3Q_ERR_GOING_AWAY);
    CHECK_INT(out, 77);
    CHECK_INT(p->sf.ops_len, sops);
    /* Pushes below the id go on, and the request. */
    CHECK_INT(h3q_conn_send_headers(p->server.conn, first, response_200, N(response_200),
                                    true),
              H3Q_OK);
    CHECK_INT(h3q_conn_send_headers(p->server.conn, second, response_200, N(response_200),
                                    true),
              H3Q_OK);
    CHECK_INT(h3q_conn_send_headers(p->server.conn, 0, response_200, N(response_200), true),
              H3Q_OK);
    size_t clog = p->client.log.len;
    to_client(p);
    CHECK_EVENTS(&p->client.log, clog, E_PUSHED_HEADERS(first, 0),
                 E_PUSHED_HEADERS(second, 1), E_HEADERS(0));
    CHECK_INT(active(p->client.conn), 0);
    CHECK_INT(active(p->server.conn), 0);
}

/* ---- stream aborts ------------------------------------------------------------------ */

/* A client resets its upload midway: the server gets the bytes that came before, then one
 * STREAM_RESET with the code; the client can send nothing more, and once the server has
 * answered neither side keeps the stream. */
static void a_reset_mid_upload(pair *p) {
    static const h3q_header post[] = {FAKE_HDR(":method", "POST"), FAKE_HDR(":scheme", "https"),
                                      FAKE_HDR(":authority", "example.com"),
                                      FAKE_HDR(":path", "/upload")};
    CHECK_INT(h3q_conn_send_headers(p->client.conn, 0, post, N(post), false), H3Q_OK);
    to_server(p);
    CHECK_INT(active(p->client.conn), 1);
    CHECK_INT(active(p->server.conn), 1);
    CHECK_INT(h3q_conn_send_data(p->client.conn, 0, (const uint8_t *)"partial upload", 14,
                                 false),
              H3Q_OK);
    size_t cops = p->cf.ops_len;
    CHECK_INT(h3q_conn_reset_stream(p->client.conn, 0, CANCELLED), H3Q_OK);
    CHECK_OPS(&p->cf, cops, OP_RESET(0, CANCELLED));
    cops = p->cf.ops_len;
    CHECK_INT(h3q_conn_send_data(p->client.conn, 0, (const uint8_t *)"x", 1, false),
              H3Q_ERR_FRAME_UNEXPECTED);
    CHECK_STR(h3q_conn_last_error(p->client.conn), "stream was already ended");
    CHECK_INT(h3q_conn_reset_stream(p->client.conn, 0, CANCELLED), H3Q_ERR_FRAME_UNEXPECTED);
    CHECK_STR(h3q_conn_last_error(p->client.conn), "stream was already ended");
    CHECK_INT(p->cf.ops_len, cops);

    size_t slog = p->server.log.len;
    to_server(p);
    CHECK_EVENTS(&p->server.log, slog, E_RESET(0, CANCELLED));
    fake_buf body = {0};
    CHECK(!event_log_data(&p->server.log, 0, &body));
    CHECK(body.len == 14 && memcmp(body.data, "partial upload", 14) == 0);
    fake_buf_free(&body);

    /* The server answers and is done; so is the client once the answer came. */
    CHECK_INT(h3q_conn_send_headers(p->server.conn, 0, response_200, N(response_200), true),
              H3Q_OK);
    CHECK_INT(active(p->server.conn), 0);
    CHECK_INT(active(p->client.conn), 1);
    to_client(p);
    check_body(&p->client.log, 0, "");
    CHECK_INT(active(p->client.conn), 0);
}

/* A client stops a download midway: the server gets one STOP_SENDING with the code and
 * has reset its sending side with it; what was still on its way is not delivered, and
 * neither side keeps the stream. */
static void stop_sending_mid_download(pair *p) {
    send_get(p, 0, true);
    to_server(p);
    CHECK_INT(h3q_conn_send_headers(p->server.conn, 0, response_200, N(response_200), false),
              H3Q_OK);
    CHECK_INT(h3q_conn_send_data(p->server.conn, 0, (const uint8_t *)"start of a long body",
                                 20, false),
              H3Q_OK);
    to_client(p);
    size_t cops = p->cf.ops_len;
    CHECK_INT(h3q_conn_stop_sending(p->client.conn, 0, CANCELLED), H3Q_OK);
    CHECK_OPS(&p->cf, cops, OP_STOP(0, CANCELLED));
    CHECK_INT(h3q_conn_stop_sending(p->client.conn, 0, CANCELLED), H3Q_ERR_FRAME_UNEXPECTED);
    CHECK_STR(h3q_conn_last_error(p->client.conn), "stream was already ended");
    CHECK_INT(active(p->client.conn), 0);

    /* The server sends more before the STOP_SENDING reaches it. */
    CHECK_INT(h3q_conn_send_data(p->server.conn, 0, (const uint8_t *)"late", 4, false),
              H3Q_OK);
    CHECK_INT(active(p->server.conn), 1);
    size_t sops = p->sf.ops_len;
    size_t slog = p->server.log.len;
    to_server(p);
    CHECK_EVENTS(&p->server.log, slog, E_STOP(0, CANCELLED));
    CHECK_OPS(&p->sf, sops, OP_RESET(0, CANCELLED));
    CHECK_INT(h3q_conn_send_data(p->server.conn, 0, (const uint8_t *)"more", 4, false),
              H3Q_ERR_FRAME_UNEXPECTED);
    CHECK_STR(h3q_conn_last_error(p->server.conn), "stream was already ended");
    CHECK_INT(active(p->server.conn), 0);

    /* Neither the late bytes nor the reset reach the client's application. */
    size_t clog = p->client.log.len;
    to_client(p);
    CHECK_INT(p->client.log.len, clog);
    fake_buf body = {0};
    CHECK(!event_log_data(&p->client.log, 0, &body));
    CHECK(body.len == 20 && memcmp(body.data, "start of a long body", 20) == 0);
    fake_buf_free(&body);
}

/* ---- push cancellation --------------------------------------------------------------- */

/* The last CANCEL_PUSH `fake` sent on `control` names `push_id`. */
static void check_last_cancel_push(const fake_transport *fake, uint64_t control,
                                   uint64_t push_id) {
    uint64_t ids[8];
    size_t n = id_frames(fake, control, 0x03, ids, N(ids));
    CHECK(n > 0 && n <= N(ids) && ids[n - 1] == push_id);
}

/* The client cancels push 0 (the server reports PUSH_CANCELLED once and resets its push
 * stream; the client stops it), and the server cancels push 1 (the client reports
 * PUSH_CANCELLED once and stops the push stream, whose reset brings no event). */
static void cancel_push_both_ways(pair *p) {
    uint64_t first = 0, second = 0;
    promise_two_pushes(p, &first, &second);

    size_t cops = p->cf.ops_len;
    CHECK_INT(h3q_conn_cancel_push(p->client.conn, 0), H3Q_OK);
    CHECK_OPS(&p->cf, cops, OP_DATA(CLIENT_CONTROL), OP_STOP(first, CANCELLED));
    check_last_cancel_push(&p->cf, CLIENT_CONTROL, 0);
    size_t sops = p->sf.ops_len;
    size_t slog = p->server.log.len;
    to_server(p);
    CHECK_EVENTS(&p->server.log, slog, E_CANCELLED(0));
    CHECK_OPS(&p->sf, sops, OP_RESET(first, CANCELLED));
    CHECK_INT(h3q_conn_send_headers(p->server.conn, first, response_200, N(response_200),
                                    true),
              H3Q_ERR_FRAME_UNEXPECTED);
    /* Cancelled twice: reported once. */
    CHECK_INT(h3q_conn_cancel_push(p->client.conn, 0), H3Q_OK);
    slog = p->server.log.len;
    to_server(p);
    CHECK_INT(p->server.log.len, slog);

    sops = p->sf.ops_len;
    CHECK_INT(h3q_conn_cancel_push(p->server.conn, 1), H3Q_OK);
    CHECK_OPS(&p->sf, sops, OP_DATA(SERVER_CONTROL), OP_RESET(second, CANCELLED));
    check_last_cancel_push(&p->sf, SERVER_CONTROL, 1);
    cops = p->cf.ops_len;
    size_t clog = p->client.log.len;
    to_client(p);
    CHECK_EVENTS(&p->client.log, clog, E_CANCELLED(1));
    CHECK_OPS(&p->cf, cops, OP_STOP(second, CANCELLED));

    /* The request is answered; no push stays. */
    CHECK_INT(h3q_conn_send_headers(p->server.conn, 0, response_200, N(response_200), true),
              H3Q_OK);
    to_client(p);
    to_server(p);
    check_body(&p->client.log, 0, "");
    CHECK_INT(active(p->client.conn), 0);
    CHECK_INT(active(p->server.conn), 0);
}

/* The PUSH_PROMISE reaches the client ahead of the push stream; the client cancels the
 * push; when the push stream comes, it is stopped and nothing of it is delivered. */
static void a_client_ignores_the_stream_of_a_cancelled_push(pair *p) {
    send_get(p, 0, true);
    to_server(p);
    uint64_t push_stream = 0;
    CHECK_INT(h3q_conn_send_push_promise(p->server.conn, 0, promised, N(promised),
                                         &push_stream),
              H3Q_OK);
    fake_transfer_result r = fake_transfer_stream(&p->sf, p->client.conn, p->mode, 0,
                                                  app_cb, &p->client);
    CHECK_INT(r.first_error, H3Q_OK);
    CHECK_EVENTS(&p->client.log, 0, E_PUSH_PROMISE(0, 0));
    size_t cops = p->cf.ops_len;
    CHECK_INT(h3q_conn_cancel_push(p->client.conn, 0), H3Q_OK);
    CHECK_OPS(&p->cf, cops, OP_DATA(CLIENT_CONTROL)); /* no push stream to stop yet */

    /* The push stream, and the pushed response on it. */
    CHECK_INT(h3q_conn_send_headers(p->server.conn, push_stream, response_200,
                                    N(response_200), false),
              H3Q_OK);
    CHECK_INT(h3q_conn_send_data(p->server.conn, push_stream, (const uint8_t *)"body{}", 6,
                                 true),
              H3Q_OK);
    cops = p->cf.ops_len;
    size_t clog = p->client.log.len;
    to_client(p);
    CHECK_INT(p->client.log.len, clog);
    CHECK_OPS(&p->cf, cops, OP_STOP(push_stream, CANCELLED));
    size_t slog = p->server.log.len;
    to_server(p);
    CHECK_EVENTS(&p->server.log, slog, E_CANCELLED(0));
    CHECK_INT(active(p->client.conn), 1); /* request 0, not answered yet */
    CHECK_INT(h3q_conn_send_headers(p->server.conn, 0, response_200, N(response_200), true),
              H3Q_OK);
    to_client(p);
    check_body(&p->client.log, 0, "");
    CHECK_INT(active(p->client.conn), 0);
    CHECK_INT(active(p->server.conn), 0);
}

/* ---- the peer's SETTINGS_MAX_FIELD_SECTION_SIZE ------------------------------------ */

/* Sizes count name + value + 32 per field: these five are 200 bytes, 201 with x=1. */
static const h3q_header at_200[] = {FAKE_HDR(":method", "GET"), FAKE_HDR(":scheme", "https"),
                                    FAKE_HDR(":authority", "a"), FAKE_HDR(":path", "/"),
                                    FAKE_HDR("x", "")};
static const h3q_header at_201[] = {FAKE_HDR(":method", "GET"), FAKE_HDR(":scheme", "https"),
                                    FAKE_HDR(":authority", "a"), FAKE_HDR(":path", "/"),
                                    FAKE_HDR("x", "1")};

/* The server allows 200 bytes: the client's 201-byte request is refused with
 * H3Q_ERR_FIELD_SECTION_TOO_LARGE and nothing sent, a 200-byte one goes. */
static void a_server_allowing_200_bytes(pair *p) {
    size_t cops = p->cf.ops_len;
    CHECK_INT(h3q_conn_send_headers(p->client.conn, 0, at_201, N(at_201), true),
              H3Q_ERR_FIELD_SECTION_TOO_LARGE);
    CHECK_STR(h3q_conn_last_error(p->client.conn),
              "the field section (201 bytes) exceeds the peer's "
              "SETTINGS_MAX_FIELD_SECTION_SIZE (200)");
    CHECK_INT(p->cf.ops_len, cops);
    CHECK_INT(h3q_conn_send_headers(p->client.conn, 0, at_200, N(at_200), true), H3Q_OK);
    to_server(p);
    const rec_event *e = nth_event(&p->server.log, H3Q_EVENT_HEADERS_RECEIVED, 0, 0);
    CHECK(e != NULL && headers_equal(e, at_200, N(at_200)));
}

/* The client allows 100 bytes: the server's push promise (186 bytes) and a 130-byte
 * response are refused and nothing sent; a 96-byte response goes. */
static void a_client_allowing_100_bytes(pair *p) {
    static const h3q_header response_130[] = {FAKE_HDR(":status", "200"),
                                              FAKE_HDR("content-type", "text/plain"),
                                              FAKE_HDR("x", "1")};
    send_get(p, 0, true);
    to_server(p);
    size_t sops = p->sf.ops_len;
    uint64_t out = 77;
    CHECK_INT(h3q_conn_send_push_promise(p->server.conn, 0, promised, N(promised), &out),
              H3Q_ERR_FIELD_SECTION_TOO_LARGE);
    CHECK_STR(h3q_conn_last_error(p->server.conn),
              "the field section (186 bytes) exceeds the peer's "
              "SETTINGS_MAX_FIELD_SECTION_SIZE (100)");
    CHECK_INT(out, 77);
    CHECK_INT(h3q_conn_send_headers(p->server.conn, 0, response_130, N(response_130), true),
              H3Q_ERR_FIELD_SECTION_TOO_LARGE);
    CHECK_INT(p->sf.ops_len, sops);
    CHECK_INT(h3q_conn_send_headers(p->server.conn, 0, response_200, N(response_200), true),
              H3Q_OK);
    to_client(p);
    const rec_event *e = nth_event(&p->client.log, H3Q_EVENT_HEADERS_RECEIVED, 0, 0);
    CHECK(e != NULL && headers_equal(e, response_200, N(response_200)));
}

static void the_peers_field_section_size_is_honoured(void) {
    h3q_settings limit_200;
    h3q_settings_default(&limit_200);
    limit_200.max_field_section_size = 200;
    pair_run("a server allowing 200 bytes", a_server_allowing_200_bytes, NULL, &limit_200);
    h3q_settings limit_100;
    h3q_settings_default(&limit_100);
    limit_100.max_field_section_size = 100;
    pair_run("a client allowing 100 bytes", a_client_allowing_100_bytes, &limit_100, NULL);
}

/* ---- ORIGIN --------------------------------------------------------------------------- */

/* A server's ORIGIN frames reach the client as ORIGIN_RECEIVED, one header per origin (an
 * empty frame too); a client may not send one. */
static void origin_from_a_server(pair *p) {
    static const char *const origins[] = {"https://example.com", "https://cdn.example.com:8443"};
    CHECK_INT(h3q_conn_send_origin(p->server.conn, origins, N(origins)), H3Q_OK);
    CHECK_INT(h3q_conn_send_origin(p->server.conn, NULL, 0), H3Q_OK);
    to_client(p);
    CHECK_EVENTS(&p->client.log, 0,
                 E_ORIGIN("https://example.com\nhttps://cdn.example.com:8443"),
                 E_ORIGIN(""));
    size_t cops = p->cf.ops_len;
    CHECK_INT(h3q_conn_send_origin(p->client.conn, origins, 1), H3Q_ERR_WRONG_ROLE);
    CHECK_STR(h3q_conn_last_error(p->client.conn), "Only servers may send an ORIGIN frame.");
    CHECK_INT(p->cf.ops_len, cops);
    to_server(p);
    CHECK_INT(p->server.log.len, 0);
}

/* ---- how the connection ended ------------------------------------------------------- */

#define GOAWAY_2_REASON "GOAWAY id 2 is not a client-initiated bidirectional stream"

/* A protocol error of the server's (GOAWAY naming stream 2): h3q closes with H3_ID_ERROR,
 * which h3q_conn_close_code() gives; the QUIC termination that follows (here said to be the
 * peer's H3_NO_ERROR) is reported once, as the first close: ours. */
static void a_protocol_error_then_the_termination(void) {
    FOR_EACH_MODE(mode) {
        unsigned failed = check_failed_;
        fake_transport fake;
        fake_init(&fake, true);
        h3q_transport t = fake_table(&fake);
        h3q_conn *conn = NULL;
        CHECK_INT(h3q_conn_new(&t, NULL, &conn), H3Q_OK);
        if (conn == NULL) {
            fake_free(&fake);
            continue;
        }
        event_log log = {0};
        uint64_t code = 0;
        h3q_error_space space = H3Q_ERROR_SPACE_UNSPECIFIED;
        CHECK_INT(h3q_conn_close_code(conn, &code, &space), H3Q_DONE);
        static const uint8_t control[] = {0x00, 0x04, 0x00, 0x07, 0x01, 0x02};
        fake_transfer_result r = fake_deliver(conn, (fake_mode)mode, SERVER_CONTROL, control,
                                              sizeof control, false, event_log_cb, &log);
        CHECK_INT(r.first_error, H3Q_ERR_PROTOCOL);
        CHECK_INT(r.errors, 1);
        CHECK_INT(log.len, 0);
        CHECK_INT(fake.close_count, 1);
        CHECK_INT(fake.close_code, 0x108);
        CHECK_STR(fake.close_reason, GOAWAY_2_REASON);
        CHECK_INT(h3q_conn_close_code(conn, &code, &space), H3Q_OK);
        CHECK_INT(code, 0x108);
        CHECK_INT(space, H3Q_ERROR_SPACE_APPLICATION);

        CHECK_INT(terminate(conn, 0x100, H3Q_ERROR_SPACE_APPLICATION, true, "bye", &log), H3Q_OK);
        CHECK_EVENTS(&log, 0, E_CLOSED(0x108, APP, false, GOAWAY_2_REASON));
        CHECK_INT(terminate(conn, 0x100, H3Q_ERROR_SPACE_APPLICATION, true, "bye", &log), H3Q_OK);
        CHECK_INT(log.len, 1);
        CHECK_INT(h3q_conn_close_code(conn, &code, &space), H3Q_OK);
        CHECK_INT(code, 0x108);
        CHECK_INT(space, H3Q_ERROR_SPACE_APPLICATION);
        CHECK_INT(fake.close_count, 1);
        CHECK_INT(h3q_conn_shutdown(conn), H3Q_ERR_CONNECTION_CLOSED);
        CHECK_INT(h3q_conn_shutdown_notice(conn), H3Q_ERR_CONNECTION_CLOSED);
        event_log_free(&log);
        h3q_conn_free(conn);
        fake_free(&fake);
        report(failed, "protocol error, then the termination", mode);
    }
}

/* The QUIC connection terminates by itself: the peer's transport error (with a request
 * open), or an idle timeout (no code). Reported once, as it came; the connection keeps no
 * stream and sends nothing more. */
static void a_termination_alone(pair *p) {
    send_get(p, 0, true);
    to_server(p);
    CHECK_INT(active(p->client.conn), 1);
    CHECK_INT(terminate(p->client.conn, 0x0a, H3Q_ERROR_SPACE_TRANSPORT, true,
                        "protocol violation", &p->client.log),
              H3Q_OK);
    CHECK_INT(terminate(p->client.conn, 0x0a, H3Q_ERROR_SPACE_TRANSPORT, true,
                        "protocol violation", &p->client.log),
              H3Q_OK);
    CHECK_EVENTS(&p->client.log, 0,
                 E_CLOSED(0x0a, H3Q_ERROR_SPACE_TRANSPORT, true, "protocol violation"));
    uint64_t code = 0;
    h3q_error_space space = H3Q_ERROR_SPACE_UNSPECIFIED;
    CHECK_INT(h3q_conn_close_code(p->client.conn, &code, &space), H3Q_OK);
    CHECK_INT(code, 0x0a);
    CHECK_INT(space, H3Q_ERROR_SPACE_TRANSPORT);
    CHECK_INT(active(p->client.conn), 0);
    size_t cops = p->cf.ops_len;
    CHECK_INT(h3q_conn_send_headers(p->client.conn, 4, get_root, N(get_root), true),
              H3Q_ERR_CONNECTION_CLOSED);
    CHECK_INT(h3q_conn_reset_stream(p->client.conn, 0, CANCELLED), H3Q_ERR_CONNECTION_CLOSED);
    CHECK_INT(p->cf.ops_len, cops);

    size_t slog = p->server.log.len;
    CHECK_INT(terminate(p->server.conn, 0, H3Q_ERROR_SPACE_NO_CODE, false, "",
                        &p->server.log),
              H3Q_OK);
    CHECK_EVENTS(&p->server.log, slog, E_CLOSED(0, H3Q_ERROR_SPACE_NO_CODE, false, ""));
    CHECK_INT(h3q_conn_close_code(p->server.conn, &code, &space), H3Q_OK);
    CHECK_INT(code, 0);
    CHECK_INT(space, H3Q_ERROR_SPACE_NO_CODE);
    CHECK_INT(active(p->server.conn), 0);
    /* No close of h3q's own: the transport's close was never called. */
    CHECK_INT(p->cf.close_count, 0);
    CHECK_INT(p->sf.close_count, 0);
}

int main(void) {
    RUN_PAIRS(goaway_rejects_the_requests_it_excludes);
    RUN_PAIRS(the_two_step_drain_of_a_server);
    RUN_PAIRS(a_server_without_requests_shuts_down_with_zero);
    RUN_PAIRS(a_client_goaway_stops_new_pushes);
    RUN_PAIRS(a_reset_mid_upload);
    RUN_PAIRS(stop_sending_mid_download);
    RUN_PAIRS(cancel_push_both_ways);
    RUN_PAIRS(a_client_ignores_the_stream_of_a_cancelled_push);
    RUN(the_peers_field_section_size_is_honoured);
    RUN_PAIRS(origin_from_a_server);
    RUN(a_protocol_error_then_the_termination);
    RUN_PAIRS(a_termination_alone);
    return CHECK_DONE("test_conn_lifecycle");
}
