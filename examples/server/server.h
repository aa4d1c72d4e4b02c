/*
 * h3q-server's state and the functions its files share. One concern per file:
 *
 *   main.c         options, the shared configuration, starting and stopping the workers,
 *                  the signals (caught here and passed on to every worker)
 *   worker.c       one worker: its thread, its event loop, its mailbox (signals), reports
 *   handoff.c      datagrams of another worker's connections: recognising them by the
 *                  server id in their connection ID, and the lock-free queue that hands
 *                  them over to their owner (its tests: handoff_test.c, CTest
 *                  examples_handoff)
 *   steering_ebpf.c the kernel-side steering: an eBPF program (SO_ATTACH_REUSEPORT_EBPF)
 *                  that sends each datagram to the socket of the worker its CID names
 *   connections.c  new connections, their events, body pacing
 *   responses.c    the routes: pages, generated bodies, files, POST /echo
 *   file_cache.c   small files under --root kept in memory and lent to h3q from there
 *   drain.c        GOAWAY and closing: the SIGINT drain, --drain-timeout,
 *                  --max-requests-per-connection, and what a close must wait for
 *
 * The program's description (routes, options, output, exit status) is at the top of
 * main.c.
 */
#ifndef H3Q_SERVER_H
#define H3Q_SERVER_H

#include "ex_addr.h"
#include "ex_rx.h"
#include "ex_tx.h"
#include "ex_udp.h"
#include "file_cache.h"

#include <h3q.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_GENERATED 10000000000ULL    /* largest /<N> */
/* Body bytes per h3q_conn_send_data. Large on purpose: quinn-proto finds the bytes of each
 * packet by walking the stream's unacknowledged pieces from the oldest, so the fewer the
 * pieces in flight, the less each packet costs (64 KiB pieces: 16 % more instructions per
 * MB than 256 KiB; docs/PERFORMANCE.md). */
#define CHUNK (256 * 1024)
#define SMALL_BODY (16 * 1024)          /* sent at once, not paced (start_feeding) */
#define STREAM_WINDOW (1u << 20)        /* unsent bytes h3q may hold per response stream */
#define CONN_WINDOW (2u << 20)          /* ... and per connection: see "Body pacing" */
#define STALL_NS (250 * 1000000ULL)     /* a stream h3q takes nothing from: see there too */
#define ECHO_MAX (16u << 20)            /* largest POST /echo body (buffered whole): 413 */
#define ECHO_TOTAL_MAX ((size_t)256 << 20) /* all echo buffers of the server together: 503 */
#define ECHO_FIRST_ALLOC (64u << 10)    /* first echo buffer; doubled as the body grows */
#define RX_ROUNDS 16                    /* batches read per wake-up before serving again */
#define NS_PER_S 1000000000ULL
#define MAX_WORKERS 256                 /* the worker's number is one byte of its server id */

/* ---- lists -------------------------------------------------------------------------- */

/* A node of a circular doubly-linked list (the head is a node of its own). */
typedef struct list {
    struct list *prev, *next;
} list;

#define CONTAINER(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

static inline void list_init(list *l) { l->prev = l->next = l; }

static inline bool list_linked(const list *l) { return l->next != l; }

static inline void list_add(list *head, list *l) {
    l->next = head->next;
    l->prev = head;
    head->next->prev = l;
    head->next = l;
}

static inline void list_remove(list *l) {
    l->prev->next = l->next;
    l->next->prev = l->prev;
    list_init(l);
}

/* ---- state -------------------------------------------------------------------------- */

typedef enum { BODY_NONE, BODY_GENERATED, BODY_FILE, BODY_ECHO } body_kind;

struct server;

/* An echo body and the counter of echo bytes (process-wide) that counts its `cap` bytes. */
typedef struct echo_buf {
    _Atomic size_t *total;
    size_t len, cap;
    uint8_t data[];
} echo_buf;

