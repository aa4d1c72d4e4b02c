/*
 * ex_signal: SIGINT, SIGTERM and SIGUSR1 for an event loop that sleeps in ppoll().
 *
 * ex_signals_catch() blocks the three signals and installs a handler that only counts
 * them; the mask it returns unblocks them, and the loop passes it to ex_wait() (ppoll's sigmask).
 * A signal can then arrive only while the loop sleeps: ppoll returns early, and the loop
 * sees it with ex_signals_take() (SIGINT, SIGTERM) or ex_report_requested() (SIGUSR1,
 * "print your statistics") before it sleeps again. Without the blocking, a signal
 * landing between the loop's check and its ppoll() would wait for the next wake-up (up
 * to h3q's next timer, possibly never).
 *
 * A program with several threads that each run a loop (h3q-server --workers) does it the
 * other way round: ex_signals_open_fd(), called before any thread is started, blocks the
 * three signals in the calling thread and so in every thread it starts afterwards (they
 * inherit the mask), and returns a signalfd on which one thread, and only it, reads them
 * with ex_signals_read(). That thread then tells the others (an eventfd each, say): no
 * handler runs, and no thread can be interrupted in the middle of its work.
 *
 * Part of examples/common (the h3q_example_common library).
 */
#ifndef H3Q_EXAMPLE_SIGNAL_H
#define H3Q_EXAMPLE_SIGNAL_H

#include <signal.h>
#include <stdbool.h>

/* Blocks SIGINT, SIGTERM and SIGUSR1, counts them when they arrive, and writes to
 * `wait_mask` the signal mask to sleep with (the current one, with the three unblocked). */
void ex_signals_catch(sigset_t *wait_mask);

/* How many SIGINT/SIGTERM arrived since the last call (0: none), and in `*last` (if not
 * NULL, and only when one did) the number of the latest. A signal sent twice while
 * blocked counts once: the kernel keeps one pending signal of each kind. */
int ex_signals_take(int *last);

/* Whether SIGUSR1 arrived since the last call. */
bool ex_report_requested(void);

/* Blocks SIGINT, SIGTERM and SIGUSR1 in the calling thread (and so in the threads it
 * starts afterwards) and returns a non-blocking signalfd that receives them; -1 (errno
 * set) on failure. Close it with close(). */
int ex_signals_open_fd(void);

/* The next signal waiting on `fd` (from ex_signals_open_fd): SIGINT, SIGTERM or SIGUSR1,
 * or 0 when none is waiting. Each signal is read once; like the blocked signals above, one
 * sent twice before it was read counts once. */
int ex_signals_read(int fd);

#endif
