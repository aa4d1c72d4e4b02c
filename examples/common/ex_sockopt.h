/*
 * ex_sockopt: the Linux UDP socket options the examples use, for C libraries whose headers
 * do not name them yet (the kernel has had UDP_SEGMENT since 4.18, UDP_GRO since 5.0).
 * Internal to examples/common.
 */
#ifndef H3Q_EXAMPLE_SOCKOPT_H
#define H3Q_EXAMPLE_SOCKOPT_H

#include <netinet/in.h>
#include <netinet/udp.h>

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 /* send: the datagram size of a GSO buffer (a uint16_t cmsg) */
#endif
#ifndef UDP_GRO
#define UDP_GRO 104     /* receive: coalesce datagrams; their size comes as an int cmsg */
#endif
#ifndef IP_PMTUDISC_PROBE
#define IP_PMTUDISC_PROBE 3
#endif
#ifndef IPV6_PMTUDISC_PROBE
#define IPV6_PMTUDISC_PROBE 3
#endif

#endif
