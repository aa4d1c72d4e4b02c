"""Resumption, 0-RTT, Retry, client certificates, ECN and rebinding, on the sans-I/O API:
an h3q client and server in this process joined in memory (support.Pair), like the C and
Rust tests of the same calls."""

import tempfile
import unittest

import pytest

import h3q
from h3q.quic_events import EarlyDataRejected, HandshakeCompleted
from support import SERVER_ADDR, Pair, body_of, make_client_pki, pem_to_der


def enable_0rtt(config):
    config.set_enable_0rtt(True)


def first_byte_of_server_datagrams(pair):
    """Records the first byte of every datagram the server sends (its packet type)."""
    seen = []

    def record(t):
        if t.address != SERVER_ADDR and t.address == pair.client_addr:
            seen.append(t.data[0])

    pair.on_transmit = record
    return seen


class ResumptionTests(unittest.TestCase):
    def fetch(self, pair, path=b"/1000"):
        sid = pair.client.request(b"GET", path)
        pair.run_until(pair.client.done)
        return sid

    def test_resumed_connection_sends_0rtt_and_the_server_sees_it_early(self):
        p = Pair(server_setup=enable_0rtt)
        self.addCleanup(p.close)
        first = p.client
        self.fetch(p)
        self.assertEqual(first.quic.early_data, h3q.EarlyData.NOT_OFFERED)
        self.assertFalse(first.quic.is_0rtt)
        ticket = first.quic.session_ticket()
        self.assertIsInstance(ticket, bytes)
        self.assertTrue(0 < len(ticket) <= h3q.MAX_SESSION_TICKET)

        handshakes = []
        second = p.reconnect(session_ticket=ticket)
        second.on_quic_event = lambda ev: handshakes.append(ev) if isinstance(
            ev, HandshakeCompleted) else None
        self.assertEqual(second.quic.early_data, h3q.EarlyData.PENDING)
        self.assertTrue(second.quic.is_0rtt)
        # Sent before a single datagram moved: it goes as 0-RTT.
        sid = second.request(b"GET", b"/5000")
        p.run_until(second.done)
        self.assertEqual(bytes(second.responses[sid].body), body_of(5000))
        self.assertEqual(second.quic.early_data, h3q.EarlyData.ACCEPTED)
        self.assertFalse(second.quic.is_0rtt)
        (handshake,) = handshakes
        self.assertTrue(handshake.early_data_accepted)
        self.assertTrue(handshake.session_resumed)

        self.assertEqual(len(p.server.conns), 2)
        first_server, second_server = p.server.conns[0][0], p.server.conns[1][0]
        self.assertFalse(first_server.stream_is_early(0))
        self.assertTrue(second_server.stream_is_early(sid))
        self.assertFalse(second_server.stream_is_early(sid + 4))
        self.assertFalse(second.quic.stream_is_early(sid))  # a client connection: False
        # Servers have no tickets to give; the used ticket is gone from the first
        # connection, and the resumed connection got one of its own.
        self.assertIsNone(second_server.session_ticket())
        self.assertEqual(second_server.early_data, h3q.EarlyData.NOT_OFFERED)
        self.assertIsNone(first.quic.session_ticket())
        self.assertIsNotNone(second.quic.session_ticket())

        # The same ticket again: no longer resumable, a full handshake that works.
        third = p.reconnect(session_ticket=ticket)
        self.assertEqual(third.quic.early_data, h3q.EarlyData.NOT_OFFERED)
        sid = third.request(b"GET", b"/7")
        p.run_until(third.done)
        self.assertEqual(bytes(third.responses[sid].body), body_of(7))
        self.assertFalse(p.server.conns[2][0].stream_is_early(sid))

    def test_rejected_0rtt_resets_the_request_and_sending_it_again_works(self):
        p = Pair(server_setup=enable_0rtt)
        self.addCleanup(p.close)
        self.fetch(p)
        ticket = p.client.quic.session_ticket()
        self.assertIsNotNone(ticket)
        # A restarted server (same certificate, same Config) has lost its sessions.
        p.restart_server()
        client = p.reconnect(session_ticket=ticket)
        quic_events = []
        client.on_quic_event = quic_events.append
        self.assertTrue(client.quic.is_0rtt)
        sid = client.request(b"GET", b"/300")
        p.run_until(lambda: client.lifecycle_of(h3q.StreamReset))
        (reset,) = client.lifecycle_of(h3q.StreamReset)
        self.assertEqual((reset.stream_id, reset.error_code), (sid, h3q.H3_REQUEST_REJECTED))
        self.assertEqual(client.quic.early_data, h3q.EarlyData.REJECTED)
        kinds = [type(ev) for ev in quic_events]
        self.assertIn(EarlyDataRejected, kinds)
        self.assertLess(kinds.index(EarlyDataRejected), kinds.index(HandshakeCompleted))
        self.assertIsInstance(quic_events[kinds.index(EarlyDataRejected)], h3q.QuicEvent)
        handshake = quic_events[kinds.index(HandshakeCompleted)]
        self.assertFalse(handshake.early_data_accepted)

        # Send it again: stream ids start over at 0; answered once, not as early data.
        del client.responses[sid]
        again = client.request(b"GET", b"/300")
        self.assertEqual(again, 0)
        p.run_until(client.done)
        self.assertEqual(bytes(client.responses[again].body), body_of(300))
        (server_quic, _), = p.server.conns
        self.assertFalse(server_quic.stream_is_early(again))

    def test_0rtt_off_on_the_server_resumes_without_early_data(self):
        p = Pair()  # servers default to 0-RTT off
        self.addCleanup(p.close)
        self.fetch(p)
        ticket = p.client.quic.session_ticket()
        client = p.reconnect(session_ticket=ticket)
        sid = client.request(b"GET", b"/10")
        p.run_until(client.done)
        self.assertEqual(bytes(client.responses[sid].body), body_of(10))
        self.assertNotEqual(client.quic.early_data, h3q.EarlyData.ACCEPTED)
        self.assertFalse(p.server.conns[1][0].stream_is_early(sid))

    def test_bad_tickets_are_refused(self):
        p = Pair(server_setup=enable_0rtt)
        self.addCleanup(p.close)
        self.fetch(p)
        ticket = p.client.quic.session_ticket()
        for junk in (b"", b"junk", b"\x00" * 100, b"\xff" * (h3q.MAX_SESSION_TICKET + 1),
                     ticket[:-1]):
            with self.assertRaises(h3q.InvalidArgumentError) as cm:
                p.client_ep.connect(p.now, SERVER_ADDR, "localhost", session_ticket=junk)
            self.assertEqual(cm.exception.code, h3q.H3Q_ERR_INVALID_ARGUMENT)
            self.assertTrue(cm.exception.detail)
        with self.assertRaises(h3q.InvalidArgumentError):
            p.client_ep.connect(p.now, SERVER_ADDR, "other.example", session_ticket=ticket)
        with self.assertRaises(h3q.WrongRoleError):
            p.server_ep.connect(p.now, ("10.0.0.1", 1), "localhost", session_ticket=ticket)
        # The ticket is still good after those refusals.
        client = p.reconnect(session_ticket=ticket)
        sid = client.request(b"GET", b"/3")
        p.run_until(client.done)
        self.assertEqual(client.quic.early_data, h3q.EarlyData.ACCEPTED)
        self.assertEqual(bytes(client.responses[sid].body), body_of(3))


