/* report.c: h3q-load's counters, failure reasons, latency percentiles and summary. */
#define _GNU_SOURCE
#include "load.h"

#include "ex_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

void stats_reason(stats *st, const char *text) {
    for (size_t i = 0; i < st->reasons_len; i++)
        if (strcmp(st->reasons[i].text, text) == 0) {
            st->reasons[i].count++;
            return;
        }
    if (st->reasons_len == MAX_REASONS) {
        st->other_reasons++;
        return;
    }
    reason *r = &st->reasons[st->reasons_len++];
    snprintf(r->text, sizeof r->text, "%s", text);
    r->count = 1;
    ex_debug("%s", text);
}

void stats_latency(stats *st, uint64_t ns) {
    if (st->latency_len == st->latency_cap) {
        size_t cap = st->latency_cap ? st->latency_cap * 2 : 4096;
        uint32_t *grown = realloc(st->latency_us, cap * sizeof *grown);
        if (!grown) {
            ex_warn("out of memory");
            exit(1);
        }
        st->latency_us = grown;
        st->latency_cap = cap;
    }
    uint64_t us = ns / 1000;
    st->latency_us[st->latency_len++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int by_value(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The p-th percentile (nearest rank) of the sorted samples, in milliseconds. */
static double percentile(const stats *st, double p) {
    if (st->latency_len == 0) return 0;
    size_t rank = (size_t)(p / 100.0 * (double)st->latency_len + 0.5);
    if (rank < 1) rank = 1;
    if (rank > st->latency_len) rank = st->latency_len;
    return st->latency_us[rank - 1] / 1000.0;
}

/* A reason as a JSON string: printable ASCII only, quotes and backslashes escaped. */
static void json_string(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if (*s >= 0x20 && *s < 0x7f)
            putchar(*s);
        else
            putchar('?');
    }
    putchar('"');
}

void stats_print(stats *st, const options *o, double ramp_s, double hold_s) {
    qsort(st->latency_us, st->latency_len, sizeof *st->latency_us, by_value);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    long peak_kb = ru.ru_maxrss; /* Linux: kilobytes */
    double p50 = percentile(st, 50), p90 = percentile(st, 90), p99 = percentile(st, 99),
           p999 = percentile(st, 99.9), max = percentile(st, 100);
    printf("connections: %" PRIu64 " wanted, %" PRIu64 " opened, %" PRIu64
           " established, %" PRIu64 " most open at once, %" PRIu64 " handshake failures, %" PRIu64
           " connection errors\n",
           o->connections, st->opened, st->established, st->open_max, st->handshake_failures,
           st->connection_errors);
    printf("requests: %" PRIu64 " sent, %" PRIu64 " completed, %" PRIu64 " failed, %" PRIu64
           " late (due while the previous one ran), %" PRIu64 " body bytes\n",
           st->sent, st->completed, st->failed, st->late, st->body_bytes);
    printf("time: ramp %.1f s, hold %.1f s, %.0f requests/s on average\n", ramp_s, hold_s,
           ramp_s + hold_s > 0 ? (double)st->completed / (ramp_s + hold_s) : 0.0);
    printf("latency (ms): p50 %.2f, p90 %.2f, p99 %.2f, p99.9 %.2f, max %.2f\n", p50, p90, p99,
           p999, max);
    printf("client: peak RSS %ld kB, user %.1f s, system %.1f s\n", peak_kb,
           (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
    if (st->reasons_len == 0) printf("failures: none\n");
    for (size_t i = 0; i < st->reasons_len; i++)
        printf("failure: %" PRIu64 " x %s\n", st->reasons[i].count, st->reasons[i].text);
    if (st->other_reasons) printf("failure: %" PRIu64 " x other reasons\n", st->other_reasons);

    printf("json {\"connections\": %" PRIu64 ", \"opened\": %" PRIu64 ", \"established\": %" PRIu64
           ", \"open_max\": %" PRIu64 ", \"handshake_failures\": %" PRIu64
           ", \"connection_errors\": %" PRIu64 ", \"sent\": %" PRIu64 ", \"completed\": %" PRIu64
           ", \"failed\": %" PRIu64 ", \"late\": %" PRIu64 ", \"body_bytes\": %" PRIu64
           ", \"ramp_s\": %.3f, \"hold_s\": %.3f, \"p50_ms\": %.3f, \"p90_ms\": %.3f"
           ", \"p99_ms\": %.3f, \"p999_ms\": %.3f, \"max_ms\": %.3f, \"client_peak_rss_kb\": %ld"
           ", \"failures\": {",
           o->connections, st->opened, st->established, st->open_max, st->handshake_failures,
           st->connection_errors, st->sent, st->completed, st->failed, st->late, st->body_bytes,
           ramp_s, hold_s, p50, p90, p99, p999, max, peak_kb);
    for (size_t i = 0; i < st->reasons_len; i++) {
        if (i) printf(", ");
        json_string(st->reasons[i].text);
        printf(": %" PRIu64, st->reasons[i].count);
    }
    if (st->other_reasons)
        printf("%s\"other reasons\": %" PRIu64, st->reasons_len ? ", " : "", st->other_reasons);
    printf("}}\n");
}

void stats_free(stats *st) {
    free(st->latency_us);
    st->latency_us = NULL;
    st->latency_len = st->latency_cap = 0;
}
