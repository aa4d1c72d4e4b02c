"""EcnSocket: the UDP socket of an EndpointDriver, with the ECN codepoint of each datagram.

asyncio's datagram transport neither reports the IP TOS / IPv6 traffic class byte of what
it receives nor sets it per datagram, and QUIC needs both for ECN (RFC 9000 section 13.4).
So the socket is read here with the event loop's add_reader() and recvmsg(), with
IP_RECVTOS / IPV6_RECVTCLASS on, and each datagram goes to the driver with its codepoint
(`tos & 3`); sending sets IP_TOS / IPV6_TCLASS to the codepoint of the Transmit (a socket
option, changed only when the codepoint changes: it is 2, ECT(0), while the path's ECN
validation holds, else 0). Where the kernel does not support a codepoint option the
datagrams are received with 0 and sent Not-ECT, and h3q's QUIC leaves ECN off.

Sends that would block wait in a queue drained when the socket is writable (at most
MAX_QUEUED datagrams; beyond, they are dropped, as a full network queue would, and QUIC
resends). Errors of sendto() (unreachable...) are ignored: QUIC's timers decide when a
peer is gone.
"""

from __future__ import annotations

import asyncio
import collections
import socket
import sys
from typing import TYPE_CHECKING, Any, Deque, Tuple

if TYPE_CHECKING:
    from ._driver import EndpointDriver

# Linux's values where Python lacks the names.
IP_RECVTOS = getattr(socket, "IP_RECVTOS", 13)
IPV6_RECVTCLASS = getattr(socket, "IPV6_RECVTCLASS", 66)
IPV6_TCLASS = getattr(socket, "IPV6_TCLASS", 67)

MAX_QUEUED = 4096
READ_BATCH = 64  # datagrams read per readiness callback before the driver runs


class EcnSocket:
    """The parts of asyncio.DatagramTransport the driver uses, over a socket of our own."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket,
                 driver: "EndpointDriver"):
        self._loop = loop
        self._sock = sock
        self._fd = sock.fileno()
        self._driver = driver
        self._v6 = sock.family == socket.AF_INET6
        self._tos = 0
        self._queue: Deque[Tuple[bytes, Any, int]] = collections.deque()
        self._writing = False
        self._closing = False
        self.ecn_enabled = self._enable_ecn()
        self._cmsg_space = socket.CMSG_SPACE(4)
        loop.add_reader(self._fd, self._on_readable)

    def _enable_ecn(self) -> bool:
        try:
            if self._v6:
                self._sock.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVTCLASS, 1)
            else:
                self._sock.setsockopt(socket.IPPROTO_IP, IP_RECVTOS, 1)
            return True
        except OSError:
            return False

    # --- the DatagramTransport subset ---

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "sockname":
            return self._sock.getsockname()
        if name == "socket":
            return self._sock
        return default

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._loop.remove_reader(self._fd)
        if self._writing:
            self._loop.remove_writer(self._fd)
        self._queue.clear()
        self._sock.close()

    def sendto(self, data: bytes, address: Any, ecn: int = 0) -> None:
        if self._closing:
            return
        if self._queue:
            if len(self._queue) < MAX_QUEUED:
                self._queue.append((data, address, ecn))
            return
        try:
            self._send(data, address, ecn)
        except (BlockingIOError, InterruptedError):
            self._queue.append((data, address, ecn))
            self._writing = True
            self._loop.add_writer(self._fd, self._on_writable)
        except OSError:
            pass

    # --- internals ---

    def _send(self, data: bytes, address: Any, ecn: int) -> None:
        if self.ecn_enabled and ecn != self._tos:
            try:
                if self._v6:
                    self._sock.setsockopt(socket.IPPROTO_IPV6, IPV6_TCLASS, ecn)
                else:
                    self._sock.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, ecn)
                self._tos = ecn
            except OSError:
                self.ecn_enabled = False  # sent Not-ECT from now on
        self._sock.sendto(data, address)

    def _on_writable(self) -> None:
        while self._queue and not self._closing:
            data, address, ecn = self._queue[0]
            try:
                self._send(data, address, ecn)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                pass
            self._queue.popleft()
        if self._writing and not self._closing:
            self._loop.remove_writer(self._fd)
        self._writing = False

    def _on_readable(self) -> None:
        got = 0
        for _ in range(READ_BATCH):
            if self._closing:
                break
            try:
                data, ancillary, _flags, address = self._sock.recvmsg(65536, self._cmsg_space)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                continue  # an ICMP error reported on the socket: nothing to read
            self._driver.receive_datagram(data, address, _codepoint(ancillary))
            got += 1
        if got and not self._closing:
            self._driver.service()


def _codepoint(ancillary: Any) -> int:
    """The ECN bits of the IP_TOS (one byte) or IPV6_TCLASS (an int) control message."""
    for level, kind, value in ancillary:
        if ((level == socket.IPPROTO_IP and kind == socket.IP_TOS)
                or (level == socket.IPPROTO_IPV6 and kind == IPV6_TCLASS)) and value:
            if len(value) >= 4:
                return int.from_bytes(value[:4], sys.byteorder) & 3
            return int(value[0]) & 3
    return 0


async def open_socket(driver: "EndpointDriver", local_addr: Tuple[str, int],
                      family: int = 0) -> EcnSocket:
    """Binds a non-blocking UDP socket to `local_addr` (resolved with the loop's
    getaddrinfo, `family` 0 for any) and starts delivering its datagrams to `driver`."""
    loop = asyncio.get_running_loop()
    host, port = local_addr
    infos = await loop.getaddrinfo(host, port, family=family, type=socket.SOCK_DGRAM,
                                   flags=socket.AI_PASSIVE)
    if not infos:
        raise OSError(f"{host}:{port}: no address to bind")
    fam, kind, proto, _, address = infos[0]
    sock = socket.socket(fam, kind, proto)
    try:
        sock.setblocking(False)
        sock.bind(address)
        transport = EcnSocket(loop, sock, driver)
    except BaseException:
        sock.close()
        raise
    driver.connection_made(transport)
    return transport


__all__ = ["EcnSocket", "open_socket"]
