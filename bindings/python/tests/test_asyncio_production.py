"""h3q.asyncio with session tickets and 0-RTT, Retry and client certificates: against
h3q's own asyncio server, h3q-server --0rtt ($H3Q_SERVER) and aioquic's server
(tests/interop/aioquic_server.py, which keeps session tickets). A resumed connection
sends its request before the handshake completes and must report its early data
accepted. A missing peer skips with the reason."""

import asyncio
import importlib.util
import os
import ssl
import sys
import tempfile
import unittest

import pytest

import h3q
import h3q.asyncio
from h3q.asyncio import connect, forget_session_tickets, serve
from h3q.quic_events import EarlyDataRejected, HandshakeCompleted
from support import INTEROP, MISSING_PEER, body_of, generated, make_client_pki, pip_hint
from support import pem_to_der, run_server, stop_server
from test_asyncio import Client, EchoServer, client_configuration, run, server_configuration


class RecordingClient(Client):
    """test_asyncio's Client, recording its QUIC events and the HTTP resets."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.quic_events = []
        self.resets = []

    def quic_event_received(self, event):
        self.quic_events.append(event)
        super().quic_event_received(event)

    def http_event_received(self, event):
        if isinstance(event, h3q.StreamReset):
            self.resets.append(event)
            entry = self.waiting.pop(event.stream_id, None)
            if entry is not None and not entry[0].done():
                entry[0].set_exception(ConnectionResetError(hex(event.error_code)))
            return
        super().http_event_received(event)

    def handshake(self):
        return next(ev for ev in self.quic_events if isinstance(ev, HandshakeCompleted))


class EarlyServer(EchoServer):
    """EchoServer recording, for each request, whether it arrived as early data, and the
    client's certificates."""

    early = []
    client_chains = []

    def http_event_received(self, event):
        if isinstance(event, h3q.HeadersReceived):
            type(self).early.append(self._quic.stream_is_early(event.stream_id))
            type(self).client_chains.append(self._quic.peer_certificates())
        super().http_event_received(event)


def zero_rtt_server_configuration():
    configuration = server_configuration()
    configuration.enable_0rtt = True
    return configuration