/* One request stream and its response. */
typedef struct stream {
    struct stream *next;
    list paced;            /* conn.paced while a GENERATED / FILE body has bytes to hand over */
    uint64_t id;
    h3q_priority priority; /* the client's (RFC 9218), as h3q schedules the response by it */
    char method[16];
    char *path;            /* for the log lines: path_short, or a heap copy if it is longer */
    char path_short[64];
    int status;
    body_kind kind;
    uint64_t length;       /* GENERATED / FILE: body length */
    uint64_t sent;         /* body bytes handed to h3q */
    uint64_t unsent_left;  /* paced: its unsent bytes in h3q when last fed */
    uint64_t taken_ns;     /* paced: when h3q last took some of them (or had none) */
    int fd;                /* FILE read for each chunk (a file too large to cache), or -1 */
    cached_file *cached;   /* FILE from the cache (file_cache.h; a reference), or NULL */
    echo_buf *echo;        /* ECHO: the request body so far (NULL once answered) */
    bool request_ended;    /* FIN (or a reset) seen on the request */
    bool early;            /* the request came (at least partly) in 0-RTT data */
    bool done;             /* response complete or abandoned */
    uint64_t start_ns;
} stream;

/* Where a connection is in its shutdown (drain.c). */
typedef enum {
    CONN_OPEN,             /* serving */
    CONN_NOTICE_SENT,      /* GOAWAY with the largest id sent; the final one follows */
    CONN_SHUTDOWN_SENT,    /* the final GOAWAY sent: closes once its requests are over */
    CONN_CLOSING,          /* requests cancelled; closes one round trip later */
    CONN_CLOSED,           /* h3q_quic_conn_close() called; H3Q_EVENT_CONNECTION_CLOSED next */
} conn_state;

/* One connection: the two h3q handles (the QUIC one keeps a pointer back to this, as its
 * user data) and the streams. */
typedef struct conn {
    list all;              /* server.conns */
    list feeding;          /* server.feeding while a GENERATED / FILE body waits for room */
    list going;            /* server.going once the state is past CONN_OPEN */
    struct server *srv;
    h3q_quic_conn *quic;
    h3q_conn *h3;
    char peer[EX_ADDR_STRLEN];
    stream *streams;       /* until both the request and the response are over */
    list paced;            /* the streams with paced bodies, most urgent first (body pacing) */
    uint64_t requests;     /* requests accepted (for --max-requests-per-connection) */
    conn_state state;
    uint64_t state_ns;     /* when the state was entered */
    bool terminated;       /* H3Q_EVENT_CONNECTION_CLOSED came: free after the events */
} conn;

typedef struct options {
    const char *listen, *cert, *key, *keylog, *root;
    const char *qlog_dir;          /* --qlog-dir: one qlog per connection there, or NULL */
    uint8_t server_id[15];         /* --server-id HEX: carried by the connection IDs */
    size_t server_id_len;          /* 0: random connection IDs */
    const char *client_ca;         /* --client-ca: CAs for client certificates, or NULL */
    bool client_cert_optional;     /* --client-auth request (default: require) */
    const char *cc;                /* --cc: congestion controller name, or NULL */
    uint32_t cc_value;             /* its h3q_congestion_control */
    uint64_t drain_timeout_ns;
    uint64_t max_requests;         /* per connection; 0: no limit */
    bool early_data;               /* --0rtt: accept 0-RTT requests (safe methods only) */
    bool retry;                    /* --retry: validate every new client's address */
    uint64_t retry_above;          /* --retry-above N: only above N handshakes/s; 0: off */
    uint64_t workers;              /* --workers N: threads, each with its endpoint (1..256) */
    uint64_t max_udp_payload;      /* --max-udp-payload N (1200..65527); 0: h3q's default */
    bool steering_handoff;         /* --steering handoff: no eBPF, hand over in user space */
    bool quiet;                    /* --quiet: no line per request */
} options;

typedef struct handoff_queue handoff_queue;

/* What the workers of the process share. Set before they start and read-only after,
 * but for the atomics. */
