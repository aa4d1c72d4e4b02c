/*
 * h3q-load: many concurrent HTTP/3 connections from one process, each making a request
 * every few seconds, to see how many a server holds and what it costs.
 *
 *   h3q-load [--server HOST:PORT] [--host NAME] [--path PATH] [--ca FILE | --insecure]
 *            [--connections N] [--rate N] [--interval S] [--jitter F] [--duration S]
 *            [--per-socket N] [--handshake-timeout S] [--request-timeout S]
 *            [--progress S] [-v]
 *
 * It opens --connections N (default 100) connections to --server (default
 * 127.0.0.1:4433), --rate N new ones a second (default 500: a gradual ramp, not a flood
 * of Initials), --per-socket N (default 1000) on each UDP socket, one h3q_endpoint per
 * socket (QUIC tells connections apart by their connection IDs, so one socket could carry
 * them all; several spread the kernel's per-socket queues). Each established connection
 * GETs --path (default /100) every --interval seconds (default 3), each gap drawn within
 * +- --jitter (default 0.25, a fraction of it), one request at a time. Once the last
 * connection is opened they are held --duration seconds (default 60); then no new
 * requests start, those running may finish, and every connection is closed with
 * H3_NO_ERROR.
 *
 * Output: a progress line every --progress seconds on stderr (default 5; 0: none), then
 * the summary on stdout: connections wanted, opened, established, the most open at once,
 * handshake failures, connection errors; requests sent, completed (a complete 200),
 * failed, late; latency percentiles; the client's own peak RSS; every failure by reason;
 * and all of it as one "json {...}" line for scripts (tests/interop/hold.py).
 *
 * A handshake not complete after --handshake-timeout seconds (default 10) and a response
 * not complete after --request-timeout seconds (default 10) count as failures. The
 * server's certificate is verified against --ca FILE, or not at all with --insecure
 * (test servers' self-signed certificates).
 *
 * Exit status: 0 when every connection was established and held without an error and
 * every request completed; 1 otherwise (or when the program cannot run); 2 on a usage
 * error.
 */
#define _GNU_SOURCE
#include "load.h"

#include "ex_addr.h"
#include "ex_clock.h"
#include "ex_log.h"
#include "ex_rx.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define RX_ROUNDS 8              /* receive batches per socket per wake-up */
#define CLOSE_WAIT_NS (3 * NS_PER_S) /* how long the closes may take to go out and end */

static void usage(FILE *f) {
    fprintf(f,
            "usage: h3q-load [--server HOST:PORT] [--host NAME] [--path PATH]\n"
            "                [--ca FILE | --insecure] [--connections N] [--rate N]\n"
            "                [--interval S] [--jitter F] [--duration S] [--per-socket N]\n"
            "                [--handshake-timeout S] [--request-timeout S] [--progress S] [-v]\n"
            "  --server HOST:PORT   the server (default 127.0.0.1:4433)\n"
            "  --host NAME          TLS server name and :authority host (default: HOST)\n"
            "  --path PATH          what each request GETs (default /100)\n"
            "  --ca FILE            verify the server against these CAs (PEM)\n"
            "  --insecure           do not verify the server's certificate\n"
            "  --connections N      connections to open and hold (default 100)\n"
            "  --rate N             new connections per second (default 500)\n"
            "  --interval S         seconds between a connection's requests (default 3)\n"
            "  --jitter F           each gap within +-F of the interval (default 0.25)\n"
            "  --duration S         seconds to hold them once all are opened (default 60)\n"
            "  --per-socket N       connections per UDP socket (default 1000)\n"
            "  --handshake-timeout S, --request-timeout S   (default 10 each)\n"
            "  --progress S         a progress line on stderr every S seconds (default 5;\n"
            "                       0: none)\n"
            "  -v                   print each new failure reason as it first happens\n"
            "Prints a summary (connections, requests, latency percentiles, failures by\n"
            "reason, a json line). Exit status 0: all established, no error, every request\n"
            "a complete 200; 1: otherwise; 2: usage.\n");
}

