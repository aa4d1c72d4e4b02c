"""h3q from Python: a small ctypes binding of libh3q (include/h3q.h).

h3q is aioquic's sans-I/O HTTP/3 API implemented in Rust behind a C ABI. This module wraps
the part of that ABI a Python program needs to run HTTP/3 over h3q's built-in QUIC layer:

    Config          h3q_config_*        certificates, trust, ALPN, limits
    Endpoint        h3q_endpoint_*      datagrams in/out, timers, new connections
    QuicConnection  h3q_quic_conn_*     one QUIC connection: its event queue and state
    H3Connection    h3q_conn_*          aioquic's H3Connection: handle_event, send_headers,
                                        send_data, send_push_promise; and the lifecycle:
                                        shutdown_notice / shutdown (GOAWAY),
                                        reset_stream, stop_sending, cancel_push,
                                        send_origin, active_requests, close_code

Event loop: after receive() and handle_timeout(), take `Endpoint.next_ready()` until None
and each named connection's `next_event()` until None.

Like the C library, this module does no I/O and reads no clock: the caller moves datagrams
between `Endpoint.poll_transmit()` / `Endpoint.receive()` and its socket (or an in-memory
network), and passes a monotonic time in nanoseconds (`time.monotonic_ns()`, or a simulated
clock) to every call that takes `now_ns`.

Loading the library: the path in the environment variable H3Q_LIBRARY, else a libh3q.so next
to this file, else the system loader ("libh3q.so.0.1", "libh3q.so").

Errors: every failing call raises `H3QError`, which carries the h3q_result code, its name and
description from h3q_result_str(), and the handle's last error message (`*_last_error()`).

Ownership: each wrapper owns one C handle and frees it in `close()` (every class is also a
context manager). Closing twice is harmless; using a closed wrapper raises `H3QError` with
H3Q_ERR_NULL. Handles are independent in C (a QuicConnection outlives its Endpoint, an
H3Connection and its QuicConnection may be freed in either order), so wrappers may be closed
in any order. Pointers that C hands out (event bytes, header arrays) are copied into Python
bytes before the call returns, so nothing returned by this module dangles.

Example (a client; see test_h3q.py for a complete in-memory client and server)::

    with h3q.Config(is_server=False) as cfg:
        cfg.set_verify_peer(False)
        ep = h3q.Endpoint(cfg)
    quic = ep.connect(time.monotonic_ns(), ("127.0.0.1", 4433), "localhost")
    h3 = h3q.H3Connection(quic)
    sid = quic.get_next_available_stream_id()
    h3.send_headers(sid, [(b":method", b"GET"), (b":scheme", b"https"),
                          (b":authority", b"localhost"), (b":path", b"/")], end_stream=True)
    # ... loop: send ep.poll_transmit() datagrams, ep.receive() what arrives,
    #     ep.handle_timeout() when ep.next_timeout() is due, and for each
    #     quic.next_event(): h3.handle_event(event) -> [HeadersReceived | DataReceived ...]
"""

from __future__ import annotations

import ctypes
import ctypes.util
import ipaddress
import os
import socket
import struct
import weakref
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

__all__ = [
    "H3QError", "Config", "Endpoint", "QuicConnection", "H3Connection", "Settings",
    "QuicEvent", "H3Event", "HeadersReceived", "DataReceived", "PushPromiseReceived",
    "DatagramReceived", "WebTransportStreamDataReceived", "GoawayReceived", "StreamReset",
    "StopSending", "PushCancelled", "ConnectionClosed", "OriginReceived", "PriorityUpdate",
    "Priority", "version",
    "result_str", "h3_error_name", "lib", "H3Q_OK", "H3Q_DONE",
]

# --- h3q_result -------------------------------------------------------------------------------

# The ABI version this module mirrors (H3Q_ABI_VERSION of include/h3q.h): the struct layouts
# below and these result values. It is passed to every *_versioned constructor, so the
# library reads and writes exactly these layouts and returns these values, whatever newer
# version it is itself.
ABI_VERSION = 2

H3Q_OK = 0
H3Q_BLOCKED = 1
H3Q_DONE = 2
H3Q_ERR_NULL = -101
H3Q_ERR_INVALID_ARGUMENT = -102
H3Q_ERR_FRAME_UNEXPECTED = -103
H3Q_ERR_INVALID_STREAM_TYPE = -104
H3Q_ERR_NO_AVAILABLE_PUSH_ID = -105
H3Q_ERR_WRONG_ROLE = -106
H3Q_ERR_TLS = -107
H3Q_ERR_TRANSPORT = -108
H3Q_ERR_BUFFER_TOO_SMALL = -109
H3Q_ERR_IO = -110
H3Q_ERR_UNSUPPORTED_VERSION = -111
H3Q_ERR_GOING_AWAY = -112
H3Q_ERR_FIELD_SECTION_TOO_LARGE = -113
H3Q_ERR_CONNECTION_CLOSED = -201
H3Q_ERR_PROTOCOL = -202
H3Q_ERR_INTERNAL = -203
H3Q_ERR_PANIC = -204
H3Q_ERR_POISONED = -205

# h3q_quic_event_type
QUIC_STREAM_DATA_RECEIVED = 0
QUIC_STREAM_RESET = 1
QUIC_STOP_SENDING_RECEIVED = 2
QUIC_DATAGRAM_RECEIVED = 3
QUIC_HANDSHAKE_COMPLETED = 4
QUIC_CONNECTION_TERMINATED = 5

# h3q_event_type
EVENT_HEADERS_RECEIVED = 0
EVENT_DATA_RECEIVED = 1
EVENT_PUSH_PROMISE_RECEIVED = 2
EVENT_DATAGRAM_RECEIVED = 3
EVENT_WEBTRANSPORT_STREAM_DATA_RECEIVED = 4
EVENT_GOAWAY_RECEIVED = 5
EVENT_STREAM_RESET = 6
EVENT_STOP_SENDING = 7
EVENT_PUSH_CANCELLED = 8
EVENT_CONNECTION_CLOSED = 9
EVENT_ORIGIN_RECEIVED = 10
EVENT_PRIORITY_UPDATE = 11

# h3q_error_space: which code space an error code belongs to
ERROR_SPACE_UNSPECIFIED = 0
ERROR_SPACE_TRANSPORT = 1
ERROR_SPACE_APPLICATION = 2

