/* fake_transport.c: see fake_transport.h. */
#include "fake_transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *xrealloc(void *ptr, size_t size) {
    void *p = realloc(ptr, size == 0 ? 1 : size);
    if (p == NULL) {
        fprintf(stderr, "fake_transport: out of memory\n");
        abort();
    }
    return p;
}

/* A NUL-terminated copy of `len` bytes (a valid pointer even for len 0). */
static uint8_t *copy_bytes(const uint8_t *data, size_t len) {
    uint8_t *p = xrealloc(NULL, len + 1);
    if (len > 0) {
        memcpy(p, data, len);
    }
    p[len] = 0;
    return p;
}

/* ---- byte buffers ------------------------------------------------------------------- */

void fake_buf_put(fake_buf *b, const void *data, size_t len) {
    if (len == 0) {
        return;
    }
    if (b->len + len > b->cap) {
        size_t cap = b->cap == 0 ? 64 : b->cap;
        while (cap < b->len + len) {
            cap *= 2;
        }
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

void fake_buf_byte(fake_buf *b, uint8_t byte) {
    fake_buf_put(b, &byte, 1);
}

void fake_buf_varint(fake_buf *b, uint64_t value) {
    uint8_t bytes[8];
    size_t n;
    if (value < 0x40) {
        n = 1;
    } else if (value < 0x4000) {
        n = 2;
    } else if (value < 0x40000000) {
        n = 4;
    } else {
        n = 8;
    }
    for (size_t i = 0; i < n; i++) {
        bytes[n - 1 - i] = (uint8_t)(value >> (8 * i));
    }
    bytes[0] |= (uint8_t)((n == 1 ? 0 : n == 2 ? 1 : n == 4 ? 2 : 3) << 6);
    fake_buf_put(b, bytes, n);
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

bool fake_buf_hex(fake_buf *b, const char *hex) {
    int high = -1;
    for (const char *p = hex; *p != '\0'; p++) {
        if (*p == ' ' || *p == '\n') {
            if (high >= 0) {
                return false; /* half a byte */
            }
            continue;
        }
        int d = hex_digit(*p);
        if (d < 0) {
            return false;
        }
        if (high < 0) {
            high = d;
        } else {
            fake_buf_byte(b, (uint8_t)(high << 4 | d));
            high = -1;
        }
    }
    return high < 0;
}

void fake_buf_free(fake_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* Reads a varint of data[0..len] at *pos. */
static bool varint_at(const uint8_t *data, size_t len, size_t *pos, uint64_t *out) {
    if (*pos >= len) {
        return false;
    }
    size_t n = (size_t)1 << (data[*pos] >> 6);
    if (n > len - *pos) {
        return false;
    }
    uint64_t v = data[*pos] & 0x3f;
    for (size_t i = 1; i < n; i++) {
        v = v << 8 | data[*pos + i];
    }
    *pos += n;
    *out = v;
    return true;
}

bool fake_read_varint(const fake_buf *b, size_t *pos, uint64_t *out) {
    return varint_at(b->data, b->len, pos, out);
}

bool fake_frame_varint(const fake_frame *frame, uint64_t *out) {
    size_t pos = 0;
    return varint_at(frame->payload, frame->len, &pos, out) && pos == frame->len;
}

bool fake_is_reserved(uint64_t value) {
    return value >= 0x21 && (value - 0x21) % 0x1f == 0;
}

size_t fake_settings(const fake_frame *frame, uint64_t *ids, uint64_t *values, size_t max) {
    size_t pos = 0;
    size_t count = 0;
    while (pos < frame->len) {
        uint64_t id = 0;
        uint64_t value = 0;
        if (!varint_at(frame->payload, frame->len, &pos, &id) ||
            !varint_at(frame->payload, frame->len, &pos, &value)) {
            return (size_t)-1;
        }
        if (count < max) {
            ids[count] = id;
            values[count] = value;
        }
        count++;
    }
    return count;
}

size_t fake_frames(const fake_buf *stream, uint64_t *stream_type, fake_frame *out, size_t max) {
    size_t pos = 0;
    if (!fake_read_varint(stream, &pos, stream_type)) {
        return (size_t)-1;
    }
    size_t count = 0;
    while (pos < stream->len) {
        uint64_t type = 0;
        uint64_t len = 0;
        if (!fake_read_varint(stream, &pos, &type) || !fake_read_varint(stream, &pos, &len) ||
            len > stream->len - pos) {
            return (size_t)-1;
        }
        if (count < max) {
            out[count].type = type;
            out[count].payload = stream->data + pos;
            out[count].len = (size_t)len;
        }
        count++;
        pos += (size_t)len;
    }
    return count;
}

/* ---- the transport ------------------------------------------------------------------ */

static fake_op *push_op(fake_transport *fake, fake_op_kind kind) {
    if (fake->ops_len == fake->ops_cap) {
        fake->ops_cap = fake->ops_cap == 0 ? 16 : fake->ops_cap * 2;
        fake->ops = xrealloc(fake->ops, fake->ops_cap * sizeof *fake->ops);
    }
    fake_op *op = &fake->ops[fake->ops_len++];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    return op;
}

static bool is_local(const fake_transport *fake, uint64_t stream_id) {
    return ((stream_id & 1) == 0) == fake->is_client;
}

static int t_send_stream_data(void *ud, uint64_t stream_id, const uint8_t *data, size_t len,
                              bool end_stream) {
    fake_transport *fake = ud;
    fake->calls++;
    if (fake->hooks.on_send != NULL) {
        fake->hooks.on_send(fake->hooks.hook_user_data, stream_id);
    }
    if (fake->hooks.fail_send != 0) {
        return fake->hooks.fail_send;
    }
    if (len > 0 && data == NULL) {
        return -100; /* h3q broke its own contract: make the test notice */
    }
    /* An id is consumed when first sent on, as in QUIC. */
    if (is_local(fake, stream_id)) {
        if (stream_id & 2) {
            if (stream_id >= fake->next_uni) {
                fake->next_uni = stream_id + 4;
            }
        } else if (stream_id >= fake->next_bidi) {
            fake->next_bidi = stream_id + 4;
        }
    }
    fake_op *op = push_op(fake, FAKE_OP_STREAM_DATA);
    op->stream_id = stream_id;
    op->data = copy_bytes(data, len);
    op->len = len;
    op->fin = end_stream;
    return 0;
}

static int t_get_next_available_stream_id(void *ud, bool unidirectional, uint64_t *out) {
    fake_transport *fake = ud;
    fake->calls++;
    if (fake->hooks.fail_next_id != 0) {
        return fake->hooks.fail_next_id;
    }
    *out = unidirectional ? fake->next_uni : fake->next_bidi;
    return 0;
}

static int t_reset_stream(void *ud, uint64_t stream_id, uint64_t error_code) {
    fake_transport *fake = ud;
    fake->calls++;
    fake_op *op = push_op(fake, FAKE_OP_RESET);
    op->stream_id = stream_id;
    op->error_code = error_code;
    return 0;
}

static int t_stop_stream(void *ud, uint64_t stream_id, uint64_t error_code) {
    fake_transport *fake = ud;
    fake->calls++;
    fake_op *op = push_op(fake, FAKE_OP_STOP_SENDING);
    op->stream_id = stream_id;
    op->error_code = error_code;
    return 0;
}

static int t_send_datagram_frame(void *ud, const uint8_t *data, size_t len) {
    fake_transport *fake = ud;
    fake->calls++;
    if (fake->hooks.fail_datagram != 0) {
        return fake->hooks.fail_datagram;
    }
    if (len > 0 && data == NULL) {
        return -100;
    }
    fake_op *op = push_op(fake, FAKE_OP_DATAGRAM);
    op->data = copy_bytes(data, len);
    op->len = len;
    return 0;
}

static void t_close(void *ud, uint64_t error_code, const uint8_t *reason, size_t reason_len) {
    fake_transport *fake = ud;
    fake->calls++;
    if (fake->hooks.on_close != NULL) {
        fake->hooks.on_close(fake->hooks.hook_user_data, error_code);
    }
    if (fake->close_count++ == 0) {
        fake->close_code = error_code;
        fake->close_reason = (char *)copy_bytes(reason, reason_len);
        fake->close_reason_len = reason_len;
    }
}

static int t_set_stream_priority(void *ud, uint64_t stream_id, uint8_t urgency,
                                 bool incremental) {
    fake_transport *fake = ud;
    fake->calls++;
    if (fake->hooks.on_priority != NULL) {
        fake->hooks.on_priority(fake->hooks.hook_user_data, stream_id);
    }
    if (fake->priorities_len == fake->priorities_cap) {
        fake->priorities_cap = fake->priorities_cap == 0 ? 16 : fake->priorities_cap * 2;
        fake->priorities =
            xrealloc(fake->priorities, fake->priorities_cap * sizeof *fake->priorities);
    }
    fake_priority *p = &fake->priorities[fake->priorities_len++];
    p->stream_id = stream_id;
    p->urgency = urgency;
    p->incremental = incremental;
    return fake->hooks.fail_priority;
}

void fake_init(fake_transport *fake, bool is_client) {
    memset(fake, 0, sizeof *fake);
    fake->is_client = is_client;
    fake->next_bidi = is_client ? 0 : 1;
    fake->next_uni = is_client ? 2 : 3;
}

h3q_transport fake_table(fake_transport *fake) {
    h3q_transport t;
    memset(&t, 0, sizeof t);
    t.user_data = fake;
    t.is_client = fake->is_client;
    t.remote_max_datagram_frame_size = fake->remote_max_datagram_frame_size;
    t.send_stream_data = t_send_stream_data;
    t.get_next_available_stream_id = t_get_next_available_stream_id;
    t.reset_stream = t_reset_stream;
    t.stop_stream = t_stop_stream;
    t.send_datagram_frame = t_send_datagram_frame;
    t.close = t_close;
    t.set_stream_priority = t_set_stream_priority;
    return t;
}

void fake_free(fake_transport *fake) {
    for (size_t i = 0; i < fake->ops_len; i++) {
        free(fake->ops[i].data);
    }
    free(fake->ops);
    free(fake->close_reason);
    free(fake->priorities);
    fake->ops = NULL;
    fake->close_reason = NULL;
    fake->priorities = NULL;
    fake->ops_len = fake->ops_cap = fake->transferred = 0;
    fake->priorities_len = fake->priorities_cap = 0;
}

bool fake_stream_bytes(const fake_transport *fake, uint64_t stream_id, fake_buf *out) {
    bool fin = false;
    for (size_t i = 0; i < fake->ops_len; i++) {
        const fake_op *op = &fake->ops[i];
        if (op->kind == FAKE_OP_STREAM_DATA && op->stream_id == stream_id) {
            fake_buf_put(out, op->data, op->len);
            fin |= op->fin;
        }
    }
    return fin;
}

size_t fake_count(const fake_transport *fake, fake_op_kind kind) {
    size_t n = 0;
    for (size_t i = 0; i < fake->ops_len; i++) {
        n += fake->ops[i].kind == kind;
    }
    return n;
}

const fake_op *fake_nth(const fake_transport *fake, fake_op_kind kind, size_t n) {
    for (size_t i = 0; i < fake->ops_len; i++) {
        if (fake->ops[i].kind == kind && n-- == 0) {
            return &fake->ops[i];
        }
    }
    return NULL;
}

size_t fake_priority_count(const fake_transport *fake, uint64_t stream_id) {
    size_t n = 0;
    for (size_t i = 0; i < fake->priorities_len; i++) {
        n += fake->priorities[i].stream_id == stream_id;
    }
    return n;
}

const fake_priority *fake_last_priority(const fake_transport *fake, uint64_t stream_id) {
    for (size_t i = fake->priorities_len; i > 0; i--) {
        if (fake->priorities[i - 1].stream_id == stream_id) {
            return &fake->priorities[i - 1];
        }
    }
    return NULL;
}

/* ---- transfer ----------------------------------------------------------------------- */

const char *fake_mode_name(fake_mode mode) {
    switch (mode) {
    case FAKE_BYTES:
        return "bytes";
    case FAKE_CHUNKS:
        return "chunks";
    case FAKE_CHUNKS_FIN:
        return "chunks+fin";
    }
    return "?";
}

static void note(fake_transfer_result *r, h3q_result rc) {
    r->events++;
    if (rc != H3Q_OK) {
        r->errors++;
        if (r->first_error == H3Q_OK) {
            r->first_error = rc;
        }
    }
}

h3q_result fake_send_stream(h3q_conn *to, uint64_t stream_id, const uint8_t *data, size_t len,
                            bool fin, h3q_event_cb cb, void *user_data) {
    h3q_quic_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = H3Q_QUIC_STREAM_DATA_RECEIVED;
    ev.stream_id = stream_id;
    ev.data = len > 0 ? data : NULL;
    ev.data_len = len;
    ev.end_stream = fin;
    return h3q_conn_handle_event(to, &ev, cb, user_data);
}

fake_transfer_result fake_deliver(h3q_conn *to, fake_mode mode, uint64_t stream_id,
                                  const uint8_t *data, size_t len, bool fin, h3q_event_cb cb,
                                  void *user_data) {
    fake_transfer_result r = {H3Q_OK, 0, 0};
    if (mode == FAKE_BYTES) {
        for (size_t i = 0; i < len; i++) {
            note(&r, fake_send_stream(to, stream_id, data + i, 1, false, cb, user_data));
        }
    } else if (len > 0 && !(mode == FAKE_CHUNKS_FIN && fin)) {
        note(&r, fake_send_stream(to, stream_id, data, len, false, cb, user_data));
    }
    if (fin) {
        bool whole = mode == FAKE_CHUNKS_FIN;
        note(&r, fake_send_stream(to, stream_id, data, whole ? len : 0, true, cb, user_data));
    }
    return r;
}

/* Adds what one delivery did to the transfer's result. */
static void merge(fake_transfer_result *r, fake_transfer_result part) {
    r->events += part.events;
    r->errors += part.errors;
    if (r->first_error == H3Q_OK) {
        r->first_error = part.first_error;
    }
}

/* Delivers one recorded operation. */
static void deliver_op(fake_transfer_result *r, const fake_op *op, h3q_conn *to,
                       fake_mode mode, h3q_event_cb cb, void *user_data) {
    h3q_quic_event ev;
    memset(&ev, 0, sizeof ev);
    ev.stream_id = op->stream_id;
    switch (op->kind) {
    case FAKE_OP_STREAM_DATA:
        merge(r, fake_deliver(to, mode, op->stream_id, op->data, op->len, op->fin, cb,
                              user_data));
        return;
    case FAKE_OP_RESET:
        ev.type = H3Q_QUIC_STREAM_RESET;
        ev.error_code = op->error_code;
        break;
    case FAKE_OP_STOP_SENDING:
        ev.type = H3Q_QUIC_STOP_SENDING_RECEIVED;
        ev.error_code = op->error_code;
        break;
    case FAKE_OP_DATAGRAM:
        ev.type = H3Q_QUIC_DATAGRAM_RECEIVED;
        ev.data = op->len > 0 ? op->data : NULL;
        ev.data_len = op->len;
        break;
    }
    note(r, h3q_conn_handle_event(to, &ev, cb, user_data));
}

fake_transfer_result fake_transfer(fake_transport *from, h3q_conn *to, fake_mode mode,
                                   h3q_event_cb cb, void *user_data) {
    fake_transfer_result r = {H3Q_OK, 0, 0};
    /* from->ops may grow (and move) while events are handled: index, never hold. The
     * bytes of an op are a separate allocation that stays put. */
    while (from->transferred < from->ops_len) {
        fake_op op = from->ops[from->transferred++];
        if (!op.delivered) {
            deliver_op(&r, &op, to, mode, cb, user_data);
        }
    }
    return r;
}

fake_transfer_result fake_transfer_stream(fake_transport *from, h3q_conn *to, fake_mode mode,
                                          uint64_t stream_id, h3q_event_cb cb,
                                          void *user_data) {
    fake_transfer_result r = {H3Q_OK, 0, 0};
    for (size_t i = from->transferred; i < from->ops_len; i++) {
        if (from->ops[i].delivered || from->ops[i].kind == FAKE_OP_DATAGRAM ||
            from->ops[i].stream_id != stream_id) {
            continue;
        }
        from->ops[i].delivered = true;
        fake_op op = from->ops[i];
        deliver_op(&r, &op, to, mode, cb, user_data);
    }
    return r;
}

/* ---- recorded HTTP events ----------------------------------------------------------- */

void event_log_cb(void *user_data, const h3q_event *event) {
    event_log *log = user_data;
    if (log->len == log->cap) {
        log->cap = log->cap == 0 ? 16 : log->cap * 2;
        log->items = xrealloc(log->items, log->cap * sizeof *log->items);
    }
    rec_event *r = &log->items[log->len++];
    memset(r, 0, sizeof *r);
    r->type = event->type;
    r->stream_id = event->stream_id;
    r->stream_ended = event->stream_ended;
    r->has_push_id = event->has_push_id;
    r->push_id = event->push_id;
    r->session_id = event->session_id;
    r->error_code = event->error_code;
    r->error_space = event->error_space;
    r->closed_by_peer = event->closed_by_peer;
    r->priority = event->priority;
    r->data = copy_bytes(event->data, event->data_len);
    r->data_len = event->data_len;
    r->headers_len = event->headers_len;
    r->headers = xrealloc(NULL, (event->headers_len + 1) * sizeof *r->headers);
    for (size_t i = 0; i < event->headers_len; i++) {
        const h3q_header *h = &event->headers[i];
        r->headers[i].name = copy_bytes(h->name, h->name_len);
        r->headers[i].name_len = h->name_len;
        r->headers[i].value = copy_bytes(h->value, h->value_len);
        r->headers[i].value_len = h->value_len;
    }
}

void event_log_clear(event_log *log) {
    for (size_t i = 0; i < log->len; i++) {
        rec_event *r = &log->items[i];
        for (size_t j = 0; j < r->headers_len; j++) {
            free(r->headers[j].name);
            free(r->headers[j].value);
        }
        free(r->headers);
        free(r->data);
    }
    log->len = 0;
}

void event_log_free(event_log *log) {
    event_log_clear(log);
    free(log->items);
    log->items = NULL;
    log->cap = 0;
}

const char *rec_header_value(const rec_event *event, const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i < event->headers_len; i++) {
        const rec_header *h = &event->headers[i];
        if (h->name_len == n && memcmp(h->name, name, n) == 0) {
            return (const char *)h->value;
        }
    }
    return NULL;
}

bool event_log_data(const event_log *log, uint64_t stream_id, fake_buf *out) {
    bool ended = false;
    for (size_t i = 0; i < log->len; i++) {
        const rec_event *r = &log->items[i];
        if (r->type == H3Q_EVENT_DATA_RECEIVED && r->stream_id == stream_id) {
            fake_buf_put(out, r->data, r->data_len);
            ended |= r->stream_ended;
        }
    }
    return ended;
}

/* ---- field sections ----------------------------------------------------------------- */

/* A QPACK prefixed integer: `first` holds the bits above the prefix. */
static void qpack_int(fake_buf *b, uint8_t first, unsigned prefix_bits, uint64_t value) {
    uint64_t max = (1u << prefix_bits) - 1;
    if (value < max) {
        fake_buf_byte(b, (uint8_t)(first | value));
        return;
    }
    fake_buf_byte(b, (uint8_t)(first | max));
    value -= max;
    while (value >= 0x80) {
        fake_buf_byte(b, (uint8_t)(0x80 | (value & 0x7f)));
        value >>= 7;
    }
    fake_buf_byte(b, (uint8_t)value);
}

/* Decodes "%XX" escapes of text[0..len] into `out`. */
static bool unescape(fake_buf *out, const char *text, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '%') {
            if (i + 2 >= len) {
                return false;
            }
            int hi = hex_digit(text[i + 1]);
            int lo = hex_digit(text[i + 2]);
            if (hi < 0 || lo < 0) {
                return false;
            }
            fake_buf_byte(out, (uint8_t)(hi << 4 | lo));
            i += 2;
        } else {
            fake_buf_byte(out, (uint8_t)text[i]);
        }
    }
    return true;
}

bool fake_section(fake_buf *out, const char *text) {
    fake_buf_byte(out, 0x00); /* Required Insert Count 0 */
    fake_buf_byte(out, 0x00); /* Base 0 */
    const char *p = text;
    while (*p != '\0') {
        const char *end = strchr(p, '\n');
        size_t line_len = end != NULL ? (size_t)(end - p) : strlen(p);
        const char *eq = line_len > 1 ? memchr(p + 1, '=', line_len - 1) : NULL;
        if (eq == NULL) {
            return false;
        }
        fake_buf name = {0};
        fake_buf value = {0};
        bool ok = unescape(&name, p, (size_t)(eq - p)) &&
                  unescape(&value, eq + 1, line_len - (size_t)(eq - p) - 1);
        if (ok) {
            /* Literal Field Line with Literal Name: 001 N H NameLen(3+) */
            qpack_int(out, 0x20, 3, name.len);
            fake_buf_put(out, name.data, name.len);
            qpack_int(out, 0x00, 7, value.len);
            fake_buf_put(out, value.data, value.len);
        }
        fake_buf_free(&name);
        fake_buf_free(&value);
        if (!ok) {
            return false;
        }
        p += line_len;
        if (*p == '\n') {
            p++;
        }
    }
    return true;
}

bool fake_headers_frame(fake_buf *out, const char *text) {
    fake_buf section = {0};
    bool ok = fake_section(&section, text);
    if (ok) {
        fake_buf_varint(out, 0x1);
        fake_buf_varint(out, section.len);
        fake_buf_put(out, section.data, section.len);
    }
    fake_buf_free(&section);
    return ok;
}

bool fake_push_promise_frame(fake_buf *out, uint64_t push_id, const char *text) {
    fake_buf payload = {0};
    fake_buf_varint(&payload, push_id);
    bool ok = fake_section(&payload, text);
    if (ok) {
        fake_buf_varint(out, 0x5);
        fake_buf_varint(out, payload.len);
        fake_buf_put(out, payload.data, payload.len);
    }
    fake_buf_free(&payload);
    return ok;
}
