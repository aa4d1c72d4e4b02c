"""h3q.asyncio in one event loop: an H3Protocol server from serve() and clients from
connect(), over UDP on 127.0.0.1. GET and POST, many requests at once, the handshake
failing, a callback raising, and the arguments h3q does not support."""

import asyncio
import os
import ssl

import pytest

import h3q
from h3q.asyncio import H3Protocol, QuicConnectionProtocol, connect, serve
from h3q.quic_events import ConnectionTerminated
from support import body_of


class EchoServer(H3Protocol):
    """GET /<n> -> body_of(n); POST /echo -> the body; GET /boom raises."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.requests = {}

    def http_event_received(self, event):
        if isinstance(event, h3q.HeadersReceived):
            self.requests[event.stream_id] = [dict(event.headers), bytearray()]
        elif isinstance(event, h3q.DataReceived):
            self.requests[event.stream_id][1] += event.data
        if getattr(event, "stream_ended", False):
            headers, body = self.requests.pop(event.stream_id)
            path = headers[b":path"]
            if path == b"/boom":
                raise RuntimeError("boom from http_event_received")
            payload = bytes(body) if path == b"/echo" else body_of(int(path[1:]))
            self._http.send_headers(event.stream_id, [(b":status", b"200")])
            self._http.send_data(event.stream_id, payload, end_stream=True)


class Client(H3Protocol):
    """Requests as coroutines: request() returns (status, body)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.waiting = {}
        self.terminated = None

    async def request(self, method, path, body=None):
        sid = self._quic.get_next_available_stream_id()
        self._http.send_headers(sid, [(b":method", method), (b":scheme", b"https"),
                                      (b":authority", b"localhost"), (b":path", path)],
                                end_stream=body is None)
        if body is not None:
            self._http.send_data(sid, body, end_stream=True)
        future = self._loop.create_future()
        self.waiting[sid] = [future, None, bytearray()]
        self.transmit()
        return await future

    def quic_event_received(self, event):
        if isinstance(event, ConnectionTerminated):
            self.terminated = event
            for future, _, _ in self.waiting.values():
                if not future.done():
                    future.set_exception(ConnectionError(event.reason_phrase))
        super().quic_event_received(event)

    def http_event_received(self, event):
        entry = self.waiting.get(event.stream_id)
        if entry is None:
            return
        if isinstance(event, h3q.HeadersReceived):
            entry[1] = dict(event.headers)[b":status"]
        elif isinstance(event, h3q.DataReceived):
            entry[2] += event.data
        if getattr(event, "stream_ended", False) and not entry[0].done():
            entry[0].set_result((entry[1], bytes(entry[2])))


def server_configuration():
    configuration = h3q.QuicConfiguration(is_client=False)
    configuration.use_self_signed("localhost")
    return configuration


def client_configuration(**kwargs):
    return h3q.QuicConfiguration(is_client=True, verify_mode=ssl.CERT_NONE, **kwargs)


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 60))


def test_requests_between_asyncio_client_and_server():
    async def main():
        server = await serve("127.0.0.1", 0, configuration=server_configuration(),
                             create_protocol=EchoServer)
        try:
            host, port = server.address
            assert len(server.certificate_fingerprint()) == 32
            async with connect(host, port, configuration=client_configuration(),
                               create_protocol=Client) as client:
                assert client._quic.alpn() == b"h3"
                upload = os.urandom(500_000)
                status, body = await client.request(b"POST", b"/echo", upload)
                assert (status, body) == (b"200", upload)
                results = await asyncio.gather(
                    *(client.request(b"GET", b"/%d" % (i * 1000)) for i in range(30)))
                for i, (status, body) in enumerate(results):
                    assert status == b"200" and body == body_of(i * 1000)
            assert client.terminated is not None and not client.terminated.closed_by_peer
            assert client._quic.closed  # the context freed the handles
        finally:
            server.close()

    run(main())


def test_handshake_failure_raises_connection_error():
    async def main():
        # A UDP socket that never answers: the handshake times out (idle timeout 1 s).
        loop = asyncio.get_running_loop()
        silent, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol,
                                                        local_addr=("127.0.0.1", 0))
        try:
            port = silent.get_extra_info("sockname")[1]
            with pytest.raises(ConnectionError):
                async with connect("127.0.0.1", port,
                                   configuration=client_configuration(idle_timeout=1.0)):
                    pass
        finally:
            silent.close()

    run(main())