async def wait_for(condition, timeout=10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


async def resume_twice(port, path, expected, server_name=None):
    """A first connection keeps its session ticket; a second one resumes with it and
    sends `path` before the handshake completes. Returns the second protocol."""
    tickets = []
    try:
        async with connect("127.0.0.1", port,
                           configuration=client_configuration(server_name=server_name),
                           create_protocol=RecordingClient,
                           session_ticket_handler=tickets.append) as first:
            assert await first.request(b"GET", path) == (b"200", expected)
            await wait_for(lambda: tickets)
            assert first._quic.early_data == h3q.EarlyData.NOT_OFFERED
            assert not first.handshake().early_data_accepted
        (ticket,) = tickets
        assert isinstance(ticket, bytes) and 0 < len(ticket) <= h3q.MAX_SESSION_TICKET
        configuration = client_configuration(server_name=server_name, session_ticket=ticket)
        async with connect("127.0.0.1", port, configuration=configuration,
                           create_protocol=RecordingClient, wait_connected=False) as second:
            assert second._quic.is_0rtt
            assert second._quic.early_data == h3q.EarlyData.PENDING
            assert await second.request(b"GET", path) == (b"200", expected)
            await second.wait_connected()
            assert second._quic.early_data == h3q.EarlyData.ACCEPTED, second._quic.early_data
            assert second.handshake().early_data_accepted
            assert not second.resets
        return second
    finally:
        forget_session_tickets()


def test_0rtt_resumption_with_h3q_asyncio_server():
    EarlyServer.early = []

    async def main():
        server = await serve("127.0.0.1", 0, configuration=zero_rtt_server_configuration(),
                             create_protocol=EarlyServer)
        try:
            await resume_twice(server.address[1], b"/3000", body_of(3000))
        finally:
            server.close()

    run(main())
    assert EarlyServer.early == [False, True]


def test_client_object_keeps_the_endpoint_for_its_tickets():
    EarlyServer.early = []

    async def main():
        server = await serve("127.0.0.1", 0, configuration=zero_rtt_server_configuration(),
                             create_protocol=EarlyServer)
        port = server.address[1]
        try:
            async with h3q.asyncio.Client(client_configuration()) as client:
                async with client.connect("127.0.0.1", port,
                                          create_protocol=RecordingClient) as first:
                    assert await first.request(b"GET", b"/10") == (b"200", body_of(10))
                    await wait_for(lambda: first.session_ticket is not None)
                ticket = first.session_ticket
                async with client.connect("127.0.0.1", port, create_protocol=RecordingClient,
                                          session_ticket=ticket,
                                          wait_connected=False) as second:
                    assert second._quic.is_0rtt
                    assert await second.request(b"GET", b"/20") == (b"200", body_of(20))
                    assert second._quic.early_data == h3q.EarlyData.ACCEPTED
                # A ticket resumes once: a third connection does a full handshake.
                async with client.connect("127.0.0.1", port, create_protocol=RecordingClient,
                                          session_ticket=ticket) as third:
                    assert third._quic.early_data == h3q.EarlyData.NOT_OFFERED
                    assert await third.request(b"GET", b"/30") == (b"200", body_of(30))
            assert client.closed
        finally:
            server.close()

    run(main())
    assert EarlyServer.early == [False, True, False]


def test_rejected_0rtt_is_reported_and_the_request_sent_again():
    async def main():
        server = await serve("127.0.0.1", 0, configuration=zero_rtt_server_configuration(),
                             create_protocol=EchoServer)
        port = server.address[1]
        try:
            async with h3q.asyncio.Client(client_configuration()) as client:
                async with client.connect("127.0.0.1", port,
                                          create_protocol=RecordingClient) as first:
                    assert await first.request(b"GET", b"/10") == (b"200", body_of(10))
                    await wait_for(lambda: first.session_ticket is not None)
                # The server restarts on the same port: it has lost its sessions.
                server.close()
                await asyncio.sleep(0.05)  # asyncio closes the socket on a later turn
                server = await serve("127.0.0.1", port,
                                     configuration=zero_rtt_server_configuration(),
                                     create_protocol=EchoServer)
                async with client.connect("127.0.0.1", port, create_protocol=RecordingClient,
                                          session_ticket=first.session_ticket,
                                          wait_connected=False) as second:
                    with pytest.raises(ConnectionResetError):
                        await second.request(b"GET", b"/40")
                    (reset,) = second.resets
                    assert reset.error_code == h3q.H3_REQUEST_REJECTED
                    assert any(isinstance(ev, EarlyDataRejected) for ev in second.quic_events)
                    assert second._quic.early_data == h3q.EarlyData.REJECTED
                    # The application sends it again.
                    assert await second.request(b"GET", b"/40") == (b"200", body_of(40))
        finally:
            server.close()

    run(main())


def test_retry_server():
    async def main():
        server = await serve("127.0.0.1", 0, configuration=server_configuration(),
                             create_protocol=EchoServer, retry=True)
        try:
            async with connect("127.0.0.1", server.address[1],
                               configuration=client_configuration(),
                               create_protocol=Client) as client:
                assert await client.request(b"GET", b"/100") == (b"200", body_of(100))
        finally:
            server.close()

    run(main())
    with pytest.raises(ValueError, match="servers only"):
        client_configuration().to_config(retry=True)


def test_client_certificates():
    EarlyServer.client_chains = []
    with tempfile.TemporaryDirectory(prefix="h3q-pki-") as tmp:
        try:
            pki = make_client_pki(tmp)
        except unittest.SkipTest as e:  # openssl is missing
            pytest.skip(str(e))
        with open(pki["cert"], "rb") as f:
            client_der = pem_to_der(f.read())

        def server_conf(mode):
            configuration = server_configuration()
            configuration.verify_mode = mode
            configuration.load_verify_locations(cafile=pki["ca"])
            return configuration

        def client_conf(with_certificate):
            configuration = client_configuration(idle_timeout=5.0)
            if with_certificate:
                configuration.load_cert_chain(pki["cert"], pki["key"])
            return configuration

        async def fetch(server_configuration, client_configuration):
            server = await serve("127.0.0.1", 0, configuration=server_configuration,
                                 create_protocol=EarlyServer)
            try:
                async with connect("127.0.0.1", server.address[1],
                                   configuration=client_configuration,
                                   create_protocol=Client) as client:
                    return await client.request(b"GET", b"/5")
            finally:
                server.close()

        async def main():
            assert await fetch(server_conf(ssl.CERT_REQUIRED), client_conf(True)) == (
                b"200", body_of(5))
            with pytest.raises(ConnectionError):
                await fetch(server_conf(ssl.CERT_REQUIRED), client_conf(False))
            assert await fetch(server_conf(ssl.CERT_OPTIONAL), client_conf(False)) == (
                b"200", body_of(5))
            with pytest.raises(ValueError, match="load_verify_locations"):
                await serve("127.0.0.1", 0, configuration=h3q.QuicConfiguration(
                    is_client=False, verify_mode=ssl.CERT_REQUIRED))

        run(main())
    assert EarlyServer.client_chains == [[client_der], []]


def test_0rtt_resumption_with_h3q_server():
    binary = os.environ.get("H3Q_SERVER")
    if not binary:
        pytest.skip(MISSING_PEER + "H3Q_SERVER (the path of the h3q-server example) is not "
                    "set; CTest sets it")
    proc, port = run_server([binary, "--listen", "127.0.0.1:0", "--0rtt"])
    try:
        run(resume_twice(port, b"/5000", generated(5000), server_name="localhost"))
    finally:
        assert stop_server(proc) == 0


def test_0rtt_resumption_with_aioquic_server():
    if importlib.util.find_spec("aioquic") is None:
        pytest.skip(MISSING_PEER + pip_hint("aioquic"))
    proc, port = run_server([sys.executable, os.path.join(INTEROP, "aioquic_server.py"),
                             "--listen", "127.0.0.1:0"])
    try:
        run(resume_twice(port, b"/5000", generated(5000), server_name="localhost"))
    finally:
        assert stop_server(proc) == 0


def test_ecn_codepoints_cross_the_asyncio_sockets():
    """The driver's socket sets and reads the ECN bits: on loopback, QUIC's ECN validation
    succeeds and both sides send and receive ECT(0)."""

    async def main():
        server = await serve("127.0.0.1", 0, configuration=server_configuration(),
                             create_protocol=EchoServer)
        try:
            async with connect("127.0.0.1", server.address[1],
                               configuration=client_configuration(),
                               create_protocol=Client) as client:
                assert await client.request(b"GET", b"/300000") == (b"200", body_of(300000))
                return list(client._driver.ecn_sent), list(client._driver.ecn_received), \
                    list(server._driver.ecn_received)
        finally:
            server.close()

    sent, received, server_received = run(main())
    assert sent[h3q.ECN_ECT0] > 0, sent
    assert received[h3q.ECN_ECT0] > 0, received
    assert server_received[h3q.ECN_ECT0] > 0, server_received
    assert received[h3q.ECN_CE] == 0 and received[h3q.ECN_ECT1] == 0
