/*
 * endpoint_pair.h: an h3q client and server in one process, over h3q's built-in QUIC
 * layer, exchanging datagrams in memory on a simulated clock.
 *
 * The server is 127.0.0.1:4433, the client 127.0.0.1:50000 (fake addresses: no socket is
 * opened). pair_run() moves every datagram each endpoint wants to send to the other one
 * (GSO batches split by segment size; at once, or after a fixed one-way latency), accepts new server connections (each gets an
 * h3q_conn), feeds every QUIC event through h3q_conn_handle_event(), and when nothing
 * moves advances the clock to the earliest endpoint timeout (or datagram arrival). Every run is bounded by an
 * iteration count and a simulated-time limit, so a bug cannot hang a test.
 *
 * HTTP events of the client connection are recorded per stream (pair_response); those of
 * server connections go to the server handler given in the options.
 */
#ifndef H3Q_ENDPOINT_PAIR_H
#define H3Q_ENDPOINT_PAIR_H

#include "h3q.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAIR_SERVER_PORT 4433
#define PAIR_CLIENT_PORT 50000
#define PAIR_MAX_SERVER_CONNS 4
/* Per response, the first events are logged for order checks. */
#define PAIR_LOG_EVENTS 8
#define PAIR_SMALL_BODY 4096

struct pair;

/* One QUIC connection and the HTTP/3 connection over it. */
typedef struct pair_conn {
    struct pair *pair;
    bool is_server;
    h3q_quic_conn *quic;
    h3q_conn *h3;
    unsigned handshake_events;   /* H3Q_QUIC_HANDSHAKE_COMPLETED seen */
    char handshake_alpn[32];     /* the ALPN that event carried, NUL-terminated */
    unsigned terminated_events;  /* H3Q_QUIC_CONNECTION_TERMINATED seen */
    uint64_t terminated_code;
    char terminated_reason[64];
    unsigned events_after_termination;
    int handle_event_errors;     /* h3q_conn_handle_event() calls that did not return OK */
    const uint8_t *quic_data;    /* the payload of the QUIC event being handled */
    size_t quic_data_len;
    unsigned data_shared;        /* DATA events whose bytes lie inside that payload */
    unsigned data_copied;        /* DATA events whose bytes h3q copied elsewhere */
    void *app;                   /* the server handler's state: malloc'd by the handler,
                                    freed by pair_free() */
} pair_conn;

/* One logged HTTP event of a response. */
typedef struct pair_logged {
    h3q_event_type type;
    bool stream_ended;
    int status;           /* :status of a HEADERS event, 0 if none */
    char field[96];       /* the first regular field as "name: value" (HEADERS) */
    size_t data_len;      /* DATA */
} pair_logged;

/* What the client received on one stream (a request stream or a push stream). */
typedef struct pair_response {
    uint64_t stream_id;
    bool has_push_id;
    uint64_t push_id;
    int status;           /* the last :status seen (final response) */
    unsigned headers_events;
    unsigned data_events;
    bool ended;
    unsigned events_after_end;
    uint64_t body_len;
    uint64_t body_hash;   /* FNV-1a 64 of the whole body */
    bool body_is_pattern; /* every byte so far equals pair_pattern_byte(offset) */
    uint8_t small_body[PAIR_SMALL_BODY]; /* the first bytes of the body */
    unsigned first_seq;   /* the client's event sequence number of the first event */
    unsigned nlog;
    pair_logged log[PAIR_LOG_EVENTS];
} pair_response;

/* A PUSH_PROMISE the client received. */
typedef struct pair_promise {
    uint64_t request_stream_id;
    uint64_t push_id;
    char path[64];
    unsigned seq;
} pair_promise;

/* An HTTP datagram one side received. */
typedef struct pair_datagram {
    uint64_t stream_id;
    size_t len;
    uint8_t data[256];
} pair_datagram;

/* The server application: called for every HTTP event of a server connection. */
typedef void (*pair_server_handler)(pair_conn *conn, const h3q_event *event);

