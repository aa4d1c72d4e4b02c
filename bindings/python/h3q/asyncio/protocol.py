"""QuicConnectionProtocol and H3Protocol: the per-connection classes programs subclass,
shaped like aioquic.asyncio.QuicConnectionProtocol.

A subclass overrides `quic_event_received(event)` (QUIC events, h3q.quic_events) or, on
H3Protocol, `http_event_received(event)` (HTTP events, h3q.events). Both run on the event
loop's thread, called by the driver as events arrive; after a callback returns, what it
sent goes out (call `transmit()` after sending from anywhere else, e.g. a coroutine).

Attributes, as in aioquic: `_quic` is the connection (h3q.QuicConnection; H3Connection
takes it), `_loop` the event loop; H3Protocol adds `_http` (h3q.H3Connection).

Lifetime: the connection's handles are freed once it has closed and drained (or when its
server or client context ends); calls on them after that raise h3q.HandleClosedError.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Callable, Optional

from .._constants import H3_NO_ERROR
from ..events import H3Event
from ..h3 import H3Connection, Settings
from ..quic import QuicConnection
from ..quic_events import ConnectionTerminated, HandshakeCompleted, QuicEvent

if TYPE_CHECKING:
    from ._driver import EndpointDriver


class QuicConnectionProtocol:
    """One QUIC connection driven by h3q.asyncio (aioquic's QuicConnectionProtocol).

    `stream_handler` (aioquic's raw-stream callback) must be None: h3q's asyncio layer has
    no reader/writer streams (ValueError otherwise).
    """

    def __init__(self, quic: QuicConnection, stream_handler: Any = None):
        if stream_handler is not None:
            raise ValueError("h3q.asyncio: stream_handler (raw QUIC streams) is not supported")
        self._quic = quic
        self._loop = asyncio.get_running_loop()
        self._driver: Optional["EndpointDriver"] = None
        self._connected = False
        self._connected_waiter: Optional["asyncio.Future[None]"] = None
        self._closed = asyncio.Event()
        self._feeding = False
        self._session_ticket_handler: Optional[Callable[[bytes], None]] = None
        self._session_ticket: Optional[bytes] = None

    # --- what subclasses override ---

    def quic_event_received(self, event: QuicEvent) -> None:
        """Called for every QUIC event of the connection (default: nothing)."""

    def feed(self) -> None:
        """h3q extension: called after every input (datagrams, timers) while `feeding` is
        True, so a protocol streaming a large body can send more as QUIC takes what it
        holds (see QuicConnection.stream_send_buffered()). Default: nothing."""

    # --- what programs call ---

    @property
    def feeding(self) -> bool:
        return self._feeding

    @feeding.setter
    def feeding(self, value: bool) -> None:
        self._feeding = bool(value)
        if self._driver is not None:
            if self._feeding:
                self._driver.feeding.add(self)
            else:
                self._driver.feeding.discard(self)

    def transmit(self) -> None:
        """Sends what the connection has to send now (aioquic's transmit())."""
        if self._driver is not None:
            self._driver.service()

    def close(self, error_code: int = H3_NO_ERROR, reason_phrase: str = "") -> None:
        """Closes the connection (CONNECTION_CLOSE with an application error code; for
        HTTP/3, H3_NO_ERROR); wait_closed() returns once it has. Harmless when closed."""
        if not self._quic.closed and not self._closed.is_set():
            self._quic.close_connection(error_code, reason_phrase.encode())
            self.transmit()

    @property
    def session_ticket(self) -> Optional[bytes]:
        """h3q: the session ticket this client connection received (as given to connect()'s
        session_ticket_handler), or None while none arrived. Set it as the next
        configuration's session_ticket to resume (see h3q.asyncio.connect())."""
        if self._session_ticket is None and not self._quic.closed:
            self._session_ticket = self._quic.session_ticket()
        return self._session_ticket

    async def wait_connected(self) -> None:
        """Returns once the handshake completed; raises ConnectionError if the connection
        ended first."""
        if self._connected:
            return
        if self._closed.is_set():
            raise ConnectionError("the QUIC connection closed before the handshake completed")
        if self._connected_waiter is None:
            self._connected_waiter = self._loop.create_future()
        await asyncio.shield(self._connected_waiter)

    async def wait_closed(self) -> None:
        """Returns once the connection has terminated."""
        await self._closed.wait()

    # --- driver side ---

    def _attach(self, driver: "EndpointDriver") -> None:
        self._driver = driver
        if self._feeding:
            driver.feeding.add(self)

    def _want_session_ticket(self, handler: Callable[[bytes], None]) -> None:
        """Calls `handler(ticket)` once the server's session ticket arrived."""
        self._session_ticket_handler = handler
        if self._driver is not None:
            self._driver.ticket_waiting.add(self)

    def _poll_session_ticket(self, final: bool = False) -> None:
        """The driver asks after each step: hands the ticket over once there is one."""
        if self._quic.closed:
            if self._driver is not None:
                self._driver.ticket_waiting.discard(self)
            return
        if not final and not self._quic.is_established:
            return
        ticket = self.session_ticket
        if ticket is None:
            return
        handler, self._session_ticket_handler = self._session_ticket_handler, None
        if self._driver is not None:
            self._driver.ticket_waiting.discard(self)
        if handler is not None:
            handler(ticket)

    def _quic_event(self, event: QuicEvent) -> None:
        if isinstance(event, HandshakeCompleted):
            self._connected = True
            if self._connected_waiter is not None and not self._connected_waiter.done():
                self._connected_waiter.set_result(None)
        elif isinstance(event, ConnectionTerminated):
            if self._driver is not None:
                self._driver.terminated.add(self)
            self._mark_closed(event)
        self.quic_event_received(event)

    def _mark_closed(self, event: Optional[ConnectionTerminated]) -> None:
        self._closed.set()
        waiter = self._connected_waiter
        if waiter is not None and not waiter.done():
            why = (f"error 0x{event.error_code:x} {event.reason_phrase!r}" if event
                   else "its endpoint was closed")
            waiter.set_exception(ConnectionError(f"the QUIC connection closed before the "
                                                 f"handshake completed ({why})"))
            waiter.exception()  # retrieved here: no "never retrieved" warning if unawaited

    def _release(self) -> None:
        """Frees the connection's handles (the driver calls it once drained or closing)."""
        self._mark_closed(None)
        if self._session_ticket_handler is not None and not self._quic.closed:
            try:
                self._poll_session_ticket(final=True)  # the last chance: the ticket dies with it
            except Exception as e:
                self._loop.call_exception_handler({
                    "message": "h3q.asyncio: session_ticket_handler raised",
                    "exception": e, "protocol": self})
        self._quic.close()


class H3Protocol(QuicConnectionProtocol):
    """An HTTP/3 connection: QUIC events go through `_http` (an h3q.H3Connection made with
    `settings`), and each HTTP event it produces is passed to http_event_received()."""

    def __init__(self, quic: QuicConnection, stream_handler: Any = None,
                 settings: Optional[Settings] = None):
        super().__init__(quic, stream_handler)
        self._http = H3Connection(quic, settings)

    def quic_event_received(self, event: QuicEvent) -> None:
        if self._http.closed:
            return
        for http_event in self._http.handle_event(event):
            self.http_event_received(http_event)

    def http_event_received(self, event: H3Event) -> None:
        """Called for every HTTP event of the connection (default: nothing)."""

    def _release(self) -> None:
        super()._release()
        self._http.close()
