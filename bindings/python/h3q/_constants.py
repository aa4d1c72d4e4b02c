"""The numbers of include/h3q.h that Python code compares against.

h3q_result codes (H3Q_OK, H3Q_ERR_*), the QUIC and HTTP event types, the error spaces, and
the HTTP/3 error codes of RFC 9114 §8.1. They are the values of ABI version `ABI_VERSION`,
the version this package passes to every versioned constructor, so the library returns
exactly these whatever newer version it is itself.
"""

from __future__ import annotations

# The ABI version this package mirrors (H3Q_ABI_VERSION of include/h3q.h): the struct
# layouts in _cstructs.py and the values below.
ABI_VERSION = 2

# --- h3q_result ---
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

# --- h3q_quic_event_type ---
QUIC_STREAM_DATA_RECEIVED = 0
QUIC_STREAM_RESET = 1
QUIC_STOP_SENDING_RECEIVED = 2
QUIC_DATAGRAM_RECEIVED = 3
QUIC_HANDSHAKE_COMPLETED = 4
QUIC_CONNECTION_TERMINATED = 5
QUIC_EARLY_DATA_REJECTED = 6  # a client's 0-RTT data was rejected (ABI version 2)

# --- h3q_event_type ---
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

# --- h3q_error_space: which code space an error code belongs to ---
ERROR_SPACE_UNSPECIFIED = 0
ERROR_SPACE_TRANSPORT = 1
ERROR_SPACE_APPLICATION = 2
ERROR_SPACE_NO_CODE = 3  # no code was exchanged: idle timeout, stateless reset

# --- HTTP/3 error codes (RFC 9114 §8.1; h3q_h3_error) ---
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

# --- h3q_early_data: what became of a client's 0-RTT data (see h3q.EarlyData) ---
EARLY_DATA_NOT_OFFERED = 0
EARLY_DATA_PENDING = 1
EARLY_DATA_ACCEPTED = 2
EARLY_DATA_REJECTED = 3

# --- h3q_client_auth: whether a server asks clients for a certificate ---
CLIENT_AUTH_OFF = 0
CLIENT_AUTH_REQUEST = 1
CLIENT_AUTH_REQUIRE = 2

# The longest session ticket h3q_quic_conn_session_ticket() writes (H3Q_MAX_SESSION_TICKET).
MAX_SESSION_TICKET = 278

# --- ECN codepoints (the two low bits of the IP TOS / IPv6 traffic class byte) ---
ECN_NOT_ECT = 0
ECN_ECT1 = 1
ECN_ECT0 = 2
ECN_CE = 3

# The smallest buffer h3q_endpoint_poll_transmit() accepts.
MIN_TRANSMIT_BUFFER = 1472

# h3q_congestion_control, by the names the example programs' --cc takes.
CONGESTION_CONTROLLERS = {"newreno": 0, "cubic": 1, "bbr": 2}

# The ALPN protocols of HTTP/3 (aioquic's H3_ALPN).
H3_ALPN = ["h3"]
