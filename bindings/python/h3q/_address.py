"""(host, port) tuples to C sockaddrs and back."""

from __future__ import annotations

import ctypes
import ipaddress
import socket
import struct
from typing import Tuple, Union

from ._cstructs import sockaddr_in, sockaddr_in6, sockaddr_storage

# (host, port), or Python's IPv6 (host, port, flowinfo, scope_id); host is an IP address.
Address = Union[Tuple[str, int], Tuple[str, int, int, int]]


def to_sockaddr(addr: Address) -> Tuple[ctypes.Structure, int]:
    """A (host, port) tuple as a C sockaddr_in / sockaddr_in6 and its length.

    Raises ValueError when host is not an IP address (resolve names first) or the port is
    out of range."""
    if not isinstance(addr, tuple) or len(addr) < 2:
        raise ValueError(f"address {addr!r}: expected a (host, port) tuple")
    host, port = addr[0], addr[1]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"address {host!r}: not an IP address (resolve host names first)")
    if not isinstance(port, int) or not 0 <= port <= 0xFFFF:
        raise ValueError(f"port {port!r}: not in 0..65535")
    port_be = (ctypes.c_uint8 * 2)(*struct.pack("!H", port))
    if ip.version == 4:
        sa4 = sockaddr_in(sin_family=socket.AF_INET, sin_port=port_be,
                          sin_addr=(ctypes.c_uint8 * 4)(*ip.packed))
        return sa4, ctypes.sizeof(sa4)
    sa6 = sockaddr_in6(sin6_family=socket.AF_INET6, sin6_port=port_be,
                       sin6_addr=(ctypes.c_uint8 * 16)(*ip.packed),
                       sin6_scope_id=addr[3] if len(addr) > 3 else 0)
    return sa6, ctypes.sizeof(sa6)


def from_sockaddr(storage: sockaddr_storage, length: int) -> Tuple[str, int]:
    """A C sockaddr_storage as a (host, port) tuple."""
    raw = ctypes.string_at(ctypes.addressof(storage), length)
    if storage.ss_family == socket.AF_INET:
        sa4 = sockaddr_in.from_buffer_copy(raw)
        return (str(ipaddress.IPv4Address(bytes(sa4.sin_addr))),
                struct.unpack("!H", bytes(sa4.sin_port))[0])
    if storage.ss_family == socket.AF_INET6:
        sa6 = sockaddr_in6.from_buffer_copy(raw)
        return (str(ipaddress.IPv6Address(bytes(sa6.sin6_addr))),
                struct.unpack("!H", bytes(sa6.sin6_port))[0])
    raise ValueError(f"address family {storage.ss_family}")
