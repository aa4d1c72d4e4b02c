/*
 * h3q-server's connections: accepting them, their HTTP/3 events, their end, and the
 * pacing of large response bodies.
 *
 * Per connection: a struct conn with both h3q handles and the request streams, found
 * again through the QUIC handle's user data (h3q_quic_conn_set_user_data) when
 * h3q_endpoint_next_ready gives the connection: the server never scans all its
 * connections for events. The lifecycle comes as HTTP/3 events: H3Q_EVENT_STREAM_RESET
 * (the client abandoned a request), H3Q_EVENT_STOP_SENDING (it wants no more of a
 * response; h3q has reset our side already), H3Q_EVENT_GOAWAY_RECEIVED (the client
 * shuts down: it accepts no more pushes) and H3Q_EVENT_CONNECTION_CLOSED, the end,
 * whoever closed it: nothing more comes, so both handles are freed once the events are
 * handled; the endpoint finishes the closing by itself.
 *
 * Body pacing: h3q buffers every byte it is given, so sending a 10 GB body in one go would
 * buffer 10 GB. Bodies are fed in CHUNK pieces while the stream's unsent bytes
 * (h3q_quic_conn_stream_send_buffered) stay under STREAM_WINDOW, and lent rather than
 * copied (h3q_conn_send_data_zerocopy). Room appears when
 * acknowledgements arrive, which produce no event, so the connections with such bodies are
 * kept on a list of their own (`feeding`) and fed after every input; every other
 * connection costs nothing until it has events.
 *
 * Priorities (RFC 9218): h3q reads each request's `priority` header and the client's
 * PRIORITY_UPDATE frames, and its QUIC layer sends what it holds most urgent first (lower
 * urgency; within one, non-incremental streams one after another in stream order, then
 * incremental ones in turn). It can only order what it holds, and what it holds is what
 * this file feeds it, so the pacing follows the same order: each connection keeps its
 * paced streams in a list (`paced`) sorted that way, by the priority h3q_conn_get_priority
 * gives when the request arrives, and a stream moves to its new place when
 * H3Q_EVENT_PRIORITY_UPDATE changes it. feed_bodies() walks the list from the front and
 * feeds a stream only while the streams before it hold less than CONN_WINDOW unsent
 * (incremental streams of one urgency share it: a chunk each in turn, the turn going on at
 * the next call where it stopped). So the most urgent response gets its full
 * STREAM_WINDOW, the next in line what is left of CONN_WINDOW (one more window), and the
 * others wait here, where a body waiting costs nothing, rather than in h3q.
 *
 * Why bound it: with every stream at a full window, h3q sends less urgent data whenever
 * the urgent stream waits for the client's flow-control credit (1.25 MB per stream), and a
 * client short of CPU or bandwidth spends it on them. 8 responses at u=5 and one at u=0,
 * requested last, over loopback under ASan: the u=0 one completes first either way, but
 * the others then have about a third of their bytes; with the bound, about a tenth
 * (tests/examples_priorities.sh). The cost: the capacity the urgent stream leaves while it
 * waits for credit goes to the next in line only. And a stream h3q has taken nothing of
 * for STALL_NS (its client does not read it, or more urgent ones go first all that time)
 * does not count against CONN_WINDOW: two paused downloads must not hold up every
 * response behind them.
 */
#define _GNU_SOURCE
#include "server.h"

#include "ex_clock.h"
#include "ex_h3.h"
#include "ex_log.h"
#include "ex_sha256.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

/* Connections open at once after which the heap is trimmed once none is left (see
 * trim_heap_when_idle). */
#define TRIM_AFTER_CONNS 64

static stream *find_stream(conn *c, uint64_t id) {
    for (stream *s = c->streams; s; s = s->next)
        if (s->id == id) return s;
    return NULL;
}

static void reprioritize(conn *c, uint64_t stream_id, stream *s, h3q_priority p);

/* ---- events --------------------------------------------------------------------------- */

/* The client reset its request stream (its body, or the whole request): the response
 * stops too. */
static void on_stream_reset(conn *c, stream *s, uint64_t code) {
    char name[EX_CODE_NAME_LEN], outcome[160];
    s->request_ended = true; /* h3q delivers nothing more of it */
    if (s->done) return;
    /* Fails with "stream was already ended" when the whole response was handed over. */
    h3q_conn_reset_stream(c->h3, s->id, H3Q_H3_REQUEST_CANCELLED);
    snprintf(outcome, sizeof outcome, "(reset by client: %s)", ex_code_name(code, name));
    finish_stream(c, s, outcome);
}

