"""The C structs and callback type of include/h3q.h (ABI version 2), as ctypes declares
them. Private: the public classes copy everything out of these before returning."""

from __future__ import annotations

import ctypes

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
    """HTTP/3 settings; always start from h3q_settings_default() (see `h3q.Settings`)."""

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

# struct h3q_transport (ABI version 2) and its function pointer types.
_u8_p = ctypes.POINTER(ctypes.c_uint8)
transport_send_stream_data_fn = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.c_void_p, ctypes.c_uint64, _u8_p, ctypes.c_size_t, ctypes.c_bool)
transport_next_stream_id_fn = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.c_void_p, ctypes.c_bool, ctypes.POINTER(ctypes.c_uint64))
transport_stream_code_fn = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64)
transport_send_datagram_fn = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.c_void_p, _u8_p, ctypes.c_size_t)
transport_close_fn = ctypes.CFUNCTYPE(
    None, ctypes.c_void_p, ctypes.c_uint64, _u8_p, ctypes.c_size_t)
transport_set_priority_fn = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint8, ctypes.c_bool)


class h3q_transport(ctypes.Structure):
    """struct h3q_transport of ABI version 2: a QUIC stack's calls, for h3q_conn_new."""

    _fields_ = [
        ("user_data", ctypes.c_void_p),
        ("is_client", ctypes.c_bool),
        ("remote_max_datagram_frame_size", ctypes.c_uint64),
        ("send_stream_data", transport_send_stream_data_fn),
        ("get_next_available_stream_id", transport_next_stream_id_fn),
        ("reset_stream", transport_stream_code_fn),
        ("stop_stream", transport_stream_code_fn),
        ("send_datagram_frame", transport_send_datagram_fn),
        ("close", transport_close_fn),
        ("set_stream_priority", transport_set_priority_fn),
    ]
