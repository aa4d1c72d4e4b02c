/* h3q_conn misuse: NULL handles and pointers, bad transport tables, unknown event types,
 * stream ids out of range, sends on the wrong kind of stream or in the wrong state (with
 * their exact messages), sends after a protocol close, transport failures, re-entrant
 * calls from transport functions, and freeing the connection from its event callback; and
 * the lifecycle calls (shutdown, aborts, CANCEL_PUSH, ORIGIN) given bad streams, codes
 * above 2^62-1, push ids never promised, NULL or non-UTF-8 origins, or a closed
 * connection; and the priority calls (RFC 9218) given NULLs, urgencies above 7, stray
 * bool bytes, the wrong role or stream, a closed connection, a transport without (or with
 * a failing) set_stream_priority, or called from inside a transport function. Every case
 * gets its documented code and never a crash, and a refused call sends nothing. */
#include "h3q.h"

#include "check.h"
#include "expect_events.h"
#include "fake_transport.h"

#include <stdlib.h>
#include <string.h>

#define N(array) (sizeof(array) / sizeof((array)[0]))

static const h3q_header get_root[] = {FAKE_HDR(":method", "GET"), FAKE_HDR(":scheme", "https"),
                                      FAKE_HDR(":authority", "a"), FAKE_HDR(":path", "/")};
static const h3q_header ok_200[] = {FAKE_HDR(":status", "200")};
static const h3q_header trailer[] = {FAKE_HDR("x-t", "1")};
/* GET https://a/ (static table only) */
static const uint8_t get_frame[] = {0x01, 0x08, 0x00, 0x00, 0xd1, 0xd7, 0xc1, 0x50, 0x01, 0x61};

static h3q_conn *new_conn(fake_transport *fake, bool is_client) {
    fake_init(fake, is_client);
    h3q_transport t = fake_table(fake);
    h3q_conn *conn = NULL;
    CHECK_INT(h3q_conn_new(&t, NULL, &conn), H3Q_OK);
    CHECK(conn != NULL);
    return conn;
}

static void done(h3q_conn *conn, fake_transport *fake) {
    h3q_conn_free(conn);
    fake_free(fake);
}

static void ignore_event(void *user_data, const h3q_event *event) {
    (void)user_data;
    (void)event;
}

/* A server that received GET on stream 0. */
static h3q_conn *server_with_request(fake_transport *fake) {
    h3q_conn *conn = new_conn(fake, false);
    CHECK_INT(fake_send_stream(conn, 0, get_frame, sizeof get_frame, true, ignore_event, NULL),
              H3Q_OK);
    return conn;
}

/* ---- NULLs and bad arguments -------------------------------------------------------- */

static void settings_default_and_null(void) {
    h3q_settings_default(NULL); /* ignored */
    h3q_settings s;
    memset(&s, 0xab, sizeof s);
    h3q_settings_default(&s);
    CHECK_INT(s.qpack_max_table_capacity, 4096);
    CHECK_INT(s.qpack_blocked_streams, 16);
    CHECK_INT(s.max_push_id, 8);
    CHECK(s.enable_connect_protocol);
    CHECK(!s.enable_webtransport);
}

static void conn_new_rejects_nulls_and_incomplete_tables(void) {
    fake_transport fake;
    fake_init(&fake, true);
    h3q_transport t = fake_table(&fake);
    h3q_conn *conn = (h3q_conn *)&fake; /* must stay untouched on failure */
    h3q_conn *const sentinel = conn;
    CHECK_INT(h3q_conn_new(NULL, NULL, &conn), H3Q_ERR_NULL);
    CHECK_STR(h3q_last_error(), "transport is NULL");
    CHECK_INT(h3q_conn_new(&t, NULL, NULL), H3Q_ERR_NULL);
    CHECK_STR(h3q_last_error(), "out is NULL");
    CHECK(conn == sentinel);

    static const char *names[] = {"send_stream_data", "get_next_available_stream_id",
                                  "reset_stream", "stop_stream", "close"};
    for (size_t i = 0; i < N(names); i++) {
        h3q_transport broken = t;
        switch (i) {
        case 0: broken.send_stream_data = NULL; break;
        case 1: broken.get_next_available_stream_id = NULL; break;
        case 2: broken.reset_stream = NULL; break;
        case 3: broken.stop_stream = NULL; break;
        case 4: broken.close = NULL; break;
        }
        CHECK_INT(h3q_conn_new(&broken, NULL, &conn), H3Q_ERR_NULL);
        char expected[80];
        snprintf(expected, sizeof expected, "transport->%s is NULL", names[i]);
        CHECK_STR(h3q_last_error(), expected);
        CHECK(conn == sentinel);
    }
    CHECK_INT(fake.calls, 0); /* nothing was called on a refused table */

    /* send_datagram_frame is optional: without it, datagrams fail as a transport error */
    h3q_transport no_dgram = t;
    no_dgram.send_datagram_frame = NULL;
    conn = NULL;
    CHECK_INT(h3q_conn_new(&no_dgram, NULL, &conn), H3Q_OK);
    CHECK_INT(h3q_conn_send_datagram(conn, 0, (const uint8_t *)"x", 1), H3Q_ERR_TRANSPORT);
    CHECK_STR(h3q_conn_last_error(conn), "transport error: the transport has no send_datagram_frame");
    h3q_conn_free(conn);
    fake_free(&fake);

    h3q_conn_free(NULL);
    CHECK(h3q_conn_last_error(NULL) == NULL);
}

static void every_call_rejects_a_null_handle(void) {
    h3q_quic_event ev;
    memset(&ev, 0, sizeof ev);
    uint64_t v = 5;
    CHECK_INT(h3q_conn_handle_event(NULL, &ev, ignore_event, NULL), H3Q_ERR_NULL);
    CHECK_STR(h3q_last_error(), "h3q_conn handle is NULL");
    CHECK_INT(h3q_conn_send_headers(NULL, 0, get_root, N(get_root), true), H3Q_ERR_NULL);
    CHECK_INT(h3q_conn_send_data(NULL, 0, (const uint8_t *)"x", 1, true), H3Q_ERR_NULL);
    CHECK_INT(h3q_conn_send_push_promise(NULL, 0, get_root, N(get_root), &v), H3Q_ERR_NULL);
    CHECK_INT(h3q_conn_send_datagram(NULL, 0, (const uint8_t *)"x", 1), H3Q_ERR_NULL);
    CHECK_INT(h3q_conn_create_webtransport_stream(NULL, 0, true, &v), H3Q_ERR_NULL);
    CHECK_INT(h3q_conn_received_setting(NULL, 1, &v), H3Q_ERR_NULL);
    CHECK_INT(h3q_conn_sent_setting(NULL, 1, &v), H3Q_ERR_NULL);
    CHECK_INT(v, 5);
    /* the lifecycle calls */
    size_t n = 5;
    h3q_error_space space = H3Q_ERROR_SPACE_NO_CODE;
    static const char *const origins[] = {"https://a"};
    CHECK_INT(h3q_conn_shutdown_notice(NULL), H3Q_ERR_NULL);
    CHECK_STR(h3q_last_error(), "h3q_conn handle is NULL");
    CHECK_INT(h3q_conn_shutdown(NULL), H3Q_ERR_NULL);
    CHECK_INT(h3q_conn_active_requests(NULL, &n), H3Q_ERR_NULL);
    CHECK_INT(h3q_conn_reset_stream(NULL, 0, 0x10c), H3Q_ERR_NULL);
    CHECK_INT(h3q_conn_stop_sending(NULL, 0, 0x10c), H3Q_ERR_NULL);
    CHECK_INT(h3q_conn_cancel_push(NULL, 0), H3Q_ERR_NULL);
    CHECK_INT(h3q_conn_send_origin(NULL, origins, 1), H3Q_ERR_NULL);
    CHECK_INT(h3q_conn_close_code(NULL, &v, &space), H3Q_ERR_NULL);
    CHECK_STR(h3q_last_error(), "h3q_conn handle is NULL");
    CHECK_INT(n, 5);
    CHECK_INT(v, 5);
    CHECK_INT(space, H3Q_ERROR_SPACE_NO_CODE);
}

