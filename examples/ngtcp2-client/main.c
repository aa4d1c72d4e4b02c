/*
 * h3q-ngtcp2-client: HTTP/3 from h3q over another QUIC stack, ngtcp2 (with GnuTLS).
 *
 *   h3q-ngtcp2-client [--ca FILE | --insecure] [--data FILE] [--output DIR] [--sha256] [-v]
 *                     URL...
 *
 * Fetches every URL (https://host[:port]/path, all with the same host and port) over one
 * QUIC connection, all requests at once (as many as the server's MAX_STREAMS allows, the
 * rest as streams free up). The options mean what they mean for h3q-client: --ca FILE
 * trusts the CA certificates in FILE (PEM) and verifies the server's certificate against
 * the URL's host; --insecure does not verify (local testing only); one of the two is
 * required. --data FILE makes every request a POST with that file as its body, fed to h3q
 * as flow control lets it out (requests.c, feed_bodies). --output DIR writes each response
 * body to DIR/<last path segment> (index.html for a path ending in '/'), "-" to stdout;
 * without it bodies are counted and discarded.
 * --sha256 adds each body's SHA-256 to its result line. -v logs the handshake, each
 * request's stream and the connection's end on stderr.
 *
 * Prints one line per response ("200 10000000 bytes /10000000", with --sha256
 * " sha256=<hex>") or "FAILED <path>: <why>", then a summary. A failed connection says why
 * on stderr: no server (ICMP port unreachable), a handshake timeout, certificate
 * verification (with GnuTLS's reason), another TLS failure, the server's close with its
 * code, an idle timeout.
 *
 * Exit status: 0 when every request got a complete 2xx response; 1 if any failed; 2 on a
 * usage error.
 *
 * What it shows: h3q's HTTP/3 layer over a QUIC stack that is not h3q's, through the
 * h3q_transport table (transport.c) and the QUIC events fed to h3q_conn_handle_event().
 * ngclient.h lists the files.
 */
#define _GNU_SOURCE /* getaddrinfo, ppoll (ex_clock.h) in C11 */
#include "ngclient.h"

#include "ex_addr.h"
#include "ex_clock.h"
#include "ex_log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the loop ---------------------------------------------------------------------------- */

/* Runs the connection until every request is over (then closes it with H3_NO_ERROR) or
 * the connection ends. */
static void run(client *cl) {
    quic_link *q = &cl->quic;
    for (;;) {
        if (!quic_handle_expiry(cl)) return;
        if (q->close_requested) { /* h3q closed the connection (the server broke HTTP/3) */
            quic_close(cl, q->close_code, q->close_reason);
            return;
        }
        start_requests(cl);
        feed_bodies(cl);
        if (cl->finished == cl->nreqs) {
            quic_close(cl, H3Q_H3_NO_ERROR, "");
            return;
        }
        bool want_out;
        if (!quic_flush(cl, &want_out)) return;
        ex_wait_result w = ex_wait(q->fd, want_out, ngtcp2_conn_get_expiry(q->conn), NULL);
        if (w == EX_WAIT_ERROR) {
            ex_warn("ppoll: %s", strerror(errno));
            fail_unfinished(cl, "waiting for the socket failed");
            return;
        }
        if (w == EX_WAIT_READY && !quic_read(cl)) return;
    }
}

/* ---- set-up ------------------------------------------------------------------------------- */

static void usage(FILE *f) {
    fputs("usage: h3q-ngtcp2-client [--ca FILE | --insecure] [--data FILE] [--output DIR]\n"
          "                         [--sha256] [-v] URL...\n"
          "  --ca FILE       trust the CA certificates in FILE (PEM)\n"
          "  --insecure      do not verify the server's certificate (local testing only)\n"
          "  --data FILE     POST the contents of FILE with every request\n"
          "  --output DIR    write each body to DIR/<last path segment> ('-': stdout)\n"
          "  --sha256        print the SHA-256 of each response body on its result line\n"
          "  -v              log the handshake, the requests' streams and the connection's\n"
          "                  end to stderr\n"
          "URLs: https://host[:port]/path, all with the same host and port, fetched over one\n"
          "QUIC connection (ngtcp2 with GnuTLS), HTTP/3 by h3q.\n"
          "Exit status: 0 all requests complete with 2xx; 1 some failed; 2 usage error.\n",
          f);
}

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, options *o) {
    o->urls = ex_xcalloc((size_t)argc, sizeof *o->urls);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        const char **slot = strcmp(a, "--ca") == 0       ? &o->ca
                            : strcmp(a, "--output") == 0 ? &o->output_dir
                            : strcmp(a, "--data") == 0   ? &o->data
                                                         : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (slot && value) {
            *slot = value;
            i++;
        } else if (strcmp(a, "--insecure") == 0 || strcmp(a, "-k") == 0) {
            o->insecure = true;
        } else if (strcmp(a, "--sha256") == 0) {
            o->sha256 = true;
        } else if (strcmp(a, "-v") == 0) {
            ex_verbose = true;
        } else if (a[0] == '-') {
            ex_warn("unknown or incomplete option '%s'", a);
            usage(stderr);
            return 2;
        } else {
            o->urls[o->nurls++] = a;
        }
    }
    if (o->nurls > 0 && !o->ca && !o->insecure)
        ex_warn("give --ca FILE to verify the server, or --insecure");
    if (o->nurls == 0 || !o->ca == !o->insecure) {
        usage(stderr);
        return 2;
    }
    return -1;
}

