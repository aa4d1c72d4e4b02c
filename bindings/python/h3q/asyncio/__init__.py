"""h3q over asyncio, shaped like aioquic.asyncio: serve(), connect(),
QuicConnectionProtocol; plus H3Protocol, which runs an H3Connection and calls
http_event_received() for each HTTP event.

An aioquic HTTP/3 program ports by changing its imports:

    from h3q.asyncio import QuicConnectionProtocol, connect, serve
    from h3q import H3_ALPN, H3Connection, HeadersReceived, DataReceived, QuicConfiguration
    from h3q.quic_events import QuicEvent, HandshakeCompleted, ConnectionTerminated

Each serve() / connect() owns one h3q Endpoint on one UDP socket; h3q's QUIC layer runs
inside it (see _driver.py); `Client` (h3q) is one client endpoint for several
connections. Session tickets resume only on the endpoint that received them: see
client.py for how connect() keeps it, and Client. serve(retry=True) validates addresses;
0-RTT and client certificates are QuicConfiguration settings. ECN codepoints are read
and set on the UDP socket (see _socket.py). Not supported (ValueError when
asked for): raw QUIC streams (stream_handler, create_stream), aioquic's server-side
session_ticket_fetcher / session_ticket_handler (h3q's server keeps its tickets); nor
ping(), request_key_update(), change_connection_id().
"""

from .client import Client, connect, forget_session_tickets
from .protocol import H3Protocol, QuicConnectionProtocol
from .server import QuicServer, serve

__all__ = ["connect", "serve", "QuicServer", "QuicConnectionProtocol", "H3Protocol",
           "Client", "forget_session_tickets"]