static void null_out_pointers_and_data(void) {
    fake_transport fake;
    h3q_conn *conn = new_conn(&fake, true);
    CHECK(h3q_conn_last_error(conn) == NULL);
    size_t ops = fake.ops_len;
    uint64_t v = 5;
    CHECK_INT(h3q_conn_received_setting(conn, 1, NULL), H3Q_ERR_NULL);
    CHECK_INT(h3q_conn_sent_setting(conn, 1, NULL), H3Q_ERR_NULL);
    CHECK_INT(h3q_conn_create_webtransport_stream(conn, 0, true, NULL), H3Q_ERR_NULL);
    CHECK_STR(h3q_conn_last_error(conn), "stream_id_out is NULL");
    CHECK_INT(h3q_conn_send_headers(conn, 0, NULL, 2, false), H3Q_ERR_NULL);
    CHECK_STR(h3q_conn_last_error(conn), "headers is NULL");
    h3q_header bad_name = {NULL, 3, (const uint8_t *)"v", 1};
    CHECK_INT(h3q_conn_send_headers(conn, 0, &bad_name, 1, false), H3Q_ERR_NULL);
    CHECK_STR(h3q_conn_last_error(conn), "headers[0]: header name is NULL");
    h3q_header bad_value[] = {FAKE_HDR(":method", "GET"), {(const uint8_t *)"x", 1, NULL, 4}};
    CHECK_INT(h3q_conn_send_headers(conn, 0, bad_value, 2, false), H3Q_ERR_NULL);
    CHECK_STR(h3q_conn_last_error(conn), "headers[1]: header value is NULL");
    CHECK_INT(h3q_conn_send_data(conn, 0, NULL, 3, false), H3Q_ERR_NULL);
    CHECK_STR(h3q_conn_last_error(conn), "data is NULL");
    CHECK_INT(h3q_conn_send_datagram(conn, 0, NULL, 3), H3Q_ERR_NULL);
    CHECK_INT(fake.ops_len, ops); /* nothing was sent by refused calls */
    /* NULL with length 0 is fine */
    CHECK_INT(h3q_conn_send_headers(conn, 0, get_root, N(get_root), false), H3Q_OK);
    CHECK_INT(h3q_conn_send_data(conn, 0, NULL, 0, false), H3Q_OK);
    CHECK_INT(h3q_conn_sent_setting(conn, 1, &v), H3Q_OK);
    CHECK_INT(v, 4096);
    done(conn, &fake);

    fake_transport sfake;
    h3q_conn *server = server_with_request(&sfake);
    CHECK_INT(h3q_conn_send_push_promise(server, 0, get_root, N(get_root), NULL), H3Q_ERR_NULL);
    CHECK_STR(h3q_conn_last_error(server), "push_stream_id_out is NULL");
    CHECK_INT(h3q_conn_active_requests(server, NULL), H3Q_ERR_NULL);
    CHECK_STR(h3q_conn_last_error(server), "count_out is NULL");
    h3q_error_space space = H3Q_ERROR_SPACE_NO_CODE;
    CHECK_INT(h3q_conn_close_code(server, NULL, &space), H3Q_ERR_NULL);
    CHECK_STR(h3q_conn_last_error(server), "code_out is NULL");
    CHECK_INT(space, H3Q_ERROR_SPACE_NO_CODE);
    /* open: nothing written, even with a NULL space */
    CHECK_INT(h3q_conn_close_code(server, &v, NULL), H3Q_DONE);
    done(server, &sfake);
}

static void handle_event_rejects_bad_events(void) {
    fake_transport fake;
    h3q_conn *conn = new_conn(&fake, false);
    event_log log = {0};
    h3q_quic_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = H3Q_QUIC_STREAM_DATA_RECEIVED;
    CHECK_INT(h3q_conn_handle_event(conn, NULL, event_log_cb, &log), H3Q_ERR_NULL);
    CHECK_STR(h3q_conn_last_error(conn), "event is NULL");
    CHECK_INT(h3q_conn_handle_event(conn, &ev, NULL, &log), H3Q_ERR_NULL);
    CHECK_STR(h3q_conn_last_error(conn), "cb is NULL");

    ev.type = (h3q_quic_event_type)99;
    CHECK_INT(h3q_conn_handle_event(conn, &ev, event_log_cb, &log), H3Q_ERR_INVALID_ARGUMENT);
    CHECK_STR(h3q_conn_last_error(conn), "event->type 99 is not an h3q_quic_event_type");
    ev.type = (h3q_quic_event_type)-1;
    CHECK_INT(h3q_conn_handle_event(conn, &ev, event_log_cb, &log), H3Q_ERR_INVALID_ARGUMENT);

    static const h3q_quic_event_type stream_types[] = {H3Q_QUIC_STREAM_DATA_RECEIVED,
                                                       H3Q_QUIC_STREAM_RESET,
                                                       H3Q_QUIC_STOP_SENDING_RECEIVED};
    for (size_t i = 0; i < N(stream_types); i++) {
        ev.type = stream_types[i];
        ev.stream_id = (uint64_t)1 << 62;
        CHECK_INT(h3q_conn_handle_event(conn, &ev, event_log_cb, &log),
                  H3Q_ERR_INVALID_ARGUMENT);
        CHECK_STR(h3q_conn_last_error(conn),
                  "event->stream_id 4611686018427387904 is above 2^62-1");
        ev.stream_id = UINT64_MAX;
        CHECK_INT(h3q_conn_handle_event(conn, &ev, event_log_cb, &log),
                  H3Q_ERR_INVALID_ARGUMENT);
    }
    /* 2^62-1 itself is a valid id (a server unidirectional one: ours, nothing to do) */
    ev.type = H3Q_QUIC_STREAM_DATA_RECEIVED;
    ev.stream_id = ((uint64_t)1 << 62) - 1;
    CHECK_INT(h3q_conn_handle_event(conn, &ev, event_log_cb, &log), H3Q_OK);

    /* NULL data with a length */
    ev.stream_id = 0;
    ev.data = NULL;
    ev.data_len = 4;
    CHECK_INT(h3q_conn_handle_event(conn, &ev, event_log_cb, &log), H3Q_ERR_NULL);
    CHECK_STR(h3q_conn_last_error(conn), "event->data is NULL");
    ev.type = H3Q_QUIC_DATAGRAM_RECEIVED;
    CHECK_INT(h3q_conn_handle_event(conn, &ev, event_log_cb, &log), H3Q_ERR_NULL);
    ev.type = H3Q_QUIC_HANDSHAKE_COMPLETED;
    CHECK_INT(h3q_conn_handle_event(conn, &ev, event_log_cb, &log), H3Q_ERR_NULL);
    ev.type = H3Q_QUIC_CONNECTION_TERMINATED;
    ev.data_len = 0;
    ev.reason = NULL;
    ev.reason_len = 9;
    CHECK_INT(h3q_conn_handle_event(conn, &ev, event_log_cb, &log), H3Q_ERR_NULL);
    CHECK_STR(h3q_conn_last_error(conn), "event->reason is NULL");

    /* none of that closed or changed the connection: a request still works */
    CHECK_INT(fake.close_count, 0);
    CHECK_INT(log.len, 0);
    CHECK_INT(fake_send_stream(conn, 0, get_frame, sizeof get_frame, true, event_log_cb, &log),
              H3Q_OK);
    CHECK(log.len >= 1 && log.items[0].type == H3Q_EVENT_HEADERS_RECEIVED);
    event_log_free(&log);
    done(conn, &fake);
}

/* ---- sends on the wrong kind of stream ---------------------------------------------- */

static void sends_on_wrong_stream_kinds(void) {
    fake_transport sfake;
    h3q_conn *server = server_with_request(&sfake);
    size_t ops = sfake.ops_len;
    uint64_t out = 77;
    static const uint64_t not_request[] = {1, 2, 3, 5, 7, 11};
    for (size_t i = 0; i < N(not_request); i++) {
        CHECK_INT(h3q_conn_send_push_promise(server, not_request[i], get_root, N(get_root), &out),
                  H3Q_ERR_INVALID_STREAM_TYPE);
        CHECK_STR(h3q_conn_last_error(server),
                  "Push promises can only be sent for client-initiated bidirectional streams");
        CHECK_INT(h3q_conn_send_datagram(server, not_request[i], (const uint8_t *)"x", 1),
                  H3Q_ERR_INVALID_STREAM_TYPE);
        CHECK_STR(h3q_conn_last_error(server),
                  "Datagrams can only be sent for client-initiated bidirectional streams");
    }
    CHECK_INT(out, 77);
    CHECK_INT(sfake.ops_len, ops);
    done(server, &sfake);

    /* HEADERS and DATA on streams that cannot carry HTTP messages: see
     * test_conn_stream_kinds.c. */
}

/* ---- the lifecycle calls ------------------------------------------------------------- */

#define NO_MESSAGE_STREAM "only request streams and push streams can be reset or stopped"

/* Resets and STOP_SENDING apply to request and push streams only, with a code that is a
 * varint, on a stream whose side is not already ended. */
