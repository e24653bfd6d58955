"""Exactly one Lambda instance per resource, whatever the API answers.

The rule:
1. Before launching, look the instance up by its stack-unique name; adopt a live one.
2. Launch with a single request. A readable success gives the id; a definite refusal (a
   readable 4xx other than 429: bad parameters, no capacity, unknown SSH key, quota) is raised.
3. Any other outcome is ambiguous — 429 (an API may apply a request and still throttle the
   answer), 5xx, a dropped or timed-out connection, a success whose body cannot be read. The
   instance may exist: it is looked up by name, polling the list for `settle_seconds` (the list
   is eventually consistent). Found: adopted. Not found by then: the launch is tried again
   (after the Retry-After the API asked for), up to `attempts` times; then
   `AmbiguousLaunchError` — and the next `pulumi up` adopts an instance that appears later.
4. Unhealthy instances are never adopted: one found by name, or one that turns unhealthy while
   booting, is terminated and a new one launched; a second unhealthy instance is terminated
   and reported (`UnhealthyInstanceError`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from .client import LambdaCloudClient, LambdaConnectionError
from .errors import (
    AmbiguousLaunchError,
    LambdaApiError,
    MalformedResponseError,
    RateLimitedError,
    ServerError,
)
from .models import Instance

UNHEALTHY = ("unhealthy", "preempted")


class UnhealthyInstanceError(RuntimeError):
    """Lambda reported the instance unhealthy twice in a row; both were terminated."""


@dataclass(frozen=True)
class LaunchRequest:
    name: str
    instance_type_name: str
    region_name: str
    ssh_key_names: Sequence[str]
    file_system_names: Sequence[str] = ()
    firewall_ruleset_ids: Sequence[str] = ()


@dataclass(frozen=True)
class LaunchPolicy:
    attempts: int = 3
    """Launch requests at most, each after an ambiguous outcome was resolved as 'none'."""
    settle_seconds: float = 60.0
    """How long a launched instance may take to appear in the list."""
    poll_seconds: float = 5.0
    backoff_seconds: float = 12.0
    """Between launch attempts where the API asked for nothing (its launch limit: 5 a minute)."""
    boot_timeout_seconds: float = 1200.0


def is_ambiguous(error: BaseException) -> bool:
    """Might the launch have happened? Everything but a readable refusal says it might."""
    if isinstance(error, RateLimitedError | ServerError | MalformedResponseError):
        return True
    if isinstance(error, LambdaConnectionError):
        return error.sent
    return False


def find_live(client: LambdaCloudClient, name: str) -> Instance | None:
    return next((i for i in client.list_instances() if i.name == name and not i.is_gone), None)


class Launcher:
    def __init__(self, client: LambdaCloudClient, policy: LaunchPolicy) -> None:
        self.client = client
        self.policy = policy

    def ensure_active(self, request: LaunchRequest) -> Instance:
        """The active instance named `request.name`: adopted, or launched exactly once."""
        replaced = 0
        while True:
            instance = find_live(self.client, request.name)
            if instance is not None and instance.status in UNHEALTHY:
                self._terminate(instance)
                replaced += 1
                instance = None
            if instance is None:
                instance = self._launch(request)
            ready = self._wait_until_active(instance)
            if ready.status not in UNHEALTHY:
                return ready
            self._terminate(ready)
            replaced += 1
            if replaced >= 2:
                raise UnhealthyInstanceError(
                    f"Lambda instance {request.name} turned {ready.status} twice; both were "
                    "terminated. Try another region or instance type, or try again later"
                )

    def _launch(self, request: LaunchRequest) -> Instance:
        last: BaseException | None = None
        for attempt in range(1, self.policy.attempts + 1):
            try:
                instance_id = self.client.launch(
                    name=request.name,
                    instance_type_name=request.instance_type_name,
                    region_name=request.region_name,
                    ssh_key_names=request.ssh_key_names,
                    file_system_names=request.file_system_names,
                    firewall_ruleset_ids=request.firewall_ruleset_ids,
                )
            except LambdaApiError as exc:
                if not is_ambiguous(exc):
                    raise
                last = exc
            except LambdaConnectionError as exc:
                if not exc.sent:  # it never reached Lambda: simply try again
                    last = exc
                    time.sleep(self.policy.backoff_seconds)
                    continue
                last = exc
            else:
                return self._by_id(instance_id, request.name)
            found = self._settle(request.name)
            if found is not None:
                return found
            if attempt < self.policy.attempts:
                asked = last.retry_after if isinstance(last, RateLimitedError) else None
                time.sleep(asked if asked is not None else self.policy.backoff_seconds)
        raise AmbiguousLaunchError(
            0,
            "sophia/ambiguous-launch",
            f"launching {request.name}: {self.policy.attempts} attempt(s) had no clear answer "
            f"({last}) and no instance of that name appeared within "
            f"{self.policy.settle_seconds:g} s",
            "run `pulumi up` again: an instance that appears later is adopted by name, never "
            "launched twice",
        )

    def _settle(self, name: str) -> Instance | None:
        """Poll the list for `name` until it shows up or `settle_seconds` have passed."""
        deadline = time.monotonic() + self.policy.settle_seconds
        while True:
            try:
                found = find_live(self.client, name)
            except (LambdaApiError, LambdaConnectionError):
                found = None  # the list itself failed: keep waiting within the deadline
            if found is not None or time.monotonic() >= deadline:
                return found
            time.sleep(self.policy.poll_seconds)

    def _by_id(self, instance_id: str, name: str) -> Instance:
        """The instance a readable launch named; the list may not show it yet."""
        try:
            return self.client.get_instance(instance_id)
        except LambdaApiError:
            found = self._settle(name)
            if found is None:
                raise
            return found

    def _wait_until_active(self, instance: Instance) -> Instance:
        deadline = time.monotonic() + self.policy.boot_timeout_seconds
        current = instance
        while True:
            if current.status == "active" and current.ip:
                return current
            if current.status in UNHEALTHY:
                return current
            if current.is_gone:
                raise RuntimeError(
                    f"Lambda instance {current.name} ({current.id}) is {current.status}"
                )
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"Lambda instance {current.name} ({current.id}) is still {current.status} "
                    f"after {self.policy.boot_timeout_seconds:g} s; it is billed while it "
                    "exists: run `pulumi up` again to adopt it, or destroy it"
                )
            time.sleep(self.policy.poll_seconds)
            current = self.client.get_instance(current.id)

    def _terminate(self, instance: Instance) -> None:
        self.client.terminate([instance.id])