typedef struct process {
    const options *opt;
    struct server *workers;        /* [nworkers] */
    unsigned nworkers;
    /* With more than one worker, worker K's connection IDs carry the server id
     * `id_prefix` (--server-id, possibly empty) followed by the byte K: id_len bytes. */
    uint8_t id_prefix[15];
    size_t id_prefix_len, id_len;
    bool ebpf;                     /* the eBPF steering program is attached */
    int done_fd;                   /* eventfd: a worker wrote 1 as it ended */
    _Atomic size_t echo_bytes;     /* all echo buffers of all workers (ECHO_TOTAL_MAX) */
} process;

/* What a worker counts of the datagrams it hands over and receives (handoff.c). */
typedef struct handoff_counts {
    uint64_t out;                  /* handed over to their owner */
    uint64_t in;                   /* handed over to this worker, fed to its endpoint */
    uint64_t dropped;              /* not handed over: the owner's queue was full */
} handoff_counts;

/* One worker: a thread with its socket, endpoint and connections (with one worker, the
 * whole server as it was before workers existed). */
typedef struct server {
    const options *opt;
    process *proc;
    unsigned index;        /* its number: proc->workers[index] */
    pthread_t thread;
    bool started;          /* the thread runs (join it) */
    _Atomic bool failed;   /* the loop ended on an error (exit status 1) */
    /* The mailbox: other threads (the signal thread, other workers' handoffs) write to
     * wake_fd (an eventfd) after changing what follows (see worker.c). */
    int wake_fd;
    _Atomic unsigned signals;      /* SIGINT/SIGTERM passed on to this worker so far */
    _Atomic int last_signal;
    _Atomic unsigned reports;      /* SIGUSR1s passed on */
    unsigned signals_taken, reports_taken;
    handoff_queue *inbox;          /* datagrams other workers hand over to this one */
    bool *wake_after_rx;           /* [nworkers]: handed something to them in this batch */
    handoff_counts handoffs;
    uint64_t accepted;             /* connections accepted since the start */
    ex_udp udp;
    h3q_endpoint *endpoint;
    ex_rx *rx;
    ex_tx *tx;
    file_cache *files;     /* the small files under --root, in memory (file_cache.h) */
    list conns;            /* every connection whose handles are held */
    list feeding;          /* the connections with bodies to continue */
    list going;            /* the connections shutting down (drain.c) */
    size_t nconns;
    size_t nconns_peak;    /* the most open at once since the heap was last trimmed */
    /* drain.c */
    bool draining;         /* a signal came: every connection is shutting down */
    bool aborted;          /* the drain timeout expired (or a second signal came) */
    bool exit_now;         /* a second signal: exit once the closes are sent */
    uint64_t drain_deadline;
    uint64_t idle_deadline; /* all connections closed: how long to wait for the endpoint */
} server;

/* ---- connections.c ------------------------------------------------------------------ */

void accept_connections(server *srv);
void serve_ready_connections(server *srv);
void feed_all(server *srv);
void free_conn(server *srv, conn *c);
/* After a crowd of connections has gone, returns the heap's free memory to the system
 * (glibc's malloc_trim), once the endpoint holds nothing of them any more. */
void trim_heap_when_idle(server *srv);
/* Starts a GENERATED or FILE body fed by the pacing (after its head was sent), or sends
 * it at once when it is at most SMALL_BODY bytes; `now` is the time (ex_now_ns) the
 * caller read last. */
void start_feeding(conn *c, stream *s, uint64_t now);
/* The body needs no more feeding (complete or abandoned). */
void stop_feeding(stream *s);

/* ---- responses.c -------------------------------------------------------------------- */

/* Fills the pattern of generated bodies: 64-byte lines of text. */
void responses_init(void);
/* The generated body, from offset `offset % 64` on: at least CHUNK bytes. */
const uint8_t *generated_body(uint64_t offset);
/* SIGUSR1: one line of measurements (ex_describe_stats) per connection on stderr. */
void report_stats(server *srv);
/* A new request (its HEADERS event): stream state, then the route. */
void on_request(conn *c, const h3q_event *ev);
/* The body of a POST /echo request (DATA events), then its end. */
void echo_body(conn *c, stream *s, const h3q_event *ev);
/* The response is complete (outcome NULL) or abandoned (outcome says why, with the code):
 * logs it, once, and frees what it held. */
