"""The base of the classes that own one C handle."""

from __future__ import annotations

import ctypes
from typing import Any, Optional, TypeVar

from ._constants import H3Q_ERR_NULL
from ._lib import lib
from .errors import decode, error_for

_Self = TypeVar("_Self", bound="Handle")


class Handle:
    """Owns one C handle and frees it in `close()`, once. A context manager.

    Closing twice is harmless; using a closed wrapper raises HandleClosedError (an H3QError
    with code H3Q_ERR_NULL). The garbage collector closes a forgotten wrapper too, but
    programs should close deterministically (`close()` or `with`).
    """

    _free_fn = ""
    _last_error_fn = ""

    def __init__(self, ptr: ctypes.c_void_p):
        self._ptr: Optional[ctypes.c_void_p] = ptr

    @property
    def handle(self) -> ctypes.c_void_p:
        """The C handle; raises HandleClosedError once closed."""
        if not self._ptr:
            raise error_for(H3Q_ERR_NULL, type(self).__name__, "used after close()")
        return self._ptr

    @property
    def closed(self) -> bool:
        return not self._ptr

    def last_error(self) -> Optional[str]:
        """The handle's last error message (`*_last_error()`), or None."""
        if not self._ptr:
            return None
        return decode(getattr(lib, self._last_error_fn)(self._ptr))

    def _check(self, code: int, call: str) -> int:
        if code < 0:
            detail = decode(getattr(lib, self._last_error_fn)(self._ptr)) if self._ptr else None
            raise error_for(code, call, detail or decode(lib.h3q_last_error()))
        return code

    def close(self) -> None:
        """Frees the C handle (idempotent)."""
        ptr, self._ptr = self._ptr, None
        if ptr:
            getattr(lib, self._free_fn)(ptr)

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        # A safety net only; callers free deterministically with close() / `with`.
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass
