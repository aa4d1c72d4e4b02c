/* Priorities (docs/BEHAVIOUR.md#priorities, RFC 9218) through the C API, on a client and a
 * server h3q_conn over two fake transports, every scenario in each delivery mode (one byte
 * per event; chunks with FIN apart; chunks carrying FIN):
 *   - a request's `priority` field gives the priority on both sides
 *     (h3q_conn_get_priority), and each side's transport is told (set_stream_priority);
 *   - h3q_conn_send_priority_update() puts one PRIORITY_UPDATE on the client's control
 *     stream and the server reports H3Q_EVENT_PRIORITY_UPDATE with its fields; one sent
 *     before the request wins over the request's field, without an event; one for a
 *     request the server finished gives no event but still reaches its transport;
 *   - a push takes the `priority` field of its promised request, and an update naming the
 *     push stream reaches the server with the push id;
 *   - the application's own h3q_conn_set_priority();
 *   - at most 256 updates for requests not opened yet are kept;
 *   - h3q_event.priority is zero in events of other types ("fields a type does not use
 *     are zero");
 *   - h3q_priority_parse() on RFC 9218's examples, malformed values and random bytes:
 *     never an error, the urgency always 0 to 7.
 * The receive-side PRIORITY_UPDATE rules and their closes: test_conn_rules.c. Misuse of the
 * calls: test_conn_misuse.c. */
#include "h3q.h"

#include "check.h"
#include "expect_events.h"
#include "fake_pair.h"
#include "fake_transport.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N(array) (sizeof(array) / sizeof((array)[0]))

#define CLIENT_CONTROL 2
#define PRIORITY_UPDATE_REQUEST 0xf0700
#define PRIORITY_UPDATE_PUSH 0xf0701

/* The events of `log` from `from` on (DATA_RECEIVED left out) are the list given. */
#define CHECK_EVENTS(log, from, ...)                                                      \
    do {                                                                                  \
        const expect_list want_ = EVENTS(__VA_ARGS__);                                    \
        check_events((log), (from), &want_);                                              \
    } while (0)

/* GET https://example.com/ with a priority field. */
static const h3q_header get_u1_i[] = {
    FAKE_HDR(":method", "GET"), FAKE_HDR(":scheme", "https"),
    FAKE_HDR(":authority", "example.com"), FAKE_HDR(":path", "/"),
    FAKE_HDR("priority", "u=1, i")};
static const h3q_header get_u0[] = {
    FAKE_HDR(":method", "GET"), FAKE_HDR(":scheme", "https"),
    FAKE_HDR(":authority", "example.com"), FAKE_HDR(":path", "/"), FAKE_HDR("priority", "u=0")};
/* Three priority fields, one list: "u=5, , i" is "u=5, i". */
static const h3q_header get_three_fields[] = {
    FAKE_HDR(":method", "GET"),           FAKE_HDR(":scheme", "https"),
    FAKE_HDR(":authority", "example.com"), FAKE_HDR(":path", "/"),
    FAKE_HDR("priority", "u=5"),          FAKE_HDR("priority", ""),
    FAKE_HDR("priority", "i")};
/* The request a push promises, with priority u=2. */
static const h3q_header promised_u2[] = {
    FAKE_HDR(":method", "GET"), FAKE_HDR(":scheme", "https"),
    FAKE_HDR(":authority", "example.com"), FAKE_HDR(":path", "/style.css"),
    FAKE_HDR("priority", "u=2")};

/* ---- helpers (check_priority, check_untracked: expect_events.h) ------------------------ */

static h3q_priority prio(uint8_t urgency, bool incremental) {
    h3q_priority p;
    memset(&p, 0, sizeof p);
    p.urgency = urgency;
    p.incremental = incremental;
    return p;
}

