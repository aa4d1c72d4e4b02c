"""EndpointDriver: runs one h3q Endpoint over a UDP socket on the asyncio event loop.

The socket (an EcnSocket, _socket.py) hands it every datagram, which goes into
Endpoint.receive() with its ECN codepoint; the endpoint's timer is one loop.call_later()
handle re-armed after each step (Endpoint.next_timeout() -> Endpoint.handle_timeout()),
and after each input the driver accepts new connections (a server), hands each connection's QUIC events to its
protocol (Endpoint.next_ready(), QuicConnection.next_event()), lets protocols that asked
for it feed more data, and sends what the endpoint has to send (Endpoint.poll_transmit()).

Clock: time.monotonic_ns(), the clock of every `now_ns` passed to h3q; the timer is armed
with a delay, so the event loop's own clock may differ.

A protocol whose callback raises has the exception reported to the loop's exception
handler, and its connection is closed with H3_INTERNAL_ERROR; other connections go on.

ECN: the socket is not asyncio's datagram transport, which gives no IP TOS byte, but an
EcnSocket (_socket.py) read with add_reader() and recvmsg(): each datagram reaches
Endpoint.receive() with its ECN codepoint, and each is sent with its Transmit.ecn.
`ecn_received` / `ecn_sent` count the datagrams by codepoint (0 Not-ECT, 1 ECT(1),
2 ECT(0), 3 CE).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Set, Tuple

from .._constants import H3_INTERNAL_ERROR
from ..endpoint import Endpoint
from ..quic import QuicConnection
from ._socket import EcnSocket

if TYPE_CHECKING:
    from .protocol import QuicConnectionProtocol

ProtocolFactory = Callable[[QuicConnection], "QuicConnectionProtocol"]


class EndpointDriver:
    """Owns `endpoint` (freed by close()) and the protocols of its connections.

    `accept`: for a server, called with each new QuicConnection; returns its protocol.
    """

    def __init__(self, endpoint: Endpoint, accept: Optional[ProtocolFactory] = None):
        self.endpoint = endpoint
        self._accept = accept
        self._loop = asyncio.get_running_loop()
        self.transport: Optional[EcnSocket] = None
        self.ecn_received = [0, 0, 0, 0]
        self.ecn_sent = [0, 0, 0, 0]
        self._protocols: Dict[int, "QuicConnectionProtocol"] = {}
        self.feeding: Set["QuicConnectionProtocol"] = set()
        # Connections whose termination was reported: freed once drained.
        self.terminated: Set["QuicConnectionProtocol"] = set()
        self._timer: Optional[asyncio.TimerHandle] = None
        self._timer_at: Optional[int] = None
        self._servicing = False
        self.closed = False
        # Client connections whose session_ticket_handler waits for the server's ticket.
        self.ticket_waiting: Set["QuicConnectionProtocol"] = set()

    # --- the socket (EcnSocket) ---

    def connection_made(self, transport: EcnSocket) -> None:
        self.transport = transport

    def receive_datagram(self, data: bytes, addr: Tuple[Any, ...], ecn: int = 0) -> None:
        """One datagram in; the socket calls service() after a batch of them."""
        if self.closed:
            return
        self.ecn_received[ecn & 3] += 1
        self.endpoint.receive(time.monotonic_ns(), addr, data, ecn=ecn & 3)

    def datagram_received(self, data: bytes, addr: Tuple[Any, ...]) -> None:
        """asyncio.DatagramProtocol's call: one datagram without its ECN codepoint."""
        self.receive_datagram(data, addr)
        self.service()

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self.close()

    # --- connections ---

    def add(self, quic: QuicConnection, protocol: "QuicConnectionProtocol") -> None:
        """Starts delivering `quic`'s events to `protocol`."""
        self._protocols[id(quic)] = protocol
        protocol._attach(self)

    def service(self) -> None:
        """Processes what is pending (new connections, events, feeding), then sends and
        re-arms the timer. A call from inside a running one (a protocol calling transmit()
        from a callback) does nothing: the running one sends after the callbacks."""
        if self._servicing or self.closed:
            return
        self._servicing = True
        try:
            self._accept_new()
            self._dispatch_events()
            for protocol in list(self.feeding):
                self._call(protocol, protocol.feed)
            for protocol in list(self.ticket_waiting):
                self._call(protocol, protocol._poll_session_ticket)
            self._send()
            self._forget_drained()
            if not self.closed:
                self._arm_timer()
        finally:
            self._servicing = False

    def _accept_new(self) -> None:
        if self._accept is None:
            return
        while (quic := self.endpoint.accept()) is not None:
            try:
                protocol = self._accept(quic)
            except Exception as e:
                self._report(e, None, "create_protocol raised")
                quic.close_connection(H3_INTERNAL_ERROR, b"")
                quic.close()
                continue
            self.add(quic, protocol)

    def _dispatch_events(self) -> None:
        while (quic := self.endpoint.next_ready()) is not None:
            protocol = self._protocols.get(id(quic))
            if protocol is None:
                continue
            while not quic.closed and (event := quic.next_event()) is not None:
                self._call(protocol, protocol._quic_event, event)

    def _call(self, protocol: "QuicConnectionProtocol", fn: Callable[..., None],
              *args: Any) -> None:
        try:
            fn(*args)
        except Exception as e:
            self._report(e, protocol, f"{type(protocol).__name__}.{fn.__name__} raised")
            if not protocol._quic.closed:
                protocol._quic.close_connection(H3_INTERNAL_ERROR, b"")
            self.feeding.discard(protocol)
            self.ticket_waiting.discard(protocol)

    def _report(self, exc: Exception, protocol: Any, message: str) -> None:
        self._loop.call_exception_handler(
            {"message": f"h3q.asyncio: {message}", "exception": exc, "protocol": protocol})

    def _send(self) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        now = time.monotonic_ns()
        while (t := self.endpoint.poll_transmit(now)) is not None:
            step = t.segment_size or len(t.data)
            for i in range(0, len(t.data), step):
                transport.sendto(t.data[i:i + step], t.address, t.ecn)
                self.ecn_sent[t.ecn & 3] += 1

    def _forget_drained(self) -> None:
        for protocol in list(self.terminated):
            if protocol._quic.closed or protocol._quic.is_drained:
                self.terminated.discard(protocol)
                self._protocols.pop(id(protocol._quic), None)
                self.feeding.discard(protocol)
                self.ticket_waiting.discard(protocol)
                protocol._release()

    # --- timer ---

    def _arm_timer(self) -> None:
        at = self.endpoint.next_timeout()
        if at == self._timer_at and self._timer is not None:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        self._timer = None
        if at is not None:
            delay = max(0.0, (at - time.monotonic_ns()) / 1e9)
            self._timer = self._loop.call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        if self.closed:
            return
        self.endpoint.handle_timeout(time.monotonic_ns())
        self.service()

    # --- shutdown ---

    def close(self) -> None:
        """Sends what is pending, then closes the socket, marks every connection closed
        (their wait_closed() return) and frees the endpoint and connection handles."""
        if self.closed:
            return
        try:
            self._send()
        except Exception:  # a handle already gone: nothing more to send
            pass
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.transport is not None:
            self.transport.close()
        for protocol in list(self._protocols.values()):
            protocol._release()
        self._protocols.clear()
        self.feeding.clear()
        self.terminated.clear()
        self.ticket_waiting.clear()
        self.endpoint.close()
