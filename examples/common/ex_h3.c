/* ex_h3: see ex_h3.h. */
#include "ex_h3.h"

#include "ex_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

bool ex_hdr_value(const h3q_header *h, char *out, size_t cap) {
    if (h->value_len >= cap || memchr(h->value, 0, h->value_len)) return false;
    memcpy(out, h->value, h->value_len);
    out[h->value_len] = '\0';
    return true;
}

bool ex_parse_u64(const char *digits, size_t len, uint64_t max, uint64_t *out) {
    uint64_t v = 0;
    if (len == 0) return false;
    for (size_t i = 0; i < len; i++) {
        if (digits[i] < '0' || digits[i] > '9') return false;
        uint64_t d = (uint64_t)(digits[i] - '0');
        if (v > (max - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

size_t ex_format_u64(uint64_t v, char out[EX_U64_LEN]) {
    char rev[EX_U64_LEN];
    size_t n = 0;
    do {
        rev[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++) out[i] = rev[n - 1 - i];
    out[n] = '\0';
    return n;
}

size_t ex_drain_events(h3q_quic_conn *quic, h3q_conn *h3, const char *peer,
                       h3q_event_cb on_http, ex_quic_event_cb on_quic, void *user_data) {
    h3q_quic_event ev;
    size_t n = 0;
    while (h3q_quic_conn_next_event(quic, &ev) == H3Q_OK) {
        n++;
        h3q_result rc = h3q_conn_handle_event(h3, &ev, on_http, user_data);
        if (rc == H3Q_ERR_PROTOCOL) /* h3q has closed the connection with the code */
            ex_warn("%s: protocol error: %s", peer, h3q_conn_last_error(h3));
        if (on_quic) on_quic(user_data, &ev, rc);
    }
    return n;
}

uint64_t ex_unsent(h3q_quic_conn *quic, uint64_t stream_id) {
    uint64_t unsent;
    return h3q_quic_conn_stream_send_buffered(quic, stream_id, &unsent) == H3Q_OK ? unsent
                                                                                  : UINT64_MAX;
}

const char *ex_code_name(uint64_t code, char buf[EX_CODE_NAME_LEN]) {
    const char *name = h3q_h3_error_name(code);
    if (name) return name;
    snprintf(buf, EX_CODE_NAME_LEN, "0x%" PRIx64, code);
    return buf;
}

void ex_describe_close(const h3q_event *ev, char *out, size_t cap) {
    const char *who = ev->closed_by_peer ? "closed by the peer" : "closed here";
    int reason_len = (int)ev->data_len;
    const char *reason = ev->data ? (const char *)ev->data : "";
    const char *name;
    switch (ev->error_space) {
    case H3Q_ERROR_SPACE_APPLICATION:
        name = h3q_h3_error_name(ev->error_code);
        snprintf(out, cap, "%s: %s (0x%" PRIx64 ") \"%.*s\"", who, name ? name : "code",
                 ev->error_code, reason_len, reason);
        break;
    case H3Q_ERROR_SPACE_TRANSPORT:
        snprintf(out, cap, "%s: QUIC transport error 0x%" PRIx64 " \"%.*s\"", who,
                 ev->error_code, reason_len, reason);
        break;
    case H3Q_ERROR_SPACE_NO_CODE: /* idle timeout, stateless reset ...: the reason says */
        snprintf(out, cap, "%s: \"%.*s\"", who, reason_len, reason);
        break;
    default:
        snprintf(out, cap, "%s: code 0x%" PRIx64 " \"%.*s\"", who, ev->error_code,
                 reason_len, reason);
        break;
    }
}

void ex_describe_stats(h3q_quic_conn *quic, char out[EX_STATS_LEN]) {
    h3q_quic_stats s;
    if (h3q_quic_conn_stats(quic, &s) != H3Q_OK) {
        snprintf(out, EX_STATS_LEN, "no stats: %s", h3q_quic_conn_last_error(quic));
        return;
    }
    snprintf(out, EX_STATS_LEN,
             "rtt %.1f ms (min %.1f), cwnd %" PRIu64 ", sent %" PRIu64 " B / %" PRIu64
             " datagrams / %" PRIu64 " packets, received %" PRIu64 " B / %" PRIu64
             " datagrams, lost %" PRIu64 " packets (%" PRIu64 " B), %" PRIu64
             " congestion events, path MTU %" PRIu64,
             (double)s.smoothed_rtt_ns / 1e6, (double)s.min_rtt_ns / 1e6, s.cwnd, s.bytes_sent,
             s.datagrams_sent, s.packets_sent, s.bytes_received, s.datagrams_received,
             s.packets_lost, s.bytes_lost, s.congestion_events, s.path_mtu);
}

bool ex_congestion_control(const char *name, uint32_t *out) {
    static const struct {
        const char *name;
        h3q_congestion_control cc;
    } names[] = {{"newreno", H3Q_CC_NEWRENO}, {"cubic", H3Q_CC_CUBIC}, {"bbr", H3Q_CC_BBR}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i].name) == 0) {
            *out = (uint32_t)names[i].cc;
            return true;
        }
    }
    return false;
}
