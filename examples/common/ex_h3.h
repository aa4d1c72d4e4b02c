/*
 * ex_h3: small helpers around h3q's connection API that both example programs need.
 *
 *   - header fields from C strings, and header fields compared or copied out;
 *   - ex_drain_events(): a connection's QUIC events through its HTTP/3 connection (step 5
 *     of the loop in h3q.h), with a second callback for the QUIC events themselves (a
 *     client learns of the completed handshake that way: HTTP/3 has no event for it);
 *   - ex_unsent(): how many bytes of a stream wait unsent inside h3q (body pacing);
 *   - ex_code_name() and ex_describe_close(): HTTP/3 error codes and a connection's end
 *     (H3Q_EVENT_CONNECTION_CLOSED) as text for logs;
 *   - ex_describe_stats(): a connection's measurements (h3q_quic_conn_stats) as one line;
 *   - ex_congestion_control(): a --cc NAME option's value as an h3q_congestion_control.
 *
 * Part of examples/common (the h3q_example_common library).
 */
#ifndef H3Q_EXAMPLE_H3_H
#define H3Q_EXAMPLE_H3_H

#include <h3q.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* An h3q_header over two NUL-terminated strings (h3q reads them during the call only).
 * Inline, so that the lengths of string literals are known at compile time. */
static inline h3q_header ex_hdr(const char *name, const char *value) {
    h3q_header h = {(const uint8_t *)name, strlen(name), (const uint8_t *)value, strlen(value)};
    return h;
}

/* True when the field's name is `name` (inline for the same reason as ex_hdr). */
static inline bool ex_hdr_is(const h3q_header *h, const char *name) {
    size_t n = strlen(name);
    return h->name_len == n && memcmp(h->name, name, n) == 0;
}

/* Copies the field's value into `out` as a string; false if it does not fit or holds a
 * NUL byte (field values are byte strings). */
bool ex_hdr_value(const h3q_header *h, char *out, size_t cap);

/* The decimal number in the first `len` bytes of `digits`: false when they are empty,
 * hold anything but digits, or the number exceeds `max`. */
bool ex_parse_u64(const char *digits, size_t len, uint64_t max, uint64_t *out);

/* Room for any number ex_format_u64() writes, with its NUL. */
#define EX_U64_LEN 21

/* Writes `v` in decimal to `out` (NUL-terminated) and returns its length. A per-request
 * status and content-length cost a tenth of what snprintf() does. */
size_t ex_format_u64(uint64_t v, char out[EX_U64_LEN]);

/* Called for every QUIC event after h3q_conn_handle_event() has handled it (`rc` is what
 * that returned). Stream resets, STOP_SENDING and the connection's end come as HTTP/3
 * events (H3Q_EVENT_STREAM_RESET, H3Q_EVENT_STOP_SENDING, H3Q_EVENT_CONNECTION_CLOSED),
 * which say more (a GOAWAY's refusals, a protocol error's code): use those. */
typedef void (*ex_quic_event_cb)(void *user_data, const h3q_quic_event *event, h3q_result rc);

/* Takes every waiting QUIC event of `quic` and hands it to `h3` (HTTP events go to
 * `on_http`), then to `on_quic` (may be NULL). A protocol error of the peer is reported on
 * stderr (`peer` names it). Returns how many events there were. */
size_t ex_drain_events(h3q_quic_conn *quic, h3q_conn *h3, const char *peer,
                       h3q_event_cb on_http, ex_quic_event_cb on_quic, void *user_data);

/* Bytes given for `stream_id` that wait inside h3q because QUIC has not taken them yet
 * (h3q_quic_conn_stream_send_buffered); UINT64_MAX if h3q cannot say. */
uint64_t ex_unsent(h3q_quic_conn *quic, uint64_t stream_id);

/* Room for any text ex_code_name() writes. */
#define EX_CODE_NAME_LEN 32

/* An HTTP/3 (or QPACK) application error code as text: its name ("H3_REQUEST_CANCELLED",
 * from h3q_h3_error_name) or, for a code of no name, "0x..." written into `buf`. */
const char *ex_code_name(uint64_t code, char buf[EX_CODE_NAME_LEN]);

/* Writes how a connection ended (an H3Q_EVENT_CONNECTION_CLOSED event: its error_code,
 * error_space, closed_by_peer and reason in data/data_len) into `out`, e.g.
 * "closed by the peer: H3_NO_ERROR (0x100) \"server shutdown\"" or
 * "closed here: \"Idle timeout\"". */
void ex_describe_close(const h3q_event *event, char *out, size_t cap);

/* Room for any text ex_describe_stats() writes. */
#define EX_STATS_LEN 320

/* Writes `quic`'s measurements into `out` as one line, e.g. "rtt 10.2 ms (min 9.8),
 * cwnd 120000, sent 10787332 B / 9036 datagrams / 9040 packets, received ...,
 * lost 3 packets (3600 B), 1 congestion event, path MTU 1200"; or why h3q could not say. */
void ex_describe_stats(h3q_quic_conn *quic, char out[EX_STATS_LEN]);

/* The congestion controller called `name` ("newreno", "cubic", "bbr") in `*out`; false
 * for any other name. */
bool ex_congestion_control(const char *name, uint32_t *out);

#endif
