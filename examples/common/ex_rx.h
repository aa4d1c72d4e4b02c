/*
 * ex_rx: receiving datagrams into an h3q_endpoint.
 *
 * One recvmmsg() call reads up to EX_RX_BATCH buffers. With UDP GRO on (ex_udp.h) the
 * kernel may put several datagrams from one sender in one buffer, all of the same size but
 * the last, and says that size in a UDP_GRO control message; h3q_endpoint_receive_segments()
 * takes such a buffer whole and splits it. Without GRO each buffer holds one datagram
 * (segment size = its length).
 *
 * Part of examples/common (the h3q_example_common library).
 */
#ifndef H3Q_EXAMPLE_RX_H
#define H3Q_EXAMPLE_RX_H

#include <h3q.h>

#include <stddef.h>
#include <stdint.h>

/* Buffers per recvmmsg() call, and the size of each (a GRO buffer holds up to 64 KiB). */
#define EX_RX_BATCH 32
#define EX_RX_BUF 65536

typedef struct ex_rx ex_rx;

/* The receive buffers (about 2 MiB), or NULL when out of memory. */
ex_rx *ex_rx_new(void);
void ex_rx_free(ex_rx *rx);

/* Reads one batch from the non-blocking socket `fd` and gives every datagram to `endpoint`
 * (with the time of the read). Returns how many buffers were read: 0 when none was
 * waiting; EX_RX_BATCH when more may be waiting. A loop reads batches until it gets fewer
 * than EX_RX_BATCH, handling events in between so acknowledgements go out while input
 * keeps coming. */
int ex_rx_read(ex_rx *rx, int fd, h3q_endpoint *endpoint);

/* Where ex_rx_read_to() puts each buffer it read: what h3q_endpoint_receive_ecn() takes
 * (`data` is valid during the call only). */
typedef void (*ex_rx_deliver_cb)(void *ctx, uint64_t now, const struct sockaddr *from,
                                 socklen_t from_len, const uint8_t *data, size_t len,
                                 size_t segment, uint8_t ecn);

/* ex_rx_read() with each buffer given to `deliver(ctx, ...)` instead of an endpoint: for a
 * program that looks at a datagram before its endpoint does (h3q-server's workers hand
 * those of another worker's connections over to it). */
int ex_rx_read_to(ex_rx *rx, int fd, ex_rx_deliver_cb deliver, void *ctx);

#endif