# HTTP/3 error codes (RFC 9114 §8.1; h3q_h3_error)
H3_NO_ERROR = 0x100
H3_GENERAL_PROTOCOL_ERROR = 0x101
H3_INTERNAL_ERROR = 0x102
H3_STREAM_CREATION_ERROR = 0x103
H3_CLOSED_CRITICAL_STREAM = 0x104
H3_FRAME_UNEXPECTED = 0x105
H3_FRAME_ERROR = 0x106
H3_EXCESSIVE_LOAD = 0x107
H3_ID_ERROR = 0x108
H3_SETTINGS_ERROR = 0x109
H3_MISSING_SETTINGS = 0x10A
H3_REQUEST_REJECTED = 0x10B
H3_REQUEST_CANCELLED = 0x10C
H3_REQUEST_INCOMPLETE = 0x10D
H3_MESSAGE_ERROR = 0x10E
H3_CONNECT_ERROR = 0x10F
H3_VERSION_FALLBACK = 0x110

# The smallest buffer h3q_endpoint_poll_transmit() accepts.
MIN_TRANSMIT_BUFFER = 1472

# --- C types ----------------------------------------------------------------------------------

c_result = ctypes.c_int32  # h3q_result
c_socklen = ctypes.c_uint32
c_u8_p = ctypes.POINTER(ctypes.c_uint8)


class h3q_header(ctypes.Structure):
    """One header field line; names and values are byte strings (not NUL-terminated)."""
    _fields_ = [
        ("name", c_u8_p),
        ("name_len", ctypes.c_size_t),
        ("value", c_u8_p),
        ("value_len", ctypes.c_size_t),
    ]


class h3q_settings(ctypes.Structure):
    """HTTP/3 settings; always start from h3q_settings_default() (see `Settings`)."""
    _fields_ = [
        ("qpack_max_table_capacity", ctypes.c_uint64),
        ("qpack_blocked_streams", ctypes.c_uint64),
        ("max_push_id", ctypes.c_uint64),
        ("max_field_section_size", ctypes.c_uint64),
        ("enable_connect_protocol", ctypes.c_bool),
        ("enable_webtransport", ctypes.c_bool),
        ("max_buffered_frame_size", ctypes.c_uint64),
        ("max_blocked_stream_bytes", ctypes.c_uint64),
        ("max_decoded_field_section_size", ctypes.c_uint64),
        ("max_settings_entries", ctypes.c_uint64),
        ("max_cheap_frames", ctypes.c_uint64),
        ("max_excess_resets", ctypes.c_uint64),
        ("max_unreferenced_insert_bytes", ctypes.c_uint64),
        ("max_buffering_streams", ctypes.c_uint64),
        ("enable_grease", ctypes.c_bool),
    ]


class h3q_quic_event(ctypes.Structure):
    """A QUIC event (out of h3q_quic_conn_next_event, into h3q_conn_handle_event)."""
    _fields_ = [
        ("type", ctypes.c_int),
        ("stream_id", ctypes.c_uint64),
        ("data", c_u8_p),
        ("data_len", ctypes.c_size_t),
        ("end_stream", ctypes.c_bool),
        ("error_code", ctypes.c_uint64),
        ("reason", c_u8_p),
        ("reason_len", ctypes.c_size_t),
        ("error_space", ctypes.c_int),  # h3q_error_space (ABI version 2)
        ("closed_by_peer", ctypes.c_bool),  # (ABI version 2)
    ]


class h3q_priority(ctypes.Structure):
    """A request's or push's priority (RFC 9218): urgency 0-7 (default 3), incremental."""
    _fields_ = [("urgency", ctypes.c_uint8), ("incremental", ctypes.c_bool)]


class h3q_event(ctypes.Structure):
    """An HTTP event given to the h3q_event_cb; every pointer is valid during the callback."""
    _fields_ = [
        ("type", ctypes.c_int),
        ("stream_id", ctypes.c_uint64),
        ("stream_ended", ctypes.c_bool),
        ("has_push_id", ctypes.c_bool),
        ("push_id", ctypes.c_uint64),
        ("headers", ctypes.POINTER(h3q_header)),
        ("headers_len", ctypes.c_size_t),
        ("data", c_u8_p),
        ("data_len", ctypes.c_size_t),
        ("session_id", ctypes.c_uint64),
        ("error_code", ctypes.c_uint64),  # (ABI version 2)
        ("error_space", ctypes.c_int),  # h3q_error_space (ABI version 2)
        ("closed_by_peer", ctypes.c_bool),  # (ABI version 2)
        ("priority", h3q_priority),  # (ABI version 2)
    ]


# h3q_congestion_control, by the names the example programs' --cc takes.
CONGESTION_CONTROLLERS = {"newreno": 0, "cubic": 1, "bbr": 2}


class h3q_quic_stats(ctypes.Structure):
    """A built-in QUIC connection's measurements (ABI version 2); see include/h3q.h."""
    _fields_ = [(name, ctypes.c_uint64) for name in (
        "smoothed_rtt_ns", "min_rtt_ns", "cwnd", "congestion_events", "packets_sent",
        "datagrams_sent", "bytes_sent", "datagrams_received", "bytes_received",
        "packets_lost", "bytes_lost", "path_mtu")]


class sockaddr_in(ctypes.Structure):
    _fields_ = [
        ("sin_family", ctypes.c_ushort),
        ("sin_port", ctypes.c_uint8 * 2),  # network byte order
        ("sin_addr", ctypes.c_uint8 * 4),
        ("sin_zero", ctypes.c_uint8 * 8),
    ]


class sockaddr_in6(ctypes.Structure):
    _fields_ = [
        ("sin6_family", ctypes.c_ushort),
        ("sin6_port", ctypes.c_uint8 * 2),  # network byte order
        ("sin6_flowinfo", ctypes.c_uint32),
        ("sin6_addr", ctypes.c_uint8 * 16),
        ("sin6_scope_id", ctypes.c_uint32),
    ]


class sockaddr_storage(ctypes.Structure):
    _fields_ = [("ss_family", ctypes.c_ushort), ("_pad", ctypes.c_uint8 * 118),
                ("_align", ctypes.c_uint64)]


assert ctypes.sizeof(sockaddr_storage) == 128

h3q_event_cb = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(h3q_event))

# --- loading ----------------------------------------------------------------------------------


