/* ex_signal: see ex_signal.h. */
#define _GNU_SOURCE /* sigaction */
#include "ex_signal.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static volatile sig_atomic_t received;    /* signals counted by the handler */
static volatile sig_atomic_t last_signal;
static int taken;                         /* of them, reported by ex_signals_take */
static volatile sig_atomic_t reports;     /* SIGUSR1s counted by the handler */
static int reports_taken;

static void on_signal(int sig) {
    if (sig == SIGUSR1) {
        reports++;
        return;
    }
    last_signal = sig;
    received++;
}

void ex_signals_catch(sigset_t *wait_mask) {
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, wait_mask);
    sigdelset(wait_mask, SIGINT);
    sigdelset(wait_mask, SIGTERM);
    sigdelset(wait_mask, SIGUSR1);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_mask = block; /* one handler at a time: the count is not updated twice at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
}

int ex_signals_take(int *last) {
    /* Both signals are blocked here (outside ppoll), so the handler cannot run meanwhile. */
    int n = (int)received - taken;
    taken = (int)received;
    if (n > 0 && last) *last = (int)last_signal;
    return n;
}

bool ex_report_requested(void) {
    /* Blocked here too (outside ppoll). */
    bool requested = (int)reports != reports_taken;
    reports_taken = (int)reports;
    return requested;
}

int ex_signals_open_fd(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    int rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int ex_signals_read(int fd) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof info);
    return n == (ssize_t)sizeof info ? (int)info.ssi_signo : 0;
}
