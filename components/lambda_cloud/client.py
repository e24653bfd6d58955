"""A typed client for the Lambda Cloud API v1 on httpx, with tenacity retries.

Retries: 429, 5xx and connection failures back off exponentially with jitter. A launch is
retried only where it cannot have reached Lambda (429, or a connection that never opened):
a launch that may have been accepted is left to the caller, who looks it up by name.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ..rest import ApiConnectionError, ApiKey, RetryPolicy, retry_after_seconds, retrying
from .errors import (
    MalformedResponseError,
    RateLimitedError,
    ServerError,
    error_from_response,
)
from .models import (
    FileSystem,
    FirewallRule,
    FirewallRuleset,
    Instance,
    InstanceTypeOffer,
    SshKey,
    parse,
)

if TYPE_CHECKING:
    import httpx  # imported when a client is made: planning a host never talks to the API

DEFAULT_BASE_URL = "https://cloud.lambda.ai/api/v1"
T = TypeVar("T")
log = logging.getLogger("sophia.lambda_cloud")


class LambdaConfigError(Exception):
    """The client cannot be set up (no API key)."""


class LambdaConnectionError(ApiConnectionError):
    """The API could not be reached; `sent` tells whether the request may have arrived."""

    def __init__(self, method: str, path: str, cause: httpx.TransportError) -> None:
        super().__init__("Lambda Cloud", method, path, cause)


def _retryable(exc: BaseException) -> bool:
    """Worth another try of an idempotent request (a launch is never repeated here)."""
    if isinstance(exc, RateLimitedError | ServerError | MalformedResponseError):
        return True
    return isinstance(exc, LambdaConnectionError)


class LambdaCloudClient:
    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx

        key = api_key or os.environ.get("LAMBDA_API_KEY")
        if not key:
            raise LambdaConfigError("no Lambda Cloud API key: pass one or set LAMBDA_API_KEY")
        self.base_url = (base_url or os.environ.get("LAMBDA_API_BASE") or DEFAULT_BASE_URL).rstrip(
            "/"
        )
        self.retry = retry or RetryPolicy()
        bearer = ApiKey(key)

        def sign(request: httpx.Request) -> httpx.Request:
            request.headers["Authorization"] = f"Bearer {bearer.reveal()}"
            return request

        self._http = httpx.Client(
            base_url=self.base_url + "/",
            auth=sign,
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "sophia-infra"},
        )

    def __repr__(self) -> str:
        return f"LambdaCloudClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LambdaCloudClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- transport ---

    @overload
    def _request(self, method: str, path: str, body: Any = None, read: None = None) -> Any: ...

    @overload
    def _request(
        self, method: str, path: str, body: Any = None, *, read: tuple[str, Callable[[Any], T]]
    ) -> T: ...

    def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        read: tuple[str, Callable[[Any], T]] | None = None,
    ) -> Any:
        """An idempotent request: retried on 429 (after Retry-After), 5xx, an unreadable answer
        (`read` names and builds what its `data` must hold) or a connection failure, with
        exponential backoff and jitter."""
        for attempt in retrying(self.retry, _retryable, log):
            with attempt:
                data = self.send_once(method, path, body)
                if read is None:
                    return data
                return parse(read[0], data, read[1])
        raise AssertionError("unreachable: tenacity re-raises the last error")

    def send_once(self, method: str, path: str, body: Any = None) -> Any:
        """One request, no retry: its `data`, or a typed error (the status tells which)."""
        import httpx

        try:
            response = self._http.request(method, path.lstrip("/"), json=body)
        except httpx.TransportError as exc:
            raise LambdaConnectionError(method, path, exc) from None
        try:
            payload = response.json() if response.content else None
        except ValueError:
            payload = None
            readable = False
        else:
            readable = True
        if response.status_code >= 400:
            error = error_from_response(response.status_code, payload)
            if isinstance(error, RateLimitedError):
                error.retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            raise error
        if not readable or not isinstance(payload, dict) or "data" not in payload:
            raise MalformedResponseError(
                response.status_code, f"{method} {path} answered without a readable `data`"
            )
        return payload["data"]

    # --- instance types ---

    def instance_types(self) -> dict[str, InstanceTypeOffer]:
        return self._request(
            "GET",
            "/instance-types",
            read=(
                "instance types",
                lambda d: {
                    name: InstanceTypeOffer.from_api(name, entry) for name, entry in d.items()
                },
            ),
        )

    # --- instances ---

    def launch(
        self,
        *,
        name: str,
        instance_type_name: str,
        region_name: str,
        ssh_key_names: Sequence[str],
        file_system_names: Sequence[str] = (),
        firewall_ruleset_ids: Sequence[str] = (),
        tags: Iterable[tuple[str, str]] = (),
    ) -> str:
        """Launch one instance and return its id: one request, never repeated here (whether an
        ambiguous answer launched something is for the caller to find out: `launch.py`)."""
        body: dict[str, Any] = {
            "name": name,
            "instance_type_name": instance_type_name,
            "region_name": region_name,
            "ssh_key_names": list(ssh_key_names),
        }
        if file_system_names:
            body["file_system_names"] = list(file_system_names)
        if firewall_ruleset_ids:
            body["firewall_rulesets"] = [{"id": i} for i in firewall_ruleset_ids]
        tag_list = [{"key": k, "value": v} for k, v in tags]
        if tag_list:
            body["tags"] = tag_list
        data = self.send_once("POST", "/instance-operations/launch", body)
        return parse("the launched instance's id", data, lambda d: str(d["instance_ids"][0]))

    def get_instance(self, instance_id: str) -> Instance:
        return self._request(
            "GET", f"/instances/{instance_id}", read=("an instance", Instance.from_api)
        )

    def list_instances(self) -> list[Instance]:
        return self._request(
            "GET",
            "/instances",
            read=("the instance list", lambda d: [Instance.from_api(i) for i in d]),
        )

    def rename_instance(self, instance_id: str, name: str) -> Instance:
        return self._request(
            "POST",
            f"/instances/{instance_id}",
            {"name": name},
            read=("the renamed instance", Instance.from_api),
        )

    def terminate(self, instance_ids: Sequence[str]) -> list[Instance]:
        return self._request(
            "POST",
            "/instance-operations/terminate",
            {"instance_ids": list(instance_ids)},
            read=(
                "the terminated instances",
                lambda d: [Instance.from_api(i) for i in d["terminated_instances"]],
            ),
        )

    # --- SSH keys ---

    def list_ssh_keys(self) -> list[SshKey]:
        return self._request(
            "GET", "/ssh-keys", read=("the SSH key list", lambda d: [SshKey.from_api(k) for k in d])
        )

    def add_ssh_key(self, name: str, public_key: str) -> SshKey:
        """Register a key: one request (a repeat after a lost answer would be a duplicate);
        the caller looks the key up by name where the outcome is unknown."""
        data = self.send_once("POST", "/ssh-keys", {"name": name, "public_key": public_key})
        return parse("the added SSH key", data, SshKey.from_api)

    def delete_ssh_key(self, key_id: str) -> None:
        """Delete a key; one already gone is no error (the API answers 400 for it)."""
        if not any(k.id == key_id for k in self.list_ssh_keys()):
            return
        self._request("DELETE", f"/ssh-keys/{key_id}")

    # --- persistent file systems ---

    def list_file_systems(self) -> list[FileSystem]:
        return self._request(
            "GET",
            "/file-systems",
            read=("the file system list", lambda d: [FileSystem.from_api(f) for f in d]),
        )

    def create_file_system(self, name: str, region: str) -> FileSystem:
        """One request, never repeated here: the caller looks the file system up by name where
        the outcome is unknown (a repeat could make a second one)."""
        data = self.send_once("POST", "/filesystems", {"name": name, "region": region})
        return parse("the created file system", data, FileSystem.from_api)

    def delete_file_system(self, file_system_id: str) -> None:
        self._request("DELETE", f"/filesystems/{file_system_id}")

    # --- firewall rulesets ---

    def list_firewall_rulesets(self) -> list[FirewallRuleset]:
        return self._request(
            "GET",
            "/firewall-rulesets",
            read=("the firewall ruleset list", lambda d: [FirewallRuleset.from_api(r) for r in d]),
        )

    def create_firewall_ruleset(
        self, name: str, region: str, rules: Sequence[FirewallRule]
    ) -> FirewallRuleset:
        """One request, never repeated here (as `create_file_system`)."""
        body = {"name": name, "region": region, "rules": [r.to_api() for r in rules]}
        data = self.send_once("POST", "/firewall-rulesets", body)
        return parse("the created firewall ruleset", data, FirewallRuleset.from_api)

    def update_firewall_ruleset(
        self, ruleset_id: str, rules: Sequence[FirewallRule]
    ) -> FirewallRuleset:
        """Replace the ruleset's rules (a PATCH of the whole list: repeating it is harmless)."""
        body = {"rules": [r.to_api() for r in rules]}
        return self._request(
            "PATCH",
            f"/firewall-rulesets/{ruleset_id}",
            body,
            read=("the updated firewall ruleset", FirewallRuleset.from_api),
        )

    def delete_firewall_ruleset(self, ruleset_id: str) -> None:
        self._request("DELETE", f"/firewall-rulesets/{ruleset_id}")


def client_for(props: dict[str, Any], retry: RetryPolicy) -> LambdaCloudClient:
    """The client a dynamic resource's call uses: its key and base URL travel in its inputs
    (a pickled provider must hold no credentials)."""
    return LambdaCloudClient(
        props.get("api_key") or None, base_url=props.get("api_base") or None, retry=retry
    )
