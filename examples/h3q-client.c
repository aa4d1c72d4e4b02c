/*
 * h3q-client: an HTTP/3 client on h3q's built-in QUIC layer over a UDP socket.
 *
 *   h3q-client [--ca FILE | --insecure] [--data FILE] [--output DIR] [--include]
 *              [--parallel N] [--repeat N] [-v] URL...
 *
 * Every URL (https://host[:port]/path, all with the same host and port) is fetched over one
 * QUIC connection, with up to N requests in flight (default 1). --data FILE makes each
 * request a POST with that file as its body. --output DIR writes each body to DIR/<last
 * path segment> (index.html for "/"); "-" writes bodies to stdout; without --output bodies
 * are counted and discarded. --include prints the response headers. --repeat N requests the
 * URL list N times (for benchmarks). Prints one line per response (status, bytes, path),
 * then a summary (requests, bytes, seconds, MB/s, req/s); a progress line on stderr when it
 * is a terminal. Exit status 0 when every request got a complete 2xx response, 1 if any
 * failed (connection error, other status, truncated body), 2 on a usage error.
 *
 * The event loop has the shape of h3q-server's (see there): ppoll() with a nanosecond
 * timeout for the endpoint's timer on CLOCK_MONOTONIC, recvmmsg in, poll_transmit out after every input, UDP_SEGMENT when the
 * kernel accepts it, and request bodies fed in chunks against an estimate of what is still
 * unsent.
 */
#define _GNU_SOURCE
#include <h3q.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#ifndef IP_PMTUDISC_PROBE
#define IP_PMTUDISC_PROBE 3
#endif
#ifndef IPV6_PMTUDISC_PROBE
#define IPV6_PMTUDISC_PROBE 3
#endif

#define H3_NO_ERROR 0x100
#define H3_REQUEST_CANCELLED 0x10c

#define CHUNK (64 * 1024)
#define BACKLOG_WINDOW (8u << 20)
#define PACKET_OVERHEAD 64
#define PACKET_OVERHEAD_MIN 20
#define STALL_NS (10 * 1000000ULL)
#define GSO_SEGMENTS 44                /* as in h3q-server.c */
#define TX_BUF (GSO_SEGMENTS * 1472)
#define RX_BATCH 32
#define RX_BUF 65536
#define PROGRESS_NS (250 * 1000000ULL)
#define CLOSE_WAIT_NS (1000 * 1000000ULL)
#define ATTEMPT_NS (1000 * 1000000ULL) /* per server address, to complete the handshake */

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static bool verbose;

