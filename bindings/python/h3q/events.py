"""The HTTP events H3Connection.handle_event() returns (aioquic's h3.events), and Priority.

aioquic's events, same names and attributes: HeadersReceived, DataReceived,
PushPromiseReceived, DatagramReceived, WebTransportStreamDataReceived. And h3q's lifecycle
events, which aioquic does not have: GoawayReceived, StreamReset, StopSending,
PushCancelled, ConnectionClosed, OriginReceived, PriorityUpdate. Every event's bytes are
copies: they stay valid after the call that produced them.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ._constants import (
    ERROR_SPACE_UNSPECIFIED,
    EVENT_CONNECTION_CLOSED,
    EVENT_DATA_RECEIVED,
    EVENT_DATAGRAM_RECEIVED,
    EVENT_GOAWAY_RECEIVED,
    EVENT_HEADERS_RECEIVED,
    EVENT_ORIGIN_RECEIVED,
    EVENT_PRIORITY_UPDATE,
    EVENT_PUSH_CANCELLED,
    EVENT_PUSH_PROMISE_RECEIVED,
    EVENT_STOP_SENDING,
    EVENT_STREAM_RESET,
    EVENT_WEBTRANSPORT_STREAM_DATA_RECEIVED,
)
from ._cstructs import h3q_event, h3q_priority
from ._lib import lib
from .errors import check, thread_last_error

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
        check(lib.h3q_priority_parse(buf, len(value), ctypes.byref(out)),
              "h3q_priority_parse", thread_last_error)
        return Priority(out.urgency, bool(out.incremental))

    def to_c(self) -> h3q_priority:
        return h3q_priority(urgency=self.urgency, incremental=self.incremental)


@dataclass
class PriorityUpdate(H3Event):
    """A server: the client changed the priority of a request (or of push push_id)."""
    priority: Priority = field(default_factory=Priority)


def headers_from_c(ptr: Any, n: int) -> Headers:
    out: Headers = []
    for i in range(n):
        h = ptr[i]
        out.append((ctypes.string_at(h.name, h.name_len) if h.name_len else b"",
                    ctypes.string_at(h.value, h.value_len) if h.value_len else b""))
    return out


def event_from_c(ev: h3q_event) -> H3Event:
    push_id = ev.push_id if ev.has_push_id else None
    common: Dict[str, Any] = dict(stream_id=ev.stream_id, stream_ended=bool(ev.stream_ended),
                                  push_id=push_id)
    data = ctypes.string_at(ev.data, ev.data_len) if ev.data_len else b""
    if ev.type == EVENT_HEADERS_RECEIVED:
        return HeadersReceived(headers=headers_from_c(ev.headers, ev.headers_len), **common)
    if ev.type == EVENT_DATA_RECEIVED:
        return DataReceived(data=data, **common)
    if ev.type == EVENT_PUSH_PROMISE_RECEIVED:
        return PushPromiseReceived(headers=headers_from_c(ev.headers, ev.headers_len), **common)
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
                   for name, _ in headers_from_c(ev.headers, ev.headers_len)]
        return OriginReceived(origins=origins, **common)
    raise ValueError(f"unknown h3q_event type {ev.type}")