static void on_connection_closed(conn *c, const h3q_event *ev) {
    char why[300], outcome[340];
    c->terminated = true;
    ex_describe_close(ev, why, sizeof why);
    ex_debug("%s: connection %s", c->peer, why);
    if (ex_verbose) {
        char line[EX_STATS_LEN];
        ex_describe_stats(c->quic, line);
        ex_debug("%s: %s", c->peer, line);
    }
    snprintf(outcome, sizeof outcome, "(connection %s)", why);
    for (stream *s = c->streams; s; s = s->next) finish_stream(c, s, outcome);
}

/* HTTP events of one connection (called during h3q_conn_handle_event). */
static void on_http_event(void *user_data, const h3q_event *ev) {
    conn *c = user_data;
    char name[EX_CODE_NAME_LEN], outcome[160];
    stream *s = ev->has_push_id ? NULL : find_stream(c, ev->stream_id);
    switch (ev->type) {
    case H3Q_EVENT_HEADERS_RECEIVED:
        if (ev->has_push_id) return; /* clients do not push */
        if (!s) {
            /* A stream is kept until its request has ended, so a HEADERS event on an
             * unknown stream is a new request. (Requests may arrive out of stream-id order:
             * one whose headers wait for QPACK encoder-stream data comes later.) */
            on_request(c, ev);
            return;
        }
        break; /* trailers */
    case H3Q_EVENT_DATA_RECEIVED:
        break;
    case H3Q_EVENT_STREAM_RESET:
        if (s) on_stream_reset(c, s, ev->error_code);
        return;
    case H3Q_EVENT_STOP_SENDING: /* the client wants no more of the response (or push) */
        if (s && !s->done) {
            snprintf(outcome, sizeof outcome, "(stopped by client: %s)",
                     ex_code_name(ev->error_code, name));
            finish_stream(c, s, outcome);
        }
        return;
    case H3Q_EVENT_GOAWAY_RECEIVED: /* the client accepts no pushes from push_id on */
        ex_debug("%s: GOAWAY from the client (push id %" PRIu64 ")", c->peer, ev->push_id);
        return;
    case H3Q_EVENT_CONNECTION_CLOSED:
        on_connection_closed(c, ev);
        return;
    case H3Q_EVENT_PRIORITY_UPDATE: /* of a request, or of a push (sent whole: nothing to do) */
        if (ev->has_push_id)
            ex_debug("%s: PRIORITY_UPDATE for push %" PRIu64 ": u=%u%s", c->peer, ev->push_id,
                     (unsigned)ev->priority.urgency, ev->priority.incremental ? ",i" : "");
        else
            reprioritize(c, ev->stream_id, s, ev->priority);
        return;
    default: /* datagrams are not enabled; the client sends no ORIGIN */
        return;
    }
    if (!s) return; /* the body of a request already answered */
    if (ev->stream_ended) s->request_ended = true;
    if (s->kind == BODY_ECHO && !s->done) echo_body(c, s, ev);
}

/* Frees the streams whose request and response are both over (all of them if `all`). */
static void sweep_streams(conn *c, bool all) {
    stream **link = &c->streams;
    while (*link) {
        stream *s = *link;
        if (all || (s->done && s->request_ended)) {
            *link = s->next;
            stop_feeding(s);
            if (s->fd >= 0) close(s->fd);
            if (s->cached) cached_file_put(s->cached);
            echo_release(s->echo);
            if (s->path != s->path_short) free(s->path);
            free(s);
        } else {
            link = &s->next;
        }
    }
}

/* ---- connections ---------------------------------------------------------------------- */

