/*
 * Tests of handoff.c (CTest: examples_handoff): the inbox queue and whose datagram is whose.
 *
 *   - queue: one consumer pops while PRODUCERS threads push ITEMS datagrams each; every
 *     datagram comes out exactly once, and each producer's in the order it pushed them;
 *     a full queue refuses a push (false) and takes it again once a slot is free.
 *   - owner: short-header and Handshake packets whose CID carries "prefix || K" go to
 *     worker K; Initial and 0-RTT packets, another prefix, a worker number beyond the
 *     workers, a CID too short and an empty datagram stay with the worker that read them.
 *
 * It includes handoff.c to reach its static functions; exits 0 when all pass.
 */
#include "handoff.c"

#include <sched.h>
#include <stdio.h>

#define PRODUCERS 4
#define ITEMS 200000

static int failures;

/* handoff_wake_owners() wakes workers through worker.c; the tests here wake nobody. */
void worker_wake(server *srv) { (void)srv; }

#define CHECK(cond)                                                                         \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                 \
            failures++;                                                                     \
        }                                                                                   \
    } while (0)

/* A datagram whose first bytes say who pushed it and its number. */
static handoff_datagram *tagged(uint32_t producer, uint32_t n) {
    handoff_datagram *d = calloc(1, sizeof *d + 8);
    if (!d) abort();
    d->len = 8;
    memcpy(d->data, &producer, 4);
    memcpy(d->data + 4, &n, 4);
    return d;
}

typedef struct {
    handoff_queue *q;
    uint32_t id;
} producer_arg;

static void *produce(void *arg) {
    producer_arg *p = arg;
    for (uint32_t n = 0; n < ITEMS; n++) {
        handoff_datagram *d = tagged(p->id, n);
        while (!queue_push(p->q, d)) sched_yield(); /* full: the consumer catches up */
    }
    return NULL;
}

static void test_queue_many_producers(void) {
    handoff_queue *q = handoff_queue_new();
    CHECK(q != NULL);
    pthread_t threads[PRODUCERS];
    producer_arg args[PRODUCERS];
    for (uint32_t i = 0; i < PRODUCERS; i++) {
        args[i] = (producer_arg){q, i};
        pthread_create(&threads[i], NULL, produce, &args[i]);
    }
    uint32_t next[PRODUCERS] = {0};
    uint64_t got = 0;
    while (got < (uint64_t)PRODUCERS * ITEMS) {
        handoff_datagram *d = queue_pop(q);
        if (!d) {
            sched_yield();
            continue;
        }
        uint32_t producer, n;
        memcpy(&producer, d->data, 4);
        memcpy(&n, d->data + 4, 4);
        CHECK(producer < PRODUCERS);
        if (producer < PRODUCERS) {
            CHECK(n == next[producer]); /* each producer's in order, none lost or twice */
            next[producer] = n + 1;
        }
        free(d);
        got++;
    }
    for (int i = 0; i < PRODUCERS; i++) pthread_join(threads[i], NULL);
    CHECK(queue_pop(q) == NULL);
    handoff_queue_free(q);
}

static void test_queue_full(void) {
    handoff_queue *q = handoff_queue_new();
    for (uint32_t n = 0; n < HANDOFF_CAPACITY; n++) CHECK(queue_push(q, tagged(0, n)));
    handoff_datagram *extra = tagged(0, HANDOFF_CAPACITY);
    CHECK(!queue_push(q, extra)); /* full */
    handoff_datagram *first = queue_pop(q);
    CHECK(first != NULL);
    free(first);
    CHECK(queue_push(q, extra)); /* a slot again */
    handoff_queue_free(q);         /* frees the datagrams still queued */
}

/* A packet: `first` byte, then for a long header version 1 and the CID length; then the
 * CID: its QUIC-LB octet (length - 1), the id bytes, and nonce up to `cid_len`. */
static size_t packet(uint8_t *buf, uint8_t first, const uint8_t *id, size_t id_len,
                     size_t cid_len) {
    size_t n = 0;
    buf[n++] = first;
    if (first & 0x80) {
        buf[n++] = 0, buf[n++] = 0, buf[n++] = 0, buf[n++] = 1;
        buf[n++] = (uint8_t)cid_len;
    }
    buf[n++] = (uint8_t)(cid_len - 1);
    memcpy(buf + n, id, id_len);
    n += id_len;
    for (size_t i = 1 + id_len; i < cid_len; i++) buf[n++] = 0xa5;
    memset(buf + n, 0, 40); /* the rest of a packet */
    return n + 40;
}

static void test_owner(void) {
    static server workers[3];
    process p = {.workers = workers, .nworkers = 3, .id_prefix = {0x0a, 0x0b},
                 .id_prefix_len = 2, .id_len = 3};
    for (unsigned i = 0; i < 3; i++) workers[i] = (server){.proc = &p, .index = i};
    const server *reader = &workers[0];
    uint8_t buf[128];
    uint8_t to2[] = {0x0a, 0x0b, 2}, to1[] = {0x0a, 0x0b, 1}, beyond[] = {0x0a, 0x0b, 3},
            other[] = {0x0c, 0x0b, 2};
    CHECK(handoff_owner(reader, buf, packet(buf, 0x40, to2, 3, 12)) == 2);     /* short */
    CHECK(handoff_owner(reader, buf, packet(buf, 0xe0, to1, 3, 12)) == 1);     /* Handshake */
    CHECK(handoff_owner(reader, buf, packet(buf, 0xc0, to2, 3, 12)) == 0);     /* Initial */
    CHECK(handoff_owner(reader, buf, packet(buf, 0xd0, to2, 3, 12)) == 0);     /* 0-RTT */
    CHECK(handoff_owner(reader, buf, packet(buf, 0x40, other, 3, 12)) == 0);   /* prefix */
    CHECK(handoff_owner(reader, buf, packet(buf, 0x40, beyond, 3, 12)) == 0);  /* no worker */
    CHECK(handoff_owner(reader, buf, packet(buf, 0x40, to2, 2, 3)) == 0);      /* too short */
    CHECK(handoff_owner(reader, buf, 0) == 0);                                  /* empty */
    CHECK(handoff_owner(&workers[2], buf, packet(buf, 0x40, to2, 3, 12)) == 2); /* its own */
    p.nworkers = 1; /* one worker: everything is its own */
    CHECK(handoff_owner(reader, buf, packet(buf, 0x40, to2, 3, 12)) == 0);
}

int main(void) {
    test_queue_many_producers();
    test_queue_full();
    test_owner();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("handoff: %d producers x %d datagrams through one queue, full queue, owners: ok\n",
           PRODUCERS, ITEMS);
    return 0;
}
