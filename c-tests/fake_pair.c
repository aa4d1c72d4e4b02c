/* fake_pair.c: see fake_pair.h. */
#include "fake_pair.h"

#include "check.h"

#include <stdio.h>
#include <string.h>

const h3q_header get_root[4] = {FAKE_HDR(":method", "GET"), FAKE_HDR(":scheme", "https"),
                                FAKE_HDR(":authority", "example.com"), FAKE_HDR(":path", "/")};
const h3q_header response_200[2] = {FAKE_HDR(":status", "200"),
                                    FAKE_HDR("content-type", "text/plain")};
const h3q_header promised[4] = {FAKE_HDR(":method", "GET"), FAKE_HDR(":scheme", "https"),
                                FAKE_HDR(":authority", "example.com"),
                                FAKE_HDR(":path", "/style.css")};

/* ---- an application ------------------------------------------------------------------ */

void app_cb(void *user_data, const h3q_event *event) {
    app *a = user_data;
    event_log_cb(&a->log, event);
    if (!a->echo || !event->stream_ended || event->stream_id % 4 != 0) {
        return;
    }
    if (event->type != H3Q_EVENT_HEADERS_RECEIVED && event->type != H3Q_EVENT_DATA_RECEIVED) {
        return;
    }
    /* The aioquic pattern: answer from inside the event callback. */
    fake_buf body = {0};
    event_log_data(&a->log, event->stream_id, &body);
    h3q_result rc = h3q_conn_send_headers(a->conn, event->stream_id, response_200, 2, false);
    if (rc == H3Q_OK) {
        rc = h3q_conn_send_data(a->conn, event->stream_id, body.data, body.len, true);
    }
    if (rc != H3Q_OK && a->answer_rc == H3Q_OK) {
        a->answer_rc = rc;
    }
    a->answered++;
    fake_buf_free(&body);
}

/* ---- a client and a server ---------------------------------------------------------- */

void pair_start(pair *p, fake_mode mode, const h3q_settings *cs, const h3q_settings *ss,
                uint64_t max_datagram_frame_size) {
    memset(p, 0, sizeof *p);
    p->mode = mode;
    fake_init(&p->cf, true);
    fake_init(&p->sf, false);
    p->cf.remote_max_datagram_frame_size = max_datagram_frame_size;
    p->sf.remote_max_datagram_frame_size = max_datagram_frame_size;
    h3q_transport ct = fake_table(&p->cf);
    h3q_transport st = fake_table(&p->sf);
    CHECK_INT(h3q_conn_new(&ct, cs, &p->client.conn), H3Q_OK);
    CHECK_INT(h3q_conn_new(&st, ss, &p->server.conn), H3Q_OK);
}

void to_server(pair *p) {
    fake_transfer_result r =
        fake_transfer(&p->cf, p->server.conn, p->mode, app_cb, &p->server);
    CHECK_INT(r.first_error, H3Q_OK);
}

void to_client(pair *p) {
    fake_transfer_result r =
        fake_transfer(&p->sf, p->client.conn, p->mode, app_cb, &p->client);
    CHECK_INT(r.first_error, H3Q_OK);
}

void pair_connect(pair *p, fake_mode mode, const h3q_settings *cs, const h3q_settings *ss,
                  uint64_t max_datagram_frame_size) {
    pair_start(p, mode, cs, ss, max_datagram_frame_size);
    to_server(p);
    to_client(p);
    to_server(p);
    CHECK_INT(p->client.log.len, 0);
    CHECK_INT(p->server.log.len, 0);
}

void pair_finish(pair *p) {
    CHECK_INT(p->cf.close_count, 0);
    CHECK_INT(p->sf.close_count, 0);
    h3q_conn_free(p->client.conn);
    h3q_conn_free(p->server.conn);
    event_log_free(&p->client.log);
    event_log_free(&p->server.log);
    fake_free(&p->cf);
    fake_free(&p->sf);
}

/* ---- reading the recorded events ---------------------------------------------------- */

bool headers_equal(const rec_event *e, const h3q_header *expected, size_t n) {
    if (e->headers_len != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const rec_header *h = &e->headers[i];
        if (h->name_len != expected[i].name_len || h->value_len != expected[i].value_len ||
            memcmp(h->name, expected[i].name, h->name_len) != 0 ||
            memcmp(h->value, expected[i].value, h->value_len) != 0) {
            return false;
        }
    }
    return true;
}

const rec_event *nth_event(const event_log *log, h3q_event_type type, uint64_t stream_id,
                           size_t i) {
    for (size_t k = 0; k < log->len; k++) {
        const rec_event *e = &log->items[k];
        if (e->type == type && e->stream_id == stream_id && i-- == 0) {
            return e;
        }
    }
    return NULL;
}

size_t count_events(const event_log *log, h3q_event_type type) {
    size_t n = 0;
    for (size_t k = 0; k < log->len; k++) {
        n += log->items[k].type == type;
    }
    return n;
}

void check_body(const event_log *log, uint64_t stream_id, const char *expected) {
    fake_buf body = {0};
    event_log_data(log, stream_id, &body);
    CHECK_INT(body.len, strlen(expected));
    CHECK(body.len == strlen(expected) &&
          (body.len == 0 || memcmp(body.data, expected, body.len) == 0));
    fake_buf_free(&body);
    size_t ends = 0;
    const rec_event *last = NULL;
    for (size_t k = 0; k < log->len; k++) {
        h3q_event_type type = log->items[k].type;
        if (log->items[k].stream_id == stream_id &&
            (type == H3Q_EVENT_HEADERS_RECEIVED || type == H3Q_EVENT_DATA_RECEIVED)) {
            ends += log->items[k].stream_ended;
            last = &log->items[k];
        }
    }
    CHECK_INT(ends, 1);
    CHECK(last != NULL && last->stream_ended);
}

void report(unsigned failed_before, const char *what, int mode) {
    if (check_failed_ != failed_before) {
        fprintf(stderr, "  ^ in %s (%s)\n", what, fake_mode_name((fake_mode)mode));
    }
}

/* ---- scenarios in every mode --------------------------------------------------------- */

void pair_run(const char *name, pair_scenario scenario, const h3q_settings *cs,
              const h3q_settings *ss) {
    FOR_EACH_MODE(mode) {
        unsigned failed = check_failed_;
        pair p;
        pair_connect(&p, (fake_mode)mode, cs, ss, 0);
        scenario(&p);
        pair_finish(&p);
        report(failed, name, mode);
    }
}
