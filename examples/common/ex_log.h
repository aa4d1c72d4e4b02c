/*
 * ex_log: the example programs' logging.
 *
 * Three kinds of output, kept apart on purpose:
 *   - results (a server's request log, a client's status lines) go to stdout, which
 *     ex_log_init() makes fully buffered: the event loop flushes it once before
 *     every sleep, so a busy program makes one write() per loop iteration instead of one
 *     per line, and an idle one still shows each line at once;
 *   - ex_warn(): problems, always shown on stderr, prefixed with the program's name;
 *   - ex_debug(): details shown only with -v (ex_verbose).
 * Each line is written whole, also when several threads log at once.
 *
 * Part of examples/common (the h3q_example_common library): plumbing that h3q-server
 * (examples/server/) and h3q-client (examples/client/) share. Copy what you need; each
 * file stands on its own.
 */
#ifndef H3Q_EXAMPLE_LOG_H
#define H3Q_EXAMPLE_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* Set by -v: ex_debug() prints only when true. */
extern bool ex_verbose;

/* Names the program in ex_warn() lines (default "h3q-example"; `name` must stay valid)
 * and makes stdout fully buffered (64 KiB). Call before anything is printed; flush stdout
 * before the event loop sleeps (ex_wait does). */
void ex_log_init(const char *name);

/* The program name given to ex_log_init(). */
const char *ex_program(void);

/* "NAME: message\n" on stderr. */
void ex_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "message\n" on stderr, only with -v. */
void ex_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* calloc that ends the program (status 1, after a message) when memory runs out: the
 * examples do not try to go on without memory. */
void *ex_xcalloc(size_t n, size_t size);

#endif
