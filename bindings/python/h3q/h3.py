"""H3Connection (aioquic's sans-I/O HTTP/3 connection, h3q_conn_*) and Settings."""

from __future__ import annotations

import ctypes
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

from ._constants import ABI_VERSION, H3_REQUEST_CANCELLED, H3Q_DONE
from ._cstructs import c_u8_p, h3q_event_cb, h3q_header, h3q_priority, h3q_settings
from ._handle import Handle
from ._lib import lib
from .errors import H3QError, check, decode, error_for, thread_last_error
from .events import H3Event, Priority, event_from_c
from .quic import QuicConnection
from .quic_events import QuicEvent
from .transport import QuicTransport, quic_event_from_object

# Header lines as (name, value) pairs; str is encoded as UTF-8.
HeaderInput = Sequence[Tuple[Union[bytes, str], Union[bytes, str]]]


def _headers_to_c(headers: HeaderInput) -> Tuple[Any, List[bytes]]:
    """An h3q_header array (and the bytes objects it points into, to keep them alive)."""
    keep: List[bytes] = []
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

    def __init__(self, **changes: Any):
        self._c = h3q_settings()
        check(lib.h3q_settings_default_versioned(ABI_VERSION, ctypes.byref(self._c)),
              "h3q_settings_default_versioned", thread_last_error)
        for k, v in changes.items():
            setattr(self, k, v)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._c, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        elif name in {field[0] for field in h3q_settings._fields_}:
            setattr(self._c, name, value)
        else:
            raise AttributeError(f"h3q_settings has no field {name!r}")


EventCallback = Callable[[H3Event], None]


class H3Connection(Handle):
    """h3q_conn: aioquic's H3Connection, over h3q's QuicConnection or a Python QUIC stack.

    `quic` is an h3q QuicConnection (h3q's built-in QUIC layer), or any object with
    aioquic's QuicConnection methods, such as aioquic's QuicConnection itself: then h3q
    calls it through a transport table (see h3q.transport), and handle_event() also takes
    that stack's events (aioquic's StreamDataReceived, ... ; others give no HTTP events).

    handle_event(quic_event) returns the HTTP events it produced (and calls `callback`, when
    given, for each one as h3q delivers it, from inside h3q_conn_handle_event; the callback
    may call send_headers/send_data on this connection). An exception raised by a callback
    is re-raised by handle_event once the C call has returned.

    `settings` (default: h3q_settings_default()) is read during the constructor;
    `enable_webtransport=True` (aioquic's keyword) turns that setting on. Raises H3QError
    when `quic` is closed or the settings are invalid. The H3Connection and its
    QuicConnection are independent handles: close them in either order.
    """

    _free_fn = "h3q_conn_free"
    _last_error_fn = "h3q_conn_last_error"

    def __init__(self, quic: Any, settings: Optional[Settings] = None,
                 enable_webtransport: bool = False):
        if enable_webtransport:
            settings = settings if settings is not None else Settings()
            settings.enable_webtransport = True
        out = ctypes.c_void_p()
        cs = ctypes.byref(settings._c) if settings is not None else None
        self._transport: Optional[QuicTransport] = None
        if isinstance(quic, QuicConnection):
            check(lib.h3q_conn_new_quic_versioned(ABI_VERSION, quic.handle, cs,
                                                  ctypes.byref(out)),
                  "h3q_conn_new_quic_versioned", thread_last_error)
        else:
            self._transport = QuicTransport(quic)
            rc = lib.h3q_conn_new_versioned(ABI_VERSION, ctypes.byref(self._transport.table),
                                            cs, ctypes.byref(out))
            cause = self._transport.take_error()
            if rc < 0:
                raise error_for(rc, "h3q_conn_new_versioned",
                                decode(thread_last_error())) from cause
        super().__init__(out)
        self._pending: List[H3Event] = []
        self._user_cb: Optional[EventCallback] = None
        self._cb_error: Optional[BaseException] = None
        # One C trampoline per connection, referenced for the connection's lifetime.
        self._trampoline = h3q_event_cb(self._on_event)

    def _on_event(self, _user_data: Any, ev_ptr: Any) -> None:
        try:
            event = event_from_c(ev_ptr.contents)
            self._pending.append(event)
            if self._user_cb is not None and self._cb_error is None:
                self._user_cb(event)
        except BaseException as e:  # never let an exception unwind through C
            if self._cb_error is None:
                self._cb_error = e

    def _check(self, code: int, call: str) -> int:
        """Handle._check; over a Python QUIC stack, the exception its callback raised (if
        that is why h3q failed) becomes the H3QError's __cause__."""
        cause = self._transport.take_error() if self._transport is not None else None
        try:
            return super()._check(code, call)
        except H3QError as e:
            if cause is None:
                raise
            raise e from cause

    def handle_event(self, event: Any,
                     callback: Optional[EventCallback] = None) -> List[H3Event]:
        """Feeds one QUIC event; returns the HTTP events it produced, in order."""
        if not isinstance(event, QuicEvent):
            converted = quic_event_from_object(event)
            if converted is None:
                return []  # an event HTTP/3 does not need (ProtocolNegotiated, ...)
            event = converted
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

    def send_headers(self, stream_id: int, headers: HeaderInput,
                     end_stream: bool = False) -> None:
        arr, _keep = _headers_to_c(headers)
        self._check(lib.h3q_conn_send_headers(self.handle, stream_id, arr, len(headers),
                                              end_stream),
                    "h3q_conn_send_headers")

    def send_data(self, stream_id: int, data: bytes, end_stream: bool = False) -> None:
        self._check(lib.h3q_conn_send_data(self.handle, stream_id, bytes(data), len(data),
                                           end_stream),
                    "h3q_conn_send_data")

    def send_push_promise(self, stream_id: int, headers: HeaderInput) -> int:
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
        c = priority.to_c()
        self._check(lib.h3q_conn_set_priority(self.handle, stream_id, ctypes.byref(c)),
                    "h3q_conn_set_priority")

    def send_priority_update(self, stream_id: int, priority: Priority) -> None:
        """A client asks the server to reprioritise a request (or the push on a push stream)."""
        c = priority.to_c()
        self._check(lib.h3q_conn_send_priority_update(self.handle, stream_id, ctypes.byref(c)),
                    "h3q_conn_send_priority_update")
