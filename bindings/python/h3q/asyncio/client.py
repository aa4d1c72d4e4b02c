"""connect(): an HTTP/3 (or any QUIC) client connection as an async context manager,
shaped like aioquic.asyncio.connect(); and Client, one client endpoint for several
connections (h3q).

Session tickets and 0-RTT: a ticket resumes only on the h3q Endpoint whose connection
received it (h3q's TLS library keeps sessions inside the endpoint and cannot export them
as bytes), so across processes, or with another endpoint, a ticket gives a full
handshake. Two ways to keep the endpoint:

* `Client`: one endpoint and UDP socket for all its connections; a ticket from one of
  them resumes on the next (`client.connect(..., session_ticket=ticket)`). Explicit and
  deterministic: the endpoint lives until `client.close()` / the `async with` ends.
* aioquic's way, `connect(..., session_ticket_handler=keep)` then
  `configuration.session_ticket = ticket; connect(...)`: when a connection with a
  session_ticket_handler received a ticket, connect() keeps its endpoint (and socket)
  open after the block, and a later connect() on the same event loop whose
  configuration.session_ticket is that ticket reuses it (the ticket is single-use: the
  endpoint is let go after that connection, unless it received a new ticket). Kept
  endpoints are closed after `RETAIN_SECONDS` (600) unused, beyond `MAX_RETAINED` (16)
  per loop (oldest first), or by `forget_session_tickets()`: call it before the loop
  ends to close them deterministically.

0-RTT: pass `wait_connected=False` and send the requests at once: they go as early data
when the session allows it (QuicConnection.early_data says what became of it). If the
server rejects the early data, H3Connection reports each early request as StreamReset
with H3_REQUEST_REJECTED (after an EarlyDataRejected QUIC event): send it again.
"""

from __future__ import annotations

import asyncio
import collections
import socket
import time
import weakref
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable, List, Optional

from ..configuration import QuicConfiguration
from ..endpoint import Endpoint
from ..quic import QuicConnection
from ._driver import EndpointDriver
from ._socket import open_socket
from .protocol import QuicConnectionProtocol

SessionTicketHandler = Callable[[bytes], None]

# How long connect() keeps an endpoint holding an unused session ticket, and how many.
RETAIN_SECONDS = 600.0
MAX_RETAINED = 16


class Client:
    """h3q: a client endpoint (one h3q Endpoint on one UDP socket) for any number of
    connections, made by `connect()`. A session ticket received by one of them resumes
    on this Client only.

        async with Client(configuration) as client:
            async with client.connect(host, port, create_protocol=P) as first:
                ...
            ticket = first.session_ticket
            async with client.connect(host, port, create_protocol=P,
                                      session_ticket=ticket, wait_connected=False) as p:
                ...  # requests sent now go as 0-RTT

    The socket is bound at the first connect(), to the address family of that peer
    (`local_port`, default 0: any); later peers must be of the same family. `close()`
    closes every connection, the socket and the endpoint.
    """

    def __init__(self, configuration: Optional[QuicConfiguration] = None, *,
                 local_port: int = 0):
        configuration = configuration or QuicConfiguration(is_client=True)
        if not configuration.is_client:
            raise ValueError("connect() needs a client configuration (is_client=True)")
        self.configuration = configuration
        self.local_port = local_port
        self._driver: Optional[EndpointDriver] = None
        self._family: Optional[int] = None
        self._opening: Optional["asyncio.Future[EndpointDriver]"] = None
        self._closed = False
        self._active = 0

    @property
    def closed(self) -> bool:
        return self._closed or (self._driver is not None and self._driver.closed)

    async def _open(self, family: int) -> EndpointDriver:
        if self.closed:
            raise RuntimeError("the h3q.asyncio.Client is closed")
        if self._driver is not None:
            if family != self._family:
                raise ValueError("this Client's socket is of another address family than "
                                 "the peer's: use another Client")
            return self._driver
        config = self.configuration.to_config()
        try:
            endpoint = Endpoint(config)
        finally:
            config.close()
        try:
            driver = EndpointDriver(endpoint)
        except BaseException:
            endpoint.close()
            raise
        local = ("::" if family == socket.AF_INET6 else "0.0.0.0", self.local_port)
        try:
            await open_socket(driver, local, family)
        except BaseException:
            driver.close()
            raise
        if self._driver is not None or self._closed:  # opened (or closed) meanwhile
            driver.close()
            return await self._open(family)
        self._driver, self._family = driver, family
        return driver

    @asynccontextmanager
    async def connect(
        self,
        host: str,
        port: int,
        *,
        create_protocol: Callable[..., QuicConnectionProtocol] = QuicConnectionProtocol,
        session_ticket: Optional[bytes] = None,
        session_ticket_handler: Optional[SessionTicketHandler] = None,
        stream_handler: Any = None,
        wait_connected: bool = True,
        server_name: Optional[str] = None,
    ) -> AsyncIterator[QuicConnectionProtocol]:
        """A connection to `host`:`port`, as h3q.asyncio.connect() makes (see there), on
        this Client's endpoint. `session_ticket`: a ticket from an earlier connection of
        this Client, to resume (default: the configuration's session_ticket);
        `session_ticket_handler(ticket)` is called once this connection received one.
        `server_name` defaults to the configuration's, then `host`."""
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        if not infos:
            raise OSError(f"{host}:{port}: no address")
        family, _, _, _, sockaddr = infos[0]
        address = (str(sockaddr[0]), int(sockaddr[1]), *sockaddr[2:])
        if session_ticket is None:
            session_ticket = self.configuration.session_ticket
        driver = await self._open(family)
        protocol: Optional[QuicConnectionProtocol] = None
        self._active += 1
        try:
            quic: QuicConnection = driver.endpoint.connect(
                time.monotonic_ns(), address,
                server_name or self.configuration.server_name or host,
                session_ticket=bytes(session_ticket) if session_ticket is not None else None)
            try:
                protocol = create_protocol(quic, stream_handler=stream_handler)
            except BaseException:
                quic.close()
                raise
            driver.add(quic, protocol)
            if session_ticket_handler is not None:
                protocol._want_session_ticket(session_ticket_handler)
            protocol.transmit()
            if wait_connected:
                await protocol.wait_connected()
            yield protocol
        finally:
            self._active -= 1
            if protocol is not None and not driver.closed:
                if protocol._session_ticket_handler is not None:
                    protocol._poll_session_ticket(final=True)
                protocol.close()
                await protocol.wait_closed()

    def close(self) -> None:
        """Closes every connection (H3_NO_ERROR), the socket and the endpoint."""
        self._closed = True
        driver, self._driver = self._driver, None
        if driver is not None:
            for protocol in list(driver._protocols.values()):
                protocol.close()
            driver.close()

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()


