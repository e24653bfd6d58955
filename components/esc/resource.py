"""`EscEnvironment`: a Pulumi ESC environment's definition as a dynamic resource.

Diffs by content hash (no network during preview). Updates are optimistic: the ETag from the
last write is checked before writing and sent as `If-Match`, so an edit made outside the stack
is reported as a conflict and never overwritten. The access token is a secret input, not a
field of the pickled provider.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

from .definition import load
from .errors import EscConflictError, EscNotFoundError
from .gateway import EnvironmentRef, EscGateway

ENVIRONMENT_TYPE = "pulumi-python:dynamic/esc:Environment"
_IDENTITY = ("organization", "project", "environment")


def content_hash(yaml_text: str) -> str:
    return hashlib.sha256(yaml_text.encode()).hexdigest()


def _gateway(props: dict[str, Any]) -> EscGateway:
    return EscGateway(props.get("access_token") or None, props.get("api_url") or None)


def _ref(props: dict[str, Any]) -> EnvironmentRef:
    return EnvironmentRef(props["organization"], props["project"], props["environment"])


class EscEnvironmentProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        gateway, env = _gateway(props), _ref(props)
        if not gateway.exists(env):
            gateway.create(env)
        snapshot = gateway.read(env)
        current = load(snapshot.yaml)
        if current and current != load(props["yaml"]):
            raise EscConflictError(
                409,
                f"ESC environment {env} already exists with another definition; nothing was "
                "overwritten: import it into the stack, or delete it first",
            )
        gateway.write(env, props["yaml"], snapshot.etag)
        return CreateResult(str(env), self._outputs(props, gateway.read(env).etag))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in _IDENTITY if olds.get(k) != news.get(k)]
        changed = replaces or olds.get("content_hash") != content_hash(news["yaml"])
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=True)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        gateway, env = _gateway(news), _ref(news)
        snapshot = gateway.read(env)
        if olds.get("etag") and snapshot.etag != olds["etag"]:
            raise EscConflictError(
                409,
                f"ESC environment {env} was changed outside this stack since its last update "
                f"(ETag {snapshot.etag}, expected {olds['etag']}); nothing was overwritten: "
                f"review it (`esc env get {env}`), then `pulumi refresh` and update again",
            )
        gateway.write(env, news["yaml"], snapshot.etag)
        return UpdateResult(self._outputs(news, gateway.read(env).etag))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            snapshot = _gateway(props).read(_ref(props))
        except EscNotFoundError:
            return ReadResult(None, {})
        return ReadResult(id_, {**props, "etag": snapshot.etag})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        try:
            _gateway(props).delete(_ref(props))
        except EscNotFoundError:
            return

    @staticmethod
    def _outputs(props: dict[str, Any], etag: str) -> dict[str, Any]:
        return {**props, "etag": etag, "content_hash": content_hash(props["yaml"])}


@dataclass(frozen=True)
class EscEnvironmentArgs:
    organization: str
    project: str
    environment: str
    yaml: pulumi.Input[str]
    """The whole definition; pass a secret Output when it holds credentials."""
    access_token: pulumi.Input[str] | None = None
    """Secret; without it the provider reads PULUMI_ACCESS_TOKEN."""
    api_url: str | None = None
    definition_is_secret: bool = False


class EscEnvironment(pulumi.dynamic.Resource, module="esc", name="Environment"):
    etag: pulumi.Output[str]
    content_hash: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        args: EscEnvironmentArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        secret_outputs = ["access_token", "yaml"] if args.definition_is_secret else ["access_token"]
        super().__init__(
            EscEnvironmentProvider(),
            resource_name,
            {
                "organization": args.organization,
                "project": args.project,
                "environment": args.environment,
                "yaml": pulumi.Output.secret(args.yaml) if args.definition_is_secret else args.yaml,
                "access_token": (
                    pulumi.Output.secret(args.access_token)
                    if args.access_token is not None
                    else None
                ),
                "api_url": args.api_url,
                "etag": None,
                "content_hash": None,
            },
            pulumi.ResourceOptions.merge(
                opts or pulumi.ResourceOptions(),
                pulumi.ResourceOptions(additional_secret_outputs=secret_outputs),
            ),
        )
