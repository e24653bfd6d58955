"""Lambda Cloud API errors as typed exceptions carrying Lambda's code, message and suggestion."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class LambdaApiError(Exception):
    """An error answer of the API (`{"error": {"code", "message", "suggestion"}}`)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        suggestion: str | None = None,
        field_errors: Mapping[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.suggestion = suggestion
        self.field_errors = dict(field_errors or {})
        text = f"Lambda Cloud API {status} {code}: {message}"
        if suggestion:
            text += f" ({suggestion})"
        for name, problem in self.field_errors.items():
            detail = problem.get("message") if isinstance(problem, Mapping) else problem
            text += f"; {name}: {detail}"
        super().__init__(text)


class InvalidApiKeyError(LambdaApiError):
    """401 `global/invalid-api-key`."""


class AccountInactiveError(LambdaApiError):
    """403 `global/account-inactive`."""


class NotFoundError(LambdaApiError):
    """404 `global/object-does-not-exist`."""


class InvalidParametersError(LambdaApiError):
    """400 `global/invalid-parameters`."""


class InsufficientCapacityError(LambdaApiError):
    """`instance-operations/launch/insufficient-capacity`; `regions_with_capacity` says where."""

    regions_with_capacity: list[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.regions_with_capacity = []


class QuotaExceededError(LambdaApiError):
    """`global/quota-exceeded`."""


class RateLimitedError(LambdaApiError):
    """HTTP 429; the body is undocumented. `retry_after`: the seconds the API asked to wait."""

    retry_after: float | None = None


class ServerError(LambdaApiError):
    """HTTP 5xx."""


class MalformedResponseError(LambdaApiError):
    """A success status whose body is not what the API documents (unreadable JSON, a missing
    field, a wrong type): the request may have taken effect, its answer cannot be used."""

    def __init__(self, status: int, what: str) -> None:
        super().__init__(status, "sophia/malformed-response", what)


class AmbiguousLaunchError(LambdaApiError):
    """A launch whose outcome is unknown and whose instance did not show up in time."""


class AmbiguousCreateError(LambdaApiError):
    """A create (file system, firewall ruleset) whose outcome stayed unknown."""


_BY_CODE: dict[str, type[LambdaApiError]] = {
    "global/invalid-api-key": InvalidApiKeyError,
    "global/account-inactive": AccountInactiveError,
    "global/object-does-not-exist": NotFoundError,
    "global/invalid-parameters": InvalidParametersError,
    "instance-operations/launch/insufficient-capacity": InsufficientCapacityError,
    "global/quota-exceeded": QuotaExceededError,
}


def error_from_response(status: int, body: Any) -> LambdaApiError:
    """Build the typed error for an error answer, tolerating bodies that are not documented."""
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        error = {}
    code = str(error.get("code") or ("http/429" if status == 429 else f"http/{status}"))
    message = str(error.get("message") or "no error message in the response")
    suggestion = error.get("suggestion")
    fields = body.get("field_errors") if isinstance(body, Mapping) else None
    cls = _BY_CODE.get(code)
    if cls is None:
        cls = (
            RateLimitedError if status == 429 else ServerError if status >= 500 else LambdaApiError
        )
    return cls(
        status,
        code,
        message,
        str(suggestion) if suggestion else None,
        fields if isinstance(fields, Mapping) else None,
    )
