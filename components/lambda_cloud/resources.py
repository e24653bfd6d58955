"""Dynamic resources over the Lambda Cloud API: `LambdaInstance` and `LambdaSshKey`
(file systems: `storage.py`; firewall rulesets: `firewall.py`).

The providers hold no credentials: Pulumi pickles a dynamic provider into state, so the API
key travels as a secret input with every call instead (and `ApiKey` refuses to be pickled).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from ..catalog import load_catalog
from ..rest import RetryPolicy
from ..secret_inputs import secret_input, secret_outputs
from .adopt import create_once
from .client import LambdaCloudClient, client_for
from .errors import InsufficientCapacityError, NotFoundError
from .launch import UNHEALTHY, Launcher, LaunchPolicy, LaunchRequest
from .models import Instance, SshKey

INSTANCE_TYPE = "pulumi-python:dynamic/lambda:Instance"
REPLACE_ON = (
    "instance_type_name",
    "region_name",
    "ssh_key_names",
    "file_system_names",
    "firewall_ruleset_ids",
)
"""What Lambda fixes at launch (the API changes only an instance's name afterwards)."""
MAX_NAME_LENGTH = 64
"""Lambda's limit on instance names (InstanceLaunchRequest.name in its OpenAPI document)."""
_OUTPUTS = ("instance_id", "ip", "private_ip", "status", "gpu_count", "price_cents_per_hour")


def instance_name(*parts: str) -> str:
    """`parts` joined by '-', within Lambda's 64 characters. A longer name keeps its first 55
    characters and gets an 8-character hash of the whole: two hosts whose names share a long
    prefix still get two instances (truncation alone once made them one)."""
    full = "-".join(parts)
    if len(full) <= MAX_NAME_LENGTH:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    return f"{full[: MAX_NAME_LENGTH - 9]}-{digest}"


class LambdaInstanceProvider(ResourceProvider):
    """CRUD for one Lambda Cloud instance, found by its stack-unique name, launched exactly
    once (launch.py says how ambiguous answers and unhealthy instances are handled)."""

    def __init__(
        self, retry: RetryPolicy | None = None, launch: LaunchPolicy | None = None
    ) -> None:
        super().__init__()
        self.retry = retry or RetryPolicy()
        self.launch = launch

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        catalog = load_catalog()
        failures = []
        itype = news.get("instance_type_name")
        if isinstance(itype, str) and itype not in catalog:
            failures.append(
                CheckFailure("instance_type_name", f"unknown Lambda instance type '{itype}'")
            )
        region = news.get("region_name")
        if isinstance(region, str) and region not in catalog.regions:
            failures.append(CheckFailure("region_name", f"unknown Lambda region '{region}'"))
        keys = news.get("ssh_key_names")
        if isinstance(keys, list) and len(keys) != 1:
            failures.append(
                CheckFailure("ssh_key_names", "Lambda takes exactly one SSH key name at launch")
            )
        name = news.get("name")
        if isinstance(name, str) and len(name) > MAX_NAME_LENGTH:
            failures.append(
                CheckFailure(
                    "name", f"Lambda instance names are at most {MAX_NAME_LENGTH} characters"
                )
            )
        return CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        with client_for(props, self.retry) as client:
            self._check_capacity(client, props)
            # The resource's own boot timeout and poll interval win over the provider's policy.
            policy = replace(
                self.launch or LaunchPolicy(),
                poll_seconds=float(props.get("poll_interval_seconds") or 10),
                boot_timeout_seconds=float(props.get("boot_timeout_seconds") or 1200),
            )
            try:
                ready = Launcher(client, policy).ensure_active(_launch_request(props))
            except InsufficientCapacityError:
                now = client.instance_types().get(props["instance_type_name"])
                raise _no_capacity(
                    props["instance_type_name"],
                    props["region_name"],
                    now.regions_with_capacity if now else (),
                ) from None
        return CreateResult(ready.id, self._outputs(props, ready))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with client_for(props, self.retry) as client:
            try:
                instance = client.get_instance(id_)
            except NotFoundError:
                return ReadResult(None, {})
        if instance.is_gone:
            return ReadResult(None, {})
        return ReadResult(id_, self._outputs(props, instance))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in REPLACE_ON if _normal(olds.get(k)) != _normal(news.get(k))]
        if olds.get("status") in UNHEALTHY:
            replaces.append("status")  # seen unhealthy by a refresh: replaced, never kept
        changed = replaces or [
            k
            for k in news
            if k not in _OUTPUTS
            and not k.startswith("__")  # the pickled provider changes with the code, not the box
            and _normal(olds.get(k)) != _normal(news.get(k))
        ]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=True)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        with client_for(news, self.retry) as client:
            instance = (
                client.rename_instance(id_, news["name"])
                if olds.get("name") != news["name"]
                else client.get_instance(id_)
            )
        return UpdateResult(self._outputs(news, instance))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with client_for(props, self.retry) as client:
            try:
                client.terminate([id_])
            except NotFoundError:
                return  # already gone: what delete wants

    # --- helpers ---

    @staticmethod
    def _check_capacity(client: LambdaCloudClient, props: dict[str, Any]) -> None:
        """A capacity miss is found before it spends the launch rate limit (as SkyPilot does)."""
        itype, region = props["instance_type_name"], props["region_name"]
        offer = client.instance_types().get(itype)
        if offer is not None and region not in offer.regions_with_capacity:
            raise _no_capacity(itype, region, offer.regions_with_capacity)

    @staticmethod
    def _outputs(props: dict[str, Any], instance: Instance) -> dict[str, Any]:
        return {
            **props,
            "instance_id": instance.id,
            "ip": instance.ip,
            "private_ip": instance.private_ip,
            "status": instance.status,
            "gpu_count": instance.gpus,
            "price_cents_per_hour": instance.price_cents_per_hour,
        }


