"""Config: certificates, trust, ALPN and transport limits of an Endpoint (h3q_config_*)."""

from __future__ import annotations

import ctypes
import enum
import os
from typing import Optional, Sequence, Union

from ._constants import (
    ABI_VERSION,
    CLIENT_AUTH_OFF,
    CLIENT_AUTH_REQUEST,
    CLIENT_AUTH_REQUIRE,
    CONGESTION_CONTROLLERS,
    H3Q_DONE,
    H3Q_ERR_BUFFER_TOO_SMALL,
)
from ._handle import Handle
from ._lib import lib
from .errors import check, thread_last_error


class ClientAuth(enum.IntEnum):
    """Whether a server asks clients for a certificate (h3q_client_auth)."""

    OFF = CLIENT_AUTH_OFF  # it does not (the default)
    REQUEST = CLIENT_AUTH_REQUEST  # it asks; clients without one are served
    REQUIRE = CLIENT_AUTH_REQUIRE  # clients without a certificate that verifies are refused


_CLIENT_AUTH_NAMES = {"off": ClientAuth.OFF, "request": ClientAuth.REQUEST,
                      "require": ClientAuth.REQUIRE}


class Config(Handle):
    """h3q_config: the configuration of an endpoint (copied by Endpoint(); close it after)."""

    _free_fn = "h3q_config_free"
    _last_error_fn = "h3q_config_last_error"

    def __init__(self, is_server: bool):
        out = ctypes.c_void_p()
        check(lib.h3q_config_new_versioned(ABI_VERSION, is_server, ctypes.byref(out)),
              "h3q_config_new_versioned", thread_last_error)
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

    def set_mtu_discovery(self, enabled: bool) -> None:
        """Path MTU discovery on or off (default off): connections probe for datagrams
        above QUIC's 1,200 bytes, up to 1,452 or set_max_udp_payload_size()'s ceiling, and
        keep the largest the path carries. Turn it on only with a socket that sets the
        don't-fragment bit (Linux: IP_MTU_DISCOVER = IP_PMTUDISC_PROBE)."""
        self._check(lib.h3q_config_set_mtu_discovery(self.handle, bool(enabled)),
                    "h3q_config_set_mtu_discovery")

    def set_max_udp_payload_size(self, size: int) -> None:
        """The largest UDP payload endpoints of this config accept and send, 1200 to 65527
        bytes; 0 restores the default (1,472 accepted, up to 1,452 sent). Peers are told not
        to send more; discovery probes up to it (8952 for jumbo frames). Endpoint's
        transmit_buffer and the program's receive buffers must hold that much."""
        if not isinstance(size, int) or not (size == 0 or 1200 <= size <= 65527):
            raise ValueError(f"max UDP payload size {size!r}: not 0 or 1200..65527")
        self._check(lib.h3q_config_set_max_udp_payload_size(self.handle, size),
                    "h3q_config_set_max_udp_payload_size")

    def set_max_datagram_frame_size(self, size: int) -> None:
        self._check(lib.h3q_config_set_max_datagram_frame_size(self.handle, size),
                    "h3q_config_set_max_datagram_frame_size")

    def set_key_log_file(self, path: str) -> None:
        self._check(lib.h3q_config_set_key_log_file(self.handle, os.fsencode(path)),
                    "h3q_config_set_key_log_file")

    # --- resumption, 0-RTT, address validation, client certificates ---

    def set_enable_0rtt(self, enabled: bool) -> None:
        """0-RTT (TLS early data) on or off. A server with it on accepts requests a
        resuming client sends before the handshake completes; they can be replayed, so
        answer early requests (QuicConnection.stream_is_early()) only when repeating them
        is harmless (GET, HEAD), 425 Too Early otherwise. Default off for servers, on for
        clients (which send 0-RTT when resuming a session that allows it)."""
        self._check(lib.h3q_config_set_enable_0rtt(self.handle, bool(enabled)),
                    "h3q_config_set_enable_0rtt")

    def rotate_secrets(self) -> None:
        """Endpoints made from this Config from now on get an empty TLS session cache and
        new Retry/NEW_TOKEN and stateless-reset keys; endpoints made before keep theirs,
        and the certificate stays. Earlier session tickets and tokens are then refused, as
        after a server restart. (Endpoints of one Config otherwise share all of these, so
        that several act as one server.)"""
        self._check(lib.h3q_config_rotate_secrets(self.handle), "h3q_config_rotate_secrets")

    def set_retry(self, enabled: bool) -> None:
        """A server answers every new client with a Retry (address validation: one more
        round trip, no amplification for spoofed sources). Default off; clients ignore it."""
        self._check(lib.h3q_config_set_retry(self.handle, bool(enabled)),
                    "h3q_config_set_retry")

    def set_retry_above_rate(self, handshakes_per_second: int) -> None:
        """Retry only while more than `handshakes_per_second` (1 to 2**32-1) new
        connections arrived in the last second."""
        if not isinstance(handshakes_per_second, int) or not (
                1 <= handshakes_per_second <= 0xFFFF_FFFF):
            raise ValueError(f"handshakes_per_second {handshakes_per_second!r}: not in "
                             "1..4294967295 (set_retry(True) retries always)")
        self._check(lib.h3q_config_set_retry_above_rate(self.handle, handshakes_per_second),
                    "h3q_config_set_retry_above_rate")

    def set_qlog_dir(self, path: Optional[Union[str, "os.PathLike[str]"]]) -> None:
        """Writes a qlog (JSON-SEQ, for qvis) of every connection into the directory
        `path`, or none (None). Raises an H3QError (H3Q_ERR_IO) when the directory is not
        one this process can create files in."""
        raw = None if path is None else os.fsencode(path)
        self._check(lib.h3q_config_set_qlog_dir(self.handle, raw), "h3q_config_set_qlog_dir")

    def set_server_id(self, server_id: Optional[bytes], config_rotation: int = 0) -> None:
        """Connection IDs carry `server_id` (1 to 15 bytes) in QUIC-LB's plaintext layout,
        under `config_rotation` 0 to 6, so load balancers can route by them; None: random
        connection IDs. See `h3q.cid_server_id` for the reading side."""
        if not isinstance(config_rotation, int) or not 0 <= config_rotation <= 255:
            raise ValueError(f"config_rotation {config_rotation!r}: not 0..6")
        data = bytes(server_id or b"")
        buf = (ctypes.c_uint8 * max(len(data), 1)).from_buffer_copy(data or b"\0")
        ptr = buf if server_id is not None else None
        self._check(lib.h3q_config_set_server_id(self.handle, config_rotation, ptr, len(data)),
                    "h3q_config_set_server_id")

    def set_client_auth(self, mode: Union[ClientAuth, int, str],
                        ca_pem: Optional[bytes] = None) -> None:
        """A server asks clients for a certificate: `mode` ClientAuth.OFF / REQUEST /
        REQUIRE (or "off" / "request" / "require"), `ca_pem` the PEM CA certificates a
        client's certificate must chain to (may be None with OFF). A client presents the
        certificate of its own Config (set_certificate_chain_pem / load_certificate_chain).
        """
        if isinstance(mode, str):
            if mode not in _CLIENT_AUTH_NAMES:
                raise ValueError(f"client auth mode {mode!r}: not one of "
                                 f"{', '.join(_CLIENT_AUTH_NAMES)}")
            mode = _CLIENT_AUTH_NAMES[mode]
        if not isinstance(mode, int) or not 0 <= mode <= 0xFFFF_FFFF:
            raise ValueError(f"client auth mode {mode!r}: not a ClientAuth")
        self._check(lib.h3q_config_set_client_auth(
            self.handle, int(mode), ca_pem, len(ca_pem) if ca_pem is not None else 0),
                    "h3q_config_set_client_auth")