static void aborts_refuse_bad_streams_and_codes(void) {
    fake_transport fake;
    h3q_conn *client = new_conn(&fake, true);
    CHECK_INT(h3q_conn_send_headers(client, 0, get_root, N(get_root), false), H3Q_OK);
    size_t ops = fake.ops_len;
    /* ours (control, QPACK), the server's, an unopened unidirectional one, server
     * bidirectional ones */
    static const uint64_t not_message[] = {2, 6, 10, 3, 7, 11, 14, 15, 1, 5};
    for (size_t i = 0; i < N(not_message); i++) {
        CHECK_INT(h3q_conn_reset_stream(client, not_message[i], 0x10c),
                  H3Q_ERR_INVALID_STREAM_TYPE);
        CHECK_STR(h3q_conn_last_error(client), NO_MESSAGE_STREAM);
        CHECK_INT(h3q_conn_stop_sending(client, not_message[i], 0x10c),
                  H3Q_ERR_INVALID_STREAM_TYPE);
        CHECK_STR(h3q_conn_last_error(client), NO_MESSAGE_STREAM);
    }
    /* codes above 2^62-1 */
    CHECK_INT(h3q_conn_reset_stream(client, 0, (uint64_t)1 << 62), H3Q_ERR_INVALID_ARGUMENT);
    CHECK_STR(h3q_conn_last_error(client), "error code 4611686018427387904 is above 2^62-1");
    CHECK_INT(h3q_conn_stop_sending(client, 0, UINT64_MAX), H3Q_ERR_INVALID_ARGUMENT);
    CHECK_STR(h3q_conn_last_error(client), "error code 18446744073709551615 is above 2^62-1");
    /* a request stream that is gone (or never was) */
    CHECK_INT(h3q_conn_reset_stream(client, 400, 0x10c), H3Q_ERR_FRAME_UNEXPECTED);
    CHECK_STR(h3q_conn_last_error(client), "stream was already ended");
    CHECK_INT(h3q_conn_stop_sending(client, 400, 0x10c), H3Q_ERR_FRAME_UNEXPECTED);
    CHECK_INT(fake.ops_len, ops);
    /* 2^62-1 is a code; each side can be aborted once */
    CHECK_INT(h3q_conn_reset_stream(client, 0, ((uint64_t)1 << 62) - 1), H3Q_OK);
    CHECK_INT(h3q_conn_reset_stream(client, 0, 0x10c), H3Q_ERR_FRAME_UNEXPECTED);
    CHECK_INT(h3q_conn_stop_sending(client, 0, 0), H3Q_OK);
    CHECK_INT(h3q_conn_stop_sending(client, 0, 0x10c), H3Q_ERR_FRAME_UNEXPECTED);
    CHECK_STR(h3q_conn_last_error(client), "stream was already ended");
    const fake_op *reset = fake_nth(&fake, FAKE_OP_RESET, 0);
    CHECK(reset != NULL && reset->stream_id == 0 && reset->error_code == ((uint64_t)1 << 62) - 1);
    CHECK_INT(fake_count(&fake, FAKE_OP_RESET), 1);
    CHECK_INT(fake_count(&fake, FAKE_OP_STOP_SENDING), 1);
    CHECK_INT(fake.close_count, 0);
    done(client, &fake);

    /* a server: the client's unidirectional streams are no message streams either */
    fake_transport sfake;
    h3q_conn *server = server_with_request(&sfake);
    ops = sfake.ops_len;
    CHECK_INT(h3q_conn_reset_stream(server, 2, 0x10c), H3Q_ERR_INVALID_STREAM_TYPE);
    CHECK_INT(h3q_conn_stop_sending(server, 3, 0x10c), H3Q_ERR_INVALID_STREAM_TYPE);
    CHECK_INT(h3q_conn_reset_stream(server, 1, 0x10c), H3Q_ERR_INVALID_STREAM_TYPE);
    CHECK_INT(sfake.ops_len, ops);
    CHECK_INT(h3q_conn_reset_stream(server, 0, 0x10c), H3Q_OK);
    done(server, &sfake);
}

/* CANCEL_PUSH names a push id a client's MAX_PUSH_ID allows (8 by default) or a server
 * promised. */
static void cancel_push_refuses_unknown_push_ids(void) {
    fake_transport cfake;
    h3q_conn *client = new_conn(&cfake, true);
    size_t ops = cfake.ops_len;
    CHECK_INT(h3q_conn_cancel_push(client, 9), H3Q_ERR_INVALID_ARGUMENT);
    CHECK_STR(h3q_conn_last_error(client), "push id 9 was never promised");
    CHECK_INT(h3q_conn_cancel_push(client, UINT64_MAX), H3Q_ERR_INVALID_ARGUMENT);
    CHECK_INT(cfake.ops_len, ops);
    CHECK_INT(h3q_conn_cancel_push(client, 8), H3Q_OK); /* a promise may be on its way */
    CHECK_INT(cfake.ops_len, ops + 1);
    done(client, &cfake);

    fake_transport sfake;
    h3q_conn *server = server_with_request(&sfake);
    ops = sfake.ops_len;
    CHECK_INT(h3q_conn_cancel_push(server, 0), H3Q_ERR_INVALID_ARGUMENT);
    CHECK_STR(h3q_conn_last_error(server), "push id 0 was never promised");
    CHECK_INT(sfake.ops_len, ops);
    CHECK_INT(sfake.close_count, 0);
    done(server, &sfake);
}

/* ORIGIN: servers only; origins not NULL (unless none), UTF-8, 65,535 bytes at most. */
static void send_origin_refuses_bad_origins(void) {
    fake_transport sfake;
    h3q_conn *server = new_conn(&sfake, false);
    size_t ops = sfake.ops_len;
    CHECK_INT(h3q_conn_send_origin(server, NULL, 2), H3Q_ERR_NULL);
    CHECK_STR(h3q_conn_last_error(server), "origins is NULL");
    const char *with_null[] = {"https://a", NULL};
    CHECK_INT(h3q_conn_send_origin(server, with_null, 2), H3Q_ERR_NULL);
    CHECK_STR(h3q_conn_last_error(server), "origins[1] is NULL");
    const char *not_utf8[] = {"https://\xff\xfe.example"};
    CHECK_INT(h3q_conn_send_origin(server, not_utf8, 1), H3Q_ERR_INVALID_ARGUMENT);
    CHECK_STR(h3q_conn_last_error(server), "origins[0] is not valid UTF-8");
    char *long_origin = malloc(65537);
    CHECK(long_origin != NULL);
    if (long_origin != NULL) {
        memset(long_origin, 'a', 65536);
        long_origin[65536] = '\0';
        const char *too_long[] = {"https://a", long_origin};
        CHECK_INT(h3q_conn_send_origin(server, too_long, 2), H3Q_ERR_INVALID_ARGUMENT);
        CHECK_STR(h3q_conn_last_error(server),
                  "an origin of 65536 bytes does not fit an ORIGIN frame (65535 at most)");
        CHECK_INT(sfake.ops_len, ops);
        long_origin[65535] = '\0'; /* 65,535 bytes fit */
        CHECK_INT(h3q_conn_send_origin(server, too_long, 2), H3Q_OK);
        CHECK_INT(sfake.ops_len, ops + 1);
        free(long_origin);
    }
    done(server, &sfake);

    fake_transport cfake;
    h3q_conn *client = new_conn(&cfake, true);
    ops = cfake.ops_len;
    static const char *const origins[] = {"https://client.example"};
    CHECK_INT(h3q_conn_send_origin(client, origins, 1), H3Q_ERR_WRONG_ROLE);
    CHECK_STR(h3q_conn_last_error(client), "Only servers may send an ORIGIN frame.");
    CHECK_INT(h3q_conn_send_origin(client, NULL, 0), H3Q_ERR_WRONG_ROLE);
    CHECK_INT(cfake.ops_len, ops);
    done(client, &cfake);
}

/* A transport failure while sending GOAWAY or ORIGIN: H3Q_ERR_TRANSPORT, and the
 * connection is unharmed (the GOAWAY is sent once the transport recovers). */
static void lifecycle_calls_and_transport_failures(void) {
    fake_transport fake;
    h3q_conn *server = server_with_request(&fake);
    static const char *const origins[] = {"https://a"};
    fake.hooks.fail_send = 7;
    CHECK_INT(h3q_conn_shutdown_notice(server), H3Q_ERR_TRANSPORT);
    CHECK_STR(h3q_conn_last_error(server), "transport error: transport send_stream_data returned 7");
    CHECK_INT(h3q_conn_shutdown(server), H3Q_ERR_TRANSPORT);
    CHECK_INT(h3q_conn_send_origin(server, origins, 1), H3Q_ERR_TRANSPORT);
    fake.hooks.fail_send = 0;
    size_t ops = fake.ops_len;
    CHECK_INT(h3q_conn_shutdown(server), H3Q_OK);
    CHECK_INT(fake.ops_len, ops + 1);
    fake_buf ctl = {0};
    fake_stream_bytes(&fake, 3, &ctl);
    /* ... GOAWAY 4: the request after stream 0 */
    CHECK(ctl.len > 3 && memcmp(ctl.data + ctl.len - 3, "\x07\x01\x04", 3) == 0);
    fake_buf_free(&ctl);
    CHECK_INT(h3q_conn_send_headers(server, 0, ok_200, 1, true), H3Q_OK);
    CHECK_INT(fake.close_count, 0);
    done(server, &fake);
}

/* After a protocol close every lifecycle call that would send is refused; the queries
 * still answer. */
static void lifecycle_calls_after_a_protocol_close(void) {
    fake_transport fake;
    h3q_conn *server = server_with_request(&fake);
    static const uint8_t data_frame[] = {0x00, 0x01, 'x'}; /* DATA before HEADERS */
    CHECK_INT(fake_send_stream(server, 4, data_frame, sizeof data_frame, false, ignore_event,
                               NULL),
              H3Q_ERR_PROTOCOL);
    size_t ops = fake.ops_len;
    static const char *const origins[] = {"https://a"};
    CHECK_INT(h3q_conn_shutdown_notice(server), H3Q_ERR_CONNECTION_CLOSED);
    CHECK_STR(h3q_conn_last_error(server), "the connection is closed");
    CHECK_INT(h3q_conn_shutdown(server), H3Q_ERR_CONNECTION_CLOSED);
    CHECK_INT(h3q_conn_reset_stream(server, 0, 0x10c), H3Q_ERR_CONNECTION_CLOSED);
    CHECK_INT(h3q_conn_stop_sending(server, 0, 0x10c), H3Q_ERR_CONNECTION_CLOSED);
    CHECK_INT(h3q_conn_cancel_push(server, 0), H3Q_ERR_CONNECTION_CLOSED);
    CHECK_INT(h3q_conn_send_origin(server, origins, 1), H3Q_ERR_CONNECTION_CLOSED);
    CHECK_INT(fake.ops_len, ops);
    size_t n = 99;
    CHECK_INT(h3q_conn_active_requests(server, &n), H3Q_OK);
    CHECK_INT(n, 0);
    uint64_t code = 0;
    CHECK_INT(h3q_conn_close_code(server, &code, NULL), H3Q_OK);
    CHECK_INT(code, 0x105);
    CHECK_INT(fake.close_count, 1);
    done(server, &fake);
}

