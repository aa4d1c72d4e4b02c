/*
 * h3q-load's state and the functions its files share. One concern per file:
 *
 *   main.c     options, set-up, the event loop and its phases (ramp, hold, close)
 *   conns.c    one connection: opening it, its events, its requests and their ends
 *   timers.c   a min-heap of the program's own deadlines (next request, time-outs)
 *   report.c   counters, failure reasons, latency percentiles, the summary
 *
 * The program's description (options, output, exit status) is at the top of main.c.
 */
#ifndef H3Q_LOAD_H
#define H3Q_LOAD_H

#include "ex_tx.h"
#include "ex_udp.h"

#include <h3q.h>

#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NS_PER_S 1000000000ULL

typedef struct options {
    const char *server;           /* HOST:PORT to connect to */
    const char *host;             /* SNI and :authority host (default: the server's host) */
    const char *path;             /* what every request GETs */
    const char *ca;               /* trust these CAs (PEM), or NULL with insecure */
    bool insecure;                /* do not verify the server's certificate */
    uint64_t connections;         /* how many to open and hold */
    uint64_t per_socket;          /* connections per UDP socket (one endpoint each) */
    double rate;                  /* new connections per second during the ramp */
    double interval_s;            /* seconds between a connection's requests ... */
    double jitter;                /* ... each drawn within +-jitter of it (a fraction) */
    double duration_s;            /* seconds of holding once every connection is opened */
    double handshake_timeout_s;   /* a handshake not done by then fails */
    double request_timeout_s;     /* a response not complete by then fails */
    double progress_s;            /* seconds between progress lines on stderr; 0: none */
} options;

/* ---- timers.c ------------------------------------------------------------------------ */

typedef enum {
    T_REQUEST,            /* the connection's next request is due */
    T_HANDSHAKE_DEADLINE, /* the handshake must be done by now */
    T_REQUEST_DEADLINE,   /* the request numbered `seq` must be complete by now */
} timer_kind;

typedef struct timer {
    uint64_t at;
    uint32_t conn;        /* index into load.conns */
    uint32_t seq;         /* T_REQUEST_DEADLINE: the request it is for */
    timer_kind kind;
} timer;

typedef struct heap {
    timer *items;
    size_t len, cap;
} heap;

/* Adds a deadline (ends the program, after a message, when memory runs out). */
void heap_push(heap *h, timer t);
/* The earliest deadline, or NULL when there is none. */
const timer *heap_top(const heap *h);
/* Removes the earliest deadline into `*out`; false when there is none. */
bool heap_pop(heap *h, timer *out);
void heap_free(heap *h);

/* ---- report.c ------------------------------------------------------------------------ */

/* Distinct failure reasons kept by name; more are counted together as "other". */
#define MAX_REASONS 24
#define REASON_LEN 160

typedef struct reason {
    char text[REASON_LEN];
    uint64_t count;
} reason;

typedef struct stats {
    uint64_t opened;              /* connections started */
    uint64_t established;         /* handshakes completed */
    uint64_t handshake_failures;  /* connections that ended (or timed out) before it */
    uint64_t connection_errors;   /* established connections that ended before we closed */
    uint64_t open_now, open_max;  /* established and not ended: now, and the most at once */
    uint64_t sent, completed, failed;
    uint64_t in_flight;           /* requests sent and not over yet */
    uint64_t late;                /* requests due while the previous one still ran */
    uint64_t body_bytes;
    uint32_t *latency_us;         /* one per completed request */
    size_t latency_len, latency_cap;
    reason reasons[MAX_REASONS];
    size_t reasons_len;
    uint64_t other_reasons;
} stats;

/* Counts one failure under `text` ("handshake: ...", "connection: ...", "request: ..."). */
void stats_reason(stats *st, const char *text);
/* Records a completed request's latency. */
void stats_latency(stats *st, uint64_t ns);
/* The summary on stdout: human-readable lines, then one "json {...}" line with every
 * figure (tests/interop/hold.py reads that one). */
void stats_print(stats *st, const options *o, double ramp_s, double hold_s);
void stats_free(stats *st);

/* ---- state --------------------------------------------------------------------------- */

/* One UDP socket and the endpoint on it. */
typedef struct sock {
    ex_udp udp;
    h3q_endpoint *endpoint;
    ex_tx *tx;
    bool blocked;                 /* the last flush found the socket full */
} sock;

struct load;

/* One connection. */
typedef struct conn {
    struct load *ld;
    sock *sock;
    h3q_quic_conn *quic;          /* NULL before it is opened and after it is freed */
    h3q_conn *h3;
    uint32_t index;
    bool established;
    bool closing;                 /* we closed it (the end of the run, or a time-out) */
    bool terminated;              /* H3Q_QUIC_CONNECTION_TERMINATED came: free it */
    bool in_flight;               /* a request waits for its response */
    bool due;                     /* the next request came due while one was in flight */
    uint32_t seq;                 /* requests sent on it (names the one in flight) */
    uint64_t stream_id;           /* of the request in flight */
    uint64_t sent_ns;
    int status;                   /* its response's :status, 0 before the head */
} conn;

typedef struct load {
    const options *opt;
    struct addrinfo *addr;        /* the server's address */
    char authority[300];          /* host:port for :authority */
    sock *socks;
    size_t socks_len;
    conn *conns;                  /* opt->connections of them */
    uint64_t live;                /* connections whose handles are held */
    heap timers;
    stats st;
    uint64_t rng;
    bool requests_stopped;        /* the hold is over: no new requests */
} load;

/* ---- conns.c ------------------------------------------------------------------------- */

/* Opens connection `c` (its index and socket set) to the server; false when h3q refuses
 * (counted as a handshake failure). */
bool conn_open(load *ld, conn *c, uint64_t now);
/* Takes the events of every connection of `s` that has some, then frees the connections
 * that ended. */
void sock_take_events(load *ld, sock *s);
/* Runs one of the program's deadlines that came due. */
void conn_timer(load *ld, const timer *t, uint64_t now);
/* Closes `c` with H3_NO_ERROR (the end of the run); no-op when not open. */
void conn_close(conn *c);
/* Frees the connection's handles (no-op when they are gone). */
void conn_free(conn *c);
/* A uniform pseudo-random number in [0, 1). */
double load_random(load *ld);

#endif