def _load() -> ctypes.CDLL:
    candidates = []
    env = os.environ.get("H3Q_LIBRARY")
    if env:
        candidates.append(env)
    else:
        here = os.path.dirname(os.path.abspath(__file__))
        beside = os.path.join(here, "libh3q.so")
        if os.path.exists(beside):
            candidates.append(beside)
        candidates += ["libh3q.so.0.1", "libh3q.so"]
        found = ctypes.util.find_library("h3q")
        if found:
            candidates.append(found)
    errors = []
    for path in candidates:
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            errors.append(f"{path}: {e}")
    raise ImportError("cannot load libh3q (set H3Q_LIBRARY to its path): " + "; ".join(errors))


lib = _load()

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
    "h3q_config_set_max_datagram_frame_size": (c_result, [_P, ctypes.c_uint64]),
    "h3q_config_set_key_log_file": (c_result, [_P, ctypes.c_char_p]),
    # endpoint
    "h3q_endpoint_new": (c_result, [_P, _PP]),
    "h3q_endpoint_free": (None, [_P]),
    "h3q_endpoint_last_error": (ctypes.c_char_p, [_P]),
    "h3q_endpoint_connect": (
        c_result, [_P, ctypes.c_uint64, ctypes.c_void_p, c_socklen, ctypes.c_char_p, _PP]),
    "h3q_endpoint_receive": (
        c_result, [_P, ctypes.c_uint64, ctypes.c_void_p, c_socklen, ctypes.c_char_p,
                   ctypes.c_size_t]),
    "h3q_endpoint_accept": (c_result, [_P, _PP]),
    "h3q_endpoint_poll_transmit": (
        c_result, [_P, ctypes.c_uint64, c_u8_p, ctypes.c_size_t,
                   ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(sockaddr_storage),
                   ctypes.POINTER(c_socklen), ctypes.POINTER(ctypes.c_size_t)]),
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
    # http/3 conn
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
}
for _name, (_restype, _argtypes) in _SIGNATURES.items():
    _fn = getattr(lib, _name)
    _fn.restype = _restype
    _fn.argtypes = _argtypes

# A library older than ABI_VERSION cannot serve this module's layouts: say so now.
_probe = h3q_settings()
if lib.h3q_settings_default_versioned(ABI_VERSION, ctypes.byref(_probe)) != H3Q_OK:
    raise ImportError(
        f"the loaded libh3q does not serve ABI version {ABI_VERSION} "
        f"({(lib.h3q_last_error() or b'').decode('utf-8', 'replace')}): it is older than "
        "this binding"
    )

# --- errors -----------------------------------------------------------------------------------


def result_str(code: int) -> str:
    """h3q_result_str(): the name and description of an h3q_result code."""
    return lib.h3q_result_str(code).decode("utf-8", "replace")


def h3_error_name(code: int) -> Optional[str]:
    """h3q_h3_error_name(): "H3_NO_ERROR" for 0x100 and so on; None for other codes."""
    name = lib.h3q_h3_error_name(code)
    return name.decode("ascii") if name else None


def version() -> str:
    """h3q_version(): the library version, e.g. "0.1.0"."""
    return lib.h3q_version().decode()


class H3QError(Exception):
    """A failed h3q call.

    code:    the h3q_result (negative), e.g. H3Q_ERR_FRAME_UNEXPECTED
    name:    h3q_result_str(code), e.g. "H3Q_ERR_FRAME_UNEXPECTED: ..."
    detail:  the handle's last error message (or h3q_last_error()), possibly None
    call:    the C function that failed
    """

    def __init__(self, code: int, call: str, detail: Optional[str]):
        self.code = code
        self.call = call
        self.name = result_str(code)
        self.detail = detail
        text = f"{call}: {self.name}"
        if detail:
            text += f" ({detail})"
        super().__init__(text)


def _decode(msg: Optional[bytes]) -> Optional[str]:
    return msg.decode("utf-8", "replace") if msg else None


def _check(code: int, call: str, last_error: Callable[[], Optional[bytes]]) -> int:
    """Raises H3QError for a negative result (H3Q_DONE included: callers that expect it test
    for it first); returns non-negative results (OK, BLOCKED)."""
    if code < 0:
        raise H3QError(code, call, _decode(last_error()))
    return code


def _thread_last_error() -> Optional[bytes]:
    return lib.h3q_last_error()


# --- addresses --------------------------------------------------------------------------------

Address = Tuple[str, int]


def _sockaddr(addr: Address) -> Tuple[ctypes.Structure, int]:
    """A (host, port) tuple as a C sockaddr_in / sockaddr_in6 and its length."""
    host, port = addr[0], addr[1]
    ip = ipaddress.ip_address(host)
    port_be = (ctypes.c_uint8 * 2)(*struct.pack("!H", port))
    if ip.version == 4:
        sa = sockaddr_in(sin_family=socket.AF_INET, sin_port=port_be,
                         sin_addr=(ctypes.c_uint8 * 4)(*ip.packed))
    else:
        sa = sockaddr_in6(sin6_family=socket.AF_INET6, sin6_port=port_be,
                          sin6_addr=(ctypes.c_uint8 * 16)(*ip.packed),
                          sin6_scope_id=addr[3] if len(addr) > 3 else 0)
    return sa, ctypes.sizeof(sa)


def _address(storage: sockaddr_storage, length: int) -> Address:
    """A C sockaddr_storage as a (host, port) tuple."""
    raw = ctypes.string_at(ctypes.addressof(storage), length)
    if storage.ss_family == socket.AF_INET:
        sa = sockaddr_in.from_buffer_copy(raw)
        return str(ipaddress.IPv4Address(bytes(sa.sin_addr))), struct.unpack(
            "!H", bytes(sa.sin_port))[0]
    if storage.ss_family == socket.AF_INET6:
        sa = sockaddr_in6.from_buffer_copy(raw)
        return str(ipaddress.IPv6Address(bytes(sa.sin6_addr))), struct.unpack(
            "!H", bytes(sa.sin6_port))[0]
    raise ValueError(f"address family {storage.ss_family}")


# --- handles ----------------------------------------------------------------------------------


