/* ex_udp: see ex_udp.h. */
#define _GNU_SOURCE
#include "ex_udp.h"

#include "ex_addr.h"
#include "ex_log.h"
#include "ex_sockopt.h"

#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>


/* With IP_PMTUDISC_PROBE the kernel sets don't-fragment on every datagram and never
 * fragments, so a probe too big for the path is lost (QUIC notices and settles on a
 * smaller size) instead of arriving in pieces. For IPv6 both options: a dual-stack socket
 * also carries IPv4. */
static bool set_dont_fragment(int fd, int family) {
    int probe = IP_PMTUDISC_PROBE, probe6 = IPV6_PMTUDISC_PROBE;
    bool v4 = setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof probe) == 0;
    if (family != AF_INET6) return v4;
    return v4 && setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &probe6, sizeof probe6) == 0;
}

/* GSO is usable if the socket option is accepted; it is then reset to 0, because the
 * segment size goes with each send (a control message, see ex_tx.c). */
static bool probe_gso(int fd) {
    int seg = 1200;
    if (setsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof seg) != 0) return false;
    seg = 0;
    setsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof seg);
    return true;
}

/* Asks for each datagram's TOS (IPv4) or traffic class (IPv6) byte, whose two low bits
 * are the ECN codepoint. For IPv6 both: a dual-stack socket also carries IPv4. */
static bool receive_tos(int fd, int family) {
    int on = 1;
    bool v4 = setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &on, sizeof on) == 0;
    if (family != AF_INET6) return v4;
    return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &on, sizeof on) == 0;
}

bool ex_udp_open(ex_udp *udp, int family) {
    memset(udp, 0, sizeof *udp);
    udp->family = family;
    udp->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (udp->fd < 0) {
        ex_warn("socket: %s", strerror(errno));
        return false;
    }
    /* The kernel caps these at net.core.rmem_max / wmem_max (SO_*BUFFORCE would need
     * CAP_NET_ADMIN). */
    int size = 8 << 20, on = 1;
    setsockopt(udp->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(udp->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    udp->gso = probe_gso(udp->fd);
    udp->gro = setsockopt(udp->fd, SOL_UDP, UDP_GRO, &on, sizeof on) == 0;
    udp->pmtud = set_dont_fragment(udp->fd, family);
    udp->ecn = receive_tos(udp->fd, family);
    ex_debug("UDP GSO %s, GRO %s, path MTU discovery %s, ECN %s", udp->gso ? "on" : "off",
             udp->gro ? "on" : "off", udp->pmtud ? "on" : "off", udp->ecn ? "on" : "off");
    return true;
}

/* Opens a socket for `addr`'s family, with SO_REUSEPORT when `reuseport`, and binds it. */
static bool bind_addr(ex_udp *udp, const struct sockaddr *addr, socklen_t len, bool reuseport,
                      const char *name) {
    if (!ex_udp_open(udp, addr->sa_family)) return false;
    int on = 1;
    if (reuseport && setsockopt(udp->fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
        ex_warn("SO_REUSEPORT: %s", strerror(errno));
        ex_udp_close(udp);
        return false;
    }
    if (bind(udp->fd, addr, len) != 0) {
        ex_warn("bind %s: %s", name, strerror(errno));
        ex_udp_close(udp);
        return false;
    }
    return true;
}

static bool bind_host_port(ex_udp *udp, const char *host_port, bool reuseport) {
    char host[256], port[8];
    if (!ex_split_host_port(host_port, strlen(host_port), host, sizeof host, port,
                            sizeof port, NULL)) {
        ex_warn("wants HOST:PORT, got '%s'", host_port);
        return false;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    int err = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (err) {
        ex_warn("%s: %s", host_port, gai_strerror(err));
        return false;
    }
    bool ok = bind_addr(udp, res->ai_addr, res->ai_addrlen, reuseport, host_port);
    freeaddrinfo(res);
    return ok;
}

bool ex_udp_bind(ex_udp *udp, const char *host_port) {
    return bind_host_port(udp, host_port, false);
}

bool ex_udp_bind_shared(ex_udp *udp, const char *host_port) {
    return bind_host_port(udp, host_port, true);
}

bool ex_udp_bind_same(ex_udp *udp, const ex_udp *first) {
    struct sockaddr_storage addr;
    socklen_t len = sizeof addr;
    char name[EX_ADDR_STRLEN];
    if (getsockname(first->fd, (struct sockaddr *)&addr, &len) != 0) {
        ex_warn("getsockname: %s", strerror(errno));
        return false;
    }
    ex_format_addr((const struct sockaddr *)&addr, name, sizeof name);
    return bind_addr(udp, (const struct sockaddr *)&addr, len, true, name);
}

void ex_udp_close(ex_udp *udp) {
    if (udp->fd >= 0) close(udp->fd);
    udp->fd = -1;
}

h3q_result ex_udp_configure(const ex_udp *udp, h3q_config *config) {
    h3q_result rc = H3Q_OK;
    if (udp->gso) rc = h3q_config_set_max_gso_segments(config, EX_GSO_SEGMENTS);
    if (rc == H3Q_OK && udp->pmtud) rc = h3q_config_set_mtu_discovery(config, true);
    return rc;
}
