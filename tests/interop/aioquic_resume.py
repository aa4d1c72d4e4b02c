#!/usr/bin/env python3
"""aioquic's client resumes a session and sends a GET as 0-RTT (CTest: interop_resume).

    aioquic_resume.py HOST PORT PATH

Connects once to HOST:PORT (certificate not verified), fetches PATH and keeps the session
ticket the server sends; then connects again with that ticket and sends the same GET before
the handshake completes, so that it travels as 0-RTT. Passes (exit 0) when both responses
are 200 with the same body and the second handshake reports the session resumed and the
early data accepted; prints what it saw. Exit 1 otherwise.
"""

import asyncio
import ssl
import sys

from aioquic.asyncio.client import connect
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import HandshakeCompleted


class Client(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.h3 = H3Connection(self._quic)
        self.done = asyncio.get_running_loop().create_future()
        self.status = None
        self.body = b""
        self.handshake = None

    def get(self, authority, path):
        stream_id = self._quic.get_next_available_stream_id()
        self.h3.send_headers(stream_id, [(b":method", b"GET"), (b":scheme", b"https"),
                                         (b":authority", authority.encode()),
                                         (b":path", path.encode())], end_stream=True)
        self.transmit()

    def quic_event_received(self, event):
        if isinstance(event, HandshakeCompleted):
            self.handshake = event
        for http in self.h3.handle_event(event):
            if isinstance(http, HeadersReceived):
                self.status = dict(http.headers).get(b":status")
            elif isinstance(http, DataReceived):
                self.body += http.data
            if getattr(http, "stream_ended", False) and not self.done.done():
                self.done.set_result(None)


async def fetch(host, port, path, ticket=None):
    tickets = []
    config = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN,
                               verify_mode=ssl.CERT_NONE, server_name="localhost",
                               session_ticket=ticket)
    async with connect(host, port, configuration=config, create_protocol=Client,
                       session_ticket_handler=tickets.append,
                       wait_connected=ticket is None) as client:
        client.get(f"{host}:{port}", path)  # before the handshake when resuming: 0-RTT
        await asyncio.wait_for(client.done, 20)
        await asyncio.sleep(0.2)  # session tickets follow the handshake
        return client, tickets


async def main(host, port, path):
    first, tickets = await fetch(host, port, path)
    if not tickets:
        print("FAIL: the server sent no session ticket")
        return 1
    second, _ = await fetch(host, port, path, tickets[-1])
    hs = second.handshake
    print(f"first: status {first.status!r}, {len(first.body)} bytes; second: status "
          f"{second.status!r}, {len(second.body)} bytes, session resumed "
          f"{hs.session_resumed}, early data accepted {hs.early_data_accepted}")
    ok = (first.status == second.status == b"200" and first.body == second.body
          and hs.session_resumed and hs.early_data_accepted)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3])))