class RetryTests(unittest.TestCase):
    RETRY = 0xF0  # long header, fixed bit, type Retry (QUIC v1)

    def handshake(self, server_setup):
        p = Pair(server_setup=server_setup)
        self.addCleanup(p.close)
        seen = first_byte_of_server_datagrams(p)
        sid = p.client.request(b"GET", b"/2000")
        p.run_until(p.client.done)
        self.assertEqual(bytes(p.client.responses[sid].body), body_of(2000))
        return seen

    def test_retry_always(self):
        seen = self.handshake(lambda c: c.set_retry(True))
        self.assertEqual(seen[0] & 0xF0, self.RETRY, [hex(b) for b in seen[:3]])

    def test_no_retry_by_default_nor_below_the_rate(self):
        for setup in (None, lambda c: c.set_retry_above_rate(1000)):
            seen = self.handshake(setup)
            self.assertNotEqual(seen[0] & 0xF0, self.RETRY)

    def test_bad_retry_rates(self):
        with h3q.Config(is_server=True) as config:
            for bad in (0, -1, 2**32, "10"):
                with self.assertRaises(ValueError):
                    config.set_retry_above_rate(bad)
            config.set_retry(False)


class ClientCertificateTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="h3q-client-pki-")
        paths = make_client_pki(cls.tmp.name)
        with open(paths["ca"], "rb") as f:
            cls.ca_pem = f.read()
        with open(paths["cert"], "rb") as f:
            cls.cert_pem = f.read()
        with open(paths["key"], "rb") as f:
            cls.key_pem = f.read()
        cls.paths = paths

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def pair(self, mode, with_certificate):
        def server_setup(config):
            config.set_client_auth(mode, self.ca_pem)

        def client_setup(config):
            if with_certificate:
                config.load_certificate_chain(self.paths["cert"], self.paths["key"])

        p = Pair(server_setup=server_setup, client_setup=client_setup)
        self.addCleanup(p.close)
        return p

    def test_required_certificate_is_presented_and_read_on_both_sides(self):
        p = self.pair(h3q.ClientAuth.REQUIRE, True)
        sid = p.client.request(b"GET", b"/100")
        p.run_until(p.client.done)
        self.assertEqual(bytes(p.client.responses[sid].body), body_of(100))
        server_quic = p.server.conns[0][0]
        self.assertEqual(server_quic.peer_certificates(), [pem_to_der(self.cert_pem)])
        server_chain = p.client.quic.peer_certificates()
        self.assertEqual(server_chain[0], pem_to_der(p.server_config.certificate_chain_pem()))

    def test_required_certificate_missing_fails_the_handshake(self):
        p = self.pair("require", False)
        p.client.request(b"GET", b"/100")
        p.run_until(lambda: p.client.terminated is not None)
        terminated = p.client.terminated
        self.assertEqual(terminated.error_space, h3q.ERROR_SPACE_TRANSPORT)
        self.assertTrue(0x100 <= terminated.error_code <= 0x1FF, hex(terminated.error_code))
        self.assertFalse(p.client.responses[0].ended)
        self.assertFalse(p.client.quic.is_established)

    def test_requested_certificate_is_optional(self):
        for with_certificate in (False, True):
            p = self.pair(h3q.ClientAuth.REQUEST, with_certificate)
            sid = p.client.request(b"GET", b"/10")
            p.run_until(p.client.done)
            self.assertEqual(p.client.responses[sid].status, b"200")
            chain = p.server.conns[0][0].peer_certificates()
            self.assertEqual(chain, [pem_to_der(self.cert_pem)] if with_certificate else [])

    def test_no_client_auth_by_default_and_peer_certificates_before_handshake(self):
        p = Pair(connect=False)
        self.addCleanup(p.close)
        client = p.reconnect()
        self.assertEqual(client.quic.peer_certificates(), [])
        p.run_until(lambda: client.quic.is_established and p.server.conns)
        self.assertEqual(p.server.conns[0][0].peer_certificates(), [])
        self.assertEqual(len(client.quic.peer_certificates()), 1)

    def test_bad_client_auth_arguments(self):
        with h3q.Config(is_server=True) as config:
            with self.assertRaises(h3q.TlsError):
                config.set_client_auth(h3q.ClientAuth.REQUIRE, b"not a certificate")
            with self.assertRaises(h3q.InvalidArgumentError):
                config.set_client_auth(7, self.ca_pem)
            with self.assertRaises(ValueError):
                config.set_client_auth("sometimes", self.ca_pem)
            with self.assertRaises(ValueError):
                config.set_client_auth(-1, self.ca_pem)
            config.set_client_auth(h3q.ClientAuth.OFF)
        with h3q.Config(is_server=False) as config:
            with self.assertRaises(h3q.InvalidArgumentError):
                config.set_client_auth(h3q.ClientAuth.REQUIRE, self.ca_pem)


