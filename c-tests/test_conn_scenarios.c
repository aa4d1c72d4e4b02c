/* A client and a server h3q_conn wired through two fake transports, every scenario run in
 * each delivery mode (one byte per event; chunks with FIN apart; chunks carrying FIN):
 * GET answered from inside the server's event callback, POST with a body, trailers, an
 * interim 103, server push, push ids used up, HTTP datagrams, settings queries and
 * WebTransport streams; and the start-up streams on the wire, without GREASE and with it.
 * (The connection's lifecycle, GOAWAY, aborts and ORIGIN: test_conn_lifecycle.c.) */
#include "h3q.h"

#include "check.h"
#include "fake_pair.h"
#include "fake_transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N(array) (sizeof(array) / sizeof((array)[0]))

/* Start-up without GREASE: control stream (type 0, SETTINGS with the defaults, and
 * MAX_PUSH_ID 8 from a client), then the QPACK encoder (type 2) and decoder (type 3)
 * streams, in that order, on 2, 6, 10 (client) and 3, 7, 11 (server). */
static void startup_streams_on_the_wire(void) {
    h3q_settings settings;
    h3q_settings_default(&settings);
    settings.enable_grease = false;
    for (int is_client = 0; is_client < 2; is_client++) {
        fake_transport fake;
        fake_init(&fake, is_client);
        h3q_transport t = fake_table(&fake);
        h3q_conn *conn = NULL;
        CHECK_INT(h3q_conn_new(&t, &settings, &conn), H3Q_OK);
        uint64_t first = is_client ? 2 : 3;
        CHECK_INT(fake.ops_len, 3);
        for (size_t i = 0; i < fake.ops_len && i < 3; i++) {
            CHECK_INT(fake.ops[i].kind, FAKE_OP_STREAM_DATA);
            CHECK_INT(fake.ops[i].stream_id, first + 4 * i);
            CHECK(!fake.ops[i].fin);
        }
        fake_buf b = {0};
        fake_stream_bytes(&fake, first + 4, &b);
        CHECK(b.len == 1 && b.data[0] == 0x02);
        b.len = 0;
        fake_stream_bytes(&fake, first + 8, &b);
        CHECK(b.len == 1 && b.data[0] == 0x03);
        b.len = 0;
        fake_stream_bytes(&fake, first, &b);
        size_t pos = 0;
        uint64_t type = 99, frame = 99, len = 0;
        CHECK(fake_read_varint(&b, &pos, &type) && type == 0x00);
        CHECK(fake_read_varint(&b, &pos, &frame) && frame == 0x04);
        CHECK(fake_read_varint(&b, &pos, &len));
        size_t end = pos + (size_t)len;
        CHECK(end <= b.len);
        uint64_t seen[3] = {0, 0, 0};
        while (pos < end && end <= b.len) {
            uint64_t id = 0, value = 0;
            CHECK(fake_read_varint(&b, &pos, &id) && fake_read_varint(&b, &pos, &value));
            if (id == 0x1) {
                seen[0]++;
                CHECK_INT(value, 4096);
            } else if (id == 0x7) {
                seen[1]++;
                CHECK_INT(value, 16);
            } else if (id == 0x8) {
                seen[2]++;
                CHECK_INT(value, 1);
            } else {
                CHECK(0 && "unexpected default setting");
            }
        }
        CHECK(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
        if (is_client) {
            uint64_t max_push_id = 0;
            CHECK(fake_read_varint(&b, &pos, &frame) && frame == 0x0d);
            CHECK(fake_read_varint(&b, &pos, &len) && len == 1);
            CHECK(fake_read_varint(&b, &pos, &max_push_id) && max_push_id == 8);
        }
        CHECK_INT(pos, b.len);
        fake_buf_free(&b);
        h3q_conn_free(conn);
        fake_free(&fake);
    }
}

/* What GREASE put on a control stream: its one reserved setting (id and value) and its one
 * reserved frame type. */
typedef struct grease {
    uint64_t setting_id;
    uint64_t setting_value;
    uint64_t frame_type;
} grease;

/* Checks the structure of a control stream sent with GREASE (RFC 9114 §7.2.4.1, §7.2.8):
 * SETTINGS with the defaults and one reserved setting, MAX_PUSH_ID from a client, then
 * one frame of a reserved type with a short payload; returns the reserved values. */
static grease control_stream_with_grease(const fake_buf *control, bool is_client) {
    grease g = {0, 0, 0};
    fake_frame frames[4];
    uint64_t stream_type = 99;
    size_t n = fake_frames(control, &stream_type, frames, N(frames));
    CHECK_INT(stream_type, 0x00);
    size_t expected = is_client ? 3 : 2;
    CHECK_INT(n, expected);
    if (n != expected) {
        return g;
    }
    CHECK_INT(frames[0].type, 0x04);
    uint64_t ids[8], values[8];
    size_t count = fake_settings(&frames[0], ids, values, N(ids));
    CHECK_INT(count, 4); /* the three defaults and the reserved one */
    unsigned reserved = 0, known = 0;
    for (size_t i = 0; i < count && i < N(ids); i++) {
        if (fake_is_reserved(ids[i])) {
            reserved++;
            g.setting_id = ids[i];
            g.setting_value = values[i];
        } else {
            known += ids[i] == 0x1 || ids[i] == 0x7 || ids[i] == 0x8;
        }
    }
    CHECK_INT(reserved, 1);
    CHECK_INT(known, 3);
    if (is_client) {
        CHECK(frames[1].type == 0x0d && frames[1].len == 1 && frames[1].payload[0] == 8);
    }
    const fake_frame *last = &frames[n - 1];
    CHECK(fake_is_reserved(last->type));
    CHECK(last->len < 8);
    g.frame_type = last->type;
    return g;
}

/* GREASE (on by default): one reserved setting and one reserved frame type on the control
 * stream, chosen per connection; sent_setting reports the setting, and the peer keeps it
 * among the settings it received and ignores the frame. */
static void grease_on_the_wire(void) {
    for (int is_client = 0; is_client < 2; is_client++) {
        grease seen[2];
        for (size_t c = 0; c < N(seen); c++) {
            fake_transport fake;
            fake_init(&fake, is_client);
            h3q_transport t = fake_table(&fake);
            h3q_conn *conn = NULL;
            CHECK_INT(h3q_conn_new(&t, NULL, &conn), H3Q_OK);
            fake_buf control = {0};
            fake_stream_bytes(&fake, is_client ? 2 : 3, &control);
            seen[c] = control_stream_with_grease(&control, is_client);
            fake_buf_free(&control);
            uint64_t v = 0;
            CHECK_INT(h3q_conn_sent_setting(conn, seen[c].setting_id, &v), H3Q_OK);
            CHECK(v == seen[c].setting_value);
            h3q_conn_free(conn);
            fake_free(&fake);
        }
        /* Two connections pick different values (each collision is a 1-in-2^57 chance). */
        CHECK(seen[0].setting_id != seen[1].setting_id);
        CHECK(seen[0].frame_type != seen[1].frame_type);
    }
    /* Each side's peer accepts its GREASE and keeps the reserved setting. */
    FOR_EACH_MODE(mode) {
        unsigned failed = check_failed_;
        pair p;
        pair_connect(&p, (fake_mode)mode, NULL, NULL, 0);
        fake_buf control = {0};
        fake_stream_bytes(&p.cf, 2, &control);
        grease cg = control_stream_with_grease(&control, true);
        control.len = 0;
        fake_stream_bytes(&p.sf, 3, &control);
        grease sg = control_stream_with_grease(&control, false);
        fake_buf_free(&control);
        uint64_t v = 0;
        CHECK_INT(h3q_conn_received_setting(p.server.conn, cg.setting_id, &v), H3Q_OK);
        CHECK(v == cg.setting_value);
        CHECK_INT(h3q_conn_received_setting(p.client.conn, sg.setting_id, &v), H3Q_OK);
        CHECK(v == sg.setting_value);
        p.server.echo = true;
        CHECK_INT(h3q_conn_send_headers(p.client.conn, 0, get_root, N(get_root), true), H3Q_OK);
        to_server(&p);
        to_client(&p);
        check_body(&p.client.log, 0, "");
        pair_finish(&p);
        report(failed, "GREASE", mode);
    }
}

/* ---- scenarios ---------------------------------------------------------------------- */

static void get_answered_from_the_callback(void) {
    FOR_EACH_MODE(mode) {
        unsigned failed = check_failed_;
        pair p;
        pair_connect(&p, (fake_mode)mode, NULL, NULL, 0);
        p.server.echo = true;
        CHECK_INT(h3q_conn_send_headers(p.client.conn, 0, get_root, N(get_root), true), H3Q_OK);
        to_server(&p);
        CHECK_INT(p.server.answered, 1);
        CHECK_INT(p.server.answer_rc, H3Q_OK);
        const rec_event *req = nth_event(&p.server.log, H3Q_EVENT_HEADERS_RECEIVED, 0, 0);
        CHECK(req != NULL && headers_equal(req, get_root, N(get_root)));
        CHECK(req != NULL && !req->has_push_id);
        check_body(&p.server.log, 0, "");
        to_client(&p);
        const rec_event *resp = nth_event(&p.client.log, H3Q_EVENT_HEADERS_RECEIVED, 0, 0);
        CHECK(resp != NULL && headers_equal(resp, response_200, N(response_200)));
        check_body(&p.client.log, 0, "");
        /* A second request on the next stream. */
        CHECK_INT(h3q_conn_send_headers(p.client.conn, 4, get_root, N(get_root), true), H3Q_OK);
        to_server(&p);
        to_client(&p);
        CHECK_INT(p.server.answered, 2);
        CHECK(nth_event(&p.client.log, H3Q_EVENT_HEADERS_RECEIVED, 4, 0) != NULL);
        check_body(&p.client.log, 4, "");
        pair_finish(&p);
        report(failed, "GET", mode);
    }
}

static void post_with_a_body(void) {
    static const h3q_header post[] = {
        FAKE_HDR(":method", "POST"), FAKE_HDR(":scheme", "https"),
        FAKE_HDR(":authority", "example.com"), FAKE_HDR(":path", "/upload"),
        FAKE_HDR("content-length", "11"), FAKE_HDR("content-type", "text/plain")};
    FOR_EACH_MODE(mode) {
        unsigned failed = check_failed_;
        pair p;
        pair_connect(&p, (fake_mode)mode, NULL, NULL, 0);
        p.server.echo = true;
        CHECK_INT(h3q_conn_send_headers(p.client.conn, 0, post, N(post), false), H3Q_OK);
        CHECK_INT(h3q_conn_send_data(p.client.conn, 0, (const uint8_t *)"hello ", 6, false),
                  H3Q_OK);
        to_server(&p); /* partial delivery: the server has not answered yet */
        CHECK_INT(p.server.answered, 0);
        CHECK_INT(h3q_conn_send_data(p.client.conn, 0, (const uint8_t *)"world", 5, true),
                  H3Q_OK);
        to_server(&p);
        CHECK_INT(p.server.answered, 1);
        const rec_event *req = nth_event(&p.server.log, H3Q_EVENT_HEADERS_RECEIVED, 0, 0);
        CHECK(req != NULL && headers_equal(req, post, N(post)));
        check_body(&p.server.log, 0, "hello world");
        /* DATA is delivered as it arrives: a byte per event in byte mode, whole chunks
         * otherwise */
        size_t data_events = 0;
        for (size_t k = 0; k < p.server.log.len; k++) {
            const rec_event *e = &p.server.log.items[k];
            if (e->type == H3Q_EVENT_DATA_RECEIVED && e->data_len > 0) {
                data_events++;
                CHECK(mode != FAKE_BYTES || e->data_len == 1);
            }
        }
        CHECK_INT(data_events, mode == FAKE_BYTES ? 11 : 2);
        to_client(&p);
        check_body(&p.client.log, 0, "hello world");

        /* A large body: one DATA frame bigger than the coalescing limit. */
        size_t big_len = 100000;
        uint8_t *big = malloc(big_len);
        CHECK(big != NULL);
        if (big != NULL && mode != FAKE_BYTES) {
            for (size_t i = 0; i < big_len; i++) {
                big[i] = (uint8_t)('a' + i % 26);
            }
            CHECK_INT(h3q_conn_send_headers(p.client.conn, 4, get_root, N(get_root), false),
                      H3Q_OK);
            CHECK_INT(h3q_conn_send_data(p.client.conn, 4, big, big_len, true), H3Q_OK);
            to_server(&p);
            fake_buf got = {0};
            CHECK(event_log_data(&p.server.log, 4, &got));
            CHECK(got.len == big_len && memcmp(got.data, big, big_len) == 0);
            fake_buf_free(&got);
        }
        free(big);
        pair_finish(&p);
        report(failed, "POST", mode);
    }
}

static void trailers_both_ways(void) {
    static const h3q_header req_trailers[] = {FAKE_HDR("x-checksum", "abc")};
    static const h3q_header resp_trailers[] = {FAKE_HDR("grpc-status", "0"),
                                               FAKE_HDR("grpc-message", "ok")};
    FOR_EACH_MODE(mode) {
        unsigned failed = check_failed_;
        pair p;
        pair_connect(&p, (fake_mode)mode, NULL, NULL, 0);
        CHECK_INT(h3q_conn_send_headers(p.client.conn, 0, get_root, N(get_root), false), H3Q_OK);
        CHECK_INT(h3q_conn_send_data(p.client.conn, 0, (const uint8_t *)"q", 1, false), H3Q_OK);
        CHECK_INT(h3q_conn_send_headers(p.client.conn, 0, req_trailers, 1, true), H3Q_OK);
        to_server(&p);
        const rec_event *t = nth_event(&p.server.log, H3Q_EVENT_HEADERS_RECEIVED, 0, 1);
        /* FIN on the trailers' frame ends them; a FIN apart comes as an empty DATA */
        CHECK(t != NULL && headers_equal(t, req_trailers, 1));
        CHECK(t != NULL && t->stream_ended == (mode == FAKE_CHUNKS_FIN));
        check_body(&p.server.log, 0, "q");
        CHECK_INT(count_events(&p.server.log, H3Q_EVENT_HEADERS_RECEIVED), 2);

        CHECK_INT(h3q_conn_send_headers(p.server.conn, 0, response_200, N(response_200), false),
                  H3Q_OK);
        CHECK_INT(h3q_conn_send_data(p.server.conn, 0, (const uint8_t *)"body", 4, false),
                  H3Q_OK);
        CHECK_INT(h3q_conn_send_headers(p.server.conn, 0, resp_trailers, 2, true), H3Q_OK);
        to_client(&p);
        CHECK_INT(count_events(&p.client.log, H3Q_EVENT_HEADERS_RECEIVED), 2);
        const rec_event *rt = nth_event(&p.client.log, H3Q_EVENT_HEADERS_RECEIVED, 0, 1);
        CHECK(rt != NULL && headers_equal(rt, resp_trailers, 2));
        CHECK(rt != NULL && rt->stream_ended == (mode == FAKE_CHUNKS_FIN));
        check_body(&p.client.log, 0, "body");
        pair_finish(&p);
        report(failed, "trailers", mode);
    }
}

static void interim_103_then_200(void) {
    static const h3q_header early[] = {FAKE_HDR(":status", "103"),
                                       FAKE_HDR("link", "</style.css>; rel=preload")};
    FOR_EACH_MODE(mode) {
        unsigned failed = check_failed_;
        pair p;
        pair_connect(&p, (fake_mode)mode, NULL, NULL, 0);
        CHECK_INT(h3q_conn_send_headers(p.client.conn, 0, get_root, N(get_root), true), H3Q_OK);
        to_server(&p);
        CHECK_INT(h3q_conn_send_headers(p.server.conn, 0, early, N(early), false), H3Q_OK);
        CHECK_INT(h3q_conn_send_headers(p.server.conn, 0, early, N(early), false), H3Q_OK);
        to_client(&p);
        CHECK_INT(count_events(&p.client.log, H3Q_EVENT_HEADERS_RECEIVED), 2);
        CHECK_INT(h3q_conn_send_headers(p.server.conn, 0, response_200, N(response_200), false),
                  H3Q_OK);
        CHECK_INT(h3q_conn_send_data(p.server.conn, 0, (const uint8_t *)"ok", 2, true), H3Q_OK);
        to_client(&p);
        const rec_event *e0 = nth_event(&p.client.log, H3Q_EVENT_HEADERS_RECEIVED, 0, 0);
        const rec_event *e2 = nth_event(&p.client.log, H3Q_EVENT_HEADERS_RECEIVED, 0, 2);
        CHECK(e0 != NULL && headers_equal(e0, early, N(early)) && !e0->stream_ended);
        CHECK(e2 != NULL && headers_equal(e2, response_200, N(response_200)));
        CHECK(e0 != NULL && e0->headers_len > 0 && strcmp(rec_header_value(e0, ":status"), "103") == 0);
        check_body(&p.client.log, 0, "ok");
        pair_finish(&p);
        report(failed, "103", mode);
    }
}

static void server_push(void) {
    FOR_EACH_MODE(mode) {
        unsigned failed = check_failed_;
        pair p;
        pair_start(&p, (fake_mode)mode, NULL, NULL, 0);
        uint64_t push_stream = 99;
        /* No MAX_PUSH_ID received yet. */
        CHECK_INT(h3q_conn_send_push_promise(p.server.conn, 0, promised, N(promised),
                                             &push_stream),
                  H3Q_ERR_NO_AVAILABLE_PUSH_ID);
        CHECK_INT(push_stream, 99);
        to_server(&p);
        to_client(&p);
        CHECK_INT(h3q_conn_send_headers(p.client.conn, 0, get_root, N(get_root), true), H3Q_OK);
        to_server(&p);
        CHECK_INT(h3q_conn_send_push_promise(p.server.conn, 0, promised, N(promised),
                                             &push_stream),
                  H3Q_OK);
        CHECK_INT(push_stream, 15); /* server uni streams: 3, 7, 11 are taken */
        CHECK_INT(h3q_conn_send_headers(p.server.conn, 0, response_200, N(response_200), false),
                  H3Q_OK);
        CHECK_INT(h3q_conn_send_data(p.server.conn, 0, (const uint8_t *)"<html>", 6, true),
                  H3Q_OK);
        CHECK_INT(h3q_conn_send_headers(p.server.conn, push_stream, response_200,
                                        N(response_200), false),
                  H3Q_OK);
        CHECK_INT(h3q_conn_send_data(p.server.conn, push_stream, (const uint8_t *)"body{}", 6,
                                     true),
                  H3Q_OK);
        /* the push stream starts with type 0x01 and push id 0 */
        fake_buf wire = {0};
        CHECK(fake_stream_bytes(&p.sf, 15, &wire));
        CHECK(wire.len > 2 && wire.data[0] == 0x01 && wire.data[1] == 0x00);
        fake_buf_free(&wire);
        to_client(&p);

        const rec_event *pp = nth_event(&p.client.log, H3Q_EVENT_PUSH_PROMISE_RECEIVED, 0, 0);
        CHECK(pp != NULL && pp->has_push_id && pp->push_id == 0);
        CHECK(pp != NULL && headers_equal(pp, promised, N(promised)));
        const rec_event *ph = nth_event(&p.client.log, H3Q_EVENT_HEADERS_RECEIVED, 15, 0);
        CHECK(ph != NULL && ph->has_push_id && ph->push_id == 0);
        CHECK(ph != NULL && headers_equal(ph, response_200, N(response_200)));
        /* PUSH_PROMISE comes before the pushed response */
        CHECK(pp != NULL && ph != NULL && pp < ph);
        for (size_t k = 0; k < p.client.log.len; k++) {
            const rec_event *e = &p.client.log.items[k];
            if (e->stream_id == 15) {
                CHECK(e->has_push_id && e->push_id == 0);
            } else if (e->type != H3Q_EVENT_PUSH_PROMISE_RECEIVED) {
                CHECK(!e->has_push_id);
            }
        }
        check_body(&p.client.log, 15, "body{}");
        check_body(&p.client.log, 0, "<html>");
        pair_finish(&p);
        report(failed, "push", mode);
    }
}

static void push_ids_run_out_after_max_push_id(void) {
    FOR_EACH_MODE(mode) {
        unsigned failed = check_failed_;
        pair p;
        pair_connect(&p, (fake_mode)mode, NULL, NULL, 0);
        CHECK_INT(h3q_conn_send_headers(p.client.conn, 0, get_root, N(get_root), true), H3Q_OK);
        to_server(&p);
        uint64_t ids[9];
        for (size_t i = 0; i < 9; i++) {
            ids[i] = 0;
            CHECK_INT(h3q_conn_send_push_promise(p.server.conn, 0, promised, N(promised),
                                                 &ids[i]),
                      H3Q_OK);
            CHECK_INT(ids[i], 15 + 4 * i);
            CHECK_INT(h3q_conn_send_headers(p.server.conn, ids[i], response_200,
                                            N(response_200), true),
                      H3Q_OK);
        }
        uint64_t extra = 1234;
        CHECK_INT(h3q_conn_send_push_promise(p.server.conn, 0, promised, N(promised), &extra),
                  H3Q_ERR_NO_AVAILABLE_PUSH_ID);
        CHECK_INT(extra, 1234);
        CHECK_STR(h3q_conn_last_error(p.server.conn), "No available push ID");
        /* the connection is unharmed */
        CHECK_INT(h3q_conn_send_headers(p.server.conn, 0, response_200, N(response_200), true),
                  H3Q_OK);
        to_client(&p);
        CHECK_INT(count_events(&p.client.log, H3Q_EVENT_PUSH_PROMISE_RECEIVED), 9);
        for (size_t i = 0; i < 9; i++) {
            const rec_event *pp =
                nth_event(&p.client.log, H3Q_EVENT_PUSH_PROMISE_RECEIVED, 0, i);
            CHECK(pp != NULL && pp->push_id == i);
            const rec_event *h = nth_event(&p.client.log, H3Q_EVENT_HEADERS_RECEIVED, ids[i], 0);
            CHECK(h != NULL && h->has_push_id && h->push_id == i);
        }
        pair_finish(&p);
        report(failed, "push ids", mode);
    }
}

static void datagrams_both_ways(void) {
    h3q_settings s;
    h3q_settings_default(&s);
    s.enable_webtransport = true;
    FOR_EACH_MODE(mode) {
        unsigned failed = check_failed_;
        pair p;
        pair_connect(&p, (fake_mode)mode, &s, &s, 65536);
        uint64_t v = 0;
        CHECK_INT(h3q_conn_received_setting(p.client.conn, 0x33, &v), H3Q_OK);
        CHECK_INT(v, 1);
        CHECK_INT(h3q_conn_received_setting(p.server.conn, 0x2b603742, &v), H3Q_OK);
        CHECK_INT(v, 1);
        CHECK_INT(h3q_conn_send_headers(p.client.conn, 0, get_root, N(get_root), false), H3Q_OK);
        CHECK_INT(h3q_conn_send_datagram(p.client.conn, 0, (const uint8_t *)"ping", 4), H3Q_OK);
        CHECK_INT(h3q_conn_send_datagram(p.client.conn, 400, (const uint8_t *)"", 0), H3Q_OK);
        const fake_op *d = fake_nth(&p.cf, FAKE_OP_DATAGRAM, 0);
        CHECK(d != NULL && d->len == 5 && memcmp(d->data, "\x00ping", 5) == 0);
        d = fake_nth(&p.cf, FAKE_OP_DATAGRAM, 1);
        CHECK(d != NULL && d->len == 2 && d->data[0] == 0x40 && d->data[1] == 100);
        to_server(&p);
        const rec_event *e = nth_event(&p.server.log, H3Q_EVENT_DATAGRAM_RECEIVED, 0, 0);
        CHECK(e != NULL && e->data_len == 4 && memcmp(e->data, "ping", 4) == 0);
        e = nth_event(&p.server.log, H3Q_EVENT_DATAGRAM_RECEIVED, 400, 0);
        CHECK(e != NULL && e->data_len == 0);
        CHECK_INT(h3q_conn_send_datagram(p.server.conn, 0, (const uint8_t *)"pong", 4), H3Q_OK);
        to_client(&p);
        e = nth_event(&p.client.log, H3Q_EVENT_DATAGRAM_RECEIVED, 0, 0);
        CHECK(e != NULL && e->data_len == 4 && memcmp(e->data, "pong", 4) == 0);
        CHECK_INT(count_events(&p.client.log, H3Q_EVENT_DATAGRAM_RECEIVED), 1);
        pair_finish(&p);
        report(failed, "datagrams", mode);
    }
}

static void settings_queries(void) {
    h3q_settings cs;
    h3q_settings_default(&cs);
    CHECK_INT(cs.qpack_max_table_capacity, 4096);
    CHECK_INT(cs.qpack_blocked_streams, 16);
    CHECK_INT(cs.max_push_id, 8);
    CHECK_INT(cs.max_field_section_size, 0);
    CHECK(cs.enable_connect_protocol);
    CHECK(!cs.enable_webtransport);
    CHECK_INT(cs.max_buffered_frame_size, 65536);
    CHECK_INT(cs.max_blocked_stream_bytes, 1048576);
    CHECK_INT(cs.max_decoded_field_section_size, 262144);
    CHECK_INT(cs.max_settings_entries, 256);
    CHECK_INT(cs.max_cheap_frames, 10000);
    CHECK_INT(cs.max_excess_resets, 1000);
    CHECK_INT(cs.max_unreferenced_insert_bytes, 1048576);
    CHECK_INT(cs.max_buffering_streams, 256);
    CHECK(cs.enable_grease);
    h3q_settings ss = cs;
    ss.qpack_max_table_capacity = 0;
    ss.qpack_blocked_streams = 0;
    ss.max_field_section_size = 16384;
    ss.enable_connect_protocol = false;
    ss.enable_webtransport = true;
    FOR_EACH_MODE(mode) {
        unsigned failed = check_failed_;
        pair p;
        pair_start(&p, (fake_mode)mode, &cs, &ss, 1200);
        uint64_t v = 7;
        /* before the peer's SETTINGS arrive: nothing */
        CHECK_INT(h3q_conn_received_setting(p.client.conn, 0x1, &v), H3Q_DONE);
        CHECK_INT(h3q_conn_received_setting(p.server.conn, 0x1, &v), H3Q_DONE);
        CHECK_INT(v, 7);
        /* what each sent */
        static const struct { uint64_t id; uint64_t value; } client_sent[] = {
            {0x1, 4096}, {0x7, 16}, {0x8, 1}};
        static const struct { uint64_t id; uint64_t value; } server_sent[] = {
            {0x1, 0}, {0x7, 0}, {0x6, 16384}, {0x33, 1}, {0x2b603742, 1}};
        for (size_t i = 0; i < N(client_sent); i++) {
            CHECK_INT(h3q_conn_sent_setting(p.client.conn, client_sent[i].id, &v), H3Q_OK);
            CHECK_INT(v, client_sent[i].value);
        }
        for (size_t i = 0; i < N(server_sent); i++) {
            CHECK_INT(h3q_conn_sent_setting(p.server.conn, server_sent[i].id, &v), H3Q_OK);
            CHECK_INT(v, server_sent[i].value);
        }
        v = 7;
        CHECK_INT(h3q_conn_sent_setting(p.client.conn, 0x6, &v), H3Q_DONE);
        CHECK_INT(h3q_conn_sent_setting(p.client.conn, 0x33, &v), H3Q_DONE);
        CHECK_INT(h3q_conn_sent_setting(p.server.conn, 0x8, &v), H3Q_DONE);
        CHECK_INT(h3q_conn_sent_setting(p.server.conn, 0x21, &v), H3Q_DONE);
        CHECK_INT(v, 7);
        to_server(&p);
        to_client(&p);
        /* after: each received what the other sent, and only that */
        for (size_t i = 0; i < N(client_sent); i++) {
            CHECK_INT(h3q_conn_received_setting(p.server.conn, client_sent[i].id, &v), H3Q_OK);
            CHECK_INT(v, client_sent[i].value);
        }
        for (size_t i = 0; i < N(server_sent); i++) {
            CHECK_INT(h3q_conn_received_setting(p.client.conn, server_sent[i].id, &v), H3Q_OK);
            CHECK_INT(v, server_sent[i].value);
        }
        v = 7;
        CHECK_INT(h3q_conn_received_setting(p.server.conn, 0x6, &v), H3Q_DONE);
        CHECK_INT(h3q_conn_received_setting(p.client.conn, 0x8, &v), H3Q_DONE);
        CHECK_INT(v, 7);
        /* a server with no dynamic table: requests still go through, and the client's
         * encoder never references (or fills) a dynamic table */
        p.server.echo = true;
        for (uint64_t id = 0; id < 12; id += 4) {
            CHECK_INT(h3q_conn_send_headers(p.client.conn, id, get_root, N(get_root), true),
                      H3Q_OK);
        }
        to_server(&p);
        to_client(&p);
        check_body(&p.client.log, 0, "");
        check_body(&p.client.log, 8, "");
        fake_buf enc = {0};
        fake_stream_bytes(&p.cf, 6, &enc);
        CHECK(enc.len == 1 && enc.data[0] == 0x02);
        fake_buf_free(&enc);
        for (uint64_t id = 0; id < 12; id += 4) {
            fake_buf req = {0};
            fake_stream_bytes(&p.cf, id, &req);
            /* HEADERS, a one-byte length, then Required Insert Count 0 and Base 0 */
            CHECK(req.len > 4 && req.data[0] == 0x01 && req.data[2] == 0x00 && req.data[3] == 0x00);
            fake_buf_free(&req);
        }
        pair_finish(&p);
        report(failed, "settings", mode);
    }
}

/* Many requests with repeated fields: the dynamic table is used both ways (encoder and
 * decoder streams, acknowledgements), and every field comes out intact. */
static void many_requests_with_the_dynamic_table(void) {
    FOR_EACH_MODE(mode) {
        unsigned failed = check_failed_;
        pair p;
        pair_connect(&p, (fake_mode)mode, NULL, NULL, 0);
        p.server.echo = true;
        for (uint64_t i = 0; i < 20; i++) {
            char path[32];
            snprintf(path, sizeof path, "/item/%u", (unsigned)i);
            h3q_header req[] = {FAKE_HDR(":method", "GET"), FAKE_HDR(":scheme", "https"),
                                FAKE_HDR(":authority", "example.com"),
                                {(const uint8_t *)":path", 5, (const uint8_t *)path,
                                 strlen(path)},
                                FAKE_HDR("user-agent", "h3q-c-tests/1.0 (a long value)"),
                                FAKE_HDR("x-session", "0123456789abcdef0123456789abcdef")};
            CHECK_INT(h3q_conn_send_headers(p.client.conn, 4 * i, req, N(req), true), H3Q_OK);
            /* deliver every other request in pairs, so some wait for the encoder stream */
            if (i % 2 == 1) {
                to_server(&p);
                to_client(&p);
            }
            if (i % 2 == 1) {
                for (uint64_t j = i - 1; j <= i; j++) {
                    const rec_event *e =
                        nth_event(&p.server.log, H3Q_EVENT_HEADERS_RECEIVED, 4 * j, 0);
                    char want[32];
                    snprintf(want, sizeof want, "/item/%u", (unsigned)j);
                    CHECK(e != NULL && e->headers_len == N(req));
                    CHECK(e != NULL && rec_header_value(e, ":path") != NULL &&
                          strcmp(rec_header_value(e, ":path"), want) == 0);
                    CHECK(e != NULL && rec_header_value(e, "x-session") != NULL &&
                          strcmp(rec_header_value(e, "x-session"),
                                 "0123456789abcdef0123456789abcdef") == 0);
                    check_body(&p.client.log, 4 * j, "");
                }
            }
        }
        to_server(&p);
        CHECK_INT(p.server.answered, 20);
        CHECK_INT(count_events(&p.client.log, H3Q_EVENT_HEADERS_RECEIVED), 20);
        /* the client's encoder used its dynamic table: its encoder stream carries inserts */
        fake_buf enc = {0};
        fake_stream_bytes(&p.cf, 6, &enc);
        CHECK(enc.len > 10);
        fake_buf_free(&enc);
        pair_finish(&p);
        report(failed, "dynamic table", mode);
    }
}

/* Delivers the client's request-stream bytes before anything else it recorded (its
 * encoder stream included), as a network may reorder streams. */
static size_t requests_first_to_server(pair *p) {
    size_t decoded_before_encoder_stream = 0;
    for (size_t pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            decoded_before_encoder_stream = count_events(&p->server.log, H3Q_EVENT_HEADERS_RECEIVED);
        }
        for (size_t k = p->cf.transferred; k < p->cf.ops_len; k++) {
            const fake_op *op = &p->cf.ops[k];
            bool request = op->kind == FAKE_OP_STREAM_DATA && op->stream_id % 4 == 0;
            if (request != (pass == 0) || op->kind != FAKE_OP_STREAM_DATA) {
                continue;
            }
            CHECK_INT(fake_send_stream(p->server.conn, op->stream_id, op->data, op->len, op->fin,
                                       app_cb, &p->server),
                      H3Q_OK);
        }
    }
    p->cf.transferred = p->cf.ops_len;
    return decoded_before_encoder_stream;
}

