/*
 * h3q-client: an HTTP/3 client on h3q's built-in QUIC layer over a UDP socket.
 *
 *   h3q-client [--ca FILE | --insecure] [--cert FILE --key FILE] [--data FILE]
 *              [--output DIR] [--include]
 *              [--parallel N] [--repeat N] [--sha256] [--[no-]retry-on-goaway] [-v]
 *              [--cc newreno|cubic|bbr] [--resume] [--rebind-after BYTES] [--qlog-dir DIR]
 *              [--max-udp-payload N] [--priority u=N[,i]] URL...
 *              [--priority u=N[,i] URL...]...
 *
 * Every URL (https://host[:port]/path, all with the same host and port) is fetched from
 * one server, with up to N requests in flight (default 1), over one QUIC connection, or
 * more when the server sends GOAWAY (see below). --data FILE makes each request a POST
 * with that file as its body. --output DIR writes each body to DIR/<last path segment>
 * (index.html for "/"); "-" writes bodies to stdout; without --output bodies are counted
 * and discarded. --include prints the response headers. --repeat N requests the URL list N
 * times (for benchmarks). --sha256 adds the SHA-256 of each body to its result line.
 * Options may come between the URLs: --priority u=N[,i] applies to the URLs after it, up
 * to the next --priority, and sends their requests with that `priority` header (RFC 9218:
 * urgency N from 0, most urgent, to 7; ",i" incremental); a value h3q_priority_parse does
 * not read back as written is a usage error. The server schedules the responses by it
 * (h3q-server does: see "Body pacing" in examples/server/connections.c).
 *
 * Prints one line per response ("200 1000000 bytes /1000000", with --sha256
 * " sha256=<hex>" appended, then " u=N[,i]" when a --priority applied) or
 * "FAILED <path>: <why>", then a summary (requests, bytes, seconds, MB/s, req/s, and the
 * connections and retries when there were more than one); a progress line on stderr when
 * it is a terminal; with -v, on stderr, the connections' events (handshakes, GOAWAYs,
 * retries, ends) and each request's start (stream, priority) and completion (time, and
 * how far the others in flight had got: "the 8 others in flight had 3276800 of
 * 160000000 bytes"), and each connection's measurements when it ends (round trip,
 * congestion window, bytes and packets sent, received and lost: h3q_quic_conn_stats).
 *
 * --rebind-after BYTES moves to a new UDP socket (a new local port) once that many body
 * bytes arrived, and tells h3q (h3q_endpoint_rebind): the connection migrates, the server
 * follows, the transfers go on (connections.c).
 *
 * --resume fetches the URL list again on a second connection that resumes the first one's
 * TLS session and sends its requests as 0-RTT (resume.c).
 *
 * GOAWAY: requests the server did not process (its GOAWAY's refusals, H3_REQUEST_REJECTED)
 * are sent again on a new connection, from the start (--retry-on-goaway, the default; see
 * connections.c for when and how often). --no-retry-on-goaway fails them instead
 * ("rejected by the server's GOAWAY (H3_REQUEST_REJECTED)"), and the requests not started
 * yet with them.
 *
 * A connection lost without a GOAWAY (no answer before the idle timeout, or the server
 * giving up a handshake, as ngtcp2's servers do after 10 s on a lossy path) is replaced by
 * a new one, up to 3 in a row without a request completing, unless it failed on TLS
 * (certificate, ALPN): the requests not sent yet go there, and so do the GETs in flight,
 * from the start (idempotent, RFC 9110 section 9.2.2; not when part of the response went
 * to stdout); a POST in flight fails.
 *
 * SIGINT (Ctrl-C) or SIGTERM cancels every request in flight (RESET_STREAM where the
 * request body is still being sent, STOP_SENDING for the response, both with
 * H3_REQUEST_CANCELLED), closes the connections with H3_NO_ERROR, prints the summary and
 * exits with 128 + the signal's number (130, 143).
 *
 * Exit status: 0 when every request got a complete 2xx response; 1 if any failed
 * (connection error, a reset, another status, a truncated body); 2 on a usage error;
 * 130/143 when interrupted.
 *
 * The loop has the shape of h3q-server's and uses the same plumbing (examples/common/:
 * ex_udp, ex_rx, ex_tx, ex_clock, ex_signal): sleep until the socket is readable or h3q's
 * timer is due, read datagrams in batches, run due timers, take the events of the
 * connections that have some (h3q_endpoint_next_ready; the connection's state is its user
 * data), start requests, feed request bodies, send what the endpoint has. client.h lists
 * the files.
 */
