"""An h3q client and an h3q server in this one process, two Endpoints joined by a
simulated network (datagrams handed over in memory) and a simulated clock, like the C
tests: GET with a generated body, POST echoed back, many requests at once, error reporting,
graceful close and shutdown, resets, ORIGIN, priorities, handle lifetimes."""

import hashlib
import os
import unittest

import h3q
from support import (
    CLIENT_ADDR,
    SERVER_ADDR,
    SETTINGS_QPACK_MAX_TABLE_CAPACITY,
    Pair,
    Response,
    SimpleClient,
    body_of,
    header,
    segments,
)


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
        other = SimpleClient(other_ep.connect(p.now, SERVER_ADDR, "localhost"))
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
