"""`sophia preview --json`: Infracost's JSON format (version 0.2), so that the tools reviewers
already use for cost (`infracost output`, `infracost comment`, dashboards) read ours.

One Infracost project per spec and stack. Lambda instances are the priced resources (an hourly
cost component each); every other resource is listed under `freeResources`. What Infracost has
no field for travels in the places it keeps open: each resource's `metadata` carries its URN and
the planned operation (create, update, replace, delete), and the project's `metadata.errors` /
`metadata.warnings` carry the mandatory / advisory policy violations and the replacement warnings.
The format is checked against `infracost-0.2.schema.json` (a transcription of the required parts
of Infracost's published schema).
"""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from sophia_guardrails.capacity import Placement
from sophia_guardrails.pricing import PricedItem

from ..costs import CostEstimate, HostCost
from ..memory import fewer_collections
from .analyzer import Diagnostic
from .changes import LAMBDA_INSTANCE, Change, Plan
from .preview import PreviewResult, capacity_at_peak, instance_urn
from .report import project_name
from .runner import RecordedResource

FORMAT_VERSION = "0.2"
RESOURCE_TYPE = "lambda_cloud_instance"
# ProjectDiag codes (Infracost's are below 1000): what kind of finding a diagnostic is.
CODE_MANDATORY_VIOLATION = 1001
CODE_ADVISORY_VIOLATION = 1002
CODE_REPLACEMENT_WARNING = 1101


