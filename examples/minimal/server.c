/*
 * minimal-server [PORT]: a first HTTP/3 server on h3q. On 127.0.0.1:PORT (default 4433; 0
 * picks one, printed as "listening on 127.0.0.1:PORT"), with a generated self-signed
 * certificate for "localhost", it answers every request with 200 and a line naming the
 * path. SIGINT or SIGTERM: close, free everything, exit 0. The loop is the one of
 * "Lifecycle and event loop" in h3q.h (steps numbered alike): one UDP socket, poll().
 * examples/server/ (h3q-server) does the same job at scale.
 */
#define _POSIX_C_SOURCE 200809L
#include <h3q.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Our state for one connection, kept by h3q as the connection's user data. */
typedef struct conn {
    struct conn *next;
    h3q_quic_conn *quic; /* the QUIC connection */
    h3q_conn *h3;        /* HTTP/3 over it */
} conn;

static conn *conns;                /* every connection we hold */
static volatile sig_atomic_t stop; /* set by SIGINT / SIGTERM */
static uint8_t buf[65536];         /* one datagram in or out */

static void on_signal(int sig) { stop = sig; }

static uint64_t now_ns(void) {
    struct timespec ts; /* the clock h3q runs on: CLOCK_MONOTONIC in nanoseconds */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static h3q_header header(const char *name, const char *value) {
    h3q_header h = {(const uint8_t *)name, strlen(name), (const uint8_t *)value, strlen(value)};
    return h;
}

/* HTTP events of a connection: a request's headers get the whole response at once (a
 * request body is ignored; trailers would be refused as a second response: fine). */
static void on_http_event(void *user_data, const h3q_event *ev) {
    conn *c = user_data;
    if (ev->type != H3Q_EVENT_HEADERS_RECEIVED) return;
    int path_len = 0;
    const char *path = "";
    for (size_t i = 0; i < ev->headers_len; i++)
        if (ev->headers[i].name_len == 5 && memcmp(ev->headers[i].name, ":path", 5) == 0) {
            path = (const char *)ev->headers[i].value;
            path_len = ev->headers[i].value_len > 200 ? 200 : (int)ev->headers[i].value_len;
        }
    char body[256], length[16];
    int n = snprintf(body, sizeof body, "Hello from h3q! You asked for %.*s\n", path_len, path);
    snprintf(length, sizeof length, "%d", n);
    h3q_header head[] = {header(":status", "200"), header("content-type", "text/plain"),
                         header("content-length", length)};
    if (h3q_conn_send_headers(c->h3, ev->stream_id, head, 3, false) == H3Q_OK)
        h3q_conn_send_data(c->h3, ev->stream_id, (const uint8_t *)body, (size_t)n, true);
}

static void free_conn(conn *c) {
    conn **p = &conns;
    while (*p != c) p = &(*p)->next;
    *p = c->next;
    h3q_conn_free(c->h3);
    h3q_quic_conn_free(c->quic);
    free(c);
}

/* Steps 2 to 6 of the loop, after poll() returned. */
static void serve(h3q_endpoint *ep, int fd) {
    struct sockaddr_storage addr; /* 2. every datagram waiting */
    socklen_t addr_len = sizeof addr;
    ssize_t n;
    while ((n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&addr, &addr_len)) >= 0) {
        h3q_endpoint_receive(ep, now_ns(), (struct sockaddr *)&addr, addr_len, buf, (size_t)n);
        addr_len = sizeof addr;
    }
    uint64_t now = now_ns(); /* 3. timers */
    if (now >= h3q_endpoint_next_timeout(ep)) h3q_endpoint_handle_timeout(ep, now);
    h3q_quic_conn *quic; /* 4. new connections: HTTP/3 on each, our state as user data */
    while (h3q_endpoint_accept(ep, &quic) == H3Q_OK) {
        conn *c = calloc(1, sizeof *c);
        if (!c) exit(1);
        *c = (conn){.next = conns, .quic = quic};
        conns = c;
        h3q_quic_conn_set_user_data(quic, c);
        if (h3q_conn_new_quic(quic, NULL, &c->h3) != H3Q_OK || stop)
            h3q_quic_conn_close(quic, H3Q_H3_NO_ERROR, NULL, 0);
    }
    /* 5. The connections with events; after the end of one nothing more comes: free it. */
    while (h3q_endpoint_next_ready(ep, &quic) == H3Q_OK) {
        conn *c = h3q_quic_conn_user_data(quic);
        h3q_quic_event ev;
        bool ended = false;
        while (h3q_quic_conn_next_event(quic, &ev) == H3Q_OK) {
            h3q_conn_handle_event(c->h3, &ev, on_http_event, c);
            ended |= ev.type == H3Q_QUIC_CONNECTION_TERMINATED;
        }
        if (ended) free_conn(c);
    }
    size_t len, segment; /* 6. send everything (one datagram per call: GSO is off) */
    while (h3q_endpoint_poll_transmit(ep, now_ns(), buf, sizeof buf, &len, &addr, &addr_len,
                                      &segment) == H3Q_OK)
        sendto(fd, buf, len, 0, (struct sockaddr *)&addr, addr_len);
}

int main(int argc, char **argv) {
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    addr.sin_port = htons((uint16_t)(argc > 1 ? atoi(argv[1]) : 4433));
    socklen_t addr_len = sizeof addr;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        perror("minimal-server: bind");
        return 1;
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    getsockname(fd, (struct sockaddr *)&addr, &addr_len);

    h3q_config *config = NULL; /* set-up: config, endpoint, config freed */
    h3q_endpoint *ep = NULL;
    h3q_result rc = h3q_config_new(true, &config);
    if (rc == H3Q_OK) rc = h3q_config_generate_self_signed(config, "localhost", NULL);
    if (rc == H3Q_OK) rc = h3q_endpoint_new(config, &ep);
    h3q_config_free(config);
    if (rc != H3Q_OK) {
        fprintf(stderr, "minimal-server: %s\n", h3q_last_error());
        return 1;
    }
    printf("listening on 127.0.0.1:%u\n", (unsigned)ntohs(addr.sin_port));
    fflush(stdout);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    uint64_t deadline = UINT64_MAX; /* after a signal: the most we wait for the closes */
    while (!stop || ((conns || h3q_endpoint_next_timeout(ep) != UINT64_MAX) &&
                     now_ns() < deadline)) {
        if (stop && deadline == UINT64_MAX) { /* close every connection; they drain */
            deadline = now_ns() + 2000000000u;
            for (conn *c = conns; c; c = c->next)
                h3q_quic_conn_close(c->quic, H3Q_H3_NO_ERROR, (const uint8_t *)"bye", 3);
        }
        /* 1. Wait for a datagram or h3q's timer, in milliseconds rounded up, at most 1 s:
         * a signal just before poll() is then seen within a second (h3q-server closes
         * that gap with ppoll). 7. The timer is read afresh every time round. */
        uint64_t timeout = h3q_endpoint_next_timeout(ep), now = now_ns();
        if (timeout > deadline) timeout = deadline;
        uint64_t wait_ns = timeout <= now ? 0 : timeout - now;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        poll(&pfd, 1, wait_ns >= 1000000000u ? 1000 : (int)((wait_ns + 999999) / 1000000));
        serve(ep, fd);
    }
    while (conns) free_conn(conns);
    h3q_endpoint_free(ep);
    close(fd);
    return 0;
}
