/*
 * ex_addr: socket addresses as text, and text as socket addresses.
 *
 *   127.0.0.1:4433    [::1]:4433    localhost:4433    :4433 (any address)
 *
 * IPv6 hosts are written in brackets, as in URLs. Part of examples/common (the
 * h3q_example_common library).
 */
#ifndef H3Q_EXAMPLE_ADDR_H
#define H3Q_EXAMPLE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Big enough for any address ex_format_addr() writes. */
#define EX_ADDR_STRLEN 64

/* Writes "HOST:PORT" ("[HOST]:PORT" for IPv6, "?" for another family) into `out`. */
void ex_format_addr(const struct sockaddr *addr, char *out, size_t cap);

/* Splits "HOST:PORT" / "[HOST]:PORT" / ":PORT": the host (brackets removed, possibly
 * empty) into `host` (`host_cap` bytes), and points `*port` at the text after the last
 * colon. With `default_port` not NULL a text without a port is accepted and gets it
 * ("example.com" -> "example.com", "443"). False when the text does not have that form,
 * the host does not fit, or the port is not a decimal number. */
bool ex_split_host_port(const char *text, size_t len, char *host, size_t host_cap,
                        char *port, size_t port_cap, const char *default_port);

#endif
