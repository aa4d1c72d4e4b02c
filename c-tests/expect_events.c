/* expect_events.c: see expect_events.h. */
#include "expect_events.h"

#include "check.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The event's origins (ORIGIN_RECEIVED: one header an origin, its value empty), one per
 * line, into `out` (NUL-terminated). */
static void origins_text(const rec_event *e, fake_buf *out) {
    for (size_t i = 0; i < e->headers_len; i++) {
        CHECK_INT(e->headers[i].value_len, 0);
        if (i > 0) {
            fake_buf_byte(out, '\n');
        }
        fake_buf_put(out, e->headers[i].name, e->headers[i].name_len);
    }
    fake_buf_byte(out, 0);
}

bool check_events(const event_log *log, size_t from, const expect_list *want) {
    unsigned failed_before = check_failed_;
    size_t seen = 0;
    for (size_t i = from; i < log->len; i++) {
        const rec_event *e = &log->items[i];
        if (e->type == H3Q_EVENT_DATA_RECEIVED) {
            continue;
        }
        if (want->items != NULL && seen < want->n) {
            const expect *x = &want->items[seen];
            CHECK_INT(e->type, x->type);
            CHECK_INT(e->stream_id, x->sid);
            CHECK_INT(e->has_push_id, x->has_push);
            CHECK_INT(e->push_id, x->push_id);
            CHECK_INT(e->error_code, x->code);
            CHECK_INT(e->error_space, x->space);
            CHECK_INT(e->closed_by_peer, x->by_peer);
            if (x->type == H3Q_EVENT_ORIGIN_RECEIVED) {
                fake_buf origins = {0};
                origins_text(e, &origins);
                CHECK_STR((const char *)origins.data, x->text);
                fake_buf_free(&origins);
            } else if (x->type == H3Q_EVENT_CONNECTION_CLOSED) {
                CHECK_STR((const char *)e->data, x->text);
            } else if (x->type == H3Q_EVENT_PRIORITY_UPDATE) {
                CHECK_INT(e->priority.urgency, x->urgency);
                CHECK_INT(e->priority.incremental, x->incremental);
            }
        }
        seen++;
    }
    CHECK_INT(seen, want->n);
    if (check_failed_ == failed_before) {
        return true;
    }
    fprintf(stderr, "  ^ the events were:\n");
    for (size_t i = from; i < log->len; i++) {
        const rec_event *e = &log->items[i];
        if (e->type != H3Q_EVENT_DATA_RECEIVED) {
            fprintf(stderr, "    type %d stream %" PRIu64 " push %s%" PRIu64 " code 0x%" PRIx64
                    " space %d%s priority u=%d%s\n", (int)e->type, e->stream_id,
                    e->has_push_id ? "" : "-", e->push_id, e->error_code, (int)e->error_space,
                    e->closed_by_peer ? " by peer" : "", (int)e->priority.urgency,
                    e->priority.incremental ? ",i" : "");
        }
    }
    return false;
}

int bool_byte(const bool *b) {
    unsigned char byte = 0xee;
    memcpy(&byte, b, 1);
    return byte;
}

void check_priority(h3q_conn *conn, uint64_t sid, uint8_t u, bool i) {
    h3q_priority got;
    memset(&got, 0xa5, sizeof got);
    CHECK_INT(h3q_conn_get_priority(conn, sid, &got), H3Q_OK);
    CHECK_INT(got.urgency, u);
    CHECK_INT(bool_byte(&got.incremental), i ? 1 : 0);
}

void check_untracked(h3q_conn *conn, uint64_t sid) {
    h3q_priority got;
    memset(&got, 0xa5, sizeof got);
    CHECK_INT(h3q_conn_get_priority(conn, sid, &got), H3Q_DONE);
    unsigned char bytes[sizeof got];
    memcpy(bytes, &got, sizeof got);
    size_t written = 0;
    for (size_t k = 0; k < sizeof bytes; k++) written += bytes[k] != 0xa5;
    CHECK_INT(written, 0);
}
