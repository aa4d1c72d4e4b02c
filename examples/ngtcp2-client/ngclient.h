/*
 * h3q-ngtcp2-client's state and the functions its files share: h3q's HTTP/3 layer over
 * ngtcp2's QUIC (Debian's libngtcp2 0.12 with its GnuTLS helper). One concern per file:
 *
 *   main.c       options, the request list, the event loop, the summary and exit status
 *   tls.c        GnuTLS: trust (--ca / --insecure), certificate verification, ALPN h3, SNI,
 *                and a failed handshake as text
 *   quic.c       the ngtcp2 connection: UDP socket, the callbacks, reading and writing
 *                packets, timers, closing, and how the connection ended
 *   transport.c  the h3q_transport table over that connection (stream ids, send buffers
 *                with flow control, resets, STOP_SENDING, close) and ngtcp2's stream
 *                callbacks given to h3q as h3q_quic_events
 *   requests.c   requests: starting them, their HTTP/3 events, bodies out, result lines
 *
 * Ownership, in one place: `client` (a static in main.c) owns everything. Its `quic`
 * owns the socket, the ngtcp2_conn and the GnuTLS session; its `streams` list owns every
 * byte queued for sending (ngtcp2 keeps pointers into those bytes until the peer
 * acknowledges them, see transport.c); `h3` is the h3q connection, created once the
 * 1-RTT keys are in place (its transport table points at `client`, which outlives it).
 * Teardown order (client_free in main.c): the h3q connection first (it may still call the
 * transport), then the ngtcp2 connection (which reads the send buffers until then), the
 * send buffers, the TLS session (ngtcp2 used it) and the output files.
 *
 * Requests: `reqs` holds one per URL, in order; `by_stream[k]` is the one sent on stream
 * 4*k. Bytes received are handed on (--output, --sha256) as they arrive, never kept.
 */
#ifndef H3Q_NGTCP2_CLIENT_H
#define H3Q_NGTCP2_CLIENT_H

#include "ex_sha256.h"

#include <h3q.h>

#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define UDP_PAYLOAD_MAX 1452            /* our largest datagram (ngtcp2's PMTUD ceiling) */
#define HANDSHAKE_TIMEOUT_NS (10 * NGTCP2_SECONDS)
#define IDLE_TIMEOUT_NS (30 * NGTCP2_SECONDS)
/* Receive windows: what the server may send ahead of what h3q has taken. h3q hands DATA
 * to the program as it arrives, so the windows are given back at once (transport.c). */
#define STREAM_WINDOW (16u << 20)
#define CONN_WINDOW (32u << 20)
/* --data: request body bytes read and given to h3q at a time, and the most that may wait
 * unsent in a stream's send buffer before the client stops reading the file (flow
 * control holds them back): the back-pressure that bounds memory to about this much per
 * request, whatever the file's size. */
#define BODY_CHUNK (64 * 1024)
#define BODY_WINDOW (1u << 20)
#define BODY_BACKLOG (8u << 20) /* the same, for all request streams together */

/* ---- options and requests ------------------------------------------------------------ */

typedef struct options {
    const char *ca;          /* --ca FILE (PEM), or NULL */
    bool insecure;           /* --insecure */
    const char *output_dir;  /* --output DIR ("-": stdout), or NULL: bodies discarded */
    const char *data;        /* --data FILE: every request POSTs it, or NULL: GETs */
    bool sha256;             /* --sha256 */
    const char **urls;       /* point into argv */
    int nurls;
} options;

typedef struct request {
    const char *path;        /* points into argv */
    int64_t stream_id;       /* -1 until started */
    bool started, head_seen, done, failed;
    int status;
    int64_t content_length;  /* -1 without a content-length field */
    uint64_t received;
    uint64_t body_sent;      /* --data bytes given to h3q */
    FILE *out;               /* owned (closed in client_free), or stdout, or NULL */
    ex_sha256 sha;           /* with --sha256 */
} request;

/* ---- the QUIC connection (quic.c, tls.c) --------------------------------------------- */

typedef struct tls_session {
    gnutls_certificate_credentials_t cred;
    gnutls_session_t session;
    const char *host;        /* what the certificate must name (the URL's host) */
    bool verify;             /* false with --insecure */
    char verify_error[512];  /* why verification failed, or "" */
} tls_session;

typedef struct quic_link {
    int fd;                                   /* connected UDP socket */
    struct sockaddr_storage local, remote;
    socklen_t local_len, remote_len;
    ngtcp2_conn *conn;                        /* owned */
    ngtcp2_crypto_conn_ref conn_ref;          /* GnuTLS's way back to `conn` */
    tls_session tls;
    bool handshake_done;
    int app_keys;                             /* 1-RTT keys installed (rx, tx): 2 = ready */
    uint8_t pending[UDP_PAYLOAD_MAX];         /* a packet the socket had no room for */
    size_t pending_len;
    /* A close asked for from inside an ngtcp2 callback (h3q's transport close): done by
     * the loop, which may write packets. */
    bool close_requested;
    uint64_t close_code;
    char close_reason[128];
    bool closed;                              /* CONNECTION_CLOSE written, or draining */
    char callback_error[256];                 /* why one of our callbacks failed ngtcp2 */
    bool ended;                               /* the end was reported to h3q (quic.c) */
} quic_link;

/* ---- the h3q transport (transport.c) --------------------------------------------------- */

