/*
 * expect_events.h: what a test expects of the HTTP events an h3q_conn delivered (recorded
 * in an event_log, see fake_transport.h), written as a list: each event's type, stream,
 * push id, error code and space, closed_by_peer, the origins of ORIGIN or the reason of a
 * close, and the priority of PRIORITY_UPDATE. check_events() compares field by field;
 * fields a type does not use must be zero (the priority excepted: it is compared for
 * PRIORITY_UPDATE only; test_conn_priorities.c checks it is zero elsewhere).
 */
#ifndef H3Q_EXPECT_EVENTS_H
#define H3Q_EXPECT_EVENTS_H

#include "h3q.h"

#include "fake_transport.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One expected HTTP event. */
typedef struct expect {
    h3q_event_type type;
    uint64_t sid;          /* stream_id */
    bool has_push;         /* has_push_id */
    uint64_t push_id;
    uint64_t code;         /* error_code */
    h3q_error_space space; /* error_space */
    bool by_peer;          /* closed_by_peer */
    const char *text;      /* ORIGIN: the origins, one per line; CONNECTION_CLOSED: the reason */
    uint8_t urgency;       /* PRIORITY_UPDATE: priority.urgency */
    bool incremental;      /* PRIORITY_UPDATE: priority.incremental */
} expect;

/* The HTTP events other than DATA_RECEIVED a test expects, in order. */
typedef struct expect_list {
    size_t n;
    const expect *items; /* NULL: only counted */
} expect_list;

/* A count, or the list (usable in static initializers). */
#define N_EVENTS(n) {(n), NULL}
#define EVENTS(...)                                                                       \
    {sizeof((const expect[]){__VA_ARGS__}) / sizeof(expect), (const expect[]){__VA_ARGS__}}

#define NO_SPACE H3Q_ERROR_SPACE_UNSPECIFIED
#define APP H3Q_ERROR_SPACE_APPLICATION
#define E_HEADERS(sid)                                                                    \
    {H3Q_EVENT_HEADERS_RECEIVED, (sid), false, 0, 0, NO_SPACE, false, NULL, 0, false}
#define E_PUSHED_HEADERS(sid, push_id)                                                    \
    {H3Q_EVENT_HEADERS_RECEIVED, (sid), true, (push_id), 0, NO_SPACE, false, NULL, 0, false}
#define E_PUSH_PROMISE(sid, push_id)                                                      \
    {H3Q_EVENT_PUSH_PROMISE_RECEIVED, (sid), true, (push_id), 0, NO_SPACE, false, NULL, 0, false}
/* GOAWAY from a server (a stream id) and from a client (a push id). */
#define E_GOAWAY(sid)                                                                     \
    {H3Q_EVENT_GOAWAY_RECEIVED, (sid), false, 0, 0, NO_SPACE, false, NULL, 0, false}
#define E_GOAWAY_PUSH(push_id)                                                            \
    {H3Q_EVENT_GOAWAY_RECEIVED, 0, true, (push_id), 0, NO_SPACE, false, NULL, 0, false}
#define E_RESET(sid, code)                                                                \
    {H3Q_EVENT_STREAM_RESET, (sid), false, 0, (code), APP, false, NULL, 0, false}
#define E_PUSH_RESET(sid, push_id, code)                                                  \
    {H3Q_EVENT_STREAM_RESET, (sid), true, (push_id), (code), APP, false, NULL, 0, false}
#define E_STOP(sid, code)                                                                 \
    {H3Q_EVENT_STOP_SENDING, (sid), false, 0, (code), APP, false, NULL, 0, false}
#define E_PUSH_STOP(sid, push_id, code)                                                   \
    {H3Q_EVENT_STOP_SENDING, (sid), true, (push_id), (code), APP, false, NULL, 0, false}
#define E_CANCELLED(push_id)                                                              \
    {H3Q_EVENT_PUSH_CANCELLED, 0, true, (push_id), 0, NO_SPACE, false, NULL, 0, false}
#define E_ORIGIN(origins)                                                                 \
    {H3Q_EVENT_ORIGIN_RECEIVED, 0, false, 0, 0, NO_SPACE, false, (origins), 0, false}
#define E_CLOSED(code, space, by_peer, reason)                                            \
    {H3Q_EVENT_CONNECTION_CLOSED, 0, false, 0, (code), (space), (by_peer), (reason), 0, false}
/* A server told of a new priority: of request stream `sid`, or of push `push_id` on push
 * stream `sid`. */
#define E_PRIORITY(sid, u, i)                                                             \
    {H3Q_EVENT_PRIORITY_UPDATE, (sid), false, 0, 0, NO_SPACE, false, NULL, (u), (i)}
#define E_PUSH_PRIORITY(sid, push_id, u, i)                                               \
    {H3Q_EVENT_PRIORITY_UPDATE, (sid), true, (push_id), 0, NO_SPACE, false, NULL, (u), (i)}

/* The events of `log` from the `from`-th on, DATA_RECEIVED left out, are `want->n` many
 * and (when listed) exactly `want->items`, field by field. CHECKs each; returns whether
 * all matched. */
bool check_events(const event_log *log, size_t from, const expect_list *want);

/* The byte h3q wrote into a bool (h3q writes 0 or 1 only). */
int bool_byte(const bool *b);

/* h3q_conn_get_priority(sid) is H3Q_OK with {u, i}, the bool written as 0 or 1. */
void check_priority(h3q_conn *conn, uint64_t sid, uint8_t u, bool i);

/* h3q_conn_get_priority(sid) is H3Q_DONE and writes nothing. */
void check_untracked(h3q_conn *conn, uint64_t sid);

#endif /* H3Q_EXPECT_EVENTS_H */
