/*
 * One of h3q-server's workers: a thread with its own SO_REUSEPORT socket, its own
 * h3q_endpoint (whose connection IDs carry the worker's server id) and its own
 * connections, running the event loop below. Workers share nothing on the way of a
 * datagram but the handoff queues (handoff.c) and, for POST /echo, the process-wide count
 * of echo bytes (an atomic).
 *
 * The mailbox. Signals are blocked in every worker; the main thread reads them from a
 * signalfd and passes each on (worker_post_signal): it bumps the worker's counter
 * (`signals` for SIGINT/SIGTERM, with the latest in `last_signal`, or `reports` for
 * SIGUSR1) and then writes to the worker's eventfd (`wake_fd`), which the loop sleeps on
 * beside its socket. Other workers write to the same eventfd after handing datagrams over.
 * The loop reads (and so resets) the eventfd when it wakes, before it looks at the
 * counters and the inbox at the top of the next turn: a post that comes after that look
 * leaves the eventfd readable, so the next sleep returns at once and nothing is missed.
 */
#define _GNU_SOURCE
#include "server.h"

#include "ex_clock.h"
#include "ex_log.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* ---- the mailbox ---------------------------------------------------------------------- */

void worker_wake(server *srv) {
    uint64_t one = 1;
    /* Fails only when the counter would overflow: it is readable then anyway. */
    if (write(srv->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        ex_warn("eventfd write: %s", strerror(errno));
}

void worker_post_signal(server *srv, int sig) {
    if (sig == SIGUSR1) {
        atomic_fetch_add_explicit(&srv->reports, 1, memory_order_release);
    } else {
        atomic_store_explicit(&srv->last_signal, sig, memory_order_relaxed);
        atomic_fetch_add_explicit(&srv->signals, 1, memory_order_release);
    }
    worker_wake(srv);
}

/* SIGINT/SIGTERMs posted since the last call, and the latest in *last. */
static int take_signals(server *srv, int *last) {
    unsigned n = atomic_load_explicit(&srv->signals, memory_order_acquire);
    int count = (int)(n - srv->signals_taken);
    srv->signals_taken = n;
    if (count > 0) *last = atomic_load_explicit(&srv->last_signal, memory_order_relaxed);
    return count;
}

static bool take_report(server *srv) {
    unsigned n = atomic_load_explicit(&srv->reports, memory_order_acquire);
    bool requested = n != srv->reports_taken;
    srv->reports_taken = n;
    return requested;
}

static void reset_wake(server *srv) {
    uint64_t value;
    if (read(srv->wake_fd, &value, sizeof value) < 0 && errno != EAGAIN)
        ex_warn("eventfd read: %s", strerror(errno));
}

/* ---- reports -------------------------------------------------------------------------- */

/* SIGUSR1: the connections' measurements; with several workers, the worker's counts. */
static void report(server *srv) {
    report_stats(srv);
    if (srv->proc->nworkers < 2) return;
    fprintf(stderr,
            "%s: worker %u: %zu connection(s) open, %" PRIu64 " accepted, handoffs %" PRIu64
            " out, %" PRIu64 " in, %" PRIu64 " dropped\n",
            ex_program(), srv->index, srv->nconns, srv->accepted, srv->handoffs.out,
            srv->handoffs.in, srv->handoffs.dropped);
}

/* ---- the loop ----------------------------------------------------------------------- */

/* Everything after an input: new connections, events, bodies, transmits. */
static ex_tx_result serve(server *srv) {
    accept_connections(srv);
    serve_ready_connections(srv);
    /* Transmit first, so that QUIC takes what it can before bodies are fed. */
    if (ex_tx_flush(srv->tx, &srv->udp, srv->endpoint) == EX_TX_FAILED) return EX_TX_FAILED;
    feed_all(srv);
    return ex_tx_flush(srv->tx, &srv->udp, srv->endpoint);
}

/* One batch from the socket: with one worker straight to the endpoint, with several
 * through handoff_deliver(), then the owners of what it handed over are woken. */
static int read_batch(server *srv) {
    if (srv->proc->nworkers < 2) return ex_rx_read(srv->rx, srv->udp.fd, srv->endpoint);
    int got = ex_rx_read_to(srv->rx, srv->udp.fd, handoff_deliver, srv);
    handoff_wake_owners(srv);
    return got;
}

/* Runs until the worker's drain is over; false if sending failed for good. Follows
 * "Lifecycle and event loop" in h3q.h: sleep until the socket is readable, the mailbox
 * has something, h3q's timer or the drain's next step is due; read datagrams in batches;
 * run due timers; then serve(). */
static bool run(server *srv) {
    for (;;) {
        uint64_t now = ex_now_ns();
        int sig = 0, signals = take_signals(srv, &sig);
        if (signals) drain_signal(srv, sig, signals, now);
        if (take_report(srv)) report(srv);
        if (srv->proc->nworkers > 1) handoff_receive(srv, now);
        ex_run_due_timers(srv->endpoint, now);
        drain_step(srv, now); /* after the timers, which may release lent bodies */
        ex_tx_result tx = serve(srv);
        if (tx == EX_TX_FAILED) return false;
        if (drain_finished(srv, now)) return true;
        trim_heap_when_idle(srv);
        uint64_t wake = ex_earliest(h3q_endpoint_next_timeout(srv->endpoint),
                                    drain_next_wake(srv, now));
        struct pollfd fds[2] = {
            {.fd = srv->udp.fd, .events = POLLIN | (tx == EX_TX_BLOCKED ? POLLOUT : 0)},
            {.fd = srv->wake_fd, .events = POLLIN},
        };
        ex_wait_result w = ex_wait_fds(fds, 2, wake, NULL);
        if (w == EX_WAIT_ERROR) {
            ex_warn("ppoll: %s", strerror(errno));
            return false;
        }
        if (fds[1].revents & POLLIN) reset_wake(srv);
        if (!(fds[0].revents & (POLLIN | POLLOUT | POLLERR))) continue;
        /* A bounded number of batches, serving after each so that acknowledgements and
         * responses go out while input keeps coming. */
        for (int round = 0; round < RX_ROUNDS; round++) {
            int got = read_batch(srv);
            if (got == 0) break;
            if (serve(srv) == EX_TX_FAILED) return false;
            if (got < EX_RX_BATCH) break;
        }
    }
}

static void *worker_main(void *arg) {
    server *srv = arg;
    bool ok = run(srv);
    /* Out of the SO_REUSEPORT group (and the eBPF program's socket map) at once, so that
     * while other workers still drain, a new client reaches one of them (and gets its
     * GOAWAY) instead of a socket nobody reads. Its connections are closed. */
    ex_tx_discard(srv->tx);
    ex_udp_close(&srv->udp);
    atomic_store_explicit(&srv->failed, !ok, memory_order_relaxed);
    uint64_t one = 1;
    /* The main thread reads it, then joins: the join orders `failed` too. */
    if (write(srv->proc->done_fd, &one, sizeof one) < 0)
        ex_warn("eventfd write: %s", strerror(errno));
    return NULL;
}

/* ---- set-up and tear-down --------------------------------------------------------------- */

bool worker_init(server *srv, process *proc, unsigned index) {
    srv->opt = proc->opt;
    srv->proc = proc;
    srv->index = index;
    srv->udp.fd = -1;
    atomic_init(&srv->signals, 0);
    atomic_init(&srv->last_signal, 0);
    atomic_init(&srv->reports, 0);
    atomic_init(&srv->failed, false);
    list_init(&srv->conns);
    list_init(&srv->feeding);
    list_init(&srv->going);
    srv->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (srv->wake_fd < 0) {
        ex_warn("eventfd: %s", strerror(errno));
        return false;
    }
    srv->rx = ex_rx_new();
    srv->tx = ex_tx_new();
    srv->inbox = handoff_queue_new();
    srv->files = file_cache_new();
    srv->wake_after_rx = calloc(proc->nworkers, sizeof *srv->wake_after_rx);
    if (!srv->rx || !srv->tx || !srv->inbox || !srv->files || !srv->wake_after_rx) {
        ex_warn("out of memory");
        return false;
    }
    return true;
}

bool worker_start(server *srv) {
    int rc = pthread_create(&srv->thread, NULL, worker_main, srv);
    if (rc != 0) {
        ex_warn("worker %u: pthread_create: %s", srv->index, strerror(rc));
        return false;
    }
    srv->started = true;
    return true;
}

/* Frees everything: connections first, then the endpoint (which releases what h3q still
 * holds of lent bodies), then the buffers. Safe on a worker whose init stopped halfway
 * (its fields are zero or -1 then). */
void worker_teardown(server *srv) {
    while (list_linked(&srv->conns)) free_conn(srv, CONTAINER(srv->conns.next, conn, all));
    h3q_endpoint_free(srv->endpoint);
    srv->endpoint = NULL;
    ex_udp_close(&srv->udp);
    ex_rx_free(srv->rx);
    ex_tx_free(srv->tx);
    /* After the endpoint: it released every piece of a cached file it still held. */
    file_cache_free(srv->files);
    srv->files = NULL;
    handoff_queue_free(srv->inbox);
    free(srv->wake_after_rx);
    if (srv->wake_fd >= 0) close(srv->wake_fd);
    srv->wake_fd = -1;
}
