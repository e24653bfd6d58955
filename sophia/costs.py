"""Monthly cost of a platform from the instance catalog (what Lambda bills: hosts by the hour)."""

from __future__ import annotations

from dataclasses import dataclass

from components.catalog import Catalog, load_catalog

from .spec.model import Platform


@dataclass(frozen=True, slots=True)
class HostCost:
    host: str
    instance_type: str
    gpu_type: str
    gpus: int
    usd_per_hour: float
    monthly_usd: float


@dataclass(frozen=True, slots=True)
class CostEstimate:
    hosts: tuple[HostCost, ...]
    hours_per_month: float
    budget_usd: float
    catalog_date: str

    @property
    def monthly_usd(self) -> float:
        return round(sum(h.monthly_usd for h in self.hosts), 2)

    @property
    def within_budget(self) -> bool:
        return self.monthly_usd <= self.budget_usd


def estimate_costs(platform: Platform, catalog: Catalog | None = None) -> CostEstimate:
    catalog = catalog or load_catalog()
    hours = platform.budget.hours_per_month
    hosts = []
    for host in platform.hosts:
        entry = catalog.get(host.instance_type)
        if entry is None:  # the spec's semantic check has already refused it
            continue
        hosts.append(
            HostCost(
                host.name,
                entry.name,
                entry.gpu_type,
                entry.gpus,
                entry.price_usd_per_hour,
                entry.monthly_usd(hours),
            )
        )
    return CostEstimate(tuple(hosts), hours, platform.budget.monthly_usd, catalog.taken_at)
