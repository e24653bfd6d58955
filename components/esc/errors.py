"""ESC API errors, worded without tokens or values."""

from __future__ import annotations


class EscError(Exception):
    """An ESC API call failed; `status` is the HTTP status (0 when unreachable)."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


class EscConflictError(EscError):
    """The environment changed since it was read: nothing was written."""


class EscNotFoundError(EscError):
    """No such environment."""