void finish_stream(conn *c, stream *s, const char *outcome);
/* Frees an echo buffer and takes it off the server's count (an h3q_release_cb too). */
void echo_release(void *ctx);
/* Stops a response still running: RESET_STREAM, and STOP_SENDING for a request body still
 * arriving, both with `code`; logs it with `why` and the code's name. */
void abort_stream(conn *c, stream *s, uint64_t code, const char *why);

/* ---- worker.c ----------------------------------------------------------------------- */

/* Makes worker `index` of `proc`: its mailbox, inbox and buffers (not its socket nor its
 * endpoint, which main.c sets up). False after a message. */
bool worker_init(server *srv, process *proc, unsigned index);
/* Starts its thread (the event loop); false after a message. */
bool worker_start(server *srv);
/* Passes a signal on to the worker: SIGINT/SIGTERM (drain, or end the drain) or SIGUSR1
 * (report). Safe from any thread. */
void worker_post_signal(server *srv, int sig);
/* Wakes the worker: something is in its mailbox or inbox. Safe from any thread. */
void worker_wake(server *srv);
/* After its thread was joined: frees everything the worker holds. */
void worker_teardown(server *srv);

/* ---- handoff.c ---------------------------------------------------------------------- */

/* A bounded queue of datagrams any worker may push to and its owner pops from; NULL when
 * out of memory. */
handoff_queue *handoff_queue_new(void);
/* Frees the queue and the datagrams still in it. */
void handoff_queue_free(handoff_queue *q);
/* The worker whose connection the datagram at `packet` belongs to, by the server id in
 * its destination CID; srv->index itself for its own, and for every datagram that names
 * no worker (Initial and 0-RTT packets, whose CID the client chose; ids of no worker). */
unsigned handoff_owner(const server *srv, const uint8_t *packet, size_t len);
/* The worker's ex_rx_deliver_cb (ctx: the server): its own datagrams to its endpoint,
 * the others' to their owners' queues. */
void handoff_deliver(void *ctx, uint64_t now, const struct sockaddr *from, socklen_t from_len,
                     const uint8_t *data, size_t len, size_t segment, uint8_t ecn);
/* Wakes the workers handoff_deliver() handed datagrams to since the last call. */
void handoff_wake_owners(server *srv);
/* Feeds the datagrams other workers handed to this one to its endpoint; how many. */
size_t handoff_receive(server *srv, uint64_t now);

/* ---- steering_ebpf.c (built with H3Q_SERVER_EBPF) ----------------------------------- */

/* Loads the steering program and attaches it to the workers' SO_REUSEPORT group: each
 * short-header datagram then reaches the socket of the worker its CID names. False (after
 * one line saying why, and the verifier's log with -v) when the kernel refuses it. */
bool steering_ebpf_attach(process *proc);
/* Datagrams the program sent to the socket their CID names since it was attached; 0
 * without it. */
uint64_t steering_ebpf_steered(const process *proc);
/* Closes what the program holds (before the sockets are closed). */
void steering_ebpf_detach(process *proc);

/* ---- drain.c ------------------------------------------------------------------------ */

/* SIGINT/SIGTERM: the first starts the drain, a second (or more) ends it at once. */
void drain_signal(server *srv, int sig, int count, uint64_t now);
/* A connection accepted while draining: shut down at once. */
void drain_accepted(conn *c, uint64_t now);
/* A request accepted on `c`: false when --max-requests-per-connection refuses it (it was
 * then rejected with H3_REQUEST_REJECTED); the request reaching the limit sends GOAWAY. */
bool drain_count_request(conn *c, stream *s, uint64_t now);
/* The timed steps: the final GOAWAY a round trip after the notice, closes, the timeout. */
void drain_step(server *srv, uint64_t now);
/* When drain_step() next has something to do (EX_NEVER: nothing timed). */
uint64_t drain_next_wake(const server *srv, uint64_t now);
/* True when the program may exit: drained and the endpoint idle (or waited long enough),
 * or a second signal's closes sent. */
bool drain_finished(server *srv, uint64_t now);

#endif
