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
    uint8_t buf[EX_TX_BUF];
    size_t len;        /* bytes in buf from the last poll_transmit */
    size_t off;        /* bytes of them sent (datagram by datagram without GSO) */
    size_t segment;    /* the datagram size */
    uint8_t ecn;       /* the ECN codepoint to send them with */
    bool pending;      /* buf holds something not (fully) sent */
    struct sockaddr_storage dest;
    socklen_t dest_len;
};

ex_tx *ex_tx_new(void) { return calloc(1, sizeof(ex_tx)); }

void ex_tx_free(ex_tx *tx) { free(tx); }

void ex_tx_discard(ex_tx *tx) { tx->pending = false; }

/* One sendmsg() of `len` bytes at `data`, with a UDP_SEGMENT control message when
 * `segment` is non-zero (a GSO batch) and an IP_TOS / IPV6_TCLASS one carrying the ECN
 * codepoint when it is not 0. */
static ssize_t send_one(ex_tx *tx, int fd, const uint8_t *data, size_t len, uint16_t segment) {
    struct iovec iov = {(void *)data, len};
    union {
        char buf[CMSG_SPACE(sizeof(uint16_t)) + CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctrl;
    memset(&ctrl, 0, sizeof ctrl);
    struct msghdr msg = {.msg_name = &tx->dest, .msg_namelen = tx->dest_len,
                         .msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = ctrl.buf, .msg_controllen = sizeof ctrl.buf};
    size_t used = 0;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    if (segment) {
        cm->cmsg_level = SOL_UDP;
        cm->cmsg_type = UDP_SEGMENT;
        cm->cmsg_len = CMSG_LEN(sizeof segment);
        memcpy(CMSG_DATA(cm), &segment, sizeof segment);
        used += CMSG_SPACE(sizeof segment);
        cm = (struct cmsghdr *)(ctrl.buf + used);
    }
    if (tx->ecn) {
        int tos = tx->ecn;
        bool v6 = tx->dest.ss_family == AF_INET6;
        cm->cmsg_level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
        cm->cmsg_type = v6 ? IPV6_TCLASS : IP_TOS;
        cm->cmsg_len = CMSG_LEN(sizeof tos);
        memcpy(CMSG_DATA(cm), &tos, sizeof tos);
        used += CMSG_SPACE(sizeof tos);
    }
    msg.msg_controllen = used;
    if (!used) msg.msg_control = NULL;
    return sendmsg(fd, &msg, 0);
}

/* Sends the waiting buffer; false when the socket is full (EAGAIN). */
static bool send_pending(ex_tx *tx, ex_udp *udp) {
    while (tx->pending) {
        bool batch = tx->off == 0 && tx->segment < tx->len;
        if (batch && udp->gso) {
            if (send_one(tx, udp->fd, tx->buf, tx->len, (uint16_t)tx->segment) >= 0) {
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
        if (send_one(tx, udp->fd, tx->buf + tx->off, n, 0) < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
            if (errno == EINTR) continue;
            ex_debug("sendmsg: %s", strerror(errno)); /* dropped; QUIC recovers */
        }
        tx->off += n;
        if (tx->off >= tx->len) tx->pending = false;
    }
    return true;
}

ex_tx_result ex_tx_flush(ex_tx *tx, ex_udp *udp, h3q_endpoint *endpoint) {
    for (;;) {
        if (!send_pending(tx, udp)) return EX_TX_BLOCKED;
        size_t segment = 0;
        h3q_result rc = h3q_endpoint_poll_transmit_ecn(endpoint, ex_now_ns(), tx->buf,
                                                       EX_TX_BUF, &tx->len, &tx->dest,
                                                       &tx->dest_len, &segment, &tx->ecn);
        if (rc == H3Q_DONE) return EX_TX_IDLE;
        if (rc != H3Q_OK) {
            ex_warn("h3q_endpoint_poll_transmit: %s (%s)", h3q_result_str(rc),
                    h3q_endpoint_last_error(endpoint) ? h3q_endpoint_last_error(endpoint)
                                                      : "no details");
            return EX_TX_FAILED;
        }
        tx->segment = segment ? segment : tx->len;
        tx->off = 0;
        tx->pending = true;
    }
}