/* The last set_stream_priority call for `sid` told {u, i}. */
static void check_told(const fake_transport *fake, uint64_t sid, uint8_t u, bool i) {
    const fake_priority *t = fake_last_priority(fake, sid);
    CHECK(t != NULL);
    if (t != NULL) {
        CHECK_INT(t->urgency, u);
        CHECK_INT(t->incremental, i);
    } else {
        fprintf(stderr, "  ^ %s's transport was never told a priority for stream %" PRIu64
                " (expected u=%d%s)\n", fake->is_client ? "the client" : "the server", sid,
                (int)u, i ? ", i" : "");
    }
}

/* The last PRIORITY_UPDATE frame on the client's control stream: its frame type, the id it
 * names, and what its Priority Field Value parses to. False when there is none. */
static bool last_priority_update(const fake_transport *cf, uint64_t *type, uint64_t *id,
                                 h3q_priority *value) {
    fake_buf bytes = {0};
    fake_stream_bytes(cf, CLIENT_CONTROL, &bytes);
    fake_frame frames[64];
    uint64_t stream_type = 99;
    size_t n = fake_frames(&bytes, &stream_type, frames, N(frames));
    CHECK(n <= N(frames));
    bool found = false;
    for (size_t k = 0; k < n && k < N(frames); k++) {
        if (frames[k].type != PRIORITY_UPDATE_REQUEST &&
            frames[k].type != PRIORITY_UPDATE_PUSH) {
            continue;
        }
        fake_buf payload = {0};
        fake_buf_put(&payload, frames[k].payload, frames[k].len);
        size_t pos = 0;
        found = fake_read_varint(&payload, &pos, id);
        CHECK(found);
        *type = frames[k].type;
        CHECK_INT(h3q_priority_parse(payload.data + pos, payload.len - pos, value), H3Q_OK);
        fake_buf_free(&payload);
    }
    fake_buf_free(&bytes);
    return found;
}

/* The client's send_priority_update wrote exactly one frame on its control stream, a
 * PRIORITY_UPDATE of `type` naming `id` with the priority {u, i}. */
static void check_sent_update(const fake_transport *cf, size_t ops_before, uint64_t type,
                              uint64_t id, uint8_t u, bool i) {
    CHECK_INT(cf->ops_len, ops_before + 1);
    if (cf->ops_len == ops_before + 1) {
        CHECK_INT(cf->ops[ops_before].kind, FAKE_OP_STREAM_DATA);
        CHECK_INT(cf->ops[ops_before].stream_id, CLIENT_CONTROL);
        CHECK(!cf->ops[ops_before].fin);
    }
    uint64_t got_type = 0, got_id = 99;
    h3q_priority value = prio(9, false);
    CHECK(last_priority_update(cf, &got_type, &got_id, &value));
    CHECK_INT(got_type, type);
    CHECK_INT(got_id, id);
    CHECK_INT(value.urgency, u);
    CHECK_INT(bool_byte(&value.incremental), i ? 1 : 0);
}

/* ---- a request's field and updates ---------------------------------------------------- */

/* The client's request carries `priority: u=1, i`: both sides have {1, true} and told their
 * transports; the server application sees the field too. The client asks for u=5 with
 * PRIORITY_UPDATE: the server reports it (stream 0, no push id, {5, false}), schedules by
 * it and tells its transport. The server then sets its response's own priority. */
