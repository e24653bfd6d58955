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


class EscDefinitionError(EscError):
    """A definition this tool writes was changed outside it into something it cannot read;
    the message names the environment, the field and what was found."""

    def __init__(self, environment: str, problem: str) -> None:
        super().__init__(
            0,
            f"{environment} was edited outside sophia: {problem}; fix it with `esc env edit "
            f"{environment}` or roll back (`esc env version history {environment}`)",
        )