/* The peer's QPACK settings bound our encoder: its dynamic table capacity, and how many of
 * its streams may block. With request streams delivered before the encoder stream, a
 * server allowing 0 blocked streams decodes every request at once, and one allowing 2
 * never sees more than 2 blocked (more would close the connection). */
static void encoder_respects_peer_qpack_settings(void) {
    static const uint64_t blocked[] = {0, 2};
    for (size_t b = 0; b < N(blocked); b++) {
        h3q_settings ss;
        h3q_settings_default(&ss);
        ss.qpack_max_table_capacity = 300;
        ss.qpack_blocked_streams = blocked[b];
        FOR_EACH_MODE(mode) {
            unsigned failed = check_failed_;
            pair p;
            pair_connect(&p, (fake_mode)mode, NULL, &ss, 0);
            for (uint64_t i = 0; i < 10; i++) {
                char value[32];
                snprintf(value, sizeof value, "value-%u", (unsigned)(i / 3));
                h3q_header req[] = {FAKE_HDR(":method", "GET"), FAKE_HDR(":scheme", "https"),
                                    FAKE_HDR(":authority", "example.com"),
                                    FAKE_HDR(":path", "/"),
                                    {(const uint8_t *)"x-rotating", 10, (const uint8_t *)value,
                                     strlen(value)}};
                CHECK_INT(h3q_conn_send_headers(p.client.conn, 4 * i, req, N(req), true),
                          H3Q_OK);
            }
            size_t early = requests_first_to_server(&p);
            /* blocked streams: at most what the server allows */
            CHECK(10 - early <= blocked[b]);
            if (mode == FAKE_CHUNKS) {
                fprintf(stderr, "  %u blocked allowed: %u of 10 requests waited for the encoder "
                        "stream\n", (unsigned)blocked[b], (unsigned)(10 - early));
            }
            CHECK_INT(p.sf.close_count, 0);
            CHECK_INT(count_events(&p.server.log, H3Q_EVENT_HEADERS_RECEIVED), 10);
            for (uint64_t i = 0; i < 10; i++) {
                const rec_event *e = nth_event(&p.server.log, H3Q_EVENT_HEADERS_RECEIVED, 4 * i, 0);
                char value[32];
                snprintf(value, sizeof value, "value-%u", (unsigned)(i / 3));
                CHECK(e != NULL && rec_header_value(e, "x-rotating") != NULL &&
                      strcmp(rec_header_value(e, "x-rotating"), value) == 0);
            }
            /* a Set Dynamic Table Capacity, if any, stays within 300 */
            fake_buf enc = {0};
            fake_stream_bytes(&p.cf, 6, &enc);
            CHECK(enc.len >= 1 && enc.data[0] == 0x02);
            if (enc.len > 1 && (enc.data[1] & 0xe0) == 0x20) {
                uint64_t cap = enc.data[1] & 0x1f;
                if (cap == 0x1f) {
                    unsigned shift = 0;
                    for (size_t k = 2; k < enc.len; k++, shift += 7) {
                        cap += (uint64_t)(enc.data[k] & 0x7f) << shift;
                        if ((enc.data[k] & 0x80) == 0) {
                            break;
                        }
                    }
                }
                CHECK(cap <= 300);
            }
            fake_buf_free(&enc);
            pair_finish(&p);
            report(failed, blocked[b] == 0 ? "QPACK limits (0 blocked)" : "QPACK limits (2 blocked)",
                   mode);
        }
    }
}

