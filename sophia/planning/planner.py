"""The cheapest set of Lambda hosts on which every pod fits.

Pods and nodes are the capacity policy's own (`sophia_guardrails.capacity`): requests at peak
with rollout surge, node selectors and system reserve, placed as the scheduler would. The
search is branch and bound over multisets of instance types, cheapest first: a set that
already costs as much as the best plan found is not extended, and a feasible set is never
extended (more hosts only cost more). Before placing, a set must hold the GPUs of every type
and the CPU and memory the pods need in total — a bound that prunes most of the tree.
"""

from __future__ import annotations

import math
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
    proven: bool = True
    """The whole search ran: no cheaper set exists. False: the search limit was reached and
    this is the best set found (more `max_visits` may find a cheaper one)."""


@dataclass(frozen=True)
class Search:
    candidates: Sequence[InstanceType]
    hours_per_month: float
    max_hosts: int = 6
    max_visits: int = 200_000
    """Search nodes before the best plan found so far is returned unproven (an MCP tool must
    answer in seconds)."""
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
    total, gpus_needed = _needs(pods)
    types = undominated(search.candidates, set(gpus_needed))
    bound = _Bound(total, gpus_needed, types, search.hours_per_month)
    best: list[InstanceType] | None = None
    best_cost = math.inf
    explored = visited = 0
    chosen: list[InstanceType] = []

    def visit(start: int, cost: float, missing: _Missing) -> None:
        nonlocal best, best_cost, explored, visited
        visited += 1
        if visited > search.max_visits:
            return  # the best plan so far stands; `proven` says it may not be the cheapest
        lower = bound.cost_of(missing, search.max_hosts - len(chosen))
        if cost + lower >= best_cost:
            return  # cannot beat the best plan (or, infinite, cannot fit at all)
        if chosen and lower == 0:
            explored += 1
            if not place(pods, planned_nodes(chosen, search)).unplaced:
                best, best_cost = list(chosen), cost
                return
        if len(chosen) == search.max_hosts:
            return
        for i in range(start, len(types)):
            price = bound.price[i]
            if cost + price >= best_cost:
                break  # sorted by price: every later type costs at least as much
            chosen.append(types[i])
            visit(i, cost + price, missing.minus(bound, i))
            chosen.pop()

    visit(0, 0.0, bound.initial())
    proven = visited <= search.max_visits
    if best is None:
        return Plan(
            explored=explored,
            proven=proven,
            reason=f"no set of at most {search.max_hosts} hosts of the allowed types fits every "
            "pod" + ("" if proven else " (within the search limit)"),
        )
    return _explain(pods, best, search, explored, proven)


def undominated(candidates: Sequence[InstanceType], gpu_types: set[str]) -> list[InstanceType]:
    """The candidates no other one beats: a type is dropped when another costs no more and has
    at least its CPU, memory and (of a GPU type the pods ask for) GPUs — swapping it in never
    makes a plan dearer or tighter. Sorted cheapest first."""

    def useful_gpus(t: InstanceType) -> tuple[str, int]:
        return (t.gpu_type, t.gpus) if t.gpu_type in gpu_types else ("", 0)

    def beats(a: InstanceType, b: InstanceType) -> bool:
        (ga, na), (gb, nb) = useful_gpus(a), useful_gpus(b)
        return (
            a.price_cents_per_hour <= b.price_cents_per_hour
            and a.vcpus >= b.vcpus
            and a.memory_gib >= b.memory_gib
            and (nb == 0 or (ga == gb and na >= nb))
        )

    ordered = sorted(candidates, key=lambda t: (t.price_cents_per_hour, t.name))
    kept: list[InstanceType] = []
    for t in ordered:
        if not any(beats(k, t) for k in kept):
            kept.append(t)
    return kept


@dataclass(frozen=True)
class _Missing:
    """What the hosts chosen so far still lack, in total (never below zero)."""

    cpu_m: int
    memory: int
    gpus: tuple[tuple[str, int], ...]

    def minus(self, bound: _Bound, index: int) -> _Missing:
        room, entry = bound.rooms[index], bound.types[index]
        gpus = tuple(
            (t, max(n - entry.gpus, 0) if t == entry.gpu_type else n) for t, n in self.gpus
        )
        return _Missing(max(self.cpu_m - room.cpu_m, 0), max(self.memory - room.memory, 0), gpus)


class _Bound:
    """A lower bound on what the hosts still to add must cost: each GPU type's missing GPUs at
    that type's cheapest price per GPU, missing CPU and memory at the cheapest price per core
    and per byte (the largest of the three); infinite when the hosts left cannot hold it."""

    def __init__(
        self,
        total: Amount,
        gpus: Counter[str],
        types: Sequence[InstanceType],
        hours: float,
    ) -> None:
        self.types = list(types)
        self.total, self.gpus = total, gpus
        self.rooms = [planned_node("probe", t, {}).allocatable for t in types]
        self.price = [t.monthly_usd(hours) for t in types]
        self.gpu_rate: dict[str, float] = {}
        self.most_gpus: Counter[str] = Counter()
        for t, price in zip(types, self.price, strict=True):
            if t.gpus:
                rate = price / t.gpus
                self.gpu_rate[t.gpu_type] = min(self.gpu_rate.get(t.gpu_type, math.inf), rate)
                self.most_gpus[t.gpu_type] = max(self.most_gpus[t.gpu_type], t.gpus)
        pairs = list(zip(self.price, self.rooms, strict=True))
        self.cpu_rate = min((p / max(r.cpu_m, 1) for p, r in pairs), default=math.inf)
        self.memory_rate = min((p / max(r.memory, 1) for p, r in pairs), default=math.inf)
        self.most_cpu = max((r.cpu_m for r in self.rooms), default=1)
        self.most_memory = max((r.memory for r in self.rooms), default=1)

    def initial(self) -> _Missing:
        return _Missing(self.total.cpu_m, self.total.memory, tuple(sorted(self.gpus.items())))

    def cost_of(self, missing: _Missing, slots: int) -> float:
        hosts_for_gpus = 0
        gpu_cost = 0.0
        for gpu_type, count in missing.gpus:
            if count <= 0:
                continue
            if gpu_type not in self.gpu_rate:
                return math.inf
            hosts_for_gpus += math.ceil(count / self.most_gpus[gpu_type])
            gpu_cost += count * self.gpu_rate[gpu_type]
        if (
            hosts_for_gpus > slots
            or math.ceil(missing.cpu_m / max(self.most_cpu, 1)) > slots
            or math.ceil(missing.memory / max(self.most_memory, 1)) > slots
        ):
            return math.inf
        return max(gpu_cost, missing.cpu_m * self.cpu_rate, missing.memory * self.memory_rate)


def _explain(
    pods: Sequence[Pod],
    chosen: Sequence[InstanceType],
    search: Search,
    explored: int,
    proven: bool,
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
        proven=proven,
        binding=f"{binding} ({share:.0%} used at peak)",
    )