class EcnAndRebindTests(unittest.TestCase):
    def setUp(self):
        self.pair = Pair()
        self.addCleanup(self.pair.close)

    def test_transmits_carry_ect0_once_ecn_validates(self):
        p = self.pair
        marks = []
        p.on_transmit = lambda t: marks.append(t.ecn)
        sid = p.client.request(b"GET", b"/200000")
        p.run_until(p.client.done)
        self.assertEqual(bytes(p.client.responses[sid].body), body_of(200000))
        self.assertTrue(set(marks) <= {h3q.ECN_NOT_ECT, h3q.ECN_ECT0}, set(marks))
        self.assertIn(h3q.ECN_ECT0, marks)
        self.assertEqual(p.server.conns[0][0].stats()["packets_lost"], 0)

    def test_congestion_marks_are_taken(self):
        p = self.pair
        p.run_until(lambda: p.client.quic.is_established and p.server.conns)
        # Every codepoint is accepted, CE included (a congestion signal, not an error).
        for ecn in (h3q.ECN_NOT_ECT, h3q.ECN_ECT1, h3q.ECN_ECT0, h3q.ECN_CE):
            p.client_ep.receive(p.now, SERVER_ADDR, b"\x40" + b"\x00" * 30, ecn=ecn)
        sid = p.client.request(b"GET", b"/10")
        p.run_until(p.client.done)
        self.assertEqual(p.client.responses[sid].status, b"200")

    def test_bad_ecn_values(self):
        ep = self.pair.client_ep
        with self.assertRaises(h3q.InvalidArgumentError) as cm:
            ep.receive(self.pair.now, SERVER_ADDR, b"\x40" * 40, ecn=4)
        self.assertEqual(cm.exception.code, h3q.H3Q_ERR_INVALID_ARGUMENT)
        for bad in (-1, 256, "2"):
            with self.assertRaises(ValueError):
                ep.receive(self.pair.now, SERVER_ADDR, b"\x40" * 40, ecn=bad)
        with self.assertRaises(ValueError):
            ep.receive(self.pair.now, SERVER_ADDR, b"\x40" * 40, segment_size=-1)

    def test_rebind_keeps_the_connection_and_its_request(self):
        p = self.pair
        sid = p.client.request(b"GET", b"/1")
        p.run_until(p.client.done)
        sid = p.client.request(b"GET", b"/1000000")
        p.run_until(lambda: len(p.client.responses[sid].body) > 100_000)
        # The client moves to another address and port; tell its endpoint.
        p.client_addr = ("10.0.0.3", 50000)
        p.client_ep.rebind(p.now)
        p.run_until(p.client.done)
        self.assertEqual(bytes(p.client.responses[sid].body), body_of(1_000_000))
        (server_quic, _), = p.server.conns
        self.assertEqual(server_quic.remote_address(), p.client_addr)
        self.assertIsNone(p.client.terminated)


