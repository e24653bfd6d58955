"""Reading resource properties of any shape: the engine's wire format, possibly malformed.

pulumi-policy hands policies read-only Mapping/Sequence proxies, not dicts and lists, so
everything here tests against the abstract types.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

POD_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "kubernetes:core/v1:Pod": ("spec",),
}
GPU_RESOURCE = "nvidia.com/gpu"


class MalformedError(Exception):
    """A property has a shape no valid resource of its type has."""


def mapping(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise MalformedError(f"{where} should be a mapping, not {type(value).__name__}")
    return value


def sequence(value: Any, where: str) -> Sequence[Any]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise MalformedError(f"{where} should be a list, not {type(value).__name__}")
    return value


def count(value: Any, where: str) -> int:
    """A whole number in any form Kubernetes accepts and the wire delivers: 1, 1.0 (protobuf
    numbers are doubles), "1"."""
    if isinstance(value, bool):
        raise MalformedError(f"{where} is {value}, not a count")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 18:
        number = int(value.strip())
    else:
        raise MalformedError(f"{where} is {str(value)[:40]!r}, not a whole number")
    if number < 0:
        raise MalformedError(f"{where} is negative")
    return number


def dig(props: Mapping[str, Any], path: Sequence[str]) -> Any:
    node: Any = props
    for i, key in enumerate(path):
        node = mapping(node, ".".join(path[:i]) or "properties").get(key)
    return node


def label(resource_type: str, name: str, props: Mapping[str, Any] | None = None) -> str:
    """`Deployment 'api'`: how messages name a resource (its Kubernetes name when it has one)."""
    kind = resource_type.rsplit(":", 1)[-1]
    try:
        real = mapping(mapping(props, "properties").get("metadata"), "metadata").get("name")
    except (MalformedError, AttributeError):
        real = None
    if not isinstance(real, str):
        real = None
    return f"{kind} '{real or name}'"


@dataclass(frozen=True)
class Container:
    path: str
    """Where it sits, for messages: `spec.template.spec.containers[0]`."""
    spec: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.spec.get("name", "?"))

    def resources(self, kind: str) -> Mapping[str, Any]:
        res = mapping(self.spec.get("resources"), f"{self.path}.resources")
        return mapping(res.get(kind), f"{self.path}.resources.{kind}")

    def gpus(self, kind: str) -> int:
        value = self.resources(kind).get(GPU_RESOURCE)
        return 0 if value is None else count(value, f"{self.path}.resources.{kind}.{GPU_RESOURCE}")


@dataclass(frozen=True)
class PodSpec:
    path: str
    spec: Mapping[str, Any]

    def containers(self, include_init: bool = True) -> Iterator[Container]:
        kinds = ("initContainers", "containers") if include_init else ("containers",)
        for kind in kinds:
            for i, c in enumerate(sequence(self.spec.get(kind), f"{self.path}.{kind}")):
                where = f"{self.path}.{kind}[{i}]"
                yield Container(where, mapping(c, where))

    def gpus_per_pod(self) -> int:
        return sum(max(c.gpus("limits"), c.gpus("requests")) for c in self.containers())

    def node_selector(self) -> Mapping[str, Any]:
        return mapping(self.spec.get("nodeSelector"), f"{self.path}.nodeSelector")

    def required_expressions(self) -> Iterator[Mapping[str, Any]]:
        affinity = mapping(self.spec.get("affinity"), f"{self.path}.affinity")
        node = mapping(affinity.get("nodeAffinity"), f"{self.path}.affinity.nodeAffinity")
        required = mapping(
            node.get("requiredDuringSchedulingIgnoredDuringExecution"),
            f"{self.path}.affinity.nodeAffinity.required…",
        )
        for term in sequence(required.get("nodeSelectorTerms"), "nodeSelectorTerms"):
            for expr in sequence(mapping(term, "term").get("matchExpressions"), "matchExpressions"):
                yield mapping(expr, "matchExpression")

    def required_affinity_keys(self) -> set[str]:
        """Label keys the pod's required node affinity selects on."""
        return {e["key"] for e in self.required_expressions() if isinstance(e.get("key"), str)}


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> PodSpec | None:
    """The pod template of a workload, or None for other resource types."""
    path = POD_TEMPLATE_PATHS.get(resource_type)
    if path is None:
        return None
    return PodSpec(".".join(path), mapping(dig(props, path), ".".join(path)))


def replicas(resource_type: str, props: Mapping[str, Any]) -> int:
    spec = mapping(props.get("spec"), "spec")
    if resource_type in (
        "kubernetes:apps/v1:Deployment",
        "kubernetes:apps/v1:StatefulSet",
        "kubernetes:apps/v1:ReplicaSet",
    ):
        value = spec.get("replicas", 1)
    elif resource_type == "kubernetes:batch/v1:Job":
        value = spec.get("parallelism", 1)
    else:
        value = 1
    return count(value, "spec.replicas")
