"""serve(): a QUIC server on a UDP socket, shaped like aioquic.asyncio.serve()."""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Optional, Tuple

from ..configuration import QuicConfiguration
from ..endpoint import Endpoint
from ..quic import QuicConnection
from ._driver import EndpointDriver
from ._socket import open_socket
from .protocol import QuicConnectionProtocol


class QuicServer:
    """A listening h3q endpoint (what serve() returns): every new connection gets a
    protocol from `create_protocol`. `close()` closes the connections, the socket and
    the endpoint."""

    def __init__(self, driver: EndpointDriver):
        self._driver = driver

    @property
    def address(self) -> Tuple[str, int]:
        """The (host, port) the socket is bound to (the port serve() picked for port 0)."""
        transport = self._driver.transport
        if transport is None or self._driver.closed:
            raise RuntimeError("the server is closed")
        name = transport.get_extra_info("sockname")
        return name[0], name[1]

    def certificate_fingerprint(self) -> Optional[bytes]:
        """SHA-256 of the server's certificate (32 bytes)."""
        return self._driver.endpoint.certificate_fingerprint()

    def close(self) -> None:
        """Closes every connection (H3_NO_ERROR; their CONNECTION_CLOSE is sent at once,
        without waiting for the peers), then the socket, and frees every h3q handle."""
        driver = self._driver
        if driver.closed:
            return
        for protocol in list(driver._protocols.values()):
            protocol.close()
        driver.close()


async def serve(
    host: str,
    port: int,
    *,
    configuration: QuicConfiguration,
    create_protocol: Callable[..., QuicConnectionProtocol] = QuicConnectionProtocol,
    session_ticket_fetcher: Any = None,
    session_ticket_handler: Any = None,
    retry: bool = False,
    stream_handler: Any = None,
) -> QuicServer:
    """Listens on `host`:`port` (UDP; port 0 picks one, see QuicServer.address) and
    returns the QuicServer. Each new connection's protocol is
    `create_protocol(quic, stream_handler=stream_handler)`.

    The configuration needs a certificate (load_cert_chain(), or use_self_signed()).
    `retry`: every new client proves its address with a Retry first (one more round
    trip; defeats spoofed-source floods). Session tickets: h3q's server issues and keeps
    them itself (single-use, in this endpoint), so aioquic's session_ticket_fetcher /
    session_ticket_handler are refused (ValueError); resumption works without them, and
    `configuration.enable_0rtt = True` accepts 0-RTT requests from resuming clients
    (QuicConnection.stream_is_early() names them: they can be replayed). Client
    certificates: configuration.verify_mode (CERT_REQUIRED / CERT_OPTIONAL) with
    load_verify_locations().

    Raises ValueError for a client configuration or what h3q does not support,
    h3q.TlsError for an unusable certificate, key or client CA, OSError when the socket
    cannot be bound.
    """
    if configuration.is_client:
        raise ValueError("serve() needs a server configuration (is_client=False)")
    for name, value in (("session_ticket_fetcher", session_ticket_fetcher),
                        ("session_ticket_handler", session_ticket_handler)):
        if value is not None:
            raise ValueError(f"h3q.asyncio: {name} is not supported: h3q's server keeps "
                             "its session tickets itself (resumption works without it; "
                             "QuicConfiguration.enable_0rtt for 0-RTT)")
    config = configuration.to_config(retry=bool(retry))
    try:
        endpoint = Endpoint(config)
    finally:
        config.close()

    def accept(quic: QuicConnection) -> QuicConnectionProtocol:
        return create_protocol(quic, stream_handler=stream_handler)

    driver = EndpointDriver(endpoint, accept)
    try:
        await open_socket(driver, (host, port))
    except BaseException:
        driver.close()
        raise
    return QuicServer(driver)