class _Handle:
    """Owns one C handle; `close()` frees it once. A context manager."""

    _free_fn = ""
    _last_error_fn = ""

    def __init__(self, ptr: ctypes.c_void_p):
        self._ptr = ptr

    @property
    def handle(self) -> ctypes.c_void_p:
        """The C handle; raises H3QError(H3Q_ERR_NULL) once closed."""
        if not self._ptr:
            raise H3QError(H3Q_ERR_NULL, type(self).__name__, "used after close()")
        return self._ptr

    @property
    def closed(self) -> bool:
        return not self._ptr

    def last_error(self) -> Optional[str]:
        """The handle's last error message (`*_last_error()`), or None."""
        if not self._ptr:
            return None
        return _decode(getattr(lib, self._last_error_fn)(self._ptr))

    def _check(self, code: int, call: str) -> int:
        if code < 0:
            detail = _decode(getattr(lib, self._last_error_fn)(self._ptr)) if self._ptr else None
            raise H3QError(code, call, detail or _decode(lib.h3q_last_error()))
        return code

    def close(self) -> None:
        """Frees the C handle (idempotent)."""
        ptr, self._ptr = self._ptr, None
        if ptr:
            getattr(lib, self._free_fn)(ptr)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        # A safety net only; callers free deterministically with close() / `with`.
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass


class Config(_Handle):
    """h3q_config: the configuration of an endpoint (copied by Endpoint(); close it after)."""

    _free_fn = "h3q_config_free"
    _last_error_fn = "h3q_config_last_error"

    def __init__(self, is_server: bool):
        out = ctypes.c_void_p()
        _check(lib.h3q_config_new_versioned(ABI_VERSION, is_server, ctypes.byref(out)),
               "h3q_config_new_versioned",
               _thread_last_error)
        super().__init__(out)

    def generate_self_signed(self, host: str = "localhost") -> bytes:
        """Generates and uses a self-signed certificate; returns its SHA-256 fingerprint."""
        fp = (ctypes.c_uint8 * 32)()
        self._check(lib.h3q_config_generate_self_signed(self.handle, host.encode(), fp),
                    "h3q_config_generate_self_signed")
        return bytes(fp)

    def set_certificate_chain_pem(self, chain_pem: bytes, key_pem: bytes) -> None:
        self._check(lib.h3q_config_set_certificate_chain_pem(
            self.handle, chain_pem, len(chain_pem), key_pem, len(key_pem)),
            "h3q_config_set_certificate_chain_pem")

    def load_certificate_chain(self, chain_path: str, key_path: str) -> None:
        self._check(lib.h3q_config_load_certificate_chain(
            self.handle, os.fsencode(chain_path), os.fsencode(key_path)),
            "h3q_config_load_certificate_chain")

    def certificate_chain_pem(self) -> Optional[bytes]:
        """The configured certificate chain as PEM, or None when there is none."""
        need = ctypes.c_size_t(0)
        buf = (ctypes.c_uint8 * 4096)()
        rc = lib.h3q_config_certificate_chain_pem(self.handle, buf, len(buf), ctypes.byref(need))
        if rc == H3Q_ERR_BUFFER_TOO_SMALL:
            buf = (ctypes.c_uint8 * need.value)()
            rc = lib.h3q_config_certificate_chain_pem(self.handle, buf, len(buf),
                                                      ctypes.byref(need))
        if rc == H3Q_DONE:
            return None
        self._check(rc, "h3q_config_certificate_chain_pem")
        return bytes(buf[:need.value])

    def add_ca_pem(self, pem: bytes) -> None:
        self._check(lib.h3q_config_add_ca_pem(self.handle, pem, len(pem)),
                    "h3q_config_add_ca_pem")

    def load_ca_file(self, path: str) -> None:
        self._check(lib.h3q_config_load_ca_file(self.handle, os.fsencode(path)),
                    "h3q_config_load_ca_file")

    def set_verify_peer(self, verify: bool) -> None:
        self._check(lib.h3q_config_set_verify_peer(self.handle, verify),
                    "h3q_config_set_verify_peer")

    def set_alpn(self, protocols: Sequence[str]) -> None:
        arr = (ctypes.c_char_p * len(protocols))(*[p.encode() for p in protocols])
        self._check(lib.h3q_config_set_alpn(self.handle, arr, len(protocols)),
                    "h3q_config_set_alpn")

    def set_idle_timeout_ms(self, ms: int) -> None:
        self._check(lib.h3q_config_set_idle_timeout_ms(self.handle, ms),
                    "h3q_config_set_idle_timeout_ms")

    def set_max_streams(self, bidi: int, uni: int) -> None:
        self._check(lib.h3q_config_set_max_streams(self.handle, bidi, uni),
                    "h3q_config_set_max_streams")

    def set_stream_receive_window(self, size: int) -> None:
        """Flow-control credit per stream given to the peer (default 1.25 MB)."""
        self._check(lib.h3q_config_set_stream_receive_window(self.handle, size),
                    "h3q_config_set_stream_receive_window")

    def set_send_window(self, size: int) -> None:
        """Most data sent and not yet acknowledged per connection (default 10 MB)."""
        self._check(lib.h3q_config_set_send_window(self.handle, size),
                    "h3q_config_set_send_window")

    def set_loss_detection(self, packet_threshold: int, time_threshold: float) -> None:
        """When a packet counts as lost: after `packet_threshold` later packets are
        acknowledged (0: never by count) or `time_threshold` round trips (1.0 to 10.0).
        Default 0 and 2.0, which tolerates reordering; RFC 9002's values are 3 and 1.125."""
        self._check(lib.h3q_config_set_loss_detection(self.handle, packet_threshold,
                                                      time_threshold),
                    "h3q_config_set_loss_detection")

    def set_congestion_control(self, name: str) -> None:
        """The congestion controller: "newreno", "cubic" (default) or "bbr"."""
        value = CONGESTION_CONTROLLERS.get(name)
        if value is None:
            raise ValueError(f"congestion control {name!r}: not one of "
                             f"{', '.join(CONGESTION_CONTROLLERS)}")
        self._check(lib.h3q_config_set_congestion_control(self.handle, value),
                    "h3q_config_set_congestion_control")

    def set_initial_window(self, size: int) -> None:
        """The congestion window a connection starts with (2400 B to 16 MiB; 0: default)."""
        self._check(lib.h3q_config_set_initial_window(self.handle, size),
                    "h3q_config_set_initial_window")

    def set_max_datagram_frame_size(self, size: int) -> None:
        self._check(lib.h3q_config_set_max_datagram_frame_size(self.handle, size),
                    "h3q_config_set_max_datagram_frame_size")

    def set_key_log_file(self, path: str) -> None:
        self._check(lib.h3q_config_set_key_log_file(self.handle, os.fsencode(path)),
                    "h3q_config_set_key_log_file")