/* ---- send-side state errors, with their messages ------------------------------------ */

static void send_state_errors(void) {
    fake_transport cfake;
    h3q_conn *client = new_conn(&cfake, true);
    CHECK_INT(h3q_conn_send_data(client, 0, (const uint8_t *)"x", 1, false),
              H3Q_ERR_FRAME_UNEXPECTED);
    CHECK_STR(h3q_conn_last_error(client), "DATA frame is not allowed in this state");
    CHECK_INT(h3q_conn_send_headers(client, 0, get_root, N(get_root), false), H3Q_OK);
    CHECK_INT(h3q_conn_send_data(client, 0, (const uint8_t *)"body", 4, false), H3Q_OK);
    CHECK_INT(h3q_conn_send_headers(client, 0, trailer, 1, false), H3Q_OK);
    size_t ops = cfake.ops_len;
    CHECK_INT(h3q_conn_send_headers(client, 0, trailer, 1, false), H3Q_ERR_FRAME_UNEXPECTED);
    CHECK_STR(h3q_conn_last_error(client), "HEADERS frame is not allowed in this state");
    CHECK_INT(h3q_conn_send_headers(client, 0, trailer, 1, true), H3Q_ERR_FRAME_UNEXPECTED);
    CHECK_STR(h3q_conn_last_error(client), "HEADERS frame is not allowed in this state");
    CHECK_INT(h3q_conn_send_data(client, 0, (const uint8_t *)"x", 1, false),
              H3Q_ERR_FRAME_UNEXPECTED);
    CHECK_STR(h3q_conn_last_error(client), "DATA frame is not allowed in this state");
    CHECK_INT(cfake.ops_len, ops);

    /* after end_stream */
    CHECK_INT(h3q_conn_send_headers(client, 4, get_root, N(get_root), true), H3Q_OK);
    ops = cfake.ops_len;
    CHECK_INT(h3q_conn_send_data(client, 4, (const uint8_t *)"x", 1, false),
              H3Q_ERR_FRAME_UNEXPECTED);
    CHECK_STR(h3q_conn_last_error(client), "stream was already ended");
    CHECK_INT(h3q_conn_send_data(client, 4, NULL, 0, true), H3Q_ERR_FRAME_UNEXPECTED);
    CHECK_STR(h3q_conn_last_error(client), "stream was already ended");
    CHECK_INT(h3q_conn_send_headers(client, 4, trailer, 1, true), H3Q_ERR_FRAME_UNEXPECTED);
    CHECK_STR(h3q_conn_last_error(client), "stream was already ended");
    CHECK_INT(cfake.ops_len, ops);

    /* a client may not push */
    uint64_t out = 77;
    CHECK_INT(h3q_conn_send_push_promise(client, 0, get_root, N(get_root), &out),
              H3Q_ERR_WRONG_ROLE);
    CHECK_STR(h3q_conn_last_error(client), "Only servers may send a push promise.");
    CHECK_INT(out, 77);
    /* unharmed */
    CHECK_INT(h3q_conn_send_headers(client, 8, get_root, N(get_root), true), H3Q_OK);
    CHECK_INT(cfake.close_count, 0);
    done(client, &cfake);

    fake_transport sfake;
    h3q_conn *server = server_with_request(&sfake);
    static const h3q_header continue_100[] = {FAKE_HDR(":status", "100")};
    CHECK_INT(h3q_conn_send_headers(server, 0, continue_100, 1, true), H3Q_ERR_FRAME_UNEXPECTED);
    CHECK_STR(h3q_conn_last_error(server), "Interim response cannot end the stream");
    CHECK_INT(h3q_conn_send_headers(server, 0, continue_100, 1, false), H3Q_OK);
    CHECK_INT(h3q_conn_send_data(server, 0, (const uint8_t *)"x", 1, false),
              H3Q_ERR_FRAME_UNEXPECTED);
    CHECK_STR(h3q_conn_last_error(server), "DATA frame is not allowed in this state");
    CHECK_INT(h3q_conn_send_headers(server, 0, ok_200, 1, false), H3Q_OK);
    CHECK_INT(h3q_conn_send_data(server, 0, (const uint8_t *)"x", 1, true), H3Q_OK);
    CHECK_INT(h3q_conn_send_data(server, 0, (const uint8_t *)"y", 1, true),
              H3Q_ERR_FRAME_UNEXPECTED);
    CHECK_STR(h3q_conn_last_error(server), "stream was already ended");
    /* no MAX_PUSH_ID received: no push id */
    CHECK_INT(h3q_conn_send_push_promise(server, 0, get_root, N(get_root), &out),
              H3Q_ERR_NO_AVAILABLE_PUSH_ID);
    CHECK_STR(h3q_conn_last_error(server), "No available push ID");
    CHECK_INT(sfake.close_count, 0);
    done(server, &sfake);
}

/* ---- after a protocol close --------------------------------------------------------- */

/* h3q_conn_send_data_zerocopy over a C transport table: the table's send_stream_data
 * copies, so the lent body is released before the call returns, and the DATA frame on the
 * wire carries it; failures release too. */
static unsigned released;

static void count_release(void *ctx) {
    memset(ctx, 0xdd, 4); /* a later read by h3q would put 0xdd on the wire */
    released++;
}

static void zerocopy_over_a_c_transport(void) {
    fake_transport fake;
    h3q_conn *server = server_with_request(&fake);
    uint8_t body[4] = {'b', 'o', 'd', 'y'};
    released = 0;
    CHECK_INT(h3q_conn_send_data_zerocopy(server, 0, body, 4, false, count_release, body),
              H3Q_ERR_FRAME_UNEXPECTED); /* before the headers */
    CHECK_INT(released, 1);
    memcpy(body, "body", 4);
    CHECK_INT(h3q_conn_send_headers(server, 0, ok_200, 1, false), H3Q_OK);
    CHECK_INT(h3q_conn_send_data_zerocopy(server, 0, body, 4, true, count_release, body),
              H3Q_OK);
    CHECK_INT(released, 2);
    fake_buf wire = {0};
    CHECK(fake_stream_bytes(&fake, 0, &wire));
    /* ... HEADERS, then DATA: type 0x00, length 4, "body". */
    static const uint8_t data_frame[] = {0x00, 0x04, 'b', 'o', 'd', 'y'};
    CHECK(wire.len >= 6 && memcmp(wire.data + wire.len - 6, data_frame, 6) == 0);
    fake_buf_free(&wire);
    CHECK_INT(h3q_conn_send_data_zerocopy(server, 0, body, 4, true, count_release, body),
              H3Q_ERR_FRAME_UNEXPECTED); /* after the end of the stream */
    CHECK_INT(released, 3);
    done(server, &fake);
}

static void sends_after_a_protocol_close(void) {
    fake_transport fake;
    h3q_conn *server = server_with_request(&fake);
    static const uint8_t data_frame[] = {0x00, 0x01, 'x'};
    event_log log = {0};
    CHECK_INT(fake_send_stream(server, 4, data_frame, sizeof data_frame, false, event_log_cb,
                               &log),
              H3Q_ERR_PROTOCOL);
    CHECK_STR(h3q_conn_last_error(server),
              "H3_FRAME_UNEXPECTED (0x105): DATA frame is not allowed in this state");
    CHECK_INT(fake.close_count, 1);
    size_t ops = fake.ops_len;
    uint64_t out = 77;
    CHECK_INT(h3q_conn_send_headers(server, 0, ok_200, 1, true), H3Q_ERR_CONNECTION_CLOSED);
    CHECK_STR(h3q_conn_last_error(server), "the connection is closed");
    CHECK_INT(h3q_conn_send_data(server, 0, NULL, 0, true), H3Q_ERR_CONNECTION_CLOSED);
    CHECK_INT(h3q_conn_send_push_promise(server, 0, get_root, N(get_root), &out),
              H3Q_ERR_CONNECTION_CLOSED);
    CHECK_INT(h3q_conn_send_datagram(server, 0, (const uint8_t *)"x", 1),
              H3Q_ERR_CONNECTION_CLOSED);
    CHECK_INT(h3q_conn_create_webtransport_stream(server, 0, true, &out),
              H3Q_ERR_CONNECTION_CLOSED);
    CHECK_INT(out, 77);
    CHECK_INT(fake.ops_len, ops);
    /* events after the close: OK, no callback, no second close */
    CHECK_INT(fake_send_stream(server, 8, get_frame, sizeof get_frame, true, event_log_cb, &log),
              H3Q_OK);
    CHECK_INT(log.len, 0);
    CHECK_INT(fake.close_count, 1);
    event_log_free(&log);
    done(server, &fake);
}

/* ---- transport failures ------------------------------------------------------------- */

static int huge_next_id(void *ud, bool unidirectional, uint64_t *out) {
    (void)ud;
    (void)unidirectional;
    *out = UINT64_MAX;
    return 0;
}