/* Bytes queued on a stream. A chunk never moves or changes once bytes are in it: ngtcp2
 * reads the written ones again to retransmit them, until the peer acknowledges them. */
typedef struct send_chunk {
    struct send_chunk *next;
    size_t len, cap;
    uint8_t data[];
} send_chunk;

/* Our sending side of one stream we opened. Offsets count stream bytes from 0. */
typedef struct send_stream {
    struct send_stream *next;
    int64_t id;
    send_chunk *head, *tail;  /* head holds the oldest unacknowledged byte */
    uint64_t head_offset;     /* stream offset of head->data[0] */
    uint64_t queued;          /* end of what h3q gave */
    uint64_t written;         /* end of what ngtcp2 has taken into packets */
    bool fin_queued, fin_written;
    bool blocked;             /* flow control: waiting for MAX_STREAM_DATA */
    bool shut;                /* reset by us or stopped by the peer: write no more */
} send_stream;

typedef struct client client;

/* ---- the client ------------------------------------------------------------------------ */

struct client {
    const options *opt;
    char host[256], port[8], authority[300];
    request *reqs;
    request **by_stream;        /* the request on stream 4*k, at k (ids go in order) */
    size_t nreqs, next_start, finished, failures;
    uint64_t bytes, start_ns;
    int data_fd;                /* --data FILE, or -1 */
    uint64_t data_len;
    quic_link quic;
    send_stream *streams;       /* every stream we opened that ngtcp2 has not closed, in
                                 * the order opened (the order they are written in) */
    int64_t next_bidi, next_uni; /* ids get_next_available_stream_id gives */
    h3q_conn *h3;
    bool going_away;            /* the server sent GOAWAY: start nothing more */
    char close_text[384];       /* H3Q_EVENT_CONNECTION_CLOSED as text */
};

/* tls.c: returns false after printing why. */
bool tls_setup(client *cl);
void tls_free(tls_session *tls);
/* Why the handshake failed, from what GnuTLS and ngtcp2 recorded, into `out`. */
void tls_describe_failure(client *cl, char *out, size_t cap);
/* True when the server chose ALPN "h3". */
bool tls_alpn_is_h3(tls_session *tls);

/* quic.c */
bool quic_connect(client *cl, const struct addrinfo *addr);
/* Reads every waiting datagram into ngtcp2; false once the connection is over. */
bool quic_read(client *cl);
/* Runs ngtcp2's timers if due; false once the connection is over. */
bool quic_handle_expiry(client *cl);
/* Writes what ngtcp2 has to send (stream data, acknowledgements, ...); false once the
 * connection is over. `*want_out` is set when the socket was full. */
bool quic_flush(client *cl, bool *want_out);
/* Closes with an HTTP/3 code (CONNECTION_CLOSE type 0x1d), sends it, and reports the end
 * to h3q. */
void quic_close(client *cl, uint64_t app_code, const char *reason);
void quic_free(quic_link *q);

/* transport.c */
bool transport_open_h3(client *cl);           /* h3q_conn_new over ngtcp2 */
/* Points `v` (room for `max`) at `s`'s bytes not yet written, sets `*nv` and `*fin` (the
 * FIN goes with them), and returns how many bytes they are. */
size_t transport_pending(send_stream *s, ngtcp2_vec *v, size_t *nv, size_t max, bool *fin);
/* ngtcp2 took `n` of those bytes (and the FIN, when `fin_sent`). */
void transport_wrote(send_stream *s, size_t n, bool fin_sent);
/* Bytes queued on our stream `stream_id` that ngtcp2 has not taken yet: what the request
 * bodies are paced by. UINT64_MAX ("no room, ever") once nothing more can be sent on it:
 * reset, stopped by the peer (ngtcp2 then resets it), or closed. */
uint64_t transport_unsent(client *cl, int64_t stream_id);
/* The same, summed over every stream we opened. */
uint64_t transport_unsent_total(client *cl);
void transport_free_streams(client *cl);
/* The ngtcp2 callbacks that carry stream events into h3q (quic.c installs them). */
int on_recv_stream_data(ngtcp2_conn *conn, uint32_t flags, int64_t stream_id, uint64_t offset,
                        const uint8_t *data, size_t datalen, void *user_data,
                        void *stream_user_data);
int on_acked_stream_data_offset(ngtcp2_conn *conn, int64_t stream_id, uint64_t offset,
                                uint64_t datalen, void *user_data, void *stream_user_data);
int on_stream_close(ngtcp2_conn *conn, uint32_t flags, int64_t stream_id,
                    uint64_t app_error_code, void *user_data, void *stream_user_data);
int on_stream_reset(ngtcp2_conn *conn, int64_t stream_id, uint64_t final_size,
                    uint64_t app_error_code, void *user_data, void *stream_user_data);
int on_extend_max_stream_data(ngtcp2_conn *conn, int64_t stream_id, uint64_t max_data,
                              void *user_data, void *stream_user_data);
/* Gives h3q one QUIC event (handshake completed, connection terminated). */
void transport_feed(client *cl, const h3q_quic_event *ev);

/* requests.c */
void start_requests(client *cl);
/* --data: gives h3q more of each request body while its stream has room (BODY_WINDOW). */
void feed_bodies(client *cl);
void on_http_event(void *user_data, const h3q_event *ev);
void fail_request(client *cl, request *r, const char *why);
/* Fails every request not finished yet (the connection is gone). */
void fail_unfinished(client *cl, const char *why);
void close_outputs(client *cl);

#endif