def test_callback_exception_closes_that_connection_only():
    async def main():
        loop = asyncio.get_running_loop()
        reported = []
        loop.set_exception_handler(lambda _loop, context: reported.append(context))
        server = await serve("127.0.0.1", 0, configuration=server_configuration(),
                             create_protocol=EchoServer)
        try:
            host, port = server.address
            async with connect(host, port, configuration=client_configuration(),
                               create_protocol=Client) as client:
                with pytest.raises(ConnectionError):
                    await client.request(b"GET", b"/boom")
                await client.wait_closed()
            assert client.terminated.error_code == h3q.H3_INTERNAL_ERROR
            assert client.terminated.closed_by_peer
            (context,) = reported
            assert isinstance(context["exception"], RuntimeError)
            assert "http_event_received" in str(context["exception"])
            async with connect(host, port, configuration=client_configuration(),
                               create_protocol=Client) as other:
                assert await other.request(b"GET", b"/10") == (b"200", body_of(10))
        finally:
            server.close()

    run(main())


def test_unsupported_arguments_are_refused():
    async def main():
        with pytest.raises(ValueError, match="server configuration"):
            await serve("127.0.0.1", 0, configuration=client_configuration())
        with pytest.raises(ValueError, match="session_ticket_fetcher"):
            await serve("127.0.0.1", 0, configuration=server_configuration(),
                        session_ticket_fetcher=lambda key: None)
        with pytest.raises(ValueError, match="ticket bytes"):
            async with connect("127.0.0.1", 9,
                               configuration=client_configuration(session_ticket=object())):
                pass
        with pytest.raises(ValueError, match="client configuration"):
            async with connect("127.0.0.1", 9, configuration=server_configuration()):
                pass
        with pytest.raises(ValueError, match="stream_handler"):
            async with connect("127.0.0.1", 9, configuration=client_configuration(),
                               create_protocol=QuicConnectionProtocol,
                               stream_handler=lambda *a: None):
                pass
        no_certificate = h3q.QuicConfiguration(is_client=False)
        with pytest.raises(ValueError, match="needs a certificate"):
            await serve("127.0.0.1", 0, configuration=no_certificate)

    run(main())


class PacedServer(H3Protocol):
    """GET /<n> -> body_of(n), handed to h3q 16 KB at a time from feed() while less than
    64 KB of it waits in h3q; feed() calls transmit() as aioquic code would."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bodies = {}
        self.most_buffered = 0

    def http_event_received(self, event):
        if isinstance(event, h3q.HeadersReceived) and event.stream_ended:
            body = body_of(int(dict(event.headers)[b":path"][1:]))
            self._http.send_headers(event.stream_id, [(b":status", b"200")])
            self.bodies[event.stream_id] = memoryview(body)
            self.feeding = True

    def feed(self):
        for sid, rest in list(self.bodies.items()):
            while rest and self._quic.stream_send_buffered(sid) < 65536:
                piece, rest = rest[:16384], rest[16384:]
                self._http.send_data(sid, bytes(piece), end_stream=not rest)
            self.most_buffered = max(self.most_buffered, self._quic.stream_send_buffered(sid))
            self.bodies[sid] = rest
            if not rest:
                del self.bodies[sid]
        self.feeding = bool(self.bodies)
        self.transmit()


def test_feed_paces_a_large_body():
    servers = []

    def create(*args, **kwargs):
        servers.append(PacedServer(*args, **kwargs))
        return servers[-1]

    async def main():
        server = await serve("127.0.0.1", 0, configuration=server_configuration(),
                             create_protocol=create)
        try:
            host, port = server.address
            async with connect(host, port, configuration=client_configuration(),
                               create_protocol=Client) as client:
                return await client.request(b"GET", b"/3000000")
        finally:
            server.close()

    status, body = run(main())
    assert status == b"200" and body == body_of(3_000_000)
    (protocol,) = servers
    # Never more than the 64 KB threshold plus one 16 KB piece, in its DATA frame (a
    # 5-byte header: type, 4-byte varint length), waited inside h3q.
    assert 0 < protocol.most_buffered < 65536 + 16384 + 5
    assert not protocol.feeding


def test_server_close_closes_its_connections():
    async def main():
        server = await serve("127.0.0.1", 0, configuration=server_configuration(),
                             create_protocol=EchoServer)
        host, port = server.address
        async with connect(host, port, configuration=client_configuration(),
                           create_protocol=Client) as client:
            assert await client.request(b"GET", b"/5") == (b"200", body_of(5))
            server.close()
            server.close()  # twice is harmless
            await asyncio.wait_for(client.wait_closed(), 10)
            with pytest.raises(RuntimeError, match="closed"):
                server.address
        return client.terminated

    terminated = run(main())
    assert (terminated.error_code, terminated.closed_by_peer) == (h3q.H3_NO_ERROR, True)