@dataclass
class Transmit:
    """One UDP payload to send (`segment_size` < len(data) for a GSO batch)."""
    data: bytes
    address: Address
    segment_size: int


class Endpoint(_Handle):
    """h3q_endpoint: the QUIC endpoint of one UDP socket. No I/O, no clock of its own."""

    _free_fn = "h3q_endpoint_free"
    _last_error_fn = "h3q_endpoint_last_error"

    def __init__(self, config: Config, transmit_buffer: int = 65536):
        out = ctypes.c_void_p()
        _check(lib.h3q_endpoint_new(config.handle, ctypes.byref(out)), "h3q_endpoint_new",
               _thread_last_error)
        super().__init__(out)
        self._buf = (ctypes.c_uint8 * max(transmit_buffer, MIN_TRANSMIT_BUFFER))()
        self._len = ctypes.c_size_t()
        self._dest = sockaddr_storage()
        self._dest_len = c_socklen()
        self._seg = ctypes.c_size_t()
        # The wrappers of this endpoint's connections, by handle address, for next_ready().
        # Weak: the application's references decide when a connection is freed.
        self._connections: "weakref.WeakValueDictionary[int, QuicConnection]" = \
            weakref.WeakValueDictionary()

    def _adopt(self, ptr: ctypes.c_void_p) -> "QuicConnection":
        conn = QuicConnection(ptr)
        self._connections[ptr.value] = conn
        return conn

    def connect(self, now_ns: int, address: Address, server_name: str) -> "QuicConnection":
        """Starts a client connection to (host, port), verifying `server_name`."""
        sa, salen = _sockaddr(address)
        out = ctypes.c_void_p()
        self._check(lib.h3q_endpoint_connect(self.handle, now_ns, ctypes.byref(sa), salen,
                                             server_name.encode(), ctypes.byref(out)),
                    "h3q_endpoint_connect")
        return self._adopt(out)

    def receive(self, now_ns: int, address: Address, data: bytes) -> None:
        """Processes one UDP datagram that arrived from `address`."""
        sa, salen = _sockaddr(address)
        self._check(lib.h3q_endpoint_receive(self.handle, now_ns, ctypes.byref(sa), salen,
                                             data, len(data)),
                    "h3q_endpoint_receive")

    def accept(self) -> Optional["QuicConnection"]:
        """The next new server connection, or None."""
        out = ctypes.c_void_p()
        rc = lib.h3q_endpoint_accept(self.handle, ctypes.byref(out))
        if rc == H3Q_DONE:
            return None
        self._check(rc, "h3q_endpoint_accept")
        return self._adopt(out)

    def next_ready(self) -> Optional["QuicConnection"]:
        """The next connection with events waiting (h3q_endpoint_next_ready()), or None.

        Call after receive() / handle_timeout() until None, and drain each connection's
        next_event(): a connection is given again only once it has new events. Only
        connections this endpoint's connect() / accept() returned and still open are given.
        """
        out = ctypes.c_void_p()
        while True:
            rc = lib.h3q_endpoint_next_ready(self.handle, ctypes.byref(out))
            if rc == H3Q_DONE:
                return None
            self._check(rc, "h3q_endpoint_next_ready")
            conn = self._connections.get(out.value)
            if conn is not None and not conn.closed:
                return conn

    def poll_transmit(self, now_ns: int) -> Optional[Transmit]:
        """The next UDP payload to send, or None when nothing is waiting."""
        rc = lib.h3q_endpoint_poll_transmit(
            self.handle, now_ns, self._buf, len(self._buf), ctypes.byref(self._len),
            ctypes.byref(self._dest), ctypes.byref(self._dest_len), ctypes.byref(self._seg))
        if rc == H3Q_DONE:
            return None
        self._check(rc, "h3q_endpoint_poll_transmit")
        data = ctypes.string_at(self._buf, self._len.value)
        return Transmit(data, _address(self._dest, self._dest_len.value), self._seg.value)

    def next_timeout(self) -> Optional[int]:
        """When handle_timeout() is next due (ns on the caller's clock), or None."""
        at = lib.h3q_endpoint_next_timeout(self.handle)
        return None if at == 0xFFFF_FFFF_FFFF_FFFF else at

    def handle_timeout(self, now_ns: int) -> None:
        self._check(lib.h3q_endpoint_handle_timeout(self.handle, now_ns),
                    "h3q_endpoint_handle_timeout")

    def certificate_fingerprint(self) -> Optional[bytes]:
        """SHA-256 of the endpoint's certificate (32 bytes), or None for a client."""
        fp = (ctypes.c_uint8 * 32)()
        rc = lib.h3q_endpoint_certificate_fingerprint(self.handle, fp)
        if rc == H3Q_DONE:
            return None
        self._check(rc, "h3q_endpoint_certificate_fingerprint")
        return bytes(fp)


@dataclass
class QuicEvent:
    """A QUIC event, copied out of h3q (aioquic's quic events in one record).

    type: QUIC_STREAM_DATA_RECEIVED, QUIC_STREAM_RESET, QUIC_STOP_SENDING_RECEIVED,
          QUIC_DATAGRAM_RECEIVED, QUIC_HANDSHAKE_COMPLETED, QUIC_CONNECTION_TERMINATED
    """
    type: int
    stream_id: int = 0
    data: bytes = b""
    end_stream: bool = False
    error_code: int = 0
    reason: bytes = b""
    # QUIC_CONNECTION_TERMINATED: the code space of error_code (ERROR_SPACE_*) and whether
    # the peer closed.
    error_space: int = ERROR_SPACE_UNSPECIFIED
    closed_by_peer: bool = False

    def _to_c(self) -> h3q_quic_event:
        ev = h3q_quic_event(type=self.type, stream_id=self.stream_id,
                            data_len=len(self.data), end_stream=self.end_stream,
                            error_code=self.error_code, reason_len=len(self.reason),
                            error_space=self.error_space, closed_by_peer=self.closed_by_peer)
        # Pointers into the bytes objects; they live as long as `self` (the caller's call).
        if self.data:
            ev.data = ctypes.cast(ctypes.c_char_p(self.data), c_u8_p)
        if self.reason:
            ev.reason = ctypes.cast(ctypes.c_char_p(self.reason), c_u8_p)
        return ev