void accept_connections(server *srv) {
    h3q_quic_conn *quic;
    while (h3q_endpoint_accept(srv->endpoint, &quic) == H3Q_OK) {
        conn *c = ex_xcalloc(1, sizeof *c);
        c->srv = srv;
        c->quic = quic;
        list_init(&c->feeding);
        list_init(&c->going);
        list_init(&c->paced);
        struct sockaddr_storage addr;
        socklen_t addr_len = sizeof addr;
        if (h3q_quic_conn_remote_address(quic, &addr, &addr_len) != H3Q_OK)
            addr.ss_family = AF_UNSPEC;
        ex_format_addr((const struct sockaddr *)&addr, c->peer, sizeof c->peer);
        h3q_quic_conn_set_user_data(quic, c); /* found again through next_ready */
        list_add(&srv->conns, &c->all);
        srv->nconns++;
        if (srv->nconns > srv->nconns_peak) srv->nconns_peak = srv->nconns;
        srv->accepted++;
        ex_debug("%s: new connection (%zu open)", c->peer, srv->nconns);
        h3q_result rc = h3q_conn_new_quic(quic, NULL, &c->h3);
        if (rc != H3Q_OK) {
            ex_warn("%s: h3q_conn_new_quic: %s", c->peer, h3q_result_str(rc));
            h3q_quic_conn_close(quic, H3Q_H3_INTERNAL_ERROR, NULL, 0);
            c->state = CONN_CLOSED;
        } else if (srv->draining) {
            drain_accepted(c, ex_now_ns());
        }
    }
}

void free_conn(server *srv, conn *c) {
    sweep_streams(c, true);
    list_remove(&c->all);
    if (list_linked(&c->feeding)) list_remove(&c->feeding);
    if (list_linked(&c->going)) list_remove(&c->going);
    h3q_conn_free(c->h3);
    h3q_quic_conn_free(c->quic);
    srv->nconns--;
    free(c);
}

void trim_heap_when_idle(server *srv) {
#ifdef __GLIBC__
    /* The last connection of a crowd is gone and the endpoint has finished with them all
     * (no timer left: every closing connection drained): give the heap's free pages back.
     * glibc keeps them otherwise, and the RSS stays at its peak (100 MB after 2,000
     * connections, 27 MB once trimmed) however long the server then idles. Once per
     * crowd, as trimming a large heap takes a moment. */
    if (srv->nconns == 0 && srv->nconns_peak >= TRIM_AFTER_CONNS &&
        h3q_endpoint_next_timeout(srv->endpoint) == EX_NEVER) {
        malloc_trim(0);
        srv->nconns_peak = 0;
    }
#else
    (void)srv;
#endif
}

void report_stats(server *srv) {
    char line[EX_STATS_LEN];
    size_t n = 0;
    for (list *l = srv->conns.next; l != &srv->conns; l = l->next, n++) {
        conn *c = CONTAINER(l, conn, all);
        ex_describe_stats(c->quic, line);
        fprintf(stderr, "%s: stats %s: %s\n", ex_program(), c->peer, line);
    }
    fprintf(stderr, "%s: stats: %zu connection(s)\n", ex_program(), n);
}

/* The QUIC events themselves: with -v, a completed handshake names the client's
 * certificate (when --client-ca asked for one) by its SHA-256 fingerprint. */
static void on_quic_event(void *user_data, const h3q_quic_event *ev, h3q_result rc) {
    conn *c = user_data;
    (void)rc;
    if (ev->type != H3Q_QUIC_HANDSHAKE_COMPLETED || !ex_verbose || !c->srv->opt->client_ca)
        return;
    size_t len = 0;
    if (h3q_quic_conn_peer_certificate(c->quic, 0, NULL, 0, &len) != H3Q_ERR_BUFFER_TOO_SMALL) {
        ex_debug("%s: no client certificate", c->peer);
        return;
    }
    uint8_t *der = ex_xcalloc(1, len), digest[32];
    char hex[65];
    if (h3q_quic_conn_peer_certificate(c->quic, 0, der, len, &len) == H3Q_OK) {
        ex_sha256 h;
        ex_sha256_init(&h);
        ex_sha256_update(&h, der, len);
        ex_sha256_final(&h, digest);
        ex_sha256_hex(digest, hex);
        ex_debug("%s: client certificate sha256=%s", c->peer, hex);
    }
    free(der);
}

/* Step 5 of the loop: the connections with events, and only those. */
void serve_ready_connections(server *srv) {
    h3q_quic_conn *quic;
    while (h3q_endpoint_next_ready(srv->endpoint, &quic) == H3Q_OK) {
        conn *c = h3q_quic_conn_user_data(quic);
        /* A connection whose h3q_conn could not be made gets only its end. */
        h3q_quic_event ev;
        if (!c->h3) {
            while (h3q_quic_conn_next_event(quic, &ev) == H3Q_OK)
                if (ev.type == H3Q_QUIC_CONNECTION_TERMINATED) c->terminated = true;
        } else {
            ex_drain_events(quic, c->h3, c->peer, on_http_event, on_quic_event, c);
        }
        if (c->terminated) {
            ex_debug("%s: closed (%zu open)", c->peer, srv->nconns - 1);
            free_conn(srv, c); /* nothing more comes; the endpoint finishes the close */
        } else {
            sweep_streams(c, false);
        }
    }
}

