/*
 * fake_transport.h: a fake QUIC connection for the h3q_conn C tests, like aioquic's
 * FakeQuicConnection. It implements h3q_transport by recording every operation the HTTP/3
 * layer asks for (stream data, resets, STOP_SENDING, datagrams, close) in one ordered log;
 * fake_transfer() replays what one fake recorded into the h3q_conn of the other side. The
 * set_stream_priority calls (RFC 9218 scheduling, nothing on the wire) are recorded apart,
 * in their own ordered list.
 *
 * Also: an event recorder (an h3q_event_cb that deep-copies events) and a few byte helpers
 * (hex strings, varints, the frames of a unidirectional stream, QPACK literal field
 * sections) shared by the tests.
 */
#ifndef H3Q_FAKE_TRANSPORT_H
#define H3Q_FAKE_TRANSPORT_H

#include "h3q.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- byte buffers ------------------------------------------------------------------- */

typedef struct fake_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} fake_buf;

void fake_buf_put(fake_buf *b, const void *data, size_t len);
void fake_buf_byte(fake_buf *b, uint8_t byte);
/* An RFC 9000 variable-length integer. */
void fake_buf_varint(fake_buf *b, uint64_t value);
/* Appends bytes written as hex ("00 04 00", spaces optional). Returns false on bad hex. */
bool fake_buf_hex(fake_buf *b, const char *hex);
void fake_buf_free(fake_buf *b);
/* Reads a QUIC varint of `b` at *pos and moves *pos past it; false (nothing moved) when
 * it is cut. */
bool fake_read_varint(const fake_buf *b, size_t *pos, uint64_t *out);

/* One frame of a stream: its type and payload (pointing into the stream's bytes). */
typedef struct fake_frame {
    uint64_t type;
    const uint8_t *payload;
    size_t len;
} fake_frame;

/* Splits the bytes of a unidirectional stream (its type, then frames) into its frames:
 * writes the stream type to *stream_type and up to `max` frames to `out`. Returns how many
 * frames the stream holds (more than `max` are counted, not written), or (size_t)-1 when
 * the bytes end inside a frame. */
size_t fake_frames(const fake_buf *stream, uint64_t *stream_type, fake_frame *out, size_t max);
/* The one varint a frame's payload holds (GOAWAY, CANCEL_PUSH, MAX_PUSH_ID); false when
 * the payload is anything else. */
bool fake_frame_varint(const fake_frame *frame, uint64_t *out);
/* Reads the (id, value) pairs of a SETTINGS frame, up to `max` of them; returns how many
 * it holds, or (size_t)-1 when the payload is cut. */
size_t fake_settings(const fake_frame *frame, uint64_t *ids, uint64_t *values, size_t max);
/* True for a reserved ("GREASE") frame type, setting id or stream type: 0x1f * N + 0x21. */
bool fake_is_reserved(uint64_t value);

/* ---- the recorded log --------------------------------------------------------------- */

typedef enum fake_op_kind {
    FAKE_OP_STREAM_DATA,
    FAKE_OP_RESET,
    FAKE_OP_STOP_SENDING,
    FAKE_OP_DATAGRAM,
} fake_op_kind;

typedef struct fake_op {
    fake_op_kind kind;
    uint64_t stream_id;  /* stream operations */
    uint8_t *data;       /* stream bytes or datagram payload (owned; NULL when len 0) */
    size_t len;
    bool fin;            /* stream data: FIN after the bytes */
    uint64_t error_code; /* reset / stop sending */
    bool delivered;      /* delivered ahead of its turn by fake_transfer_stream */
} fake_op;

/* What the fake does on each transport call before recording it. Used by tests of
 * transport failures and of re-entrancy. */
