/*
 * h3q-server's handoff: datagrams that reach a worker but belong to a connection of
 * another worker go to that worker through a lock-free queue.
 *
 * Why they arrive at the wrong worker. Every worker has its own SO_REUSEPORT socket on the
 * same address, and without the eBPF program (steering_ebpf.c) the kernel picks the socket
 * by a hash of the datagram's addresses. A connection starts on the worker its client's
 * address hashes to, and that worker owns it (its endpoint holds the state); when the
 * client's address changes (connection migration, a NAT rebinding), the new address hashes
 * to any worker. With the eBPF program the kernel steers by connection ID instead, and
 * this path only catches what it cannot (a program refused by the kernel, datagrams that
 * arrived in the instant before it was attached).
 *
 * Who owns a datagram. With more than one worker, worker K issues connection IDs whose
 * QUIC-LB server id (h3q_config_set_server_id) is the --server-id prefix followed by the
 * byte K; h3q_cid_server_id() reads it back from the destination CID. Short-header packets
 * and Handshake packets carry a CID their server issued. Initial and 0-RTT packets carry
 * one the client chose (random), so they stay with the worker the kernel gave them: the
 * one the client's address hashes to, where its connection starts. A CID that names no
 * worker (another prefix, a number beyond the workers, a CID too short) stays too: the
 * local endpoint answers it (a stateless reset, or nothing).
 *
 * The queue. One per worker (its inbox), bounded (HANDOFF_CAPACITY datagrams), any number
 * of producers and one consumer: a ring of cells, each with a sequence number that says
 * whose turn the cell is (D. Vyukov's bounded queue, in C11 atomics). A producer claims a
 * position with a compare-and-swap on `head`, fills the cell, and publishes it by storing
 * the position + 1 in the cell's sequence number (release); the consumer takes the cell
 * at `tail` once its sequence number says it was published (acquire), and gives the cell
 * back for the next round by storing tail + capacity. No lock, no thread waits for
 * another; a full queue makes the push fail and the datagram is dropped and counted (QUIC
 * takes it as lost). Each datagram is copied into a buffer of its own, which the owner
 * frees after feeding it to its endpoint with the peer address and ECN codepoint it came
 * with (h3q_endpoint_receive_ecn: the endpoint cannot tell it from one read off its own
 * socket, which has the same local address). After each batch of reads the producer wakes
 * the owners it handed something to through their eventfd, once per batch.
 */
#define _GNU_SOURCE
#include "server.h"

#include "ex_log.h"

#include <stdlib.h>
#include <string.h>

#define HANDOFF_CAPACITY 1024 /* datagrams per inbox: a power of two */
#define CACHE_LINE 64

_Static_assert((HANDOFF_CAPACITY & (HANDOFF_CAPACITY - 1)) == 0, "a power of two");

/* A datagram in transit, with what h3q_endpoint_receive_ecn() needs besides the time. */
typedef struct handoff_datagram {
    struct sockaddr_storage from;
    socklen_t from_len;
    size_t len, segment;
    uint8_t ecn;
    uint8_t data[];
} handoff_datagram;

typedef struct cell {
    _Atomic size_t seq;
    handoff_datagram *datagram;
} cell;

struct handoff_queue {
    _Alignas(CACHE_LINE) _Atomic size_t head; /* the next position a producer claims */
    _Alignas(CACHE_LINE) size_t tail;         /* the next position the consumer takes */
    _Alignas(CACHE_LINE) cell cells[HANDOFF_CAPACITY];
};

/* ---- the queue ------------------------------------------------------------------------ */

handoff_queue *handoff_queue_new(void) {
    handoff_queue *q = aligned_alloc(CACHE_LINE, sizeof *q);
    if (!q) return NULL;
    atomic_init(&q->head, 0);
    q->tail = 0;
    for (size_t i = 0; i < HANDOFF_CAPACITY; i++) {
        atomic_init(&q->cells[i].seq, i);
        q->cells[i].datagram = NULL;
    }
    return q;
}

/* Any thread. False when the queue is full. */
static bool queue_push(handoff_queue *q, handoff_datagram *d) {
    size_t pos = atomic_load_explicit(&q->head, memory_order_relaxed);
    for (;;) {
        cell *c = &q->cells[pos & (HANDOFF_CAPACITY - 1)];
        size_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
        intptr_t lag = (intptr_t)(seq - pos);
        if (lag == 0) {
            /* The cell is free for this position: claim the position. */
            if (atomic_compare_exchange_weak_explicit(&q->head, &pos, pos + 1,
                                                      memory_order_relaxed,
                                                      memory_order_relaxed)) {
                c->datagram = d;
                atomic_store_explicit(&c->seq, pos + 1, memory_order_release);
                return true;
            }
            /* Another producer took it: pos now holds the current head. */
        } else if (lag < 0) {
            return false; /* the consumer has not freed the cell of one round ago: full */
        } else { /* another producer filled this position already: catch up */
            pos = atomic_load_explicit(&q->head, memory_order_relaxed);
        }
    }
}

