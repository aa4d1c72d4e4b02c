#!/usr/bin/env python3
"""Tests of h3q used from Python through its C ABI (the ctypes module h3q.py).

    python3 test_h3q.py [-v]          (unittest; the library from H3Q_LIBRARY or beside h3q.py)

In-memory tests: an h3q client and an h3q server in this one process, two Endpoints joined
by a simulated network (datagrams handed over in memory) and a simulated clock, like the C
tests: GET with a generated body, POST echoed back, many requests at once, error reporting,
graceful close, handle lifetimes.

UDP tests: this module's client fetches (GET of a generated body, POST echo) over a real
UDP socket on 127.0.0.1 from h3q-server, when H3Q_SERVER names that example program, and
from aioquic's server (tests/interop/aioquic_server.py), when this Python has aioquic. And
the other way round: this module's server (the in-memory tests' TestServer, on a UDP
socket in a thread) answers niquests (urllib3-future over qh3, an independent HTTP/3
client), when this Python has niquests.

A test whose peer is missing (H3Q_SERVER unset, aioquic or niquests not importable) is
skipped; then, if nothing failed, the process prints one line "SKIPPED: <what is missing
and how to install it>" and exits 77 (CTest's SKIP_RETURN_CODE) instead of 0.
"""

import hashlib
import importlib.util
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import h3q  # noqa: E402

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


class TestServer:
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


class TestClient:
    """An HTTP/3 client on h3q: requests and the responses collected from events."""

    def __init__(self, quic):
        self.quic = quic
        self.h3 = h3q.H3Connection(quic)
        self.responses = {}
        self.terminated = None
        self.handshake_alpn = None
        self.lifecycle = []  # the lifecycle events (GOAWAY, resets, close, ORIGIN)

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
    """Two endpoints, an in-memory network without loss, and a simulated clock."""

    def __init__(self):
        with h3q.Config(is_server=True) as scfg, h3q.Config(is_server=False) as ccfg:
            self.fingerprint = scfg.generate_self_signed("localhost")
            ccfg.add_ca_pem(scfg.certificate_chain_pem())
            self.server_ep = h3q.Endpoint(scfg)
            self.client_ep = h3q.Endpoint(ccfg)
        self.now = 1_000_000_000
        self.server = TestServer(self.server_ep)
        self.client = TestClient(self.client_ep.connect(self.now, SERVER_ADDR, "localhost"))

    def pump(self):
        moved = False
        for src, dst, src_addr in ((self.client_ep, self.server_ep, CLIENT_ADDR),
                                   (self.server_ep, self.client_ep, SERVER_ADDR)):
            while (t := src.poll_transmit(self.now)) is not None:
                for datagram in segments(t):
                    dst.receive(self.now, src_addr, datagram)
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
        self.client.close()
        self.server.close()
        self.client_ep.close()
        self.server_ep.close()