static void a_request_field_then_an_update(pair *p) {
    CHECK_INT(h3q_conn_send_headers(p->client.conn, 0, get_u1_i, N(get_u1_i), false), H3Q_OK);
    /* The client's own request: its field schedules the request body. */
    check_priority(p->client.conn, 0, 1, true);
    check_told(&p->cf, 0, 1, true);
    to_server(p);
    CHECK_EVENTS(&p->server.log, 0, E_HEADERS(0));
    const rec_event *head = nth_event(&p->server.log, H3Q_EVENT_HEADERS_RECEIVED, 0, 0);
    CHECK(head != NULL);
    if (head != NULL) {
        CHECK_STR(rec_header_value(head, "priority"), "u=1, i");
    }
    check_priority(p->server.conn, 0, 1, true);
    check_told(&p->sf, 0, 1, true);
    CHECK_INT(fake_priority_count(&p->sf, 0), 1);

    size_t cops = p->cf.ops_len;
    h3q_priority u5 = prio(5, false);
    CHECK_INT(h3q_conn_send_priority_update(p->client.conn, 0, &u5), H3Q_OK);
    check_sent_update(&p->cf, cops, PRIORITY_UPDATE_REQUEST, 0, 5, false);
    size_t slog = p->server.log.len;
    to_server(p);
    CHECK_EVENTS(&p->server.log, slog, E_PRIORITY(0, 5, false));
    check_priority(p->server.conn, 0, 5, false);
    check_told(&p->sf, 0, 5, false);
    CHECK_INT(fake_priority_count(&p->sf, 0), 2);

    /* The server's own choice for its response. */
    h3q_priority mine = prio(0, true);
    CHECK_INT(h3q_conn_set_priority(p->server.conn, 0, &mine), H3Q_OK);
    check_priority(p->server.conn, 0, 0, true);
    check_told(&p->sf, 0, 0, true);
    /* And the client's for its request body. */
    h3q_priority body = prio(7, false);
    CHECK_INT(h3q_conn_set_priority(p->client.conn, 0, &body), H3Q_OK);
    check_priority(p->client.conn, 0, 7, false);
    check_told(&p->cf, 0, 7, false);

    CHECK_INT(h3q_conn_send_data(p->client.conn, 0, (const uint8_t *)"hi", 2, true), H3Q_OK);
    to_server(p);
    CHECK_INT(h3q_conn_send_headers(p->server.conn, 0, response_200, N(response_200), false),
              H3Q_OK);
    CHECK_INT(h3q_conn_send_data(p->server.conn, 0, (const uint8_t *)"ok", 2, true), H3Q_OK);
    to_client(p);
    check_body(&p->server.log, 0, "hi");
    check_body(&p->client.log, 0, "ok");
    /* Both ends finished: neither tracks the stream any more. */
    check_untracked(p->server.conn, 0);
    check_untracked(p->client.conn, 0);
    CHECK_INT(count_events(&p->server.log, H3Q_EVENT_PRIORITY_UPDATE), 1);
    CHECK_INT(count_events(&p->client.log, H3Q_EVENT_PRIORITY_UPDATE), 0);
}

/* "Each time a stream's priority is known or changes, the transport is told" and
 * h3q_conn_get_priority() gives "the priority h3q schedules the stream's sending by": on
 * the client, what get_priority says after send_priority_update() is what its transport
 * was last told for the stream. */
static void a_clients_update_and_its_own_scheduling(pair *p) {
    CHECK_INT(h3q_conn_send_headers(p->client.conn, 0, get_u1_i, N(get_u1_i), false), H3Q_OK);
    h3q_priority u5 = prio(5, false);
    CHECK_INT(h3q_conn_send_priority_update(p->client.conn, 0, &u5), H3Q_OK);
    h3q_priority got = prio(9, false);
    CHECK_INT(h3q_conn_get_priority(p->client.conn, 0, &got), H3Q_OK);
    const fake_priority *told = fake_last_priority(&p->cf, 0);
    CHECK(told != NULL);
    if (told != NULL) {
        CHECK_INT(got.urgency, told->urgency);
        CHECK_INT(bool_byte(&got.incremental), told->incremental ? 1 : 0);
        if (got.urgency != told->urgency || got.incremental != told->incremental) {
            fprintf(stderr, "  ^ the client's get_priority(0) is u=%d%s, its transport was "
                    "last told u=%d%s\n", (int)got.urgency, got.incremental ? ", i" : "",
                    (int)told->urgency, told->incremental ? ", i" : "");
        }
    }
    to_server(p);
    CHECK_INT(h3q_conn_send_data(p->client.conn, 0, NULL, 0, true), H3Q_OK);
    CHECK_INT(h3q_conn_send_headers(p->server.conn, 0, response_200, N(response_200), true),
              H3Q_OK);
    to_server(p);
    to_client(p);
}

