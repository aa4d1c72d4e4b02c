/*
 * narrowness_check: proof that valgrind/h3q.supp is narrow. A deliberately wrong program:
 *
 *   1. it runs QUIC handshakes through h3q between two endpoints over two UDP sockets on
 *      127.0.0.1, so ring's AES-GCM seals and opens packets and memcheck sees the false
 *      positives h3q.supp is for (they must come out as "suppressed");
 *   2. then it branches on a byte of its own it never initialised (deliberate_uninit_read),
 *      which memcheck must still report with the suppressions on.
 *
 * tests/minimal_examples.sh narrow runs it under valgrind --suppressions=h3q.supp
 * --error-exitcode=1 and checks exactly that: exit status 1, the one error in
 * deliberate_uninit_read, and a non-zero suppressed count. Outside valgrind it just
 * prints what it found.
 */
#define _POSIX_C_SOURCE 200809L
#include <h3q.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint8_t buf[65536];

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A non-blocking UDP socket bound to 127.0.0.1 (any port); its address in *addr. */
static int udp_socket(struct sockaddr_in *addr) {
    socklen_t len = sizeof *addr;
    *addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)addr, len) != 0) exit(2);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    getsockname(fd, (struct sockaddr *)addr, &len);
    return fd;
}

/* Moves datagrams: what `ep` has to send goes out of `fd`; what `fd` received goes in. */
static void pump(h3q_endpoint *ep, int fd) {
    size_t len, segment;
    struct sockaddr_storage addr;
    socklen_t addr_len = sizeof addr;
    if (now_ns() >= h3q_endpoint_next_timeout(ep)) h3q_endpoint_handle_timeout(ep, now_ns());
    while (h3q_endpoint_poll_transmit(ep, now_ns(), buf, sizeof buf, &len, &addr, &addr_len,
                                      &segment) == H3Q_OK)
        sendto(fd, buf, len, 0, (struct sockaddr *)&addr, addr_len);
    ssize_t n;
    while ((n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&addr, &addr_len)) >= 0) {
        h3q_endpoint_receive(ep, now_ns(), (struct sockaddr *)&addr, addr_len, buf, (size_t)n);
        addr_len = sizeof addr;
    }
}

/* One handshake (client and server both established), within 30 s. */
static int handshake(void) {
    struct sockaddr_in server_addr, client_addr;
    int server_fd = udp_socket(&server_addr), client_fd = udp_socket(&client_addr);
    h3q_config *server_cfg, *client_cfg;
    h3q_endpoint *server, *client;
    h3q_quic_conn *client_conn, *server_conn = NULL;
    h3q_config_new(true, &server_cfg);
    h3q_config_new(false, &client_cfg);
    h3q_config_set_verify_peer(client_cfg, false);
    if (h3q_endpoint_new(server_cfg, &server) != H3Q_OK ||
        h3q_endpoint_new(client_cfg, &client) != H3Q_OK ||
        h3q_endpoint_connect(client, now_ns(), (struct sockaddr *)&server_addr,
                             sizeof server_addr, "localhost", &client_conn) != H3Q_OK)
        exit(2);
    h3q_config_free(server_cfg);
    h3q_config_free(client_cfg);
    int ok = 0;
    for (uint64_t end = now_ns() + 30000000000u; now_ns() < end && !ok;) {
        pump(client, client_fd);
        pump(server, server_fd);
        if (!server_conn) h3q_endpoint_accept(server, &server_conn);
        ok = h3q_quic_conn_is_established(client_conn) &&
             h3q_quic_conn_is_established(server_conn);
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    h3q_quic_conn_free(client_conn);
    h3q_quic_conn_free(server_conn);
    h3q_endpoint_free(client);
    h3q_endpoint_free(server);
    close(client_fd);
    close(server_fd);
    return ok;
}

/* The deliberate bug: a heap byte never written decides a branch. (malloc is called
 * through a volatile pointer so that the compiler cannot see the bug and refuse it.) */
static void *(*volatile allocate)(size_t) = malloc;

static int deliberate_uninit_read(void) {
    unsigned char *p = allocate(16);
    if (!p) exit(2);
    int big = 0;
    if (p[3] > 7) big = 1;
    free(p);
    return big;
}

int main(void) {
    int handshakes = 0;
    for (int i = 0; i < 2; i++) handshakes += handshake();
    printf("%d QUIC handshake(s) through h3q\n", handshakes);
    printf("uninitialised byte %s 7\n", deliberate_uninit_read() ? ">" : "<=");
    return handshakes == 2 ? 0 : 3;
}
