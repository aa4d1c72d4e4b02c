"""The package's surface: what it exports, where its library comes from, the exception
classes each h3q_result maps to, and the aioquic-named QUIC events."""

import os
import re
import ssl

import pytest

import h3q
import h3q.errors
import h3q.quic_events
from support import SERVER_ADDR, Pair


def test_version_and_library():
    assert re.fullmatch(r"\d+\.\d+\.\d+", h3q.version())
    assert os.path.exists(h3q.library_path) or "/" not in h3q.library_path
    if os.environ.get("H3Q_TEST_INSTALLED") == "1":  # the wheel's own copy
        bundled = os.path.join(os.path.dirname(h3q.__file__), "libh3q.so")
        assert h3q.library_path == bundled
    assert os.path.isfile(os.path.join(os.path.dirname(h3q.__file__), "py.typed"))
    for name in h3q.__all__:
        assert hasattr(h3q, name), name


def test_error_classes_follow_the_result_code():
    cases = {
        h3q.H3Q_ERR_FRAME_UNEXPECTED: h3q.FrameUnexpected,
        h3q.H3Q_ERR_INVALID_STREAM_TYPE: h3q.InvalidStreamTypeError,
        h3q.H3Q_ERR_NO_AVAILABLE_PUSH_ID: h3q.NoAvailablePushIDError,
        h3q.H3Q_ERR_GOING_AWAY: h3q.GoingAwayError,
        h3q.H3Q_ERR_NULL: h3q.HandleClosedError,
        h3q.H3Q_ERR_PANIC: h3q.InternalError,
        h3q.H3Q_ERR_IO: h3q.H3QError,
    }
    for code, cls in cases.items():
        err = h3q.errors.error_for(code, "h3q_test_call", "the detail")
        assert type(err) is cls
        assert isinstance(err, h3q.H3QError) and isinstance(err, h3q.H3Error)
        assert (err.code, err.call, err.detail) == (code, "h3q_test_call", "the detail")
        assert str(err).startswith("h3q_test_call: " + err.name.split(":")[0])


def test_raised_errors_are_the_aioquic_named_classes():
    p = Pair()
    try:
        sid = p.client.quic.get_next_available_stream_id()
        with pytest.raises(h3q.FrameUnexpected) as info:
            p.client.h3.send_data(sid, b"body before headers")
        assert info.value.code == h3q.H3Q_ERR_FRAME_UNEXPECTED
        with pytest.raises(h3q.InvalidStreamTypeError):
            p.client.h3.reset_stream(2, h3q.H3_REQUEST_CANCELLED)
        p.run_until(lambda: p.server.conns and p.client.quic.is_established)
        server_h3 = p.server.conns[0][1]
        with pytest.raises(h3q.NoAvailablePushIDError):
            # The client's default settings allow no push (max_push_id 0 sends none).
            server_h3.send_push_promise(0, [(b":method", b"GET"), (b":path", b"/p")])
        with pytest.raises(h3q.WrongRoleError):
            p.client.h3.send_origin(["https://example.com"])
    finally:
        p.close()
    with pytest.raises(h3q.HandleClosedError):
        p.client.h3.send_data(0, b"")
    with h3q.Config(is_server=True) as cfg, pytest.raises(h3q.InvalidArgumentError):
        cfg.set_alpn([])


def test_quic_events_have_aioquic_names():
    p = Pair()
    try:
        seen = []
        p.client.on_quic_event = seen.append
        sid = p.client.request(b"GET", b"/10")
        p.run_until(p.client.done)
        p.client.quic.close_connection(h3q.H3_NO_ERROR, b"bye")
        p.run_until(lambda: p.client.terminated is not None)
    finally:
        p.close()
    handshake = [e for e in seen if isinstance(e, h3q.quic_events.HandshakeCompleted)]
    assert len(handshake) == 1 and handshake[0].alpn_protocol == "h3"
    assert handshake[0].type == h3q.QUIC_HANDSHAKE_COMPLETED
    data = [e for e in seen if isinstance(e, h3q.quic_events.StreamDataReceived)]
    assert any(e.stream_id == sid and e.end_stream for e in data)
    (end,) = [e for e in seen if isinstance(e, h3q.quic_events.ConnectionTerminated)]
    assert (end.error_code, end.reason_phrase, end.closed_by_peer) == (
        h3q.H3_NO_ERROR, "bye", False)
    # Built by keyword as in aioquic, they are what H3Connection.handle_event takes.
    made = h3q.quic_events.StreamDataReceived(stream_id=3, data=b"x", end_stream=False)
    assert made.type == h3q.QUIC_STREAM_DATA_RECEIVED and isinstance(made, h3q.QuicEvent)


def test_quic_configuration_maps_to_config(tmp_path):
    server = h3q.QuicConfiguration(is_client=False)
    server.use_self_signed("localhost")
    with server.to_config() as cfg:
        pem = cfg.certificate_chain_pem()
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----")
    client = h3q.QuicConfiguration(is_client=True, congestion_control_algorithm="reno")
    client.load_verify_locations(cadata=pem)
    with client.to_config() as cfg, h3q.Endpoint(cfg) as ep:
        ep.connect(1, SERVER_ADDR, "localhost").close()
    with pytest.raises(ValueError, match="congestion_control_algorithm"):
        h3q.QuicConfiguration(congestion_control_algorithm="vegas").to_config()
    with pytest.raises(ValueError, match="password"):
        server.load_cert_chain(str(tmp_path / "c.pem"), password=b"secret")
    with pytest.raises(ValueError, match="capath"):
        client.load_verify_locations(capath=str(tmp_path))
    with pytest.raises(FileNotFoundError):
        server.load_cert_chain(str(tmp_path / "missing.pem"))
    (tmp_path / "bad.pem").write_bytes(b"not a certificate")
    bad = h3q.QuicConfiguration(is_client=False)
    bad.load_cert_chain(str(tmp_path / "bad.pem"))
    with pytest.raises(h3q.TlsError):
        bad.to_config()
    insecure = h3q.QuicConfiguration(is_client=True, verify_mode=ssl.CERT_NONE)
    with insecure.to_config() as cfg, h3q.Endpoint(cfg):
        pass
