"""Talking to the real policy pack process over gRPC, with factories for resources.

pulumi-policy has no test kit; this is the short way to say "this resource, under this
config, makes that policy fire (or stay quiet)" through the protocol the CLI uses.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from google.protobuf import struct_pb2

from sophia.offline.analyzer import Diagnostic, PolicyPackProcess
from sophia.offline.runner import RecordedResource

STACK = "urn:pulumi:test::sophia-ai::"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
INSTANCE = "pulumi-python:dynamic/lambda:Instance"
ESC_ENV = "pulumi-python:dynamic/esc:Environment"
SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def resource(type_: str, props: Mapping[str, Any], name: str = "r") -> RecordedResource:
    struct = struct_pb2.Struct()
    struct.update(dict(props))
    return raw_resource(type_, struct, name)


def raw_resource(type_: str, struct: struct_pb2.Struct, name: str = "r") -> RecordedResource:
    """A resource with exactly these wire properties (NaN, odd shapes and all)."""
    return RecordedResource(
        urn=f"{STACK}{type_}::{name}",
        type=type_,
        name=name,
        parent="",
        custom=True,
        provider="",
        dependencies=(),
        struct=struct,
    )


def secret(value: Any) -> dict[str, Any]:
    return {**SECRET_SIG, "value": value}


def container(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "app",
        "image": "ghcr.io/acme/app:1.2.3",
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "512Mi"},
        },
    }
    base.update(changes)
    return base


def gpu_container(count: int = 1, **changes: Any) -> dict[str, Any]:
    c = container(**changes)
    c["resources"]["limits"]["nvidia.com/gpu"] = str(count)
    return c


GPU_POD_EXTRAS = {
    "runtimeClassName": "nvidia",
    "nodeSelector": {"gpu-type": "a10"},
    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
}


def deployment(
    name: str = "api",
    containers: Iterable[dict[str, Any]] | None = None,
    replicas: int = 1,
    **pod: Any,
) -> RecordedResource:
    props = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "sophia"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": list(containers or [container()]), **pod},
            },
        },
    }
    return resource(DEPLOYMENT, props, f"{name}-deployment")


def recreated(made: RecordedResource) -> RecordedResource:
    """The same Deployment rolled out with Recreate (no surge pod)."""
    props = made.properties
    props["spec"]["strategy"] = {"type": "Recreate"}
    return resource(DEPLOYMENT, props, made.name)


def gpu_deployment(
    name: str = "bi",
    replicas: int = 1,
    count: int = 1,
    gpu_type: str = "a10",
    strategy: dict[str, Any] | None = None,
    **pod: Any,
) -> RecordedResource:
    """A GPU Deployment as the component makes it: Recreate unless `strategy` says otherwise."""
    extras = copy.deepcopy(GPU_POD_EXTRAS)
    extras["nodeSelector"] = {"gpu-type": gpu_type}
    extras.update(pod)
    made = deployment(name, [gpu_container(count)], replicas, **extras)
    if strategy is None:
        return recreated(made)
    props = made.properties
    props["spec"]["strategy"] = strategy
    return resource(DEPLOYMENT, props, made.name)


def hpa(target: str, max_replicas: int) -> RecordedResource:
    return resource(
        HPA,
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": target, "namespace": "sophia"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
                "minReplicas": 1,
                "maxReplicas": max_replicas,
            },
        },
        f"{target}-hpa",
    )


def host(
    name: str = "gpu-a10",
    instance_type: str = "gpu_1x_a10",
    labels: Mapping[str, str] | None = None,
    taints: list[dict[str, str]] | None = None,
) -> RecordedResource:
    """A LambdaGpuHost component as it registers itself: the node the bootstrap makes."""
    gpu_type = instance_type.split("_", 2)[2].split("_", maxsplit=1)[0]
    node_labels = {
        "gpu-type": gpu_type,
        "nvidia.com/gpu.present": "true",
        "sophia.ai/host": name,
        **(labels or {}),
    }
    made = resource(
        "sophia:index:LambdaGpuHost",
        {
            "instanceName": f"sophia-prod-{name}",
            "instanceType": instance_type,
            "region": "us-west-1",
            "nodeLabels": node_labels,
            "nodeTaints": taints or [],
        },
        name,
    )
    return RecordedResource(made.urn, made.type, made.name, "", False, "", (), made.struct)


def instance(instance_type: str = "gpu_1x_a10", name: str = "gpu-a10") -> RecordedResource:
    return resource(
        INSTANCE,
        {
            "name": f"sophia-prod-{name}",
            "instance_type_name": instance_type,
            "region_name": "us-west-1",
            "ssh_key_names": ["sophia-deploy"],
            "api_key": secret("secret_lambda_key"),
            "__provider": secret("gASV..."),
        },
        f"{name}-instance",
    )


def config_map(data: Mapping[str, Any]) -> RecordedResource:
    return resource(
        CONFIG_MAP,
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings"},
            "data": dict(data),
        },
        "settings",
    )


def esc_environment(yaml_text: str) -> RecordedResource:
    return resource(
        ESC_ENV,
        {
            "organization": "sophia-ai",
            "project": "sophia-ai",
            "environment": "production",
            "yaml": yaml_text,
        },
        "esc",
    )


class Pack:
    def __init__(self, process: PolicyPackProcess) -> None:
        self.process = process

    def _configure(self, config: Mapping[str, Any] | None) -> None:
        self.process.configure(self.process.resolve_config(config or {}))

    def analyze(
        self, r: RecordedResource, config: Mapping[str, Any] | None = None
    ) -> list[Diagnostic]:
        self._configure(config)
        return self.process.analyze(r)

    def analyze_stack(
        self, resources: list[RecordedResource], config: Mapping[str, Any] | None = None
    ) -> list[Diagnostic]:
        self._configure(config)
        return self.process.analyze_stack(resources)


def of(policy: str, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.policy_name == policy]


def fires(policy: str, diagnostics: list[Diagnostic], *fragments: str) -> Diagnostic:
    found = of(policy, diagnostics)
    assert found, f"{policy} stayed quiet; diagnostics: {[d.message for d in diagnostics]}"
    for fragment in fragments:
        assert any(fragment in d.message for d in found), (fragment, [d.message for d in found])
    return found[0]


def quiet(policy: str, diagnostics: list[Diagnostic]) -> None:
    assert not of(policy, diagnostics), [d.message for d in of(policy, diagnostics)]
