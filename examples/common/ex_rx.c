/* ex_rx: see ex_rx.h. */
#define _GNU_SOURCE /* recvmmsg */
#include "ex_rx.h"

#include "ex_clock.h"
#include "ex_log.h"
#include "ex_sockopt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>


struct ex_rx {
    uint8_t data[EX_RX_BATCH][EX_RX_BUF];
    struct mmsghdr msgs[EX_RX_BATCH];
    struct iovec iov[EX_RX_BATCH];
    struct sockaddr_storage from[EX_RX_BATCH];
    /* Room for each buffer's UDP_GRO and IP_TOS / IPV6_TCLASS control messages, aligned
     * for struct cmsghdr. */
    _Alignas(struct cmsghdr) char ctrl[EX_RX_BATCH][2 * CMSG_SPACE(sizeof(int))];
};

ex_rx *ex_rx_new(void) { return calloc(1, sizeof(ex_rx)); }

void ex_rx_free(ex_rx *rx) { free(rx); }

/* What the control messages of one buffer say: the datagram size of a GRO buffer (its
 * UDP_GRO message; `len` without one) and the ECN codepoint (the low two bits of the
 * IP_TOS or IPV6_TCLASS byte; 0 without one). */
static void read_control(struct msghdr *msg, size_t len, size_t *segment, uint8_t *ecn) {
    *segment = len;
    *ecn = 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
        if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
            int gso;
            memcpy(&gso, CMSG_DATA(cm), sizeof gso);
            if (gso > 0) *segment = (size_t)gso;
        } else if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TOS) {
            uint8_t tos; /* one byte for IPv4 */
            memcpy(&tos, CMSG_DATA(cm), sizeof tos);
            *ecn = tos & 3;
        } else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_TCLASS) {
            int tclass; /* an int for IPv6 */
            memcpy(&tclass, CMSG_DATA(cm), sizeof tclass);
            *ecn = (uint8_t)(tclass & 3);
        }
    }
}

/* The default delivery: straight to the endpoint. */
static void to_endpoint(void *ctx, uint64_t now, const struct sockaddr *from,
                        socklen_t from_len, const uint8_t *data, size_t len, size_t segment,
                        uint8_t ecn) {
    h3q_endpoint_receive_ecn(ctx, now, from, from_len, data, len, segment, ecn);
}

int ex_rx_read(ex_rx *rx, int fd, h3q_endpoint *endpoint) {
    return ex_rx_read_to(rx, fd, to_endpoint, endpoint);
}

int ex_rx_read_to(ex_rx *rx, int fd, ex_rx_deliver_cb deliver, void *ctx) {
    for (int i = 0; i < EX_RX_BATCH; i++) { /* recvmmsg overwrites the lengths: reset */
        rx->iov[i].iov_base = rx->data[i];
        rx->iov[i].iov_len = EX_RX_BUF;
        memset(&rx->msgs[i], 0, sizeof rx->msgs[i]);
        struct msghdr *m = &rx->msgs[i].msg_hdr;
        m->msg_name = &rx->from[i];
        m->msg_namelen = sizeof rx->from[i];
        m->msg_iov = &rx->iov[i];
        m->msg_iovlen = 1;
        m->msg_control = rx->ctrl[i];
        m->msg_controllen = sizeof rx->ctrl[i];
    }
    int n = recvmmsg(fd, rx->msgs, EX_RX_BATCH, MSG_DONTWAIT, NULL);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            ex_warn("recvmmsg: %s", strerror(errno));
        return 0;
    }
    uint64_t now = ex_now_ns();
    for (int i = 0; i < n; i++) {
        struct msghdr *m = &rx->msgs[i].msg_hdr;
        size_t len = rx->msgs[i].msg_len, segment;
        uint8_t ecn;
        read_control(m, len, &segment, &ecn);
        deliver(ctx, now, (const struct sockaddr *)&rx->from[i], m->msg_namelen, rx->data[i],
                len, segment, ecn);
    }
    return n;
}
