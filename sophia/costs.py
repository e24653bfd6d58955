"""Monthly cost of a platform: hosts from the instance catalog (what Lambda bills by the hour),
data services from the pack's pricing (`sophia_guardrails.pricing`, the formula the
`monthly-budget` policy applies, so the estimate and the verdict agree)."""

from __future__ import annotations

from dataclasses import dataclass

from sophia_guardrails import pricing
from sophia_guardrails.pricing import PricedItem

from components.catalog import Catalog, load_catalog

from .spec.model import Platform
from .spec.quantities import cpu_cores


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
    data: tuple[PricedItem, ...] = ()
    """Snowflake warehouses and Pinecone indexes, each with its assumptions."""

    @property
    def monthly_usd(self) -> float:
        hosts = sum(h.monthly_usd for h in self.hosts)
        return round(hosts + sum(d.monthly_usd for d in self.data), 2)

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
    return CostEstimate(
        tuple(hosts),
        hours,
        platform.budget.monthly_usd,
        catalog.taken_at,
        data_service_costs(platform),
    )


def data_service_costs(platform: Platform) -> tuple[PricedItem, ...]:
    hours = platform.budget.hours_per_month
    data = platform.data_services
    items: list[PricedItem] = []
    if data.snowflake is not None:
        for w in data.snowflake.warehouses:
            items.append(
                pricing.snowflake_warehouse(
                    w.name,
                    w.size,
                    w.max_clusters,
                    w.auto_suspend_seconds,
                    w.active_hours_per_day,
                    data.snowflake.usd_per_credit,
                    hours,
                )
            )
    for index in data.pinecone.indexes if data.pinecone else []:
        if index.pod is not None:
            items.append(
                pricing.pinecone_pod_index(index.name, index.pod.type, index.pod.replicas, hours)
            )
        else:
            usage = index.usage
            items.append(
                pricing.pinecone_serverless_index(
                    index.name,
                    usage.read_units_per_month,
                    usage.write_units_per_month,
                    usage.storage_gb,
                )
            )
    return tuple(items)


def service_costs(platform: Platform, estimate: CostEstimate) -> dict[str, float]:
    """Each host's monthly cost shared among the services that can run on it.

    A service pinned to a host, or needing a GPU type, runs on those hosts; others can run on
    any host. A host's cost is split by reserved CPU (peak replicas × CPU request); a host no
    service uses is reported as `(unallocated)`.
    """
    by_host = {h.host: h for h in estimate.hosts}
    weights: dict[str, dict[str, float]] = {h: {} for h in by_host}
    for service in platform.services:
        if service.host:
            hosts = [service.host]
        elif service.gpu:
            hosts = [h.host for h in estimate.hosts if h.gpu_type == service.gpu.type]
        else:
            hosts = list(by_host)
        reserved = service.peak_replicas * cpu_cores(service.resources.requests.cpu)
        for host in hosts:
            if host in weights:
                weights[host][service.name] = reserved / len(hosts)
    shares: dict[str, float] = {}
    for host, by_service in weights.items():
        total = sum(by_service.values())
        cost = by_host[host].monthly_usd
        if total <= 0:
            shares["(unallocated)"] = shares.get("(unallocated)", 0.0) + cost
            continue
        for name, weight in by_service.items():
            shares[name] = shares.get(name, 0.0) + cost * weight / total
    return {name: round(value, 2) for name, value in shares.items()}
