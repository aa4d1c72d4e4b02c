"""The sans-I/O client over a real UDP socket on 127.0.0.1 against h3q-server (H3Q_SERVER)
and aioquic's server (tests/interop/aioquic_server.py); and the sans-I/O server, on a UDP
socket in a thread, answering niquests (urllib3-future over qh3, an independent HTTP/3
client). A missing peer skips its test with the reason."""

import importlib.util
import os
import shutil
import sys
import tempfile
import unittest

from support import (
    INTEROP,
    UdpServerThread,
    body_of,
    fetch_over_udp,
    generated,
    needs_peer,
    pip_hint,
    run_server,
    stop_server,
)


class UdpTests(unittest.TestCase):
    """The Python h3q client over a real UDP socket against a server in another process,
    and this module's server against niquests."""

    def fetch_from(self, argv):
        proc, port = run_server(argv)
        try:
            body = os.urandom(200_000)
            got = fetch_over_udp("127.0.0.1", port, [(b"GET", b"/123456", None),
                                                     (b"POST", b"/echo", body)])
            self.assertEqual(got[b"/123456"].status, b"200")
            self.assertEqual(bytes(got[b"/123456"].body), generated(123456))
            self.assertEqual(got[b"/echo"].status, b"200")
            self.assertEqual(bytes(got[b"/echo"].body), body)
        finally:
            status = stop_server(proc)
        self.assertEqual(status, 0, f"{argv[0]} did not exit 0 on SIGINT")

    @needs_peer(os.environ.get("H3Q_SERVER"),
                "H3Q_SERVER (the path of the h3q-server example) is not set; CTest sets it "
                "when the examples are built (-DH3Q_BUILD_EXAMPLES=ON)")
    def test_h3q_server(self):
        self.fetch_from([os.environ["H3Q_SERVER"], "--listen", "127.0.0.1:0"])

    @needs_peer(importlib.util.find_spec("aioquic"), pip_hint("aioquic"))
    def test_aioquic_server(self):
        script = os.path.join(INTEROP, "aioquic_server.py")
        self.fetch_from([sys.executable, script, "--listen", "127.0.0.1:0"])

    @needs_peer(importlib.util.find_spec("niquests"), pip_hint("niquests"))
    def test_niquests_client(self):
        """niquests (HTTP/3 only) GETs a generated body from and POSTs a body to this
        binding's server, which echoes it once the request body has ended."""
        import niquests

        work = tempfile.mkdtemp(prefix="h3q-python-test-")
        self.addCleanup(shutil.rmtree, work, ignore_errors=True)
        server = UdpServerThread()
        server.start()
        try:
            # niquests verifies the server against its generated certificate (verify= that
            # PEM file as the CA bundle), not with verify=False.
            cert = os.path.join(work, "cert.pem")
            with open(cert, "wb") as f:
                f.write(server.certificate_pem)
            base = f"https://127.0.0.1:{server.port}"
            upload = os.urandom(300_000)
            with niquests.Session(disable_http1=True, disable_http2=True) as session:
                got = session.get(f"{base}/123456", verify=cert, timeout=20)
                echoed = session.post(f"{base}/echo", data=upload, verify=cert, timeout=20)
                missing = session.get(f"{base}/nothing-here", verify=cert, timeout=20)
        finally:
            server.stop()
        self.assertEqual((got.status_code, got.http_version), (200, 30))
        self.assertEqual(got.headers["content-length"], "123456")
        self.assertEqual(got.content, body_of(123456))
        self.assertEqual((echoed.status_code, echoed.http_version), (200, 30))
        self.assertEqual(echoed.content, upload)
        self.assertEqual(missing.status_code, 404)
        self.assertEqual(len(server.server.conns), 1, "niquests used more than one connection")
