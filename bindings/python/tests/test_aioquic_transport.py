"""h3q's HTTP/3 over aioquic's QUIC: `h3q.H3Connection(<aioquic QuicConnection>)`, through
the C transport table (h3q.transport). An aioquic client (aioquic.asyncio.connect and a
QuicConnectionProtocol, as aioquic's examples write them) with h3q's H3Connection in place
of aioquic's fetches from h3q.asyncio's server in the same loop, and 10 MB with SHA-256
from h3q-server ($H3Q_SERVER), aioquic's server and ngtcp2's gtlsserver. Errors of the Python QUIC object
surface as H3QError with the original exception as __cause__."""

import asyncio
import hashlib
import importlib.util
import os
import ssl
import subprocess
import sys
import time

import pytest

import h3q
import h3q.asyncio
from support import INTEROP, MISSING_PEER, body_of, generated, pip_hint, run_server, stop_server

HAVE_AIOQUIC = importlib.util.find_spec("aioquic") is not None


def need_aioquic():
    if not HAVE_AIOQUIC:
        pytest.skip(MISSING_PEER + pip_hint("aioquic"))


def aioquic_fetch(port, paths, ca=None):
    """GETs `paths` from 127.0.0.1:`port` over aioquic's QUIC with h3q's HTTP/3; returns
    {path: (status, sha256 hex, size)}."""
    from aioquic.asyncio import QuicConnectionProtocol, connect
    from aioquic.quic.configuration import QuicConfiguration

    class Client(QuicConnectionProtocol):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._http = h3q.H3Connection(self._quic)  # the one changed line
            self.streams = {}

        async def get(self, path):
            sid = self._quic.get_next_available_stream_id()
            self._http.send_headers(sid, [(b":method", b"GET"), (b":scheme", b"https"),
                                          (b":authority", b"localhost"),
                                          (b":path", path.encode())], end_stream=True)
            done = self._loop.create_future()
            self.streams[sid] = [done, None, hashlib.sha256(), 0]
            self.transmit()
            return await done

        def quic_event_received(self, event):
            for ev in self._http.handle_event(event):
                entry = self.streams.get(ev.stream_id)
                if entry is None:
                    continue
                if isinstance(ev, h3q.HeadersReceived):
                    entry[1] = dict(ev.headers)[b":status"]
                elif isinstance(ev, h3q.DataReceived):
                    entry[2].update(ev.data)
                    entry[3] += len(ev.data)
                if getattr(ev, "stream_ended", False) and not entry[0].done():
                    entry[0].set_result((entry[1], entry[2].hexdigest(), entry[3]))

    async def main():
        configuration = QuicConfiguration(is_client=True, alpn_protocols=h3q.H3_ALPN,
                                          server_name="localhost")
        if ca:
            configuration.load_verify_locations(ca)
        else:
            configuration.verify_mode = ssl.CERT_NONE
        async with connect("127.0.0.1", port, configuration=configuration,
                           create_protocol=Client) as client:
            results = await asyncio.gather(*(client.get(p) for p in paths))
        return dict(zip(paths, results))

    return asyncio.run(asyncio.wait_for(main(), 120))


def test_aioquic_quic_with_h3q_http3_against_h3q_asyncio_server():
    need_aioquic()
    from test_asyncio import EchoServer, server_configuration

    async def serve_and_fetch():
        server = await h3q.asyncio.serve("127.0.0.1", 0, configuration=server_configuration(),
                                         create_protocol=EchoServer)
        try:
            loop = asyncio.get_running_loop()
            port = server.address[1]
            # aioquic_fetch runs its own loop: in a thread, while this loop serves.
            return await loop.run_in_executor(None, aioquic_fetch, port,
                                              ["/0", "/1", "/100000"])
        finally:
            server.close()

    got = asyncio.run(serve_and_fetch())
    for path, (status, digest, size) in got.items():
        n = int(path[1:])
        assert (status, digest, size) == (b"200", hashlib.sha256(body_of(n)).hexdigest(), n)


SIZE = 10_000_000