#define _GNU_SOURCE
#include "client.h"

#include "ex_addr.h"
#include "ex_clock.h"
#include "ex_h3.h"
#include "ex_log.h"
#include "ex_signal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the loop ----------------------------------------------------------------------- */

/* Everything after an input: events, connections, new requests, bodies, transmits. */
static ex_tx_result step(client *cl) {
    take_events(cl);
    if (!rebind_when_due(cl)) return EX_TX_FAILED;
    resume_when_due(cl);
    start_requests(cl, connection_for_requests(cl));
    if (ex_tx_flush(cl->tx, &cl->udp, cl->endpoint) == EX_TX_FAILED) return EX_TX_FAILED;
    feed_bodies(cl);
    return ex_tx_flush(cl->tx, &cl->udp, cl->endpoint);
}

/* The progress line on stderr (a terminal only); `final` erases it. */
static void progress(client *cl, uint64_t now, bool final) {
    if (final) {
        if (cl->progress_shown) fputs("\r\033[K", stderr);
        return;
    }
    if (!cl->next_progress || now < cl->next_progress) return;
    double secs = (double)(now - cl->start_ns) / 1e9;
    fprintf(stderr, "\r\033[K%zu/%zu requests, %.1f MB, %.1f MB/s", cl->finished, cl->nreqs,
            (double)cl->bytes / 1e6, secs > 0 ? (double)cl->bytes / 1e6 / secs : 0.0);
    cl->progress_shown = true;
    cl->next_progress = now + PROGRESS_NS;
}

/* Runs until every request is over and the connections are closed (or failed). SIGINT and
 * SIGTERM are blocked except while the loop sleeps (ex_signal.h), so none is lost. */
static void run(client *cl) {
    uint64_t attempt_ns = cl->start_ns, close_deadline = EX_NEVER;
    sigset_t wait_mask;
    ex_signals_catch(&wait_mask);
    for (;;) {
        uint64_t now = ex_now_ns();
        int sig = 0;
        if (ex_signals_take(&sig) && !cl->interrupted) {
            interrupt(cl, sig);
            close_deadline = now + CLOSE_WAIT_NS;
        }
        if (!cl->interrupted && !next_address(cl, now, &attempt_ns)) return;
        ex_run_due_timers(cl->endpoint, now);
        ex_tx_result tx = step(cl);
        if (tx == EX_TX_FAILED) return;
        if (cl->finished == cl->nreqs && !cl->closing) {
            /* Done: close with H3_NO_ERROR and send the CONNECTION_CLOSE. */
            cl->closing = true;
            close_deadline = now + CLOSE_WAIT_NS;
            close_all(cl);
            continue;
        }
        if (cl->closing && (tx == EX_TX_IDLE || now >= close_deadline)) return;
        progress(cl, now, false);

        uint64_t wake = ex_earliest(h3q_endpoint_next_timeout(cl->endpoint), close_deadline);
        if (cl->opened == 1 && cl->conns && !cl->conns->established && cl->addr->ai_next)
            wake = ex_earliest(wake, attempt_ns + ATTEMPT_NS);
        if (cl->next_progress) wake = ex_earliest(wake, cl->next_progress);
        ex_wait_result w = ex_wait(cl->udp.fd, tx == EX_TX_BLOCKED, wake, &wait_mask);
        if (w == EX_WAIT_ERROR) {
            ex_warn("ppoll: %s", strerror(errno));
            return;
        }
        for (int round = 0; w == EX_WAIT_READY && round < RX_ROUNDS; round++) {
            int got = ex_rx_read(cl->rx, cl->udp.fd, cl->endpoint);
            if (got == 0) break;
            if (step(cl) == EX_TX_FAILED) return; /* acknowledgements out before reading on */
            if (got < EX_RX_BATCH) break;
        }
    }
}

/* ---- set-up --------------------------------------------------------------------------- */