static void transport_failures(void) {
    fake_transport fake;
    fake_init(&fake, true);
    h3q_transport t = fake_table(&fake);
    h3q_conn *conn = NULL;

    /* while opening the control and QPACK streams */
    fake.hooks.fail_send = -5;
    CHECK_INT(h3q_conn_new(&t, NULL, &conn), H3Q_ERR_TRANSPORT);
    CHECK(conn == NULL);
    fake.hooks.fail_send = 0;
    fake.hooks.fail_next_id = 3;
    CHECK_INT(h3q_conn_new(&t, NULL, &conn), H3Q_ERR_TRANSPORT);
    CHECK(conn == NULL);
    fake.hooks.fail_next_id = 0;
    h3q_transport huge = t;
    huge.get_next_available_stream_id = huge_next_id;
    CHECK_INT(h3q_conn_new(&huge, NULL, &conn), H3Q_ERR_TRANSPORT);
    CHECK(conn == NULL);
    fake_free(&fake);

    conn = new_conn(&fake, true);
    fake.hooks.fail_send = 42;
    CHECK_INT(h3q_conn_send_headers(conn, 0, get_root, N(get_root), false), H3Q_ERR_TRANSPORT);
    CHECK_STR(h3q_conn_last_error(conn), "transport error: transport send_stream_data returned 42");
    fake.hooks.fail_send = 0;
    fake.hooks.fail_datagram = -1;
    CHECK_INT(h3q_conn_send_datagram(conn, 0, (const uint8_t *)"x", 1), H3Q_ERR_TRANSPORT);
    CHECK_STR(h3q_conn_last_error(conn),
              "transport error: transport send_datagram_frame returned -1");
    fake.hooks.fail_datagram = 0;
    fake.hooks.fail_next_id = 9;
    uint64_t out = 77;
    CHECK_INT(h3q_conn_create_webtransport_stream(conn, 0, true, &out), H3Q_ERR_TRANSPORT);
    CHECK_INT(out, 77);
    fake.hooks.fail_next_id = 0;
    /* the connection is unharmed once the transport recovers */
    CHECK_INT(h3q_conn_send_headers(conn, 0, get_root, N(get_root), true), H3Q_OK);
    CHECK_INT(h3q_conn_send_datagram(conn, 0, (const uint8_t *)"x", 1), H3Q_OK);
    CHECK_INT(fake.close_count, 0);
    done(conn, &fake);
}

/* ---- re-entrancy from a transport function ------------------------------------------ */

typedef struct reenter {
    h3q_conn *conn;
    unsigned calls;
    h3q_result rc_send;
    h3q_result rc_data;
    h3q_result rc_setting;
    h3q_result rc_event;
    h3q_result rc_wt;
    h3q_result rc_shutdown;
    char thread_error[128];
    bool freed_refused;
} reenter;

static void reenter_on_send(void *user_data, uint64_t stream_id) {
    (void)stream_id;
    reenter *r = user_data;
    if (r->conn == NULL || r->calls++ > 0) {
        return;
    }
    uint64_t v;
    h3q_quic_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = H3Q_QUIC_HANDSHAKE_COMPLETED;
    r->rc_send = h3q_conn_send_headers(r->conn, 4, get_root, N(get_root), true);
    const char *msg = h3q_last_error();
    snprintf(r->thread_error, sizeof r->thread_error, "%s", msg ? msg : "(null)");
    r->rc_data = h3q_conn_send_data(r->conn, 0, (const uint8_t *)"x", 1, false);
    r->rc_setting = h3q_conn_sent_setting(r->conn, 1, &v);
    r->rc_event = h3q_conn_handle_event(r->conn, &ev, ignore_event, NULL);
    r->rc_wt = h3q_conn_create_webtransport_stream(r->conn, 0, true, &v);
    r->rc_shutdown = h3q_conn_shutdown(r->conn);
    /* freeing from inside a transport call is refused */
    h3q_conn_free(r->conn);
    msg = h3q_last_error();
    r->freed_refused =
        msg != NULL && strcmp(msg, "h3q_conn cannot be freed from inside one of its own calls") == 0;
}

static void transport_calling_back_is_refused(void) {
    fake_transport fake;
    h3q_conn *conn = new_conn(&fake, true);
    reenter r;
    memset(&r, 0, sizeof r);
    r.conn = conn;
    fake.hooks.on_send = reenter_on_send;
    fake.hooks.hook_user_data = &r;
    size_t ops = fake.ops_len;
    CHECK_INT(h3q_conn_send_headers(conn, 0, get_root, N(get_root), false), H3Q_OK);
    CHECK_INT(r.calls, 1);
    CHECK_INT(r.rc_send, H3Q_ERR_INVALID_ARGUMENT);
    CHECK_STR(r.thread_error, "h3q_conn is already in use by the call that invoked this callback");
    CHECK_INT(r.rc_data, H3Q_ERR_INVALID_ARGUMENT);
    CHECK_INT(r.rc_setting, H3Q_ERR_INVALID_ARGUMENT);
    CHECK_INT(r.rc_event, H3Q_ERR_INVALID_ARGUMENT);
    CHECK_INT(r.rc_wt, H3Q_ERR_INVALID_ARGUMENT);
    CHECK_INT(r.rc_shutdown, H3Q_ERR_INVALID_ARGUMENT);
    CHECK(r.freed_refused);
    /* the outer call completed: exactly its HEADERS frame was sent, on stream 0 */
    CHECK_INT(fake.ops_len, ops + 1);
    CHECK(fake.ops_len == ops + 1 && fake.ops[ops].stream_id == 0);
    /* the refused inner calls did not overwrite the handle's last error */
    CHECK(h3q_conn_last_error(conn) == NULL);
    /* and the connection (not freed) goes on */
    fake.hooks.on_send = NULL;
    CHECK_INT(h3q_conn_send_data(conn, 0, (const uint8_t *)"x", 1, true), H3Q_OK);
    CHECK_INT(h3q_conn_send_headers(conn, 4, get_root, N(get_root), true), H3Q_OK);
    done(conn, &fake);
}

/* ---- freeing the connection from its event callback --------------------------------- */

typedef struct freer {
    h3q_conn *conn;
    event_log log;
} freer;

static void free_on_first_event(void *user_data, const h3q_event *event) {
    freer *f = user_data;
    event_log_cb(&f->log, event);
    if (f->conn != NULL) {
        h3q_conn *conn = f->conn;
        f->conn = NULL;
        h3q_conn_free(conn);
    }
}

static void free_from_the_event_callback(void) {
    fake_transport fake;
    h3q_conn *server = new_conn(&fake, false);
    freer f;
    memset(&f, 0, sizeof f);
    f.conn = server;
    /* HEADERS, DATA "hello", FIN: three events from one call */
    uint8_t input[sizeof get_frame + 7];
    memcpy(input, get_frame, sizeof get_frame);
    memcpy(input + sizeof get_frame, "\x00\x05hello", 7);
    CHECK_INT(fake_send_stream(server, 0, input, sizeof input, true, free_on_first_event, &f),
              H3Q_OK);
    CHECK(f.conn == NULL);
    CHECK_INT(f.log.len, 2);
    if (f.log.len == 2) {
        CHECK_INT(f.log.items[0].type, H3Q_EVENT_HEADERS_RECEIVED);
        CHECK_STR(rec_header_value(&f.log.items[0], ":authority"), "a");
        CHECK_INT(f.log.items[1].type, H3Q_EVENT_DATA_RECEIVED);
        CHECK_STR((const char *)f.log.items[1].data, "hello");
        CHECK(f.log.items[1].stream_ended);
    }
    event_log_free(&f.log);
    fake_free(&fake);

    /* freeing on the last event, and from a client's push promise */
    fake_transport cfake;
    h3q_conn *client = new_conn(&cfake, true);
    memset(&f, 0, sizeof f);
    static const uint8_t resp[] = {0x01, 0x03, 0x00, 0x00, 0xd9};
    CHECK_INT(fake_send_stream(client, 0, resp, sizeof resp, false, free_on_first_event, &f),
              H3Q_OK);
    f.conn = client;
    CHECK_INT(fake_send_stream(client, 0, (const uint8_t *)"\x00\x02hi", 4, true,
                               free_on_first_event, &f),
              H3Q_OK);
    CHECK(f.conn == NULL);
    CHECK_INT(f.log.len, 2);
    event_log_free(&f.log);
    fake_free(&cfake);
}

/* ---- re-entrancy from the transport's close -------------------------------------------- */

typedef struct close_reenter {
    h3q_conn *conn;
    unsigned closes;
    h3q_result rc_send;
    h3q_result rc_event;
} close_reenter;

static void reenter_on_close(void *user_data, uint64_t error_code) {
    (void)error_code;
    close_reenter *r = user_data;
    r->closes++;
    h3q_quic_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = H3Q_QUIC_STREAM_DATA_RECEIVED;
    ev.stream_id = 4;
    ev.data = get_frame;
    ev.data_len = sizeof get_frame;
    r->rc_send = h3q_conn_send_headers(r->conn, 0, ok_200, 1, true);
    r->rc_event = h3q_conn_handle_event(r->conn, &ev, ignore_event, NULL);
}

