/*
 * ex_tx: sending what an h3q_endpoint has to send.
 *
 * After every input (datagrams, a timer, an application call such as a send or a close)
 * the loop calls ex_tx_flush(), which calls h3q_endpoint_poll_transmit_lent() until it has
 * nothing more and sends each result straight from h3q's buffer (no copy):
 *   - H3Q_OK: a payload of one datagram, or with GSO (ex_udp.h) several datagrams of
 *     `segment size` bytes each but the last, sent in one sendmsg() with UDP_SEGMENT. A
 *     route that refuses GSO turns it off for the socket, and the buffer goes out one
 *     datagram at a time instead.
 *   - H3Q_DONE: nothing more to send. Not an error: the loop goes to sleep.
 *   - anything else is an error and is reported as one (EX_TX_FAILED), never taken for
 *     "nothing to send": poll_transmit_lent refuses only a program's mistake (a NULL
 *     pointer) or fails for a poisoned endpoint, and calling it again
 *     would give the same answer forever.
 * When the socket is full (EAGAIN) the datagram waits in ex_tx (copied into its buffer: the
 * lent bytes last only until the next call on the endpoint) and EX_TX_BLOCKED asks the
 * loop to wait until the socket is writable (POLLOUT) and flush again. A datagram the
 * kernel refuses for another reason (EMSGSIZE for an MTU probe, an unreachable network)
 * is dropped: QUIC sees it as lost and recovers.
 *
 * Part of examples/common (the h3q_example_common library).
 */
#ifndef H3Q_EXAMPLE_TX_H
#define H3Q_EXAMPLE_TX_H

#include "ex_udp.h"

#include <h3q.h>

/* The buffer a payload waits in when the socket is full: as large as one UDP send (h3q
 * never coalesces more than 65,507 bytes, whatever the datagram size). */
#define EX_TX_BUF 65536

typedef struct ex_tx ex_tx;

typedef enum {
    EX_TX_IDLE,     /* everything was sent: h3q_endpoint_poll_transmit_lent said H3Q_DONE */
    EX_TX_BLOCKED,  /* the socket is full: wait for POLLOUT, then flush again */
    EX_TX_FAILED,   /* h3q_endpoint_poll_transmit_lent failed (reported on stderr) */
} ex_tx_result;

/* The transmit state (its buffer included), or NULL when out of memory. */
ex_tx *ex_tx_new(void);
void ex_tx_free(ex_tx *tx);

/* Sends the datagram left waiting by EX_TX_BLOCKED, then everything `endpoint` has. */
ex_tx_result ex_tx_flush(ex_tx *tx, ex_udp *udp, h3q_endpoint *endpoint);

/* Forgets a waiting datagram (before the socket it was meant for is closed). */
void ex_tx_discard(ex_tx *tx);

#endif
