/*
 * h3q's HTTP/3 layer over ngtcp2: the h3q_transport table (what h3q asks of QUIC) and
 * ngtcp2's stream callbacks given to h3q as h3q_quic_events.
 *
 * Sending. h3q hands over bytes once and expects the transport to keep them until flow
 * control lets them go ("must accept every byte"). ngtcp2, for its part, does not copy:
 * it reads stream bytes from the application's memory when it builds a packet, and reads
 * them again to retransmit, until the peer acknowledges them. So every stream we open has
 * a send_stream: a list of chunks that h3q's bytes are copied into and that never move;
 * quic_flush() hands ngtcp2 the bytes not written yet (transport_pending), and the
 * acknowledgement callback frees the chunks the peer has all of. When flow control holds
 * a stream back, ngtcp2 says so (NGTCP2_ERR_STREAM_DATA_BLOCKED) and the bytes wait here.
 * A send_stream lives from h3q's first byte on it (which opens the ngtcp2 stream) until
 * ngtcp2 closes the stream, or until the connection is freed (transport_free_streams,
 * after ngtcp2_conn_del: ngtcp2 no longer reads any of it then).
 *
 * Receiving. ngtcp2 delivers stream bytes in order (on_recv_stream_data); they go to h3q
 * at once, within the callback, and h3q hands DATA payloads to the program as they come,
 * so the receive windows are given back right away. The HTTP events h3q produces go to
 * requests.c. h3q may call back into the transport while it handles them (a reset, a
 * STOP_SENDING): the ngtcp2 calls those make are allowed inside ngtcp2's callbacks; its
 * close is not (it writes a packet), so the close is only recorded for the loop.
 *
 * What ngtcp2 0.12 does not report: a peer's STOP_SENDING (ngtcp2 answers it with
 * RESET_STREAM itself; the stream then cannot be written, which quic_flush notices), so
 * h3q never gets H3Q_QUIC_STOP_SENDING_RECEIVED here; and stream priorities, which it has
 * no scheduler for (set_stream_priority is left NULL: a GET has no body to schedule).
 */
#define _GNU_SOURCE /* getaddrinfo, ppoll (ex_clock.h) in C11 */
#include "ngclient.h"

#include "ex_log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN (16 * 1024) /* small writes (frame headers, QPACK) share a chunk */

/* ---- send buffers ---------------------------------------------------------------------- */

static send_stream *find_stream(client *cl, int64_t id) {
    for (send_stream *s = cl->streams; s; s = s->next)
        if (s->id == id) return s;
    return NULL;
}

