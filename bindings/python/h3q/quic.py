"""QuicConnection: one connection of h3q's built-in QUIC layer (h3q_quic_conn_*)."""

from __future__ import annotations

import ctypes
import enum
from typing import Dict, List, Optional, Tuple

from ._address import from_sockaddr
from ._constants import (
    ABI_VERSION,
    EARLY_DATA_ACCEPTED,
    EARLY_DATA_NOT_OFFERED,
    EARLY_DATA_PENDING,
    EARLY_DATA_REJECTED,
    H3_NO_ERROR,
    H3Q_DONE,
    H3Q_ERR_BUFFER_TOO_SMALL,
    MAX_SESSION_TICKET,
)
from ._cstructs import c_socklen, c_u8_p, h3q_quic_event, h3q_quic_stats, sockaddr_storage
from ._handle import Handle
from ._lib import lib
from .quic_events import HandshakeCompleted, QuicEvent, quic_event_from_c


class EarlyData(enum.IntEnum):
    """What became of a client connection's 0-RTT data (h3q_early_data)."""

    NOT_OFFERED = EARLY_DATA_NOT_OFFERED  # none: a full handshake, 0-RTT off, a server
    PENDING = EARLY_DATA_PENDING  # offered, handshake running: what is sent goes as 0-RTT
    ACCEPTED = EARLY_DATA_ACCEPTED  # the server took it
    REJECTED = EARLY_DATA_REJECTED  # the server refused it (EarlyDataRejected was reported)


class QuicConnection(Handle):
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
        event = quic_event_from_c(ev)
        if isinstance(event, HandshakeCompleted):
            accepted = self.early_data == EarlyData.ACCEPTED
            event.early_data_accepted = event.session_resumed = accepted
        return event

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

    def stream_send_buffered(self, stream_id: int) -> int:
        """Bytes given for `stream_id` (send_stream_data, or H3Connection.send_data) that
        QUIC has not taken yet (flow control, send window): feed a large body while this is
        low instead of handing it over at once. 0 for an unknown stream."""
        out = ctypes.c_uint64()
        self._check(lib.h3q_quic_conn_stream_send_buffered(self.handle, stream_id,
                                                           ctypes.byref(out)),
                    "h3q_quic_conn_stream_send_buffered")
        return out.value

    def alpn(self) -> Optional[bytes]:
        ptr, n = c_u8_p(), ctypes.c_size_t()
        rc = lib.h3q_quic_conn_alpn(self.handle, ctypes.byref(ptr), ctypes.byref(n))
        if rc == H3Q_DONE:
            return None
        self._check(rc, "h3q_quic_conn_alpn")
        return ctypes.string_at(ptr, n.value)

    def remote_address(self) -> Tuple[str, int]:
        st, n = sockaddr_storage(), c_socklen()
        self._check(lib.h3q_quic_conn_remote_address(self.handle, ctypes.byref(st),
                                                     ctypes.byref(n)),
                    "h3q_quic_conn_remote_address")
        return from_sockaddr(st, n.value)

    def stats(self) -> Dict[str, int]:
        """The connection's measurements: round trips (ns), congestion window, bytes,
        datagrams and packets sent, received and lost, path MTU."""
        out = h3q_quic_stats()
        self._check(lib.h3q_quic_conn_stats_versioned(self.handle, ABI_VERSION,
                                                      ctypes.byref(out)),
                    "h3q_quic_conn_stats_versioned")
        return {field[0]: getattr(out, field[0]) for field in h3q_quic_stats._fields_}

    # --- resumption and 0-RTT ---

    def session_ticket(self) -> Optional[bytes]:
        """The session ticket the server sent on this client connection (at most
        MAX_SESSION_TICKET bytes), or None: not received yet (servers send it just after
        the handshake: ask once a response arrived, or before closing), a server
        connection, or already used. Give it to Endpoint.connect(session_ticket=...) *of
        the same endpoint* to resume."""
        buf = (ctypes.c_uint8 * MAX_SESSION_TICKET)()
        n = ctypes.c_size_t()
        rc = lib.h3q_quic_conn_session_ticket(self.handle, buf, len(buf), ctypes.byref(n))
        if rc == H3Q_ERR_BUFFER_TOO_SMALL:  # a newer library with longer tickets
            buf = (ctypes.c_uint8 * n.value)()
            rc = lib.h3q_quic_conn_session_ticket(self.handle, buf, len(buf), ctypes.byref(n))
        if rc == H3Q_DONE:
            return None
        self._check(rc, "h3q_quic_conn_session_ticket")
        return bytes(buf[:n.value])

    @property
    def early_data(self) -> EarlyData:
        """What became of this client connection's 0-RTT data."""
        value = int(lib.h3q_quic_conn_early_data(self.handle))
        try:
            return EarlyData(value)
        except ValueError:  # a newer library's value
            return EarlyData.NOT_OFFERED

    @property
    def is_0rtt(self) -> bool:
        """True while what this client connection sends goes as 0-RTT."""
        return bool(lib.h3q_quic_conn_is_0rtt(self.handle))

    def stream_is_early(self, stream_id: int) -> bool:
        """A server: True when the client opened request stream `stream_id` before the
        handshake completed (its request came, at least in part, as 0-RTT data, which an
        attacker can replay: answer it only if repeating it is harmless, else 425)."""
        return bool(lib.h3q_quic_conn_stream_is_early(self.handle, stream_id))

    def peer_certificates(self) -> List[bytes]:
        """The certificate chain the peer presented, DER, its own certificate first; empty
        before the handshake completed or when the peer presented none (a client that a
        CLIENT_AUTH_REQUEST server served without one)."""
        chain: List[bytes] = []
        n = ctypes.c_size_t()
        while True:
            rc = lib.h3q_quic_conn_peer_certificate(self.handle, len(chain), None, 0,
                                                    ctypes.byref(n))
            if rc == H3Q_DONE:
                return chain
            if rc != H3Q_ERR_BUFFER_TOO_SMALL:
                self._check(rc, "h3q_quic_conn_peer_certificate")
                return chain  # H3Q_OK for an empty certificate: cannot happen in TLS
            buf = (ctypes.c_uint8 * n.value)()
            self._check(lib.h3q_quic_conn_peer_certificate(self.handle, len(chain), buf,
                                                           len(buf), ctypes.byref(n)),
                        "h3q_quic_conn_peer_certificate")
            chain.append(bytes(buf[:n.value]))
