/*
 * ex_clock: the clock h3q runs on, its timer, and the event loop's sleep.
 *
 * h3q reads no clock: every call takes `now_ns`, which must come from one monotonic clock
 * that never goes backwards. The examples use CLOCK_MONOTONIC in nanoseconds.
 *
 * h3q_endpoint_next_timeout() gives the time (on that clock) at which
 * h3q_endpoint_handle_timeout() must run next, or UINT64_MAX for none. Any call that
 * changes a connection may move it, so the loop reads it afresh before every sleep and
 * sleeps until the socket is ready or that time has come, whichever is first.
 *
 * Precision matters: quinn-proto's pacer spreads a large congestion window over the round
 * trip and asks for wake-ups well under a millisecond apart. Rounding them up to poll()'s
 * milliseconds caps a connection at roughly ten packets per millisecond, so ex_wait()
 * sleeps with ppoll() and a nanosecond timeout. ex_timeout_ms() is there for loops built on
 * poll() or epoll_wait() (fine for small programs; see examples/minimal/).
 *
 * Part of examples/common (the h3q_example_common library).
 */
#ifndef H3Q_EXAMPLE_CLOCK_H
#define H3Q_EXAMPLE_CLOCK_H

#include <h3q.h>

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* "No deadline": what h3q_endpoint_next_timeout() returns when no timer is needed. */
#define EX_NEVER UINT64_MAX

/* CLOCK_MONOTONIC in nanoseconds: the now_ns of every h3q call. */
uint64_t ex_now_ns(void);

/* The earlier of two deadlines. */
static inline uint64_t ex_earliest(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* Milliseconds from `now` until `deadline` for poll()/epoll_wait(): -1 (wait without a
 * timeout) for EX_NEVER, 0 when it has passed, else rounded up so the loop does not wake
 * before the timer is due and spin. */
int ex_timeout_ms(uint64_t deadline, uint64_t now);

/* Runs h3q's timers if their time has come (h3q_endpoint_handle_timeout); true if it did. */
bool ex_run_due_timers(h3q_endpoint *endpoint, uint64_t now);

/* What ex_wait() found. */
typedef enum {
    EX_WAIT_TIMEOUT,   /* the deadline came (or a signal interrupted the sleep) */
    EX_WAIT_READY,     /* the socket is readable, or writable when `want_out` */
    EX_WAIT_ERROR,     /* ppoll failed (errno says why) */
} ex_wait_result;

/* Sleeps until `fd` is readable (or writable, with `want_out`: a send found the socket
 * full) or until `deadline` (EX_NEVER: no timeout). `sigmask`, if not NULL, is the signal
 * mask during the sleep, as for ppoll(): a program that blocks SIGINT/SIGTERM elsewhere
 * and unblocks them only here cannot miss one between checking its flag and sleeping.
 * Flushes stdout first (see ex_log_init). */
ex_wait_result ex_wait(int fd, bool want_out, uint64_t deadline, const sigset_t *sigmask);

/* The same for several descriptors (e.g. a socket and an eventfd that other threads write
 * to wake this one): sleeps until one of `fds` has one of its `events` or until
 * `deadline`; EX_WAIT_READY then, and each entry's `revents` says which. */
ex_wait_result ex_wait_fds(struct pollfd *fds, nfds_t nfds, uint64_t deadline,
                           const sigset_t *sigmask);

#endif