/* content-length is not checked against the (absent) body of a response to HEAD, nor of a
 * 304; it is checked for others. */
static void head_and_304_responses_have_no_body(void) {
    static const h3q_header head[] = {FAKE_HDR(":method", "HEAD"), FAKE_HDR(":scheme", "https"),
                                      FAKE_HDR(":authority", "example.com"),
                                      FAKE_HDR(":path", "/")};
    static const h3q_header ok_len[] = {FAKE_HDR(":status", "200"),
                                        FAKE_HDR("content-length", "100")};
    static const h3q_header not_modified[] = {FAKE_HDR(":status", "304"),
                                              FAKE_HDR("content-length", "50")};
    static const h3q_header ok_5[] = {FAKE_HDR(":status", "200"),
                                      FAKE_HDR("content-length", "5")};
    FOR_EACH_MODE(mode) {
        unsigned failed = check_failed_;
        pair p;
        pair_connect(&p, (fake_mode)mode, NULL, NULL, 0);
        CHECK_INT(h3q_conn_send_headers(p.client.conn, 0, head, N(head), true), H3Q_OK);
        CHECK_INT(h3q_conn_send_headers(p.client.conn, 4, get_root, N(get_root), true), H3Q_OK);
        CHECK_INT(h3q_conn_send_headers(p.client.conn, 8, get_root, N(get_root), true), H3Q_OK);
        to_server(&p);
        CHECK_INT(h3q_conn_send_headers(p.server.conn, 0, ok_len, N(ok_len), true), H3Q_OK);
        CHECK_INT(h3q_conn_send_headers(p.server.conn, 4, not_modified, N(not_modified), true),
                  H3Q_OK);
        CHECK_INT(h3q_conn_send_headers(p.server.conn, 8, ok_5, N(ok_5), false), H3Q_OK);
        CHECK_INT(h3q_conn_send_data(p.server.conn, 8, (const uint8_t *)"hello", 5, true),
                  H3Q_OK);
        to_client(&p);
        check_body(&p.client.log, 0, "");
        check_body(&p.client.log, 4, "");
        check_body(&p.client.log, 8, "hello");
        pair_finish(&p);
        report(failed, "HEAD/304", mode);
    }
}