typedef struct pair_options {
    bool client_verify_off;            /* h3q_config_set_verify_peer(false), no CA */
    bool client_trusts_server;         /* add the server's certificate PEM as a CA */
    const uint8_t *client_ca_pem;      /* if set, trust this PEM instead of the server's */
    size_t client_ca_pem_len;
    const char *server_name;           /* SNI and verified name; default "localhost" */
    uint64_t max_datagram_frame_size;  /* both sides; 0 leaves datagrams disabled */
    bool enable_webtransport;          /* h3q_settings on both sides (H3_DATAGRAM) */
    size_t server_gso_segments;        /* h3q_config_set_max_gso_segments on the server */
    bool server_lent_transmit;         /* the server sends with h3q_endpoint_poll_transmit_lent */
    bool mtu_discovery;                /* h3q_config_set_mtu_discovery on both sides */
    uint64_t latency_ns;               /* one-way delay; 0 delivers at once */
    pair_server_handler server_handler;
} pair_options;

typedef struct pair {
    uint64_t now;                      /* the simulated clock, ns */
    h3q_endpoint *server;
    h3q_endpoint *client;
    struct sockaddr_in server_addr;
    struct sockaddr_in client_addr;
    h3q_settings settings;
    uint8_t server_fingerprint[32];    /* from h3q_config_generate_self_signed() */
    pair_server_handler server_handler;
    pair_conn client_conn;
    pair_conn server_conns[PAIR_MAX_SERVER_CONNS];
    size_t nserver_conns;
    /* Client-side records. */
    pair_response *responses;
    size_t nresponses;
    size_t cap_responses;
    pair_promise promises[8];
    size_t npromises;
    pair_datagram client_datagrams[8];
    size_t nclient_datagrams;
    unsigned client_seq;               /* HTTP events the client has seen */
    /* Network statistics. */
    uint64_t datagrams_to_server;
    uint64_t datagrams_to_client;
    uint64_t gso_batches;
    size_t largest_datagram;           /* the largest datagram delivered, either way */
    uint64_t bad_destinations;         /* transmits addressed to neither peer */
    uint64_t timeouts;                 /* clock advances */
    uint64_t iterations;
    int errors;                        /* unexpected h3q results inside the harness */
    bool trace;                        /* print every QUIC and HTTP event (debugging) */
    uint8_t *transmit_buf;
    bool server_lent_transmit;         /* pair_options.server_lent_transmit */
    /* Datagrams on the wire (latency_ns > 0), oldest first. */
    uint64_t latency_ns;
    struct pair_inflight *wire_head;
    struct pair_inflight *wire_tail;
} pair;

/* The options of a normal pair: the client trusts the server's generated certificate for
 * "localhost", datagrams up to 65535 bytes on both sides, no WebTransport settings. */
pair_options pair_options_default(void);

/* Builds both endpoints and starts the client's connection (and its h3q_conn). Returns
 * NULL (after printing why) on failure. */
pair *pair_new(const pair_options *options);

/* Frees every handle the pair owns. NULL is a no-op. */
void pair_free(pair *p);

/* Runs until done(p, arg) is true (checked after every step; done is required). Returns
 * false if it did not become true within max_sim_ns of simulated time from now, when
 * nothing can happen any more (no datagram, no timer), or after 2,000,000 steps. */
bool pair_run(pair *p, bool (*done)(pair *p, void *arg), void *arg, uint64_t max_sim_ns);

/* Runs until both sides completed the handshake and each received the other's SETTINGS. */
bool pair_settle(pair *p);

/* The first server connection, or NULL before one was accepted. */
pair_conn *pair_server_conn(pair *p);

/* The client's record for stream_id, or NULL. */
pair_response *pair_response_for(pair *p, uint64_t stream_id);

/* Opens a request stream on the client and sends its HEADERS (:method, :scheme https,
 * :authority localhost, :path). Returns the stream id, or UINT64_MAX on failure. */
uint64_t pair_request(pair *p, const char *method, const char *path, bool end_stream);

/* The byte at `offset` of a generated body. */
uint8_t pair_pattern_byte(uint64_t offset);

/* Fills buf with the generated body bytes from `offset`. */
void pair_pattern_fill(uint8_t *buf, size_t len, uint64_t offset);

/* 64-bit FNV-1a: start with PAIR_FNV_INIT, fold in any number of buffers. */
#define PAIR_FNV_INIT 0xcbf29ce484222325ULL
uint64_t pair_fnv1a(uint64_t hash, const uint8_t *data, size_t len);

/* A header field built from two string literals or NUL-terminated strings. */
h3q_header pair_header(const char *name, const char *value);

/* The value of `name` in headers as a NUL-terminated copy in out (cap bytes); false if
 * absent. */
bool pair_find_header(const h3q_header *headers, size_t n, const char *name, char *out,
                      size_t cap);

#endif /* H3Q_ENDPOINT_PAIR_H */