static void free_stream(send_stream *s) {
    for (send_chunk *c = s->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(s);
}

/* Copies `len` bytes behind the queued ones. Bytes already in a chunk stay where they
 * are; the tail chunk only grows into its spare room. */
static bool append(send_stream *s, const uint8_t *data, size_t len) {
    send_chunk *t = s->tail;
    if (!t || t->cap - t->len < len) {
        size_t cap = len > CHUNK_MIN ? len : CHUNK_MIN;
        t = malloc(sizeof *t + cap);
        if (!t) return false;
        t->next = NULL;
        t->len = 0;
        t->cap = cap;
        if (s->tail) s->tail->next = t;
        else {
            s->head = t;
            s->head_offset = s->queued;
        }
        s->tail = t;
    }
    memcpy(t->data + t->len, data, len);
    t->len += len;
    s->queued += len;
    return true;
}

size_t transport_pending(send_stream *s, ngtcp2_vec *v, size_t *nv, size_t max, bool *fin) {
    size_t n = 0, total = 0;
    uint64_t off = s->head_offset;
    const send_chunk *c = s->head;
    for (; c && n < max; off += c->len, c = c->next) {
        if (s->written >= off + c->len) continue;
        size_t start = (size_t)(s->written > off ? s->written - off : 0);
        v[n].base = (uint8_t *)c->data + start;
        v[n].len = c->len - start;
        total += v[n].len;
        n++;
    }
    *nv = n;
    *fin = s->fin_queued && !s->fin_written && !c; /* every queued byte is in `v` */
    return total;
}

void transport_wrote(send_stream *s, size_t n, bool fin_sent) {
    s->written += n;
    if (fin_sent) s->fin_written = true;
}

uint64_t transport_unsent(client *cl, int64_t stream_id) {
    send_stream *s = find_stream(cl, stream_id);
    return s && !s->shut ? s->queued - s->written : UINT64_MAX;
}

uint64_t transport_unsent_total(client *cl) {
    uint64_t total = 0;
    for (send_stream *s = cl->streams; s; s = s->next)
        if (!s->shut) total += s->queued - s->written;
    return total;
}

void transport_free_streams(client *cl) {
    for (send_stream *s = cl->streams, *next; s; s = next) {
        next = s->next;
        free_stream(s);
    }
    cl->streams = NULL;
}

/* Opens stream `id` in ngtcp2 with a send buffer; it must be the next id of its kind (what
 * get_next_available_stream_id gave). NULL after saying why. */
static send_stream *open_stream(client *cl, int64_t id) {
    bool uni = (id & 2) != 0;
    int64_t *next = uni ? &cl->next_uni : &cl->next_bidi;
    if ((id & 1) != 0 || id != *next) {
        ex_warn("transport: stream %" PRId64 " is not the next stream we may open", id);
        return NULL;
    }
    send_stream *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->id = id;
    int64_t opened = -1;
    int rv = uni ? ngtcp2_conn_open_uni_stream(cl->quic.conn, &opened, s)
                 : ngtcp2_conn_open_bidi_stream(cl->quic.conn, &opened, s);
    if (rv != 0) {
        ex_warn("transport: opening stream %" PRId64 ": %s", id, ngtcp2_strerror(rv));
        free(s);
        return NULL;
    }
    /* In the order opened, which is the order quic_flush() writes them in: h3q's control
     * and QPACK streams (opened first, by h3q_conn_new) before every request, so that a
     * field section never waits behind request bodies for the encoder-stream bytes it
     * refers to; then the requests one after another, in stream order. */
    send_stream **end = &cl->streams;
    while (*end) end = &(*end)->next;
    *end = s;
    *next += 4;
    if (opened != id) { /* ids are handed out in order: a mismatch is a bug here */
        ex_warn("transport: ngtcp2 opened stream %" PRId64 ", not %" PRId64, opened, id);
        s->id = opened;
        s->shut = true;
        return NULL;
    }
    return s;
}

/* ---- the h3q_transport table -------------------------------------------------------------- */

static int tr_send_stream_data(void *user_data, uint64_t stream_id, const uint8_t *data,
                               size_t len, bool end_stream) {
    client *cl = user_data;
    if (cl->quic.closed) return -1;
    int64_t id = (int64_t)stream_id;
    send_stream *s = find_stream(cl, id);
    if (!s && !(s = open_stream(cl, id))) return -1;
    if (s->fin_queued || s->shut) return -1;
    if (len && !append(s, data, len)) {
        ex_warn("transport: out of memory queueing %zu bytes", len);
        return -1;
    }
    if (end_stream) s->fin_queued = true;
    return 0;
}

static int tr_next_stream_id(void *user_data, bool unidirectional, uint64_t *stream_id_out) {
    client *cl = user_data;
    *stream_id_out = (uint64_t)(unidirectional ? cl->next_uni : cl->next_bidi);
    return 0;
}

static int tr_reset_stream(void *user_data, uint64_t stream_id, uint64_t error_code) {
    client *cl = user_data;
    send_stream *s = find_stream(cl, (int64_t)stream_id);
    if (s) s->shut = true; /* its bytes stay until ngtcp2 closes the stream */
    return ngtcp2_conn_shutdown_stream_write(cl->quic.conn, (int64_t)stream_id, error_code) == 0
               ? 0
               : -1;
}

static int tr_stop_stream(void *user_data, uint64_t stream_id, uint64_t error_code) {
    client *cl = user_data;
    return ngtcp2_conn_shutdown_stream_read(cl->quic.conn, (int64_t)stream_id, error_code) == 0
               ? 0
               : -1;
}

/* Called by h3q on a protocol error of the server's (or its own failure): the loop sends
 * the CONNECTION_CLOSE (quic_close), as this may run inside an ngtcp2 callback. */
static void tr_close(void *user_data, uint64_t error_code, const uint8_t *reason,
                     size_t reason_len) {
    client *cl = user_data;
    if (cl->quic.close_requested || cl->quic.closed) return;
    cl->quic.close_requested = true;
    cl->quic.close_code = error_code;
    snprintf(cl->quic.close_reason, sizeof cl->quic.close_reason, "%.*s", (int)reason_len,
             reason ? (const char *)reason : "");
}

bool transport_open_h3(client *cl) {
    h3q_transport t = {
        .user_data = cl,
        .is_client = true,
        .remote_max_datagram_frame_size = 0, /* we offer no DATAGRAM frames */
        .send_stream_data = tr_send_stream_data,
        .get_next_available_stream_id = tr_next_stream_id,
        .reset_stream = tr_reset_stream,
        .stop_stream = tr_stop_stream,
        .send_datagram_frame = NULL,
        .close = tr_close,
        .set_stream_priority = NULL,
    };
    cl->next_bidi = 0;
    cl->next_uni = 2;
    h3q_result rc = h3q_conn_new(&t, NULL, &cl->h3);
    if (rc != H3Q_OK) {
        cl->h3 = NULL;
        snprintf(cl->quic.callback_error, sizeof cl->quic.callback_error,
                 "starting HTTP/3 failed: %s (%s)", h3q_result_str(rc),
                 h3q_last_error() ? h3q_last_error() : "no detail");
        ex_warn("%s", cl->quic.callback_error);
        return false;
    }
    return true;
}

/* ---- ngtcp2's stream callbacks into h3q ------------------------------------------------------ */

void transport_feed(client *cl, const h3q_quic_event *ev) {
    if (!cl->h3) return;
    h3q_result rc = h3q_conn_handle_event(cl->h3, ev, on_http_event, cl);
    if (rc == H3Q_ERR_PROTOCOL || rc == H3Q_ERR_INTERNAL) /* h3q closed the connection */
        ex_warn("HTTP/3 error: %s", h3q_conn_last_error(cl->h3));
    else if (rc != H3Q_OK)
        ex_warn("h3q_conn_handle_event: %s", h3q_result_str(rc));
}

int on_recv_stream_data(ngtcp2_conn *conn, uint32_t flags, int64_t stream_id, uint64_t offset,
                        const uint8_t *data, size_t datalen, void *user_data,
                        void *stream_user_data) {
    (void)offset;
    (void)stream_user_data;
    client *cl = user_data;
    if (!cl->h3) { /* cannot happen: h3q starts with the 1-RTT keys (quic.c, on_key) */
        snprintf(cl->quic.callback_error, sizeof cl->quic.callback_error,
                 "stream data before HTTP/3 started");
        return NGTCP2_ERR_CALLBACK_FAILURE;
    }
    h3q_quic_event ev = {.type = H3Q_QUIC_STREAM_DATA_RECEIVED,
                         .stream_id = (uint64_t)stream_id,
                         .data = data,
                         .data_len = datalen,
                         .end_stream = (flags & NGTCP2_STREAM_DATA_FLAG_FIN) != 0};
    transport_feed(cl, &ev);
    /* h3q has taken the bytes: the server may send as many more. */
    ngtcp2_conn_extend_max_stream_offset(conn, stream_id, datalen);
    ngtcp2_conn_extend_max_offset(conn, datalen);
    return 0;
}

int on_stream_reset(ngtcp2_conn *conn, int64_t stream_id, uint64_t final_size,
                    uint64_t app_error_code, void *user_data, void *stream_user_data) {
    (void)conn;
    (void)final_size;
    (void)stream_user_data;
    h3q_quic_event ev = {.type = H3Q_QUIC_STREAM_RESET,
                         .stream_id = (uint64_t)stream_id,
                         .error_code = app_error_code};
    transport_feed(user_data, &ev);
    return 0;
}

int on_acked_stream_data_offset(ngtcp2_conn *conn, int64_t stream_id, uint64_t offset,
                                uint64_t datalen, void *user_data, void *stream_user_data) {
    (void)conn;
    (void)stream_id;
    (void)user_data;
    send_stream *s = stream_user_data;
    if (!s) return 0;
    /* The peer has every byte below `acked`: a chunk wholly below it is ngtcp2's no more. */
    uint64_t acked = offset + datalen;
    while (s->head && s->head_offset + s->head->len <= acked) {
        send_chunk *done = s->head;
        s->head_offset += done->len;
        s->head = done->next;
        if (!s->head) s->tail = NULL;
        free(done);
    }
    return 0;
}

int on_extend_max_stream_data(ngtcp2_conn *conn, int64_t stream_id, uint64_t max_data,
                              void *user_data, void *stream_user_data) {
    (void)conn;
    (void)stream_id;
    (void)max_data;
    (void)user_data;
    send_stream *s = stream_user_data;
    if (s) s->blocked = false;
    return 0;
}

int on_stream_close(ngtcp2_conn *conn, uint32_t flags, int64_t stream_id,
                    uint64_t app_error_code, void *user_data, void *stream_user_data) {
    (void)conn;
    (void)flags;
    (void)stream_id;
    (void)app_error_code;
    client *cl = user_data;
    send_stream *s = stream_user_data;
    if (!s) return 0; /* a stream the server opened: nothing of ours to free */
    for (send_stream **p = &cl->streams; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    free_stream(s);
    return 0;
}