/* Several `priority` fields in one head are one list, on both sides. */
static void several_priority_fields_are_one_list(pair *p) {
    CHECK_INT(h3q_conn_send_headers(p->client.conn, 0, get_three_fields, N(get_three_fields),
                                    true),
              H3Q_OK);
    check_priority(p->client.conn, 0, 5, true);
    check_told(&p->cf, 0, 5, true);
    to_server(p);
    check_priority(p->server.conn, 0, 5, true);
    check_told(&p->sf, 0, 5, true);
    CHECK_INT(h3q_conn_send_headers(p->server.conn, 0, response_200, N(response_200), true),
              H3Q_OK);
    to_client(p);
    check_body(&p->client.log, 0, "");
}

/* An update for a request not opened yet (stream 0) is allowed; it reaches the server
 * first and is kept; the request's own field (u=0) then loses to it: {6, true}, told
 * once, no H3Q_EVENT_PRIORITY_UPDATE (the application learns it with the request). */
static void an_update_before_the_request_wins(pair *p) {
    size_t cops = p->cf.ops_len;
    h3q_priority u6i = prio(6, true);
    CHECK_INT(h3q_conn_send_priority_update(p->client.conn, 0, &u6i), H3Q_OK);
    check_sent_update(&p->cf, cops, PRIORITY_UPDATE_REQUEST, 0, 6, true);
    /* Stream 8, further ahead, too. */
    h3q_priority u2 = prio(2, false);
    CHECK_INT(h3q_conn_send_priority_update(p->client.conn, 8, &u2), H3Q_OK);
    to_server(p);
    CHECK_INT(p->server.log.len, 0);
    CHECK_INT(p->sf.priorities_len, 0);
    check_untracked(p->server.conn, 0);

    CHECK_INT(h3q_conn_send_headers(p->client.conn, 0, get_u0, N(get_u0), true), H3Q_OK);
    CHECK_INT(h3q_conn_send_headers(p->client.conn, 4, get_root, N(get_root), true), H3Q_OK);
    CHECK_INT(h3q_conn_send_headers(p->client.conn, 8, get_root, N(get_root), true), H3Q_OK);
    to_server(p);
    CHECK_EVENTS(&p->server.log, 0, E_HEADERS(0), E_HEADERS(4), E_HEADERS(8));
    check_priority(p->server.conn, 0, 6, true);
    check_told(&p->sf, 0, 6, true);
    CHECK_INT(fake_priority_count(&p->sf, 0), 1);
    check_priority(p->server.conn, 4, 3, false);
    check_priority(p->server.conn, 8, 2, false);
    check_told(&p->sf, 8, 2, false);
    for (uint64_t id = 0; id <= 8; id += 4) {
        CHECK_INT(h3q_conn_send_headers(p->server.conn, id, response_200, N(response_200),
                                        true),
                  H3Q_OK);
    }
    to_client(p);
}

/* The server finished request 0 (its whole response handed over): it no longer tracks the
 * stream, but the client, which has not seen the response yet, may still send an update.
 * It gives the server no event, and its transport is still told (the response may still
 * be on its way). Once the client has the whole response, an update is refused. */