static void usage(FILE *f) {
    fputs("usage: h3q-client [--ca FILE | --insecure] [--cert FILE --key FILE] [--data FILE]\n"
          "                  [--output DIR] [--include]\n"
          "                  [--parallel N] [--repeat N] [--sha256] [--[no-]retry-on-goaway]\n"
          "                  [-v] [--cc NAME] [--resume] [--rebind-after BYTES]\n"
          "                  [--qlog-dir DIR] [--max-udp-payload N]\n"
          "                  [--priority u=N[,i]] URL...\n"
          "                  [--priority u=N[,i] URL...]...\n"
          "  --ca FILE       trust the CA certificates in FILE (PEM)\n"
          "  --insecure      do not verify the server's certificate (local testing only)\n"
          "  --cert/--key FILE  a client certificate chain and its key (PEM), for servers\n"
          "                  that ask for one (mutual TLS)\n"
          "  --data FILE     POST the contents of FILE with every request\n"
          "  --output DIR    write each body to DIR/<last path segment> ('-': stdout)\n"
          "  --include       print response headers\n"
          "  --cc NAME       congestion controller: newreno, cubic (default) or bbr\n"
          "  --qlog-dir DIR  write a qlog (JSON-SEQ, for qvis) of every connection there\n"
          "  --max-udp-payload N  the largest UDP payload accepted and sent, 1200 to 65527\n"
          "                  (default 1472 accepted, 1452 sent): path MTU discovery probes\n"
          "                  up to N where the path carries more (jumbo frames: 8952)\n"
          "  --parallel N    requests in flight at once (default 1)\n"
          "  --repeat N      request the URL list N times\n"
          "  --sha256        print the SHA-256 of each response body on its result line\n"
          "  --resume        then fetch the URL list again on a new connection that resumes\n"
          "                  the first one's session and sends its requests as 0-RTT\n"
          "  --rebind-after BYTES  move to a new UDP socket once BYTES of bodies arrived\n"
          "                  (connection migration; the transfers continue)\n"
          "  --retry-on-goaway     send the requests a server's GOAWAY turned away again on\n"
          "                        a new connection (the default)\n"
          "  --no-retry-on-goaway  fail them instead\n"
          "  --priority u=N[,i]    ask for this priority (RFC 9218 'priority' header) for the\n"
          "                        URLs after it, up to the next --priority: urgency N from\n"
          "                        0 (most urgent) to 7 (the default is 3); ',i': the\n"
          "                        response may share the connection with others of its\n"
          "                        urgency (incremental). Result lines end with ' u=N[,i]'\n"
          "  -v              log connection events (handshakes, GOAWAYs, retries), each\n"
          "                  request's start and end (priority, time), and each\n"
          "                  connection's measurements at its end (round trip, window,\n"
          "                  bytes and packets sent, received, lost) to stderr\n"
          "URLs: https://host[:port]/path, all with the same host and port; options may come\n"
          "before, between and after them.\n"
          "Exit status: 0 all requests complete with 2xx; 1 some failed; 2 usage error;\n"
          "130/143 interrupted by SIGINT/SIGTERM (requests cancelled, connection closed).\n",
          f);
}

/* A --priority value: accepted when h3q_priority_parse reads back exactly what it says,
 * "u=N" or "u=N,i" (or "u=N, i") with N from 0 to 7. h3q_priority_parse never fails (a
 * malformed Priority Field Value reads as the defaults, as a server reads it), so a value
 * is checked by writing what it read back as text and comparing: "u=9", "u=1,x" or
 * "urgent" read as something else and are refused. */
static bool parse_priority(const char *value, h3q_priority *out) {
    char text[PRIORITY_TEXT_LEN];
    if (h3q_priority_parse((const uint8_t *)value, strlen(value), out) != H3Q_OK) return false;
    return strcmp(value, priority_text(*out, ",", text)) == 0 ||
           strcmp(value, priority_text(*out, ", ", text)) == 0;
}

/* Returns -1 to go on, else the exit status. Options and URLs may come in any order; a
 * --priority applies to the URLs after it, up to the next --priority. */