static void webtransport_streams(void) {
    static const h3q_header connect[] = {
        FAKE_HDR(":method", "CONNECT"), FAKE_HDR(":protocol", "webtransport"),
        FAKE_HDR(":scheme", "https"), FAKE_HDR(":authority", "example.com"),
        FAKE_HDR(":path", "/wt")};
    h3q_settings s;
    h3q_settings_default(&s);
    s.enable_webtransport = true;
    FOR_EACH_MODE(mode) {
        unsigned failed = check_failed_;
        pair p;
        pair_connect(&p, (fake_mode)mode, &s, &s, 65536);
        CHECK_INT(h3q_conn_send_headers(p.client.conn, 0, connect, N(connect), false), H3Q_OK);
        to_server(&p);
        const rec_event *e = nth_event(&p.server.log, H3Q_EVENT_HEADERS_RECEIVED, 0, 0);
        CHECK(e != NULL && headers_equal(e, connect, N(connect)) && !e->stream_ended);
        CHECK_INT(h3q_conn_send_headers(p.server.conn, 0, response_200, 1, false), H3Q_OK);
        to_client(&p);

        h3q_transport ct = fake_table(&p.cf);
        h3q_transport st = fake_table(&p.sf);
        uint64_t uni = 0;
        uint64_t bidi = 0;
        uint64_t server_uni = 0;
        CHECK_INT(h3q_conn_create_webtransport_stream(p.client.conn, 0, true, &uni), H3Q_OK);
        CHECK_INT(uni, 14); /* client uni streams: 2, 6, 10 are taken */
        CHECK_INT(h3q_conn_create_webtransport_stream(p.client.conn, 0, false, &bidi), H3Q_OK);
        CHECK_INT(bidi, 4);
        CHECK_INT(h3q_conn_create_webtransport_stream(p.server.conn, 0, true, &server_uni),
                  H3Q_OK);
        CHECK_INT(server_uni, 15);
        uint64_t server_bidi = 0;
        CHECK_INT(h3q_conn_create_webtransport_stream(p.server.conn, 0, false, &server_bidi),
                  H3Q_OK);
        CHECK_INT(server_bidi, 1);
        fake_buf wire = {0};
        fake_stream_bytes(&p.cf, 14, &wire);
        CHECK(wire.len == 3 && memcmp(wire.data, "\x40\x54\x00", 3) == 0);
        wire.len = 0;
        fake_stream_bytes(&p.cf, 4, &wire);
        CHECK(wire.len == 3 && memcmp(wire.data, "\x40\x41\x00", 3) == 0);
        fake_buf_free(&wire);
        /* the application writes its data through its own transport */
        CHECK_INT(ct.send_stream_data(ct.user_data, uni, (const uint8_t *)"uni-data", 8, true), 0);
        CHECK_INT(ct.send_stream_data(ct.user_data, bidi, (const uint8_t *)"bidi", 4, false), 0);
        CHECK_INT(st.send_stream_data(st.user_data, server_uni, (const uint8_t *)"srv", 3, true),
                  0);
        CHECK_INT(st.send_stream_data(st.user_data, server_bidi, (const uint8_t *)"sb", 2, true),
                  0);
        to_server(&p);
        to_client(&p);
        /* data comes out as WEBTRANSPORT_STREAM_DATA_RECEIVED with the session id */
        struct { const event_log *log; uint64_t sid; const char *data; bool ended; } want[] = {
            {&p.server.log, 14, "uni-data", true},
            {&p.server.log, 4, "bidi", false},
            {&p.client.log, 15, "srv", true},
            {&p.client.log, 1, "sb", true},
        };
        for (size_t w = 0; w < N(want); w++) {
            fake_buf got = {0};
            bool ended = false;
            for (size_t k = 0; k < want[w].log->len; k++) {
                const rec_event *r = &want[w].log->items[k];
                if (r->stream_id != want[w].sid) {
                    continue;
                }
                CHECK_INT(r->type, H3Q_EVENT_WEBTRANSPORT_STREAM_DATA_RECEIVED);
                CHECK_INT(r->session_id, 0);
                fake_buf_put(&got, r->data, r->data_len);
                ended |= r->stream_ended;
            }
            CHECK(got.len == strlen(want[w].data) &&
                  memcmp(got.data, want[w].data, got.len) == 0);
            CHECK(ended == want[w].ended);
            fake_buf_free(&got);
        }
        pair_finish(&p);
        report(failed, "webtransport", mode);
    }
}

int main(void) {
    RUN(startup_streams_on_the_wire);
    RUN(grease_on_the_wire);
    RUN(get_answered_from_the_callback);
    RUN(post_with_a_body);
    RUN(trailers_both_ways);
    RUN(interim_103_then_200);
    RUN(server_push);
    RUN(push_ids_run_out_after_max_push_id);
    RUN(datagrams_both_ways);
    RUN(settings_queries);
    RUN(many_requests_with_the_dynamic_table);
    RUN(encoder_respects_peer_qpack_settings);
    RUN(head_and_304_responses_have_no_body);
    RUN(webtransport_streams);
    return CHECK_DONE("test_conn_scenarios");
}
