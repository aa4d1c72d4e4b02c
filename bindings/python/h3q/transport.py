"""An H3Connection over a QUIC connection written in Python, such as aioquic's.

h3q's HTTP/3 layer runs over any QUIC stack through a table of functions (h3q_transport,
include/h3q.h "Over your own QUIC stack"). `QuicTransport` fills that table with ctypes
callbacks that call a Python object having aioquic's QuicConnection methods:

    send_stream_data(stream_id, data, end_stream)
    get_next_available_stream_id(is_unidirectional)
    reset_stream(stream_id, error_code)        stop_stream(stream_id, error_code)
    close(error_code=..., reason_phrase=...)   send_datagram_frame(data)  (optional)

and reads whether it is the client from `configuration.is_client` (aioquic) or
`is_client`. `H3Connection(quic)` uses it for any `quic` that is not an h3q
QuicConnection; `quic_event_from_object()` turns that stack's events (aioquic's
StreamDataReceived, StreamReset, StopSendingReceived, DatagramFrameReceived,
HandshakeCompleted, ConnectionTerminated, by class name and attributes) into h3q's, and
returns None for the others (ProtocolNegotiated, ConnectionIdIssued, ...).

A callback that raises makes h3q report H3Q_ERR_TRANSPORT; the exception is kept in
`QuicTransport.error` (H3Connection raises it from the failing call) and never crosses
into C. The peer's max_datagram_frame_size is read once, when the H3Connection is made:
make it after the handshake for HTTP datagrams.
"""

from __future__ import annotations

import ctypes
from typing import Any, Optional

from . import _constants as c
from ._cstructs import (
    h3q_transport,
    transport_close_fn,
    transport_next_stream_id_fn,
    transport_send_datagram_fn,
    transport_send_stream_data_fn,
    transport_set_priority_fn,
    transport_stream_code_fn,
)
from .quic_events import QuicEvent

def _is_client(quic: Any) -> bool:
    configuration = getattr(quic, "configuration", None)
    if configuration is not None and hasattr(configuration, "is_client"):
        return bool(configuration.is_client)
    if hasattr(quic, "is_client"):
        return bool(quic.is_client)
    raise ValueError(f"{type(quic).__name__}: neither .configuration.is_client nor "
                     ".is_client says whether it is the client")


class QuicTransport:
    """The h3q_transport table for `quic` and the callbacks behind it (kept alive here:
    the H3Connection holds this object for as long as its handle lives)."""

    REQUIRED = ("send_stream_data", "get_next_available_stream_id", "reset_stream",
                "stop_stream", "close")

    def __init__(self, quic: Any):
        missing = [name for name in self.REQUIRED if not callable(getattr(quic, name, None))]
        if missing:
            raise TypeError(f"{type(quic).__name__} is not a QUIC connection h3q can use: "
                            f"no {', '.join(missing)}()")
        self.quic = quic
        self.error: Optional[BaseException] = None
        remote = getattr(quic, "_remote_max_datagram_frame_size", None) or 0
        # The C trampolines, referenced here for as long as the table may be called.
        self._callbacks = (
            transport_send_stream_data_fn(self._send_stream_data),
            transport_next_stream_id_fn(self._next_stream_id),
            transport_stream_code_fn(self._reset_stream),
            transport_stream_code_fn(self._stop_stream),
            (transport_send_datagram_fn(self._send_datagram)
             if callable(getattr(quic, "send_datagram_frame", None))
             else transport_send_datagram_fn()),
            transport_close_fn(self._close),
        )
        self.table = h3q_transport(None, _is_client(quic), remote, *self._callbacks,
                                   transport_set_priority_fn())

    def take_error(self) -> Optional[BaseException]:
        error, self.error = self.error, None
        return error

    def _failed(self, e: BaseException) -> int:
        if self.error is None:
            self.error = e
        return -1

    def _send_stream_data(self, _user: Any, stream_id: int, data: Any, length: int,
                          end_stream: bool) -> int:
        try:
            payload = ctypes.string_at(data, length) if length else b""
            self.quic.send_stream_data(stream_id, payload, bool(end_stream))
            return 0
        except BaseException as e:
            return self._failed(e)

    def _next_stream_id(self, _user: Any, unidirectional: bool, out: Any) -> int:
        try:
            out[0] = self.quic.get_next_available_stream_id(bool(unidirectional))
            return 0
        except BaseException as e:
            return self._failed(e)

    def _reset_stream(self, _user: Any, stream_id: int, error_code: int) -> int:
        try:
            self.quic.reset_stream(stream_id, error_code)
            return 0
        except BaseException as e:
            return self._failed(e)

    def _stop_stream(self, _user: Any, stream_id: int, error_code: int) -> int:
        try:
            self.quic.stop_stream(stream_id, error_code)
            return 0
        except BaseException as e:
            return self._failed(e)

    def _send_datagram(self, _user: Any, data: Any, length: int) -> int:
        try:
            self.quic.send_datagram_frame(ctypes.string_at(data, length) if length else b"")
            return 0
        except BaseException as e:
            return self._failed(e)

    def _close(self, _user: Any, error_code: int, reason: Any, length: int) -> None:
        try:
            phrase = (ctypes.string_at(reason, length).decode("utf-8", "replace")
                      if length else "")
            self.quic.close(error_code=error_code, reason_phrase=phrase)
        except BaseException as e:
            self._failed(e)


def quic_event_from_object(event: Any) -> Optional[QuicEvent]:
    """h3q's QuicEvent for an event of another QUIC stack (aioquic's classes, by name and
    attributes); None for an event HTTP/3 does not need."""
    if isinstance(event, QuicEvent):
        return event
    kind = type(event).__name__
    if kind == "StreamDataReceived":
        return QuicEvent(c.QUIC_STREAM_DATA_RECEIVED, stream_id=event.stream_id,
                         data=bytes(event.data), end_stream=bool(event.end_stream))
    if kind == "StreamReset":
        return QuicEvent(c.QUIC_STREAM_RESET, stream_id=event.stream_id,
                         error_code=event.error_code)
    if kind == "StopSendingReceived":
        return QuicEvent(c.QUIC_STOP_SENDING_RECEIVED, stream_id=event.stream_id,
                         error_code=event.error_code)
    if kind == "DatagramFrameReceived":
        return QuicEvent(c.QUIC_DATAGRAM_RECEIVED, data=bytes(event.data))
    if kind == "HandshakeCompleted":
        alpn = event.alpn_protocol or ""
        return QuicEvent(c.QUIC_HANDSHAKE_COMPLETED, data=alpn.encode("ascii"))
    if kind == "ConnectionTerminated":
        # aioquic gives a frame type for transport errors only: that tells the space.
        space = (c.ERROR_SPACE_TRANSPORT if getattr(event, "frame_type", None) is not None
                 else c.ERROR_SPACE_UNSPECIFIED)
        return QuicEvent(c.QUIC_CONNECTION_TERMINATED, error_code=event.error_code,
                         reason=str(event.reason_phrase or "").encode("utf-8"),
                         error_space=space)
    return None