class ClosedHandleTests(unittest.TestCase):
    def test_new_calls_on_closed_handles_raise(self):
        p = Pair()
        quic = p.client.quic
        p.close()
        for call in (quic.session_ticket, quic.peer_certificates, lambda: quic.early_data,
                     lambda: quic.is_0rtt, lambda: quic.stream_is_early(0),
                     lambda: p.client_ep.rebind(0)):
            with self.assertRaises(h3q.HandleClosedError):
                call()


if __name__ == "__main__":
    unittest.main()


def jumbo(config):
    config.set_mtu_discovery(True)
    config.set_max_udp_payload_size(8952)


class UdpPayloadTests(unittest.TestCase):
    def test_a_raised_ceiling_grows_datagrams_past_ethernet(self):
        # The in-memory network carries any size: discovery goes up to the ceiling.
        p = Pair(server_setup=jumbo, client_setup=jumbo)
        self.addCleanup(p.close)
        sizes = []
        p.on_transmit = lambda t: sizes.append(t.segment_size)
        sid = p.client.request(b"GET", b"/2000000")
        p.run_until(p.client.done)
        self.assertEqual(bytes(p.client.responses[sid].body), body_of(2000000))
        mtu = p.server.conns[0][0].stats()["path_mtu"]
        self.assertTrue(1452 < mtu <= 8952, mtu)
        self.assertGreater(max(sizes), 1500)
        self.assertLessEqual(max(sizes), 8952)

    def test_without_it_datagrams_keep_to_ethernet(self):
        p = Pair(server_setup=lambda c: c.set_mtu_discovery(True),
                 client_setup=lambda c: c.set_mtu_discovery(True))
        self.addCleanup(p.close)
        sizes = []
        p.on_transmit = lambda t: sizes.append(t.segment_size)
        p.client.request(b"GET", b"/500000")
        p.run_until(p.client.done)
        self.assertLessEqual(max(sizes), 1472)

    def test_bad_ceilings(self):
        with h3q.Config(is_server=True) as config:
            for bad in (1, 1199, 65528, -1, 1.5, "9000"):
                with self.assertRaises(ValueError):
                    config.set_max_udp_payload_size(bad)
            for good in (0, 1200, 8952, 65527):
                config.set_max_udp_payload_size(good)
        # A transmit buffer smaller than the ceiling is refused, with the size needed.
        with h3q.Config(is_server=False) as config:
            config.set_verify_peer(False)
            config.set_max_udp_payload_size(8952)
            with h3q.Endpoint(config, transmit_buffer=2000) as ep:
                ep.connect(1, ("127.0.0.1", 4433), "localhost")
                with self.assertRaises(h3q.H3QError) as cm:
                    ep.poll_transmit(1)
                self.assertEqual(cm.exception.code, h3q.H3Q_ERR_BUFFER_TOO_SMALL)
                self.assertIn("at least 8952", str(cm.exception))
            with h3q.Endpoint(config) as ep:
                ep.connect(1, ("127.0.0.1", 4433), "localhost")
                self.assertIsNotNone(ep.poll_transmit(1))


