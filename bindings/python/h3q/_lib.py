"""Loading libh3q and declaring the C functions this package calls.

Where the library comes from, first match wins:

1. the path in the environment variable H3Q_LIBRARY (only that one: a wrong path is an
   ImportError naming it, never a silent fallback);
2. libh3q.so inside this package (a wheel built by `pip install bindings/python` bundles
   it there);
3. the system loader: "libh3q.so.0.1", "libh3q.so", then ctypes.util.find_library("h3q").

The library must serve ABI version 2 (`_constants.ABI_VERSION`); an older one is refused
at import with an ImportError saying so. `library_path` is what was loaded.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from typing import List

from ._constants import ABI_VERSION, H3Q_OK
from ._cstructs import (
    c_result,
    c_socklen,
    c_u8_p,
    h3q_event_cb,
    h3q_header,
    h3q_priority,
    h3q_quic_event,
    h3q_quic_stats,
    h3q_settings,
    h3q_transport,
    sockaddr_storage,
)

LIBRARY_ENV = "H3Q_LIBRARY"
BUNDLED_NAME = "libh3q.so"


def _candidates() -> List[str]:
    env = os.environ.get(LIBRARY_ENV)
    if env:
        return [env]
    candidates = []
    bundled = os.path.join(os.path.dirname(os.path.abspath(__file__)), BUNDLED_NAME)
    if os.path.exists(bundled):
        candidates.append(bundled)
    candidates += ["libh3q.so.0.1", "libh3q.so"]
    found = ctypes.util.find_library("h3q")
    if found:
        candidates.append(found)
    return candidates


def _load() -> "tuple[ctypes.CDLL, str]":
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            errors.append(f"{path}: {e}")
    raise ImportError(f"cannot load libh3q (install the h3q package with pip, or set "
                      f"{LIBRARY_ENV} to the library's path): " + "; ".join(errors))


lib, library_path = _load()

_P = ctypes.c_void_p  # opaque handles
_PP = ctypes.POINTER(ctypes.c_void_p)
_SIGNATURES = {
    # name: (restype, argtypes)
    "h3q_version": (ctypes.c_char_p, []),
    "h3q_result_str": (ctypes.c_char_p, [ctypes.c_int32]),
    "h3q_last_error": (ctypes.c_char_p, []),
    "h3q_h3_error_name": (ctypes.c_char_p, [ctypes.c_uint64]),
    "h3q_settings_default_versioned": (c_result, [ctypes.c_int, ctypes.POINTER(h3q_settings)]),
    # config
    "h3q_config_new_versioned": (c_result, [ctypes.c_int, ctypes.c_bool, _PP]),
    "h3q_config_free": (None, [_P]),
    "h3q_config_last_error": (ctypes.c_char_p, [_P]),
    "h3q_config_set_certificate_chain_pem": (
        c_result, [_P, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]),
    "h3q_config_load_certificate_chain": (c_result, [_P, ctypes.c_char_p, ctypes.c_char_p]),
    "h3q_config_generate_self_signed": (c_result, [_P, ctypes.c_char_p, c_u8_p]),
    "h3q_config_certificate_chain_pem": (
        c_result, [_P, c_u8_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]),
    "h3q_config_add_ca_pem": (c_result, [_P, ctypes.c_char_p, ctypes.c_size_t]),
    "h3q_config_load_ca_file": (c_result, [_P, ctypes.c_char_p]),
    "h3q_config_set_verify_peer": (c_result, [_P, ctypes.c_bool]),
    "h3q_config_set_alpn": (c_result, [_P, ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t]),
    "h3q_config_set_idle_timeout_ms": (c_result, [_P, ctypes.c_uint64]),
    "h3q_config_set_max_streams": (c_result, [_P, ctypes.c_uint64, ctypes.c_uint64]),
    "h3q_config_set_stream_receive_window": (c_result, [_P, ctypes.c_uint64]),
    "h3q_config_set_send_window": (c_result, [_P, ctypes.c_uint64]),
    "h3q_config_set_loss_detection": (c_result, [_P, ctypes.c_uint32, ctypes.c_double]),
    "h3q_config_set_congestion_control": (c_result, [_P, ctypes.c_uint32]),
    "h3q_config_set_initial_window": (c_result, [_P, ctypes.c_uint64]),
    "h3q_config_set_mtu_discovery": (c_result, [_P, ctypes.c_bool]),
    "h3q_config_set_max_udp_payload_size": (c_result, [_P, ctypes.c_uint64]),
    "h3q_config_set_max_datagram_frame_size": (c_result, [_P, ctypes.c_uint64]),
    "h3q_config_set_key_log_file": (c_result, [_P, ctypes.c_char_p]),
    "h3q_config_set_client_auth": (
        c_result, [_P, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t]),
    "h3q_config_set_enable_0rtt": (c_result, [_P, ctypes.c_bool]),
    "h3q_config_rotate_secrets": (c_result, [_P]),
    "h3q_config_set_retry": (c_result, [_P, ctypes.c_bool]),
    "h3q_config_set_retry_above_rate": (c_result, [_P, ctypes.c_uint32]),
    "h3q_config_set_qlog_dir": (c_result, [_P, ctypes.c_char_p]),
    "h3q_config_set_server_id": (c_result, [_P, ctypes.c_uint8, c_u8_p, ctypes.c_size_t]),
    "h3q_cid_server_id": (c_result, [c_u8_p, ctypes.c_size_t, ctypes.c_size_t, c_u8_p,
                                     ctypes.POINTER(ctypes.c_uint8)]),
    # endpoint
    "h3q_endpoint_new": (c_result, [_P, _PP]),
    "h3q_endpoint_free": (None, [_P]),
    "h3q_endpoint_last_error": (ctypes.c_char_p, [_P]),
    "h3q_endpoint_connect": (
        c_result, [_P, ctypes.c_uint64, ctypes.c_void_p, c_socklen, ctypes.c_char_p, _PP]),
    "h3q_endpoint_receive": (
        c_result, [_P, ctypes.c_uint64, ctypes.c_void_p, c_socklen, ctypes.c_char_p,
                   ctypes.c_size_t]),
    "h3q_endpoint_receive_ecn": (
        c_result, [_P, ctypes.c_uint64, ctypes.c_void_p, c_socklen, ctypes.c_char_p,
                   ctypes.c_size_t, ctypes.c_size_t, ctypes.c_uint8]),
    "h3q_endpoint_connect_resume": (
        c_result, [_P, ctypes.c_uint64, ctypes.c_void_p, c_socklen, ctypes.c_char_p,
                   ctypes.c_char_p, ctypes.c_size_t, _PP]),
    "h3q_endpoint_rebind": (c_result, [_P, ctypes.c_uint64]),
    "h3q_endpoint_accept": (c_result, [_P, _PP]),
    "h3q_endpoint_poll_transmit": (
        c_result, [_P, ctypes.c_uint64, c_u8_p, ctypes.c_size_t,
                   ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(sockaddr_storage),
                   ctypes.POINTER(c_socklen), ctypes.POINTER(ctypes.c_size_t)]),
    "h3q_endpoint_poll_transmit_ecn": (
        c_result, [_P, ctypes.c_uint64, c_u8_p, ctypes.c_size_t,
                   ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(sockaddr_storage),
                   ctypes.POINTER(c_socklen), ctypes.POINTER(ctypes.c_size_t),
                   ctypes.POINTER(ctypes.c_uint8)]),
    "h3q_endpoint_poll_transmit_lent": (
        c_result, [_P, ctypes.c_uint64, ctypes.POINTER(c_u8_p),
                   ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(sockaddr_storage),
                   ctypes.POINTER(c_socklen), ctypes.POINTER(ctypes.c_size_t),
                   ctypes.POINTER(ctypes.c_uint8)]),
    "h3q_endpoint_next_timeout": (ctypes.c_uint64, [_P]),
    "h3q_endpoint_handle_timeout": (c_result, [_P, ctypes.c_uint64]),
    "h3q_endpoint_certificate_fingerprint": (c_result, [_P, c_u8_p]),
    "h3q_endpoint_next_ready": (c_result, [_P, _PP]),
    # quic conn
    "h3q_quic_conn_free": (None, [_P]),
    "h3q_quic_conn_last_error": (ctypes.c_char_p, [_P]),
    "h3q_quic_conn_next_event": (c_result, [_P, ctypes.POINTER(h3q_quic_event)]),
    "h3q_quic_conn_send_stream_data": (
        c_result, [_P, ctypes.c_uint64, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_bool]),
    "h3q_quic_conn_get_next_available_stream_id": (
        c_result, [_P, ctypes.c_bool, ctypes.POINTER(ctypes.c_uint64)]),
    "h3q_quic_conn_reset_stream": (c_result, [_P, ctypes.c_uint64, ctypes.c_uint64]),
    "h3q_quic_conn_stop_stream": (c_result, [_P, ctypes.c_uint64, ctypes.c_uint64]),
    "h3q_quic_conn_stats_versioned": (
        c_result, [_P, ctypes.c_int, ctypes.POINTER(h3q_quic_stats)]),
    "h3q_quic_conn_close": (c_result, [_P, ctypes.c_uint64, ctypes.c_char_p, ctypes.c_size_t]),
    "h3q_quic_conn_is_established": (ctypes.c_bool, [_P]),
    "h3q_quic_conn_is_closed": (ctypes.c_bool, [_P]),
    "h3q_quic_conn_is_drained": (ctypes.c_bool, [_P]),
    "h3q_quic_conn_alpn": (
        c_result, [_P, ctypes.POINTER(c_u8_p), ctypes.POINTER(ctypes.c_size_t)]),
    "h3q_quic_conn_remote_address": (
        c_result, [_P, ctypes.POINTER(sockaddr_storage), ctypes.POINTER(c_socklen)]),
    "h3q_quic_conn_session_ticket": (
        c_result, [_P, c_u8_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]),
    "h3q_quic_conn_early_data": (ctypes.c_int, [_P]),  # enum h3q_early_data
    "h3q_quic_conn_is_0rtt": (ctypes.c_bool, [_P]),
    "h3q_quic_conn_stream_is_early": (ctypes.c_bool, [_P, ctypes.c_uint64]),
    "h3q_quic_conn_peer_certificate": (
        c_result, [_P, ctypes.c_size_t, c_u8_p, ctypes.c_size_t,
                   ctypes.POINTER(ctypes.c_size_t)]),
    # http/3 conn
    "h3q_conn_new_versioned": (
        c_result, [ctypes.c_int, ctypes.POINTER(h3q_transport), ctypes.POINTER(h3q_settings),
                   _PP]),
    "h3q_conn_new_quic_versioned": (
        c_result, [ctypes.c_int, _P, ctypes.POINTER(h3q_settings), _PP]),
    "h3q_conn_free": (None, [_P]),
    "h3q_conn_last_error": (ctypes.c_char_p, [_P]),
    "h3q_conn_handle_event": (
        c_result, [_P, ctypes.POINTER(h3q_quic_event), h3q_event_cb, ctypes.c_void_p]),
    "h3q_conn_send_headers": (
        c_result, [_P, ctypes.c_uint64, ctypes.POINTER(h3q_header), ctypes.c_size_t,
                   ctypes.c_bool]),
    "h3q_conn_send_data": (
        c_result, [_P, ctypes.c_uint64, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_bool]),
    "h3q_conn_send_push_promise": (
        c_result, [_P, ctypes.c_uint64, ctypes.POINTER(h3q_header), ctypes.c_size_t,
                   ctypes.POINTER(ctypes.c_uint64)]),
    "h3q_conn_received_setting": (
        c_result, [_P, ctypes.c_uint64, ctypes.POINTER(ctypes.c_uint64)]),
    "h3q_conn_sent_setting": (
        c_result, [_P, ctypes.c_uint64, ctypes.POINTER(ctypes.c_uint64)]),
    "h3q_conn_close_code": (
        c_result, [_P, ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(ctypes.c_int)]),
    "h3q_conn_shutdown_notice": (c_result, [_P]),
    "h3q_conn_shutdown": (c_result, [_P]),
    "h3q_conn_active_requests": (c_result, [_P, ctypes.POINTER(ctypes.c_size_t)]),
    "h3q_conn_reset_stream": (c_result, [_P, ctypes.c_uint64, ctypes.c_uint64]),
    "h3q_conn_stop_sending": (c_result, [_P, ctypes.c_uint64, ctypes.c_uint64]),
    "h3q_conn_cancel_push": (c_result, [_P, ctypes.c_uint64]),
    "h3q_conn_send_origin": (
        c_result, [_P, ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t]),
    "h3q_conn_get_priority": (c_result, [_P, ctypes.c_uint64, ctypes.POINTER(h3q_priority)]),
    "h3q_conn_set_priority": (c_result, [_P, ctypes.c_uint64, ctypes.POINTER(h3q_priority)]),
    "h3q_conn_send_priority_update": (
        c_result, [_P, ctypes.c_uint64, ctypes.POINTER(h3q_priority)]),
    "h3q_priority_parse": (c_result, [c_u8_p, ctypes.c_size_t, ctypes.POINTER(h3q_priority)]),
    "h3q_quic_conn_unacknowledged_streams": (
        c_result, [_P, ctypes.POINTER(ctypes.c_size_t)]),
    "h3q_quic_conn_stream_send_buffered": (
        c_result, [_P, ctypes.c_uint64, ctypes.POINTER(ctypes.c_uint64)]),
}
for _name, (_restype, _argtypes) in _SIGNATURES.items():
    _fn = getattr(lib, _name)
    _fn.restype = _restype
    _fn.argtypes = _argtypes

# A library older than ABI_VERSION cannot serve this package's layouts: say so now.
_probe = h3q_settings()
if lib.h3q_settings_default_versioned(ABI_VERSION, ctypes.byref(_probe)) != H3Q_OK:
    raise ImportError(
        f"the libh3q loaded from {library_path} does not serve ABI version {ABI_VERSION} "
        f"({(lib.h3q_last_error() or b'').decode('utf-8', 'replace')}): it is older than "
        "this package"
    )
del _probe