static void close_calling_back_is_refused(void) {
    fake_transport fake;
    h3q_conn *server = server_with_request(&fake);
    close_reenter r = {server, 0, H3Q_OK, H3Q_OK};
    fake.hooks.on_close = reenter_on_close;
    fake.hooks.hook_user_data = &r;
    static const uint8_t bad[] = {0x00, 0x01, 'x'}; /* DATA before HEADERS */
    CHECK_INT(fake_send_stream(server, 8, bad, sizeof bad, false, ignore_event, NULL),
              H3Q_ERR_PROTOCOL);
    CHECK_INT(r.closes, 1);
    CHECK_INT(r.rc_send, H3Q_ERR_INVALID_ARGUMENT);
    CHECK_INT(r.rc_event, H3Q_ERR_INVALID_ARGUMENT);
    CHECK_INT(fake.close_count, 1);
    CHECK_INT(fake.close_code, 0x105);
    CHECK_STR(h3q_conn_last_error(server),
              "H3_FRAME_UNEXPECTED (0x105): DATA frame is not allowed in this state");
    done(server, &fake);
}

/* ---- calling back from the event callback (allowed) ---------------------------------- */

typedef struct nested {
    h3q_conn *conn;
    event_log log;
    unsigned depth;
    h3q_result rc_nested;
} nested;

static void nested_cb(void *user_data, const h3q_event *event) {
    nested *n = user_data;
    event_log_cb(&n->log, event);
    if (n->depth == 0 && event->type == H3Q_EVENT_HEADERS_RECEIVED) {
        /* feed the next request from inside the callback */
        n->depth++;
        n->rc_nested =
            fake_send_stream(n->conn, 4, get_frame, sizeof get_frame, true, nested_cb, n);
        n->depth--;
    }
}

static void handle_event_from_the_event_callback(void) {
    fake_transport fake;
    h3q_conn *server = new_conn(&fake, false);
    nested n;
    memset(&n, 0, sizeof n);
    n.conn = server;
    CHECK_INT(fake_send_stream(server, 0, get_frame, sizeof get_frame, true, nested_cb, &n),
              H3Q_OK);
    CHECK_INT(n.rc_nested, H3Q_OK);
    /* stream 0's HEADERS (ended), then stream 4's (nested) */
    CHECK_INT(n.log.len, 2);
    if (n.log.len == 2) {
        CHECK_INT(n.log.items[0].stream_id, 0);
        CHECK_INT(n.log.items[1].stream_id, 4);
        CHECK_INT(n.log.items[1].type, H3Q_EVENT_HEADERS_RECEIVED);
    }
    CHECK_INT(fake.close_count, 0);
    CHECK_INT(h3q_conn_send_headers(server, 0, ok_200, 1, true), H3Q_OK);
    CHECK_INT(h3q_conn_send_headers(server, 4, ok_200, 1, true), H3Q_OK);
    event_log_free(&n.log);
    done(server, &fake);
}

/* ---- C bools are read as bytes -------------------------------------------------------- */

/* The bools of h3q_settings and h3q_transport are read as bytes: any non-zero byte is
 * true. enable_grease 0 leaves the control stream ending with MAX_PUSH_ID; a stray byte
 * (0x40) in it reads as true: a reserved setting and a reserved frame type after
 * MAX_PUSH_ID. */
static void settings_bools_any_nonzero_byte(void) {
    static const uint8_t grease_bytes[] = {0, 0x40};
    for (size_t g = 0; g < N(grease_bytes); g++) {
        fake_transport fake;
        fake_init(&fake, true);
        h3q_transport t = fake_table(&fake);
        memset(&t.is_client, 2, 1); /* not 0 or 1: read as "true" */
        h3q_settings s;
        h3q_settings_default(&s);
        memset(&s.enable_webtransport, 0x80, 1);
        memset(&s.enable_connect_protocol, 0, 1);
        memset(&s.enable_grease, grease_bytes[g], 1);
        h3q_conn *conn = NULL;
        CHECK_INT(h3q_conn_new(&t, &s, &conn), H3Q_OK);
        uint64_t v = 0;
        CHECK_INT(h3q_conn_sent_setting(conn, 0x33, &v), H3Q_OK);
        CHECK_INT(v, 1);
        CHECK_INT(h3q_conn_sent_setting(conn, 0x8, &v), H3Q_DONE);
        /* a client: its control stream (2) */
        fake_buf ctl = {0};
        fake_stream_bytes(&fake, 2, &ctl);
        CHECK(ctl.len > 3 && ctl.data[0] == 0x00);
        fake_frame frames[4];
        uint64_t type = 99;
        size_t n = fake_frames(&ctl, &type, frames, N(frames));
        if (grease_bytes[g] == 0) {
            CHECK(ctl.len > 3 && memcmp(ctl.data + ctl.len - 3, "\x0d\x01\x08", 3) == 0);
            CHECK_INT(n, 2);
        } else {
            /* SETTINGS (with one reserved id), MAX_PUSH_ID 8, a reserved frame type */
            CHECK_INT(n, 3);
            if (n == 3) {
                CHECK_INT(frames[1].type, 0x0d);
                CHECK(fake_is_reserved(frames[2].type));
                uint64_t ids[8], values[8];
                size_t count = fake_settings(&frames[0], ids, values, N(ids));
                unsigned reserved = 0;
                for (size_t i = 0; i < count && i < N(ids); i++) {
                    reserved += fake_is_reserved(ids[i]);
                }
                CHECK_INT(reserved, 1);
            }
        }
        fake_buf_free(&ctl);
        done(conn, &fake);
    }
}

/* ---- priorities (RFC 9218) ------------------------------------------------------------ */

/* An h3q_priority with its bool written as one raw byte (a C program may leave any byte
 * there: h3q reads it as a byte, any non-zero value is true). */
static h3q_priority raw_priority(uint8_t urgency, unsigned char incremental_byte) {
    h3q_priority p;
    memset(&p, 0, sizeof p);
    p.urgency = urgency;
    memset(&p.incremental, incremental_byte, 1);
    return p;
}

/* What the PRIORITY_UPDATE frame `fake` last put on the client's control stream (2)
 * parses to; false if there is none. */
static bool last_update_value(const fake_transport *fake, h3q_priority *value) {
    fake_buf ctl = {0};
    fake_stream_bytes(fake, 2, &ctl);
    fake_frame frames[16];
    uint64_t type = 99;
    size_t n = fake_frames(&ctl, &type, frames, N(frames));
    bool found = false;
    for (size_t i = 0; i < n && i < N(frames); i++) {
        if (frames[i].type == 0xf0700 || frames[i].type == 0xf0701) {
            size_t id_len = (size_t)1 << (frames[i].payload[0] >> 6);
            found = id_len <= frames[i].len &&
                    h3q_priority_parse(frames[i].payload + id_len, frames[i].len - id_len,
                                       value) == H3Q_OK;
        }
    }
    fake_buf_free(&ctl);
    return found;
}

/* A client with request 0 open (its head sent, no FIN). */
static h3q_conn *client_with_request(fake_transport *fake) {
    h3q_conn *conn = new_conn(fake, true);
    CHECK_INT(h3q_conn_send_headers(conn, 0, get_root, N(get_root), false), H3Q_OK);
    return conn;
}

/* NULL handles, priorities and out-pointers: H3Q_ERR_NULL, nothing written, sent or told. */
static void priority_calls_refuse_nulls(void) {
    h3q_priority p = raw_priority(1, 0);
    h3q_priority out;
    memset(&out, 0xa5, sizeof out);
    CHECK_INT(h3q_conn_get_priority(NULL, 0, &out), H3Q_ERR_NULL);
    CHECK_STR(h3q_last_error(), "h3q_conn handle is NULL");
    CHECK_INT(h3q_conn_set_priority(NULL, 0, &p), H3Q_ERR_NULL);
    CHECK_STR(h3q_last_error(), "h3q_conn handle is NULL");
    CHECK_INT(h3q_conn_send_priority_update(NULL, 0, &p), H3Q_ERR_NULL);
    CHECK_STR(h3q_last_error(), "h3q_conn handle is NULL");
    CHECK_INT(out.urgency, 0xa5);

    fake_transport fake;
    h3q_conn *client = client_with_request(&fake);
    size_t ops = fake.ops_len;
    size_t told = fake.priorities_len;
    CHECK_INT(h3q_conn_get_priority(client, 0, NULL), H3Q_ERR_NULL);
    CHECK_STR(h3q_conn_last_error(client), "priority_out is NULL");
    CHECK_INT(h3q_conn_set_priority(client, 0, NULL), H3Q_ERR_NULL);
    CHECK_STR(h3q_conn_last_error(client), "priority is NULL");
    CHECK_INT(h3q_conn_send_priority_update(client, 0, NULL), H3Q_ERR_NULL);
    CHECK_STR(h3q_conn_last_error(client), "priority is NULL");
    /* h3q_priority_parse: the output, and bytes announced behind a NULL */
    CHECK_INT(h3q_priority_parse((const uint8_t *)"u=1", 3, NULL), H3Q_ERR_NULL);
    CHECK_INT(h3q_priority_parse(NULL, 2, &out), H3Q_ERR_NULL);
    CHECK_INT(out.urgency, 0xa5);
    CHECK_INT(fake.ops_len, ops);
    CHECK_INT(fake.priorities_len, told);
    check_priority(client, 0, 3, false);
    CHECK_INT(fake.close_count, 0);
    done(client, &fake);
}

/* Urgency 8 and 255: H3Q_ERR_INVALID_ARGUMENT from both sides' calls, nothing sent or
 * told, the priority unchanged; 7 is accepted. */