@pytest.mark.download
def test_aioquic_quic_with_h3q_http3_downloads_10_mb():
    need_aioquic()
    servers = [("aioquic", [sys.executable, os.path.join(INTEROP, "aioquic_server.py"),
                            "--listen", "127.0.0.1:0"])]
    if os.environ.get("H3Q_SERVER"):
        servers.append(("h3q-server", [os.environ["H3Q_SERVER"], "--listen", "127.0.0.1:0"]))
    else:
        pytest.skip(MISSING_PEER + "H3Q_SERVER (the path of the h3q-server example) is not "
                    "set; CTest sets it")
    digest = hashlib.sha256(generated(SIZE)).hexdigest()
    for name, argv in servers:
        proc, port = run_server(argv)
        try:
            got = aioquic_fetch(port, [f"/{SIZE}"])
        finally:
            assert stop_server(proc) == 0, name
        assert got[f"/{SIZE}"] == (b"200", digest, SIZE), name


@pytest.mark.download
def test_aioquic_quic_with_h3q_http3_downloads_10_mb_from_gtlsserver(tmp_path):
    """The third server: ngtcp2's gtlsserver, serving a file of the same bytes (it
    generates other bytes for a numeric path)."""
    need_aioquic()
    sys.path.insert(0, INTEROP)
    from run_matrix import free_udp_port, make_certs, which

    gtlsserver = which("gtlsserver")
    if not gtlsserver or not which("openssl"):
        pytest.skip(MISSING_PEER + "gtlsserver or openssl not found (apt-get install "
                    "ngtcp2-server openssl)")
    certs = make_certs(str(tmp_path))
    root = tmp_path / "root"
    root.mkdir()
    (root / "ten-mb.bin").write_bytes(generated(SIZE))
    port = free_udp_port()
    proc = subprocess.Popen([gtlsserver, "--quiet", "-d", str(root), "--timeout=30s",
                             "127.0.0.1", str(port), certs["key"], certs["cert"]],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, cwd=str(tmp_path))
    try:
        time.sleep(0.5)  # gtlsserver prints nothing when ready
        assert proc.poll() is None, "gtlsserver exited at once"
        got = aioquic_fetch(port, ["/ten-mb.bin"], ca=certs["ca"])
    finally:
        proc.terminate()
        proc.wait(10)
    digest = hashlib.sha256(generated(SIZE)).hexdigest()
    assert got["/ten-mb.bin"] == (b"200", digest, SIZE)


class FakeQuic:
    """A Python QUIC connection whose stream sends fail after `allowed` of them."""

    def __init__(self, allowed):
        self.allowed = allowed
        self.is_client = True
        self.sent = []
        self.next_uni = 2

    def send_stream_data(self, stream_id, data, end_stream=False):
        if len(self.sent) >= self.allowed:
            raise OSError("the fake stack refuses")
        self.sent.append((stream_id, data, end_stream))

    def get_next_available_stream_id(self, is_unidirectional=False):
        if is_unidirectional:
            sid, self.next_uni = self.next_uni, self.next_uni + 4
            return sid
        return 0

    def reset_stream(self, stream_id, error_code):
        pass

    def stop_stream(self, stream_id, error_code):
        pass

    def close(self, error_code=0, frame_type=None, reason_phrase=""):
        self.closed = (error_code, reason_phrase)


def test_python_quic_object_errors_become_h3q_errors():
    quic = FakeQuic(allowed=100)
    with h3q.H3Connection(quic) as http:
        # h3q opened its control and QPACK streams through the object: 2, 6, 10.
        assert sorted({sid for sid, _, _ in quic.sent}) == [2, 6, 10]
        quic.allowed = len(quic.sent)
        with pytest.raises(h3q.TransportError) as info:
            http.send_headers(0, [(b":method", b"GET"), (b":scheme", b"https"),
                                  (b":authority", b"x"), (b":path", b"/")], end_stream=True)
        assert isinstance(info.value.__cause__, OSError)
        # Events of other stacks that HTTP/3 does not need give no HTTP events.
        assert http.handle_event(object()) == []
    with pytest.raises(h3q.TransportError) as info:
        h3q.H3Connection(FakeQuic(allowed=0))  # fails while opening its streams
    assert isinstance(info.value.__cause__, OSError)
    with pytest.raises(TypeError, match="send_stream_data"):
        h3q.H3Connection(object())