static bool parse_number(const char *text, double min, double max, double *out) {
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v >= min && v <= max)) return false;
    *out = v;
    return true;
}

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, options *o) {
    o->server = "127.0.0.1:4433";
    o->path = "/100";
    o->connections = 100;
    o->per_socket = 1000;
    o->rate = 500;
    o->interval_s = 3;
    o->jitter = 0.25;
    o->duration_s = 60;
    o->handshake_timeout_s = 10;
    o->request_timeout_s = 10;
    o->progress_s = 5;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        double n = 0;
        bool ok = true;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "-v") == 0) {
            ex_verbose = true;
            continue;
        } else if (strcmp(a, "--insecure") == 0) {
            o->insecure = true;
            continue;
        } else if (!value) {
            ok = false;
        } else if (strcmp(a, "--server") == 0) {
            o->server = value;
        } else if (strcmp(a, "--host") == 0) {
            o->host = value;
        } else if (strcmp(a, "--path") == 0) {
            o->path = value;
            ok = value[0] == '/';
        } else if (strcmp(a, "--ca") == 0) {
            o->ca = value;
        } else if (strcmp(a, "--connections") == 0) {
            ok = parse_number(value, 1, 1e7, &n) && n == (uint64_t)n;
            o->connections = (uint64_t)n;
        } else if (strcmp(a, "--per-socket") == 0) {
            ok = parse_number(value, 1, 1e7, &n) && n == (uint64_t)n;
            o->per_socket = (uint64_t)n;
        } else if (strcmp(a, "--rate") == 0) {
            ok = parse_number(value, 0.001, 1e7, &o->rate);
        } else if (strcmp(a, "--interval") == 0) {
            ok = parse_number(value, 0.001, 86400, &o->interval_s);
        } else if (strcmp(a, "--jitter") == 0) {
            ok = parse_number(value, 0, 0.99, &o->jitter);
        } else if (strcmp(a, "--duration") == 0) {
            ok = parse_number(value, 0, 86400 * 7, &o->duration_s);
        } else if (strcmp(a, "--handshake-timeout") == 0) {
            ok = parse_number(value, 0.001, 3600, &o->handshake_timeout_s);
        } else if (strcmp(a, "--request-timeout") == 0) {
            ok = parse_number(value, 0.001, 3600, &o->request_timeout_s);
        } else if (strcmp(a, "--progress") == 0) {
            ok = parse_number(value, 0, 86400, &o->progress_s);
        } else {
            ok = false;
        }
        if (!ok) {
            ex_warn("unknown, incomplete or invalid option '%s'", a);
            usage(stderr);
            return 2;
        }
        i++;
    }
    if (!o->ca && !o->insecure) {
        ex_warn("give --ca FILE to verify the server, or --insecure not to");
        return 2;
    }
    if (o->ca && o->insecure) {
        ex_warn("--ca and --insecure exclude each other");
        return 2;
    }
    return -1;
}

/* The server's address, :authority and, unless --host gave one, the server name. */
static bool resolve(load *ld, options *o) {
    static char host[256];
    char port[16];
    if (!ex_split_host_port(o->server, strlen(o->server), host, sizeof host, port, sizeof port,
                            NULL) ||
        !host[0]) {
        ex_warn("--server %s: not HOST:PORT", o->server);
        return false;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM};
    int rc = getaddrinfo(host, port, &hints, &ld->addr);
    if (rc != 0) {
        ex_warn("%s: %s", host, gai_strerror(rc));
        return false;
    }
    if (!o->host) o->host = host;
    snprintf(ld->authority, sizeof ld->authority, "%s:%s", o->host, port);
    return true;
}

/* A socket and its endpoint: trust (--ca or none), a 30 s idle timeout, and what the
 * socket allows (GSO). */
static bool open_socket(load *ld, sock *s) {
    s->udp.fd = -1;
    s->tx = ex_tx_new();
    if (!s->tx || !ex_udp_open(&s->udp, ld->addr->ai_family)) return false;
    h3q_config *config;
    if (h3q_config_new(false, &config) != H3Q_OK) return false;
    h3q_result rc = ld->opt->ca ? h3q_config_load_ca_file(config, ld->opt->ca)
                                : h3q_config_set_verify_peer(config, false);
    if (rc == H3Q_OK) rc = h3q_config_set_idle_timeout_ms(config, 30000);
    if (rc == H3Q_OK) rc = ex_udp_configure(&s->udp, config);
    if (rc == H3Q_OK) rc = h3q_endpoint_new(config, &s->endpoint);
    if (rc != H3Q_OK) {
        const char *why = h3q_config_last_error(config);
        ex_warn("%s", why ? why : h3q_last_error());
    }
    h3q_config_free(config);
    return rc == H3Q_OK;
}