class QuicConnection(_Handle):
    """h3q_quic_conn: one connection of an Endpoint (from connect() or accept()).

    `close()` frees the handle; `close_connection()` sends CONNECTION_CLOSE (aioquic's
    QuicConnection.close()).
    """

    _free_fn = "h3q_quic_conn_free"
    _last_error_fn = "h3q_quic_conn_last_error"

    def __init__(self, ptr: ctypes.c_void_p):
        super().__init__(ptr)
        self._event = h3q_quic_event()

    def next_event(self) -> Optional[QuicEvent]:
        """The next QUIC event (its bytes copied), or None when the queue is empty."""
        ev = self._event
        rc = lib.h3q_quic_conn_next_event(self.handle, ctypes.byref(ev))
        if rc == H3Q_DONE:
            return None
        self._check(rc, "h3q_quic_conn_next_event")
        return QuicEvent(
            type=ev.type, stream_id=ev.stream_id,
            data=ctypes.string_at(ev.data, ev.data_len) if ev.data_len else b"",
            end_stream=bool(ev.end_stream), error_code=ev.error_code,
            reason=ctypes.string_at(ev.reason, ev.reason_len) if ev.reason_len else b"",
            error_space=ev.error_space, closed_by_peer=bool(ev.closed_by_peer))

    def get_next_available_stream_id(self, unidirectional: bool = False) -> int:
        out = ctypes.c_uint64()
        self._check(lib.h3q_quic_conn_get_next_available_stream_id(
            self.handle, unidirectional, ctypes.byref(out)),
            "h3q_quic_conn_get_next_available_stream_id")
        return out.value

    def send_stream_data(self, stream_id: int, data: bytes, end_stream: bool = False) -> None:
        self._check(lib.h3q_quic_conn_send_stream_data(self.handle, stream_id, data, len(data),
                                                       end_stream),
                    "h3q_quic_conn_send_stream_data")

    def reset_stream(self, stream_id: int, error_code: int) -> None:
        self._check(lib.h3q_quic_conn_reset_stream(self.handle, stream_id, error_code),
                    "h3q_quic_conn_reset_stream")

    def stop_stream(self, stream_id: int, error_code: int) -> None:
        self._check(lib.h3q_quic_conn_stop_stream(self.handle, stream_id, error_code),
                    "h3q_quic_conn_stop_stream")

    def close_connection(self, error_code: int = H3_NO_ERROR, reason: bytes = b"") -> None:
        """Closes the QUIC connection gracefully (CONNECTION_CLOSE); the handle stays."""
        self._check(lib.h3q_quic_conn_close(self.handle, error_code, reason, len(reason)),
                    "h3q_quic_conn_close")

    @property
    def is_established(self) -> bool:
        return bool(lib.h3q_quic_conn_is_established(self.handle))

    @property
    def is_closed(self) -> bool:
        return bool(lib.h3q_quic_conn_is_closed(self.handle))

    @property
    def is_drained(self) -> bool:
        return bool(lib.h3q_quic_conn_is_drained(self.handle))

    def unacknowledged_streams(self) -> int:
        """Streams with data the peer has not acknowledged (a graceful close waits for 0)."""
        out = ctypes.c_size_t()
        self._check(lib.h3q_quic_conn_unacknowledged_streams(self.handle, ctypes.byref(out)),
                    "h3q_quic_conn_unacknowledged_streams")
        return out.value

    def alpn(self) -> Optional[bytes]:
        ptr, n = c_u8_p(), ctypes.c_size_t()
        rc = lib.h3q_quic_conn_alpn(self.handle, ctypes.byref(ptr), ctypes.byref(n))
        if rc == H3Q_DONE:
            return None
        self._check(rc, "h3q_quic_conn_alpn")
        return ctypes.string_at(ptr, n.value)

    def remote_address(self) -> Address:
        st, n = sockaddr_storage(), c_socklen()
        self._check(lib.h3q_quic_conn_remote_address(self.handle, ctypes.byref(st),
                                                     ctypes.byref(n)),
                    "h3q_quic_conn_remote_address")
        return _address(st, n.value)

    def stats(self) -> Dict[str, int]:
        """The connection's measurements: round trips (ns), congestion window, bytes,
        datagrams and packets sent, received and lost, path MTU."""
        out = h3q_quic_stats()
        self._check(lib.h3q_quic_conn_stats_versioned(self.handle, ABI_VERSION,
                                                      ctypes.byref(out)),
                    "h3q_quic_conn_stats_versioned")
        return {name: getattr(out, name) for name, _ in h3q_quic_stats._fields_}


# --- HTTP/3 -----------------------------------------------------------------------------------

Headers = List[Tuple[bytes, bytes]]


@dataclass
class H3Event:
    """Base of the HTTP events (aioquic's h3.events)."""
    stream_id: int
    stream_ended: bool = False
    push_id: Optional[int] = None


@dataclass
class HeadersReceived(H3Event):
    headers: Headers = field(default_factory=list)


@dataclass
class DataReceived(H3Event):
    data: bytes = b""


@dataclass
class PushPromiseReceived(H3Event):
    headers: Headers = field(default_factory=list)


@dataclass
class DatagramReceived(H3Event):
    data: bytes = b""


@dataclass
class WebTransportStreamDataReceived(H3Event):
    data: bytes = b""
    session_id: int = 0


@dataclass
class GoawayReceived(H3Event):
    """The peer sent GOAWAY. From a server, stream_id is the first request stream it will
    not process (requests sent at or above it come as StreamReset with
    H3_REQUEST_REJECTED; new ones raise H3QError(H3Q_ERR_GOING_AWAY): retry them on a new
    connection). From a client, push_id is the first push it will not accept."""


@dataclass
class StreamReset(H3Event):
    """Nothing more arrives on stream_id: the peer reset it with error_code, or (a client)
    the server's GOAWAY showed it was not processed (H3_REQUEST_REJECTED). Once per stream."""
    error_code: int = 0


@dataclass
class StopSending(H3Event):
    """The peer asked us to stop sending on stream_id; h3q has reset our side with
    error_code."""
    error_code: int = 0


@dataclass
class PushCancelled(H3Event):
    """The peer cancelled push push_id (CANCEL_PUSH)."""


@dataclass
class ConnectionClosed(H3Event):
    """The connection is over (once): error_code in error_space (ERROR_SPACE_*), the reason
    phrase, and whether the peer closed it."""
    error_code: int = 0
    error_space: int = ERROR_SPACE_UNSPECIFIED
    reason: bytes = b""
    closed_by_peer: bool = False


