/*
 * minimal-client https://HOST:PORT/PATH: a first HTTP/3 client on h3q. It fetches one URL,
 * prints the status line ("HTTP/3 200") and the body, and exits 0 when the status is 200.
 * It does NOT verify the server's certificate (h3q_config_set_verify_peer(config, false)),
 * so that it can talk to test servers with self-signed certificates; a real program must
 * (h3q-client's --ca, h3q_config_load_ca_file). The loop is the one of
 * "Lifecycle and event loop" in h3q.h (steps numbered alike): one UDP socket, poll().
 */
#define _POSIX_C_SOURCE 200809L
#include <h3q.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static h3q_quic_conn *quic;      /* the connection ... */
static h3q_conn *h3;             /* ... and HTTP/3 over it */
static char host[256], port[8] = "443", *path = "/";
static int status;               /* the response's :status */
static bool done, ended;         /* the response is complete; the connection has ended */
static uint8_t buf[65536];       /* one datagram in or out */

static h3q_header header(const char *name, const char *value) {
    h3q_header h = {(const uint8_t *)name, strlen(name), (const uint8_t *)value, strlen(value)};
    return h;
}

static uint64_t now_ns(void) { /* the clock h3q runs on: CLOCK_MONOTONIC in nanoseconds */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The handshake is done: the request, on a new stream, ends with its headers (a GET). */
static void send_request(void) {
    uint64_t stream_id;
    char authority[300];
    snprintf(authority, sizeof authority, "%s:%s", host, port);
    h3q_header head[] = {header(":method", "GET"), header(":scheme", "https"),
                         header(":authority", authority), header(":path", path)};
    if (h3q_quic_conn_get_next_available_stream_id(quic, false, &stream_id) != H3Q_OK ||
        h3q_conn_send_headers(h3, stream_id, head, 4, true) != H3Q_OK)
        done = true;
}

/* HTTP events: the response's headers (its status), its body, its end. */
static void on_http_event(void *user_data, const h3q_event *ev) {
    (void)user_data;
    if (ev->has_push_id) return; /* a pushed response: not what we asked for */
    if (ev->type == H3Q_EVENT_HEADERS_RECEIVED && status == 0) {
        for (size_t i = 0; i < ev->headers_len; i++) /* values are not NUL-terminated */
            if (ev->headers[i].name_len == 7 && memcmp(ev->headers[i].name, ":status", 7) == 0)
                for (size_t k = 0; k < ev->headers[i].value_len; k++)
                    status = status * 10 + (ev->headers[i].value[k] - '0');
        printf("HTTP/3 %d\n", status);
    } else if (ev->type == H3Q_EVENT_DATA_RECEIVED) {
        fwrite(ev->data, 1, ev->data_len, stdout);
    }
    if (ev->type <= H3Q_EVENT_DATA_RECEIVED && ev->stream_ended) done = true;
}

/* 6. Send everything h3q has (one datagram per call: GSO is off). */
static void send_all(h3q_endpoint *ep, int fd) {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    size_t len, segment;
    while (h3q_endpoint_poll_transmit(ep, now_ns(), buf, sizeof buf, &len, &addr, &addr_len,
                                      &segment) == H3Q_OK)
        sendto(fd, buf, len, 0, (struct sockaddr *)&addr, addr_len);
}

/* 5. The connection's events (there is only one connection: next_ready gives it or not). */
static void take_events(h3q_endpoint *ep) {
    h3q_quic_conn *ready;
    h3q_quic_event ev;
    while (h3q_endpoint_next_ready(ep, &ready) == H3Q_OK)
        while (h3q_quic_conn_next_event(ready, &ev) == H3Q_OK) {
            h3q_conn_handle_event(h3, &ev, on_http_event, NULL);
            if (ev.type == H3Q_QUIC_HANDSHAKE_COMPLETED) send_request();
            if (ev.type == H3Q_QUIC_CONNECTION_TERMINATED) {
                ended = true;
                if (!done) fprintf(stderr, "connection closed: %.*s\n", (int)ev.reason_len,
                                   (const char *)ev.reason);
            }
        }
}

int main(int argc, char **argv) {
    int n = 0; /* https://HOST[:PORT]/PATH */
    if (argc != 2 || sscanf(argv[1], "https://%255[^:/]%n", host, &n) != 1 ||
        (argv[1][n] == ':' && sscanf(argv[1] + n, ":%7[0-9]", port) != 1)) {
        fprintf(stderr, "usage: minimal-client https://HOST:PORT/PATH\n");
        return 2;
    }
    if (strchr(argv[1] + n, '/')) path = strchr(argv[1] + n, '/');
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *server;
    if (getaddrinfo(host, port, &hints, &server) != 0) {
        fprintf(stderr, "minimal-client: cannot resolve %s\n", host);
        return 1;
    }
    int fd = socket(server->ai_family, SOCK_DGRAM, 0); /* a UDP socket, non-blocking */
    fcntl(fd, F_SETFL, O_NONBLOCK);

    /* Set-up: a client config (no verification, see the top; 10 s idle timeout), the
     * endpoint, the config freed, the connection, HTTP/3 on it. */
    h3q_config *config = NULL;
    h3q_endpoint *ep = NULL;
    h3q_result rc = h3q_config_new(false, &config);
    if (rc == H3Q_OK) rc = h3q_config_set_verify_peer(config, false);
    if (rc == H3Q_OK) rc = h3q_config_set_idle_timeout_ms(config, 10000);
    if (rc == H3Q_OK) rc = h3q_endpoint_new(config, &ep);
    h3q_config_free(config);
    if (rc == H3Q_OK)
        rc = h3q_endpoint_connect(ep, now_ns(), server->ai_addr, server->ai_addrlen, host, &quic);
    if (rc == H3Q_OK) rc = h3q_conn_new_quic(quic, NULL, &h3);
    freeaddrinfo(server);
    if (fd < 0 || rc != H3Q_OK) {
        fprintf(stderr, "minimal-client: %s\n", fd < 0 ? "no socket" : h3q_last_error());
        return 1;
    }

    while (!ended) {
        send_all(ep, fd);
        /* 1. Wait for a datagram or h3q's timer (milliseconds, rounded up). 7. The timer is
         * read afresh every time round. */
        uint64_t timeout = h3q_endpoint_next_timeout(ep), now = now_ns();
        uint64_t wait_ms = timeout <= now ? 0 : (timeout - now + 999999) / 1000000;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        poll(&pfd, 1, timeout == UINT64_MAX ? -1 : wait_ms > 60000 ? 60000 : (int)wait_ms);
        /* 2. Every datagram waiting. */
        struct sockaddr_storage addr;
        socklen_t addr_len = sizeof addr;
        ssize_t got;
        while ((got = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&addr, &addr_len)) >= 0) {
            h3q_endpoint_receive(ep, now_ns(), (struct sockaddr *)&addr, addr_len, buf, (size_t)got);
            addr_len = sizeof addr;
        }
        now = now_ns(); /* 3. Timers. */
        if (now >= h3q_endpoint_next_timeout(ep)) h3q_endpoint_handle_timeout(ep, now);
        take_events(ep);
        if (done && !ended) { /* all there: close (H3_NO_ERROR), which ends the connection */
            h3q_quic_conn_close(quic, H3Q_H3_NO_ERROR, NULL, 0);
            take_events(ep);
        }
    }
    send_all(ep, fd); /* the CONNECTION_CLOSE; then everything freed */
    h3q_conn_free(h3);
    h3q_quic_conn_free(quic);
    h3q_endpoint_free(ep);
    close(fd);
    return status == 200 ? 0 : 1;
}
