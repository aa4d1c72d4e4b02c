/* h3q_conn_send_headers / h3q_conn_send_data on streams that cannot carry HTTP messages.
 *
 * h3q.h documents H3Q_ERR_INVALID_STREAM_TYPE "for a stream that cannot carry HTTP
 * messages": our own control and QPACK streams, the peer's unidirectional streams, a
 * unidirectional id nobody opened, and server-initiated bidirectional streams (RFC 9114
 * §6.1: HTTP/3 does not use them). A push stream we opened with a push promise can carry
 * the pushed response. Nothing may be written by a refused call; in particular our
 * control stream must never carry HEADERS or DATA (the peer would close the connection
 * with H3_FRAME_UNEXPECTED). */
#include "h3q.h"

#include "check.h"
#include "fake_transport.h"

#include <stdio.h>
#include <string.h>

#define N(array) (sizeof(array) / sizeof((array)[0]))

static const h3q_header get_root[] = {FAKE_HDR(":method", "GET"), FAKE_HDR(":scheme", "https"),
                                      FAKE_HDR(":authority", "a"), FAKE_HDR(":path", "/")};
static const h3q_header ok_200[] = {FAKE_HDR(":status", "200")};

static void refused_on(h3q_conn *conn, fake_transport *fake, uint64_t stream_id,
                       const h3q_header *headers, size_t n) {
    size_t ops = fake->ops_len;
    h3q_result rc = h3q_conn_send_headers(conn, stream_id, headers, n, false);
    CHECK_INT(rc, H3Q_ERR_INVALID_STREAM_TYPE);
    if (rc != H3Q_ERR_INVALID_STREAM_TYPE) {
        fprintf(stderr, "  send_headers on stream %u: %s (%s)\n", (unsigned)stream_id,
                h3q_result_str(rc), rc == H3Q_OK ? "written" : h3q_conn_last_error(conn));
    }
    rc = h3q_conn_send_data(conn, stream_id, (const uint8_t *)"x", 1, false);
    CHECK_INT(rc, H3Q_ERR_INVALID_STREAM_TYPE);
    if (rc != H3Q_ERR_INVALID_STREAM_TYPE) {
        fprintf(stderr, "  send_data on stream %u: %s (%s)\n", (unsigned)stream_id,
                h3q_result_str(rc), rc == H3Q_OK ? "written" : h3q_conn_last_error(conn));
    }
    CHECK_INT(fake->ops_len, ops);
}

static void client_refuses_non_request_streams(void) {
    fake_transport fake;
    fake_init(&fake, true);
    h3q_transport t = fake_table(&fake);
    h3q_conn *conn = NULL;
    CHECK_INT(h3q_conn_new(&t, NULL, &conn), H3Q_OK);
    /* ours: control 2, encoder 6, decoder 10; the server's: 3, 7; unopened 14; server
     * bidirectional 1, 5 */
    static const uint64_t ids[] = {2, 6, 10, 3, 7, 14, 1, 5};
    for (size_t i = 0; i < N(ids); i++) {
        refused_on(conn, &fake, ids[i], get_root, N(get_root));
    }
    CHECK_INT(h3q_conn_send_headers(conn, 0, get_root, N(get_root), true), H3Q_OK);
    h3q_conn_free(conn);
    fake_free(&fake);
}

static void server_refuses_non_request_streams(void) {
    fake_transport fake;
    fake_init(&fake, false);
    h3q_transport t = fake_table(&fake);
    h3q_conn *conn = NULL;
    CHECK_INT(h3q_conn_new(&t, NULL, &conn), H3Q_OK);
    /* ours: control 3, encoder 7, decoder 11; the client's: 2; unopened 15; our own
     * bidirectional 1 */
    static const uint64_t ids[] = {3, 7, 11, 2, 15, 1};
    for (size_t i = 0; i < N(ids); i++) {
        refused_on(conn, &fake, ids[i], ok_200, N(ok_200));
    }
    h3q_conn_free(conn);
    fake_free(&fake);
}

/* End to end: a client application that mistakes stream 2 for a request stream must not
 * get the connection killed by its peer. */
static void control_stream_stays_intact(void) {
    fake_transport cf;
    fake_transport sf;
    fake_init(&cf, true);
    fake_init(&sf, false);
    h3q_transport ct = fake_table(&cf);
    h3q_transport st = fake_table(&sf);
    h3q_conn *client = NULL;
    h3q_conn *server = NULL;
    CHECK_INT(h3q_conn_new(&ct, NULL, &client), H3Q_OK);
    CHECK_INT(h3q_conn_new(&st, NULL, &server), H3Q_OK);
    event_log log = {0};
    (void)h3q_conn_send_headers(client, 2, get_root, N(get_root), false);
    fake_transfer_result r = fake_transfer(&cf, server, FAKE_CHUNKS, event_log_cb, &log);
    CHECK_INT(r.first_error, H3Q_OK);
    CHECK_INT(sf.close_count, 0);
    if (sf.close_count > 0) {
        fprintf(stderr, "  the server closed with 0x%x \"%s\"\n", (unsigned)sf.close_code,
                sf.close_reason);
    }
    event_log_free(&log);
    h3q_conn_free(client);
    h3q_conn_free(server);
    fake_free(&cf);
    fake_free(&sf);
}

/* A push stream we opened carries the pushed response (this one is allowed). */
static void push_stream_is_allowed(void) {
    fake_transport cf;
    fake_transport sf;
    fake_init(&cf, true);
    fake_init(&sf, false);
    h3q_transport ct = fake_table(&cf);
    h3q_transport st = fake_table(&sf);
    h3q_conn *client = NULL;
    h3q_conn *server = NULL;
    CHECK_INT(h3q_conn_new(&ct, NULL, &client), H3Q_OK);
    CHECK_INT(h3q_conn_new(&st, NULL, &server), H3Q_OK);
    event_log log = {0};
    CHECK_INT(h3q_conn_send_headers(client, 0, get_root, N(get_root), true), H3Q_OK);
    CHECK_INT(fake_transfer(&cf, server, FAKE_CHUNKS, event_log_cb, &log).first_error, H3Q_OK);
    uint64_t push = 0;
    CHECK_INT(h3q_conn_send_push_promise(server, 0, get_root, N(get_root), &push), H3Q_OK);
    CHECK_INT(push, 15);
    CHECK_INT(h3q_conn_send_headers(server, push, ok_200, N(ok_200), false), H3Q_OK);
    CHECK_INT(h3q_conn_send_data(server, push, (const uint8_t *)"x", 1, true), H3Q_OK);
    event_log_free(&log);
    h3q_conn_free(client);
    h3q_conn_free(server);
    fake_free(&cf);
    fake_free(&sf);
}

int main(void) {
    RUN(client_refuses_non_request_streams);
    RUN(server_refuses_non_request_streams);
    RUN(control_stream_stays_intact);
    RUN(push_stream_is_allowed);
    return CHECK_DONE("test_conn_stream_kinds");
}
