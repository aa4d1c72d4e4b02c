/*
 * ex_udp: a UDP socket set up for QUIC with h3q.
 *
 * One non-blocking socket per h3q_endpoint, with what makes bulk transfers cheap when the
 * kernel offers it (Linux):
 *   - large send and receive buffers, so bursts from a fast peer are not dropped;
 *   - UDP GSO (UDP_SEGMENT): one sendmsg() carries up to EX_GSO_SEGMENTS datagrams of
 *     equal size, which h3q_endpoint_poll_transmit() coalesces when
 *     h3q_config_set_max_gso_segments() allows (see ex_tx.h);
 *   - UDP GRO (UDP_GRO): one read may return several datagrams in one buffer, which
 *     h3q_endpoint_receive_segments() splits (see ex_rx.h);
 *   - the don't-fragment bit (IP_PMTUDISC_PROBE), without which path MTU discovery
 *     (h3q_config_set_mtu_discovery) could learn a size the path only carries in pieces;
 *   - ECN: IP_RECVTOS / IPV6_RECVTCLASS, so each datagram's ECN codepoint comes with it
 *     (ex_rx.c hands it to h3q_endpoint_receive_ecn) and ex_tx.c marks sends with the
 *     one h3q_endpoint_poll_transmit_ecn() asks for (IP_TOS, set when it changes).
 * ex_udp_configure() tells h3q which of these the socket has.
 *
 * Part of examples/common (the h3q_example_common library).
 */
#ifndef H3Q_EXAMPLE_UDP_H
#define H3Q_EXAMPLE_UDP_H

#include <h3q.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Datagrams per GSO send: as many 1,452-byte datagrams (the most MTU discovery reaches
 * by default) as fit in one 64 KiB UDP send. With a raised ceiling on UDP payloads
 * (h3q_config_set_max_udp_payload_size) h3q puts fewer of the larger ones in a batch. */
#define EX_GSO_SEGMENTS 44

typedef struct ex_udp {
    int fd;       /* -1 when closed */
    int family;   /* AF_INET or AF_INET6 */
    bool gso;     /* the kernel takes UDP_SEGMENT (cleared if a route refuses it later) */
    bool gro;     /* UDP_GRO is on */
    bool pmtud;   /* don't-fragment is set: path MTU discovery may be turned on */
    bool ecn;     /* received datagrams carry their TOS / traffic class byte */
    uint8_t ecn_sent; /* the ECN codepoint the socket sends with now (ex_tx.c) */
} ex_udp;

/* Opens a non-blocking UDP socket of `family` with the options above. False (and
 * errno, after a message) if the socket cannot be made; missing options only turn the
 * corresponding flag off. */
bool ex_udp_open(ex_udp *udp, int family);

/* Resolves "HOST:PORT" (see ex_addr.h; port 0 lets the kernel pick one), opens a socket of
 * that address's family and binds it. False after a message. */
bool ex_udp_bind(ex_udp *udp, const char *host_port);

/* The same with SO_REUSEPORT: several sockets of this user may then be bound to one
 * address (a server's worker threads, each with its own socket), and the kernel spreads
 * the datagrams over them by a hash of their addresses (or by the eBPF program attached
 * with SO_ATTACH_REUSEPORT_EBPF). With port 0 the kernel picks the port for the first. */
bool ex_udp_bind_shared(ex_udp *udp, const char *host_port);

/* Opens and binds another SO_REUSEPORT socket to the address `first` (bound with
 * ex_udp_bind_shared) has, port included. False after a message. */
bool ex_udp_bind_same(ex_udp *udp, const ex_udp *first);

/* Closes the socket (no-op when closed). */
void ex_udp_close(ex_udp *udp);

/* Sets what the socket allows in a config about to make the endpoint for it:
 * h3q_config_set_max_gso_segments(EX_GSO_SEGMENTS) with GSO and
 * h3q_config_set_mtu_discovery(true) with don't-fragment. Returns the first failure. */
h3q_result ex_udp_configure(const ex_udp *udp, h3q_config *config);

#endif
