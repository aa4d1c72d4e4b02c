/* endpoint_pair.c: see endpoint_pair.h. */
#include "endpoint_pair.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Room for a GSO batch of several full-size datagrams. */
#define PAIR_TRANSMIT_CAP 65536
/* A run gives up after this many loop iterations, whatever the simulated clock says. */
#define PAIR_MAX_ITERATIONS 2000000UL
/* The simulated clock starts here (not at 0, to catch clock arithmetic that assumes it). */
#define PAIR_START_NS 1000000000ULL

static void harness_error(pair *p, const char *what, int result, const char *detail) {
    p->errors++;
    fprintf(stderr, "endpoint_pair: %s: %s%s%s\n", what, h3q_result_str(result),
            detail ? " - " : "", detail ? detail : "");
}

uint8_t pair_pattern_byte(uint64_t offset) {
    /* A prime period, so chunk boundaries at powers of two never line up with it. */
    return (uint8_t)((offset % 251) ^ (offset / 251 % 7));
}

void pair_pattern_fill(uint8_t *buf, size_t len, uint64_t offset) {
    for (size_t i = 0; i < len; i++) buf[i] = pair_pattern_byte(offset + i);
}

uint64_t pair_fnv1a(uint64_t hash, const uint8_t *data, size_t len) {
    for (size_t i = 0; i < len; i++) {
        hash ^= data[i];
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

h3q_header pair_header(const char *name, const char *value) {
    h3q_header h;
    h.name = (const uint8_t *)name;
    h.name_len = strlen(name);
    h.value = (const uint8_t *)value;
    h.value_len = strlen(value);
    return h;
}

static bool field_is(const h3q_header *h, const char *name) {
    return h->name_len == strlen(name) && memcmp(h->name, name, h->name_len) == 0;
}

static void copy_bytes(char *out, size_t cap, const uint8_t *data, size_t len) {
    if (len >= cap) len = cap - 1;
    if (len > 0) memcpy(out, data, len);
    out[len] = '\0';
}

bool pair_find_header(const h3q_header *headers, size_t n, const char *name, char *out,
                      size_t cap) {
    for (size_t i = 0; i < n; i++) {
        if (field_is(&headers[i], name)) {
            copy_bytes(out, cap, headers[i].value, headers[i].value_len);
            return true;
        }
    }
    return false;
}

pair_options pair_options_default(void) {
    pair_options o;
    memset(&o, 0, sizeof o);
    o.client_trusts_server = true;
    o.server_name = "localhost";
    o.max_datagram_frame_size = 65535;
    return o;
}

static void set_loopback(struct sockaddr_in *addr, uint16_t port) {
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_port = htons(port);
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static void conn_init(pair_conn *c, pair *p, bool is_server) {
    memset(c, 0, sizeof *c);
    c->pair = p;
    c->is_server = is_server;
}

/* ---- the client's records ---- */

pair_response *pair_response_for(pair *p, uint64_t stream_id) {
    for (size_t i = 0; i < p->nresponses; i++) {
        if (p->responses[i].stream_id == stream_id) return &p->responses[i];
    }
    return NULL;
}

static pair_response *response_new(pair *p, uint64_t stream_id) {
    if (p->nresponses == p->cap_responses) {
        size_t cap = p->cap_responses ? p->cap_responses * 2 : 16;
        pair_response *grown = realloc(p->responses, cap * sizeof *grown);
        if (!grown) return NULL;
        p->responses = grown;
        p->cap_responses = cap;
    }
    pair_response *r = &p->responses[p->nresponses++];
    memset(r, 0, sizeof *r);
    r->stream_id = stream_id;
    r->body_hash = PAIR_FNV_INIT;
    r->body_is_pattern = true;
    return r;
}

static int status_of(const h3q_header *headers, size_t n) {
    char value[16];
    if (!pair_find_header(headers, n, ":status", value, sizeof value)) return 0;
    return atoi(value);
}

static void log_event(pair_response *r, const h3q_event *ev) {
    if (r->nlog == PAIR_LOG_EVENTS) return;
    pair_logged *l = &r->log[r->nlog++];
    memset(l, 0, sizeof *l);
    l->type = ev->type;
    l->stream_ended = ev->stream_ended;
    l->data_len = ev->data_len;
    if (ev->type != H3Q_EVENT_HEADERS_RECEIVED) return;
    l->status = status_of(ev->headers, ev->headers_len);
    for (size_t i = 0; i < ev->headers_len; i++) {
        const h3q_header *h = &ev->headers[i];
        if (h->name_len > 0 && h->name[0] == ':') continue;
        char name[40], value[48];
        copy_bytes(name, sizeof name, h->name, h->name_len);
        copy_bytes(value, sizeof value, h->value, h->value_len);
        snprintf(l->field, sizeof l->field, "%s: %s", name, value);
        break;
    }
}

static void client_event(pair_conn *c, const h3q_event *ev) {
    pair *p = c->pair;
    unsigned seq = p->client_seq++;
    switch (ev->type) {
    case H3Q_EVENT_PUSH_PROMISE_RECEIVED: {
        if (p->npromises == sizeof p->promises / sizeof p->promises[0]) break;
        pair_promise *pr = &p->promises[p->npromises++];
        memset(pr, 0, sizeof *pr);
        pr->request_stream_id = ev->stream_id;
        pr->push_id = ev->has_push_id ? ev->push_id : UINT64_MAX;
        pr->seq = seq;
        pair_find_header(ev->headers, ev->headers_len, ":path", pr->path, sizeof pr->path);
        break;
    }
    case H3Q_EVENT_DATAGRAM_RECEIVED: {
        if (p->nclient_datagrams == sizeof p->client_datagrams / sizeof p->client_datagrams[0])
            break;
        pair_datagram *d = &p->client_datagrams[p->nclient_datagrams++];
        d->stream_id = ev->stream_id;
        d->len = ev->data_len < sizeof d->data ? ev->data_len : sizeof d->data;
        if (d->len > 0) memcpy(d->data, ev->data, d->len);
        break;
    }
    case H3Q_EVENT_HEADERS_RECEIVED:
    case H3Q_EVENT_DATA_RECEIVED: {
        pair_response *r = pair_response_for(p, ev->stream_id);
        if (!r) {
            r = response_new(p, ev->stream_id);
            if (!r) {
                harness_error(p, "out of memory for responses", 0, NULL);
                return;
            }
            r->first_seq = seq;
        }
        if (r->ended) r->events_after_end++;
        if (ev->has_push_id) {
            r->has_push_id = true;
            r->push_id = ev->push_id;
        }
        log_event(r, ev);
        if (ev->type == H3Q_EVENT_HEADERS_RECEIVED) {
            r->headers_events++;
            int status = status_of(ev->headers, ev->headers_len);
            if (status != 0) r->status = status;
        } else {
            r->data_events++;
            /* Zero-copy: the bytes should be part of the QUIC event's own payload. */
            if (ev->data_len > 0) {
                uintptr_t at = (uintptr_t)ev->data, from = (uintptr_t)c->quic_data;
                bool inside = c->quic_data && at >= from &&
                              at + ev->data_len <= from + c->quic_data_len;
                if (inside) c->data_shared++;
                else c->data_copied++;
            }
            for (size_t i = 0; i < ev->data_len && r->body_is_pattern; i++) {
                if (ev->data[i] != pair_pattern_byte(r->body_len + i)) r->body_is_pattern = false;
            }
            if (r->body_len < PAIR_SMALL_BODY) {
                size_t room = PAIR_SMALL_BODY - (size_t)r->body_len;
                size_t n = ev->data_len < room ? ev->data_len : room;
                if (n > 0) memcpy(r->small_body + r->body_len, ev->data, n);
            }
            if (ev->data_len > 0) r->body_hash = pair_fnv1a(r->body_hash, ev->data, ev->data_len);
            r->body_len += ev->data_len;
        }
        if (ev->stream_ended) r->ended = true;
        break;
    }
    default:
        break;
    }
}

static void on_http_event(void *user_data, const h3q_event *ev) {
    pair_conn *c = user_data;
    if (c->pair->trace)
        fprintf(stderr, "  [%s]   http event %d stream %" PRIu64 " ended %d push %d/%" PRIu64
                        " headers %zu data %zu\n",
                c->is_server ? "server" : "client", (int)ev->type, ev->stream_id,
                (int)ev->stream_ended, (int)ev->has_push_id, ev->push_id, ev->headers_len,
                ev->data_len);
    if (c->is_server) {
        if (c->pair->server_handler) c->pair->server_handler(c, ev);
    } else {
        client_event(c, ev);
    }
}

/* ---- the simulation ---- */

static bool is_peer_address(const struct sockaddr_storage *dest, socklen_t len,
                            const struct sockaddr_in *expected) {
    if (len != (socklen_t)sizeof(struct sockaddr_in) || dest->ss_family != AF_INET) return false;
    struct sockaddr_in got;
    memcpy(&got, dest, sizeof got);
    return got.sin_port == expected->sin_port &&
           got.sin_addr.s_addr == expected->sin_addr.s_addr;
}

/* A datagram on the simulated wire. */
struct pair_inflight {
    struct pair_inflight *next;
    uint64_t deliver_at;
    bool to_server;
    size_t len;
    uint8_t data[];
};

static void deliver(pair *p, bool to_server, const uint8_t *data, size_t len) {
    h3q_endpoint *to = to_server ? p->server : p->client;
    const struct sockaddr_in *from = to_server ? &p->client_addr : &p->server_addr;
    int r = h3q_endpoint_receive(to, p->now, (const struct sockaddr *)from, sizeof *from, data,
                                 len);
    if (r != H3Q_OK) harness_error(p, "receive", r, h3q_endpoint_last_error(to));
    if (len > p->largest_datagram) p->largest_datagram = len;
    if (to_server) {
        p->datagrams_to_server++;
    } else {
        p->datagrams_to_client++;
    }
}

/* Puts a datagram on the wire, or delivers it at once without latency. */
static void send_datagram(pair *p, bool to_server, const uint8_t *data, size_t len) {
    if (p->latency_ns == 0) {
        deliver(p, to_server, data, len);
        return;
    }
    struct pair_inflight *d = malloc(sizeof *d + len);
    if (!d) {
        harness_error(p, "out of memory for the wire", H3Q_OK, NULL);
        return;
    }
    d->next = NULL;
    d->deliver_at = p->now + p->latency_ns; /* the clock never goes back: FIFO order */
    d->to_server = to_server;
    d->len = len;
    memcpy(d->data, data, len);
    if (p->wire_tail) {
        p->wire_tail->next = d;
    } else {
        p->wire_head = d;
    }
    p->wire_tail = d;
}

/* Delivers the datagrams whose time has come. */
static bool deliver_due(pair *p) {
    bool moved = false;
    while (p->wire_head && p->wire_head->deliver_at <= p->now) {
        struct pair_inflight *d = p->wire_head;
        p->wire_head = d->next;
        if (!p->wire_head) p->wire_tail = NULL;
        deliver(p, d->to_server, d->data, d->len);
        free(d);
        moved = true;
    }
    return moved;
}

/* Sends everything `from` has to send to `to`. */
static bool flush_endpoint(pair *p, bool to_server) {
    h3q_endpoint *from = to_server ? p->client : p->server;
    const struct sockaddr_in *to_addr = to_server ? &p->server_addr : &p->client_addr;
    bool moved = false;
    for (;;) {
        size_t len = 0, segment = 0;
        struct sockaddr_storage dest;
        socklen_t dest_len = 0;
        const uint8_t *data = p->transmit_buf;
        int r;
        if (!to_server && p->server_lent_transmit) {
            uint8_t ecn = 0;
            r = h3q_endpoint_poll_transmit_lent(from, p->now, &data, &len, &dest, &dest_len,
                                                &segment, &ecn);
        } else {
            r = h3q_endpoint_poll_transmit(from, p->now, p->transmit_buf, PAIR_TRANSMIT_CAP,
                                           &len, &dest, &dest_len, &segment);
        }
        if (r == H3Q_DONE) break;
        if (r != H3Q_OK) {
            harness_error(p, "poll_transmit", r, h3q_endpoint_last_error(from));
            break;
        }
        moved = true;
        if (!is_peer_address(&dest, dest_len, to_addr)) {
            p->bad_destinations++;
            continue;
        }
        if (segment == 0 || segment > len) {
            harness_error(p, "poll_transmit gave a bad segment size", H3Q_OK, NULL);
            segment = len;
        }
        if (len > segment) p->gso_batches++;
        for (size_t off = 0; off < len; off += segment) {
            size_t n = len - off < segment ? len - off : segment;
            send_datagram(p, to_server, data + off, n);
        }
    }
    return moved;
}

static bool accept_new(pair *p) {
    bool moved = false;
    for (;;) {
        h3q_quic_conn *quic = NULL;
        int r = h3q_endpoint_accept(p->server, &quic);
        if (r == H3Q_DONE) break;
        if (r != H3Q_OK) {
            harness_error(p, "accept", r, h3q_endpoint_last_error(p->server));
            break;
        }
        moved = true;
        if (p->nserver_conns == PAIR_MAX_SERVER_CONNS) {
            harness_error(p, "too many server connections", H3Q_OK, NULL);
            h3q_quic_conn_close(quic, 0x101, NULL, 0);
            h3q_quic_conn_free(quic);
            continue;
        }
        pair_conn *c = &p->server_conns[p->nserver_conns++];
        conn_init(c, p, true);
        c->quic = quic;
        r = h3q_quic_conn_set_user_data(quic, c);
        if (r != H3Q_OK) harness_error(p, "set_user_data", r, h3q_quic_conn_last_error(quic));
        r = h3q_conn_new_quic(quic, &p->settings, &c->h3);
        if (r != H3Q_OK) harness_error(p, "h3q_conn_new_quic (server)", r, h3q_last_error());
    }
    return moved;
}

static bool drain_events(pair_conn *c) {
    if (!c->quic) return false;
    bool moved = false;
    for (;;) {
        h3q_quic_event ev;
        int r = h3q_quic_conn_next_event(c->quic, &ev);
        if (r == H3Q_DONE) break;
        if (r != H3Q_OK) {
            harness_error(c->pair, "next_event", r, h3q_quic_conn_last_error(c->quic));
            break;
        }
        moved = true;
        if (c->pair->trace)
            fprintf(stderr, "  [%s] quic event %d stream %" PRIu64 " len %zu end %d code %" PRIu64
                            "\n",
                    c->is_server ? "server" : "client", (int)ev.type, ev.stream_id, ev.data_len,
                    (int)ev.end_stream, ev.error_code);
        if (c->terminated_events > 0) c->events_after_termination++;
        if (ev.type == H3Q_QUIC_HANDSHAKE_COMPLETED) {
            c->handshake_events++;
            copy_bytes(c->handshake_alpn, sizeof c->handshake_alpn, ev.data, ev.data_len);
        } else if (ev.type == H3Q_QUIC_CONNECTION_TERMINATED) {
            c->terminated_events++;
            c->terminated_code = ev.error_code;
            copy_bytes(c->terminated_reason, sizeof c->terminated_reason, ev.reason,
                       ev.reason_len);
        }
        if (c->h3) {
            c->quic_data = ev.data;
            c->quic_data_len = ev.data_len;
            r = h3q_conn_handle_event(c->h3, &ev, on_http_event, c);
            if (r != H3Q_OK) {
                c->handle_event_errors++;
                fprintf(stderr, "endpoint_pair: %s handle_event: %s - %s\n",
                        c->is_server ? "server" : "client", h3q_result_str(r),
                        h3q_conn_last_error(c->h3) ? h3q_conn_last_error(c->h3) : "");
            }
        }
    }
    return moved;
}

/* The events of every connection h3q_endpoint_next_ready() names, found again through its
 * user data: the loop a server is meant to run instead of polling every connection. */
static bool drain_ready(pair *p, h3q_endpoint *ep) {
    bool moved = false;
    h3q_quic_conn *quic = NULL;
    int r;
    while ((r = h3q_endpoint_next_ready(ep, &quic)) == H3Q_OK) {
        pair_conn *c = h3q_quic_conn_user_data(quic);
        if (!c || c->quic != quic) {
            harness_error(p, "next_ready gave a connection that is not ours", H3Q_OK, NULL);
            break;
        }
        moved |= drain_events(c);
    }
    if (r != H3Q_DONE) harness_error(p, "next_ready", r, h3q_endpoint_last_error(ep));
    return moved;
}

/* After drain_ready(): no connection may still hold events next_ready did not name. */
static void check_none_missed(pair_conn *c) {
    if (c->quic && drain_events(c)) {
        harness_error(c->pair, "h3q_endpoint_next_ready missed a connection with events",
                      H3Q_OK, c->is_server ? "server" : "client");
    }
}

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

bool pair_run(pair *p, bool (*done)(pair *p, void *arg), void *arg, uint64_t max_sim_ns) {
    const uint64_t deadline = p->now + max_sim_ns;
    for (unsigned long i = 0; i < PAIR_MAX_ITERATIONS; i++) {
        p->iterations++;
        bool moved = false;
        moved |= flush_endpoint(p, true);
        moved |= flush_endpoint(p, false);
        moved |= deliver_due(p);
        moved |= accept_new(p);
        moved |= drain_ready(p, p->client);
        moved |= drain_ready(p, p->server);
        check_none_missed(&p->client_conn);
        for (size_t k = 0; k < p->nserver_conns; k++) check_none_missed(&p->server_conns[k]);
        if (done(p, arg)) return true;
        if (moved) continue;
        /* Quiet: the next thing that can happen is a timer or an arrival. */
        const uint64_t ts = h3q_endpoint_next_timeout(p->server);
        const uint64_t tc = h3q_endpoint_next_timeout(p->client);
        const uint64_t arrival = p->wire_head ? p->wire_head->deliver_at : UINT64_MAX;
        const uint64_t t = min_u64(min_u64(ts, tc), arrival);
        if (t == UINT64_MAX || t > deadline) return false;
        if (t > p->now) p->now = t;
        p->timeouts++;
        if (ts <= p->now) {
            int r = h3q_endpoint_handle_timeout(p->server, p->now);
            if (r != H3Q_OK) harness_error(p, "handle_timeout (server)", r, NULL);
        }
        if (tc <= p->now) {
            int r = h3q_endpoint_handle_timeout(p->client, p->now);
            if (r != H3Q_OK) harness_error(p, "handle_timeout (client)", r, NULL);
        }
    }
    fprintf(stderr, "endpoint_pair: gave up after %lu iterations\n", PAIR_MAX_ITERATIONS);
    return false;
}

pair_conn *pair_server_conn(pair *p) { return p->nserver_conns > 0 ? &p->server_conns[0] : NULL; }

static bool settled(pair *p, void *arg) {
    (void)arg;
    pair_conn *s = pair_server_conn(p);
    uint64_t value;
    return p->client_conn.handshake_events > 0 && s != NULL && s->handshake_events > 0 &&
           p->client_conn.h3 != NULL && s->h3 != NULL &&
           h3q_conn_received_setting(p->client_conn.h3, 0x1, &value) == H3Q_OK &&
           h3q_conn_received_setting(s->h3, 0x1, &value) == H3Q_OK;
}

bool pair_settle(pair *p) { return pair_run(p, settled, NULL, 10ULL * 1000000000ULL); }

uint64_t pair_request(pair *p, const char *method, const char *path, bool end_stream) {
    uint64_t id = UINT64_MAX;
    int r = h3q_quic_conn_get_next_available_stream_id(p->client_conn.quic, false, &id);
    if (r != H3Q_OK) {
        harness_error(p, "get_next_available_stream_id", r,
                      h3q_quic_conn_last_error(p->client_conn.quic));
        return UINT64_MAX;
    }
    const h3q_header headers[] = {
        pair_header(":method", method),
        pair_header(":scheme", "https"),
        pair_header(":authority", "localhost"),
        pair_header(":path", path),
    };
    r = h3q_conn_send_headers(p->client_conn.h3, id, headers, sizeof headers / sizeof headers[0],
                              end_stream);
    if (r != H3Q_OK) {
        harness_error(p, "send_headers (request)", r, h3q_conn_last_error(p->client_conn.h3));
        return UINT64_MAX;
    }
    return id;
}

/* ---- construction ---- */

static h3q_config *server_config(const pair_options *o, uint8_t **pem, size_t *pem_len,
                                 uint8_t fingerprint[32]) {
    h3q_config *config = NULL;
    if (h3q_config_new(true, &config) != H3Q_OK) return NULL;
    int r = h3q_config_generate_self_signed(config, "localhost", fingerprint);
    if (r == H3Q_OK && o->max_datagram_frame_size > 0)
        r = h3q_config_set_max_datagram_frame_size(config, o->max_datagram_frame_size);
    if (r == H3Q_OK && o->server_gso_segments > 0)
        r = h3q_config_set_max_gso_segments(config, o->server_gso_segments);
    if (r == H3Q_OK && o->mtu_discovery) r = h3q_config_set_mtu_discovery(config, true);
    /* Ask for the size first, then fetch the PEM. */
    size_t len = 0;
    if (r == H3Q_OK) {
        r = h3q_config_certificate_chain_pem(config, NULL, 0, &len);
        if (r == H3Q_ERR_BUFFER_TOO_SMALL && len > 0) {
            *pem = malloc(len);
            r = *pem ? h3q_config_certificate_chain_pem(config, *pem, len, pem_len)
                     : H3Q_ERR_BUFFER_TOO_SMALL;
        } else {
            r = H3Q_ERR_TLS;
        }
    }
    if (r != H3Q_OK) {
        fprintf(stderr, "endpoint_pair: server config: %s - %s\n", h3q_result_str(r),
                h3q_config_last_error(config) ? h3q_config_last_error(config) : "");
        h3q_config_free(config);
        return NULL;
    }
    return config;
}

static h3q_config *client_config(const pair_options *o, const uint8_t *pem, size_t pem_len) {
    h3q_config *config = NULL;
    if (h3q_config_new(false, &config) != H3Q_OK) return NULL;
    int r = H3Q_OK;
    if (o->client_verify_off) {
        r = h3q_config_set_verify_peer(config, false);
    } else if (o->client_ca_pem) {
        r = h3q_config_add_ca_pem(config, o->client_ca_pem, o->client_ca_pem_len);
    } else if (o->client_trusts_server) {
        r = h3q_config_add_ca_pem(config, pem, pem_len);
    }
    if (r == H3Q_OK && o->max_datagram_frame_size > 0)
        r = h3q_config_set_max_datagram_frame_size(config, o->max_datagram_frame_size);
    if (r == H3Q_OK && o->mtu_discovery) r = h3q_config_set_mtu_discovery(config, true);
    if (r != H3Q_OK) {
        fprintf(stderr, "endpoint_pair: client config: %s - %s\n", h3q_result_str(r),
                h3q_config_last_error(config) ? h3q_config_last_error(config) : "");
        h3q_config_free(config);
        return NULL;
    }
    return config;
}

pair *pair_new(const pair_options *o) {
    pair *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->now = PAIR_START_NS;
    p->server_handler = o->server_handler;
    p->latency_ns = o->latency_ns;
    p->server_lent_transmit = o->server_lent_transmit;
    p->transmit_buf = malloc(PAIR_TRANSMIT_CAP);
    set_loopback(&p->server_addr, PAIR_SERVER_PORT);
    set_loopback(&p->client_addr, PAIR_CLIENT_PORT);
    h3q_settings_default(&p->settings);
    p->settings.enable_webtransport = o->enable_webtransport;
    conn_init(&p->client_conn, p, false);

    uint8_t *pem = NULL;
    size_t pem_len = 0;
    h3q_config *sc = server_config(o, &pem, &pem_len, p->server_fingerprint);
    h3q_config *cc = sc ? client_config(o, pem, pem_len) : NULL;
    free(pem);
    int r = H3Q_ERR_TLS;
    if (sc && cc && p->transmit_buf) {
        r = h3q_endpoint_new(sc, &p->server);
        if (r == H3Q_OK) r = h3q_endpoint_new(cc, &p->client);
    }
    /* The endpoints copied what they need. */
    h3q_config_free(sc);
    h3q_config_free(cc);
    if (r == H3Q_OK) {
        r = h3q_endpoint_connect(p->client, p->now, (const struct sockaddr *)&p->server_addr,
                                 sizeof p->server_addr, o->server_name, &p->client_conn.quic);
    }
    if (r == H3Q_OK) r = h3q_quic_conn_set_user_data(p->client_conn.quic, &p->client_conn);
    if (r == H3Q_OK) r = h3q_conn_new_quic(p->client_conn.quic, &p->settings, &p->client_conn.h3);
    if (r != H3Q_OK) {
        fprintf(stderr, "endpoint_pair: setup: %s - %s\n", h3q_result_str(r),
                h3q_last_error() ? h3q_last_error() : "");
        pair_free(p);
        return NULL;
    }
    return p;
}

static void conn_free(pair_conn *c) {
    h3q_conn_free(c->h3);
    h3q_quic_conn_free(c->quic);
    c->h3 = NULL;
    c->quic = NULL;
}

void pair_free(pair *p) {
    if (!p) return;
    conn_free(&p->client_conn);
    for (size_t i = 0; i < p->nserver_conns; i++) {
        free(p->server_conns[i].app);
        conn_free(&p->server_conns[i]);
    }
    h3q_endpoint_free(p->client);
    h3q_endpoint_free(p->server);
    while (p->wire_head) {
        struct pair_inflight *d = p->wire_head;
        p->wire_head = d->next;
        free(d);
    }
    free(p->responses);
    free(p->transmit_buf);
    free(p);
}
