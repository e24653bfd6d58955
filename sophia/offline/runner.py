"""Run the stack's program under Pulumi's mock monitor and record every registration.

This is the same program `pulumi up` runs (`sophia.builder.build_platform`); the mock
monitor stands in for the engine. Each registration is kept in the engine's wire format
(camelCase keys, secrets wrapped in their signature), which is what policy packs receive.
"""

from __future__ import annotations

import asyncio
import functools
import pickle
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import pulumi
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import settings
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks, set_mocks
from pulumi.runtime.stack import run_pulumi_func

from components.catalog import load_catalog
from components.data_services.key_pair import KEY_PAIR_TYPE
from components.data_services.pinecone import PINECONE_INDEX_TYPE
from components.gpu_host import KUBECONFIG_PATH, NODE_TOKEN_PATH
from components.lambda_cloud.firewall import FIREWALL_RULESET_TYPE
from components.lambda_cloud.resources import INSTANCE_TYPE
from components.lambda_cloud.storage import FILE_SYSTEM_TYPE, mount_point
from components.secret_key import SECRET_KEY_TYPE

from ..builder import ConfigLookup, PlatformStack, build_platform
from ..loops import ensure_event_loop
from ..memory import fewer_collections
from ..spec import LoadedSpec

T = TypeVar("T")

PROJECT = "sophia-ai"
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
PLACEHOLDER_PREFIX = "offline-placeholder:"
PLANNED_KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: planned, cluster: {server: "https://127.0.0.1:6443"}}]
contexts: [{name: planned, context: {cluster: planned, user: planned}}]
current-context: planned
users: [{name: planned, user: {token: offline-placeholder}}]
"""
"""Stand-in for stack config (credentials, kubeconfig) the offline engine never has."""


@dataclass(frozen=True)
class RecordedResource:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    provider: str
    dependencies: tuple[str, ...]
    struct: struct_pb2.Struct
    """The registered inputs exactly as they went over the wire."""
    retain_on_delete: bool = False
    """`pulumi destroy` (or a replacement) leaves the cloud object in place."""
    protect: bool = False
    """The engine refuses to delete it (`ResourceOptions(protect=True)`)."""
    outputs: struct_pb2.Struct | None = None
    """What a component registered as its outputs (`register_outputs`), as sent."""
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Per input property, the resources whose outputs it was made from (none listed: none)."""

    @property
    def properties(self) -> dict[str, Any]:
        """Wire-format properties as JSON (protobuf numbers are doubles; whole ones → int)."""
        result: dict[str, Any] = _whole_numbers(json_format.MessageToDict(self.struct))
        return result


ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


def engine_urn(stack: str, project: str, parent: str, type_: str, name: str) -> str:
    """The URN the engine gives a resource (pkg/resource/urn.go `NewURN`): the parent's whole
    qualified type, `$`, the type — except under the root stack, which adds nothing."""
    if parent:
        parent_type = parent.split("::")[2]
        if parent_type != ROOT_STACK_TYPE:
            type_ = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"


