"""Endpoint: h3q's built-in QUIC endpoint of one UDP socket (h3q_endpoint_*).

No I/O and no clock of its own: the caller moves datagrams between poll_transmit() /
receive() and its socket, and passes a monotonic time in nanoseconds to every call that
takes `now_ns`. After receive() and handle_timeout(), take next_ready() until None and
drain each connection it names with QuicConnection.next_event().
"""

from __future__ import annotations

import ctypes
import weakref
from dataclasses import dataclass
from typing import Optional, Tuple

from ._address import Address, from_sockaddr, to_sockaddr
from ._constants import H3Q_DONE, MIN_TRANSMIT_BUFFER
from ._cstructs import c_socklen, sockaddr_storage
from ._handle import Handle
from ._lib import lib
from .config import Config
from .errors import check, thread_last_error
from .quic import QuicConnection


@dataclass
class Transmit:
    """One UDP payload to send (`segment_size` < len(data) for a GSO batch), and the ECN
    codepoint to send it with (`ecn`: the two low bits of the IP TOS / IPv6 traffic class
    byte; 2, ECT(0), while the path's ECN validation holds, else 0)."""
    data: bytes
    address: Tuple[str, int]
    segment_size: int
    ecn: int = 0


class Endpoint(Handle):
    """h3q_endpoint: the QUIC endpoint of one UDP socket. No I/O, no clock of its own."""

    _free_fn = "h3q_endpoint_free"
    _last_error_fn = "h3q_endpoint_last_error"

    def __init__(self, config: Config, transmit_buffer: int = 65536):
        out = ctypes.c_void_p()
        check(lib.h3q_endpoint_new(config.handle, ctypes.byref(out)), "h3q_endpoint_new",
              thread_last_error)
        super().__init__(out)
        self._buf = (ctypes.c_uint8 * max(transmit_buffer, MIN_TRANSMIT_BUFFER))()
        self._len = ctypes.c_size_t()
        self._dest = sockaddr_storage()
        self._dest_len = c_socklen()
        self._seg = ctypes.c_size_t()
        self._ecn = ctypes.c_uint8()
        # The wrappers of this endpoint's connections, by handle address, for next_ready().
        # Weak: the application's references decide when a connection is freed.
        self._connections: weakref.WeakValueDictionary[int, QuicConnection] = (
            weakref.WeakValueDictionary())

    def _adopt(self, ptr: ctypes.c_void_p) -> QuicConnection:
        conn = QuicConnection(ptr)
        self._connections[ptr.value or 0] = conn
        return conn

    def connect(self, now_ns: int, address: Address, server_name: str,
                session_ticket: Optional[bytes] = None) -> QuicConnection:
        """Starts a client connection to (host, port), verifying `server_name`.

        `session_ticket`: bytes from QuicConnection.session_ticket() of an earlier
        connection *of this endpoint* to resume its TLS session
        (h3q_endpoint_connect_resume): a shorter handshake and, with 0-RTT on, requests
        sent at once as early data (QuicConnection.early_data says what became of them).
        A ticket resumes once, on the endpoint that received it (h3q's TLS library cannot
        export sessions): a well-formed ticket from elsewhere, or used, gives a full
        handshake. Bytes that are no h3q ticket, or a ticket for another server name,
        raise InvalidArgumentError."""
        sa, salen = to_sockaddr(address)
        out = ctypes.c_void_p()
        if session_ticket is None:
            self._check(lib.h3q_endpoint_connect(self.handle, now_ns, ctypes.byref(sa), salen,
                                                 server_name.encode(), ctypes.byref(out)),
                        "h3q_endpoint_connect")
        else:
            ticket = bytes(session_ticket)
            self._check(lib.h3q_endpoint_connect_resume(
                self.handle, now_ns, ctypes.byref(sa), salen, server_name.encode(),
                ticket, len(ticket), ctypes.byref(out)),
                "h3q_endpoint_connect_resume")
        return self._adopt(out)

    def receive(self, now_ns: int, address: Address, data: bytes, ecn: int = 0,
                segment_size: int = 0) -> None:
        """Processes UDP data that arrived from `address`: one datagram, or (with
        `segment_size`) a GRO batch of datagrams each `segment_size` bytes but the last.

        `ecn`: the ECN codepoint it arrived with (the two low bits of the IP TOS / IPv6
        traffic class byte: 0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE), read with IP_RECVTOS /
        IPV6_RECVTCLASS; 0 when unknown. Passing it lets QUIC use ECN on the path (send
        with Transmit.ecn then). A value above 3 raises InvalidArgumentError."""
        sa, salen = to_sockaddr(address)
        if not isinstance(ecn, int) or not 0 <= ecn <= 0xFF:
            raise ValueError(f"ecn {ecn!r}: not an ECN codepoint (0..3)")
        if not isinstance(segment_size, int) or segment_size < 0:
            raise ValueError(f"segment_size {segment_size!r}: not a size")
        self._check(lib.h3q_endpoint_receive_ecn(self.handle, now_ns, ctypes.byref(sa), salen,
                                                 data, len(data), segment_size, ecn),
                    "h3q_endpoint_receive_ecn")

    def rebind(self, now_ns: int) -> None:
        """Tells the endpoint its UDP socket changed (a client moved to a new local address
        or port): every connection moves to a fresh connection ID and sends a PING from
        the new socket at once; send what poll_transmit() gives from the new socket. The
        peer validates the new path and follows; requests in flight continue."""
        self._check(lib.h3q_endpoint_rebind(self.handle, now_ns), "h3q_endpoint_rebind")

    def accept(self) -> Optional[QuicConnection]:
        """The next new server connection, or None."""
        out = ctypes.c_void_p()
        rc = lib.h3q_endpoint_accept(self.handle, ctypes.byref(out))
        if rc == H3Q_DONE:
            return None
        self._check(rc, "h3q_endpoint_accept")
        return self._adopt(out)

    def next_ready(self) -> Optional[QuicConnection]:
        """The next connection with events waiting (h3q_endpoint_next_ready()), or None.

        Call after receive() / handle_timeout() until None, and drain each connection's
        next_event(): a connection is given again only once it has new events. Only
        connections this endpoint's connect() / accept() returned and still open are given.
        """
        out = ctypes.c_void_p()
        while True:
            rc = lib.h3q_endpoint_next_ready(self.handle, ctypes.byref(out))
            if rc == H3Q_DONE:
                return None
            self._check(rc, "h3q_endpoint_next_ready")
            conn = self._connections.get(out.value or 0)
            if conn is not None and not conn.closed:
                return conn

    def poll_transmit(self, now_ns: int) -> Optional[Transmit]:
        """The next UDP payload to send, or None when nothing is waiting."""
        rc = lib.h3q_endpoint_poll_transmit_ecn(
            self.handle, now_ns, self._buf, len(self._buf), ctypes.byref(self._len),
            ctypes.byref(self._dest), ctypes.byref(self._dest_len), ctypes.byref(self._seg),
            ctypes.byref(self._ecn))
        if rc == H3Q_DONE:
            return None
        self._check(rc, "h3q_endpoint_poll_transmit_ecn")
        data = ctypes.string_at(self._buf, self._len.value)
        return Transmit(data, from_sockaddr(self._dest, self._dest_len.value), self._seg.value,
                        self._ecn.value)

    def next_timeout(self) -> Optional[int]:
        """When handle_timeout() is next due (ns on the caller's clock), or None."""
        at = lib.h3q_endpoint_next_timeout(self.handle)
        return None if at == 0xFFFF_FFFF_FFFF_FFFF else at

    def handle_timeout(self, now_ns: int) -> None:
        self._check(lib.h3q_endpoint_handle_timeout(self.handle, now_ns),
                    "h3q_endpoint_handle_timeout")

    def certificate_fingerprint(self) -> Optional[bytes]:
        """SHA-256 of the endpoint's certificate (32 bytes), or None for a client."""
        fp = (ctypes.c_uint8 * 32)()
        rc = lib.h3q_endpoint_certificate_fingerprint(self.handle, fp)
        if rc == H3Q_DONE:
            return None
        self._check(rc, "h3q_endpoint_certificate_fingerprint")
        return bytes(fp)