static void priority_urgency_above_7_is_refused(void) {
    fake_transport fake;
    h3q_conn *client = client_with_request(&fake);
    static const uint8_t bad[] = {8, 255};
    size_t ops = fake.ops_len;
    size_t told = fake.priorities_len;
    for (size_t i = 0; i < N(bad); i++) {
        h3q_priority p = raw_priority(bad[i], 1);
        char expected[64];
        snprintf(expected, sizeof expected, "priority->urgency %d is above 7", (int)bad[i]);
        CHECK_INT(h3q_conn_set_priority(client, 0, &p), H3Q_ERR_INVALID_ARGUMENT);
        CHECK_STR(h3q_conn_last_error(client), expected);
        CHECK_INT(h3q_conn_send_priority_update(client, 0, &p), H3Q_ERR_INVALID_ARGUMENT);
        CHECK_STR(h3q_conn_last_error(client), expected);
        /* also for a request not opened yet */
        CHECK_INT(h3q_conn_send_priority_update(client, 8, &p), H3Q_ERR_INVALID_ARGUMENT);
    }
    CHECK_INT(fake.ops_len, ops);
    CHECK_INT(fake.priorities_len, told);
    check_priority(client, 0, 3, false);
    h3q_priority seven = raw_priority(7, 0);
    CHECK_INT(h3q_conn_set_priority(client, 0, &seven), H3Q_OK);
    check_priority(client, 0, 7, false);
    CHECK_INT(h3q_conn_send_priority_update(client, 0, &seven), H3Q_OK);
    CHECK_INT(fake.ops_len, ops + 1);
    done(client, &fake);

    fake_transport sfake;
    h3q_conn *server = server_with_request(&sfake);
    h3q_priority p = raw_priority(8, 0);
    told = sfake.priorities_len;
    CHECK_INT(h3q_conn_set_priority(server, 0, &p), H3Q_ERR_INVALID_ARGUMENT);
    CHECK_INT(sfake.priorities_len, told);
    check_priority(server, 0, 3, false);
    CHECK_INT(sfake.close_count, 0);
    done(server, &sfake);
}

/* h3q_priority.incremental is read as a byte: 0x40 (or 0x80) is true, and what h3q hands
 * back (get_priority, the transport, the frame it sends) is a proper true. */
static void priority_bool_any_nonzero_byte(void) {
    fake_transport fake;
    h3q_conn *client = client_with_request(&fake);
    h3q_priority p = raw_priority(2, 0x40);
    CHECK_INT(h3q_conn_set_priority(client, 0, &p), H3Q_OK);
    check_priority(client, 0, 2, true);
    const fake_priority *t = fake_last_priority(&fake, 0);
    CHECK(t != NULL && t->urgency == 2 && t->incremental);
    p = raw_priority(4, 0x40);
    CHECK_INT(h3q_conn_send_priority_update(client, 0, &p), H3Q_OK);
    h3q_priority sent = raw_priority(9, 0);
    CHECK(last_update_value(&fake, &sent));
    CHECK_INT(sent.urgency, 4);
    CHECK_INT(bool_byte(&sent.incremental), 1);
    /* a zero byte is false */
    p = raw_priority(4, 0);
    CHECK_INT(h3q_conn_set_priority(client, 0, &p), H3Q_OK);
    check_priority(client, 0, 4, false);
    done(client, &fake);

    fake_transport sfake;
    h3q_conn *server = server_with_request(&sfake);
    p = raw_priority(6, 0x80);
    CHECK_INT(h3q_conn_set_priority(server, 0, &p), H3Q_OK);
    check_priority(server, 0, 6, true);
    CHECK_INT(sfake.close_count, 0);
    done(server, &sfake);
}

#define NO_PRIORITY_STREAM "only request streams and push streams have a priority"
#define NO_UPDATE_STREAM "PRIORITY_UPDATE names a request stream or a known push stream"

/* send_priority_update from a server: H3Q_ERR_WRONG_ROLE. Streams that are no request or
 * push stream (control and QPACK streams, either side's; an unopened unidirectional one;
 * server-initiated bidirectional ones; a push stream the client does not know):
 * H3Q_ERR_INVALID_STREAM_TYPE, and get_priority H3Q_DONE with nothing written. A request
 * stream h3q does not track: get H3Q_DONE, set H3Q_ERR_FRAME_UNEXPECTED, an update is
 * allowed (it need not be open yet) unless the request finished. Refusals send nothing. */
static void priority_calls_on_wrong_streams(void) {
    fake_transport sfake;
    h3q_conn *server = server_with_request(&sfake);
    size_t ops = sfake.ops_len;
    h3q_priority p = raw_priority(1, 0);
    CHECK_INT(h3q_conn_send_priority_update(server, 0, &p), H3Q_ERR_WRONG_ROLE);
    CHECK_STR(h3q_conn_last_error(server), "only clients send PRIORITY_UPDATE");
    CHECK_INT(h3q_conn_send_priority_update(server, 4, &p), H3Q_ERR_WRONG_ROLE);
    static const uint64_t server_not_message[] = {2, 3, 6, 7, 10, 11, 14, 1};
    for (size_t i = 0; i < N(server_not_message); i++) {
        CHECK_INT(h3q_conn_set_priority(server, server_not_message[i], &p),
                  H3Q_ERR_INVALID_STREAM_TYPE);
        CHECK_STR(h3q_conn_last_error(server), NO_PRIORITY_STREAM);
        check_untracked(server, server_not_message[i]);
    }
    CHECK_INT(sfake.ops_len, ops);
    done(server, &sfake);

    fake_transport fake;
    h3q_conn *client = client_with_request(&fake);
    ops = fake.ops_len;
    size_t told = fake.priorities_len;
    /* ours (control, QPACK), the server's, an unopened unidirectional one, server
     * bidirectional ones, a push stream never seen */
    static const uint64_t not_message[] = {2, 6, 10, 3, 7, 11, 14, 1, 5, 15};
    for (size_t i = 0; i < N(not_message); i++) {
        CHECK_INT(h3q_conn_send_priority_update(client, not_message[i], &p),
                  H3Q_ERR_INVALID_STREAM_TYPE);
        CHECK_STR(h3q_conn_last_error(client), NO_UPDATE_STREAM);
        CHECK_INT(h3q_conn_set_priority(client, not_message[i], &p),
                  H3Q_ERR_INVALID_STREAM_TYPE);
        CHECK_STR(h3q_conn_last_error(client), NO_PRIORITY_STREAM);
        check_untracked(client, not_message[i]);
    }
    /* a request stream not opened: nothing to schedule, but an update may go ahead */
    check_untracked(client, 400);
    CHECK_INT(h3q_conn_set_priority(client, 400, &p), H3Q_ERR_FRAME_UNEXPECTED);
    CHECK_STR(h3q_conn_last_error(client), "stream was already ended");
    CHECK_INT(fake.ops_len, ops);
    CHECK_INT(fake.priorities_len, told);
    CHECK_INT(h3q_conn_send_priority_update(client, 400, &p), H3Q_OK);
    CHECK_INT(fake.ops_len, ops + 1);
    /* a finished request: 4 sent whole, its whole response received */
    CHECK_INT(h3q_conn_send_headers(client, 4, get_root, N(get_root), true), H3Q_OK);
    static const uint8_t response[] = {0x01, 0x03, 0x00, 0x00, 0xd9}; /* :status 200 */
    CHECK_INT(fake_send_stream(client, 4, response, sizeof response, true, ignore_event, NULL),
              H3Q_OK);
    check_untracked(client, 4);
    ops = fake.ops_len;
    told = fake.priorities_len;
    CHECK_INT(h3q_conn_send_priority_update(client, 4, &p), H3Q_ERR_FRAME_UNEXPECTED);
    CHECK_STR(h3q_conn_last_error(client), "stream was already ended");
    CHECK_INT(h3q_conn_set_priority(client, 4, &p), H3Q_ERR_FRAME_UNEXPECTED);
    CHECK_STR(h3q_conn_last_error(client), "stream was already ended");
    CHECK_INT(fake.ops_len, ops);
    CHECK_INT(fake.priorities_len, told);
    CHECK_INT(fake.close_count, 0);
    done(client, &fake);
}

/* After a protocol close, setting and sending priorities is refused. */
static void priority_calls_after_a_protocol_close(void) {
    fake_transport fake;
    h3q_conn *client = client_with_request(&fake);
    static const uint8_t data_frame[] = {0x00, 0x01, 'x'}; /* DATA before HEADERS */
    CHECK_INT(fake_send_stream(client, 0, data_frame, sizeof data_frame, false, ignore_event,
                               NULL),
              H3Q_ERR_PROTOCOL);
    size_t ops = fake.ops_len;
    h3q_priority p = raw_priority(1, 0);
    CHECK_INT(h3q_conn_set_priority(client, 0, &p), H3Q_ERR_CONNECTION_CLOSED);
    CHECK_STR(h3q_conn_last_error(client), "the connection is closed");
    CHECK_INT(h3q_conn_send_priority_update(client, 0, &p), H3Q_ERR_CONNECTION_CLOSED);
    CHECK_INT(fake.ops_len, ops);
    CHECK_INT(fake.close_count, 1);
    done(client, &fake);
}

/* The client's control stream (SETTINGS, MAX_PUSH_ID 8), and a PRIORITY_UPDATE for
 * stream 0 with u=4. */
