"""QuicConfiguration: aioquic's configuration class, turned into an h3q Config.

The asyncio layer (h3q.asyncio.connect / serve) takes one of these, as aioquic's does, so
a ported program keeps building its configuration the same way:

    configuration = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN)
    configuration.verify_mode = ssl.CERT_NONE          # or load_verify_locations(cafile)
    configuration.load_cert_chain("cert.pem", "key.pem")   # a server

Resumption and 0-RTT: `session_ticket` takes the bytes a previous connection's
session_ticket_handler received (h3q.asyncio.connect()); a ticket resumes only on the
endpoint that received it, in this process (see h3q.asyncio). `enable_0rtt` (h3q) turns
0-RTT on for a server (off by default: early requests can be replayed) or off for a
client (on by default). Client certificates: load_cert_chain() on a client configuration
presents one; on a server, verify_mode=ssl.CERT_REQUIRED with load_verify_locations()
(the CAs client certificates must chain to) requires one, ssl.CERT_OPTIONAL asks for one.

What h3q's QUIC layer has no equivalent for is refused with ValueError rather than
ignored: a key password, a CA directory (`capath`), aioquic's SessionTicket objects,
quic_logger.
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
from .config import ClientAuth, Config

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
    verify_mode:        a client: ssl.CERT_NONE turns certificate verification off;
                        default ssl.CERT_REQUIRED. A server: ssl.CERT_REQUIRED requires
                        a client certificate chaining to the CAs of
                        load_verify_locations(), ssl.CERT_OPTIONAL asks for one; default
                        (None, ssl.CERT_NONE): no client certificates
    max_datagram_frame_size: enables QUIC DATAGRAM frames up to this size
    max_stream_data:    flow-control credit per stream given to the peer (bytes)
    congestion_control_algorithm: "reno", "cubic" (default) or "bbr"
    secrets_log_file:   a path, or an open file (its name is used), for TLS secrets in the
                        NSS key log format (Wireshark)
    session_ticket:     a client: the ticket (bytes) of an earlier connection to resume
                        (with 0-RTT when the server allows it); see h3q.asyncio.connect()
    enable_0rtt:        h3q: None (default) keeps the library's default, 0-RTT on for
                        clients and off for servers; True lets a server accept early
                        requests (check QuicConnection.stream_is_early(): they can be
                        replayed), False stops a client sending them
    quic_logger:        accepted only as None (h3q has no qlog)
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
    session_ticket: Optional[bytes] = None
    enable_0rtt: Optional[bool] = None
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

    def to_config(self, retry: bool = False) -> Config:
        """A new h3q Config with these values; the caller owns it (close() it once the
        Endpoint is made). `retry`: a server validates new clients' addresses with a Retry
        (serve(retry=True)). Raises ValueError for a value h3q cannot take, TlsError for
        unusable certificates or keys."""
        if self.quic_logger is not None:
            raise ValueError("QuicConfiguration.quic_logger: not supported by h3q")
        if self.session_ticket is not None:
            if not isinstance(self.session_ticket, (bytes, bytearray, memoryview)):
                raise ValueError(
                    f"QuicConfiguration.session_ticket: h3q takes the ticket bytes its "
                    f"session_ticket_handler gave, not {type(self.session_ticket).__name__}")
            if not self.is_client:
                raise ValueError("QuicConfiguration.session_ticket: for clients only")
        server_auth = None
        if not self.is_client and self.verify_mode in (ssl.CERT_REQUIRED, ssl.CERT_OPTIONAL):
            if not self.ca_pems:
                raise ValueError("a server verifying client certificates (verify_mode "
                                 "CERT_REQUIRED or CERT_OPTIONAL) needs their CA: "
                                 "load_verify_locations()")
            server_auth = (ClientAuth.REQUIRE if self.verify_mode == ssl.CERT_REQUIRED
                           else ClientAuth.REQUEST)
        if retry and self.is_client:
            raise ValueError("retry: for servers only")
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
            if self.enable_0rtt is not None:
                config.set_enable_0rtt(bool(self.enable_0rtt))
            if not self.is_client:
                if server_auth is not None:
                    config.set_client_auth(server_auth, b"\n".join(self.ca_pems))
                if retry:
                    config.set_retry(True)
            elif self.verify_mode == ssl.CERT_NONE:
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
