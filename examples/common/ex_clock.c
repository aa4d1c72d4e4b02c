/* ex_clock: see ex_clock.h. */
#define _GNU_SOURCE /* ppoll */
#include "ex_clock.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>

uint64_t ex_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int ex_timeout_ms(uint64_t deadline, uint64_t now) {
    if (deadline == EX_NEVER) return -1;
    if (deadline <= now) return 0;
    uint64_t ms = (deadline - now + 999999) / 1000000;
    return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

bool ex_run_due_timers(h3q_endpoint *endpoint, uint64_t now) {
    if (now < h3q_endpoint_next_timeout(endpoint)) return false;
    h3q_endpoint_handle_timeout(endpoint, now);
    return true;
}

ex_wait_result ex_wait_fds(struct pollfd *fds, nfds_t nfds, uint64_t deadline,
                           const sigset_t *sigmask) {
    fflush(stdout);
    struct timespec ts, *timeout = NULL;
    if (deadline != EX_NEVER) {
        uint64_t now = ex_now_ns();
        uint64_t d = deadline > now ? deadline - now : 0;
        ts.tv_sec = (time_t)(d / 1000000000ULL);
        ts.tv_nsec = (long)(d % 1000000000ULL);
        timeout = &ts;
    }
    int n = ppoll(fds, nfds, timeout, sigmask);
    if (n < 0) return errno == EINTR ? EX_WAIT_TIMEOUT : EX_WAIT_ERROR;
    return n == 0 ? EX_WAIT_TIMEOUT : EX_WAIT_READY;
}

ex_wait_result ex_wait(int fd, bool want_out, uint64_t deadline, const sigset_t *sigmask) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN | (want_out ? POLLOUT : 0)};
    return ex_wait_fds(&pfd, 1, deadline, sigmask);
}