static const uint8_t client_settings[] = {0x00, 0x04, 0x00, 0x0d, 0x01, 0x08};
static const uint8_t update_u4[] = {0x80, 0x0f, 0x07, 0x00, 0x04, 0x00, 'u', '=', '4'};
static const h3q_header promised_u2[] = {
    FAKE_HDR(":method", "GET"), FAKE_HDR(":scheme", "https"), FAKE_HDR(":authority", "a"),
    FAKE_HDR(":path", "/s.css"), FAKE_HDR("priority", "u=2")};
static const h3q_header get_u5[] = {FAKE_HDR(":method", "GET"), FAKE_HDR(":scheme", "https"),
                                    FAKE_HDR(":authority", "a"), FAKE_HDR(":path", "/"),
                                    FAKE_HDR("priority", "u=5")};

/* Everything priorities do on a server and a client whose transport `table` was
 * adjusted (no set_stream_priority, or a failing one): the calls succeed, the events come,
 * get_priority follows, and nobody closes. */
static void priorities_over(const h3q_transport *st, fake_transport *sfake,
                            const h3q_transport *ct, fake_transport *cfake) {
    h3q_conn *server = NULL;
    CHECK_INT(h3q_conn_new(st, NULL, &server), H3Q_OK);
    event_log log = {0};
    CHECK_INT(fake_send_stream(server, 2, client_settings, sizeof client_settings, false,
                               event_log_cb, &log),
              H3Q_OK);
    fake_buf get_u1_i = {0};
    CHECK(fake_headers_frame(&get_u1_i, ":method=GET\n:scheme=https\n:authority=a\n:path=/\n"
                                        "priority=u=1, i"));
    CHECK_INT(fake_send_stream(server, 0, get_u1_i.data, get_u1_i.len, false, event_log_cb,
                               &log),
              H3Q_OK);
    fake_buf_free(&get_u1_i);
    CHECK_INT(log.len, 1);
    check_priority(server, 0, 1, true);
    CHECK_INT(fake_send_stream(server, 2, update_u4, sizeof update_u4, false, event_log_cb,
                               &log),
              H3Q_OK);
    CHECK_INT(log.len, 2);
    if (log.len == 2) {
        CHECK_INT(log.items[1].type, H3Q_EVENT_PRIORITY_UPDATE);
        CHECK_INT(log.items[1].priority.urgency, 4);
    }
    check_priority(server, 0, 4, false);
    h3q_priority p = raw_priority(0, 1);
    CHECK_INT(h3q_conn_set_priority(server, 0, &p), H3Q_OK);
    check_priority(server, 0, 0, true);
    uint64_t push_stream = 0;
    CHECK_INT(h3q_conn_send_push_promise(server, 0, promised_u2, N(promised_u2), &push_stream),
              H3Q_OK);
    check_priority(server, push_stream, 2, false);
    CHECK_INT(h3q_conn_send_headers(server, 0, ok_200, 1, true), H3Q_OK);
    CHECK_INT(sfake->close_count, 0);
    event_log_free(&log);
    h3q_conn_free(server);

    h3q_conn *client = NULL;
    CHECK_INT(h3q_conn_new(ct, NULL, &client), H3Q_OK);
    CHECK_INT(h3q_conn_send_headers(client, 0, get_u5, N(get_u5), false), H3Q_OK);
    check_priority(client, 0, 5, false);
    CHECK_INT(h3q_conn_set_priority(client, 0, &p), H3Q_OK);
    check_priority(client, 0, 0, true);
    CHECK_INT(h3q_conn_send_priority_update(client, 0, &p), H3Q_OK);
    CHECK_INT(h3q_conn_send_data(client, 0, (const uint8_t *)"x", 1, true), H3Q_OK);
    CHECK_INT(cfake->close_count, 0);
    h3q_conn_free(client);
}

/* set_stream_priority is optional: a table without it (NULL) works, priorities included. */
static void a_transport_without_set_stream_priority(void) {
    fake_transport sfake, cfake;
    fake_init(&sfake, false);
    fake_init(&cfake, true);
    h3q_transport st = fake_table(&sfake);
    h3q_transport ct = fake_table(&cfake);
    st.set_stream_priority = NULL;
    ct.set_stream_priority = NULL;
    priorities_over(&st, &sfake, &ct, &cfake);
    CHECK_INT(sfake.priorities_len, 0);
    CHECK_INT(cfake.priorities_len, 0);
    fake_free(&sfake);
    fake_free(&cfake);
}

/* "a non-zero return is ignored": a set_stream_priority that fails changes nothing: every
 * call succeeds, the connection stays open. (The transport must have been asked.) */
static void a_failing_set_stream_priority_changes_nothing(void) {
    fake_transport sfake, cfake;
    fake_init(&sfake, false);
    fake_init(&cfake, true);
    sfake.hooks.fail_priority = -3;
    cfake.hooks.fail_priority = 99;
    h3q_transport st = fake_table(&sfake);
    h3q_transport ct = fake_table(&cfake);
    priorities_over(&st, &sfake, &ct, &cfake);
    CHECK(sfake.priorities_len >= 4); /* the request, the update, set_priority, the push */
    CHECK(cfake.priorities_len >= 2); /* the request, set_priority */
    fake_free(&sfake);
    fake_free(&cfake);
}

/* The priority calls made from inside a transport function (send_stream_data,
 * set_stream_priority) are refused with H3Q_ERR_INVALID_ARGUMENT. */
typedef struct prio_reenter {
    h3q_conn *conn;
    unsigned calls;
    h3q_result rc_get;
    h3q_result rc_set;
    h3q_result rc_update;
    h3q_result rc_headers;
} prio_reenter;

static void prio_reenter_hook(void *user_data, uint64_t stream_id) {
    prio_reenter *r = user_data;
    if (r->conn == NULL || r->calls++ > 0) {
        return;
    }
    h3q_priority p = raw_priority(1, 0);
    h3q_priority out;
    r->rc_get = h3q_conn_get_priority(r->conn, stream_id, &out);
    r->rc_set = h3q_conn_set_priority(r->conn, 0, &p);
    r->rc_update = h3q_conn_send_priority_update(r->conn, 0, &p);
    r->rc_headers = h3q_conn_send_headers(r->conn, 8, get_root, N(get_root), true);
}

static void priority_calls_from_a_transport_function_are_refused(void) {
    for (int from_priority = 0; from_priority < 2; from_priority++) {
        fake_transport fake;
        h3q_conn *client = new_conn(&fake, true);
        prio_reenter r;
        memset(&r, 0, sizeof r);
        r.conn = client;
        if (from_priority) {
            fake.hooks.on_priority = prio_reenter_hook;
        } else {
            fake.hooks.on_send = prio_reenter_hook;
        }
        fake.hooks.hook_user_data = &r;
        /* a request with a priority field: its HEADERS are sent, and the transport told */
        CHECK_INT(h3q_conn_send_headers(client, 0, get_u5, N(get_u5), false), H3Q_OK);
        CHECK_INT(r.calls, 1);
        if (r.calls > 0) {
            CHECK_INT(r.rc_get, H3Q_ERR_INVALID_ARGUMENT);
            CHECK_INT(r.rc_set, H3Q_ERR_INVALID_ARGUMENT);
            CHECK_INT(r.rc_update, H3Q_ERR_INVALID_ARGUMENT);
            CHECK_INT(r.rc_headers, H3Q_ERR_INVALID_ARGUMENT);
        } else {
            fprintf(stderr, "  ^ the hook in %s never ran\n",
                    from_priority ? "set_stream_priority" : "send_stream_data");
        }
        fake.hooks.on_send = NULL;
        fake.hooks.on_priority = NULL;
        check_priority(client, 0, 5, false);
        CHECK_INT(fake.close_count, 0);
        done(client, &fake);
    }
}

int main(void) {
    RUN(settings_default_and_null);
    RUN(conn_new_rejects_nulls_and_incomplete_tables);
    RUN(every_call_rejects_a_null_handle);
    RUN(null_out_pointers_and_data);
    RUN(handle_event_rejects_bad_events);
    RUN(sends_on_wrong_stream_kinds);
    RUN(send_state_errors);
    RUN(zerocopy_over_a_c_transport);
    RUN(sends_after_a_protocol_close);
    RUN(transport_failures);
    RUN(transport_calling_back_is_refused);
    RUN(close_calling_back_is_refused);
    RUN(handle_event_from_the_event_callback);
    RUN(settings_bools_any_nonzero_byte);
    RUN(free_from_the_event_callback);
    RUN(aborts_refuse_bad_streams_and_codes);
    RUN(cancel_push_refuses_unknown_push_ids);
    RUN(send_origin_refuses_bad_origins);
    RUN(lifecycle_calls_and_transport_failures);
    RUN(lifecycle_calls_after_a_protocol_close);
    RUN(priority_calls_refuse_nulls);
    RUN(priority_urgency_above_7_is_refused);
    RUN(priority_bool_any_nonzero_byte);
    RUN(priority_calls_on_wrong_streams);
    RUN(priority_calls_after_a_protocol_close);
    RUN(a_transport_without_set_stream_priority);
    RUN(a_failing_set_stream_priority_changes_nothing);
    RUN(priority_calls_from_a_transport_function_are_refused);
    return CHECK_DONE("test_conn_misuse");
}
