/* ex_addr: see ex_addr.h. */
#include "ex_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

void ex_format_addr(const struct sockaddr *addr, char *out, size_t cap) {
    char host[INET6_ADDRSTRLEN] = "?";
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)addr;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        snprintf(out, cap, "%s:%u", host, (unsigned)ntohs(a->sin_port));
    } else if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)addr;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        snprintf(out, cap, "[%s]:%u", host, (unsigned)ntohs(a->sin6_port));
    } else {
        snprintf(out, cap, "?");
    }
}

/* Copies `n` bytes of `s` into `out` as a string; false if it does not fit. */
static bool copy_part(const char *s, size_t n, char *out, size_t cap) {
    if (n >= cap) return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

bool ex_split_host_port(const char *text, size_t len, char *host, size_t host_cap,
                        char *port, size_t port_cap, const char *default_port) {
    const char *end = text + len, *host_end, *colon;
    if (len > 0 && text[0] == '[') { /* [v6] or [v6]:port */
        const char *rb = memchr(text, ']', len);
        if (!rb) return false;
        if (!copy_part(text + 1, (size_t)(rb - text - 1), host, host_cap)) return false;
        host_end = rb + 1;
        colon = host_end < end && *host_end == ':' ? host_end : NULL;
        if (host_end < end && !colon) return false;
    } else {
        colon = NULL;
        for (const char *p = text; p < end; p++)
            if (*p == ':') colon = p;
        host_end = colon ? colon : end;
        if (!copy_part(text, (size_t)(host_end - text), host, host_cap)) return false;
    }
    if (!colon) return default_port && copy_part(default_port, strlen(default_port), port,
                                                 port_cap);
    size_t pl = (size_t)(end - colon - 1);
    for (size_t i = 0; i < pl; i++)
        if (colon[1 + i] < '0' || colon[1 + i] > '9') return false;
    return pl > 0 && copy_part(colon + 1, pl, port, port_cap);
}