static void vlog(const char *fmt, ...) {
    if (!verbose) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static h3q_header hdr(const char *name, const char *value) {
    h3q_header h = {(const uint8_t *)name, strlen(name), (const uint8_t *)value, strlen(value)};
    return h;
}

static bool hdr_is(const h3q_header *h, const char *name) {
    size_t n = strlen(name);
    return h->name_len == n && memcmp(h->name, name, n) == 0;
}

/* ---- state ---------------------------------------------------------------------------- */

typedef struct request {
    const char *path;       /* points into argv */
    uint64_t stream_id;
    bool started, head_seen, done, failed;
    int status;
    int64_t content_length; /* -1: none given */
    uint64_t received;
    uint64_t body_sent;     /* --data bytes handed to h3q */
    FILE *out;
    const char *why;        /* failure reason */
} request;

typedef struct client {
    int fd;
    h3q_endpoint *endpoint;
    h3q_quic_conn *quic;
    h3q_conn *h3;
    char host[256], port[8], authority[300];
    struct sockaddr_storage server;
    socklen_t server_len;
    request *reqs;
    size_t nreqs, next_req, first_active, in_flight, parallel, finished, failures;
    request **by_stream;    /* the request on client stream 4*k, or NULL */
    size_t nstreams;        /* requests started (each on its own stream) */
    bool established, terminated, closing;
    char close_reason[256];
    /* --data */
    int data_fd;
    uint64_t data_len;
    /* output */
    const char *output_dir;
    bool include;
    /* statistics */
    uint64_t bytes, start_ns, pushes;
    /* body pacing (as in h3q-server) */
    uint64_t queued, wire, wire_max, last_tx_ns, last_rx_ns, resync_rx_ns;
    bool starved;
    /* send state */
    bool gso;
    uint8_t *tx;
    size_t tx_len, tx_off, tx_seg;
    struct sockaddr_storage tx_dest;
    socklen_t tx_dest_len;
    bool tx_pending;
    uint8_t scratch[CHUNK];
} client;

/* ---- URLs ----------------------------------------------------------------------------- */

/* Splits https://host[:port]/path; host may be [v6]. Returns false if malformed. */
static bool parse_url(const char *url, char *host, size_t host_cap, char *port,
                      size_t port_cap, const char **path) {
    const char *p = url;
    if (strncmp(p, "https://", 8) != 0) return false;
    p += 8;
    const char *slash = strchr(p, '/');
    const char *end = slash ? slash : p + strlen(p);
    *path = slash ? slash : "/";
    const char *hs = p, *he, *ps = NULL;
    if (*p == '[') {
        const char *rb = memchr(p, ']', (size_t)(end - p));
        if (!rb) return false;
        hs = p + 1;
        he = rb;
        if (rb + 1 < end) {
            if (rb[1] != ':') return false;
            ps = rb + 2;
        }
    } else {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        he = colon ? colon : end;
        if (colon) ps = colon + 1;
    }
    size_t hl = (size_t)(he - hs), pl = ps ? (size_t)(end - ps) : 3;
    if (hl == 0 || hl >= host_cap || pl == 0 || pl >= port_cap) return false;
    memcpy(host, hs, hl);
    host[hl] = '\0';
    if (ps) {
        memcpy(port, ps, pl);
        port[pl] = '\0';
        for (size_t i = 0; i < pl; i++)
            if (port[i] < '0' || port[i] > '9') return false;
    } else {
        strcpy(port, "443");
    }
    return true;
}

/* ---- requests ------------------------------------------------------------------------- */

static void fail(client *cl, request *r, const char *why) {
    if (r->done) return;
    r->done = r->failed = true;
    r->why = why;
    cl->finished++;
    cl->failures++;
    if (r->started) cl->in_flight--;
    if (r->out && r->out != stdout) fclose(r->out);
    r->out = NULL;
    printf("FAILED %s: %s (status %d, %" PRIu64 " bytes)\n", r->path, why, r->status,
           r->received);
}

static void complete(client *cl, request *r) {
    if (r->done) return;
    if (r->status < 200 || r->status > 299) {
        fail(cl, r, "status is not 2xx");
        return;
    }
    if (r->content_length >= 0 && (uint64_t)r->content_length != r->received) {
        fail(cl, r, "body length differs from content-length");
        return;
    }
    r->done = true;
    cl->finished++;
    cl->in_flight--;
    if (r->out && r->out != stdout && fclose(r->out) != 0) {
        r->out = NULL;
        fail(cl, r, "writing the output file failed");
        return;
    }
    r->out = NULL;
    printf("%d %" PRIu64 " bytes %s\n", r->status, r->received, r->path);
}

static FILE *open_output(const char *dir, const char *path) {
    if (strcmp(dir, "-") == 0) return stdout;
    char name[512];
    const char *last = strrchr(path, '/');
    last = last ? last + 1 : path;
    size_t n = strcspn(last, "?#");
    if (n == 0 || (n == 1 && last[0] == '.') || (n == 2 && last[0] == '.' && last[1] == '.'))
        snprintf(name, sizeof name, "%s/index.html", dir);
    else
        snprintf(name, sizeof name, "%s/%.*s", dir, (int)n, last);
    FILE *f = fopen(name, "wb");
    if (!f) fprintf(stderr, "h3q-client: %s: %s\n", name, strerror(errno));
    return f;
}

static void start_requests(client *cl) {
    if (!cl->established || cl->terminated || cl->closing) return;
    while (cl->in_flight < cl->parallel && cl->next_req < cl->nreqs) {
        request *r = &cl->reqs[cl->next_req++];
        uint64_t id;
        if (h3q_quic_conn_get_next_available_stream_id(cl->quic, false, &id) != H3Q_OK) {
            fail(cl, r, "no stream available");
            continue;
        }
        char len[24];
        snprintf(len, sizeof len, "%" PRIu64, cl->data_len);
        bool post = cl->data_fd >= 0;
        h3q_header h[7] = {hdr(":method", post ? "POST" : "GET"), hdr(":scheme", "https"),
                           hdr(":authority", cl->authority), hdr(":path", r->path),
                           hdr("user-agent", "h3q-client/" H3Q_VERSION_STRING)};
        size_t n = 5;
        if (post) {
            h[n++] = hdr("content-type", "application/octet-stream");
            h[n++] = hdr("content-length", len);
        }
        r->started = true;
        r->stream_id = id;
        r->content_length = -1;
        cl->in_flight++;
        cl->nstreams++;
        if (id / 4 < cl->nreqs) cl->by_stream[id / 4] = r;
        h3q_result rc = h3q_conn_send_headers(cl->h3, id, h, n, !post || cl->data_len == 0);
        if (rc != H3Q_OK) {
            fail(cl, r, h3q_result_str(rc));
            continue;
        }
        if (cl->output_dir) {
            r->out = open_output(cl->output_dir, r->path);
            if (!r->out) fail(cl, r, "cannot open the output file");
        }
    }
}

static request *request_of(client *cl, uint64_t stream_id) {
    if (stream_id % 4 != 0 || stream_id / 4 >= cl->nreqs) return NULL;
    return cl->by_stream[stream_id / 4];
}

static void print_headers(const h3q_event *ev, const char *path) {
    printf("> %s\n", path);
    for (size_t i = 0; i < ev->headers_len; i++)
        printf("%.*s: %.*s\n", (int)ev->headers[i].name_len, (const char *)ev->headers[i].name,
               (int)ev->headers[i].value_len, (const char *)ev->headers[i].value);
    printf("\n");
}

static void on_http_event(void *user_data, const h3q_event *ev) {
    client *cl = user_data;
    if (ev->type == H3Q_EVENT_PUSH_PROMISE_RECEIVED) {
        cl->pushes++;
        vlog("push promise %" PRIu64 " on stream %" PRIu64, ev->push_id, ev->stream_id);
        return;
    }
    if (ev->has_push_id) return; /* a pushed response: accepted and ignored */
    request *r = request_of(cl, ev->stream_id);
    if (!r || r->done) return;
    if (ev->type == H3Q_EVENT_HEADERS_RECEIVED) {
        if (!r->head_seen) {
            int status = 0;
            for (size_t i = 0; i < ev->headers_len; i++) {
                const h3q_header *h = &ev->headers[i];
                char v[24];
                if (h->value_len >= sizeof v) continue;
                memcpy(v, h->value, h->value_len);
                v[h->value_len] = '\0';
                if (hdr_is(h, ":status")) status = atoi(v);
                else if (hdr_is(h, "content-length")) r->content_length = strtoll(v, NULL, 10);
            }
            if (cl->include) print_headers(ev, r->path);
            if (status >= 100 && status < 200) { /* interim response: wait for the final one */
                r->content_length = -1;
            } else {
                r->status = status;
                r->head_seen = true;
            }
        } else if (cl->include) {
            print_headers(ev, r->path); /* trailers */
        }
    } else if (ev->type == H3Q_EVENT_DATA_RECEIVED) {
        r->received += ev->data_len;
        cl->bytes += ev->data_len;
        if (r->out && ev->data_len && fwrite(ev->data, 1, ev->data_len, r->out) != ev->data_len)
            fail(cl, r, "writing the output failed");
    }
    if (ev->stream_ended && !r->done) {
        if (!r->head_seen) fail(cl, r, "stream ended without a response");
        else complete(cl, r);
    }
}

/* Request bodies, paced like h3q-server's response bodies: 64 KiB chunks while the
 * estimated unsent backlog (bytes given to h3q minus bytes seen leaving in datagrams) is
 * under BACKLOG_WINDOW. */
static uint64_t backlog(const client *cl) {
    return cl->queued > cl->wire ? cl->queued - cl->wire : 0;
}

static void feed_bodies(client *cl) {
    cl->starved = false;
    if (cl->data_fd < 0 || cl->terminated) return;
    for (;;) {
        bool any = false;
        /* Requests start in order: skip the finished ones at the front. */
        while (cl->first_active < cl->next_req && cl->reqs[cl->first_active].done)
            cl->first_active++;
        for (size_t i = cl->first_active; i < cl->next_req; i++) {
            request *r = &cl->reqs[i];
            if (r->done || r->body_sent >= cl->data_len) continue;
            if (backlog(cl) >= BACKLOG_WINDOW) {
                cl->starved = true;
                return;
            }
            any = true;
            uint64_t left = cl->data_len - r->body_sent;
            size_t n = left < CHUNK ? (size_t)left : CHUNK;
            ssize_t got = pread(cl->data_fd, cl->scratch, n, (off_t)r->body_sent);
            if (got <= 0) {
                h3q_quic_conn_reset_stream(cl->quic, r->stream_id, H3_REQUEST_CANCELLED);
                fail(cl, r, "reading --data failed");
                continue;
            }
            bool end = r->body_sent + (uint64_t)got == cl->data_len;
            if (h3q_conn_send_data(cl->h3, r->stream_id, cl->scratch, (size_t)got, end) !=
                H3Q_OK) {
                fail(cl, r, "sending the body failed");
                continue;
            }
            r->body_sent += (uint64_t)got;
            cl->queued += (uint64_t)got;
        }
        if (!any) return;
    }
}

static void drain_events(client *cl) {
    h3q_quic_event ev;
    while (h3q_quic_conn_next_event(cl->quic, &ev) == H3Q_OK) {
        h3q_result rc = h3q_conn_handle_event(cl->h3, &ev, on_http_event, cl);
        if (rc == H3Q_ERR_PROTOCOL)
            fprintf(stderr, "h3q-client: protocol error: %s\n", h3q_conn_last_error(cl->h3));
        request *r;
        switch (ev.type) {
        case H3Q_QUIC_HANDSHAKE_COMPLETED:
            cl->established = true;
            vlog("connected, ALPN %.*s", (int)ev.data_len, (const char *)ev.data);
            break;
        case H3Q_QUIC_STREAM_RESET:
            if ((r = request_of(cl, ev.stream_id)) && !r->done)
                fail(cl, r, "the server reset the stream");
            break;
        case H3Q_QUIC_STOP_SENDING_RECEIVED:
            /* The server needs no more of the request body: fine if it answered. */
            if ((r = request_of(cl, ev.stream_id)) && !r->done) r->body_sent = cl->data_len;
            break;
        case H3Q_QUIC_CONNECTION_TERMINATED:
            cl->terminated = true;
            snprintf(cl->close_reason, sizeof cl->close_reason,
                     "connection closed (0x%" PRIx64 " %.*s)", ev.error_code,
                     (int)ev.reason_len, (const char *)ev.reason);
            break;
        default:
            break;
        }
    }
}

/* ---- UDP (as in h3q-server) ----------------------------------------------------------- */

static bool send_pending(client *cl) {
    while (cl->tx_pending) {
        if (cl->gso && cl->tx_off == 0 && cl->tx_seg < cl->tx_len) {
            struct iovec iov = {cl->tx, cl->tx_len};
            union {
                char buf[CMSG_SPACE(sizeof(uint16_t))];
                struct cmsghdr align;
            } ctrl;
            memset(&ctrl, 0, sizeof ctrl);
            struct msghdr msg = {.msg_name = &cl->tx_dest, .msg_namelen = cl->tx_dest_len,
                                 .msg_iov = &iov, .msg_iovlen = 1,
                                 .msg_control = ctrl.buf, .msg_controllen = sizeof ctrl.buf};
            struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
            cm->cmsg_level = SOL_UDP;
            cm->cmsg_type = UDP_SEGMENT;
            cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
            uint16_t seg = (uint16_t)cl->tx_seg;
            memcpy(CMSG_DATA(cm), &seg, sizeof seg);
            if (sendmsg(cl->fd, &msg, 0) >= 0) {
                cl->tx_pending = false;
                return true;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
            if (errno == EINTR) continue;
            if (errno == EIO || errno == EINVAL || errno == EOPNOTSUPP) {
                vlog("UDP GSO failed (%s): sending datagrams one by one", strerror(errno));
                cl->gso = false;
                continue;
            }
            vlog("sendmsg: %s", strerror(errno));
            cl->tx_pending = false;
            return true;
        }
        size_t left = cl->tx_len - cl->tx_off;
        size_t n = left < cl->tx_seg ? left : cl->tx_seg;
        ssize_t r = sendto(cl->fd, cl->tx + cl->tx_off, n, 0,
                           (const struct sockaddr *)&cl->tx_dest, cl->tx_dest_len);
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
            if (errno == EINTR) continue;
            vlog("sendto: %s", strerror(errno));
        }
        cl->tx_off += n;
        if (cl->tx_off >= cl->tx_len) cl->tx_pending = false;
    }
    return true;
}

static bool flush_transmits(client *cl) {
    if (!send_pending(cl)) return false;
    for (;;) {
        size_t len, seg;
        uint64_t now = now_ns();
        h3q_result rc = h3q_endpoint_poll_transmit(cl->endpoint, now, cl->tx, TX_BUF, &len,
                                                   &cl->tx_dest, &cl->tx_dest_len, &seg);
        if (rc != H3Q_OK) return true;
        if (seg == 0) seg = len;
        for (size_t off = 0; off < len; off += seg) {
            size_t n = len - off < seg ? len - off : seg;
            if (n > PACKET_OVERHEAD) cl->wire += n - PACKET_OVERHEAD;
            if (n > PACKET_OVERHEAD_MIN) cl->wire_max += n - PACKET_OVERHEAD_MIN;
        }
        cl->last_tx_ns = now;
        cl->tx_len = len;
        cl->tx_seg = seg;
        cl->tx_off = 0;
        cl->tx_pending = true;
        if (!send_pending(cl)) return false;
    }
}

static void receive_all(client *cl, uint8_t *bufs, struct mmsghdr *msgs,
                        struct sockaddr_storage *from, char (*ctrl)[64]) {
    for (int round = 0; round < 16; round++) {
        struct iovec iov[RX_BATCH];
        for (int i = 0; i < RX_BATCH; i++) {
            iov[i].iov_base = bufs + (size_t)i * RX_BUF;
            iov[i].iov_len = RX_BUF;
            memset(&msgs[i], 0, sizeof msgs[i]);
            msgs[i].msg_hdr.msg_name = &from[i];
            msgs[i].msg_hdr.msg_namelen = sizeof from[i];
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_control = ctrl[i];
            msgs[i].msg_hdr.msg_controllen = 64;
        }
        int n = recvmmsg(cl->fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) return;
        uint64_t now = now_ns();
        cl->last_rx_ns = now;
        for (int i = 0; i < n; i++) {
            size_t len = msgs[i].msg_len, seg = len;
            for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr); cm;
                 cm = CMSG_NXTHDR(&msgs[i].msg_hdr, cm)) {
                if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
                    int gso;
                    memcpy(&gso, CMSG_DATA(cm), sizeof gso);
                    if (gso > 0) seg = (size_t)gso;
                }
            }
            h3q_endpoint_receive_segments(cl->endpoint, now, (const struct sockaddr *)&from[i],
                                          msgs[i].msg_hdr.msg_namelen,
                                          bufs + (size_t)i * RX_BUF, len, seg);
        }
        /* Handle what arrived before reading more, so acknowledgements go out. */
        drain_events(cl);
        start_requests(cl);
        feed_bodies(cl);
        flush_transmits(cl);
        if (n < RX_BATCH) return;
    }
}

