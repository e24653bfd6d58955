"""What every cloud API client here shares: a key no log can show, retries that honour
Retry-After, typed errors, and create-exactly-once for APIs without idempotency keys.

The Lambda Cloud, Pinecone and Weaviate clients are built on it; each keeps only what its API
does differently (its error body, its envelope, its authentication header).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, Self, TypeVar

if TYPE_CHECKING:
    # A client imports them when it is made: a program that only plans resources (every
    # preview) never talks to an API, and httpx with tenacity was 40 ms of `sophia preview`.
    import httpx
    from tenacity import RetryCallState, Retrying

T = TypeVar("T")


class ApiKey:
    """Holds a key so that no repr, str, log line or pickle can show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "ApiKey('****')"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("an API key is never pickled; pass it as a secret input")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    initial_seconds: float = 2.0
    max_seconds: float = 60.0
    jitter_seconds: float = 1.0


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` in seconds (it is a number of seconds or an HTTP date); None if unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def retrying(
    policy: RetryPolicy, retryable: Callable[[BaseException], bool], log: logging.Logger
) -> Retrying:
    """Exponential backoff with jitter; an error carrying `retry_after` (a 429's Retry-After)
    waits at least that long, never beyond the policy's maximum."""
    from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

    backoff = wait_exponential_jitter(
        multiplier=policy.initial_seconds, max=policy.max_seconds, jitter=policy.jitter_seconds
    )

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        asked = getattr(error, "retry_after", None)
        computed = float(backoff(state))
        if asked is None:
            return computed
        return float(min(max(asked, computed), policy.max_seconds))

    def before_sleep(state: RetryCallState) -> None:
        outcome = state.outcome.exception() if state.outcome else None
        log.warning("retrying after %s (attempt %d)", outcome, state.attempt_number)

    return Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait,
        retry=retry_if_exception(retryable),
        before_sleep=before_sleep,
        reraise=True,
    )


# --- errors of a JSON API -----------------------------------------------------------------


class ApiError(Exception):
    """An error answer: its HTTP status, the API's error code and message."""

    retry_after: float | None = None

    def __init__(self, service: str, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(f"{service} API {status} {code}: {message}")


class NotFoundError(ApiError):
    """404: the object does not exist."""


class ConflictError(ApiError):
    """The object exists already (409, or what the API answers for it)."""


class RateLimitedError(ApiError):
    """429; `retry_after` is the seconds the API asked to wait."""


class ServerError(ApiError):
    """5xx."""


class MalformedResponseError(ApiError):
    """A success status whose body is not what the API documents: the request may have taken
    effect, its answer cannot be used."""


class ApiConnectionError(Exception):
    """The API could not be reached; `sent` tells whether the request may have arrived."""

    def __init__(self, service: str, method: str, path: str, cause: httpx.TransportError) -> None:
        import httpx

        self.sent = not isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout)
        super().__init__(f"{service} API unreachable: {method} {path}: {type(cause).__name__}")


class DeletionProtectedError(Exception):
    """The object has deletion protection on: it is kept."""


class AmbiguousCreateError(Exception):
    """A create whose outcome stayed unknown after every attempt."""


def transient(error: BaseException) -> bool:
    """Worth another try of an idempotent request."""
    if isinstance(error, RateLimitedError | ServerError | MalformedResponseError):
        return True
    return isinstance(error, ApiConnectionError)


def ambiguous(error: BaseException) -> bool:
    """Might a create have happened? Everything but a readable refusal says it might."""
    if isinstance(error, RateLimitedError):
        return False  # refused before it was looked at
    if isinstance(error, ServerError | MalformedResponseError):
        return True
    return isinstance(error, ApiConnectionError) and error.sent


def create_once(
    what: str,
    find: Callable[[], T | None],
    create: Callable[[], T],
    *,
    is_ambiguous: Callable[[BaseException], bool] = ambiguous,
    attempts: int = 3,
) -> T:
    """The object `find` returns, or the one `create` makes — exactly one either way.

    Look the object up by name first and adopt it; create with a single request; after an
    ambiguous outcome look it up again, and only when it is not there create again.
    """
    last: BaseException | None = None
    for _ in range(attempts):
        found = find()
        if found is not None:
            return found
        try:
            return create()
        except Exception as exc:
            if not is_ambiguous(exc):
                raise
            last = exc
    found = find()
    if found is not None:
        return found
    raise AmbiguousCreateError(
        f"creating {what}: {attempts} attempt(s) had no clear answer ({last}); run `pulumi up` "
        "again: an object of that name is adopted, never made twice"
    )


# --- a JSON API client --------------------------------------------------------------------


class JsonApiClient:
    """httpx with retries for an API that answers JSON; subclasses say how it authenticates
    (`auth_headers`) and how its error bodies read (`error_code`)."""

    service = "HTTP"
    log = logging.getLogger("sophia.rest")

    def __init__(
        self,
        api_key: str,
        base_url: str,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        key = ApiKey(api_key)

        def sign(request: httpx.Request) -> httpx.Request:
            request.headers.update(self.auth_headers(key))
            return request

        self._http = httpx.Client(
            base_url=self.base_url + "/",
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "sophia-infra", **(headers or {})},
            auth=sign,
        )

    def auth_headers(self, key: ApiKey) -> dict[str, str]:
        return {"Authorization": f"Bearer {key.reveal()}"}

    def error_code(self, status: int, body: Any) -> tuple[str, str]:
        """The API's error code and message from an error body (tolerating any shape)."""
        return f"http/{status}", "no error message in the response"

    def error_class(self, status: int, code: str, message: str) -> type[ApiError]:
        if status == 404:
            return NotFoundError
        if status == 409:
            return ConflictError
        if status == 429:
            return RateLimitedError
        return ServerError if status >= 500 else ApiError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def send_once(self, method: str, path: str, body: Any = None) -> Any:
        """One request, no retry: the decoded body (None when empty), or a typed error."""
        import httpx

        try:
            response = self._http.request(method, path.lstrip("/"), json=body)
        except httpx.TransportError as exc:
            raise ApiConnectionError(self.service, method, path, exc) from None
        try:
            payload = response.json() if response.content else None
        except ValueError:
            if response.status_code < 400:
                raise MalformedResponseError(
                    self.service,
                    response.status_code,
                    "sophia/malformed-response",
                    f"{method} {path} answered with a body that is not JSON",
                ) from None
            payload = None
        if response.status_code >= 400:
            code, message = self.error_code(response.status_code, payload)
            cls = self.error_class(response.status_code, code, message)
            error = cls(self.service, response.status_code, code, message)
            if isinstance(error, RateLimitedError):
                error.retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            raise error
        return payload

    def request(self, method: str, path: str, body: Any = None, *, read: Callable[[Any], T]) -> T:
        """An idempotent request, retried on 429 (after Retry-After), 5xx, a connection failure
        or an answer `read` cannot build its result from."""
        for attempt in retrying(self.retry, transient, self.log):
            with attempt:
                data = self.send_once(method, path, body)
                return self.parse(f"{method} {path}", data, read)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    def parse(self, what: str, data: Any, read: Callable[[Any], T]) -> T:
        try:
            return read(data)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise MalformedResponseError(
                self.service, 200, "sophia/malformed-response", f"{what}: unreadable answer ({exc})"
            ) from None
