"""QuicConfiguration: aioquic's configuration class, turned into an h3q Config.

The asyncio layer (h3q.asyncio.connect / serve) takes one of these, as aioquic's does, so
a ported program keeps building its configuration the same way:

    configuration = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN)
    configuration.verify_mode = ssl.CERT_NONE          # or load_verify_locations(cafile)
    configuration.load_cert_chain("cert.pem", "key.pem")   # a server

What h3q's QUIC layer has no equivalent for is refused with ValueError rather than
ignored: a key password, a CA directory (`capath`), session tickets, quic_logger.
Certificate and CA files are read when load_cert_chain() / load_verify_locations() is
called (OSError if unreadable); their contents are checked when the configuration is
used (h3q.TlsError naming the problem).
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field
from typing import Any, List, Optional, Union

from ._constants import H3_ALPN
from .config import Config

PathLike = Union[str, "os.PathLike[str]"]

# aioquic's congestion_control_algorithm names, and h3q's own.
_CONGESTION = {"reno": "newreno", "newreno": "newreno", "cubic": "cubic", "bbr": "bbr"}


@dataclass
class QuicConfiguration:
    """What a QUIC endpoint needs (aioquic.quic.configuration.QuicConfiguration's fields
    that h3q's QUIC layer has).

    is_client:          True for connect(), False for serve()
    alpn_protocols:     ALPN protocols offered / accepted (default H3_ALPN, ["h3"])
    idle_timeout:       seconds without traffic before the connection closes (default 60)
    server_name:        the name a client verifies and sends as SNI (default: the host
                        given to connect())
    verify_mode:        ssl.CERT_NONE turns certificate verification off (a client);
                        default ssl.CERT_REQUIRED
    max_datagram_frame_size: enables QUIC DATAGRAM frames up to this size
    max_stream_data:    flow-control credit per stream given to the peer (bytes)
    congestion_control_algorithm: "reno", "cubic" (default) or "bbr"
    secrets_log_file:   a path, or an open file (its name is used), for TLS secrets in the
                        NSS key log format (Wireshark)
    quic_logger, session_ticket: accepted only as None (h3q has neither)
    """

    is_client: bool = True
    alpn_protocols: Optional[List[str]] = None
    idle_timeout: float = 60.0
    server_name: Optional[str] = None
    verify_mode: Optional[int] = None
    max_datagram_frame_size: Optional[int] = None
    max_stream_data: Optional[int] = None
    congestion_control_algorithm: str = "cubic"
    secrets_log_file: Any = None
    quic_logger: Any = None
    session_ticket: Any = None
    # Filled by load_cert_chain() / load_verify_locations() / use_self_signed().
    certificate_chain_pem: Optional[bytes] = field(default=None, repr=False)
    private_key_pem: Optional[bytes] = field(default=None, repr=False)
    ca_pems: List[bytes] = field(default_factory=list, repr=False)
    self_signed_host: Optional[str] = None

    def load_cert_chain(self, certfile: PathLike, keyfile: Optional[PathLike] = None,
                        password: Any = None) -> None:
        """Reads a PEM certificate chain and its private key (from `certfile` when
        `keyfile` is None). Encrypted keys are not supported (ValueError)."""
        if password is not None:
            raise ValueError("h3q cannot read encrypted private keys (password given)")
        with open(certfile, "rb") as f:
            self.certificate_chain_pem = f.read()
        with open(keyfile if keyfile is not None else certfile, "rb") as f:
            self.private_key_pem = f.read()

    def load_verify_locations(self, cafile: Optional[PathLike] = None,
                              capath: Optional[PathLike] = None,
                              cadata: Union[bytes, str, None] = None) -> None:
        """Adds trusted CA certificates: a PEM file and/or PEM data (not a directory)."""
        if capath is not None:
            raise ValueError("h3q takes CA certificates as PEM (cafile, cadata), not capath")
        if cafile is not None:
            with open(cafile, "rb") as f:
                self.ca_pems.append(f.read())
        if cadata is not None:
            self.ca_pems.append(cadata.encode("ascii") if isinstance(cadata, str) else cadata)

    def use_self_signed(self, host: str = "localhost") -> None:
        """h3q only: a server generates a self-signed certificate for `host` when it starts
        (QuicServer.certificate_fingerprint() gives its SHA-256)."""
        self.self_signed_host = host

    def to_config(self) -> Config:
        """A new h3q Config with these values; the caller owns it (close() it once the
        Endpoint is made). Raises ValueError for a value h3q cannot take, TlsError for
        unusable certificates or keys."""
        for name in ("quic_logger", "session_ticket"):
            if getattr(self, name) is not None:
                raise ValueError(f"QuicConfiguration.{name}: not supported by h3q")
        if (not self.is_client and self.certificate_chain_pem is None
                and self.self_signed_host is None):
            raise ValueError("a server configuration needs a certificate: "
                             "load_cert_chain(), or use_self_signed()")
        congestion = _CONGESTION.get(self.congestion_control_algorithm)
        if congestion is None:
            raise ValueError(f"congestion_control_algorithm "
                             f"{self.congestion_control_algorithm!r}: not one of "
                             f"{', '.join(_CONGESTION)}")
        config = Config(is_server=not self.is_client)
        try:
            config.set_alpn(self.alpn_protocols if self.alpn_protocols is not None
                            else H3_ALPN)
            config.set_idle_timeout_ms(int(self.idle_timeout * 1000))
            config.set_congestion_control(congestion)
            if self.max_stream_data is not None:
                config.set_stream_receive_window(self.max_stream_data)
            if self.max_datagram_frame_size is not None:
                config.set_max_datagram_frame_size(self.max_datagram_frame_size)
            if self.secrets_log_file is not None:
                path = getattr(self.secrets_log_file, "name", self.secrets_log_file)
                config.set_key_log_file(os.fspath(path))
            if self.certificate_chain_pem is not None and self.private_key_pem is not None:
                config.set_certificate_chain_pem(self.certificate_chain_pem,
                                                 self.private_key_pem)
            elif self.self_signed_host is not None:
                config.generate_self_signed(self.self_signed_host)
            if self.verify_mode == ssl.CERT_NONE:
                config.set_verify_peer(False)
            else:
                for pem in self.ca_pems or self._system_ca_pems():
                    config.add_ca_pem(pem)
        except BaseException:
            config.close()
            raise
        return config

    def _system_ca_pems(self) -> List[bytes]:
        """The system's CA bundle (OpenSSL's default file), for a client given no CA."""
        if not self.is_client:
            return []
        cafile = ssl.get_default_verify_paths().cafile
        if cafile and os.path.exists(cafile):
            with open(cafile, "rb") as f:
                return [f.read()]
        return []
