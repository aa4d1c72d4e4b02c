"""h3q over asyncio, shaped like aioquic.asyncio: serve(), connect(),
QuicConnectionProtocol; plus H3Protocol, which runs an H3Connection and calls
http_event_received() for each HTTP event.

An aioquic HTTP/3 program ports by changing its imports:

    from h3q.asyncio import QuicConnectionProtocol, connect, serve
    from h3q import H3_ALPN, H3Connection, HeadersReceived, DataReceived, QuicConfiguration
    from h3q.quic_events import QuicEvent, HandshakeCompleted, ConnectionTerminated

Each serve() / connect() owns one h3q Endpoint on one UDP socket; h3q's QUIC layer runs
inside it (see _driver.py). Not supported (ValueError when asked for): raw QUIC streams
(stream_handler, create_stream), session tickets and 0-RTT, retry; nor ping(),
request_key_update(), change_connection_id().
"""

from .client import connect
from .protocol import H3Protocol, QuicConnectionProtocol
from .server import QuicServer, serve

__all__ = ["connect", "serve", "QuicServer", "QuicConnectionProtocol", "H3Protocol"]