class _Retained:
    """The Clients connect() keeps for their session tickets, on one event loop."""

    def __init__(self) -> None:
        self.by_ticket: "collections.OrderedDict[bytes, Client]" = collections.OrderedDict()
        self.timers: "dict[bytes, asyncio.TimerHandle]" = {}

    def keep(self, loop: asyncio.AbstractEventLoop, ticket: bytes, client: Client) -> None:
        self.by_ticket[ticket] = client
        self.timers[ticket] = loop.call_later(RETAIN_SECONDS, self.drop, ticket)
        while len(self.by_ticket) > MAX_RETAINED:
            self.drop(next(iter(self.by_ticket)))

    def take(self, ticket: bytes) -> Optional[Client]:
        client = self.by_ticket.pop(ticket, None)
        timer = self.timers.pop(ticket, None)
        if timer is not None:
            timer.cancel()
        if client is not None and client.closed:
            return None
        return client

    def drop(self, ticket: bytes) -> None:
        client = self.take(ticket)
        if client is not None:
            client.close()


_retained: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Retained]" = (
    weakref.WeakKeyDictionary())


def forget_session_tickets() -> None:
    """Closes the endpoints connect() keeps on the running loop for session tickets; the
    tickets no longer resume (they give full handshakes)."""
    retained = _retained.pop(asyncio.get_running_loop(), None)
    if retained is not None:
        for ticket in list(retained.by_ticket):
            retained.drop(ticket)


@asynccontextmanager
async def connect(
    host: str,
    port: int,
    *,
    configuration: Optional[QuicConfiguration] = None,
    create_protocol: Callable[..., QuicConnectionProtocol] = QuicConnectionProtocol,
    session_ticket_handler: Optional[SessionTicketHandler] = None,
    stream_handler: Any = None,
    wait_connected: bool = True,
    local_port: int = 0,
) -> AsyncIterator[QuicConnectionProtocol]:
    """Connects to `host`:`port` over UDP and yields the connection's protocol, made by
    `create_protocol(quic, stream_handler=...)`.

    `host` is resolved with the loop's getaddrinfo (the first address is used); the
    certificate is verified for `configuration.server_name`, default `host`. With
    `wait_connected` (default) the handshake has completed when the block starts; a
    failed handshake raises ConnectionError. On leaving the block the connection is closed
    (H3_NO_ERROR), its close awaited, and the socket and every h3q handle freed, except
    for a kept session ticket (below).

    Resumption: `session_ticket_handler(ticket)` is called with the server's session
    ticket (bytes) once it arrived; the endpoint is then kept for it (see this module's
    documentation: same process and event loop, RETAIN_SECONDS, forget_session_tickets()).
    Set `configuration.session_ticket = ticket` for a later connect() to resume, with
    0-RTT for what is sent before the handshake completes (`wait_connected=False`).

    Raises ValueError for a server configuration, h3q.TlsError for unusable trust
    settings, h3q.InvalidArgumentError for a session_ticket that is not an h3q ticket (or
    names another server), OSError for socket errors.
    """
    configuration = configuration or QuicConfiguration(is_client=True)
    if not configuration.is_client:
        raise ValueError("connect() needs a client configuration (is_client=True)")
    loop = asyncio.get_running_loop()
    retained = _retained.get(loop)
    ticket = configuration.session_ticket
    client: Optional[Client] = None
    if ticket is not None and retained is not None:
        client = retained.take(bytes(ticket))
    if client is None:
        client = Client(configuration, local_port=local_port)
    received: List[bytes] = []

    def handler(new_ticket: bytes) -> None:
        received.append(new_ticket)
        if session_ticket_handler is not None:
            session_ticket_handler(new_ticket)

    try:
        async with client.connect(host, port, create_protocol=create_protocol,
                                  session_ticket=ticket,
                                  session_ticket_handler=(
                                      handler if session_ticket_handler is not None
                                      else None),
                                  stream_handler=stream_handler,
                                  wait_connected=wait_connected) as protocol:
            yield protocol
    finally:
        if received and not client.closed:
            _retained.setdefault(loop, _Retained()).keep(loop, received[0], client)
        else:
            client.close()
