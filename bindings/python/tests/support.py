"""What the tests share: a small HTTP/3 server and client written on the sans-I/O API,
an in-memory network with a simulated clock, UDP helpers, and how a missing peer skips.

SimpleServer answers GET /<n> with body_of(n) and POST /echo with the request body;
SimpleClient sends requests and collects the responses from the events. Pair joins an h3q
client and server endpoint in memory (no loss) with a simulated clock, like the C tests.
"""

import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

import h3q

HERE = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
INTEROP = os.path.join(REPOSITORY, "tests", "interop")
EXAMPLES = os.path.normpath(os.path.join(HERE, "..", "examples"))

CLIENT_ADDR = ("10.0.0.1", 40000)
SERVER_ADDR = ("10.0.0.2", 4433)
SETTINGS_QPACK_MAX_TABLE_CAPACITY = 0x1


def body_of(n):
    """The n bytes the in-memory server answers for /<n>."""
    pattern = bytes(range(256))
    return (pattern * (n // 256 + 1))[:n]


def header(headers, name):
    for k, v in headers:
        if k == name:
            return v
    return None


def segments(t):
    """The datagrams of one transmit (a GSO batch is split at segment_size)."""
    step = t.segment_size or len(t.data)
    return [t.data[i:i + step] for i in range(0, len(t.data), step)]


class SimpleServer:
    """An HTTP/3 server on h3q: GET /<n> -> n bytes, POST /echo -> the body."""

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.conns = []  # (QuicConnection, H3Connection)
        self.index = {}  # id(QuicConnection) -> its index in conns
        self.requests = {}  # (conn index, stream id) -> [headers, body]
        self.terminated = 0
        self.lifecycle = []  # (conn index, event) of the lifecycle events
        # When a list, complete requests wait in it (h3, stream id, headers, body) for
        # release() instead of being answered at once.
        self.held = None

    def accept_all(self):
        while True:
            quic = self.endpoint.accept()
            if quic is None:
                return
            self.index[id(quic)] = len(self.conns)
            self.conns.append((quic, h3q.H3Connection(quic)))

    def process(self):
        """Handles the events of the connections Endpoint.next_ready() names."""
        moved = False
        while (quic := self.endpoint.next_ready()) is not None:
            index = self.index[id(quic)]
            h3 = self.conns[index][1]
            while (event := quic.next_event()) is not None:
                moved = True
                if event.type == h3q.QUIC_CONNECTION_TERMINATED:
                    self.terminated += 1
                h3.handle_event(event, lambda ev, i=index, h3=h3: self.on_event(i, h3, ev))
        return moved

    def on_event(self, index, h3, ev):
        key = (index, ev.stream_id)
        if isinstance(ev, h3q.HeadersReceived):
            self.requests[key] = [dict(ev.headers), bytearray()]
        elif isinstance(ev, h3q.DataReceived):
            self.requests[key][1] += ev.data
        else:
            self.lifecycle.append((index, ev))
            if isinstance(ev, h3q.StreamReset):
                self.requests.pop(key, None)
            return
        if ev.stream_ended:
            request = self.requests.pop(key)
            if self.held is not None:
                self.held.append((h3, ev.stream_id, *request))
            else:
                self.respond(h3, ev.stream_id, *request)

    def release(self):
        """Answers the held requests and stops holding."""
        held, self.held = self.held or [], None
        for request in held:
            self.respond(*request)

    def respond(self, h3, stream_id, headers, body):
        method, path = headers[b":method"], headers[b":path"]
        if method == b"POST" and path == b"/echo":
            status, payload = b"200", bytes(body)
        elif method == b"GET" and re.fullmatch(rb"/\d+", path):
            status, payload = b"200", body_of(int(path[1:]))
        else:
            status, payload = b"404", b"not found\n"
        h3.send_headers(stream_id, [(b":status", status),
                                    (b"content-length", str(len(payload)).encode())])
        # Several DATA frames, the last one with FIN.
        chunk = 16384
        for i in range(0, len(payload), chunk):
            h3.send_data(stream_id, payload[i:i + chunk], end_stream=False)
        h3.send_data(stream_id, b"", end_stream=True)

    def close(self):
        for quic, h3 in self.conns:
            h3.close()
            quic.close()


class Response:
    def __init__(self):
        self.headers = None
        self.body = bytearray()
        self.ended = False

    @property
    def status(self):
        return header(self.headers or [], b":status")


class SimpleClient:
    """An HTTP/3 client on h3q: requests and the responses collected from events."""

    def __init__(self, quic):
        self.quic = quic
        self.h3 = h3q.H3Connection(quic)
        self.responses = {}
        self.terminated = None
        self.handshake_alpn = None
        self.lifecycle = []  # the lifecycle events (GOAWAY, resets, close, ORIGIN)
        self.on_quic_event = None  # when set, called with every QUIC event first

    def request(self, method, path, body=None, authority=b"localhost"):
        sid = self.quic.get_next_available_stream_id()
        self.h3.send_headers(sid, [(b":method", method), (b":scheme", b"https"),
                                   (b":authority", authority), (b":path", path),
                                   (b"user-agent", b"h3q-python-test")],
                             end_stream=body is None)
        if body is not None:
            self.h3.send_data(sid, body, end_stream=True)
        self.responses[sid] = Response()
        return sid

    def process(self):
        moved = False
        while (event := self.quic.next_event()) is not None:
            moved = True
            if self.on_quic_event is not None:
                self.on_quic_event(event)
            if event.type == h3q.QUIC_HANDSHAKE_COMPLETED:
                self.handshake_alpn = event.data
            if event.type == h3q.QUIC_CONNECTION_TERMINATED:
                self.terminated = event
            for ev in self.h3.handle_event(event):
                if not isinstance(ev, (h3q.HeadersReceived, h3q.DataReceived)):
                    self.lifecycle.append(ev)
                    continue
                r = self.responses[ev.stream_id]
                if isinstance(ev, h3q.HeadersReceived):
                    r.headers = ev.headers
                elif isinstance(ev, h3q.DataReceived):
                    r.body += ev.data
                r.ended = r.ended or ev.stream_ended
        return moved

    def done(self):
        return all(r.ended for r in self.responses.values())

    def lifecycle_of(self, kind):
        return [ev for ev in self.lifecycle if isinstance(ev, kind)]

    def close(self):
        self.h3.close()
        self.quic.close()


class Pair:
    """Two endpoints, an in-memory network without loss, and a simulated clock.

    `server_setup` / `client_setup` are called with the server's / client's Config before
    the endpoints are made; `connect=False` leaves `client` None (see reconnect())."""

    def __init__(self, server_setup=None, client_setup=None, connect=True):
        self.server_config = h3q.Config(is_server=True)
        with h3q.Config(is_server=False) as ccfg:
            self.fingerprint = self.server_config.generate_self_signed("localhost")
            ccfg.add_ca_pem(self.server_config.certificate_chain_pem())
            if server_setup is not None:
                server_setup(self.server_config)
            if client_setup is not None:
                client_setup(ccfg)
            self.server_ep = h3q.Endpoint(self.server_config)
            self.client_ep = h3q.Endpoint(ccfg)
        self.now = 1_000_000_000
        self.server = SimpleServer(self.server_ep)
        self.client = None
        self.old_clients = []
        self.client_addr = CLIENT_ADDR
        self.on_transmit = None  # when set, called with every Transmit
        if connect:
            self.reconnect()

    def reconnect(self, session_ticket=None):
        """A new client connection on the same client endpoint (the previous one stays
        open, in old_clients); returns the SimpleClient."""
        if self.client is not None:
            self.old_clients.append(self.client)
        self.client = SimpleClient(self.client_ep.connect(self.now, SERVER_ADDR, "localhost",
                                                          session_ticket=session_ticket))
        return self.client

    def restart_server(self):
        """Replaces the server endpoint by the one a restarted server would have: the same
        certificate, none of the old one's sessions and token keys (endpoints of one Config
        share those, so its secrets are rotated first)."""
        self.server.close()
        self.server_ep.close()
        self.server_config.rotate_secrets()
        self.server_ep = h3q.Endpoint(self.server_config)
        self.server = SimpleServer(self.server_ep)

    def pump(self):
        moved = False
        for src, dst, src_addr in ((self.client_ep, self.server_ep, self.client_addr),
                                   (self.server_ep, self.client_ep, SERVER_ADDR)):
            while (t := src.poll_transmit(self.now)) is not None:
                if self.on_transmit is not None:
                    self.on_transmit(t)
                for datagram in segments(t):
                    dst.receive(self.now, src_addr, datagram, ecn=t.ecn)
                moved = True
        return moved

    def step(self):
        """Moves datagrams and events; advances the clock to the next timer when idle."""
        moved = self.pump()
        self.server.accept_all()
        moved |= self.server.process()
        moved |= self.client.process()
        if not moved:
            timers = [t for t in (self.client_ep.next_timeout(), self.server_ep.next_timeout())
                      if t is not None]
            if not timers:
                return False
            self.now = max(self.now, min(timers))
            for ep in (self.client_ep, self.server_ep):
                t = ep.next_timeout()
                if t is not None and t <= self.now:
                    ep.handle_timeout(self.now)
        return True

    def settle(self):
        """Moves datagrams and events until nothing moves, without advancing the clock."""
        while True:
            moved = self.pump()
            self.server.accept_all()
            moved |= self.server.process()
            moved |= self.client.process()
            if not moved:
                return

    def run_until(self, cond, max_steps=200_000, max_sim_ns=60_000_000_000):
        start = self.now
        for _ in range(max_steps):
            if cond():
                return
            if not self.step() or self.now - start > max_sim_ns:
                break
        raise AssertionError("condition not reached (steps or simulated time ran out)")

    def close(self):
        for client in self.old_clients + [self.client]:
            if client is not None:
                client.close()
        self.server.close()
        self.client_ep.close()
        self.server_ep.close()
        self.server_config.close()


def make_client_pki(directory):
    """A CA and a client certificate it signed, with openssl (skips the test when openssl is
    missing): returns {"ca": ca.pem, "cert": client.pem, "key": client.key} paths."""
    import shutil

    if shutil.which("openssl") is None:
        raise unittest.SkipTest(MISSING_PEER + "openssl (apt-get install openssl)")
    paths = {n: os.path.join(directory, f) for n, f in (
        ("ca_key", "ca.key"), ("ca", "ca.pem"), ("key", "client.key"), ("csr", "client.csr"),
        ("cert", "client.pem"), ("ext", "client.ext"))}
    with open(paths["ext"], "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=clientAuth\nsubjectAltName=DNS:client.test\n")
    ec = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
    for cmd in (
        ["genpkey", *ec, "-out", paths["ca_key"]],
        ["req", "-x509", "-new", "-key", paths["ca_key"], "-subj", "/CN=h3q test client CA",
         "-days", "2", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign", "-out", paths["ca"]],
        ["genpkey", *ec, "-out", paths["key"]],
        ["req", "-new", "-key", paths["key"], "-subj", "/CN=client.test", "-out", paths["csr"]],
        ["x509", "-req", "-in", paths["csr"], "-CA", paths["ca"], "-CAkey", paths["ca_key"],
         "-CAcreateserial", "-days", "2", "-extfile", paths["ext"], "-out", paths["cert"]],
    ):
        subprocess.run(["openssl", *cmd], check=True, capture_output=True, timeout=30)
    return paths


def pem_to_der(pem):
    """The DER bytes of the first certificate in PEM bytes."""
    import ssl

    text = pem.decode("ascii")
    end = "-----END CERTIFICATE-----"
    return ssl.PEM_cert_to_DER_cert(text[:text.index(end) + len(end)])


def fetch_over_udp(host, port, requests, timeout_s=20.0):
    """Runs an h3q client over a real UDP socket; returns {path: Response}."""
    with h3q.Config(is_server=False) as cfg:
        cfg.set_verify_peer(False)
        ep = h3q.Endpoint(cfg)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    try:
        quic = ep.connect(time.monotonic_ns(), (host, port), "localhost")
        client = SimpleClient(quic)
        by_path = {}
        for method, path, body in requests:
            by_path[path] = client.request(method, path, body, authority=b"localhost")
        deadline = time.monotonic() + timeout_s
        while not client.done():
            if time.monotonic() > deadline:
                raise AssertionError("UDP fetch timed out")
            now = time.monotonic_ns()
            while (t := ep.poll_transmit(now)) is not None:
                for datagram in segments(t):
                    sock.sendto(datagram, t.address)
            at = ep.next_timeout()
            wait = 0.05 if at is None else max(0.0, min(0.05, (at - now) / 1e9))
            readable, _, _ = select.select([sock], [], [], wait)
            now = time.monotonic_ns()
            if readable:
                for _ in range(1000):
                    try:
                        data, addr = sock.recvfrom(65536)
                    except BlockingIOError:
                        break
                    ep.receive(now, addr, data)
            at = ep.next_timeout()
            if at is not None and at <= now:
                ep.handle_timeout(now)
            client.process()
            if client.terminated is not None and not client.done():
                raise AssertionError(f"connection terminated: {client.terminated}")
        quic.close_connection(h3q.H3_NO_ERROR, b"")
        now = time.monotonic_ns()
        while (t := ep.poll_transmit(now)) is not None:
            for datagram in segments(t):
                sock.sendto(datagram, t.address)
        result = {path: client.responses[sid] for path, sid in by_path.items()}
        client.close()
        return result
    finally:
        sock.close()
        ep.close()


def run_server(argv, env=None):
    """Starts a server that prints "listening on HOST:PORT" first; returns (proc, port)."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, env=env)
    ready, _, _ = select.select([proc.stdout], [], [], 20)
    first = proc.stdout.readline().decode() if ready else ""
    m = re.search(r":(\d+)\s*$", first.strip())
    if not m:
        stop_server(proc)
        raise AssertionError(f"{argv[0]}: no port in its first line {first!r}")
    return proc, int(m.group(1))


def stop_server(proc):
    """SIGINT, up to 10 s to exit, then SIGKILL; returns the exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    proc.stdout.close()
    return proc.returncode


GENERATED_LINE = bytes(10 if i == 63 else 97 + i % 26 for i in range(64))


def generated(n):
    """h3q-server's (and tests/interop/aioquic_server.py's) body for /<n>: 64-byte lines."""
    return (GENERATED_LINE * (n // 64 + 1))[:n]


# Skips for a missing peer carry this prefix: they make the process exit 77 (see main).
MISSING_PEER = "missing peer: "
SKIP_EXIT = 77


def needs_peer(available, what):
    """unittest.skipUnless for a test that needs a peer; `what` says how to get it. Under
    CTest (H3Q_CTEST=1) such skips make pytest exit 77 (see conftest.py)."""
    return unittest.skipUnless(available, MISSING_PEER + what)


def pip_hint(module):
    return (f"{module} is not importable by {sys.executable} "
            f"({sys.executable} -m pip install {module})")


class UdpServerThread(threading.Thread):
    """SimpleServer (GET /<n> -> body_of(n), POST /echo -> the body, answered only once the
    request has ended) on a UDP socket on 127.0.0.1, run by a thread of its own. The
    endpoint and its connections are used by that thread only; stop() ends it and frees
    them. The certificate is generated for "127.0.0.1" (an IP address subject alternative
    name) and its PEM is in `certificate_pem`, for clients to trust."""

    def __init__(self):
        super().__init__(name="h3q-udp-server", daemon=True)
        with h3q.Config(is_server=True) as cfg:
            cfg.generate_self_signed("127.0.0.1")
            self.certificate_pem = cfg.certificate_chain_pem()
            self.endpoint = h3q.Endpoint(cfg)
        self.server = SimpleServer(self.endpoint)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.stopping = threading.Event()
        self.error = None

    def run(self):
        try:
            while not self.stopping.is_set():
                self.step()
        except BaseException as e:  # noqa: BLE001 - handed to the test by stop()
            self.error = e
        finally:
            self.server.close()
            self.endpoint.close()
            self.sock.close()

    def step(self):
        ep = self.endpoint
        now = time.monotonic_ns()
        while (t := ep.poll_transmit(now)) is not None:
            for datagram in segments(t):
                try:
                    self.sock.sendto(datagram, t.address)
                except BlockingIOError:
                    pass  # a full socket buffer: lost like on a network; QUIC resends
        at = ep.next_timeout()
        wait = 0.05 if at is None else max(0.0, min(0.05, (at - now) / 1e9))
        readable, _, _ = select.select([self.sock], [], [], wait)
        now = time.monotonic_ns()
        if readable:
            for _ in range(1000):
                try:
                    data, addr = self.sock.recvfrom(65536)
                except BlockingIOError:
                    break
                ep.receive(now, addr, data)
        at = ep.next_timeout()
        if at is not None and at <= now:
            ep.handle_timeout(now)
        self.server.accept_all()
        self.server.process()

    def stop(self):
        """Ends the thread; re-raises what it raised."""
        self.stopping.set()
        self.join(10)
        if self.is_alive():
            raise AssertionError("the UDP server thread did not stop")
        if self.error is not None:
            raise self.error
