"""h3q: HTTP/3 (aioquic's sans-I/O H3Connection API) from Rust, through its C ABI.

h3q implements aioquic's HTTP/3 API in Rust over quinn-proto's QUIC; this package calls
the library (libh3q, bundled in the wheel) through ctypes. Two ways to use it:

* sans-I/O, as the C API: `Config` -> `Endpoint` (datagrams in and out, timers, new
  connections) -> `QuicConnection` (its event queue) -> `H3Connection` (handle_event,
  send_headers, send_data, send_push_promise, and the lifecycle: GOAWAY, resets,
  priorities). The program owns the socket and the clock (nanoseconds on a monotonic
  clock, passed to every call that takes `now_ns`).
* `h3q.asyncio`: aioquic.asyncio's serve() / connect() and QuicConnectionProtocol, driving
  an Endpoint over an asyncio datagram socket.

Ownership: each wrapper owns one C handle and frees it in `close()` (all are context
managers); closing twice is harmless, a closed wrapper raises HandleClosedError. Handles
are independent in C, so wrappers close in any order. Everything C hands out is copied
into Python objects before a call returns: nothing returned dangles.

Errors: a failing call raises an `H3QError` subclass (see `h3q.errors`) carrying the
h3q_result code, its name, and the handle's last error message.

The library is found as `h3q._lib` says: $H3Q_LIBRARY, else the copy inside this package,
else the system loader. `version()` is the library's version.
"""

from __future__ import annotations

import ctypes

from . import _constants
from ._constants import *  # noqa: F401,F403  (H3Q_*, QUIC_*, EVENT_*, H3_*, ...)
from ._lib import lib, library_path
from .config import ClientAuth, Config
from .configuration import QuicConfiguration
from .endpoint import Endpoint, Transmit
from .errors import (
    ConnectionClosedError,
    FieldSectionTooLargeError,
    FrameUnexpected,
    GoingAwayError,
    H3Error,
    H3QError,
    HandleClosedError,
    InternalError,
    InvalidArgumentError,
    InvalidStreamTypeError,
    NoAvailablePushIDError,
    ProtocolError,
    TlsError,
    TransportError,
    WrongRoleError,
    decode,
    error_for,
    h3_error_name,
    result_str,
)
from .events import (
    ConnectionClosed,
    DatagramReceived,
    DataReceived,
    GoawayReceived,
    H3Event,
    Headers,
    HeadersReceived,
    OriginReceived,
    Priority,
    PriorityUpdate,
    PushCancelled,
    PushPromiseReceived,
    StopSending,
    StreamReset,
    WebTransportStreamDataReceived,
)
from .h3 import H3Connection, Settings
from .quic import EarlyData, QuicConnection
from .quic_events import EarlyDataRejected, QuicEvent


def cid_server_id(packet: bytes, server_id_len: int) -> "tuple[bytes, int]":
    """h3q_cid_server_id(): the server id (`server_id_len` bytes) and config rotation that
    the destination connection ID of the QUIC packet at the start of `packet` carries, as
    a QUIC-LB load balancer reads them. Raises an H3QError (InvalidArgumentError) with the
    reason for a packet that holds none."""
    data = bytes(packet)
    buf = (ctypes.c_uint8 * max(len(data), 1)).from_buffer_copy(data or b"\0")
    out = (ctypes.c_uint8 * max(server_id_len, 1))()
    rotation = ctypes.c_uint8(0)
    code = lib.h3q_cid_server_id(buf, len(data), server_id_len, out, ctypes.byref(rotation))
    if code < 0:
        raise error_for(code, "h3q_cid_server_id", decode(lib.h3q_last_error()))
    return bytes(out)[:server_id_len], rotation.value


def version() -> str:
    """h3q_version(): the library's version, e.g. "0.1.0"."""
    return str(lib.h3q_version().decode())


__version__ = "0.1.0"

__all__ = [name for name in dir(_constants) if name.isupper()] + [
    "lib", "library_path", "version", "Config", "QuicConfiguration", "Endpoint", "Transmit",
    "QuicConnection", "QuicEvent", "H3Connection", "Settings", "ClientAuth", "EarlyData",
    "EarlyDataRejected",
    "H3Error", "H3QError", "FrameUnexpected", "InvalidStreamTypeError",
    "NoAvailablePushIDError", "ProtocolError", "InvalidArgumentError", "WrongRoleError",
    "TlsError", "TransportError", "GoingAwayError", "FieldSectionTooLargeError",
    "ConnectionClosedError", "HandleClosedError", "InternalError", "result_str",
    "h3_error_name",
    "H3Event", "Headers", "HeadersReceived", "DataReceived", "PushPromiseReceived",
    "DatagramReceived", "WebTransportStreamDataReceived", "GoawayReceived", "StreamReset",
    "StopSending", "PushCancelled", "ConnectionClosed", "OriginReceived", "PriorityUpdate",
    "Priority",
]