class _RecordingMonitor(MockMonitor):
    def __init__(self, mocks: Mocks, project: str, stack: str) -> None:
        super().__init__(mocks)
        self.project = project
        self.stack = stack
        self.recorded: list[RecordedResource] = []
        self._position: dict[str, int] = {}  # URN → its index in `recorded`

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # Pulumi's mock monitor keeps only the last segment of the parent's type and puts the
        # stack's type in front of top-level children; the engine does neither.
        return engine_urn(self.stack, self.project, parent, type_, name)

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != ROOT_STACK_TYPE:
            self._position[response.urn] = len(self.recorded)
            self.recorded.append(
                RecordedResource(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent,
                    custom=bool(request.custom),
                    provider=request.provider,
                    dependencies=tuple(request.dependencies),
                    struct=request.object,
                    retain_on_delete=bool(request.retainOnDelete),
                    protect=bool(request.protect),
                    property_dependencies={
                        key: tuple(deps.urns)
                        for key, deps in request.propertyDependencies.items()
                        if deps.urns
                    },
                )
            )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        index = self._position.get(request.urn)
        if index is not None:
            self.recorded[index] = replace(self.recorded[index], outputs=request.outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


class PreviewMocks(Mocks):
    """What providers would compute, as far as a plan needs it."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        if args.typ == "docker:index/image:Image":
            outputs["repoDigest"] = f"{args.inputs.get('imageName', args.name)}@sha256:" + "0" * 64
        elif args.typ == INSTANCE_TYPE:
            outputs.update(_planned_instance(args.inputs))
        elif args.typ == FILE_SYSTEM_TYPE:
            outputs["mount_point"] = mount_point(str(args.inputs.get("name")))
        elif args.typ == SECRET_KEY_TYPE:
            outputs["value"] = f"{PLACEHOLDER_PREFIX}checksum-key"
        elif args.typ == FIREWALL_RULESET_TYPE:
            outputs["ruleset_id"] = f"planned-{args.name}"
        elif args.typ == PINECONE_INDEX_TYPE:
            outputs["host"] = f"{args.inputs.get('name')}.svc.planned.pinecone.io"
            outputs["state"] = "Ready"
        elif args.typ == KEY_PAIR_TYPE:
            outputs["private_key_pem"] = f"{PLACEHOLDER_PREFIX}private-key"
            outputs["public_key"] = f"{PLACEHOLDER_PREFIX}public-key"
        elif args.typ == "command:remote:Command":
            outputs["stdout"] = _planned_stdout(str(args.inputs.get("create", "")))
        return f"{args.name}-id", outputs

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


def _planned_instance(inputs: dict[str, Any]) -> dict[str, Any]:
    """Addresses from the documentation ranges (RFC 5737) and the catalog's GPU count and price."""
    number = zlib.crc32(str(inputs.get("name")).encode()) % 250 + 1
    entry = load_catalog().get(str(inputs.get("instance_type_name")))
    return {
        "instance_id": f"planned-{number}",
        "ip": f"192.0.2.{number}",
        "private_ip": f"10.0.0.{number}",
        "status": "planned",
        "gpu_count": entry.gpus if entry else 0,
        "price_cents_per_hour": entry.price_cents_per_hour if entry else 0,
    }


def _planned_stdout(script: str) -> str:
    if KUBECONFIG_PATH in script:
        return PLANNED_KUBECONFIG
    if NODE_TOKEN_PATH in script:
        return f"{PLACEHOLDER_PREFIX}node-token"
    return ""


def placeholder_config(key: str) -> pulumi.Output[str]:
    return pulumi.Output.secret(f"{PLACEHOLDER_PREFIX}{key}")


@contextmanager
def _pickler_restored() -> Iterator[None]:
    """pulumi.dynamic's `serialize_provider` wraps `pickle._Pickler._batch_setitems` again on
    every dynamic resource and never restores it: in a long-lived process (the MCP server, a
    test session) the wrappers nest until RecursionError. Each run starts from the original."""
    batch_setitems = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]
    save_dict = pickle._Pickler.save_dict  # type: ignore[attr-defined]
    try:
        yield
    finally:
        pickle._Pickler._batch_setitems = batch_setitems  # type: ignore[attr-defined]
        pickle._Pickler.save_dict = save_dict  # type: ignore[attr-defined]


def run_under_mocks(
    program: Callable[[], T], stack: str = "dev"
) -> tuple[list[RecordedResource], T]:
    """Run any Pulumi program under the mock monitor in preview mode; record what it registers."""
    ensure_event_loop()
    mocks = PreviewMocks()
    monitor = _RecordingMonitor(mocks, PROJECT, stack)
    # A fresh root stack resource for this stack (a long-lived process runs several stacks;
    # set_mocks keeps an existing root, so top-level resources got the previous stack's URN).
    settings.reset_options(project=PROJECT, stack=stack, preview=True)
    set_mocks(mocks, project=PROJECT, stack=stack, preview=True, monitor=monitor)
    result: list[T] = []
    loop = asyncio.get_event_loop_policy().get_event_loop()
    with fewer_collections(), _pickler_restored():
        loop.run_until_complete(run_pulumi_func(lambda: result.append(program())))
    return monitor.recorded, result[0]


def run_spec(
    spec: LoadedSpec, stack: str = "dev", config: ConfigLookup = placeholder_config
) -> tuple[list[RecordedResource], PlatformStack]:
    """The stack's own program (`build_platform`) for `spec`, under the mock monitor.

    A `partial` rather than a lambda: the SDK turns every Python frame above a resource's
    constructor into its source position, so each frame here costs every resource."""
    return run_under_mocks(functools.partial(build_platform, spec, config), stack)


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG


def unwrap_secrets(value: Any) -> Any:
    """The plain values inside secret wrappers (for code that must see them, never print)."""
    if is_secret(value):
        return unwrap_secrets(value.get("value"))
    if isinstance(value, dict):
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


def _whole_numbers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    return value