/* ---- body pacing (see the top) ----------------------------------------------------------- */

_Static_assert(CONN_WINDOW >= STREAM_WINDOW, "the most urgent stream gets a full window");

/* True when `a` goes before `b` in conn.paced: the order h3q's QUIC layer sends in. An
 * incremental stream goes after every stream of its urgency: its turn comes last. */
static bool goes_before(const stream *a, const stream *b) {
    if (a->priority.urgency != b->priority.urgency)
        return a->priority.urgency < b->priority.urgency;
    if (a->priority.incremental != b->priority.incremental) return !a->priority.incremental;
    return !a->priority.incremental && a->id < b->id;
}

/* Inserts `s` after every stream it does not go before. The search starts from the back:
 * a new request usually goes last (its id is the highest of its urgency), so that is one
 * step rather than a walk past every stream of the connection. */
static void pace_insert(conn *c, stream *s) {
    list *l = c->paced.prev;
    while (l != &c->paced && goes_before(s, CONTAINER(l, stream, paced))) l = l->prev;
    list_add(l, &s->paced); /* after l */
}

static uint64_t feed_chunk(conn *c, stream *s);

void start_feeding(conn *c, stream *s, uint64_t now) {
    s->taken_ns = now;
    /* A small body goes at once, right behind its HEADERS, which h3q then hands to QUIC
     * together as one write: the pacing is for bodies that would fill h3q's buffers. */
    if (s->length - s->sent <= SMALL_BODY) {
        feed_chunk(c, s);
        return;
    }
    pace_insert(c, s);
    if (!list_linked(&c->feeding)) list_add(&c->srv->feeding, &c->feeding);
}

void stop_feeding(stream *s) {
    if (list_linked(&s->paced)) list_remove(&s->paced);
}

/* H3Q_EVENT_PRIORITY_UPDATE: h3q schedules the response by the new priority already; the
 * stream moves to its new place in the feeding order. */
static void reprioritize(conn *c, uint64_t stream_id, stream *s, h3q_priority p) {
    ex_debug("%s: PRIORITY_UPDATE for %s (stream %" PRIu64 "): u=%u%s", c->peer,
             s ? s->path : "a finished request", stream_id, (unsigned)p.urgency,
             p.incremental ? ",i" : "");
    if (!s) return;
    s->priority = p;
    if (list_linked(&s->paced)) {
        list_remove(&s->paced);
        pace_insert(c, s);
    }
}

/* Sends the next chunk of a GENERATED or FILE body; returns its length (0: the stream
 * failed and is finished). Bodies are lent to h3q, not copied: generated ones straight
 * from the static pattern (nothing to free), cached files straight from the cache (each
 * chunk holding a reference that h3q releases once the client acknowledged it), other file
 * chunks in a buffer of their own that h3q frees then. */
static uint64_t feed_chunk(conn *c, stream *s) {
    uint64_t left = s->length - s->sent;
    size_t n = left < CHUNK ? (size_t)left : CHUNK;
    const uint8_t *data;
    uint8_t *chunk = NULL;
    h3q_release_cb release = NULL;
    void *release_ctx = NULL;
    if (s->kind == BODY_GENERATED) {
        data = generated_body(s->sent);
    } else if (s->cached) {
        data = cached_file_data(s->cached) + s->sent;
        cached_file_hold(s->cached); /* released by h3q, even when the send fails */
        release = cached_file_release;
        release_ctx = s->cached;
    } else {
        chunk = malloc(n);
        ssize_t r = chunk ? pread(s->fd, chunk, n, (off_t)s->sent) : -1;
        if (r <= 0) { /* the file shrank or failed: the response cannot complete */
            free(chunk);
            abort_stream(c, s, H3Q_H3_INTERNAL_ERROR, "file read failed");
            return 0;
        }
        n = (size_t)r;
        data = chunk;
        release = free;
        release_ctx = chunk;
    }
    bool end = s->sent + n == s->length;
    if (h3q_conn_send_data_zerocopy(c->h3, s->id, data, n, end, release, release_ctx) != H3Q_OK) {
        finish_stream(c, s, "(send failed)");
        return 0;
    }
    s->sent += n;
    if (end) finish_stream(c, s, NULL);
    return n;
}