static void an_update_of_a_finished_request(pair *p) {
    CHECK_INT(h3q_conn_send_headers(p->client.conn, 0, get_root, N(get_root), true), H3Q_OK);
    to_server(p);
    CHECK_INT(h3q_conn_send_headers(p->server.conn, 0, response_200, N(response_200), false),
              H3Q_OK);
    CHECK_INT(h3q_conn_send_data(p->server.conn, 0, (const uint8_t *)"done", 4, true), H3Q_OK);
    check_untracked(p->server.conn, 0);
    size_t told_before = fake_priority_count(&p->sf, 0);

    h3q_priority u0 = prio(0, false);
    CHECK_INT(h3q_conn_send_priority_update(p->client.conn, 0, &u0), H3Q_OK);
    size_t slog = p->server.log.len;
    to_server(p);
    CHECK_INT(p->server.log.len, slog);
    CHECK_INT(fake_priority_count(&p->sf, 0), told_before + 1);
    check_told(&p->sf, 0, 0, false);
    check_untracked(p->server.conn, 0);

    to_client(p);
    check_body(&p->client.log, 0, "done");
    check_untracked(p->client.conn, 0);
    size_t cops = p->cf.ops_len;
    CHECK_INT(h3q_conn_send_priority_update(p->client.conn, 0, &u0), H3Q_ERR_FRAME_UNEXPECTED);
    CHECK_STR(h3q_conn_last_error(p->client.conn), "stream was already ended");
    CHECK_INT(p->cf.ops_len, cops);
}

/* ---- pushes ---------------------------------------------------------------------------- */

/* A push takes the priority field of its promised request (u=2) on its push stream, and
 * the server's transport is told before the push stream's first byte. The client names
 * the push by its push stream: the frame (type 0xf0701) carries push id 0, and the server
 * reports the push stream with has_push_id and the push id. */
static void a_push_takes_its_promised_priority(pair *p) {
    CHECK_INT(h3q_conn_send_headers(p->client.conn, 0, get_root, N(get_root), true), H3Q_OK);
    to_server(p);
    uint64_t push_stream = 0;
    CHECK_INT(h3q_conn_send_push_promise(p->server.conn, 0, promised_u2, N(promised_u2),
                                         &push_stream),
              H3Q_OK);
    check_priority(p->server.conn, push_stream, 2, false);
    check_told(&p->sf, push_stream, 2, false);
    /* Told before anything was written on the push stream. */
    const fake_priority *first = NULL;
    for (size_t k = 0; k < p->sf.priorities_len && first == NULL; k++) {
        if (p->sf.priorities[k].stream_id == push_stream) {
            first = &p->sf.priorities[k];
        }
    }
    CHECK(first != NULL && first->urgency == 2);
    CHECK_INT(h3q_conn_send_headers(p->server.conn, push_stream, response_200,
                                    N(response_200), false),
              H3Q_OK);
    to_client(p);
    CHECK_EVENTS(&p->client.log, 0, E_PUSH_PROMISE(0, 0), E_PUSHED_HEADERS(push_stream, 0));

    size_t cops = p->cf.ops_len;
    h3q_priority u1i = prio(1, true);
    CHECK_INT(h3q_conn_send_priority_update(p->client.conn, push_stream, &u1i), H3Q_OK);
    check_sent_update(&p->cf, cops, PRIORITY_UPDATE_PUSH, 0, 1, true);
    size_t slog = p->server.log.len;
    to_server(p);
    CHECK_EVENTS(&p->server.log, slog, E_PUSH_PRIORITY(push_stream, 0, 1, true));
    check_priority(p->server.conn, push_stream, 1, true);
    check_told(&p->sf, push_stream, 1, true);

    CHECK_INT(h3q_conn_send_data(p->server.conn, push_stream, (const uint8_t *)"css", 3, true),
              H3Q_OK);
    CHECK_INT(h3q_conn_send_headers(p->server.conn, 0, response_200, N(response_200), true),
              H3Q_OK);
    to_client(p);
    check_body(&p->client.log, push_stream, "css");
    check_body(&p->client.log, 0, "");
    check_untracked(p->server.conn, push_stream);
}

