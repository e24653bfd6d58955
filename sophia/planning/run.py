"""One planning run for a spec and stack: the demand's pods, the search, the comparison with
the hosts the spec has now. What `sophia plan` and the MCP `plan_capacity` tool print."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from ..costs import estimate_costs
from ..spec import LoadedSpec
from ..spec.model import Platform
from .demand import Demand, demanded, pods_for, search_for
from .planner import Plan, cheapest


@dataclass(frozen=True)
class PlanReport:
    plan: Plan
    current_monthly_usd: float
    """What the spec costs now: hosts and data services."""
    budget_usd: float
    demand: dict[str, int]
    """Pods at peak per service, as planned for."""
    data_monthly_usd: float = 0.0
    """The data services, which a plan of hosts leaves as they are."""

    @property
    def monthly_usd(self) -> float:
        """What the spec would cost with the plan's hosts."""
        return round(self.plan.monthly_usd + self.data_monthly_usd, 2)

    @property
    def delta_monthly_usd(self) -> float:
        return round(self.monthly_usd - self.current_monthly_usd, 2)

    @property
    def within_budget(self) -> bool:
        return self.plan.feasible and self.monthly_usd <= self.budget_usd

    def as_json(self) -> dict[str, Any]:
        return {
            "feasible": self.plan.feasible,
            "withinBudget": self.within_budget,
            "monthlyUsd": self.monthly_usd,
            "hostsMonthlyUsd": self.plan.monthly_usd,
            "dataServicesMonthlyUsd": self.data_monthly_usd,
            "currentMonthlyUsd": self.current_monthly_usd,
            "deltaMonthlyUsd": self.delta_monthly_usd,
            "budgetUsd": self.budget_usd,
            "binding": self.plan.binding,
            "reason": self.plan.reason,
            "explored": self.plan.explored,
            "demand": self.demand,
            "hosts": [asdict(h) for h in self.plan.hosts],
        }


def host_names(platform: Platform, plan: Plan) -> list[str]:
    """A name per planned host: an existing host of the same type keeps its name (and its
    instance: Lambda replaces what changes type), new ones are named after their type."""
    free = [(h.name, h.instance_type) for h in platform.hosts]
    taken = {h.name for h in platform.hosts}
    names = []
    for host in plan.hosts:
        same = next((pair for pair in free if pair[1] == host.instance_type), None)
        if same is not None:
            free.remove(same)
            names.append(same[0])
            continue
        base = host.instance_type.replace("_", "-")
        n = 1
        while f"{base}-{n}" in taken:
            n += 1
        taken.add(f"{base}-{n}")
        names.append(f"{base}-{n}")
    return names


def plan_spec(spec: LoadedSpec, stack: str, demand: Demand, max_hosts: int = 6) -> PlanReport:
    platform = demanded(spec.platform, demand)
    pods = pods_for(spec, platform, stack)
    plan = cheapest(pods, search_for(platform, max_hosts))
    names = host_names(spec.platform, plan)
    plan.hosts = [replace(h, name=n) for h, n in zip(plan.hosts, names, strict=True)]
    now = estimate_costs(spec.platform)
    return PlanReport(
        plan=plan,
        current_monthly_usd=now.monthly_usd,
        budget_usd=spec.platform.budget.monthly_usd,
        demand={s.name: s.peak_replicas for s in platform.services},
        data_monthly_usd=round(sum(d.monthly_usd for d in now.data), 2),
    )