def amount(value: float | Decimal) -> str:
    """Infracost writes amounts as decimal strings; ours are cents-exact."""
    return str(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _host_resource(
    host: HostCost, hours: float, resources: Iterable[RecordedResource], plan: Plan | None
) -> dict[str, Any]:
    urn = instance_urn(resources, host.host) or ""
    metadata: dict[str, Any] = {"urn": urn, "instanceType": host.instance_type, "gpus": host.gpus}
    change = _change_of(plan, urn)
    if change is not None:
        metadata.update(_change_metadata(change))
    return {
        "name": f"{RESOURCE_TYPE}.{host.host}",
        "resourceType": RESOURCE_TYPE,
        "metadata": metadata,
        "hourlyCost": amount(host.usd_per_hour),
        "monthlyCost": amount(host.monthly_usd),
        "costComponents": [
            {
                "name": f"Instance usage ({host.instance_type}, {host.gpus}× {host.gpu_type})",
                "unit": "hours",
                "hourlyQuantity": "1",
                "monthlyQuantity": amount(hours),
                "price": amount(host.usd_per_hour),
                "hourlyCost": amount(host.usd_per_hour),
                "monthlyCost": amount(host.monthly_usd),
                "priceNotFound": False,
            }
        ],
        "subresources": [],
    }


def _data_resource(
    item: PricedItem, hours: float, resources: Iterable[RecordedResource], plan: Plan | None
) -> dict[str, Any]:
    """A data service priced by the month, its assumptions as the cost component's name."""
    urn = next(
        (
            r.urn
            for r in resources
            if r.type == item.resource_type and r.properties.get("name") == item.name
        ),
        "",
    )
    metadata: dict[str, Any] = {"urn": urn, "assumptions": item.assumptions}
    change = _change_of(plan, urn)
    if change is not None:
        metadata.update(_change_metadata(change))
    hourly = Decimal(str(item.monthly_usd)) / Decimal(str(hours))
    return {
        "name": f"{item.resource_type}.{item.name}",
        "resourceType": item.resource_type,
        "metadata": metadata,
        "hourlyCost": amount(hourly),
        "monthlyCost": amount(item.monthly_usd),
        "costComponents": [
            {
                "name": item.assumptions,
                "unit": "months",
                "hourlyQuantity": None,
                "monthlyQuantity": "1",
                "price": amount(item.monthly_usd),
                "hourlyCost": amount(hourly),
                "monthlyCost": amount(item.monthly_usd),
                "priceNotFound": False,
            }
        ],
        "subresources": [],
    }


def _change_of(plan: Plan | None, urn: str) -> Change | None:
    if plan is None:
        return None
    return next((c for c in plan.changes if c.urn == urn), None)


def _change_metadata(change: Change) -> dict[str, Any]:
    data: dict[str, Any] = {"operation": change.operation}
    if change.operation == "replace":
        data["deleteBeforeReplace"] = change.delete_before_replace
    if change.fields:
        data["fields"] = list(change.fields)
    if change.warning:
        data["warning"] = change.warning
    return data


def _free_resource(resource: RecordedResource, plan: Plan | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"urn": resource.urn, "pulumiType": resource.type}
    change = _change_of(plan, resource.urn)
    if change is not None:
        metadata.update(_change_metadata(change))
    return {"name": f"{resource.type}.{resource.name}", "metadata": metadata}


def _breakdown(
    costs: CostEstimate, resources: list[RecordedResource], plan: Plan | None, capacity: Placement
) -> dict[str, Any]:
    priced = [_host_resource(h, costs.hours_per_month, resources, plan) for h in costs.hosts]
    nodes = {n.name: n for n in capacity.nodes}
    for entry, host in zip(priced, costs.hosts, strict=True):
        node = nodes.get(host.host)
        if node is not None:  # what is left of the host at peak, after the system reserve
            entry["metadata"]["headroom"] = {
                "cpu": f"{node.free.cpu_m}m",
                "memory": f"{node.free.memory // 2**20}Mi",
                "gpus": node.free.gpus,
                "pods": len(node.pods),
            }
    priced += [_data_resource(d, costs.hours_per_month, resources, plan) for d in costs.data]
    priced_urns = {r["metadata"]["urn"] for r in priced}
    hourly = sum((Decimal(r["hourlyCost"]) for r in priced), Decimal(0))
    return {
        "resources": priced,
        "freeResources": [
            _free_resource(r, plan) for r in resources if r.custom and r.urn not in priced_urns
        ],
        "totalHourlyCost": amount(hourly),
        "totalMonthlyCost": amount(costs.monthly_usd),
        "totalMonthlyUsageCost": None,
    }


def _diff(current: dict[str, Any], past: dict[str, Any]) -> dict[str, Any]:
    """Infracost's diff breakdown: resources whose cost changed, with the cost difference."""
    before = {r["name"]: r for r in past["resources"]}
    after = {r["name"]: r for r in current["resources"]}
    resources = []
    for name in [*after, *(n for n in before if n not in after)]:
        new, old = after.get(name), before.get(name)
        new_hourly = Decimal(new["hourlyCost"]) if new else Decimal(0)
        old_hourly = Decimal(old["hourlyCost"]) if old else Decimal(0)
        new_monthly = Decimal(new["monthlyCost"]) if new else Decimal(0)
        old_monthly = Decimal(old["monthlyCost"]) if old else Decimal(0)
        if new_monthly == old_monthly and new is not None and old is not None:
            continue
        resources.append(
            {
                "name": name,
                "resourceType": RESOURCE_TYPE,
                "metadata": (new or old or {}).get("metadata", {}),
                "hourlyCost": amount(new_hourly - old_hourly),
                "monthlyCost": amount(new_monthly - old_monthly),
                "costComponents": [],
                "subresources": [],
            }
        )
    return {
        "resources": resources,
        "totalHourlyCost": amount(
            Decimal(current["totalHourlyCost"]) - Decimal(past["totalHourlyCost"])
        ),
        "totalMonthlyCost": amount(
            Decimal(current["totalMonthlyCost"]) - Decimal(past["totalMonthlyCost"])
        ),
        "totalMonthlyUsageCost": None,
    }


def _violation(d: Diagnostic, code: int) -> dict[str, Any]:
    return {
        "code": code,
        "message": f"{d.policy_name}: {d.message}",
        "data": {
            "policyName": d.policy_name,
            "policyPackName": d.policy_pack,
            "enforcementLevel": d.enforcement_level,
            "urn": d.urn,
        },
        "isError": code == CODE_MANDATORY_VIOLATION,
    }


def _diagnostics(result: PreviewResult) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    errors = [_violation(d, CODE_MANDATORY_VIOLATION) for d in result.mandatory]
    warnings = [_violation(d, CODE_ADVISORY_VIOLATION) for d in result.advisory]
    if result.base is not None:
        warnings += [
            {
                "code": CODE_REPLACEMENT_WARNING,
                "message": f"{c.name}: {c.warning}",
                "data": {"urn": c.urn, "operation": c.operation},
                "isError": False,
            }
            for c in result.base.changes.warnings
        ]
    return errors, warnings


def _summary(resources: list[RecordedResource], costs: CostEstimate) -> dict[str, Any]:
    custom = [r for r in resources if r.custom]
    usage_based = {d.resource_type for d in costs.data}
    priced_types = usage_based | ({LAMBDA_INSTANCE} if costs.hosts else set())
    priced = Counter(r.type for r in custom if r.type in priced_types)
    free = Counter(r.type for r in custom if r.type not in priced)
    return {
        "totalDetectedResources": len(custom),
        "totalSupportedResources": sum(priced.values()),
        "totalUnsupportedResources": 0,
        "totalUsageBasedResources": sum(n for t, n in priced.items() if t in usage_based),
        "totalNoPriceResources": sum(free.values()),
        "supportedResourceCounts": dict(sorted(priced.items())),
        "unsupportedResourceCounts": {},
        "noPriceResourceCounts": dict(sorted(free.items())),
    }


def _git(spec: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=spec.resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _metadata(result: PreviewResult, generated: datetime) -> dict[str, Any]:
    spec = result.spec.path
    stamp = _git(spec, "log", "-1", "--format=%cI")
    return {
        "infracostCommand": "diff" if result.base is not None else "breakdown",
        "vcsBranch": _git(spec, "rev-parse", "--abbrev-ref", "HEAD"),
        "vcsCommitSha": _git(spec, "rev-parse", "HEAD"),
        "vcsCommitAuthorName": _git(spec, "log", "-1", "--format=%an"),
        "vcsCommitAuthorEmail": _git(spec, "log", "-1", "--format=%ae"),
        "vcsCommitTimestamp": stamp or generated.isoformat().replace("+00:00", "Z"),
        "vcsCommitMessage": _git(spec, "log", "-1", "--format=%s"),
    }


@fewer_collections()
def infracost_json(result: PreviewResult, generated: datetime | None = None) -> dict[str, Any]:
    generated = generated or datetime.now(UTC).replace(microsecond=0)
    base = result.base
    plan = base.changes if base is not None else None
    breakdown = _breakdown(result.costs, result.resources, plan, result.capacity)
    past = (
        _breakdown(base.costs, base.resources, None, capacity_at_peak(base.resources))
        if base is not None
        else None
    )
    diff = _diff(breakdown, past) if past is not None else None
    errors, warnings = _diagnostics(result)
    project_metadata: dict[str, Any] = {"path": str(result.spec.path), "type": "sophia_spec"}
    if errors:
        project_metadata["errors"] = errors
    if warnings:
        project_metadata["warnings"] = warnings
    summary = _summary(result.resources, result.costs)
    platform = result.spec.platform
    return {
        "version": FORMAT_VERSION,
        "metadata": _metadata(result, generated),
        "currency": "USD",
        "projects": [
            {
                "name": project_name(result),
                "displayName": f"{platform.metadata.name} ({result.stack})",
                "metadata": project_metadata,
                "pastBreakdown": past,
                "breakdown": breakdown,
                "diff": diff,
                "summary": summary,
            }
        ],
        "totalHourlyCost": breakdown["totalHourlyCost"],
        "totalMonthlyCost": breakdown["totalMonthlyCost"],
        "totalMonthlyUsageCost": None,
        "pastTotalHourlyCost": past["totalHourlyCost"] if past else None,
        "pastTotalMonthlyCost": past["totalMonthlyCost"] if past else None,
        "pastTotalMonthlyUsageCost": None,
        "diffTotalHourlyCost": diff["totalHourlyCost"] if diff else None,
        "diffTotalMonthlyCost": diff["totalMonthlyCost"] if diff else None,
        "diffTotalMonthlyUsageCost": None,
        "timeGenerated": generated.isoformat().replace("+00:00", "Z"),
        "summary": summary,
    }