/* Splits https://host[:port]/path; host may be [v6]. False if malformed. */
static bool parse_url(const char *url, char *host, size_t host_cap, char *port, size_t port_cap,
                      const char **path) {
    if (strncmp(url, "https://", 8) != 0) return false;
    const char *authority = url + 8;
    size_t len = strcspn(authority, "/");
    *path = authority[len] ? authority + len : "/";
    return ex_split_host_port(authority, len, host, host_cap, port, port_cap, "443") &&
           host[0] != '\0';
}

/* The requests, all with the first URL's authority. Returns -1 to go on, else the exit
 * status. */
static int make_requests(client *cl) {
    const options *o = cl->opt;
    cl->nreqs = (size_t)o->nurls;
    cl->reqs = ex_xcalloc(cl->nreqs, sizeof *cl->reqs);
    cl->by_stream = ex_xcalloc(cl->nreqs, sizeof *cl->by_stream);
    for (int u = 0; u < o->nurls; u++) {
        char host[256], port[8];
        const char *path;
        if (!parse_url(o->urls[u], host, sizeof host, port, sizeof port, &path)) {
            ex_warn("not an https://host[:port]/path URL: %s", o->urls[u]);
            return 2;
        }
        if (u == 0) {
            strcpy(cl->host, host);
            strcpy(cl->port, port);
            snprintf(cl->authority, sizeof cl->authority, strchr(host, ':') ? "[%s]:%s" : "%s:%s",
                     host, port);
        } else if (strcmp(host, cl->host) != 0 || strcmp(port, cl->port) != 0) {
            ex_warn("%s: every URL must have the authority %s", o->urls[u], cl->authority);
            return 2;
        }
        request *r = &cl->reqs[u];
        r->path = path;
        r->stream_id = -1;
        r->content_length = -1;
    }
    return -1;
}

static void summary(client *cl) {
    fail_unfinished(cl, "not completed"); /* after an error that ended the loop early */
    double secs = (double)(ex_now_ns() - cl->start_ns) / 1e9;
    printf("%zu requests (%zu failed), %" PRIu64 " bytes in %.3f s: %.2f MB/s\n", cl->nreqs,
           cl->failures, cl->bytes, secs, secs > 0 ? (double)cl->bytes / 1e6 / secs : 0.0);
}

/* --data: the file every request posts. */
static bool open_data(client *cl) {
    struct stat st;
    cl->data_fd = open(cl->opt->data, O_RDONLY | O_CLOEXEC);
    if (cl->data_fd < 0 || fstat(cl->data_fd, &st) != 0) {
        ex_warn("--data %s: %s", cl->opt->data, strerror(errno));
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        ex_warn("--data %s: not a regular file", cl->opt->data);
        return false;
    }
    cl->data_len = (uint64_t)st.st_size;
    return true;
}

/* Resolves the server, connects to its first address and runs the loop. */
static void fetch(client *cl) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM}, *res;
    int err = getaddrinfo(cl->host, cl->port, &hints, &res);
    cl->start_ns = ex_now_ns();
    if (err) {
        ex_warn("%s: %s", cl->host, gai_strerror(err));
        fail_unfinished(cl, "the server's address is unknown");
        return;
    }
    if (quic_connect(cl, res)) run(cl);
    else fail_unfinished(cl, "could not connect");
    freeaddrinfo(res);
}

/* In the order ngclient.h gives: h3q first (it may still call the transport while it is
 * freed), then ngtcp2 (which reads our send buffers until then), then the buffers and TLS. */
static void client_free(client *cl) {
    h3q_conn_free(cl->h3);
    cl->h3 = NULL;
    quic_free(&cl->quic);
    transport_free_streams(cl);
    tls_free(&cl->quic.tls);
    close_outputs(cl);
    if (cl->data_fd >= 0) close(cl->data_fd);
    free(cl->reqs);
    free(cl->by_stream);
}

int main(int argc, char **argv) {
    static client cl;
    static options o;
    ex_log_init("h3q-ngtcp2-client");
    int status = parse_args(argc, argv, &o);
    cl.opt = &o;
    cl.quic.fd = -1;
    cl.data_fd = -1;
    if (status < 0) status = make_requests(&cl);
    if (status < 0 && o.data && !open_data(&cl)) status = 1;
    if (status < 0) {
        fetch(&cl);
        summary(&cl);
        status = cl.failures ? 1 : 0;
    }
    client_free(&cl);
    free(o.urls);
    fflush(stdout);
    return status;
}
