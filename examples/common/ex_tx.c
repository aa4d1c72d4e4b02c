/* ex_tx: see ex_tx.h. */
#define _GNU_SOURCE
#include "ex_tx.h"

#include "ex_clock.h"
#include "ex_log.h"
#include "ex_sockopt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>


struct ex_tx {
    const uint8_t *data; /* the payload: lent by h3q, or in buf once it had to wait */
    uint8_t buf[EX_TX_BUF];
    size_t len;        /* bytes of the payload */
    size_t off;        /* bytes of them sent (datagram by datagram without GSO) */
    size_t segment;    /* the datagram size */
    uint8_t ecn;       /* the ECN codepoint to send them with */
    bool pending;      /* the payload is not (fully) sent */
    struct sockaddr_storage dest;
    socklen_t dest_len;
};

ex_tx *ex_tx_new(void) { return calloc(1, sizeof(ex_tx)); }

void ex_tx_free(ex_tx *tx) { free(tx); }

void ex_tx_discard(ex_tx *tx) { tx->pending = false; }

/* The whole payload in one sendmsg() with a UDP_SEGMENT control message. */
static ssize_t send_gso(ex_tx *tx, int fd) {
    struct iovec iov = {(void *)tx->data, tx->len};
    union {
        char buf[CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr align;
    } ctrl;
    memset(&ctrl, 0, sizeof ctrl);
    struct msghdr msg = {.msg_name = &tx->dest, .msg_namelen = tx->dest_len,
                         .msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = ctrl.buf, .msg_controllen = sizeof ctrl.buf};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_UDP;
    cm->cmsg_type = UDP_SEGMENT;
    cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    uint16_t segment = (uint16_t)tx->segment;
    memcpy(CMSG_DATA(cm), &segment, sizeof segment);
    return sendmsg(fd, &msg, 0);
}

/* Marks what the socket sends with the ECN codepoint of the waiting datagrams: a socket
 * option set when the codepoint changes (rarely: QUIC marks ECT(0) until a path's
 * validation fails), rather than a control message on every send, so that sends stay
 * plain sendto() calls. */
static void mark_ecn(ex_udp *udp, uint8_t ecn) {
    if (!udp->ecn || udp->ecn_sent == ecn) return;
    int tos = ecn;
    setsockopt(udp->fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
    if (udp->family == AF_INET6) setsockopt(udp->fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos);
    udp->ecn_sent = ecn;
}

/* Sends the waiting buffer; false when the socket is full (EAGAIN). */
static bool send_pending(ex_tx *tx, ex_udp *udp) {
    if (tx->pending) mark_ecn(udp, tx->ecn);
    while (tx->pending) {
        bool batch = tx->off == 0 && tx->segment < tx->len;
        if (batch && udp->gso) {
            if (send_gso(tx, udp->fd) >= 0) {
                tx->pending = false;
                return true;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
            if (errno == EINTR) continue;
            if (errno == EIO || errno == EINVAL || errno == EOPNOTSUPP) {
                ex_warn("UDP GSO failed (%s): sending datagrams one by one", strerror(errno));
                udp->gso = false;
                continue;
            }
            ex_debug("sendmsg: %s", strerror(errno)); /* dropped; QUIC recovers */
            tx->pending = false;
            return true;
        }
        size_t left = tx->len - tx->off;
        size_t n = left < tx->segment ? left : tx->segment;
        if (sendto(udp->fd, tx->data + tx->off, n, 0, (const struct sockaddr *)&tx->dest,
                   tx->dest_len) < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
            if (errno == EINTR) continue;
            ex_debug("sendto: %s", strerror(errno)); /* dropped; QUIC recovers */
        }
        tx->off += n;
        if (tx->off >= tx->len) tx->pending = false;
    }
    return true;
}

/* The socket is full: the payload waits for POLLOUT, and meanwhile the loop gives the
 * endpoint new input, after which the bytes h3q lent are no longer valid. So they move
 * into our own buffer (the only copy on the way out, and only when the kernel pushes
 * back). False if they do not fit (more than one UDP send: never from h3q); they are
 * then dropped, and QUIC sees them as lost. */
static bool keep_waiting_payload(ex_tx *tx) {
    if (tx->data == tx->buf) return true;
    if (tx->len > sizeof tx->buf) {
        ex_debug("a waiting payload of %zu bytes does not fit: dropped", tx->len);
        tx->pending = false;
        return false;
    }
    memcpy(tx->buf, tx->data, tx->len);
    tx->data = tx->buf;
    return true;
}

ex_tx_result ex_tx_flush(ex_tx *tx, ex_udp *udp, h3q_endpoint *endpoint) {
    for (;;) {
        if (!send_pending(tx, udp)) {
            if (keep_waiting_payload(tx)) return EX_TX_BLOCKED;
            continue;
        }
        size_t segment = 0;
        /* Lent: sent straight from the buffer h3q built the packets in, before the next
         * call on the endpoint (see h3q_endpoint_poll_transmit_lent). */
        h3q_result rc = h3q_endpoint_poll_transmit_lent(endpoint, ex_now_ns(), &tx->data,
                                                        &tx->len, &tx->dest, &tx->dest_len,
                                                        &segment, &tx->ecn);
        if (rc == H3Q_DONE) return EX_TX_IDLE;
        if (rc != H3Q_OK) {
            ex_warn("h3q_endpoint_poll_transmit_lent: %s (%s)", h3q_result_str(rc),
                    h3q_endpoint_last_error(endpoint) ? h3q_endpoint_last_error(endpoint)
                                                      : "no details");
            return EX_TX_FAILED;
        }
        tx->segment = segment ? segment : tx->len;
        tx->off = 0;
        tx->pending = true;
    }
}
