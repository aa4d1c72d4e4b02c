/*
 * fake_pair.h: a client and a server h3q_conn wired through two fake transports (see
 * fake_transport.h), for tests that run a whole conversation in each delivery mode.
 *
 * Each side is an `app` that records its HTTP events (a server may also answer each ended
 * request from its event callback, the aioquic way); to_server() and to_client() deliver
 * what the other side's transport recorded. The helpers CHECK as they go (check.h's
 * counters belong to the whole test program), so a failed delivery or an unexpected close
 * fails the test that made it.
 */
#ifndef H3Q_FAKE_PAIR_H
#define H3Q_FAKE_PAIR_H

#include "h3q.h"

#include "fake_transport.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* GET https://example.com/; a 200 text/plain response; the request a push promises
 * (GET https://example.com/style.css). */
extern const h3q_header get_root[4];
extern const h3q_header response_200[2];
extern const h3q_header promised[4];

/* ---- an application: records events; a server may answer from its callback ---------- */

typedef struct app {
    h3q_conn *conn;
    event_log log;
    bool echo;            /* answer each ended request with 200 + its body, in the callback */
    unsigned answered;
    h3q_result answer_rc; /* the first failure of a send from the callback */
} app;

/* The h3q_event_cb of an app (`user_data` is the app). */
void app_cb(void *user_data, const h3q_event *event);

/* ---- a client and a server ---------------------------------------------------------- */

typedef struct pair {
    fake_mode mode;
    fake_transport cf; /* the client's transport */
    fake_transport sf; /* the server's transport */
    app client;
    app server;
} pair;

/* Creates both connections (settings may be NULL), nothing delivered yet. */
void pair_start(pair *p, fake_mode mode, const h3q_settings *cs, const h3q_settings *ss,
                uint64_t max_datagram_frame_size);
/* Starts both and exchanges their control and QPACK streams. */
void pair_connect(pair *p, fake_mode mode, const h3q_settings *cs, const h3q_settings *ss,
                  uint64_t max_datagram_frame_size);
/* Delivers what the client recorded to the server (and the server's to the client): every
 * event must be accepted. */
void to_server(pair *p);
void to_client(pair *p);
/* Checks that nobody closed (every scenario is a legal conversation) and frees both. */
void pair_finish(pair *p);

/* ---- reading the recorded events ---------------------------------------------------- */

/* The event's fields are exactly `expected` (names and values, in order). */
bool headers_equal(const rec_event *e, const h3q_header *expected, size_t n);
/* The i-th recorded event of `type` on `stream_id`, or NULL. */
const rec_event *nth_event(const event_log *log, h3q_event_type type, uint64_t stream_id,
                           size_t i);
/* How many events of `type` were recorded. */
size_t count_events(const event_log *log, h3q_event_type type);
/* The DATA bytes of `stream_id` equal `expected`, and its message ended (once, on its
 * last HEADERS or DATA event). */
void check_body(const event_log *log, uint64_t stream_id, const char *expected);

#define FOR_EACH_MODE(mode) for (int mode = 0; mode < FAKE_MODE_COUNT; mode++)

/* Names the scenario and mode on stderr if a CHECK failed since `failed_before`. */
void report(unsigned failed_before, const char *what, int mode);

/* ---- scenarios in every mode --------------------------------------------------------- */

/* A scenario on a connected pair (p->mode says how bytes are delivered). */
typedef void (*pair_scenario)(pair *p);

/* Runs `scenario` in each delivery mode, each time on a fresh pair connected with the
 * client settings `cs` and server settings `ss` (NULL: defaults), then pair_finish()es it
 * and reports a failure with the scenario's name and the mode. */
void pair_run(const char *name, pair_scenario scenario, const h3q_settings *cs,
              const h3q_settings *ss);

/* RUN (check.h) for a scenario on pairs with the default settings. */
#define RUN_PAIRS(scenario)                                                               \
    do {                                                                                  \
        unsigned run_before_ = check_failed_;                                             \
        pair_run(#scenario, (scenario), NULL, NULL);                                      \
        fprintf(stderr, "%s %s\n", check_failed_ == run_before_ ? "ok  " : "FAIL",        \
                #scenario);                                                               \
    } while (0)

#endif /* H3Q_FAKE_PAIR_H */
