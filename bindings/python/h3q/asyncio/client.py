"""connect(): an HTTP/3 (or any QUIC) client connection as an async context manager,
shaped like aioquic.asyncio.connect()."""

from __future__ import annotations

import asyncio
import socket
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable, Optional

from ..configuration import QuicConfiguration
from ..endpoint import Endpoint
from ..quic import QuicConnection
from ._driver import EndpointDriver
from .protocol import QuicConnectionProtocol


@asynccontextmanager
async def connect(
    host: str,
    port: int,
    *,
    configuration: Optional[QuicConfiguration] = None,
    create_protocol: Callable[..., QuicConnectionProtocol] = QuicConnectionProtocol,
    session_ticket_handler: Any = None,
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
    (H3_NO_ERROR), its close awaited, and the socket and every h3q handle freed.

    Raises ValueError for a server configuration or a session_ticket_handler (h3q has no
    session resumption), h3q.TlsError for unusable trust settings, OSError for socket
    errors.
    """
    configuration = configuration or QuicConfiguration(is_client=True)
    if not configuration.is_client:
        raise ValueError("connect() needs a client configuration (is_client=True)")
    if session_ticket_handler is not None:
        raise ValueError("h3q.asyncio: session tickets are not supported")
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    if not infos:
        raise OSError(f"{host}:{port}: no address")
    family, _, _, _, sockaddr = infos[0]
    address = (str(sockaddr[0]), int(sockaddr[1]), *sockaddr[2:])
    local = ("::" if family == socket.AF_INET6 else "0.0.0.0", local_port)

    config = configuration.to_config()
    try:
        endpoint = Endpoint(config)
    finally:
        config.close()
    try:
        driver = EndpointDriver(endpoint)
    except BaseException:
        endpoint.close()
        raise
    protocol: Optional[QuicConnectionProtocol] = None
    try:
        await loop.create_datagram_endpoint(lambda: driver, local_addr=local, family=family)
        quic: QuicConnection = endpoint.connect(time.monotonic_ns(), address,
                                                configuration.server_name or host)
        try:
            protocol = create_protocol(quic, stream_handler=stream_handler)
        except BaseException:
            quic.close()
            raise
        driver.add(quic, protocol)
        protocol.transmit()
        if wait_connected:
            await protocol.wait_connected()
        yield protocol
    finally:
        if protocol is not None and not driver.closed:
            protocol.close()
            await protocol.wait_closed()
        driver.close()