typedef struct fake_hooks {
    /* If non-zero, send_stream_data returns this instead of recording. */
    int fail_send;
    /* If non-zero, get_next_available_stream_id returns this. */
    int fail_next_id;
    /* If non-zero, send_datagram_frame returns this. */
    int fail_datagram;
    /* Called at the start of every send_stream_data (e.g. to call back into h3q). */
    void (*on_send)(void *hook_user_data, uint64_t stream_id);
    /* Called at the start of every close. */
    void (*on_close)(void *hook_user_data, uint64_t error_code);
    void *hook_user_data;
    /* If non-zero, set_stream_priority returns this (the call is recorded all the same). */
    int fail_priority;
    /* Called at the start of every set_stream_priority. */
    void (*on_priority)(void *hook_user_data, uint64_t stream_id);
} fake_hooks;

/* One set_stream_priority call: the stream and the priority h3q told the transport. */
typedef struct fake_priority {
    uint64_t stream_id;
    uint8_t urgency;
    bool incremental;
} fake_priority;

typedef struct fake_transport {
    bool is_client;
    uint64_t remote_max_datagram_frame_size;
    uint64_t next_bidi; /* next id we may open */
    uint64_t next_uni;

    fake_op *ops; /* everything recorded, in order */
    size_t ops_len;
    size_t ops_cap;
    size_t transferred; /* ops[0..transferred] were already delivered by fake_transfer */

    unsigned close_count; /* how many times close() was called */
    uint64_t close_code;  /* of the first close */
    char *close_reason;   /* of the first close, NUL-terminated (owned) */
    size_t close_reason_len;

    unsigned calls; /* transport calls of any kind */
    fake_hooks hooks;

    fake_priority *priorities; /* every set_stream_priority call, in order */
    size_t priorities_len;
    size_t priorities_cap;
} fake_transport;

/* Starts a fake for a client or a server. remote_max_datagram_frame_size is 0. */
void fake_init(fake_transport *fake, bool is_client);
/* The h3q_transport table for `fake` (user_data = fake, every function set, the optional
 * send_datagram_frame and set_stream_priority too). */
h3q_transport fake_table(fake_transport *fake);
/* Frees everything the fake recorded. */
void fake_free(fake_transport *fake);

/* Every stream byte recorded for `stream_id` so far, concatenated into `out` (which the
 * caller frees); returns whether a FIN was recorded for it. */
bool fake_stream_bytes(const fake_transport *fake, uint64_t stream_id, fake_buf *out);
/* How many operations of `kind` were recorded. */
size_t fake_count(const fake_transport *fake, fake_op_kind kind);
/* The n-th recorded operation of `kind`, or NULL. */
const fake_op *fake_nth(const fake_transport *fake, fake_op_kind kind, size_t n);
/* How many set_stream_priority calls named `stream_id`. */
size_t fake_priority_count(const fake_transport *fake, uint64_t stream_id);
/* The last set_stream_priority call that named `stream_id`, or NULL. */
const fake_priority *fake_last_priority(const fake_transport *fake, uint64_t stream_id);

/* ---- transfer ----------------------------------------------------------------------- */

typedef enum fake_mode {
    /* Every stream byte in its own STREAM_DATA event; FIN as a separate empty event. */
    FAKE_BYTES = 0,
    /* Each recorded chunk in one event; FIN as a separate empty event. */
    FAKE_CHUNKS = 1,
    /* Each recorded chunk in one event carrying its FIN. */
    FAKE_CHUNKS_FIN = 2,
} fake_mode;

#define FAKE_MODE_COUNT 3
const char *fake_mode_name(fake_mode mode);

typedef struct fake_transfer_result {
    h3q_result first_error; /* H3Q_OK, or the first non-OK result of handle_event */
    size_t events;          /* how many QUIC events were delivered */
    size_t errors;          /* how many handle_event calls did not return H3Q_OK */
} fake_transfer_result;

/* Delivers everything `from` recorded since the last transfer to `to` through
 * h3q_conn_handle_event: stream data as H3Q_QUIC_STREAM_DATA_RECEIVED (split per `mode`),
 * datagrams as H3Q_QUIC_DATAGRAM_RECEIVED, resets as H3Q_QUIC_STREAM_RESET, stop sending
 * as H3Q_QUIC_STOP_SENDING_RECEIVED. Operations recorded during the transfer (from
 * callbacks) are delivered too; operations fake_transfer_stream delivered are not again. */
