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

#endif