def test_server_ids_qlog_dirs_and_their_errors(tmp_path):
    """QUIC-LB server ids: the setter's checks and reading an id back from a packet; the
    qlog directory's checks."""
    cfg = h3q.Config(is_server=True)
    cfg.set_server_id(b"\x5e\x41\x7a", config_rotation=1)
    cfg.set_server_id(None)
    with pytest.raises(h3q.InvalidArgumentError, match="config rotation 7"):
        cfg.set_server_id(b"\x01", config_rotation=7)
    with pytest.raises(h3q.InvalidArgumentError, match="16 bytes"):
        cfg.set_server_id(bytes(16))
    packet = bytes([0x40, 0x2B, 0x5E, 0x41, 0x7A]) + bytes(range(1, 9)) + b"payload"
    assert h3q.cid_server_id(packet, 3) == (b"\x5e\x41\x7a", 1)
    with pytest.raises(h3q.InvalidArgumentError, match="is cut"):
        h3q.cid_server_id(packet[:5], 3)
    with pytest.raises(h3q.InvalidArgumentError, match="empty"):
        h3q.cid_server_id(b"", 3)
    cfg.set_qlog_dir(tmp_path)
    cfg.set_qlog_dir(None)
    with pytest.raises(h3q.H3QError, match="qlog dir"):
        cfg.set_qlog_dir(tmp_path / "missing")
    cfg.close()
