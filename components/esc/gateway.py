"""The ESC REST API through the official `pulumi_esc_sdk`, with optimistic concurrency.

Reads return the environment's ETag; writes send it back as `If-Match`, so a change made
by anyone else in between is refused by the service (and reported), never overwritten.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from .errors import EscConflictError, EscDefinitionError, EscError, EscNotFoundError

if TYPE_CHECKING:
    from pulumi_esc_sdk.exceptions import ApiException

DEFAULT_API_URL = "https://api.pulumi.com"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class EnvironmentRef:
    organization: str
    project: str
    name: str

    def __str__(self) -> str:
        return f"{self.organization}/{self.project}/{self.name}"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A definition as stored (secrets as ciphertext) and the ETag it was read at."""

    yaml: str
    etag: str


def _message(exc: ApiException) -> str:
    try:
        body = json.loads(exc.body or "")
    except ValueError:
        body = None
    if isinstance(body, Mapping) and body.get("message"):
        return str(body["message"])
    return str(exc.reason or "request failed")


def pulumi_cloud(access_token: str | None = None, api_url: str | None = None) -> tuple[str, str]:
    """(token, API URL) for Pulumi Cloud: the ones given, else PULUMI_ACCESS_TOKEN and
    PULUMI_BACKEND_URL (a self-hosted Pulumi Cloud), else api.pulumi.com."""
    token = access_token or os.environ.get("PULUMI_ACCESS_TOKEN")
    if not token:
        raise EscError(0, "no Pulumi access token: pass one or set PULUMI_ACCESS_TOKEN")
    url = api_url or os.environ.get("PULUMI_BACKEND_URL") or DEFAULT_API_URL
    return token, url.rstrip("/")


class EscGateway:
    """The SDK (a fifth of a second to import) loads with the first gateway: a preview, which
    registers ESC resources but never calls the API, does not pay for it."""

    def __init__(self, access_token: str | None = None, api_url: str | None = None) -> None:
        import pulumi_esc_sdk as esc
        import urllib3

        token, url = pulumi_cloud(access_token, api_url)
        configuration = esc.Configuration(host=url, access_token=token)
        # Idempotent calls only (urllib3 never repeats PATCH or POST): reads survive a blip.
        configuration.retries = urllib3.Retry(  # type: ignore[assignment]
            total=3, backoff_factor=0.2, status_forcelist=(502, 503, 504)
        )
        self._client = esc.EscClient(configuration)
        self.api_url = url

    def __repr__(self) -> str:
        return f"EscGateway(api_url={self.api_url!r})"

    def _call(self, what: str, call: Callable[[], T]) -> T:
        import urllib3
        from pulumi_esc_sdk.exceptions import ApiException

        try:
            return call()
        except ApiException as exc:
            status = int(exc.status or 0)
            message = f"{what}: {_message(exc)} (HTTP {status})"
            if status == 404:
                raise EscNotFoundError(status, message) from None
            if status in (409, 412):
                raise EscConflictError(status, message) from None
            raise EscError(status, message) from None
        except urllib3.exceptions.HTTPError as exc:
            raise EscError(0, f"{what}: ESC API unreachable ({type(exc).__name__})") from None
        except ValueError as exc:  # a response the SDK's models cannot read
            raise EscError(0, f"{what}: unexpected response ({type(exc).__name__})") from None

    def exists(self, env: EnvironmentRef) -> bool:
        try:
            self.read(env)
        except EscNotFoundError:
            return False
        return True

    def create(self, env: EnvironmentRef) -> None:
        self._call(
            f"create {env}",
            lambda: self._client.create_environment(env.organization, env.project, env.name),
        )

    def read(self, env: EnvironmentRef) -> Snapshot:
        try:
            response = self._call(
                f"read {env}",
                lambda: self._client.esc_api.get_environment_with_http_info(
                    env.organization, env.project, env.name
                ),
            )
        except yaml.YAMLError as exc:  # the SDK parses the definition it returns
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise EscDefinitionError(str(env), f"its YAML does not parse{where}") from None
        headers = {k.lower(): v for k, v in (response.headers or {}).items()}
        return Snapshot(yaml=response.raw_data.decode("utf-8"), etag=str(headers.get("etag", "")))

    def write(self, env: EnvironmentRef, yaml_text: str, etag: str) -> None:
        """Replace the definition if it is still at `etag`; EscConflictError otherwise."""
        result = self._call(
            f"update {env}",
            lambda: self._client.esc_api.update_environment_yaml(
                env.organization, env.project, env.name, yaml_text, _headers={"If-Match": etag}
            ),
        )
        problems = [d.summary for d in (result.diagnostics or []) if d.summary] if result else []
        if problems:
            raise EscError(400, f"update {env}: the definition was refused: {'; '.join(problems)}")

    def delete(self, env: EnvironmentRef) -> None:
        self._call(
            f"delete {env}",
            lambda: self._client.delete_environment(env.organization, env.project, env.name),
        )

    def open_values(self, env: EnvironmentRef) -> Mapping[str, Any]:
        """The evaluated values (secrets decrypted): for comparisons, never for printing."""
        _, values, _ = self._call(
            f"open {env}",
            lambda: self._client.open_and_read_environment(env.organization, env.project, env.name),
        )
        return values or {}

    def revisions(self, env: EnvironmentRef) -> list[int]:
        found = self._call(
            f"list revisions of {env}",
            lambda: self._client.list_environment_revisions(
                env.organization, env.project, env.name
            ),
        )
        return [r.number for r in found or []]
