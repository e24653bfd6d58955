"""The cheapest set of Lambda hosts on which every pod fits.

Pods and nodes are the capacity policy's own (`sophia_guardrails.capacity`): requests at peak
with rollout surge, node selectors and system reserve, placed as the scheduler would. The
search is branch and bound over multisets of instance types, cheapest first: a set that
already costs as much as the best plan found is not extended, and a feasible set is never
extended (more hosts only cost more). Before placing, a set must hold the GPUs of every type
and the CPU and memory the pods need in total — a bound that prunes most of the tree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sophia_guardrails.capacity import Amount, Node, Pod, place, planned_node

from components.catalog import InstanceType

LabelsFor = Callable[[str, InstanceType], dict[str, str]]
"""Node labels of a planned host, from its name and type."""


@dataclass(frozen=True)
class PlannedHost:
    name: str
    instance_type: str
    monthly_usd: float
    gpus: str
    cpu_used: float
    memory_used: float
    gpus_used: int
    pods: list[str]


@dataclass
class Plan:
    hosts: list[PlannedHost] = field(default_factory=list)
    monthly_usd: float = 0.0
    feasible: bool = False
    explored: int = 0
    """Host sets the search placed pods on (the rest were pruned by cost or totals)."""
    binding: str = ""
    """The resource that fills up first across the plan (what a bigger demand hits)."""
    reason: str = ""
    """Why there is no plan, if there is none."""


@dataclass(frozen=True)
class Search:
    candidates: Sequence[InstanceType]
    hours_per_month: float
    max_hosts: int = 6
    labels_for: LabelsFor = field(default=lambda name, entry: {})
    names: Callable[[int, InstanceType], str] = field(default=lambda i, e: f"host-{i + 1}")


def _needs(pods: Sequence[Pod]) -> tuple[Amount, Counter[str]]:
    total = Amount()
    gpus: Counter[str] = Counter()
    for pod in pods:
        total = total + pod.request
        if pod.request.gpus:
            gpus[pod.selector.get("gpu-type", "")] += pod.request.gpus
    return total, gpus


def planned_nodes(chosen: Sequence[InstanceType], search: Search) -> list[Node]:
    names = [search.names(i, entry) for i, entry in enumerate(chosen)]
    return [
        planned_node(name, entry, search.labels_for(name, entry))
        for name, entry in zip(names, chosen, strict=True)
    ]


def cheapest(pods: Sequence[Pod], search: Search) -> Plan:
    """The cheapest host set (at most `max_hosts`) on which every pod is placed."""
    types = sorted(search.candidates, key=lambda t: (t.price_cents_per_hour, t.name))
    total, gpus_needed = _needs(pods)
    best: list[InstanceType] | None = None
    best_cost = float("inf")
    explored = 0

    def cost(chosen: Sequence[InstanceType]) -> float:
        return sum(t.monthly_usd(search.hours_per_month) for t in chosen)

    def enough(chosen: Sequence[InstanceType]) -> bool:
        room = Amount()
        have: Counter[str] = Counter()
        for entry in chosen:
            node = planned_node("probe", entry, {})
            room = room + Amount(node.allocatable.cpu_m, node.allocatable.memory, 0)
            have[entry.gpu_type] += entry.gpus
        return (
            total.cpu_m <= room.cpu_m
            and total.memory <= room.memory
            and all(have[t] >= n for t, n in gpus_needed.items())
        )

    def visit(chosen: list[InstanceType], start: int) -> None:
        nonlocal best, best_cost, explored
        if chosen and cost(chosen) >= best_cost:
            return
        if chosen and enough(chosen):
            explored += 1
            if not place(pods, planned_nodes(chosen, search)).unplaced:
                best, best_cost = list(chosen), cost(chosen)
                return
        if len(chosen) == search.max_hosts:
            return
        for i in range(start, len(types)):
            if chosen and cost(chosen) + types[i].monthly_usd(search.hours_per_month) >= best_cost:
                break  # sorted by price: every later type costs at least as much
            chosen.append(types[i])
            visit(chosen, i)
            chosen.pop()

    visit([], 0)
    if best is None:
        return Plan(
            explored=explored,
            reason=f"no set of at most {search.max_hosts} hosts of the allowed types fits "
            "every pod",
        )
    return _explain(pods, best, search, explored)


def _explain(
    pods: Sequence[Pod], chosen: Sequence[InstanceType], search: Search, explored: int
) -> Plan:
    nodes = planned_nodes(chosen, search)
    place(pods, nodes)
    hosts = []
    totals = {"CPU": [0.0, 0.0], "memory": [0.0, 0.0], "GPUs": [0.0, 0.0]}
    for node, entry in zip(nodes, chosen, strict=True):
        alloc, used = node.allocatable, node.used
        hosts.append(
            PlannedHost(
                name=node.name,
                instance_type=entry.name,
                monthly_usd=round(entry.monthly_usd(search.hours_per_month), 2),
                gpus=f"{entry.gpus}× {entry.gpu_type}",
                cpu_used=round(used.cpu_m / max(alloc.cpu_m, 1), 3),
                memory_used=round(used.memory / max(alloc.memory, 1), 3),
                gpus_used=used.gpus,
                pods=list(node.pods),
            )
        )
        for key, (u, a) in {
            "CPU": (used.cpu_m, alloc.cpu_m),
            "memory": (used.memory, alloc.memory),
            "GPUs": (used.gpus, alloc.gpus),
        }.items():
            totals[key][0] += u
            totals[key][1] += a
    binding = max(totals, key=lambda k: totals[k][0] / max(totals[k][1], 1))
    share = totals[binding][0] / max(totals[binding][1], 1)
    return Plan(
        hosts=hosts,
        monthly_usd=round(sum(h.monthly_usd for h in hosts), 2),
        feasible=True,
        explored=explored,
        binding=f"{binding} ({share:.0%} used at peak)",
    )
