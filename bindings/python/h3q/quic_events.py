"""QUIC events as h3q's built-in QUIC layer reports them, by aioquic's class names.

`QuicConnection.next_event()` returns one of the subclasses below; each is also a
`QuicEvent`, the one record every kind shares (its `type` says which kind, one of the
QUIC_* constants), which is what `H3Connection.handle_event()` takes. The subclasses carry
aioquic.quic.events' names and attributes, so `isinstance(event, HandshakeCompleted)` and
`event.alpn_protocol` work as in aioquic:

    StreamDataReceived      data, end_stream, stream_id
    StreamReset             error_code, stream_id
    StopSendingReceived     error_code, stream_id
    DatagramFrameReceived   data
    HandshakeCompleted      alpn_protocol (str); early_data_accepted, session_resumed
    ConnectionTerminated    error_code, reason_phrase (str), frame_type (None); and h3q's
                            error_space (ERROR_SPACE_*) and closed_by_peer

and one aioquic has not:

    EarlyDataRejected       a client's 0-RTT data was refused by the server (no fields);
                            comes just before HandshakeCompleted. Give it to the
                            H3Connection like the others: it reports every request sent
                            early as StreamReset with H3_REQUEST_REJECTED; send those
                            again (stream ids start over at 0).

Events are plain data: their bytes are copies, valid for as long as the program keeps them.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Dict, Optional, Type

from . import _constants as c
from ._cstructs import c_u8_p, h3q_quic_event


@dataclass
class QuicEvent:
    """A QUIC event, copied out of h3q (aioquic's QUIC events in one record).

    type: QUIC_STREAM_DATA_RECEIVED, QUIC_STREAM_RESET, QUIC_STOP_SENDING_RECEIVED,
          QUIC_DATAGRAM_RECEIVED, QUIC_HANDSHAKE_COMPLETED, QUIC_CONNECTION_TERMINATED,
          QUIC_EARLY_DATA_REJECTED
    """

    type: int
    stream_id: int = 0
    data: bytes = b""
    end_stream: bool = False
    error_code: int = 0
    reason: bytes = b""
    # QUIC_CONNECTION_TERMINATED: the code space of error_code (ERROR_SPACE_*) and whether
    # the peer closed.
    error_space: int = c.ERROR_SPACE_UNSPECIFIED
    closed_by_peer: bool = False

    def _to_c(self) -> h3q_quic_event:
        """The C event; its pointers point into this object's bytes (keep it alive)."""
        ev = h3q_quic_event(type=self.type, stream_id=self.stream_id,
                            data_len=len(self.data), end_stream=self.end_stream,
                            error_code=self.error_code, reason_len=len(self.reason),
                            error_space=self.error_space, closed_by_peer=self.closed_by_peer)
        if self.data:
            ev.data = ctypes.cast(ctypes.c_char_p(self.data), c_u8_p)
        if self.reason:
            ev.reason = ctypes.cast(ctypes.c_char_p(self.reason), c_u8_p)
        return ev


@dataclass
class StreamDataReceived(QuicEvent):
    """Bytes arrived on stream_id; end_stream once the peer finished it."""

    type: int = c.QUIC_STREAM_DATA_RECEIVED


@dataclass
class StreamReset(QuicEvent):
    """The peer reset stream_id (RESET_STREAM) with error_code."""

    type: int = c.QUIC_STREAM_RESET


@dataclass
class StopSendingReceived(QuicEvent):
    """The peer asked us to stop sending on stream_id (STOP_SENDING) with error_code."""

    type: int = c.QUIC_STOP_SENDING_RECEIVED


@dataclass
class DatagramFrameReceived(QuicEvent):
    """A QUIC DATAGRAM frame arrived (data)."""

    type: int = c.QUIC_DATAGRAM_RECEIVED


@dataclass
class HandshakeCompleted(QuicEvent):
    """The TLS handshake completed; data is the negotiated ALPN protocol.

    early_data_accepted: a client's 0-RTT data was accepted (QuicConnection.early_data
    is EarlyData.ACCEPTED when the event was taken). session_resumed: True when the
    session is known to be resumed, i.e. with early data accepted; h3q has no call that
    tells a resumption without 0-RTT from a full handshake, so that case reads False.
    """

    type: int = c.QUIC_HANDSHAKE_COMPLETED
    early_data_accepted: bool = False
    session_resumed: bool = False

    @property
    def alpn_protocol(self) -> Optional[str]:
        return self.data.decode("ascii", "replace") if self.data else None


@dataclass
class EarlyDataRejected(QuicEvent):
    """h3q: the server rejected this client's 0-RTT data (just before HandshakeCompleted).
    The H3Connection turns it into a StreamReset (H3_REQUEST_REJECTED) for each request
    sent early; send them again, on new stream ids (they start over at 0)."""

    type: int = c.QUIC_EARLY_DATA_REJECTED


@dataclass
class ConnectionTerminated(QuicEvent):
    """The connection is over: error_code in error_space, the reason, who closed it."""

    type: int = c.QUIC_CONNECTION_TERMINATED

    @property
    def reason_phrase(self) -> str:
        return self.reason.decode("utf-8", "replace")

    @property
    def frame_type(self) -> Optional[int]:
        return None  # h3q does not report which frame caused a transport error


_CLASSES: Dict[int, Type[QuicEvent]] = {
    c.QUIC_STREAM_DATA_RECEIVED: StreamDataReceived,
    c.QUIC_STREAM_RESET: StreamReset,
    c.QUIC_STOP_SENDING_RECEIVED: StopSendingReceived,
    c.QUIC_DATAGRAM_RECEIVED: DatagramFrameReceived,
    c.QUIC_HANDSHAKE_COMPLETED: HandshakeCompleted,
    c.QUIC_CONNECTION_TERMINATED: ConnectionTerminated,
    c.QUIC_EARLY_DATA_REJECTED: EarlyDataRejected,
}


def quic_event_from_c(ev: h3q_quic_event) -> QuicEvent:
    """A copy of a C QUIC event as its aioquic-named class (QuicEvent for unknown types)."""
    cls = _CLASSES.get(ev.type, QuicEvent)
    return cls(type=ev.type, stream_id=ev.stream_id,
               data=ctypes.string_at(ev.data, ev.data_len) if ev.data_len else b"",
               end_stream=bool(ev.end_stream), error_code=ev.error_code,
               reason=ctypes.string_at(ev.reason, ev.reason_len) if ev.reason_len else b"",
               error_space=ev.error_space, closed_by_peer=bool(ev.closed_by_peer))