/* A stream's unsent bytes in h3q (as full when h3q cannot say). */
static uint64_t unsent(conn *c, const stream *s) {
    uint64_t n = ex_unsent(c->quic, s->id);
    return n == UINT64_MAX ? STREAM_WINDOW : n;
}

/* A stream's unsent bytes before it is fed, noting whether h3q took some since the last
 * visit. */
static uint64_t visit(conn *c, stream *s, uint64_t now) {
    uint64_t n = unsent(c, s);
    if (n == 0 || n < s->unsent_left) s->taken_ns = now;
    return n;
}

/* h3q has taken nothing of the stream for STALL_NS (see the top). */
static bool stalled(const stream *s, uint64_t now) { return now - s->taken_ns >= STALL_NS; }

/* What a stream left with `n` unsent bytes counts against CONN_WINDOW. */
static uint64_t counted(stream *s, uint64_t n, uint64_t now) {
    s->unsent_left = n;
    return stalled(s, now) ? 0 : n;
}

/* A non-incremental stream: fed up to STREAM_WINDOW, within what the streams before it
 * (`held`) left of CONN_WINDOW. Returns what it counts against CONN_WINDOW. */
static uint64_t fill(conn *c, stream *s, uint64_t held, uint64_t now) {
    uint64_t n = visit(c, s, now);
    while (!s->done && n < STREAM_WINDOW && held + n < CONN_WINDOW) n += feed_chunk(c, s);
    return counted(s, n, now);
}

/* The incremental streams of one urgency, from `first` to the next urgency: a chunk each
 * in turn while they have room. The streams up to the last one fed then move to the end
 * of the group, so the next call goes on with the turn where this one stopped. Adds what
 * they count against CONN_WINDOW to `*held`; returns the node after the group. */
static list *feed_in_turn(conn *c, list *first, uint64_t *held, uint64_t now) {
    uint8_t urgency = CONTAINER(first, stream, paced)->priority.urgency;
    list *before = first->prev, *end = first, *resume = NULL;
    uint64_t group = 0;
    for (; end != &c->paced && CONTAINER(end, stream, paced)->priority.urgency == urgency;
         end = end->next) {
        stream *s = CONTAINER(end, stream, paced);
        group += counted(s, visit(c, s, now), now);
    }
    for (bool fed = true; fed && *held + group < CONN_WINDOW;) {
        fed = false;
        for (list *l = before->next, *next; l != end && *held + group < CONN_WINDOW; l = next) {
            next = l->next; /* l leaves the list when its body is complete */
            stream *s = CONTAINER(l, stream, paced);
            if (unsent(c, s) >= STREAM_WINDOW) continue;
            uint64_t n = feed_chunk(c, s);
            if (!stalled(s, now)) group += n;
            fed |= n > 0;
            resume = next;
        }
    }
    if (resume && resume != end && resume != before->next) {
        /* Rotate: [before->next, resume) to the end of the group. */
        list *a = before->next, *b = resume->prev, *last = end->prev;
        before->next = resume;
        resume->prev = before;
        last->next = a;
        a->prev = last;
        b->next = end;
        end->prev = b;
    }
    for (list *l = before->next; l != end; l = l->next) {
        stream *s = CONTAINER(l, stream, paced);
        s->unsent_left = unsent(c, s);
    }
    *held += group;
    return end;
}

/* Feeds a connection's paced bodies, most urgent first (see the top); false once it has
 * none left to feed. */
static bool feed_bodies(conn *c) {
    uint64_t held = 0, now = ex_now_ns(); /* held: what the streams visited so far count */
    for (list *l = c->paced.next; l != &c->paced && held < CONN_WINDOW;) {
        stream *s = CONTAINER(l, stream, paced);
        if (s->priority.incremental) {
            l = feed_in_turn(c, l, &held, now);
        } else {
            l = l->next; /* s leaves the list when its body is complete */
            held += fill(c, s, held, now);
        }
    }
    sweep_streams(c, false);
    return list_linked(&c->paced) && !c->terminated;
}

void feed_all(server *srv) {
    for (list *l = srv->feeding.next, *next; l != &srv->feeding; l = next) {
        next = l->next;
        conn *c = CONTAINER(l, conn, feeding);
        if (!feed_bodies(c)) list_remove(l);
    }
}