def _launch_request(props: dict[str, Any]) -> LaunchRequest:
    return LaunchRequest(
        name=props["name"],
        instance_type_name=props["instance_type_name"],
        region_name=props["region_name"],
        ssh_key_names=tuple(props["ssh_key_names"]),
        file_system_names=tuple(props.get("file_system_names") or ()),
        firewall_ruleset_ids=tuple(props.get("firewall_ruleset_ids") or ()),
    )


def _normal(value: Any) -> Any:
    return sorted(value) if isinstance(value, list) else value


def _no_capacity(itype: str, region: str, regions: Sequence[str]) -> InsufficientCapacityError:
    where = ", ".join(regions) if regions else "none right now"
    error = InsufficientCapacityError(
        400,
        "instance-operations/launch/insufficient-capacity",
        f"no capacity for {itype} in {region}; regions with capacity: {where}",
        "change the host's region in the spec, or try again later",
    )
    error.regions_with_capacity = list(regions)
    return error


@dataclass(frozen=True)
class LambdaInstanceArgs:
    name: str
    """Stack-unique instance name (≤ 64 characters); how a retried create finds its instance."""
    instance_type_name: str
    region_name: str
    ssh_key_names: Sequence[str]
    api_key: pulumi.Input[str] | None = None
    """Secret; without it the provider reads LAMBDA_API_KEY."""
    file_system_names: Sequence[pulumi.Input[str]] = field(default_factory=tuple)
    """Lambda persistent file systems to mount (at /lambda/nfs/<name>), in the same region."""
    firewall_ruleset_ids: Sequence[pulumi.Input[str]] = field(default_factory=tuple)
    """Firewall rulesets to attach (`LambdaFirewallRuleset.ruleset_id`), in the same region."""
    api_base: str | None = None
    boot_timeout_seconds: int = 1200
    poll_interval_seconds: int = 10


class LambdaInstance(pulumi.dynamic.Resource, module="lambda", name="Instance"):
    instance_id: pulumi.Output[str]
    ip: pulumi.Output[str]
    private_ip: pulumi.Output[str]
    status: pulumi.Output[str]
    gpu_count: pulumi.Output[int]
    price_cents_per_hour: pulumi.Output[int]

    def __init__(
        self,
        resource_name: str,
        args: LambdaInstanceArgs,
        opts: pulumi.ResourceOptions | None = None,
        provider: LambdaInstanceProvider | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "name": args.name,
            "instance_type_name": args.instance_type_name,
            "region_name": args.region_name,
            "ssh_key_names": list(args.ssh_key_names),
            "file_system_names": list(args.file_system_names),
            "firewall_ruleset_ids": list(args.firewall_ruleset_ids),
            "api_key": secret_input(args.api_key),
            "api_base": args.api_base,
            "boot_timeout_seconds": args.boot_timeout_seconds,
            "poll_interval_seconds": args.poll_interval_seconds,
            **dict.fromkeys(_OUTPUTS),
        }
        super().__init__(
            provider or LambdaInstanceProvider(),
            resource_name,
            props,
            secret_outputs(opts, "api_key"),
        )


class LambdaSshKeyProvider(ResourceProvider):
    """Registers a public key with Lambda Cloud (adopting an identical one of the same name)."""

    def __init__(self, retry: RetryPolicy | None = None) -> None:
        super().__init__()
        self.retry = retry or RetryPolicy()

    def create(self, props: dict[str, Any]) -> CreateResult:
        name, public_key = props["name"], props["public_key"]
        with client_for(props, self.retry) as client:

            def find() -> SshKey | None:
                same = next((k for k in client.list_ssh_keys() if k.name == name), None)
                if same is not None and same.public_key.strip() != public_key.strip():
                    raise RuntimeError(
                        f"an SSH key named '{name}' with another public key exists in Lambda"
                    )
                return same

            key = create_once(f"SSH key {name}", find, lambda: client.add_ssh_key(name, public_key))
        return CreateResult(key.id, {**props, "key_id": key.id})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in ("name", "public_key") if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(replaces), replaces=replaces, delete_before_replace=True)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with client_for(props, self.retry) as client:
            try:
                client.delete_ssh_key(id_)
            except NotFoundError:
                return


class LambdaSshKey(pulumi.dynamic.Resource, module="lambda", name="SshKey"):
    key_id: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        name: str,
        public_key: str,
        api_key: pulumi.Input[str] | None = None,
        api_base: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            LambdaSshKeyProvider(),
            resource_name,
            {
                "name": name,
                "public_key": public_key,
                "api_key": secret_input(api_key),
                "api_base": api_base,
                "key_id": None,
            },
            secret_outputs(opts, "api_key"),
        )