class InMemoryTests(unittest.TestCase):
    def setUp(self):
        self.pair = Pair()

    def tearDown(self):
        self.pair.close()

    def test_version(self):
        self.assertRegex(h3q.version(), r"^\d+\.\d+\.\d+$")

    def test_get_with_body(self):
        p = self.pair
        sid = p.client.request(b"GET", b"/100000")
        p.run_until(p.client.done)
        r = p.client.responses[sid]
        self.assertEqual(r.status, b"200")
        self.assertEqual(header(r.headers, b"content-length"), b"100000")
        self.assertEqual(hashlib.sha256(r.body).hexdigest(),
                         hashlib.sha256(body_of(100000)).hexdigest())
        self.assertEqual(p.client.handshake_alpn, b"h3")
        self.assertEqual(p.client.quic.alpn(), b"h3")
        self.assertTrue(p.client.quic.is_established)
        self.assertEqual(p.client.h3.received_setting(SETTINGS_QPACK_MAX_TABLE_CAPACITY), 4096)
        self.assertEqual(p.server_ep.certificate_fingerprint(), p.fingerprint)
        self.assertIsNone(p.client_ep.certificate_fingerprint())
        self.assertEqual(p.server.conns[0][0].remote_address(), CLIENT_ADDR)
        stats = p.server.conns[0][0].stats()
        self.assertGreater(stats["datagrams_received"], 0)
        self.assertGreater(stats["bytes_sent"], 0)
        self.assertGreaterEqual(stats["path_mtu"], 1200)
        self.assertEqual(stats["packets_lost"], 0)

    def test_post_echo(self):
        p = self.pair
        body = os.urandom(300_000)
        sid = p.client.request(b"POST", b"/echo", body)
        p.run_until(p.client.done)
        r = p.client.responses[sid]
        self.assertEqual(r.status, b"200")
        self.assertEqual(bytes(r.body), body)

    def test_many_requests(self):
        p = self.pair
        sids = {p.client.request(b"GET", b"/%d" % (i * 7)): i * 7 for i in range(100)}
        p.run_until(p.client.done)
        for sid, n in sids.items():
            self.assertEqual(bytes(p.client.responses[sid].body), body_of(n))
        missing = p.client.request(b"GET", b"/nothing-here")
        p.run_until(p.client.done)
        self.assertEqual(p.client.responses[missing].status, b"404")

    def test_errors_carry_result_name_and_last_error(self):
        p = self.pair
        sid = p.client.quic.get_next_available_stream_id()
        with self.assertRaises(h3q.H3QError) as cm:
            p.client.h3.send_data(sid, b"body before headers")
        e = cm.exception
        self.assertEqual(e.code, h3q.H3Q_ERR_FRAME_UNEXPECTED)
        self.assertTrue(e.name.startswith("H3Q_ERR_FRAME_UNEXPECTED"), e.name)
        self.assertTrue(e.detail, "no last error message")
        self.assertEqual(p.client.h3.last_error(), e.detail)
        # The connection is unharmed: the request still works afterwards.
        sid = p.client.request(b"GET", b"/10")
        p.run_until(p.client.done)
        self.assertEqual(bytes(p.client.responses[sid].body), body_of(10))

        with h3q.Config(is_server=True) as cfg:
            with self.assertRaises(h3q.H3QError) as cm:
                cfg.load_certificate_chain("/nonexistent/cert.pem", "/nonexistent/key.pem")
            self.assertEqual(cm.exception.code, h3q.H3Q_ERR_TLS)
            self.assertIn("nonexistent", cm.exception.detail or "")
            with self.assertRaises(h3q.H3QError) as cm:
                cfg.set_alpn([])
            self.assertEqual(cm.exception.code, h3q.H3Q_ERR_INVALID_ARGUMENT)

        with h3q.Config(is_server=False) as cfg:
            with self.assertRaises(h3q.H3QError) as cm:
                h3q.Endpoint(cfg)  # verification on, but no CA roots
            self.assertEqual(cm.exception.code, h3q.H3Q_ERR_TLS)
            self.assertIn("CA", cm.exception.detail)
        with h3q.Config(is_server=False) as cfg:
            cfg.set_verify_peer(False)
            ep = h3q.Endpoint(cfg)
        with ep:
            with self.assertRaises(h3q.H3QError) as cm:
                ep.connect(p.now, SERVER_ADDR, "")
            self.assertEqual(cm.exception.code, h3q.H3Q_ERR_INVALID_ARGUMENT)
        self.assertTrue(ep.closed)
        with self.assertRaises(h3q.H3QError) as cm:
            ep.next_timeout()
        self.assertEqual(cm.exception.code, h3q.H3Q_ERR_NULL)

    def test_callback_exception_is_reraised(self):
        p = self.pair
        p.client.request(b"GET", b"/5")
        seen = []

        def boom(ev):
            seen.append(ev)
            raise RuntimeError("from the callback")

        with self.assertRaises(RuntimeError):
            for _ in range(10_000):
                p.pump()
                p.server.accept_all()
                p.server.process()
                while (event := p.client.quic.next_event()) is not None:
                    p.client.h3.handle_event(event, boom)
                if not p.pump():
                    p.now += 1_000_000
                    p.client_ep.handle_timeout(p.now)
                    p.server_ep.handle_timeout(p.now)
        self.assertTrue(seen)

    def test_graceful_close(self):
        p = self.pair
        sid = p.client.request(b"GET", b"/1")
        p.run_until(p.client.done)
        self.assertEqual(p.client.responses[sid].status, b"200")
        p.client.quic.close_connection(h3q.H3_NO_ERROR, b"bye")
        p.run_until(lambda: p.client.terminated is not None and p.server.terminated == 1)
        server_quic = p.server.conns[0][0]
        self.assertTrue(server_quic.is_closed)
        p.run_until(lambda: p.client.quic.is_drained and server_quic.is_drained)
        with self.assertRaises(h3q.H3QError) as cm:
            p.client.h3.send_headers(8, [(b":method", b"GET")])
        # h3q reports H3Q_ERR_TRANSPORT ("connection closed") here, not
        # H3Q_ERR_CONNECTION_CLOSED: the HTTP/3 layer learns of the close only through its
        # QUIC transport's refusal. Both codes are documented for h3q_conn_send_headers.
        self.assertIn(cm.exception.code, (h3q.H3Q_ERR_CONNECTION_CLOSED, h3q.H3Q_ERR_TRANSPORT))
        self.assertIn("closed", cm.exception.detail)
        with self.assertRaises(h3q.H3QError) as cm:
            p.client.quic.get_next_available_stream_id()
        self.assertEqual(cm.exception.code, h3q.H3Q_ERR_CONNECTION_CLOSED)

    def test_next_ready_names_every_connection_with_events(self):
        p = self.pair
        # A second client on the same server endpoint: the server's process() finds both
        # through next_ready(), and no connection is left holding events it did not name.
        with h3q.Config(is_server=False) as ccfg:
            ccfg.set_verify_peer(False)
            other_ep = h3q.Endpoint(ccfg)
        other = TestClient(other_ep.connect(p.now, SERVER_ADDR, "localhost"))
        other_addr = ("10.0.0.3", 40000)
        try:
            sids = [p.client.request(b"GET", b"/300"), other.request(b"GET", b"/400")]
            for _ in range(5_000):
                if p.client.done() and other.done():
                    break
                p.step()
                while (t := other_ep.poll_transmit(p.now)) is not None:
                    for d in segments(t):
                        p.server_ep.receive(p.now, other_addr, d)
                while (t := p.server_ep.poll_transmit(p.now)) is not None:
                    for d in segments(t):
                        (other_ep if t.address == other_addr else p.client_ep).receive(
                            p.now, SERVER_ADDR, d)
                p.server.accept_all()
                p.server.process()
                other.process()
                for quic, _ in p.server.conns:
                    self.assertIsNone(quic.next_event(), "an event next_ready did not name")
            self.assertEqual(bytes(p.client.responses[sids[0]].body), body_of(300))
            self.assertEqual(bytes(other.responses[sids[1]].body), body_of(400))
            self.assertEqual(len(p.server.conns), 2)
            self.assertIsNone(p.server_ep.next_ready())
        finally:
            other.close()
            other_ep.close()

    def test_graceful_shutdown_completes_accepted_requests(self):
        p = self.pair
        p.server.held = []
        first = [p.client.request(b"GET", b"/200000") for _ in range(3)]
        # The server starts its shutdown once it has all three requests, unanswered.
        p.run_until(lambda: len(p.server.held) == 3)
        server_quic, server_h3 = p.server.conns[0]
        self.assertEqual(server_h3.active_requests(), 3)
        server_h3.shutdown_notice()
        p.run_until(lambda: p.client.lifecycle_of(h3q.GoawayReceived))
        server_h3.shutdown()
        p.run_until(lambda: len(p.client.lifecycle_of(h3q.GoawayReceived)) == 2)
        goaways = p.client.lifecycle_of(h3q.GoawayReceived)
        self.assertGreater(goaways[0].stream_id, goaways[1].stream_id)
        self.assertEqual(goaways[1].stream_id, max(first) + 4)
        with self.assertRaises(h3q.H3QError) as cm:
            p.client.request(b"GET", b"/1")
        self.assertEqual(cm.exception.code, h3q.H3Q_ERR_GOING_AWAY)
        # What was accepted completes.
        p.server.release()
        p.run_until(lambda: all(p.client.responses[s].ended for s in first))
        for sid in first:
            self.assertEqual(bytes(p.client.responses[sid].body), body_of(200000))
        p.run_until(lambda: server_h3.active_requests() == 0)
        self.assertIsNone(server_h3.close_code())
        server_quic.close_connection(h3q.H3_NO_ERROR, b"shutdown")
        p.run_until(lambda: p.client.lifecycle_of(h3q.ConnectionClosed))
        (closed,) = p.client.lifecycle_of(h3q.ConnectionClosed)
        self.assertEqual(closed.error_code, h3q.H3_NO_ERROR)
        self.assertEqual(closed.error_space, h3q.ERROR_SPACE_APPLICATION)
        self.assertTrue(closed.closed_by_peer)
        self.assertEqual(closed.reason, b"shutdown")
        self.assertEqual(p.client.h3.close_code(),
                         (h3q.H3_NO_ERROR, h3q.ERROR_SPACE_APPLICATION))
        self.assertEqual(p.client.terminated.error_space, h3q.ERROR_SPACE_APPLICATION)
        self.assertTrue(p.client.terminated.closed_by_peer)

    def test_stream_reset_and_stop_sending_are_reported_once(self):
        p = self.pair
        # An upload the client abandons: the server sees one StreamReset with the code.
        upload = p.client.quic.get_next_available_stream_id()
        p.client.h3.send_headers(upload, [(b":method", b"POST"), (b":scheme", b"https"),
                                          (b":authority", b"localhost"),
                                          (b":path", b"/echo")])
        p.client.h3.send_data(upload, b"x" * 50_000)
        p.client.responses[upload] = Response()
        p.run_until(lambda: (0, upload) in p.server.requests
                    and len(p.server.requests[(0, upload)][1]) == 50_000)
        p.client.h3.reset_stream(upload, h3q.H3_REQUEST_CANCELLED)
        p.run_until(lambda: p.server.lifecycle)
        p.settle()
        resets = [ev for _, ev in p.server.lifecycle if isinstance(ev, h3q.StreamReset)]
        self.assertEqual([(ev.stream_id, ev.error_code) for ev in resets],
                         [(upload, h3q.H3_REQUEST_CANCELLED)])
        with self.assertRaises(h3q.H3QError) as cm:
            p.client.h3.reset_stream(upload, h3q.H3_REQUEST_CANCELLED)
        self.assertEqual(cm.exception.code, h3q.H3Q_ERR_FRAME_UNEXPECTED)
        del p.client.responses[upload]

        # A download the client stops while the server is still producing it: the server
        # sees one StopSending with the code, and its next send on the stream is refused.
        p.server.held = []
        download = p.client.request(b"GET", b"/2000000")
        p.run_until(lambda: p.server.held)
        server_h3 = p.server.held[0][0]
        server_h3.send_headers(download, [(b":status", b"200")])
        server_h3.send_data(download, body_of(20000))
        p.run_until(lambda: len(p.client.responses[download].body) == 20000)
        p.client.h3.stop_sending(download, 0x1234)
        p.run_until(lambda: any(isinstance(ev, h3q.StopSending) for _, ev in p.server.lifecycle))
        p.settle()
        stops = [ev for _, ev in p.server.lifecycle if isinstance(ev, h3q.StopSending)]
        self.assertEqual([(ev.stream_id, ev.error_code) for ev in stops], [(download, 0x1234)])
        with self.assertRaises(h3q.H3QError) as cm:
            server_h3.send_data(download, b"more")
        self.assertEqual(cm.exception.code, h3q.H3Q_ERR_FRAME_UNEXPECTED)
        # The abandoned upload still counts until the server ends its response side too.
        self.assertEqual(server_h3.active_requests(), 1)
        server_h3.reset_stream(upload, h3q.H3_REQUEST_CANCELLED)
        self.assertEqual(server_h3.active_requests(), 0)

        with self.assertRaises(h3q.H3QError) as cm:
            p.client.h3.reset_stream(2, h3q.H3_REQUEST_CANCELLED)  # a control stream id
        self.assertEqual(cm.exception.code, h3q.H3Q_ERR_INVALID_STREAM_TYPE)
        with self.assertRaises(h3q.H3QError) as cm:
            p.client.h3.stop_sending(0, 1 << 62)
        self.assertEqual(cm.exception.code, h3q.H3Q_ERR_INVALID_ARGUMENT)

    def test_origin_push_cancel_and_error_names(self):
        p = self.pair
        p.run_until(lambda: p.server.conns and p.client.quic.is_established)
        server_h3 = p.server.conns[0][1]
        server_h3.send_origin(["https://example.com", "https://a.example.com:8443"])
        p.run_until(lambda: p.client.lifecycle_of(h3q.OriginReceived))
        (origin,) = p.client.lifecycle_of(h3q.OriginReceived)
        self.assertEqual(origin.origins, ["https://example.com", "https://a.example.com:8443"])
        with self.assertRaises(h3q.H3QError) as cm:
            p.client.h3.send_origin(["https://example.com"])
        self.assertEqual(cm.exception.code, h3q.H3Q_ERR_WRONG_ROLE)
        with self.assertRaises(h3q.H3QError) as cm:
            server_h3.cancel_push(7)  # never promised
        self.assertEqual(cm.exception.code, h3q.H3Q_ERR_INVALID_ARGUMENT)
        self.assertEqual(h3q.h3_error_name(h3q.H3_REQUEST_CANCELLED), "H3_REQUEST_CANCELLED")
        self.assertIsNone(h3q.h3_error_name(0x21))  # a reserved (GREASE) code
        self.assertTrue(h3q.Settings().enable_grease)
        self.assertFalse(h3q.Settings(enable_grease=False).enable_grease)

    def test_priorities(self):
        p = self.pair
        self.assertEqual(h3q.Priority.parse(b"u=1, i"), h3q.Priority(1, True))
        self.assertEqual(h3q.Priority.parse(b"u=9"), h3q.Priority())
        p.server.held = []
        sid = p.client.quic.get_next_available_stream_id()
        p.client.h3.send_headers(sid, [(b":method", b"GET"), (b":scheme", b"https"),
                                       (b":authority", b"localhost"), (b":path", b"/10"),
                                       (b"priority", b"u=5")], end_stream=True)
        p.client.responses[sid] = Response()
        p.run_until(lambda: p.server.held)
        server_h3 = p.server.held[0][0]
        self.assertEqual(server_h3.priority(sid), h3q.Priority(5, False))
        p.client.h3.send_priority_update(sid, h3q.Priority(0, True))
        p.run_until(lambda: any(isinstance(ev, h3q.PriorityUpdate)
                                for _, ev in p.server.lifecycle))
        (update,) = [ev for _, ev in p.server.lifecycle if isinstance(ev, h3q.PriorityUpdate)]
        self.assertEqual((update.stream_id, update.priority), (sid, h3q.Priority(0, True)))
        self.assertEqual(server_h3.priority(sid), h3q.Priority(0, True))
        server_h3.set_priority(sid, h3q.Priority(7, False))
        with self.assertRaises(h3q.H3QError) as cm:
            server_h3.send_priority_update(sid, h3q.Priority(1, False))
        self.assertEqual(cm.exception.code, h3q.H3Q_ERR_WRONG_ROLE)
        with self.assertRaises(h3q.H3QError) as cm:
            server_h3.set_priority(sid, h3q.Priority(8, False))
        self.assertEqual(cm.exception.code, h3q.H3Q_ERR_INVALID_ARGUMENT)
        p.server.release()
        p.run_until(p.client.done)
        server_quic = p.server.conns[0][0]
        p.run_until(lambda: server_quic.unacknowledged_streams() == 0)
        self.assertIsNone(server_h3.priority(sid))

    def test_handles_free_in_any_order(self):
        p = self.pair
        p.run_until(lambda: p.client.quic.is_established)
        # Endpoint first, then the connections: the connection handles stay usable.
        p.client_ep.close()
        self.assertFalse(p.client.quic.closed)
        p.client.quic.is_closed  # must not crash
        p.client.quic.close()
        p.client.h3.close()
        p.client.h3.close()  # twice is harmless

    def test_settings_object(self):
        s = h3q.Settings(qpack_max_table_capacity=0, max_push_id=0)
        self.assertEqual(s.qpack_max_table_capacity, 0)
        self.assertEqual(s.qpack_blocked_streams, 16)
        with self.assertRaises(AttributeError):
            s.no_such_field = 1
        with h3q.Config(is_server=True) as scfg, h3q.Config(is_server=False) as ccfg:
            scfg.generate_self_signed("localhost")
            ccfg.set_verify_peer(False)
            ccfg.set_stream_receive_window(6 << 20)
            scfg.set_send_window(4 << 20)
            with self.assertRaises(h3q.H3QError) as cm:
                ccfg.set_stream_receive_window(100)
            self.assertEqual(cm.exception.code, h3q.H3Q_ERR_INVALID_ARGUMENT)
            scfg.set_loss_detection(3, 1.125)
            scfg.set_congestion_control("bbr")
            scfg.set_initial_window(64 << 10)
            with self.assertRaises(ValueError):
                scfg.set_congestion_control("reno")
            with self.assertRaises(h3q.H3QError) as cm:
                scfg.set_initial_window(100)
            self.assertEqual(cm.exception.code, h3q.H3Q_ERR_INVALID_ARGUMENT)
            for packets, time in ((2, 2.0), (0, 0.5), (0, float("nan"))):
                with self.assertRaises(h3q.H3QError) as cm:
                    scfg.set_loss_detection(packets, time)
                self.assertEqual(cm.exception.code, h3q.H3Q_ERR_INVALID_ARGUMENT)
                self.assertIn("threshold", str(cm.exception))
            with h3q.Endpoint(ccfg) as ep, ep.connect(1, SERVER_ADDR, "localhost") as quic:
                with h3q.H3Connection(quic, s) as h3:
                    self.assertEqual(h3.sent_setting(SETTINGS_QPACK_MAX_TABLE_CAPACITY), 0)
                    self.assertIsNone(h3.received_setting(SETTINGS_QPACK_MAX_TABLE_CAPACITY))


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
        client = TestClient(quic)
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


def run_server(argv):
    """Starts a server that prints "listening on HOST:PORT" first; returns (proc, port)."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
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
    """unittest.skipUnless for a test that needs a peer; `what` says how to get it."""
    return unittest.skipUnless(available, MISSING_PEER + what)


def pip_hint(module):
    return (f"{module} is not importable by {sys.executable} "
            f"({sys.executable} -m pip install {module})")


class UdpServerThread(threading.Thread):
    """TestServer (GET /<n> -> body_of(n), POST /echo -> the body, answered only once the
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
        self.server = TestServer(self.endpoint)
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
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                              "interop", "aioquic_server.py")
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


def main():
    """unittest's main, then exit 77 instead of 0 when a test was skipped for a missing
    peer (CTest reports the test as skipped, not passed)."""
    result = unittest.main(exit=False).result
    if not result.wasSuccessful():
        return 1
    missing = []
    for _, reason in result.skipped:
        if reason.startswith(MISSING_PEER) and reason[len(MISSING_PEER):] not in missing:
            missing.append(reason[len(MISSING_PEER):])
    if missing:
        print("SKIPPED: " + "; ".join(missing), flush=True)
        return SKIP_EXIT
    return 0


if __name__ == "__main__":
    sys.exit(main())