/* A push promised without a priority field has the defaults. */
static void a_push_without_a_field_has_the_defaults(pair *p) {
    CHECK_INT(h3q_conn_send_headers(p->client.conn, 0, get_root, N(get_root), true), H3Q_OK);
    to_server(p);
    uint64_t push_stream = 0;
    CHECK_INT(h3q_conn_send_push_promise(p->server.conn, 0, promised, N(promised),
                                         &push_stream),
              H3Q_OK);
    check_priority(p->server.conn, push_stream, 3, false);
    check_told(&p->sf, push_stream, 3, false);
    CHECK_INT(h3q_conn_send_headers(p->server.conn, push_stream, response_200,
                                    N(response_200), true),
              H3Q_OK);
    CHECK_INT(h3q_conn_send_headers(p->server.conn, 0, response_200, N(response_200), true),
              H3Q_OK);
    to_client(p);
}

/* ---- h3q_event.priority of other event types ------------------------------------------ */

/* h3q_event: "Fields a type does not use are zero." Only H3Q_EVENT_PRIORITY_UPDATE uses
 * `priority`: every other event (HEADERS, DATA, a push promise, a pushed response) carries
 * {0, false} there. */
static void unused_priority_fields_are_zero(pair *p) {
    CHECK_INT(h3q_conn_send_headers(p->client.conn, 0, get_u1_i, N(get_u1_i), false), H3Q_OK);
    CHECK_INT(h3q_conn_send_data(p->client.conn, 0, (const uint8_t *)"x", 1, true), H3Q_OK);
    to_server(p);
    uint64_t push_stream = 0;
    CHECK_INT(h3q_conn_send_push_promise(p->server.conn, 0, promised_u2, N(promised_u2),
                                         &push_stream),
              H3Q_OK);
    CHECK_INT(h3q_conn_send_headers(p->server.conn, push_stream, response_200,
                                    N(response_200), true),
              H3Q_OK);
    CHECK_INT(h3q_conn_send_headers(p->server.conn, 0, response_200, N(response_200), false),
              H3Q_OK);
    CHECK_INT(h3q_conn_send_data(p->server.conn, 0, (const uint8_t *)"y", 1, true), H3Q_OK);
    to_client(p);
    const event_log *logs[] = {&p->server.log, &p->client.log};
    size_t seen = 0;
    for (size_t l = 0; l < N(logs); l++) {
        for (size_t k = 0; k < logs[l]->len; k++) {
            const rec_event *e = &logs[l]->items[k];
            if (e->type == H3Q_EVENT_PRIORITY_UPDATE) {
                continue;
            }
            seen++;
            int inc = bool_byte(&e->priority.incremental);
            CHECK_INT(e->priority.urgency, 0);
            CHECK_INT(inc, 0);
            if (e->priority.urgency != 0 || inc != 0) {
                fprintf(stderr, "  ^ %s event of type %d on stream %" PRIu64
                        " has priority u=%d, i=%d\n", l == 0 ? "a server" : "a client",
                        (int)e->type, e->stream_id, (int)e->priority.urgency, inc);
            }
        }
    }
    CHECK(seen >= 6); /* HEADERS, DATA; PUSH_PROMISE, two HEADERS, DATA */
}

/* ---- at most 256 updates for unopened requests ---------------------------------------- */

/* 266 updates (u=0) for requests 4, 8, ... 1064, none opened: the first 256 are kept, the
 * rest ignored; request 1024 (the 256th) then opens with u=0, request 1044 (the 261st)
 * with the defaults. No event, no close. */