@dataclass
class OriginReceived(H3Event):
    """The server's ORIGIN frame (RFC 9412): the origins it is authoritative for."""
    origins: List[str] = field(default_factory=list)


@dataclass(frozen=True)
class Priority:
    """RFC 9218 priority: urgency 0 (most urgent) to 7, default 3; incremental."""
    urgency: int = 3
    incremental: bool = False

    @staticmethod
    def parse(value: bytes) -> "Priority":
        """h3q_priority_parse(): a `priority` field value; the defaults where invalid."""
        out = h3q_priority()
        buf = (ctypes.c_uint8 * len(value)).from_buffer_copy(value) if value else None
        _check(lib.h3q_priority_parse(buf, len(value), ctypes.byref(out)),
               "h3q_priority_parse", _thread_last_error)
        return Priority(out.urgency, bool(out.incremental))

    def _to_c(self) -> h3q_priority:
        return h3q_priority(urgency=self.urgency, incremental=self.incremental)


@dataclass
class PriorityUpdate(H3Event):
    """A server: the client changed the priority of a request (or of push push_id)."""
    priority: Priority = field(default_factory=Priority)


def _headers_from_c(ptr, n: int) -> Headers:
    out = []
    for i in range(n):
        h = ptr[i]
        out.append((ctypes.string_at(h.name, h.name_len) if h.name_len else b"",
                    ctypes.string_at(h.value, h.value_len) if h.value_len else b""))
    return out


def _event_from_c(ev: h3q_event) -> H3Event:
    push_id = ev.push_id if ev.has_push_id else None
    common = dict(stream_id=ev.stream_id, stream_ended=bool(ev.stream_ended), push_id=push_id)
    data = ctypes.string_at(ev.data, ev.data_len) if ev.data_len else b""
    if ev.type == EVENT_HEADERS_RECEIVED:
        return HeadersReceived(headers=_headers_from_c(ev.headers, ev.headers_len), **common)
    if ev.type == EVENT_DATA_RECEIVED:
        return DataReceived(data=data, **common)
    if ev.type == EVENT_PUSH_PROMISE_RECEIVED:
        return PushPromiseReceived(headers=_headers_from_c(ev.headers, ev.headers_len), **common)
    if ev.type == EVENT_DATAGRAM_RECEIVED:
        return DatagramReceived(data=data, **common)
    if ev.type == EVENT_WEBTRANSPORT_STREAM_DATA_RECEIVED:
        return WebTransportStreamDataReceived(data=data, session_id=ev.session_id, **common)
    if ev.type == EVENT_GOAWAY_RECEIVED:
        return GoawayReceived(**common)
    if ev.type == EVENT_STREAM_RESET:
        return StreamReset(error_code=ev.error_code, **common)
    if ev.type == EVENT_STOP_SENDING:
        return StopSending(error_code=ev.error_code, **common)
    if ev.type == EVENT_PUSH_CANCELLED:
        return PushCancelled(**common)
    if ev.type == EVENT_CONNECTION_CLOSED:
        return ConnectionClosed(error_code=ev.error_code, error_space=ev.error_space,
                                reason=data, closed_by_peer=bool(ev.closed_by_peer), **common)
    if ev.type == EVENT_PRIORITY_UPDATE:
        return PriorityUpdate(priority=Priority(ev.priority.urgency,
                                                bool(ev.priority.incremental)), **common)
    if ev.type == EVENT_ORIGIN_RECEIVED:
        origins = [name.decode("ascii", "replace")
                   for name, _ in _headers_from_c(ev.headers, ev.headers_len)]
        return OriginReceived(origins=origins, **common)
    raise ValueError(f"unknown h3q_event type {ev.type}")


def _headers_to_c(headers: Sequence[Tuple[Union[bytes, str], Union[bytes, str]]]):
    """An h3q_header array (and the bytes objects it points into, to keep them alive)."""
    keep = []
    arr = (h3q_header * len(headers))()
    for i, (name, value) in enumerate(headers):
        name = name.encode() if isinstance(name, str) else bytes(name)
        value = value.encode() if isinstance(value, str) else bytes(value)
        keep += [name, value]
        arr[i].name = ctypes.cast(ctypes.c_char_p(name), c_u8_p)
        arr[i].name_len = len(name)
        arr[i].value = ctypes.cast(ctypes.c_char_p(value), c_u8_p)
        arr[i].value_len = len(value)
    return arr, keep


class Settings:
    """h3q_settings, starting from h3q_settings_default(); set attributes to change them."""

    def __init__(self, **changes):
        self._c = h3q_settings()
        _check(lib.h3q_settings_default_versioned(ABI_VERSION, ctypes.byref(self._c)),
               "h3q_settings_default_versioned", _thread_last_error)
        for k, v in changes.items():
            setattr(self, k, v)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._c, name)

    def __setattr__(self, name, value):
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        elif name in dict(h3q_settings._fields_):
            setattr(self._c, name, value)
        else:
            raise AttributeError(f"h3q_settings has no field {name!r}")


EventCallback = Callable[[H3Event], None]


