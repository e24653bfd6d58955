"""What fits where: every pod a stack can run, placed on the nodes of its Lambda hosts.

One model serves the `capacity` policy, `sophia preview`'s headroom table and the planner.

- Nodes: one per `sophia:index:LambdaGpuHost` (its registered instance type and node labels;
  a bare `LambdaInstance` counts with the labels the bootstrap always sets). Allocatable is the
  catalog's vCPUs, memory and GPUs minus a system reserve (default 1 vCPU and 2 GiB for k3s,
  the device plugin and the OS; `systemReserve` in the policy config).
- Pods: each workload's pod template × its peak replicas (the HPA maximum where one targets
  it) + its rollout surge (RollingUpdate's maxSurge; none for Recreate or maxSurge 0), all at
  once — `pulumi up` rolls every changed Deployment in parallel.
- Placement: a pod may go to a node whose labels satisfy its nodeSelector and required node
  affinity (`In`, `NotIn`, `Exists`, `DoesNotExist`), whose taints it tolerates, and where its
  requests (CPU, memory, `nvidia.com/gpu`) still fit. Pods are placed largest first (GPUs,
  then CPU, then memory), each on the fitting node with the most room left — what the
  scheduler's least-allocated scoring does.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .catalog import load_catalog
from .props import GPU_RESOURCE, PodSpec, count, dig, mapping, pod_spec, replicas, sequence

HOST_COMPONENT = "sophia:index:LambdaGpuHost"
LAMBDA_INSTANCE = "pulumi-python:dynamic/lambda:Instance"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
DEFAULT_RESERVE = {"cpu": "1", "memory": "2Gi"}

_MEMORY_UNITS = {
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
    "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
}  # fmt: skip
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")


def millicores(value: Any) -> int:
    """A CPU quantity in millicores ('500m' → 500, '2' → 2000, 1.5 → 1500)."""
    text = str(value).strip()
    match = _QUANTITY.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a CPU quantity")
    number, unit = float(match.group(1)), match.group(2)
    if unit == "m":
        return math.ceil(number)
    if unit:
        raise ValueError(f"{text!r} is not a CPU quantity")
    return math.ceil(number * 1000)


def memory_bytes(value: Any) -> int:
    """A memory quantity in bytes ('512Mi' → 536870912)."""
    text = str(value).strip()
    match = _QUANTITY.match(text)
    if match is None or match.group(2) == "m":
        raise ValueError(f"{text!r} is not a memory quantity")
    return math.ceil(float(match.group(1)) * _MEMORY_UNITS.get(match.group(2) or "", 1))


@dataclass(frozen=True)
class Amount:
    cpu_m: int = 0
    memory: int = 0
    gpus: int = 0

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.cpu_m + other.cpu_m, self.memory + other.memory, self.gpus + other.gpus)

    def __sub__(self, other: Amount) -> Amount:
        return Amount(self.cpu_m - other.cpu_m, self.memory - other.memory, self.gpus - other.gpus)

    def fits_in(self, room: Amount) -> bool:
        return self.cpu_m <= room.cpu_m and self.memory <= room.memory and self.gpus <= room.gpus

    def short_of(self, room: Amount) -> list[str]:
        """What this amount lacks in `room`, for messages."""
        missing = []
        if self.cpu_m > room.cpu_m:
            missing.append(f"CPU ({self.cpu_m}m asked, {max(room.cpu_m, 0)}m free)")
        if self.memory > room.memory:
            asked, free = self.memory / 2**30, max(room.memory, 0) / 2**30
            missing.append(f"memory ({asked:.2f}Gi asked, {free:.2f}Gi free)")
        if self.gpus > room.gpus:
            missing.append(f"{GPU_RESOURCE} ({self.gpus} asked, {max(room.gpus, 0)} free)")
        return missing


@dataclass
class Node:
    name: str
    instance_type: str
    labels: Mapping[str, str]
    taints: Sequence[Mapping[str, Any]]
    allocatable: Amount
    used: Amount = field(default_factory=Amount)
    pods: list[str] = field(default_factory=list)

    @property
    def free(self) -> Amount:
        return self.allocatable - self.used


@dataclass(frozen=True)
class Pod:
    workload: str
    index: int
    kind: str
    """'replica' or 'surge'."""
    request: Amount
    selector: Mapping[str, str]
    expressions: tuple[Mapping[str, Any], ...]
    tolerations: tuple[Mapping[str, Any], ...]

    @property
    def label(self) -> str:
        return (
            f"{self.workload} #{self.index + 1}{' (rollout surge)' if self.kind == 'surge' else ''}"
        )


@dataclass(frozen=True)
class Placement:
    nodes: list[Node]
    unplaced: list[tuple[Pod, str]]
    """Pods with no node, and why."""


def _surge(strategy: Mapping[str, Any], wanted: int) -> int:
    """Extra pods a rollout runs at once (Kubernetes' defaults: RollingUpdate, 25%, rounded up)."""
    if strategy.get("type") == "Recreate":
        return 0
    rolling = mapping(strategy.get("rollingUpdate"), "spec.strategy.rollingUpdate")
    surge = rolling.get("maxSurge", "25%")
    if isinstance(surge, str) and surge.endswith("%"):
        return math.ceil(wanted * float(surge[:-1]) / 100)
    return count(surge, "spec.strategy.rollingUpdate.maxSurge")


def _request(pod: PodSpec) -> Amount:
    """The pod's scheduling request: the sum over its containers (requests, else limits)."""
    total = Amount()
    for container in pod.containers(include_init=False):
        requests, limits = container.resources("requests"), container.resources("limits")
        cpu = requests.get("cpu", limits.get("cpu"))
        memory = requests.get("memory", limits.get("memory"))
        total = total + Amount(
            millicores(cpu) if cpu is not None else 0,
            memory_bytes(memory) if memory is not None else 0,
            max(container.gpus("limits"), container.gpus("requests")),
        )
    return total


def _hpa_max(resources: Iterable[Any]) -> dict[tuple[str, str, str], int]:
    found = {}
    for r in resources:
        if r.resource_type != HPA:
            continue
        ns = str(dig(r.props, ("metadata", "namespace")) or "default")
        target = mapping(dig(r.props, ("spec", "scaleTargetRef")), "spec.scaleTargetRef")
        found[(ns, str(target.get("kind")), str(target.get("name")))] = count(
            dig(r.props, ("spec", "maxReplicas")), "spec.maxReplicas"
        )
    return found


def pods_of(resources: Sequence[Any]) -> list[Pod]:
    """Every pod the stack's workloads can run at their peak, surge included."""
    scaled = _hpa_max(resources)
    found: list[Pod] = []
    for r in resources:
        pod = pod_spec(r.resource_type, r.props)
        if pod is None:
            continue
        ns = str(dig(r.props, ("metadata", "namespace")) or "default")
        name = str(dig(r.props, ("metadata", "name")) or r.name)
        kind = r.resource_type.rsplit(":", 1)[-1]
        wanted = scaled.get((ns, kind, name), replicas(r.resource_type, r.props))
        surge = 0
        if r.resource_type == DEPLOYMENT and wanted > 0:
            surge = _surge(mapping(dig(r.props, ("spec", "strategy")), "spec.strategy"), wanted)
        request = _request(pod)
        selector = {str(k): str(v) for k, v in pod.node_selector().items()}
        expressions = tuple(pod.required_expressions())
        tolerations = tuple(
            mapping(t, "toleration")
            for t in sequence(pod.spec.get("tolerations"), f"{pod.path}.tolerations")
        )
        for i in range(wanted + surge):
            found.append(
                Pod(
                    f"{kind} '{name}'",
                    i,
                    "replica" if i < wanted else "surge",
                    request,
                    selector,
                    expressions,
                    tolerations,
                )
            )
    return found


def nodes_of(resources: Sequence[Any], reserve: Mapping[str, Any] | None = None) -> list[Node]:
    """The nodes the stack's hosts become (empty when the stack runs on a cluster it does not
    own: then there is nothing to place pods on here)."""
    catalog = load_catalog()
    kept = reserve_amount(reserve)
    hosts = [r for r in resources if r.resource_type == HOST_COMPONENT]
    described = {str(r.props.get("instanceName")) for r in hosts}
    nodes = []
    for r in hosts:
        entry = catalog.get(str(r.props.get("instanceType")))
        labels = {
            str(k): str(v) for k, v in mapping(r.props.get("nodeLabels"), "nodeLabels").items()
        }
        taints = tuple(
            mapping(t, "taint") for t in sequence(r.props.get("nodeTaints"), "nodeTaints")
        )
        if entry is not None:
            nodes.append(_node(r.name, entry, labels, taints, kept))
    for r in resources:  # instances made without the component: the labels every node gets
        if r.resource_type != LAMBDA_INSTANCE or str(r.props.get("name")) in described:
            continue
        entry = catalog.get(str(r.props.get("instance_type_name")))
        if entry is not None:
            labels = {"gpu-type": entry.gpu_type, "nvidia.com/gpu.present": "true"}
            nodes.append(_node(str(r.props.get("name") or r.name), entry, labels, (), kept))
    return nodes


def reserve_amount(reserve: Mapping[str, Any] | None = None) -> Amount:
    held = reserve or DEFAULT_RESERVE
    return Amount(millicores(held.get("cpu", "0")), memory_bytes(held.get("memory", "0")), 0)


def planned_node(name: str, entry: Any, labels: Mapping[str, str]) -> Node:
    """The node a host of catalog type `entry` would be (the planner's candidates)."""
    return _node(name, entry, labels, (), reserve_amount())


def _node(
    name: str, entry: Any, labels: Mapping[str, str], taints: Sequence[Any], kept: Amount
) -> Node:
    capacity = Amount(entry.vcpus * 1000, entry.memory_gib * 2**30, entry.gpus)
    return Node(name, entry.name, labels, taints, capacity - kept)


def _matches(expression: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key, operator = str(expression.get("key")), expression.get("operator")
    values = [str(v) for v in sequence(expression.get("values"), "matchExpression.values")]
    if operator == "In":
        return labels.get(key) in values
    if operator == "NotIn":
        return labels.get(key) not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False  # Gt/Lt and unknown operators: not modelled, never assumed to match


def _tolerates(pod: Pod, taint: Mapping[str, Any]) -> bool:
    if taint.get("effect") not in ("NoSchedule", "NoExecute"):
        return True  # PreferNoSchedule does not keep a pod off
    for t in pod.tolerations:
        if t.get("operator") == "Exists" and t.get("key") in (None, ""):
            return True
        same = t.get("key") == taint.get("key") and t.get("effect") in (
            "",
            None,
            taint.get("effect"),
        )
        if same and (t.get("operator") == "Exists" or t.get("value") == taint.get("value")):
            return True
    return False


def eligible(pod: Pod, node: Node) -> bool:
    return (
        all(node.labels.get(k) == v for k, v in pod.selector.items())
        and all(_matches(e, node.labels) for e in pod.expressions)
        and all(_tolerates(pod, t) for t in node.taints)
    )


def place(pods: Sequence[Pod], nodes: list[Node]) -> Placement:
    """Largest pods first, each on the matching node with the most room. Ties are broken by
    name, never by the order resources arrived in (the engine registers them in whatever
    order the program's coroutines finish): the same stack always gets the same placement."""
    unplaced: list[tuple[Pod, str]] = []
    order = sorted(
        pods,
        key=lambda p: (
            -p.request.gpus,
            -p.request.cpu_m,
            -p.request.memory,
            p.workload,
            p.kind,
            p.index,
        ),
    )
    by_name = sorted(nodes, key=lambda n: n.name)
    # Workloads with the same constraints may use the same nodes: found once per constraints
    # (a workload's replicas share its selector, expressions and tolerations objects).
    constraints: dict[tuple[int, int, int], Hashable] = {}
    matching: dict[Hashable, _Roomiest] = {}
    for pod in order:
        same_objects = (id(pod.selector), id(pod.expressions), id(pod.tolerations))
        key = constraints.get(same_objects)
        if key is None:
            key = constraints[same_objects] = _frozen(
                (pod.selector, pod.expressions, pod.tolerations)
            )
        choices = matching.get(key)
        if choices is None:
            choices = matching[key] = _Roomiest([n for n in by_name if eligible(pod, n)])
        if not choices.nodes:
            unplaced.append((pod, "no node matches its node selector, affinity and tolerations"))
            continue
        best = choices.take(pod.request)
        if best is None:
            roomiest = max(choices.nodes, key=lambda n: (n.free.gpus, n.free.cpu_m, n.free.memory))
            reason = ", ".join(pod.request.short_of(roomiest.free))
            unplaced.append((pod, f"short of {reason} on {roomiest.name}, the roomiest match"))
            continue
        best.used = best.used + pod.request
        best.pods.append(pod.label)
        choices.offer(best)
    return Placement(nodes, unplaced)


def _frozen(value: Any) -> Hashable:
    """A hashable copy of plain data (mappings become sorted pairs), to compare by value."""
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value if isinstance(value, Hashable) else repr(value)


class _Roomiest:
    """The nodes one workload may use, roomiest first — the most free CPU for its size, then
    the most free memory, then the first by name — as a heap, so that placing a pod costs
    log(nodes) instead of a look at every node (placement grew with pods × hosts).

    Other workloads fill the same nodes; an entry remembers the `used` it was ranked with
    and is ranked again when taken out after that changed. Free room only shrinks, so a
    stale entry is never ranked lower than it should be: it comes out early and goes back."""

    def __init__(self, nodes: list[Node]) -> None:
        self.nodes = nodes
        self._order = {id(node): order for order, node in enumerate(nodes)}
        self._heap = [self._entry(order, node) for order, node in enumerate(nodes)]
        heapq.heapify(self._heap)

    @staticmethod
    def _entry(order: int, node: Node) -> tuple[float, int, int, Amount, Node]:
        free = node.free
        share = free.cpu_m / max(node.allocatable.cpu_m, 1)
        return (-share, -free.memory, order, node.used, node)

    def take(self, request: Amount) -> Node | None:
        """The roomiest node `request` fits on, out of the heap (`offer` puts it back)."""
        passed_over = []
        found = None
        while self._heap:
            entry = heapq.heappop(self._heap)
            _, _, order, used, node = entry
            if used is not node.used:
                heapq.heappush(self._heap, self._entry(order, node))
            elif request.fits_in(node.free):
                found = node
                break
            else:
                passed_over.append(entry)
        for entry in passed_over:
            heapq.heappush(self._heap, entry)
        return found

    def offer(self, node: Node) -> None:
        heapq.heappush(self._heap, self._entry(self._order[id(node)], node))