/* Enough descriptors for the sockets (and a few more). */
static void raise_fd_limit(size_t sockets) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= sockets + 64) return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= sockets + 64
                      ? (rlim_t)(sockets + 64)
                      : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < sockets + 64)
        ex_warn("only %llu file descriptors for %zu sockets", (unsigned long long)rl.rlim_cur,
                sockets);
}

/* ---- the loop ------------------------------------------------------------------------ */

typedef enum {
    RAMP,   /* opening connections at --rate */
    HOLD,   /* all opened: requests every interval until --duration is over */
    SETTLE, /* no new requests: the running ones finish */
    CLOSE,  /* every connection closed: waiting for the closes to end */
} phase;

static double seconds_since(uint64_t since, uint64_t now) {
    return (double)(now - since) / (double)NS_PER_S;
}

static void progress(const load *ld, uint64_t start, uint64_t now) {
    const stats *st = &ld->st;
    fprintf(stderr,
            "h3q-load: %.0f s: %llu opened, %llu established, %llu open, %llu requests done, "
            "%llu failed, %llu handshake failures, %llu connection errors\n",
            seconds_since(start, now), (unsigned long long)st->opened,
            (unsigned long long)st->established, (unsigned long long)st->open_now,
            (unsigned long long)st->completed, (unsigned long long)st->failed,
            (unsigned long long)st->handshake_failures,
            (unsigned long long)st->connection_errors);
}

/* Runs the phases; false when sending failed for good. */
static bool run(load *ld, ex_rx *rx, double *ramp_s, double *hold_s) {
    const options *o = ld->opt;
    struct pollfd *fds = ex_xcalloc(ld->socks_len, sizeof *fds);
    uint64_t start = ex_now_ns(), hold_start = 0, deadline = EX_NEVER;
    uint64_t next_progress = o->progress_s > 0 ? start + (uint64_t)(o->progress_s * 1e9) : EX_NEVER;
    phase ph = RAMP;
    bool ok = true;
    for (;;) {
        uint64_t now = ex_now_ns();
        for (size_t i = 0; i < ld->socks_len; i++) ex_run_due_timers(ld->socks[i].endpoint, now);
        if (ph == RAMP) {
            double due = seconds_since(start, now) * o->rate + 1;
            uint64_t want = due >= (double)o->connections ? o->connections : (uint64_t)due;
            while (ld->st.opened < want) {
                conn *c = &ld->conns[ld->st.opened];
                conn_open(ld, c, now);
            }
            if (ld->st.opened == o->connections) {
                ph = HOLD;
                hold_start = now;
                deadline = now + (uint64_t)(o->duration_s * 1e9);
                *ramp_s = seconds_since(start, now);
            }
        }
        timer t;
        while (heap_top(&ld->timers) && heap_top(&ld->timers)->at <= now) {
            heap_pop(&ld->timers, &t);
            conn_timer(ld, &t, now);
        }
        for (size_t i = 0; i < ld->socks_len; i++) sock_take_events(ld, &ld->socks[i]);
        if (ph == HOLD && now >= deadline) {
            ph = SETTLE;
            *hold_s = seconds_since(hold_start, now);
            ld->requests_stopped = true;
            deadline = now + (uint64_t)(o->request_timeout_s * 1e9) + NS_PER_S;
            if (o->progress_s > 0) progress(ld, start, now);
        }
        if (ph == SETTLE && (ld->st.in_flight == 0 || now >= deadline)) {
            ph = CLOSE;
            for (uint64_t i = 0; i < o->connections; i++) conn_close(&ld->conns[i]);
            for (size_t i = 0; i < ld->socks_len; i++) sock_take_events(ld, &ld->socks[i]);
            deadline = now + CLOSE_WAIT_NS;
        }
        bool blocked = false;
        for (size_t i = 0; i < ld->socks_len; i++) {
            sock *s = &ld->socks[i];
            ex_tx_result r = ex_tx_flush(s->tx, &s->udp, s->endpoint);
            if (r == EX_TX_FAILED) ok = false;
            s->blocked = r == EX_TX_BLOCKED;
            blocked |= s->blocked;
        }
        if (!ok || (ph == CLOSE && ((ld->live == 0 && !blocked) || now >= deadline))) break;
        if (now >= next_progress) {
            progress(ld, start, now);
            next_progress += (uint64_t)(o->progress_s * 1e9);
        }

        uint64_t wake = ex_earliest(deadline, next_progress);
        for (size_t i = 0; i < ld->socks_len; i++)
            wake = ex_earliest(wake, h3q_endpoint_next_timeout(ld->socks[i].endpoint));
        if (heap_top(&ld->timers)) wake = ex_earliest(wake, heap_top(&ld->timers)->at);
        if (ph == RAMP)
            wake = ex_earliest(wake, start + (uint64_t)((double)ld->st.opened / o->rate * 1e9));
        for (size_t i = 0; i < ld->socks_len; i++)
            fds[i] = (struct pollfd){.fd = ld->socks[i].udp.fd,
                                     .events = POLLIN | (ld->socks[i].blocked ? POLLOUT : 0)};
        now = ex_now_ns();
        struct timespec ts = {0, 0};
        if (wake > now) {
            uint64_t d = wake - now;
            ts.tv_sec = (time_t)(d / NS_PER_S);
            ts.tv_nsec = (long)(d % NS_PER_S);
        }
        int n = ppoll(fds, ld->socks_len, wake == EX_NEVER ? NULL : &ts, NULL);
        if (n < 0 && errno != EINTR) {
            ex_warn("ppoll: %s", strerror(errno));
            ok = false;
            break;
        }
        for (size_t i = 0; n > 0 && i < ld->socks_len; i++) {
            if (!(fds[i].revents & POLLIN)) continue;
            for (int round = 0; round < RX_ROUNDS; round++)
                if (ex_rx_read(rx, fds[i].fd, ld->socks[i].endpoint) < EX_RX_BATCH) break;
        }
    }
    free(fds);
    return ok;
}