static int parse_args(int argc, char **argv, options *o) {
    ex_log_init("h3q-client");
    o->parallel = o->repeat = 1;
    o->retry = true;
    o->urls = ex_xcalloc((size_t)argc, sizeof *o->urls);
    bool has_priority = false;
    h3q_priority priority = {3, false};
    const char *priority_value = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        const char **slot = strcmp(a, "--ca") == 0       ? &o->ca
                            : strcmp(a, "--data") == 0   ? &o->data
                            : strcmp(a, "--output") == 0 ? &o->output_dir
                            : strcmp(a, "--cc") == 0     ? &o->cc
                            : strcmp(a, "--cert") == 0   ? &o->cert
                            : strcmp(a, "--key") == 0    ? &o->key
                            : strcmp(a, "--qlog-dir") == 0 ? &o->qlog_dir
                                                         : NULL;
        long *number = strcmp(a, "--parallel") == 0       ? &o->parallel
                       : strcmp(a, "--repeat") == 0       ? &o->repeat
                       : strcmp(a, "--rebind-after") == 0 ? &o->rebind_after
                       : strcmp(a, "--max-udp-payload") == 0 ? &o->max_udp_payload
                                                          : NULL;
        bool *flag = strcmp(a, "--insecure") == 0 || strcmp(a, "-k") == 0  ? &o->insecure
                     : strcmp(a, "--include") == 0 || strcmp(a, "-i") == 0 ? &o->include
                     : strcmp(a, "--sha256") == 0                          ? &o->sha256
                     : strcmp(a, "--retry-on-goaway") == 0                 ? &o->retry
                     : strcmp(a, "--resume") == 0                          ? &o->resume
                                                                           : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if ((slot || number) && value) {
            if (slot) *slot = value;
            else *number = strtol(value, NULL, 10);
            i++;
        } else if (strcmp(a, "--priority") == 0 && value) {
            if (!parse_priority(value, &priority)) {
                ex_warn("--priority '%s': not u=N or u=N,i with N from 0 (most urgent) to 7",
                        value);
                usage(stderr);
                return 2;
            }
            has_priority = true;
            priority_value = value;
            i++;
        } else if (flag) {
            *flag = true;
        } else if (strcmp(a, "--no-retry-on-goaway") == 0) {
            o->retry = false;
        } else if (strcmp(a, "-v") == 0) {
            ex_verbose = true;
        } else if (a[0] == '-') {
            ex_warn("unknown or incomplete option '%s'", a);
            usage(stderr);
            return 2;
        } else {
            o->urls[o->nurls++] = (url_arg){a, has_priority, priority};
            priority_value = NULL;
        }
    }
    if (priority_value) {
        ex_warn("--priority %s applies to the URLs after it, and none follows", priority_value);
        usage(stderr);
        return 2;
    }
    if (o->cc && !ex_congestion_control(o->cc, &o->cc_value)) {
        ex_warn("--cc '%s': not newreno, cubic or bbr", o->cc);
        usage(stderr);
        return 2;
    }
    if (!o->cert != !o->key) {
        ex_warn("--cert and --key go together");
        return 2;
    }
    if (o->max_udp_payload && (o->max_udp_payload < 1200 || o->max_udp_payload > 65527)) {
        ex_warn("--max-udp-payload %ld: not from 1200 to 65527", o->max_udp_payload);
        usage(stderr);
        return 2;
    }
    bool urls = o->nurls > 0;
    if (urls && !o->ca && !o->insecure)
        ex_warn("give --ca FILE to verify the server, or --insecure");
    if (!urls || o->parallel < 1 || o->parallel > 100000 || o->repeat < 1 || o->rebind_after < 0 ||
        o->repeat > 10000000 || !o->ca == !o->insecure) {
        usage(stderr);
        return 2;
    }
    return -1;
}

/* Splits https://host[:port]/path; host may be [v6]. Returns false if malformed. */
static bool parse_url(const char *url, char *host, size_t host_cap, char *port,
                      size_t port_cap, const char **path) {
    if (strncmp(url, "https://", 8) != 0) return false;
    const char *authority = url + 8;
    size_t len = strcspn(authority, "/");
    *path = authority[len] ? authority + len : "/";
    return ex_split_host_port(authority, len, host, host_cap, port, port_cap, "443") &&
           host[0] != '\0';
}

/* The requests: every URL, --repeat times, all with the first URL's authority. Returns -1
 * to go on, else the exit status. */
