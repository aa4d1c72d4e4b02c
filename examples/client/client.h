/*
 * h3q-client's state and the functions its files share. One concern per file:
 *
 *   main.c         options, the request list, the event loop, signals, the summary
 *   connections.c  the endpoint and its connections: connecting, the handshake, GOAWAY
 *                  and the new connections it calls for, the end of a connection, Ctrl-C
 *   requests.c     requests: starting (and restarting) them, their HTTP/3 events,
 *                  bodies in and out, the result lines
 *
 * The program's description (options, output, exit status) is at the top of main.c.
 */
#ifndef H3Q_CLIENT_H
#define H3Q_CLIENT_H

#include "ex_rx.h"
#include "ex_sha256.h"
#include "ex_tx.h"
#include "ex_udp.h"

#include <h3q.h>

#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CHUNK (64 * 1024)                       /* request body bytes per send */
#define STREAM_WINDOW (1u << 20)                /* unsent bytes per request stream */
#define BACKLOG_WINDOW (8u << 20)               /* unsent bytes of all streams together */
#define RX_ROUNDS 16                            /* batches read per wake-up */
#define PROGRESS_NS (250 * 1000000ULL)
#define CLOSE_WAIT_NS (1000 * 1000000ULL)
#define ATTEMPT_NS (1000 * 1000000ULL) /* per server address, to complete the handshake */
/* New connections opened for requests a GOAWAY turned away, in a row without a request
 * completing in between: beyond it the client gives up (a server that sends GOAWAY at
 * once on every connection, e.g. one that is draining, would be retried for ever). */
#define MAX_FRUITLESS_CONNECTIONS 3
/* Connections tried in a row, without a request completing, that ended for a reason a new
 * attempt can overcome (no answer in time, the server's own handshake timeout on a lossy
 * path), before the requests waiting for them fail (see connections.c). */
#define MAX_CONNECTION_ATTEMPTS 3

struct connection;

/* A URL of the command line and the --priority given before it. */
typedef struct url_arg {
    const char *url;        /* points into argv */
    bool has_priority;      /* a --priority came before it: sent as the priority header */
    h3q_priority priority;
} url_arg;

typedef struct request {
    const char *path;       /* points into argv */
    const url_arg *arg;     /* its URL (and priority) */
    struct connection *conn; /* while in flight */
    uint64_t stream_id;
    bool started, head_seen, done, failed;
    bool body_stopped;      /* the server sent STOP_SENDING: send no more of --data */
    bool reject_pending;    /* H3_REQUEST_REJECTED came: settled after the events */
    struct request *next_rejected;
    int status;
    int64_t content_length; /* -1: none given */
    uint64_t received;
    uint64_t body_sent;     /* --data bytes handed to h3q */
    uint64_t start_ns;      /* when its headers were sent (for -v) */
    FILE *out;
    ex_sha256 *sha;         /* --sha256, while in flight */
} request;

typedef struct options {
    const char *ca, *data, *output_dir;
    const char *cert, *key;  /* --cert/--key: a client certificate to present, or NULL */
    const char *qlog_dir;    /* --qlog-dir: one qlog per connection there, or NULL */
    const char *cc;         /* --cc: congestion controller name, or NULL */
    uint32_t cc_value;      /* its h3q_congestion_control */
    bool insecure, include, sha256, retry;
    bool resume;            /* --resume: the URL list again on a resumed connection */
    long rebind_after;      /* --rebind-after BYTES: move to a new socket then; 0: never */
    long max_udp_payload;   /* --max-udp-payload N (1200..65527); 0: h3q's default */
    long parallel, repeat;
    url_arg *urls;          /* in command-line order */
    int nurls;
} options;

/* One QUIC + HTTP/3 connection of the client's endpoint; the QUIC handle's user data. */
typedef struct connection {
    struct connection *next;
    struct client *cl;
    h3q_quic_conn *quic;
    h3q_conn *h3;
    int number;             /* 1, 2, ... in the order opened (for the log) */
    bool established;       /* H3Q_QUIC_HANDSHAKE_COMPLETED came */
    bool going_away;        /* the server's GOAWAY came: no new requests here */
    bool closing;           /* h3q_quic_conn_close() called */
    bool terminated;        /* H3Q_EVENT_CONNECTION_CLOSED came: free after the events */
    bool early_rejected;    /* H3Q_QUIC_EARLY_DATA_REJECTED came in this batch of events */
    uint64_t goaway_id;     /* the server's last GOAWAY id */
    size_t in_flight;
    request *rejected;      /* rejected in this batch of events (see take_events) */
    request **by_stream;    /* the request on client stream 4*k (NULL once moved away) */
    size_t nstreams, cap, first_active;
    char close_reason[320];
    uint64_t close_code;    /* how it ended (H3Q_EVENT_CONNECTION_CLOSED) */
    h3q_error_space close_space;
} connection;

