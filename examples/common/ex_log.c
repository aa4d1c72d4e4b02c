/* ex_log: see ex_log.h. */
#define _GNU_SOURCE /* flockfile */
#include "ex_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

bool ex_verbose;
static const char *program = "h3q-example";

void ex_log_init(const char *name) {
    static char buf[1 << 16];
    program = name;
    setvbuf(stdout, buf, _IOFBF, sizeof buf);
}

const char *ex_program(void) { return program; }

void ex_warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    flockfile(stderr); /* one line at a time from several threads */
    fprintf(stderr, "%s: ", program);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    funlockfile(stderr);
    va_end(ap);
}

void ex_debug(const char *fmt, ...) {
    if (!ex_verbose) return;
    va_list ap;
    va_start(ap, fmt);
    flockfile(stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    funlockfile(stderr);
    va_end(ap);
}

void *ex_xcalloc(size_t n, size_t size) {
    void *p = calloc(n, size);
    if (!p) {
        ex_warn("out of memory");
        exit(1);
    }
    return p;
}