int main(int argc, char **argv) {
    static options o;
    static load ld;
    ex_log_init("h3q-load");
    int status = parse_args(argc, argv, &o);
    if (status >= 0) return status;
    ld.opt = &o;
    ld.rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)ex_now_ns();
    if (!resolve(&ld, &o)) return 1;
    ld.socks_len = (size_t)((o.connections + o.per_socket - 1) / o.per_socket);
    raise_fd_limit(ld.socks_len);
    ld.socks = ex_xcalloc(ld.socks_len, sizeof *ld.socks);
    ld.conns = ex_xcalloc((size_t)o.connections, sizeof *ld.conns);
    ex_rx *rx = ex_rx_new();
    bool ok = rx != NULL;
    for (size_t i = 0; ok && i < ld.socks_len; i++) ok = open_socket(&ld, &ld.socks[i]);
    for (uint64_t i = 0; i < o.connections; i++) {
        ld.conns[i].index = (uint32_t)i;
        ld.conns[i].sock = &ld.socks[i / o.per_socket];
    }
    double ramp_s = 0, hold_s = 0;
    if (ok) ok = run(&ld, rx, &ramp_s, &hold_s);
    for (uint64_t i = 0; i < o.connections; i++) conn_free(&ld.conns[i]);
    for (size_t i = 0; i < ld.socks_len; i++) {
        h3q_endpoint_free(ld.socks[i].endpoint);
        ex_udp_close(&ld.socks[i].udp);
        ex_tx_free(ld.socks[i].tx);
    }
    if (ok) stats_print(&ld.st, &o, ramp_s, hold_s);
    stats *st = &ld.st;
    bool clean = ok && st->established == o.connections && st->handshake_failures == 0 &&
                 st->connection_errors == 0 && st->failed == 0 && st->reasons_len == 0;
    stats_free(st);
    heap_free(&ld.timers);
    ex_rx_free(rx);
    free(ld.conns);
    free(ld.socks);
    freeaddrinfo(ld.addr);
    return clean ? 0 : 1;
}