typedef struct client {
    const options *opt;
    ex_udp udp;
    ex_rx *rx;
    ex_tx *tx;
    h3q_endpoint *endpoint;
    connection *conns;      /* newest first: the first one takes new requests */
    int opened;             /* connections opened */
    int fruitless;          /* opened since a request last completed (for retries) */
    int failed_connections; /* lost in a row without a request completing, each followed by
                               a new attempt */
    bool reconnect_now;     /* the last connection was lost: open another */
    char host[256], port[8], authority[300];
    const struct addrinfo *addr; /* the server address being tried, then used */
    request *reqs;
    size_t nreqs, next_req, in_flight, finished, failures, retried;
    size_t first_round;     /* requests before the resumed connection (--resume; else nreqs) */
    bool resumed;           /* --resume: the resumed connection was opened */
    bool rebound;           /* --rebind-after: done */
    request **retry;        /* ring of requests to start again (GOAWAY), nreqs long */
    size_t retry_head, retry_len;
    bool closing;           /* every request is over: the connections close */
    int interrupted;        /* SIGINT/SIGTERM: its number */
    int data_fd;            /* --data */
    uint64_t data_len;
    uint64_t bytes, start_ns, pushes, next_progress;
    bool progress_shown;
    uint8_t scratch[CHUNK];
} client;

/* ---- connections.c ------------------------------------------------------------------ */

/* Opens a UDP socket for cl->addr's family, the endpoint, and the first connection.
 * False after printing why. */
bool client_connect(client *cl);
/* Frees every connection, the endpoint and the socket. */
void client_disconnect(client *cl);
/* A name may resolve to several addresses (localhost: ::1 and 127.0.0.1): while the first
 * connection has no handshake after ATTEMPT_NS, tries the next. False if that fails. */
bool next_address(client *cl, uint64_t now, uint64_t *attempt_ns);
/* Takes the events of every connection that has some. */
void take_events(client *cl);
/* After the events: frees the connections that ended, closes the ones a GOAWAY emptied,
 * and returns the connection new requests go to, opening one if a GOAWAY calls for it
 * (NULL: none for now). */
connection *connection_for_requests(client *cl);
/* A new connection to the server, resuming `ticket` (NULL: a fresh one), with its HTTP/3
 * connection; the newest, so new requests go to it. NULL after printing why. */
connection *open_connection(client *cl, const uint8_t *ticket, size_t ticket_len);
/* The connection takes requests now: established, or sending 0-RTT. */
bool accepts_requests(const connection *c);
/* --rebind-after: once that many body bytes arrived, replaces the socket with a new one
 * (a new local port) and tells the endpoint (h3q_endpoint_rebind). False if the new
 * socket cannot be opened. */
bool rebind_when_due(client *cl);
/* --resume: once the first round is over, opens the resumed connection (resume.c). */
void resume_when_due(client *cl);
/* Closes every connection with H3_NO_ERROR (all done, or interrupted). */
void close_all(client *cl);
/* SIGINT/SIGTERM: cancels every request in flight, fails the rest, closes. */
void interrupt(client *cl, int sig);
/* Called from requests.c's event callback for the lifecycle events. */
void on_goaway(connection *c, uint64_t stream_id);
void on_connection_closed(connection *c, const h3q_event *ev);
/* A request of `c` the server did not process: settled once `c`'s events are handled. */
void reject_later(connection *c, request *r);
/* The request on `stream_id` of `c`, or NULL. */
request *request_of(connection *c, uint64_t stream_id);
/* Records `r` as the request on `c`'s stream `stream_id`. */
void add_stream(connection *c, request *r, uint64_t stream_id);

/* ---- requests.c --------------------------------------------------------------------- */

/* HTTP events of one connection (an h3q_event_cb; user data: the connection). */
void on_http_event(void *user_data, const h3q_event *ev);
/* Starts requests on `c` up to --parallel. */
void start_requests(client *cl, connection *c);
/* True while requests wait to be started (new or retried). */
bool requests_waiting(const client *cl);
/* The request failed for good (prints the FAILED line). */
void fail(client *cl, request *r, const char *why);
/* Fails every request not started yet (new or waiting for a retry). */
void fail_waiting(client *cl, const char *why);
/* A request the server did not process (H3_REQUEST_REJECTED, or refused with
 * H3Q_ERR_GOING_AWAY): queued to start again on a new connection, or failed. */
void rejected(client *cl, request *r, const char *why);
/* A request in flight on a connection that was lost: a GET is queued to start again on a
 * new connection (unless part of its response went to stdout); a POST fails with `why`. */
void connection_lost(client *cl, request *r, const char *why);
/* A request sent in 0-RTT that the server refused with the rest of the early data: sent
 * again on the same connection (it was not processed). */
void resend(client *cl, request *r, const char *why);
/* Feeds --data bodies while the streams have room. */
void feed_bodies(client *cl);
/* A priority as text, "u=N" or "u=N<sep>i" (sep: "," or ", "), into `out`. */
#define PRIORITY_TEXT_LEN 16
const char *priority_text(h3q_priority p, const char *sep, char out[PRIORITY_TEXT_LEN]);

#endif