class H3Connection(_Handle):
    """h3q_conn over a QuicConnection: aioquic's H3Connection.

    handle_event(quic_event) returns the HTTP events it produced (and calls `callback`, when
    given, for each one as h3q delivers it, from inside h3q_conn_handle_event; the callback
    may call send_headers/send_data on this connection). An exception raised by a callback
    is re-raised by handle_event once the C call has returned.
    """

    _free_fn = "h3q_conn_free"
    _last_error_fn = "h3q_conn_last_error"

    def __init__(self, quic: QuicConnection, settings: Optional[Settings] = None):
        out = ctypes.c_void_p()
        cs = ctypes.byref(settings._c) if settings is not None else None
        _check(lib.h3q_conn_new_quic_versioned(ABI_VERSION, quic.handle, cs, ctypes.byref(out)),
               "h3q_conn_new_quic_versioned",
               _thread_last_error)
        super().__init__(out)
        self._pending: List[H3Event] = []
        self._user_cb: Optional[EventCallback] = None
        self._cb_error: Optional[BaseException] = None
        # One C trampoline per connection, referenced for the connection's lifetime.
        self._trampoline = h3q_event_cb(self._on_event)

    def _on_event(self, _user_data, ev_ptr) -> None:
        try:
            event = _event_from_c(ev_ptr.contents)
            self._pending.append(event)
            if self._user_cb is not None and self._cb_error is None:
                self._user_cb(event)
        except BaseException as e:  # never let an exception unwind through C
            if self._cb_error is None:
                self._cb_error = e

    def handle_event(self, event: QuicEvent,
                     callback: Optional[EventCallback] = None) -> List[H3Event]:
        """Feeds one QUIC event; returns the HTTP events it produced, in order."""
        c_event = event._to_c()
        self._pending, self._user_cb, self._cb_error = [], callback, None
        try:
            rc = lib.h3q_conn_handle_event(self.handle, ctypes.byref(c_event), self._trampoline,
                                           None)
        finally:
            self._user_cb = None
        events, self._pending = self._pending, []
        if self._cb_error is not None:
            err, self._cb_error = self._cb_error, None
            raise err
        self._check(rc, "h3q_conn_handle_event")
        return events

    def send_headers(self, stream_id: int, headers, end_stream: bool = False) -> None:
        arr, _keep = _headers_to_c(headers)
        self._check(lib.h3q_conn_send_headers(self.handle, stream_id, arr, len(headers),
                                              end_stream),
                    "h3q_conn_send_headers")

    def send_data(self, stream_id: int, data: bytes, end_stream: bool = False) -> None:
        self._check(lib.h3q_conn_send_data(self.handle, stream_id, bytes(data), len(data),
                                           end_stream),
                    "h3q_conn_send_data")

    def send_push_promise(self, stream_id: int, headers) -> int:
        """Promises a push (servers); returns the push stream id."""
        arr, _keep = _headers_to_c(headers)
        out = ctypes.c_uint64()
        self._check(lib.h3q_conn_send_push_promise(self.handle, stream_id, arr, len(headers),
                                                   ctypes.byref(out)),
                    "h3q_conn_send_push_promise")
        return out.value

    def received_setting(self, setting_id: int) -> Optional[int]:
        """A value from the peer's SETTINGS, or None if absent or not received yet."""
        out = ctypes.c_uint64()
        rc = lib.h3q_conn_received_setting(self.handle, setting_id, ctypes.byref(out))
        if rc == H3Q_DONE:
            return None
        self._check(rc, "h3q_conn_received_setting")
        return out.value

    def sent_setting(self, setting_id: int) -> Optional[int]:
        out = ctypes.c_uint64()
        rc = lib.h3q_conn_sent_setting(self.handle, setting_id, ctypes.byref(out))
        if rc == H3Q_DONE:
            return None
        self._check(rc, "h3q_conn_sent_setting")
        return out.value

    def close_code(self) -> Optional[Tuple[int, int]]:
        """How the connection ended, (error_code, error_space), or None while it is open."""
        code, space = ctypes.c_uint64(), ctypes.c_int()
        rc = lib.h3q_conn_close_code(self.handle, ctypes.byref(code), ctypes.byref(space))
        if rc == H3Q_DONE:
            return None
        self._check(rc, "h3q_conn_close_code")
        return code.value, space.value

    # --- lifecycle (RFC 9114 §5.2, §4.1.1, §7.2.3; RFC 9412) ---

    def shutdown_notice(self) -> None:
        """Graceful shutdown, first step: GOAWAY with the largest id; what is in flight or on
        its way still proceeds. Follow with shutdown() after about a round trip."""
        self._check(lib.h3q_conn_shutdown_notice(self.handle), "h3q_conn_shutdown_notice")

    def shutdown(self) -> None:
        """Graceful shutdown: GOAWAY with the id after the last request (or push) accepted.
        Close the QUIC connection with H3_NO_ERROR once active_requests() is 0."""
        self._check(lib.h3q_conn_shutdown(self.handle), "h3q_conn_shutdown")

    def active_requests(self) -> int:
        """Request and push streams that have not ended both ways."""
        out = ctypes.c_size_t()
        self._check(lib.h3q_conn_active_requests(self.handle, ctypes.byref(out)),
                    "h3q_conn_active_requests")
        return out.value

    def reset_stream(self, stream_id: int, error_code: int = H3_REQUEST_CANCELLED) -> None:
        """Abruptly ends our sending side of a request or push stream (RESET_STREAM)."""
        self._check(lib.h3q_conn_reset_stream(self.handle, stream_id, error_code),
                    "h3q_conn_reset_stream")

    def stop_sending(self, stream_id: int, error_code: int = H3_REQUEST_CANCELLED) -> None:
        """Asks the peer to stop sending on a request or push stream (STOP_SENDING)."""
        self._check(lib.h3q_conn_stop_sending(self.handle, stream_id, error_code),
                    "h3q_conn_stop_sending")

    def cancel_push(self, push_id: int) -> None:
        """Cancels a push (CANCEL_PUSH)."""
        self._check(lib.h3q_conn_cancel_push(self.handle, push_id), "h3q_conn_cancel_push")

    def send_origin(self, origins: Sequence[str]) -> None:
        """Sends ORIGIN (servers): the origins this server is authoritative for."""
        encoded = [o.encode("ascii") for o in origins]
        arr = (ctypes.c_char_p * len(encoded))(*encoded)
        self._check(lib.h3q_conn_send_origin(self.handle, arr, len(encoded)),
                    "h3q_conn_send_origin")

    # --- priorities (RFC 9218) ---

    def priority(self, stream_id: int) -> Optional[Priority]:
        """The priority h3q schedules the stream's sending by; None if not tracked."""
        out = h3q_priority()
        rc = lib.h3q_conn_get_priority(self.handle, stream_id, ctypes.byref(out))
        if rc == H3Q_DONE:
            return None
        self._check(rc, "h3q_conn_get_priority")
        return Priority(out.urgency, bool(out.incremental))

    def set_priority(self, stream_id: int, priority: Priority) -> None:
        """Sets what this stream's sending (a response, or a request body) is scheduled by."""
        c = priority._to_c()
        self._check(lib.h3q_conn_set_priority(self.handle, stream_id, ctypes.byref(c)),
                    "h3q_conn_set_priority")

    def send_priority_update(self, stream_id: int, priority: Priority) -> None:
        """A client asks the server to reprioritise a request (or the push on a push stream)."""
        c = priority._to_c()
        self._check(lib.h3q_conn_send_priority_update(self.handle, stream_id, ctypes.byref(c)),
                    "h3q_conn_send_priority_update")
