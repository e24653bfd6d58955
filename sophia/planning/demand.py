"""A demand (pods per service at peak) as the pods the capacity model places, and the host
types and node labels the planner may choose from for a spec."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from sophia_guardrails.capacity import Pod, pods_of

from components.bootstrap import NodeSettings
from components.catalog import InstanceType, load_catalog
from components.gpu_host import file_system_selector

from ..offline.preview import as_policy_sees
from ..offline.runner import run_spec
from ..spec import LoadedSpec
from ..spec.model import K3sCluster, Platform, Service
from .planner import Search


class PlanningError(Exception):
    """The spec cannot be planned for (an existing cluster, an unknown service, no types)."""


@dataclass(frozen=True)
class Demand:
    replicas: Mapping[str, int] = field(default_factory=dict)
    """Service → pods at peak (under an HPA: its maximum)."""
    factor: float = 1.0
    """Every other service's peak, multiplied (rounded up)."""

    def peak(self, service: Service) -> int:
        if service.name in self.replicas:
            return self.replicas[service.name]
        return math.ceil(service.peak_replicas * self.factor)


def scaled_service(service: Service, peak: int) -> Service:
    """`service` at `peak` pods: replicas, or an HPA's maximum (its minimum kept at most)."""
    if service.autoscaling is None:
        return service.model_copy(update={"replicas": peak})
    hpa = service.autoscaling.model_copy(
        update={
            "max_replicas": max(peak, 1),
            "min_replicas": min(service.autoscaling.min_replicas, max(peak, 1)),
        }
    )
    return service.model_copy(update={"autoscaling": hpa})


def demanded(platform: Platform, demand: Demand) -> Platform:
    unknown = sorted(set(demand.replicas) - {s.name for s in platform.services})
    if unknown:
        raise PlanningError(f"no service {', '.join(unknown)} in the spec")
    services = [scaled_service(s, demand.peak(s)) for s in platform.services]
    return platform.model_copy(update={"services": services})


def pods_for(spec: LoadedSpec, platform: Platform, stack: str) -> list[Pod]:
    """Every pod at peak, as the capacity policy sees them, with the planner placing them:
    services' host pins are left out (the plan decides where pods go)."""
    free = platform.model_copy(
        update={"services": [s.model_copy(update={"host": None}) for s in platform.services]}
    )
    resources, _ = run_spec(LoadedSpec(spec.path, spec.document, free, stack), stack)
    return pods_of(as_policy_sees(resources))


def search_for(platform: Platform, max_hosts: int = 6) -> Search:
    if not isinstance(platform.cluster, K3sCluster):
        raise PlanningError("the spec deploys to an existing cluster: there are no hosts to plan")
    server = platform.server_host
    region = server.region if server else None
    file_systems = [f.name for f in platform.file_systems if f.region == region or region is None]
    guard = platform.policies
    wanted_arch = {
        "arm64" if p.endswith("arm64") else "x86_64"
        for s in platform.services
        if (p := s.platform or (s.build.platform if s.build else None))
    }
    candidates: list[InstanceType] = [
        t
        for t in load_catalog()
        if (guard.allowed_instance_types is None or t.name in guard.allowed_instance_types)
        and (guard.max_gpus_per_host is None or t.gpus <= guard.max_gpus_per_host)
        and (not wanted_arch or t.architecture in wanted_arch)
    ]
    if not candidates:
        raise PlanningError("no instance type is allowed by the spec's policies and platforms")

    def labels_for(name: str, entry: InstanceType) -> dict[str, str]:
        labels: dict[str, str] = {}
        for fs in file_systems:
            labels.update(file_system_selector(fs))
        return NodeSettings(
            role="agent", host_name=name, gpu_type=entry.gpu_type, k3s_version="",
            public_ip="", labels=labels,
        ).node_labels()  # fmt: skip

    return Search(
        candidates=candidates,
        hours_per_month=platform.budget.hours_per_month,
        max_hosts=max_hosts,
        labels_for=labels_for,
        names=lambda i, entry: f"{entry.name.replace('_', '-')}-{i + 1}",
    )