static void updates_for_unopened_requests_are_bounded(void) {
    FOR_EACH_MODE(mode) {
        unsigned failed = check_failed_;
        fake_transport fake;
        fake_init(&fake, false);
        h3q_transport t = fake_table(&fake);
        h3q_conn *server = NULL;
        CHECK_INT(h3q_conn_new(&t, NULL, &server), H3Q_OK);
        event_log log = {0};
        fake_buf control = {0};
        CHECK(fake_buf_hex(&control, "00 04 00"));
        for (uint64_t i = 0; i < 266; i++) {
            fake_buf payload = {0};
            fake_buf_varint(&payload, 4 * (i + 1));
            fake_buf_put(&payload, "u=0", 3);
            fake_buf_varint(&control, PRIORITY_UPDATE_REQUEST);
            fake_buf_varint(&control, payload.len);
            fake_buf_put(&control, payload.data, payload.len);
            fake_buf_free(&payload);
        }
        fake_transfer_result r = fake_deliver(server, (fake_mode)mode, CLIENT_CONTROL,
                                              control.data, control.len, false, event_log_cb,
                                              &log);
        CHECK_INT(r.first_error, H3Q_OK);
        CHECK_INT(log.len, 0);
        CHECK_INT(fake.priorities_len, 0);
        fake_buf head = {0};
        CHECK(fake_headers_frame(&head, ":method=GET\n:scheme=https\n:authority=a\n:path=/"));
        r = fake_deliver(server, (fake_mode)mode, 4 * 256, head.data, head.len, true,
                         event_log_cb, &log);
        CHECK_INT(r.first_error, H3Q_OK);
        r = fake_deliver(server, (fake_mode)mode, 4 * 261, head.data, head.len, true,
                         event_log_cb, &log);
        CHECK_INT(r.first_error, H3Q_OK);
        CHECK_INT(count_events(&log, H3Q_EVENT_HEADERS_RECEIVED), 2);
        CHECK_INT(count_events(&log, H3Q_EVENT_PRIORITY_UPDATE), 0);
        check_priority(server, 4 * 256, 0, false);
        check_priority(server, 4 * 261, 3, false);
        check_told(&fake, 4 * 256, 0, false);
        check_told(&fake, 4 * 261, 3, false);
        CHECK_INT(fake.close_count, 0);
        fake_buf_free(&head);
        fake_buf_free(&control);
        event_log_free(&log);
        h3q_conn_free(server);
        fake_free(&fake);
        report(failed, "updates_for_unopened_requests_are_bounded", mode);
    }
}

/* ---- h3q_priority_parse --------------------------------------------------------------- */

typedef struct parse_case {
    const char *value;
    uint8_t urgency;
    bool incremental;
} parse_case;

static const parse_case parse_cases[] = {
    /* RFC 9218's examples */
    {"u=5, i", 5, true},
    {"u=0", 0, false},
    {"i", 3, true},
    {"", 3, false},
    {"u=2, i=?0", 2, false},
    {"i=?1", 3, true},
    {"u=7", 7, false},
    /* a member of another type or out of range is ignored */
    {"u=8", 3, false},
    {"u=-1", 3, false},
    {"u=1.5", 3, false},
    {"u=\"1\"", 3, false},
    {"u=?1", 3, false},
    {"i=1", 3, false},
    {"i=\"yes\"", 3, false},
    {"u=(1 2)", 3, false},
    {"u=1, i=tok", 1, false},
    /* other members and all parameters are ignored */
    {"u=1;foo=bar, x=?1, i;a=1;b", 1, true},
    {"foo=(a b;c=1 \"s\" :YWJj:), u=6", 6, false},
    {"*x-y.z_9=1, u=4", 4, false},
    /* later duplicates win; an invalid later one is ignored */
    {"u=1, u=5", 5, false},
    {"i, i=?0", 3, false},
    {"u=1, u=9", 1, false},
    /* RFC 8941 whitespace */
    {"  u=2 ,\ti  ", 2, true},
    {"u=2,i", 2, true},
    /* not a dictionary: the defaults */
    {"u = 2", 3, false},
    {"u=1,", 3, false},
    {",u=1", 3, false},
    {"u=1,,i", 3, false},
    {"U=1", 3, false},
    {"u=1 i", 3, false},
    {"1=u", 3, false},
    {"u=", 3, false},
    {"u=1;", 3, false},
    {"u=1;X=2", 3, false},
    {"u=\"open", 3, false},
    {"u=\"bad\\escape\"", 3, false},
    {"u=:abc", 3, false},
    {"u=?2", 3, false},
    {"u=(1 2", 3, false},
    {"u=(1 2)x", 3, false},
    {"u=1234567890123456", 3, false},
    {"u=1.2345", 3, false},
    {"u=1234567890123.1", 3, false},
    {"u=-", 3, false},
    {"u=\x7f", 3, false},
    {"i, \xc3\xa9", 3, false},
    {"u=\xff", 3, false},
};