/* ---- connecting ----------------------------------------------------------------------- */

/* Path MTU discovery needs the don't-fragment bit: with IP_PMTUDISC_PROBE the kernel sets
 * it on every datagram and never fragments, so a probe too big for the path is lost (QUIC
 * notices and settles on a smaller size) instead of arriving in pieces. True when the
 * socket took it (for IPv6 both options: a dual-stack socket also carries IPv4). */
static bool set_dont_fragment(int fd, int family) {
    int probe = IP_PMTUDISC_PROBE, probe6 = IPV6_PMTUDISC_PROBE;
    bool v4 = setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof probe) == 0;
    if (family != AF_INET6) return v4;
    return v4 && setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &probe6, sizeof probe6) == 0;
}

/* Opens a UDP socket for `ai`'s family, an endpoint, the QUIC connection (SNI = the URL's
 * host) and the HTTP/3 connection over it. Returns 0, or -1 after printing why. */
static int connect_to(client *cl, const struct addrinfo *ai, const char *ca) {
    memcpy(&cl->server, ai->ai_addr, ai->ai_addrlen);
    cl->server_len = ai->ai_addrlen;
    cl->fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (cl->fd < 0) {
        perror("h3q-client: socket");
        return -1;
    }
    int size = 8 << 20, seg = 1200, on = 1;
    setsockopt(cl->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(cl->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    cl->gso = setsockopt(cl->fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof seg) == 0;
    if (cl->gso) {
        seg = 0;
        setsockopt(cl->fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof seg);
    }
    setsockopt(cl->fd, SOL_UDP, UDP_GRO, &on, sizeof on);
    bool pmtud = set_dont_fragment(cl->fd, ai->ai_family);

    h3q_config *config;
    if (h3q_config_new(false, &config) != H3Q_OK) return -1;
    h3q_result rc = ca ? h3q_config_load_ca_file(config, ca)
                       : h3q_config_set_verify_peer(config, false);
    /* Give up on a silent server after 30 s (the default is 60). */
    if (rc == H3Q_OK) rc = h3q_config_set_idle_timeout_ms(config, 30000);
    if (rc == H3Q_OK && getenv("SSLKEYLOGFILE"))
        rc = h3q_config_set_key_log_file(config, getenv("SSLKEYLOGFILE"));
    if (rc == H3Q_OK && cl->gso) rc = h3q_config_set_max_gso_segments(config, GSO_SEGMENTS);
    if (rc == H3Q_OK && pmtud) rc = h3q_config_set_mtu_discovery(config, true);
    if (rc == H3Q_OK) rc = h3q_endpoint_new(config, &cl->endpoint);
    if (rc != H3Q_OK) {
        const char *msg = h3q_config_last_error(config);
        fprintf(stderr, "h3q-client: %s\n", msg ? msg : h3q_last_error());
        h3q_config_free(config);
        return -1;
    }
    h3q_config_free(config);
    rc = h3q_endpoint_connect(cl->endpoint, now_ns(), (const struct sockaddr *)&cl->server,
                              cl->server_len, cl->host, &cl->quic);
    if (rc == H3Q_OK) rc = h3q_conn_new_quic(cl->quic, NULL, &cl->h3);
    if (rc != H3Q_OK) {
        fprintf(stderr, "h3q-client: connect: %s\n", h3q_last_error());
        return -1;
    }
    return 0;
}

static void disconnect(client *cl) {
    h3q_conn_free(cl->h3);
    h3q_quic_conn_free(cl->quic);
    h3q_endpoint_free(cl->endpoint);
    if (cl->fd >= 0) close(cl->fd);
    cl->h3 = NULL;
    cl->quic = NULL;
    cl->endpoint = NULL;
    cl->fd = -1;
    cl->tx_pending = false;
}

/* ---- main ----------------------------------------------------------------------------- */

static void usage(FILE *f) {
    fputs("usage: h3q-client [--ca FILE | --insecure] [--data FILE] [--output DIR] [--include]\n"
          "                  [--parallel N] [--repeat N] [-v] URL...\n"
          "  --ca FILE       trust the CA certificates in FILE (PEM)\n"
          "  --insecure      do not verify the server's certificate (local testing only)\n"
          "  --data FILE     POST the contents of FILE with every request\n"
          "  --output DIR    write each body to DIR/<last path segment> ('-': stdout)\n"
          "  --include       print response headers\n"
          "  --parallel N    requests in flight at once (default 1)\n"
          "  --repeat N      request the URL list N times\n"
          "  -v              log connection events to stderr\n"
          "URLs: https://host[:port]/path, all with the same host and port.\n",
          f);
}

static void progress(client *cl, uint64_t now, bool final) {
    double secs = (double)(now - cl->start_ns) / 1e9;
    if (final) {
        fputs("\r\033[K", stderr);
        return;
    }
    fprintf(stderr, "\r\033[K%zu/%zu requests, %.1f MB, %.1f MB/s", cl->finished, cl->nreqs,
            (double)cl->bytes / 1e6, secs > 0 ? (double)cl->bytes / 1e6 / secs : 0.0);
}

int main(int argc, char **argv) {
    static client cl;
    const char *ca = NULL, *data = NULL;
    bool insecure = false;
    long parallel = 1, repeat = 1;
    int first_url = argc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--ca") == 0 && has_value) {
            ca = argv[++i];
        } else if (strcmp(a, "--insecure") == 0 || strcmp(a, "-k") == 0) {
            insecure = true;
        } else if (strcmp(a, "--data") == 0 && has_value) {
            data = argv[++i];
        } else if (strcmp(a, "--output") == 0 && has_value) {
            cl.output_dir = argv[++i];
        } else if (strcmp(a, "--include") == 0 || strcmp(a, "-i") == 0) {
            cl.include = true;
        } else if (strcmp(a, "--parallel") == 0 && has_value) {
            parallel = strtol(argv[++i], NULL, 10);
        } else if (strcmp(a, "--repeat") == 0 && has_value) {
            repeat = strtol(argv[++i], NULL, 10);
        } else if (strcmp(a, "-v") == 0) {
            verbose = true;
        } else if (a[0] == '-') {
            fprintf(stderr, "h3q-client: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        } else {
            first_url = i;
            break;
        }
    }
    int nurls = argc - first_url;
    if (nurls <= 0 || parallel < 1 || parallel > 100000 || repeat < 1 || repeat > 10000000 ||
        (ca && insecure) || (!ca && !insecure)) {
        if (!ca && !insecure && nurls > 0)
            fputs("h3q-client: give --ca FILE to verify the server, or --insecure\n", stderr);
        usage(stderr);
        return 2;
    }
    /* Result lines are written in batches: stdout is flushed before every sleep (see
     * h3q-server.c). */
    static char out_buf[1 << 16];
    setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf);
    cl.parallel = (size_t)parallel;
    cl.data_fd = -1;

    /* URLs: one authority for all. */
    cl.nreqs = (size_t)nurls * (size_t)repeat;
    cl.reqs = calloc(cl.nreqs, sizeof *cl.reqs);
    cl.by_stream = calloc(cl.nreqs, sizeof *cl.by_stream);
    if (!cl.reqs || !cl.by_stream) return 1;
    for (int u = 0; u < nurls; u++) {
        char host[256], port[8];
        const char *path;
        if (!parse_url(argv[first_url + u], host, sizeof host, port, sizeof port, &path)) {
            fprintf(stderr, "h3q-client: not an https://host[:port]/path URL: %s\n",
                    argv[first_url + u]);
            return 2;
        }
        if (u == 0) {
            strcpy(cl.host, host);
            strcpy(cl.port, port);
            snprintf(cl.authority, sizeof cl.authority, strchr(host, ':') ? "[%s]:%s" : "%s:%s",
                     host, port);
        } else if (strcmp(host, cl.host) != 0 || strcmp(port, cl.port) != 0) {
            fprintf(stderr, "h3q-client: %s: every URL must have the authority %s\n",
                    argv[first_url + u], cl.authority);
            return 2;
        }
        for (long k = 0; k < repeat; k++) cl.reqs[(size_t)k * (size_t)nurls + (size_t)u].path = path;
    }
    if (data) {
        cl.data_fd = open(data, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (cl.data_fd < 0 || fstat(cl.data_fd, &st) != 0) {
            fprintf(stderr, "h3q-client: %s: %s\n", data, strerror(errno));
            return 1;
        }
        cl.data_len = (uint64_t)st.st_size;
    }

    /* Resolve the server; try its addresses in turn (see connect_to). */
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM}, *res;
    int err = getaddrinfo(cl.host, cl.port, &hints, &res);
    if (err) {
        fprintf(stderr, "h3q-client: %s: %s\n", cl.host, gai_strerror(err));
        return 1;
    }
    const struct addrinfo *addr = res;
    cl.start_ns = now_ns();
    if (connect_to(&cl, addr, ca) != 0) {
        freeaddrinfo(res);
        return 1;
    }
    uint64_t attempt_ns = cl.start_ns;

    cl.tx = malloc(TX_BUF);
    uint8_t *rx = malloc((size_t)RX_BATCH * RX_BUF);
    struct mmsghdr *msgs = calloc(RX_BATCH, sizeof *msgs);
    struct sockaddr_storage *from = calloc(RX_BATCH, sizeof *from);
    char (*ctrl)[64] = calloc(RX_BATCH, 64);
    if (!cl.tx || !rx || !msgs || !from || !ctrl) return 1;

    bool tty = isatty(STDERR_FILENO), shown = false, closing = false;
    uint64_t next_progress = cl.start_ns + 1000000000ULL, close_deadline = 0;
    for (;;) {
        uint64_t now = now_ns();
        /* A name may resolve to several addresses (localhost: ::1 and 127.0.0.1): when one
         * gives no handshake within a second, try the next. */
        if (!cl.established && !cl.terminated && addr->ai_next &&
            now - attempt_ns >= ATTEMPT_NS) {
            disconnect(&cl);
            addr = addr->ai_next;
            vlog("no answer from the first address, trying the next");
            if (connect_to(&cl, addr, ca) != 0) break;
            attempt_ns = now;
        }
        if (now >= h3q_endpoint_next_timeout(cl.endpoint))
            h3q_endpoint_handle_timeout(cl.endpoint, now);
        drain_events(&cl);
        if (cl.terminated) /* whatever is still open can no longer complete */
            for (size_t i = 0; i < cl.nreqs; i++)
                if (!cl.reqs[i].done) fail(&cl, &cl.reqs[i], cl.close_reason);
        start_requests(&cl);
        flush_transmits(&cl);
        now = now_ns();
        if (cl.starved && cl.last_rx_ns > cl.last_tx_ns && cl.last_rx_ns > cl.resync_rx_ns &&
            now - cl.last_tx_ns >= STALL_NS) { /* see h3q-server.c, "Body pacing" */
            uint64_t most = cl.wire_max < cl.queued ? cl.wire_max : cl.queued;
            if (most > cl.wire) cl.wire = most;
            cl.resync_rx_ns = cl.last_rx_ns;
        }
        feed_bodies(&cl);
        bool sent_all = flush_transmits(&cl);

        if (cl.finished == cl.nreqs && !closing) {
            /* Done: close with H3_NO_ERROR and send the CONNECTION_CLOSE. */
            closing = cl.closing = true;
            close_deadline = now + CLOSE_WAIT_NS;
            h3q_quic_conn_close(cl.quic, H3_NO_ERROR, NULL, 0);
            continue;
        }
        if (closing && (sent_all || now >= close_deadline)) break;
        if (tty && now >= next_progress) {
            progress(&cl, now, false);
            shown = true;
            next_progress = now + PROGRESS_NS;
        }

        uint64_t wake = h3q_endpoint_next_timeout(cl.endpoint);
        if (!cl.established && addr->ai_next && wake > attempt_ns + ATTEMPT_NS)
            wake = attempt_ns + ATTEMPT_NS;
        if (cl.starved && wake > now + STALL_NS) wake = now + STALL_NS;
        if (tty && wake > next_progress) wake = next_progress;
        if (closing && wake > close_deadline) wake = close_deadline;
        now = now_ns();
        struct timespec ts = {0, 0}, *timeout = NULL;
        if (wake != UINT64_MAX) {
            uint64_t d = wake > now ? wake - now : 0;
            ts.tv_sec = (time_t)(d / 1000000000ULL);
            ts.tv_nsec = (long)(d % 1000000000ULL);
            timeout = &ts;
        }
        fflush(stdout);
        struct pollfd pfd = {.fd = cl.fd, .events = POLLIN | (sent_all ? 0 : POLLOUT)};
        int n = ppoll(&pfd, 1, timeout, NULL);
        if (n < 0 && errno != EINTR) {
            perror("h3q-client: poll");
            break;
        }
        if (n > 0 && (pfd.revents & POLLIN)) receive_all(&cl, rx, msgs, from, ctrl);
    }
    if (shown) progress(&cl, now_ns(), true);
    for (size_t i = 0; i < cl.nreqs; i++) /* after an error that ended the loop early */
        if (!cl.reqs[i].done) fail(&cl, &cl.reqs[i], "not completed");

    uint64_t end = now_ns();
    double secs = (double)(end - cl.start_ns) / 1e9;
    printf("%zu requests (%zu failed), %" PRIu64 " bytes in %.3f s: %.2f MB/s, %.1f req/s\n",
           cl.nreqs, cl.failures, cl.bytes, secs, secs > 0 ? (double)cl.bytes / 1e6 / secs : 0.0,
           secs > 0 ? (double)cl.nreqs / secs : 0.0);
    if (cl.pushes) vlog("%" PRIu64 " server push(es) received and ignored", cl.pushes);

    for (size_t i = 0; i < cl.nreqs; i++)
        if (cl.reqs[i].out && cl.reqs[i].out != stdout) fclose(cl.reqs[i].out);
    disconnect(&cl);
    freeaddrinfo(res);
    if (cl.data_fd >= 0) close(cl.data_fd);
    free(cl.reqs);
    free(cl.by_stream);
    free(cl.tx);
    free(rx);
    free(msgs);
    free(from);
    free(ctrl);
    return cl.failures ? 1 : 0;
}
