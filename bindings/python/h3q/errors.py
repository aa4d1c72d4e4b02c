"""The exceptions h3q raises, named as aioquic names them where aioquic has the case.

Every failing call raises an `H3QError`: it carries the h3q_result code, its name and
description (h3q_result_str()), the C function that failed, and the handle's last error
message. `H3QError` derives from `H3Error`, aioquic's base class of HTTP/3 exceptions, and
each code has its own subclass, so code ported from aioquic catches what it caught before:

    H3Error                           (aioquic.h3.exceptions.H3Error)
      H3QError                        any failed h3q call; .code says which
        FrameUnexpected               H3Q_ERR_FRAME_UNEXPECTED (aioquic's name)
        InvalidStreamTypeError        H3Q_ERR_INVALID_STREAM_TYPE (aioquic's name)
        NoAvailablePushIDError        H3Q_ERR_NO_AVAILABLE_PUSH_ID (aioquic's name)
        ProtocolError                 H3Q_ERR_PROTOCOL (aioquic's name)
        InvalidArgumentError          H3Q_ERR_INVALID_ARGUMENT
        WrongRoleError                H3Q_ERR_WRONG_ROLE (a client-only call on a server...)
        TlsError                      H3Q_ERR_TLS (certificates, keys, verification)
        TransportError                H3Q_ERR_TRANSPORT
        GoingAwayError                H3Q_ERR_GOING_AWAY (retry on a new connection)
        FieldSectionTooLargeError     H3Q_ERR_FIELD_SECTION_TOO_LARGE
        ConnectionClosedError         H3Q_ERR_CONNECTION_CLOSED
        HandleClosedError             H3Q_ERR_NULL (a wrapper used after close())
        InternalError                 H3Q_ERR_INTERNAL, H3Q_ERR_PANIC, H3Q_ERR_POISONED

Codes without a class of their own (H3Q_ERR_IO, H3Q_ERR_BUFFER_TOO_SMALL, ...) raise
`H3QError` itself.
"""

from __future__ import annotations

from typing import Callable, Dict, Optional, Type

from . import _constants as c
from ._lib import lib


def result_str(code: int) -> str:
    """h3q_result_str(): the name and description of an h3q_result code."""
    return str(lib.h3q_result_str(code).decode("utf-8", "replace"))


def h3_error_name(code: int) -> Optional[str]:
    """h3q_h3_error_name(): "H3_NO_ERROR" for 0x100 and so on; None for other codes."""
    name = lib.h3q_h3_error_name(code)
    return name.decode("ascii") if name else None


class H3Error(Exception):
    """Base class of HTTP/3 exceptions (aioquic.h3.exceptions.H3Error)."""


class H3QError(H3Error):
    """A failed h3q call.

    code:    the h3q_result (negative), e.g. H3Q_ERR_FRAME_UNEXPECTED
    name:    h3q_result_str(code), e.g. "H3Q_ERR_FRAME_UNEXPECTED: ..."
    detail:  the handle's last error message (or h3q_last_error()), possibly None
    call:    the C function that failed
    """

    def __init__(self, code: int, call: str, detail: Optional[str] = None):
        self.code = code
        self.call = call
        self.name = result_str(code)
        self.detail = detail
        text = f"{call}: {self.name}"
        if detail:
            text += f" ({detail})"
        super().__init__(text)


class FrameUnexpected(H3QError):
    """H3Q_ERR_FRAME_UNEXPECTED: the call is not allowed in the stream's state (DATA before
    HEADERS, anything after the stream ended)."""


class InvalidStreamTypeError(H3QError):
    """H3Q_ERR_INVALID_STREAM_TYPE: the stream id is not a request or push stream."""


class NoAvailablePushIDError(H3QError):
    """H3Q_ERR_NO_AVAILABLE_PUSH_ID: the client allows no (more) pushes."""


class ProtocolError(H3QError):
    """H3Q_ERR_PROTOCOL: the peer broke HTTP/3; the connection is closed."""


class InvalidArgumentError(H3QError):
    """H3Q_ERR_INVALID_ARGUMENT: a value out of range or malformed."""


class WrongRoleError(H3QError):
    """H3Q_ERR_WRONG_ROLE: a server-only call on a client, or the other way round."""


class TlsError(H3QError):
    """H3Q_ERR_TLS: a certificate, key or trust anchor that cannot be used."""


class TransportError(H3QError):
    """H3Q_ERR_TRANSPORT: the QUIC layer refused (closed connection, stream limits...)."""


class GoingAwayError(H3QError):
    """H3Q_ERR_GOING_AWAY: the peer sent GOAWAY; send new requests on a new connection."""


class FieldSectionTooLargeError(H3QError):
    """H3Q_ERR_FIELD_SECTION_TOO_LARGE: the headers exceed the peer's limit."""


class ConnectionClosedError(H3QError):
    """H3Q_ERR_CONNECTION_CLOSED: the connection is closed."""


class HandleClosedError(H3QError):
    """H3Q_ERR_NULL: the wrapper was used after close()."""


class InternalError(H3QError):
    """H3Q_ERR_INTERNAL, H3Q_ERR_PANIC, H3Q_ERR_POISONED: a bug in h3q; the handle is not
    usable any more."""


_CLASSES: Dict[int, Type[H3QError]] = {
    c.H3Q_ERR_FRAME_UNEXPECTED: FrameUnexpected,
    c.H3Q_ERR_INVALID_STREAM_TYPE: InvalidStreamTypeError,
    c.H3Q_ERR_NO_AVAILABLE_PUSH_ID: NoAvailablePushIDError,
    c.H3Q_ERR_PROTOCOL: ProtocolError,
    c.H3Q_ERR_INVALID_ARGUMENT: InvalidArgumentError,
    c.H3Q_ERR_WRONG_ROLE: WrongRoleError,
    c.H3Q_ERR_TLS: TlsError,
    c.H3Q_ERR_TRANSPORT: TransportError,
    c.H3Q_ERR_GOING_AWAY: GoingAwayError,
    c.H3Q_ERR_FIELD_SECTION_TOO_LARGE: FieldSectionTooLargeError,
    c.H3Q_ERR_CONNECTION_CLOSED: ConnectionClosedError,
    c.H3Q_ERR_NULL: HandleClosedError,
    c.H3Q_ERR_INTERNAL: InternalError,
    c.H3Q_ERR_PANIC: InternalError,
    c.H3Q_ERR_POISONED: InternalError,
}


def error_for(code: int, call: str, detail: Optional[str]) -> H3QError:
    """The exception for a failed call: the subclass of H3QError for `code`."""
    return _CLASSES.get(code, H3QError)(code, call, detail)


def decode(msg: Optional[bytes]) -> Optional[str]:
    return msg.decode("utf-8", "replace") if msg else None


def thread_last_error() -> Optional[bytes]:
    """h3q_last_error(): the calling thread's last error (for calls without a handle)."""
    message: Optional[bytes] = lib.h3q_last_error()
    return message


def check(code: int, call: str, last_error: Callable[[], Optional[bytes]]) -> int:
    """Raises the H3QError for a negative result (H3Q_DONE is positive: callers that expect
    it test for it first); returns non-negative results (OK, BLOCKED, DONE)."""
    if code < 0:
        raise error_for(code, call, decode(last_error()))
    return code