static int make_requests(client *cl, int nurls, const url_arg *urls) {
    size_t repeat = (size_t)cl->opt->repeat * (cl->opt->resume ? 2 : 1);
    cl->nreqs = (size_t)nurls * repeat;
    cl->first_round = cl->opt->resume ? cl->nreqs / 2 : cl->nreqs;
    cl->reqs = calloc(cl->nreqs, sizeof *cl->reqs);
    cl->retry = calloc(cl->nreqs, sizeof *cl->retry);
    if (!cl->reqs || !cl->retry) return 1;
    for (int u = 0; u < nurls; u++) {
        char host[256], port[8];
        const char *path;
        if (!parse_url(urls[u].url, host, sizeof host, port, sizeof port, &path)) {
            ex_warn("not an https://host[:port]/path URL: %s", urls[u].url);
            return 2;
        }
        if (u == 0) {
            strcpy(cl->host, host);
            strcpy(cl->port, port);
            snprintf(cl->authority, sizeof cl->authority, strchr(host, ':') ? "[%s]:%s" : "%s:%s",
                     host, port);
        } else if (strcmp(host, cl->host) != 0 || strcmp(port, cl->port) != 0) {
            ex_warn("%s: every URL must have the authority %s", urls[u].url, cl->authority);
            return 2;
        }
        for (size_t k = 0; k < repeat; k++) {
            request *r = &cl->reqs[k * (size_t)nurls + (size_t)u];
            r->path = path;
            r->arg = &urls[u];
        }
    }
    return -1;
}

/* --data: the file every request posts. */
static bool open_data(client *cl) {
    if (!cl->opt->data) return true;
    struct stat st;
    cl->data_fd = open(cl->opt->data, O_RDONLY | O_CLOEXEC);
    if (cl->data_fd < 0 || fstat(cl->data_fd, &st) != 0) {
        ex_warn("%s: %s", cl->opt->data, strerror(errno));
        return false;
    }
    cl->data_len = (uint64_t)st.st_size;
    return true;
}

/* The summary line; fails what the loop left open (after an error that ended it early). */
static void summary(client *cl) {
    progress(cl, 0, true);
    for (size_t i = 0; i < cl->nreqs; i++)
        if (!cl->reqs[i].done) fail(cl, &cl->reqs[i], "not completed");
    double secs = (double)(ex_now_ns() - cl->start_ns) / 1e9;
    printf("%zu requests (%zu failed), %" PRIu64 " bytes in %.3f s: %.2f MB/s, %.1f req/s",
           cl->nreqs, cl->failures, cl->bytes, secs,
           secs > 0 ? (double)cl->bytes / 1e6 / secs : 0.0,
           secs > 0 ? (double)cl->nreqs / secs : 0.0);
    if (cl->opened > 1 || cl->retried)
        printf("; %d connections, %zu retried after GOAWAY", cl->opened, cl->retried);
    printf("\n");
    if (cl->pushes) ex_debug("%" PRIu64 " server push(es) received and ignored", cl->pushes);
}

/* Resolves the server, connects to its first address and runs the loop. */
static bool fetch(client *cl) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM}, *res;
    int err = getaddrinfo(cl->host, cl->port, &hints, &res);
    if (err) {
        ex_warn("%s: %s", cl->host, gai_strerror(err));
        return false;
    }
    cl->addr = res;
    cl->start_ns = ex_now_ns();
    if (isatty(STDERR_FILENO)) cl->next_progress = cl->start_ns + 1000000000ULL;
    bool ok = client_connect(cl);
    if (ok) run(cl);
    summary(cl);
    client_disconnect(cl);
    freeaddrinfo(res);
    return ok;
}

int main(int argc, char **argv) {
    static client cl;
    static options o;
    int status = parse_args(argc, argv, &o);
    if (status >= 0) {
        free(o.urls);
        return status;
    }
    cl.opt = &o;
    cl.data_fd = -1;
    cl.udp.fd = -1;
    cl.rx = ex_rx_new();
    cl.tx = ex_tx_new();
    status = make_requests(&cl, o.nurls, o.urls);
    if (status < 0) status = cl.rx && cl.tx && open_data(&cl) && fetch(&cl) && !cl.failures ? 0 : 1;
    if (cl.interrupted) status = 128 + cl.interrupted;
    for (size_t i = 0; i < cl.nreqs; i++) {
        if (cl.reqs[i].out && cl.reqs[i].out != stdout) fclose(cl.reqs[i].out);
        free(cl.reqs[i].sha);
    }
    if (cl.data_fd >= 0) close(cl.data_fd);
    free(cl.reqs);
    free(cl.retry);
    free(o.urls);
    ex_rx_free(cl.rx);
    ex_tx_free(cl.tx);
    return status;
}