fake_transfer_result fake_transfer(fake_transport *from, h3q_conn *to, fake_mode mode,
                                   h3q_event_cb cb, void *user_data);
/* Like fake_transfer, for the operations on `stream_id` only (as a network may deliver
 * one stream ahead of the others); the rest wait for the next fake_transfer. */
fake_transfer_result fake_transfer_stream(fake_transport *from, h3q_conn *to, fake_mode mode,
                                          uint64_t stream_id, h3q_event_cb cb,
                                          void *user_data);
/* Delivers `len` bytes of `stream_id` (then FIN if `fin`), split per `mode`, as
 * fake_transfer delivers one recorded chunk. */
fake_transfer_result fake_deliver(h3q_conn *to, fake_mode mode, uint64_t stream_id,
                                  const uint8_t *data, size_t len, bool fin, h3q_event_cb cb,
                                  void *user_data);

/* One QUIC event helper: stream data on `stream_id`. */
h3q_result fake_send_stream(h3q_conn *to, uint64_t stream_id, const uint8_t *data, size_t len,
                            bool fin, h3q_event_cb cb, void *user_data);

/* ---- recorded HTTP events ----------------------------------------------------------- */

typedef struct rec_header {
    uint8_t *name; /* owned, NUL-terminated after name_len bytes */
    size_t name_len;
    uint8_t *value; /* owned, NUL-terminated after value_len bytes */
    size_t value_len;
} rec_header;

typedef struct rec_event {
    h3q_event_type type;
    uint64_t stream_id;
    bool stream_ended;
    bool has_push_id;
    uint64_t push_id;
    rec_header *headers; /* owned */
    size_t headers_len;
    uint8_t *data; /* owned, NUL-terminated after data_len bytes (a close's reason too) */
    size_t data_len;
    uint64_t session_id;
    uint64_t error_code; /* stream resets, STOP_SENDING, connection closes */
    h3q_error_space error_space;
    bool closed_by_peer;
    h3q_priority priority; /* as delivered (PRIORITY_UPDATE: the new priority) */
} rec_event;

typedef struct event_log {
    rec_event *items;
    size_t len;
    size_t cap;
} event_log;

/* An h3q_event_cb: `user_data` is an event_log *. Deep-copies the event. */
void event_log_cb(void *user_data, const h3q_event *event);
void event_log_clear(event_log *log);
void event_log_free(event_log *log);
/* The value of the first header named `name` in `event`, or NULL. */
const char *rec_header_value(const rec_event *event, const char *name);
/* All DATA_RECEIVED payload bytes of `stream_id` in `log`, concatenated into `out`;
 * returns whether one of them carried stream_ended. */
bool event_log_data(const event_log *log, uint64_t stream_id, fake_buf *out);

/* ---- field sections ----------------------------------------------------------------- */

/* Appends a QPACK field section (Required Insert Count 0, Base 0) made of literal field
 * lines with literal names (no Huffman) for `text`: fields separated by '\n', each
 * "name=value" split at the first '=' after the first character; "%XX" in names and
 * values is the byte 0xXX. Returns false on malformed text. */
bool fake_section(fake_buf *out, const char *text);
/* Appends a HEADERS frame carrying fake_section(text). */
bool fake_headers_frame(fake_buf *out, const char *text);
/* Appends a PUSH_PROMISE frame for `push_id` carrying fake_section(text). */
bool fake_push_promise_frame(fake_buf *out, uint64_t push_id, const char *text);

/* h3q_header arrays from string literals. */
#define FAKE_HDR(n, v) {(const uint8_t *)(n), sizeof(n) - 1, (const uint8_t *)(v), sizeof(v) - 1}

#endif /* H3Q_FAKE_TRANSPORT_H */