/* The owner's thread only. NULL when empty. */
static handoff_datagram *queue_pop(handoff_queue *q) {
    cell *c = &q->cells[q->tail & (HANDOFF_CAPACITY - 1)];
    if (atomic_load_explicit(&c->seq, memory_order_acquire) != q->tail + 1) return NULL;
    handoff_datagram *d = c->datagram;
    atomic_store_explicit(&c->seq, q->tail + HANDOFF_CAPACITY, memory_order_release);
    q->tail++;
    return d;
}

void handoff_queue_free(handoff_queue *q) {
    if (!q) return;
    handoff_datagram *d;
    while ((d = queue_pop(q))) free(d);
    free(q);
}

/* ---- whose datagram ------------------------------------------------------------------- */

unsigned handoff_owner(const server *srv, const uint8_t *packet, size_t len) {
    const process *p = srv->proc;
    if (p->nworkers < 2 || len == 0) return srv->index;
    /* Long header, type Initial (0) or 0-RTT (1): a CID the client chose. */
    if ((packet[0] & 0x80) && ((packet[0] >> 4) & 3) < 2) return srv->index;
    uint8_t id[15];
    if (h3q_cid_server_id(packet, len, p->id_len, id, NULL) != H3Q_OK) return srv->index;
    if (memcmp(id, p->id_prefix, p->id_prefix_len) != 0) return srv->index;
    unsigned owner = id[p->id_prefix_len];
    return owner < p->nworkers ? owner : srv->index;
}

/* ---- handing over --------------------------------------------------------------------- */

static void hand_over(server *srv, unsigned owner, const struct sockaddr *from,
                      socklen_t from_len, const uint8_t *data, size_t len, size_t segment,
                      uint8_t ecn) {
    handoff_datagram *d = malloc(sizeof *d + len);
    if (!d) {
        srv->handoffs.dropped++;
        return;
    }
    memcpy(&d->from, from, from_len <= sizeof d->from ? from_len : sizeof d->from);
    d->from_len = from_len <= sizeof d->from ? from_len : sizeof d->from;
    d->len = len;
    d->segment = segment;
    d->ecn = ecn;
    memcpy(d->data, data, len);
    if (!queue_push(srv->proc->workers[owner].inbox, d)) {
        free(d);
        srv->handoffs.dropped++;
        return;
    }
    srv->handoffs.out++;
    srv->wake_after_rx[owner] = true;
}

/* A run of datagrams with one owner: to the endpoint, or to the owner. */
static void deliver_run(server *srv, unsigned owner, uint64_t now, const struct sockaddr *from,
                        socklen_t from_len, const uint8_t *data, size_t len, size_t segment,
                        uint8_t ecn) {
    if (owner == srv->index)
        h3q_endpoint_receive_ecn(srv->endpoint, now, from, from_len, data, len, segment, ecn);
    else
        hand_over(srv, owner, from, from_len, data, len, segment, ecn);
}

void handoff_deliver(void *ctx, uint64_t now, const struct sockaddr *from, socklen_t from_len,
                     const uint8_t *data, size_t len, size_t segment, uint8_t ecn) {
    server *srv = ctx;
    if (segment == 0 || segment > len) segment = len;
    /* A GRO buffer holds datagrams of one sender, normally of one connection; still, each
     * is looked at, and runs of datagrams with one owner go on together. */
    size_t start = 0;
    unsigned run = handoff_owner(srv, data, segment);
    for (size_t off = segment;; off += segment) {
        bool end = off >= len;
        unsigned owner = end ? run
                             : handoff_owner(srv, data + off,
                                             len - off < segment ? len - off : segment);
        if (end || owner != run) {
            deliver_run(srv, run, now, from, from_len, data + start, (end ? len : off) - start,
                        segment, ecn);
            start = off;
            run = owner;
        }
        if (end) break;
    }
}

void handoff_wake_owners(server *srv) {
    for (unsigned i = 0; i < srv->proc->nworkers; i++) {
        if (!srv->wake_after_rx[i]) continue;
        srv->wake_after_rx[i] = false;
        worker_wake(&srv->proc->workers[i]);
    }
}

size_t handoff_receive(server *srv, uint64_t now) {
    size_t n = 0;
    handoff_datagram *d;
    while ((d = queue_pop(srv->inbox))) {
        h3q_endpoint_receive_ecn(srv->endpoint, now, (const struct sockaddr *)&d->from,
                                 d->from_len, d->data, d->len, d->segment, d->ecn);
        free(d);
        n++;
    }
    srv->handoffs.in += n;
    return n;
}