static uint64_t xorshift(uint64_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void priority_parse_examples_and_malformed_values(void) {
    for (size_t k = 0; k < N(parse_cases); k++) {
        const parse_case *c = &parse_cases[k];
        h3q_priority got;
        memset(&got, 0xa5, sizeof got);
        CHECK_INT(h3q_priority_parse((const uint8_t *)c->value, strlen(c->value), &got),
                  H3Q_OK);
        CHECK_INT(got.urgency, c->urgency);
        CHECK_INT(bool_byte(&got.incremental), c->incremental ? 1 : 0);
        if (got.urgency != c->urgency || bool_byte(&got.incremental) != c->incremental) {
            fprintf(stderr, "  ^ for \"%s\"\n", c->value);
        }
    }
    /* NULL with no bytes is the empty value; NULL with bytes, or no output, is refused
     * and nothing is written. */
    h3q_priority got = prio(6, true);
    CHECK_INT(h3q_priority_parse(NULL, 0, &got), H3Q_OK);
    CHECK_INT(got.urgency, 3);
    CHECK_INT(bool_byte(&got.incremental), 0);
    got = prio(6, true);
    CHECK_INT(h3q_priority_parse(NULL, 3, &got), H3Q_ERR_NULL);
    CHECK_INT(got.urgency, 6);
    CHECK_INT(h3q_priority_parse((const uint8_t *)"u=1", 3, NULL), H3Q_ERR_NULL);
    /* Only `len` bytes are read: "u=1" of "u=12". */
    CHECK_INT(h3q_priority_parse((const uint8_t *)"u=12", 3, &got), H3Q_OK);
    CHECK_INT(got.urgency, 1);
}

/* Never an error, whatever the bytes: random strings over the field's alphabet and random
 * bytes, each parsed to an urgency of 0 to 7 and a bool of 0 or 1. */
static void priority_parse_never_fails(void) {
    static const char alphabet[] = "ui=,;?01 9-.\"\\:()*aZ\t";
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    unsigned bad = 0;
    for (int round = 0; round < 20000; round++) {
        uint8_t bytes[16];
        size_t len = (size_t)(xorshift(&x) % (sizeof bytes + 1));
        bool raw = round % 4 == 3;
        for (size_t k = 0; k < len; k++) {
            uint64_t r = xorshift(&x);
            bytes[k] = raw ? (uint8_t)r : (uint8_t)alphabet[r % (sizeof alphabet - 1)];
        }
        h3q_priority got;
        memset(&got, 0xa5, sizeof got);
        h3q_result rc = h3q_priority_parse(bytes, len, &got);
        if (rc != H3Q_OK || got.urgency > 7 || bool_byte(&got.incremental) > 1) {
            bad++;
        }
    }
    CHECK_INT(bad, 0);
}

int main(void) {
    RUN_PAIRS(a_request_field_then_an_update);
    RUN_PAIRS(a_clients_update_and_its_own_scheduling);
    RUN_PAIRS(several_priority_fields_are_one_list);
    RUN_PAIRS(an_update_before_the_request_wins);
    RUN_PAIRS(an_update_of_a_finished_request);
    RUN_PAIRS(a_push_takes_its_promised_priority);
    RUN_PAIRS(a_push_without_a_field_has_the_defaults);
    RUN_PAIRS(unused_priority_fields_are_zero);
    RUN(updates_for_unopened_requests_are_bounded);
    RUN(priority_parse_examples_and_malformed_values);
    RUN(priority_parse_never_fails);
    return CHECK_DONE("test_conn_priorities");
}
